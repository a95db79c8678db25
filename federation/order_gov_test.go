package federation_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	gocmp "github.com/google/go-cmp/cmp"
)

// event is what a node receives: an entry, or a fork proof.
type event struct {
	e     ledger.Entry
	proof [2]ledger.Entry // when e is zero
}

// govScenario is a federation of three charter members that admits one
// applicant and not another, then excludes a member, while all of them
// record money; two members fork. Times follow the order of signing, on
// one clock. It holds the logs, the proofs, and what the State must show,
// computed here.
type govScenario struct {
	seed       uint64
	f          *fixture
	x, y       *writer
	streams    [][]event // one per log (the founder's without the genesis)
	proofs     [][2]ledger.Entry
	entries    int // in the logs, the genesis included, less those the forks take out
	p1, p2, p3 ledger.Entry
	decided    [3]ledger.Entry // the deciding votes of p1, p2, p3
	want       []federation.CaisseBalance
}

func newGovScenario(tb testing.TB, seed uint64) *govScenario {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	f := newFixture(tb, 2)
	f.shareClock()
	F, A, B := f.founder, f.cofounders[0], f.cofounders[1]
	sc := &govScenario{seed: seed, f: f, x: f.applicant(50, "Caisse X"), y: f.applicant(60, "Caisse Y")}
	X, Y := sc.x, sc.y
	writers := []*writer{F, A, B, X, Y}
	logs := map[*writer][]ledger.Entry{}
	buckets := map[*writer]map[bucketKey]ledger.Amount{}
	for _, w := range writers {
		buckets[w] = map[bucketKey]ledger.Amount{}
	}
	add := func(w *writer, k kindFn) ledger.Entry {
		e := w.next(tb, k)
		logs[w] = append(logs[w], e)
		return e
	}
	periods := []string{"2026-01", "2026-02", "2026-03"}
	var bFirst ledger.Entry
	money := func(w *writer, n int, counts bool) {
		for range n {
			amount := ledger.Amount(1 + rng.IntN(10_000))
			period := periods[rng.IntN(len(periods))]
			var e ledger.Entry
			var key bucketKey
			if rng.IntN(3) > 0 {
				cat := caissev1.ContributionCategory(1 + rng.IntN(4))
				e = add(w, contrib(amount, period, cat))
				key = bucketKey{ledger.Period(period), "in", ledger.ContributionCategoryName(cat)}
			} else {
				cat := caissev1.DisbursementCategory(1 + rng.IntN(6))
				e = add(w, disburse(amount, period, cat))
				key = bucketKey{ledger.Period(period), "out", ledger.DisbursementCategoryName(cat)}
			}
			if w == B && bFirst.IsZero() {
				bFirst = e
			}
			if counts {
				buckets[w][key] += amount
			}
		}
	}

	money(A, 3, true)
	money(B, 2, true)
	money(F, 2, true)
	add(X, application("Caisse X"))
	money(X, 1, false) // dated before its admission: applies once it is final, counts for nothing
	add(Y, application("Caisse Y"))
	sc.p1 = add(F, admit(X.id))
	add(F, vote(sc.p1, yes))
	money(B, 1, true)
	sc.decided[0] = add(A, vote(sc.p1, yes)) // 2 of 3: X is admitted
	add(B, vote(sc.p1, no))                  // after the decision: changes nothing
	money(X, 3, true)
	sc.p2 = add(A, admit(Y.id))
	add(X, vote(sc.p2, yes)) // X is a member when p2 is made: eligible
	add(F, vote(sc.p2, no))
	sc.decided[1] = add(B, vote(sc.p2, no)) // 1 yes, 2 no of 4, A left: rejected
	sc.p3 = add(F, exclude(B.id))
	money(B, 1, true) // before the decision: counts
	add(F, vote(sc.p3, yes))
	sc.decided[2] = add(A, vote(sc.p3, yes)) // 2 of 4: B is excluded
	money(B, 2, false)                       // after: kept, counts for nothing
	add(B, correct(bFirst))                  // after: counts for nothing, its target still counts
	altB := *B
	bLate := add(B, vote(sc.p3, no)) // late, excluded, and forked
	bOther := altB.next(tb, vote(sc.p3, yes))
	money(X, 2, true)
	money(F, 1, true)
	altA := *A
	money(A, 2, false) // taken out by A's fork
	aForked := logs[A][len(logs[A])-2]
	aOther := altA.next(tb, contrib(7, "2026-03", dues))

	sc.entries = 1
	for _, w := range writers {
		var stream []event
		for _, e := range logs[w] {
			stream = append(stream, event{e: e})
		}
		sc.streams = append(sc.streams, stream)
		sc.entries += len(logs[w])
	}
	sc.entries -= 3 // A's last two, B's last
	sc.proofs = [][2]ledger.Entry{{aForked, aOther}, {bOther, bLate}}
	for _, w := range []*writer{F, A, B, X} {
		cb := expectBalance(w, buckets[w])
		switch w {
		case A:
			cb.ForkSeq = aForked.Seq()
		case B:
			cb.ForkSeq = bLate.Seq()
		}
		sc.want = append(sc.want, cb)
	}
	slices.SortFunc(sc.want, func(a, b federation.CaisseBalance) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	return sc
}

// interleave returns every event, the genesis first, then the streams
// merged in an order drawn from (seed, run), each stream in its order,
// and the proofs each at a place drawn after the genesis.
func (sc *govScenario) interleave(run uint64) []event {
	rng := rand.New(rand.NewPCG(sc.seed, run+1))
	out := []event{{e: sc.f.genesis}}
	next := make([]int, len(sc.streams))
	var avail []int
	for {
		avail = avail[:0]
		for i, st := range sc.streams {
			if next[i] < len(st) {
				avail = append(avail, i)
			}
		}
		if len(avail) == 0 {
			break
		}
		i := avail[rng.IntN(len(avail))]
		out = append(out, sc.streams[i][next[i]])
		next[i]++
	}
	for _, p := range sc.proofs {
		out = slices.Insert(out, 1+rng.IntN(len(out)), event{proof: p})
	}
	return out
}

// simNode receives events as a node's sync does: what applies is applied,
// entries refused as pending (or behind them in their log) and pending
// fork proofs are kept aside and tried again after every progress, and
// entries past a fork are dropped.
type simNode struct {
	s       *federation.State
	held    []ledger.Entry
	proofs  [][2]ledger.Entry
	maxHeld int
}

func (n *simNode) receive(tb testing.TB, ev event) {
	tb.Helper()
	if ev.e.IsZero() {
		n.proofs = append(n.proofs, ev.proof)
	} else {
		n.held = append(n.held, ev.e)
	}
	for {
		waiting, dropped, err := n.s.Settle(n.held, nil)
		if err != nil {
			tb.Fatalf("Settle: %v", err)
		}
		for _, d := range dropped {
			if !errors.Is(d, federation.ErrForked) {
				tb.Fatalf("Settle dropped an entry: %v", d)
			}
		}
		n.held = waiting
		n.maxHeld = max(n.maxHeld, len(n.held)+len(n.proofs))
		progress := false
		var keep [][2]ledger.Entry
		for _, p := range n.proofs {
			switch err := n.s.ApplyFork(p[0], p[1]); {
			case err == nil:
				progress = true
			case errors.Is(err, federation.ErrPending):
				keep = append(keep, p)
			default:
				tb.Fatalf("ApplyFork: %v", err)
			}
		}
		n.proofs = keep
		if !progress {
			return
		}
	}
}

func (sc *govScenario) run(tb testing.TB, events []event) *simNode {
	tb.Helper()
	n := &simNode{s: federation.New()}
	for _, ev := range events {
		n.receive(tb, ev)
	}
	if len(n.held) != 0 || len(n.proofs) != 0 {
		tb.Fatalf("seed %d: %d entries and %d proofs still held at the end: %v", sc.seed, len(n.held), len(n.proofs), n.held)
	}
	return n
}

// testOrderIndependenceGovernance applies the governance scenario in
// many orders, as sync would, and requires the same State every time,
// equal to what the scenario computed.
func testOrderIndependenceGovernance(t *testing.T) {
	const runs = 200
	sc := newGovScenario(t, 20261123)
	first := sc.run(t, sc.interleave(0)).s
	checkGovScenario(t, sc, first)
	want := snap(first)
	orders := map[[32]byte]bool{}
	pendingRuns := 0
	for run := range uint64(runs) {
		events := sc.interleave(run)
		var key []ledger.Entry
		for _, ev := range events {
			key = append(key, ev.e, ev.proof[0])
		}
		orders[orderKey(slices.DeleteFunc(key, ledger.Entry.IsZero))] = true
		n := sc.run(t, events)
		if n.maxHeld > 0 {
			pendingRuns++
		}
		if diff := gocmp.Diff(want, snap(n.s)); diff != "" {
			t.Errorf("seed %d run %d: State differs from run 0's (-run 0 +this run):\n%s", sc.seed, run, diff)
		}
	}
	if len(orders) < runs-1 {
		t.Errorf("only %d distinct orders in %d runs: the test does not shuffle", len(orders), runs)
	}
	if pendingRuns < runs/2 {
		t.Errorf("only %d runs of %d kept anything aside: the test does not exercise pending entries", pendingRuns, runs)
	}
}

// checkGovScenario checks the State against what the scenario says.
func checkGovScenario(t *testing.T, sc *govScenario, s *federation.State) {
	t.Helper()
	F, A, B, X, Y := sc.f.founder, sc.f.cofounders[0], sc.f.cofounders[1], sc.x, sc.y
	if diff := gocmp.Diff(sc.want, s.Balances()); diff != "" {
		t.Errorf("Balances (-want +got):\n%s", diff)
	}
	if s.Entries() != uint64(sc.entries) {
		t.Errorf("Entries() = %d, want %d", s.Entries(), sc.entries)
	}
	type outcome struct {
		Outcome                federation.Outcome
		Eligible, Yes, No, Abs int
		Decided                ledger.HLC
	}
	var got []outcome
	for _, p := range s.Proposals() {
		got = append(got, outcome{p.Outcome, p.Eligible, p.Yes, p.No, p.Abstain, p.Decided})
	}
	want := []outcome{
		{federation.OutcomeAdopted, 3, 2, 0, 0, sc.decided[0].Time()},
		{federation.OutcomeRejected, 4, 1, 2, 0, sc.decided[1].Time()},
		{federation.OutcomeAdopted, 4, 2, 0, 0, sc.decided[2].Time()},
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Proposals (-want +got):\n%s", diff)
	}
	status := map[ledger.Author]federation.Status{}
	for _, m := range s.Members() {
		status[m.Key] = m.Status
	}
	wantStatus := map[ledger.Author]federation.Status{F.id: federation.StatusActive, A.id: federation.StatusActive,
		B.id: federation.StatusExcluded, X.id: federation.StatusActive}
	if diff := gocmp.Diff(wantStatus, status); diff != "" {
		t.Errorf("Members' status (-want +got):\n%s", diff)
	}
	if m, _ := s.Member(X.id); m.Since != sc.decided[0].Time() || !m.Final {
		t.Errorf("Member(X): since %v, final %v", m.Since, m.Final)
	}
	if ap := s.Applicants(); len(ap) != 1 || ap[0].Key != Y.id {
		t.Errorf("Applicants() = %v, want Y", ap)
	}
	var forked []ledger.Author
	for _, fk := range s.Forks() {
		forked = append(forked, fk.Author)
	}
	wantForked := []ledger.Author{A.id, B.id}
	slices.SortFunc(wantForked, compareAuthor)
	if diff := gocmp.Diff(wantForked, forked); diff != "" {
		t.Errorf("Forks' authors (-want +got):\n%s", diff)
	}
}

func compareAuthor(a, b ledger.Author) int { return bytes.Compare(a[:], b[:]) }

// TestHashSeesGovernance leaves out one governance entry at a time (an
// application, a proposal, a vote), with the entries after it in its
// author's log and what then waits for ever: the Hash and the proposals
// change.
func TestHashSeesGovernance(t *testing.T) {
	sc := newGovScenario(t, 99)
	events := sc.interleave(0)
	full := sc.run(t, events).s
	seen := map[ledger.Hash]string{full.Hash(): "all entries"}
	inProof := map[ledger.Hash]bool{}
	for _, ev := range events {
		inProof[ev.proof[0].Hash()], inProof[ev.proof[1].Hash()] = true, true
	}
	for _, ev := range events {
		if ev.e.IsZero() || inProof[ev.e.Hash()] {
			continue // a fork takes it out anyway
		}
		switch ev.e.Kind() {
		case "application", "proposal", "vote":
		default:
			continue
		}
		missing := ev.e
		var kept []event
		for _, o := range events {
			if !o.e.IsZero() && o.e.Author() == missing.Author() && o.e.Seq() >= missing.Seq() {
				continue
			}
			kept = append(kept, o)
		}
		n := &simNode{s: federation.New()}
		for _, o := range kept {
			n.receive(t, o)
		}
		h := n.s.Hash()
		name := "without " + missing.String()
		if other, ok := seen[h]; ok {
			t.Errorf("%s: same Hash as %s", name, other)
		}
		seen[h] = name
	}
	if len(seen) < 10 {
		t.Errorf("only %d governance entries left out", len(seen)-1)
	}
}

// randomGovernance signs, from seed, n entries by three charter members
// and three applicants: money, applications, proposals to admit or
// exclude anyone, votes of any choice on any proposal. Applicants write
// whether or not they are admitted, and members after their exclusion.
// It returns the logs, each in chain order.
func randomGovernance(tb testing.TB, seed uint64, n int) (*fixture, [][]event) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 11))
	f := newFixture(tb, 2)
	f.shareClock()
	ws := append(f.writers(), f.applicant(50, "Caisse X"), f.applicant(60, "Caisse Y"), f.applicant(70, "Caisse Z"))
	logs := make([][]ledger.Entry, len(ws))
	var proposals []ledger.Entry
	for range n {
		i := rng.IntN(3) // mostly the charter's members: they decide
		if rng.IntN(4) == 0 {
			i = 3 + rng.IntN(3)
		}
		w := ws[i]
		var k kindFn
		switch r := rng.IntN(10); {
		case i >= 3 && w.seq == 0:
			k = application(w.name)
		case r < 3:
			k = contrib(ledger.Amount(1+rng.IntN(1000)), "2026-01", dues)
		case r < 4 && rng.IntN(2) == 0 && i < 3: // an applicant's proposal would hold the votes on it
			// Keys that applied: a proposal about another one waits for
			// its application, and the proposer's log behind it.
			target := ws[rng.IntN(len(ws))]
			switch {
			case target.seq == 0 && target.clock != nil && slices.Index(ws, target) >= 3:
				k = contrib(1, "2026-01", dues)
			case slices.Index(ws, target) < 3 || rng.IntN(3) == 0:
				k = exclude(target.id)
			default:
				k = admit(target.id) // the charter's members would be refused
			}
		case len(proposals) > 0:
			// Mostly on one of the last two proposals, mostly yes, so
			// that decisions happen.
			p := proposals[max(0, len(proposals)-1-rng.IntN(2))]
			if rng.IntN(4) == 0 {
				p = proposals[rng.IntN(len(proposals))]
			}
			k = vote(p, []caissev1.Choice{yes, yes, yes, no, abstain}[rng.IntN(5)])
		default:
			k = disburse(ledger.Amount(1+rng.IntN(1000)), "2026-01", strike)
		}
		e := w.next(tb, k)
		if e.Kind() == "proposal" {
			proposals = append(proposals, e)
		}
		logs[i] = append(logs[i], e)
	}
	var streams [][]event
	for _, l := range logs {
		var st []event
		for _, e := range l {
			st = append(st, event{e: e})
		}
		streams = append(streams, st)
	}
	return f, streams
}

