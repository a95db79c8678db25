package ledgertest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
)

// Store runs the ledger.Store conformance suite. open must return a new,
// empty store each time it is called; the suite closes every store it
// opens (a cleanup that open registers runs after that).
//
// Run it with -race: one subtest appends from several goroutines at once.
func Store(t *testing.T, open func(t testing.TB) ledger.Store) {
	s := suite{open: open}
	for _, tc := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"Empty", s.testEmpty},
		{"AppendOne", s.testAppendOne},
		{"AppendOneByOne", s.testAppendOneByOne},
		{"AppendBatch", s.testAppendBatch},
		{"AppendNothing", s.testAppendNothing},
		{"BatchInterleaved", s.testBatchInterleaved},
		{"ScanFrom", s.testScanFrom},
		{"ScanStops", s.testScanStops},
		{"ScanCallsStore", s.testScanCallsStore},
		{"VectorIsACopy", s.testVectorIsACopy},
		{"Gap", s.testGap},
		{"BadPrev", s.testBadPrev},
		{"ClockRegressed", s.testClockRegressed},
		{"Duplicate", s.testDuplicate},
		{"Fork", s.testFork},
		{"ZeroEntry", s.testZeroEntry},
		{"Atomic", s.testAtomic},
		{"MaxTime", s.testMaxTime},
		{"Close", s.testClose},
		{"Concurrent", s.testConcurrent},
		{"ForkProofs", s.testForkProofs},
	} {
		t.Run(tc.name, tc.run)
	}
}

type suite struct {
	open func(t testing.TB) ledger.Store
}

