package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// printProto prints a response as JSON with the protobuf JSON mapping:
// field names as in the .proto files, every field present.
func (g *globals) printProto(m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(g.stdout, "%s\n", b)
	return err
}

func rulesCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse rules", flag.ContinueOnError)
	period := fs.String("period", "", "the period whose rules to show, YYYY-MM (default: the current one)")
	return &ffcli.Command{
		Name:       "rules",
		ShortUsage: "caisse rules [--period YYYY-MM] [--json]",
		ShortHelp:  "the federal rules in force, and every rule set since the charter",
		LongHelp: "The charter's rules are version 1; each rule change adopted by vote is the\n" +
			"next version, in force from the period it states (or from the period after its\n" +
			"decision, if that is later). Rates in --json are integers in minor units.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			r, err := call(ctx, g, rpcv1.OperatorClient.Rules, &rpcv1.RulesRequest{Period: *period})
			if err != nil {
				return err
			}
			if g.json {
				return g.printProto(r)
			}
			fmt.Fprintf(g.stdout, "rules in force for %s: version %d\n", r.GetPeriod(), r.GetInForce().GetVersion())
			printRules(g, r.GetInForce().GetRules(), r.GetCurrency(), "  ")
			fmt.Fprintln(g.stdout, "\nhistory:")
			for _, rs := range r.GetHistory() {
				if rs.GetVersion() == 1 {
					fmt.Fprintln(g.stdout, "  version 1: the charter's")
					continue
				}
				fmt.Fprintf(g.stdout, "  version %d: from %s, adopted %s by proposal %s\n", rs.GetVersion(), rs.GetEffective(),
					rs.GetAdopted(), short(rs.GetAdoptedBy()))
			}
			return nil
		},
	}
}

func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

func bp(v uint32) string { return fmt.Sprintf("%d.%02d%%", v/100, v%100) }

func printRules(g *globals, r *rpcv1.Rules, cur *rpcv1.Currency, indent string) {
	fmt.Fprintf(g.stdout, "%slevy %s of net contributions; reserve %s", indent, bp(r.GetLevyBp()), bp(r.GetReserveBp()))
	if r.GetReserveHolder() != "" {
		fmt.Fprintf(g.stdout, " held by %s", short(r.GetReserveHolder()))
	}
	fmt.Fprintf(g.stdout, "\n%skeys: need %s, members %s, equal %s\n", indent, bp(r.GetNeedBp()), bp(r.GetMembersBp()), bp(r.GetEqualBp()))
	for _, unit := range slices.Sorted(maps.Keys(r.GetRates())) {
		fmt.Fprintf(g.stdout, "%srate: one %s = %s %s\n", indent, unit, money(r.GetRates()[unit], cur), cur.GetCode())
	}
	fmt.Fprintf(g.stdout, "%sproposals: quorum %s, majority %s (by caisses and by members represented)\n", indent,
		bp(r.GetQuorumBp()), bp(r.GetMajorityBp()))
}