// TestOrderIndependenceRandomGovernance applies random governance in many
// orders, as sync would: whatever is applied or left waiting, the State
// and the entries left waiting are the same in every order.
func TestOrderIndependenceRandomGovernance(t *testing.T) {
	seeds, runs := 12, 25
	if testing.Short() {
		seeds, runs = 8, 8 // fewer orders, but seeds enough to decide each way
	}
	var admitted, excluded, rejected int
	for seed := range uint64(seeds) {
		f, streams := randomGovernance(t, seed, 90)
		sc := &govScenario{seed: seed, f: f, streams: streams}
		var want snapshot
		var wantHeld []ledger.Hash
		for run := range uint64(runs) {
			n := &simNode{s: federation.New()}
			for _, ev := range sc.interleave(run) {
				n.receive(t, ev)
			}
			var held []ledger.Hash
			for _, e := range n.held {
				held = append(held, e.Hash())
			}
			slices.SortFunc(held, func(a, b ledger.Hash) int { return bytes.Compare(a[:], b[:]) })
			got := snap(n.s)
			if run == 0 {
				want, wantHeld = got, held
				for _, p := range got.Proposals {
					switch {
					case p.Outcome == federation.OutcomeAdopted && p.Action == federation.ActionAdmit:
						admitted++
					case p.Outcome == federation.OutcomeAdopted:
						excluded++
					case p.Outcome == federation.OutcomeRejected:
						rejected++
					}
				}
				continue
			}
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Fatalf("seed %d run %d: State differs from run 0's (-run 0 +this run):\n%s", seed, run, diff)
			}
			if diff := gocmp.Diff(wantHeld, held); diff != "" {
				t.Fatalf("seed %d run %d: entries left waiting differ from run 0's (-run 0 +this run):\n%s", seed, run, diff)
			}
		}
	}
	t.Logf("%d seeds: %d admissions, %d exclusions, %d rejections", seeds, admitted, excluded, rejected)
	if admitted == 0 || excluded == 0 || rejected == 0 {
		t.Errorf("%d admissions, %d exclusions, %d rejections: the scenarios do not decide enough", admitted, excluded, rejected)
	}
}

