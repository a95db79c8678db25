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

// statusJSON is what status --json prints.
type statusJSON struct {
	NodeID         string        `json:"node_id"`
	NodeKey        string        `json:"node_key"`
	Name           string        `json:"name"`
	Founded        bool          `json:"founded"`
	Member         bool          `json:"member"`
	FederationID   string        `json:"federation_id,omitempty"`
	FederationName string        `json:"federation_name,omitempty"`
	Currency       string        `json:"currency,omitempty"`
	Exponent       uint32        `json:"exponent"`
	Seq            uint64        `json:"seq"`
	Entries        uint64        `json:"entries"`
	Members        uint32        `json:"members"`
	StateHash      string        `json:"state_hash"`
	DataDir        string        `json:"data_dir"`
	Version        string        `json:"version"`
	Started        string        `json:"started"`
	Rules          *rpcv1.Rules  `json:"rules,omitempty"`
	SyncAddr       string        `json:"sync_addr,omitempty"`
	GossipAddr     string        `json:"gossip_addr,omitempty"`
	Peers          uint32        `json:"peers"`
	CatchingUp     []catchUpJSON `json:"catching_up"`
}

type catchUpJSON struct {
	Peer        string `json:"peer"`
	EntriesLeft uint64 `json:"entries_left"`
	BytesLeft   uint64 `json:"bytes_left"`
	Percent     uint32 `json:"percent"`
	ETASeconds  uint32 `json:"eta_seconds,omitempty"`
}

func statusCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse status", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "status",
		ShortUsage: "caisse status [--json]",
		ShortHelp:  "describe the node, its federation and its log",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			st, err := call(ctx, g, rpcv1.OperatorClient.Status, &rpcv1.StatusRequest{})
			if err != nil {
				return err
			}
			started := time.Unix(st.GetStartedUnix(), 0).UTC().Format(time.RFC3339)
			catching := []catchUpJSON{}
			for _, c := range st.GetCatchingUp() {
				catching = append(catching, catchUpJSON{c.GetPeer(), c.GetEntriesLeft(), c.GetBytesLeft(), c.GetPercent(), c.GetEtaSeconds()})
			}
			if g.json {
				return g.printJSON(statusJSON{
					NodeID: st.GetNodeId(), NodeKey: st.GetNodeKey(), Name: st.GetName(), Founded: st.GetFounded(),
					FederationID: st.GetFederationId(), FederationName: st.GetFederationName(),
					Currency: st.GetCurrency().GetCode(), Exponent: st.GetCurrency().GetExponent(),
					Seq: st.GetSeq(), Entries: st.GetEntries(), Members: st.GetMembers(), StateHash: st.GetStateHash(),
					DataDir: st.GetDataDir(), Version: st.GetVersion(), Started: started, Rules: st.GetRules(),
					Member: st.GetMember(), SyncAddr: st.GetSyncAddr(), GossipAddr: st.GetGossipAddr(),
					Peers: st.GetPeers(), CatchingUp: catching,
				})
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "node\t%s (%s)\n", st.GetName(), st.GetNodeId())
			fmt.Fprintf(tw, "key\t%s\n", st.GetNodeKey())
			if st.GetFounded() {
				fmt.Fprintf(tw, "federation\t%s (%s)\n", st.GetFederationName(), st.GetFederationId())
				fmt.Fprintf(tw, "currency\t%s, %d decimals\n", st.GetCurrency().GetCode(), st.GetCurrency().GetExponent())
				fmt.Fprintf(tw, "members\t%d\n", st.GetMembers())
				if !st.GetMember() {
					fmt.Fprintf(tw, "this node\tapplicant: the members have not admitted it (yet)\n")
				}
				if st.GetSyncAddr() != "" {
					fmt.Fprintf(tw, "sync\t%s, gossip %s, %d peers up\n", st.GetSyncAddr(), st.GetGossipAddr(), st.GetPeers())
				}
				if len(catching) == 0 {
					fmt.Fprintf(tw, "sync state\tup to date with every peer it knows\n")
				}
				for _, c := range catching {
					eta := "unknown"
					if c.ETASeconds > 0 {
						eta = (time.Duration(c.ETASeconds) * time.Second).String()
					}
					fmt.Fprintf(tw, "catching up\t%s: %d entries (~%d bytes) to go, %d%%, about %s left\n", c.Peer, c.EntriesLeft, c.BytesLeft, c.Percent, eta)
				}
			} else {
				fmt.Fprintf(tw, "federation\tnone yet: found one with caisse init\n")
			}
			fmt.Fprintf(tw, "own log\t%d entries\n", st.GetSeq())
			fmt.Fprintf(tw, "stored\t%d entries\n", st.GetEntries())
			fmt.Fprintf(tw, "state hash\t%s\n", st.GetStateHash())
			fmt.Fprintf(tw, "data dir\t%s\n", st.GetDataDir())
			fmt.Fprintf(tw, "version\t%s, up since %s\n", st.GetVersion(), started)
			return tw.Flush()
		},
	}
}
