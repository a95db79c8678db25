package federation

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Settlements (DESIGN.md, "Federal rules and redistribution"): once a
// period's redistribution is final, its settlement plan says who pays whom.
// The payer records a Settlement when it has paid, the payee a
// SettlementAck when the money arrived. Both are checked against what the
// entries themselves say, never against the plan, which may still change
// while the period is not final: a settlement is accepted from a member
// to another known caisse for any valid period; the views compare what
// was paid with what the plan asks. An acknowledgement names a settlement
// that must have arrived (else ErrUnknownSettlement, pending), be
// addressed to the acknowledging caisse and not be acknowledged yet (else
// ErrBadSettlement).
//
// A settlement counts, like a contribution, when it is dated within its
// author's membership; an acknowledgement when it is dated within the
// payee's. A caisse's funds are its balance, less the settlements it paid,
// plus those it received and acknowledged.

// settlementRec is what the state keeps of a settlement.
type settlementRec struct {
	hash   ledger.Hash
	payer  ledger.Author
	seq    ledger.Seq
	period ledger.Period
	payee  ledger.Author
	amount ledger.Amount
	ref    string
	ack    ledger.Seq // the payee's acknowledgement's seq; 0 if none
}

func (s *State) checkSettlement(m *member, e ledger.Entry, st *caissev1.Settlement) (change, error) {
	var payee ledger.Author
	copy(payee[:], st.GetPayee())
	if s.authors[payee] == nil {
		return change{}, fmt.Errorf("settlement to %s: %w: %w", payee.ID().Short(), ErrNoApplication, ErrPending)
	}
	a := ledger.Amount(st.GetAmount())
	if _, err := m.paid.Add(a); err != nil {
		return change{}, fmt.Errorf("settlements paid: %w", err)
	}
	rec := &settlementRec{hash: e.Hash(), payer: m.key, seq: e.Seq(), period: ledger.Period(st.GetPeriod()),
		payee: payee, amount: a, ref: st.GetReference()}
	return change{kind: kindSettlement, m: m, settlement: rec}, nil
}

func (s *State) checkSettlementAck(m *member, ack *caissev1.SettlementAck) (change, error) {
	var h ledger.Hash
	copy(h[:], ack.GetSettlement())
	rec := s.settlements[h]
	switch {
	case rec == nil:
		return change{}, fmt.Errorf("settlement %s: %w: %w", h.Short(), ErrUnknownSettlement, ErrPending)
	case rec.payee != m.key:
		return change{}, fmt.Errorf("settlement %s is to %s, not to this caisse: %w", h.Short(), rec.payee.ID().Short(), ErrBadSettlement)
	case rec.ack != 0:
		return change{}, fmt.Errorf("settlement %s acknowledged already at seq %d: %w", h.Short(), rec.ack, ErrBadSettlement)
	}
	if _, err := m.received.Add(rec.amount); err != nil {
		return change{}, fmt.Errorf("settlements received: %w", err)
	}
	return change{kind: kindSettlementAck, m: m, settlement: rec}, nil
}

func (s *State) commitSettlement(ch change) {
	if s.settlements == nil {
		s.settlements = make(map[ledger.Hash]*settlementRec)
	}
	s.settlements[ch.settlement.hash] = ch.settlement
	ch.m.paid += ch.settlement.amount
	ch.m.sent = append(ch.m.sent, ch.settlement)
}

func (s *State) commitSettlementAck(ch change, seq ledger.Seq) {
	ch.settlement.ack = seq
	ch.m.received += ch.settlement.amount
	ch.m.acked = append(ch.m.acked, ch.settlement)
}

// truncateSettlements forgets m's settlements and acknowledgements past
// its first n entries (a fork).
func (s *State) truncateSettlements(m *member, n int) {
	m.sent = slices.DeleteFunc(m.sent, func(r *settlementRec) bool {
		if int(r.seq) <= n {
			return false
		}
		delete(s.settlements, r.hash)
		m.paid -= r.amount
		return true
	})
	m.acked = slices.DeleteFunc(m.acked, func(r *settlementRec) bool {
		if int(r.ack) <= n {
			return false
		}
		r.ack = 0
		m.received -= r.amount
		return true
	})
}

