package syncer_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/syncer"
	"github.com/google/go-cmp/cmp"
)

// TestSteps runs named sequences of steps and compares the Ready that
// follows them with the one expected.
func TestSteps(t *testing.T) {
	w := newWorld(t)
	a, b, c := w.as, w.bs, w.cs
	fork3 := w.b.Fork(t, fed, 3)         // B/3 on another branch, same prev
	fork5 := w.b.Fork(t, fed, 5)         // B/5 on another branch, same prev
	after3 := branch(t, w.b, fork3, "x") // B/4 following fork3
	const p1, p2 = syncer.PeerID("p1"), syncer.PeerID("p2")
	up1, up2 := syncer.PeerUp{Peer: p1}, syncer.PeerUp{Peer: p2}
	refuse := func(reason error) save {
		return save{reject: func(e ledger.Entry) error {
			if e.Author() == w.b.ID {
				return reason
			}
			return nil
		}}
	}

	for _, tc := range []struct {
		name  string
		cfg   func(*syncer.Config)
		have  ledger.Vector
		steps []any
		want  summary
		// anyReady skips the comparison of the Ready: check looks at it.
		anyReady bool
		check    func(t *testing.T, s *syncer.Syncer)
	}{{
		name:  "a peer that comes up gets an exchange at once",
		steps: []any{up1},
		want:  summary{Exchanges: []syncer.PeerID{p1}},
	}, {
		name:  "a vector ahead starts a pull bounded by MaxPullEntries",
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}},
		want:  summary{Pulls: []string{"p1 B/1-4"}},
	}, {
		name:  "entries in order are handed to save in chain order",
		steps: []any{up1, flush{}, syncer.Entries{Peer: p1, Entries: b[:3]}},
		want:  summary{Save: []string{"B/1", "B/2", "B/3"}},
	}, {
		name:  "saved entries announce their head",
		steps: []any{up1, flush{}, syncer.Entries{Peer: p1, Entries: b[:3]}, save{}},
		want:  summary{Heads: []string{"B/3"}},
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Vector()[w.b.ID]; got != b[2].Head() {
				t.Errorf("vector has %v, want %v", got, b[2].Head())
			}
		},
	}, {
		name:  "an entry past a gap waits while the gap is pulled",
		steps: []any{up1, flush{}, syncer.Entries{Peer: p1, Entries: b[4:5]}},
		want:  summary{Pulls: []string{"p1 B/1-4"}},
		check: func(t *testing.T, s *syncer.Syncer) {
			want := []syncer.Gap{{Author: w.b.ID, Next: 1, Buffered: 1, Last: 5}}
			if diff := cmp.Diff(want, s.Status().Gaps); diff != "" {
				t.Errorf("gaps (-want +got):\n%s", diff)
			}
		},
	}, {
		name: "once the gap is filled the buffered entries follow in chain order",
		steps: []any{up1, flush{}, syncer.Entries{Peer: p1, Entries: b[4:5]}, flush{},
			syncer.Entries{Peer: p1, Entries: b[:4]}},
		want: summary{Save: []string{"B/1", "B/2", "B/3", "B/4", "B/5"}},
	}, {
		name:  "the buffer is bounded and what it drops is counted",
		cfg:   func(c *syncer.Config) { c.MaxBuffered = 2 },
		steps: []any{up1, flush{}, syncer.Entries{Peer: p1, Entries: b[4:7]}},
		want:  summary{Pulls: []string{"p1 B/1-4"}},
		check: func(t *testing.T, s *syncer.Syncer) {
			st := s.Status()
			if st.Counters.Dropped.Buffer != 1 {
				t.Errorf("buffer drops %d, want 1", st.Counters.Dropped.Buffer)
			}
			want := []syncer.Gap{{Author: w.b.ID, Next: 1, Buffered: 2, Last: 6}}
			if diff := cmp.Diff(want, st.Gaps); diff != "" {
				t.Errorf("gaps (-want +got):\n%s", diff)
			}
		},
	}, {
		name:  "a pull that lands past a gap takes no more than the buffer has room for",
		cfg:   func(c *syncer.Config) { c.MaxBuffered = 2 },
		steps: []any{syncer.Entries{Peer: p1, Entries: b[:2]}, save{reject: func(ledger.Entry) error { return errPending }}, up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}},
		want:  summary{Pulls: []string{"p1 B/3-3"}}, // B/1 parked, B/2 buffered, room for one

	}, {
		name: "duplicates are counted and dropped",
		steps: []any{up1, flush{}, syncer.Entries{Peer: p1, Entries: b[:3]}, save{}, flush{},
			syncer.Entries{Peer: p2, Entries: b[:3]}},
		want: summary{},
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Status().Counters.Duplicates; got != 3 {
				t.Errorf("duplicates %d, want 3", got)
			}
		},
	}, {
		name:  "an entry below the hashes the syncer keeps goes to the node to compare",
		have:  vec(b[9]),
		steps: []any{syncer.Entries{Peer: p1, Entries: b[1:2]}},
		want:  summary{Check: []string{"p1 B/2"}},
	}, {
		name:  "a different entry at the stored head goes to the node to compare",
		have:  vec(b[2]),
		steps: []any{syncer.Entries{Peer: p1, Entries: []ledger.Entry{fork3}}},
		want:  summary{Check: []string{"p1 B/3"}},
	}, {
		name: "a failed pull is retried with another peer",
		steps: []any{up1, up2, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[4])}, flush{},
			syncer.Vector{Peer: p2, Vector: vec(b[4])}, failPull{}},
		want: summary{Pulls: []string{"p2 B/1-4"}},
	}, {
		name: "a pull without progress times out and goes to another peer",
		steps: []any{up1, up2, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[4])}, flush{},
			syncer.Vector{Peer: p2, Vector: vec(b[4])}, ticks(5)},
		want: summary{Pulls: []string{"p2 B/1-4"}},
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Status().Counters.PullTimeouts; got != 1 {
				t.Errorf("timeouts %d, want 1", got)
			}
		},
	}, {
		name: "progress restarts a pull's timeout",
		steps: []any{up1, up2, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[4])}, flush{},
			syncer.Vector{Peer: p2, Vector: vec(b[4])}, ticks(4), syncer.Entries{Peer: p1, Entries: b[:1]}, ticks(4)},
		want: summary{Save: []string{"B/1"}},
	}, {
		name: "a late answer to a pull that timed out is not bad input",
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[4])}, flush{}, ticks(5), flush{},
			donePull{}},
		want: summary{},
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Status().Counters.StalePulls; got != 1 {
				t.Errorf("stale pulls %d, want 1", got)
			}
		},
	}, {
		name:  "a pull that serves nothing lowers what the peer is thought to hold",
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[4])}, flush{}, donePull{}},
		want:  summary{},
		check: func(t *testing.T, s *syncer.Syncer) {
			st := s.Status()
			if len(st.Peers) != 1 || len(st.Peers[0].Known) != 0 || st.Peers[0].Lag != 0 || st.Counters.EmptyPulls != 1 {
				t.Errorf("peers %+v, empty pulls %d; want p1 knowing nothing", st.Peers, st.Counters.EmptyPulls)
			}
		},
	}, {
		name:     "MaxInflightPulls bounds the pulls",
		cfg:      func(c *syncer.Config) { c.MaxInflightPulls = 1 },
		steps:    []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[4], c[4])}},
		anyReady: true,
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := len(s.Status().Pulls); got != 1 {
				t.Errorf("%d pulls in flight, want 1", got)
			}
		},
	}, {
		name: "a pending rejection is parked, and offered again after a later save",
		steps: []any{up1, flush{}, syncer.Entries{Peer: p1, Entries: b[:3]}, refuse(errPending),
			syncer.Entries{Peer: p1, Entries: c[:1]}, save{}},
		want: summary{Save: []string{"B/1", "B/2", "B/3"}, Heads: []string{"C/1"}},
	}, {
		name: "a parked entry is offered again after AntiEntropyTicks, saves or not",
		cfg:  func(c *syncer.Config) { c.AntiEntropyTicks = 10 },
		steps: []any{syncer.Entries{Peer: p1, Entries: b[:2]}, refuse(errPending), ticks(9), flush{},
			syncer.Entries{Peer: p1, Entries: b[2:3]}, ticks(1)},
		want: summary{Save: []string{"B/1", "B/2", "B/3"}},
	}, {
		name: "a refused entry: its peer is not asked again for that author",
		steps: []any{up1, up2, flush{}, syncer.Entries{Peer: p1, Entries: b[:2]}, refuse(errors.New("not a member")),
			syncer.Vector{Peer: p1, Vector: vec(b[4])}, syncer.Entries{Peer: p1, Entries: b[:1]},
			syncer.Vector{Peer: p2, Vector: vec(b[4])}},
		want: summary{Pulls: []string{"p2 B/1-4"}},
		check: func(t *testing.T, s *syncer.Syncer) {
			st := s.Status()
			want := []syncer.AuthorSeq{{Author: w.b.ID, Seq: 1}}
			if diff := cmp.Diff(want, st.Peers[0].Refused); diff != "" {
				t.Errorf("p1 refused (-want +got):\n%s", diff)
			}
			if st.Counters.Refused != 1 || st.Counters.RefusedEntries != 1 {
				t.Errorf("refused %d, refused entries %d; want 1, 1", st.Counters.Refused, st.Counters.RefusedEntries)
			}
		},
	}, {
		name:  "a peer's head that differs at a seq the syncer holds is probed",
		have:  vec(b[2]),
		steps: []any{up1, flush{}, syncer.Heads{Peer: p1, Heads: []syncer.AuthorHead{{Author: w.b.ID, Head: fork3.Head()}}}},
		want:  summary{Pulls: []string{"p1 B/3-3"}},
	}, {
		name:  "an entry whose prev is not the hash of the tip probes the seq before",
		have:  vec(b[2]),
		steps: []any{up1, flush{}, syncer.Entries{Peer: p1, Entries: []ledger.Entry{after3}}},
		want:  summary{Pulls: []string{"p1 B/3-3"}}, // and not B/4 again from p1
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Status().Counters.BadPrev; got != 1 {
				t.Errorf("bad prev %d, want 1", got)
			}
			want := []syncer.AuthorSeq{{Author: w.b.ID, Seq: 4}}
			if diff := cmp.Diff(want, s.Status().Peers[0].Refused); diff != "" {
				t.Errorf("p1 refused (-want +got):\n%s", diff)
			}
		},
	}, {
		name:  "two entries at one seq held in memory are a proof",
		steps: []any{syncer.Entries{Peer: p1, Entries: b[4:5]}, flush{}, syncer.Entries{Peer: p2, Entries: []ledger.Entry{fork5}}},
		want:  summary{Proofs: []string{"p2 B/5"}},
	}, {
		name: "a fork freezes the author: nothing is pulled from the fork on",
		have: vec(b[1]),
		steps: []any{up1, flush{}, syncer.Forked{Peer: p1, Proof: proof(t, b[2], fork3)},
			syncer.Vector{Peer: p1, Vector: vec(b[9])}},
		want: summary{},
		check: func(t *testing.T, s *syncer.Syncer) {
			want := []syncer.Fork{{Author: w.b.ID, Seq: 3}}
			if diff := cmp.Diff(want, s.Forks()); diff != "" {
				t.Errorf("forks (-want +got):\n%s", diff)
			}
		},
	}, {
		name: "a frozen author is pulled up to the entry before its fork",
		have: vec(b[1]),
		steps: []any{up1, flush{}, syncer.Forked{Peer: p1, Proof: proof(t, b[3], w.b.Fork(t, fed, 4))},
			syncer.Vector{Peer: p1, Vector: vec(b[9])}},
		want: summary{Pulls: []string{"p1 B/3-3"}},
	}, {
		name: "a proof whose entries differ in prev probes the peers the seq before",
		have: vec(b[2]),
		steps: []any{up1, up2, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}, syncer.Vector{Peer: p2, Vector: vec(b[2])}, flush{},
			syncer.Forked{Proof: proof(t, b[3], after3)}},
		want: summary{Pulls: []string{"p1 B/3-3", "p2 B/3-3"}},
	}, {
		name: "a proof whose prev is not this node's entry before it probes the seq before",
		have: vec(b[2]),
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}, flush{},
			syncer.Forked{Proof: proof(t, after3, branch(t, w.b, fork3, "y"))}},
		want: summary{Pulls: []string{"p1 B/3-3"}},
	}, {
		name: "the probes below a fork are repeated until a proof there arrives",
		cfg:  func(c *syncer.Config) { c.AntiEntropyTicks = 10 },
		have: vec(b[2]),
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}, flush{},
			syncer.Forked{Proof: proof(t, after3, branch(t, w.b, fork3, "y"))}, flush{}, failPull{}, ticks(10)},
		want: summary{Pulls: []string{"p1 B/3-3"}},
	}, {
		name: "a restarted node that no longer knows its hash before a fork probes the peers there",
		have: vec(b[5]), // only the head's hash is known after New
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}, flush{},
			syncer.Forked{Proof: proof(t, b[4], fork5)}},
		want: summary{Pulls: []string{"p1 B/4-4"}},
	}, {
		name: "and hands the node what they hold there to compare with its store",
		have: vec(b[5]),
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}, flush{},
			syncer.Forked{Proof: proof(t, b[4], fork5)}, flush{}, syncer.Entries{Peer: p1, Entries: b[3:4]}},
		want: summary{Check: []string{"p1 B/4"}},
	}, {
		name: "a node that knows its hash before a fork, the proof's prev, does not probe",
		have: vec(b[3]),
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}, flush{},
			syncer.Entries{Peer: p1, Entries: b[4:5]}, save{},
			syncer.Forked{Proof: proof(t, b[4], fork5)}},
		anyReady: true,
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Status().Counters.Probes; got != 0 {
				t.Errorf("%d probes, want 0", got)
			}
		},
	}, {
		name: "no probe below a fork once a proof there arrived",
		cfg:  func(c *syncer.Config) { c.AntiEntropyTicks = 10 },
		have: vec(b[2]),
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[9])}, flush{},
			syncer.Forked{Proof: proof(t, after3, branch(t, w.b, fork3, "y"))}, flush{},
			syncer.Forked{Proof: proof(t, b[2], fork3)}, ticks(10)},
		anyReady: true,
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Status().Counters.Probes; got != 1 {
				t.Errorf("%d probes, want 1", got)
			}
		},
	}, {
		name:  "own appends are pushed to the connected peers and announced",
		steps: []any{up1, up2, flush{}, syncer.Appended{Entry: a[0]}, syncer.Appended{Entry: a[1]}},
		want:  summary{Pushes: []string{"p1 A/1,A/2", "p2 A/1,A/2"}, Heads: []string{"A/2"}},
	}, {
		name:  "pushes are bounded and what they drop is counted",
		cfg:   func(c *syncer.Config) { c.MaxPushEntries = 2 },
		steps: []any{up1, flush{}, syncer.Appended{Entry: a[0]}, syncer.Appended{Entry: a[1]}, syncer.Appended{Entry: a[2]}},
		want:  summary{Pushes: []string{"p1 A/1,A/2"}, Heads: []string{"A/3"}},
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Status().Counters.Dropped.Push; got != 1 {
				t.Errorf("push drops %d, want 1", got)
			}
		},
	}, {
		name:  "entries not reported before Advance are offered again",
		steps: []any{syncer.Entries{Peer: p1, Entries: b[:2]}, flush{}},
		want:  summary{Save: []string{"B/1", "B/2"}},
		check: func(t *testing.T, s *syncer.Syncer) {
			if got := s.Status().Counters.Unreported; got != 2 { // the flush, and the Ready above
				t.Errorf("unreported %d, want 2", got)
			}
		},
	}, {
		name:  "a peer with more fork proofs is asked for them",
		steps: []any{up1, flush{}, syncer.Vector{Peer: p1, Vector: ledger.Vector{}, Forks: 2}},
		want:  summary{FetchForks: []syncer.PeerID{p1}},
	}, {
		name:  "a peer going down gives its pull to another",
		steps: []any{up1, up2, flush{}, syncer.Vector{Peer: p1, Vector: vec(b[4])}, flush{}, syncer.Vector{Peer: p2, Vector: vec(b[4])}, syncer.PeerDown{Peer: p1}},
		want:  summary{Pulls: []string{"p2 B/1-4"}},
	}, {
		name:  "entries past a gap that nobody fills expire",
		steps: []any{syncer.Entries{Peer: p1, Entries: b[4:6]}, ticks(51)},
		want:  summary{},
		check: func(t *testing.T, s *syncer.Syncer) {
			st := s.Status()
			if len(st.Gaps) != 0 || st.Counters.Dropped.Expired != 2 {
				t.Errorf("gaps %v, expired %d; want none, 2", st.Gaps, st.Counters.Dropped.Expired)
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(w)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			h := newHarness(t, w, cfg, tc.have)
			for _, s := range tc.steps {
				h.step(s)
			}
			rd := h.ready()
			if diff := cmp.Diff(tc.want, h.summarize(rd)); !tc.anyReady && diff != "" {
				t.Errorf("Ready (-want +got):\n%s", diff)
			}
			h.s.Advance(rd)
			if tc.check != nil {
				tc.check(t, h.s)
			}
		})
	}
}

