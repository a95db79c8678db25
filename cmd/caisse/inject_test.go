package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/tlsid"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

func readNodeKey(t *testing.T, dir string) ed25519.PrivateKey {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "node.key"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}

// syncClient dials a node's sync port over TLS as the holder of key.
func syncClient(t *testing.T, addr string, key ed25519.PrivateKey) rpcv1.SyncClient {
	t.Helper()
	cert, err := tlsid.Certificate(key)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(
		tlsid.ClientConfig(cert, ledger.Author{}, func(ledger.Author) error { return nil }))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return rpcv1.NewSyncClient(conn)
}

// entryAt returns the view of author's entry at seq, as node p holds it.
func entryAt(t *testing.T, p interface {
	Client(testing.TB) rpcv1.OperatorClient
}, author string, seq uint64) *rpcv1.EntryView {
	t.Helper()
	resp, err := p.Client(t).ListEntries(context.Background(), &rpcv1.ListEntriesRequest{Author: author, FromSeq: seq, Limit: 1})
	if err != nil || len(resp.GetEntries()) != 1 {
		t.Fatalf("entry %s/%d: %v", author[:8], seq, err)
	}
	return resp.GetEntries()[0]
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInjectThroughSyncPort sends bad entries to a real node's sync port:
// a forged entry, a stranger's entry, a replayed entry and one past a gap
// are refused or buffered with a clear reason and change nothing; an
// equivocation is detected on every node.
func TestInjectThroughSyncPort(t *testing.T) {
	a := newFedNode(t, "Caisse A", true)
	b := newFedNode(t, "Caisse B", false)
	admit(t, []*fedNode{a}, b)
	c := newFedNode(t, "Caisse C", false)
	admit(t, []*fedNode{a, b}, c)
	mustCLI(t, c.p, "contribute", "--member", "X", "--amount", "3", "--period", "2026-11")
	mustCLI(t, c.p, "contribute", "--member", "Y", "--amount", "4", "--period", "2026-11")

	var stA, stC statusJSON
	cliJSON(t, c.p, &stC, "status")
	waitCond(t, 30*time.Second, "A to hold C's log", func() bool {
		cliJSON(t, a.p, &stA, "status")
		var sc statusJSON
		cliJSON(t, c.p, &sc, "status")
		return sc.StateHash == stA.StateHash
	})
	// C is the misbehaving member from here: its node is stopped and the
	// test signs with its key.
	c.p.Stop(t)
	keyC := readNodeKey(t, c.dir)
	fed := mustHex(t, stA.FederationID)
	headC := stC.Seq
	lastC := entryAt(t, a.p, stC.NodeKey, headC)
	asC := syncClient(t, stA.SyncAddr, keyC)
	ctx := context.Background()
	sign := func(seq uint64, prev []byte, wall uint64, amount int64) *caissev1.Entry {
		t.Helper()
		body := &caissev1.EntryBody{Federation: fed, Author: keyC.Public().(ed25519.PublicKey), Seq: seq, Prev: prev,
			Time: &caissev1.HLC{WallMs: wall},
			Kind: &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
				Member: make([]byte, 16), Amount: amount, Period: "2026-11", Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES}}}
		e, err := ledger.Sign(keyC, body)
		if err != nil {
			t.Fatal(err)
		}
		return e.Proto()
	}
	unchanged := func(what string) {
		t.Helper()
		var now statusJSON
		cliJSON(t, a.p, &now, "status")
		if now.StateHash != stA.StateHash || now.Entries != stA.Entries {
			t.Fatalf("%s changed node A: %+v -> %+v", what, stA, now)
		}
	}
	push := func(e *caissev1.Entry) *rpcv1.PushResponse {
		t.Helper()
		resp, err := asC.Push(ctx, &rpcv1.PushRequest{Federation: fed, Entries: []*caissev1.Entry{e}})
		if err != nil {
			t.Fatalf("push: %v", err)
		}
		return resp
	}

	t.Run("forged", func(t *testing.T) {
		e := sign(headC+1, mustHex(t, lastC.GetHash()), lastC.GetTimeMs()+1000, 500)
		e.Signature[3] ^= 0x10
		resp := push(e)
		if resp.GetAccepted() != 0 || len(resp.GetRefused()) != 1 || !strings.Contains(resp.GetRefused()[0], "bad signature") {
			t.Fatalf("forged entry: %v", resp)
		}
		unchanged("a forged entry")
	})
	t.Run("stranger", func(t *testing.T) {
		_, stranger, _ := ed25519.GenerateKey(rand.Reader)
		s := syncClient(t, stA.SyncAddr, stranger)
		_, err := s.Exchange(ctx, &rpcv1.ExchangeRequest{Federation: fed})
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "neither a member nor an applicant") {
			t.Fatalf("exchange from a stranger: %v", err)
		}
		body := &caissev1.EntryBody{Federation: fed, Author: stranger.Public().(ed25519.PublicKey), Seq: 1,
			Time: &caissev1.HLC{WallMs: uint64(time.Now().UnixMilli())},
			Kind: &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
				Member: make([]byte, 16), Amount: 100, Period: "2026-11", Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES}}}
		e, err := ledger.Sign(stranger, body)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Push(ctx, &rpcv1.PushRequest{Federation: fed, Entries: []*caissev1.Entry{e.Proto()}})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("push from a stranger: %v", err)
		}
		unchanged("a stranger's entry")
	})
	t.Run("replayed", func(t *testing.T) {
		old, err := a.p.Client(t).ListEntries(ctx, &rpcv1.ListEntriesRequest{Author: stC.NodeKey, FromSeq: 1, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		// The same entry again: re-sign nothing, take its bytes from a pull.
		stream, err := asC.Pull(ctx, &rpcv1.PullRequest{Federation: fed, Author: mustHex(t, stC.NodeKey), FromSeq: 1, ToSeq: 1})
		if err != nil {
			t.Fatal(err)
		}
		batch, err := stream.Recv()
		if err != nil || len(batch.GetEntries()) != 1 {
			t.Fatalf("pull seq 1: %v", err)
		}
		resp := push(batch.GetEntries()[0])
		if resp.GetDuplicates() != 1 || resp.GetAccepted() != 0 {
			t.Fatalf("replayed entry %s: %v", old.GetEntries()[0].GetHash()[:8], resp)
		}
		unchanged("a replayed entry")
	})
	t.Run("gap", func(t *testing.T) {
		e := sign(headC+2, make([]byte, 32), lastC.GetTimeMs()+5000, 700)
		resp := push(e)
		if resp.GetBuffered() != 1 || resp.GetAccepted() != 0 {
			t.Fatalf("entry past a gap: %v", resp)
		}
		var g struct{ Gaps []struct{ Author string } }
		waitCond(t, 10*time.Second, "the gap to show in caisse gossip", func() bool {
			cliJSON(t, a.p, &g, "gossip")
			return len(g.Gaps) == 1
		})
		unchanged("an entry past a gap")
	})
	t.Run("equivocation", func(t *testing.T) {
		prev := entryAt(t, a.p, stC.NodeKey, headC-1)
		e := sign(headC, mustHex(t, lastC.GetPrev()), prev.GetTimeMs()+1, 999)
		resp := push(e)
		if len(resp.GetRefused()) != 1 || !strings.Contains(resp.GetRefused()[0], "fork") {
			t.Fatalf("equivocation: %v", resp)
		}
		c.start(t) // C's own node must learn the proof too
		for _, n := range []*fedNode{a, b, c} {
			waitCond(t, 60*time.Second, "the fork on "+n.name, func() bool {
				var m membersOut
				cliJSON(t, n.p, &m, "federation", "members")
				for _, f := range m.Forks {
					if f.Seq == headC {
						return true
					}
				}
				return false
			})
		}
	})
}
