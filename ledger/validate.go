package ledger

import (
	"crypto/ed25519"
	"fmt"
	"unicode/utf8"

	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Field limits. They keep every entry small and every text printable.
const (
	MaxNameLen  = 200  // bytes of a federation or collective name
	MaxNoteLen  = 1000 // bytes of a note or a reason
	MaxNonceLen = 64
	MaxMembers  = 1000 // co-founders in a charter
	MaxRates    = 64
	// MinWallMs is 2020-01-01T00:00:00Z: an entry stamped before it comes
	// from a clock that was never set.
	MinWallMs = 1577836800000
	// BasisPoints is 100%.
	BasisPoints = 10000
)

// checkBody checks everything that is true of a body by itself: sizes,
// shapes, amounts, periods, categories. What depends on other entries
// (membership, chains, corrections) is checked elsewhere.
func checkBody(b *caissev1.EntryBody) error {
	if len(b.GetAuthor()) != ed25519.PublicKeySize {
		return fmt.Errorf("author of %d bytes: %w", len(b.GetAuthor()), ErrMalformed)
	}
	if b.GetSeq() == 0 {
		return fmt.Errorf("seq 0, logs start at 1: %w", ErrMalformed)
	}
	switch {
	case b.GetSeq() == 1 && len(b.GetPrev()) != 0:
		return fmt.Errorf("seq 1 with a prev hash: %w", ErrMalformed)
	case b.GetSeq() > 1 && len(b.GetPrev()) != len(Hash{}):
		return fmt.Errorf("prev of %d bytes: %w", len(b.GetPrev()), ErrMalformed)
	}
	if b.GetTime() == nil || b.GetTime().GetWallMs() < MinWallMs {
		return fmt.Errorf("time %d ms is before 2020: %w", b.GetTime().GetWallMs(), ErrMalformed)
	}
	_, genesis := b.GetKind().(*caissev1.EntryBody_Genesis)
	switch {
	case genesis && (b.GetSeq() != 1 || len(b.GetFederation()) != 0):
		return fmt.Errorf("a genesis must be seq 1 with no federation id: %w", ErrMalformed)
	case !genesis && len(b.GetFederation()) != len(Hash{}):
		return fmt.Errorf("federation id of %d bytes: %w", len(b.GetFederation()), ErrMalformed)
	}
	switch k := b.GetKind().(type) {
	case *caissev1.EntryBody_Genesis:
		return checkGenesis(k.Genesis, b.GetAuthor())
	case *caissev1.EntryBody_Contribution:
		c := k.Contribution
		if err := checkMovement(c.GetMember(), c.GetAmount(), c.GetPeriod(), c.GetNote()); err != nil {
			return fmt.Errorf("contribution: %w", err)
		}
		if _, ok := caissev1.ContributionCategory_name[int32(c.GetCategory())]; !ok || c.GetCategory() == 0 {
			return fmt.Errorf("contribution category %d: %w", c.GetCategory(), ErrUnknownCategory)
		}
	case *caissev1.EntryBody_Disbursement:
		d := k.Disbursement
		if err := checkMovement(d.GetBeneficiary(), d.GetAmount(), d.GetPeriod(), d.GetNote()); err != nil {
			return fmt.Errorf("disbursement: %w", err)
		}
		if _, ok := caissev1.DisbursementCategory_name[int32(d.GetCategory())]; !ok || d.GetCategory() == 0 {
			return fmt.Errorf("disbursement category %d: %w", d.GetCategory(), ErrUnknownCategory)
		}
	case *caissev1.EntryBody_Correction:
		c := k.Correction
		if c.GetTargetSeq() == 0 || c.GetTargetSeq() >= b.GetSeq() {
			return fmt.Errorf("correction of seq %d from seq %d: must reverse an earlier entry: %w", c.GetTargetSeq(), b.GetSeq(), ErrMalformed)
		}
		if len(c.GetTargetHash()) != len(Hash{}) {
			return fmt.Errorf("correction target hash of %d bytes: %w", len(c.GetTargetHash()), ErrMalformed)
		}
		if err := checkText("reason", c.GetReason(), 1, MaxNoteLen); err != nil {
			return err
		}
	case *caissev1.EntryBody_Application:
		if b.GetSeq() != 1 {
			return fmt.Errorf("an application must be the first entry of its author's log, not seq %d: %w", b.GetSeq(), ErrMalformed)
		}
		if err := checkText("collective name", k.Application.GetName(), 1, MaxNameLen); err != nil {
			return err
		}
		return checkText("note", k.Application.GetNote(), 0, MaxNoteLen)
	case *caissev1.EntryBody_Proposal:
		return checkProposal(k.Proposal)
	case *caissev1.EntryBody_PeriodClose:
		return checkPeriodClose(k.PeriodClose)
	case *caissev1.EntryBody_Settlement:
		return checkSettlement(k.Settlement, b.GetAuthor())
	case *caissev1.EntryBody_SettlementAck:
		if len(k.SettlementAck.GetSettlement()) != len(Hash{}) {
			return fmt.Errorf("settlement ack: settlement hash of %d bytes: %w", len(k.SettlementAck.GetSettlement()), ErrMalformed)
		}
	case *caissev1.EntryBody_Vote:
		v := k.Vote
		if len(v.GetProposal()) != len(Hash{}) {
			return fmt.Errorf("vote: proposal hash of %d bytes: %w", len(v.GetProposal()), ErrMalformed)
		}
		if _, ok := caissev1.Choice_name[int32(v.GetChoice())]; !ok || v.GetChoice() == caissev1.Choice_CHOICE_UNSPECIFIED {
			return fmt.Errorf("vote: choice %d: %w", v.GetChoice(), ErrMalformed)
		}
	case nil:
		return fmt.Errorf("no kind: %w", ErrMalformed)
	default:
		return fmt.Errorf("unknown kind %T: %w", k, ErrMalformed)
	}
	return nil
}

func checkMovement(who []byte, amount int64, period, note string) error {
	if len(who) != len(Pseudonym{}) {
		return fmt.Errorf("pseudonym of %d bytes: %w", len(who), ErrMalformed)
	}
	if err := CheckAmount(Amount(amount)); err != nil {
		return err
	}
	if _, err := ParsePeriod(period); err != nil {
		return err
	}
	return checkText("note", note, 0, MaxNoteLen)
}

func checkText(field, s string, minLen, maxLen int) error {
	switch {
	case len(s) > maxLen:
		return fmt.Errorf("%s of %d bytes, at most %d: %w", field, len(s), maxLen, ErrTooLarge)
	case len(s) < minLen:
		return fmt.Errorf("%s is empty: %w", field, ErrMalformed)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not UTF-8: %w", field, ErrMalformed)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return fmt.Errorf("%s holds control character %U: %w", field, r, ErrMalformed)
		}
	}
	return nil
}

