package gossip

import (
	"bytes"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/memberlist"
)

type eventLog struct {
	mu  sync.Mutex
	got []string
}

func (l *eventLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, s)
}
func (l *eventLog) OnHead(from string, h Head) { l.add("head " + from + " " + h.String()) }
func (l *eventLog) OnJoin(m Member)            { l.add("join " + m.Name + " " + m.State.String()) }
func (l *eventLog) OnLeave(m Member)           { l.add("leave " + m.Name + " " + m.State.String()) }
func (l *eventLog) OnUpdate(m Member)          { l.add("update " + m.Name + " " + m.Meta.GRPCAddr) }
func (l *eventLog) events() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestMemberEvents drives the event delegate directly, as memberlist would,
// to pin the order-dependent cases: a leave notice before or after the
// death it explains, and one that comes too late.
func TestMemberEvents(t *testing.T) {
	var network memberlist.MockNetwork
	clock := &fakeClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	log := &eventLog{}
	g, err := New(Config{
		Name:      "self",
		Key:       bytes.Repeat([]byte{1}, 16),
		Transport: network.NewTransport("self"),
		Now:       clock.Now,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown()
	ev := events{g}
	node := func(name, grpc string) *memberlist.Node {
		meta, err := Meta{GRPCAddr: grpc}.encode()
		if err != nil {
			t.Fatal(err)
		}
		return &memberlist.Node{Name: name, Addr: net.IPv4(10, 0, 0, 1), Port: 7946, Meta: meta}
	}

	ev.NotifyJoin(node("early", "10.0.0.1:1"))
	ev.NotifyJoin(node("late", "10.0.0.1:2"))
	ev.NotifyJoin(node("crash", "10.0.0.1:3"))
	ev.NotifyJoin(node("stale", "10.0.0.1:4"))
	ev.NotifyUpdate(node("early", "10.0.0.1:5"))
	ev.NotifyJoin(&memberlist.Node{Name: "badmeta", Meta: []byte{1, 9, 'x'}})

	// The notice comes first: one OnLeave, already "left".
	g.receive(appendLeave(nil, "early"))
	ev.NotifyLeave(node("early", "10.0.0.1:5"))
	// The death comes first: OnLeave twice.
	ev.NotifyLeave(node("late", "10.0.0.1:2"))
	clock.Advance(time.Second)
	g.receive(appendLeave(nil, "late"))
	// No notice: dead.
	ev.NotifyLeave(node("crash", "10.0.0.1:3"))
	// A notice long after the death changes nothing.
	ev.NotifyLeave(node("stale", "10.0.0.1:4"))
	clock.Advance(2 * leaveIntentTTL)
	g.receive(appendLeave(nil, "stale"))
	// Notices about ourselves or unknown nodes are ignored.
	g.receive(appendLeave(nil, "self"))
	g.receive(appendLeave(nil, "nobody"))

	want := []string{
		"join early alive",
		"join late alive",
		"join crash alive",
		"join stale alive",
		"update early 10.0.0.1:5",
		"join badmeta alive",
		"leave early left",
		"leave late dead",
		"leave late left",
		"leave crash dead",
		"leave stale dead",
	}
	if diff := cmp.Diff(want, log.events()); diff != "" {
		t.Errorf("handler events (-want +got):\n%s", diff)
	}

	var got []string
	for _, m := range g.Members() {
		got = append(got, m.Name+" "+m.State.String()+" "+m.Meta.GRPCAddr)
	}
	wantMembers := []string{
		"badmeta alive ",
		"crash dead 10.0.0.1:3",
		"early left 10.0.0.1:5",
		"late left 10.0.0.1:2",
		"self alive ",
		"stale dead 10.0.0.1:4",
	}
	if diff := cmp.Diff(wantMembers, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if st := g.Stats(); st.BadMeta != 1 {
		t.Errorf("Stats.BadMeta = %d, want 1", st.BadMeta)
	}

	// A dead node that comes back is alive again.
	ev.NotifyJoin(node("crash", "10.0.0.1:3"))
	if got := log.events(); got[len(got)-1] != "join crash alive" {
		t.Errorf("last event %q", got[len(got)-1])
	}
}

// TestGoneBounded checks that dead members are forgotten, oldest first,
// beyond maxGone.
func TestGoneBounded(t *testing.T) {
	var network memberlist.MockNetwork
	clock := &fakeClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	g, err := New(Config{Name: "self", Key: bytes.Repeat([]byte{1}, 16), Transport: network.NewTransport("self"), Now: clock.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown()
	ev := events{g}
	for i := range maxGone + 10 {
		n := &memberlist.Node{Name: string(rune('A'+i%26)) + string(rune('0'+i/26%10)) + string(rune('a'+i/260))}
		ev.NotifyJoin(n)
		clock.Advance(time.Second)
		ev.NotifyLeave(n)
	}
	members := g.Members()
	if len(members) != maxGone+1 {
		t.Fatalf("%d members remembered, want %d gone and self", len(members), maxGone)
	}
	for _, m := range members {
		if m.Name == "A0a" { // the first to die
			t.Errorf("oldest dead member %q still remembered", m.Name)
		}
	}
}
