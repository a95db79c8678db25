package ledger_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/google/go-cmp/cmp"
)

const b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// TestNodeIDVectors pins the format: node ids are read aloud and written
// down, a change is a break. The vectors were checked against an
// independent implementation (Python's base64.b32encode and a Luhn mod 32
// written from its definition).
func TestNodeIDVectors(t *testing.T) {
	var ff ledger.Author
	for i := range ff {
		ff[i] = 0xff
	}
	tests := []struct {
		name  string
		key   ledger.Author
		id    ledger.NodeID
		short ledger.NodeID
	}{
		{"founder key of the golden vectors", authorOf(founderKey),
			"PG2VMLU-P4ZKPS5-QDYWEJO-RKMLU6Q-IB7BJ24-2K35V7S-A4OIQXL-IESZSAL", "PG2VMLU"},
		{"zero key", ledger.Author{},
			"AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA", "AAAAAAA"},
		{"all ones", ff,
			"7777777-777777N-7777777-777777N-7777777-777777N-7777777-77777QL", "7777777"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := tc.key.ID()
			if id != tc.id {
				t.Errorf("ID() = %s, want %s", id, tc.id)
			}
			if id.String() != string(tc.id) {
				t.Errorf("String() = %s", id.String())
			}
			if id.Short() != tc.short {
				t.Errorf("Short() = %s, want %s", id.Short(), tc.short)
			}
			a, err := ledger.ParseNodeID(string(tc.id))
			if err != nil || a != tc.key {
				t.Errorf("ParseNodeID = %s, %v; want %s", a, err, tc.key)
			}
		})
	}
}

// TestNodeIDRoundTrip: random keys, their ids, and the ids as people type
// them.
func TestNodeIDRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		var a ledger.Author
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		id := a.ID()
		if len(id) != 63 || strings.Count(string(id), "-") != 7 {
			t.Fatalf("ID() = %q: want eight blocks of seven", id)
		}
		for i, block := range strings.Split(string(id), "-") {
			if len(block) != 7 || strings.Trim(block, b32) != "" {
				t.Fatalf("ID() = %q: block %d is %q", id, i+1, block)
			}
		}
		if id.Short() != id[:7] {
			t.Fatalf("Short() = %q, want the first block of %q", id.Short(), id)
		}
		plain := strings.ReplaceAll(string(id), "-", "")
		for _, s := range []string{string(id), strings.ToLower(string(id)), plain, strings.ToLower(plain),
			strings.ReplaceAll(string(id), "-", " "), " " + string(id) + " ",
			strings.NewReplacer("O", "0", "I", "1", "B", "8").Replace(string(id))} {
			got, err := ledger.ParseNodeID(s)
			if err != nil || got != a {
				t.Fatalf("ParseNodeID(%q) = %s, %v; want %s", s, got, err, a)
			}
		}
	}
}

// TestNodeIDTypos changes each character of ids, one at a time, to every
// other character of the alphabet: ParseNodeID refuses every one.
// Neighbour swaps are mostly caught: at least 90% of them here.
func TestNodeIDTypos(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var swaps, caught int
	for range 20 {
		var a ledger.Author
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		id := []byte(a.ID())
		for i, c := range id {
			if c == '-' {
				continue
			}
			for _, r := range []byte(b32) {
				if r == c {
					continue
				}
				typo := append([]byte(nil), id...)
				typo[i] = r
				_, err := ledger.ParseNodeID(string(typo))
				if !errors.Is(err, ledger.ErrMalformed) {
					t.Fatalf("ParseNodeID(%s), a typo at %d of %s: %v, want ErrMalformed", typo, i, id, err)
				}
				if !strings.HasPrefix(err.Error(), "ledger: parse node id") {
					t.Fatalf("error %q does not name the operation", err)
				}
			}
			if j := i + 1; j < len(id) && id[j] != '-' && id[j] != c {
				swapped := append([]byte(nil), id...)
				swapped[i], swapped[j] = swapped[j], swapped[i]
				swaps++
				if _, err := ledger.ParseNodeID(string(swapped)); err != nil {
					caught++
				}
			}
		}
	}
	if caught*10 < swaps*9 {
		t.Errorf("caught %d of %d swaps of neighbours", caught, swaps)
	}
}

func TestParseNodeIDRefused(t *testing.T) {
	id := string(authorOf(founderKey).ID())
	plain := strings.ReplaceAll(id, "-", "")
	// A spelling whose check characters are right but whose last
	// character sets bits that no key has.
	lastRun := plain[42:55]
	// The last data character is 'A' (00000: one key bit, four zero
	// padding bits); 'B' (00001) has the same key bit and a padding bit
	// set.
	noncanon := plain[:54] + "B"
	noncanon = noncanon + string(luhn32Ref(noncanon[42:55]))
	if lastRun == noncanon[42:55] {
		t.Fatal("the noncanonical spelling is the canonical one")
	}
	tests := []struct {
		name, s string
		msg     string
	}{
		{"empty", "", "0 characters"},
		{"the short form", id[:7], "7 characters"},
		{"without the check characters", plain[:13] + plain[14:27] + plain[28:41] + plain[42:55], "52 characters"},
		{"one character too many", id + "A", "57 characters"},
		{"a character outside base32", "!" + id[1:], "not a base32 character"},
		{"a letter with an accent", "É" + id[1:], "not a base32 character"},
		{"a 9", "9" + id[1:], "not a base32 character"},
		{"a typo in the first block", "Q" + id[1:], "block 1 or 2"},
		{"a typo in the last block", id[:62] + "A", "block 7 or 8"},
		{"padding bits set", noncanon, "not the canonical spelling"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ledger.ParseNodeID(tc.s)
			if !errors.Is(err, ledger.ErrMalformed) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ParseNodeID(%q) = %v, want ErrMalformed saying %q", tc.s, err, tc.msg)
			}
			if diff := cmp.Diff(ledger.Author{}, a); diff != "" {
				t.Errorf("ParseNodeID returned a key with its error:\n%s", diff)
			}
		})
	}
}

// luhn32Ref is the check character, written here from its definition, as
// a reference for the package's.
func luhn32Ref(run string) byte {
	sum, factor := 0, 2
	for i := len(run) - 1; i >= 0; i-- {
		v := factor * strings.IndexByte(b32, run[i])
		sum += v/32 + v%32
		factor = 3 - factor
	}
	return b32[(32-sum%32)%32]
}