// store opens a new store and closes it when the test ends.
func (s suite) store(t *testing.T) ledger.Store {
	t.Helper()
	st := s.open(t)
	t.Cleanup(func() {
		if err := st.Close(); err != nil && !errors.Is(err, ledger.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// entryView is what the suite compares of an entry: everything it is made
// of, and what its parsed body says.
type entryView struct {
	Author    string
	Seq       ledger.Seq
	Hash      ledger.Hash
	Prev      ledger.Hash
	Time      ledger.HLC
	Kind      string
	Body, Sig []byte
}

func view(e ledger.Entry) entryView {
	if e.IsZero() {
		return entryView{Kind: "zero entry"}
	}
	return entryView{
		Author: e.Author().Short(), Seq: e.Seq(), Hash: e.Hash(), Prev: e.Prev(), Time: e.Time(),
		Kind: e.Kind(), Body: e.BodyBytes(), Sig: e.Signature(),
	}
}

func views(es []ledger.Entry) []entryView {
	vs := make([]entryView, len(es))
	for i, e := range es {
		vs[i] = view(e)
	}
	return vs
}

// fixture is a federation of three authors: a signs the charter.
type fixture struct {
	a, b, c *Author
	fed     ledger.Hash
	genesis ledger.Entry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{a: NewAuthor(t, 1), b: NewAuthor(t, 2), c: NewAuthor(t, 3)}
	f.genesis = f.a.Genesis(t, "fédération test", f.b, f.c)
	f.fed = f.genesis.Hash()
	return f
}

// contributions signs n contributions by author x.
func (f *fixture) contributions(t *testing.T, x *Author, n int) []ledger.Entry {
	t.Helper()
	es := make([]ledger.Entry, n)
	for i := range es {
		es[i] = x.Contribution(t, f.fed, ledger.Amount(100*(i+1)), Period)
	}
	return es
}

func mustAppend(t *testing.T, s ledger.Store, es ...ledger.Entry) {
	t.Helper()
	if err := s.Append(es...); err != nil {
		t.Fatalf("Append(%d entries): %v", len(es), err)
	}
}

// scan returns the author's entries from seq from on.
func scan(t *testing.T, s ledger.Store, a ledger.Author, from ledger.Seq) []ledger.Entry {
	t.Helper()
	var got []ledger.Entry
	if err := s.Scan(a, from, func(e ledger.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatalf("Scan(%s, %d): %v", a.Short(), from, err)
	}
	return got
}

func scanAll(t *testing.T, s ledger.Store) []ledger.Entry {
	t.Helper()
	var got []ledger.Entry
	if err := s.ScanAll(func(e ledger.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatalf("ScanAll: %v", err)
	}
	return got
}

// sortedLogs returns the entries as ScanAll must give them: author by
// author in byte order, each log in seq order.
func sortedLogs(es []ledger.Entry) []ledger.Entry {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(x, y ledger.Entry) int {
		xa, ya := x.Author(), y.Author()
		if c := bytes.Compare(xa[:], ya[:]); c != 0 {
			return c
		}
		return int(x.Seq()) - int(y.Seq())
	})
	return out
}

// state is everything a store shows, to check that a failed call changed
// nothing.
type state struct {
	Count   uint64
	MaxTime ledger.HLC
	Vector  ledger.Vector
	Entries []entryView
}

func stateOf(t *testing.T, s ledger.Store) state {
	t.Helper()
	var st state
	var err error
	if st.Count, err = s.Count(); err != nil {
		t.Fatalf("Count: %v", err)
	}
	if st.MaxTime, err = s.MaxTime(); err != nil {
		t.Fatalf("MaxTime: %v", err)
	}
	if st.Vector, err = s.Vector(); err != nil {
		t.Fatalf("Vector: %v", err)
	}
	st.Entries = views(scanAll(t, s))
	return st
}

// wantState is the state of a store holding exactly es.
func wantState(es ...ledger.Entry) state {
	st := state{Count: uint64(len(es)), Vector: ledger.Vector{}, Entries: views(sortedLogs(es))}
	for _, e := range es {
		if st.MaxTime.Before(e.Time()) {
			st.MaxTime = e.Time()
		}
		if h, ok := st.Vector[e.Author()]; !ok || h.Seq < e.Seq() {
			st.Vector[e.Author()] = e.Head()
		}
	}
	return st
}

func checkState(t *testing.T, s ledger.Store, want state) {
	t.Helper()
	if diff := cmp.Diff(want, stateOf(t, s)); diff != "" {
		t.Errorf("store state (-want +got):\n%s", diff)
	}
}

// checkEntries checks that Get and Head give back exactly es, and that Get
// past the head is ErrNotFound.
func checkEntries(t *testing.T, s ledger.Store, es ...ledger.Entry) {
	t.Helper()
	heads := map[ledger.Author]ledger.Head{}
	for _, want := range es {
		got, err := s.Get(want.Author(), want.Seq())
		if err != nil {
			t.Errorf("Get(%s/%d): %v", want.Author().Short(), want.Seq(), err)
			continue
		}
		if diff := cmp.Diff(view(want), view(got)); diff != "" {
			t.Errorf("Get(%s/%d) (-want +got):\n%s", want.Author().Short(), want.Seq(), diff)
		}
		if got.Verify() != nil {
			t.Errorf("Get(%s/%d): entry does not verify: %v", want.Author().Short(), want.Seq(), got.Verify())
		}
		if h, ok := heads[want.Author()]; !ok || h.Seq < want.Seq() {
			heads[want.Author()] = want.Head()
		}
	}
	for a, want := range heads {
		got, err := s.Head(a)
		if err != nil {
			t.Errorf("Head(%s): %v", a.Short(), err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Head(%s) (-want +got):\n%s", a.Short(), diff)
		}
		if _, err := s.Get(a, want.Seq+1); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("Get(%s/%d) past the head: error %v, want ErrNotFound", a.Short(), want.Seq+1, err)
		}
	}
}

func (s suite) testEmpty(t *testing.T) {
	st := s.store(t)
	a := NewAuthor(t, 1)
	if _, err := st.Head(a.ID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Head: error %v, want ErrNotFound", err)
	}
	for _, seq := range []ledger.Seq{0, 1, 2} {
		if e, err := st.Get(a.ID, seq); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("Get(%d) = %v, %v; want ErrNotFound", seq, e, err)
		}
	}
	if got := scan(t, st, a.ID, 1); len(got) != 0 {
		t.Errorf("Scan gave %d entries, want none", len(got))
	}
	checkState(t, st, wantState())
	if v, err := st.Vector(); err != nil || v == nil {
		t.Errorf("Vector() = %v, %v; want an empty, non-nil vector", v, err)
	}
}

func (s suite) testAppendOne(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	mustAppend(t, st, f.genesis)
	checkEntries(t, st, f.genesis)
	checkState(t, st, wantState(f.genesis))
	if _, err := st.Head(f.b.ID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Head of another author: error %v, want ErrNotFound", err)
	}
	if _, err := st.Get(f.b.ID, 1); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Get of another author: error %v, want ErrNotFound", err)
	}
}

func (s suite) testAppendOneByOne(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	es := append([]ledger.Entry{f.genesis}, f.contributions(t, f.a, 29)...)
	for i, e := range es {
		mustAppend(t, st, e)
		if h, err := st.Head(f.a.ID); err != nil || h != e.Head() {
			t.Fatalf("after %d appends: Head() = %v, %v; want %v", i+1, h, err, e.Head())
		}
		if n, err := st.Count(); err != nil || n != uint64(i+1) {
			t.Fatalf("after %d appends: Count() = %d, %v", i+1, n, err)
		}
	}
	checkEntries(t, st, es...)
	checkState(t, st, wantState(es...))
	if diff := cmp.Diff(views(es), views(scan(t, st, f.a.ID, 1))); diff != "" {
		t.Errorf("Scan (-want +got):\n%s", diff)
	}
}

func (s suite) testAppendBatch(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	es := []ledger.Entry{f.genesis}
	es = append(es, f.contributions(t, f.a, 4)...)
	es = append(es, f.a.Disbursement(t, f.fed, 250, Period))
	es = append(es, f.a.Correction(t, f.fed, es[2], "saisie en double"))
	es = append(es, f.contributions(t, f.a, 3)...)
	mustAppend(t, st, es...)
	checkEntries(t, st, es...)
	checkState(t, st, wantState(es...))
	// The log goes on from the batch's last entry.
	more := f.contributions(t, f.a, 2)
	mustAppend(t, st, more...)
	checkState(t, st, wantState(append(es, more...)...))
}

func (s suite) testAppendNothing(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	if err := st.Append(); err != nil {
		t.Errorf("Append() on an empty store: %v", err)
	}
	mustAppend(t, st, f.genesis)
	if err := st.Append(); err != nil {
		t.Errorf("Append(): %v", err)
	}
	checkState(t, st, wantState(f.genesis))
}

func (s suite) testBatchInterleaved(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	es := []ledger.Entry{f.genesis}
	for range 4 {
		for _, x := range []*Author{f.c, f.a, f.b} {
			es = append(es, x.Contribution(t, f.fed, 500, Period))
		}
	}
	mustAppend(t, st, es...)
	checkEntries(t, st, es...)
	checkState(t, st, wantState(es...))
	want := ledger.Vector{f.a.ID: *f.a.Head(), f.b.ID: *f.b.Head(), f.c.ID: *f.c.Head()}
	if v, err := st.Vector(); err != nil {
		t.Errorf("Vector: %v", err)
	} else if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("Vector (-want +got):\n%s", diff)
	}
	// ScanAll goes author by author in byte order, whatever the order of
	// appends.
	var order []ledger.Author
	for _, e := range scanAll(t, st) {
		if len(order) == 0 || order[len(order)-1] != e.Author() {
			order = append(order, e.Author())
		}
	}
	wantOrder := want.Authors()
	if diff := cmp.Diff(wantOrder, order); diff != "" {
		t.Errorf("ScanAll author order (-want +got):\n%s", diff)
	}
	for _, x := range []*Author{f.a, f.b, f.c} {
		if diff := cmp.Diff(views(x.Entries()), views(scan(t, st, x.ID, 1))); diff != "" {
			t.Errorf("Scan(%s) (-want +got):\n%s", x.Name, diff)
		}
	}
}

func (s suite) testScanFrom(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	es := append([]ledger.Entry{f.genesis}, f.contributions(t, f.a, 9)...)
	mustAppend(t, st, es...)
	mustAppend(t, st, f.contributions(t, f.b, 3)...)
	for _, tc := range []struct {
		name string
		from ledger.Seq
		want []ledger.Entry
	}{
		{"from 0", 0, es},
		{"from 1", 1, es},
		{"from the middle", 4, es[3:]},
		{"from the head", 10, es[9:]},
		{"past the head", 11, nil},
		{"far past the head", 1 << 40, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(views(tc.want), views(scan(t, st, f.a.ID, tc.from))); diff != "" {
				t.Errorf("Scan from %d (-want +got):\n%s", tc.from, diff)
			}
		})
	}
	if got := scan(t, st, f.c.ID, 1); len(got) != 0 {
		t.Errorf("Scan of an author with no entry gave %d entries", len(got))
	}
}

func (s suite) testScanStops(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	mustAppend(t, st, f.genesis)
	mustAppend(t, st, f.contributions(t, f.a, 5)...)
	mustAppend(t, st, f.contributions(t, f.b, 5)...)
	stop := errors.New("stop here")
	for _, tc := range []struct {
		name string
		scan func(fn func(ledger.Entry) error) error
		want []ledger.Entry
	}{
		{"Scan", func(fn func(ledger.Entry) error) error { return st.Scan(f.a.ID, 2, fn) }, f.a.Entries()[1:4]},
		{"ScanAll", st.ScanAll, sortedLogs(append(f.a.Entries(), f.b.Entries()...))[:8]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []ledger.Entry
			err := tc.scan(func(e ledger.Entry) error {
				got = append(got, e)
				if len(got) == len(tc.want) {
					return stop
				}
				return nil
			})
			if err != stop {
				t.Errorf("error %v, want fn's error returned as is", err)
			}
			if diff := cmp.Diff(views(tc.want), views(got)); diff != "" {
				t.Errorf("entries seen (-want +got):\n%s", diff)
			}
		})
	}
}

