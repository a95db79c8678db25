package syncer_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/node/syncer"
)

var fed = ledgertest.FederationID(1)

// errPending stands for federation.ErrPending in these tests.
var errPending = errors.New("pending")

// world is the test authors and their chains: A is the node itself, B and
// C are other collectives.
type world struct {
	a, b, c    *ledgertest.Author
	as, bs, cs []ledger.Entry
	names      map[ledger.Author]string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{a: ledgertest.NewAuthor(t, 1), b: ledgertest.NewAuthor(t, 2), c: ledgertest.NewAuthor(t, 3)}
	w.names = map[ledger.Author]string{w.a.ID: "A", w.b.ID: "B", w.c.ID: "C"}
	w.as, w.bs, w.cs = chain(t, w.a, 8), chain(t, w.b, 12), chain(t, w.c, 6)
	return w
}

func chain(t testing.TB, a *ledgertest.Author, n int) []ledger.Entry {
	t.Helper()
	for range n {
		a.Next(t, fed, nil)
	}
	return a.Entries()
}

// branch signs an entry of a at seq that follows prev, as the log of an
// author that forked before seq goes on.
func branch(t testing.TB, a *ledgertest.Author, prev ledger.Entry, note string) ledger.Entry {
	t.Helper()
	b := a.NextBody(fed)
	b.Seq = uint64(prev.Seq()) + 1
	h := prev.Hash()
	b.Prev = h[:]
	b.Time = ledger.HLC{Wall: prev.Time().Wall + 1}.Proto()
	b.GetContribution().Note = note
	return a.Sign(t, b)
}

func proof(t testing.TB, x, y ledger.Entry) ledger.ForkProof {
	t.Helper()
	p, err := ledger.NewForkProof(x, y)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func vec(es ...ledger.Entry) ledger.Vector {
	v := make(ledger.Vector)
	for _, e := range es {
		v[e.Author()] = e.Head()
	}
	return v
}

func testConfig(w *world) syncer.Config {
	return syncer.Config{
		Self:             w.a.ID,
		Rand:             rand.New(rand.NewPCG(1, 2)),
		AntiEntropyTicks: 1000, // none unless a test asks
		PullTimeoutTicks: 5,
		RetryTicks:       5,
		BufferTicks:      50,
		MaxPullEntries:   4,
		MaxInflightPulls: 4,
		MaxBuffered:      8,
		MaxPushEntries:   8,
		MaxChecks:        8,
		MaxParked:        4,
		MaxMsgEntries:    16,
	}
}

// harness drives a Syncer through the steps of a test.
type harness struct {
	t     testing.TB
	w     *world
	s     *syncer.Syncer
	pulls []syncer.Pull // every pull seen in a Ready, in order
}

func newHarness(t testing.TB, w *world, cfg syncer.Config, have ledger.Vector) *harness {
	t.Helper()
	s, err := syncer.New(cfg, have)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, w: w, s: s}
}

// Steps, besides syncer.Msg values.
type (
	ticks int      // Tick that many times
	flush struct{} // take a Ready and Advance, reporting nothing
	// save takes a Ready and reports every entry of Save: Saved, or
	// Rejected with the error that reject returns for it; after a
	// rejection the author's later entries are skipped.
	save     struct{ reject func(ledger.Entry) error }
	failPull struct{} // PullFailed for the last pull seen
	donePull struct{} // PullDone for the last pull seen
)

func (h *harness) ready() syncer.Ready {
	rd := h.s.Ready()
	h.pulls = append(h.pulls, rd.Pulls...)
	return rd
}

func (h *harness) step(x any) {
	h.t.Helper()
	s := h.s
	switch x := x.(type) {
	case syncer.Msg:
		if err := s.Step(x); err != nil {
			h.t.Fatalf("step %T: %v", x, err)
		}
	case ticks:
		for range int(x) {
			s.Tick()
		}
	case flush:
		s.Advance(h.ready())
	case save:
		rd := h.ready()
		skip := make(map[ledger.Author]bool)
		for _, e := range rd.Save {
			if skip[e.Author()] {
				continue
			}
			var err error
			if x.reject != nil {
				err = x.reject(e)
			}
			var m syncer.Msg = syncer.Saved{Entry: e}
			if err != nil {
				m = syncer.Rejected{Entry: e, Err: err, Pending: errors.Is(err, errPending)}
				skip[e.Author()] = true
			}
			if err := s.Step(m); err != nil {
				h.t.Fatalf("step %T: %v", m, err)
			}
		}
		s.Advance(rd)
	case failPull:
		h.step(syncer.PullFailed{Pull: h.lastPull(), Err: errors.New("broken")})
	case donePull:
		h.step(syncer.PullDone{Pull: h.lastPull()})
	default:
		h.t.Fatalf("unknown step %T", x)
	}
}

func (h *harness) lastPull() syncer.Pull {
	h.t.Helper()
	if len(h.pulls) == 0 {
		h.t.Fatal("no pull seen")
	}
	return h.pulls[len(h.pulls)-1]
}

// summary is a Ready in names: "B/3" for B's entry at seq 3, "p1 B/1-4"
// for a pull, "p1 B/3" for a check or a proof from p1.
type summary struct {
	Save, Check, Proofs, Pulls []string
	Exchanges, FetchForks      []syncer.PeerID
	Pushes, Heads              []string
}

func (h *harness) entry(e ledger.Entry) string {
	return fmt.Sprintf("%s/%d", h.w.names[e.Author()], e.Seq())
}

func (h *harness) summarize(rd syncer.Ready) summary {
	var s summary
	for _, e := range rd.Save {
		s.Save = append(s.Save, h.entry(e))
	}
	for _, c := range rd.Check {
		s.Check = append(s.Check, fmt.Sprintf("%s %s", c.Peer, h.entry(c.Entry)))
	}
	for _, f := range rd.Proofs {
		s.Proofs = append(s.Proofs, fmt.Sprintf("%s %s", f.Peer, h.entry(f.Proof.A)))
	}
	for _, p := range rd.Pulls {
		s.Pulls = append(s.Pulls, fmt.Sprintf("%s %s/%d-%d", p.Peer, h.w.names[p.Author], p.From, p.To))
	}
	s.Exchanges, s.FetchForks = rd.Exchanges, rd.FetchForks
	for _, p := range rd.Pushes {
		var es []string
		for _, e := range p.Entries {
			es = append(es, h.entry(e))
		}
		s.Pushes = append(s.Pushes, fmt.Sprintf("%s %s", p.Peer, strings.Join(es, ",")))
	}
	for _, ah := range rd.Heads {
		s.Heads = append(s.Heads, fmt.Sprintf("%s/%d", h.w.names[ah.Author], ah.Head.Seq))
	}
	return s
}
