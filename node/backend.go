package node

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// backend answers the operator API for a node.
type backend struct{ n *Node }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errInvalidArgument)
}

func (b *backend) Init(_ context.Context, r *rpcv1.InitRequest) (*rpcv1.InitResponse, error) {
	c := Charter{Name: r.GetFederationName(), Currency: r.GetCurrency(), Exponent: r.GetExponent(), Rules: DefaultRules()}
	if c.Currency == "" && c.Exponent == 0 {
		c.Currency, c.Exponent = "EUR", 2
	}
	if r.GetRules() != nil {
		c.Rules = rulesFromRPC(r.GetRules())
	}
	name := r.GetName()
	if name == "" {
		name = b.n.cfg.Name
	}
	e, err := b.n.found(c, name)
	if err != nil {
		return nil, err
	}
	return &rpcv1.InitResponse{FederationId: e.Hash().String(), Genesis: b.n.view(e)}, nil
}

func (b *backend) Status(context.Context, *rpcv1.StatusRequest) (st *rpcv1.StatusResponse, err error) {
	n := b.n
	count, err := n.store.Count()
	if err != nil {
		return nil, err
	}
	defer func() {
		if st != nil {
			n.syncStatus(st)
		}
	}()
	n.mu.Lock()
	defer n.mu.Unlock()
	st = &rpcv1.StatusResponse{
		NodeId:      string(n.self.ID().Short()),
		NodeKey:     n.self.String(),
		Entries:     count,
		StateHash:   n.state.Hash().String(),
		DataDir:     n.cfg.DataDir,
		Version:     n.cfg.Version,
		StartedUnix: n.started.Unix(),
		Name:        n.cfg.Name,
	}
	if h, err := n.store.Head(n.self); err == nil {
		st.Seq = uint64(h.Seq)
	}
	st.Member = n.state.CanAuthor(n.self)
	if fid, ok := n.state.Federation(); ok {
		ch := n.state.Charter()
		st.Founded = true
		st.FederationId = fid.String()
		st.FederationName = ch.GetName()
		st.Currency = &rpcv1.Currency{Code: ch.GetCurrency().GetCode(), Exponent: ch.GetCurrency().GetExponent()}
		st.Members = uint32(len(n.state.Members()))
		st.Rules = rulesToRPC(ch.GetRules())
		for _, m := range n.state.Members() {
			if m.Key == n.self {
				st.Name = m.Name
			}
		}
	}
	return st, nil
}

// movement is what contributions and disbursements share.
type movement struct {
	who      *rpcv1.MemberRef
	amount   string
	period   string
	note     string
	whoField string
}

// prepare parses a movement into its pseudonym, amount and period, and
// records who is behind the pseudonym in the local register.
func (b *backend) prepare(m movement) (ledger.Pseudonym, ledger.Amount, ledger.Period, error) {
	n := b.n
	n.mu.Lock()
	ch := n.state.Charter()
	n.mu.Unlock()
	if ch == nil {
		return ledger.Pseudonym{}, 0, "", fmt.Errorf("node: no federation yet: found one with caisse init: %w", federation.ErrNoGenesis)
	}
	amount, err := ledger.ParseAmount(strings.TrimSpace(m.amount), ch.GetCurrency().GetExponent())
	if err != nil {
		return ledger.Pseudonym{}, 0, "", err
	}
	period, err := ledger.ParsePeriod(strings.TrimSpace(m.period))
	if err != nil {
		return ledger.Pseudonym{}, 0, "", err
	}
	name, email := m.who.GetName(), m.who.GetEmail()
	if who := n.reg.mentioned(m.note, name, email); who != "" {
		return ledger.Pseudonym{}, 0, "", invalid("the note names %q: notes are replicated to the whole federation, keep names out of them", who)
	}
	var p ledger.Pseudonym
	switch {
	case m.who.GetPseudonym() != "":
		if p, err = ledger.ParsePseudonym(m.who.GetPseudonym()); err != nil {
			return ledger.Pseudonym{}, 0, "", err
		}
		if email != "" {
			return ledger.Pseudonym{}, 0, "", invalid("an e-mail goes with a name, not with a pseudonym")
		}
	case ledger.NormalizeName(name) != "":
		if len(name) > ledger.MaxNameLen {
			return ledger.Pseudonym{}, 0, "", invalid("%s name of %d bytes, at most %d", m.whoField, len(name), ledger.MaxNameLen)
		}
		p = ledger.PseudonymFor(n.pseudo, name)
		if err := n.reg.remember(p, name, email); err != nil {
			return ledger.Pseudonym{}, 0, "", err
		}
	default:
		return ledger.Pseudonym{}, 0, "", invalid("no %s: give a name or a pseudonym", m.whoField)
	}
	return p, amount, period, nil
}