// testScanCallsStore checks that fn may read the store during a scan.
func (s suite) testScanCallsStore(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	es := append([]ledger.Entry{f.genesis}, f.contributions(t, f.a, 3)...)
	mustAppend(t, st, es...)
	n := 0
	err := st.ScanAll(func(e ledger.Entry) error {
		n++
		got, err := st.Get(e.Author(), e.Seq())
		if err != nil {
			return fmt.Errorf("Get inside ScanAll: %w", err)
		}
		if got.Hash() != e.Hash() {
			return fmt.Errorf("Get inside ScanAll: got %v, want %v", got, e)
		}
		if _, err := st.Vector(); err != nil {
			return fmt.Errorf("Vector inside ScanAll: %w", err)
		}
		return nil
	})
	if err != nil || n != len(es) {
		t.Errorf("ScanAll saw %d entries of %d, error %v", n, len(es), err)
	}
}

func (s suite) testVectorIsACopy(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	mustAppend(t, st, f.genesis)
	v, err := st.Vector()
	if err != nil {
		t.Fatal(err)
	}
	delete(v, f.a.ID)
	v[f.b.ID] = ledger.Head{Seq: 7}
	checkState(t, st, wantState(f.genesis))
}

// refused appends bad to a store holding stored and checks it is refused
// with want, changing nothing.
func refused(t *testing.T, st ledger.Store, want error, stored []ledger.Entry, bad ...ledger.Entry) error {
	t.Helper()
	err := st.Append(bad...)
	if !errors.Is(err, want) {
		t.Errorf("Append: error %v, want %v", err, want)
	}
	checkState(t, st, wantState(stored...))
	return err
}

