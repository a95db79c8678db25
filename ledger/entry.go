package ledger

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"google.golang.org/protobuf/proto"
)

// MaxEntrySize bounds an encoded entry (body and signature). Anything larger
// is refused before it is parsed.
const MaxEntrySize = 16 << 10

// signContext separates entry signatures from anything else the same key
// signs (TLS handshakes, join tokens): a signature over an entry can never be
// replayed as another kind of statement.
const signContext = "caisse/entry/v1\x00"

// Entry is one signed fact. The zero Entry is not valid; an Entry comes from
// Sign, Decode or DecodeUnverified, and keeps the exact body bytes its
// signature covers. Its methods must not be used to modify it.
type Entry struct {
	body   []byte
	sig    []byte
	hash   Hash
	author Author
	b      *caissev1.EntryBody
}

// Signer signs entries with one key, checked once when the Signer is made.
type Signer struct {
	key    ed25519.PrivateKey
	author Author
}

// NewSigner checks key and returns a Signer for it.
func NewSigner(key ed25519.PrivateKey) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("ledger: sign: private key of %d bytes: %w", len(key), ErrMalformed)
	}
	// crypto/ed25519 signs with the public half of key as given, without
	// checking it against the seed: with a corrupted key file, or a seed
	// joined to another collective's public key, it would sign entries that
	// verify against no key, under an author whose secret we do not hold.
	pub := ed25519.NewKeyFromSeed(key.Seed()).Public().(ed25519.PublicKey)
	if !bytes.Equal(pub, key[ed25519.SeedSize:]) {
		return nil, fmt.Errorf("ledger: sign: private key whose public half %x is not derived from its seed: %w", []byte(key[ed25519.SeedSize:]), ErrMalformed)
	}
	s := &Signer{key: key}
	copy(s.author[:], pub)
	return s, nil
}

// Author is the signer's key, the author of the entries it signs.
func (s *Signer) Author() Author { return s.author }

// Sign validates body, encodes it and signs it with key, which must be the
// body's author. A node that signs many entries keeps a Signer instead,
// which checks the key once.
func Sign(key ed25519.PrivateKey, body *caissev1.EntryBody) (Entry, error) {
	s, err := NewSigner(key)
	if err != nil {
		return Entry{}, err
	}
	return s.Sign(body)
}

// Sign validates body, encodes it and signs it; body must name the signer
// as its author.
func (s *Signer) Sign(body *caissev1.EntryBody) (Entry, error) {
	pub := s.author[:]
	if string(pub) != string(body.GetAuthor()) {
		return Entry{}, fmt.Errorf("ledger: sign: body names author %x, key is %x: %w", body.GetAuthor(), []byte(pub), ErrWrongAuthor)
	}
	if err := checkBody(body); err != nil {
		return Entry{}, fmt.Errorf("ledger: sign seq %d: %w", body.GetSeq(), err)
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(body)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: sign: encode body: %w", err)
	}
	// curve25519-voi signs in about half the time crypto/ed25519 takes;
	// ed25519 signatures are deterministic, and both give the same bytes
	// (TestSignMatchesStdlib, and the golden entries).
	sig := voi.Sign(voi.PrivateKey(s.key), signedMessage(raw))
	e := Entry{body: raw, sig: sig, hash: HashBody(raw), b: proto.CloneOf(body)}
	copy(e.author[:], pub)
	if e.Size() > MaxEntrySize {
		return Entry{}, fmt.Errorf("ledger: sign seq %d: %d bytes, at most %d: %w", body.GetSeq(), e.Size(), MaxEntrySize, ErrTooLarge)
	}
	return e, nil
}

func signedMessage(body []byte) []byte {
	msg := make([]byte, 0, len(signContext)+len(body))
	return append(append(msg, signContext...), body...)
}

