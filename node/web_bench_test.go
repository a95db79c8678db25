package node

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// BenchmarkDashboard serves each page of the dashboard, and a few calls of
// its JSON API, from a node holding 100k entries: two caisses over 24
// periods, nineteen contributions to one disbursement; both close 2026-06,
// whose plan is then paid and acknowledged; a rule change is adopted and
// another left open. The baseline serves
// the dashboard's stylesheet, an embedded static file, through the same
// handler: x-baseline is what a page costs over the cheapest response the
// listener gives.
//
//	go test -run '^$' -bench Dashboard -benchtime 20x ./node/
func BenchmarkDashboard(b *testing.B) {
	const total = 100_000
	founder, cofounder := ledgertest.NewAuthor(b, 11), ledgertest.NewAuthor(b, 12)
	genesis := founder.Genesis(b, "dashboard bench", cofounder)
	fed := genesis.Hash()
	cofounder.SetNow(ledger.HLC{Wall: genesis.Time().Wall + ledgertest.Step})
	entries := []ledger.Entry{genesis}
	for i := range total - 1 {
		a := founder
		if i%3 == 2 {
			a = cofounder
		}
		period := fmt.Sprintf("%04d-%02d", 2025+i*24/total/12, 1+(i*24/total)%12)
		if i%20 == 19 {
			entries = append(entries, a.Disbursement(b, fed, ledger.Amount(500+i%700), period))
		} else {
			entries = append(entries, a.Contribution(b, fed, ledger.Amount(1000+i%900), period))
		}
	}
	// Both close 2026-06, after all their entries; a rule change adopted
	// by both, another proposed. Each entry from here on is later than
	// the one before it, whoever signs it: a vote counts only after its
	// proposal.
	at := ledger.HLC{Wall: max(founder.Now().Wall, cofounder.Now().Wall)}
	next := func(a *ledgertest.Author, edit func(*caissev1.EntryBody)) ledger.Entry {
		a.SetNow(at)
		e := a.Next(b, fed, edit)
		at = ledger.HLC{Wall: e.Time().Wall + ledgertest.Step}
		return e
	}
	for i, a := range []*ledgertest.Author{founder, cofounder} {
		entries = append(entries, next(a, closeOf(entries, a.ID, "2026-06", uint64(30+20*i), uint64(2-i))))
	}
	rules := ledgertest.DefaultRules()
	rules.LevyBp = 1200
	change := next(founder, propose(rules, "2030-01"))
	rules = ledgertest.DefaultRules()
	rules.QuorumBp = 6000
	entries = append(entries, change, next(founder, voteYes(change)), next(cofounder, voteYes(change)),
		next(cofounder, propose(rules, "2030-02")))
	dir := b.TempDir()
	benchDataDir(b, dir, founder.Key, make([]byte, 32), entries)
	n, err := New(benchConfig(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	// The plan of 2026-06 paid and acknowledged, through ingest.
	plan, err := (&backend{n: n}).Settlements(context.Background(), &rpcv1.SettlementsRequest{Period: "2026-06"})
	if err != nil || !plan.GetFinal() || len(plan.GetTransfers()) != 1 {
		b.Fatalf("the plan of 2026-06: %v, %v; want final, one transfer", plan, err)
	}
	payer, payee := founder, cofounder
	if string(cofounder.ID.ID()) == plan.GetTransfers()[0].GetFrom() {
		payer, payee = cofounder, founder
	}
	settle := next(payer, func(body *caissev1.EntryBody) {
		body.Kind = &caissev1.EntryBody_Settlement{Settlement: &caissev1.Settlement{Period: "2026-06", Payee: payee.ID[:],
			Amount: plan.GetTransfers()[0].GetAmount(), Reference: "virement 0042"}}
	})
	ack := next(payee, func(body *caissev1.EntryBody) {
		h := settle.Hash()
		body.Kind = &caissev1.EntryBody_SettlementAck{SettlementAck: &caissev1.SettlementAck{Settlement: h[:]}}
	})
	for _, r := range n.ingest([]ledger.Entry{settle, ack}) {
		if r.out != stored {
			b.Fatalf("ingest %s: %s: %v", r.e, r.out, r.err)
		}
	}
	if got := n.state.Entries(); got != total+8 {
		b.Fatalf("the node holds %d entries, want %d", got, total+8)
	}
	h, err := n.webHandler()
	if err != nil {
		b.Fatal(err)
	}
	serve := func(path string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d\n%s", path, w.Code, w.Body)
		}
		io.Copy(io.Discard, w.Body)
	}
	// The pages show what the benchmark means them to.
	for path, want := range map[string][]string{
		"/rules":                  {`data-version="2"`, `class="card proposal"`, "Quorum</th><td class=\"num from\">50%"},
		"/redistribution/2026-06": {"virement 0042", `class="state ok">acknowledged`},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		for _, s := range want {
			if !strings.Contains(w.Body.String(), s) {
				b.Fatalf("GET %s: no %q in the page", path, s)
			}
		}
	}
	key := founder.ID.String()
	for _, p := range []struct{ name, path string }{
		{"overview", "/"},
		{"caisses", "/caisses"},
		{"caisse", "/caisses/" + key},
		{"caisse-oldest-page", "/caisses/" + key + "?from=1"},
		{"caisse-filtered", "/caisses/" + key + "?period=2026-06&kind=disbursement"},
		{"caisse-filtered-none", "/caisses/" + key + "?category=legal"},
		{"entry", "/caisses/" + key + "/entries/50000"},
		{"rules", "/rules"},
		{"redistributions", "/redistribution"},
		{"redistribution", "/redistribution/2026-06"},
		{"redistribution-open", "/redistribution/2026-07"},
		{"sync", "/sync"},
		{"api-balances", "/api/v1/balances"},
		{"api-list-entries", "/api/v1/list-entries?author=" + key + "&from_seq=60000&limit=100"},
		{"api-raw-entry", "/api/v1/entries/" + key + "/60000"},
		{"api-proposals", "/api/v1/proposals"},
		{"api-settlements", "/api/v1/settlements?period=2026-06"},
	} {
		b.Run(p.name, func(b *testing.B) {
			serve(p.path) // warm
			b.ReportAllocs()
			benchcmp.Run(b, func(int) { serve("/static/style.css") }, func(int) { serve(p.path) })
		})
	}
}

// closeOf returns the edit that makes an entry author's close of period,
// with the totals of its entries among entries.
func closeOf(entries []ledger.Entry, author ledger.Author, period string, members, strikeDays uint64) func(*caissev1.EntryBody) {
	c := &caissev1.PeriodClose{Period: period, Members: members, Need: []*caissev1.NeedUnits{{Unit: "strike-day", Units: strikeDays}}}
	in, out := map[caissev1.ContributionCategory]int64{}, map[caissev1.DisbursementCategory]int64{}
	for _, e := range entries {
		if e.Author() != author {
			continue
		}
		switch k := e.Body().GetKind().(type) {
		case *caissev1.EntryBody_Contribution:
			if k.Contribution.GetPeriod() == period {
				in[k.Contribution.GetCategory()] += k.Contribution.GetAmount()
			}
		case *caissev1.EntryBody_Disbursement:
			if k.Disbursement.GetPeriod() == period {
				out[k.Disbursement.GetCategory()] += k.Disbursement.GetAmount()
			}
		}
	}
	for _, cat := range slices.Sorted(maps.Keys(in)) {
		c.Contributed += in[cat]
		c.Contributions = append(c.Contributions, &caissev1.ContributionTotal{Category: cat, Amount: in[cat]})
	}
	for _, cat := range slices.Sorted(maps.Keys(out)) {
		c.Disbursed += out[cat]
		c.Disbursements = append(c.Disbursements, &caissev1.DisbursementTotal{Category: cat, Amount: out[cat]})
	}
	return func(b *caissev1.EntryBody) { b.Kind = &caissev1.EntryBody_PeriodClose{PeriodClose: c} }
}

func propose(r *caissev1.Rules, effective string) func(*caissev1.EntryBody) {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{Note: "bench",
			Action: &caissev1.Proposal_ChangeRules{ChangeRules: &caissev1.ChangeRules{Rules: r, Effective: effective}}}}
	}
}

func voteYes(p ledger.Entry) func(*caissev1.EntryBody) {
	h := p.Hash()
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Vote{Vote: &caissev1.Vote{Proposal: h[:], Choice: caissev1.Choice_CHOICE_YES}}
	}
}
