package federation_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/federation"
)

// TestEverySentinelReached fails if errors.go declares a sentinel that no
// refusal table reaches (TestRefused, TestRefusedGovernance,
// TestForkProofRefused, TestRefusedClose, TestRefusedRules; ErrPending through their pending cases), so that
// a new sentinel comes with a test that reaches it.
func TestEverySentinelReached(t *testing.T) {
	sentinels := map[string]error{
		"ErrNoGenesis":         federation.ErrNoGenesis,
		"ErrGenesisExists":     federation.ErrGenesisExists,
		"ErrUnknownAuthor":     federation.ErrUnknownAuthor,
		"ErrBadCorrection":     federation.ErrBadCorrection,
		"ErrAlreadyCorrected":  federation.ErrAlreadyCorrected,
		"ErrPending":           federation.ErrPending,
		"ErrNotAdmitted":       federation.ErrNotAdmitted,
		"ErrNoApplication":     federation.ErrNoApplication,
		"ErrUnknownProposal":   federation.ErrUnknownProposal,
		"ErrAlreadyMember":     federation.ErrAlreadyMember,
		"ErrForked":            federation.ErrForked,
		"ErrBadForkProof":      federation.ErrBadForkProof,
		"ErrBadClose":          federation.ErrBadClose,
		"ErrPeriodClosed":      federation.ErrPeriodClosed,
		"ErrBadProposal":       federation.ErrBadProposal,
		"ErrBadSettlement":     federation.ErrBadSettlement,
		"ErrUnknownSettlement": federation.ErrUnknownSettlement,
	}
	var reached []error
	for _, r := range refusals {
		reached = append(reached, r.want)
	}
	for _, r := range governanceRefusals {
		reached = append(reached, r.want)
		if r.pending {
			reached = append(reached, federation.ErrPending)
		}
	}
	for _, r := range closeRefusals {
		reached = append(reached, r.want)
	}
	for _, r := range rulesRefusals {
		reached = append(reached, r.want)
		if r.pending {
			reached = append(reached, federation.ErrPending)
		}
	}
	for _, r := range forkRefusals {
		reached = append(reached, r.want)
		if r.pending {
			reached = append(reached, federation.ErrPending)
		}
	}
	declared := declaredSentinels(t)
	for name, msg := range declared {
		err, ok := sentinels[name]
		switch {
		case !ok:
			t.Errorf("sentinel %s is declared in errors.go but not listed here: add it, and a case that reaches it", name)
		case err.Error() != msg:
			t.Errorf("federation.%s says %q, errors.go %q", name, err, msg)
		case !slices.Contains(reached, err):
			t.Errorf("sentinel %s: no refusal case reaches it", name)
		}
	}
	for name := range sentinels {
		if _, ok := declared[name]; !ok {
			t.Errorf("sentinel %s is listed here but not declared in errors.go", name)
		}
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
				call, ok := vs.Values[i].(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					t.Fatalf("errors.go: %s is not errors.New(\"...\")", id.Name)
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("errors.go: %s is not errors.New with a literal", id.Name)
				}
				msg, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("errors.go: %s: %v", id.Name, err)
				}
				out[id.Name] = msg
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no sentinel found in errors.go")
	}
	return out
}
