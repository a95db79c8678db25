package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkIngest-2   	    2000	    100000 ns/op	  7000 entries/s	 10000 baseline-entries/s
BenchmarkIngest-2   	    2000	    100000 ns/op	  8000 entries/s	 10000 baseline-entries/s
BenchmarkIngest-2   	    2000	    100000 ns/op	  9000 entries/s	 10000 baseline-entries/s
BenchmarkAppend/clients=64-2 1 1 ns/op 1000 entries/s 2000 baseline-entries/s
BenchmarkAppend/clients=64-2 1 1 ns/op 2000 entries/s 10000 baseline-entries/s
BenchmarkAppend/clients=64-2 1 1 ns/op 3000 entries/s 2500 baseline-entries/s
BenchmarkAntiEntropyInSync/entries=10000-2  	 100	 5 ns/op	 200 wire-bytes/op
BenchmarkAntiEntropyInSync/entries=1000000-2  	 100	 5 ns/op	 202 wire-bytes/op
BenchmarkFootprint/entries=1000-2 1 5 ns/op 3 startup-s 1 scan-s 3 restart-s
BenchmarkPropagation/nodes=20-2 1 5 ns/op 30 p99-ms
BenchmarkPropagation/nodes=5-2 1 5 ns/op 1500 p99-ms
    replication_bench_test.go:10: BenchmarkIngest log line
PASS
`

func TestTable(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := res.median("BenchmarkIngest", "entries/s"); v != 8000 {
		t.Errorf("median entries/s %v, want 8000", v)
	}
	rows := map[string]row{}
	for _, r := range evaluate(figures, res) {
		rows[r.figure+"|"+r.bench] = r
	}
	for _, c := range []struct {
		key       string
		ran, met  bool
		ratio     string
		valueHave string
	}{
		{"remote ingest|Ingest", true, true, "0.800", "8000 entries/s"},
		{"anti-entropy in sync, bytes/round|AntiEntropyInSync/entries=1000000", true, true, "1.01", "202.0 B"},
		{"start-up, first (replays the store)|Footprint/entries=1000", true, true, "3.00", "3.00 s"}, // no goal
		{"start-up (from the state checkpoint)|Footprint/entries=1000", true, false, "3.00", "3.00 s"},
		// Ratios run by run 0.5, 0.2 and 1.2: their median is 0.5; the
		// ratio of the medians, 2000/2500, would be 0.8.
		{"local append, 64 clients|Append/clients=64", true, true, "0.500", "2000 entries/s"},
		{"local append, 1 client|^BenchmarkAppend/clients=1$", false, false, "", "not run"},
	} {
		r, ok := rows[c.key]
		if !ok {
			t.Errorf("%s: no row", c.key)
			continue
		}
		if r.ran != c.ran || r.met != c.met || r.ratio != c.ratio || r.value != c.valueHave {
			t.Errorf("%s: ran %v met %v ratio %q value %q, want %v %v %q %q", c.key, r.ran, r.met, r.ratio, r.value, c.ran, c.met, c.ratio, c.valueHave)
		}
	}
	var order []string
	for _, r := range evaluate(figures, res) {
		if r.figure == "propagation p99" {
			order = append(order, r.bench+" "+strconv.FormatBool(r.met))
		}
	}
	if want := []string{"Propagation/nodes=5 false", "Propagation/nodes=20 true"}; !slices.Equal(order, want) {
		t.Errorf("propagation rows %q, want %q", order, want)
	}
	var out strings.Builder
	write(&out, evaluate(figures, res), true)
	if !strings.Contains(out.String(), "| remote ingest | Ingest | 8000 entries/s | 10000 entries/s (raw parallel ed25519.Verify) | 0.800 | ratio ≥ 0.7 | yes |") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestParseRejectsBadValue(t *testing.T) {
	if _, err := parse(strings.NewReader("BenchmarkX-2 10 abc ns/op\n")); err == nil {
		t.Error("a bad value parsed")
	}
}