func (s suite) testGap(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	refused(t, st, ledger.ErrGap, nil, f.a.Gap(t, f.fed))
	mustAppend(t, st, f.genesis)
	refused(t, st, ledger.ErrGap, []ledger.Entry{f.genesis}, f.a.Gap(t, f.fed))
	// An entry further on, of a chain the store has not seen the middle of.
	later := f.contributions(t, f.a, 3)
	refused(t, st, ledger.ErrGap, []ledger.Entry{f.genesis}, later[2])
	refused(t, st, ledger.ErrGap, []ledger.Entry{f.genesis}, later[1:]...)
	mustAppend(t, st, later...)
	checkState(t, st, wantState(append([]ledger.Entry{f.genesis}, later...)...))
}

func (s suite) testBadPrev(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	stored := append([]ledger.Entry{f.genesis}, f.contributions(t, f.a, 2)...)
	mustAppend(t, st, stored...)
	for _, prev := range []ledger.Hash{stored[1].Hash(), {}, {0xee}} {
		bad := f.a.Peek(t, f.fed, func(b *caissev1.EntryBody) { b.Prev = bytes.Clone(prev[:]) })
		refused(t, st, ledger.ErrBadPrev, stored, bad)
	}
}

func (s suite) testClockRegressed(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	stored := append([]ledger.Entry{f.genesis}, f.contributions(t, f.a, 2)...)
	mustAppend(t, st, stored...)
	head := f.a.Head().Time
	for _, tc := range []struct {
		name string
		time ledger.HLC
	}{
		{"same time", head},
		{"earlier logical", ledger.HLC{Wall: head.Wall - 1, Logical: head.Logical + 9}},
		{"earlier wall", ledger.HLC{Wall: head.Wall - Step}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := f.a.Peek(t, f.fed, func(b *caissev1.EntryBody) { b.Time = tc.time.Proto() })
			refused(t, st, ledger.ErrClockRegressed, stored, bad)
		})
	}
	// One logical tick later is later.
	f.a.SetNow(ledger.HLC{Wall: head.Wall, Logical: head.Logical + 1})
	mustAppend(t, st, f.a.Contribution(t, f.fed, 1, Period))
}