// Settlement is a payment recorded by a caisse for a period's plan.
type Settlement struct {
	// ID is the hash of the settlement's entry, which an acknowledgement
	// names.
	ID     ledger.Hash
	Payer  ledger.Author
	Seq    ledger.Seq
	Time   ledger.HLC
	Period ledger.Period
	Payee  ledger.Author
	Amount ledger.Amount
	// Reference is the payment's reference, as the payer gave it.
	Reference string
	// Acknowledged is true once the payee acknowledged it, at AckSeq of
	// its log.
	Acknowledged bool
	AckSeq       ledger.Seq
	// Counts is false for a settlement dated outside its payer's
	// membership, or acknowledged outside the payee's: kept, shown, and
	// left out of the sums.
	Counts bool
}

func (s *State) settlementView(r *settlementRec) Settlement {
	payer := s.authors[r.payer]
	v := Settlement{ID: r.hash, Payer: r.payer, Seq: r.seq, Time: payer.log.at(int(r.seq - 1)).time(), Period: r.period,
		Payee: r.payee, Amount: r.amount, Reference: r.ref, Acknowledged: r.ack != 0, AckSeq: r.ack}
	v.Counts = payer.counts(r.seq)
	return v
}

// counts reports whether m's entry at seq is dated within its membership.
func (m *member) counts(seq ledger.Seq) bool {
	return m.win.always() || m.win.contains(m.posAt(seq))
}

// ackCounts reports whether r's acknowledgement counts.
func (s *State) ackCounts(r *settlementRec) bool {
	return r.ack != 0 && s.settlements[r.hash] == r && s.authors[r.payee].counts(r.ack)
}

// Settlements returns the settlements recorded for period p, or for every
// period when p is empty, by period, then payer, then seq.
func (s *State) Settlements(p ledger.Period) []Settlement {
	var out []Settlement
	for _, k := range s.order {
		for _, r := range s.authors[k].sent {
			if p == "" || r.period == p {
				out = append(out, s.settlementView(r))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Settlement) int { return cmp.Compare(a.Period, b.Period) })
	return out
}

// settledFunds returns what m paid and what it received and acknowledged,
// counting only the settlements and acknowledgements that count.
func (s *State) settledFunds(m *member) (out, in ledger.Amount) {
	for _, r := range m.sent {
		if m.counts(r.seq) {
			out += r.amount // checked at apply: the sum of all of them fits
		}
	}
	for _, r := range m.acked {
		if s.ackCounts(r) {
			in += r.amount
		}
	}
	return out, in
}

// TransferStatus is one transfer of a final period's settlement plan and
// how far it is paid.
type TransferStatus struct {
	Transfer
	// Paid sums the settlements that count from the payer to the payee
	// for the period; Acknowledged those of them the payee acknowledged.
	Paid, Acknowledged ledger.Amount
	// Late is true when the transfer is not paid in full and the period
	// after the one following the period settled has begun: a month to
	// close, a month to pay.
	Late bool
}

// Plan returns the settlement plan of period p with what is paid and
// acknowledged of each transfer. final is false while p is not final:
// the plan may still change, and nothing is late. nowMs dates lateness.
func (s *State) Plan(p ledger.Period, nowMs uint64) (plan []TransferStatus, final bool, err error) {
	r, final, _, err := s.Redistribution(p)
	if err != nil {
		return nil, false, err
	}
	late := final && nowMs >= p.Next().Next().StartMs()
	for _, t := range r.Transfers {
		ts := TransferStatus{Transfer: t}
		for _, x := range s.authors[t.From].sent {
			if x.period != p || x.payee != t.To || !s.authors[t.From].counts(x.seq) {
				continue
			}
			ts.Paid, err = ts.Paid.Add(x.amount)
			if err != nil {
				return nil, false, err
			}
			if s.ackCounts(x) {
				ts.Acknowledged += x.amount // at most Paid
			}
		}
		ts.Late = late && ts.Paid < t.Amount
		plan = append(plan, ts)
	}
	return plan, final, nil
}
