package ledger_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/google/go-cmp/cmp"
)

// sentinelsCoveredElsewhere are the sentinels that only a Store returns:
// the conformance suite in ledger/ledgertest reaches them.
var sentinelsCoveredElsewhere = []string{"ErrNotFound", "ErrClosed"}

// TestEverySentinelReached triggers every sentinel of errors.go through the
// package's API, and fails if errors.go declares one that has no case
// here, so that a new sentinel comes with a test that reaches it.
func TestEverySentinelReached(t *testing.T) {
	chain := testChain(t, founderKey)
	g, c, d := chain[0], chain[1], chain[2]
	headOf := func(e ledger.Entry) *ledger.Head { h := e.Head(); return &h }
	fork := func() ledger.Entry {
		b := contributionBody(pub(founderKey), g.Hash(), 2, g.Hash())
		b.GetContribution().Note = "another story"
		return mustSign(t, founderKey, b)
	}

	tests := []struct {
		name     string // the variable's name in errors.go
		sentinel error
		trigger  func() error
	}{
		{"ErrMalformed", ledger.ErrMalformed, func() error { _, err := ledger.Decode([]byte("garbage")); return err }},
		{"ErrTooLarge", ledger.ErrTooLarge, func() error { _, err := ledger.Decode(make([]byte, ledger.MaxEntrySize+1)); return err }},
		{"ErrBadSignature", ledger.ErrBadSignature, func() error { _, err := ledger.Decode(signBytes(t, otherKey, c.BodyBytes())); return err }},
		{"ErrWrongAuthor", ledger.ErrWrongAuthor, func() error { _, err := ledger.Sign(otherKey, genesisBody(pub(founderKey))); return err }},
		{"ErrWrongFederation", ledger.ErrWrongFederation, func() error { return ledger.CheckFederation(ledger.HashBody(nil), c) }},
		{"ErrGap", ledger.ErrGap, func() error { return ledger.CheckNext(headOf(g), d) }},
		{"ErrFork", ledger.ErrFork, func() error { return ledger.CheckStored(c, fork()) }},
		{"ErrBadPrev", ledger.ErrBadPrev, func() error { return ledger.CheckNext(&ledger.Head{Seq: 1, Time: g.Time()}, c) }},
		{"ErrDuplicate", ledger.ErrDuplicate, func() error { return ledger.CheckStored(c, c) }},
		{"ErrOverflow", ledger.ErrOverflow, func() error { _, err := ledger.MaxAmount.MulDiv(1<<62, 1); return err }},
		{"ErrInvalidAmount", ledger.ErrInvalidAmount, func() error { _, err := ledger.ParseAmount("0.00", 2); return err }},
		{"ErrInvalidPeriod", ledger.ErrInvalidPeriod, func() error { _, err := ledger.ParsePeriod("2026-13"); return err }},
		{"ErrUnknownCategory", ledger.ErrUnknownCategory, func() error { _, err := ledger.ParseDisbursementCategory("holidays"); return err }},
		{"ErrClockAhead", ledger.ErrClockAhead, func() error {
			return ledger.NewClock(ledger.HLC{}, 1000).Observe(ledger.HLC{Wall: wallGenesis + 1001}, wallGenesis)
		}},
		{"ErrClockRegressed", ledger.ErrClockRegressed, func() error { return ledger.CheckNext(&ledger.Head{Seq: 1, Hash: g.Hash(), Time: c.Time()}, c) }},
	}

	declared := declaredSentinels(t)
	var names []string
	for _, tc := range tests {
		names = append(names, tc.name)
	}
	t.Run("errors.go is covered", func(t *testing.T) {
		for name := range declared {
			if !slices.Contains(names, name) && !slices.Contains(sentinelsCoveredElsewhere, name) {
				t.Errorf("sentinel %s is declared in errors.go but no test here reaches it: add a case", name)
			}
		}
		for _, name := range append(slices.Clone(names), sentinelsCoveredElsewhere...) {
			if _, ok := declared[name]; !ok {
				t.Errorf("sentinel %s is listed here but not declared in errors.go", name)
			}
		}
		if len(declared) < len(names) {
			t.Errorf("errors.go declares %d sentinels, this test lists %d", len(declared), len(names))
		}
	})

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The table's name and value must be the same variable: the
			// message is the one errors.go gives it.
			if diff := cmp.Diff(declared[tc.name], tc.sentinel.Error()); diff != "" {
				t.Fatalf("message of ledger.%s (-errors.go +value):\n%s", tc.name, diff)
			}
			err := tc.trigger()
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("got %v, want %s", err, tc.name)
			}
			if err == tc.sentinel {
				t.Errorf("%s returned bare: wrap it with the operation and the key", tc.name)
			}
			if !strings.HasPrefix(err.Error(), "ledger: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
			// Callers branch on sentinels: one error must match one only.
			for _, other := range tests {
				if other.name != tc.name && errors.Is(err, other.sentinel) {
					t.Errorf("error %q is both %s and %s", err, tc.name, other.name)
				}
			}
		})
	}
}

// declaredSentinels parses errors.go and returns each exported Err*
// variable with the message it is created with.
func declaredSentinels(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !id.IsExported() || !strings.HasPrefix(id.Name, "Err") {
					continue
				}
				out[id.Name] = sentinelMessage(t, id.Name, vs, i)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no sentinel found in errors.go")
	}
	return out
}

// sentinelMessage returns the literal of `Name = errors.New("literal")`.
func sentinelMessage(t *testing.T, name string, vs *ast.ValueSpec, i int) string {
	t.Helper()
	if i >= len(vs.Values) {
		t.Fatalf("errors.go: %s has no value", name)
	}
	call, ok := vs.Values[i].(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		t.Fatalf("errors.go: %s is not errors.New(\"...\")", name)
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Fatalf("errors.go: %s is not errors.New with a literal", name)
	}
	msg, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatalf("errors.go: %s: %v", name, err)
	}
	return msg
}
