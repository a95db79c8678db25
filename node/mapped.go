package node

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"time"
)

// The badger store maps its files into memory, and every page of them that
// was read or written stays in the node's resident memory until the file is
// unmapped. A replay or a catch-up goes through the whole store, so that at
// a million entries a node would stay at 300 MiB of resident memory, most of
// it file pages the kernel can reclaim but that count against the node all
// the same. The node reopens its store to unmap them (badgerstore's
// Reopen): after replaying it at start, once caught up, and while catching
// up whenever the mapped pages pass mappedBudget.

// reopener is a store that can be reopened (badgerstore.Store).
type reopener interface{ Reopen() (bool, error) }

// mappedBudget is the resident memory of mapped files (RssFile, which also
// counts the node's own executable) past which a node catching up reopens
// its store; reopenEvery is the shortest time between two such reopens. A
// reopen takes 10 to 500 ms at a million entries, while store calls wait:
// at one a second, a catch-up of a million entries took no longer.
const (
	mappedBudget = 32 << 20
	reopenEvery  = time.Second
)

// reopenStore reopens the store, if it can be, to unmap its files. While
// calls are in progress it cannot; it tries again for up to patience. It
// reports whether it reopened. A store that fails to open again is broken
// for good: that is logged, and every later store call fails with it.
func (n *Node) reopenStore(why string, patience time.Duration) bool {
	s, ok := n.store.(reopener)
	if !ok {
		return false
	}
	deadline := time.Now().Add(patience)
	for {
		start := time.Now()
		ok, err := s.Reopen()
		switch {
		case err != nil:
			n.log.Error("store: reopening to unmap its files failed; the store is closed", "why", why, "err", err)
			return false
		case ok:
			n.log.Debug("store reopened to unmap its files", "why", why, "took", time.Since(start).Round(time.Millisecond))
			return true
		case time.Now().After(deadline):
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rssFile is the process's resident memory of mapped files, from
// /proc/self/status, or ok false where there is none.
func rssFile() (n int64, ok bool) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		v, found := bytes.CutPrefix(sc.Bytes(), []byte("RssFile:"))
		if !found {
			continue
		}
		f := bytes.Fields(v)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		return kb << 10, err == nil
	}
	return 0, false
}
