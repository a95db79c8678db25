package gossip

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/memberlist"

	"github.com/caisse-coop/caisse/ledger"
)

func testHead(author byte, seq ledger.Seq) Head {
	var h Head
	h.Author[0], h.Author[31] = author, 0xaa
	h.Seq = seq
	h.Hash[0], h.Hash[31] = byte(seq), 0xbb
	return h
}

func TestHeadEncoding(t *testing.T) {
	h := testHead(1, 0x0102030405060708)
	b := appendHead(nil, h, "node-a")
	if len(b) != headFixed+len("node-a") {
		t.Fatalf("encoded head is %d bytes", len(b))
	}
	// The layout is a protocol: pin it.
	want := []byte{1, 1}
	want = append(want, h.Author[:]...)
	want = append(want, 1, 2, 3, 4, 5, 6, 7, 8)
	want = append(want, h.Hash[:]...)
	want = append(want, 6, 'n', 'o', 'd', 'e', '-', 'a')
	if !bytes.Equal(b, want) {
		t.Fatalf("encoding\n got %x\nwant %x", b, want)
	}
	m, err := decodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(message{kind: kindHead, head: h, name: "node-a"}, m, cmp.AllowUnexported(message{})); diff != "" {
		t.Errorf("decode (-want +got):\n%s", diff)
	}

	m, err = decodeMessage(appendLeave(nil, "node-b"))
	if err != nil || m.kind != kindLeave || m.name != "node-b" {
		t.Errorf("leave round trip: %+v, %v", m, err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	good := appendHead(nil, testHead(1, 1), "a")
	tests := map[string][]byte{
		"nil":           nil,
		"one byte":      {1},
		"version 0":     append([]byte{0}, good[1:]...),
		"version 2":     append([]byte{2}, good[1:]...),
		"kind 0":        append([]byte{1, 0}, good[2:]...),
		"truncated":     good[:headFixed-1],
		"no origin":     good[:headFixed],
		"short origin":  good[:len(good)-1],
		"trailing":      append(bytes.Clone(good), 'x'),
		"seq 0":         appendHead(nil, testHead(1, 0), "a"),
		"bad utf-8":     appendHead(nil, testHead(1, 1), "\xff"),
		"leave empty":   {1, 2, 0},
		"leave short":   {1, 2},
		"leave length":  {1, 2, 3, 'a', 'b'},
		"leave surplus": {1, 2, 1, 'a', 'b'},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeMessage(b); !errors.Is(err, errMalformed) {
				t.Errorf("decode(%x) = %v, want errMalformed", b, err)
			}
		})
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add(appendHead(nil, testHead(1, 1), "a"))
	f.Add(appendLeave(nil, "b"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes: one meaning per message.
		var again []byte
		if m.kind == kindHead {
			again = appendHead(nil, m.head, m.name)
		} else {
			again = appendLeave(nil, m.name)
		}
		if !bytes.Equal(again, b) {
			t.Errorf("decode(%x) re-encodes to %x", b, again)
		}
	})
}

func TestMeta(t *testing.T) {
	b, err := Meta{GRPCAddr: "[2001:db8::1]:7000"}.encode()
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMeta(b)
	if err != nil || m.GRPCAddr != "[2001:db8::1]:7000" {
		t.Errorf("round trip: %+v, %v", m, err)
	}
	// A later version that appends fields still gives its address.
	newer := append([]byte{2}, b[1:]...)
	newer = append(newer, 0xde, 0xad)
	if m, err := decodeMeta(newer); err != nil || m.GRPCAddr != "[2001:db8::1]:7000" {
		t.Errorf("newer meta: %+v, %v", m, err)
	}
	if m, err := decodeMeta(nil); err != nil || m != (Meta{}) {
		t.Errorf("empty meta: %+v, %v", m, err)
	}
	for name, bad := range map[string][]byte{
		"version 0": {0, 0},
		"short":     {1},
		"truncated": b[:len(b)-1],
		"no port":   append([]byte{1, 4}, "host"...),
	} {
		if _, err := decodeMeta(bad); err == nil {
			t.Errorf("%s: decodeMeta(%x) = nil error", name, bad)
		}
	}
	// The largest Meta fits memberlist's limit.
	b, err = Meta{GRPCAddr: strings.Repeat("h", 249) + ":65535"}.encode()
	if err != nil || len(b) > memberlist.MetaMaxSize {
		t.Errorf("largest meta: %d bytes, %v", len(b), err)
	}
}

func TestSeenCache(t *testing.T) {
	c := newSeenCache(2)
	h1, h2, h3 := testHead(1, 1), testHead(1, 2), testHead(1, 3)
	for i, step := range []struct {
		h    Head
		want bool
	}{{h1, true}, {h1, false}, {h2, true}, {h3, true}, {h2, false}, {h1, true}} {
		if got := c.add(step.h); got != step.want {
			t.Errorf("step %d: add(%v) = %v, want %v", i, step.h, got, step.want)
		}
	}
}

// TestQueue checks per-author replacement and the bound, on a node alone
// (memberlist's queue is drained only towards other nodes).
func TestQueue(t *testing.T) {
	var network memberlist.MockNetwork
	cfg := Config{
		Name:       "alone",
		Key:        bytes.Repeat([]byte{1}, 16),
		Transport:  network.NewTransport("alone"),
		QueueLimit: 4,
	}
	g, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown()

	must := func(h Head) {
		t.Helper()
		if err := g.Broadcast(h); err != nil {
			t.Fatal(err)
		}
	}
	must(testHead(1, 1))
	must(testHead(1, 2))
	if st := g.Stats(); st.Queued != 1 || st.Replaced != 1 {
		t.Errorf("after two heads of one author: %+v, want 1 queued, 1 replaced", st)
	}
	// A relayed older head does not replace the queued newer one.
	g.enqueue(testHead(1, 1), "other", true)
	if st := g.Stats(); st.Queued != 1 || st.Replaced != 1 || st.Relayed != 0 {
		t.Errorf("after a stale relay: %+v", st)
	}
	if q := g.queued[testHead(1, 0).Author]; q.head.Seq != 2 {
		t.Errorf("queued head for author 1 is at seq %d, want 2", q.head.Seq)
	}
	for a := byte(2); a <= 6; a++ {
		must(testHead(a, 1))
	}
	if st := g.Stats(); st.Queued != 4 || st.Dropped != 2 || st.Broadcast != 7 {
		t.Errorf("after 6 authors with a limit of 4: %+v, want 4 queued, 2 dropped", st)
	}
	// What is handed out decodes.
	for _, b := range g.queue.GetBroadcasts(2, 1400) {
		if _, err := decodeMessage(b); err != nil {
			t.Errorf("queued message: %v", err)
		}
	}
}

func TestLogWriter(t *testing.T) {
	var buf bytes.Buffer
	w := logWriter{slogTo(&buf)}
	w.Write([]byte("[WARN] memberlist: Refuting a suspect message (from: b)\n"))
	w.Write([]byte("[DEBUG] memberlist: Stream connection\n"))
	got := buf.String()
	if !strings.Contains(got, "level=WARN msg=\"Refuting a suspect message (from: b)\" component=memberlist") {
		t.Errorf("log output %q", got)
	}
	if !strings.Contains(got, "level=DEBUG msg=\"Stream connection\"") {
		t.Errorf("log output %q", got)
	}
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// TestQueueKeepsEveryHead replays the sequences that make memberlist
// v0.7.0's queue lose a message when it becomes empty (see pin).
func TestQueueKeepsEveryHead(t *testing.T) {
	var network memberlist.MockNetwork
	newAlone := func(name string) *Gossip {
		g, err := New(Config{Name: name, Key: bytes.Repeat([]byte{1}, 16), Transport: network.NewTransport(name)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Shutdown() })
		return g
	}
	sent := func(g *Gossip, limit int) []Head {
		var out []Head
		for _, b := range g.queue.GetBroadcasts(2, limit) {
			m, err := decodeMessage(b)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m.head)
		}
		return out
	}

	// A head replaces the only one queued, then two more come.
	g := newAlone("replace")
	for _, h := range []Head{testHead(1, 1), testHead(1, 2), testHead(2, 1), testHead(3, 1)} {
		if err := g.Broadcast(h); err != nil {
			t.Fatal(err)
		}
	}
	if got := g.Stats().Queued; got != 3 {
		t.Errorf("queued %d heads, want 3", got)
	}
	want := []Head{testHead(3, 1), testHead(2, 1), testHead(1, 2)} // newest first
	if diff := cmp.Diff(want, sent(g, 1400)); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}

	// The only queued head is taken to be sent, then another comes and is
	// sent alone (a packet with room for one): both must still be queued.
	g = newAlone("drain")
	g.numAlive.Store(1000) // a big federation: several transmits per head
	if err := g.Broadcast(testHead(1, 1)); err != nil {
		t.Fatal(err)
	}
	if got := sent(g, 1400); len(got) != 1 {
		t.Fatalf("first round sent %v", got)
	}
	if err := g.Broadcast(testHead(2, 1)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Head{testHead(2, 1)}, sent(g, 100)); diff != "" {
		t.Errorf("second round sent (-want +got):\n%s", diff)
	}
	want = []Head{testHead(2, 1), testHead(1, 1)}
	if diff := cmp.Diff(want, sent(g, 1400)); diff != "" {
		t.Errorf("third round sent (-want +got):\n%s", diff)
	}
}
