package backup_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/backup"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"google.golang.org/protobuf/proto"
)

// sample is a small federation's entries and one fork proof.
func sample(tb testing.TB) (backup.Header, []ledger.Entry, []ledger.ForkProof) {
	tb.Helper()
	a, b := ledgertest.NewAuthor(tb, 1), ledgertest.NewAuthor(tb, 2)
	gen := a.Genesis(tb, "fédération", b)
	fed := gen.Hash()
	entries := []ledger.Entry{gen}
	for i := range 3 {
		entries = append(entries, a.Contribution(tb, fed, ledger.Amount(100+i), ledgertest.Period))
	}
	x := b.Peek(tb, fed, nil)
	y := b.Peek(tb, fed, func(body *caissev1.EntryBody) { body.GetContribution().Amount++ })
	entries = append(entries, b.Contribution(tb, fed, 5, ledgertest.Period))
	p, err := ledger.NewForkProof(x, y)
	if err != nil {
		tb.Fatal(err)
	}
	return backup.Header{Federation: fed, State: ledger.Hash{7}, Entries: uint64(len(entries)), Forks: 1}, entries, []ledger.ForkProof{p}
}

func write(tb testing.TB, h backup.Header, entries []ledger.Entry, forks []ledger.ForkProof) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := backup.NewWriter(&buf, h)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		if err := w.Entry(e); err != nil {
			tb.Fatal(err)
		}
	}
	for _, p := range forks {
		if err := w.Fork(p); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads a whole backup: its header and records, or an error.
func readAll(r io.Reader) (backup.Header, []string, error) {
	br, err := backup.NewReader(r)
	if err != nil {
		return backup.Header{}, nil, err
	}
	var got []string
	for {
		rec, err := br.Next()
		if errors.Is(err, io.EOF) {
			return br.Header(), got, nil
		}
		if err != nil {
			return br.Header(), got, err
		}
		if rec.IsFork() {
			got = append(got, "fork "+rec.Fork.A.Hash().String()+" "+rec.Fork.B.Hash().String())
		} else {
			got = append(got, "entry "+rec.Entry.Hash().String())
		}
	}
}

func TestRoundTrip(t *testing.T) {
	h, entries, forks := sample(t)
	raw := write(t, h, entries, forks)
	got, recs, err := readAll(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got != h || len(recs) != len(entries)+1 {
		t.Fatalf("read header %+v and %d records, want %+v and %d", got, len(recs), h, len(entries)+1)
	}
	for i, e := range entries {
		if recs[i] != "entry "+e.Hash().String() {
			t.Errorf("record %d: %s, want entry %s", i, recs[i], e.Hash())
		}
	}
}

func TestWriterChecksCounts(t *testing.T) {
	h, entries, forks := sample(t)
	var buf bytes.Buffer
	w, err := backup.NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Entry(entries[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil || !strings.Contains(err.Error(), "announced") {
		t.Fatalf("close with records missing: %v", err)
	}
	h.Forks = 0
	w, _ = backup.NewWriter(&buf, h)
	if err := w.Fork(forks[0]); err == nil {
		t.Fatal("a fork proof beyond the header's count was written")
	}
}

func TestReaderRefuses(t *testing.T) {
	h, entries, forks := sample(t)
	good := write(t, h, entries, forks)
	forged := &caissev1.Entry{Body: entries[1].BodyBytes(), Signature: bytes.Clone(entries[1].Signature())}
	forged.Signature[0] ^= 1
	var bad bytes.Buffer
	w, _ := backup.NewWriter(&bad, backup.Header{Federation: h.Federation, Entries: 1})
	// The writer does not verify: it writes what the store holds. The
	// reader does.
	e, err := ledger.DecodeUnverified(mustMarshal(t, forged))
	if err != nil {
		t.Fatal(err)
	}
	w.Entry(e)
	w.Close()
	var foreign bytes.Buffer
	w, _ = backup.NewWriter(&foreign, backup.Header{Federation: ledger.Hash{9}, Entries: 1})
	w.Entry(entries[1])
	w.Close()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"forged signature", bad.Bytes(), "signature"},
		{"another federation's entry", foreign.Bytes(), "another federation"},
		{"oversized record", append(bytes.Clone(good[:len(good)-33]), 1, 0xff, 0xff, 0xff, 0x7f), "at most"},
		{"unknown record kind", append(bytes.Clone(good[:len(good)-33]), 9, 0), "record kind 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(bytes.NewReader(tc.data))
			if !errors.Is(err, backup.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrCorrupt mentioning %q", err, tc.want)
			}
		})
	}
}

func mustMarshal(t *testing.T, p *caissev1.Entry) []byte {
	t.Helper()
	b, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzReader: whatever the bytes, the reader never panics, and a stream it
// reads through whole holds verified records that write and read back the
// same.
func FuzzReader(f *testing.F) {
	h, entries, forks := sample(f)
	good := write(f, h, entries, forks)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(write(f, backup.Header{}, nil, nil))
	f.Add([]byte("CAISSEBK\x01"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		br, err := backup.NewReader(bytes.NewReader(raw))
		if err != nil {
			if !errors.Is(err, backup.ErrCorrupt) {
				t.Fatalf("NewReader: %v, not ErrCorrupt", err)
			}
			return
		}
		var es []ledger.Entry
		var ps []ledger.ForkProof
		for {
			rec, err := br.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if !errors.Is(err, backup.ErrCorrupt) {
					t.Fatalf("Next: %v, not ErrCorrupt", err)
				}
				return
			}
			if rec.IsFork() {
				ps = append(ps, rec.Fork)
			} else {
				if err := rec.Entry.Verify(); err != nil {
					t.Fatalf("the reader returned an entry that does not verify: %v", err)
				}
				es = append(es, rec.Entry)
			}
		}
		again := write(t, br.Header(), es, ps)
		hdr, recs, err := readAll(bytes.NewReader(again))
		if err != nil || hdr != br.Header() || len(recs) != len(es)+len(ps) {
			t.Fatalf("a backup read whole does not write and read back: %v", err)
		}
	})
}
