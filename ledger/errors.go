package ledger

import "errors"

// Sentinel errors. They are wrapped with the operation and the key at hand;
// test them with errors.Is.
var (
	// ErrMalformed: bytes that do not decode, or a body that breaks the
	// entry model (missing author, seq 0, a prev of the wrong size, ...).
	ErrMalformed = errors.New("malformed entry")
	// ErrTooLarge: an entry or a field over its size limit.
	ErrTooLarge = errors.New("entry too large")
	// ErrBadSignature: the signature does not verify against the author key.
	ErrBadSignature = errors.New("bad signature")
	// ErrWrongAuthor: the entry's author is not the one expected, for
	// instance a key signing a body that names another author.
	ErrWrongAuthor = errors.New("wrong author")
	// ErrWrongFederation: the entry belongs to another federation.
	ErrWrongFederation = errors.New("wrong federation")
	// ErrGap: the entry's seq is past the next one expected in its log.
	ErrGap = errors.New("sequence gap")
	// ErrFork: two different entries with the same author and seq.
	ErrFork = errors.New("fork: two entries with the same author and seq")
	// ErrBadPrev: the entry's prev is not the hash of the author's entry at
	// seq-1.
	ErrBadPrev = errors.New("prev hash does not match the log")
	// ErrDuplicate: the very same entry is already stored.
	ErrDuplicate = errors.New("entry already stored")
	// ErrOverflow: money arithmetic that does not fit in int64.
	ErrOverflow = errors.New("amount overflow")
	// ErrInvalidAmount: an amount that is zero, negative, over MaxAmount or
	// not a decimal of the currency's precision.
	ErrInvalidAmount = errors.New("invalid amount")
	// ErrInvalidPeriod: a period that is not "YYYY-MM".
	ErrInvalidPeriod = errors.New("invalid period")
	// ErrUnknownCategory: a category that is not in the schema.
	ErrUnknownCategory = errors.New("unknown category")
	// ErrClockAhead: a time further ahead of local time than allowed.
	ErrClockAhead = errors.New("clock too far ahead")
	// ErrClockRegressed: an entry not later than its predecessor in the log.
	ErrClockRegressed = errors.New("time does not increase along the log")
	// ErrNotFound: no such entry or log.
	ErrNotFound = errors.New("not found")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)
