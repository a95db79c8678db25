package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// demoNode is one collective of the demo federation.
type demoNode struct {
	dir, name string
	n         *node.Node
	c         rpcv1.OperatorClient
	conn      *grpc.ClientConn
	done      chan error
}

// runDemo starts a demo federation of three nodes on loopback, in dir:
// the first founds it, invites the two others, and the members admit them
// by vote; each records some sample entries. It runs until ctx is done.
func runDemo(ctx context.Context, dir string, log *slog.Logger, out io.Writer) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	names := []struct{ dir, name string }{
		{"lyon", "Caisse de grève du rail, Lyon"},
		{"nantes", "Coopérative du bois, Nantes"},
		{"lille", "Solidarité Nord, Lille"},
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var nodes []*demoNode
	defer func() {
		cancel()
		for _, d := range nodes {
			<-d.done
			d.conn.Close()
			d.n.Close()
		}
	}()
	for i, x := range names {
		cfg := node.DefaultConfig()
		cfg.DataDir = filepath.Join(dir, x.dir)
		cfg.Name = x.name
		cfg.Found = i == 0
		cfg.Federation.Name = "Fédération de démonstration"
		cfg.SyncAddr, cfg.GossipAddr, cfg.GossipProfile = "127.0.0.1:0", "127.0.0.1:0", "local"
		cfg.AdminAddr, cfg.WebAddr = "127.0.0.1:0", "127.0.0.1:0"
		cfg.AntiEntropy = 2 * time.Second
		cfg.Logger = log.With("node", x.dir)
		n, err := node.New(cfg)
		if err != nil {
			return fmt.Errorf("demo: %s: %w", x.dir, err)
		}
		d := &demoNode{dir: cfg.DataDir, name: x.name, n: n, done: make(chan error, 1)}
		nodes = append(nodes, d)
		go func() { d.done <- n.Run(ctx) }()
		d.conn, err = grpc.NewClient("unix://"+node.SocketPath(cfg.DataDir), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithChainUnaryInterceptor(withDeadline(30*time.Second)))
		if err != nil {
			return err
		}
		d.c = rpcv1.NewOperatorClient(d.conn)
	}
	for _, d := range nodes {
		if err := waitDemo(ctx, "node "+d.name, func(ctx context.Context) (bool, error) {
			_, err := d.c.Status(ctx, &rpcv1.StatusRequest{})
			return err == nil, nil
		}); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "caisse demo: %s founded the federation; inviting the others...\n", nodes[0].name)
	for i := 1; i < len(nodes); i++ {
		if err := demoAdmit(ctx, nodes[:i], nodes[i]); err != nil {
			return err
		}
		fmt.Fprintf(out, "caisse demo: %s admitted\n", nodes[i].name)
	}
	if err := demoEntries(ctx, nodes); err != nil {
		return err
	}
	fmt.Fprintf(out, `
caisse demo: a federation of three nodes runs on loopback, data in %s
Watch it from another terminal:
  go run ./cmd/caisse --data-dir %s peers
  go run ./cmd/caisse --data-dir %s gossip
  go run ./cmd/caisse --data-dir %s balances
  go run ./cmd/caisse --data-dir %s federation members
  go run ./cmd/caisse --data-dir %s contribute --member "Anne Morel" --amount 20 --period %s
Ctrl-C stops the three nodes.
`, dir, nodes[0].dir, nodes[1].dir, nodes[2].dir, nodes[0].dir, nodes[2].dir, ledger.PeriodOf(time.Now()))
	for _, d := range nodes {
		if addr := d.n.WebAddr(); addr != "" {
			fmt.Fprintf(out, "Dashboard of %s: http://%s/\n", d.name, addr)
		}
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-nodes[0].done:
		nodes[0].done <- err
		return err
	}
}

// waitDemo polls cond until it holds, ctx ends or a minute passes.
func waitDemo(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := cond(cctx)
		cancel()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: %s: not ready after a minute", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// demoAdmit invites d, has it join, and has the members vote it in.
func demoAdmit(ctx context.Context, members []*demoNode, d *demoNode) error {
	inv, err := members[0].c.Invite(ctx, &rpcv1.InviteRequest{})
	if err != nil {
		return fmt.Errorf("demo: invite: %w", err)
	}
	if _, err := d.c.Join(ctx, &rpcv1.JoinRequest{Token: inv.GetToken(), Note: "demo"}); err != nil {
		return fmt.Errorf("demo: join: %w", err)
	}
	st, err := d.c.Status(ctx, &rpcv1.StatusRequest{})
	if err != nil {
		return err
	}
	if err := waitDemo(ctx, d.name+"'s application", func(ctx context.Context) (bool, error) {
		m, err := members[0].c.Members(ctx, &rpcv1.MembersRequest{})
		if err != nil {
			return false, nil
		}
		for _, x := range m.GetMembers() {
			if x.GetKey() == st.GetNodeKey() {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		return err
	}
	prop, err := members[0].c.Propose(ctx, &rpcv1.ProposeRequest{Action: "admit", Node: st.GetNodeKey(), Vote: "yes", Note: "welcome"})
	if err != nil {
		return fmt.Errorf("demo: propose: %w", err)
	}
	for _, m := range members[1:] {
		err := waitDemo(ctx, "the proposal on "+m.name, func(ctx context.Context) (bool, error) {
			_, err := m.c.Vote(ctx, &rpcv1.VoteRequest{Proposal: prop.GetEntry().GetHash(), Choice: "yes"})
			return err == nil, nil
		})
		if err != nil {
			return err
		}
	}
	return waitDemo(ctx, d.name+"'s admission", func(ctx context.Context) (bool, error) {
		s, err := d.c.Status(ctx, &rpcv1.StatusRequest{})
		return err == nil && s.GetMember(), nil
	})
}

// demoEntries records a few months of sample activity on every node.
func demoEntries(ctx context.Context, nodes []*demoNode) error {
	people := [][]string{
		{"Anne Morel", "Karim Benali", "Lucie Faure"},
		{"Paul Girard", "Inès Haddad"},
		{"Marc Lefebvre", "Sofia Martins", "Hugo Petit"},
	}
	// The two months before this one, and this one.
	now := ledger.PeriodOf(time.Now())
	start := ledger.PeriodOf(now.Start().AddDate(0, -2, 0))
	periods := []ledger.Period{start, start.Next(), now}
	var errs []error
	for i, d := range nodes {
		for month, period := range periods {
			for j, who := range people[i] {
				_, err := d.c.Contribute(ctx, &rpcv1.ContributeRequest{
					Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: who}},
					Amount: fmt.Sprintf("%d.00", 8+4*j+month), Period: string(period), Category: "dues",
				})
				errs = append(errs, err)
			}
		}
		_, err := d.c.Disburse(ctx, &rpcv1.DisburseRequest{
			Beneficiary: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: people[i][0]}},
			Amount:      fmt.Sprintf("%d.00", 30+10*i), Period: string(now), Category: []string{"strike", "equipment", "legal"}[i],
			Note: "sample",
		})
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("demo: sample entries: %w", err)
	}
	return nil
}

// withDeadline gives a call without a deadline one: no demo call waits
// forever on a node that does not answer.
func withDeadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
