package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
)

// Hash is the SHA-256 of an entry's body bytes.
type Hash [32]byte

// HashBody returns the hash that identifies an entry with these body bytes.
func HashBody(body []byte) Hash { return sha256.Sum256(body) }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short is the first 8 hex digits, for logs.
func (h Hash) Short() string { return hex.EncodeToString(h[:4]) }

// IsZero reports whether h is the zero hash, the prev of a first entry.
func (h Hash) IsZero() bool { return h == Hash{} }

// ParseHash parses 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if err := parseHex32(s, (*[32]byte)(&h)); err != nil {
		return Hash{}, fmt.Errorf("ledger: parse hash: %w", err)
	}
	return h, nil
}

// Author is a collective's node key: a 32-byte ed25519 public key.
type Author [32]byte

func (a Author) String() string { return hex.EncodeToString(a[:]) }

// Short is the first 8 hex digits, for logs.
func (a Author) Short() string { return hex.EncodeToString(a[:4]) }

// ParseAuthor parses 64 hex digits.
func ParseAuthor(s string) (Author, error) {
	var a Author
	if err := parseHex32(s, (*[32]byte)(&a)); err != nil {
		return Author{}, fmt.Errorf("ledger: parse author: %w", err)
	}
	return a, nil
}

func parseHex32(s string, out *[32]byte) error {
	if len(s) != 64 {
		return fmt.Errorf("%w: want 64 hex digits, got %d characters", ErrMalformed, len(s))
	}
	if _, err := hex.Decode(out[:], []byte(s)); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

// Seq is an entry's position in its author's log, from 1.
type Seq uint64

// Head is the tip of one author's log.
type Head struct {
	Seq  Seq
	Hash Hash
	Time HLC
}

// Vector maps each author to the head of its log: what a node holds.
type Vector map[Author]Head

// Authors returns the vector's authors in byte order, so that no map order
// reaches an output.
func (v Vector) Authors() []Author {
	keys := slices.Collect(maps.Keys(v))
	slices.SortFunc(keys, func(a, b Author) int { return compareBytes(a[:], b[:]) })
	return keys
}

func compareBytes(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}
