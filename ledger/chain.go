package ledger

import (
	"errors"
	"fmt"

	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// CheckNext reports whether e can be appended to a log whose head is head;
// head is nil for an empty log. It does not look at entries at or below the
// head: for those, see CheckStored.
func CheckNext(head *Head, e Entry) error {
	want := Seq(1)
	if head != nil {
		want = head.Seq + 1
	}
	switch {
	case e.Seq() > want:
		return fmt.Errorf("ledger: %s/%d: next is %d: %w", e.author.Short(), e.Seq(), want, ErrGap)
	case e.Seq() < want:
		// The caller must compare with the stored entry (CheckStored).
		return fmt.Errorf("ledger: %s/%d: log is already at %d: %w", e.author.Short(), e.Seq(), want-1, errBehind)
	case head == nil:
		return nil
	case e.Prev() != head.Hash:
		return fmt.Errorf("ledger: %s/%d: prev %s, log has %s: %w", e.author.Short(), e.Seq(), e.Prev().Short(), head.Hash.Short(), ErrBadPrev)
	case !head.Time.Before(e.Time()):
		return fmt.Errorf("ledger: %s/%d: time %s not after %s: %w", e.author.Short(), e.Seq(), e.Time(), head.Time, ErrClockRegressed)
	}
	return nil
}

// CheckFederation reports ErrWrongFederation unless e belongs to the
// federation whose id is fed. A genesis founds the federation whose id is
// its own hash; every other entry names its federation in its body.
func CheckFederation(fed Hash, e Entry) error {
	id := e.Federation()
	if _, genesis := e.b.GetKind().(*caissev1.EntryBody_Genesis); genesis {
		id = e.hash
	}
	if id != fed {
		return fmt.Errorf("ledger: %s/%d: federation %s, want %s: %w", e.author.Short(), e.Seq(), id.Short(), fed.Short(), ErrWrongFederation)
	}
	return nil
}

// errBehind is returned by CheckNext for an entry at or below the head.
var errBehind = errors.New("at or below the head")

// IsBehind reports whether err is CheckNext's answer for an entry at or
// below the head of its log, which the caller then compares to the stored
// entry with CheckStored.
func IsBehind(err error) bool { return errors.Is(err, errBehind) }

// CheckStored compares an incoming entry with the one stored at its author
// and seq: ErrDuplicate if they are the same entry, a *ForkError if not.
func CheckStored(stored, incoming Entry) error {
	if stored.author != incoming.author || stored.Seq() != incoming.Seq() {
		return fmt.Errorf("ledger: compare %s with %s: not the same author and seq: %w", stored, incoming, ErrMalformed)
	}
	if stored.hash == incoming.hash {
		return fmt.Errorf("ledger: %s/%d: %w", incoming.author.Short(), incoming.Seq(), ErrDuplicate)
	}
	return &ForkError{Existing: stored, Incoming: incoming}
}

// ForkError is the proof of an equivocation: two valid entries signed by the
// same author with the same seq. errors.Is(err, ErrFork) holds for it.
type ForkError struct {
	Existing, Incoming Entry
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("ledger: %s/%d: entries %s and %s: %v", e.Existing.author.Short(), e.Existing.Seq(),
		e.Existing.hash.Short(), e.Incoming.hash.Short(), ErrFork)
}

func (e *ForkError) Unwrap() error { return ErrFork }
