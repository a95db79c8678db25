package tlsid_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/tlsid"
)

// newKey returns a deterministic ed25519 key, so failures reproduce.
func newKey(tb testing.TB, seed byte) (ed25519.PrivateKey, ledger.Author) {
	tb.Helper()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return key, ledger.Author(key.Public().(ed25519.PublicKey))
}

func mustCert(tb testing.TB, key ed25519.PrivateKey) tls.Certificate {
	tb.Helper()
	c, err := tlsid.Certificate(key)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// rawCert makes a certificate for pub signed by signer, outside tlsid, and
// pairs it with holder, the private key the TLS stack will prove.
func rawCert(tb testing.TB, pub any, signer, holder crypto.Signer) tls.Certificate {
	tb.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "forged"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, signer)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: holder}
}

// tcpPair returns both ends of a loopback TCP connection (port 0). Unlike
// net.Pipe, the kernel buffers writes, so a side that sends an alert and
// closes never waits for the other to read.
func tcpPair(tb testing.TB) (server, client net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		client.Close()
		tb.Fatal("accept failed")
	}
	deadline := time.Now().Add(10 * time.Second)
	_ = server.SetDeadline(deadline)
	_ = client.SetDeadline(deadline)
	return server, client
}

// handshake runs a TLS handshake over loopback TCP and a one-byte exchange,
// so that a TLS 1.3 server's refusal of the client (which the client sees
// only after its own handshake returns) shows on both sides.
func handshake(tb testing.TB, server, client *tls.Config) (serverErr, clientErr error, serverSaw, clientSaw ledger.Author) {
	tb.Helper()
	sc, cc := tcpPair(tb)
	defer sc.Close()
	defer cc.Close()
	s := tls.Server(sc, server)
	c := tls.Client(cc, client)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if serverErr = s.Handshake(); serverErr != nil {
			return
		}
		serverSaw, serverErr = tlsid.PeerAuthor(s.ConnectionState())
		if serverErr != nil {
			return
		}
		_, serverErr = s.Write([]byte{1})
	}()
	func() {
		if clientErr = c.Handshake(); clientErr != nil {
			cc.Close() // the server may be waiting for the client's certificate
			return
		}
		clientSaw, clientErr = tlsid.PeerAuthor(c.ConnectionState())
		if clientErr != nil {
			return
		}
		var b [1]byte
		_, clientErr = io.ReadFull(c, b[:])
	}()
	<-done
	return serverErr, clientErr, serverSaw, clientSaw
}

func TestCertificate(t *testing.T) {
	key, author := newKey(t, 1)
	c1 := mustCert(t, key)
	c2 := mustCert(t, key)
	if !bytes.Equal(c1.Certificate[0], c2.Certificate[0]) {
		t.Error("two certificates for the same key differ; want deterministic bytes")
	}
	leaf := c1.Leaf
	if got, want := leaf.Subject.CommonName, hex.EncodeToString(author[:]); got != want {
		t.Errorf("CN = %q, want %q", got, want)
	}
	if leaf.SerialNumber.Sign() <= 0 {
		t.Errorf("serial %v is not positive", leaf.SerialNumber)
	}
	other, _ := newKey(t, 2)
	if mustCert(t, other).Leaf.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Error("two keys gave the same serial")
	}
	if !leaf.NotAfter.After(time.Date(2199, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("NotAfter = %v", leaf.NotAfter)
	}
	if _, err := tlsid.Certificate(key[:10]); err == nil {
		t.Error("short private key: no error")
	}
}

