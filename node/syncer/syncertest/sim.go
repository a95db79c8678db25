package syncertest

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/node/syncer"
)

// Options configure one simulation. Everything left zero is drawn from
// Seed, so that a seed alone names a run.
type Options struct {
	// Seed drives everything: the federation's size, the syncers'
	// limits, the faults, who appends what and when, and every syncer's
	// Rand.
	Seed uint64
	// Nodes is the number of nodes, at least 2; 0 draws 3 to 6.
	Nodes int
	// Ticks is the length of the chaotic phase; 0 draws 100 to 300.
	Ticks int
	// HealTicks bounds the healing phase; 0 is 4000.
	HealTicks int
	// Faults, if set, replaces the faults drawn from the seed.
	Faults *Faults

	// LoseAcked breaks the store of one node after healing: it loses an
	// acknowledged entry, and the check must say so.
	LoseAcked bool
	// NeverPull makes every node ignore Ready.Pulls: only pushes carry
	// entries, and after faults the check must find the nodes apart.
	NeverPull bool
	// SkipApplyFork makes every node keep the fork proofs in its store
	// without applying them to its live federation state: after a fork,
	// the check must find the live states apart from their replays.
	SkipApplyFork bool

	// Logf, if set, receives a trace of the run.
	Logf func(format string, args ...any)
}

// Faults are the probabilities of what goes wrong. Per message: Drop, Dup
// (delivered twice), Forge (a byte of an entry it carries flipped). Per
// tick: Partition (split the nodes in two), Heal, Crash (a node loses its
// syncer and everything not in its store), Restart, Restore (a node
// restarts from an old backup of its store), Outsider (a non-member's
// signed entry is pushed to a node). Equivocate is the probability that a
// restored node appends over the entries of its own log it lost, without
// waiting for its peers: a fork. Pending, per save, makes the federation
// answer "pending" (an error wrapping federation.ErrPending) to an entry
// its state accepts. Append is, per node and tick, the probability of an
// append. MaxDelay bounds the delivery delay in ticks (at least 1):
// messages of different delays arrive out of order.
type Faults struct {
	Drop, Dup, Forge                         float64
	Partition, Heal, Crash, Restart, Restore float64
	Outsider, Equivocate, Pending, Append    float64
	MaxDelay                                 int
}

// Result sums up a run.
type Result struct {
	Seed       uint64
	Nodes      int
	Ticks      int // chaotic phase
	HealedIn   int // ticks of the healing phase until converged
	Appended   int // entries appended, equivocations included
	Acked      int // acknowledged entries that had to survive
	Lost       int // acknowledged entries lost with a restored store and held nowhere else
	Forks      int // authors whose log forked
	Messages   int
	Dropped    int
	Duplicated int
	Forged     int // entries and proofs whose bytes were flipped
	Refused    int // undecodable entries and proofs refused by receivers
	Outsiders  int // non-members' entries pushed
	Crashes    int
	Restores   int
	Syncers    syncer.Counters // summed over the syncers of the last life of each node
}

func (r Result) String() string {
	return fmt.Sprintf("seed %d: %d nodes, %d+%d ticks, %d appended, %d acked, %d lost to restores, %d forks, "+
		"%d messages (%d dropped, %d duplicated, %d forged, %d refused), %d outsiders, %d crashes, %d restores",
		r.Seed, r.Nodes, r.Ticks, r.HealedIn, r.Appended, r.Acked, r.Lost, r.Forks,
		r.Messages, r.Dropped, r.Duplicated, r.Forged, r.Refused, r.Outsiders, r.Crashes, r.Restores)
}

// Replay is the command that replays seed, printed with every failure.
func Replay(seed uint64) string {
	return fmt.Sprintf("go test ./node/syncer/syncertest -run 'TestSim$' -seed=%d -v", seed)
}

// world is one simulation.
type world struct {
	tb       testing.TB
	o        Options
	f        Faults
	healing  bool
	rnd      *rand.Rand
	now      uint64
	maxDelay int
	cfg      syncer.Config // template of the syncers' configs, Self and Rand unset

	nodes   []*node
	genesis ledger.Entry
	fed     ledger.Hash
	net     queue

	part     []int                        // partition side of each node; nil when whole
	genuine  map[ledger.Hash]bool         // every entry a member signed
	acked    map[ledger.Hash]ledger.Entry // entries acknowledged by their author's node
	verified map[string]ledger.Entry      // see decode
	outsider *ledgertest.Author
	outSeq   ledger.Seq
	res      Result
	err      error // the first broken expectation of the driving code
}

