package node

import (
	"crypto/ed25519"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/memstore"
	"github.com/caisse-coop/caisse/node/api"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

func FuzzDecodeToken(f *testing.F) {
	good := &rpcv1.JoinToken{
		Federation: make([]byte, 32), GossipKey: make([]byte, 32), Inviter: make([]byte, 32),
		InviterAddr: "192.0.2.1:7947", GossipSeeds: []string{"192.0.2.1:7946"},
	}
	s := encodeToken(good)
	f.Add(s)
	f.Add(s[:len(s)/2])
	f.Add(tokenPrefix)
	f.Add("hello")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeToken(s)
		if err != nil {
			if api.Status(err).Code().String() != "InvalidArgument" {
				t.Fatalf("decodeToken(%q): %v is not InvalidArgument", s, err)
			}
			return
		}
		back, err := decodeToken(encodeToken(tok))
		if err != nil || !proto.Equal(back, tok) {
			t.Fatalf("an accepted token does not round-trip: %v", err)
		}
	})
}

// memNode is a node over a memstore: the federation of this node and one
// other member, whose key the fuzz target signs with.
type memNode struct {
	n     *Node
	other *ledger.Signer
	fid   ledger.Hash
	now   time.Time
}

func newMemNode(tb testing.TB) *memNode {
	tb.Helper()
	m := &memNode{now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	cfg := DefaultConfig()
	cfg.DataDir = tb.TempDir()
	cfg.Name = "Caisse de fuzz"
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.MinFreeDisk = 0
	cfg.Now = func() time.Time { m.now = m.now.Add(time.Millisecond); return m.now }
	if err := cfg.validate(); err != nil {
		tb.Fatal(err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, started: cfg.Now(), fedReady: make(chan struct{}),
		appendQ: make(chan *appendReq, appendQueueSize), applyTurn: make(chan struct{}, 1), storeTurn: make(chan struct{}, 1)}
	n.met = newMetrics(n)
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 1
	key := ed25519.NewKeyFromSeed(seed)
	var err error
	if n.signer, err = ledger.NewSigner(key); err != nil {
		tb.Fatal(err)
	}
	n.key, n.self = key, n.signer.Author()
	n.pseudo = make([]byte, ledger.PseudonymKeySize)
	if n.reg, err = openRegister(filepath.Join(cfg.DataDir, registerFile)); err != nil {
		tb.Fatal(err)
	}
	n.store = memstore.New()
	if err := n.replay(); err != nil {
		tb.Fatal(err)
	}
	gen, err := n.found(cfg.Federation, cfg.Name)
	if err != nil {
		tb.Fatal(err)
	}
	m.n, m.fid = n, gen.Hash()
	seed[0] = 2
	otherKey := ed25519.NewKeyFromSeed(seed)
	if m.other, err = ledger.NewSigner(otherKey); err != nil {
		tb.Fatal(err)
	}
	// The other caisse applies and is admitted by this node's single vote.
	admitOther(tb, n, m.fid, otherKey)
	return m
}

// sign signs body as the other caisse: its author and federation are set,
// and, if chain is set, its seq and prev follow the other's log as stored
// and its time is now.
func (m *memNode) sign(tb testing.TB, body *caissev1.EntryBody, chain bool) ledger.Entry {
	tb.Helper()
	o := m.other.Author()
	body.Author, body.Federation = o[:], m.fid[:]
	if chain {
		body.Seq, body.Prev = 1, nil
		if h, err := m.n.store.Head(o); err == nil {
			body.Seq, body.Prev = uint64(h.Seq)+1, h.Hash[:]
		}
		body.Time = &caissev1.HLC{WallMs: uint64(m.cfgNow().UnixMilli())}
	}
	e, err := m.other.Sign(body)
	if err != nil {
		return ledger.Entry{} // the signer refuses what no node would accept
	}
	return e
}

func (m *memNode) cfgNow() time.Time { return m.n.cfg.Now() }

// stateOf is the node's state hash and stored entry count.
func (m *memNode) stateOf(tb testing.TB) (ledger.Hash, uint64) {
	tb.Helper()
	c, err := m.n.store.Count()
	if err != nil {
		tb.Fatal(err)
	}
	m.n.mu.Lock()
	defer m.n.mu.Unlock()
	return m.n.state.Hash(), c
}

// FuzzIngest pushes arbitrary input into the ingest path, as a peer's
// push reaches it: mode 0 takes the bytes as an encoded entry (a forgery,
// unless the fuzzer finds a signature); mode 1 takes them as an entry
// body that a member signs, in or out of chain order, so that the
// federation's checks see every shape of entry (overflowing amounts,
// absurd clocks, unknown targets). Invariants: no panic; the state and
// the store change only when an entry is stored or a fork proof kept;
// and the state always equals the one a replay of the store gives.
func FuzzIngest(f *testing.F) {
	m := newMemNode(f)
	seedBody := func(b *caissev1.EntryBody) []byte {
		raw, err := proto.Marshal(b)
		if err != nil {
			f.Fatal(err)
		}
		return raw
	}
	contribution := func(amount int64, period string) *caissev1.EntryBody {
		return &caissev1.EntryBody{Kind: &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
			Member: make([]byte, 16), Amount: amount, Period: period, Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES}}}
	}
	f.Add(byte(1), seedBody(contribution(1250, "2026-11")))
	f.Add(byte(1), seedBody(contribution(1_000_000_000_000_000, "2026-11")))
	f.Add(byte(1), seedBody(contribution(-1, "2026-13")))
	f.Add(byte(1), seedBody(&caissev1.EntryBody{Kind: &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
		Beneficiary: make([]byte, 16), Amount: 1 << 62, Period: "2026-11", Category: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE}}}))
	f.Add(byte(1), seedBody(&caissev1.EntryBody{Kind: &caissev1.EntryBody_Correction{Correction: &caissev1.Correction{TargetSeq: 1, Reason: "erreur"}}}))
	f.Add(byte(3), seedBody(contribution(7, "2026-11")))
	e := m.sign(f, contribution(500, "2026-11"), true)
	f.Add(byte(0), e.Marshal())
	forged := e.Proto()
	forged.Signature = append([]byte(nil), forged.Signature...)
	forged.Signature[5] ^= 1
	raw, _ := proto.Marshal(forged)
	f.Add(byte(0), raw)
	f.Add(byte(0), []byte{})

	f.Fuzz(func(t *testing.T, mode byte, raw []byte) {
		var e ledger.Entry
		switch mode % 2 {
		case 0:
			var p caissev1.Entry
			if proto.Unmarshal(raw, &p) != nil {
				return
			}
			es, errs := api.VerifyAll([]*caissev1.Entry{&p})
			if errs[0] != nil {
				return // refused before ingest, as Push refuses it
			}
			e = es[0]
		case 1:
			var body caissev1.EntryBody
			if proto.Unmarshal(raw, &body) != nil {
				return
			}
			if e = m.sign(t, &body, mode&2 == 0); e.IsZero() {
				return
			}
		}
		hash, count := m.stateOf(t)
		res := m.n.ingest([]ledger.Entry{e})
		if len(res) != 1 {
			t.Fatalf("%d results for one entry", len(res))
		}
		after, afterCount := m.stateOf(t)
		switch res[0].out {
		case stored, forked:
		default:
			if after != hash || afterCount != count {
				t.Fatalf("%s entry (%v) changed the node: state %s -> %s, entries %d -> %d", res[0].out, res[0].err, hash.Short(), after.Short(), count, afterCount)
			}
			if res[0].err == nil || strings.TrimSpace(res[0].err.Error()) == "" {
				t.Fatalf("%s entry without a reason", res[0].out)
			}
			return
		}
		check := &Node{cfg: m.n.cfg, log: m.n.log, store: m.n.store}
		if err := check.replay(); err != nil {
			t.Fatalf("the store no longer replays after %s: %v", e, err)
		}
		if got := check.state.Hash(); got != after {
			t.Fatalf("after %s the state is %s, a replay of the store gives %s", e, after.Short(), got.Short())
		}
	})
}
