package node

// The bad-input regression suite: every bad input the hardening issue
// names, sent to a real node (its sync port, with the node's own gRPC
// options, or its ingest path), each expecting a clear error and a check
// that nothing changed: same state hash, same entries, the node still
// serving. Inputs that other tests already cover are listed here with the
// test that covers them, rather than repeated:
//
//	input                                  covered by
//	forged, stranger's, replayed, gapped   cmd/caisse/inject_test.go TestInjectThroughSyncPort (real caissed)
//	  and equivocating entries
//	oversized, gzip bomb, handler panic,   node/api/limits_test.go TestSyncServerLimits, TestOperatorServerLimits
//	  connection cap
//	sums that overflow int64               federation/overflow_test.go TestOverflowSums, TestOverflowEntries
//	bad operator requests (amount, period, cmd/caisse/cli_test.go TestBadInputChangesNothing
//	  category, member)
//	node killed mid-write (kill -9)        cmd/caissed/crash_test.go TestKill9LosesNothingAcknowledged
//	full disk, real statfs                 node/disk_test.go TestDiskFloorTmpfs
//	truncated or altered backup            node/backup_test.go TestRestoreRefusesBadBackups
//	arbitrary bytes to every decoder       the Fuzz targets (make fuzz)

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/memstore"
	"github.com/caisse-coop/caisse/node/api"
	"github.com/caisse-coop/caisse/node/tlsid"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// admitOther makes the holder of key a member of n's one-member
// federation: its application is ingested, and n proposes and votes to
// admit it.
func admitOther(tb testing.TB, n *Node, fid ledger.Hash, key ed25519.PrivateKey) {
	tb.Helper()
	o := ledger.Author(key.Public().(ed25519.PublicKey))
	app, err := ledger.Sign(key, &caissev1.EntryBody{Federation: fid[:], Author: o[:], Seq: 1,
		Time: &caissev1.HLC{WallMs: n.nowMs()},
		Kind: &caissev1.EntryBody_Application{Application: &caissev1.Application{Name: "Caisse voisine"}}})
	if err != nil {
		tb.Fatal(err)
	}
	if r := n.ingest([]ledger.Entry{app}); r[0].out != stored {
		tb.Fatalf("application: %s %v", r[0].out, r[0].err)
	}
	prop, err := n.appendLocked(func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{Action: &caissev1.Proposal_Admit{Admit: &caissev1.Admit{Applicant: o[:]}}}}
	})
	if err != nil {
		tb.Fatal(err)
	}
	h := prop.Hash()
	if _, err := n.appendLocked(func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Vote{Vote: &caissev1.Vote{Proposal: h[:], Choice: caissev1.Choice_CHOICE_YES}}
	}); err != nil {
		tb.Fatal(err)
	}
}

// signRaw signs body bytes as they are, without the checks ledger.Sign
// makes: how a hostile member makes an entry no honest node would.
func signRaw(key ed25519.PrivateKey, body []byte) *caissev1.Entry {
	msg := append([]byte("caisse/entry/v1\x00"), body...)
	return &caissev1.Entry{Body: body, Signature: ed25519.Sign(key, msg)}
}

