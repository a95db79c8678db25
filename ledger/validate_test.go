package ledger_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestCheckBody runs each body through both doors: Sign, which must refuse
// to sign it, and Decode of the same body signed by hand with the right
// key, which must refuse it with the same error. Cases with a nil want are
// the edges that must still be accepted, so that each refusal is shown to
// be precise.
func TestCheckBody(t *testing.T) {
	a := pub(founderKey)
	fed := ledger.HashBody([]byte("federation"))
	prev := ledger.HashBody([]byte("prev"))
	target := ledger.HashBody([]byte("target"))

	bases := map[string]func() *caissev1.EntryBody{
		"genesis":      func() *caissev1.EntryBody { return genesisBody(a) },
		"contribution": func() *caissev1.EntryBody { return contributionBody(a, fed, 5, prev) },
		"disbursement": func() *caissev1.EntryBody { return disbursementBody(a, fed, 5, prev) },
		"correction":   func() *caissev1.EntryBody { return correctionBody(a, fed, 5, prev, 3, target) },
		"application":  func() *caissev1.EntryBody { return applicationBody(a, fed) },
		"admit":        func() *caissev1.EntryBody { return admitBody(a, fed, 5, prev, pub(otherKey)) },
		"exclude": func() *caissev1.EntryBody {
			b := admitBody(a, fed, 5, prev, nil)
			b.GetProposal().Action = &caissev1.Proposal_Exclude{Exclude: &caissev1.Exclude{Member: pub(nantesKey)}}
			return b
		},
		"vote": func() *caissev1.EntryBody { return voteBody(a, fed, 5, prev, target) },
	}
	gen := func(b *caissev1.EntryBody) *caissev1.Genesis { return b.GetGenesis() }
	rules := func(b *caissev1.EntryBody) *caissev1.Rules { return b.GetGenesis().GetRules() }
	contrib := func(b *caissev1.EntryBody) *caissev1.Contribution { return b.GetContribution() }
	disb := func(b *caissev1.EntryBody) *caissev1.Disbursement { return b.GetDisbursement() }
	corr := func(b *caissev1.EntryBody) *caissev1.Correction { return b.GetCorrection() }
	app := func(b *caissev1.EntryBody) *caissev1.Application { return b.GetApplication() }
	prop := func(b *caissev1.EntryBody) *caissev1.Proposal { return b.GetProposal() }
	vote := func(b *caissev1.EntryBody) *caissev1.Vote { return b.GetVote() }

	tests := []struct {
		name   string
		base   string
		mutate func(b *caissev1.EntryBody)
		want   error
		// wantSign, if set, is what Sign says instead of want: Sign checks
		// the key against the author before the body.
		wantSign error
		// signOnly marks bodies that proto cannot even encode; Decode of
		// such bytes is covered by TestDecodeInvalidUTF8.
		signOnly bool
	}{
		// The entry model.
		{name: "valid genesis", base: "genesis", mutate: func(b *caissev1.EntryBody) {}},
		{name: "valid contribution", base: "contribution", mutate: func(b *caissev1.EntryBody) {}},
		{name: "valid disbursement", base: "disbursement", mutate: func(b *caissev1.EntryBody) {}},
		{name: "valid correction", base: "correction", mutate: func(b *caissev1.EntryBody) {}},
		{name: "author of 31 bytes", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Author = a[:31] },
			want: ledger.ErrMalformed, wantSign: ledger.ErrWrongAuthor},
		{name: "seq 0", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Seq, b.Prev = 0, nil }, want: ledger.ErrMalformed},
		{name: "seq 0 with prev", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Seq = 0 }, want: ledger.ErrMalformed},
		{name: "seq 1 without prev", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Seq, b.Prev = 1, nil }},
		{name: "seq 1 with prev", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Seq = 1 }, want: ledger.ErrMalformed},
		{name: "seq 2 without prev", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Prev = nil }, want: ledger.ErrMalformed},
		{name: "prev of 31 bytes", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Prev = prev[:31] }, want: ledger.ErrMalformed},
		{name: "prev of 33 bytes", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Prev = append(prev[:], 0) }, want: ledger.ErrMalformed},
		{name: "missing time", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Time = nil }, want: ledger.ErrMalformed},
		{name: "zero time", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Time = &caissev1.HLC{} }, want: ledger.ErrMalformed},
		{name: "time just before 2020", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Time = &caissev1.HLC{WallMs: ledger.MinWallMs - 1, Logical: 5} }, want: ledger.ErrMalformed},
		{name: "time at 2020", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Time = &caissev1.HLC{WallMs: ledger.MinWallMs} }},
		{name: "genesis at seq 2", base: "genesis", mutate: func(b *caissev1.EntryBody) { b.Seq, b.Prev = 2, prev[:] }, want: ledger.ErrMalformed},
		{name: "genesis with a federation id", base: "genesis", mutate: func(b *caissev1.EntryBody) { b.Federation = fed[:] }, want: ledger.ErrMalformed},
		{name: "contribution without a federation id", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Federation = nil }, want: ledger.ErrMalformed},
		{name: "correction without a federation id", base: "correction", mutate: func(b *caissev1.EntryBody) { b.Federation = nil }, want: ledger.ErrMalformed},
		{name: "federation id of 31 bytes", base: "disbursement", mutate: func(b *caissev1.EntryBody) { b.Federation = fed[:31] }, want: ledger.ErrMalformed},
		{name: "no kind", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Kind = nil }, want: ledger.ErrMalformed},
		{name: "empty contribution", base: "contribution", mutate: func(b *caissev1.EntryBody) { b.Kind = &caissev1.EntryBody_Contribution{} }, want: ledger.ErrMalformed},

		// Contributions and disbursements.
		{name: "amount 0", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Amount = 0 }, want: ledger.ErrInvalidAmount},
		{name: "negative amount", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Amount = -2500 }, want: ledger.ErrInvalidAmount},
		{name: "amount MaxAmount", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Amount = int64(ledger.MaxAmount) }},
		{name: "amount over MaxAmount", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Amount = int64(ledger.MaxAmount) + 1 }, want: ledger.ErrInvalidAmount},
		{name: "disbursement amount 0", base: "disbursement", mutate: func(b *caissev1.EntryBody) { disb(b).Amount = 0 }, want: ledger.ErrInvalidAmount},
		{name: "disbursement negative amount", base: "disbursement", mutate: func(b *caissev1.EntryBody) { disb(b).Amount = -1 }, want: ledger.ErrInvalidAmount},
		{name: "bad period", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Period = "2026-13" }, want: ledger.ErrInvalidPeriod},
		{name: "no period", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Period = "" }, want: ledger.ErrInvalidPeriod},
		{name: "disbursement bad period", base: "disbursement", mutate: func(b *caissev1.EntryBody) { disb(b).Period = "janvier" }, want: ledger.ErrInvalidPeriod},
		{name: "category unspecified", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Category = 0 }, want: ledger.ErrUnknownCategory},
		{name: "category out of range", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Category = 99 }, want: ledger.ErrUnknownCategory},
		{name: "negative category", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Category = -1 }, want: ledger.ErrUnknownCategory},
		{name: "disbursement category unspecified", base: "disbursement", mutate: func(b *caissev1.EntryBody) { disb(b).Category = 0 }, want: ledger.ErrUnknownCategory},
		{name: "disbursement category out of range", base: "disbursement", mutate: func(b *caissev1.EntryBody) { disb(b).Category = 7 }, want: ledger.ErrUnknownCategory},
		{name: "last disbursement category", base: "disbursement", mutate: func(b *caissev1.EntryBody) {
			disb(b).Category = caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_OTHER
		}},
		{name: "pseudonym of 15 bytes", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Member = contrib(b).Member[:15] }, want: ledger.ErrMalformed},
		{name: "no beneficiary", base: "disbursement", mutate: func(b *caissev1.EntryBody) { disb(b).Beneficiary = nil }, want: ledger.ErrMalformed},
		{name: "empty note", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Note = "" }},
		{name: "note of MaxNoteLen bytes", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Note = strings.Repeat("é", ledger.MaxNoteLen/2) }},
		{name: "note too long", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Note = strings.Repeat("x", ledger.MaxNoteLen+1) }, want: ledger.ErrTooLarge},
		{name: "disbursement note too long", base: "disbursement", mutate: func(b *caissev1.EntryBody) { disb(b).Note = strings.Repeat("x", ledger.MaxNoteLen+1) }, want: ledger.ErrTooLarge},
		{name: "note with newline and tab", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Note = "ligne 1\n\tligne 2" }},
		{name: "note with NUL", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Note = "a\x00b" }, want: ledger.ErrMalformed},
		{name: "note with escape", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Note = "\x1b[31mrouge" }, want: ledger.ErrMalformed},
		{name: "note with carriage return", base: "disbursement", mutate: func(b *caissev1.EntryBody) { disb(b).Note = "a\rb" }, want: ledger.ErrMalformed},
		{name: "note with DEL", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Note = "a\x7fb" }, want: ledger.ErrMalformed},
		{name: "note not UTF-8", base: "contribution", mutate: func(b *caissev1.EntryBody) { contrib(b).Note = "caf\xe9" }, want: ledger.ErrMalformed, signOnly: true},

		// Corrections.
		{name: "correction of the previous entry", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).TargetSeq = 4 }},
		{name: "correction of itself", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).TargetSeq = 5 }, want: ledger.ErrMalformed},
		{name: "correction of a later seq", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).TargetSeq = 6 }, want: ledger.ErrMalformed},
		{name: "correction of seq 0", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).TargetSeq = 0 }, want: ledger.ErrMalformed},
		{name: "correction at seq 1", base: "correction", mutate: func(b *caissev1.EntryBody) { b.Seq, b.Prev, corr(b).TargetSeq = 1, nil, 1 }, want: ledger.ErrMalformed},
		{name: "correction target hash of 31 bytes", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).TargetHash = target[:31] }, want: ledger.ErrMalformed},
		{name: "correction without target hash", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).TargetHash = nil }, want: ledger.ErrMalformed},
		{name: "correction with an empty reason", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).Reason = "" }, want: ledger.ErrMalformed},
		{name: "correction reason too long", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).Reason = strings.Repeat("x", ledger.MaxNoteLen+1) }, want: ledger.ErrTooLarge},
		{name: "correction reason with control character", base: "correction", mutate: func(b *caissev1.EntryBody) { corr(b).Reason = "\x07" }, want: ledger.ErrMalformed},

		// Applications.
		{name: "valid application", base: "application", mutate: func(b *caissev1.EntryBody) {}},
		{name: "application without a note", base: "application", mutate: func(b *caissev1.EntryBody) { app(b).Note = "" }},
		{name: "application at seq 2", base: "application", mutate: func(b *caissev1.EntryBody) { b.Seq, b.Prev = 2, prev[:] }, want: ledger.ErrMalformed},
		{name: "application without a federation id", base: "application", mutate: func(b *caissev1.EntryBody) { b.Federation = nil }, want: ledger.ErrMalformed},
		{name: "application without a name", base: "application", mutate: func(b *caissev1.EntryBody) { app(b).Name = "" }, want: ledger.ErrMalformed},
		{name: "application name of MaxNameLen bytes", base: "application", mutate: func(b *caissev1.EntryBody) { app(b).Name = strings.Repeat("n", ledger.MaxNameLen) }},
		{name: "application name too long", base: "application", mutate: func(b *caissev1.EntryBody) { app(b).Name = strings.Repeat("n", ledger.MaxNameLen+1) }, want: ledger.ErrTooLarge},
		{name: "application name with an escape", base: "application", mutate: func(b *caissev1.EntryBody) { app(b).Name = "a\x1b" }, want: ledger.ErrMalformed},
		{name: "application note too long", base: "application", mutate: func(b *caissev1.EntryBody) { app(b).Note = strings.Repeat("x", ledger.MaxNoteLen+1) }, want: ledger.ErrTooLarge},
		{name: "empty application", base: "application", mutate: func(b *caissev1.EntryBody) { b.Kind = &caissev1.EntryBody_Application{} }, want: ledger.ErrMalformed},

		// Proposals.
		{name: "valid admission", base: "admit", mutate: func(b *caissev1.EntryBody) {}},
		{name: "valid exclusion", base: "exclude", mutate: func(b *caissev1.EntryBody) {}},
		{name: "proposal to exclude its author", base: "exclude", mutate: func(b *caissev1.EntryBody) { prop(b).GetExclude().Member = a }},
		{name: "proposal without a note", base: "admit", mutate: func(b *caissev1.EntryBody) { prop(b).Note = "" }},
		{name: "proposal without an action", base: "admit", mutate: func(b *caissev1.EntryBody) { prop(b).Action = nil }, want: ledger.ErrMalformed},
		{name: "admission without a key", base: "admit", mutate: func(b *caissev1.EntryBody) { prop(b).GetAdmit().Applicant = nil }, want: ledger.ErrMalformed},
		{name: "admission key of 31 bytes", base: "admit", mutate: func(b *caissev1.EntryBody) { prop(b).GetAdmit().Applicant = pub(otherKey)[:31] }, want: ledger.ErrMalformed},
		{name: "exclusion key of 33 bytes", base: "exclude", mutate: func(b *caissev1.EntryBody) {
			prop(b).GetExclude().Member = append(pub(nantesKey), 0)
		}, want: ledger.ErrMalformed},
		{name: "proposal note too long", base: "exclude", mutate: func(b *caissev1.EntryBody) { prop(b).Note = strings.Repeat("x", ledger.MaxNoteLen+1) }, want: ledger.ErrTooLarge},
		{name: "proposal note with a control character", base: "admit", mutate: func(b *caissev1.EntryBody) { prop(b).Note = "\x00" }, want: ledger.ErrMalformed},
		{name: "empty proposal", base: "admit", mutate: func(b *caissev1.EntryBody) { b.Kind = &caissev1.EntryBody_Proposal{} }, want: ledger.ErrMalformed},
		{name: "proposal at seq 1", base: "admit", mutate: func(b *caissev1.EntryBody) { b.Seq, b.Prev = 1, nil }},

		// Votes.
		{name: "valid vote yes", base: "vote", mutate: func(b *caissev1.EntryBody) {}},
		{name: "valid vote no", base: "vote", mutate: func(b *caissev1.EntryBody) { vote(b).Choice = caissev1.Choice_CHOICE_NO }},
		{name: "valid abstention", base: "vote", mutate: func(b *caissev1.EntryBody) { vote(b).Choice = caissev1.Choice_CHOICE_ABSTAIN }},
		{name: "vote without a choice", base: "vote", mutate: func(b *caissev1.EntryBody) { vote(b).Choice = caissev1.Choice_CHOICE_UNSPECIFIED }, want: ledger.ErrMalformed},
		{name: "vote with an unknown choice", base: "vote", mutate: func(b *caissev1.EntryBody) { vote(b).Choice = 4 }, want: ledger.ErrMalformed},
		{name: "vote with a negative choice", base: "vote", mutate: func(b *caissev1.EntryBody) { vote(b).Choice = -1 }, want: ledger.ErrMalformed},
		{name: "vote without a proposal", base: "vote", mutate: func(b *caissev1.EntryBody) { vote(b).Proposal = nil }, want: ledger.ErrMalformed},
		{name: "vote on a hash of 31 bytes", base: "vote", mutate: func(b *caissev1.EntryBody) { vote(b).Proposal = target[:31] }, want: ledger.ErrMalformed},
		{name: "vote without a federation id", base: "vote", mutate: func(b *caissev1.EntryBody) { b.Federation = nil }, want: ledger.ErrMalformed},

		// Genesis.
		{name: "lower-case currency code", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency.Code = "eur" }, want: ledger.ErrMalformed},
		{name: "two-letter currency code", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency.Code = "EU" }, want: ledger.ErrMalformed},
		{name: "four-letter currency code", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency.Code = "EURO" }, want: ledger.ErrMalformed},
		{name: "currency code with a digit", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency.Code = "E1R" }, want: ledger.ErrMalformed},
		{name: "currency code of three bytes, two letters", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency.Code = "ÉU" }, want: ledger.ErrMalformed},
		{name: "no currency", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency = nil }, want: ledger.ErrMalformed},
		{name: "exponent 0", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency = &caissev1.Currency{Code: "JPY"} }},
		{name: "exponent 8", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency.Exponent = ledger.MaxExponent }},
		{name: "exponent 9", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Currency.Exponent = ledger.MaxExponent + 1 }, want: ledger.ErrMalformed},
		{name: "period length unspecified", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).PeriodLength = 0 }, want: ledger.ErrMalformed},
		{name: "period length unknown", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).PeriodLength = 2 }, want: ledger.ErrMalformed},
		{name: "no federation name", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Name = "" }, want: ledger.ErrMalformed},
		{name: "federation name too long", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Name = strings.Repeat("n", ledger.MaxNameLen+1) }, want: ledger.ErrTooLarge},
		{name: "no founder name", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).FounderName = "" }, want: ledger.ErrMalformed},
		{name: "founder name with control character", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).FounderName = "a\x01" }, want: ledger.ErrMalformed},
		{name: "duplicate co-founder", base: "genesis", mutate: func(b *caissev1.EntryBody) {
			gen(b).Members = append(gen(b).Members, &caissev1.Member{Key: pub(nantesKey), Name: "Caisse de Nantes bis"})
		}, want: ledger.ErrMalformed},
		{name: "co-founder is the author", base: "genesis", mutate: func(b *caissev1.EntryBody) {
			gen(b).Members = append(gen(b).Members, &caissev1.Member{Key: a, Name: "Caisse de Lyon"})
		}, want: ledger.ErrMalformed},
		{name: "co-founder key of 31 bytes", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Members[0].Key = pub(nantesKey)[:31] }, want: ledger.ErrMalformed},
		{name: "co-founder without a name", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Members[1].Name = "" }, want: ledger.ErrMalformed},
		{name: "too many co-founders", base: "genesis", mutate: func(b *caissev1.EntryBody) {
			for i := range ledger.MaxMembers {
				gen(b).Members = append(gen(b).Members, &caissev1.Member{Key: bytesOf(byte(i), 32), Name: "x"})
			}
		}, want: ledger.ErrTooLarge},
		{name: "nonce of MaxNonceLen bytes", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Nonce = bytesOf(1, ledger.MaxNonceLen) }},
		{name: "nonce too long", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Nonce = bytesOf(1, ledger.MaxNonceLen+1) }, want: ledger.ErrTooLarge},
		{name: "no rules", base: "genesis", mutate: func(b *caissev1.EntryBody) { gen(b).Rules = nil }, want: ledger.ErrMalformed},
		{name: "no weights", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).Weights = nil }, want: ledger.ErrMalformed},
		{name: "weights sum to 9999", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).Weights.EqualBp-- }, want: ledger.ErrMalformed},
		{name: "weights sum to 10001", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).Weights.EqualBp++ }, want: ledger.ErrMalformed},
		{name: "weights wrap around uint32", base: "genesis", mutate: func(b *caissev1.EntryBody) {
			rules(b).Weights = &caissev1.KeyWeights{NeedBp: 1 << 31, MembersBp: 1 << 31, EqualBp: ledger.BasisPoints}
		}, want: ledger.ErrMalformed},
		{name: "all weight on one key", base: "genesis", mutate: func(b *caissev1.EntryBody) {
			rules(b).Weights = &caissev1.KeyWeights{EqualBp: ledger.BasisPoints}
		}},
		{name: "levy 10000", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).LevyBp = ledger.BasisPoints }},
		{name: "levy over 10000", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).LevyBp = ledger.BasisPoints + 1 }, want: ledger.ErrMalformed},
		{name: "reserve over 10000", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).ReserveBp = ledger.BasisPoints + 1 }, want: ledger.ErrMalformed},
		{name: "quorum over 10000", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).QuorumBp = ledger.BasisPoints + 1 }, want: ledger.ErrMalformed},
		{name: "majority over 10000", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).MajorityBp = ledger.BasisPoints + 1 }, want: ledger.ErrMalformed},
		{name: "majority 0", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).MajorityBp = 0 }, want: ledger.ErrMalformed},
		{name: "duplicate rate unit", base: "genesis", mutate: func(b *caissev1.EntryBody) {
			rules(b).Rates = append(rules(b).Rates, &caissev1.Rate{Unit: "strike-day", Amount: 9000})
		}, want: ledger.ErrMalformed},
		{name: "rate 0", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).Rates[0].Amount = 0 }},
		{name: "negative rate", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).Rates[0].Amount = -1 }, want: ledger.ErrInvalidAmount},
		{name: "rate over MaxAmount", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).Rates[1].Amount = int64(ledger.MaxAmount) + 1 }, want: ledger.ErrInvalidAmount},
		{name: "rate without unit", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).Rates[0].Unit = "" }, want: ledger.ErrMalformed},
		{name: "too many rates", base: "genesis", mutate: func(b *caissev1.EntryBody) {
			for i := range ledger.MaxRates {
				rules(b).Rates = append(rules(b).Rates, &caissev1.Rate{Unit: strings.Repeat("u", i+1), Amount: 1})
			}
		}, want: ledger.ErrTooLarge},
		{name: "reserve without holder", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).ReserveHolder = nil }, want: ledger.ErrMalformed},
		{name: "no reserve, no holder", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).ReserveBp, rules(b).ReserveHolder = 0, nil }},
		{name: "reserve held by a co-founder", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).ReserveHolder = pub(lilleKey) }},
		{name: "reserve holder not a member", base: "genesis", mutate: func(b *caissev1.EntryBody) { rules(b).ReserveHolder = pub(otherKey) }, want: ledger.ErrMalformed},
		{name: "holder not a member without reserve", base: "genesis", mutate: func(b *caissev1.EntryBody) {
			rules(b).ReserveBp, rules(b).ReserveHolder = 0, pub(otherKey)
		}, want: ledger.ErrMalformed},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		if seen[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			body := bases[tc.base]()
			tc.mutate(body)

			wantSign := tc.want
			if tc.wantSign != nil {
				wantSign = tc.wantSign
			}
			e, err := ledger.Sign(founderKey, body)
			wantErr(t, err, wantSign)
			if err != nil {
				if !e.IsZero() {
					t.Error("Sign returned an entry with its error")
				}
				if !strings.HasPrefix(err.Error(), "ledger: sign") {
					t.Errorf("error %q does not name the operation", err)
				}
			} else if diff := cmp.Diff(body, e.Body(), protocmp.Transform()); diff != "" {
				t.Errorf("signed body (-want +got):\n%s", diff)
			}

			if tc.signOnly {
				return
			}
			got, err := ledger.Decode(signBytes(t, founderKey, mustMarshal(t, body)))
			wantErr(t, err, tc.want)
			if err == nil {
				if diff := cmp.Diff(body, got.Body(), protocmp.Transform()); diff != "" {
					t.Errorf("decoded body (-want +got):\n%s", diff)
				}
			} else if !strings.HasPrefix(err.Error(), "ledger: decode") {
				t.Errorf("error %q does not name the operation", err)
			}
		})
	}
}

