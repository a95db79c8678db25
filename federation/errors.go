package federation

import "errors"

// Sentinel errors of the federation's state machine. Apply and Check wrap
// them, as they wrap the ledger's (ledger.ErrWrongFederation, ledger.ErrGap,
// ledger.ErrBadPrev, ledger.ErrClockRegressed, ledger.ErrDuplicate,
// ledger.ErrFork, ledger.ErrOverflow), with the author and seq at hand; test
// them with errors.Is.
//
// ErrPending is never returned alone: it is wrapped together with the
// sentinel that says what is missing (ErrNotAdmitted, ErrNoApplication,
// ErrUnknownProposal). An error that wraps ErrPending is about an entry that
// may become valid once other entries arrive; one that does not can never
// become valid.
var (
	// ErrNoGenesis: an entry other than a genesis, before any genesis.
	ErrNoGenesis = errors.New("no genesis yet")
	// ErrGenesisExists: a second genesis, once the federation has one.
	ErrGenesisExists = errors.New("the federation already has a genesis")
	// ErrUnknownAuthor: an entry whose author is neither a member nor an
	// applicant, and that is not an application.
	ErrUnknownAuthor = errors.New("author is not a member")
	// ErrBadCorrection: a correction whose target is not an earlier
	// contribution or disbursement of the same author, as named by its seq
	// and hash.
	ErrBadCorrection = errors.New("bad correction target")
	// ErrAlreadyCorrected: a correction of an entry that another correction
	// already reversed.
	ErrAlreadyCorrected = errors.New("entry already corrected")

	// ErrPending: the entry may become valid once other entries arrive.
	// The caller keeps it aside and tries it again after applying others
	// (see Settle).
	ErrPending = errors.New("pending: may become valid once other entries arrive")
	// ErrNotAdmitted: an applicant's entry other than its application,
	// before its admission is final. Always with ErrPending.
	ErrNotAdmitted = errors.New("author is an applicant, not admitted yet")
	// ErrNoApplication: a proposal, or a fork proof, about a key that is
	// neither a member nor an applicant: its application has not arrived.
	// Always with ErrPending.
	ErrNoApplication = errors.New("no application from this key")
	// ErrUnknownProposal: a vote on a proposal that has not arrived.
	// Always with ErrPending.
	ErrUnknownProposal = errors.New("vote on an unknown proposal")
	// ErrAlreadyMember: an application from a member of the charter, or a
	// proposal to admit one.
	ErrAlreadyMember = errors.New("already a member")
	// ErrForked: an entry at or past the seq where its author forked: the
	// author is frozen there.
	ErrForked = errors.New("author is frozen by a fork")
	// ErrBadClose: a period close whose totals are not those of its
	// author's entries for the period, or that declares need in a unit the
	// rules give no rate for.
	ErrBadClose = errors.New("period close does not match")
	// ErrPeriodClosed: a second close of a period, or a contribution,
	// disbursement or correction in a period that its author closed.
	ErrPeriodClosed = errors.New("period closed")
	// ErrBadProposal: a proposal that can never be put to the vote: rules
	// effective from a period that is not after the proposal's, or a
	// deadline before it.
	ErrBadProposal = errors.New("bad proposal")
	// ErrBadSettlement: a settlement acknowledged by another caisse than
	// its payee, or acknowledged twice.
	ErrBadSettlement = errors.New("bad settlement")
	// ErrUnknownSettlement: an acknowledgement of a settlement that has not
	// arrived. Always with ErrPending.
	ErrUnknownSettlement = errors.New("acknowledgement of an unknown settlement")
	// ErrBadForkProof: two entries that do not prove a fork: not the same
	// author and seq, or the same entry twice.
	ErrBadForkProof = errors.New("not a fork proof")
)