func TestHandshake(t *testing.T) {
	serverKey, serverAuthor := newKey(t, 1)
	clientKey, clientAuthor := newKey(t, 2)
	strangerKey, _ := newKey(t, 3)
	serverCert := mustCert(t, serverKey)
	clientCert := mustCert(t, clientKey)
	strangerCert := mustCert(t, strangerKey)

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecCert := rawCert(t, ecKey.Public(), ecKey, ecKey)
	rsaCert := rawCert(t, rsaKey.Public(), rsaKey, rsaKey)
	// The client's key, in a certificate signed by the stranger: the
	// presenter holds the key, but the key did not sign its certificate.
	forgedClient := rawCert(t, clientKey.Public(), strangerKey, clientKey)
	forgedServer := rawCert(t, serverKey.Public(), strangerKey, serverKey)
	// The client's own certificate presented by someone without its key.
	stolenClient := tls.Certificate{Certificate: clientCert.Certificate, PrivateKey: strangerKey}
	// Two certificates where one is wanted.
	chainClient := tls.Certificate{Certificate: [][]byte{clientCert.Certificate[0], strangerCert.Certificate[0]}, PrivateKey: clientKey}

	accept := tlsid.Accept(serverAuthor, clientAuthor)
	all := func(ledger.Author) error { return nil }

	tests := []struct {
		name       string
		server     *tls.Config
		client     *tls.Config
		wantServer error // nil: server accepts; else the error it must wrap (or any error if errAny)
		wantClient error
	}{
		{
			name:   "members connect",
			server: tlsid.ServerConfig(serverCert, accept),
			client: tlsid.ClientConfig(clientCert, serverAuthor, accept),
		},
		{
			name:   "client without expected key",
			server: tlsid.ServerConfig(serverCert, accept),
			client: tlsid.ClientConfig(clientCert, ledger.Author{}, accept),
		},
		{
			name:       "server refuses unknown client",
			server:     tlsid.ServerConfig(serverCert, accept),
			client:     tlsid.ClientConfig(strangerCert, serverAuthor, all),
			wantServer: tlsid.ErrNotAccepted,
			wantClient: errAny,
		},
		{
			name:       "client refuses unknown server",
			server:     tlsid.ServerConfig(strangerCert, all),
			client:     tlsid.ClientConfig(clientCert, ledger.Author{}, accept),
			wantServer: errAny,
			wantClient: tlsid.ErrNotAccepted,
		},
		{
			name:       "client refuses server with wrong key",
			server:     tlsid.ServerConfig(strangerCert, all),
			client:     tlsid.ClientConfig(clientCert, serverAuthor, all),
			wantServer: errAny,
			wantClient: tlsid.ErrWrongPeer,
		},
		{
			name:       "member server that is not the expected one",
			server:     tlsid.ServerConfig(mustCert(t, clientKey), accept),
			client:     tlsid.ClientConfig(serverCert, serverAuthor, accept),
			wantServer: errAny,
			wantClient: tlsid.ErrWrongPeer,
		},
		{
			name:       "nil accept refuses",
			server:     tlsid.ServerConfig(serverCert, nil),
			client:     tlsid.ClientConfig(clientCert, serverAuthor, accept),
			wantServer: tlsid.ErrNotAccepted,
			wantClient: errAny,
		},
		{
			name:       "ECDSA client",
			server:     tlsid.ServerConfig(serverCert, all),
			client:     tlsid.ClientConfig(ecCert, serverAuthor, all),
			wantServer: tlsid.ErrBadCertificate,
			wantClient: errAny,
		},
		{
			name:       "RSA client",
			server:     tlsid.ServerConfig(serverCert, all),
			client:     tlsid.ClientConfig(rsaCert, serverAuthor, all),
			wantServer: tlsid.ErrBadCertificate,
			wantClient: errAny,
		},
		{
			name:       "ECDSA server",
			server:     tlsid.ServerConfig(ecCert, all),
			client:     tlsid.ClientConfig(clientCert, ledger.Author{}, all),
			wantServer: errAny,
			wantClient: tlsid.ErrBadCertificate,
		},
		{
			name:       "RSA server",
			server:     tlsid.ServerConfig(rsaCert, all),
			client:     tlsid.ClientConfig(clientCert, ledger.Author{}, all),
			wantServer: errAny,
			wantClient: tlsid.ErrBadCertificate,
		},
		{
			name:       "forged client certificate",
			server:     tlsid.ServerConfig(serverCert, all),
			client:     tlsid.ClientConfig(forgedClient, serverAuthor, all),
			wantServer: tlsid.ErrBadCertificate,
			wantClient: errAny,
		},
		{
			name:       "forged server certificate",
			server:     tlsid.ServerConfig(forgedServer, all),
			client:     tlsid.ClientConfig(clientCert, serverAuthor, all),
			wantServer: errAny,
			wantClient: tlsid.ErrBadCertificate,
		},
		{
			// Refused by TLS itself (CertificateVerify), before tlsid looks.
			name:       "client certificate without its key",
			server:     tlsid.ServerConfig(serverCert, all),
			client:     tlsid.ClientConfig(stolenClient, serverAuthor, all),
			wantServer: errAny,
			wantClient: errAny,
		},
		{
			name:       "client sends a chain",
			server:     tlsid.ServerConfig(serverCert, all),
			client:     tlsid.ClientConfig(chainClient, serverAuthor, all),
			wantServer: tlsid.ErrBadCertificate,
			wantClient: errAny,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			serverErr, clientErr, serverSaw, clientSaw := handshake(t, tc.server, tc.client)
			t.Logf("server: %v; client: %v", serverErr, clientErr)
			check := func(side string, got, want error) {
				t.Helper()
				switch {
				case want == nil && got != nil:
					t.Errorf("%s: %v, want success", side, got)
				case want == errAny && got == nil, want != nil && want != errAny && !errors.Is(got, want):
					t.Errorf("%s: error %v, want %v", side, got, want)
				}
			}
			check("server", serverErr, tc.wantServer)
			check("client", clientErr, tc.wantClient)
			if tc.wantServer == nil && tc.wantClient == nil {
				if serverSaw != clientAuthor {
					t.Errorf("server saw %s, want %s", serverSaw.Short(), clientAuthor.Short())
				}
				if clientSaw != serverAuthor {
					t.Errorf("client saw %s, want %s", clientSaw.Short(), serverAuthor.Short())
				}
			}
		})
	}
}

