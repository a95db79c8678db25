package ledger_test

import (
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/google/go-cmp/cmp"
)

func TestParseHashAndAuthor(t *testing.T) {
	h := ledger.HashBody([]byte("caisse"))
	a := authorOf(founderKey)
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{name: "hash", in: h.String()},
		{name: "author", in: a.String()},
		{name: "upper case", in: strings.ToUpper(h.String())},
		{name: "zero", in: strings.Repeat("0", 64)},
		{name: "empty", in: "", err: ledger.ErrMalformed},
		{name: "short", in: h.String()[:62], err: ledger.ErrMalformed},
		{name: "long", in: h.String() + "00", err: ledger.ErrMalformed},
		{name: "odd", in: h.String()[:63], err: ledger.ErrMalformed},
		{name: "not hex", in: strings.Repeat("g", 64), err: ledger.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotH, err := ledger.ParseHash(tc.in)
			wantErr(t, err, tc.err)
			gotA, err := ledger.ParseAuthor(tc.in)
			wantErr(t, err, tc.err)
			if tc.err != nil {
				if gotH != (ledger.Hash{}) || gotA != (ledger.Author{}) {
					t.Errorf("got %v, %v with an error, want zero values", gotH, gotA)
				}
				return
			}
			if diff := cmp.Diff(strings.ToLower(tc.in), gotH.String()); diff != "" {
				t.Errorf("ParseHash(%q).String() (-want +got):\n%s", tc.in, diff)
			}
			if diff := cmp.Diff(strings.ToLower(tc.in), gotA.String()); diff != "" {
				t.Errorf("ParseAuthor(%q).String() (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestHashBody(t *testing.T) {
	// SHA-256 of the empty string.
	want := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	h := ledger.HashBody(nil)
	if diff := cmp.Diff(want, h.String()); diff != "" {
		t.Errorf("HashBody(nil) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:8], h.Short()); diff != "" {
		t.Errorf("Short() (-want +got):\n%s", diff)
	}
	if h.IsZero() || !(ledger.Hash{}).IsZero() {
		t.Errorf("IsZero: hash %v %v, zero %v", h, h.IsZero(), (ledger.Hash{}).IsZero())
	}
	a := authorOf(founderKey)
	if diff := cmp.Diff(a.String()[:8], a.Short()); diff != "" {
		t.Errorf("Author.Short() (-want +got):\n%s", diff)
	}
}

func TestVectorAuthors(t *testing.T) {
	a1 := ledger.Author{0x01}
	a2 := ledger.Author{0x01, 0x02}
	a3 := ledger.Author{0x80}
	a4 := ledger.Author{0xff, 0x00}
	v := ledger.Vector{a4: {Seq: 4}, a1: {Seq: 1}, a3: {Seq: 3}, a2: {Seq: 2}}
	want := []ledger.Author{a1, a2, a3, a4}
	for range 20 { // map order is random: any leak would show in a few tries
		if diff := cmp.Diff(want, v.Authors()); diff != "" {
			t.Fatalf("Authors() (-want +got):\n%s", diff)
		}
	}
	if got := (ledger.Vector{}).Authors(); len(got) != 0 {
		t.Errorf("empty vector: Authors() = %v", got)
	}
}
