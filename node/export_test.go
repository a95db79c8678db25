package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// exportFixture is a federation of two caisses seen from the founder's
// node: this node's caisse, with contributions, disbursements and a
// correction across two periods and several categories; and a second
// caisse, admitted then excluded, some of whose entries count for
// nothing. want holds the rows an export of everything must have.
type exportFixture struct {
	dir   string
	n     *Node
	b     *backend
	now   time.Time
	other *ledger.Signer
	log   []ledger.Entry // the other caisse's log
	fid   ledger.Hash
	want  []exportJSON
}

const otherName = "Caisse du rail"

func newExportFixture(t *testing.T) *exportFixture {
	t.Helper()
	f := &exportFixture{dir: t.TempDir(), now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	f.open(t)
	ctx := context.Background()
	name := func(s string) *rpcv1.MemberRef { return &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: s}} }
	record := func(kind, category, period string, amount int64, text, note string, resp *rpcv1.RecordResponse, err error) *rpcv1.EntryView {
		t.Helper()
		if err != nil {
			t.Fatalf("record %s %s %s: %v", kind, category, text, err)
		}
		v := resp.GetEntry()
		dir := federation.DirectionIn
		if kind == "disbursement" {
			dir = federation.DirectionOut
		}
		f.want = append(f.want, f.row(v.GetAuthor(), f.n.cfg.Name, v.GetSeq(), v.GetTimeMs(), v.GetHash(), kind, dir, category, period,
			amount, text, v.GetMember(), note, ""))
		f.tick(24 * time.Hour)
		return v
	}
	contribute := func(who, amount, period, category, note string, minor int64) *rpcv1.EntryView {
		resp, err := f.b.Contribute(ctx, &rpcv1.ContributeRequest{Member: name(who), Amount: amount, Period: period, Category: category, Note: note})
		return record("contribution", category, period, minor, amount, note, resp, err)
	}
	disburse := func(who, amount, period, category, note string, minor int64) *rpcv1.EntryView {
		resp, err := f.b.Disburse(ctx, &rpcv1.DisburseRequest{Beneficiary: name(who), Amount: amount, Period: period, Category: category, Note: note})
		return record("disbursement", category, period, -minor, "-"+amount, note, resp, err)
	}
	contribute("Anne Morel", "12.50", "2026-10", "dues", "cotisation d'octobre", 1250)
	contribute("Karim Benali", "100.00", "2026-11", "donation", `=HYPERLINK("http://example.com")`, 10000)
	disburse("Lucie Faure", "40.25", "2026-11", "strike", "piquet; jour 1, \"grève\"\nsuite", 4025)
	legal := disburse("Anne Morel", "7.50", "2026-10", "legal", "avocat", 750)
	fix, err := f.b.Correct(ctx, &rpcv1.CorrectRequest{Seq: legal.GetSeq(), Reason: "saisie en double"})
	if err != nil {
		t.Fatal(err)
	}
	v := fix.GetEntry()
	f.want = append(f.want, f.row(v.GetAuthor(), f.n.cfg.Name, v.GetSeq(), v.GetTimeMs(), v.GetHash(), "correction", federation.DirectionOut,
		"legal", "2026-10", 750, "7.50", legal.GetMember(), "saisie en double", legal.GetHash()))
	f.tick(24 * time.Hour)
	contribute("Karim Benali", "0.01", "2026-11", "dues", "", 1)

	// The other caisse applies; one of its entries is dated before its
	// admission, and counts for nothing.
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	if f.other, err = ledger.NewSigner(key); err != nil {
		t.Fatal(err)
	}
	f.fid, _, _ = f.n.federationID()
	f.tick(time.Minute)
	f.ingest(t, stored, f.otherEntry(t, &caissev1.EntryBody_Application{Application: &caissev1.Application{Name: otherName, Note: "cheminots"}}))
	early := f.otherEntry(t, contribution(ledger.Pseudonym{1}, 999, "2026-11", "dues", "avant l'admission"))
	f.ingest(t, pending, early)
	f.tick(time.Minute)
	o := f.other.Author()
	admit := f.appendSelf(t, &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{
		Action: &caissev1.Proposal_Admit{Admit: &caissev1.Admit{Applicant: o[:]}}}})
	f.vote(t, admit)
	f.ingest(t, stored, early)
	f.tick(time.Minute)
	for _, e := range []ledger.Entry{
		f.otherEntry(t, contribution(ledger.Pseudonym{2}, 2000, "2026-11", "dues", "virement")),
		f.otherEntry(t, &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
			Beneficiary: bytes.Repeat([]byte{3}, 16), Amount: 500, Period: "2026-11",
			Category: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_HARDSHIP, Note: "aide"}}),
	} {
		f.ingest(t, stored, e)
	}
	counted := f.log[2]
	f.want = append(f.want,
		f.otherRow(f.log[2], "contribution", federation.DirectionIn, "dues", 2000, "20.00", ledger.Pseudonym{2}, "virement", ""),
		f.otherRow(f.log[3], "disbursement", federation.DirectionOut, "hardship", -500, "-5.00", ledger.Pseudonym{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, "aide", ""),
	)

	// Then it is excluded: what it writes afterwards counts for nothing,
	// a correction of an entry that counted included.
	f.tick(time.Minute)
	exclude := f.appendSelf(t, &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{
		Action: &caissev1.Proposal_Exclude{Exclude: &caissev1.Exclude{Member: o[:]}}}})
	f.vote(t, exclude)
	f.tick(time.Minute)
	h := counted.Hash()
	f.ingest(t, stored, f.otherEntry(t, contribution(ledger.Pseudonym{4}, 300, "2026-11", "dues", "après l'exclusion")))
	f.ingest(t, stored, f.otherEntry(t, &caissev1.EntryBody_Correction{Correction: &caissev1.Correction{
		TargetSeq: uint64(counted.Seq()), TargetHash: h[:], Reason: "après l'exclusion"}}))

	slices.SortFunc(f.want, func(a, b exportJSON) int {
		if c := strings.Compare(a.Signer, b.Signer); c != 0 { // hex order is byte order
			return c
		}
		return int(a.Seq) - int(b.Seq)
	})
	return f
}