// TestAntiEntropy checks that exchanges go to random connected peers at
// jittered intervals drawn from Config.Rand: the same seed gives the same
// schedule, another seed another.
func TestAntiEntropy(t *testing.T) {
	w := newWorld(t)
	run := func(seed uint64) (ticks []int, peers []syncer.PeerID) {
		cfg := testConfig(w)
		cfg.AntiEntropyTicks = 10
		cfg.Rand = rand.New(rand.NewPCG(seed, 0))
		h := newHarness(t, w, cfg, nil)
		for _, p := range []syncer.PeerID{"p1", "p2", "p3"} {
			h.step(syncer.PeerUp{Peer: p})
		}
		h.step(flush{})
		for i := 1; i <= 1000; i++ {
			h.s.Tick()
			rd := h.ready()
			for _, p := range rd.Exchanges {
				ticks, peers = append(ticks, i), append(peers, p)
			}
			h.s.Advance(rd)
		}
		return ticks, peers
	}
	ticks, peers := run(1)
	if len(ticks) < 1000/15 || len(ticks) > 1000/5 {
		t.Fatalf("%d exchanges in 1000 ticks, want one every 5 to 15", len(ticks))
	}
	intervals := make(map[int]bool)
	for i := 1; i < len(ticks); i++ {
		d := ticks[i] - ticks[i-1]
		if d < 5 || d > 15 {
			t.Errorf("exchanges at ticks %d and %d: %d apart, want 5 to 15", ticks[i-1], ticks[i], d)
		}
		intervals[d] = true
	}
	if len(intervals) < 5 {
		t.Errorf("intervals %v: not jittered", intervals)
	}
	for _, p := range []syncer.PeerID{"p1", "p2", "p3"} {
		if !slices.Contains(peers, p) {
			t.Errorf("no exchange with %s", p)
		}
	}
	again, againPeers := run(1)
	if !slices.Equal(ticks, again) || !slices.Equal(peers, againPeers) {
		t.Error("the same seed gave another schedule")
	}
	if other, _ := run(2); slices.Equal(ticks, other) {
		t.Error("another seed gave the same schedule")
	}
}

