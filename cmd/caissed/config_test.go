package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/caisse-coop/caisse/node"
)

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := `
name = "from file"
max-clock-ahead = "2m"
log-level = "warn"

[federation]
name = "Fédération du fichier"
currency = "CHF"

[rules]
levy-bp = 700
rates = "strike_day=5000"
`
	if err := os.WriteFile(filepath.Join(dir, configName), []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CAISSE_NAME", "from env")
	t.Setenv("CAISSE_RULES_LEVY_BP", "800")
	t.Setenv("CAISSE_LOG_LEVEL", "error")
	cfg, lc, err := parseConfig([]string{"--data-dir", dir, "--log-level", "debug"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	def := node.DefaultConfig()
	type view struct {
		Name, FedName, Currency, LogLevel string
		Levy, Need                        uint32
		Ahead                             time.Duration
		Rates                             map[string]int64
		Exponent                          uint32
	}
	got := view{cfg.Name, cfg.Federation.Name, cfg.Federation.Currency, lc.level,
		cfg.Federation.Rules.LevyBP, cfg.Federation.Rules.NeedBP, cfg.MaxClockAhead, cfg.Federation.Rules.Rates, cfg.Federation.Exponent}
	want := view{
		Name:     "from env",              // env beats file
		FedName:  "Fédération du fichier", // file beats default
		Currency: "CHF",
		LogLevel: "debug", // flag beats env and file
		Levy:     800,     // env beats file
		Need:     def.Federation.Rules.NeedBP,
		Ahead:    2 * time.Minute,
		Rates:    map[string]int64{"strike_day": 5000},
		Exponent: def.Federation.Exponent, // default
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		args       []string
		want       string
	}{
		{name: "unknown key", file: "nmae = \"typo\"\n", want: "nmae"},
		{name: "unknown table key", file: "[rules]\nlevy = 5\n", want: "rules.levy"},
		{name: "bad value", file: "max-clock-ahead = \"soon\"\n", want: "max-clock-ahead"},
		{name: "bad toml", file: "name = \n", want: "config"},
		{name: "missing explicit file", args: []string{"--config", "/nonexistent/caissed.toml"}, want: "nonexistent"},
		{name: "bad rate", args: []string{"--rules.rates", "strike_day"}, want: "unit=amount"},
		{name: "bad size", args: []string{"--min-free-disk", "lots"}, want: "min-free-disk"},
		{name: "stray argument", args: []string{"serve"}, want: "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, configName), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := parseConfig(append([]string{"--data-dir", dir}, tc.args...), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseConfig: got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}

// TestDefaultConfigFile checks that the commented file caissed writes lists
// every setting, and that uncommenting all of it parses back to the
// defaults: the file never drifts from the flags.
func TestDefaultConfigFile(t *testing.T) {
	dir := t.TempDir()
	if err := writeDefaultConfig(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, configName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	setting := regexp.MustCompile(`(?m)^# ([a-z-]+ = .*)$`)
	uncommented := setting.ReplaceAllString(string(raw), "$1")
	var keys int
	set := flags(new(node.Config), new(logConfig), new(configPath))
	for _, line := range strings.Split(uncommented, "\n") {
		if strings.Contains(line, " = ") && !strings.HasPrefix(line, "#") {
			keys++
		}
	}
	if want := countFlags(set) - 3; keys != want { // data-dir, config and demo are not file keys
		t.Errorf("config file has %d settings, want %d:\n%s", keys, want, raw)
	}
	if err := os.WriteFile(path, []byte(uncommented), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := parseConfig([]string{"--data-dir", dir}, io.Discard)
	if err != nil {
		t.Fatalf("uncommented default config does not parse: %v\n%s", err, uncommented)
	}
	def := node.DefaultConfig()
	def.DataDir = dir
	if diff := cmp.Diff(def.Federation, cfg.Federation); diff != "" {
		t.Errorf("uncommented default config (-want +got):\n%s", diff)
	}
	if cfg.Name != def.Name || cfg.Found != def.Found || cfg.MaxClockAhead != def.MaxClockAhead || cfg.MinFreeDisk != def.MinFreeDisk {
		t.Errorf("uncommented default config: got %+v", cfg)
	}
	// A second write never touches an existing file.
	if err := os.WriteFile(path, []byte("name = \"mine\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeDefaultConfig(dir); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); string(raw) != "name = \"mine\"\n" {
		t.Errorf("existing config overwritten: %q", raw)
	}
}

func countFlags(fs *flag.FlagSet) int {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n
}

func TestMinFreeDisk(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
		file string
		want uint64
	}{
		{name: "default", want: node.DefaultMinFreeDisk},
		{name: "flag", args: []string{"--min-free-disk", "1GiB"}, want: 1 << 30},
		{name: "environment", env: "64MB", want: 64_000_000},
		{name: "file", file: "min-free-disk = \"512 MiB\"\n", want: 512 << 20},
		{name: "disabled", args: []string{"--min-free-disk", "0"}, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, configName), []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tc.env != "" {
				t.Setenv("CAISSE_MIN_FREE_DISK", tc.env)
			}
			cfg, _, err := parseConfig(append([]string{"--data-dir", dir}, tc.args...), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MinFreeDisk != tc.want {
				t.Fatalf("min-free-disk %d, want %d", cfg.MinFreeDisk, tc.want)
			}
		})
	}
}

// FuzzConfigFile feeds parseConfig arbitrary config files: no panic, and
// a file it accepts gives a configuration node.New's checks can judge
// (they may refuse it, with an error, never a crash).
func FuzzConfigFile(f *testing.F) {
	dir := f.TempDir()
	if err := writeDefaultConfig(dir); err != nil {
		f.Fatal(err)
	}
	def, err := os.ReadFile(filepath.Join(dir, configName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(def))
	f.Add(regexp.MustCompile(`(?m)^# ([a-z-]+ = .*)$`).ReplaceAllString(string(def), "$1"))
	f.Add("name = \"x\"\n[rules]\nrates = \"strike_day=5000,legal_case=-1\"\n")
	f.Add("min-free-disk = \"1 EiB\"\nmax-clock-ahead = \"-5m\"\n")
	f.Add("[federation]\nexponent = 99999999999\n")
	work := f.TempDir() // one per fuzzing process, whose runs are sequential
	f.Fuzz(func(t *testing.T, file string) {
		dir := work
		path := filepath.Join(dir, "fuzz.toml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, _, err := parseConfig([]string{"--data-dir", dir, "--config", path}, io.Discard)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("parseConfig error without its prefix: %v", err)
			}
			return
		}
		if cfg.DataDir != dir {
			t.Fatalf("the file moved the data directory: %q", cfg.DataDir)
		}
	})
}
