// Package tlsid gives a node a TLS identity derived from its ed25519 key,
// with no certificate authority, in the way Syncthing identifies devices.
//
// A node's certificate is self-signed and carries the node's own ed25519
// public key, so the TLS handshake itself proves that the peer holds the
// private key of a given ledger.Author (TLS 1.3 CertificateVerify). Standard
// chain verification is switched off and replaced by one check, run on both
// sides of every handshake (see verify):
//
//   - the peer sent exactly one certificate;
//   - its public key is ed25519 and its signature algorithm is Ed25519;
//   - the certificate's signature verifies under the key it carries (it was
//     made by the key's holder, not assembled by someone else);
//   - if the caller knows whom it dialled, the key is that peer's;
//   - the caller's accept function returns nil for the key: the node accepts
//     only keys of the federation's members and applicants.
//
// Names, addresses and validity dates are not checked: the identity is the
// key, and whether a key is welcome is a question for the federation state,
// asked afresh on every handshake through accept.
//
// A gRPC handler finds who called it with
//
//	p, ok := peer.FromContext(ctx)
//	info, ok := p.AuthInfo.(credentials.TLSInfo)
//	author, err := tlsid.PeerAuthor(info.State)
package tlsid

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/caisse-coop/caisse/ledger"
)

var (
	// ErrBadCertificate is a peer certificate (or chain) that is not a
	// well-formed, self-signed ed25519 certificate.
	ErrBadCertificate = errors.New("tlsid: bad peer certificate")
	// ErrWrongPeer is a peer whose key is not the one the caller expected.
	ErrWrongPeer = errors.New("tlsid: unexpected peer key")
	// ErrNotAccepted is returned (wrapping the accept function's error, if
	// any) when the caller's accept function refuses the peer's key.
	ErrNotAccepted = errors.New("tlsid: peer key not accepted")
)

// The validity period is fixed, and long on purpose. The certificate only
// carries the key through TLS: it is not what makes a key trusted (membership
// is, through accept), and nothing here checks its dates. A fixed window
// keeps Certificate deterministic (the same key always gives the same DER),
// and a window from 2020 to 2200 cannot expire under a running federation or
// be "not yet valid" on a node whose clock is wrong, should any other tool
// look at the dates. Revoking a key is done by the federation (exclusion,
// KeyRotation), never by expiry.
var (
	notBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Certificate returns a self-signed X.509 certificate whose public key is
// key's own, with the key's hex as common name and a serial number derived
// from the key. Ed25519 signatures are deterministic, so the same key always
// gives the same certificate bytes.
func Certificate(key ed25519.PrivateKey) (tls.Certificate, error) {
	if len(key) != ed25519.PrivateKeySize {
		return tls.Certificate{}, fmt.Errorf("tlsid: certificate: private key is %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	pub := key.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(pub),
		Subject:               pkix.Name{CommonName: hex.EncodeToString(pub)},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	// The random source is not used for ed25519 keys; pass nil so that
	// nothing suggests otherwise.
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, pub, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsid: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlsid: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// serial is 127 bits of SHA-256 over a label and the public key: fixed for a
// key, positive and non-zero as RFC 5280 asks, and unrelated to any other
// use of the key.
func serial(pub ed25519.PublicKey) *big.Int {
	sum := sha256.Sum256(append([]byte("caisse tlsid serial\x00"), pub...))
	b := sum[:16]
	b[0] &= 0x7f
	b[0] |= 0x40 // never zero, and always 16 bytes long
	return new(big.Int).SetBytes(b)
}

// ServerConfig returns a TLS 1.3 server configuration that presents cert,
// requires a client certificate, and accepts a client only if its
// certificate passes the checks in the package comment and accept returns
// nil for its key. A nil accept refuses every client.
func ServerConfig(cert tls.Certificate, accept func(ledger.Author) error) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// RequireAnyClientCert: a certificate is required, but the standard
		// chain verification is not run; VerifyConnection does the real check.
		ClientAuth: tls.RequireAnyClientCert,
		// No resumption: every connection proves the key afresh in its own
		// handshake. gRPC keeps connections open, so this costs little.
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := verify(cs.PeerCertificates, ledger.Author{}, accept)
			return err
		},
	}
}

// ClientConfig returns a TLS 1.3 client configuration that presents cert
// and accepts a server only if its certificate passes the checks in the
// package comment, its key equals expect (unless expect is the zero Author:
// the peer's key is not known, say when dialling a seed by address), and
// accept returns nil for its key. A nil accept refuses every server.
func ClientConfig(cert tls.Certificate, expect ledger.Author, accept func(ledger.Author) error) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// The chain and host name checks are replaced by VerifyConnection,
		// which runs whatever InsecureSkipVerify says.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := verify(cs.PeerCertificates, expect, accept)
			return err
		},
	}
}