// TestRestoredFromBackup checks that a node whose store is older than its
// own log, as its peers hold it, does not append until it has pulled it
// back.
func TestRestoredFromBackup(t *testing.T) {
	w := newWorld(t)
	a := w.as
	h := newHarness(t, w, testConfig(w), vec(a[1])) // A/2 restored; the peers hold A/5
	wantErr := func(want error) {
		t.Helper()
		if err := h.s.CheckAppend(); !errors.Is(err, want) {
			t.Fatalf("CheckAppend: %v, want %v", err, want)
		}
	}
	wantErr(syncer.ErrUnconfirmed)
	h.step(syncer.PeerUp{Peer: "p1"})
	wantErr(syncer.ErrUnconfirmed)
	if got := h.summarize(h.ready()); !slices.Equal(got.Exchanges, []syncer.PeerID{"p1"}) {
		t.Fatalf("exchanges %v, want [p1]", got.Exchanges)
	}
	h.step(syncer.Vector{Peer: "p1", Vector: vec(a[4], w.bs[0])})
	wantErr(syncer.ErrBehind)
	if st := h.s.Status().Self; st != (syncer.SelfStatus{Head: 2, Highest: 5, Peer: "p1", Confirmed: true}) {
		t.Errorf("self status %+v", st)
	}
	rd := h.ready()
	if diff := cmp.Diff([]string{"p1 B/1-1", "p1 A/3-5"}, h.summarize(rd).Pulls); diff != "" {
		t.Fatalf("pulls (-want +got):\n%s", diff)
	}
	h.s.Advance(rd)
	h.step(syncer.Entries{Peer: "p1", Entries: a[2:5]})
	wantErr(syncer.ErrBehind) // received, not yet stored
	h.step(save{})
	if err := h.s.CheckAppend(); err != nil {
		t.Fatalf("CheckAppend after catching up: %v", err)
	}
	h.step(syncer.Appended{Entry: a[5]})

	// Alone, a node has nobody to wait for.
	cfg := testConfig(w)
	cfg.Alone = true
	if err := newHarness(t, w, cfg, nil).s.CheckAppend(); err != nil {
		t.Errorf("alone: CheckAppend: %v", err)
	}

	// A forked own log stops appends until the federation decides.
	h.step(syncer.Forked{Proof: proof(t, a[3], w.a.Fork(t, fed, 4))})
	wantErr(syncer.ErrForked)
}

