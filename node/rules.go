package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Rules, proposals and settlements: the operator API over what the
// federation state derives from rule changes, excuses, votes and
// settlements.

// Rules returns the rules in force for a period (the current one by
// default) and every rule set since the charter.
func (b *backend) Rules(_ context.Context, r *rpcv1.RulesRequest) (*rpcv1.RulesResponse, error) {
	n := b.n
	p, err := n.periodOrNow(r.GetPeriod())
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state.Charter() == nil {
		return nil, fmt.Errorf("node: no federation yet: %w", federation.ErrNoGenesis)
	}
	code, exp := n.state.Currency()
	resp := &rpcv1.RulesResponse{Period: string(p), InForce: ruleSetRPC(n.state.RulesFor(p)),
		Currency: &rpcv1.Currency{Code: code, Exponent: exp}}
	for _, rs := range n.state.RuleHistory() {
		resp.History = append(resp.History, ruleSetRPC(rs))
	}
	return resp, nil
}

func (n *Node) periodOrNow(s string) (ledger.Period, error) {
	if strings.TrimSpace(s) == "" {
		return ledger.PeriodOf(n.cfg.Now()), nil
	}
	return ledger.ParsePeriod(strings.TrimSpace(s))
}

func ruleSetRPC(rs federation.RuleSet) *rpcv1.RuleSetView {
	v := &rpcv1.RuleSetView{Version: uint32(rs.Version), Rules: rulesToRPC(rs.Rules), Effective: string(rs.Effective)}
	if rs.AdoptedBy != (ledger.Hash{}) {
		v.AdoptedBy, v.Adopted = rs.AdoptedBy.String(), hlcRFC3339(rs.Adopted)
	}
	return v
}

// hlcRFC3339 is the wall time of t, RFC 3339 in UTC; empty for zero.
func hlcRFC3339(t ledger.HLC) string {
	if t.Wall == 0 {
		return ""
	}
	return time.UnixMilli(int64(t.Wall)).UTC().Format(time.RFC3339)
}

// Proposals lists the proposals, all or the open ones, in the canonical
// order.
func (b *backend) Proposals(_ context.Context, r *rpcv1.ProposalsRequest) (*rpcv1.ProposalsResponse, error) {
	n := b.n
	names := n.names()
	n.mu.Lock()
	defer n.mu.Unlock()
	code, exp := n.state.Currency()
	resp := &rpcv1.ProposalsResponse{Currency: &rpcv1.Currency{Code: code, Exponent: exp}}
	for _, p := range n.state.Proposals() {
		if r.GetOpen() && p.Outcome != federation.OutcomeOpen {
			continue
		}
		resp.Proposals = append(resp.Proposals, proposalRPC(p, names))
	}
	return resp, nil
}

func proposalRPC(p federation.Proposal, names map[ledger.Author]string) *rpcv1.ProposalView {
	v := &rpcv1.ProposalView{Hash: p.ID.String(), Author: string(p.Author.ID()), Action: string(p.Action),
		Note: p.Note, Status: string(p.Outcome), Yes: uint32(p.Yes), No: uint32(p.No), Abstain: uint32(p.Abstain),
		Eligible: uint32(p.Eligible), Effective: string(p.Effective), Period: string(p.Period), Deadline: string(p.Deadline),
		QuorumBp: p.Quorum, MajorityBp: p.Majority, EligibleMembers: p.EligibleMembers, YesMembers: p.YesMembers,
		NoMembers: p.NoMembers, AbstainMembers: p.AbstainMembers, Closed: uint32(p.Closed),
		Made: hlcRFC3339(p.Time), Decided: hlcRFC3339(p.Decided)}
	for _, b := range p.Ballots {
		v.Ballots = append(v.Ballots, &rpcv1.BallotView{Voter: string(b.Voter.ID()), VoterName: names[b.Voter],
			Choice: string(b.Choice), Time: hlcRFC3339(b.Time)})
	}
	for _, k := range p.NotVoted {
		v.NotVoted = append(v.NotVoted, string(k.ID()))
	}
	for _, k := range p.ClosedWithout {
		v.ClosedWithout = append(v.ClosedWithout, string(k.ID()))
	}
	if p.Action == federation.ActionRules {
		v.Rules = rulesToRPC(p.Rules)
	} else {
		v.Target, v.TargetName = string(p.Target.ID()), names[p.Target]
	}
	return v
}

