package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/internal/nodetest"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// freeAddr returns a loopback address with a port free right now. A node
// keeps its ports across restarts, as a deployed node does.
func freeAddr(t *testing.T) string {
	t.Helper()
	return nodetest.FreeAddr(t)
}

// fedNode is one node of a test federation: its process and how to
// restart it.
type fedNode struct {
	name string
	dir  string
	args []string
	p    *nodetest.Proc
}

func (f *fedNode) start(t *testing.T) {
	t.Helper()
	f.p = nodetest.Start(t, filepath.Join(bin, "caissed"), f.dir, f.args...)
}

func newFedNode(t *testing.T, name string, found bool) *fedNode {
	f := &fedNode{name: name, dir: t.TempDir()}
	f.args = []string{"--name", name, "--found=" + fmt.Sprint(found), "--anti-entropy", "1s",
		"--sync-addr", freeAddr(t), "--gossip-addr", freeAddr(t)}
	f.start(t)
	return f
}

type membersOut struct {
	Members []struct {
		ID, Key, Name, Status string
	}
	Proposals []struct {
		Hash, Action, Target, Status string
	}
	Forks []struct {
		Author string
		Seq    uint64
	}
}

// waitFor polls cond until it holds or timeout passes, then fails.
func waitCond(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// admit brings a new node into the federation through invite, join and
// votes, as operators would with the CLI.
func admit(t *testing.T, members []*fedNode, newcomer *fedNode) {
	t.Helper()
	var inv struct{ Token string }
	cliJSON(t, members[0].p, &inv, "federation", "invite")
	mustCLI(t, newcomer.p, "federation", "join", inv.Token)
	var st statusJSON
	cliJSON(t, newcomer.p, &st, "status")
	waitCond(t, 30*time.Second, newcomer.name+" listed as applicant", func() bool {
		var m membersOut
		cliJSON(t, members[0].p, &m, "federation", "members")
		return slices.ContainsFunc(m.Members, func(x struct{ ID, Key, Name, Status string }) bool {
			return x.Key == st.NodeKey && x.Status == "applicant"
		})
	})
	var prop struct{ Proposal string }
	cliJSON(t, members[0].p, &prop, "federation", "admit", st.NodeKey)
	for _, m := range members[1:] {
		waitCond(t, 30*time.Second, m.name+" sees the proposal", func() bool {
			var out membersOut
			cliJSON(t, m.p, &out, "federation", "members")
			return slices.ContainsFunc(out.Proposals, func(p struct{ Hash, Action, Target, Status string }) bool {
				return p.Hash == prop.Proposal
			})
		})
		if _, err := cli(t, m.p, "vote", prop.Proposal[:16], "yes"); err != nil {
			t.Fatalf("%s votes: %v", m.name, err)
		}
	}
	waitCond(t, 60*time.Second, newcomer.name+" admitted", func() bool {
		var s struct{ Member bool }
		cliJSON(t, newcomer.p, &s, "status")
		return s.Member
	})
}

// TestFiveNodesConverge forms a federation of five real caissed processes
// through invite, join and votes, writes on every node at once, kill -9s
// two of them mid-stream and restarts them, and checks that all five end
// with the same state hash and every acknowledged entry.
func TestFiveNodesConverge(t *testing.T) {
	nodes := []*fedNode{newFedNode(t, "Caisse 0", true)}
	for i := 1; i < 5; i++ {
		n := newFedNode(t, fmt.Sprintf("Caisse %d", i), false)
		admit(t, nodes, n)
		nodes = append(nodes, n)
	}

	type ack struct{ author, hash string }
	var mu sync.Mutex
	acked := map[string]ack{} // author/seq -> hash
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	clients := make([]rpcv1.OperatorClient, len(nodes))
	var clientsMu sync.Mutex
	for i, n := range nodes {
		clients[i] = n.p.Client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ctx.Err() == nil; k++ {
				clientsMu.Lock()
				c := clients[i]
				clientsMu.Unlock()
				resp, err := c.Contribute(ctx, &rpcv1.ContributeRequest{
					Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: fmt.Sprintf("member %d", k%5)}},
					Amount: fmt.Sprintf("%d.%02d", 1+k%9, k%100), Period: "2026-11", Category: "dues",
				})
				if err != nil {
					time.Sleep(20 * time.Millisecond) // the node is down or restarting
					continue
				}
				e := resp.GetEntry()
				mu.Lock()
				acked[fmt.Sprintf("%s/%d", e.GetAuthor(), e.GetSeq())] = ack{e.GetAuthor(), e.GetHash()}
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitCond(t, 60*time.Second, "writes on every node", func() bool { return count() >= 100 })
	for _, i := range []int{1, 3} {
		nodes[i].p.Kill(t)
	}
	waitCond(t, 60*time.Second, "writes while two nodes are down", func() bool { return count() >= 200 })
	for _, i := range []int{1, 3} {
		nodes[i].start(t)
		clientsMu.Lock()
		clients[i] = nodes[i].p.Client(t)
		clientsMu.Unlock()
	}
	waitCond(t, 60*time.Second, "writes after the restarts", func() bool { return count() >= 300 })
	cancel()
	wg.Wait()

	// Convergence: one state hash, every acknowledged entry everywhere.
	waitCond(t, 120*time.Second, "the five nodes to converge", func() bool {
		var hashes []string
		for _, n := range nodes {
			var s statusJSON
			cliJSON(t, n.p, &s, "status")
			hashes = append(hashes, s.StateHash)
		}
		return !slices.ContainsFunc(hashes, func(h string) bool { return h != hashes[0] })
	})
	mu.Lock()
	defer mu.Unlock()
	for _, n := range nodes {
		c := n.p.Client(t)
		for key, a := range acked {
			var seq uint64
			fmt.Sscanf(key[strings.IndexByte(key, '/')+1:], "%d", &seq)
			resp, err := c.ListEntries(context.Background(), &rpcv1.ListEntriesRequest{Author: a.author, FromSeq: seq, Limit: 1})
			if err != nil || len(resp.GetEntries()) != 1 || resp.GetEntries()[0].GetHash() != a.hash {
				t.Fatalf("%s lacks acknowledged entry %s (%v)", n.name, key, err)
			}
		}
		v, err := c.Verify(context.Background(), &rpcv1.VerifyRequest{})
		if err != nil || !v.GetOk() {
			t.Fatalf("%s: verify: %v %v", n.name, err, v.GetProblems())
		}
	}
	t.Logf("%d acknowledged entries on five nodes", len(acked))
}

// TestRestoreFromFederation loses a member's whole data directory but its
// key, restores the ledger from the federation, and checks that the node
// continues its own log where it was, without forking it.
func TestRestoreFromFederation(t *testing.T) {
	a := newFedNode(t, "Caisse A", true)
	b := newFedNode(t, "Caisse B", false)
	admit(t, []*fedNode{a}, b)
	for _, amount := range []string{"10", "11", "12"} {
		mustCLI(t, b.p, "contribute", "--member", "Anne", "--amount", amount, "--period", "2026-11")
	}
	var before statusJSON
	cliJSON(t, b.p, &before, "status")
	waitCond(t, 30*time.Second, "A to hold B's log", func() bool {
		var sa statusJSON
		cliJSON(t, a.p, &sa, "status")
		return sa.StateHash == before.StateHash
	})
	b.p.Kill(t)

	// The VPS is lost: only the key was kept.
	key, err := os.ReadFile(filepath.Join(b.dir, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	b.dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(b.dir, "node.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	var inv struct{ Token string }
	cliJSON(t, a.p, &inv, "federation", "invite")
	mustCLI(t, b.p, "restore", inv.Token)
	waitCond(t, 60*time.Second, "B to restore its ledger", func() bool {
		var s statusJSON
		cliJSON(t, b.p, &s, "status")
		return s.Seq == before.Seq && s.Member
	})
	continuesLog(t, a, b, before.Seq)
	var sb, sa statusJSON
	waitCond(t, 30*time.Second, "A and B to agree", func() bool {
		cliJSON(t, a.p, &sa, "status")
		cliJSON(t, b.p, &sb, "status")
		return sa.StateHash == sb.StateHash
	})
}

// TestOldBackupDoesNotFork restarts a member from an old copy of its data
// directory: it must learn its own log's true head from its peers before it
// records anything, and then continue that log instead of forking it.
func TestOldBackupDoesNotFork(t *testing.T) {
	a := newFedNode(t, "Caisse A", true)
	b := newFedNode(t, "Caisse B", false)
	admit(t, []*fedNode{a}, b)
	mustCLI(t, b.p, "contribute", "--member", "Anne", "--amount", "10", "--period", "2026-11")
	b.p.Stop(t)
	backup := t.TempDir()
	if err := os.CopyFS(backup, os.DirFS(b.dir)); err != nil {
		t.Fatal(err)
	}
	b.start(t)
	for _, amount := range []string{"11", "12", "13"} {
		// After any restart, the node waits for a peer to confirm its own
		// log's head before it records.
		waitCond(t, 30*time.Second, "B to record", func() bool {
			_, err := cli(t, b.p, "contribute", "--member", "Anne", "--amount", amount, "--period", "2026-11")
			return err == nil
		})
	}
	var before statusJSON
	cliJSON(t, b.p, &before, "status")
	waitCond(t, 30*time.Second, "A to hold B's log", func() bool {
		var sa statusJSON
		cliJSON(t, a.p, &sa, "status")
		return sa.StateHash == before.StateHash
	})
	b.p.Stop(t)
	a.p.Stop(t) // B cannot learn where its log stands while A is down
	if err := os.RemoveAll(b.dir); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(b.dir, os.DirFS(backup)); err != nil {
		t.Fatal(err)
	}
	// A backup tool keeps the secrets private, as caissed demands.
	for _, f := range []string{"node.key", "pseudonym.key", "gossip.key", "register.json", "join.json"} {
		if err := os.Chmod(filepath.Join(b.dir, f), 0o600); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	b.start(t)
	if _, err := cli(t, b.p, "contribute", "--member", "Anne", "--amount", "14", "--period", "2026-11"); err == nil || !strings.Contains(err.Error(), "not appending") {
		t.Fatalf("a node restarted from a backup, with no peer to ask, recorded: %v", err)
	}
	a.start(t)
	continuesLog(t, a, b, before.Seq)
}

// continuesLog waits until b records again and checks that it appends
// right after head, the true head of its log, and that no fork shows on a.
func continuesLog(t *testing.T, a, b *fedNode, head uint64) {
	t.Helper()
	var e entryJSON
	waitCond(t, 60*time.Second, b.name+" to record again", func() bool {
		out, err := cli(t, b.p, "--json", "contribute", "--member", "Anne", "--amount", "14", "--period", "2026-11")
		return err == nil && json.Unmarshal([]byte(out), &e) == nil
	})
	if e.Seq != head+1 {
		t.Fatalf("%s appended at seq %d, want %d", b.name, e.Seq, head+1)
	}
	var m membersOut
	cliJSON(t, a.p, &m, "federation", "members")
	if len(m.Forks) != 0 {
		t.Fatalf("%s forked its log: %+v", b.name, m.Forks)
	}
}
