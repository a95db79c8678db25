package syncer

import (
	"fmt"

	"github.com/caisse-coop/caisse/ledger"
)

// PeerID names a peer node: its node id, as memberlist and the TLS
// identity know it.
type PeerID string

// AuthorHead is the head of one author's log.
type AuthorHead struct {
	Author ledger.Author
	Head   ledger.Head
}

// Msg is an input to Step: one of the types below, each a value. They come
// from the node's gossip (PeerUp, PeerDown, Heads), its sync RPCs (Vector,
// ExchangeFailed, Entries, PullDone, PullFailed) and its own handling of a
// Ready (Saved, Rejected, Forked) or of an append (Appended).
type Msg interface{ isMsg() }

// PeerUp: the peer is reachable (memberlist says alive and the node can
// dial its sync address). The Syncer starts a session: it exchanges
// vectors with it at once.
type PeerUp struct{ Peer PeerID }

// PeerDown: the peer is gone. Its pulls in flight are retried elsewhere and
// nothing is pushed to it; what it holds is remembered, for the operator
// view, until it comes back.
type PeerDown struct{ Peer PeerID }

// Heads: the peer announced heads on gossip. They are hints: gossip is not
// authenticated beyond the federation's gossip key, so a false head costs
// at most a pull that returns nothing.
type Heads struct {
	Peer  PeerID
	Heads []AuthorHead
}

// Vector: the peer's frontier, from an exchange either side started
// (ExchangeResponse, or the ExchangeRequest a peer sent). It replaces what
// the Syncer knew of the peer. Forks is the number of fork proofs the peer
// holds (ExchangeRequest.forks and ExchangeResponse.forks).
type Vector struct {
	Peer   PeerID
	Vector ledger.Vector
	Forks  uint32
}

// ExchangeFailed: an exchange this node started failed or timed out.
type ExchangeFailed struct {
	Peer PeerID
	Err  error
}

// Entries: verified entries (ledger.Decode or FromProto checked their
// signatures) that the peer sent: a batch of a pull's stream, or a push.
// Each author's entries come in seq order.
type Entries struct {
	Peer    PeerID
	Entries []ledger.Entry
}

// PullDone: the stream of a pull from Ready.Pulls ended without error,
// after its batches were stepped as Entries. Pull is the value from
// Ready.Pulls.
type PullDone struct{ Pull Pull }

// PullFailed: a pull from Ready.Pulls failed (the peer refused, the stream
// broke, the deadline passed). Entries stepped before still count.
type PullFailed struct {
	Pull Pull
	Err  error
}

// Saved: the node checked an entry of Ready.Save against the federation,
// stored it durably and applied it.
type Saved struct{ Entry ledger.Entry }

// Rejected: the node did not save an entry of Ready.Save. Pending says the
// federation may accept it once other entries arrive
// (errors.Is(err, federation.ErrPending)): the Syncer keeps it aside and
// offers it again after later saves. Otherwise the peer that sent it is not
// asked again for that author from that seq on. A rejection wrapping
// ledger.ErrDuplicate counts as Saved: the store holds the entry.
type Rejected struct {
	Entry   ledger.Entry
	Err     error
	Pending bool
}

// Appended: the node appended an entry of its own log (Config.Self) and
// stored it durably. The Syncer pushes it to the connected peers and
// announces the new head.
type Appended struct{ Entry ledger.Entry }

// Forked: the node holds a fork proof, durably: from Ready.Proofs, from a
// Ready.Check, from a Save the store refused with a *ledger.ForkError, from
// a peer's Forks RPC, or from its store at start. The Syncer freezes the
// author from the proof's seq on: it no longer pulls, saves or buffers the
// author's entries there or beyond, and it looks for the true fork point
// below. Peer, if set, is the peer that sent the entry that revealed the
// fork: the Syncer asks it for the entry before, when the proof's two
// entries do not share their prev.
type Forked struct {
	Peer  PeerID
	Proof ledger.ForkProof
}

func (PeerUp) isMsg()         {}
func (PeerDown) isMsg()       {}
func (Heads) isMsg()          {}
func (Vector) isMsg()         {}
func (ExchangeFailed) isMsg() {}
func (Entries) isMsg()        {}
func (PullDone) isMsg()       {}
func (PullFailed) isMsg()     {}
func (Saved) isMsg()          {}
func (Rejected) isMsg()       {}
func (Appended) isMsg()       {}
func (Forked) isMsg()         {}

// validate checks m by itself, before the Syncer changes anything.
func (s *Syncer) validate(m Msg) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("syncer: %T: %s: %w", m, fmt.Sprintf(format, args...), ErrBadMsg)
	}
	peer := func(p PeerID) error {
		if p == "" {
			return bad("no peer")
		}
		return nil
	}
	entry := func(e ledger.Entry) error {
		if e.IsZero() {
			return bad("zero entry")
		}
		return nil
	}
	head := func(a ledger.Author, h ledger.Head) error {
		if a == (ledger.Author{}) {
			return bad("zero author")
		}
		if h.Seq == 0 {
			return bad("head of %s at seq 0", a.Short())
		}
		return nil
	}
	switch m := m.(type) {
	case PeerUp:
		return peer(m.Peer)
	case PeerDown:
		return peer(m.Peer)
	case Heads:
		if err := peer(m.Peer); err != nil {
			return err
		}
		for _, h := range m.Heads {
			if err := head(h.Author, h.Head); err != nil {
				return err
			}
		}
	case Vector:
		if err := peer(m.Peer); err != nil {
			return err
		}
		for a, h := range m.Vector {
			if err := head(a, h); err != nil {
				return err
			}
		}
	case ExchangeFailed:
		return peer(m.Peer)
	case Entries:
		if err := peer(m.Peer); err != nil {
			return err
		}
		if len(m.Entries) > s.cfg.MaxMsgEntries {
			return bad("%d entries, at most %d", len(m.Entries), s.cfg.MaxMsgEntries)
		}
		for _, e := range m.Entries {
			if err := entry(e); err != nil {
				return err
			}
		}
	case PullDone:
		return peer(m.Pull.Peer)
	case PullFailed:
		return peer(m.Pull.Peer)
	case Saved:
		return entry(m.Entry)
	case Rejected:
		if err := entry(m.Entry); err != nil {
			return err
		}
		if m.Err == nil {
			return bad("no error")
		}
	case Appended:
		if err := entry(m.Entry); err != nil {
			return err
		}
		if m.Entry.Author() != s.cfg.Self {
			return bad("entry %s is not of this node's log %s", m.Entry, s.cfg.Self.Short())
		}
	case Forked:
		if _, err := ledger.NewForkProof(m.Proof.A, m.Proof.B); err != nil {
			return bad("%v", err)
		}
	case nil:
		return bad("nil message")
	default:
		return bad("unknown message")
	}
	return nil
}
