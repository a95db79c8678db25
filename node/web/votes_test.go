package web

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// TestCount holds the page's reading of a count to the federation's test
// of adoption: quorum on the ballots cast, rounded up; majority on yes
// among yes and no, at least one yes by caisses.
func TestCount(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		by                         string
		yes, no, abstain, eligible uint64
		quorum, majority           uint32
		needed                     uint64
		quorumMet, majorityMet     bool
	}{
		{"nothing cast", "caisses", 0, 0, 0, 3, 5000, 5001, 2, false, false},
		{"half of three is two", "caisses", 1, 0, 0, 3, 5000, 5001, 2, false, true},
		{"quorum reached", "caisses", 1, 0, 1, 3, 5000, 5001, 2, true, true},
		{"a tie is short of 50.01%", "caisses", 1, 1, 0, 2, 5000, 5001, 1, true, false},
		{"abstentions alone adopt nothing by caisses", "caisses", 0, 0, 2, 2, 5000, 5001, 1, true, false},
		{"by members, no yes and no no is no objection", "members", 0, 0, 40, 100, 5000, 5001, 50, false, true},
		{"by members, 6001 of 10000", "members", 6001, 3999, 0, 10000, 6000, 6000, 6000, true, true},
		{"by members, 5999 of 10000", "members", 5999, 4001, 0, 10000, 6000, 6000, 6000, true, false},
		{"unanimity", "caisses", 3, 0, 0, 3, 10000, 10000, 3, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := count(tc.by, tc.yes, tc.no, tc.abstain, tc.eligible, tc.quorum, tc.majority, true)
			if c.QuorumNeeded != tc.needed || c.QuorumMet != tc.quorumMet || c.MajorityMet != tc.majorityMet {
				t.Errorf("needed %d, quorum %v, majority %v; want %d, %v, %v", c.QuorumNeeded, c.QuorumMet, c.MajorityMet,
					tc.needed, tc.quorumMet, tc.majorityMet)
			}
			for _, m := range []string{string(c.QuorumMeter), string(c.MajorityMeter)} {
				checkMeter(t, m)
			}
		})
	}
}

// checkMeter parses a meter and checks its parts stay inside it and its
// mark inside the track.
func checkMeter(t *testing.T, m string) {
	t.Helper()
	var svg struct {
		Role  string `xml:"role,attr"`
		Label string `xml:"aria-label,attr"`
		Title string `xml:"title"`
		Rects []struct {
			Class string `xml:"class,attr"`
			X     int    `xml:"x,attr"`
			Width int    `xml:"width,attr"`
		} `xml:"rect"`
		Lines []struct {
			X1 int `xml:"x1,attr"`
		} `xml:"line"`
	}
	if err := xml.Unmarshal([]byte(m), &svg); err != nil {
		t.Fatalf("meter is not well-formed: %v\n%s", err, m)
	}
	if svg.Role != "img" || svg.Label == "" || svg.Title == "" || strings.Contains(m, "style") {
		t.Errorf("meter: role %q, label %q, title %q; want an image with a label and a title, no style:\n%s", svg.Role, svg.Label, svg.Title, m)
	}
	end := 0
	for _, r := range svg.Rects[1:] {
		if r.X != end || r.Width <= 0 {
			t.Errorf("meter part %s at %d, width %d: want it at %d", r.Class, r.X, r.Width, end)
		}
		end = r.X + r.Width
	}
	if end > meterW {
		t.Errorf("meter parts end at %d, past %d", end, meterW)
	}
	for _, l := range svg.Lines {
		if l.X1 < 0 || l.X1 >= meterW {
			t.Errorf("mark at %d, outside 0..%d", l.X1, meterW)
		}
	}
}

func TestMeterMarksTheThreshold(t *testing.T) {
	// Three caisses, quorum 50%: the mark at half the track; two yes fill
	// two thirds of it.
	m := string(meter("quorum", "2 of 3", 3, []seg{{"yes", 2}, {"no", 0}}, 5000*3, true))
	checkMeter(t, m)
	for _, want := range []string{`class="meter met"`, `<rect class="yes" x="0" y="3" width="160"`, `<line class="mark" x1="120" x2="120"`} {
		if !strings.Contains(m, want) {
			t.Errorf("meter lacks %q:\n%s", want, m)
		}
	}
	if m := string(meter("majority", "none", 0, nil, 0, false)); strings.Contains(m, "<line") || !strings.Contains(m, `class="track"`) {
		t.Errorf("an empty meter: %s", m)
	}
}

func TestDiffRules(t *testing.T) {
	from := &rpcv1.Rules{LevyBp: 1000, NeedBp: 5000, MembersBp: 3000, EqualBp: 2000, QuorumBp: 5000, MajorityBp: 5001,
		Rates: map[string]int64{"strike_day": 6000, "legal_case": 50000}}
	to := &rpcv1.Rules{LevyBp: 1200, NeedBp: 5000, MembersBp: 2000, EqualBp: 3000, QuorumBp: 5000, MajorityBp: 5001,
		Rates: map[string]int64{"strike_day": 6500, "eviction": 30000}, ReserveBp: 500, ReserveHolder: "abcd"}
	names := map[string]string{"abcd": "Caisse A"}
	want := []ruleChange{
		{"Levy", "10%", "12%"}, {"Split by members", "30%", "20%"}, {"Split equally", "20%", "30%"}, {"Reserve", "0%", "5%"},
		{"Reserve holder", "nobody", "Caisse A"},
		{"Rate: eviction", "none", "300.00"}, {"Rate: legal_case", "500.00", "none"}, {"Rate: strike_day", "60.00", "65.00"},
	}
	if diff := cmp.Diff(want, diffRules(from, to, 2, names)); diff != "" {
		t.Errorf("diffRules (-want +got):\n%s", diff)
	}
	if got := diffRules(from, from, 2, names); len(got) != 0 {
		t.Errorf("the same rules: %v", got)
	}
}
