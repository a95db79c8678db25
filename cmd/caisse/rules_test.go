package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/ledger"
)

type rulesOut struct {
	Period  string `json:"period"`
	InForce struct {
		Version uint32 `json:"version"`
		Rules   struct {
			LevyBp uint32            `json:"levy_bp"`
			Rates  map[string]string `json:"rates"`
		} `json:"rules"`
		Effective string `json:"effective"`
	} `json:"in_force"`
	History []struct {
		Version   uint32 `json:"version"`
		AdoptedBy string `json:"adopted_by"`
	} `json:"history"`
}

type proposalsOut struct {
	Proposals []struct {
		Hash            string `json:"hash"`
		Action          string `json:"action"`
		Status          string `json:"status"`
		Yes             uint32 `json:"yes"`
		EligibleMembers uint64 `json:"eligible_members,string"`
		YesMembers      uint64 `json:"yes_members,string"`
	} `json:"proposals"`
}

type settlementsOut struct {
	Final     bool `json:"final"`
	Transfers []struct {
		From         string `json:"from"`
		To           string `json:"to"`
		Amount       string `json:"amount"`
		Paid         string `json:"paid"`
		Acknowledged string `json:"acknowledged"`
	} `json:"transfers"`
	Settlements []struct {
		Hash         string `json:"hash"`
		To           string `json:"to"`
		Acknowledged bool   `json:"acknowledged"`
	} `json:"settlements"`
}

// TestRulesVotedOnThreeNodes adopts a rule change by vote on three real
// nodes, closes the period it takes effect from on each, gets the same
// redistribution under the new rules on all three, and settles it: the
// payer records the payment, the payee acknowledges it, every node sees
// the transfer paid and acknowledged.
func TestRulesVotedOnThreeNodes(t *testing.T) {
	a := newFedNode(t, "Caisse A", true)
	b := newFedNode(t, "Caisse B", false)
	admit(t, []*fedNode{a}, b)
	c := newFedNode(t, "Caisse C", false)
	admit(t, []*fedNode{a, b}, c)
	nodes := []*fedNode{a, b, c}
	next := string(ledger.PeriodOf(time.Now()).Next())

	// Each caisse closes the current period first: its member count then
	// weighs its votes.
	now := string(ledger.PeriodOf(time.Now()))
	for i, n := range nodes {
		mustCLI(t, n.p, "period", "close", now, "--members", fmt.Sprint(10*(i+1)))
	}
	for _, n := range nodes {
		waitCond(t, 30*time.Second, "every close of "+now+" on "+n.name, func() bool {
			var st struct{ Final bool }
			cliJSON(t, n.p, &st, "period", "status", now)
			return st.Final
		})
	}

	var prop struct{ Proposal string }
	cliJSON(t, a.p, &prop, "propose", "rules", "--effective", next, "--levy-bp", "1200",
		"--rate", "eviction=300.00", "--note", "une cotisation solidaire plus forte")
	waitCond(t, 30*time.Second, "the proposal on C", func() bool {
		var ps proposalsOut
		cliJSON(t, c.p, &ps, "proposals", "--open")
		return len(ps.Proposals) == 1 && ps.Proposals[0].Hash == prop.Proposal
	})
	var ps proposalsOut
	cliJSON(t, c.p, &ps, "proposals")
	if p := ps.Proposals[len(ps.Proposals)-1]; p.Action != "rules" || p.EligibleMembers != 60 || p.YesMembers != 10 {
		t.Fatalf("proposal on C: %+v, want a rule change with A's 10 members of 60 for it", p)
	}
	mustCLI(t, c.p, "vote", prop.Proposal[:16], "yes")
	for _, n := range nodes {
		waitCond(t, 30*time.Second, "the new rules in force for "+next+" on "+n.name, func() bool {
			var r rulesOut
			cliJSON(t, n.p, &r, "rules", "--period", next)
			return r.InForce.Version == 2 && r.InForce.Rules.LevyBp == 1200 && r.InForce.Rules.Rates["eviction"] == "30000" &&
				len(r.History) == 2 && r.History[1].AdoptedBy == prop.Proposal
		})
		var r rulesOut
		cliJSON(t, n.p, &r, "rules", "--period", now)
		if r.InForce.Version != 1 {
			t.Fatalf("%s: rules for %s are version %d, want the charter's", n.name, now, r.InForce.Version)
		}
	}

	for i, n := range nodes {
		mustCLI(t, n.p, "contribute", "--member", "membre", "--amount", fmt.Sprintf("%d.%02d", 1000*(i+1)*(i+1), 13*i), "--period", next)
	}
	if _, err := cli(t, b.p, "period", "close", next, "--members", "20", "--need", "evictions=1"); err == nil {
		t.Fatal("a close with a need unit that no rule rates was recorded")
	}
	mustCLI(t, a.p, "period", "close", next, "--members", "12")
	mustCLI(t, b.p, "period", "close", next, "--members", "20", "--need", "eviction=1")
	mustCLI(t, c.p, "period", "close", next, "--members", "31", "--need", "strike_day=2")
	want := sameFinalRedistribution(t, nodes, next)
	var pool int64
	for i := range 3 {
		pool += (int64(1000*(i+1)*(i+1))*100 + int64(13*i)) * 1200 / 10000
	}
	if want.Pool != pool || len(want.Transfers) == 0 {
		t.Fatalf("pool %d with %d transfers, want %d at the new levy of 12%%", want.Pool, len(want.Transfers), pool)
	}

	byKey := map[string]*fedNode{}
	for _, n := range nodes {
		var st statusJSON
		cliJSON(t, n.p, &st, "status")
		byKey[st.NodeKey] = n
	}
	keyOf := func(id string) string {
		a, err := ledger.ParseNodeID(id)
		if err != nil {
			t.Fatalf("node id %q: %v", id, err)
		}
		return a.String()
	}
	tr := want.Transfers[0]
	payer, payee := byKey[keyOf(tr.From)], byKey[keyOf(tr.To)]
	if payer == nil || payee == nil {
		t.Fatalf("transfer %+v between unknown nodes", tr)
	}
	amount := ledger.Amount(tr.Amount).Format(2)
	if _, err := cli(t, payer.p, "settle", next, "--to", tr.To, "--amount", ledger.Amount(tr.Amount+1).Format(2)); err == nil {
		t.Fatal("a settlement over what is owed was recorded")
	}
	mustCLI(t, payer.p, "settle", next, "--to", tr.To, "--amount", amount, "--reference", "virement 2026-0042")
	var hash string
	waitCond(t, 30*time.Second, "the settlement on the payee", func() bool {
		var s settlementsOut
		cliJSON(t, payee.p, &s, "settlements", next)
		if len(s.Settlements) == 1 {
			hash = s.Settlements[0].Hash
		}
		return hash != ""
	})
	mustCLI(t, payee.p, "ack", hash[:16])
	for _, n := range nodes {
		waitCond(t, 30*time.Second, "the transfer paid and acknowledged on "+n.name, func() bool {
			var s settlementsOut
			cliJSON(t, n.p, &s, "settlements", next)
			for _, x := range s.Transfers {
				if x.From == tr.From && x.To == tr.To {
					return x.Paid == fmt.Sprint(tr.Amount) && x.Acknowledged == fmt.Sprint(tr.Amount)
				}
			}
			return false
		})
	}
}
