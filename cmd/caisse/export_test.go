package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExport(t *testing.T) {
	p := startNode(t)
	mustCLI(t, p, "contribute", "--member", "Anne Morel", "--amount", "12.50", "--period", "2026-10")
	mustCLI(t, p, "disburse", "--to", "Lucie Faure", "--amount", "45.00", "--period", "2026-11", "--category", "strike", "--note", "3 jours")

	out := mustCLI(t, p, "export")
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if len(records) != 3 || records[0][0] != "date" || records[1][9] != "12.50" || records[2][9] != "-45.00" {
		t.Fatalf("export as CSV on standard output:\n%s", out)
	}
	if strings.Contains(out, "Anne") || strings.Contains(out, "Lucie") {
		t.Errorf("the export names a member:\n%s", out)
	}
	if got := mustCLI(t, p, "export", "--period", "2026-11", "--format", "json"); strings.Count(got, "\n") != 1 || !strings.Contains(got, `"amount":"-45.00","amount_minor":-4500`) {
		t.Errorf("export --period 2026-11 --format json:\n%s", got)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "caisse.journal")
	var res exportResultJSON
	cliJSON(t, p, &res, "export", "--format", "hledger", "--output", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != file || res.Format != "hledger" || res.Bytes != int64(len(data)) || !strings.Contains(string(data), "expenses:disbursements:strike") {
		t.Errorf("export --output: %+v\n%s", res, data)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "xlsx"}, `export format "xlsx": want one of csv, json, hledger, beancount`},
		{[]string{"--period", "2026-13"}, "2026-13"},
		{[]string{"--caisse", "AAAAAAB"}, `no caisse "AAAAAAB"`},
	} {
		bad := filepath.Join(dir, "bad")
		_, err := cli(t, p, append([]string{"export", "--output", bad}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("export %s: %v, want an error about %s", tc.args, err, tc.want)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*bad*")); len(left) > 0 {
			t.Errorf("export %s left %s behind", tc.args, left)
		}
	}
}
