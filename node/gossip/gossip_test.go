package gossip_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/memberlist"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/gossip"
)

var (
	keyA = bytes.Repeat([]byte{0xa}, 32)
	keyB = bytes.Repeat([]byte{0xb}, 32)
)

// testLogger sends logs at level and above to t.Log until the test ends;
// memberlist's goroutines may still log after Shutdown returns, and t.Log
// after the end of a test panics.
func testLogger(t testing.TB, level slog.Level) *slog.Logger {
	t.Helper()
	w := &tbWriter{t: t}
	t.Cleanup(func() { // registered first, so it runs after every Shutdown
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type tbWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// recorder is a Handler that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	heads  []heard
	events []string
}

type heard struct {
	From string
	Head gossip.Head
}

func (r *recorder) OnHead(from string, h gossip.Head) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heads = append(r.heads, heard{from, h})
}

func (r *recorder) event(kind string, m gossip.Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, kind+" "+m.Name+" "+m.State.String())
}

func (r *recorder) OnJoin(m gossip.Member)   { r.event("join", m) }
func (r *recorder) OnLeave(m gossip.Member)  { r.event("leave", m) }
func (r *recorder) OnUpdate(m gossip.Member) { r.event("update", m) }

func (r *recorder) Heads() []heard {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.heads)
}

func (r *recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

type node struct {
	*gossip.Gossip
	rec *recorder
}

func baseConfig(t testing.TB, name string) gossip.Config {
	cfg := gossip.Config{
		Name:     name,
		BindAddr: "127.0.0.1",
		BindPort: 0,
		Profile:  "local",
		Key:      keyA,
		Label:    "fed-test",
		Meta:     gossip.Meta{GRPCAddr: fmt.Sprintf("127.0.0.1:%d", 9000+int(name[0]))},
		Logger:   testLogger(t, slog.LevelWarn),
	}
	gossip.Fast(&cfg)
	return cfg
}

func start(t testing.TB, cfg gossip.Config) *node {
	t.Helper()
	rec := &recorder{}
	g, err := gossip.New(cfg, rec)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg.Name, err)
	}
	t.Cleanup(func() { _ = g.Shutdown() })
	return &node{g, rec}
}

// waitFor polls cond every 10ms until it holds, or fails the test after
// 20s. Memberlist runs on wall time, so this is a condition, not a sleep.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func stateOf(g *gossip.Gossip, name string) gossip.State {
	for _, m := range g.Members() {
		if m.Name == name {
			return m.State
		}
	}
	return 0
}

func aliveCount(g *gossip.Gossip) int {
	n := 0
	for _, m := range g.Members() {
		if m.State == gossip.StateAlive {
			n++
		}
	}
	return n
}

func cluster(t testing.TB, names ...string) []*node {
	t.Helper()
	var nodes []*node
	for _, name := range names {
		nodes = append(nodes, start(t, baseConfig(t, name)))
	}
	join(t, nodes)
	return nodes
}

func join(t testing.TB, nodes []*node) {
	t.Helper()
	seed := nodes[0].LocalAddr().String()
	for _, n := range nodes[1:] {
		if _, err := n.Join([]string{seed}); err != nil {
			t.Fatalf("%s: %v", n.Name(), err)
		}
	}
	for _, n := range nodes {
		waitFor(t, n.Name()+" to see everyone alive", func() bool { return aliveCount(n.Gossip) == len(nodes) })
	}
}

func head(author byte, seq ledger.Seq) gossip.Head {
	var h gossip.Head
	h.Author[0] = author
	h.Seq = seq
	h.Hash[0] = byte(seq)
	h.Hash[31] = author
	return h
}

func TestBindPortZero(t *testing.T) {
	a := start(t, baseConfig(t, "a"))
	addr := a.LocalAddr()
	if addr.Port() == 0 || addr.Addr().String() != "127.0.0.1" {
		t.Fatalf("LocalAddr = %v, want 127.0.0.1 and the port picked", addr)
	}
	// The advertised port is the one really listened on: b can join.
	b := start(t, baseConfig(t, "b"))
	if b.LocalAddr() == addr {
		t.Fatalf("two nodes advertise %v", addr)
	}
	if n, err := b.Join([]string{addr.String()}); err != nil || n != 1 {
		t.Fatalf("Join = %d, %v", n, err)
	}
}

