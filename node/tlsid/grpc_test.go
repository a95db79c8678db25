package tlsid_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/tlsid"
)

// peerAuthor is what a gRPC handler does to learn who called it.
func peerAuthor(ctx context.Context) (ledger.Author, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ledger.Author{}, errors.New("no peer")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return ledger.Author{}, errors.New("not TLS")
	}
	return tlsid.PeerAuthor(info.State)
}

// healthByAuthor is the standard health service whose Check answers
// SERVING only to the caller whose key it was told to expect, so the test
// sees what the handler saw.
type healthByAuthor struct {
	*health.Server
	want ledger.Author
}

func (h healthByAuthor) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	a, err := peerAuthor(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "peer: %v", err)
	}
	if a != h.want {
		return nil, status.Errorf(codes.PermissionDenied, "caller %s, want %s", a.Short(), h.want.Short())
	}
	return h.Server.Check(ctx, req)
}

func TestGRPC(t *testing.T) {
	serverKey, serverAuthor := newKey(t, 1)
	clientKey, clientAuthor := newKey(t, 2)
	strangerKey, _ := newKey(t, 3)
	accept := tlsid.Accept(serverAuthor, clientAuthor)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsid.ServerConfig(mustCert(t, serverKey), accept))))
	healthpb.RegisterHealthServer(srv, healthByAuthor{Server: health.NewServer(), want: clientAuthor})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	check := func(t *testing.T, cfg *tls.Config) error {
		t.Helper()
		conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("status %v, want SERVING", resp.GetStatus())
		}
		return nil
	}

	t.Run("member", func(t *testing.T) {
		if err := check(t, tlsid.ClientConfig(mustCert(t, clientKey), serverAuthor, accept)); err != nil {
			t.Fatalf("Check: %v", err)
		}
	})
	t.Run("another member", func(t *testing.T) {
		// Accepted by TLS, but the handler sees a key it does not want.
		err := check(t, tlsid.ClientConfig(mustCert(t, serverKey), serverAuthor, accept))
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("Check: %v, want PermissionDenied from the handler", err)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		err := check(t, tlsid.ClientConfig(mustCert(t, strangerKey), serverAuthor, accept))
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("Check: %v, want Unavailable (handshake refused)", err)
		}
	})
	t.Run("wrong server key", func(t *testing.T) {
		_, other := newKey(t, 4)
		err := check(t, tlsid.ClientConfig(mustCert(t, clientKey), other, accept))
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("Check: %v, want Unavailable (handshake refused)", err)
		}
	})
}