// errAny stands for "some error": the side that is refused sees an alert or
// a closed connection, whose text is TLS's business.
var errAny = errors.New("any error")

func TestPeerAuthorBeforeHandshake(t *testing.T) {
	if _, err := tlsid.PeerAuthor(tls.ConnectionState{}); !errors.Is(err, tlsid.ErrBadCertificate) {
		t.Errorf("PeerAuthor(empty state) = %v, want ErrBadCertificate", err)
	}
}

// TestLoopback runs the handshake over a real TCP listener on port 0.
func TestLoopback(t *testing.T) {
	serverKey, serverAuthor := newKey(t, 1)
	clientKey, clientAuthor := newKey(t, 2)
	accept := tlsid.Accept(serverAuthor, clientAuthor)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsid.ServerConfig(mustCert(t, serverKey), accept))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan ledger.Author, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(got)
			return
		}
		defer c.Close()
		tc := c.(*tls.Conn)
		if err := tc.HandshakeContext(context.Background()); err != nil {
			close(got)
			return
		}
		a, err := tlsid.PeerAuthor(tc.ConnectionState())
		if err != nil {
			close(got)
			return
		}
		got <- a
		_, _ = tc.Write([]byte{1})
	}()
	d := tls.Dialer{Config: tlsid.ClientConfig(mustCert(t, clientKey), serverAuthor, accept)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if a, ok := <-got; !ok || a != clientAuthor {
		t.Errorf("server saw %s (ok=%v), want %s", a.Short(), ok, clientAuthor.Short())
	}
	if st := c.(*tls.Conn).ConnectionState(); st.Version != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want 1.3", st.Version)
	}
}

func TestAccept(t *testing.T) {
	_, a := newKey(t, 1)
	_, b := newKey(t, 2)
	accept := tlsid.Accept(a)
	if err := accept(a); err != nil {
		t.Errorf("accept(a) = %v", err)
	}
	if err := accept(b); err == nil {
		t.Error("accept(b) = nil, want an error")
	}
}
