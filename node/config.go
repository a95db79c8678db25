package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/caisse-coop/caisse/internal/datadir"
	"github.com/caisse-coop/caisse/ledger"
)

// Config configures a Node. DefaultConfig is complete: it runs a one-member
// federation in DataDir. New validates the Config and owns it afterwards:
// the caller must not use or modify it after calling New.
type Config struct {
	// DataDir holds everything the node keeps: its key, the ledger, the
	// local member register and the operator socket. Created (mode 0700)
	// if missing.
	DataDir string
	// Socket is the operator API's unix socket; empty means
	// DataDir/caissed.sock. Its file mode (0600) is the authentication.
	Socket string
	// Name is this collective's public name, used when the node founds a
	// federation.
	Name string
	// Found makes a node whose ledger is empty found a one-member
	// federation at start, from Federation. When false, the node waits for
	// an operator to found one (caisse init) or to join one.
	Found bool
	// Federation is the charter a founding node signs. It is read only
	// when the node founds a federation; afterwards the charter in the
	// ledger is what counts.
	Federation Charter
	// SyncAddr is where the node serves the sync API, gRPC over TLS, to
	// its peers. Port 0 picks a free port.
	SyncAddr string
	// AdvertiseSync is the sync address peers are told; empty means
	// SyncAddr with the port actually bound.
	AdvertiseSync string
	// GossipAddr is where memberlist listens (UDP and TCP).
	GossipAddr string
	// AdvertiseGossip is the gossip address peers are told; empty means
	// GossipAddr with the port actually bound.
	AdvertiseGossip string
	// GossipProfile tunes failure detection: "lan", "wan" or "local".
	GossipProfile string
	// Join lists gossip addresses of members to join at start, besides the
	// peers the node remembers from earlier runs.
	Join []string
	// AdminAddr is where the node serves, over plain HTTP and read-only,
	// Prometheus metrics (/metrics), its health (/healthz) and runtime
	// profiles (/debug/pprof/). It has no authentication: keep it on
	// loopback or a private network. Empty disables it; port 0 picks one.
	AdminAddr string
	// WebAddr is where the node serves, over plain HTTP and read-only, the
	// dashboard and the JSON API (/api/v1/). Empty disables it; port 0
	// picks one.
	WebAddr string
	// WebOrigins lists the origins (scheme://host[:port]) whose pages may
	// read the JSON API from a browser; "*" allows any.
	WebOrigins []string
	// Tick is the sync core's unit of time.
	Tick time.Duration
	// AntiEntropy is the mean interval between two anti-entropy rounds,
	// each with a random peer; the actual interval is jittered.
	AntiEntropy time.Duration
	// MaxClockAhead is how far ahead of local time an entry's clock may be
	// before it is refused.
	MaxClockAhead time.Duration
	// Logger receives the node's structured logs.
	Logger *slog.Logger
	// Now is the node's clock. Tests inject their own.
	Now func() time.Time
	// Version is reported by the Status RPC.
	Version string
}

// Charter is what a founding node puts in its genesis entry.
type Charter struct {
	// Name is the federation's public name.
	Name string
	// Currency is an ISO 4217 code; Exponent the digits of its minor unit.
	Currency string
	Exponent uint32
	// Rules is the first rule set.
	Rules Rules
}

// Rules is the federation's rule set, in basis points (10000 = 100%).
type Rules struct {
	LevyBP     uint32           // share of contributions owed to the pool
	NeedBP     uint32           // weight of declared need in the split
	MembersBP  uint32           // weight of member counts
	EqualBP    uint32           // weight of equal shares
	Rates      map[string]int64 // value of one unit of need, minor units
	ReserveBP  uint32           // share of the pool kept in reserve
	QuorumBP   uint32           // share of caisses that must vote
	MajorityBP uint32           // share of votes cast needed to adopt
}

// DefaultRules is the rule set of a federation founded with no other say:
// 10% of contributions to the pool, split half by need, a third by members
// and the rest equally; proposals need half the caisses and a majority.
func DefaultRules() Rules {
	return Rules{
		LevyBP: 1000, NeedBP: 5000, MembersBP: 3000, EqualBP: 2000,
		Rates:    map[string]int64{"strike_day": 6000, "legal_case": 50000},
		QuorumBP: 5000, MajorityBP: 5001,
	}
}

// DefaultConfig returns a complete configuration: a node in DefaultDataDir
// that founds a one-member federation in euros on first start.
func DefaultConfig() Config {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return Config{
		DataDir: DefaultDataDir(),
		Name:    "caisse on " + host,
		Found:   true,
		Federation: Charter{
			Name:     "Local federation",
			Currency: "EUR",
			Exponent: 2,
			Rules:    DefaultRules(),
		},
		SyncAddr:      "127.0.0.1:7947",
		GossipAddr:    "127.0.0.1:7946",
		GossipProfile: "lan",
		AdminAddr:     "127.0.0.1:7948",
		WebAddr:       "127.0.0.1:7949",
		Tick:          100 * time.Millisecond,
		AntiEntropy:   30 * time.Second,
		MaxClockAhead: 5 * time.Minute,
		Logger:        slog.Default(),
		Now:           time.Now,
		Version:       "dev",
	}
}

// DefaultDataDir is $XDG_DATA_HOME/caisse, or ~/.local/share/caisse, or
// ./caisse-data when there is no home directory.
func DefaultDataDir() string { return datadir.Default() }

// SocketPath is where a node with this data directory serves its operator
// API unless configured otherwise.
func SocketPath(dataDir string) string { return datadir.Socket(dataDir) }

func (c *Config) validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty"))
	}
	if c.Socket == "" {
		c.Socket = SocketPath(c.DataDir)
	}
	if len(c.Socket) > 100 {
		errs = append(errs, fmt.Errorf("socket path %q is too long for a unix socket (at most 100 bytes)", c.Socket))
	}
	switch c.GossipProfile {
	case "lan", "wan", "local":
	default:
		errs = append(errs, fmt.Errorf("gossip profile %q: want lan, wan or local", c.GossipProfile))
	}
	if c.Tick <= 0 || c.AntiEntropy < 2*c.Tick {
		errs = append(errs, fmt.Errorf("tick %v and anti-entropy %v: want a positive tick and anti-entropy of at least two ticks", c.Tick, c.AntiEntropy))
	}
	if c.MaxClockAhead < time.Second {
		errs = append(errs, fmt.Errorf("max clock ahead %v: at least 1s", c.MaxClockAhead))
	}
	if c.Found {
		if _, err := c.Federation.genesis(c.Name, nil); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("node: config: %w", err)
	}
	return nil
}

// checkName refuses names that could not go into an entry.
func checkName(what, s string) error {
	if s == "" || len(s) > ledger.MaxNameLen {
		return fmt.Errorf("%s %q: want 1 to %d bytes", what, s, ledger.MaxNameLen)
	}
	return nil
}