func TestBadInputs(t *testing.T) {
	var free atomic.Uint64
	free.Store(1 << 40)
	cfg := testConfig(t, t.TempDir())
	cfg.FreeDisk = func(string) (uint64, error) { return free.Load(), nil }
	cfg.MinFreeDisk = 64 << 20
	n := mustNew(t, cfg)
	defer n.Close()
	fid, _, err := n.federationID()
	if err != nil {
		t.Fatal(err)
	}
	seed := bytes.Repeat([]byte{9}, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	other := ledger.Author(key.Public().(ed25519.PublicKey))
	admitOther(t, n, fid, key)

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-runErr; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for n.repl.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("replication did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cert, err := tlsid.Certificate(key)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(n.repl.Load().syncAddr, grpc.WithTransportCredentials(credentials.NewTLS(
		tlsid.ClientConfig(cert, n.self, func(ledger.Author) error { return nil }))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := rpcv1.NewSyncClient(conn)
	call, stop := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stop()

	// next is a valid body of the other caisse's next entry, which the
	// cases then spoil; each case must leave the node as it was.
	next := func() *caissev1.EntryBody {
		b := &caissev1.EntryBody{Federation: fid[:], Author: other[:], Seq: 1,
			Time: &caissev1.HLC{WallMs: n.nowMs()},
			Kind: &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
				Member: make([]byte, 16), Amount: 1250, Period: "2026-11", Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES}}}
		if h, err := n.store.Head(other); err == nil {
			b.Seq, b.Prev = uint64(h.Seq)+1, h.Hash[:]
		}
		return b
	}
	marshal := func(b *caissev1.EntryBody) []byte {
		raw, err := proto.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	push := func(opts []grpc.CallOption, es ...*caissev1.Entry) (*rpcv1.PushResponse, error) {
		return c.Push(call, &rpcv1.PushRequest{Federation: fid[:], Entries: es}, opts...)
	}
	refused := func(want string) func(*rpcv1.PushResponse, error) error {
		return func(r *rpcv1.PushResponse, err error) error {
			if err != nil {
				return fmt.Errorf("push: %v, want the entry refused with %q", err, want)
			}
			if r.GetAccepted() != 0 || r.GetBuffered() != 0 || len(r.GetRefused()) != 1 || !strings.Contains(r.GetRefused()[0], want) {
				return fmt.Errorf("push: %v, want one entry refused with %q", r, want)
			}
			return nil
		}
	}
	code := func(want codes.Code, msg string) func(*rpcv1.PushResponse, error) error {
		return func(_ *rpcv1.PushResponse, err error) error {
			if status.Code(err) != want || !strings.Contains(err.Error(), msg) {
				return fmt.Errorf("push: %v, want %s mentioning %q", err, want, msg)
			}
			return nil
		}
	}
	years := func(y int) uint64 { return uint64(cfg.Now().AddDate(y, 0, 0).UnixMilli()) }

	// A stored entry of the other caisse, for the replay and clock cases.
	first := next()
	stored1, err := ledger.Sign(key, first)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := push(nil, stored1.Proto()); err != nil || r.GetAccepted() != 1 {
		t.Fatalf("a valid entry: %v %v", r, err)
	}

	for _, tc := range []struct {
		name  string
		send  func() (*rpcv1.PushResponse, error)
		check func(*rpcv1.PushResponse, error) error
	}{
		{"truncated entry bytes", func() (*rpcv1.PushResponse, error) {
			e := signRaw(key, marshal(next()))
			e.Body = e.Body[:len(e.Body)-7]
			return push(nil, e)
		}, refused("malformed")},
		{"truncated message on the wire", func() (*rpcv1.PushResponse, error) {
			// A PushRequest cut short decodes to whatever its prefix
			// holds: the cut entry inside it is malformed.
			raw, _ := proto.Marshal(&rpcv1.PushRequest{Federation: fid[:], Entries: []*caissev1.Entry{signRaw(key, marshal(next()))}})
			var cut rpcv1.PushRequest
			if err := proto.Unmarshal(raw[:len(raw)-20], &cut); err == nil {
				return c.Push(call, &cut)
			}
			return push(nil, &caissev1.Entry{Body: raw[40 : len(raw)-20]})
		}, func(r *rpcv1.PushResponse, err error) error {
			if err == nil && r.GetAccepted() == 0 && len(r.GetRefused()) == 1 {
				return nil
			}
			return fmt.Errorf("push of a truncated message: %v %v", r, err)
		}},
		{"oversized message", func() (*rpcv1.PushResponse, error) {
			return push(nil, &caissev1.Entry{Body: make([]byte, api.MaxSyncMessage), Signature: make([]byte, 64)})
		}, code(codes.ResourceExhausted, "larger than max")},
		{"oversized entry", func() (*rpcv1.PushResponse, error) {
			b := next()
			b.GetContribution().Note = strings.Repeat("x", ledger.MaxEntrySize)
			return push(nil, signRaw(key, marshal(b)))
		}, refused("at most")},
		{"compression bomb", func() (*rpcv1.PushResponse, error) {
			return push([]grpc.CallOption{grpc.UseCompressor(grpcgzip.Name)},
				&caissev1.Entry{Body: make([]byte, 2*api.MaxSyncMessage), Signature: make([]byte, 64)})
		}, code(codes.ResourceExhausted, "larger than max")},
		{"author of 31 bytes", func() (*rpcv1.PushResponse, error) {
			b := next()
			b.Author = other[:31]
			return push(nil, signRaw(key, marshal(b)))
		}, refused("malformed")},
		{"author of 33 bytes", func() (*rpcv1.PushResponse, error) {
			b := next()
			b.Author = append(other[:], 0)
			return push(nil, signRaw(key, marshal(b)))
		}, refused("malformed")},
		{"signature of 63 bytes", func() (*rpcv1.PushResponse, error) {
			e := signRaw(key, marshal(next()))
			e.Signature = e.Signature[:63]
			return push(nil, e)
		}, refused("signature")},
		{"forged signature", func() (*rpcv1.PushResponse, error) {
			e := signRaw(key, marshal(next()))
			e.Signature[10] ^= 0x40
			return push(nil, e)
		}, refused("bad signature")},
		{"replayed entry", func() (*rpcv1.PushResponse, error) {
			return push(nil, stored1.Proto())
		}, func(r *rpcv1.PushResponse, err error) error {
			if err != nil || r.GetDuplicates() != 1 || r.GetAccepted() != 0 {
				return fmt.Errorf("replay: %v %v, want one duplicate", r, err)
			}
			return nil
		}},
		{"amount of MaxInt64", func() (*rpcv1.PushResponse, error) {
			b := next()
			b.GetContribution().Amount = math.MaxInt64
			return push(nil, signRaw(key, marshal(b)))
		}, refused("invalid amount")},
		{"amount of MinInt64", func() (*rpcv1.PushResponse, error) {
			b := next()
			b.Kind = &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
				Beneficiary: make([]byte, 16), Amount: math.MinInt64, Period: "2026-11", Category: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE}}
			return push(nil, signRaw(key, marshal(b)))
		}, refused("invalid amount")},
		{"clock five years ahead", func() (*rpcv1.PushResponse, error) {
			b := next()
			b.Time = &caissev1.HLC{WallMs: years(5)}
			return push(nil, signRaw(key, marshal(b)))
		}, refused("clock too far ahead")},
		{"clock ten years behind", func() (*rpcv1.PushResponse, error) {
			b := next()
			b.Time = &caissev1.HLC{WallMs: years(-10)}
			return push(nil, signRaw(key, marshal(b)))
		}, refused("malformed")},
		{"clock a year behind its predecessor", func() (*rpcv1.PushResponse, error) {
			b := next()
			b.Time = &caissev1.HLC{WallMs: years(-1)}
			return push(nil, signRaw(key, marshal(b)))
		}, refused("time does not increase")},
		{"full disk", func() (*rpcv1.PushResponse, error) {
			free.Store(1 << 20)
			defer free.Store(1 << 40)
			e, err := ledger.Sign(key, next())
			if err != nil {
				t.Fatal(err)
			}
			return push(nil, e.Proto())
		}, refused("disk nearly full")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snap(t, n)
			entriesBefore := dump(t, n.store)
			if err := tc.check(tc.send()); err != nil {
				t.Fatal(err)
			}
			if got := snap(t, n); got != before {
				t.Fatalf("changed the node: %+v -> %+v", before, got)
			}
			if got := dump(t, n.store); len(got.Entries) != len(entriesBefore.Entries) || len(got.Forks) != len(entriesBefore.Forks) {
				t.Fatalf("the store changed: %d -> %d entries", len(entriesBefore.Entries), len(got.Entries))
			}
			if _, err := c.Exchange(call, &rpcv1.ExchangeRequest{Federation: fid[:]}); err != nil {
				t.Fatalf("the node stopped serving: %v", err)
			}
		})
	}
	t.Run("full disk, local write", func(t *testing.T) {
		free.Store(1 << 20)
		defer free.Store(1 << 40)
		before := snap(t, n)
		// (A node with peers also waits for them before it appends: the
		// write goes straight to where the disk is checked.)
		err := appendContribution(n, 100)
		if api.Status(err).Code() != codes.ResourceExhausted || !strings.Contains(err.Error(), "disk nearly full") {
			t.Fatalf("contribute on a full disk: %v", err)
		}
		if got := snap(t, n); got != before {
			t.Fatalf("changed the node: %+v -> %+v", before, got)
		}
	})
	// Nothing was lost along the way: the valid entry is there, and a
	// valid next entry still goes through.
	if _, err := n.store.Get(other, stored1.Seq()); err != nil {
		t.Fatalf("the valid entry is gone: %v", err)
	}
	e, err := ledger.Sign(key, next())
	if err != nil {
		t.Fatal(err)
	}
	if r, err := push(nil, e.Proto()); err != nil || r.GetAccepted() != 1 {
		t.Fatalf("a valid entry after the bad ones: %v %v", r, err)
	}
}

