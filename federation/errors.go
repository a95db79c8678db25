package federation

import "errors"

// Sentinel errors of the federation's state machine. Apply and Check wrap
// them, as they wrap the ledger's (ledger.ErrWrongFederation, ledger.ErrGap,
// ledger.ErrBadPrev, ledger.ErrClockRegressed, ledger.ErrDuplicate,
// ledger.ErrFork, ledger.ErrOverflow), with the author and seq at hand; test
// them with errors.Is.
var (
	// ErrNoGenesis: an entry other than a genesis, before any genesis.
	ErrNoGenesis = errors.New("no genesis yet")
	// ErrGenesisExists: a second genesis, once the federation has one.
	ErrGenesisExists = errors.New("the federation already has a genesis")
	// ErrUnknownAuthor: an entry whose author is not a member.
	ErrUnknownAuthor = errors.New("author is not a member")
	// ErrBadCorrection: a correction whose target is not an earlier
	// contribution or disbursement of the same author, as named by its seq
	// and hash.
	ErrBadCorrection = errors.New("bad correction target")
	// ErrAlreadyCorrected: a correction of an entry that another correction
	// already reversed.
	ErrAlreadyCorrected = errors.New("entry already corrected")
)
