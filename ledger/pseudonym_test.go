package ledger_test

import (
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/unicode/norm"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "plain", in: "anne morel", want: "anne morel"},
		{name: "case", in: "Anne MOREL", want: "anne morel"},
		{name: "inner spaces", in: "Anne  Morel", want: "anne morel"},
		{name: "outer white space", in: "\t Anne Morel \n", want: "anne morel"},
		{name: "no-break space", in: "Anne\u00a0Morel", want: "anne morel"},
		{name: "NFD to NFC", in: norm.NFD.String("Anne Morél"), want: "anne mor\u00e9l"},
		{name: "NFD capital", in: "E\u0301mile", want: "\u00e9mile"},
		{name: "empty", in: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ledger.NormalizeName(tc.in)); diff != "" {
				t.Errorf("NormalizeName(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestPseudonymFor(t *testing.T) {
	key := pseudonymKey
	otherKey := []byte(strings.Repeat("k", ledger.PseudonymKeySize))
	nfd := norm.NFD.String("Anne Morél")
	if nfd == "Anne Morél" {
		t.Fatal("test input is not decomposed")
	}
	tests := []struct {
		name       string
		keyA, keyB []byte
		a, b       string
		same       bool
	}{
		{name: "double space", keyA: key, keyB: key, a: "Anne  Morel", b: "anne morel", same: true},
		{name: "case", keyA: key, keyB: key, a: "ANNE MOREL", b: "anne morel", same: true},
		{name: "NFD and NFC", keyA: key, keyB: key, a: nfd, b: "anne mor\u00e9l", same: true},
		{name: "NFD and capitals", keyA: key, keyB: key, a: nfd, b: "ANNE MORÉL", same: true},
		{name: "accent matters", keyA: key, keyB: key, a: "Anne Morél", b: "Anne Morel", same: false},
		{name: "another person", keyA: key, keyB: key, a: "Anne Morel", b: "Anne Moreau", same: false},
		{name: "word boundary matters", keyA: key, keyB: key, a: "Anne Morel", b: "AnneMorel", same: false},
		{name: "another key", keyA: key, keyB: otherKey, a: "Anne Morel", b: "Anne Morel", same: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pa := ledger.PseudonymFor(tc.keyA, tc.a)
			pb := ledger.PseudonymFor(tc.keyB, tc.b)
			if (pa == pb) != tc.same {
				t.Errorf("PseudonymFor(%q) = %s, PseudonymFor(%q) = %s: same = %v, want %v", tc.a, pa, tc.b, pb, pa == pb, tc.same)
			}
			if pa == (ledger.Pseudonym{}) {
				t.Errorf("PseudonymFor(%q) is zero", tc.a)
			}
		})
	}
}

func TestParsePseudonym(t *testing.T) {
	p := ledger.PseudonymFor(pseudonymKey, "Anne Morel")
	tests := []struct {
		name string
		in   string
		want ledger.Pseudonym
		err  error
	}{
		{name: "round trip", in: p.String(), want: p},
		{name: "upper case hex", in: strings.ToUpper(p.String()), want: p},
		{name: "empty", in: "", err: ledger.ErrMalformed},
		{name: "too short", in: p.String()[:31], err: ledger.ErrMalformed},
		{name: "one byte short", in: p.String()[:30], err: ledger.ErrMalformed},
		{name: "too long", in: p.String() + "00", err: ledger.ErrMalformed},
		{name: "not hex", in: strings.Repeat("zz", 16), err: ledger.ErrMalformed},
		{name: "hex then not hex", in: p.String()[:30] + "zz", err: ledger.ErrMalformed},
		{name: "space", in: " " + p.String()[1:], err: ledger.ErrMalformed},
		{name: "an author key", in: authorOf(founderKey).String(), err: ledger.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ledger.ParsePseudonym(tc.in)
			wantErr(t, err, tc.err)
			if tc.err != nil {
				// As ParseHash and ParseAuthor do: no half-parsed value.
				if got != (ledger.Pseudonym{}) {
					t.Errorf("ParsePseudonym(%q) = %s with an error, want the zero pseudonym", tc.in, got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParsePseudonym(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	if got := len(p.String()); got != 32 {
		t.Errorf("len(String()) = %d, want 32", got)
	}
}
