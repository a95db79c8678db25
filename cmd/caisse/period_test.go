package main

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/ledger"
)

type redistributionOut struct {
	Period     string
	Final      bool
	WaitingFor []string `json:"waiting_for"`
	Pool       int64
	Reserve    int64
	Caisses    []shareJSON
	Transfers  []transferJSON
}

// TestPeriodRedistributionOnThreeNodes closes a period on three real nodes
// and gets the same redistribution, to the cent, from each.
func TestPeriodRedistributionOnThreeNodes(t *testing.T) {
	a := newFedNode(t, "Caisse A", true)
	b := newFedNode(t, "Caisse B", false)
	admit(t, []*fedNode{a}, b)
	c := newFedNode(t, "Caisse C", false)
	admit(t, []*fedNode{a, b}, c)
	nodes := []*fedNode{a, b, c}
	// The current period: B and C, admitted now, are members of it.
	p := string(ledger.PeriodOf(time.Now()))
	for i, n := range nodes {
		for j := range 3 {
			mustCLI(t, n.p, "contribute", "--member", fmt.Sprintf("membre %d", j), "--amount", fmt.Sprintf("%d.%02d", 100*(i+1)+j, 7*j), "--period", p)
		}
		if i == 1 {
			mustCLI(t, n.p, "disburse", "--to", "membre 0", "--amount", "50", "--period", p, "--category", "strike")
		}
	}
	// Closing needs the state of each caisse's own log only.
	mustCLI(t, a.p, "period", "close", p, "--members", "120", "--need", "strike_day=3")
	mustCLI(t, b.p, "period", "close", p, "--members", "45")
	if _, err := cli(t, b.p, "contribute", "--member", "x", "--amount", "1", "--period", p); err == nil {
		t.Fatal("a contribution in a closed period was recorded")
	}
	var prov redistributionOut
	waitCond(t, 30*time.Second, "two closes on C", func() bool {
		cliJSON(t, c.p, &prov, "redistribution", p)
		return len(prov.Caisses) == 2
	})
	if prov.Final || len(prov.WaitingFor) != 1 {
		t.Fatalf("redistribution with two closes of three: final=%v waiting=%v", prov.Final, prov.WaitingFor)
	}
	mustCLI(t, c.p, "period", "close", p, "--members", "35", "--need", "strike_day=14,legal_case=1")

	want := sameFinalRedistribution(t, nodes, p)
	var shares, nets int64
	for _, s := range want.Caisses {
		shares += s.Share
		nets += s.Net
	}
	if shares != want.Pool || nets != 0 || want.Pool == 0 {
		t.Fatalf("conservation: shares %d, pool %d, nets %d", shares, want.Pool, nets)
	}
	if len(want.Transfers) == 0 || len(want.Transfers) > 2 {
		t.Fatalf("settlement plan of %d transfers for three caisses", len(want.Transfers))
	}
}

// sameFinalRedistribution waits for period p to be final on every node and
// requires the same redistribution, to the cent, from each; it returns it.
func sameFinalRedistribution(t *testing.T, nodes []*fedNode, p string) redistributionOut {
	t.Helper()
	var want redistributionOut
	for _, n := range nodes {
		var got redistributionOut
		waitCond(t, 30*time.Second, "the final redistribution of "+p+" on "+n.name, func() bool {
			cliJSON(t, n.p, &got, "redistribution", p)
			return got.Final
		})
		if want.Period == "" {
			want = got
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s computes another redistribution of %s:\n%+v\nwant\n%+v", n.name, p, got, want)
		}
	}
	return want
}