func checkGenesis(g *caissev1.Genesis, author []byte) error {
	if err := checkText("federation name", g.GetName(), 1, MaxNameLen); err != nil {
		return err
	}
	if err := checkText("founder name", g.GetFounderName(), 1, MaxNameLen); err != nil {
		return err
	}
	cur := g.GetCurrency()
	if len(cur.GetCode()) != 3 {
		return fmt.Errorf("currency code %q: want three letters: %w", cur.GetCode(), ErrMalformed)
	}
	for _, c := range cur.GetCode() {
		if c < 'A' || c > 'Z' {
			return fmt.Errorf("currency code %q: want three capital letters: %w", cur.GetCode(), ErrMalformed)
		}
	}
	if cur.GetExponent() > MaxExponent {
		return fmt.Errorf("currency exponent %d, at most %d: %w", cur.GetExponent(), MaxExponent, ErrMalformed)
	}
	if g.GetPeriodLength() != caissev1.PeriodLength_PERIOD_LENGTH_MONTH_UTC {
		return fmt.Errorf("period length %v: only calendar months (UTC) are supported: %w", g.GetPeriodLength(), ErrMalformed)
	}
	if len(g.GetMembers()) > MaxMembers {
		return fmt.Errorf("%d co-founders, at most %d: %w", len(g.GetMembers()), MaxMembers, ErrTooLarge)
	}
	if len(g.GetNonce()) > MaxNonceLen {
		return fmt.Errorf("nonce of %d bytes: %w", len(g.GetNonce()), ErrTooLarge)
	}
	seen := map[string]bool{string(author): true}
	for i, m := range g.GetMembers() {
		if len(m.GetKey()) != ed25519.PublicKeySize {
			return fmt.Errorf("co-founder %d: key of %d bytes: %w", i, len(m.GetKey()), ErrMalformed)
		}
		if seen[string(m.GetKey())] {
			return fmt.Errorf("co-founder %d: key %x listed twice: %w", i, m.GetKey(), ErrMalformed)
		}
		seen[string(m.GetKey())] = true
		if err := checkText("co-founder name", m.GetName(), 1, MaxNameLen); err != nil {
			return err
		}
	}
	return CheckRules(g.GetRules(), func(k []byte) bool { return seen[string(k)] })
}

