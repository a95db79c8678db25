package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRecordAndBalances(t *testing.T) {
	p := startNode(t)
	var st statusJSON
	cliJSON(t, p, &st, "status")
	if !st.Founded || st.Members != 1 || st.Seq != 1 || st.Currency != "EUR" || st.Exponent != 2 {
		t.Fatalf("status of a fresh node: %+v", st)
	}
	mustCLI(t, p, "contribute", "--member", "Anne Morel", "--amount", "12.50", "--period", "2026-10")
	mustCLI(t, p, "contribute", "--member", "Karim Benali", "--amount", "20", "--period", "2026-11")
	mustCLI(t, p, "contribute", "--member", "Karim Benali", "--amount", "100,00", "--period", "2026-11", "--category", "donation")
	mustCLI(t, p, "contribute", "--member", "Anne Morel", "--amount", "1200.00", "--period", "2026-11")
	var wrong entryJSON
	cliJSON(t, p, &wrong, "disburse", "--to", "Lucie Faure", "--amount", "45.00", "--period", "2026-11", "--category", "strike", "--note", "3 jours de grève")
	if wrong.Amount != 4500 || wrong.AmountText != "45.00" || wrong.MemberName != "Lucie Faure" || wrong.Seq != 6 {
		t.Fatalf("disburse --json: %+v", wrong)
	}
	var fix entryJSON
	cliJSON(t, p, &fix, "correct", "--seq", "5", "--reason", "typed 1200.00 for 12.00")
	if fix.Kind != "correction" || fix.TargetSeq != 5 {
		t.Fatalf("correct --json: %+v", fix)
	}
	mustCLI(t, p, "contribute", "--member", "Anne Morel", "--amount", "12.00", "--period", "2026-11")

	var b balancesJSON
	cliJSON(t, p, &b, "balances")
	if len(b.Caisses) != 1 {
		t.Fatalf("balances: %d caisses, want 1", len(b.Caisses))
	}
	c := b.Caisses[0]
	want := caisseJSON{
		ID: st.NodeKey, Name: st.Name,
		BalanceJSON: BalanceJSON{Contributed: 1250 + 2000 + 10000 + 1200, Disbursed: 4500, Balance: 14450 - 4500},
		Categories: []categoryJSON{
			{"in", "donation", 10000}, {"in", "dues", 1250 + 2000 + 1200}, {"out", "strike", 4500},
		},
		Periods: []periodJSON{
			{"2026-10", BalanceJSON{1250, 0, 1250}},
			{"2026-11", BalanceJSON{13200, 4500, 8700}},
		},
		Funds: new(int64(14450 - 4500)), // no settlements: the balance
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("balances (-want +got):\n%s", diff)
	}
	if b.Total != want.BalanceJSON {
		t.Errorf("total %+v, want %+v", b.Total, want.BalanceJSON)
	}
	var nov balancesJSON
	cliJSON(t, p, &nov, "balances", "--period", "2026-11")
	if got := nov.Caisses[0].BalanceJSON; got != (BalanceJSON{13200, 4500, 8700}) {
		t.Errorf("balances --period 2026-11: %+v", got)
	}

	var list struct{ Entries []entryJSON }
	cliJSON(t, p, &list, "entries")
	if len(list.Entries) != 8 {
		t.Fatalf("entries: %d, want 8", len(list.Entries))
	}
	if e := list.Entries[4]; e.CorrectedBy != 7 || e.Amount != 120000 {
		t.Errorf("entry 5: %+v, want corrected by 7", e)
	}
	var v struct {
		OK      bool
		Entries uint64
	}
	cliJSON(t, p, &v, "verify")
	if !v.OK || v.Entries != 8 {
		t.Errorf("verify: %+v", v)
	}
	human := mustCLI(t, p, "balances")
	if !strings.Contains(human, "balance 99.50 EUR") {
		t.Errorf("balances for people does not show the balance 99.50 EUR:\n%s", human)
	}
}