func TestJoinMetaAndHeads(t *testing.T) {
	nodes := cluster(t, "a", "b", "c")
	a := nodes[0]

	// Everyone sees everyone's gRPC address and gossip address.
	for _, n := range nodes {
		var got []string
		for _, m := range n.Members() {
			got = append(got, m.Name+" "+m.Meta.GRPCAddr+" "+m.State.String())
		}
		want := []string{"a 127.0.0.1:9097 alive", "b 127.0.0.1:9098 alive", "c 127.0.0.1:9099 alive"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: members (-want +got):\n%s", n.Name(), diff)
		}
		for _, m := range n.Members() {
			want := nodes[slices.IndexFunc(nodes, func(x *node) bool { return x.Name() == m.Name })].LocalAddr()
			if m.Addr != want {
				t.Errorf("%s sees %s at %v, want %v", n.Name(), m.Name, m.Addr, want)
			}
		}
	}

	// A head broadcast by a reaches b and c, once, attributed to a.
	h1 := head(1, 1)
	if err := a.Broadcast(h1); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		waitFor(t, n.Name()+" to hear "+h1.String(), func() bool { return len(n.rec.Heads()) > 0 })
	}
	// A newer head of the same author follows.
	h2 := head(1, 2)
	if err := a.Broadcast(h2); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		waitFor(t, n.Name()+" to hear "+h2.String(), func() bool { return slices.Contains(n.rec.Heads(), heard{"a", h2}) })
		if diff := cmp.Diff([]heard{{"a", h1}, {"a", h2}}, n.rec.Heads()); diff != "" {
			t.Errorf("%s heard (-want +got):\n%s", n.Name(), diff)
		}
		// Each new head is passed on, since memberlist itself does not
		// forward user messages.
		if st := n.Stats(); st.Received != 2 || st.Relayed != 2 || st.Malformed != 0 {
			t.Errorf("%s stats %+v, want 2 received and relayed", n.Name(), st)
		}
	}
	if got := a.rec.Heads(); len(got) != 0 {
		t.Errorf("a heard its own heads: %v", got)
	}
	if got := a.Stats().Broadcast; got != 2 {
		t.Errorf("a: Stats.Broadcast = %d, want 2", got)
	}
	if got := a.Broadcast(head(1, 0)); got == nil {
		t.Error("Broadcast(seq 0) = nil, want an error")
	}
}

