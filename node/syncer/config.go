package syncer

import (
	"fmt"
	"math/rand/v2"

	"github.com/caisse-coop/caisse/ledger"
)

// Config configures a Syncer. Durations are in ticks: the node converts
// them once, as raft's ElectionTick. New fills a zero field with its
// DefaultConfig value, validates the result and owns it afterwards: the
// caller must not modify the Config (nor use its Rand) after New.
type Config struct {
	// Self is this node's author key: the log it appends to.
	Self ledger.Author
	// Alone says that the node is the only member of its federation, so
	// that there is no peer to ask for its own frontier: CheckAppend does
	// not wait for one. With other members, leave it false: a node whose
	// data directory was restored from an old backup must not append over
	// entries its peers hold (see CheckAppend).
	Alone bool
	// Rand is the only source of randomness: the choice of the peer to
	// pull from and to run anti-entropy with, and the jitter of its
	// interval. The same seed gives the same run. Required.
	Rand *rand.Rand

	// AntiEntropyTicks is the mean interval between two anti-entropy
	// exchanges with a random connected peer; each interval is drawn
	// uniformly in [AntiEntropyTicks/2, 3*AntiEntropyTicks/2].
	AntiEntropyTicks int
	// PullTimeoutTicks is how long a pull may go without progress before
	// it is abandoned and retried with another peer. Each batch received
	// restarts it. The node should also put a deadline on its streams.
	PullTimeoutTicks int
	// RetryTicks is how long a peer whose pull failed or timed out is not
	// pulled from again.
	RetryTicks int
	// BufferTicks is how long entries wait past a gap while their log
	// makes no progress. Then they are dropped (and counted): nobody
	// serves the gap, as when the entries before them were lost with the
	// store of their author, restored from a backup. If a peer holds them
	// later, they are pulled again.
	BufferTicks int
	// ForkRecheckTicks is how often, at most, the fork proofs of a peer that
	// holds as many as this node (but maybe others) are fetched anyway.
	ForkRecheckTicks int

	// MaxBuffered bounds the entries held ahead of a gap in their
	// author's log, over all authors. Beyond it, entries are dropped and
	// counted; pulls fetch them again once the gap is filled.
	MaxBuffered int
	// MaxPullEntries bounds the range of one pull. A pull is one stream
	// that the peer fills while this node verifies what came before, and a
	// log has one pull at a time: between two pulls of a log, the stream
	// runs dry for a round trip and the start of the peer's scan. Long
	// pulls make that rare; entries do not pile up, since a pull's stream
	// is flow-controlled and each batch is saved as it is verified.
	MaxPullEntries int
	// MaxInflightPulls bounds the pulls in flight, over all peers; the
	// same number bounds the fork probes (one-entry pulls) in flight.
	MaxInflightPulls int
	// MaxPushEntries bounds the entries queued for a push to one peer
	// between two Readys. Beyond it, they are dropped and counted: the
	// peer learns the heads from gossip or anti-entropy and pulls them.
	MaxPushEntries int
	// MaxChecks bounds the entries handed to the node to compare with its
	// store (Ready.Check) in one Ready, and the proofs (Ready.Proofs).
	MaxChecks int
	// MaxParked bounds the entries a federation check refused as pending,
	// kept aside until later saves.
	MaxParked int
	// MaxMsgEntries bounds the entries of one Entries message: more is
	// bad input.
	MaxMsgEntries int
}

// DefaultConfig returns the default limits and intervals, for a tick of
// 100 ms. The caller sets Self and Rand.
func DefaultConfig() Config {
	return Config{
		AntiEntropyTicks: 100, // 10 s
		PullTimeoutTicks: 50,  // 5 s
		RetryTicks:       50,
		BufferTicks:      600,  // 1 min
		ForkRecheckTicks: 3000, // 5 min
		MaxBuffered:      4096,
		MaxPullEntries:   32768,
		MaxInflightPulls: 16,
		MaxPushEntries:   256,
		MaxChecks:        256,
		MaxParked:        1024,
		MaxMsgEntries:    1024,
	}
}

// withDefaults returns c with every zero limit set from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	for _, f := range []struct{ v, d *int }{
		{&c.AntiEntropyTicks, &d.AntiEntropyTicks},
		{&c.PullTimeoutTicks, &d.PullTimeoutTicks},
		{&c.RetryTicks, &d.RetryTicks},
		{&c.BufferTicks, &d.BufferTicks},
		{&c.ForkRecheckTicks, &d.ForkRecheckTicks},
		{&c.MaxBuffered, &d.MaxBuffered},
		{&c.MaxPullEntries, &d.MaxPullEntries},
		{&c.MaxInflightPulls, &d.MaxInflightPulls},
		{&c.MaxPushEntries, &d.MaxPushEntries},
		{&c.MaxChecks, &d.MaxChecks},
		{&c.MaxParked, &d.MaxParked},
		{&c.MaxMsgEntries, &d.MaxMsgEntries},
	} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	return c
}

func (c Config) validate() error {
	if c.Rand == nil {
		return fmt.Errorf("syncer: config: no Rand: %w", ErrConfig)
	}
	if c.Self == (ledger.Author{}) {
		return fmt.Errorf("syncer: config: no Self: %w", ErrConfig)
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"AntiEntropyTicks", c.AntiEntropyTicks},
		{"PullTimeoutTicks", c.PullTimeoutTicks},
		{"RetryTicks", c.RetryTicks},
		{"BufferTicks", c.BufferTicks},
		{"ForkRecheckTicks", c.ForkRecheckTicks},
		{"MaxBuffered", c.MaxBuffered},
		{"MaxPullEntries", c.MaxPullEntries},
		{"MaxInflightPulls", c.MaxInflightPulls},
		{"MaxPushEntries", c.MaxPushEntries},
		{"MaxChecks", c.MaxChecks},
		{"MaxParked", c.MaxParked},
		{"MaxMsgEntries", c.MaxMsgEntries},
	} {
		if f.v < 1 {
			return fmt.Errorf("syncer: config: %s is %d, want at least 1: %w", f.name, f.v, ErrConfig)
		}
	}
	return nil
}
