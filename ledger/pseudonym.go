package ledger

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Pseudonym stands for a person in replicated entries. It is a keyed hash
// of the person's name: without the node's local pseudonym key, nobody can
// test a guess of who is behind it. Names stay in the node's local register.
type Pseudonym [16]byte

// PseudonymKeySize is the size of the local key pseudonyms are derived with.
const PseudonymKeySize = 32

// PseudonymFor derives the pseudonym of a person's name under a node's key.
// Names are compared after Unicode NFC normalization, lower-casing and
// collapsing of white space, so "Anne  Morel" and "anne morel" are one person.
func PseudonymFor(key []byte, name string) Pseudonym {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("caisse/pseudonym/v1\x00"))
	m.Write([]byte(NormalizeName(name)))
	var p Pseudonym
	copy(p[:], m.Sum(nil))
	return p
}

// NormalizeName is the form of a name that pseudonyms are derived from.
func NormalizeName(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(norm.NFC.String(name)), " "))
}

func (p Pseudonym) String() string { return hex.EncodeToString(p[:]) }

// ParsePseudonym parses 32 hex digits.
func ParsePseudonym(s string) (Pseudonym, error) {
	var p Pseudonym
	if len(s) != 2*len(p) {
		return p, fmt.Errorf("ledger: pseudonym %q: want %d hex digits: %w", s, 2*len(p), ErrMalformed)
	}
	if _, err := hex.Decode(p[:], []byte(s)); err != nil {
		return Pseudonym{}, fmt.Errorf("ledger: pseudonym %q: %w", s, ErrMalformed)
	}
	return p, nil
}
