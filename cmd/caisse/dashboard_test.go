package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// chromium finds Debian's chromium (or another Chrome). With
// CAISSE_TEST_TOOLS=1, as CI sets it, a missing browser fails the test;
// otherwise the test is skipped, and says why.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium found on PATH (Debian: apt-get install chromium): the dashboard's browser test cannot run"
	if os.Getenv("CAISSE_TEST_TOOLS") == "1" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg + "; set CAISSE_TEST_TOOLS=1 to make this a failure")
	return ""
}

// webFedNode is a federation node that serves its dashboard on a known
// address.
func webFedNode(t *testing.T, name string, found bool) (*fedNode, string) {
	t.Helper()
	web := freeAddr(t)
	f := &fedNode{name: name, dir: t.TempDir()}
	f.args = []string{"--name", name, "--found=" + fmt.Sprint(found), "--anti-entropy", "1s",
		"--sync-addr", freeAddr(t), "--gossip-addr", freeAddr(t), "--web-addr", web}
	f.start(t)
	return f, "http://" + web
}

// apiGet reads one call of a node's JSON API into m.
func apiGet(t *testing.T, base, path string, m proto.Message) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
	}
	if err := protojson.Unmarshal(body, m); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// minor formats minor units as the dashboard does, for a currency of two
// digits.
func minor(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// figures are what the browser read on a node's pages.
type figures struct {
	StateHash, TotalFunds, Pool, CaissesFunds string
	Balances, Funds, Shares, Nets             map[string]string
	Transfers, Settlements                    []string
	RuleHistory, Open, Past                   []string
}

// browser drives one headless chromium for the test, and saves a
// screenshot of every page it is shown.
type browser struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromium(t)
	dir := os.Getenv("CAISSE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // the test may run as root, in a container
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	b := &browser{t: t, ctx: ctx, dir: dir}
	// Console errors, uncaught exceptions and CSP violations fail the test.
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + ev.ExceptionDetails.Text
		case *log.EventEntryAdded:
			// The error pages visited on purpose answer 400 and 404.
			if ev.Entry.Level == log.LevelError && !strings.Contains(ev.Entry.Text, "status of 40") {
				msg = "console: " + ev.Entry.Text + " " + ev.Entry.URL
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.errs = append(b.errs, msg)
			b.mu.Unlock()
		}
	})
	if err := chromedp.Run(ctx, log.Enable()); err != nil {
		t.Fatalf("start chromium %s: %v", exe, err)
	}
	t.Logf("screenshots in %s", dir)
	return b
}

