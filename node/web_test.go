package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// webNode is a one-member federation with a few entries and a closed
// period, and its dashboard handler.
func webNode(t *testing.T, origins ...string) (*Node, *backend, http.Handler) {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	cfg.WebOrigins = origins
	n := mustNew(t, cfg)
	t.Cleanup(func() { n.Close() })
	b := &backend{n: n}
	ctx := context.Background()
	for i, c := range []struct{ who, amount, period string }{
		{"Anne Morel", "120.50", "2026-10"}, {"Karim Benali", "80", "2026-10"}, {"Anne Morel", "130", "2026-11"},
	} {
		if _, err := b.Contribute(ctx, &rpcv1.ContributeRequest{Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: c.who}},
			Amount: c.amount, Period: c.period, Category: "dues"}); err != nil {
			t.Fatalf("contribution %d: %v", i, err)
		}
	}
	if _, err := b.Disburse(ctx, &rpcv1.DisburseRequest{Beneficiary: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "Karim Benali"}},
		Amount: "45", Period: "2026-10", Category: "strike", Note: "three strike days"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ClosePeriod(ctx, &rpcv1.ClosePeriodRequest{Period: "2026-10", Members: 12, Need: map[string]uint64{"strike_day": 2}}); err != nil {
		t.Fatal(err)
	}
	h, err := n.webHandler()
	if err != nil {
		t.Fatal(err)
	}
	return n, b, h
}

func webGet(t *testing.T, h http.Handler, method, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	resp := w.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestWebPages(t *testing.T) {
	n, b, h := webNode(t)
	self := n.self.String()
	bal, err := b.Balances(context.Background(), &rpcv1.BalancesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	total := ledger.Amount(bal.GetTotal().GetBalance()).Format(2) // 285.50
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/", []string{"Caisse de test", total + " EUR", "✓ Caught up", n.state.Hash().String(), "2026-11"}},
		{"/caisses", []string{"/caisses/" + self, total, "2026-10"}},
		{"/caisses/" + self, []string{"✓ verified", `role="img"`, "<desc", "three strike days", "/api/v1/entries/" + self + "/2"}},
		{"/caisses/" + string(n.self.ID()) + "?period=2026-10&kind=contribution", []string{"120.50", "80.00"}},
		{"/caisses/" + self + "/entries/2", []string{"contribution", "120.50", "✓ verifies"}},
		{"/rules", []string{`id="levy">10%<`, "Quorum", "the charter's rules", "No open proposal."}},
		{"/redistribution", []string{"/redistribution/2026-10", "final", `aria-label="The federation&#39;s pool per period"`}},
		{"/redistribution/2026-10", []string{"Final", "Who pays whom"}},
		{"/redistribution/2026-11", []string{"Provisional"}},
		{"/sync", []string{"Queues", "No fork"}},
		{"/static/style.css", []string{"prefers-color-scheme: dark"}},
		{"/static/refresh.js", []string{"DOMParser"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := webGet(t, h, "GET", tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d\n%s", resp.StatusCode, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("content security policy %q", csp)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, name := range []string{"Anne", "Karim", "Benali"} {
				if strings.Contains(body, name) {
					t.Errorf("page shows the member name %q: names never leave the node", name)
				}
			}
			if strings.Contains(body, "style=") || strings.Contains(body, "<script>") || strings.Contains(body, "onclick") {
				t.Error("inline style or script: the CSP forbids them")
			}
		})
	}
}

func TestWebErrors(t *testing.T) {
	n, _, h := webNode(t)
	self := n.self.String()
	other := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/caisses/" + other, 404, "no caisse"},
		{"/caisses/not-a-key", 404, "no caisse"},
		{"/caisses/" + self + "/entries/999", 404, "no entry"},
		{"/caisses/" + self + "/entries/zero", 404, "no entry"},
		{"/redistribution/2031-01", 404, "nothing was recorded"},
		{"/redistribution/soon", 404, "no period"},
		{"/nowhere", 404, "no page"},
		{"/caisses/" + self + "?period=2026-13", 400, "parameter period"},
		{"/caisses/" + self + "?kind=gift", 400, "parameter kind"},
		{"/caisses/" + self + "?category=beer", 400, "parameter category"},
		{"/caisses/" + self + "?from=-1", 400, "parameter from"},
		{"/caisses/" + self + "?from=999", 404, "ends at seq"},
		{"/caisses/" + self + "?colour=red", 400, "unknown"},
		{"/caisses?period=2026-11&period=2026-10", 400, "parameter"},
		{"/api/v1/balances?period=someday", 400, "period"},
		{"/api/v1/list-entries?limit=many", 400, "limit"},
		{"/api/v1/list-entries?author=zz", 400, ""},
		{"/api/v1/status?verbose=1", 400, "this call takes none"},
		{"/api/v1/contribute", 404, "no read call"},
		{"/api/v1/verify", 404, "no read call"},
		{"/api/v1/settle", 404, "no read call"},
		{"/api/v1/settlements?period=later", 400, "period"},
		{"/api/v1/rules?period=2026-13", 400, "period"},
		{"/api/v1/proposals?open=maybe", 400, "open"},
		{"/api/v1/entries/" + self + "/999", 404, "no entry"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := webGet(t, h, "GET", tc.path)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tc.code, body)
			}
			if !strings.Contains(strings.ToLower(body), tc.want) {
				t.Errorf("body lacks the reason %q:\n%s", tc.want, body)
			}
		})
	}
}

