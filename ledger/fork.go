package ledger

import (
	"bytes"
	"fmt"
	"slices"

	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"google.golang.org/protobuf/proto"
)

// ForkProof is the proof of an equivocation: two valid entries signed by
// the same author with the same seq. A and B are in hash order, so that a
// proof has one encoding whichever entry was seen first.
type ForkProof struct {
	A, B Entry
}

// NewForkProof checks that x and y are an equivocation and returns the
// proof.
func NewForkProof(x, y Entry) (ForkProof, error) {
	switch {
	case x.IsZero() || y.IsZero():
		return ForkProof{}, fmt.Errorf("ledger: fork proof: zero entry: %w", ErrMalformed)
	case x.author != y.author || x.Seq() != y.Seq():
		return ForkProof{}, fmt.Errorf("ledger: fork proof: %s and %s are not the same author and seq: %w", x, y, ErrMalformed)
	case x.hash == y.hash:
		return ForkProof{}, fmt.Errorf("ledger: fork proof: %s twice is no fork: %w", x, ErrMalformed)
	}
	if bytes.Compare(x.hash[:], y.hash[:]) > 0 {
		x, y = y, x
	}
	return ForkProof{A: x, B: y}, nil
}

// Proof returns the fork proof the error carries.
func (e *ForkError) Proof() (ForkProof, error) { return NewForkProof(e.Existing, e.Incoming) }

// Author is the author that equivocated.
func (p ForkProof) Author() Author { return p.A.author }

// Seq is where its log forks.
func (p ForkProof) Seq() Seq { return p.A.Seq() }

func (p ForkProof) String() string {
	return fmt.Sprintf("fork %s/%d: %s and %s", p.A.author.Short(), p.A.Seq(), p.A.hash.Short(), p.B.hash.Short())
}

// Proto returns the proof as its wire message.
func (p ForkProof) Proto() *caissev1.ForkProof {
	return &caissev1.ForkProof{First: p.A.Proto(), Second: p.B.Proto()}
}

// Marshal encodes the proof.
func (p ForkProof) Marshal() []byte {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(p.Proto())
	if err != nil {
		panic(fmt.Sprintf("ledger: encode fork proof: %v", err))
	}
	return raw
}

// ForkProofFromProto verifies both entries of a proof received from
// elsewhere and that they are an equivocation.
func ForkProofFromProto(m *caissev1.ForkProof) (ForkProof, error) {
	a, err := FromProto(m.GetFirst())
	if err != nil {
		return ForkProof{}, fmt.Errorf("ledger: fork proof: %w", err)
	}
	b, err := FromProto(m.GetSecond())
	if err != nil {
		return ForkProof{}, fmt.Errorf("ledger: fork proof: %w", err)
	}
	return NewForkProof(a, b)
}

// DecodeForkProof parses and verifies an encoded proof.
func DecodeForkProof(raw []byte) (ForkProof, error) {
	if len(raw) > 2*MaxEntrySize+16 {
		return ForkProof{}, fmt.Errorf("ledger: fork proof of %d bytes: %w", len(raw), ErrTooLarge)
	}
	var m caissev1.ForkProof
	if err := proto.Unmarshal(raw, &m); err != nil {
		return ForkProof{}, fmt.Errorf("ledger: fork proof: %v: %w", err, ErrMalformed)
	}
	return ForkProofFromProto(&m)
}

// DecodeForkProofUnverified parses a proof this node verified before
// storing it.
func DecodeForkProofUnverified(raw []byte) (ForkProof, error) {
	var m caissev1.ForkProof
	if err := proto.Unmarshal(raw, &m); err != nil {
		return ForkProof{}, fmt.Errorf("ledger: fork proof: %v: %w", err, ErrMalformed)
	}
	a, err := fromParts(m.GetFirst().GetBody(), m.GetFirst().GetSignature())
	if err != nil {
		return ForkProof{}, fmt.Errorf("ledger: fork proof: %w", err)
	}
	b, err := fromParts(m.GetSecond().GetBody(), m.GetSecond().GetSignature())
	if err != nil {
		return ForkProof{}, fmt.Errorf("ledger: fork proof: %w", err)
	}
	return NewForkProof(a, b)
}

// Lowest returns the proof, at the place of p and q, made of the two
// entries with the lowest hashes among theirs, and whether it differs from
// p. Every node keeps that one proof per place, whichever proofs it saw and
// in whatever order, so that stores and states agree.
func (p ForkProof) Lowest(q ForkProof) (ForkProof, bool, error) {
	if p.Author() != q.Author() || p.Seq() != q.Seq() {
		return p, false, fmt.Errorf("ledger: merge %s with %s: not the same place: %w", p, q, ErrMalformed)
	}
	all := []Entry{p.A, p.B, q.A, q.B}
	slices.SortFunc(all, func(x, y Entry) int { return bytes.Compare(x.hash[:], y.hash[:]) })
	all = slices.CompactFunc(all, func(x, y Entry) bool { return x.hash == y.hash })
	low := ForkProof{A: all[0], B: all[1]}
	return low, low.A.hash != p.A.hash || low.B.hash != p.B.hash, nil
}