// proposalOf builds the proposal that r asks for.
func (n *Node) proposalOf(r *rpcv1.ProposeRequest) (*caissev1.Proposal, error) {
	p := &caissev1.Proposal{Note: r.GetNote()}
	if d := strings.TrimSpace(r.GetDeadline()); d != "" {
		if _, err := ledger.ParsePeriod(d); err != nil {
			return nil, fmt.Errorf("deadline: %w", err)
		}
		p.Deadline = d
	}
	if r.GetAction() == "rules" {
		if r.GetRules() == nil {
			return nil, invalid("a rule change needs the whole rule set")
		}
		eff, err := ledger.ParsePeriod(strings.TrimSpace(r.GetEffective()))
		if err != nil {
			return nil, fmt.Errorf("effective: %w", err)
		}
		rules := rulesFromRPC(r.GetRules()).proto()
		if h := strings.TrimSpace(r.GetRules().GetReserveHolder()); h != "" {
			k, err := parseNodeRef(h)
			if err != nil {
				return nil, fmt.Errorf("reserve holder: %w", err)
			}
			rules.ReserveHolder = k[:]
		}
		p.Action = &caissev1.Proposal_ChangeRules{ChangeRules: &caissev1.ChangeRules{Rules: rules, Effective: string(eff)}}
		return p, nil
	}
	target, err := parseNodeRef(r.GetNode())
	if err != nil {
		return nil, err
	}
	switch r.GetAction() {
	case "admit":
		p.Action = &caissev1.Proposal_Admit{Admit: &caissev1.Admit{Applicant: target[:]}}
	case "exclude":
		p.Action = &caissev1.Proposal_Exclude{Exclude: &caissev1.Exclude{Member: target[:]}}
	case "excuse":
		per, err := ledger.ParsePeriod(strings.TrimSpace(r.GetPeriod()))
		if err != nil {
			return nil, fmt.Errorf("period excused: %w", err)
		}
		p.Action = &caissev1.Proposal_Excuse{Excuse: &caissev1.Excuse{Member: target[:], Period: string(per)}}
	default:
		return nil, invalid("action %q: want admit, exclude, excuse or rules", r.GetAction())
	}
	return p, nil
}

// Settle records that this caisse paid a transfer of a period's plan. It
// refuses a payment that the plan of the period, final or not, does not
// ask of this caisse to that payee, and one over what is left to pay:
// what the federation accepts from other nodes is checked against their
// logs alone, but a treasurer's typo is caught here, before it is signed.
func (b *backend) Settle(_ context.Context, r *rpcv1.SettleRequest) (*rpcv1.RecordResponse, error) {
	n := b.n
	p, err := ledger.ParsePeriod(strings.TrimSpace(r.GetPeriod()))
	if err != nil {
		return nil, err
	}
	payee, err := parseNodeRef(r.GetPayee())
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	_, exp := n.state.Currency()
	plan, final, err := n.state.Plan(p, n.nowMs())
	n.mu.Unlock()
	if err != nil {
		return nil, err
	}
	amount, err := ledger.ParseAmount(strings.TrimSpace(r.GetAmount()), exp)
	if err != nil {
		return nil, err
	}
	var left ledger.Amount
	found := false
	for _, t := range plan {
		if t.From == n.self && t.To == payee {
			found, left = true, t.Amount-t.Paid
		}
	}
	switch {
	case !final:
		return nil, fmt.Errorf("period %s is not final: its plan may still change; settle once every member closed it: %w", p, errFailedPrecondition)
	case !found:
		return nil, invalid("the plan of %s asks this caisse to pay nothing to %s", p, payee.ID().Short())
	case amount > left:
		return nil, invalid("%s is more than the %s left to pay to %s for %s", amount.Format(exp), left.Format(exp), payee.ID().Short(), p)
	}
	if who := n.reg.mentioned(r.GetReference()); who != "" {
		return nil, invalid("the reference names %q: keep names out of it", who)
	}
	e, err := n.append(func(body *caissev1.EntryBody) {
		body.Kind = &caissev1.EntryBody_Settlement{Settlement: &caissev1.Settlement{Period: string(p), Payee: payee[:],
			Amount: int64(amount), Reference: r.GetReference()}}
	})
	if err != nil {
		return nil, err
	}
	return &rpcv1.RecordResponse{Entry: n.view(e)}, nil
}

