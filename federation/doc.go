// Package federation is caisse's federation state machine: a State built by
// applying verified entries and fork proofs one at a time, and pure
// queries over it (members, applicants, proposals, forks, heads, balances,
// period closes and redistributions, the state hash).
//
// # Invariants
//
//   - The State is a pure function of the set of entries and fork proofs
//     applied. Each author's entries are applied in chain order
//     (ledger.CheckNext decides), the genesis first; apart from that, any
//     interleaving of the authors' logs gives the same State and the same
//     Hash. No map order, clock or arrival order reaches an output: every
//     list is sorted.
//   - Apply and ApplyFork either apply or change nothing and return an
//     error: every sum is computed, checked for overflow (ledger.ErrOverflow),
//     into temporaries before anything is changed.
//   - An error that wraps ErrPending is about an entry that may become
//     valid once other entries arrive; any other error is final. Check is
//     monotone: an entry that it accepts given some set of entries, it
//     accepts given any larger set (forks aside, below). So a caller that
//     keeps pending entries aside and retries them (Settle) ends up
//     applying the same entries whatever order they came in, and the final
//     State does not depend on which were refused as pending on the way.
//   - A correction reverses exactly one earlier contribution or
//     disbursement of its own author, named by seq and hash, at most once,
//     in exactly the buckets (period, direction, category) its target went
//     into. No bucket goes below zero; a balance may (a contribution
//     recorded after the payment it funded).
//
// # Members and governance
//
// The federation id is the hash of the genesis. Its author (the founder)
// and the co-founders it lists are members from the start. Any other key
// joins by application (issue: "caisse federation join TOKEN"):
//
//   - An Application is accepted from a key that is neither a member nor
//     an applicant, as the first entry of its log (ledger checks seq 1). It
//     makes the key an applicant. Until its admission is final, the
//     applicant's other entries are refused with ErrNotAdmitted and
//     ErrPending, so nodes neither store nor relay them. A member of the
//     charter cannot apply (ErrAlreadyMember); a key that never applied
//     cannot write anything but an application (ErrUnknownAuthor; a later
//     seq is ledger.ErrGap).
//   - A Proposal admits an applicant or excludes a member. It waits
//     (ErrNoApplication, ErrPending) while its target is a key not seen;
//     admitting a member of the charter is ErrAlreadyMember.
//   - A Vote waits (ErrUnknownProposal, ErrPending) while its proposal is
//     not applied.
//
// Whether a proposal or a vote counts is not decided by Check but by the
// fold: the proposals and votes (a few, next to the money) are folded in
// the canonical order of their places (HLC time, then author bytes, then
// seq), from the charter's members, and the fold is recomputed when one is
// applied out of that order. In the fold:
//
//   - A proposal counts if its author is a member at its place; an
//     admission if its target was never admitted before; an exclusion if
//     its target is a member then. Otherwise it is void. The eligible
//     voters are the members at the proposal's place.
//   - A vote counts if it comes after its proposal, the proposal is still
//     open, and the voter is eligible and still a member. A member's last
//     vote (highest seq) before the decision counts; later votes change
//     nothing.
//   - With quorum_bp and majority_bp from the charter, a proposal is
//     adopted when votes*10000 >= quorum_bp*eligible and
//     yes*10000 >= majority_bp*(yes+no) and yes > 0 (abstentions count for
//     the quorum only); rejected as soon as that can no longer happen with
//     the votes cast standing and every eligible member who has not voted,
//     and still can, voting yes. A one-member federation decides by its
//     single vote. The decision's place is the deciding vote's (or, for a
//     rejection, the exclusion's that made adoption impossible). Only
//     collectives are counted: counting the members they represent as well
//     comes with the rules issue, with the member counts of PeriodClose.
//   - An adopted admission makes the applicant a member from the decision
//     on; an adopted exclusion ends the membership at the decision.
//
// An author's entries count in the derived state (balances, proposals,
// votes) when their place is after its admission (for the charter's
// members, always) and not after its exclusion. The others are kept: they
// are in the log, the head and the hash, and count for nothing. This makes
// the state a function of the set of entries: an excluded member's entries
// dated after its exclusion count for nothing whenever they arrive, and
// those dated before count whenever they arrive. The limit: an author
// dates its own entries, within its chain; a member that learns of a vote
// to exclude it can date entries between its last entry and the deciding
// vote, and they count. Nodes refuse entries dated too far ahead of their
// clock (ledger.Clock), not entries dated in the past.
//
// Money stays per author and additive: a contribution, disbursement or
// correction changes its author's sums only. Each caisse keeps two sets of
// sums: over all its entries (overflow is checked on it), and over the
// entries that count (what the views show), kept only for a caisse that
// has entries that do not count. When an author's standing moves (an
// admission or an exclusion decided, or undone by a vote that arrives
// late), the sums that count are rebuilt from its log.
//
// # Periods and redistribution
//
// A PeriodClose is accepted like its author's money entries, and checked
// against its author's log alone (close.go): its totals, per direction and
// category, equal the author's entries in the period after corrections
// (ErrBadClose otherwise, naming the figure), its need units have a rate in
// the charter's rules, and the period was not closed already
// (ErrPeriodClosed). After it, the author's contributions and
// disbursements in the period, and corrections of entries in it, are
// ErrPeriodClosed for good. A close counts, like a money entry, when it
// is dated within its author's membership. PeriodStatus lists the active
// members and the excluded ones whose close counts; the period is final
// once they all closed it. Redistribution runs Redistribute on the closes
// that count, under the charter's rules, provisional until then.
//
// # Finality of an admission
//
// A late vote dated before a decision can change it. For money that is
// fine: it is recomputed. But accepting a new member's entries must not be
// undone, or nodes that accepted them and nodes that did not would never
// hold the same entries. So an admission lets the new member's entries in
// only once it is final: every member that could act at or before the
// deciding vote (the charter's members, and those admitted before,
// excluded or not) has a log that reaches past it. Since each log is
// applied in chain order with increasing times, no entry dated before the
// decision can arrive from them any more, and the fold up to the decision
// is fixed. (A member whose log is past its own exclusion, or frozen with
// every entry before its fork applied, holds nothing up: nothing more it
// writes counts.) Until then the new member's entries are ErrNotAdmitted
// and ErrPending, naming the members waited for (Member.Final, CanAuthor,
// Awaiting). The cost: an admission waits for every member to write
// something after the deciding vote (a vote, a contribution, a period
// close), including those that voted before it, who could have changed
// their vote. A node finds with Awaiting that it is waited for. An
// admitted member's entries dated before its admission are accepted once
// it is final, and count for nothing.
//
// # Forks
//
// Two valid entries with the same author and seq are a fork: the node
// builds the proof (ledger.CheckStored gives a *ledger.ForkError) and
// applies it with ApplyFork, which verifies both signatures. The author is
// frozen at the lowest seq where a fork is known: its entries from there
// on are taken out if they were applied (log, caisse, proposals, votes,
// and the fold recomputed) and refused with ErrForked from then on; the
// proof kept is made of the two lowest hashes at that seq, so that it is a
// function of the proofs applied. Forks, ForkProofs and every view's
// ForkSeq show it. Forks are the one exception to monotonicity: taking out
// a forked voter's votes can change a decision, even a final admission;
// the new member's entries already accepted then count for nothing, and a
// node that learned the fork first holds them aside. The members then
// decide again (exclude the forked member, vote again).
//
// # Driving it
//
// The package does no I/O, reads no clock, starts no goroutine and does
// not log. It keeps, per applied entry, its hash, its time and what an
// exclusion, a fork or a correction needs to take it out (56 bytes), per
// caisse a fixed array of buckets per period, and per governance entry a
// small record, so that Apply of a contribution costs the same at the
// millionth entry as at the first.
//
// The node drives it so that whatever is applied is durable. At start, it
// replays its store, the genesis (the entry whose hash is the federation
// id) first; since a store scans author by author, an admitted member's
// entries may come before the votes that admitted it: Settle retries
// them.
//
//	st := federation.New()
//	err := st.Apply(genesis)
//	var held []ledger.Entry
//	err = store.ScanAll(func(e ledger.Entry) error {
//		switch err := st.Apply(e); {
//		case err == nil, errors.Is(err, ledger.ErrDuplicate):
//		case errors.Is(err, federation.ErrPending), errors.Is(err, ledger.ErrGap):
//			held = append(held, e) // stored, so durable: retried below
//		default:
//			return err
//		}
//		return nil
//	})
//	held, dropped, err := st.Settle(held, nil)
//	for _, p := range proofs { err = st.ApplyFork(p.First, p.Second) } // and Settle again
//
// Then, for each entry received or recorded (signature verified, each
// author's entries in seq order):
//
//	switch err := st.Check(e); {
//	case errors.Is(err, federation.ErrPending):
//		keepAside(e) // bounded; neither stored nor relayed
//		return nil
//	case errors.Is(err, ledger.ErrFork):
//		return st.ApplyFork(stored, e) // and store and relay the proof
//	case err != nil:
//		return err // ErrDuplicate: already have it; ErrGap: pull first; others: refuse
//	}
//	if err := store.Append(e); err != nil { // durable before it counts
//		return err
//	}
//	if err := st.Apply(e); err != nil { // cannot fail after Check: a bug
//		return fmt.Errorf("node: apply after check: %w", err)
//	}
//	held, dropped, err = st.Settle(held, store.Append) // what e unblocked
//
// Errors wrap this package's sentinels (see errors.go) and the ledger's
// (ErrWrongFederation, ErrGap, ErrBadPrev, ErrClockRegressed, ErrDuplicate,
// ErrFork, ErrOverflow, ErrBadSignature) with the author and seq: test them
// with errors.Is.
package federation
