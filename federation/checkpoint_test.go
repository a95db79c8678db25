package federation_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// fullView is everything the State shows, for comparing a State with
// the one its checkpoint loads into.
type fullView struct {
	Snap      snapshot
	History   []federation.RuleSet
	Status    []federation.PeriodStatus
	Settled   []federation.Settlement
	Plans     [][]federation.TransferStatus
	Awaiting  [][]ledger.Hash
	Checkable []string
}

func viewOf(t *testing.T, s *federation.State, probes []ledger.Entry) fullView {
	t.Helper()
	v := fullView{Snap: snap(s), History: s.RuleHistory(), Settled: s.Settlements("")}
	for _, p := range []ledger.Period{"2026-01", "2026-02", "2026-03"} {
		v.Status = append(v.Status, s.PeriodStatus(p))
		plan, _, err := s.Plan(p, msOf(2026, time.June, 1))
		if err != nil {
			t.Fatal(err)
		}
		v.Plans = append(v.Plans, plan)
	}
	for _, m := range s.Members() {
		v.Awaiting = append(v.Awaiting, s.Awaiting(m.Key))
	}
	// What the State says of entries still to come, refused or not.
	for _, e := range probes {
		err := s.Check(e)
		v.Checkable = append(v.Checkable, errString(err))
	}
	return v
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkRoundTrip loads s's checkpoint and requires the same view, then
// applies the same entries to both and requires the same view again.
func checkRoundTrip(t *testing.T, name string, s *federation.State, more []ledger.Entry) {
	t.Helper()
	b := s.Checkpoint()
	l, err := federation.LoadCheckpoint(b)
	if err != nil {
		t.Fatalf("%s: LoadCheckpoint: %v", name, err)
	}
	opt := gocmp.Comparer(proto.Equal)
	if diff := gocmp.Diff(viewOf(t, s, more), viewOf(t, l, more), opt); diff != "" {
		t.Fatalf("%s: the loaded State differs (-saved +loaded):\n%s", name, diff)
	}
	sw, _, err1 := s.Settle(more, nil)
	lw, _, err2 := l.Settle(more, nil)
	if err1 != nil || err2 != nil || len(sw) != len(lw) {
		t.Fatalf("%s: settling more entries: %v, %v; %d and %d left", name, err1, err2, len(sw), len(lw))
	}
	if diff := gocmp.Diff(viewOf(t, s, nil), viewOf(t, l, nil), opt); diff != "" {
		t.Fatalf("%s: after more entries, the loaded State differs (-saved +loaded):\n%s", name, diff)
	}
}

// TestCheckpointRoundTrip saves and loads States of every scenario of
// the package, cut at several places: money with corrections and closes,
// random governance with admissions, exclusions and forks, and rule
// changes, excuses and settlements.
func TestCheckpointRoundTrip(t *testing.T) {
	_, settled, _, _ := settledScenario(t)
	for cut := 1; cut <= len(settled); cut += 3 {
		checkRoundTrip(t, "settlements", stateOf(t, settled[:cut]...), settled[cut:])
	}
	sc := newScenario(t, 20261207, 3, 40)
	order := sc.interleave(0)
	for _, cut := range []int{1, len(order) / 3, len(order) - 1, len(order)} {
		s := federation.New()
		if _, _, err := s.Settle(order[:cut], nil); err != nil {
			t.Fatal(err)
		}
		checkRoundTrip(t, "money", s, order[cut:])
	}
	for seed := range uint64(6) {
		gs := newGovScenario(t, seed)
		events := gs.interleave(seed)
		for _, cut := range []int{len(events) / 4, len(events) / 2, len(events)} {
			n := &simNode{s: federation.New()}
			for _, ev := range events[:cut] {
				n.receive(t, ev)
			}
			l, err := federation.LoadCheckpoint(n.s.Checkpoint())
			if err != nil {
				t.Fatalf("seed %d cut %d: %v", seed, cut, err)
			}
			m := &simNode{s: l, held: append([]ledger.Entry{}, n.held...), proofs: append([][2]ledger.Entry{}, n.proofs...)}
			opt := gocmp.Comparer(proto.Equal)
			if diff := gocmp.Diff(viewOf(t, n.s, n.held), viewOf(t, m.s, n.held), opt); diff != "" {
				t.Fatalf("seed %d cut %d: the loaded State differs (-saved +loaded):\n%s", seed, cut, diff)
			}
			for _, ev := range events[cut:] {
				n.receive(t, ev)
				m.receive(t, ev)
			}
			if diff := gocmp.Diff(viewOf(t, n.s, nil), viewOf(t, m.s, nil), opt); diff != "" {
				t.Fatalf("seed %d cut %d: after the rest, the loaded State differs (-saved +loaded):\n%s", seed, cut, diff)
			}
		}
	}
}

// TestCheckpointRefused: any byte changed or cut is refused, never loaded
// into another State.
func TestCheckpointRefused(t *testing.T) {
	_, settled, _, _ := settledScenario(t)
	b := stateOf(t, settled...).Checkpoint()
	if _, err := federation.LoadCheckpoint(b[:len(b)-1]); !errors.Is(err, federation.ErrBadCheckpoint) {
		t.Errorf("truncated: %v, want ErrBadCheckpoint", err)
	}
	if _, err := federation.LoadCheckpoint(append(append([]byte{}, b...), 0)); !errors.Is(err, federation.ErrBadCheckpoint) {
		t.Errorf("a byte too many: %v, want ErrBadCheckpoint", err)
	}
	for i := 0; i < len(b); i += 7 {
		c := append([]byte{}, b...)
		c[i] ^= 0x40
		if _, err := federation.LoadCheckpoint(c); !errors.Is(err, federation.ErrBadCheckpoint) {
			t.Fatalf("byte %d of %d changed: %v, want ErrBadCheckpoint", i, len(b), err)
		}
	}
}

// FuzzLoadCheckpoint gives LoadCheckpoint any bytes behind a valid
// checksum, so that the fuzzer reaches the decoder: it never panics, and a
// State it loads saves and loads again to the same hash.
func FuzzLoadCheckpoint(f *testing.F) {
	_, settled, _, _ := settledScenario(f)
	for _, n := range []int{1, 4, len(settled)} {
		b := stateOf(f, settled[:n]...).Checkpoint()
		f.Add(b[:len(b)-sha256.Size])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sum := sha256.Sum256(body)
		s, err := federation.LoadCheckpoint(append(body[:len(body):len(body)], sum[:]...))
		if err != nil {
			if !errors.Is(err, federation.ErrBadCheckpoint) {
				t.Fatalf("refused without ErrBadCheckpoint: %v", err)
			}
			return
		}
		again, err := federation.LoadCheckpoint(s.Checkpoint())
		if err != nil || again.Hash() != s.Hash() {
			t.Fatalf("a loaded State does not load again: %v", err)
		}
	})
}