// open (re)opens the node on the fixture's directory, with a clock that
// moves only when the test says.
func (f *exportFixture) open(t *testing.T) {
	t.Helper()
	cfg := testConfig(t, f.dir)
	cfg.Now = func() time.Time { return f.now }
	f.n = mustNew(t, cfg)
	t.Cleanup(func() { f.n.Close() })
	f.b = &backend{n: f.n}
}

func (f *exportFixture) tick(d time.Duration) { f.now = f.now.Add(d) }

func (f *exportFixture) row(signer, name string, seq, ms uint64, id, kind, dir, category, period string, minor int64, amount, member, note, corrects string) exportJSON {
	a, err := ledger.ParseAuthor(signer)
	if err != nil {
		panic(err)
	}
	at := time.UnixMilli(int64(ms)).UTC()
	return exportJSON{
		Date: at.Format("2006-01-02"), Time: at.Format("2006-01-02T15:04:05.000Z"), Period: period,
		Caisse: string(a.ID()), CaisseName: name, Seq: seq, Kind: kind, Direction: dir, Category: category,
		Amount: amount, AmountMinor: minor, Currency: "EUR", Member: member, Note: note, Corrects: corrects,
		ID: id, Signer: signer,
	}
}

func (f *exportFixture) otherRow(e ledger.Entry, kind, dir, category string, minor int64, amount string, member ledger.Pseudonym, note, corrects string) exportJSON {
	return f.row(e.Author().String(), otherName, uint64(e.Seq()), e.Time().Wall, e.Hash().String(), kind, dir, category,
		"2026-11", minor, amount, member.String(), note, corrects)
}

func contribution(p ledger.Pseudonym, amount int64, period, category, note string) *caissev1.EntryBody_Contribution {
	cat, err := ledger.ParseContributionCategory(category)
	if err != nil {
		panic(err)
	}
	return &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
		Member: p[:], Amount: amount, Period: period, Category: cat, Note: note}}
}

