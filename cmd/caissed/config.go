package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/peterbourgon/ff/v3"
	"github.com/peterbourgon/ff/v3/fftoml"

	"github.com/caisse-coop/caisse/node"
)

const configName = "caissed.toml"

// logConfig holds the settings that are not the node's: logging, and the
// demo switch.
type logConfig struct {
	level, format string
	demo          bool
}

// configPath is the --config flag: empty means <data-dir>/caissed.toml,
// worked out after flags and environment have set the data directory.
type configPath struct {
	explicit string
	dataDir  *string
}

func (c *configPath) String() string {
	if c.explicit != "" || c.dataDir == nil {
		return c.explicit
	}
	return filepath.Join(*c.dataDir, configName)
}

func (c *configPath) Set(s string) error { c.explicit = s; return nil }

// rates is the --rules.rates flag: "unit=amount,unit=amount".
type rates map[string]int64

func (r *rates) String() string {
	var parts []string
	for unit, v := range *r {
		parts = append(parts, unit+"="+strconv.FormatInt(v, 10))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (r *rates) Set(s string) error {
	next := map[string]int64{}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		unit, v, ok := strings.Cut(part, "=")
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if !ok || err != nil || n < 0 || strings.TrimSpace(unit) == "" {
			return fmt.Errorf("rate %q: want unit=amount in minor units", part)
		}
		next[strings.TrimSpace(unit)] = n
	}
	*r = next
	return nil
}

// flags declares every setting. The flag name is also the config file key
// (a dot separates a table from its key) and, upper-cased with CAISSE_
// before it and _ for - and ., the environment variable.
func flags(cfg *node.Config, lc *logConfig, cp *configPath) *flag.FlagSet {
	fs := flag.NewFlagSet("caissed", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the node's key, ledger, member register and socket")
	fs.Var(cp, "config", "config file (default <data-dir>/"+configName+")")
	fs.StringVar(&cfg.Socket, "socket", cfg.Socket, "operator API unix socket (default <data-dir>/caissed.sock)")
	fs.StringVar(&cfg.Name, "name", cfg.Name, "this collective's public name, used when founding a federation")
	fs.BoolVar(&cfg.Found, "found", cfg.Found, "found a one-member federation on first start; false waits for caisse init or a join")
	fs.StringVar(&cfg.SyncAddr, "sync-addr", cfg.SyncAddr, "address of the sync API (gRPC over TLS) for peers; port 0 picks one")
	fs.StringVar(&cfg.AdvertiseSync, "advertise-sync", cfg.AdvertiseSync, "sync address told to peers (default: sync-addr as bound)")
	fs.StringVar(&cfg.GossipAddr, "gossip-addr", cfg.GossipAddr, "address of membership gossip (UDP and TCP); port 0 picks one")
	fs.StringVar(&cfg.AdvertiseGossip, "advertise-gossip", cfg.AdvertiseGossip, "gossip address told to peers (default: gossip-addr as bound)")
	fs.StringVar(&cfg.GossipProfile, "gossip-profile", cfg.GossipProfile, "failure detection timing: lan, wan or local")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", cfg.AdminAddr, "address of the admin HTTP listener (/metrics, /healthz, /debug/pprof/), read-only and unauthenticated; empty disables it")
	fs.StringVar(&cfg.WebAddr, "web-addr", cfg.WebAddr, "address of the dashboard and JSON API over HTTP, read-only; empty disables it")
	fs.Var((*stringList)(&cfg.WebOrigins), "web-origins", "origins (scheme://host:port) whose pages may read the JSON API, comma-separated; * for any")
	fs.Var((*stringList)(&cfg.Join), "join", "gossip addresses of members to join at start, comma-separated")
	fs.DurationVar(&cfg.AntiEntropy, "anti-entropy", cfg.AntiEntropy, "mean interval between anti-entropy rounds with a random peer")
	fs.DurationVar(&cfg.MaxClockAhead, "max-clock-ahead", cfg.MaxClockAhead, "refuse entries stamped further ahead of local time than this")
	fs.BoolVar(&lc.demo, "demo", false, "run a demo federation of three nodes on loopback, in a temporary directory")
	fs.StringVar(&lc.level, "log-level", lc.level, "debug, info, warn or error")
	fs.StringVar(&lc.format, "log-format", lc.format, "text or json")
	fs.StringVar(&cfg.Federation.Name, "federation.name", cfg.Federation.Name, "name of the federation this node founds")
	fs.StringVar(&cfg.Federation.Currency, "federation.currency", cfg.Federation.Currency, "ISO 4217 currency code of the federation this node founds")
	exp := (*uintFlag)(&cfg.Federation.Exponent)
	fs.Var(exp, "federation.exponent", "digits of the currency's minor unit (2 for cents)")
	r := &cfg.Federation.Rules
	for _, f := range []struct {
		p    *uint32
		name string
		help string
	}{
		{&r.LevyBP, "rules.levy-bp", "basis points of contributions owed to the solidarity pool"},
		{&r.NeedBP, "rules.need-bp", "weight of declared need in the pool's split, basis points"},
		{&r.MembersBP, "rules.members-bp", "weight of member counts in the pool's split, basis points"},
		{&r.EqualBP, "rules.equal-bp", "weight of equal shares in the pool's split, basis points"},
		{&r.ReserveBP, "rules.reserve-bp", "basis points of the pool kept in reserve"},
		{&r.QuorumBP, "rules.quorum-bp", "basis points of caisses that must vote on a proposal"},
		{&r.MajorityBP, "rules.majority-bp", "basis points of votes cast needed to adopt a proposal"},
	} {
		fs.Var((*uintFlag)(f.p), f.name, f.help)
	}
	fs.Var((*rates)(&r.Rates), "rules.rates", "value of one unit of need: unit=amount,... in minor units")
	return fs
}

// stringList is a comma-separated list flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(s string) error {
	*l = nil
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

type uintFlag uint32

func (u *uintFlag) String() string { return strconv.FormatUint(uint64(*u), 10) }
func (u *uintFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return fmt.Errorf("want a non-negative integer")
	}
	*u = uintFlag(v)
	return nil
}

// parseConfig applies, in order of precedence, flags, CAISSE_* environment
// variables, the config file and the defaults. A key in the config file
// that is not a setting is an error.
func parseConfig(args []string, stderr io.Writer) (node.Config, logConfig, error) {
	cfg := node.DefaultConfig()
	lc := logConfig{level: "info", format: "text"}
	cp := &configPath{dataDir: &cfg.DataDir}
	fs := flags(&cfg, &lc, cp)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: caissed [flags]\n\nRuns a caisse node. Every flag can also be set as CAISSE_<NAME> in the\nenvironment or as a key in the config file (flags > environment > file).\n\n")
		fs.PrintDefaults()
	}
	err := ff.Parse(fs, args,
		ff.WithEnvVarPrefix("CAISSE"),
		ff.WithConfigFileFlag("config"),
		ff.WithConfigFileParser(fftoml.New().Parse),
		ff.WithAllowMissingConfigFile(true), // an explicit --config is checked below
	)
	if err != nil {
		return cfg, lc, fmt.Errorf("config: %w", err)
	}
	if fs.NArg() > 0 {
		return cfg, lc, fmt.Errorf("config: unexpected arguments %q", fs.Args())
	}
	if cp.explicit != "" {
		if _, err := os.Stat(cp.explicit); err != nil {
			return cfg, lc, fmt.Errorf("config: %w", err)
		}
	}
	return cfg, lc, nil
}