func TestWebReadOnly(t *testing.T) {
	n, b, h := webNode(t)
	ctx := context.Background()
	before, err := b.Status(ctx, &rpcv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		for _, path := range []string{"/", "/caisses", "/api/v1/status", "/api/v1/contribute", "/api/v1/close-period", "/api/v1/vote", "/api/v1/init",
			"/api/v1/propose", "/api/v1/settle", "/api/v1/ack", "/api/v1/settlements"} {
			resp, _ := webGet(t, h, method, path)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d (Allow %q), want 405", method, path, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	}
	for _, path := range []string{"/api/v1/contribute?amount=10&period=2026-11", "/api/v1/close-period?period=2026-11", "/api/v1/propose",
		"/api/v1/propose?action=rules&effective=2027-01", "/api/v1/vote?proposal=00000000&choice=yes",
		"/api/v1/settle?period=2026-10&payee=" + n.self.String() + "&amount=1", "/api/v1/ack?settlement=00000000"} {
		if resp, _ := webGet(t, h, "GET", path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, body := webGet(t, h, "HEAD", "/caisses")
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD /caisses: %d with %d bytes", resp.StatusCode, len(body))
	}
	after, err := b.Status(ctx, &rpcv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if after.GetSeq() != before.GetSeq() || after.GetStateHash() != before.GetStateHash() {
		t.Fatalf("the HTTP listener changed the node: seq %d -> %d", before.GetSeq(), after.GetSeq())
	}
	_ = n
}

func TestWebAPI(t *testing.T) {
	n, b, h := webNode(t)
	ctx := context.Background()
	self := n.self.String()

	want, err := b.Balances(ctx, &rpcv1.BalancesRequest{Period: "2026-10"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := webGet(t, h, "GET", "/api/v1/balances?period=2026-10")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("balances: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var got rpcv1.BalancesResponse
	if err := protojson.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(want, &got) {
		t.Fatalf("balances over HTTP:\n%v\nwant\n%v", &got, want)
	}

	// The register's names stay on the node; the operator socket has them.
	direct, err := b.ListEntries(ctx, &rpcv1.ListEntriesRequest{FromSeq: 2, Limit: 2})
	if err != nil || direct.GetEntries()[0].GetMemberName() != "Anne Morel" {
		t.Fatalf("the operator API should name the member: %v %v", direct, err)
	}
	_, body = webGet(t, h, "GET", "/api/v1/list-entries?author="+self+"&from_seq=2&limit=2")
	var list rpcv1.ListEntriesResponse
	if err := protojson.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.GetEntries()) != 2 || list.GetNextSeq() != 4 || list.GetEntries()[0].GetAmount() != 12050 {
		t.Fatalf("list-entries: %v", &list)
	}
	if strings.Contains(body, "Anne") || list.GetEntries()[0].GetMemberName() != "" {
		t.Fatalf("the JSON API gives member names away:\n%s", body)
	}
	// JSON names work as well as protobuf names.
	_, body2 := webGet(t, h, "GET", "/api/v1/list-entries?author="+self+"&fromSeq=2&limit=2")
	if body2 != body {
		t.Error("fromSeq and from_seq give different answers")
	}
	_, body = webGet(t, h, "GET", "/api/v1/status")
	if strings.Contains(body, n.cfg.DataDir) {
		t.Error("status over HTTP shows the data directory")
	}

	var raw struct {
		Seq      uint64
		Hash     string
		Verified bool
		Body     map[string]any
	}
	_, body = webGet(t, h, "GET", "/api/v1/entries/"+string(n.self.ID())+"/2")
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Seq != 2 || !raw.Verified || raw.Hash != direct.GetEntries()[0].GetHash() || raw.Body["contribution"] == nil {
		t.Fatalf("raw entry: %+v", raw)
	}

	_, body = webGet(t, h, "GET", "/api/v1/")
	for _, p := range []string{"/api/v1/status", "/api/v1/list-entries", "/api/v1/period-status", "/api/v1/redistribution",
		"/api/v1/rules", "/api/v1/proposals", "/api/v1/settlements"} {
		if !strings.Contains(body, p) {
			t.Errorf("the API index lacks %s", p)
		}
	}
}

func TestWebCORS(t *testing.T) {
	_, _, h := webNode(t, "https://federation.example")
	resp, _ := webGet(t, h, "GET", "/api/v1/status", "Origin", "https://federation.example")
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://federation.example" {
		t.Errorf("allowed origin: Access-Control-Allow-Origin %q", got)
	}
	resp, _ = webGet(t, h, "GET", "/api/v1/status", "Origin", "https://elsewhere.example")
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin: Access-Control-Allow-Origin %q", got)
	}
	resp, _ = webGet(t, h, "OPTIONS", "/api/v1/status", "Origin", "https://federation.example", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD" {
		t.Errorf("preflight: %d, methods %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Methods"))
	}
	cfg := testConfig(t, t.TempDir())
	cfg.WebOrigins = []string{"federation.example"}
	n := mustNew(t, cfg)
	defer n.Close()
	if _, err := n.webHandler(); err == nil || !strings.Contains(err.Error(), "scheme://host") {
		t.Fatalf("an origin without a scheme: %v", err)
	}
}

// TestWebRulesAndVotes adopts a rule change and an excuse by the single
// member's vote, leaves a second rule change open, and reads them on the
// rules page, the redistribution page and the JSON API.
func TestWebRulesAndVotes(t *testing.T) {
	n, b, h := webNode(t)
	ctx := context.Background()
	st, err := b.Status(ctx, &rpcv1.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	levy := func(bp uint32) *rpcv1.Rules {
		r := proto.Clone(st.GetRules()).(*rpcv1.Rules)
		r.LevyBp = bp
		r.Rates["eviction"] = 30000
		return r
	}
	adopted, err := b.Propose(ctx, &rpcv1.ProposeRequest{Action: "rules", Rules: levy(1200), Effective: "2026-12", Vote: "yes", Note: "plus solidaire"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Propose(ctx, &rpcv1.ProposeRequest{Action: "excuse", Node: n.self.String(), Period: "2026-11", Vote: "yes"}); err != nil {
		t.Fatal(err)
	}
	open, err := b.Propose(ctx, &rpcv1.ProposeRequest{Action: "rules", Rules: levy(1500), Effective: "2027-01", Deadline: "2026-12"})
	if err != nil {
		t.Fatal(err)
	}

	// The JSON API answers as the operator service does.
	for _, tc := range []struct {
		path string
		want proto.Message
		got  proto.Message
		call func() (proto.Message, error)
	}{
		{"/api/v1/rules?period=2026-12", &rpcv1.RulesResponse{}, &rpcv1.RulesResponse{}, func() (proto.Message, error) {
			return b.Rules(ctx, &rpcv1.RulesRequest{Period: "2026-12"})
		}},
		{"/api/v1/proposals?open=true", &rpcv1.ProposalsResponse{}, &rpcv1.ProposalsResponse{}, func() (proto.Message, error) {
			return b.Proposals(ctx, &rpcv1.ProposalsRequest{Open: true})
		}},
		{"/api/v1/settlements?period=2026-10", &rpcv1.SettlementsResponse{}, &rpcv1.SettlementsResponse{}, func() (proto.Message, error) {
			return b.Settlements(ctx, &rpcv1.SettlementsRequest{Period: "2026-10"})
		}},
	} {
		want, err := tc.call()
		if err != nil {
			t.Fatal(err)
		}
		resp, body := webGet(t, h, "GET", tc.path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tc.path, resp.StatusCode, body)
		}
		if err := protojson.Unmarshal([]byte(body), tc.got); err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if !proto.Equal(want, tc.got) {
			t.Errorf("%s over HTTP:\n%v\nwant\n%v", tc.path, tc.got, want)
		}
	}
	var rules rpcv1.RulesResponse
	_, body := webGet(t, h, "GET", "/api/v1/rules?period=2026-12")
	protojson.Unmarshal([]byte(body), &rules)
	if rules.GetInForce().GetVersion() != 2 || rules.GetInForce().GetAdoptedBy() != adopted.GetEntry().GetHash() || len(rules.GetHistory()) != 2 {
		t.Fatalf("rules for 2026-12: %v", &rules)
	}
	var props rpcv1.ProposalsResponse
	_, body = webGet(t, h, "GET", "/api/v1/proposals?open=1")
	protojson.Unmarshal([]byte(body), &props)
	if len(props.GetProposals()) != 1 || props.GetProposals()[0].GetHash() != open.GetEntry().GetHash() ||
		len(props.GetProposals()[0].GetNotVoted()) != 1 || props.GetProposals()[0].GetEligibleMembers() != 12 {
		t.Fatalf("open proposals: %v", &props)
	}

	self := string(n.self.ID())
	for _, tc := range []struct {
		path string
		want []string
	}{
		// 2026-11, the node's month: the charter's rules, version 2 to come.
		{"/rules", []string{`id="version">1<`, `id="levy">10%<`, "Version 2, adopted on", "in force from 2026-12: Levy 10% → 12%; Rate: eviction none → 300.00",
			`data-version="2"`, "#p-" + adopted.GetEntry().GetHash(), "Levy: 10% → 12%",
			// The open change, against the rules in force, and its counts.
			`data-hash="` + open.GetEntry().GetHash() + `"`, "Change the rules from 2027-01", `<td class="num from">10%</td><td class="num to">15%</td>`,
			`<span class="deadline">2026-12</span>`, `0 of 1 caisses voted; quorum 50%: 1`, `0 of 12 members voted; quorum 50%: 6`,
			`class="meter short"`, `Not voted: <span class="not-voted">Caisse de test</span>`,
			"Not adopted yet: it lacks the quorum by caisses (1 more to vote), and the majority by caisses, and the quorum by members (6 more to vote)",
			// Past outcomes, latest first.
			`id="p-` + adopted.GetEntry().GetHash() + `"`, "Excuse Caisse de test from closing 2026-11", "adopted"}},
		{"/rules?period=2026-12", []string{`id="version">2<`, `id="levy">12%<`, "in force from 2026-12: adopted by proposal", `id="rate-eviction">300.00<`}},
		{"/redistribution/2026-11", []string{"Final: every member closed the period, or was excused", `<tr data-id="` + self + `">`, `<span class="tag excused">excused</span>`,
			"No settlement recorded for 2026-11"}},
		{"/redistribution/2026-10", []string{`<table id="transfers">`, "No transfer.", `<table id="settlements">`}},
		{"/", []string{`<dd class="num"><a href="/rules">1</a></dd>`}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := webGet(t, h, "GET", tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d\n%s", resp.StatusCode, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(body, "style=") {
				t.Error("inline style: the CSP forbids it")
			}
		})
	}
	if resp, body := webGet(t, h, "GET", "/rules?period=soon"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "parameter period") {
		t.Errorf("/rules?period=soon: %d\n%s", resp.StatusCode, body)
	}
}