func (b *browser) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// visit loads url, waits for the page, and saves a full-page screenshot.
func (b *browser) visit(url, shot string) {
	b.t.Helper()
	var png []byte
	b.run("visit "+url, chromedp.Navigate(url), chromedp.WaitVisible("main", chromedp.ByQuery),
		chromedp.FullScreenshot(&png, 100)) // 100: PNG
	if err := os.WriteFile(filepath.Join(b.dir, shot+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	b.run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// column reads a table's column into row id -> text.
func (b *browser) column(table, cell string) map[string]string {
	b.t.Helper()
	var out map[string]string
	js := fmt.Sprintf(`Object.fromEntries(Array.from(document.querySelectorAll(%q)).map(r => [r.dataset.id, (r.querySelector(%q)||{}).textContent.trim()]))`,
		table+" tbody tr[data-id]", cell)
	b.run("read "+table, chromedp.Evaluate(js, &out))
	return out
}

// rows reads the text of each row matched by sel as it is rendered (cells
// apart, the charts' titles left out), spaces squeezed.
func (b *browser) rows(sel string) []string {
	b.t.Helper()
	var out []string
	b.run("read "+sel, chromedp.Evaluate(fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(r => r.innerText.replace(/\s+/g, " ").trim())`, sel), &out))
	return out
}

// read visits the pages of the node at base and reads its figures, those
// of period p for the redistribution.
func (b *browser) read(base, node, p string) figures {
	b.t.Helper()
	var f figures
	b.visit(base+"/", node+"-overview")
	f.StateHash, f.TotalFunds = b.text("#state-hash"), b.text("#total-funds")
	b.visit(base+"/caisses", node+"-caisses")
	f.Balances, f.Funds, f.CaissesFunds = b.column("#caisses", ".balance"), b.column("#caisses", ".funds"), b.text("#caisses-funds")
	b.visit(base+"/redistribution/"+p, node+"-redistribution-"+p)
	f.Pool = b.text("#pool")
	f.Shares, f.Nets = b.column("#shares", ".share"), b.column("#shares", ".net")
	f.Transfers, f.Settlements = b.rows("#transfers tbody tr"), b.rows("#settlements tbody tr")
	b.visit(base+"/rules", node+"-rules")
	f.RuleHistory, f.Past = b.rows("#rule-history tbody tr"), b.rows("#past-proposals tbody tr")
	f.Open = b.rows("#open-proposals .count")
	return f
}

func (b *browser) failOnErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errs) > 0 {
		b.t.Fatalf("the browser reported errors:\n%s", strings.Join(b.errs, "\n"))
	}
}

// TestDashboardInBrowser drives a real headless chromium through every page
// of a node in a three-node federation with data in it: a final period
// partly settled, a provisional one, a rule change adopted by vote and
// another one open. It checks the figures shown against the node's JSON
// API, saves screenshots (desktop and phone, light and dark), then reads a
// second node's pages and gets the same figures.
func TestDashboardInBrowser(t *testing.T) {
	br := newBrowser(t)
	a, aWeb := webFedNode(t, "Caisse des Mineurs", true)
	b, bWeb := webFedNode(t, "Coopérative du Port", false)
	admit(t, []*fedNode{a}, b)
	c, cWeb := webFedNode(t, "Syndicat des Soignants", false)
	admit(t, []*fedNode{a, b}, c)
	nodes := []*fedNode{a, b, c}
	webs := map[*fedNode]string{a: aWeb, b: bWeb, c: cWeb}
	// Periods from the month the members were admitted in: p0 closed by
	// all and settled, p1 closed by A alone, p2 open.
	p0 := ledger.PeriodOf(time.Now())
	p1, p2 := p0.Next(), p0.Next().Next()
	for i, n := range nodes {
		for _, period := range []string{string(p0), string(p1)} {
			for j := range 3 {
				mustCLI(t, n.p, "contribute", "--member", fmt.Sprintf("membre %d", j), "--amount",
					fmt.Sprintf("%d.%02d", 40*(i+1)+10*j, 25*j), "--period", period)
			}
		}
		mustCLI(t, n.p, "disburse", "--to", "membre 0", "--amount", fmt.Sprint(30+20*i), "--period", string(p0),
			"--category", []string{"strike", "legal", "hardship"}[i], "--note", "caisse de grève")
		mustCLI(t, n.p, "contribute", "--member", "membre 1", "--amount", "15", "--period", string(p1), "--category", "donation")
	}
	mustCLI(t, a.p, "period", "close", string(p0), "--members", "120", "--need", "strike_day=3")
	mustCLI(t, b.p, "period", "close", string(p0), "--members", "45")
	mustCLI(t, c.p, "period", "close", string(p0), "--members", "35", "--need", "strike_day=10,legal_case=1")
	mustCLI(t, a.p, "period", "close", string(p1), "--members", "118")
	// A proposal left open, for the votes page.
	d, _ := webFedNode(t, "Collectif des Livreurs", false)
	var inv struct{ Token string }
	cliJSON(t, a.p, &inv, "federation", "invite")
	mustCLI(t, d.p, "federation", "join", inv.Token)
	var dst statusJSON
	cliJSON(t, d.p, &dst, "status")
	waitCond(t, 30*time.Second, "the applicant on A", func() bool {
		var m membersOut
		cliJSON(t, a.p, &m, "federation", "members")
		return len(m.Members) == 4
	})
	mustCLI(t, a.p, "federation", "admit", dst.NodeKey)

	converge := func(what string, cond func() bool) {
		t.Helper()
		waitCond(t, 60*time.Second, what, func() bool {
			var hashes []string
			for _, n := range nodes {
				var s statusJSON
				cliJSON(t, n.p, &s, "status")
				hashes = append(hashes, s.StateHash)
			}
			return hashes[0] == hashes[1] && hashes[1] == hashes[2] && cond()
		})
	}
	converge("the three nodes to converge on a final "+string(p0), func() bool {
		var red rpcv1.RedistributionResponse
		apiGet(t, bWeb, "/api/v1/redistribution?period="+string(p0), &red)
		return red.GetFinal()
	})

	// A rule change adopted by A and B, from p1; another, from p2, left
	// open; a transfer of p0's plan paid and acknowledged, another paid in
	// part.
	var adopted, pending struct{ Proposal string }
	cliJSON(t, a.p, &adopted, "propose", "rules", "--effective", string(p1), "--levy-bp", "1200", "--rate", "eviction=300.00",
		"--note", "une cotisation solidaire plus forte")
	waitCond(t, 30*time.Second, "the rule change on B", func() bool {
		var ps rpcv1.ProposalsResponse
		apiGet(t, bWeb, "/api/v1/proposals?open=true", &ps)
		for _, p := range ps.GetProposals() {
			if p.GetHash() == adopted.Proposal {
				return true
			}
		}
		return false
	})
	mustCLI(t, b.p, "vote", adopted.Proposal[:16], "yes")
	cliJSON(t, b.p, &pending, "propose", "rules", "--effective", string(p2), "--levy-bp", "1500", "--quorum-bp", "6000",
		"--deadline", string(p1), "--note", "encore plus")
	var plan rpcv1.SettlementsResponse
	apiGet(t, aWeb, "/api/v1/settlements?period="+string(p0), &plan)
	if !plan.GetFinal() || len(plan.GetTransfers()) == 0 {
		t.Fatalf("the plan of %s: %v, want final with transfers", p0, &plan)
	}
	byKey := map[string]*fedNode{}
	for _, n := range nodes {
		var s statusJSON
		cliJSON(t, n.p, &s, "status")
		byKey[s.NodeKey] = n
	}
	node := func(id string) *fedNode {
		a, err := ledger.ParseNodeID(id)
		if err != nil {
			t.Fatalf("node id %q: %v", id, err)
		}
		return byKey[a.String()]
	}
	t0 := plan.GetTransfers()[0]
	payer, payee := node(t0.GetFrom()), node(t0.GetTo())
	if payer == nil || payee == nil {
		t.Fatalf("transfer %v between unknown nodes", t0)
	}
	mustCLI(t, payer.p, "settle", string(p0), "--to", t0.GetTo(), "--amount", minor(t0.GetAmount()), "--reference", "virement 2026-0042")
	var settled string
	waitCond(t, 30*time.Second, "the settlement on its payee", func() bool {
		var s rpcv1.SettlementsResponse
		apiGet(t, webs[payee], "/api/v1/settlements?period="+string(p0), &s)
		for _, x := range s.GetSettlements() {
			settled = x.GetHash()
		}
		return settled != ""
	})
	mustCLI(t, payee.p, "ack", settled[:16])
	if len(plan.GetTransfers()) > 1 {
		t1 := plan.GetTransfers()[1]
		mustCLI(t, node(t1.GetFrom()).p, "settle", string(p0), "--to", t1.GetTo(), "--amount", minor(t1.GetAmount()/2), "--reference", "acompte")
	}
	converge("the votes and settlements on every node", func() bool {
		var r rpcv1.RulesResponse
		apiGet(t, bWeb, "/api/v1/rules?period="+string(p1), &r)
		var s rpcv1.SettlementsResponse
		apiGet(t, bWeb, "/api/v1/settlements?period="+string(p0), &s)
		return r.GetInForce().GetVersion() == 2 && s.GetTransfers()[0].GetAcknowledged() == t0.GetAmount() &&
			len(s.GetSettlements()) == min(2, len(plan.GetTransfers()))
	})
	var st rpcv1.StatusResponse
	apiGet(t, aWeb, "/api/v1/status", &st)

	// Every page of A, checked against A's JSON API.
	fa := br.read(aWeb, "a", string(p0))
	var bal rpcv1.BalancesResponse
	apiGet(t, aWeb, "/api/v1/balances", &bal)
	var red rpcv1.RedistributionResponse
	apiGet(t, aWeb, "/api/v1/redistribution?period="+string(p0), &red)
	var set rpcv1.SettlementsResponse
	apiGet(t, aWeb, "/api/v1/settlements?period="+string(p0), &set)
	if fa.StateHash != st.GetStateHash() {
		t.Errorf("overview: state hash %q, API %q", fa.StateHash, st.GetStateHash())
	}
	var funds, settledOut int64
	for _, c := range bal.GetCaisses() {
		funds += c.GetFunds()
		settledOut += c.GetSettledOut()
	}
	if want := minor(funds) + " EUR"; fa.TotalFunds != want || fa.CaissesFunds != minor(funds) {
		t.Errorf("total funds: overview %q, caisses page %q, API %q", fa.TotalFunds, fa.CaissesFunds, want)
	}
	if settledOut == 0 || funds == bal.GetTotal().GetBalance() {
		t.Errorf("funds %s, balance %s, settled out %s: the settlement in transit is in no caisse's funds", minor(funds),
			minor(bal.GetTotal().GetBalance()), minor(settledOut))
	}
	if len(fa.Balances) != 3 {
		t.Errorf("caisses page: %d rows, want 3: %v", len(fa.Balances), fa.Balances)
	}
	for _, c := range bal.GetCaisses() {
		if got, want := fa.Balances[c.GetId()], minor(c.GetTotal().GetBalance()); got != want {
			t.Errorf("caisses page: %s balance %q, API %q", c.GetName(), got, want)
		}
		if got, want := fa.Funds[c.GetId()], minor(c.GetFunds()); got != want {
			t.Errorf("caisses page: %s funds %q, API %q", c.GetName(), got, want)
		}
	}
	if want := minor(red.GetPool()) + " EUR"; fa.Pool != want || red.GetPool() == 0 {
		t.Errorf("redistribution page: pool %q, API %q", fa.Pool, want)
	}
	for _, s := range red.GetCaisses() {
		if fa.Shares[s.GetId()] != minor(s.GetShare()) || fa.Nets[s.GetId()] != minor(s.GetNet()) {
			t.Errorf("redistribution page: %s share %q net %q, API %s %s", s.GetName(), fa.Shares[s.GetId()], fa.Nets[s.GetId()],
				minor(s.GetShare()), minor(s.GetNet()))
		}
	}
	if len(fa.Transfers) != len(set.GetTransfers()) || len(set.GetTransfers()) != len(red.GetTransfers()) {
		t.Errorf("redistribution page: %d transfers, API %d (redistribution %d)", len(fa.Transfers), len(set.GetTransfers()), len(red.GetTransfers()))
	}
	for i, tr := range set.GetTransfers() {
		state := "owed"
		switch {
		case tr.GetAcknowledged() == tr.GetAmount():
			state = "acknowledged"
		case tr.GetPaid() > 0:
			state = "part paid"
		}
		want := fmt.Sprintf("%s %s %s %s %s %s", tr.GetFromName(), tr.GetToName(), minor(tr.GetAmount()), minor(tr.GetPaid()), minor(tr.GetAcknowledged()), state)
		if i < len(fa.Transfers) && fa.Transfers[i] != want {
			t.Errorf("transfer %d: %q, API %q", i, fa.Transfers[i], want)
		}
	}
	if first := set.GetTransfers()[0]; first.GetPaid() != first.GetAmount() || first.GetAcknowledged() != first.GetAmount() {
		t.Errorf("the first transfer: %v, want paid and acknowledged in full", first)
	}
	if len(fa.Settlements) != len(set.GetSettlements()) || len(fa.Settlements) == 0 {
		t.Errorf("redistribution page: %d settlements, API %d", len(fa.Settlements), len(set.GetSettlements()))
	}
	for i, x := range set.GetSettlements() {
		ack := "not yet"
		if x.GetAcknowledged() {
			ack = "✓ yes"
		}
		if i < len(fa.Settlements) && !strings.Contains(fa.Settlements[i], fmt.Sprintf("%s %s %s %s %s", x.GetFromName(), x.GetToName(), minor(x.GetAmount()), x.GetReference(), ack)) {
			t.Errorf("settlement %d: %q, API %v", i, fa.Settlements[i], x)
		}
	}

	// The rules: version 1 in force now, version 2 adopted from p1, with
	// the proposal that adopted it; the open proposals counted by caisses
	// and by members represented, as the API counts them.
	var rules rpcv1.RulesResponse
	apiGet(t, aWeb, "/api/v1/rules", &rules)
	if len(fa.RuleHistory) != 2 || len(rules.GetHistory()) != 2 {
		t.Fatalf("rules page: history %q, API %v", fa.RuleHistory, rules.GetHistory())
	}
	if v2 := rules.GetHistory()[1]; v2.GetAdoptedBy() != adopted.Proposal || v2.GetEffective() != string(p1) ||
		!strings.HasPrefix(fa.RuleHistory[0], fmt.Sprintf("2 %s %s", p1, adopted.Proposal[:12])) || !strings.Contains(fa.RuleHistory[0], "Levy: 10% → 12%") {
		t.Errorf("rules page: latest version %q, API %v", fa.RuleHistory[0], v2)
	}
	var open rpcv1.ProposalsResponse
	apiGet(t, aWeb, "/api/v1/proposals?open=true", &open)
	if len(open.GetProposals()) != 2 || len(fa.Open) != 4 {
		t.Fatalf("open proposals: API %d, page counts %q", len(open.GetProposals()), fa.Open)
	}
	for i, p := range open.GetProposals() {
		byCaisses := fmt.Sprintf("By caisses %d yes · %d no · %d abstain · of %d", p.GetYes(), p.GetNo(), p.GetAbstain(), p.GetEligible())
		// Members represented: A 118 (its close of p1), B 45, C 35.
		byMembers := fmt.Sprintf("By members represented %d yes · %d no · %d abstain · of %d", p.GetYesMembers(), p.GetNoMembers(), p.GetAbstainMembers(), p.GetEligibleMembers())
		if !strings.HasPrefix(fa.Open[2*i], byCaisses) || !strings.HasPrefix(fa.Open[2*i+1], byMembers) || p.GetEligibleMembers() != 198 {
			t.Errorf("open proposal %s: page %q / %q, API %q / %q", p.GetHash()[:12], fa.Open[2*i], fa.Open[2*i+1], byCaisses, byMembers)
		}
	}
	if len(fa.Past) == 0 || !strings.Contains(fa.Past[0], "Change the rules from "+string(p1)) || !strings.Contains(fa.Past[0], "adopted") {
		t.Errorf("past outcomes: %q, want the rule change adopted first", fa.Past)
	}

	// The other pages: each caisse with its entries and charts, an entry,
	// rules and votes, the periods, sync, and the error pages.
	for i, c := range bal.GetCaisses() {
		br.visit(aWeb+"/caisses/"+c.GetId(), fmt.Sprintf("a-caisse-%d", i))
		if got := br.text("#caisse-balance"); got != minor(c.GetTotal().GetBalance())+" EUR" {
			t.Errorf("caisse page %s: balance %q, API %s", c.GetName(), got, minor(c.GetTotal().GetBalance()))
		}
		var rows, verified, charts int
		br.run("count", chromedp.Evaluate(`document.querySelectorAll("#entries tbody tr[data-seq]").length`, &rows),
			chromedp.Evaluate(`document.querySelectorAll("#entries .verified").length`, &verified),
			chromedp.Evaluate(`document.querySelectorAll("svg[role=img][aria-label] title, svg[role=img] desc").length`, &charts))
		var list rpcv1.ListEntriesResponse
		apiGet(t, aWeb, "/api/v1/list-entries?author="+c.GetId()+"&limit=1000", &list)
		if rows != len(list.GetEntries()) || verified != rows || charts < 4 {
			t.Errorf("caisse page %s: %d rows (API %d), %d verified, %d chart titles and descriptions", c.GetName(), rows, len(list.GetEntries()), verified, charts)
		}
	}
	first := bal.GetCaisses()[0].GetId()
	br.visit(aWeb+"/caisses/"+first+"?period="+string(p0)+"&kind=contribution", "a-caisse-filtered")
	var filtered int
	br.run("count filtered", chromedp.Evaluate(`document.querySelectorAll("#entries tbody tr[data-seq]").length`, &filtered))
	if filtered != 3 {
		t.Errorf("entries of %s, contributions: %d rows, want 3", p0, filtered)
	}
	br.visit(aWeb+"/caisses/"+first+"/entries/2", "a-entry")
	if got := br.text("#entry-kind"); got == "" {
		t.Error("entry page: no kind")
	}
	br.visit(aWeb+"/rules", "a-rules")
	if got, v := br.text("#levy"), br.text("#version"); got != "10%" || v != "1" {
		t.Errorf("rules page: version %s, levy %q, want the charter's rules (1, 10%%) in force now", v, got)
	}
	if got := br.text(".upcoming"); !strings.Contains(got, "Version 2") || !strings.Contains(got, "from "+string(p1)) {
		t.Errorf("rules page: %q, want version 2 announced from %s", got, p1)
	}
	if got := strings.Join(strings.Fields(br.text(`[data-hash="`+pending.Proposal+`"] table.changes tbody`)), " "); !strings.Contains(got, "Levy 10% 15%") || !strings.Contains(got, "Quorum 50% 60%") {
		t.Errorf("rules page: the open rule change shows %q, want levy 10%% to 15%% and quorum 50%% to 60%%", got)
	}
	br.visit(aWeb+"/rules?period="+string(p1), "a-rules-next")
	if got, v := br.text("#levy"), br.text("#version"); got != "12%" || v != "2" {
		t.Errorf("rules page for %s: version %s, levy %q, want 2, 12%%", p1, v, got)
	}
	br.visit(aWeb+"/redistribution", "a-redistribution")
	br.visit(aWeb+"/redistribution/"+string(p1), "a-redistribution-next")
	if got := br.text("#red-state"); !strings.HasPrefix(got, "Provisional") {
		t.Errorf("%s: %q, want provisional", p1, got)
	}
	br.visit(aWeb+"/sync", "a-sync")
	var peers int
	br.run("count peers", chromedp.Evaluate(`document.querySelectorAll("#peers tbody tr[data-id]").length`, &peers))
	if peers < 2 {
		t.Errorf("sync page: %d peers, want at least 2", peers)
	}
	for _, tc := range []struct{ path, want string }{
		{"/caisses/" + strings.Repeat("ab", 32), "404"},
		{"/redistribution/2031-01", "404"},
		{"/caisses/" + first + "/entries/9999", "404"},
		{"/caisses/" + first + "?period=2026-13", "400"},
	} {
		br.visit(aWeb+tc.path, "a-error-"+tc.want)
		if got := br.text("h1"); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: heading %q, want %s", tc.path, got, tc.want)
		}
	}

	// Phone width, and the dark theme.
	br.run("phone", emulation.SetDeviceMetricsOverride(390, 844, 3, true))
	for _, p := range []struct{ path, name string }{{"/", "overview"}, {"/caisses", "caisses"}, {"/caisses/" + first, "caisse"},
		{"/redistribution/" + string(p0), "redistribution"}, {"/rules", "rules"}} {
		br.visit(aWeb+p.path, "phone-"+p.name)
		var overflow bool
		br.run("overflow", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow))
		if overflow {
			t.Errorf("%s is wider than a phone's screen", p.path)
		}
	}
	br.run("dark", emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}))
	br.visit(aWeb+"/caisses/"+first, "phone-dark-caisse")
	br.visit(aWeb+"/rules", "phone-dark-rules")
	br.run("desktop", emulation.ClearDeviceMetricsOverride())
	for _, p := range []struct{ path, name string }{{"/", "overview"}, {"/caisses/" + first, "caisse"}, {"/redistribution/" + string(p0), "redistribution"}, {"/rules", "rules"}, {"/sync", "sync"}} {
		br.visit(aWeb+p.path, "dark-"+p.name)
	}
	var bg string
	br.run("background", chromedp.Evaluate(`getComputedStyle(document.body).backgroundColor`, &bg))
	if bg == "rgb(247, 247, 245)" {
		t.Error("dark mode: the background stayed light")
	}
	br.run("light", emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}))

	// With JavaScript off, the pages show the same figures.
	br.run("scripts off", emulation.SetScriptExecutionDisabled(true))
	br.visit(aWeb+"/", "noscript-overview")
	if got := br.text("#total-funds"); got != fa.TotalFunds {
		t.Errorf("JavaScript off: total funds %q, want %q", got, fa.TotalFunds)
	}
	br.visit(aWeb+"/caisses/"+first+"?kind=disbursement", "noscript-caisse-filtered")
	var disb int
	br.run("count", chromedp.Evaluate(`document.querySelectorAll("#entries tbody tr[data-seq]").length`, &disb))
	if disb != 1 {
		t.Errorf("JavaScript off, disbursements of a caisse: %d rows, want 1", disb)
	}
	br.run("scripts on", emulation.SetScriptExecutionDisabled(false))

	// The same figures from another node of the federation.
	fb := br.read(bWeb, "b", string(p0))
	if fmt.Sprint(fa) != fmt.Sprint(fb) {
		t.Errorf("node B shows other figures:\n%+v\nnode A:\n%+v", fb, fa)
	}

	// The overview refreshes itself: a new contribution shows without a
	// reload.
	br.visit(aWeb+"/", "a-overview-before-refresh")
	before := br.text("#total-funds")
	mustCLI(t, a.p, "contribute", "--member", "membre 9", "--amount", "1000", "--period", string(p2))
	waitCond(t, 40*time.Second, "the overview to refresh itself", func() bool {
		return br.text("#total-funds") != before
	})
	br.failOnErrors()
}