// Decode parses an encoded entry received from anywhere, checks its size and
// shape, and verifies its signature over the body bytes as received.
func Decode(raw []byte) (Entry, error) {
	e, err := decode(raw)
	if err != nil {
		return Entry{}, err
	}
	if err := e.Verify(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// FromProto is Decode for an entry already parsed from a larger message.
// The entry keeps p's byte slices: the caller must not modify them after.
func FromProto(p *caissev1.Entry) (Entry, error) {
	e, err := fromParts(p.GetBody(), p.GetSignature())
	if err != nil {
		return Entry{}, err
	}
	if err := e.Verify(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// DecodeUnverified parses an entry without verifying its signature. It is
// for bytes this node verified before storing them, and read back from a
// store that checksums its data; anything received from elsewhere goes
// through Decode.
func DecodeUnverified(raw []byte) (Entry, error) { return decode(raw) }

func decode(raw []byte) (Entry, error) {
	if len(raw) > MaxEntrySize {
		return Entry{}, fmt.Errorf("ledger: decode: %d bytes, at most %d: %w", len(raw), MaxEntrySize, ErrTooLarge)
	}
	var p caissev1.Entry
	if err := proto.Unmarshal(raw, &p); err != nil {
		return Entry{}, fmt.Errorf("ledger: decode: %v: %w", err, ErrMalformed)
	}
	return fromParts(p.GetBody(), p.GetSignature())
}

func fromParts(body, sig []byte) (Entry, error) {
	if len(body)+len(sig) > MaxEntrySize {
		return Entry{}, fmt.Errorf("ledger: decode: %d bytes, at most %d: %w", len(body)+len(sig), MaxEntrySize, ErrTooLarge)
	}
	if len(sig) != ed25519.SignatureSize {
		return Entry{}, fmt.Errorf("ledger: decode: signature of %d bytes: %w", len(sig), ErrMalformed)
	}
	var b caissev1.EntryBody
	if err := proto.Unmarshal(body, &b); err != nil {
		return Entry{}, fmt.Errorf("ledger: decode body: %v: %w", err, ErrMalformed)
	}
	if err := checkBody(&b); err != nil {
		return Entry{}, fmt.Errorf("ledger: decode %x/%d: %w", b.GetAuthor(), b.GetSeq(), err)
	}
	e := Entry{body: body, sig: sig, hash: HashBody(body), b: &b}
	copy(e.author[:], b.GetAuthor())
	return e, nil
}

// Marshal returns the entry's encoding, as Decode reads it.
func (e Entry) Marshal() []byte {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(e.Proto())
	if err != nil {
		panic(fmt.Sprintf("ledger: encode entry: %v", err)) // two bytes fields cannot fail
	}
	return raw
}

// Proto returns the entry as its wire message, sharing its bytes.
func (e Entry) Proto() *caissev1.Entry { return &caissev1.Entry{Body: e.body, Signature: e.sig} }

// Body returns the parsed body. It is shared: do not modify it.
func (e Entry) Body() *caissev1.EntryBody { return e.b }

// BodyBytes returns the exact signed body bytes. Do not modify them.
func (e Entry) BodyBytes() []byte { return e.body }

// Signature returns the ed25519 signature. Do not modify it.
func (e Entry) Signature() []byte { return e.sig }

// Hash identifies the entry: SHA-256 of its body bytes.
func (e Entry) Hash() Hash { return e.hash }

// Author is the key that signed the entry.
func (e Entry) Author() Author { return e.author }

// Seq is the entry's position in its author's log.
func (e Entry) Seq() Seq { return Seq(e.b.GetSeq()) }

// Prev is the hash of the author's previous entry, zero for seq 1.
func (e Entry) Prev() Hash {
	var h Hash
	copy(h[:], e.b.GetPrev())
	return h
}

// Federation is the id of the entry's federation, zero for a genesis.
func (e Entry) Federation() Hash {
	var h Hash
	copy(h[:], e.b.GetFederation())
	return h
}

// Time is the entry's hybrid logical clock reading.
func (e Entry) Time() HLC { return hlcFromProto(e.b.GetTime()) }

// Head is the head of the author's log once this entry is appended.
func (e Entry) Head() Head { return Head{Seq: e.Seq(), Hash: e.hash, Time: e.Time()} }

// Size is the encoded size of the entry in bytes.
func (e Entry) Size() int { return proto.Size(e.Proto()) }

// Kind names the entry's kind: "genesis", "contribution", ...
func (e Entry) Kind() string { return KindName(e.b) }

// IsZero reports whether e is the zero Entry.
func (e Entry) IsZero() bool { return e.b == nil }

func (e Entry) String() string {
	return fmt.Sprintf("%s/%d %s %s", e.author.Short(), e.Seq(), e.Kind(), e.hash.Short())
}

// KindName names the kind of a body.
func KindName(b *caissev1.EntryBody) string {
	switch b.GetKind().(type) {
	case *caissev1.EntryBody_Genesis:
		return "genesis"
	case *caissev1.EntryBody_Contribution:
		return "contribution"
	case *caissev1.EntryBody_Disbursement:
		return "disbursement"
	case *caissev1.EntryBody_Correction:
		return "correction"
	case *caissev1.EntryBody_Application:
		return "application"
	case *caissev1.EntryBody_Proposal:
		return "proposal"
	case *caissev1.EntryBody_Vote:
		return "vote"
	case *caissev1.EntryBody_PeriodClose:
		return "period_close"
	case *caissev1.EntryBody_Settlement:
		return "settlement"
	case *caissev1.EntryBody_SettlementAck:
		return "settlement_ack"
	case nil:
		return "none"
	}
	return "unknown"
}