func (s suite) testDuplicate(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	stored := append([]ledger.Entry{f.genesis}, f.contributions(t, f.a, 2)...)
	mustAppend(t, st, stored...)
	b1 := f.b.Contribution(t, f.fed, 100, Period)
	mustAppend(t, st, b1)
	stored = append(stored, b1)
	e4 := f.a.Contribution(t, f.fed, 100, Period)
	for _, tc := range []struct {
		name  string
		batch []ledger.Entry
	}{
		{"the head again", []ledger.Entry{stored[2]}},
		{"below the head", []ledger.Entry{stored[1]}},
		{"the genesis again", []ledger.Entry{f.genesis}},
		{"another author's head", []ledger.Entry{b1}},
		{"twice in one batch", []ledger.Entry{e4, e4}},
		{"stored, then new", []ledger.Entry{stored[2], e4}},
		{"new, then stored", []ledger.Entry{e4, stored[1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := refused(t, st, ledger.ErrDuplicate, stored, tc.batch...)
			if errors.Is(err, ledger.ErrFork) {
				t.Errorf("a duplicate is not a fork: %v", err)
			}
		})
	}
	mustAppend(t, st, e4)
}

func (s suite) testFork(t *testing.T) {
	f := newFixture(t)
	stored := append([]ledger.Entry{f.genesis}, f.contributions(t, f.a, 2)...)
	b1 := f.b.Contribution(t, f.fed, 100, Period)
	stored = append(stored, b1)
	a4 := f.a.Contribution(t, f.fed, 100, Period) // signed, not stored
	fork4 := f.a.Fork(t, f.fed, 4)
	for _, tc := range []struct {
		name     string
		batch    []ledger.Entry
		existing ledger.Entry
		incoming ledger.Entry
	}{
		{"of the head", []ledger.Entry{f.a.Fork(t, f.fed, 3)}, stored[2], ledger.Entry{}},
		{"below the head", []ledger.Entry{f.a.Fork(t, f.fed, 2)}, stored[1], ledger.Entry{}},
		{"of the genesis", []ledger.Entry{f.a.Fork(t, f.fed, 1)}, f.genesis, ledger.Entry{}},
		{"after a good entry", []ledger.Entry{a4, f.a.Fork(t, f.fed, 2)}, stored[1], ledger.Entry{}},
		{"within the batch", []ledger.Entry{a4, fork4}, a4, fork4},
		{"within the batch, other authors first", []ledger.Entry{f.c.Contribution(t, f.fed, 1, Period), a4, fork4}, a4, fork4},
		{"of another author", []ledger.Entry{f.b.Fork(t, f.fed, 1)}, b1, ledger.Entry{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			mustAppend(t, st, stored...)
			incoming := tc.incoming
			if incoming.IsZero() {
				incoming = tc.batch[len(tc.batch)-1]
			}
			err := refused(t, st, ledger.ErrFork, stored, tc.batch...)
			var fe *ledger.ForkError
			if !errors.As(err, &fe) {
				t.Fatalf("Append: error %v, want a *ledger.ForkError", err)
			}
			if diff := cmp.Diff(view(tc.existing), view(fe.Existing)); diff != "" {
				t.Errorf("ForkError.Existing (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(view(incoming), view(fe.Incoming)); diff != "" {
				t.Errorf("ForkError.Incoming (-want +got):\n%s", diff)
			}
			if errors.Is(err, ledger.ErrDuplicate) {
				t.Errorf("a fork is not a duplicate: %v", err)
			}
		})
	}
}

func (s suite) testZeroEntry(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	refused(t, st, ledger.ErrMalformed, nil, ledger.Entry{})
	refused(t, st, ledger.ErrMalformed, nil, f.genesis, ledger.Entry{})
	mustAppend(t, st, f.genesis)
}

// testAtomic checks that a batch with a bad third entry stores nothing, and
// that the store then takes the good entries.
func (s suite) testAtomic(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  func(t *testing.T, f *fixture, stored []ledger.Entry) ledger.Entry
		want error
	}{
		{"gap", func(t *testing.T, f *fixture, _ []ledger.Entry) ledger.Entry { return f.b.Gap(t, f.fed) }, ledger.ErrGap},
		{"gap of a new author", func(t *testing.T, f *fixture, _ []ledger.Entry) ledger.Entry { return f.c.Gap(t, f.fed) }, ledger.ErrGap},
		{"bad prev", func(t *testing.T, f *fixture, stored []ledger.Entry) ledger.Entry {
			wrong := stored[0].Hash() // a's genesis, not b's head
			return f.b.Peek(t, f.fed, func(b *caissev1.EntryBody) { b.Prev = wrong[:] })
		}, ledger.ErrBadPrev},
		{"clock regressed", func(t *testing.T, f *fixture, _ []ledger.Entry) ledger.Entry {
			return f.b.Peek(t, f.fed, func(b *caissev1.EntryBody) { b.Time = f.b.Head().Time.Proto() })
		}, ledger.ErrClockRegressed},
		{"duplicate of a stored entry", func(t *testing.T, f *fixture, stored []ledger.Entry) ledger.Entry { return stored[1] }, ledger.ErrDuplicate},
		{"fork of a stored entry", func(t *testing.T, f *fixture, _ []ledger.Entry) ledger.Entry { return f.a.Fork(t, f.fed, 2) }, ledger.ErrFork},
		{"fork of an entry of the batch", func(t *testing.T, f *fixture, _ []ledger.Entry) ledger.Entry { return f.a.Fork(t, f.fed, 3) }, ledger.ErrFork},
		{"zero entry", func(*testing.T, *fixture, []ledger.Entry) ledger.Entry { return ledger.Entry{} }, ledger.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := s.store(t)
			f := newFixture(t)
			stored := []ledger.Entry{f.genesis, f.a.Contribution(t, f.fed, 1, Period), f.b.Contribution(t, f.fed, 2, Period)}
			mustAppend(t, st, stored...)
			a3 := f.a.Contribution(t, f.fed, 3, Period)
			b2 := f.b.Contribution(t, f.fed, 4, Period)
			bad := tc.bad(t, f, stored)
			a4 := f.a.Contribution(t, f.fed, 5, Period)
			refused(t, st, tc.want, stored, a3, b2, bad, a4)
			for _, e := range []ledger.Entry{a3, b2, a4} {
				if got, err := st.Get(e.Author(), e.Seq()); !errors.Is(err, ledger.ErrNotFound) {
					t.Errorf("Get(%s/%d) after a refused batch = %v, %v; want ErrNotFound", e.Author().Short(), e.Seq(), got, err)
				}
			}
			// Nothing of the refused batch lingers: its good entries go in.
			mustAppend(t, st, a3, b2, a4)
			checkState(t, st, wantState(append(stored, a3, b2, a4)...))
		})
	}
}

