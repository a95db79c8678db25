package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"

	"github.com/caisse-coop/caisse/internal/nodetest"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/ledger/memstore"
	"github.com/caisse-coop/caisse/node/tlsid"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// panicky is a SyncBackend whose Vector and Scan panic when armed: a bug
// in a handler, as the recovery interceptor must see it.
type panicky struct {
	*fakeNode
	armed bool
}

func (p *panicky) Vector() (ledger.Vector, error) {
	if p.armed {
		var v ledger.Vector
		v[ledger.Author{}] = ledger.Head{} // assignment to a nil map
	}
	return p.fakeNode.Vector()
}

func (p *panicky) Scan(a ledger.Author, from ledger.Seq, fn func(ledger.Entry) error) error {
	if p.armed {
		panic("scan: injected")
	}
	return p.fakeNode.Scan(a, from, fn)
}

// startHardenedSync serves the Sync service with the node's own options
// and listener cap.
func startHardenedSync(t *testing.T, b SyncBackend, serverKey *ledgertest.Author) string {
	t.Helper()
	cert, err := tlsid.Certificate(serverKey.Key)
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewTLS(tlsid.ServerConfig(cert, func(ledger.Author) error { return nil }))
	s := grpc.NewServer(SyncServerOptions(creds, testLogger(t))...)
	NewSyncServer(b).Register(s)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(LimitSyncListener(lis))
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tLog struct{ t *testing.T }

func (w tLog) Write(b []byte) (int, error) { w.t.Log(strings.TrimSpace(string(b))); return len(b), nil }

// TestSyncServerLimits sends the sync port what it must refuse without
// falling over: a message over the limit, a small gzip message that
// inflates past it, a handler that panics; after each, the server answers.
func TestSyncServerLimits(t *testing.T) {
	a, b := ledgertest.NewAuthor(t, 1), ledgertest.NewAuthor(t, 2)
	genesis := a.Genesis(t, "fédération", b)
	fed := genesis.Hash()
	st := memstore.New()
	if err := st.Append(genesis); err != nil {
		t.Fatal(err)
	}
	f := &panicky{fakeNode: &fakeNode{fed: fed, members: map[ledger.Author]bool{a.ID: true, b.ID: true}, store: st, vectors: map[ledger.Author]ledger.Vector{}}}
	addr := startHardenedSync(t, f, a)
	c := dialSync(t, addr, b, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	serving := func(t *testing.T) {
		t.Helper()
		f.armed = false
		resp, err := c.Exchange(ctx, &rpcv1.ExchangeRequest{Federation: fed[:]})
		if err != nil || len(resp.GetVector()) != 1 {
			t.Fatalf("the server stopped serving: %v %v", resp, err)
		}
	}

	t.Run("oversized message", func(t *testing.T) {
		big := &caissev1.Entry{Body: make([]byte, MaxSyncMessage), Signature: make([]byte, 64)}
		_, err := c.Push(ctx, &rpcv1.PushRequest{Federation: fed[:], Entries: []*caissev1.Entry{big}})
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("push of a %d-byte message: %v, want ResourceExhausted", MaxSyncMessage, err)
		}
		if len(f.received) != 0 {
			t.Fatal("an oversized push reached the node")
		}
		serving(t)
	})
	t.Run("compression bomb", func(t *testing.T) {
		const inflated = 2 * MaxSyncMessage
		bomb := &caissev1.Entry{Body: make([]byte, inflated), Signature: make([]byte, 64)}
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(bomb.GetBody())
		zw.Close()
		if z.Len() > MaxSyncMessage/16 {
			t.Fatalf("the bomb compresses to %d bytes: not a bomb", z.Len())
		}
		t.Logf("%d bytes of gzip inflate to %d", z.Len(), inflated)
		_, err := c.Push(ctx, &rpcv1.PushRequest{Federation: fed[:], Entries: []*caissev1.Entry{bomb}}, grpc.UseCompressor(grpcgzip.Name))
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("gzip push inflating to %d bytes: %v, want ResourceExhausted", inflated, err)
		}
		if len(f.received) != 0 {
			t.Fatal("a compression bomb reached the node")
		}
		serving(t)
	})
	t.Run("panic in a unary handler", func(t *testing.T) {
		f.armed = true
		_, err := c.Exchange(ctx, &rpcv1.ExchangeRequest{Federation: fed[:]})
		if status.Code(err) != codes.Internal {
			t.Fatalf("exchange with a panicking handler: %v, want Internal", err)
		}
		serving(t)
	})
	t.Run("panic in a stream handler", func(t *testing.T) {
		f.armed = true
		stream, err := c.Pull(ctx, &rpcv1.PullRequest{Federation: fed[:], Author: a.ID[:], FromSeq: 1})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.Internal {
			t.Fatalf("pull with a panicking handler: %v, want Internal", err)
		}
		serving(t)
	})
	t.Run("connection cap", func(t *testing.T) {
		// maxSyncConns idle TCP connections hold every slot: one more call
		// waits (and times out) until one closes. The handshake timeout
		// would close them after handshakeTimeout; the test is quicker.
		var conns []net.Conn
		for range maxSyncConns {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, conn)
		}
		extra := dialSync(t, addr, b, a)
		short, cancelShort := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := extra.Exchange(short, &rpcv1.ExchangeRequest{Federation: fed[:]})
		cancelShort()
		if status.Code(err) != codes.DeadlineExceeded {
			t.Fatalf("call beyond %d connections: %v, want DeadlineExceeded", maxSyncConns, err)
		}
		for _, conn := range conns {
			conn.Close()
		}
		if _, err := extra.Exchange(ctx, &rpcv1.ExchangeRequest{Federation: fed[:]}, grpc.WaitForReady(true)); err != nil {
			t.Fatalf("once connections closed: %v", err)
		}
	})
}