// TestHashSeesGovernanceFields changes one field of the governance at a
// time, behind the entries' back (federation.HashTweaks): the Hash must
// change with each.
func TestHashSeesGovernanceFields(t *testing.T) {
	sc := newGovScenario(t, 5)
	events := sc.interleave(0)
	want := sc.run(t, events).s.Hash()
	for name, tweak := range federation.HashTweaks {
		s := sc.run(t, events).s
		if !tweak(s) {
			t.Errorf("%s: nothing to change in the scenario", name)
			continue
		}
		if s.Hash() == want {
			t.Errorf("%s changed, the Hash did not", name)
		}
	}
}

// TestCheckDoesNotMutateGovernance runs Check and CheckFork, twice, before
// each event of the governance scenario, and compares everything the
// State shows.
func TestCheckDoesNotMutateGovernance(t *testing.T) {
	sc := newGovScenario(t, 3)
	n := &simNode{s: federation.New()}
	for _, ev := range sc.interleave(4) {
		before := snap(n.s)
		for range 2 {
			if ev.e.IsZero() {
				_ = n.s.CheckFork(ev.proof[0], ev.proof[1])
			} else {
				_ = n.s.Check(ev.e)
			}
		}
		if diff := gocmp.Diff(before, snap(n.s)); diff != "" {
			t.Fatalf("Check changed the State (-before +after):\n%s", diff)
		}
		n.receive(t, ev)
	}
	checkGovScenario(t, sc, n.s)
}
