package web

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/caisse-coop/caisse/ledger"
)

// Charts are SVG drawn here, inline in the pages: no script, no external
// asset. Colours come from the stylesheet (classes), so that the dark
// theme applies to them too. Each chart is an image to assistive
// technology (role="img", aria-label) with a <title> and a <desc> that
// spells out its figures.

// Chart geometry, in viewBox units.
const (
	chartW, chartH              = 640, 280
	padL, padR, padT, padB      = 84, 12, 40, 44
	plotW, plotH                = chartW - padL - padR, chartH - padT - padB
	maxXLabels, maxDescPoints   = 12, 24
	flowRowH, flowW, flowBoxW   = 44, 640, 180
	flowPadT, flowMinStroke     = 40, 2.0
	flowMaxStroke               = 14.0
	chartKindLine, chartKindBar = "line", "bar"
)

// series is one line, or one colour of bars, of a chart.
type series struct {
	Name   string
	Values []int64 // minor units, one per label
}

// chart is a line or grouped-bar chart of amounts over labels (periods).
type chart struct {
	ID, Title string
	Kind      string // chartKindLine or chartKindBar
	Labels    []string
	Series    []series
	Exp       uint32
	Currency  string
}

func (c chart) money(v int64) string { return ledger.Amount(v).Format(c.Exp) }