// TestBadInputChangesNothing: every bad request gets a clear one-line error
// and leaves the ledger as it was.
func TestBadInputChangesNothing(t *testing.T) {
	p := startNode(t)
	mustCLI(t, p, "contribute", "--member", "Anne Morel", "--amount", "10", "--period", "2026-11")
	var before statusJSON
	cliJSON(t, p, &before, "status")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"malformed amount", []string{"contribute", "--member", "A", "--amount", "12.5.0", "--period", "2026-11"}, "amount"},
		{"letters", []string{"contribute", "--member", "A", "--amount", "douze", "--period", "2026-11"}, "amount"},
		{"too many decimals", []string{"contribute", "--member", "A", "--amount", "12.345", "--period", "2026-11"}, "at most 2 decimals"},
		{"negative", []string{"contribute", "--member", "A", "--amount", "-5", "--period", "2026-11"}, "amount"},
		{"zero", []string{"disburse", "--to", "A", "--amount", "0.00", "--period", "2026-11", "--category", "legal"}, "more than zero"},
		{"overflowing", []string{"contribute", "--member", "A", "--amount", "99999999999999999999", "--period", "2026-11"}, "limit"},
		{"unknown category", []string{"disburse", "--to", "A", "--amount", "5", "--period", "2026-11", "--category", "party"}, "unknown category"},
		{"unknown contribution category", []string{"contribute", "--member", "A", "--amount", "5", "--period", "2026-11", "--category", "strike"}, "unknown category"},
		{"malformed period", []string{"contribute", "--member", "A", "--amount", "5", "--period", "2026-13"}, "period"},
		{"period as date", []string{"contribute", "--member", "A", "--amount", "5", "--period", "2026-11-01"}, "YYYY-MM"},
		{"correct missing entry", []string{"correct", "--seq", "42", "--reason", "typo"}, "no entry 42"},
		{"correct the genesis", []string{"correct", "--seq", "1", "--reason", "no"}, "correct"},
		{"note names a member", []string{"contribute", "--member", "B", "--amount", "5", "--period", "2026-11", "--note", "pour anne MOREL"}, "keep names out"},
		{"bad pseudonym", []string{"contribute", "--pseudonym", "xyz", "--amount", "5", "--period", "2026-11"}, "pseudonym"},
		{"no member", []string{"contribute", "--amount", "5", "--period", "2026-11"}, "--member"},
		{"second init", []string{"init", "--federation", "Autre"}, "already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cli(t, p, tc.args...)
			if err == nil {
				t.Fatalf("caisse %s: no error", strings.Join(tc.args, " "))
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line mentioning %q", msg, tc.want)
			}
			var after statusJSON
			cliJSON(t, p, &after, "status")
			if after.StateHash != before.StateHash || after.Seq != before.Seq || after.Entries != before.Entries {
				t.Errorf("state changed: %+v -> %+v", before, after)
			}
		})
	}
	// The real binary: one line on stderr, exit status 1.
	cmd := exec.Command(filepath.Join(bin, "caisse"), "--data-dir", p.DataDir, "contribute", "--member", "A", "--amount", "abc", "--period", "2026-11")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("caisse with a bad amount: %v, want exit status 1", err)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "caisse: ") {
		t.Errorf("caisse with a bad amount printed %q, want one line starting with caisse:", out)
	}
}

func TestNoNode(t *testing.T) {
	var out strings.Builder
	err := run(t.Context(), []string{"--data-dir", t.TempDir(), "status"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "is caissed running") {
		t.Fatalf("status with no node: %v, want a hint to start caissed", err)
	}
}

func TestInitOnAnEmptyNode(t *testing.T) {
	p := startNode(t, "--found=false", "--name", "Caisse de grève du rail")
	var st statusJSON
	cliJSON(t, p, &st, "status")
	if st.Founded || st.Seq != 0 {
		t.Fatalf("node started with --found=false: %+v", st)
	}
	if _, err := cli(t, p, "contribute", "--member", "A", "--amount", "1", "--period", "2026-11"); err == nil || !strings.Contains(err.Error(), "caisse init") {
		t.Fatalf("contribute before init: %v, want a hint to run caisse init", err)
	}
	mustCLI(t, p, "init", "--federation", "Fédération des caisses du rail", "--currency", "CHF")
	cliJSON(t, p, &st, "status")
	if !st.Founded || st.FederationName != "Fédération des caisses du rail" || st.Currency != "CHF" || st.Name != "Caisse de grève du rail" {
		t.Fatalf("status after init: %+v", st)
	}
}
