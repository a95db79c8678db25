// Command benchtable turns the output of go test -bench (make bench) into
// one table: each figure of the performance goals, its value, the baseline
// measured in the same run, their ratio, the goal and whether it is met.
//
//	go test -run '^$' -bench . ./... | go run ./internal/benchcmp/benchtable
//
// A benchmark run several times (-count) gives the median of its runs, and
// the median of its ratios run by run. A
// figure whose benchmark did not run is listed as "not run", never as met;
// the exit status is 1 if any figure that ran missed its goal and -strict
// is given.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	strict := flag.Bool("strict", false, "exit 1 if a goal is missed")
	markdown := flag.Bool("markdown", true, "print a Markdown table")
	flag.Parse()
	in := io.Reader(os.Stdin)
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	res, err := parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	rows := evaluate(figures, res)
	write(os.Stdout, rows, *markdown)
	if *strict {
		for _, r := range rows {
			if r.ran && !r.met {
				os.Exit(1)
			}
		}
	}
}

// results maps a benchmark's name, without its -GOMAXPROCS suffix, to each
// metric's values over its runs.
type results map[string]map[string][]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads go test -bench output; lines that are not benchmark results
// are skipped.
func parse(r io.Reader) (results, error) {
	res := results{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // a benchmark's log line, not its result
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q of %s: %v", name, f[i], f[i+1], err)
			}
			res[name][f[i+1]] = append(res[name][f[i+1]], v)
		}
	}
	return res, sc.Err()
}

// median of a benchmark's metric, and whether it was measured.
func (r results) median(bench, metric string) (float64, bool) {
	vs := r[bench][metric]
	if len(vs) == 0 {
		return 0, false
	}
	return median(vs), true
}

func median(xs []float64) float64 {
	vs := slices.Clone(xs)
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// ratio is the median of the ratios of metric to baseMetric run by run
// when both come from the same benchmark, each run's op beside its own
// baseline (the load of a shared machine changes between runs); otherwise
// the ratio of the medians.
func (r results) ratio(bench, metric, baseBench, baseMetric string) float64 {
	vs, bs := r[bench][metric], r[baseBench][baseMetric]
	if bench == baseBench && len(vs) == len(bs) {
		ratios := make([]float64, 0, len(vs))
		for i := range vs {
			if bs[i] != 0 {
				ratios = append(ratios, vs[i]/bs[i])
			}
		}
		if len(ratios) == len(vs) {
			return median(ratios)
		}
	}
	v, _ := r.median(bench, metric)
	b, _ := r.median(baseBench, baseMetric)
	return v / b
}

// matching returns the benchmark names matching pattern, sorted, sizes
// (the numbers in them) in numeric order.
func (r results) matching(pattern *regexp.Regexp) []string {
	var names []string
	for n := range r {
		if pattern.MatchString(n) {
			names = append(names, n)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := strings.Compare(digits.ReplaceAllString(a, "#"), digits.ReplaceAllString(b, "#")); c != 0 {
			return c
		}
		return slices.Compare(numbers(a), numbers(b))
	})
	return names
}

var digits = regexp.MustCompile(`\d+`)

func numbers(s string) []int {
	var out []int
	for _, d := range digits.FindAllString(s, -1) {
		n, _ := strconv.Atoi(d)
		out = append(out, n)
	}
	return out
}

// A figure is one line of the table. Its value is metric of a benchmark
// matching bench; its baseline is baseMetric of the same benchmark, or of
// baseBench if set. With no baseMetric the goal is on the value itself.
// The goal holds when ratio (value/baseline, or baseline/value if inverse)
// or the value is at most max, or at least min.
type figure struct {
	name       string
	bench      string // a regexp on benchmark names; each match is a row
	metric     string
	unit       string // shown with the value
	baseBench  string // a regexp matching exactly one benchmark, if not bench
	baseMetric string
	baseName   string // what the baseline is
	inverse    bool   // ratio = baseline/value (throughput against time)
	valueGoal  bool   // the goal is on the value, the baseline says what bounds it
	atMost     float64
	atLeast    float64
}

type row struct {
	figure, bench   string
	value, baseline string
	ratio           string
	goal            string
	ran, met        bool
}

func evaluate(figs []figure, res results) []row {
	var rows []row
	for _, f := range figs {
		names := res.matching(regexp.MustCompile(f.bench))
		if len(names) == 0 {
			rows = append(rows, row{figure: f.name, bench: f.bench, value: "not run", goal: f.goalText()})
			continue
		}
		for _, name := range names {
			rows = append(rows, f.row(name, res))
		}
	}
	return rows
}

func (f figure) goalText() string {
	subject := "value"
	if f.baseMetric != "" && !f.valueGoal {
		subject = "ratio"
	}
	switch {
	case f.atMost != 0:
		return fmt.Sprintf("%s ≤ %s", subject, strconv.FormatFloat(f.atMost, 'g', -1, 64))
	case f.atLeast != 0:
		return fmt.Sprintf("%s ≥ %s", subject, strconv.FormatFloat(f.atLeast, 'g', -1, 64))
	}
	return "reported"
}

func (f figure) row(name string, res results) row {
	r := row{figure: f.name, bench: strings.TrimPrefix(name, "Benchmark"), goal: f.goalText()}
	v, ok := res.median(name, f.metric)
	if !ok {
		r.value = "missing " + f.metric
		return r
	}
	r.ran = true
	r.value = num(v) + " " + f.unit
	subject := v
	if f.baseMetric != "" {
		bench := name
		if f.baseBench != "" {
			bs := res.matching(regexp.MustCompile(f.baseBench))
			if len(bs) != 1 {
				r.ran, r.baseline = false, fmt.Sprintf("baseline %s: %d runs", f.baseBench, len(bs))
				return r
			}
			bench = bs[0]
		}
		b, ok := res.median(bench, f.baseMetric)
		if !ok || b == 0 || v == 0 {
			r.ran, r.baseline = false, "missing "+f.baseMetric
			return r
		}
		r.baseline = num(b) + " " + f.unit + " (" + f.baseName + ")"
		subject = res.ratio(name, f.metric, bench, f.baseMetric)
		if f.inverse {
			subject = 1 / subject
		}
		r.ratio = num(subject)
		if f.valueGoal {
			subject = v
		}
	}
	switch {
	case f.atMost != 0:
		r.met = subject <= f.atMost
	case f.atLeast != 0:
		r.met = subject >= f.atLeast
	default:
		r.met = true
	}
	return r
}

// num prints three significant digits, without exponent for usual sizes.
func num(v float64) string {
	switch a := max(v, -v); {
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 0.001:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func write(w io.Writer, rows []row, markdown bool) {
	head := []string{"figure", "benchmark", "value", "baseline (same run)", "ratio", "goal", "met"}
	cells := [][]string{head}
	for _, r := range rows {
		met := "no"
		switch {
		case !r.ran:
			met = "—"
		case r.met && r.goal == "reported":
			met = "—"
		case r.met:
			met = "yes"
		}
		cells = append(cells, []string{r.figure, r.bench, r.value, r.baseline, r.ratio, r.goal, met})
	}
	if markdown {
		for i, c := range cells {
			fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
			if i == 0 {
				fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(c)))
			}
		}
		return
	}
	widths := make([]int, len(head))
	for _, c := range cells {
		for i, s := range c {
			widths[i] = max(widths[i], len([]rune(s)))
		}
	}
	for _, c := range cells {
		for i, s := range c {
			fmt.Fprintf(w, "%-*s  ", widths[i], s)
		}
		fmt.Fprintln(w)
	}
}
