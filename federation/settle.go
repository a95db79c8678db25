package federation

import (
	"errors"
	"fmt"

	"github.com/caisse-coop/caisse/ledger"
)

// Settle tries again entries kept aside: those that Check refused with
// ErrPending, and those behind them in their author's log (ledger.ErrGap).
// It goes through held in order, in rounds; each entry that Check accepts
// is handed to save, which makes it durable (nil when it already is, as
// at a replay of the store), then applied. It stops after a round that
// applied nothing and returns the entries still waiting, in their order,
// and the errors of those it dropped because they can never apply
// (duplicates, forks, entries refused for good). An error from save stops
// it; the entry save failed on is still waiting.
//
// The final State does not depend on when an entry was first refused as
// pending: an entry that would apply on the set of entries applied so far
// still applies once more are (see the package doc), so retrying until
// nothing moves applies the same entries in any order. The caller bounds
// what it keeps aside: an entry can wait for ever (a vote that names
// something that is not a proposal, an applicant that is never admitted).
func (s *State) Settle(held []ledger.Entry, save func(ledger.Entry) error) (waiting []ledger.Entry, dropped []error, err error) {
	for {
		progress := false
		waiting = make([]ledger.Entry, 0, len(held))
		for i, e := range held {
			cerr := s.Check(e)
			switch {
			case cerr == nil:
				if save != nil {
					if err := save(e); err != nil {
						return append(waiting, held[i:]...), dropped, fmt.Errorf("federation: settle %s: save: %w", where(e), err)
					}
				}
				if err := s.Apply(e); err != nil {
					return append(waiting, held[i+1:]...), dropped, fmt.Errorf("federation: settle: apply after check: %w", err)
				}
				progress = true
			case errors.Is(cerr, ErrPending) || errors.Is(cerr, ledger.ErrGap):
				waiting = append(waiting, e)
			default:
				dropped = append(dropped, cerr)
			}
		}
		if !progress {
			return waiting, dropped, nil
		}
		held = waiting
	}
}