// TestBadInput checks that nonsense returns an error and changes nothing.
func TestBadInput(t *testing.T) {
	w := newWorld(t)
	h := newHarness(t, w, testConfig(w), vec(w.as[0]))
	for _, s := range []any{syncer.PeerUp{Peer: "p1"}, flush{}, syncer.Vector{Peer: "p1", Vector: vec(w.bs[4])},
		syncer.Entries{Peer: "p1", Entries: w.cs[2:3]}} {
		h.step(s)
	}
	many := make([]ledger.Entry, 17)
	for i := range many {
		many[i] = w.bs[0]
	}
	for _, tc := range []struct {
		name string
		m    syncer.Msg
		want error
	}{
		{"nil message", nil, syncer.ErrBadMsg},
		{"peer up without a peer", syncer.PeerUp{}, syncer.ErrBadMsg},
		{"peer down without a peer", syncer.PeerDown{}, syncer.ErrBadMsg},
		{"a head at seq 0", syncer.Heads{Peer: "p1", Heads: []syncer.AuthorHead{{Author: w.b.ID}}}, syncer.ErrBadMsg},
		{"a head of the zero author", syncer.Heads{Peer: "p1", Heads: []syncer.AuthorHead{{Head: ledger.Head{Seq: 1}}}}, syncer.ErrBadMsg},
		{"a vector with a head at seq 0", syncer.Vector{Peer: "p1", Vector: ledger.Vector{w.b.ID: {}}}, syncer.ErrBadMsg},
		{"a vector without a peer", syncer.Vector{Vector: vec(w.bs[0])}, syncer.ErrBadMsg},
		{"a zero entry", syncer.Entries{Peer: "p1", Entries: []ledger.Entry{w.bs[0], {}}}, syncer.ErrBadMsg},
		{"too many entries", syncer.Entries{Peer: "p1", Entries: many}, syncer.ErrBadMsg},
		{"entries without a peer", syncer.Entries{Entries: w.bs[:1]}, syncer.ErrBadMsg},
		{"a pull done without a peer", syncer.PullDone{}, syncer.ErrBadMsg},
		{"a zero entry saved", syncer.Saved{}, syncer.ErrBadMsg},
		{"a saved entry past a gap", syncer.Saved{Entry: w.bs[3]}, syncer.ErrNotNext},
		{"a rejection without an error", syncer.Rejected{Entry: w.bs[0]}, syncer.ErrBadMsg},
		{"another author's entry appended", syncer.Appended{Entry: w.bs[0]}, syncer.ErrBadMsg},
		{"an own entry appended past a gap", syncer.Appended{Entry: w.as[2]}, syncer.ErrNotNext},
		{"an own entry appended over another", syncer.Appended{Entry: w.a.Fork(t, fed, 1)}, syncer.ErrNotNext},
		{"a proof of one entry", syncer.Forked{Proof: ledger.ForkProof{A: w.bs[0], B: w.bs[0]}}, syncer.ErrBadMsg},
		{"a proof of two seqs", syncer.Forked{Proof: ledger.ForkProof{A: w.bs[0], B: w.bs[1]}}, syncer.ErrBadMsg},
		{"an empty proof", syncer.Forked{}, syncer.ErrBadMsg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, ready := h.s.Status(), h.s.HasReady()
			err := h.s.Step(tc.m)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Step: %v, want %v", err, tc.want)
			}
			if diff := cmp.Diff(before, h.s.Status()); diff != "" || h.s.HasReady() != ready {
				t.Errorf("the syncer changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		cfg  func(*syncer.Config)
		have ledger.Vector
	}{
		{"no rand", func(c *syncer.Config) { c.Rand = nil }, nil},
		{"no self", func(c *syncer.Config) { c.Self = ledger.Author{} }, nil},
		{"a negative limit", func(c *syncer.Config) { c.MaxBuffered = -1 }, nil},
		{"a head at seq 0", nil, ledger.Vector{w.b.ID: {}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(w)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if _, err := syncer.New(cfg, tc.have); !errors.Is(err, syncer.ErrConfig) {
				t.Errorf("New: %v, want ErrConfig", err)
			}
		})
	}
	cfg := syncer.DefaultConfig()
	cfg.Self, cfg.Rand = w.a.ID, rand.New(rand.NewPCG(1, 1))
	if _, err := syncer.New(cfg, nil); err != nil {
		t.Errorf("New with DefaultConfig: %v", err)
	}
}
