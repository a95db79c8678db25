package syncer

import "errors"

// Sentinel errors. They are wrapped with the message or the key at hand;
// test them with errors.Is.
var (
	// ErrConfig: New was given a Config it cannot run with.
	ErrConfig = errors.New("invalid config")
	// ErrBadMsg: Step was given a message that makes no sense (no peer, a
	// zero entry, a head at seq 0, a proof that proves nothing, ...). The
	// Syncer changed nothing.
	ErrBadMsg = errors.New("bad message")
	// ErrNotNext: an entry reported saved or appended that does not extend
	// its author's log as the Syncer knows it.
	ErrNotNext = errors.New("entry does not extend the log")

	// ErrUnconfirmed: CheckAppend's answer until a peer has told this node
	// its own frontier (see Config.Alone).
	ErrUnconfirmed = errors.New("own frontier not yet confirmed by a peer")
	// ErrBehind: CheckAppend's answer while a peer holds entries of this
	// node's own log that its store lacks: the data directory is older than
	// the log (restored from a backup) and appending would fork it.
	ErrBehind = errors.New("own log is behind a peer's copy of it")
	// ErrForked: CheckAppend's answer once this node's own log is known to
	// fork: the federation must decide before it appends again.
	ErrForked = errors.New("own log forked")
)