// Run runs one simulation and checks the invariants of DESIGN.md at the
// end. The error, if any, names the seed and the command that replays it.
// tb is for the ledgertest helpers, which fail it on misuse.
func Run(tb testing.TB, o Options) (Result, error) {
	tb.Helper()
	w := newWorld(tb, o)
	w.logf("start: %d nodes, faults %+v", len(w.nodes), w.f)
	for range w.o.Ticks {
		w.tick()
		if w.err != nil {
			return w.res, w.fail(w.err)
		}
	}
	w.heal()
	if w.err != nil {
		return w.res, w.fail(w.err)
	}
	if o.LoseAcked {
		w.loseAcked()
	}
	for _, n := range w.nodes {
		if n.sy != nil {
			c := n.sy.Status().Counters
			addCounters(&w.res.Syncers, c)
		}
	}
	if err := w.check(); err != nil {
		return w.res, w.fail(err)
	}
	return w.res, nil
}

func (w *world) fail(err error) error {
	w.dump()
	return fmt.Errorf("syncertest: seed %d: %w\n%s\nreplay: %s", w.o.Seed, err, w.res, Replay(w.o.Seed))
}

// dump traces every node's syncer, to replay a failure with.
func (w *world) dump() {
	if w.o.Logf == nil {
		return
	}
	for _, n := range w.nodes {
		if n.sy == nil {
			w.logf("%s is down", n.id)
			continue
		}
		st := n.sy.Status()
		w.logf("%s: append: %v; self %+v; forks %v; gaps %v; parked %v; pulls %v", n.id, n.sy.CheckAppend(),
			st.Self, st.Forks, st.Gaps, st.Parked, st.Pulls)
		for _, p := range st.Peers {
			w.logf("%s: peer %s up=%v lag=%d ahead=%d synced=%v last=%d failures=%d refused=%v known=%v",
				n.id, p.Peer, p.Up, p.Lag, p.Ahead, p.Synced, p.LastSync, p.Failures, p.Refused, p.Known)
		}
		w.logf("%s: counters %+v", n.id, st.Counters)
	}
}

func (w *world) logf(format string, args ...any) {
	if w.o.Logf != nil {
		w.o.Logf("t=%d "+format, append([]any{w.now}, args...)...)
	}
}

// failf records the first broken expectation of the driving code.
func (w *world) failf(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf("t=%d: "+format, append([]any{w.now}, args...)...)
	}
}

func newWorld(tb testing.TB, o Options) *world {
	tb.Helper()
	w := &world{
		tb:       tb,
		o:        o,
		rnd:      rand.New(rand.NewPCG(o.Seed, 0x5ca1ab1e)),
		genuine:  make(map[ledger.Hash]bool),
		acked:    make(map[ledger.Hash]ledger.Entry),
		verified: make(map[string]ledger.Entry),
	}
	r := w.rnd
	if w.o.Nodes == 0 {
		w.o.Nodes = 3 + r.IntN(4)
	}
	if w.o.Nodes < 2 {
		tb.Fatalf("syncertest: %d nodes: a federation to sync needs two", w.o.Nodes)
	}
	if w.o.Ticks == 0 {
		w.o.Ticks = 100 + r.IntN(201)
	}
	if w.o.HealTicks == 0 {
		w.o.HealTicks = 4000
	}
	if o.Faults != nil {
		w.f = *o.Faults
	} else {
		w.f = drawFaults(r)
	}
	w.maxDelay = max(1, w.f.MaxDelay)
	w.cfg = syncer.Config{
		AntiEntropyTicks: 8 + r.IntN(16),
		PullTimeoutTicks: 4*w.maxDelay + 2,
		RetryTicks:       1 + r.IntN(8),
		BufferTicks:      40 + r.IntN(100),
		ForkRecheckTicks: 100,
		MaxBuffered:      4 + r.IntN(60),
		MaxPullEntries:   1 + r.IntN(16),
		MaxInflightPulls: 1 + r.IntN(8),
		MaxPushEntries:   2 + r.IntN(30),
		MaxChecks:        2 + r.IntN(30),
		MaxParked:        1 + r.IntN(8),
		MaxMsgEntries:    64,
	}
	w.res = Result{Seed: o.Seed, Nodes: w.o.Nodes, Ticks: w.o.Ticks}

	authors := make([]*ledgertest.Author, w.o.Nodes)
	for i := range authors {
		authors[i] = ledgertest.NewAuthor(tb, byte(i+1))
	}
	w.genesis = authors[0].Genesis(tb, fmt.Sprintf("sim %d", o.Seed), authors[1:]...)
	w.fed = w.genesis.Hash()
	w.genuine[w.fed] = true
	w.acked[w.fed] = w.genesis
	w.outsider = ledgertest.NewAuthor(tb, 200)
	for i, a := range authors {
		n := newNode(w, i, a)
		w.nodes = append(w.nodes, n)
	}
	for _, n := range w.nodes {
		n.start()
	}
	for i := range w.nodes {
		w.refresh(i)
	}
	return w
}

