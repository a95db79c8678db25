package gossip

import (
	"fmt"
	"time"

	"github.com/hashicorp/memberlist"
)

// Fast sets memberlist timings short enough for tests on loopback: a
// failure is detected within about a second.
func Fast(c *Config) {
	c.tune = func(mc *memberlist.Config) {
		mc.ProbeInterval = 100 * time.Millisecond
		mc.ProbeTimeout = 50 * time.Millisecond
		mc.SuspicionMult = 2
		mc.GossipInterval = 20 * time.Millisecond
		mc.PushPullInterval = time.Second
		mc.TCPTimeout = time.Second
		mc.GossipToTheDeadTime = time.Second
	}
}

// SendRaw sends b to the member named to as a user message, as any holder
// of the gossip key could.
func SendRaw(g *Gossip, to string, b []byte) error {
	for _, n := range g.ml.Members() {
		if n.Name == to {
			return g.ml.SendBestEffort(n, b)
		}
	}
	return fmt.Errorf("no member %q", to)
}

// EncodeHead is the wire form of a head announced by origin.
func EncodeHead(h Head, origin string) []byte { return appendHead(nil, h, origin) }
