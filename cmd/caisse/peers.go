package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

type peerJSON struct {
	ID         string `json:"id"`
	Key        string `json:"key"`
	Name       string `json:"name"`
	SyncAddr   string `json:"sync_addr"`
	GossipAddr string `json:"gossip_addr"`
	State      string `json:"state"`
	LastSeen   string `json:"last_seen,omitempty"`
	Entries    uint64 `json:"entries"`
	Lag        uint64 `json:"lag"`
	Behind     uint64 `json:"behind"`
	LastSync   string `json:"last_sync,omitempty"`
}

func unixTime(s int64) string {
	if s == 0 {
		return ""
	}
	return time.Unix(s, 0).UTC().Format(time.RFC3339)
}

func ago(s int64) string {
	if s == 0 {
		return "never"
	}
	return time.Since(time.Unix(s, 0)).Round(time.Second).String() + " ago"
}

func peersCmd(g *globals) *ffcli.Command {
	return &ffcli.Command{
		Name:       "peers",
		ShortUsage: "caisse peers [--json]",
		ShortHelp:  "the nodes this node knows: state, frontier, lag",
		LongHelp: "state comes from membership gossip (alive, suspect, dead, left); entries is\n" +
			"what the peer holds as last learned; lag is what it lacks that this node has,\n" +
			"behind what this node lacks that it has.",
		FlagSet: flag.NewFlagSet("caisse peers", flag.ContinueOnError),
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Peers, &rpcv1.PeersRequest{})
			if err != nil {
				return err
			}
			if g.json {
				out := []peerJSON{}
				for _, p := range resp.GetPeers() {
					out = append(out, peerJSON{p.GetId(), p.GetKey(), p.GetName(), p.GetSyncAddr(), p.GetGossipAddr(), p.GetState(),
						unixTime(p.GetLastSeenUnix()), p.GetEntries(), p.GetLag(), p.GetBehind(), unixTime(p.GetLastSyncUnix())})
				}
				return g.printJSON(struct {
					Peers []peerJSON `json:"peers"`
				}{out})
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tADDRESS\tSTATE\tLAST SEEN\tENTRIES\tLAG\tBEHIND\tLAST SYNC")
			for _, p := range resp.GetPeers() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", p.GetId(), p.GetName(), p.GetSyncAddr(), p.GetState(),
					ago(p.GetLastSeenUnix()), p.GetEntries(), p.GetLag(), p.GetBehind(), ago(p.GetLastSyncUnix()))
			}
			return tw.Flush()
		},
	}
}
