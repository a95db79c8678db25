package ledger

import (
	"fmt"

	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// HLC is a hybrid logical clock reading: wall milliseconds since the Unix
// epoch, and a logical counter that orders readings sharing a millisecond.
// It orders entries for display only; money never depends on it.
type HLC struct {
	Wall    uint64
	Logical uint32
}

// Compare returns -1, 0 or +1 as h is before, equal to or after o.
func (h HLC) Compare(o HLC) int {
	switch {
	case h.Wall < o.Wall:
		return -1
	case h.Wall > o.Wall:
		return 1
	case h.Logical < o.Logical:
		return -1
	case h.Logical > o.Logical:
		return 1
	}
	return 0
}

// Before reports whether h is strictly before o.
func (h HLC) Before(o HLC) bool { return h.Compare(o) < 0 }

func (h HLC) String() string { return fmt.Sprintf("%d.%d", h.Wall, h.Logical) }

// Proto returns h as its wire message.
func (h HLC) Proto() *caissev1.HLC { return &caissev1.HLC{WallMs: h.Wall, Logical: h.Logical} }

func hlcFromProto(p *caissev1.HLC) HLC {
	return HLC{Wall: p.GetWallMs(), Logical: p.GetLogical()}
}

// MaxLogical bounds the logical counter: past it, Now moves wall ahead by
// one millisecond instead of wrapping.
const MaxLogical = 1<<32 - 1

// Clock is a hybrid logical clock with a high-water mark. It reads no clock
// itself: every call is given the local physical time in milliseconds.
// The high-water mark is the latest time it has issued or observed; callers
// persist it (the stores keep the latest time of any stored entry) and pass
// it back to NewClock after a restart, so time never goes backwards.
type Clock struct {
	last     HLC
	maxAhead uint64
}

// NewClock returns a clock that starts after last and refuses observed
// times more than maxAheadMs ahead of the local physical time.
func NewClock(last HLC, maxAheadMs uint64) *Clock {
	return &Clock{last: last, maxAhead: maxAheadMs}
}

// Last returns the high-water mark.
func (c *Clock) Last() HLC { return c.last }

// Now returns a reading strictly after every reading issued or observed.
func (c *Clock) Now(physMs uint64) HLC {
	next := HLC{Wall: physMs}
	if physMs <= c.last.Wall {
		next = HLC{Wall: c.last.Wall, Logical: c.last.Logical + 1}
		if c.last.Logical == MaxLogical {
			next = HLC{Wall: c.last.Wall + 1}
		}
	}
	c.last = next
	return next
}

// Check reports ErrClockAhead if t is more than the allowed offset ahead of
// physMs. It changes nothing.
func (c *Clock) Check(t HLC, physMs uint64) error {
	if t.Wall > physMs && t.Wall-physMs > c.maxAhead {
		return fmt.Errorf("ledger: time %s is %d ms ahead of local time (at most %d allowed): %w",
			t, t.Wall-physMs, c.maxAhead, ErrClockAhead)
	}
	return nil
}

// Observe merges a time received from elsewhere into the clock. A time too
// far ahead is refused with ErrClockAhead and leaves the clock unchanged.
func (c *Clock) Observe(t HLC, physMs uint64) error {
	if err := c.Check(t, physMs); err != nil {
		return err
	}
	if c.last.Before(t) {
		c.last = t
	}
	return nil
}