// writes records the size of each Write; it fails from the failAt-th on.
type writes struct {
	bytes.Buffer
	sizes  []int
	failAt int
}

var errDiskFull = errors.New("disk full")

func (w *writes) Write(p []byte) (int, error) {
	if w.failAt > 0 && len(w.sizes)+1 >= w.failAt {
		return 0, errDiskFull
	}
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// TestWriteCheckpoint checks that WriteCheckpoint writes what Checkpoint
// returns in pieces of a bounded size, whatever the number of entries,
// and reports a writer's failure.
func TestWriteCheckpoint(t *testing.T) {
	f := newFixture(t, 1)
	s := stateOf(t, f.genesis)
	for range 5000 {
		mustApply(t, s, f.founder.next(t, contrib(100, "2026-01", caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES)))
	}
	want := s.Checkpoint()
	var w writes
	if err := s.WriteCheckpoint(&w); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("WriteCheckpoint wrote %d bytes unlike Checkpoint's %d", w.Len(), len(want))
	}
	if len(w.sizes) < 3 || slices.Max(w.sizes) > 128<<10 {
		t.Fatalf("%d bytes written in %d pieces of at most %d bytes: want several small ones", w.Len(), len(w.sizes), slices.Max(w.sizes))
	}
	if _, err := federation.LoadCheckpoint(w.Bytes()); err != nil {
		t.Fatal(err)
	}
	bad := writes{failAt: 2}
	if err := s.WriteCheckpoint(&bad); !errors.Is(err, errDiskFull) {
		t.Fatalf("WriteCheckpoint to a failing writer: %v, want the writer's error", err)
	}
}
