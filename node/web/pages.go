package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// pageSize is how many entries a caisse's page lists; maxScan bounds the
// entries one filtered page reads, so that no request scans a whole log.
const (
	pageSize = 50
	maxScan  = 20000
	listPage = 1000
)

// kinds are the entry kinds a caisse's entries can be filtered by.
var kinds = []string{"genesis", "application", "proposal", "vote", "contribution", "disbursement", "correction", "period_close"}

type pageSet struct {
	t map[string]*template.Template
}

var funcs = template.FuncMap{
	"money": func(exp uint32, v int64) string { return ledger.Amount(v).Format(exp) },
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
	"unix": func(s int64) string {
		if s == 0 {
			return "never"
		}
		return time.Unix(s, 0).UTC().Format("2006-01-02 15:04:05Z")
	},
	"ms": func(ms uint64) string { return time.UnixMilli(int64(ms)).UTC().Format("2006-01-02 15:04:05Z") },
	"bp": func(bp uint32) string {
		s := strconv.FormatFloat(float64(bp)/100, 'f', 2, 64)
		return strings.TrimSuffix(strings.TrimSuffix(s, "0"), ".0") + "%"
	},
	"neg":     func(v int64) bool { return v < 0 },
	"path":    url.PathEscape,
	"rfc3339": rfc3339,
}

func parsePages() (*pageSet, error) {
	ps := &pageSet{t: map[string]*template.Template{}}
	for _, name := range []string{"overview", "caisses", "caisse", "entry", "rules", "redistributions", "redistribution", "sync", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		ps.t[name] = t
	}
	return ps, nil
}

// base is what every page shows: the federation, the node, the menu.
type base struct {
	Title      string
	Nav        string
	Federation string
	NodeID     string
	Name       string
	Currency   string
	Exp        uint32
	Generated  string
}

func (h *Handler) routePages() {
	h.mux.HandleFunc("GET /{$}", h.page(h.overview))
	h.mux.HandleFunc("GET /caisses", h.page(h.caisses))
	h.mux.HandleFunc("GET /caisses/{id}", h.page(h.caisse))
	h.mux.HandleFunc("GET /caisses/{id}/entries/{seq}", h.page(h.entryPage))
	h.mux.HandleFunc("GET /rules", h.page(h.rules))
	h.mux.HandleFunc("GET /redistribution", h.page(h.redistributions))
	h.mux.HandleFunc("GET /redistribution/{period}", h.page(h.redistribution))
	h.mux.HandleFunc("GET /sync", h.page(h.syncPage))
	h.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		h.render(w, r, http.StatusNotFound, "error", h.errorData(r.Context(), http.StatusNotFound, "There is no page at "+r.URL.Path+"."))
	})
}

// pageError is a failure a page reports with its status: 400 for a
// malformed query, 404 for something missing.
type pageError struct {
	code int
	msg  string
}

func (e *pageError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &pageError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return &pageError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// page wraps a page's builder: it returns the template and its data, or an
// error that becomes an error page.
func (h *Handler) page(build func(r *http.Request, b base) (string, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := h.base(r.Context())
		if err == nil {
			var name string
			var data any
			if name, data, err = build(r, b); err == nil {
				h.render(w, r, http.StatusOK, name, data)
				return
			}
		}
		code, msg := http.StatusInternalServerError, err.Error()
		var pe *pageError
		if errors.As(err, &pe) {
			code = pe.code
		} else {
			code, msg = httpStatus(err)
		}
		if code == http.StatusInternalServerError {
			h.cfg.Logger.Warn("web: page failed", "path", r.URL.Path, "err", err)
		}
		h.render(w, r, code, "error", h.errorData(r.Context(), code, msg))
	}
}

type errorData struct {
	base
	Code   int
	Status string
	Msg    string
}

func (h *Handler) errorData(ctx context.Context, code int, msg string) errorData {
	b, _ := h.base(ctx)
	b.Title = http.StatusText(code)
	return errorData{base: b, Code: code, Status: http.StatusText(code), Msg: msg}
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.t[name].Execute(&buf, data); err != nil {
		h.cfg.Logger.Error("web: render", "page", name, "err", err)
		http.Error(w, "500 internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func (h *Handler) base(ctx context.Context) (base, error) {
	st, err := h.cfg.Operator.Status(ctx, &rpcv1.StatusRequest{})
	if err != nil {
		return base{Federation: "caisse"}, err
	}
	b := base{Federation: st.GetFederationName(), NodeID: st.GetNodeId(), Name: st.GetName(),
		Currency: st.GetCurrency().GetCode(), Exp: st.GetCurrency().GetExponent(),
		Generated: h.cfg.Now().UTC().Format("2006-01-02 15:04:05Z")}
	if b.Federation == "" {
		b.Federation = "no federation yet"
	}
	return b, nil
}

// checkQuery refuses parameters a page does not take.
func checkQuery(r *http.Request, allowed ...string) (url.Values, error) {
	q := r.URL.Query()
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, badRequest("parameter %q: this page takes none", k)
			}
			return nil, badRequest("parameter %q: unknown; this page takes %s", k, strings.Join(allowed, ", "))
		}
		if len(v) != 1 {
			return nil, badRequest("parameter %q given %d times: once at most", k, len(v))
		}
	}
	return q, nil
}

