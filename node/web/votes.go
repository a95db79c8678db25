package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// The rules and votes page: the rule set in force and its history, the
// open proposals with their count against quorum and majority, by caisses
// and by members represented, and the past outcomes. The counts follow the
// federation's own test of adoption (federation/governance.go): quorum
// counts every ballot cast, majority the yes among yes and no; by caisses
// at least one yes is needed, and the count by members applies once some
// caisse of the electorate has closed a period.

// rulesData is what the page shows.
type rulesData struct {
	base
	Period   string
	InForce  ruleSetRow
	Rows     []ruleRow
	History  []ruleSetRow
	Upcoming []ruleSetRow
	Open     []proposalCard
	Past     []proposalCard
}

// ruleRow is one rule of a rule set, as people read it.
type ruleRow struct {
	ID, Name, Value, Unit string
}

// ruleChange is one rule a rule set changes against another.
type ruleChange struct {
	Name, From, To string
}

// ruleSetRow is one version of the rules.
type ruleSetRow struct {
	*rpcv1.RuleSetView
	Changes []ruleChange
	Adopted string
}

// tally is one count of a proposal: by caisses or by members represented.
type tally struct {
	By                         string // "caisses" or "members"
	Yes, No, Abstain, Eligible uint64
	Cast, QuorumNeeded         uint64
	QuorumMet, MajorityMet     bool
	YesShare, MajorityNeeded   string
	Applies                    bool
	QuorumMeter, MajorityMeter template.HTML
	QuorumLabel, MajorityLabel string
}

// proposalCard is one proposal with its counts.
type proposalCard struct {
	*rpcv1.ProposalView
	Title      string
	AuthorName string
	Counts     []tally
	Changes    []ruleChange
	NotVoted   []string
	Closed     []string
	Ballots    []ballotRow
	// Short lists what an open proposal still lacks to be adopted.
	Short []string
}

type ballotRow struct {
	Name, Choice, Time string
}

func bpString(bp uint32) string { return funcs["bp"].(func(uint32) string)(bp) }

// ruleRows lists a rule set's rules, rates sorted by unit.
func ruleRows(r *rpcv1.Rules, exp uint32, currency string, names map[string]string) []ruleRow {
	holder := "nobody"
	if h := r.GetReserveHolder(); h != "" {
		holder = nameOf(names, h)
	}
	rows := []ruleRow{
		{"levy", "Levy to the solidarity pool", bpString(r.GetLevyBp()), "of each caisse's contributions"},
		{"need", "Split by declared need", bpString(r.GetNeedBp()), "of the pool"},
		{"members", "Split by members", bpString(r.GetMembersBp()), "of the pool"},
		{"equal", "Split equally", bpString(r.GetEqualBp()), "of the pool"},
		{"reserve", "Reserve", bpString(r.GetReserveBp()), "held by " + holder},
		{"quorum", "Quorum", bpString(r.GetQuorumBp()), "of the eligible caisses, and of the members they represent, must vote"},
		{"majority", "Majority", bpString(r.GetMajorityBp()), "of yes and no votes must be yes, by caisses and by members"},
	}
	for _, u := range slices.Sorted(mapsKeys(r.GetRates())) {
		rows = append(rows, ruleRow{"rate-" + u, "Rate: " + u, ledger.Amount(r.GetRates()[u]).Format(exp), currency + " per unit of need"})
	}
	return rows
}