func (b *backend) Contribute(_ context.Context, r *rpcv1.ContributeRequest) (*rpcv1.RecordResponse, error) {
	cat, err := ledger.ParseContributionCategory(r.GetCategory())
	if err != nil {
		return nil, err
	}
	p, amount, period, err := b.prepare(movement{r.GetMember(), r.GetAmount(), r.GetPeriod(), r.GetNote(), "member"})
	if err != nil {
		return nil, err
	}
	e, err := b.n.append(func(body *caissev1.EntryBody) {
		body.Kind = &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
			Member: p[:], Amount: int64(amount), Period: string(period), Category: cat, Note: r.GetNote(),
		}}
	})
	if err != nil {
		return nil, err
	}
	return &rpcv1.RecordResponse{Entry: b.n.view(e)}, nil
}

func (b *backend) Disburse(_ context.Context, r *rpcv1.DisburseRequest) (*rpcv1.RecordResponse, error) {
	cat, err := ledger.ParseDisbursementCategory(r.GetCategory())
	if err != nil {
		return nil, err
	}
	p, amount, period, err := b.prepare(movement{r.GetBeneficiary(), r.GetAmount(), r.GetPeriod(), r.GetNote(), "beneficiary"})
	if err != nil {
		return nil, err
	}
	e, err := b.n.append(func(body *caissev1.EntryBody) {
		body.Kind = &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
			Beneficiary: p[:], Amount: int64(amount), Period: string(period), Category: cat, Note: r.GetNote(),
		}}
	})
	if err != nil {
		return nil, err
	}
	return &rpcv1.RecordResponse{Entry: b.n.view(e)}, nil
}