// proposeRulesCmd proposes a new rule set: the rules in force now, with
// what the flags change.
func proposeRulesCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse propose rules", flag.ContinueOnError)
	effective := fs.String("effective", "", "first period the rules apply to, YYYY-MM (after the current one)")
	deadline := fs.String("deadline", "", "period whose close ends a member's vote, YYYY-MM (optional)")
	note := fs.String("note", "", "why, public")
	vote := fs.String("vote", "yes", "this node's own vote: yes, no, abstain, or none")
	levy := fs.Uint("levy-bp", 0, "share of net contributions owed to the pool, basis points")
	need := fs.Uint("need-bp", 0, "weight of the need key, basis points")
	members := fs.Uint("members-bp", 0, "weight of the members key, basis points")
	equal := fs.Uint("equal-bp", 0, "weight of the equal key, basis points")
	reserve := fs.Uint("reserve-bp", 0, "share of the pool kept as a reserve, basis points")
	holder := fs.String("reserve-holder", "", "node id of the member holding the reserve")
	quorum := fs.Uint("quorum-bp", 0, "quorum of proposals, basis points")
	majority := fs.Uint("majority-bp", 0, "majority of proposals, basis points")
	var rates, drop stringList
	fs.Var(&rates, "rate", "UNIT=AMOUNT, the value of one unit of need, such as strike_day=60.00 (repeat)")
	fs.Var(&drop, "drop-rate", "UNIT no longer rated (repeat)")
	return &ffcli.Command{
		Name:       "rules",
		ShortUsage: "caisse propose rules --effective YYYY-MM [--levy-bp N] [--rate UNIT=AMOUNT]... [flags]",
		ShortHelp:  "propose new federal rules: those in force, with what the flags change",
		LongHelp: "Basis points: 10000 is 100%. The key weights must sum to 10000. The proposal\n" +
			"is adopted when the votes reach quorum and majority counted by caisses and by\n" +
			"members represented.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *effective == "" {
				return fmt.Errorf("give the first period the rules apply to: --effective YYYY-MM")
			}
			cur, err := call(ctx, g, rpcv1.OperatorClient.Rules, &rpcv1.RulesRequest{})
			if err != nil {
				return err
			}
			r := proto.Clone(cur.GetInForce().GetRules()).(*rpcv1.Rules)
			if r.Rates == nil {
				r.Rates = map[string]int64{}
			}
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			for name, dst := range map[string]*uint32{"levy-bp": &r.LevyBp, "need-bp": &r.NeedBp, "members-bp": &r.MembersBp,
				"equal-bp": &r.EqualBp, "reserve-bp": &r.ReserveBp, "quorum-bp": &r.QuorumBp, "majority-bp": &r.MajorityBp} {
				v := map[string]*uint{"levy-bp": levy, "need-bp": need, "members-bp": members, "equal-bp": equal,
					"reserve-bp": reserve, "quorum-bp": quorum, "majority-bp": majority}[name]
				if set[name] {
					if *v > ledger.BasisPoints {
						return fmt.Errorf("--%s %d: at most %d", name, *v, ledger.BasisPoints)
					}
					*dst = uint32(*v)
				}
			}
			if set["reserve-holder"] {
				r.ReserveHolder = *holder
			}
			for _, u := range drop {
				if _, ok := r.Rates[u]; !ok {
					return fmt.Errorf("--drop-rate %s: no such rate in force", u)
				}
				delete(r.Rates, u)
			}
			for _, kv := range rates {
				unit, amount, ok := strings.Cut(kv, "=")
				if !ok || unit == "" {
					return fmt.Errorf("--rate %q: want UNIT=AMOUNT, such as strike_day=60.00", kv)
				}
				a, err := ledger.ParseAmount(amount, cur.GetCurrency().GetExponent())
				if err != nil {
					return fmt.Errorf("--rate %s: %w", unit, err)
				}
				r.Rates[unit] = int64(a)
			}
			v := *vote
			if v == "none" {
				v = ""
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Propose, &rpcv1.ProposeRequest{Action: "rules", Rules: r,
				Effective: *effective, Deadline: *deadline, Note: *note, Vote: v})
			if err != nil {
				return err
			}
			return printProposed(g, resp)
		},
	}
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func printProposed(g *globals, resp *rpcv1.RecordResponse) error {
	if g.json {
		return g.printJSON(struct {
			Proposal string `json:"proposal"`
			Seq      uint64 `json:"seq"`
		}{resp.GetEntry().GetHash(), resp.GetEntry().GetSeq()})
	}
	fmt.Fprintf(g.stdout, "proposal %s recorded (#%d); others vote with: caisse vote %s yes\n",
		resp.GetEntry().GetHash()[:12], resp.GetEntry().GetSeq(), resp.GetEntry().GetHash()[:12])
	return nil
}
