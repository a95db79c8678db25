package syncer

import (
	"fmt"

	"github.com/caisse-coop/caisse/ledger"
)

// Ready holds the effects the node performs, in this order: Save first,
// then the rest in any order. Every list is in a deterministic order
// (authors in byte order, peers by id, pulls by id).
type Ready struct {
	// Save: entries that extend their author's log, in chain order per
	// author. For each, in order, the node checks it against the
	// federation, stores it durably, applies it, and steps Saved or
	// Rejected, all before Advance. After a rejection it may skip the rest
	// of that author's entries without reporting them.
	Save []ledger.Entry
	// Check: entries at or below the head of their log that the Syncer
	// cannot tell from the stored ones. The node reads the stored entry and
	// calls ledger.CheckStored: ErrDuplicate is nothing, a *ledger.ForkError
	// is a proof to keep and step as Forked{Peer: c.Peer, ...}.
	Check []Check
	// Proofs: forks the Syncer saw itself, between two entries it held in
	// memory. The node keeps each proof durably and steps it back as is.
	Proofs []Forked
	// Pulls: ranges to fetch with the Sync.Pull RPC. Each batch received is
	// stepped as Entries, the end as PullDone or PullFailed with the Pull.
	Pulls []Pull
	// Exchanges: peers to trade vectors with (Sync.Exchange, sending the
	// store's vector and its number of fork proofs); the answer is stepped
	// as Vector, a failure as ExchangeFailed.
	Exchanges []PeerID
	// FetchForks: peers whose fork proofs to fetch (Sync.Forks). The node
	// verifies each (ledger.ForkProofFromProto), keeps the new ones and
	// steps them as Forked{Peer: peer, ...}.
	FetchForks []PeerID
	// Pushes: this node's new entries to offer to connected peers
	// (Sync.Push). A lost push is not retried: the peer learns the head
	// from gossip or anti-entropy and pulls.
	Pushes []Push
	// Heads: new heads to announce on gossip.
	Heads []AuthorHead
}

// Check is an entry to compare with the stored one at its author and seq.
type Check struct {
	Peer  PeerID
	Entry ledger.Entry
}

// Pull is a range of one author's log to fetch from a peer: From to To,
// both included. ID tells pulls apart; the node hands the Pull back as is.
type Pull struct {
	ID       uint64
	Peer     PeerID
	Author   ledger.Author
	From, To ledger.Seq
}

func (p Pull) String() string {
	return fmt.Sprintf("pull %d %s %s/%d-%d", p.ID, p.Peer, p.Author.Short(), p.From, p.To)
}

// Push is entries to offer to one peer.
type Push struct {
	Peer    PeerID
	Entries []ledger.Entry
}

// IsEmpty reports whether rd holds nothing to do.
func (rd Ready) IsEmpty() bool {
	return len(rd.Save) == 0 && len(rd.Check) == 0 && len(rd.Proofs) == 0 && len(rd.Pulls) == 0 &&
		len(rd.Exchanges) == 0 && len(rd.FetchForks) == 0 && len(rd.Pushes) == 0 && len(rd.Heads) == 0
}