// TestDecodeInvalidUTF8: a peer can put any bytes in a string field, even
// though proto refuses to encode them: Decode refuses them as malformed.
func TestDecodeInvalidUTF8(t *testing.T) {
	const placeholder = "NOTE-PLACEHOLDER"
	b := contributionBody(pub(founderKey), ledger.Hash{1}, 2, ledger.Hash{2})
	b.GetContribution().Note = placeholder
	raw := mustMarshal(t, b)
	bad := bytes.Replace(raw, []byte(placeholder), []byte("NOTE-PLACEHOLDE\xff"), 1)
	if bytes.Equal(raw, bad) {
		t.Fatal("placeholder not found in the body bytes")
	}
	_, err := ledger.Decode(signBytes(t, founderKey, bad))
	if !errors.Is(err, ledger.ErrMalformed) {
		t.Errorf("Decode of a note that is not UTF-8: %v, want ErrMalformed", err)
	}
}

// TestCheckRules calls CheckRules directly, as the federation does for a
// proposed rule change.
func TestCheckRules(t *testing.T) {
	member := pub(nantesKey)
	isMember := func(k []byte) bool { return bytes.Equal(k, member) }
	valid := func() *caissev1.Rules {
		return &caissev1.Rules{
			LevyBp:        500,
			Weights:       &caissev1.KeyWeights{NeedBp: 10000},
			Rates:         []*caissev1.Rate{{Unit: "strike-day", Amount: 8000}},
			ReserveBp:     100,
			ReserveHolder: member,
			QuorumBp:      3000,
			MajorityBp:    5001,
		}
	}
	tests := []struct {
		name   string
		mutate func(r *caissev1.Rules)
		want   error
	}{
		{name: "valid", mutate: func(r *caissev1.Rules) {}},
		{name: "holder is not a member", mutate: func(r *caissev1.Rules) { r.ReserveHolder = pub(lilleKey) }, want: ledger.ErrMalformed},
		{name: "rate unit too long", mutate: func(r *caissev1.Rules) { r.Rates[0].Unit = strings.Repeat("u", 65) }, want: ledger.ErrTooLarge},
		{name: "negative rate", mutate: func(r *caissev1.Rules) { r.Rates[0].Amount = -5 }, want: ledger.ErrInvalidAmount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := valid()
			tc.mutate(r)
			wantErr(t, ledger.CheckRules(r, isMember), tc.want)
		})
	}
	if err := ledger.CheckRules(nil, isMember); !errors.Is(err, ledger.ErrMalformed) {
		t.Errorf("CheckRules(nil): %v, want ErrMalformed", err)
	}
}