// otherEntry signs the next entry of the other caisse's log, dated now
// and a millisecond per entry.
func (f *exportFixture) otherEntry(t *testing.T, kind any) ledger.Entry {
	t.Helper()
	a := f.other.Author()
	body := &caissev1.EntryBody{Federation: f.fid[:], Author: a[:], Seq: uint64(len(f.log)) + 1,
		Time: &caissev1.HLC{WallMs: uint64(f.now.UnixMilli())}}
	switch k := kind.(type) {
	case *caissev1.EntryBody_Application:
		body.Kind = k
	case *caissev1.EntryBody_Contribution:
		body.Kind = k
	case *caissev1.EntryBody_Disbursement:
		body.Kind = k
	case *caissev1.EntryBody_Correction:
		body.Kind = k
	}
	if len(f.log) > 0 {
		prev := f.log[len(f.log)-1].Hash()
		body.Prev = prev[:]
	}
	e, err := f.other.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	f.log = append(f.log, e)
	f.tick(time.Millisecond)
	return e
}

// ingest gives e to the node as if a peer sent it.
func (f *exportFixture) ingest(t *testing.T, want outcome, e ledger.Entry) {
	t.Helper()
	if r := f.n.ingest([]ledger.Entry{e}); r[0].out != want {
		t.Fatalf("ingest %s: %s (%v), want %s", e, r[0].out, r[0].err, want)
	}
}

// appendSelf appends to this node's log without the replication that a
// node with peers waits for.
func (f *exportFixture) appendSelf(t *testing.T, kind *caissev1.EntryBody_Proposal) ledger.Entry {
	t.Helper()
	e, err := f.n.appendLocked(func(b *caissev1.EntryBody) { b.Kind = kind })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *exportFixture) vote(t *testing.T, proposal ledger.Entry) {
	t.Helper()
	h := proposal.Hash()
	if _, err := f.n.appendLocked(func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Vote{Vote: &caissev1.Vote{Proposal: h[:], Choice: caissev1.Choice_CHOICE_YES}}
	}); err != nil {
		t.Fatal(err)
	}
}

// export runs the RPC into a buffer.
func exportTo(t *testing.T, b *backend, format, period, caisse string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	err := b.Export(context.Background(), &rpcv1.ExportRequest{Format: format, Period: period, Caisse: caisse}, &buf)
	if err != nil && buf.Len() > 0 {
		t.Errorf("export %s %q %q failed (%v) after writing %d bytes", format, period, caisse, err, buf.Len())
	}
	return buf.String(), err
}

func mustExport(t *testing.T, b *backend, format, period, caisse string) string {
	t.Helper()
	out, err := exportTo(t, b, format, period, caisse)
	if err != nil {
		t.Fatalf("export %s %q %q: %v", format, period, caisse, err)
	}
	return out
}

// csvRecord is what a row must read as in CSV.
func csvRecord(r exportJSON) []string {
	safe := func(s string) string {
		if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
			return "'" + s
		}
		return s
	}
	return []string{r.Date, r.Time, r.Period, r.Caisse, safe(r.CaisseName), strconv.FormatUint(r.Seq, 10), r.Kind, r.Direction,
		r.Category, r.Amount, strconv.FormatInt(r.AmountMinor, 10), r.Currency, r.Member, safe(r.Note), r.Corrects, r.ID, r.Signer}
}

func parseCSV(t *testing.T, out string) [][]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("read the CSV back: %v\n%s", err, out)
	}
	if len(records) == 0 || !slices.Equal(records[0], exportColumns) {
		t.Fatalf("CSV header %q, want %q", records, exportColumns)
	}
	return records[1:]
}

func parseJSONLines(t *testing.T, out string) []exportJSON {
	t.Helper()
	rows := []exportJSON{}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	for {
		var r exportJSON
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode the JSON lines: %v\n%s", err, out)
		}
		rows = append(rows, r)
	}
	if n := strings.Count(out, "\n"); n != len(rows) {
		t.Errorf("%d lines for %d objects: want one object per line", n, len(rows))
	}
	return rows
}

func (f *exportFixture) caisseOf(name string) ledger.Author {
	if name == otherName {
		return f.other.Author()
	}
	return f.n.Author()
}