// writeDefaultConfig writes a commented config file in a new data
// directory, listing every setting with its default, so that an operator
// finds them all in one place. An existing file is never touched.
func writeDefaultConfig(dataDir string) error {
	path := filepath.Join(dataDir, configName)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	cfg := node.DefaultConfig()
	cfg.DataDir = dataDir
	lc := logConfig{level: "info", format: "text"}
	set := flags(&cfg, &lc, &configPath{})
	var b strings.Builder
	b.WriteString("# caissed configuration. Every key is commented out with its default.\n")
	b.WriteString("# Precedence: flags > CAISSE_* environment variables > this file > defaults.\n")
	b.WriteString("# Unknown keys are errors. The [federation] and [rules] tables are read only\n")
	b.WriteString("# when this node founds a federation; afterwards its charter is in the ledger.\n")
	// Top-level keys first: in TOML, a key after [table] belongs to it.
	var all []*flag.Flag
	set.VisitAll(func(f *flag.Flag) {
		if f.Name != "config" && f.Name != "data-dir" && f.Name != "demo" {
			all = append(all, f)
		}
	})
	sort.SliceStable(all, func(i, j int) bool {
		return strings.Contains(all[j].Name, ".") && !strings.Contains(all[i].Name, ".")
	})
	table := ""
	for _, f := range all {
		t, key, nested := strings.Cut(f.Name, ".")
		if !nested {
			t, key = "", f.Name
		}
		if t != table {
			fmt.Fprintf(&b, "\n[%s]\n", t)
			table = t
		}
		fmt.Fprintf(&b, "\n# %s\n# %s = %s\n", f.Usage, key, tomlValue(f))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("write config: %w", err)
	}
	return f.Close()
}

func tomlValue(f *flag.Flag) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return f.Value.String()
	}
	if _, ok := f.Value.(*uintFlag); ok {
		return f.Value.String()
	}
	return strconv.Quote(f.Value.String())
}