// periods lists every period any caisse has moved money in, in order.
func periods(bal *rpcv1.BalancesResponse) []string {
	var ps []string
	for _, c := range bal.GetCaisses() {
		for _, p := range c.GetPeriods() {
			ps = append(ps, p.GetPeriod())
		}
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

// currentPeriod is the latest period with money moved, or the clock's.
func (h *Handler) currentPeriod(bal *rpcv1.BalancesResponse) string {
	if ps := periods(bal); len(ps) > 0 {
		return ps[len(ps)-1]
	}
	return string(ledger.PeriodOf(h.cfg.Now()))
}

// lastFinal returns the redistribution and the status of the latest final
// period, nil if none is final.
func (h *Handler) lastFinal(ctx context.Context, ps []string) (*rpcv1.RedistributionResponse, *rpcv1.PeriodStatusResponse, error) {
	for i := len(ps) - 1; i >= 0; i-- {
		st, err := h.cfg.Operator.PeriodStatus(ctx, &rpcv1.PeriodStatusRequest{Period: ps[i]})
		if err != nil {
			return nil, nil, err
		}
		if !st.GetFinal() {
			continue
		}
		red, err := h.cfg.Operator.Redistribution(ctx, &rpcv1.RedistributionRequest{Period: ps[i]})
		if err != nil {
			return nil, nil, err
		}
		return red, st, nil
	}
	return nil, nil, nil
}

// Overview.

type overviewData struct {
	base
	Status   *rpcv1.StatusResponse
	Health   string
	Healthy  bool
	States   []stateCount
	Total    *rpcv1.Balance
	Funds    funds
	Period   string
	Closes   *rpcv1.PeriodStatusResponse
	Waiting  []string
	Caisses  int
	Proposal int
}

type stateCount struct {
	State string
	N     int
}

func (h *Handler) overview(r *http.Request, b base) (string, any, error) {
	if _, err := checkQuery(r); err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	st, err := h.cfg.Operator.Status(ctx, &rpcv1.StatusRequest{})
	if err != nil {
		return "", nil, err
	}
	b.Title, b.Nav = "Overview", "overview"
	d := overviewData{base: b, Status: st}
	switch {
	case !st.GetFounded():
		d.Health = "no federation yet: found one with caisse init, or join one"
	case !st.GetMember():
		d.Health = "applicant: waiting for the members' vote"
	default:
		d.Healthy, d.Health = true, "member of the federation"
	}
	if !st.GetFounded() {
		return "overview", d, nil
	}
	peers, err := h.cfg.Operator.Peers(ctx, &rpcv1.PeersRequest{})
	if err != nil {
		return "", nil, err
	}
	counts := map[string]int{"alive": 1} // this node
	for _, p := range peers.GetPeers() {
		counts[p.GetState()]++
	}
	for _, s := range []string{"alive", "suspect", "dead", "left", "unknown"} {
		if counts[s] > 0 || s != "unknown" {
			d.States = append(d.States, stateCount{s, counts[s]})
		}
	}
	bal, err := h.cfg.Operator.Balances(ctx, &rpcv1.BalancesRequest{})
	if err != nil {
		return "", nil, err
	}
	d.Total, d.Caisses, d.Funds = bal.GetTotal(), len(bal.GetCaisses()), sumFunds(bal)
	d.Period = h.currentPeriod(bal)
	if d.Closes, err = h.cfg.Operator.PeriodStatus(ctx, &rpcv1.PeriodStatusRequest{Period: d.Period}); err != nil {
		return "", nil, err
	}
	for _, c := range d.Closes.GetCaisses() {
		if !c.GetClosed() && !c.GetExcused() {
			d.Waiting = append(d.Waiting, c.GetName())
		}
	}
	open, err := h.cfg.Operator.Proposals(ctx, &rpcv1.ProposalsRequest{Open: true})
	if err != nil {
		return "", nil, err
	}
	d.Proposal = len(open.GetProposals())
	return "overview", d, nil
}

// funds sums the caisses' funds after settlements: their balances, less
// the settlements they paid, plus those they received and acknowledged.
// Paid and not yet acknowledged is money in transit, in no caisse's funds.
type funds struct {
	Funds, SettledOut, SettledIn, InTransit int64
}

func sumFunds(bal *rpcv1.BalancesResponse) funds {
	var f funds
	for _, c := range bal.GetCaisses() {
		f.Funds += c.GetFunds()
		f.SettledOut += c.GetSettledOut()
		f.SettledIn += c.GetSettledIn()
	}
	f.InTransit = f.SettledOut - f.SettledIn
	return f
}

// Caisses.

type caisseRow struct {
	ID, Key, Name, Status string
	Balance, Funds        int64
	SettledOut, SettledIn int64
	In, Out               int64
	Members               uint64
	Need, Due, Share      int64
	Closed, HasFinal      bool
}

type caissesData struct {
	base
	Period    string
	LastFinal string
	Rows      []caisseRow
	Total     *rpcv1.Balance
	Funds     funds
}

func (h *Handler) caisses(r *http.Request, b base) (string, any, error) {
	if _, err := checkQuery(r); err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	b.Title, b.Nav = "Caisses", "caisses"
	mem, err := h.cfg.Operator.Members(ctx, &rpcv1.MembersRequest{})
	if err != nil {
		return "", nil, err
	}
	bal, err := h.cfg.Operator.Balances(ctx, &rpcv1.BalancesRequest{})
	if err != nil {
		return "", nil, err
	}
	d := caissesData{base: b, Period: h.currentPeriod(bal), Total: bal.GetTotal(), Funds: sumFunds(bal)}
	red, st, err := h.lastFinal(ctx, periods(bal))
	if err != nil {
		return "", nil, err
	}
	if red != nil {
		d.LastFinal = red.GetPeriod()
	}
	byKey := map[string]*rpcv1.CaisseBalance{}
	for _, c := range bal.GetCaisses() {
		byKey[c.GetId()] = c
	}
	for _, m := range mem.GetMembers() {
		if m.GetStatus() == "applicant" {
			continue
		}
		row := caisseRow{ID: m.GetId(), Key: m.GetKey(), Name: m.GetName(), Status: m.GetStatus()}
		if c := byKey[m.GetKey()]; c != nil {
			row.Balance, row.Funds = c.GetTotal().GetBalance(), c.GetFunds()
			row.SettledOut, row.SettledIn = c.GetSettledOut(), c.GetSettledIn()
			for _, p := range c.GetPeriods() {
				if p.GetPeriod() == d.Period {
					row.In, row.Out = p.GetBalance().GetContributed(), p.GetBalance().GetDisbursed()
				}
			}
		}
		for _, s := range red.GetCaisses() {
			if s.GetId() == m.GetId() {
				row.HasFinal, row.Need, row.Due, row.Share = true, s.GetNeed(), s.GetDue(), s.GetShare()
			}
		}
		for _, c := range st.GetCaisses() {
			if c.GetId() == m.GetId() {
				row.Members = c.GetMembers()
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return "caisses", d, nil
}

// One caisse.

type entryRow struct {
	*rpcv1.EntryView
	Verified bool
	Signed   int64 // the amount with its direction's sign
}

type caisseData struct {
	base
	Member         *rpcv1.MemberView
	Total          *rpcv1.Balance
	Funds          *rpcv1.CaisseBalance
	BalanceChart   template.HTML
	FlowChart      template.HTML
	Entries        []entryRow
	Filter         filter
	Filtered       bool
	Kinds          []string
	Categories     []string
	Periods        []string
	Older, Newer   string
	Scanned        uint64
	ScanFrom       uint64
	ScanTo         uint64
	PeriodTotals   []*rpcv1.PeriodBalance
	CategoryTotals []*rpcv1.CategoryAmount
}

type filter struct {
	Period, Kind, Category string
	From                   uint64
}

func (f filter) any() bool { return f.Period != "" || f.Kind != "" || f.Category != "" }

func (f filter) match(e *rpcv1.EntryView) bool {
	return (f.Period == "" || e.GetPeriod() == f.Period) &&
		(f.Kind == "" || e.GetKind() == f.Kind) &&
		(f.Category == "" || e.GetCategory() == f.Category)
}

func (f filter) query(from uint64) string {
	q := url.Values{}
	if f.Period != "" {
		q.Set("period", f.Period)
	}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Category != "" {
		q.Set("category", f.Category)
	}
	q.Set("from", strconv.FormatUint(from, 10))
	return "?" + q.Encode()
}

func parseFilter(r *http.Request) (filter, error) {
	q, err := checkQuery(r, "period", "kind", "category", "from")
	if err != nil {
		return filter{}, err
	}
	var f filter
	if p := q.Get("period"); p != "" {
		pp, err := ledger.ParsePeriod(p)
		if err != nil {
			return f, badRequest("parameter period=%q: want a period such as 2026-11", p)
		}
		f.Period = string(pp)
	}
	if k := q.Get("kind"); k != "" {
		if !slices.Contains(kinds, k) {
			return f, badRequest("parameter kind=%q: want one of %s", k, strings.Join(kinds, ", "))
		}
		f.Kind = k
	}
	if c := q.Get("category"); c != "" {
		cats := append(ledger.ContributionCategories(), ledger.DisbursementCategories()...)
		if !slices.Contains(cats, c) {
			return f, badRequest("parameter category=%q: want one of %s", c, strings.Join(uniq(cats), ", "))
		}
		f.Category = c
	}
	if s := q.Get("from"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return f, badRequest("parameter from=%q: want a seq, a whole number from 1", s)
		}
		f.From = n
	}
	return f, nil
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// findCaisse finds a member or applicant by its key or node id.
func (h *Handler) findCaisse(ctx context.Context, id string) (*rpcv1.MemberView, error) {
	a, err := parseCaisse(id)
	if err != nil {
		return nil, notFound("There is no caisse %q: %v.", id, err)
	}
	mem, err := h.cfg.Operator.Members(ctx, &rpcv1.MembersRequest{})
	if err != nil {
		return nil, err
	}
	for _, m := range mem.GetMembers() {
		if m.GetKey() == a.String() {
			return m, nil
		}
	}
	return nil, notFound("There is no caisse %s in this federation.", a.ID())
}

func (h *Handler) caisse(r *http.Request, b base) (string, any, error) {
	ctx := r.Context()
	m, err := h.findCaisse(ctx, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	f, err := parseFilter(r)
	if err != nil {
		return "", nil, err
	}
	b.Title, b.Nav = m.GetName(), "caisses"
	d := caisseData{base: b, Member: m, Filter: f, Filtered: f.any(), Kinds: kinds,
		Categories: uniq(append(ledger.ContributionCategories(), ledger.DisbursementCategories()...)), Total: &rpcv1.Balance{}, Funds: &rpcv1.CaisseBalance{}}
	bal, err := h.cfg.Operator.Balances(ctx, &rpcv1.BalancesRequest{})
	if err != nil {
		return "", nil, err
	}
	d.Periods = periods(bal)
	var labels []string
	var cum, ins, outs []int64
	for _, c := range bal.GetCaisses() {
		if c.GetId() != m.GetKey() {
			continue
		}
		d.Total, d.CategoryTotals, d.PeriodTotals, d.Funds = c.GetTotal(), c.GetCategories(), c.GetPeriods(), c
		var run int64
		for _, p := range c.GetPeriods() {
			run += p.GetBalance().GetBalance()
			labels = append(labels, p.GetPeriod())
			cum = append(cum, run)
			ins = append(ins, p.GetBalance().GetContributed())
			outs = append(outs, p.GetBalance().GetDisbursed())
		}
	}
	d.BalanceChart = chart{ID: "balance", Title: "Balance of " + m.GetName() + " at the end of each period", Kind: chartKindLine,
		Labels: labels, Series: []series{{"balance", cum}}, Exp: b.Exp, Currency: b.Currency}.SVG()
	d.FlowChart = chart{ID: "inout", Title: "Contributions and disbursements per month", Kind: chartKindBar,
		Labels: labels, Series: []series{{"contributions", ins}, {"disbursements", outs}}, Exp: b.Exp, Currency: b.Currency}.SVG()
	if err := h.listEntries(ctx, m, &d); err != nil {
		return "", nil, err
	}
	return "caisse", d, nil
}

// listEntries fills one page of the caisse's entries. Unfiltered, a page is
// a window of seqs (the latest by default). Filtered, it reads forward from
// the cursor, at most maxScan entries, and links to where it stopped.
func (h *Handler) listEntries(ctx context.Context, m *rpcv1.MemberView, d *caisseData) error {
	head, f := m.GetSeq(), d.Filter
	base := "/caisses/" + url.PathEscape(m.GetKey())
	if f.From > head+1 && head > 0 {
		return notFound("The log of %s ends at seq %d: there is no entry from %d.", m.GetName(), head, f.From)
	}
	from := f.From
	if !d.Filtered {
		if from == 0 {
			from = max(1, head-min(head, pageSize-1))
		}
		resp, err := h.cfg.Operator.ListEntries(ctx, &rpcv1.ListEntriesRequest{Author: m.GetKey(), FromSeq: from, Limit: pageSize})
		if err != nil {
			return err
		}
		for _, e := range resp.GetEntries() {
			d.Entries = append(d.Entries, h.row(m, e))
		}
		if from > 1 {
			d.Older = base + f.query(max(1, from-min(from-1, pageSize)))
		}
		if resp.GetNextSeq() != 0 {
			d.Newer = base + f.query(resp.GetNextSeq())
		}
		return nil
	}
	from = max(from, 1)
	d.ScanFrom = from
	next := from
	for next != 0 && len(d.Entries) < pageSize && d.Scanned < maxScan {
		resp, err := h.cfg.Operator.ListEntries(ctx, &rpcv1.ListEntriesRequest{Author: m.GetKey(), FromSeq: next, Limit: listPage})
		if err != nil {
			return err
		}
		next = resp.GetNextSeq()
		for i, e := range resp.GetEntries() {
			d.Scanned++
			d.ScanTo = e.GetSeq()
			if f.match(e) {
				d.Entries = append(d.Entries, h.row(m, e))
				if len(d.Entries) == pageSize {
					if i+1 < len(resp.GetEntries()) {
						next = resp.GetEntries()[i+1].GetSeq()
					}
					break
				}
			}
		}
	}
	if next != 0 {
		d.Newer = base + f.query(next)
	}
	return nil
}

func (h *Handler) row(m *rpcv1.MemberView, e *rpcv1.EntryView) entryRow {
	row := entryRow{EntryView: e, Signed: e.GetAmount()}
	if e.GetKind() == "disbursement" {
		row.Signed = -e.GetAmount()
	}
	a, err := ledger.ParseAuthor(m.GetKey())
	if err == nil {
		if raw, err := h.cfg.Entries.Entry(a, ledger.Seq(e.GetSeq())); err == nil {
			row.Verified = raw.Verify() == nil && raw.Hash().String() == e.GetHash()
		}
	}
	return row
}

type entryData struct {
	base
	Member *rpcv1.MemberView
	Entry  entryRow
	Raw    string
}

func (h *Handler) entryPage(r *http.Request, b base) (string, any, error) {
	if _, err := checkQuery(r); err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	m, err := h.findCaisse(ctx, r.PathValue("id"))
	if err != nil {
		return "", nil, err
	}
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 || seq > m.GetSeq() {
		return "", nil, notFound("There is no entry %q in the log of %s (seqs 1 to %d).", r.PathValue("seq"), m.GetName(), m.GetSeq())
	}
	resp, err := h.cfg.Operator.ListEntries(ctx, &rpcv1.ListEntriesRequest{Author: m.GetKey(), FromSeq: seq, Limit: 1})
	if err != nil {
		return "", nil, err
	}
	if len(resp.GetEntries()) != 1 || resp.GetEntries()[0].GetSeq() != seq {
		return "", nil, notFound("There is no entry %d in the log of %s.", seq, m.GetName())
	}
	b.Title, b.Nav = fmt.Sprintf("%s, entry %d", m.GetName(), seq), "caisses"
	return "entry", entryData{base: b, Member: m, Entry: h.row(m, resp.GetEntries()[0]),
		Raw: fmt.Sprintf("/api/v1/entries/%s/%d", m.GetKey(), seq)}, nil
}

// Rules and votes: votes.go.

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Redistribution.

type periodRow struct {
	Period   string
	Final    bool
	Pool     int64
	Reserve  int64
	Closed   int
	Caisses  int
	Waiting  int
	Transfer int
}

type redistributionsData struct {
	base
	Rows      []periodRow
	PoolChart template.HTML
}

func (h *Handler) redistributions(r *http.Request, b base) (string, any, error) {
	if _, err := checkQuery(r); err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	b.Title, b.Nav = "Redistribution", "redistribution"
	bal, err := h.cfg.Operator.Balances(ctx, &rpcv1.BalancesRequest{})
	if err != nil {
		return "", nil, err
	}
	d := redistributionsData{base: b}
	var labels []string
	var pools []int64
	for _, p := range periods(bal) {
		red, err := h.cfg.Operator.Redistribution(ctx, &rpcv1.RedistributionRequest{Period: p})
		if err != nil {
			return "", nil, err
		}
		d.Rows = append(d.Rows, periodRow{Period: p, Final: red.GetFinal(), Pool: red.GetPool(), Reserve: red.GetReserve(),
			Closed: len(red.GetCaisses()), Waiting: len(red.GetWaitingFor()), Transfer: len(red.GetTransfers())})
		labels = append(labels, p)
		pools = append(pools, red.GetPool())
	}
	d.PoolChart = chart{ID: "pool", Title: "The federation's pool per period", Kind: chartKindBar, Labels: labels,
		Series: []series{{"pool", pools}}, Exp: b.Exp, Currency: b.Currency}.SVG()
	slices.Reverse(d.Rows)
	return "redistributions", d, nil
}

type transferRow struct {
	*rpcv1.TransferView
	// State is provisional, owed, late, part paid, paid (not all of it
	// acknowledged yet) or acknowledged; Class its colour.
	State, Class string
}

type redistributionData struct {
	base
	Red         *rpcv1.RedistributionResponse
	Status      *rpcv1.PeriodStatusResponse
	Waiting     []string
	Transfers   []transferRow
	Settlements []*rpcv1.SettlementView
	Flow        template.HTML
	SumShare    int64
	SumDue      int64
	SumNet      int64
	SumOwed     int64
	SumPaid     int64
	SumAcked    int64
}

// transferState says where a transfer of a plan stands.
func transferState(t *rpcv1.TransferView, final bool) (state, class string) {
	switch {
	case !final:
		return "provisional", "muted"
	case t.GetAcknowledged() >= t.GetAmount():
		return "acknowledged", "ok"
	case t.GetPaid() >= t.GetAmount():
		return "paid, awaiting acknowledgement", "ok"
	case t.GetLate():
		return "late", "bad"
	case t.GetPaid() > 0:
		return "part paid", "warn"
	}
	return "owed", "warn"
}

func (h *Handler) redistribution(r *http.Request, b base) (string, any, error) {
	if _, err := checkQuery(r); err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	raw := r.PathValue("period")
	p, err := ledger.ParsePeriod(raw)
	if err != nil {
		return "", nil, notFound("There is no period %q: a period is written like 2026-11.", raw)
	}
	bal, err := h.cfg.Operator.Balances(ctx, &rpcv1.BalancesRequest{})
	if err != nil {
		return "", nil, err
	}
	red, err := h.cfg.Operator.Redistribution(ctx, &rpcv1.RedistributionRequest{Period: string(p)})
	if err != nil {
		return "", nil, err
	}
	if !slices.Contains(periods(bal), string(p)) && len(red.GetCaisses()) == 0 {
		return "", nil, notFound("Nothing was recorded or closed in period %s.", p)
	}
	b.Title, b.Nav = "Redistribution of "+string(p), "redistribution"
	d := redistributionData{base: b, Red: red}
	names := map[string]string{}
	mem, err := h.cfg.Operator.Members(ctx, &rpcv1.MembersRequest{})
	if err != nil {
		return "", nil, err
	}
	for _, m := range mem.GetMembers() {
		names[m.GetId()] = m.GetName()
	}
	for _, w := range red.GetWaitingFor() {
		d.Waiting = append(d.Waiting, names[w])
	}
	for _, c := range red.GetCaisses() {
		d.SumShare += c.GetShare()
		d.SumDue += c.GetDue()
		d.SumNet += c.GetNet()
	}
	if d.Status, err = h.cfg.Operator.PeriodStatus(ctx, &rpcv1.PeriodStatusRequest{Period: string(p)}); err != nil {
		return "", nil, err
	}
	set, err := h.cfg.Operator.Settlements(ctx, &rpcv1.SettlementsRequest{Period: string(p)})
	if err != nil {
		return "", nil, err
	}
	d.Settlements = set.GetSettlements()
	var edges []flowEdge
	for _, t := range set.GetTransfers() {
		state, class := transferState(t, set.GetFinal())
		d.Transfers = append(d.Transfers, transferRow{TransferView: t, State: state, Class: class})
		d.SumOwed += t.GetAmount()
		d.SumPaid += t.GetPaid()
		d.SumAcked += t.GetAcknowledged()
		edges = append(edges, flowEdge{From: t.GetFromName(), To: t.GetToName(), Amount: t.GetAmount()})
	}
	d.Flow = flow{ID: "flow", Title: "Who pays whom for " + string(p), Transfers: edges, Exp: b.Exp, Currency: b.Currency}.SVG()
	return "redistribution", d, nil
}

// Sync.

type syncData struct {
	base
	Status    *rpcv1.StatusResponse
	Peers     []*rpcv1.PeerView
	Gossip    *rpcv1.GossipResponse
	GossipErr string
	Names     map[string]string
}

func (h *Handler) syncPage(r *http.Request, b base) (string, any, error) {
	if _, err := checkQuery(r); err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	b.Title, b.Nav = "Sync", "sync"
	st, err := h.cfg.Operator.Status(ctx, &rpcv1.StatusRequest{})
	if err != nil {
		return "", nil, err
	}
	d := syncData{base: b, Status: st, Gossip: &rpcv1.GossipResponse{}, Names: map[string]string{}}
	peers, err := h.cfg.Operator.Peers(ctx, &rpcv1.PeersRequest{})
	if err != nil {
		return "", nil, err
	}
	d.Peers = peers.GetPeers()
	if st.GetFounded() {
		g, err := h.cfg.Operator.Gossip(ctx, &rpcv1.GossipRequest{})
		if err != nil {
			if code, msg := httpStatus(err); code != http.StatusInternalServerError {
				d.GossipErr = msg // replication has not started yet
			} else {
				return "", nil, err
			}
		} else {
			d.Gossip = g
		}
	}
	mem, err := h.cfg.Operator.Members(ctx, &rpcv1.MembersRequest{})
	if err != nil {
		return "", nil, err
	}
	for _, m := range mem.GetMembers() {
		d.Names[m.GetId()] = m.GetName()
	}
	return "sync", d, nil
}
