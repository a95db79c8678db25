package nodetest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// FreeAddr returns a loopback address whose port was free for both TCP and
// UDP a moment ago, for a node that must keep its address across restarts
// (port 0 would give it a new one each time).
//
// The port is picked below the kernel's ephemeral range, so that the
// sockets other tests open on port 0, and outgoing connections, cannot take
// it between this call and the node's bind. Packages test in parallel, so
// the pick is random and checked.
func FreeAddr(t testing.TB) string {
	t.Helper()
	lo := ephemeralLow()
	const base = 10000
	if lo <= base+1000 {
		t.Fatalf("the ephemeral port range starts at %d: no room below it for fixed test ports", lo)
	}
	for range 200 {
		port := base + rand.IntN(lo-base)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if free(addr) {
			return addr
		}
	}
	t.Fatalf("no free loopback port found in %d..%d", base, lo-1)
	return ""
}

// free reports whether addr can be bound for TCP and UDP (gossip uses both).
func free(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// where it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}

// Exited reports whether the process has ended, and if so a description of
// how, with its logs: what a test prints when a node it talks to is gone.
func (p *Proc) Exited() (string, bool) {
	select {
	case <-p.done:
		return fmt.Sprintf("caissed on %s exited: %v\n%s", p.DataDir, p.err, p.Logs()), true
	default:
		return "", false
	}
}