// Ack acknowledges a settlement paid to this caisse.
func (b *backend) Ack(_ context.Context, r *rpcv1.AckRequest) (*rpcv1.RecordResponse, error) {
	n := b.n
	prefix := strings.ToLower(strings.TrimSpace(r.GetSettlement()))
	if len(prefix) < 8 {
		return nil, invalid("settlement %q: give at least 8 characters of its hash", prefix)
	}
	n.mu.Lock()
	var matches []federation.Settlement
	for _, s := range n.state.Settlements("") {
		if strings.HasPrefix(s.ID.String(), prefix) {
			matches = append(matches, s)
		}
	}
	n.mu.Unlock()
	switch {
	case len(matches) == 0:
		return nil, fmt.Errorf("no settlement %s known here: %w", prefix, ledger.ErrNotFound)
	case len(matches) > 1:
		return nil, invalid("%d settlements start with %s: give more of the hash", len(matches), prefix)
	case matches[0].Payee != n.self:
		return nil, invalid("settlement %s is paid to %s, not to this caisse", matches[0].ID.Short(), matches[0].Payee.ID().Short())
	case matches[0].Acknowledged:
		return nil, fmt.Errorf("settlement %s acknowledged already: %w", matches[0].ID.Short(), federation.ErrBadSettlement)
	}
	h := matches[0].ID
	e, err := n.append(func(body *caissev1.EntryBody) {
		body.Kind = &caissev1.EntryBody_SettlementAck{SettlementAck: &caissev1.SettlementAck{Settlement: h[:]}}
	})
	if err != nil {
		return nil, err
	}
	return &rpcv1.RecordResponse{Entry: n.view(e)}, nil
}

// Settlements returns a period's plan with what is paid, acknowledged and
// late, and the settlements recorded for it.
func (b *backend) Settlements(_ context.Context, r *rpcv1.SettlementsRequest) (*rpcv1.SettlementsResponse, error) {
	n := b.n
	p, err := ledger.ParsePeriod(strings.TrimSpace(r.GetPeriod()))
	if err != nil {
		return nil, err
	}
	names := n.names()
	n.mu.Lock()
	defer n.mu.Unlock()
	plan, final, err := n.state.Plan(p, n.nowMs())
	if err != nil {
		return nil, err
	}
	code, exp := n.state.Currency()
	resp := &rpcv1.SettlementsResponse{Period: string(p), Final: final, Currency: &rpcv1.Currency{Code: code, Exponent: exp},
		Transfers: transfersRPC(plan, names)}
	for _, s := range n.state.Settlements(p) {
		resp.Settlements = append(resp.Settlements, &rpcv1.SettlementView{Hash: s.ID.String(), Period: string(s.Period),
			From: string(s.Payer.ID()), FromName: names[s.Payer], To: string(s.Payee.ID()), ToName: names[s.Payee],
			Amount: int64(s.Amount), Reference: s.Reference, Acknowledged: s.Acknowledged, Counts: s.Counts,
			Time: hlcRFC3339(s.Time)})
	}
	return resp, nil
}

func transfersRPC(plan []federation.TransferStatus, names map[ledger.Author]string) []*rpcv1.TransferView {
	var out []*rpcv1.TransferView
	for _, t := range plan {
		out = append(out, &rpcv1.TransferView{From: string(t.From.ID()), To: string(t.To.ID()), Amount: int64(t.Amount),
			FromName: names[t.From], ToName: names[t.To], Paid: int64(t.Paid), Acknowledged: int64(t.Acknowledged), Late: t.Late})
	}
	return out
}