func (s suite) testMaxTime(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	check := func(want ledger.HLC) {
		t.Helper()
		if got, err := st.MaxTime(); err != nil || got != want {
			t.Errorf("MaxTime() = %v, %v; want %v", got, err, want)
		}
	}
	es := append([]ledger.Entry{f.genesis}, f.contributions(t, f.a, 2)...)
	mustAppend(t, st, es...)
	check(es[2].Time())
	// An author whose clock is behind does not move the mark back.
	f.b.SetNow(ledger.HLC{Wall: Epoch + 1})
	mustAppend(t, st, f.b.Contribution(t, f.fed, 1, Period))
	check(es[2].Time())
	// The latest entry of a batch need not be its last.
	f.b.SetNow(ledger.HLC{Wall: Epoch + 3_600_000})
	b2 := f.b.Contribution(t, f.fed, 1, Period)
	f.c.SetNow(ledger.HLC{Wall: Epoch + 7_200_000, Logical: 3})
	c1 := f.c.Contribution(t, f.fed, 1, Period)
	a4 := f.a.Contribution(t, f.fed, 1, Period)
	mustAppend(t, st, b2, c1, a4)
	check(c1.Time())
	// Same wall time, later logical counter.
	f.a.SetNow(ledger.HLC{Wall: c1.Time().Wall, Logical: 4})
	a5 := f.a.Contribution(t, f.fed, 1, Period)
	mustAppend(t, st, a5)
	check(a5.Time())
	// A refused batch does not move it.
	f.b.SetNow(ledger.HLC{Wall: Epoch + 9_000_000})
	b3 := f.b.Contribution(t, f.fed, 1, Period)
	if err := st.Append(b3, f.a.Gap(t, f.fed)); !errors.Is(err, ledger.ErrGap) {
		t.Errorf("Append: error %v, want ErrGap", err)
	}
	check(a5.Time())
}

