package ledger_test

import (
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/google/go-cmp/cmp"
)

func TestHLCCompare(t *testing.T) {
	tests := []struct {
		name string
		a, b ledger.HLC
		want int
	}{
		{name: "equal", a: ledger.HLC{Wall: 5, Logical: 2}, b: ledger.HLC{Wall: 5, Logical: 2}, want: 0},
		{name: "zero", a: ledger.HLC{}, b: ledger.HLC{}, want: 0},
		{name: "wall before", a: ledger.HLC{Wall: 5}, b: ledger.HLC{Wall: 6}, want: -1},
		{name: "wall wins over logical", a: ledger.HLC{Wall: 6}, b: ledger.HLC{Wall: 5, Logical: 9}, want: 1},
		{name: "logical before", a: ledger.HLC{Wall: 5, Logical: 1}, b: ledger.HLC{Wall: 5, Logical: 2}, want: -1},
		{name: "logical after", a: ledger.HLC{Wall: 5, Logical: 3}, b: ledger.HLC{Wall: 5, Logical: 2}, want: 1},
		{name: "max logical before next wall", a: ledger.HLC{Wall: 5, Logical: ledger.MaxLogical}, b: ledger.HLC{Wall: 6}, want: -1},
		{name: "large wall", a: ledger.HLC{Wall: 1 << 63}, b: ledger.HLC{Wall: 1<<63 - 1, Logical: ledger.MaxLogical}, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Compare(tc.b); got != tc.want {
				t.Errorf("%v.Compare(%v) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
			if got := tc.b.Compare(tc.a); got != -tc.want {
				t.Errorf("%v.Compare(%v) = %d, want %d", tc.b, tc.a, got, -tc.want)
			}
			if got := tc.a.Before(tc.b); got != (tc.want < 0) {
				t.Errorf("%v.Before(%v) = %v", tc.a, tc.b, got)
			}
		})
	}
}

func TestHLCString(t *testing.T) {
	if got, want := (ledger.HLC{Wall: 1767258000000, Logical: 3}).String(), "1767258000000.3"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestClockNow drives a clock with a sequence of physical times and checks
// every reading; each must also be strictly after the one before.
func TestClockNow(t *testing.T) {
	type step struct {
		phys uint64
		want ledger.HLC
	}
	tests := []struct {
		name  string
		start ledger.HLC
		steps []step
	}{
		{name: "physical time advances", steps: []step{
			{1000, ledger.HLC{Wall: 1000}},
			{2000, ledger.HLC{Wall: 2000}},
			{2001, ledger.HLC{Wall: 2001}},
		}},
		{name: "physical time stands still", steps: []step{
			{1000, ledger.HLC{Wall: 1000}},
			{1000, ledger.HLC{Wall: 1000, Logical: 1}},
			{1000, ledger.HLC{Wall: 1000, Logical: 2}},
			{1001, ledger.HLC{Wall: 1001}},
		}},
		{name: "physical time goes backwards", steps: []step{
			{1000, ledger.HLC{Wall: 1000}},
			{500, ledger.HLC{Wall: 1000, Logical: 1}},
			{999, ledger.HLC{Wall: 1000, Logical: 2}},
			{1000, ledger.HLC{Wall: 1000, Logical: 3}},
			{1001, ledger.HLC{Wall: 1001}},
		}},
		{name: "restart from a high-water mark ahead of the clock", start: ledger.HLC{Wall: 5000, Logical: 7}, steps: []step{
			{4000, ledger.HLC{Wall: 5000, Logical: 8}},
			{5000, ledger.HLC{Wall: 5000, Logical: 9}},
			{6000, ledger.HLC{Wall: 6000}},
		}},
		{name: "logical counter at MaxLogical moves wall", start: ledger.HLC{Wall: 5000, Logical: ledger.MaxLogical - 1}, steps: []step{
			{5000, ledger.HLC{Wall: 5000, Logical: ledger.MaxLogical}},
			{5000, ledger.HLC{Wall: 5001}},
			{5000, ledger.HLC{Wall: 5001, Logical: 1}},
			{4000, ledger.HLC{Wall: 5001, Logical: 2}},
			{5001, ledger.HLC{Wall: 5001, Logical: 3}},
			{5002, ledger.HLC{Wall: 5002}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ledger.NewClock(tc.start, 0)
			prev := tc.start
			for i, s := range tc.steps {
				got := c.Now(s.phys)
				if diff := cmp.Diff(s.want, got); diff != "" {
					t.Fatalf("step %d: Now(%d) (-want +got):\n%s", i, s.phys, diff)
				}
				if !prev.Before(got) {
					t.Fatalf("step %d: Now(%d) = %v, not after %v", i, s.phys, got, prev)
				}
				if diff := cmp.Diff(got, c.Last()); diff != "" {
					t.Fatalf("step %d: Last() after Now (-want +got):\n%s", i, diff)
				}
				prev = got
			}
		})
	}
}

func TestClockObserve(t *testing.T) {
	const maxAhead = 100
	tests := []struct {
		name     string
		start    ledger.HLC
		observed ledger.HLC
		phys     uint64
		err      error
		wantLast ledger.HLC
		wantNow  ledger.HLC // the next reading, at phys
	}{
		{
			name:  "too far ahead is refused and changes nothing",
			start: ledger.HLC{Wall: 1000}, observed: ledger.HLC{Wall: 1101}, phys: 1000,
			err:      ledger.ErrClockAhead,
			wantLast: ledger.HLC{Wall: 1000}, wantNow: ledger.HLC{Wall: 1000, Logical: 1},
		},
		{
			name:  "far ahead of an old physical time is refused",
			start: ledger.HLC{Wall: 1000}, observed: ledger.HLC{Wall: 1 << 62}, phys: 1000,
			err:      ledger.ErrClockAhead,
			wantLast: ledger.HLC{Wall: 1000}, wantNow: ledger.HLC{Wall: 1000, Logical: 1},
		},
		{
			name:  "exactly maxAhead ahead is merged",
			start: ledger.HLC{Wall: 1000}, observed: ledger.HLC{Wall: 1100, Logical: 3}, phys: 1000,
			wantLast: ledger.HLC{Wall: 1100, Logical: 3}, wantNow: ledger.HLC{Wall: 1100, Logical: 4},
		},
		{
			name:  "later time within bounds is merged",
			start: ledger.HLC{Wall: 2000, Logical: 5}, observed: ledger.HLC{Wall: 2050}, phys: 2000,
			wantLast: ledger.HLC{Wall: 2050}, wantNow: ledger.HLC{Wall: 2050, Logical: 1},
		},
		{
			name:  "later logical at the same wall is merged",
			start: ledger.HLC{Wall: 2000, Logical: 5}, observed: ledger.HLC{Wall: 2000, Logical: 9}, phys: 2000,
			wantLast: ledger.HLC{Wall: 2000, Logical: 9}, wantNow: ledger.HLC{Wall: 2000, Logical: 10},
		},
		{
			name:  "earlier time leaves the clock alone",
			start: ledger.HLC{Wall: 2000, Logical: 5}, observed: ledger.HLC{Wall: 1500, Logical: 9}, phys: 2000,
			wantLast: ledger.HLC{Wall: 2000, Logical: 5}, wantNow: ledger.HLC{Wall: 2000, Logical: 6},
		},
		{
			name:  "equal time leaves the clock alone",
			start: ledger.HLC{Wall: 2000, Logical: 5}, observed: ledger.HLC{Wall: 2000, Logical: 5}, phys: 2000,
			wantLast: ledger.HLC{Wall: 2000, Logical: 5}, wantNow: ledger.HLC{Wall: 2000, Logical: 6},
		},
		{
			name:  "time in the past of physical time, after the clock",
			start: ledger.HLC{Wall: 1000}, observed: ledger.HLC{Wall: 3000}, phys: 5000,
			wantLast: ledger.HLC{Wall: 3000}, wantNow: ledger.HLC{Wall: 5000},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ledger.NewClock(tc.start, maxAhead)
			checkErr := c.Check(tc.observed, tc.phys)
			wantErr(t, checkErr, tc.err)
			if diff := cmp.Diff(tc.start, c.Last()); diff != "" {
				t.Fatalf("Last() after Check (-want +got):\n%s", diff)
			}
			err := c.Observe(tc.observed, tc.phys)
			wantErr(t, err, tc.err)
			if diff := cmp.Diff(tc.wantLast, c.Last()); diff != "" {
				t.Errorf("Last() after Observe (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantNow, c.Now(tc.phys)); diff != "" {
				t.Errorf("Now(%d) after Observe (-want +got):\n%s", tc.phys, diff)
			}
		})
	}
}

func TestHLCProto(t *testing.T) {
	h := ledger.HLC{Wall: 1767258000000, Logical: 42}
	p := h.Proto()
	if p.GetWallMs() != h.Wall || p.GetLogical() != h.Logical {
		t.Errorf("Proto() = %v, want wall %d logical %d", p, h.Wall, h.Logical)
	}
}