func applicationBody(author []byte, fed ledger.Hash) *caissev1.EntryBody {
	return &caissev1.EntryBody{
		Federation: fed[:],
		Author:     author,
		Seq:        1,
		Time:       &caissev1.HLC{WallMs: wallContribution},
		Kind: &caissev1.EntryBody_Application{Application: &caissev1.Application{
			Name: "Caisse de Rennes",
			Note: "caisse de grève des cheminots de Rennes",
		}},
	}
}

// admitBody proposes to admit applicant; nil for an action to set.
func admitBody(author []byte, fed ledger.Hash, seq ledger.Seq, prev ledger.Hash, applicant []byte) *caissev1.EntryBody {
	return &caissev1.EntryBody{
		Federation: fed[:],
		Author:     author,
		Seq:        uint64(seq),
		Prev:       prevBytes(seq, prev),
		Time:       &caissev1.HLC{WallMs: wallContribution},
		Kind: &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{
			Action: &caissev1.Proposal_Admit{Admit: &caissev1.Admit{Applicant: applicant}},
			Note:   "admettre la caisse de Rennes",
		}},
	}
}

func voteBody(author []byte, fed ledger.Hash, seq ledger.Seq, prev ledger.Hash, proposal ledger.Hash) *caissev1.EntryBody {
	return &caissev1.EntryBody{
		Federation: fed[:],
		Author:     author,
		Seq:        uint64(seq),
		Prev:       prevBytes(seq, prev),
		Time:       &caissev1.HLC{WallMs: wallContribution},
		Kind: &caissev1.EntryBody_Vote{Vote: &caissev1.Vote{
			Proposal: proposal[:],
			Choice:   caissev1.Choice_CHOICE_YES,
		}},
	}
}

// TestKindNames names the kinds as the federation's views and errors do.
func TestKindNames(t *testing.T) {
	fed, prev := ledger.HashBody([]byte("federation")), ledger.HashBody([]byte("prev"))
	a := pub(founderKey)
	for want, b := range map[string]*caissev1.EntryBody{
		"application": applicationBody(a, fed),
		"proposal":    admitBody(a, fed, 2, prev, pub(otherKey)),
		"vote":        voteBody(a, fed, 2, prev, prev),
		"none":        {},
	} {
		if got := ledger.KindName(b); got != want {
			t.Errorf("KindName = %q, want %q", got, want)
		}
	}
}
