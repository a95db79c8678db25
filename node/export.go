package node

// Exports: the accounts for a spreadsheet, an auditor or an accounting
// tool (issue: "Exports: caisse export --format csv|json|hledger|beancount").
//
// What is exported are the contributions, disbursements and corrections
// that count in the node's balances: those of every member's caisse
// (active or excluded), or of one caisse, over every period or one. The
// entries that count for nothing are left out, as Balances leaves them
// out: an excluded member's entries dated after its exclusion, an
// admitted member's entries dated before its admission, a correction
// either side of which does not count, and a forked log's entries from
// the fork on. So are the entries this node holds aside because they
// cannot apply yet, and the governance entries (genesis, applications,
// proposals, votes), which move no money. Before a byte is written, the
// rows are summed per caisse, category and period and compared with the
// node's balances: an export either agrees with `caisse balances` or
// fails.
//
// One row per entry, in a deterministic order: by caisse (author key
// bytes), then seq. That is each caisse's log as its treasurer wrote it,
// in time order, and the store's order; it does not depend on when the
// entries reached this node, so every node of the federation writes the
// same bytes for the same entries.
//
// Every row carries:
//
//	date         the entry's time (HLC wall clock) as a UTC date, 2026-11-23
//	time         the same to the millisecond, 2026-11-23T12:00:00.001Z
//	period       the accounting period, 2026-11; a correction's is its target's
//	caisse       the caisse's node id (ledger.NodeID, eight blocks)
//	caisse_name  the caisse's public name, from the federation's entries
//	seq          the entry's seq in the caisse's log
//	kind         contribution, disbursement or correction
//	direction    in (contributions) or out (disbursements); a correction's
//	             is its target's
//	category     dues, donation, ...; strike, legal, ...; a correction's is
//	             its target's
//	amount       signed, as seen by the caisse: money in positive, money out
//	             negative, a correction the opposite of its target; in major
//	             units with exactly the currency's decimals, "-40.25"
//	amount_minor the same in minor units, an integer: -4025
//	currency     the federation's currency code, EUR
//	member       the pseudonym of the member or beneficiary (a correction's:
//	             its target's), 32 hex digits
//	note         the entry's note; a correction's reason
//	corrects     for a correction, the id of the entry it reverses; else empty
//	id           the entry's hash, 64 hex digits: what identifies it
//	signer       the key that signed it, the caisse's, 64 hex digits
//
// Members appear by pseudonym only, never by name: the names in the local
// register are for this node's operator, and an export leaves the node
// (to an auditor, a spreadsheet, a mailbox). Amounts are integers
// throughout and formatted with ledger.Amount.Format: never a float.
//
// The formats:
//
//   - csv: a header line with the column names above, then one record per
//     row (encoding/csv: RFC 4180 quoting, "\n" line ends). A note or a
//     caisse name that a spreadsheet would read as a formula (starting
//     with = + - @, a tab or a carriage return) gets a leading apostrophe:
//     notes come from every collective of the federation.
//   - json: JSON Lines, one object per row and per line with the fields
//     above under the same names, amount a string and amount_minor and seq
//     numbers; nothing else in the stream. Lines stream and concatenate
//     where one array would not, and jq reads them as they are.
//   - hledger: a journal. One transaction per entry, dated with the
//     entry's date, cleared (*), described "kind category: note"
//     ("correction of kind category: reason"), with a comment of tags id,
//     signer, caisse, seq, period, member (and corrects), then two
//     postings: assets:caisse:ID, where ID is the caisse's short node id,
//     and income:contributions:CATEGORY or expenses:disbursements:CATEGORY,
//     with the currency code as commodity. decimal-mark, commodity and
//     account directives come first, so that hledger --strict accepts it
//     and an exponent of 3 is never read as a thousands separator.
//   - beancount: the same in beancount's syntax: Assets:Caisse:ID,
//     Income:Contributions:Dues, Expenses:Disbursements:Strike; an open
//     directive for every account used, dated with the first transaction;
//     metadata id, signer, caisse, period, member, corrects as strings and
//     seq as a number.
//
// ID is the first block of the node id (ledger.NodeID.Short: seven
// characters of A-Z and 2-7, valid in both tools); should two members of
// the federation share it, theirs is the whole id without dashes, so that
// account names depend on the federation only, never on the filters.

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// exportFormats are the formats Export writes.
var exportFormats = []string{"csv", "json", "hledger", "beancount"}