// opBackend answers Status and panics elsewhere (a nil Backend): the
// operator server must turn the panic into Internal and go on.
type opBackend struct{ Backend }

func (opBackend) Status(context.Context, *rpcv1.StatusRequest) (*rpcv1.StatusResponse, error) {
	return &rpcv1.StatusResponse{Name: "ok"}, nil
}

func TestOperatorServerLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "op.sock")
	var logs nodetest.LockedBuffer
	s, err := Listen(path, opBackend{}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Stop(time.Second) })
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := rpcv1.NewOperatorClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serving := func(t *testing.T) {
		t.Helper()
		if resp, err := c.Status(ctx, &rpcv1.StatusRequest{}); err != nil || resp.GetName() != "ok" {
			t.Fatalf("the server stopped serving: %v %v", resp, err)
		}
	}
	t.Run("panic in a unary handler", func(t *testing.T) {
		_, err := c.Balances(ctx, &rpcv1.BalancesRequest{})
		if status.Code(err) != codes.Internal {
			t.Fatalf("balances with a panicking backend: %v, want Internal", err)
		}
		if l := logs.String(); !strings.Contains(l, "panic in a gRPC handler") || !strings.Contains(l, "opBackend).Balances") {
			t.Fatalf("the panic is not logged with its stack:\n%s", l)
		}
		serving(t)
	})
	t.Run("panic in a stream handler", func(t *testing.T) {
		stream, err := c.Export(ctx, &rpcv1.ExportRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.Internal {
			t.Fatalf("export with a panicking backend: %v, want Internal", err)
		}
		serving(t)
	})
	t.Run("oversized message", func(t *testing.T) {
		_, err := c.Contribute(ctx, &rpcv1.ContributeRequest{Note: strings.Repeat("x", MaxMessageSize)})
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("a %d-byte request: %v, want ResourceExhausted", MaxMessageSize, err)
		}
		serving(t)
	})
	t.Run("ping flood", func(t *testing.T) {
		// A client pinging far more often than keepaliveMinTime is told
		// to calm down and cut off (HTTP/2 GOAWAY, ENHANCE_YOUR_CALM).
		conn, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
			t.Fatal(err)
		}
		fr := http2.NewFramer(conn, conn)
		if err := fr.WriteSettings(); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := fr.WritePing(false, [8]byte{byte(i)}); err != nil {
				break // the server may already have closed
			}
		}
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				t.Fatalf("no GOAWAY after a ping flood: %v", err)
			}
			if ga, ok := f.(*http2.GoAwayFrame); ok {
				if ga.ErrCode != http2.ErrCodeEnhanceYourCalm || !strings.Contains(string(ga.DebugData()), "too_many_pings") {
					t.Fatalf("GOAWAY %v %q, want ENHANCE_YOUR_CALM too_many_pings", ga.ErrCode, ga.DebugData())
				}
				break
			}
		}
		serving(t)
	})
	t.Run("compression bomb", func(t *testing.T) {
		_, err := c.Contribute(ctx, &rpcv1.ContributeRequest{Note: strings.Repeat("x", 8*MaxMessageSize)}, grpc.UseCompressor(grpcgzip.Name))
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("a gzip request inflating to 8 MiB: %v, want ResourceExhausted", err)
		}
		serving(t)
	})
}