// CheckRules checks a rule set by itself. isMember says whether a key may
// hold the reserve.
func CheckRules(r *caissev1.Rules, isMember func([]byte) bool) error {
	if r == nil {
		return fmt.Errorf("no rules: %w", ErrMalformed)
	}
	for _, f := range []struct {
		name string
		v    uint32
	}{{"levy_bp", r.GetLevyBp()}, {"reserve_bp", r.GetReserveBp()}, {"quorum_bp", r.GetQuorumBp()}, {"majority_bp", r.GetMajorityBp()}} {
		if f.v > BasisPoints {
			return fmt.Errorf("rules: %s %d over %d: %w", f.name, f.v, BasisPoints, ErrMalformed)
		}
	}
	if r.GetMajorityBp() == 0 {
		return fmt.Errorf("rules: majority_bp must be positive: %w", ErrMalformed)
	}
	w := r.GetWeights()
	if sum := uint64(w.GetNeedBp()) + uint64(w.GetMembersBp()) + uint64(w.GetEqualBp()); sum != BasisPoints {
		return fmt.Errorf("rules: key weights sum to %d, want %d: %w", sum, BasisPoints, ErrMalformed)
	}
	if len(r.GetRates()) > MaxRates {
		return fmt.Errorf("rules: %d rates, at most %d: %w", len(r.GetRates()), MaxRates, ErrTooLarge)
	}
	units := map[string]bool{}
	for _, rate := range r.GetRates() {
		if err := checkText("rate unit", rate.GetUnit(), 1, 64); err != nil {
			return fmt.Errorf("rules: %w", err)
		}
		if units[rate.GetUnit()] {
			return fmt.Errorf("rules: rate %q listed twice: %w", rate.GetUnit(), ErrMalformed)
		}
		units[rate.GetUnit()] = true
		if rate.GetAmount() < 0 || Amount(rate.GetAmount()) > MaxAmount {
			return fmt.Errorf("rules: rate %q of %d: %w", rate.GetUnit(), rate.GetAmount(), ErrInvalidAmount)
		}
	}
	switch {
	case r.GetReserveBp() > 0 && len(r.GetReserveHolder()) == 0:
		return fmt.Errorf("rules: a reserve needs a holder: %w", ErrMalformed)
	case len(r.GetReserveHolder()) > 0 && !isMember(r.GetReserveHolder()):
		return fmt.Errorf("rules: reserve holder %x is not a member: %w", r.GetReserveHolder(), ErrMalformed)
	}
	return nil
}

func checkProposal(p *caissev1.Proposal) error {
	var key []byte
	switch a := p.GetAction().(type) {
	case *caissev1.Proposal_Admit:
		key = a.Admit.GetApplicant()
	case *caissev1.Proposal_Exclude:
		key = a.Exclude.GetMember()
	case *caissev1.Proposal_Excuse:
		key = a.Excuse.GetMember()
		if _, err := ParsePeriod(a.Excuse.GetPeriod()); err != nil {
			return fmt.Errorf("proposal: excuse: %w", err)
		}
	case *caissev1.Proposal_ChangeRules:
		// Whether the reserve holder is a member depends on the other
		// logs: the federation checks it.
		holderShape := func(k []byte) bool { return len(k) == ed25519.PublicKeySize }
		if err := CheckRules(a.ChangeRules.GetRules(), holderShape); err != nil {
			return fmt.Errorf("proposal: %w", err)
		}
		if _, err := ParsePeriod(a.ChangeRules.GetEffective()); err != nil {
			return fmt.Errorf("proposal: rules effective from: %w", err)
		}
		return checkProposalCommon(p)
	default:
		return fmt.Errorf("proposal: no action: %w", ErrMalformed)
	}
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("proposal: key of %d bytes: %w", len(key), ErrMalformed)
	}
	return checkProposalCommon(p)
}