// exportColumns are the CSV header and the JSON field names, in order.
var exportColumns = []string{
	"date", "time", "period", "caisse", "caisse_name", "seq", "kind", "direction", "category",
	"amount", "amount_minor", "currency", "member", "note", "corrects", "id", "signer",
}

// Export writes the accounts in the requested format (see above). It
// reads the state under the node's lock once, then the store without it:
// replication goes on meanwhile, and the export is of the entries applied
// when it started.
func (b *backend) Export(ctx context.Context, r *rpcv1.ExportRequest, w io.Writer) error {
	format := strings.ToLower(strings.TrimSpace(r.GetFormat()))
	if !slices.Contains(exportFormats, format) {
		return invalid("export format %q: want one of %s", r.GetFormat(), strings.Join(exportFormats, ", "))
	}
	var period ledger.Period
	if p := strings.TrimSpace(r.GetPeriod()); p != "" {
		var err error
		if period, err = ledger.ParsePeriod(p); err != nil {
			return fmt.Errorf("node: export: %w", err)
		}
	}
	x, err := b.n.exportSnapshot(period, strings.TrimSpace(r.GetCaisse()))
	if err != nil {
		return err
	}
	if err := b.n.exportRows(ctx, x); err != nil {
		return err
	}
	if err := x.check(); err != nil {
		return err
	}
	// The API sends every Write as one message: batch them.
	bw := bufio.NewWriterSize(w, 32<<10)
	switch format {
	case "csv":
		err = x.writeCSV(bw)
	case "json":
		err = x.writeJSON(bw)
	case "hledger":
		err = x.writeHledger(bw)
	case "beancount":
		err = x.writeBeancount(bw)
	}
	if err != nil {
		return fmt.Errorf("node: export %s: %w", format, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("node: export %s: %w", format, err)
	}
	return nil
}

// export is one export: what the state said when it started, and the rows.
type export struct {
	fedName   string
	stateHash ledger.Hash
	currency  string
	exp       uint32
	period    ledger.Period // "" for every period
	caisse    string        // the filter as given; "" for every caisse
	caisses   []*exportCaisse
	rows      []exportRow
}

// exportCaisse is one caisse exported, as the state saw it.
type exportCaisse struct {
	key  ledger.Author
	id   ledger.NodeID
	name string
	// account is the last component of its asset account, upper case.
	account string
	// head is the last entry of its log the state applied; Seq 0 if none.
	head ledger.Head
	// counts[i] says whether the entry at seq i+1 counts in the views
	// (federation.State.Counts), read under the lock with head.
	counts []bool
	// balance is the node's, for the check.
	balance federation.CaisseBalance
}

// exportRow is one entry exported.
type exportRow struct {
	c        *exportCaisse
	seq      ledger.Seq
	time     ledger.HLC
	kind     string // contribution, disbursement, correction
	mv       exportMove
	corrects ledger.Hash // corrections: the target's id
	id       ledger.Hash
}

// exportMove is what a contribution or a disbursement moves, signed as
// the caisse sees it; a correction moves its target's, negated.
type exportMove struct {
	dir      string // federation.DirectionIn or DirectionOut
	category string
	period   ledger.Period
	amount   ledger.Amount
	member   ledger.Pseudonym
	note     string
	kind     string // contribution or disbursement
}

// place is an entry's place in the federation's canonical order: HLC
// time, then author bytes, then seq (see package federation). The zero
// place is before every entry.
// countsAt reports whether the caisse's entry at seq counts.
func (c *exportCaisse) countsAt(seq ledger.Seq) bool {
	return seq >= 1 && int(seq) <= len(c.counts) && c.counts[seq-1]
}

// exportSnapshot reads, under the lock, everything the export needs from
// the state, and selects the caisses.
func (n *Node) exportSnapshot(period ledger.Period, ref string) (*export, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch := n.state.Charter()
	if ch == nil {
		return nil, fmt.Errorf("node: export: no federation yet: %w", federation.ErrNoGenesis)
	}
	x := &export{fedName: ch.GetName(), stateHash: n.state.Hash(), period: period, caisse: ref}
	x.currency, x.exp = n.state.Currency()
	if !validCommodity(x.currency) {
		return nil, fmt.Errorf("node: export: currency code %q: not three capital letters", x.currency)
	}
	balances := n.state.Balances()
	if period != "" {
		balances = n.state.BalancesFor(period)
	}
	all := make([]*exportCaisse, 0, len(balances))
	for _, cb := range balances {
		m, ok := n.state.Member(cb.Key)
		if !ok {
			return nil, fmt.Errorf("node: export: caisse %s has a balance but is no member", cb.Key.Short())
		}
		c := &exportCaisse{key: cb.Key, id: cb.Key.ID(), name: cb.Name, balance: cb}
		if h, ok := n.state.Head(cb.Key); ok {
			c.head = h
		}
		c.counts = make([]bool, c.head.Seq)
		for i := range c.counts {
			c.counts[i] = n.state.Counts(cb.Key, ledger.Seq(i+1))
		}
		if m.ForkSeq != 0 && c.head.Seq >= m.ForkSeq {
			return nil, fmt.Errorf("node: export: caisse %s is frozen at seq %d, its head is at %d", cb.Key.Short(), m.ForkSeq, c.head.Seq)
		}
		all = append(all, c)
	}
	nameAccounts(all)
	var err error
	x.caisses, err = selectCaisses(all, ref)
	return x, err
}

// nameAccounts gives each caisse its account component: the short node id,
// or the whole id if another member shares the short one.
func nameAccounts(cs []*exportCaisse) {
	count := map[ledger.NodeID]int{}
	for _, c := range cs {
		count[c.id.Short()]++
	}
	for _, c := range cs {
		c.account = string(c.id.Short())
		if count[c.id.Short()] > 1 {
			c.account = strings.ReplaceAll(string(c.id), "-", "")
		}
	}
}

// selectCaisses returns the caisses ref names: all for "", else the one
// whose hex key, node id, or a prefix of the node id (a block at least,
// as tables show it) is ref.
func selectCaisses(cs []*exportCaisse, ref string) ([]*exportCaisse, error) {
	if ref == "" {
		return cs, nil
	}
	var match func(*exportCaisse) bool
	if a, err := ledger.ParseAuthor(strings.ToLower(ref)); err == nil {
		match = func(c *exportCaisse) bool { return c.key == a }
	} else if a, err := ledger.ParseNodeID(ref); err == nil {
		match = func(c *exportCaisse) bool { return c.key == a }
	} else {
		prefix := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(ref))
		if len(prefix) < 7 {
			return nil, invalid("caisse %q: give its node id, at least its first block of seven characters, or its hex key", ref)
		}
		match = func(c *exportCaisse) bool {
			return strings.HasPrefix(strings.ReplaceAll(string(c.id), "-", ""), prefix)
		}
	}
	var out []*exportCaisse
	for _, c := range cs {
		if match(c) {
			out = append(out, c)
		}
	}
	switch len(out) {
	case 0:
		return nil, fmt.Errorf("node: export: no caisse %q in this federation: %w", ref, ledger.ErrNotFound)
	case 1:
		return out, nil
	}
	return nil, invalid("caisse %q: %d caisses match, give more of the node id", ref, len(out))
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// exportRows reads the selected caisses' logs from the store, up to the
// heads the state had applied, and keeps the rows that count.
func (n *Node) exportRows(ctx context.Context, x *export) error {
	for _, c := range x.caisses {
		if c.head.Seq == 0 {
			continue
		}
		var last ledger.Entry
		err := n.store.Scan(c.key, 1, func(e ledger.Entry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			last = e
			row, ok, err := n.exportRow(c, e)
			if err != nil {
				return err
			}
			if ok && (x.period == "" || row.mv.period == x.period) {
				x.rows = append(x.rows, row)
			}
			if e.Seq() == c.head.Seq {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return fmt.Errorf("node: export: read %s: %w", c.key.Short(), err)
		}
		if last.IsZero() || last.Seq() != c.head.Seq || last.Hash() != c.head.Hash {
			return fmt.Errorf("node: export: the store's log of %s does not end at the state's head %d (%s)", c.key.Short(), c.head.Seq, c.head.Hash.Short())
		}
	}
	return nil
}

// exportRow turns e into a row; false if it moves no money or does not
// count.
func (n *Node) exportRow(c *exportCaisse, e ledger.Entry) (exportRow, bool, error) {
	row := exportRow{c: c, seq: e.Seq(), time: e.Time(), kind: e.Kind(), id: e.Hash()}
	if cr := e.Body().GetCorrection(); cr != nil {
		t, err := n.store.Get(c.key, ledger.Seq(cr.GetTargetSeq()))
		if err != nil {
			return exportRow{}, false, fmt.Errorf("target of %s: %w", e, err)
		}
		copy(row.corrects[:], cr.GetTargetHash())
		mv, ok := movementOf(t)
		if !ok || t.Hash() != row.corrects {
			return exportRow{}, false, fmt.Errorf("%s names %s, which is %s", e, row.corrects.Short(), t)
		}
		// A correction counts when it and its target both do.
		if !c.countsAt(e.Seq()) || !c.countsAt(t.Seq()) {
			return exportRow{}, false, nil
		}
		row.mv = mv
		if row.mv.amount, err = mv.amount.Neg(); err != nil {
			return exportRow{}, false, err
		}
		row.mv.note = cr.GetReason()
		return row, true, nil
	}
	mv, ok := movementOf(e)
	if !ok || !c.countsAt(e.Seq()) {
		return exportRow{}, false, nil
	}
	row.mv = mv
	return row, true, nil
}

// movementOf returns what a contribution or a disbursement moves; false
// for other kinds.
func movementOf(e ledger.Entry) (exportMove, bool) {
	b := e.Body()
	if c := b.GetContribution(); c != nil {
		return exportMove{dir: federation.DirectionIn, category: ledger.ContributionCategoryName(c.GetCategory()),
			period: ledger.Period(c.GetPeriod()), amount: ledger.Amount(c.GetAmount()),
			member: ledger.Pseudonym(c.GetMember()), note: c.GetNote(), kind: e.Kind()}, true
	}
	if d := b.GetDisbursement(); d != nil {
		return exportMove{dir: federation.DirectionOut, category: ledger.DisbursementCategoryName(d.GetCategory()),
			period: ledger.Period(d.GetPeriod()), amount: -ledger.Amount(d.GetAmount()), // ledger bounds it: no overflow
			member: ledger.Pseudonym(d.GetBeneficiary()), note: d.GetNote(), kind: e.Kind()}, true
	}
	return exportMove{}, false
}

// check sums the rows per caisse and compares them with the node's
// balances: the total, every category and every period.
func (x *export) check() error {
	type sums struct {
		total    federation.Totals
		category map[[2]string]ledger.Amount
		period   map[ledger.Period]federation.Totals
	}
	by := map[*exportCaisse]*sums{}
	for _, r := range x.rows {
		s := by[r.c]
		if s == nil {
			s = &sums{category: map[[2]string]ledger.Amount{}, period: map[ledger.Period]federation.Totals{}}
			by[r.c] = s
		}
		var err error
		if s.total, err = addRow(s.total, r.mv); err != nil {
			return fmt.Errorf("node: export: caisse %s: %w", r.c.key.Short(), err)
		}
		if s.period[r.mv.period], err = addRow(s.period[r.mv.period], r.mv); err != nil {
			return fmt.Errorf("node: export: caisse %s: %w", r.c.key.Short(), err)
		}
		a := r.mv.amount
		if r.mv.dir == federation.DirectionOut {
			a = -a
		}
		k := [2]string{r.mv.dir, r.mv.category}
		if s.category[k], err = s.category[k].Add(a); err != nil {
			return fmt.Errorf("node: export: caisse %s: %w", r.c.key.Short(), err)
		}
	}
	for _, c := range x.caisses {
		s := by[c]
		if s == nil {
			s = &sums{}
		}
		want := c.balance
		bad := s.total != want.Total
		nonZero := 0
		for k, a := range s.category {
			if a != 0 {
				nonZero++
			}
			bad = bad || a != categoryAmount(want.ByCategory, k)
		}
		bad = bad || nonZero != len(want.ByCategory)
		nonZero = 0
		for p, t := range s.period {
			if t != (federation.Totals{}) {
				nonZero++
			}
			bad = bad || t != periodTotals(want.ByPeriod, p)
		}
		bad = bad || nonZero != len(want.ByPeriod)
		if bad {
			return fmt.Errorf("node: export: caisse %s: the entries sum to %+v by category %v by period %v, the balances say %+v %v %v: nothing exported",
				c.key.Short(), s.total, s.category, s.period, want.Total, want.ByCategory, want.ByPeriod)
		}
	}
	return nil
}

func addRow(t federation.Totals, mv exportMove) (federation.Totals, error) {
	var err error
	if mv.dir == federation.DirectionIn {
		t.Contributed, err = t.Contributed.Add(mv.amount)
	} else {
		t.Disbursed, err = t.Disbursed.Sub(mv.amount)
	}
	if err != nil {
		return t, err
	}
	t.Balance, err = t.Balance.Add(mv.amount)
	return t, err
}

func categoryAmount(cs []federation.CategoryTotal, k [2]string) ledger.Amount {
	for _, c := range cs {
		if c.Direction == k[0] && c.Category == k[1] {
			return c.Amount
		}
	}
	return 0
}

func periodTotals(ps []federation.PeriodTotals, p ledger.Period) federation.Totals {
	for _, pt := range ps {
		if pt.Period == p {
			return pt.Totals
		}
	}
	return federation.Totals{}
}

// Rows as text.

func (r exportRow) date() string { return wallTime(r.time).Format(time.DateOnly) }

func wallTime(t ledger.HLC) time.Time { return time.UnixMilli(int64(t.Wall)).UTC() }

func hashOrEmpty(h ledger.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}

// record returns the row as its fields.
func (x *export) record(r exportRow) exportJSON {
	return exportJSON{
		Date: r.date(), Time: wallTime(r.time).Format("2006-01-02T15:04:05.000Z07:00"), Period: string(r.mv.period),
		Caisse: string(r.c.id), CaisseName: r.c.name, Seq: uint64(r.seq), Kind: r.kind, Direction: r.mv.dir,
		Category: r.mv.category, Amount: r.mv.amount.Format(x.exp), AmountMinor: int64(r.mv.amount),
		Currency: x.currency, Member: r.mv.member.String(), Note: r.mv.note, Corrects: hashOrEmpty(r.corrects),
		ID: r.id.String(), Signer: r.c.key.String(),
	}
}

// fields returns the values in the order of exportColumns, as text.
func (j exportJSON) fields() []string {
	return []string{
		j.Date, j.Time, j.Period, j.Caisse, j.CaisseName, strconv.FormatUint(j.Seq, 10), j.Kind, j.Direction,
		j.Category, j.Amount, strconv.FormatInt(j.AmountMinor, 10), j.Currency, j.Member, j.Note, j.Corrects, j.ID, j.Signer,
	}
}

func (x *export) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(exportColumns); err != nil {
		return err
	}
	for _, r := range x.rows {
		j := x.record(r)
		j.Note, j.CaisseName = spreadsheetSafe(j.Note), spreadsheetSafe(j.CaisseName)
		if err := cw.Write(j.fields()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// spreadsheetSafe keeps a spreadsheet from running free text as a formula
// (CSV injection): a leading apostrophe, as OWASP advises, before text
// that starts like one.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportJSON is a row: in JSON, the fields of exportColumns in order.
type exportJSON struct {
	Date        string `json:"date"`
	Time        string `json:"time"`
	Period      string `json:"period"`
	Caisse      string `json:"caisse"`
	CaisseName  string `json:"caisse_name"`
	Seq         uint64 `json:"seq"`
	Kind        string `json:"kind"`
	Direction   string `json:"direction"`
	Category    string `json:"category"`
	Amount      string `json:"amount"`
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Member      string `json:"member"`
	Note        string `json:"note"`
	Corrects    string `json:"corrects"`
	ID          string `json:"id"`
	Signer      string `json:"signer"`
}

func (x *export) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w) // one value per line: JSON Lines
	enc.SetEscapeHTML(false)
	for _, r := range x.rows {
		if err := enc.Encode(x.record(r)); err != nil {
			return err
		}
	}
	return nil
}

// Journals.

// posting is one line of a transaction: an account and a signed amount.
type posting struct {
	account string
	amount  ledger.Amount
}

// postings returns a row's two postings, asset first, named by acct.
func (r exportRow) postings(acct func(kind, a, b string) string) [2]posting {
	other := acct("income", "contributions", r.mv.category)
	if r.mv.dir == federation.DirectionOut {
		other = acct("expenses", "disbursements", r.mv.category)
	}
	return [2]posting{{acct("assets", "caisse", r.c.account), r.mv.amount}, {other, -r.mv.amount}}
}

// description is "contribution dues: note", or for a correction
// "correction of contribution dues: reason".
func (r exportRow) description() string {
	d := r.mv.kind + " " + r.mv.category
	if r.kind == "correction" {
		d = "correction of " + d
	}
	if r.mv.note != "" {
		d += ": " + r.mv.note
	}
	return d
}

// header is the comment both journals start with.
func (x *export) header() string {
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, "; %s\n", oneLine(fmt.Sprintf(format, args...)))
	}
	line("Accounts of the federation %q, exported by caisse.", x.fedName)
	line("The contributions, disbursements and corrections that count in its balances,")
	line("by caisse (key bytes) then seq; a correction posts the reverse of its target.")
	periods, caisses := "all periods", "all caisses"
	if x.period != "" {
		periods = "period " + string(x.period)
	}
	if x.caisse != "" {
		caisses = "caisse " + x.caisse
	}
	line("Export of %s, %s, from the state %s.", periods, caisses, x.stateHash)
	line("Amounts are exact, in %s with %d decimals. Members appear as pseudonyms only.", x.currency, x.exp)
	for _, c := range x.caisses {
		line("Caisse %s: %q, node id %s, key %s.", c.account, c.name, c.id, c.key)
	}
	return b.String()
}

func hledgerAccount(kind, a, b string) string { return kind + ":" + a + ":" + b }

func (x *export) writeHledger(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(x.header())
	bw.WriteString("\ndecimal-mark .\n")
	// The commodity's format: no thousands mark, a decimal point (which
	// hledger wants to see even with no decimals), exp decimals.
	sample := ledger.Amount(1000 * pow10(x.exp)).Format(x.exp)
	if x.exp == 0 {
		sample += "."
	}
	fmt.Fprintf(bw, "commodity %s %s\n\n", sample, x.currency)
	for _, c := range x.caisses {
		fmt.Fprintf(bw, "account %s  ; %s\n", hledgerAccount("assets", "caisse", c.account), oneLine(c.name))
	}
	accounts, width, amountWidth := x.journalAccounts(hledgerAccount)
	for _, a := range accounts {
		if !strings.HasPrefix(a, "assets:") {
			fmt.Fprintf(bw, "account %s\n", a)
		}
	}
	for _, r := range x.rows {
		fmt.Fprintf(bw, "\n%s * %s\n", r.date(), strings.ReplaceAll(oneLine(r.description()), ";", ","))
		fmt.Fprintf(bw, "    ; id:%s, signer:%s, caisse:%s, seq:%d, period:%s, member:%s", r.id, r.c.key, r.c.account, r.seq, r.mv.period, r.mv.member)
		if r.kind == "correction" {
			fmt.Fprintf(bw, ", corrects:%s", r.corrects)
		}
		bw.WriteString("\n")
		for _, p := range r.postings(hledgerAccount) {
			fmt.Fprintf(bw, "    %-*s  %*s %s\n", width, p.account, amountWidth, p.amount.Format(x.exp), x.currency)
		}
	}
	return bw.Flush()
}

func beancountAccount(kind, a, b string) string {
	return beancountComponent(kind) + ":" + beancountComponent(a) + ":" + beancountComponent(b)
}

// beancountComponent capitalizes s and keeps its letters and digits: a
// valid component of a beancount account.
func beancountComponent(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (x *export) writeBeancount(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(x.header())
	fmt.Fprintf(bw, "\noption \"title\" %s\n", beancountString(x.fedName))
	fmt.Fprintf(bw, "option \"operating_currency\" %s\n", beancountString(x.currency))
	accounts, width, amountWidth := x.journalAccounts(beancountAccount)
	if len(x.rows) > 0 {
		// Every account is opened with the first transaction: open
		// directives sort before transactions of the same day.
		first := x.rows[0].date()
		for _, r := range x.rows {
			first = min(first, r.date())
		}
		bw.WriteString("\n")
		names := map[string]*exportCaisse{}
		for _, c := range x.caisses {
			names[beancountAccount("assets", "caisse", c.account)] = c
		}
		for _, a := range accounts {
			fmt.Fprintf(bw, "%s open %s %s\n", first, a, x.currency)
			if c := names[a]; c != nil {
				fmt.Fprintf(bw, "  name: %s\n  caisse: %s\n", beancountString(c.name), beancountString(string(c.id)))
			}
		}
	}
	for _, r := range x.rows {
		fmt.Fprintf(bw, "\n%s * %s\n", r.date(), beancountString(r.description()))
		fmt.Fprintf(bw, "  id: %q\n  signer: %q\n  caisse: %s\n  seq: %d\n  period: %q\n  member: %q\n",
			r.id.String(), r.c.key.String(), beancountString(string(r.c.id)), r.seq, string(r.mv.period), r.mv.member.String())
		if r.kind == "correction" {
			fmt.Fprintf(bw, "  corrects: %q\n", r.corrects.String())
		}
		for _, p := range r.postings(beancountAccount) {
			fmt.Fprintf(bw, "  %-*s  %*s %s\n", width, p.account, amountWidth, p.amount.Format(x.exp), x.currency)
		}
	}
	return bw.Flush()
}

// journalAccounts returns the accounts the rows post to, sorted, with the
// widths of the longest account and amount, to align the postings.
func (x *export) journalAccounts(acct func(kind, a, b string) string) (accounts []string, width, amountWidth int) {
	seen := map[string]bool{}
	for _, r := range x.rows {
		for _, p := range r.postings(acct) {
			if !seen[p.account] {
				seen[p.account] = true
				accounts = append(accounts, p.account)
			}
			width = max(width, len(p.account))
			amountWidth = max(amountWidth, len(p.amount.Format(x.exp)))
		}
	}
	slices.Sort(accounts)
	return accounts, width, amountWidth
}

// oneLine replaces control characters and line and paragraph separators
// with spaces: a journal's text stays on its line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return ' '
		}
		return r
	}, s)
}

// beancountString quotes s as a beancount string, on one line.
func beancountString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(oneLine(s)) + `"`
}

// validCommodity reports whether code is an ISO 4217 code, which both
// hledger and beancount take as a commodity without quotes.
func validCommodity(code string) bool {
	if len(code) != 3 {
		return false
	}
	for _, c := range code {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func pow10(exp uint32) int64 {
	p := int64(1)
	for range exp {
		p *= 10
	}
	return p
}