// drawFaults draws a fault profile: one seed in eight runs without faults,
// the others with each fault at a rate of its own.
func drawFaults(r *rand.Rand) Faults {
	f := Faults{Append: 0.02 + 0.1*r.Float64(), MaxDelay: 1 + r.IntN(6)}
	if r.IntN(8) == 0 {
		return f
	}
	f.Drop = 0.3 * r.Float64()
	f.Dup = 0.1 * r.Float64()
	f.Forge = 0.05 * r.Float64()
	f.Partition = 0.02 * r.Float64()
	f.Heal = 0.02 + 0.08*r.Float64()
	f.Crash = 0.02 * r.Float64()
	f.Restart = 0.02 + 0.08*r.Float64()
	f.Restore = 0.006 * r.Float64()
	f.Equivocate = r.Float64()
	f.Outsider = 0.01 * r.Float64()
	f.Pending = 0.2 * r.Float64()
	return f
}

// faults returns the faults in force: none but delays and pending answers
// while healing.
func (w *world) faults() Faults {
	if !w.healing {
		return w.f
	}
	return Faults{Pending: w.f.Pending, MaxDelay: w.f.MaxDelay}
}

// connected says whether a message from one node reaches another now.
func (w *world) connected(from, to int) bool {
	if !w.nodes[to].up || (w.part != nil && w.part[from] != w.part[to]) {
		return false
	}
	return true
}

// tick is one tick of the chaotic phase: faults, appends, deliveries, and
// a tick of every syncer.
func (w *world) tick() {
	w.now++
	f := w.f
	r := w.rnd
	switch {
	case w.part == nil && r.Float64() < f.Partition:
		w.partition()
	case w.part != nil && r.Float64() < f.Heal:
		w.logf("heal")
		w.part = nil
		w.refreshAll()
	}
	if r.Float64() < f.Crash {
		if n := w.pick(func(n *node) bool { return n.up }); n != nil && w.upCount() > 1 {
			n.crash()
			w.refreshAll()
		}
	}
	if r.Float64() < f.Restart {
		if n := w.pick(func(n *node) bool { return !n.up }); n != nil {
			n.start()
			w.refreshAll()
		}
	}
	if r.Float64() < f.Restore {
		if n := w.pick(func(*node) bool { return true }); n != nil {
			n.restore(r.Float64() < f.Equivocate)
			w.refreshAll()
		}
	}
	if r.Float64() < f.Outsider {
		w.pushOutsider()
	}
	for _, n := range w.nodes {
		if n.up && r.Float64() < f.Append {
			n.append(false)
		}
	}
	w.step()
}

// step delivers what is due and ticks every syncer.
func (w *world) step() {
	for len(w.net) > 0 && w.net[0].at <= w.now {
		env := heap.Pop(&w.net).(*envelope)
		n := w.nodes[env.to]
		if _, ok := env.body.(membership); ok {
			n.refresh()
			continue
		}
		if !w.connected(env.from, env.to) {
			w.res.Dropped++
			continue
		}
		n.receive(env.from, env.body)
	}
	for _, n := range w.nodes {
		if n.up {
			n.tick()
		}
	}
}