// TestTornCommit: the store fails in the middle of a group commit (an I/O
// error, the process's view of a crash): nothing of the batch is applied,
// the entries are put off, and they go in once the store works again. The
// kill -9 variant is cmd/caissed/crash_test.go.
func TestTornCommit(t *testing.T) {
	m := newMemNode(t)
	st := m.n.store.(*memstore.Store)
	es := []ledger.Entry{}
	for i := range 3 {
		body := &caissev1.EntryBody{Kind: &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
			Member: make([]byte, 16), Amount: int64(100 + i), Period: "2026-11", Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES}}}
		o := m.other.Author()
		body.Author, body.Federation = o[:], m.fid[:]
		body.Seq, body.Time = uint64(2+i), &caissev1.HLC{WallMs: uint64(m.cfgNow().UnixMilli())}
		if i == 0 {
			h, err := st.Head(o)
			if err != nil {
				t.Fatal(err)
			}
			body.Seq, body.Prev = uint64(h.Seq)+1, h.Hash[:]
		} else {
			prev := es[i-1].Hash()
			body.Seq, body.Prev = uint64(es[i-1].Seq())+1, prev[:]
		}
		e, err := m.other.Sign(body)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	hash, count := m.stateOf(t)
	st.FailCommit = func() error { return syscall.EIO }
	for _, r := range m.n.ingest(es) {
		if r.out != pending || !strings.Contains(r.err.Error(), "input/output error") {
			t.Fatalf("entry of a failed commit: %s %v, want pending with the I/O error", r.out, r.err)
		}
	}
	if h, c := m.stateOf(t); h != hash || c != count {
		t.Fatalf("a failed commit changed the node: state %s -> %s, entries %d -> %d", hash.Short(), h.Short(), count, c)
	}
	st.FailCommit = nil
	for _, r := range m.n.ingest(es) {
		if r.out != stored {
			t.Fatalf("once the store works: %s %v", r.out, r.err)
		}
	}
	if _, c := m.stateOf(t); c != count+3 {
		t.Fatalf("%d entries, want %d", c, count+3)
	}
}
