package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// entryJSON is an entry as --json prints it.
type entryJSON struct {
	Author      string `json:"author"`
	Seq         uint64 `json:"seq"`
	Hash        string `json:"hash"`
	Prev        string `json:"prev,omitempty"`
	Time        string `json:"time"`
	Kind        string `json:"kind"`
	Amount      int64  `json:"amount,omitempty"`
	AmountText  string `json:"amount_text,omitempty"`
	Period      string `json:"period,omitempty"`
	Category    string `json:"category,omitempty"`
	Member      string `json:"member,omitempty"`
	MemberName  string `json:"member_name,omitempty"`
	Note        string `json:"note,omitempty"`
	TargetSeq   uint64 `json:"target_seq,omitempty"`
	Reason      string `json:"reason,omitempty"`
	CorrectedBy uint64 `json:"corrected_by,omitempty"`
	Size        uint32 `json:"size"`
}

func toEntryJSON(v *rpcv1.EntryView, cur *rpcv1.Currency) entryJSON {
	e := entryJSON{
		Author: v.GetAuthor(), Seq: v.GetSeq(), Hash: v.GetHash(), Prev: v.GetPrev(),
		Time: msTime(v.GetTimeMs()), Kind: v.GetKind(), Amount: v.GetAmount(),
		Period: v.GetPeriod(), Category: v.GetCategory(), Member: v.GetMember(), MemberName: v.GetMemberName(),
		Note: v.GetNote(), TargetSeq: v.GetTargetSeq(), Reason: v.GetReason(), CorrectedBy: v.GetCorrectedBy(),
		Size: v.GetSize(),
	}
	if e.Amount != 0 {
		e.AmountText = money(e.Amount, cur)
	}
	return e
}

// describe is one line for people.
func describe(v *rpcv1.EntryView, cur *rpcv1.Currency) string {
	who := v.GetMemberName()
	if who == "" && v.GetMember() != "" {
		who = "member " + v.GetMember()[:8]
	}
	switch v.GetKind() {
	case "contribution":
		return fmt.Sprintf("%s %s in, %s, %s, from %s", money(v.GetAmount(), cur), cur.GetCode(), v.GetCategory(), v.GetPeriod(), who)
	case "disbursement":
		return fmt.Sprintf("%s %s out, %s, %s, to %s", money(v.GetAmount(), cur), cur.GetCode(), v.GetCategory(), v.GetPeriod(), who)
	case "correction":
		return fmt.Sprintf("reverses #%d: %s", v.GetTargetSeq(), v.GetReason())
	case "genesis":
		return fmt.Sprintf("charter of %q", v.GetNote())
	case "application":
		return fmt.Sprintf("application to join as %q", v.GetNote())
	case "proposal":
		return fmt.Sprintf("proposal: %s", v.GetReason())
	case "period_close":
		return fmt.Sprintf("close of %s", v.GetPeriod())
	case "vote":
		return fmt.Sprintf("vote %s on %s", v.GetCategory(), v.GetReason())
	}
	return v.GetKind()
}

func printEntries(w io.Writer, views []*rpcv1.EntryView, cur *rpcv1.Currency) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tKIND\tWHAT\tNOTE")
	for _, v := range views {
		note := v.GetNote()
		if v.GetKind() == "genesis" {
			note = ""
		}
		if v.GetCorrectedBy() != 0 {
			note = strings.TrimSpace(fmt.Sprintf("%s [reversed by #%d]", note, v.GetCorrectedBy()))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", v.GetSeq(), msTime(v.GetTimeMs())[:19], v.GetKind(), describe(v, cur), note)
	}
	tw.Flush()
}
