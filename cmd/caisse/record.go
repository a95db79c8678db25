package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// movementFlags are what contribute and disburse share.
type movementFlags struct {
	name, pseudonym, email, amount, period, category, note string
}

func (m *movementFlags) register(fs *flag.FlagSet, who string) {
	fs.StringVar(&m.name, who, "", "the person's name: it stays on this node, only a pseudonym is recorded")
	fs.StringVar(&m.pseudonym, "pseudonym", "", "the person's pseudonym (32 hex digits), instead of a name")
	fs.StringVar(&m.email, "email", "", "the person's e-mail, kept in this node's register only")
	fs.StringVar(&m.amount, "amount", "", `amount in major units, as "12.50"`)
	fs.StringVar(&m.period, "period", "", `accounting period "YYYY-MM"`)
	fs.StringVar(&m.note, "note", "", "a note, visible to the whole federation: no names")
}

func (m *movementFlags) ref() *rpcv1.MemberRef {
	r := &rpcv1.MemberRef{Email: m.email}
	if m.pseudonym != "" {
		r.Ref = &rpcv1.MemberRef_Pseudonym{Pseudonym: m.pseudonym}
	} else {
		r.Ref = &rpcv1.MemberRef_Name{Name: m.name}
	}
	return r
}

func (m *movementFlags) check(who string) error {
	switch {
	case m.name == "" && m.pseudonym == "":
		return fmt.Errorf("give --%s or --pseudonym", who)
	case m.name != "" && m.pseudonym != "":
		return fmt.Errorf("give --%s or --pseudonym, not both", who)
	case m.amount == "":
		return fmt.Errorf(`give --amount, as "12.50"`)
	case m.period == "":
		return fmt.Errorf(`give --period, as "2026-11"`)
	case m.category == "":
		return fmt.Errorf("give --category")
	}
	return nil
}

// printRecorded shows an entry the node has just stored durably.
func printRecorded(ctx context.Context, g *globals, resp *rpcv1.RecordResponse) error {
	cur, err := g.currency(ctx)
	if err != nil {
		return err
	}
	if g.json {
		return g.printJSON(toEntryJSON(resp.GetEntry(), cur))
	}
	fmt.Fprintf(g.stdout, "recorded #%d: %s\n", resp.GetEntry().GetSeq(), describe(resp.GetEntry(), cur))
	return nil
}

// movementSpec describes contribute or disburse.
type movementSpec struct {
	name, who, category             string
	categories                      []string
	shortUsage, shortHelp, longHelp string
	send                            func(context.Context, *movementFlags) (*rpcv1.RecordResponse, error)
}

func movementCmd(g *globals, s movementSpec) *ffcli.Command {
	fs := flag.NewFlagSet("caisse "+s.name, flag.ContinueOnError)
	var m movementFlags
	m.register(fs, s.who)
	fs.StringVar(&m.category, "category", s.category, "one of "+strings.Join(s.categories, ", "))
	return &ffcli.Command{
		Name:       s.name,
		ShortUsage: s.shortUsage,
		ShortHelp:  s.shortHelp,
		LongHelp:   s.longHelp,
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if err := m.check(s.who); err != nil {
				return err
			}
			resp, err := s.send(ctx, &m)
			if err != nil {
				return err
			}
			return printRecorded(ctx, g, resp)
		},
	}
}