func (w *world) pick(ok func(*node) bool) *node {
	var c []*node
	for _, n := range w.nodes {
		if ok(n) {
			c = append(c, n)
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[w.rnd.IntN(len(c))]
}

func (w *world) upCount() int {
	c := 0
	for _, n := range w.nodes {
		if n.up {
			c++
		}
	}
	return c
}

func (w *world) partition() {
	w.part = make([]int, len(w.nodes))
	for i := range w.part {
		w.part[i] = w.rnd.IntN(2)
	}
	w.part[0], w.part[1+w.rnd.IntN(len(w.nodes)-1)] = 0, 1 // two sides, never one
	w.logf("partition %v", w.part)
	w.refreshAll()
}

// refreshAll makes every node's memberlist notice the change, each after a
// delay of its own, as failure detection takes.
func (w *world) refreshAll() {
	for i := range w.nodes {
		w.refresh(i)
	}
}

func (w *world) refresh(i int) {
	w.post(i, i, 1+uint64(w.rnd.IntN(2*w.maxDelay)), membership{})
}

// pushOutsider has a node push the signed entry of a non-member: a valid
// signature, a valid chain, and no right to be stored.
func (w *world) pushOutsider() {
	from, to := w.rnd.IntN(len(w.nodes)), w.rnd.IntN(len(w.nodes))
	if from == to || !w.nodes[from].up {
		return
	}
	e := w.outsider.Contribution(w.tb, w.fed, 100, ledgertest.Period)
	w.res.Outsiders++
	w.send(from, to, push{raws: [][]byte{e.Marshal()}})
}

// heal ends the faults, heals the partition, restarts the crashed nodes,
// and runs until the nodes agree, or HealTicks.
func (w *world) heal() {
	w.healing = true
	w.part = nil
	for _, n := range w.nodes {
		if !n.up {
			n.start()
		}
	}
	w.refreshAll()
	w.logf("healing")
	start := w.now
	for w.now-start < uint64(w.o.HealTicks) {
		w.now++
		w.step()
		if w.err != nil {
			return
		}
		if (w.now-start)%4 == 0 && w.converged() {
			break
		}
	}
	w.res.HealedIn = int(w.now - start)
	w.logf("healed in %d ticks", w.res.HealedIn)
}

// loseAcked breaks one node's store: it loses the last acknowledged entry
// of an unforked author, as a store that acknowledged before it was
// durable would.
func (w *world) loseAcked() {
	n := w.nodes[w.rnd.IntN(len(w.nodes))]
	forks := n.forkPoints()
	v, err := n.store.Vector()
	if err != nil {
		w.failf("%s: vector: %v", n.id, err)
		return
	}
	for _, a := range v.Authors() {
		if _, forked := forks[a]; forked || v[a].Seq < 2 {
			continue
		}
		if e, err := n.store.Get(a, v[a].Seq); err == nil && w.acked[e.Hash()].Hash() == e.Hash() {
			w.logf("%s loses %s", n.id, e)
			n.replaceStore(func(x ledger.Entry) bool { return x.Author() != a || x.Seq() < e.Seq() })
			return
		}
	}
}

func addCounters(sum *syncer.Counters, c syncer.Counters) {
	sum.Saved += c.Saved
	sum.Appended += c.Appended
	sum.Duplicates += c.Duplicates
	sum.Checks += c.Checks
	sum.Proofs += c.Proofs
	sum.Forks += c.Forks
	sum.BadPrev += c.BadPrev
	sum.Invalid += c.Invalid
	sum.Frozen += c.Frozen
	sum.Pending += c.Pending
	sum.Retries += c.Retries
	sum.Refused += c.Refused
	sum.RefusedEntries += c.RefusedEntries
	sum.Discarded += c.Discarded
	sum.Pulls += c.Pulls
	sum.Probes += c.Probes
	sum.PullTimeouts += c.PullTimeouts
	sum.PullFailures += c.PullFailures
	sum.EmptyPulls += c.EmptyPulls
	sum.StalePulls += c.StalePulls
	sum.Exchanges += c.Exchanges
	sum.ExchangeFailures += c.ExchangeFailures
	sum.ForkFetches += c.ForkFetches
	sum.Unreported += c.Unreported
	sum.Dropped.Buffer += c.Dropped.Buffer
	sum.Dropped.Parked += c.Dropped.Parked
	sum.Dropped.Push += c.Dropped.Push
	sum.Dropped.Check += c.Dropped.Check
	sum.Dropped.Probe += c.Dropped.Probe
	sum.Dropped.Expired += c.Dropped.Expired
}
