package api

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/ledger/memstore"
	"github.com/caisse-coop/caisse/node/tlsid"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// fakeNode is a SyncBackend over a memstore; it stores what it receives
// when it extends a log.
type fakeNode struct {
	fed     ledger.Hash
	members map[ledger.Author]bool
	store   *memstore.Store

	mu       sync.Mutex
	received []ledger.Entry
	vectors  map[ledger.Author]ledger.Vector
}

func (f *fakeNode) Federation() (ledger.Hash, bool) { return f.fed, true }
func (f *fakeNode) Accept(a ledger.Author) error {
	if !f.members[a] {
		return errors.New("not a member")
	}
	return nil
}
func (f *fakeNode) Vector() (ledger.Vector, error) { return f.store.Vector() }
func (f *fakeNode) PeerVector(a ledger.Author, v ledger.Vector, _ uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vectors[a] = v
}
func (f *fakeNode) Scan(a ledger.Author, from ledger.Seq, fn func(ledger.Entry) error) error {
	return f.store.Scan(a, from, fn)
}
func (f *fakeNode) Receive(_ ledger.Author, es []ledger.Entry) PushResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	var r PushResult
	for _, e := range es {
		f.received = append(f.received, e)
		if err := f.store.Append(e); err != nil {
			r.Refused = append(r.Refused, err.Error())
			continue
		}
		r.Accepted++
	}
	return r
}
func (f *fakeNode) Forks() ([]ledger.ForkProof, error) { return f.store.Forks() }

func startSync(t *testing.T, f *fakeNode, serverKey *ledgertest.Author) string {
	t.Helper()
	cert, err := tlsid.Certificate(serverKey.Key)
	if err != nil {
		t.Fatal(err)
	}
	// TLS admits any well-formed identity; the sync API authorizes.
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsid.ServerConfig(cert, func(ledger.Author) error { return nil }))))
	NewSyncServer(f).Register(s)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

func dialSync(t *testing.T, addr string, client, server *ledgertest.Author) rpcv1.SyncClient {
	t.Helper()
	cert, err := tlsid.Certificate(client.Key)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(
		tlsid.ClientConfig(cert, server.ID, func(ledger.Author) error { return nil }))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return rpcv1.NewSyncClient(conn)
}

func TestSyncServer(t *testing.T) {
	a, b, stranger := ledgertest.NewAuthor(t, 1), ledgertest.NewAuthor(t, 2), ledgertest.NewAuthor(t, 3)
	genesis := a.Genesis(t, "fédération", b)
	fed := genesis.Hash()
	st := memstore.New()
	if err := st.Append(genesis); err != nil {
		t.Fatal(err)
	}
	for range 1200 {
		if err := st.Append(a.Contribution(t, fed, 100, ledgertest.Period)); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeNode{fed: fed, members: map[ledger.Author]bool{a.ID: true, b.ID: true}, store: st, vectors: map[ledger.Author]ledger.Vector{}}
	addr := startSync(t, f, a)
	c := dialSync(t, addr, b, a)
	ctx := context.Background()

	t.Run("exchange", func(t *testing.T) {
		resp, err := c.Exchange(ctx, &rpcv1.ExchangeRequest{Federation: fed[:]})
		if err != nil {
			t.Fatal(err)
		}
		v, err := VectorFromProto(resp.GetVector())
		if err != nil || v[a.ID].Seq != 1201 {
			t.Fatalf("vector %v, %v; want a at 1201", v, err)
		}
		if _, ok := f.vectors[b.ID]; !ok {
			t.Error("the server did not learn the caller's vector under its TLS identity")
		}
	})
	t.Run("pull is batched and bounded", func(t *testing.T) {
		stream, err := c.Pull(ctx, &rpcv1.PullRequest{Federation: fed[:], Author: a.ID[:], FromSeq: 2, ToSeq: 1100})
		if err != nil {
			t.Fatal(err)
		}
		var got []ledger.Entry
		batches := 0
		for {
			batch, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			batches++
			if len(batch.GetEntries()) > MaxBatchEntries {
				t.Errorf("batch of %d entries", len(batch.GetEntries()))
			}
			es, errs := VerifyAll(batch.GetEntries())
			for i := range es {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
			}
			got = append(got, es...)
		}
		if len(got) != 1099 || got[0].Seq() != 2 || got[len(got)-1].Seq() != 1100 || batches < 3 {
			t.Fatalf("pulled %d entries in %d batches, want seqs 2..1100 in at least 3", len(got), batches)
		}
	})
	t.Run("forged entry refused", func(t *testing.T) {
		e := b.Contribution(t, fed, 100, ledgertest.Period)
		p := e.Proto()
		sig := append([]byte(nil), p.GetSignature()...)
		sig[7] ^= 1
		resp, err := c.Push(ctx, &rpcv1.PushRequest{Federation: fed[:], Entries: []*caissev1.Entry{{Body: p.GetBody(), Signature: sig}}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetAccepted() != 0 || len(resp.GetRefused()) != 1 || !strings.Contains(resp.GetRefused()[0], "signature") {
			t.Fatalf("push of a forged entry: %v", resp)
		}
		if len(f.received) != 0 {
			t.Fatal("a forged entry reached the node")
		}
	})
	t.Run("oversized push", func(t *testing.T) {
		_, err := c.Push(ctx, &rpcv1.PushRequest{Federation: fed[:], Entries: make([]*caissev1.Entry, MaxPushEntries+1)})
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("push of %d entries: %v", MaxPushEntries+1, err)
		}
	})
	t.Run("wrong federation", func(t *testing.T) {
		other := ledger.Hash{1}
		_, err := c.Exchange(ctx, &rpcv1.ExchangeRequest{Federation: other[:]})
		if status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("exchange for another federation: %v", err)
		}
	})
	t.Run("stranger refused", func(t *testing.T) {
		s := dialSync(t, addr, stranger, a)
		_, err := s.Exchange(ctx, &rpcv1.ExchangeRequest{Federation: fed[:]})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("exchange from a stranger: %v", err)
		}
		_, err = s.Push(ctx, &rpcv1.PushRequest{Federation: fed[:], Entries: []*caissev1.Entry{stranger.Peek(t, fed, nil).Proto()}})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("push of a contribution from a stranger: %v", err)
		}
		// Its own application is what a stranger may push.
		app := stranger.Next(t, fed, func(b *caissev1.EntryBody) {
			b.Kind = &caissev1.EntryBody_Application{Application: &caissev1.Application{Name: "nouvelle caisse"}}
		})
		if _, err := s.Push(ctx, &rpcv1.PushRequest{Federation: fed[:], Entries: []*caissev1.Entry{app.Proto()}}); err != nil {
			t.Fatalf("push of its own application: %v", err)
		}
		// Someone else's application is not.
		other := ledgertest.NewAuthor(t, 4)
		app2 := other.Next(t, fed, func(b *caissev1.EntryBody) {
			b.Kind = &caissev1.EntryBody_Application{Application: &caissev1.Application{Name: "autre"}}
		})
		if _, err := s.Push(ctx, &rpcv1.PushRequest{Federation: fed[:], Entries: []*caissev1.Entry{app2.Proto()}}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("push of another's application by a stranger: %v", err)
		}
	})
}