// niceStep is the smallest of 1, 2 or 5 times a power of ten at least span/n.
func niceStep(span int64, n int64) int64 {
	if span <= 0 {
		return 1
	}
	raw := (span + n - 1) / n
	p := int64(1)
	for p <= raw/10 {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// scale returns the y range, rounded out to whole ticks, and the ticks.
func (c chart) scale() (lo, hi int64, ticks []int64) {
	for _, s := range c.Series {
		for _, v := range s.Values {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo == hi {
		hi = lo + 100
	}
	step := niceStep(hi-lo, 4)
	lo = floorTo(lo, step)
	hi = -floorTo(-hi, step)
	for t := lo; t <= hi; t += step {
		ticks = append(ticks, t)
	}
	return lo, hi, ticks
}

func floorTo(v, step int64) int64 {
	q := v / step
	if v%step != 0 && v < 0 {
		q--
	}
	return q * step
}

// SVG renders the chart.
func (c chart) SVG() template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" aria-describedby="%s-desc" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, esc(c.Title), esc(c.ID))
	fmt.Fprintf(&b, `<title>%s</title><desc id="%s-desc">%s</desc>`, esc(c.Title), esc(c.ID), esc(c.describe()))
	fmt.Fprintf(&b, `<text class="ctitle" x="%d" y="18">%s</text>`, padL, esc(c.Title))
	if len(c.Labels) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d">no data yet</text></svg>`, chartW/2, chartH/2)
		return template.HTML(b.String())
	}
	lo, hi, ticks := c.scale()
	y := func(v int64) float64 { return float64(padT) + float64(plotH)*float64(hi-v)/float64(hi-lo) }
	n := len(c.Labels)
	slot := float64(plotW) / float64(n)
	x := func(i int) float64 { return float64(padL) + slot*(float64(i)+0.5) }
	// Axes, grid and ticks.
	for _, t := range ticks {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, padL+plotW, y(t), y(t))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y(t)+4, esc(c.money(t)))
	}
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, padL+plotW, y(0), y(0))
	fmt.Fprintf(&b, `<line class="axis" x1="%d" x2="%d" y1="%d" y2="%d"/>`, padL, padL, padT, padT+plotH)
	every := (n + maxXLabels - 1) / maxXLabels
	for i, l := range c.Labels {
		if i%every == 0 || i == n-1 {
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), padT+plotH+18, esc(l))
		}
	}
	fmt.Fprintf(&b, `<text class="unit" x="8" y="%d">%s</text>`, padT-8, esc(c.Currency))
	fmt.Fprintf(&b, `<text class="unit" x="%d" y="%d" text-anchor="end">period</text>`, padL+plotW, chartH-4)
	// Data.
	switch c.Kind {
	case chartKindBar:
		k := len(c.Series)
		bw := slot * 0.8 / float64(max(k, 1))
		for si, s := range c.Series {
			for i, v := range s.Values {
				top, bot := y(max(v, 0)), y(min(v, 0))
				fmt.Fprintf(&b, `<rect class="s%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %s</title></rect>`,
					si, x(i)-slot*0.4+bw*float64(si), top, bw, max(bot-top, 0.5), esc(s.Name), esc(c.Labels[i]), esc(c.money(v)))
			}
		}
	default:
		for si, s := range c.Series {
			var pts []string
			for i, v := range s.Values {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			}
			fmt.Fprintf(&b, `<polyline class="line s%d" points="%s"/>`, si, strings.Join(pts, " "))
			for i, v := range s.Values {
				fmt.Fprintf(&b, `<circle class="s%d" cx="%.1f" cy="%.1f" r="3"><title>%s %s: %s</title></circle>`,
					si, x(i), y(v), esc(s.Name), esc(c.Labels[i]), esc(c.money(v)))
			}
		}
	}
	// Legend.
	lx := padL + plotW
	for si := len(c.Series) - 1; si >= 0; si-- {
		name := c.Series[si].Name
		w := 14 + 7*len(name)
		lx -= w + 12
		fmt.Fprintf(&b, `<rect class="s%d" x="%d" y="24" width="10" height="10"/><text class="legend" x="%d" y="33">%s</text>`, si, lx, lx+14, esc(name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// describe spells the figures out for those who cannot see the chart: the
// last maxDescPoints labels.
func (c chart) describe() string {
	if len(c.Labels) == 0 {
		return c.Title + ": no data yet."
	}
	from := max(0, len(c.Labels)-maxDescPoints)
	var parts []string
	for i := from; i < len(c.Labels); i++ {
		var vals []string
		for _, s := range c.Series {
			vals = append(vals, fmt.Sprintf("%s %s %s", s.Name, c.money(s.Values[i]), c.Currency))
		}
		parts = append(parts, c.Labels[i]+": "+strings.Join(vals, ", "))
	}
	prefix := ""
	if from > 0 {
		prefix = fmt.Sprintf("Last %d of %d periods. ", len(c.Labels)-from, len(c.Labels))
	}
	return prefix + strings.Join(parts, "; ") + "."
}

// flow is a payment flow: who pays whom, how much.
type flow struct {
	ID, Title string
	Transfers []flowEdge
	Exp       uint32
	Currency  string
}

type flowEdge struct {
	From, To string // names shown
	Amount   int64
}

// SVG draws payers on the left, payees on the right, and an arrow for
// each transfer, its width by amount.
func (f flow) SVG() template.HTML {
	var b strings.Builder
	esc := template.HTMLEscapeString
	var payers, payees []string
	index := func(list *[]string, s string) int {
		for i, x := range *list {
			if x == s {
				return i
			}
		}
		*list = append(*list, s)
		return len(*list) - 1
	}
	var maxAmt int64 = 1
	for _, t := range f.Transfers {
		index(&payers, t.From)
		index(&payees, t.To)
		maxAmt = max(maxAmt, t.Amount)
	}
	rows := max(len(payers), len(payees), 1)
	h := flowPadT + rows*flowRowH + 16
	var desc []string
	for _, t := range f.Transfers {
		desc = append(desc, fmt.Sprintf("%s pays %s %s %s", t.From, t.To, ledger.Amount(t.Amount).Format(f.Exp), f.Currency))
	}
	d := strings.Join(desc, "; ") + "."
	if len(desc) == 0 {
		d = "No transfers."
	}
	fmt.Fprintf(&b, `<svg class="chart flow" viewBox="0 0 %d %d" role="img" aria-label="%s" aria-describedby="%s-desc" xmlns="http://www.w3.org/2000/svg">`,
		flowW, h, esc(f.Title), esc(f.ID))
	fmt.Fprintf(&b, `<title>%s</title><desc id="%s-desc">%s</desc>`, esc(f.Title), esc(f.ID), esc(d))
	fmt.Fprintf(&b, `<defs><marker id="%s-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path class="arrowhead" d="M0,0L10,5L0,10z"/></marker></defs>`, esc(f.ID))
	fmt.Fprintf(&b, `<text class="ctitle" x="8" y="18">%s</text>`, esc(f.Title))
	if len(f.Transfers) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d">no transfers</text></svg>`, flowW/2, flowPadT+20)
		return template.HTML(b.String())
	}
	fmt.Fprintf(&b, `<text class="unit" x="8" y="34">pays</text><text class="unit" x="%d" y="34" text-anchor="end">receives</text>`, flowW-8)
	rowY := func(i, n int) float64 {
		// Centre a shorter column against the taller one.
		return float64(flowPadT) + float64(rows-n)*flowRowH/2 + float64(i)*flowRowH + flowRowH/2
	}
	box := func(x float64, yc float64, name string) {
		fmt.Fprintf(&b, `<rect class="node" x="%.1f" y="%.1f" width="%d" height="28" rx="4"/>`, x, yc-14, flowBoxW)
		fmt.Fprintf(&b, `<text class="nodelabel" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x+flowBoxW/2, yc+5, esc(truncate(name, 22)))
	}
	for i, t := range f.Transfers {
		y1, y2 := rowY(index(&payers, t.From), len(payers)), rowY(index(&payees, t.To), len(payees))
		x1, x2 := float64(8+flowBoxW), float64(flowW-8-flowBoxW)
		w := flowMinStroke + (flowMaxStroke-flowMinStroke)*float64(t.Amount)/float64(maxAmt)
		mx := (x1 + x2) / 2
		fmt.Fprintf(&b, `<path class="edge s%d" stroke-width="%.1f" marker-end="url(#%s-arrow)" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f"><title>%s pays %s %s</title></path>`,
			i%4, w, esc(f.ID), x1, y1, mx, y1, mx, y2, x2-4, y2, esc(t.From), esc(t.To), esc(ledger.Amount(t.Amount).Format(f.Exp)))
		// The amount sits above the arrow's head, where arrows to
		// different payees are apart.
		fmt.Fprintf(&b, `<text class="edgelabel" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, x2-16, y2-w/2-5, esc(ledger.Amount(t.Amount).Format(f.Exp)))
	}
	for i, p := range payers {
		box(8, rowY(i, len(payers)), p)
	}
	for i, p := range payees {
		box(float64(flowW-8-flowBoxW), rowY(i, len(payees)), p)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
