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
	StateHash, TotalFunds, Pool string
	Balances, Shares, Nets      map[string]string
	Transfers                   []string
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

// read visits the pages of the node at base and reads its figures.
func (b *browser) read(base, node string) figures {
	b.t.Helper()
	var f figures
	b.visit(base+"/", node+"-overview")
	f.StateHash, f.TotalFunds = b.text("#state-hash"), b.text("#total-funds")
	b.visit(base+"/caisses", node+"-caisses")
	f.Balances = b.column("#caisses", ".balance")
	b.visit(base+"/redistribution/2026-10", node+"-redistribution-2026-10")
	f.Pool = b.text("#pool")
	f.Shares, f.Nets = b.column("#shares", ".share"), b.column("#shares", ".net")
	var transfers []string
	b.run("read transfers", chromedp.Evaluate(`Array.from(document.querySelectorAll("#transfers tbody tr")).map(r => r.textContent.replace(/\s+/g, " ").trim())`, &transfers))
	f.Transfers = transfers
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
// of a node in a three-node federation with data in it, checks the figures
// shown against the node's JSON API, saves screenshots (desktop and phone,
// light and dark), then reads a second node's pages and gets the same
// figures.
func TestDashboardInBrowser(t *testing.T) {
	br := newBrowser(t)
	a, aWeb := webFedNode(t, "Caisse des Mineurs", true)
	b, bWeb := webFedNode(t, "Coopérative du Port", false)
	admit(t, []*fedNode{a}, b)
	c, _ := webFedNode(t, "Syndicat des Soignants", false)
	admit(t, []*fedNode{a, b}, c)
	nodes := []*fedNode{a, b, c}
	for i, n := range nodes {
		for _, period := range []string{"2026-09", "2026-10"} {
			for j := range 3 {
				mustCLI(t, n.p, "contribute", "--member", fmt.Sprintf("membre %d", j), "--amount",
					fmt.Sprintf("%d.%02d", 40*(i+1)+10*j, 25*j), "--period", period)
			}
		}
		mustCLI(t, n.p, "disburse", "--to", "membre 0", "--amount", fmt.Sprint(30+20*i), "--period", "2026-10",
			"--category", []string{"strike", "legal", "hardship"}[i], "--note", "caisse de grève")
		mustCLI(t, n.p, "contribute", "--member", "membre 1", "--amount", "15", "--period", "2026-11", "--category", "donation")
	}
	mustCLI(t, a.p, "period", "close", "2026-10", "--members", "120", "--need", "strike_day=3")
	mustCLI(t, b.p, "period", "close", "2026-10", "--members", "45")
	mustCLI(t, c.p, "period", "close", "2026-10", "--members", "35", "--need", "strike_day=10,legal_case=1")
	mustCLI(t, a.p, "period", "close", "2026-11", "--members", "118")
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

	var st rpcv1.StatusResponse
	waitCond(t, 60*time.Second, "the three nodes to converge", func() bool {
		var hashes []string
		for _, n := range nodes {
			var s statusJSON
			cliJSON(t, n.p, &s, "status")
			hashes = append(hashes, s.StateHash)
		}
		var red rpcv1.RedistributionResponse
		apiGet(t, bWeb, "/api/v1/redistribution?period=2026-10", &red)
		return hashes[0] == hashes[1] && hashes[1] == hashes[2] && red.GetFinal()
	})
	apiGet(t, aWeb, "/api/v1/status", &st)

	// Every page of A, checked against A's JSON API.
	fa := br.read(aWeb, "a")
	var bal rpcv1.BalancesResponse
	apiGet(t, aWeb, "/api/v1/balances", &bal)
	var red rpcv1.RedistributionResponse
	apiGet(t, aWeb, "/api/v1/redistribution?period=2026-10", &red)
	if fa.StateHash != st.GetStateHash() {
		t.Errorf("overview: state hash %q, API %q", fa.StateHash, st.GetStateHash())
	}
	if want := minor(bal.GetTotal().GetBalance()) + " EUR"; fa.TotalFunds != want {
		t.Errorf("overview: total funds %q, API %q", fa.TotalFunds, want)
	}
	if len(fa.Balances) != 3 {
		t.Errorf("caisses page: %d rows, want 3: %v", len(fa.Balances), fa.Balances)
	}
	for _, c := range bal.GetCaisses() {
		if got, want := fa.Balances[c.GetId()], minor(c.GetTotal().GetBalance()); got != want {
			t.Errorf("caisses page: %s balance %q, API %q", c.GetName(), got, want)
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
	if len(fa.Transfers) != len(red.GetTransfers()) || len(red.GetTransfers()) == 0 {
		t.Errorf("redistribution page: %d transfers, API %d", len(fa.Transfers), len(red.GetTransfers()))
	}
	for i, tr := range red.GetTransfers() {
		if i < len(fa.Transfers) && !strings.Contains(fa.Transfers[i], minor(tr.GetAmount())) {
			t.Errorf("transfer %d: %q, API %s pays %s %s", i, fa.Transfers[i], tr.GetFromName(), tr.GetToName(), minor(tr.GetAmount()))
		}
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
	br.visit(aWeb+"/caisses/"+first+"?period=2026-10&kind=contribution", "a-caisse-filtered")
	var filtered int
	br.run("count filtered", chromedp.Evaluate(`document.querySelectorAll("#entries tbody tr[data-seq]").length`, &filtered))
	if filtered != 3 {
		t.Errorf("entries of 2026-10, contributions: %d rows, want 3", filtered)
	}
	br.visit(aWeb+"/caisses/"+first+"/entries/2", "a-entry")
	if got := br.text("#entry-kind"); got == "" {
		t.Error("entry page: no kind")
	}
	br.visit(aWeb+"/rules", "a-rules")
	if got := br.text("#levy"); got != "10%" {
		t.Errorf("rules page: levy %q, want 10%% (the charter's rules)", got)
	}
	var open int
	br.run("count proposals", chromedp.Evaluate(`document.querySelectorAll("#open-proposals tbody tr").length`, &open))
	if open != 1 {
		t.Errorf("rules page: %d open proposals, want 1", open)
	}
	br.visit(aWeb+"/redistribution", "a-redistribution")
	br.visit(aWeb+"/redistribution/2026-11", "a-redistribution-2026-11")
	if got := br.text("#red-state"); !strings.HasPrefix(got, "Provisional") {
		t.Errorf("2026-11: %q, want provisional", got)
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
	for _, p := range []struct{ path, name string }{{"/", "overview"}, {"/caisses", "caisses"}, {"/caisses/" + first, "caisse"}, {"/redistribution/2026-10", "redistribution"}} {
		br.visit(aWeb+p.path, "phone-"+p.name)
		var overflow bool
		br.run("overflow", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow))
		if overflow {
			t.Errorf("%s is wider than a phone's screen", p.path)
		}
	}
	br.run("dark", emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}))
	br.visit(aWeb+"/caisses/"+first, "phone-dark-caisse")
	br.run("desktop", emulation.ClearDeviceMetricsOverride())
	for _, p := range []struct{ path, name string }{{"/", "overview"}, {"/caisses/" + first, "caisse"}, {"/redistribution/2026-10", "redistribution"}, {"/rules", "rules"}, {"/sync", "sync"}} {
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
	fb := br.read(bWeb, "b")
	if fmt.Sprint(fa) != fmt.Sprint(fb) {
		t.Errorf("node B shows other figures:\n%+v\nnode A:\n%+v", fb, fa)
	}

	// The overview refreshes itself: a new contribution shows without a
	// reload.
	br.visit(aWeb+"/", "a-overview-before-refresh")
	before := br.text("#total-funds")
	mustCLI(t, a.p, "contribute", "--member", "membre 9", "--amount", "1000", "--period", "2026-12")
	waitCond(t, 40*time.Second, "the overview to refresh itself", func() bool {
		return br.text("#total-funds") != before
	})
	br.failOnErrors()
}
