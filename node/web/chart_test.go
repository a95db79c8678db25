package web

import (
	"encoding/xml"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ span, n, want int64 }{
		{0, 4, 1}, {1, 4, 1}, {4, 4, 1}, {5, 4, 2}, {9, 4, 5}, {40, 4, 10}, {41, 4, 20}, {79_000, 4, 20_000}, {100_001, 4, 50_000},
	} {
		if got := niceStep(tc.span, tc.n); got != tc.want {
			t.Errorf("niceStep(%d, %d) = %d, want %d", tc.span, tc.n, got, tc.want)
		}
	}
}

func TestScaleCoversValuesWithRoundTicks(t *testing.T) {
	for _, vals := range [][]int64{{0}, {12345}, {-4500, 30000}, {-70, -10}, {99_999_999}} {
		c := chart{Series: []series{{"x", vals}}}
		lo, hi, ticks := c.scale()
		if lo > 0 || hi < 0 || lo > slices.Min(vals) || hi < slices.Max(vals) || lo >= hi {
			t.Errorf("%v: range %d..%d", vals, lo, hi)
		}
		if ticks[0] != lo || ticks[len(ticks)-1] != hi || len(ticks) < 2 || len(ticks) > 12 {
			t.Errorf("%v: ticks %v for %d..%d", vals, ticks, lo, hi)
		}
	}
}

// svgDoc checks that s is well-formed XML, and returns it.
func svgDoc(t *testing.T, s string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return s
			}
			t.Fatalf("not well-formed SVG: %v\n%s", err, s)
		}
	}
}

func TestChartSVG(t *testing.T) {
	c := chart{ID: "c1", Title: "Balance <of> A & B", Kind: chartKindBar, Labels: []string{"2026-09", "2026-10"},
		Series: []series{{"in", []int64{12050, 30000}}, {"out", []int64{0, 4500}}}, Exp: 2, Currency: "EUR"}
	s := svgDoc(t, string(c.SVG()))
	for _, want := range []string{
		`role="img"`, `aria-label="Balance &lt;of&gt; A &amp; B"`, `aria-describedby="c1-desc"`,
		`<title>Balance &lt;of&gt; A &amp; B</title>`,
		`<desc id="c1-desc">2026-09: in 120.50 EUR, out 0.00 EUR; 2026-10: in 300.00 EUR, out 45.00 EUR.</desc>`,
		`>2026-09</text>`, `>300.00</text>`, `>0.00</text>`, `<title>out 2026-10: 45.00</title>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("chart lacks %s\n%s", want, s)
		}
	}
	// The tallest bar reaches the top of the plot: its y is padT.
	if !regexp.MustCompile(`<rect class="s0" x="[0-9.]+" y="` + strconv.Itoa(padT) + `\.0"`).MatchString(s) {
		t.Errorf("the largest value does not reach the top tick:\n%s", s)
	}
	if strings.Contains(s, "style=") {
		t.Error("inline style: the content security policy forbids it")
	}

	line := chart{ID: "c2", Title: "t", Kind: chartKindLine, Labels: []string{"a", "b", "c"},
		Series: []series{{"balance", []int64{-100, 0, 100}}}, Exp: 2, Currency: "EUR"}
	s = svgDoc(t, string(line.SVG()))
	if strings.Count(s, "<circle") != 3 || !strings.Contains(s, "<polyline") || !strings.Contains(s, ">-1.00</text>") {
		t.Errorf("line chart:\n%s", s)
	}

	empty := svgDoc(t, string(chart{ID: "c3", Title: "Nothing", Exp: 2}.SVG()))
	if !strings.Contains(empty, "no data yet") || !strings.Contains(empty, "<desc id=\"c3-desc\">Nothing: no data yet.</desc>") {
		t.Errorf("empty chart:\n%s", empty)
	}
}

func TestFlowSVG(t *testing.T) {
	f := flow{ID: "f", Title: "Who pays whom", Exp: 2, Currency: "EUR", Transfers: []flowEdge{
		{"Port", "Mineurs", 1068}, {"Port", "Soignants", 550}, {"Rail", "Mineurs", 10},
	}}
	s := svgDoc(t, string(f.SVG()))
	for _, want := range []string{
		`role="img"`, `aria-label="Who pays whom"`,
		`<desc id="f-desc">Port pays Mineurs 10.68 EUR; Port pays Soignants 5.50 EUR; Rail pays Mineurs 0.10 EUR.</desc>`,
		`marker-end="url(#f-arrow)"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("flow lacks %s\n%s", want, s)
		}
	}
	// Two payers and two payees: four boxes, three arrows.
	if strings.Count(s, `class="node"`) != 4 || strings.Count(s, `class="edge s`) != 3 {
		t.Errorf("flow: %d boxes, %d arrows", strings.Count(s, `class="node"`), strings.Count(s, `class="edge s`))
	}
	none := svgDoc(t, string(flow{ID: "g", Title: "t"}.SVG()))
	if !strings.Contains(none, "No transfers.") {
		t.Errorf("empty flow:\n%s", none)
	}
}

// TestDeps holds node/web to small interfaces: it does not import node.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(strings.Fields(string(out)), "github.com/caisse-coop/caisse/node") {
		t.Error("node/web must not depend on node")
	}
}
