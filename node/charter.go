package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// genesis returns the charter a founding node signs. With a nil key it only
// checks that the charter would be a valid entry, by signing it with a
// throwaway key: ledger.Sign is the one place that knows what is valid.
func (c Charter) genesis(founder string, key ed25519.PrivateKey) (*caissev1.EntryBody, error) {
	if err := checkName("collective name", founder); err != nil {
		return nil, fmt.Errorf("charter: %w", err)
	}
	if err := checkName("federation name", c.Name); err != nil {
		return nil, fmt.Errorf("charter: %w", err)
	}
	nonce := make([]byte, 16)
	rand.Read(nonce)
	check := key == nil
	if check {
		_, key, _ = ed25519.GenerateKey(rand.Reader)
	}
	author := key.Public().(ed25519.PublicKey)
	body := &caissev1.EntryBody{
		Author: author,
		Seq:    1,
		Time:   &caissev1.HLC{WallMs: ledger.MinWallMs},
		Kind: &caissev1.EntryBody_Genesis{Genesis: &caissev1.Genesis{
			Name:         c.Name,
			Currency:     &caissev1.Currency{Code: strings.ToUpper(c.Currency), Exponent: c.Exponent},
			PeriodLength: caissev1.PeriodLength_PERIOD_LENGTH_MONTH_UTC,
			FounderName:  founder,
			Rules:        c.Rules.proto(),
			Nonce:        nonce,
		}},
	}
	if check {
		if _, err := ledger.Sign(key, body); err != nil {
			return nil, fmt.Errorf("charter: %w", err)
		}
	}
	return body, nil
}

func (r Rules) proto() *caissev1.Rules {
	p := &caissev1.Rules{
		LevyBp:     r.LevyBP,
		Weights:    &caissev1.KeyWeights{NeedBp: r.NeedBP, MembersBp: r.MembersBP, EqualBp: r.EqualBP},
		ReserveBp:  r.ReserveBP,
		QuorumBp:   r.QuorumBP,
		MajorityBp: r.MajorityBP,
	}
	for _, unit := range slices.Sorted(maps.Keys(r.Rates)) {
		p.Rates = append(p.Rates, &caissev1.Rate{Unit: unit, Amount: r.Rates[unit]})
	}
	return p
}

func rulesFromProto(p *caissev1.Rules) Rules {
	r := Rules{
		LevyBP:     p.GetLevyBp(),
		NeedBP:     p.GetWeights().GetNeedBp(),
		MembersBP:  p.GetWeights().GetMembersBp(),
		EqualBP:    p.GetWeights().GetEqualBp(),
		Rates:      map[string]int64{},
		ReserveBP:  p.GetReserveBp(),
		QuorumBP:   p.GetQuorumBp(),
		MajorityBP: p.GetMajorityBp(),
	}
	for _, rate := range p.GetRates() {
		r.Rates[rate.GetUnit()] = rate.GetAmount()
	}
	return r
}