func (s suite) testClose(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	mustAppend(t, st, f.genesis)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	e := f.a.Contribution(t, f.fed, 1, Period)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Close", st.Close},
		{"Append", func() error { return st.Append(e) }},
		{"Append nothing", func() error { return st.Append() }},
		{"Get", func() error { _, err := st.Get(f.a.ID, 1); return err }},
		{"Head", func() error { _, err := st.Head(f.a.ID); return err }},
		{"Vector", func() error { _, err := st.Vector(); return err }},
		{"Scan", func() error {
			return st.Scan(f.a.ID, 1, func(ledger.Entry) error { return errors.New("fn called after Close") })
		}},
		{"ScanAll", func() error {
			return st.ScanAll(func(ledger.Entry) error { return errors.New("fn called after Close") })
		}},
		{"Count", func() error { _, err := st.Count(); return err }},
		{"MaxTime", func() error { _, err := st.MaxTime(); return err }},
	} {
		if err := tc.call(); !errors.Is(err, ledger.ErrClosed) {
			t.Errorf("%s after Close: error %v, want ErrClosed", tc.name, err)
		}
	}
}

// testConcurrent appends from several goroutines, one author each, while
// others read; every entry must land and every read must be consistent.
func (s suite) testConcurrent(t *testing.T) {
	st := s.store(t)
	fed := FederationID(1)
	const writers, perWriter, readers = 8, 24, 3
	logs := make([][]ledger.Entry, writers)
	var all []ledger.Entry
	for i := range logs {
		x := NewAuthor(t, byte(10+i))
		for range perWriter {
			logs[i] = append(logs[i], x.Contribution(t, fed, 100, Period))
		}
		all = append(all, logs[i]...)
	}
	var wg sync.WaitGroup
	for _, log := range logs {
		wg.Go(func() {
			// Alternate single entries and batches of two.
			for i := 0; i < len(log); {
				n := min(1+i%3%2, len(log)-i)
				if err := st.Append(log[i : i+n]...); err != nil {
					t.Errorf("Append %s/%d: %v", log[i].Author().Short(), log[i].Seq(), err)
					return
				}
				i += n
			}
		})
	}
	for range readers {
		wg.Go(func() {
			var last uint64
			for range 40 {
				n, err := st.Count()
				if err != nil || n < last {
					t.Errorf("Count() = %d, %v after %d", n, err, last)
					return
				}
				last = n
				v, err := st.Vector()
				if err != nil {
					t.Errorf("Vector: %v", err)
					return
				}
				for a, h := range v {
					// Entries never change: the head seen a moment ago is there.
					e, err := st.Get(a, h.Seq)
					if err != nil || e.Hash() != h.Hash {
						t.Errorf("Get(%s/%d) = %v, %v; want hash %s from Vector", a.Short(), h.Seq, e, err, h.Hash.Short())
						return
					}
				}
			}
		})
	}
	wg.Wait()
	checkState(t, st, wantState(all...))
}