// PeerAuthor returns the key of the peer of a completed handshake made with
// ServerConfig or ClientConfig. It checks the certificate's shape again but
// does not call accept: the handshake did.
func PeerAuthor(state tls.ConnectionState) (ledger.Author, error) {
	if !state.HandshakeComplete {
		return ledger.Author{}, fmt.Errorf("%w: handshake not complete", ErrBadCertificate)
	}
	return author(state.PeerCertificates)
}

// verify is the check that replaces chain verification.
func verify(certs []*x509.Certificate, expect ledger.Author, accept func(ledger.Author) error) (ledger.Author, error) {
	a, err := author(certs)
	if err != nil {
		return ledger.Author{}, err
	}
	if expect != (ledger.Author{}) && a != expect {
		return ledger.Author{}, fmt.Errorf("%w: got %s, want %s", ErrWrongPeer, a.Short(), expect.Short())
	}
	if accept == nil {
		return ledger.Author{}, fmt.Errorf("%w: %s: no accept function", ErrNotAccepted, a.Short())
	}
	if err := accept(a); err != nil {
		return ledger.Author{}, fmt.Errorf("%w: %s: %w", ErrNotAccepted, a.Short(), err)
	}
	return a, nil
}

// author checks that certs is one self-signed ed25519 certificate and
// returns its key.
func author(certs []*x509.Certificate) (ledger.Author, error) {
	if len(certs) != 1 {
		return ledger.Author{}, fmt.Errorf("%w: %d certificates, want exactly 1", ErrBadCertificate, len(certs))
	}
	c := certs[0]
	pub, ok := c.PublicKey.(ed25519.PublicKey)
	if !ok || c.PublicKeyAlgorithm != x509.Ed25519 || len(pub) != ed25519.PublicKeySize {
		return ledger.Author{}, fmt.Errorf("%w: public key is %v, want Ed25519", ErrBadCertificate, c.PublicKeyAlgorithm)
	}
	if c.SignatureAlgorithm != x509.PureEd25519 {
		return ledger.Author{}, fmt.Errorf("%w: signature algorithm is %v, want Ed25519", ErrBadCertificate, c.SignatureAlgorithm)
	}
	// CheckSignatureFrom(c) would refuse a parent that is not a CA; the
	// question here is only whether the key signed its own certificate.
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		return ledger.Author{}, fmt.Errorf("%w: not signed by its own key: %v", ErrBadCertificate, err)
	}
	if !bytes.Equal(c.RawIssuer, c.RawSubject) {
		return ledger.Author{}, fmt.Errorf("%w: issuer is not the subject", ErrBadCertificate)
	}
	return ledger.Author(pub), nil
}

// Accept returns an accept function that accepts exactly the given keys, for
// tests and fixed peer lists. The node passes a function that asks the
// federation state instead.
func Accept(authors ...ledger.Author) func(ledger.Author) error {
	set := make(map[ledger.Author]bool, len(authors))
	for _, a := range authors {
		set[a] = true
	}
	return func(a ledger.Author) error {
		if !set[a] {
			return errors.New("not in the accepted set")
		}
		return nil
	}
}