// diffRules lists what the rule set to changes against from.
func diffRules(from, to *rpcv1.Rules, exp uint32, names map[string]string) []ruleChange {
	var out []ruleChange
	bp := func(name string, a, b uint32) {
		if a != b {
			out = append(out, ruleChange{name, bpString(a), bpString(b)})
		}
	}
	bp("Levy", from.GetLevyBp(), to.GetLevyBp())
	bp("Split by need", from.GetNeedBp(), to.GetNeedBp())
	bp("Split by members", from.GetMembersBp(), to.GetMembersBp())
	bp("Split equally", from.GetEqualBp(), to.GetEqualBp())
	bp("Reserve", from.GetReserveBp(), to.GetReserveBp())
	if a, b := from.GetReserveHolder(), to.GetReserveHolder(); a != b {
		out = append(out, ruleChange{"Reserve holder", orNone(nameOf(names, a)), orNone(nameOf(names, b))})
	}
	bp("Quorum", from.GetQuorumBp(), to.GetQuorumBp())
	bp("Majority", from.GetMajorityBp(), to.GetMajorityBp())
	units := slices.Sorted(mapsKeys(from.GetRates()))
	units = append(units, slices.Sorted(mapsKeys(to.GetRates()))...)
	slices.Sort(units)
	for _, u := range slices.Compact(units) {
		a, inA := from.GetRates()[u]
		b, inB := to.GetRates()[u]
		if inA == inB && a == b {
			continue
		}
		rc := ruleChange{Name: "Rate: " + u, From: "none", To: "none"}
		if inA {
			rc.From = ledger.Amount(a).Format(exp)
		}
		if inB {
			rc.To = ledger.Amount(b).Format(exp)
		}
		out = append(out, rc)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

// nameOf names a caisse given by its id or hex key; its short id if it is
// not known here.
func nameOf(names map[string]string, ref string) string {
	if ref == "" {
		return ""
	}
	if n := names[ref]; n != "" {
		return n
	}
	if a, err := parseCaisse(ref); err == nil {
		if n := names[string(a.ID())]; n != "" {
			return n
		}
		return string(a.ID().Short())
	}
	return ref
}

// count builds one tally. applies is false for the count by members while
// no caisse of the electorate has closed a period: the federation counts
// by caisses alone then.
func count(by string, yes, no, abstain, eligible uint64, quorumBp, majorityBp uint32, applies bool) tally {
	t := tally{By: by, Yes: yes, No: no, Abstain: abstain, Eligible: eligible, Cast: yes + no + abstain, Applies: applies}
	q := uint64(quorumBp) * eligible
	t.QuorumNeeded = (q + ledger.BasisPoints - 1) / ledger.BasisPoints
	t.QuorumMet = t.Cast*ledger.BasisPoints >= q
	t.MajorityMet = yes*ledger.BasisPoints >= uint64(majorityBp)*(yes+no)
	if by == "caisses" {
		t.MajorityMet = t.MajorityMet && yes > 0
	}
	t.MajorityNeeded = bpString(majorityBp)
	if yes+no > 0 {
		t.YesShare = bpString(uint32(yes * ledger.BasisPoints / (yes + no)))
	}
	unit := "caisses"
	if by == "members" {
		unit = "members"
	}
	t.QuorumLabel = fmt.Sprintf("%d of %d %s voted; quorum %s: %d", t.Cast, eligible, unit, bpString(quorumBp), t.QuorumNeeded)
	if t.YesShare == "" {
		t.MajorityLabel = fmt.Sprintf("no yes or no yet; majority %s", t.MajorityNeeded)
	} else {
		t.MajorityLabel = fmt.Sprintf("%s yes of yes and no; majority %s", t.YesShare, t.MajorityNeeded)
	}
	t.QuorumMeter = meter("quorum by "+by, t.QuorumLabel, eligible, []seg{{"yes", yes}, {"no", no}, {"abstain", abstain}}, q, t.QuorumMet)
	t.MajorityMeter = meter("majority by "+by, t.MajorityLabel, yes+no, []seg{{"yes", yes}, {"no", no}}, uint64(majorityBp)*(yes+no), t.MajorityMet)
	return t
}

// seg is one coloured part of a meter.
type seg struct {
	Class string
	N     uint64
}

// Meter geometry, in viewBox units.
const meterW, meterH = 240, 16

// meter draws a bar of total units split into segs, with a mark at the
// threshold (given times ledger.BasisPoints, to stay in integers): an
// image with its label for assistive technology, coloured by the
// stylesheet.
func meter(title, label string, total uint64, segs []seg, threshold uint64, met bool) template.HTML {
	state := "short"
	if met {
		state = "met"
	}
	esc := template.HTMLEscapeString
	out := fmt.Sprintf(`<svg class="meter %s" viewBox="0 0 %d %d" role="img" aria-label="%s: %s"><title>%s: %s</title><rect class="track" x="0" y="3" width="%d" height="%d" rx="2"/>`,
		state, meterW, meterH, esc(title), esc(label), esc(title), esc(label), meterW, meterH-6)
	if total > 0 {
		var x uint64
		for _, s := range segs {
			if s.N == 0 {
				continue
			}
			w := s.N * meterW / total
			out += fmt.Sprintf(`<rect class="%s" x="%d" y="3" width="%d" height="%d"/>`, s.Class, x, w, meterH-6)
			x += w
		}
		mark := min(threshold*meterW/(total*ledger.BasisPoints), meterW-1)
		out += fmt.Sprintf(`<line class="mark" x1="%d" x2="%d" y1="0" y2="%d"/>`, mark, mark, meterH)
	}
	return template.HTML(out + `</svg>`)
}

func (h *Handler) rules(r *http.Request, b base) (string, any, error) {
	q, err := checkQuery(r, "period")
	if err != nil {
		return "", nil, err
	}
	var period string
	if p := q.Get("period"); p != "" {
		pp, err := ledger.ParsePeriod(p)
		if err != nil {
			return "", nil, badRequest("parameter period=%q: want a period such as 2026-11", p)
		}
		period = string(pp)
	}
	ctx := r.Context()
	rules, err := h.cfg.Operator.Rules(ctx, &rpcv1.RulesRequest{Period: period})
	if err != nil {
		return "", nil, err
	}
	props, err := h.cfg.Operator.Proposals(ctx, &rpcv1.ProposalsRequest{})
	if err != nil {
		return "", nil, err
	}
	mem, err := h.cfg.Operator.Members(ctx, &rpcv1.MembersRequest{})
	if err != nil {
		return "", nil, err
	}
	names := map[string]string{}
	for _, m := range mem.GetMembers() {
		names[m.GetId()], names[m.GetKey()] = m.GetName(), m.GetName()
	}
	b.Title, b.Nav = "Rules and votes", "rules"
	d := rulesData{base: b, Period: rules.GetPeriod()}
	in := rules.GetInForce()
	d.InForce = ruleSetRow{RuleSetView: in, Adopted: rfc3339(in.GetAdopted())}
	d.Rows = ruleRows(in.GetRules(), b.Exp, b.Currency, names)
	var prev *rpcv1.Rules
	for _, rs := range rules.GetHistory() {
		row := ruleSetRow{RuleSetView: rs, Adopted: rfc3339(rs.GetAdopted())}
		if prev != nil {
			row.Changes = diffRules(prev, rs.GetRules(), b.Exp, names)
		}
		prev = rs.GetRules()
		d.History = append(d.History, row)
		if rs.GetVersion() > in.GetVersion() {
			d.Upcoming = append(d.Upcoming, row)
		}
	}
	slices.Reverse(d.History) // the latest first
	for _, p := range props.GetProposals() {
		c := h.proposalCard(p, in.GetRules(), b, names)
		if p.GetStatus() == "open" {
			d.Open = append(d.Open, c)
		} else {
			d.Past = append(d.Past, c)
		}
	}
	slices.Reverse(d.Past) // the latest first
	return "rules", d, nil
}

func (h *Handler) proposalCard(p *rpcv1.ProposalView, inForce *rpcv1.Rules, b base, names map[string]string) proposalCard {
	c := proposalCard{ProposalView: p, AuthorName: nameOf(names, p.GetAuthor())}
	target := p.GetTargetName()
	if target == "" {
		target = nameOf(names, p.GetTarget())
	}
	switch p.GetAction() {
	case "admit":
		c.Title = "Admit " + target
	case "exclude":
		c.Title = "Exclude " + target
	case "excuse":
		c.Title = "Excuse " + target + " from closing " + p.GetPeriod()
	case "rules":
		c.Title = "Change the rules from " + p.GetEffective()
		c.Changes = diffRules(inForce, p.GetRules(), b.Exp, names)
	default:
		c.Title = p.GetAction() + " " + target
	}
	c.Counts = []tally{
		count("caisses", uint64(p.GetYes()), uint64(p.GetNo()), uint64(p.GetAbstain()), uint64(p.GetEligible()),
			p.GetQuorumBp(), p.GetMajorityBp(), true),
		count("members", p.GetYesMembers(), p.GetNoMembers(), p.GetAbstainMembers(), p.GetEligibleMembers(),
			p.GetQuorumBp(), p.GetMajorityBp(), p.GetEligibleMembers() > 0),
	}
	for _, t := range c.Counts {
		if !t.Applies {
			continue
		}
		if !t.QuorumMet {
			c.Short = append(c.Short, fmt.Sprintf("the quorum by %s (%d more to vote)", t.By, t.QuorumNeeded-t.Cast))
		}
		if !t.MajorityMet {
			c.Short = append(c.Short, "the majority by "+t.By)
		}
	}
	for _, id := range p.GetNotVoted() {
		c.NotVoted = append(c.NotVoted, nameOf(names, id))
	}
	for _, id := range p.GetClosedWithout() {
		c.Closed = append(c.Closed, nameOf(names, id))
	}
	for _, bl := range p.GetBallots() {
		name := bl.GetVoterName()
		if name == "" {
			name = nameOf(names, bl.GetVoter())
		}
		c.Ballots = append(c.Ballots, ballotRow{name, bl.GetChoice(), rfc3339(bl.GetTime())})
	}
	return c
}

// rfc3339 shows an RFC 3339 time as the pages do; empty stays empty.
func rfc3339(s string) string {
	if s == "" {
		return ""
	}
	if len(s) == len("2006-01-02T15:04:05Z") && s[10] == 'T' {
		return s[:10] + " " + s[11:]
	}
	return s
}