func (b *backend) Correct(_ context.Context, r *rpcv1.CorrectRequest) (*rpcv1.RecordResponse, error) {
	n := b.n
	if strings.TrimSpace(r.GetReason()) == "" {
		return nil, invalid("a correction needs a reason")
	}
	if who := n.reg.mentioned(r.GetReason()); who != "" {
		return nil, invalid("the reason names %q: reasons are replicated to the whole federation, keep names out of them", who)
	}
	if r.GetSeq() == 0 {
		return nil, invalid("which entry? give its seq (caisse entries lists them)")
	}
	target, err := n.store.Get(n.self, ledger.Seq(r.GetSeq()))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil, fmt.Errorf("no entry %d in this node's log: %w", r.GetSeq(), ledger.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	e, err := n.append(func(body *caissev1.EntryBody) {
		h := target.Hash()
		body.Kind = &caissev1.EntryBody_Correction{Correction: &caissev1.Correction{
			TargetSeq: uint64(target.Seq()), TargetHash: h[:], Reason: r.GetReason(),
		}}
	})
	if err != nil {
		return nil, err
	}
	return &rpcv1.RecordResponse{Entry: n.view(e)}, nil
}

func (b *backend) ListEntries(_ context.Context, r *rpcv1.ListEntriesRequest) (*rpcv1.ListEntriesResponse, error) {
	n := b.n
	author := n.self
	if r.GetAuthor() != "" {
		a, err := ledger.ParseAuthor(r.GetAuthor())
		if err != nil {
			return nil, err
		}
		author = a
	}
	limit := int(r.GetLimit())
	if limit == 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	from := max(ledger.Seq(r.GetFromSeq()), 1)
	resp := &rpcv1.ListEntriesResponse{}
	errFull := fmt.Errorf("page full")
	err := n.store.Scan(author, from, func(e ledger.Entry) error {
		if len(resp.Entries) == limit {
			resp.NextSeq = uint64(e.Seq())
			return errFull
		}
		resp.Entries = append(resp.Entries, n.view(e))
		return nil
	})
	if err != nil && err != errFull {
		return nil, err
	}
	return resp, nil
}

// view decodes an entry for the local operator, with member names from the
// local register.
func (n *Node) view(e ledger.Entry) *rpcv1.EntryView {
	b := e.Body()
	v := &rpcv1.EntryView{
		Author:      e.Author().String(),
		Seq:         uint64(e.Seq()),
		Hash:        e.Hash().String(),
		TimeMs:      e.Time().Wall,
		TimeLogical: e.Time().Logical,
		Kind:        e.Kind(),
		Size:        uint32(e.Size()),
	}
	if e.Seq() > 1 {
		v.Prev = e.Prev().String()
	}
	switch {
	case b.GetContribution() != nil:
		c := b.GetContribution()
		v.Amount, v.Period, v.Note = c.GetAmount(), c.GetPeriod(), c.GetNote()
		v.Category = ledger.ContributionCategoryName(c.GetCategory())
		v.Member, v.MemberName = ledger.Pseudonym(c.GetMember()).String(), n.reg.name(c.GetMember())
	case b.GetDisbursement() != nil:
		d := b.GetDisbursement()
		v.Amount, v.Period, v.Note = d.GetAmount(), d.GetPeriod(), d.GetNote()
		v.Category = ledger.DisbursementCategoryName(d.GetCategory())
		v.Member, v.MemberName = ledger.Pseudonym(d.GetBeneficiary()).String(), n.reg.name(d.GetBeneficiary())
	case b.GetCorrection() != nil:
		v.TargetSeq, v.Reason = b.GetCorrection().GetTargetSeq(), b.GetCorrection().GetReason()
	case b.GetGenesis() != nil:
		v.Note = b.GetGenesis().GetName()
	case b.GetPeriodClose() != nil:
		v.Period, v.Amount = b.GetPeriodClose().GetPeriod(), b.GetPeriodClose().GetContributed()
	case b.GetSettlement() != nil:
		st := b.GetSettlement()
		v.Period, v.Amount, v.Note = st.GetPeriod(), st.GetAmount(), st.GetReference()
		v.Member = ledger.Author(st.GetPayee()).String()
	case b.GetSettlementAck() != nil:
		v.Note = ledger.Hash(b.GetSettlementAck().GetSettlement()).String()
	case b.GetProposal() != nil:
		v.Note = b.GetProposal().GetNote()
	}
	n.mu.Lock()
	if by, ok := n.state.CorrectedBy(e.Author(), e.Seq()); ok {
		v.CorrectedBy = uint64(by)
	}
	n.mu.Unlock()
	return v
}

func (b *backend) Balances(_ context.Context, r *rpcv1.BalancesRequest) (*rpcv1.BalancesResponse, error) {
	n := b.n
	var period ledger.Period
	if r.GetPeriod() != "" {
		p, err := ledger.ParsePeriod(r.GetPeriod())
		if err != nil {
			return nil, err
		}
		period = p
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ch := n.state.Charter()
	if ch == nil {
		return nil, fmt.Errorf("node: no federation yet: %w", federation.ErrNoGenesis)
	}
	resp := &rpcv1.BalancesResponse{
		Currency:  &rpcv1.Currency{Code: ch.GetCurrency().GetCode(), Exponent: ch.GetCurrency().GetExponent()},
		StateHash: n.state.Hash().String(),
		Total:     &rpcv1.Balance{},
	}
	balances := n.state.Balances()
	if period != "" {
		balances = n.state.BalancesFor(period)
	}
	var total federation.Totals
	for _, cb := range balances {
		out := &rpcv1.CaisseBalance{Id: cb.Key.String(), Name: cb.Name, Total: totalsRPC(cb.Total), Categories: categoriesRPC(cb.ByCategory),
			SettledOut: int64(cb.SettledOut), SettledIn: int64(cb.SettledIn), Funds: int64(cb.Funds)}
		for _, pt := range cb.ByPeriod {
			out.Periods = append(out.Periods, &rpcv1.PeriodBalance{Period: string(pt.Period), Balance: totalsRPC(pt.Totals)})
		}
		var err error
		if total, err = addTotals(total, cb.Total); err != nil {
			return nil, err
		}
		resp.Caisses = append(resp.Caisses, out)
	}
	resp.Total = totalsRPC(total)
	return resp, nil
}

func totalsRPC(t federation.Totals) *rpcv1.Balance {
	return &rpcv1.Balance{Contributed: int64(t.Contributed), Disbursed: int64(t.Disbursed), Balance: int64(t.Balance)}
}

func categoriesRPC(cs []federation.CategoryTotal) []*rpcv1.CategoryAmount {
	var out []*rpcv1.CategoryAmount
	for _, c := range cs {
		out = append(out, &rpcv1.CategoryAmount{Direction: c.Direction, Category: c.Category, Amount: int64(c.Amount)})
	}
	return out
}

func rulesToRPC(p *caissev1.Rules) *rpcv1.Rules {
	r := rulesFromProto(p)
	return &rpcv1.Rules{
		LevyBp: r.LevyBP, NeedBp: r.NeedBP, MembersBp: r.MembersBP, EqualBp: r.EqualBP,
		Rates: r.Rates, ReserveBp: r.ReserveBP, ReserveHolder: fmt.Sprintf("%x", p.GetReserveHolder()),
		QuorumBp: r.QuorumBP, MajorityBp: r.MajorityBP,
	}
}

func rulesFromRPC(p *rpcv1.Rules) Rules {
	return Rules{
		LevyBP: p.GetLevyBp(), NeedBP: p.GetNeedBp(), MembersBP: p.GetMembersBp(), EqualBP: p.GetEqualBp(),
		Rates: p.GetRates(), ReserveBP: p.GetReserveBp(), QuorumBP: p.GetQuorumBp(), MajorityBP: p.GetMajorityBp(),
	}
}

// addTotals sums the totals of several caisses, checked.
func addTotals(a, b federation.Totals) (federation.Totals, error) {
	var err1, err2, err3 error
	a.Contributed, err1 = a.Contributed.Add(b.Contributed)
	a.Disbursed, err2 = a.Disbursed.Add(b.Disbursed)
	a.Balance, err3 = a.Balance.Add(b.Balance)
	return a, errors.Join(err1, err2, err3)
}