func checkProposalCommon(p *caissev1.Proposal) error {
	if d := p.GetDeadline(); d != "" {
		if _, err := ParsePeriod(d); err != nil {
			return fmt.Errorf("proposal: deadline: %w", err)
		}
	}
	return checkText("note", p.GetNote(), 0, MaxNoteLen)
}

// MaxReferenceLen bounds a settlement's payment reference.
const MaxReferenceLen = 200

func checkSettlement(s *caissev1.Settlement, author []byte) error {
	if _, err := ParsePeriod(s.GetPeriod()); err != nil {
		return fmt.Errorf("settlement: %w", err)
	}
	switch {
	case len(s.GetPayee()) != ed25519.PublicKeySize:
		return fmt.Errorf("settlement: payee key of %d bytes: %w", len(s.GetPayee()), ErrMalformed)
	case string(s.GetPayee()) == string(author):
		return fmt.Errorf("settlement: a caisse cannot pay itself: %w", ErrMalformed)
	}
	if err := CheckAmount(Amount(s.GetAmount())); err != nil {
		return fmt.Errorf("settlement: %w", err)
	}
	return checkText("reference", s.GetReference(), 0, MaxReferenceLen)
}

// Bounds of a period close.
const (
	MaxCaisseMembers = 10_000_000
	MaxNeedUnits     = 1_000_000_000
)

func checkPeriodClose(c *caissev1.PeriodClose) error {
	if _, err := ParsePeriod(c.GetPeriod()); err != nil {
		return err
	}
	for _, a := range []int64{c.GetContributed(), c.GetDisbursed()} {
		if a < 0 {
			return fmt.Errorf("period close: negative total %d: %w", a, ErrInvalidAmount)
		}
	}
	seen := map[int32]bool{}
	for _, t := range c.GetContributions() {
		if _, ok := caissev1.ContributionCategory_name[int32(t.GetCategory())]; !ok || t.GetCategory() == 0 || seen[int32(t.GetCategory())] {
			return fmt.Errorf("period close: contribution category %d: %w", t.GetCategory(), ErrUnknownCategory)
		}
		seen[int32(t.GetCategory())] = true
		if t.GetAmount() < 0 {
			return fmt.Errorf("period close: negative total %d: %w", t.GetAmount(), ErrInvalidAmount)
		}
	}
	seen = map[int32]bool{}
	for _, t := range c.GetDisbursements() {
		if _, ok := caissev1.DisbursementCategory_name[int32(t.GetCategory())]; !ok || t.GetCategory() == 0 || seen[int32(t.GetCategory())] {
			return fmt.Errorf("period close: disbursement category %d: %w", t.GetCategory(), ErrUnknownCategory)
		}
		seen[int32(t.GetCategory())] = true
		if t.GetAmount() < 0 {
			return fmt.Errorf("period close: negative total %d: %w", t.GetAmount(), ErrInvalidAmount)
		}
	}
	if c.GetMembers() > MaxCaisseMembers {
		return fmt.Errorf("period close: %d members, at most %d: %w", c.GetMembers(), MaxCaisseMembers, ErrMalformed)
	}
	if len(c.GetNeed()) > MaxRates {
		return fmt.Errorf("period close: %d need units, at most %d: %w", len(c.GetNeed()), MaxRates, ErrTooLarge)
	}
	units := map[string]bool{}
	for _, n := range c.GetNeed() {
		if err := checkText("need unit", n.GetUnit(), 1, 64); err != nil {
			return fmt.Errorf("period close: %w", err)
		}
		if units[n.GetUnit()] {
			return fmt.Errorf("period close: need unit %q listed twice: %w", n.GetUnit(), ErrMalformed)
		}
		units[n.GetUnit()] = true
		if n.GetUnits() > MaxNeedUnits {
			return fmt.Errorf("period close: %d units of %q, at most %d: %w", n.GetUnits(), n.GetUnit(), MaxNeedUnits, ErrMalformed)
		}
	}
	return nil
}