func (s suite) testForkProofs(t *testing.T) {
	st := s.store(t)
	f := newFixture(t)
	if got, err := st.Forks(); err != nil || len(got) != 0 {
		t.Fatalf("Forks of an empty store = %v, %v; want none", got, err)
	}
	b1 := f.b.Contribution(t, f.fed, 1, Period)
	c1 := f.c.Contribution(t, f.fed, 1, Period)
	c2 := f.c.Contribution(t, f.fed, 2, Period)
	mustAppend(t, st, f.genesis, b1, c1, c2)
	var fe *ledger.ForkError
	if err := st.Append(f.c.Fork(t, f.fed, 2)); !errors.As(err, &fe) {
		t.Fatalf("Append of a fork = %v, want a *ForkError", err)
	}
	proofC, err := fe.Proof()
	if err != nil {
		t.Fatal(err)
	}
	proofB, err := ledger.NewForkProof(f.b.Fork(t, f.fed, 1), b1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []ledger.ForkProof{proofC, proofB, proofC} { // the second proofC is kept once
		if err := st.AddFork(p); err != nil {
			t.Fatalf("AddFork(%s): %v", p, err)
		}
	}
	// Another proof for a place already proven: the place keeps the two
	// lowest hashes of all the entries seen there.
	third := f.c.Fork(t, f.fed, 2)
	other, err := ledger.NewForkProof(third, c2)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddFork(other); err != nil {
		t.Fatalf("AddFork of a second proof for c/2: %v", err)
	}
	proofC, _, err = proofC.Lowest(other)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Forks()
	if err != nil {
		t.Fatal(err)
	}
	want := []ledger.ForkProof{proofB, proofC}
	if f.b.ID[0] > f.c.ID[0] || (f.b.ID[0] == f.c.ID[0] && string(f.b.ID[:]) > string(f.c.ID[:])) {
		want = []ledger.ForkProof{proofC, proofB}
	}
	if len(got) != len(want) {
		t.Fatalf("Forks = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].A.Hash() != want[i].A.Hash() || got[i].B.Hash() != want[i].B.Hash() {
			t.Errorf("Forks[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	// Not a fork: refused, nothing stored.
	if err := st.AddFork(ledger.ForkProof{A: c1, B: c1}); !errors.Is(err, ledger.ErrMalformed) {
		t.Errorf("AddFork of one entry twice = %v, want ErrMalformed", err)
	}
	// The stored logs are untouched by proofs.
	checkState(t, st, wantState(f.genesis, b1, c1, c2))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Forks(); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Forks after Close = %v, want ErrClosed", err)
	}
	if err := st.AddFork(proofB); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("AddFork after Close = %v, want ErrClosed", err)
	}
}