func TestExport(t *testing.T) {
	f := newExportFixture(t)
	ctx := context.Background()

	// The federation counts what the fixture says: the other caisse's
	// entries before its admission and after its exclusion count for
	// nothing.
	bal, err := f.b.Balances(ctx, &rpcv1.BalancesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*rpcv1.Balance{}
	for _, c := range bal.GetCaisses() {
		got[c.GetName()] = c.GetTotal()
	}
	for name, want := range map[string][3]int64{f.n.cfg.Name: {11251, 4025, 7226}, otherName: {2000, 500, 1500}} {
		if b := got[name]; b.GetContributed() != want[0] || b.GetDisbursed() != want[1] || b.GetBalance() != want[2] {
			t.Fatalf("balances of %s: %v, want %v", name, b, want)
		}
	}

	other := f.other.Author()
	only := func(keep func(exportJSON) bool) []exportJSON {
		out := []exportJSON{}
		for _, r := range f.want {
			if keep(r) {
				out = append(out, r)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name, period, caisse string
		want                 []exportJSON
	}{
		{"everything", "", "", f.want},
		{"one period", "2026-10", "", only(func(r exportJSON) bool { return r.Period == "2026-10" })},
		{"by short id", "", string(other.ID().Short()), only(func(r exportJSON) bool { return r.CaisseName == otherName })},
		{"by short id in lower case", "", strings.ToLower(string(other.ID().Short())), only(func(r exportJSON) bool { return r.CaisseName == otherName })},
		{"by node id", "", string(f.n.Author().ID()), only(func(r exportJSON) bool { return r.CaisseName != otherName })},
		{"by hex key", "", other.String(), only(func(r exportJSON) bool { return r.CaisseName == otherName })},
		{"by id prefix", "", " " + string(other.ID())[:10] + " ", only(func(r exportJSON) bool { return r.CaisseName == otherName })},
		{"caisse and period", "2026-11", string(f.n.Author().ID().Short()), only(func(r exportJSON) bool {
			return r.CaisseName != otherName && r.Period == "2026-11"
		})},
		{"a period without entries", "2025-01", "", []exportJSON{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			records := parseCSV(t, mustExport(t, f.b, "csv", tc.period, tc.caisse))
			wantRecords := [][]string{}
			for _, r := range tc.want {
				wantRecords = append(wantRecords, csvRecord(r))
			}
			if diff := cmp.Diff(wantRecords, append([][]string{}, records...)); diff != "" {
				t.Errorf("CSV rows (-want +got):\n%s", diff)
			}
			rows := parseJSONLines(t, mustExport(t, f.b, "JSON", tc.period, tc.caisse))
			if diff := cmp.Diff(tc.want, rows); diff != "" {
				t.Errorf("JSON rows (-want +got):\n%s", diff)
			}
			// The rows of each caisse sum to its balance.
			bal, err := f.b.Balances(ctx, &rpcv1.BalancesRequest{Period: tc.period})
			if err != nil {
				t.Fatal(err)
			}
			sums := map[string]int64{}
			for _, r := range rows {
				sums[r.Signer] += r.AmountMinor
			}
			for _, c := range bal.GetCaisses() {
				if _, ok := sums[c.GetId()]; ok && sums[c.GetId()] != c.GetTotal().GetBalance() {
					t.Errorf("caisse %s: rows sum to %d, balance %d", c.GetName(), sums[c.GetId()], c.GetTotal().GetBalance())
				}
			}
		})
	}

	t.Run("JSON field names and order", func(t *testing.T) {
		out := mustExport(t, f.b, "json", "", "")
		dec := json.NewDecoder(strings.NewReader(out[:strings.IndexByte(out, '\n')]))
		var keys []string
		for i := 0; ; i++ {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if s, ok := tok.(string); ok && i%2 == 1 {
				keys = append(keys, s)
			}
		}
		if !slices.Equal(keys, exportColumns) {
			t.Errorf("JSON keys %q, want %q", keys, exportColumns)
		}
		if !strings.Contains(out, `"amount":"-40.25","amount_minor":-4025,`) {
			t.Errorf("amounts not as a string in major units and an integer in minor units:\n%s", out)
		}
	})

	t.Run("no names", func(t *testing.T) {
		for _, format := range exportFormats {
			out := mustExport(t, f.b, format, "", "")
			for _, who := range []string{"Anne", "Karim", "Lucie", "Morel"} {
				if strings.Contains(out, who) {
					t.Errorf("%s export names %s", format, who)
				}
			}
		}
	})

	t.Run("journals", func(t *testing.T) {
		h := mustExport(t, f.b, "hledger", "", "")
		short := string(f.n.Author().ID().Short())
		for _, want := range []string{
			"decimal-mark .\n", "commodity 1000.00 EUR\n", "account assets:caisse:" + short + "  ; Caisse de test\n",
			"account expenses:disbursements:legal\n",
			"* disbursement strike: piquet, jour 1, \"grève\" suite\n",
			"* correction of disbursement legal: saisie en double\n",
			"    ; id:" + f.want[0].ID + ", signer:" + f.want[0].Signer + ", caisse:",
		} {
			if !strings.Contains(h, want) {
				t.Errorf("hledger journal lacks %q:\n%s", want, h)
			}
		}
		bc := mustExport(t, f.b, "beancount", "", "")
		for _, want := range []string{
			`option "operating_currency" "EUR"`,
			" open Assets:Caisse:" + short + " EUR\n  name: \"Caisse de test\"\n",
			" open Expenses:Disbursements:Hardship EUR\n",
			` * "disbursement strike: piquet; jour 1, \"grève\" suite"` + "\n",
			"  id: \"" + f.want[0].ID + "\"\n  signer: \"" + f.want[0].Signer + "\"\n",
		} {
			if !strings.Contains(bc, want) {
				t.Errorf("beancount ledger lacks %q:\n%s", want, bc)
			}
		}
		for _, re := range []string{
			`\n    assets:caisse:` + short + ` +-40\.25 EUR\n    expenses:disbursements:strike +40\.25 EUR\n`,
			`\n    assets:caisse:` + short + ` +7\.50 EUR\n    expenses:disbursements:legal +-7\.50 EUR\n`,
		} {
			if !regexp.MustCompile(re).MatchString(h) {
				t.Errorf("hledger journal does not match %s:\n%s", re, h)
			}
		}
		if re := `\n  Assets:Caisse:` + short + ` +-40\.25 EUR\n  Expenses:Disbursements:Strike +40\.25 EUR\n`; !regexp.MustCompile(re).MatchString(bc) {
			t.Errorf("beancount ledger does not match %s:\n%s", re, bc)
		}
		// Every account opens on the first day with an entry.
		first := slices.MinFunc(f.want, func(a, b exportJSON) int { return strings.Compare(a.Date, b.Date) }).Date
		if n := strings.Count(bc, " open "); n != strings.Count(bc, first+" open ") || n != 7 {
			t.Errorf("%d open directives, %d of them on %s; want 7, all on it:\n%s", n, strings.Count(bc, first+" open "), first, bc)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		_, stranger, _ := ed25519.GenerateKey(rand.Reader)
		var s ledger.Author
		copy(s[:], stranger.Public().(ed25519.PublicKey))
		for _, tc := range []struct {
			name, format, period, caisse string
			want                         error
		}{
			{"unknown format", "xlsx", "", "", errInvalidArgument},
			{"no format", "", "", "", errInvalidArgument},
			{"malformed period", "csv", "2026-13", "", ledger.ErrInvalidPeriod},
			{"a day for a period", "csv", "2026-11-01", "", ledger.ErrInvalidPeriod},
			{"a word for a period", "csv", "novembre", "", ledger.ErrInvalidPeriod},
			{"unknown caisse", "csv", "", string(s.ID()), ledger.ErrNotFound},
			{"unknown hex key", "hledger", "", s.String(), ledger.ErrNotFound},
			{"unknown short id", "csv", "", "AAAAAAB", ledger.ErrNotFound},
			{"too short an id", "csv", "", "AB", errInvalidArgument},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := exportTo(t, f.b, tc.format, tc.period, tc.caisse); !errors.Is(err, tc.want) {
					t.Fatalf("export: %v, want %v", err, tc.want)
				}
			})
		}
	})

	t.Run("the writer fails", func(t *testing.T) {
		boom := errors.New("disk full")
		err := f.b.Export(ctx, &rpcv1.ExportRequest{Format: "csv"}, failingWriter{boom})
		if !errors.Is(err, boom) {
			t.Fatalf("export to a failing writer: %v, want %v", err, boom)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		var buf bytes.Buffer
		if err := f.b.Export(ctx, &rpcv1.ExportRequest{Format: "csv"}, &buf); !errors.Is(err, context.Canceled) || buf.Len() > 0 {
			t.Fatalf("export with a canceled context: %v, %d bytes", err, buf.Len())
		}
	})

	// The same entries give the same bytes, whatever order they were
	// applied in: here, replayed from the store after a restart.
	before := map[string]string{}
	for _, format := range exportFormats {
		before[format] = mustExport(t, f.b, format, "", "")
		if again := mustExport(t, f.b, format, "", ""); again != before[format] {
			t.Errorf("two %s exports differ", format)
		}
	}
	f.n.Close()
	f.open(t)
	for _, format := range exportFormats {
		if after := mustExport(t, f.b, format, "", ""); after != before[format] {
			t.Errorf("%s export after a restart differs:\n%s\nbefore:\n%s", format, after, before[format])
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestExportNoFederation(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Found = false
	n := mustNew(t, cfg)
	defer n.Close()
	if _, err := exportTo(t, &backend{n: n}, "csv", "", ""); !errors.Is(err, federation.ErrNoGenesis) {
		t.Fatalf("export before init: %v, want ErrNoGenesis", err)
	}
}

// TestExportTools reads the exports with hledger and beancount, and checks
// the balances they compute against the node's. CI installs the tools and
// sets CAISSE_TEST_TOOLS=1.
func TestExportTools(t *testing.T) {
	tools := needTools(t, "hledger", "bean-check", "bean-query")
	f := newExportFixture(t)
	for _, tc := range []struct{ name, period, caisse string }{
		{"everything", "", ""},
		{"one period", "2026-11", ""},
		{"one caisse", "", string(f.other.Author().ID().Short())},
		{"nothing", "2025-01", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkTools(t, tools, f.b, tc.period, tc.caisse)
		})
	}
	// Currencies without a minor unit, and with three digits, which hledger
	// would read as a thousands separator if not told.
	for _, cur := range []struct {
		code string
		exp  uint32
		in   string
		out  string
	}{{"JPY", 0, "1500", "250"}, {"BHD", 3, "1.5", "0.25"}, {"USD", 2, "1000000", "0.01"}} {
		t.Run(cur.code, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			cfg.Federation.Currency, cfg.Federation.Exponent = cur.code, cur.exp
			n := mustNew(t, cfg)
			defer n.Close()
			b := &backend{n: n}
			ctx := context.Background()
			who := &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "Anne"}}
			if _, err := b.Contribute(ctx, &rpcv1.ContributeRequest{Member: who, Amount: cur.in, Period: "2026-11", Category: "dues"}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Disburse(ctx, &rpcv1.DisburseRequest{Beneficiary: who, Amount: cur.out, Period: "2026-11", Category: "strike"}); err != nil {
				t.Fatal(err)
			}
			checkTools(t, tools, b, "", "")
		})
	}
}

// needTools returns the paths of the tools, when CAISSE_TEST_TOOLS=1; it
// fails the test if one is missing then, and skips it otherwise.
func needTools(t *testing.T, names ...string) map[string]string {
	t.Helper()
	if os.Getenv("CAISSE_TEST_TOOLS") != "1" {
		t.Skip("checking exports with hledger and beancount needs CAISSE_TEST_TOOLS=1 " +
			"and the tools: apt-get install -y --no-install-recommends hledger beancount")
	}
	paths := map[string]string{}
	for _, name := range names {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("CAISSE_TEST_TOOLS=1 but %s is not installed: apt-get install -y --no-install-recommends hledger beancount (%v)", name, err)
		}
		paths[name] = p
	}
	return paths
}

// checkTools exports with the filters, has hledger and beancount compute
// every account's balance, and compares them with the node's balances.
func checkTools(t *testing.T, tools map[string]string, b *backend, period, caisse string) {
	t.Helper()
	ctx := context.Background()
	bal, err := b.Balances(ctx, &rpcv1.BalancesRequest{Period: period})
	if err != nil {
		t.Fatal(err)
	}
	cur := bal.GetCurrency()
	x, err := b.n.exportSnapshot(ledger.Period(period), caisse)
	if err != nil {
		t.Fatal(err)
	}
	selected := map[string]string{} // key -> account component
	for _, c := range x.caisses {
		selected[c.key.String()] = c.account
	}
	// What the node says, in both tools' account names.
	sumH, sumB := map[string]int64{}, map[string]int64{}
	add := func(m map[string]int64, account string, a int64) { m[account] += a }
	rows := parseJSONLines(t, mustExport(t, b, "json", period, caisse))
	for _, c := range bal.GetCaisses() {
		acct, ok := selected[c.GetId()]
		if !ok {
			continue
		}
		add(sumH, hledgerAccount("assets", "caisse", acct), c.GetTotal().GetBalance())
		add(sumB, beancountAccount("assets", "caisse", acct), c.GetTotal().GetBalance())
		for _, cat := range c.GetCategories() {
			kind, group, a := "income", "contributions", -cat.GetAmount()
			if cat.GetDirection() == federation.DirectionOut {
				kind, group, a = "expenses", "disbursements", cat.GetAmount()
			}
			add(sumH, hledgerAccount(kind, group, cat.GetCategory()), a)
			add(sumB, beancountAccount(kind, group, cat.GetCategory()), a)
		}
	}
	// A tool leaves out an account whose balance is zero.
	text := func(m map[string]int64) map[string]string {
		out := map[string]string{}
		for account, a := range m {
			if a != 0 {
				out[account] = ledger.Amount(a).Format(cur.GetExponent()) + " " + cur.GetCode()
			}
		}
		return out
	}
	wantH, wantB := text(sumH), text(sumB)
	dir := t.TempDir()

	journal := filepath.Join(dir, "caisse.journal")
	writeFile(t, journal, mustExport(t, b, "hledger", period, caisse))
	out := runTool(t, tools["hledger"], "-f", journal, "--strict", "balance", "--flat", "--no-total", "--output-format", "csv")
	gotH := map[string]string{}
	for _, rec := range readCSV(t, out)[1:] {
		gotH[rec[0]] = rec[1]
	}
	if diff := cmp.Diff(wantH, gotH); diff != "" {
		t.Errorf("hledger balances (-node +hledger):\n%s\n%s", diff, readFile(t, journal))
	}
	printed := readCSV(t, runTool(t, tools["hledger"], "-f", journal, "print", "--output-format", "csv"))
	var ids []string
	for _, rec := range printed[1:] {
		if i := strings.Index(rec[6], "id:"); i >= 0 && !slices.Contains(ids, rec[6][i+3:i+3+64]) {
			ids = append(ids, rec[6][i+3:i+3+64])
		}
	}
	checkIDs(t, "hledger", rows, ids)

	ledgerFile := filepath.Join(dir, "caisse.beancount")
	writeFile(t, ledgerFile, mustExport(t, b, "beancount", period, caisse))
	if out := runTool(t, tools["bean-check"], ledgerFile); out != "" {
		t.Errorf("bean-check: %s", out)
	}
	gotB := map[string]string{}
	for _, rec := range readCSV(t, runTool(t, tools["bean-query"], "-f", "csv", ledgerFile,
		"SELECT account, sum(position) AS balance GROUP BY account ORDER BY account"))[1:] {
		if b := strings.TrimSpace(rec[1]); b != "" {
			gotB[strings.TrimSpace(rec[0])] = b
		}
	}
	if diff := cmp.Diff(wantB, gotB); diff != "" {
		t.Errorf("beancount balances (-node +bean-query):\n%s\n%s", diff, readFile(t, ledgerFile))
	}
	ids = nil
	for _, rec := range readCSV(t, runTool(t, tools["bean-query"], "-f", "csv", ledgerFile,
		"SELECT entry_meta('id') AS id, narration WHERE account ~ '^Assets:'"))[1:] {
		ids = append(ids, strings.TrimSpace(rec[0]))
	}
	checkIDs(t, "beancount", rows, ids)
}

// checkIDs checks that a tool read one transaction per row, with its id.
func checkIDs(t *testing.T, tool string, rows []exportJSON, ids []string) {
	t.Helper()
	want := []string{}
	for _, r := range rows {
		want = append(want, r.ID)
	}
	got := append([]string{}, ids...)
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s transactions' ids (-rows +%s):\n%s", tool, tool, diff)
	}
}

func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String() + stderr.String()
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("read CSV: %v\n%s", err, s)
	}
	return recs
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
