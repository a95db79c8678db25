package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Files in the data directory.
const (
	keyFile       = "node.key"      // the collective's ed25519 key, PKCS#8 PEM
	pseudonymFile = "pseudonym.key" // the local key member pseudonyms are derived with
	ledgerDir     = "ledger"        // the badger store
	stateFile     = "state.ckpt"    // the federation state at the last clean stop: derived, never replicated
	registerFile  = "register.json" // local member register: never replicated
	configFile    = "caissed.toml"
)

// loadOrCreateKey reads the node key at path, or creates it if the file does
// not exist. A key file is never overwritten, and one that others can read
// is refused, as ssh refuses one.
func loadOrCreateKey(path string) (ed25519.PrivateKey, bool, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, false, fmt.Errorf("node: generate key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, false, fmt.Errorf("node: encode key: %w", err)
		}
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := writeNewFile(path, pemBytes); err != nil {
			return nil, false, fmt.Errorf("node: write key: %w", err)
		}
		return key, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("node: read key: %w", err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, false, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, false, fmt.Errorf("node: key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, false, fmt.Errorf("node: key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, false, fmt.Errorf("node: key %s: %T, want ed25519", path, k)
	}
	return key, false, nil
}

// loadOrCreateSecret reads a random secret of size bytes at path, creating
// it if missing.
func loadOrCreateSecret(path string, size int) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret := make([]byte, size)
		rand.Read(secret)
		if err := writeNewFile(path, secret); err != nil {
			return nil, fmt.Errorf("node: write %s: %w", path, err)
		}
		return secret, nil
	}
	if err != nil {
		return nil, fmt.Errorf("node: read %s: %w", path, err)
	}
	if err := checkPrivate(path); err != nil {
		return nil, err
	}
	if len(raw) != size {
		return nil, fmt.Errorf("node: %s holds %d bytes, want %d", path, len(raw), size)
	}
	return raw, nil
}

// writeNewFile creates path with mode 0600, failing if it exists, and syncs
// it and its directory so that it survives a crash.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(path)
}

func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("node: %s has mode %v: others can read it; run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}
