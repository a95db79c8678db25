package ledger

import (
	"encoding/base32"
	"fmt"
	"strings"
)

// NodeID is an author's key written for people to read aloud, compare and
// type, like a Syncthing device id: the 32 bytes in base32 (RFC 4648
// alphabet, no padding), 52 characters cut in four runs of 13, each
// followed by a check character (Luhn mod 32), the 56 characters grouped
// by 7 with dashes:
//
//	MFRGGZD-FMZTGNB-...-(eight blocks)
//
// A check character catches any single wrong character in its run, and
// most swaps of two neighbours. The first block is the short form, for
// tables and logs (Short); two keys can share it, the full id cannot.
type NodeID string

const (
	nodeIDAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	nodeIDRun      = 13 // base32 characters before each check character
	nodeIDRuns     = 4
	nodeIDChars    = nodeIDRuns * (nodeIDRun + 1) // 56
	nodeIDBlock    = 7
)

var nodeIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ID returns a's node id.
func (a Author) ID() NodeID {
	data := nodeIDEncoding.EncodeToString(a[:]) // 52 characters
	var raw [nodeIDChars]byte
	for r := range nodeIDRuns {
		run := data[r*nodeIDRun : (r+1)*nodeIDRun]
		copy(raw[r*(nodeIDRun+1):], run)
		raw[r*(nodeIDRun+1)+nodeIDRun] = luhn32(run)
	}
	var b strings.Builder
	b.Grow(nodeIDChars + nodeIDChars/nodeIDBlock - 1)
	for i := 0; i < nodeIDChars; i += nodeIDBlock {
		if i > 0 {
			b.WriteByte('-')
		}
		b.Write(raw[i : i+nodeIDBlock])
	}
	return NodeID(b.String())
}

func (id NodeID) String() string { return string(id) }

// Short is the first block of the id: seven characters, 35 bits of the
// key, for tables.
func (id NodeID) Short() NodeID {
	if len(id) < nodeIDBlock {
		return id
	}
	return id[:nodeIDBlock]
}

// ParseNodeID reads a node id as people type it: in any case, with or
// without dashes or spaces, with 0, 1 and 8 read as O, I and B (base32 has
// no such digits). It refuses, with ErrMalformed, an id of the wrong
// length, a character outside the alphabet and a wrong check character,
// naming the blocks where the typo is.
func ParseNodeID(s string) (Author, error) {
	raw := make([]byte, 0, nodeIDChars)
	for _, r := range s {
		switch {
		case r == '-' || r == ' ':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r == '0':
			r = 'O'
		case r == '1':
			r = 'I'
		case r == '8':
			r = 'B'
		}
		if r > 0x7f || strings.IndexByte(nodeIDAlphabet, byte(r)) < 0 {
			return Author{}, fmt.Errorf("ledger: parse node id %q: %q is not a base32 character: %w", s, r, ErrMalformed)
		}
		raw = append(raw, byte(r))
	}
	if len(raw) != nodeIDChars {
		return Author{}, fmt.Errorf("ledger: parse node id %q: %d characters, want %d (eight blocks of seven): %w", s, len(raw), nodeIDChars, ErrMalformed)
	}
	data := make([]byte, 0, nodeIDRuns*nodeIDRun)
	for r := range nodeIDRuns {
		run := string(raw[r*(nodeIDRun+1) : r*(nodeIDRun+1)+nodeIDRun])
		if luhn32(run) != raw[r*(nodeIDRun+1)+nodeIDRun] {
			return Author{}, fmt.Errorf("ledger: parse node id %q: wrong check character: a typo in block %d or %d: %w", s, 2*r+1, 2*r+2, ErrMalformed)
		}
		data = append(data, run...)
	}
	var a Author
	n, err := nodeIDEncoding.Decode(a[:], data)
	if err != nil || n != len(a) {
		return Author{}, fmt.Errorf("ledger: parse node id %q: %v: %w", s, err, ErrMalformed)
	}
	// The last character carries one bit of the key and four zero bits:
	// only one spelling of each key is an id.
	if got := a.ID(); strings.ReplaceAll(string(got), "-", "") != string(raw) {
		return Author{}, fmt.Errorf("ledger: parse node id %q: not the canonical spelling of %s: %w", s, got, ErrMalformed)
	}
	return a, nil
}

// luhn32 is the Luhn mod 32 check character of run: doubling every second
// value from the right maps 0..31 onto 0..31 one to one, so that changing
// any one character changes the sum.
func luhn32(run string) byte {
	const n = len(nodeIDAlphabet)
	factor, sum := 2, 0
	for i := len(run) - 1; i >= 0; i-- {
		v := factor * strings.IndexByte(nodeIDAlphabet, run[i])
		sum += v/n + v%n
		factor = 3 - factor
	}
	return nodeIDAlphabet[(n-sum%n)%n]
}