func TestMalformedIgnored(t *testing.T) {
	nodes := cluster(t, "a", "b")
	a, b := nodes[0], nodes[1]
	good := gossip.EncodeHead(head(7, 3), "a")
	bad := map[string][]byte{
		"one byte":        {0xff},
		"version 2":       append([]byte{2}, good[1:]...),
		"unknown kind":    append([]byte{1, 9}, good[2:]...),
		"truncated":       good[:40],
		"trailing byte":   append(slices.Clone(good), 0),
		"seq 0":           gossip.EncodeHead(head(7, 0), "a"),
		"empty origin":    gossip.EncodeHead(head(7, 3), ""),
		"leave truncated": {1, 2, 5, 'a'},
	}
	for name, msg := range bad {
		if err := gossip.SendRaw(a.Gossip, "b", msg); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Then a good one. Memberlist handles queued messages last in, first
	// out, so the order of processing is not known: wait for each effect.
	if err := gossip.SendRaw(a.Gossip, "b", good); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b to count the malformed messages", func() bool { return b.Stats().Malformed == uint64(len(bad)) })
	waitFor(t, "b to hear the good head", func() bool { return len(b.rec.Heads()) == 1 })
	if diff := cmp.Diff([]heard{{"a", head(7, 3)}}, b.rec.Heads()); diff != "" {
		t.Errorf("b heard (-want +got):\n%s", diff)
	}
	if aliveCount(b.Gossip) != 2 {
		t.Errorf("b members after bad input: %v", b.Members())
	}
}

func TestDeadAndLeft(t *testing.T) {
	nodes := cluster(t, "a", "b", "c")
	a, b, c := nodes[0], nodes[1], nodes[2]

	if err := c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see c dead", func() bool { return stateOf(a.Gossip, "c") == gossip.StateDead })
	waitFor(t, "b to see c dead", func() bool { return stateOf(b.Gossip, "c") == gossip.StateDead })

	if err := b.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see b left", func() bool { return stateOf(a.Gossip, "b") == gossip.StateLeft })

	events := a.rec.Events()
	for _, want := range []string{"join b alive", "join c alive", "leave c dead", "leave b left"} {
		if !slices.Contains(events, want) {
			t.Errorf("a's handler events %q lack %q", events, want)
		}
	}
	if err := b.Leave(time.Second); err == nil {
		t.Error("Leave after Shutdown = nil, want an error")
	}
	if err := b.Shutdown(); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
}

func TestRejoinAfterShutdown(t *testing.T) {
	nodes := cluster(t, "a", "b")
	a, b := nodes[0], nodes[1]
	if err := b.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see b dead", func() bool { return stateOf(a.Gossip, "b") == gossip.StateDead })
	// b comes back at a new port, with a new gRPC address.
	cfg := baseConfig(t, "b")
	cfg.Meta.GRPCAddr = "127.0.0.1:4242"
	b2 := start(t, cfg)
	if _, err := b2.Join([]string{a.LocalAddr().String()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see b alive again", func() bool { return stateOf(a.Gossip, "b") == gossip.StateAlive })
	for _, m := range a.Members() {
		if m.Name == "b" && (m.Meta.GRPCAddr != "127.0.0.1:4242" || m.Addr != b2.LocalAddr()) {
			t.Errorf("a sees b as %+v, want its new addresses", m)
		}
	}
}

func TestSeparateFederations(t *testing.T) {
	a := start(t, baseConfig(t, "a"))
	seed := []string{a.LocalAddr().String()}

	otherKey := baseConfig(t, "k")
	otherKey.Key = keyB
	k := start(t, otherKey)
	if n, err := k.Join(seed); err == nil {
		t.Errorf("join with another key: %d joined, no error", n)
	}

	otherLabel := baseConfig(t, "l")
	otherLabel.Label = "fed-other"
	l := start(t, otherLabel)
	if n, err := l.Join(seed); err == nil {
		t.Errorf("join with another label: %d joined, no error", n)
	}

	// And the other way round: a cannot pull them in either.
	if n, err := a.Join([]string{k.LocalAddr().String(), l.LocalAddr().String()}); err == nil {
		t.Errorf("a joined %d nodes of other federations", n)
	}
	for _, n := range []*node{a, k, l} {
		if got := len(n.Members()); got != 1 {
			t.Errorf("%s knows %d members, want only itself: %v", n.Name(), got, n.Members())
		}
	}
}

// TestMockNetwork runs nodes over memberlist's in-memory transport.
func TestMockNetwork(t *testing.T) {
	var network memberlist.MockNetwork
	names := []string{"a", "b", "c"}
	// MockNetwork.NewTransport is not safe to call while nodes run.
	transports := make([]*memberlist.MockTransport, len(names))
	for i, name := range names {
		transports[i] = network.NewTransport(name)
	}
	var nodes []*node
	for i, name := range names {
		cfg := baseConfig(t, name)
		cfg.Transport = transports[i]
		nodes = append(nodes, start(t, cfg))
	}
	join(t, nodes)
	h := head(9, 5)
	if err := nodes[2].Broadcast(h); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[:2] {
		waitFor(t, n.Name()+" to hear "+h.String(), func() bool { return slices.Contains(n.rec.Heads(), heard{"c", h}) })
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(*gossip.Config)
		want   string
	}{
		{"no name", func(c *gossip.Config) { c.Name = "" }, "node name"},
		{"long name", func(c *gossip.Config) { c.Name = strings.Repeat("n", 256) }, "node name"},
		{"no key", func(c *gossip.Config) { c.Key = nil }, "key is 0 bytes"},
		{"short key", func(c *gossip.Config) { c.Key = keyA[:10] }, "key is 10 bytes"},
		{"profile", func(c *gossip.Config) { c.Profile = "fast" }, "profile"},
		{"host name", func(c *gossip.Config) { c.BindAddr = "localhost" }, "bind address"},
		{"empty bind address", func(c *gossip.Config) { c.BindAddr = "" }, "bind address"},
		{"bind :: alone", func(c *gossip.Config) { c.BindAddr = "::" }, "advertise address"},
		{"advertise host name", func(c *gossip.Config) { c.AdvertiseAddr = "example.org" }, "advertise address"},
		{"advertise port with port 0", func(c *gossip.Config) { c.AdvertisePort = 7946 }, "advertise port"},
		{"port range", func(c *gossip.Config) { c.BindPort = 70000 }, "out of range"},
		{"label", func(c *gossip.Config) { c.Label = strings.Repeat("l", 256) }, "label"},
		{"gRPC address", func(c *gossip.Config) { c.Meta.GRPCAddr = "no-port" }, "gRPC address"},
		{"long gRPC address", func(c *gossip.Config) { c.Meta.GRPCAddr = strings.Repeat("h", 300) + ":1" }, "gRPC address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(t, "a")
			tc.change(&cfg)
			g, err := gossip.New(cfg, nil)
			if err == nil {
				g.Shutdown()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
