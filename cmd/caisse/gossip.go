package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

type headJSON struct {
	Author string `json:"author"`
	Seq    uint64 `json:"seq"`
	Hash   string `json:"hash"`
}

func headsJSON(hs []*rpcv1.HeadView) []headJSON {
	out := []headJSON{}
	for _, h := range hs {
		out = append(out, headJSON{h.GetAuthor(), h.GetSeq(), h.GetHash()})
	}
	return out
}

func gossipCmd(g *globals) *ffcli.Command {
	return &ffcli.Command{
		Name:       "gossip",
		ShortUsage: "caisse gossip [--json]",
		ShortHelp:  "replication state: frontier vectors, gaps, forks, queues",
		FlagSet:    flag.NewFlagSet("caisse gossip", flag.ContinueOnError),
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			r, err := call(ctx, g, rpcv1.OperatorClient.Gossip, &rpcv1.GossipRequest{})
			if err != nil {
				return err
			}
			if g.json {
				type peer struct {
					Peer     string     `json:"peer"`
					Vector   []headJSON `json:"vector"`
					LastSync string     `json:"last_sync,omitempty"`
				}
				type gap struct {
					Author   string `json:"author"`
					Have     uint64 `json:"have"`
					From     uint64 `json:"from"`
					To       uint64 `json:"to"`
					Buffered uint32 `json:"buffered"`
				}
				type queue struct {
					Name     string `json:"name"`
					Depth    uint64 `json:"depth"`
					Capacity uint64 `json:"capacity"`
					Dropped  uint64 `json:"dropped"`
				}
				out := struct {
					Vector     []headJSON `json:"vector"`
					Peers      []peer     `json:"peers"`
					Gaps       []gap      `json:"gaps"`
					Forks      []forkJSON `json:"forks"`
					Queues     []queue    `json:"queues"`
					BehindSelf bool       `json:"behind_self"`
				}{headsJSON(r.GetVector()), []peer{}, []gap{}, []forkJSON{}, []queue{}, r.GetBehindSelf()}
				for _, p := range r.GetPeers() {
					out.Peers = append(out.Peers, peer{p.GetPeer(), headsJSON(p.GetVector()), unixTime(p.GetLastSyncUnix())})
				}
				for _, x := range r.GetGaps() {
					out.Gaps = append(out.Gaps, gap{x.GetAuthor(), x.GetHave(), x.GetFrom(), x.GetTo(), x.GetBuffered()})
				}
				for _, f := range r.GetForks() {
					out.Forks = append(out.Forks, forkJSON{f.GetAuthor(), f.GetSeq(), f.GetFirst(), f.GetSecond()})
				}
				for _, q := range r.GetQueues() {
					out.Queues = append(out.Queues, queue{q.GetName(), q.GetDepth(), q.GetCapacity(), q.GetDropped()})
				}
				return g.printJSON(out)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "LOCAL FRONTIER\tSEQ\tHEAD")
			for _, h := range r.GetVector() {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", h.GetAuthor()[:16], h.GetSeq(), h.GetHash()[:12])
			}
			tw.Flush()
			for _, p := range r.GetPeers() {
				fmt.Fprintf(g.stdout, "\npeer %s (last sync %s)\n", p.GetPeer(), ago(p.GetLastSyncUnix()))
				for _, h := range p.GetVector() {
					fmt.Fprintf(tw, "  %s\t%d\t%s\n", h.GetAuthor()[:16], h.GetSeq(), h.GetHash()[:12])
				}
				tw.Flush()
			}
			if len(r.GetGaps()) > 0 {
				fmt.Fprintln(g.stdout, "\nGAPS (entries waiting for earlier ones)")
				for _, x := range r.GetGaps() {
					fmt.Fprintf(tw, "  %s\thave %d\tbuffered %d..%d (%d)\n", x.GetAuthor()[:16], x.GetHave(), x.GetFrom(), x.GetTo(), x.GetBuffered())
				}
				tw.Flush()
			}
			for _, f := range r.GetForks() {
				fmt.Fprintf(g.stdout, "\nFORK: %s signed two entries at seq %d\n", f.GetAuthor(), f.GetSeq())
			}
			fmt.Fprintln(g.stdout, "\nQUEUES")
			for _, q := range r.GetQueues() {
				fmt.Fprintf(tw, "  %s\t%d/%d\tdropped %d\n", q.GetName(), q.GetDepth(), q.GetCapacity(), q.GetDropped())
			}
			tw.Flush()
			if r.GetBehindSelf() {
				fmt.Fprintln(g.stdout, "\nBEHIND ON ITS OWN LOG: peers hold later entries of this node (restored backup?); appends are refused until caught up")
			}
			return nil
		},
	}
}
