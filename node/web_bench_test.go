package node

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
)

// BenchmarkDashboard serves each page of the dashboard, and a few calls of
// its JSON API, from a node holding 100k entries: two caisses over 24
// periods, nineteen contributions to one disbursement. The baseline serves
// the dashboard's stylesheet, an embedded static file, through the same
// handler: x-baseline is what a page costs over the cheapest response the
// listener gives.
//
//	go test -run '^$' -bench Dashboard -benchtime 20x ./node/
func BenchmarkDashboard(b *testing.B) {
	const total = 100_000
	founder, cofounder := ledgertest.NewAuthor(b, 11), ledgertest.NewAuthor(b, 12)
	genesis := founder.Genesis(b, "dashboard bench", cofounder)
	fed := genesis.Hash()
	cofounder.SetNow(ledger.HLC{Wall: genesis.Time().Wall + ledgertest.Step})
	entries := []ledger.Entry{genesis}
	for i := range total - 1 {
		a := founder
		if i%3 == 2 {
			a = cofounder
		}
		period := fmt.Sprintf("%04d-%02d", 2025+i*24/total/12, 1+(i*24/total)%12)
		if i%20 == 19 {
			entries = append(entries, a.Disbursement(b, fed, ledger.Amount(500+i%700), period))
		} else {
			entries = append(entries, a.Contribution(b, fed, ledger.Amount(1000+i%900), period))
		}
	}
	dir := b.TempDir()
	benchDataDir(b, dir, founder.Key, make([]byte, 32), entries)
	n, err := New(benchConfig(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	if got := n.state.Entries(); got != total {
		b.Fatalf("the node holds %d entries, want %d", got, total)
	}
	h, err := n.webHandler()
	if err != nil {
		b.Fatal(err)
	}
	serve := func(path string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d\n%s", path, w.Code, w.Body)
		}
		io.Copy(io.Discard, w.Body)
	}
	key := founder.ID.String()
	for _, p := range []struct{ name, path string }{
		{"overview", "/"},
		{"caisses", "/caisses"},
		{"caisse", "/caisses/" + key},
		{"caisse-oldest-page", "/caisses/" + key + "?from=1"},
		{"caisse-filtered", "/caisses/" + key + "?period=2026-06&kind=disbursement"},
		{"caisse-filtered-none", "/caisses/" + key + "?category=legal"},
		{"entry", "/caisses/" + key + "/entries/50000"},
		{"rules", "/rules"},
		{"redistributions", "/redistribution"},
		{"redistribution", "/redistribution/2026-06"},
		{"sync", "/sync"},
		{"api-balances", "/api/v1/balances"},
		{"api-list-entries", "/api/v1/list-entries?author=" + key + "&from_seq=60000&limit=100"},
		{"api-raw-entry", "/api/v1/entries/" + key + "/60000"},
	} {
		b.Run(p.name, func(b *testing.B) {
			serve(p.path) // warm
			b.ReportAllocs()
			benchcmp.Run(b, func(int) { serve("/static/style.css") }, func(int) { serve(p.path) })
		})
	}
}
