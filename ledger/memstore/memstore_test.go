package memstore_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/ledger/memstore"
)

func TestStore(t *testing.T) {
	ledgertest.Store(t, func(testing.TB) ledger.Store { return memstore.New() })
}

// TestFailCommit checks that a failed commit stores nothing, leaves the
// store usable, and that the failure reaches the caller.
func TestFailCommit(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	a := ledgertest.NewAuthor(t, 1)
	g := a.Genesis(t, "fédération")
	fed := g.Hash()
	if err := s.Append(g); err != nil {
		t.Fatal(err)
	}
	e2, e3 := a.Contribution(t, fed, 100, ledgertest.Period), a.Contribution(t, fed, 200, ledgertest.Period)

	calls := 0
	s.FailCommit = func() error { calls++; return syscall.ENOSPC }
	if err := s.Append(e2, e3); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append with a failing commit: error %v, want ENOSPC", err)
	}
	// A batch refused by its checks never reaches the commit.
	if err := s.Append(a.Gap(t, fed)); !errors.Is(err, ledger.ErrGap) {
		t.Fatalf("Append of a gap: error %v, want ErrGap", err)
	}
	if calls != 1 {
		t.Errorf("FailCommit called %d times, want 1", calls)
	}
	if n, err := s.Count(); err != nil || n != 1 {
		t.Errorf("Count() = %d, %v; want 1", n, err)
	}
	if h, err := s.Head(a.ID); err != nil || h != g.Head() {
		t.Errorf("Head() = %v, %v; want the genesis", h, err)
	}
	if got, err := s.MaxTime(); err != nil || got != g.Time() {
		t.Errorf("MaxTime() = %v, %v; want %v", got, err, g.Time())
	}
	if _, err := s.Get(a.ID, 2); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Get(2): error %v, want ErrNotFound", err)
	}

	s.FailCommit = nil
	if err := s.Append(e2, e3); err != nil {
		t.Fatalf("Append once the disk has room: %v", err)
	}
	if h, err := s.Head(a.ID); err != nil || h != e3.Head() {
		t.Errorf("Head() = %v, %v; want entry 3", h, err)
	}
}

func TestFailRead(t *testing.T) {
	s := memstore.New()
	defer s.Close()
	a := ledgertest.NewAuthor(t, 1)
	if err := s.Append(a.Genesis(t, "fédération")); err != nil {
		t.Fatal(err)
	}
	s.FailRead = func() error { return syscall.EIO }
	for name, call := range map[string]func() error{
		"Get":     func() error { _, err := s.Get(a.ID, 1); return err },
		"Head":    func() error { _, err := s.Head(a.ID); return err },
		"Vector":  func() error { _, err := s.Vector(); return err },
		"Scan":    func() error { return s.Scan(a.ID, 1, func(ledger.Entry) error { return nil }) },
		"ScanAll": func() error { return s.ScanAll(func(ledger.Entry) error { return nil }) },
		"Count":   func() error { _, err := s.Count(); return err },
		"MaxTime": func() error { _, err := s.MaxTime(); return err },
	} {
		if err := call(); !errors.Is(err, syscall.EIO) {
			t.Errorf("%s: error %v, want EIO", name, err)
		}
	}
	s.FailRead = nil
	if _, err := s.Get(a.ID, 1); err != nil {
		t.Errorf("Get once reads work again: %v", err)
	}
}
