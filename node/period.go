package node

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// ClosePeriod signs this caisse's close of a period: its totals, computed
// from its own entries, its member count and its declared need. The
// federation state checks the totals again before the close is stored.
func (b *backend) ClosePeriod(_ context.Context, r *rpcv1.ClosePeriodRequest) (*rpcv1.RecordResponse, error) {
	n := b.n
	p, err := ledger.ParsePeriod(r.GetPeriod())
	if err != nil {
		return nil, err
	}
	if r.GetMembers() == 0 {
		return nil, invalid("give the caisse's member count in %s (--members)", p)
	}
	n.mu.Lock()
	ok := n.state.CanAuthor(n.self)
	rates := federation.Rates(n.state.RulesFor(p).Rules)
	var in federation.CaisseBalance
	for _, x := range n.state.BalancesFor(p) {
		if x.Key == n.self {
			in = x
		}
	}
	n.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("node: this node is not a member caisse: %w", federation.ErrUnknownAuthor)
	}
	pc := &caissev1.PeriodClose{
		Period: string(p), Contributed: int64(in.Total.Contributed), Disbursed: int64(in.Total.Disbursed),
		Members: r.GetMembers(),
	}
	for _, c := range in.ByCategory {
		switch c.Direction {
		case federation.DirectionIn:
			cat, err := ledger.ParseContributionCategory(c.Category)
			if err != nil {
				return nil, err
			}
			pc.Contributions = append(pc.Contributions, &caissev1.ContributionTotal{Category: cat, Amount: int64(c.Amount)})
		case federation.DirectionOut:
			cat, err := ledger.ParseDisbursementCategory(c.Category)
			if err != nil {
				return nil, err
			}
			pc.Disbursements = append(pc.Disbursements, &caissev1.DisbursementTotal{Category: cat, Amount: int64(c.Amount)})
		}
	}
	slices.SortFunc(pc.Contributions, func(x, y *caissev1.ContributionTotal) int { return int(x.Category) - int(y.Category) })
	slices.SortFunc(pc.Disbursements, func(x, y *caissev1.DisbursementTotal) int { return int(x.Category) - int(y.Category) })
	for _, unit := range slices.Sorted(maps.Keys(r.GetNeed())) {
		if _, rated := rates[unit]; !rated {
			return nil, invalid("need unit %q: the rules in force for %s rate only %q", unit, p, slices.Sorted(maps.Keys(rates)))
		}
		if r.GetNeed()[unit] > 0 {
			pc.Need = append(pc.Need, &caissev1.NeedUnits{Unit: unit, Units: r.GetNeed()[unit]})
		}
	}
	e, err := n.append(func(body *caissev1.EntryBody) { body.Kind = &caissev1.EntryBody_PeriodClose{PeriodClose: pc} })
	if err != nil {
		return nil, err
	}
	return &rpcv1.RecordResponse{Entry: n.view(e)}, nil
}

// PeriodStatus says who closed a period.
func (b *backend) PeriodStatus(_ context.Context, r *rpcv1.PeriodStatusRequest) (*rpcv1.PeriodStatusResponse, error) {
	n := b.n
	p, err := ledger.ParsePeriod(r.GetPeriod())
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	st := n.state.PeriodStatus(p)
	n.mu.Unlock()
	resp := &rpcv1.PeriodStatusResponse{Period: string(p), Final: st.Final}
	for _, c := range st.Caisses {
		resp.Caisses = append(resp.Caisses, &rpcv1.PeriodCloseView{Id: string(c.Key.ID()), Name: c.Name, Closed: c.Closed,
			Excused: c.Excused, Members: c.Members, Contributed: int64(c.Contributed), Disbursed: int64(c.Disbursed)})
	}
	return resp, nil
}

// Redistribution computes the redistribution of a period from the closes
// held, provisional until every member closed it.
func (b *backend) Redistribution(_ context.Context, r *rpcv1.RedistributionRequest) (*rpcv1.RedistributionResponse, error) {
	n := b.n
	p, err := ledger.ParsePeriod(r.GetPeriod())
	if err != nil {
		return nil, err
	}
	names := n.names()
	n.mu.Lock()
	red, final, waiting, err := n.state.Redistribution(p)
	var plan []federation.TransferStatus
	if err == nil {
		plan, _, err = n.state.Plan(p, n.nowMs())
	}
	code, exp := n.state.Currency()
	n.mu.Unlock()
	if err != nil {
		return nil, err
	}
	resp := &rpcv1.RedistributionResponse{Period: string(p), Final: final, Currency: &rpcv1.Currency{Code: code, Exponent: exp},
		Pool: int64(red.Pool), Reserve: int64(red.Reserve)}
	for _, a := range waiting {
		resp.WaitingFor = append(resp.WaitingFor, string(a.ID()))
	}
	for _, c := range red.Caisses {
		resp.Caisses = append(resp.Caisses, &rpcv1.ShareView{Id: string(c.ID.ID()), Name: names[c.ID], Due: int64(c.Due),
			Need: int64(c.Need), Share: int64(c.Share), Net: int64(c.Net), Closed: true})
	}
	resp.Transfers = transfersRPC(plan, names)
	return resp, nil
}
