package syncertest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
)

// maxErrors bounds the violations a check reports.
const maxErrors = 20

type violations struct{ errs []error }

func (v *violations) add(format string, args ...any) {
	if len(v.errs) < maxErrors {
		v.errs = append(v.errs, fmt.Errorf(format, args...))
	} else if len(v.errs) == maxErrors {
		v.errs = append(v.errs, errors.New("(more violations left out)"))
	}
}

func (v *violations) err() error { return errors.Join(v.errs...) }

// converged says whether the nodes agree: the healing phase runs until
// they do.
func (w *world) converged() bool {
	var v violations
	w.agree(&v)
	return v.err() == nil
}

// agree checks that every node is up, idle and free to append (unless its
// own log forked), holds the same fork proofs (by author and lowest seq),
// the same logs (whole for an author that did not fork, up to the entry
// before the fork point for one that did), and a live federation state of
// the same hash.
func (w *world) agree(v *violations) {
	ref := w.nodes[0]
	if !ref.up {
		v.add("%s is down", ref.id)
		return
	}
	refForks := ref.forkPoints()
	refV, err := ref.store.Vector()
	if err != nil {
		v.add("%s: vector: %v", ref.id, err)
		return
	}
	authors := make(map[ledger.Author]bool)
	vectors := make([]ledger.Vector, len(w.nodes))
	for i, n := range w.nodes {
		if !n.up {
			v.add("%s is down", n.id)
			return
		}
		if forks := n.forkPoints(); !maps.Equal(forks, refForks) {
			v.add("%s knows forks %s, %s knows %s", n.id, forksString(forks), ref.id, forksString(refForks))
		}
		if vectors[i], err = n.store.Vector(); err != nil {
			v.add("%s: vector: %v", n.id, err)
			return
		}
		for a := range vectors[i] {
			authors[a] = true
		}
		st := n.sy.Status()
		if len(st.Gaps) > 0 || len(st.Parked) > 0 || len(n.held) > 0 {
			v.add("%s is not idle: gaps %v, parked %v, %d held", n.id, st.Gaps, st.Parked, len(n.held))
		}
		if h, refH := n.state.Hash(), ref.state.Hash(); h != refH {
			v.add("%s's state hash %s, %s's %s", n.id, h.Short(), ref.id, refH.Short())
		}
		if _, forked := refForks[n.author.ID]; !forked {
			if err := n.sy.CheckAppend(); err != nil {
				v.add("%s cannot append: %v", n.id, err)
			}
		}
	}
	for _, a := range slices.SortedFunc(maps.Keys(authors), compareAuthors) {
		f, forked := refForks[a]
		for i, n := range w.nodes {
			h := vectors[i][a]
			if !forked {
				if h.Seq != refV[a].Seq || h.Hash != refV[a].Hash {
					v.add("%s holds %s up to %d (%s), %s up to %d (%s)", n.id, a.Short(), h.Seq, h.Hash.Short(),
						ref.id, refV[a].Seq, refV[a].Hash.Short())
				}
				continue
			}
			// Below the fork, the same entries: as far as anyone holds
			// them (the entries before a fork may be lost with the store
			// of a node restored from a backup, and live on in proofs).
			top, refTop := min(h.Seq, f-1), min(refV[a].Seq, f-1)
			if top != refTop {
				v.add("%s holds %s up to %d, %s up to %d, below its fork at %d", n.id, a.Short(), top, ref.id, refTop, f)
				continue
			}
			if top == 0 {
				continue
			}
			x, err1 := n.store.Get(a, top)
			y, err2 := ref.store.Get(a, top)
			if err1 != nil || err2 != nil || x.Hash() != y.Hash() {
				v.add("%s and %s differ on %s/%d, below its fork at %d", n.id, ref.id, a.Short(), top, f)
			}
		}
	}
}

// check checks the invariants of DESIGN.md once the nodes are healed:
// convergence (same logs, same fork proofs, same live state hash, equal to
// a replay of the store), no loss
// (every acknowledged entry everywhere), no forgery (every stored entry
// signed by a member, as the author's node made it), every fork detected
// by every node, and conservation of entries (the stores, the states and
// the vectors count the same entries).
func (w *world) check() error {
	var v violations
	w.agree(&v)
	if len(v.errs) > 0 {
		v.errs[0] = fmt.Errorf("not converged after %d healing ticks: %w", w.res.HealedIn, v.errs[0])
		return v.err() // the rest assumes the nodes are up and agree
	}
	forks := w.nodes[0].forkPoints()
	w.res.Forks = len(forks)
	w.res.Acked = len(w.acked)

	// Every fork that the stores show is known to every node, at or below
	// the first seq where two stores differ; every proof is genuine.
	for a, s := range w.storeForks() {
		for _, n := range w.nodes {
			if f, ok := n.forkPoints()[a]; !ok || f > s {
				v.add("%s's log forks at %d (the stores differ) and %s does not know it", a.Short(), s, n.id)
			}
		}
	}
	for _, n := range w.nodes {
		proofs, err := n.store.Forks()
		if err != nil {
			v.add("%s: forks: %v", n.id, err)
		}
		for _, p := range proofs {
			if _, err := ledger.NewForkProof(p.A, p.B); err != nil || !w.genuine[p.A.Hash()] || !w.genuine[p.B.Hash()] {
				v.add("%s holds a false proof %s: %v", n.id, p, err)
			}
		}

		// No forgery, and conservation: the store holds contiguous logs
		// of genuine entries, and the state applied exactly them, but a
		// forked author's from its fork point on.
		var count uint64
		err = n.store.ScanAll(func(e ledger.Entry) error {
			count++
			if !w.genuine[e.Hash()] {
				v.add("%s stores %s, which no member signed", n.id, e)
			}
			if _, err := w.decode(e.Marshal()); err != nil { // verified once per entry
				v.add("%s stores %s, which does not verify: %v", n.id, e, err)
			}
			return nil
		})
		if err != nil {
			v.add("%s: scan: %v", n.id, err)
		}
		sv, _ := n.store.Vector()
		var sum uint64
		for _, h := range sv {
			sum += uint64(h.Seq)
		}
		if stored, _ := n.store.Count(); stored != count || count != sum {
			v.add("%s: %d entries scanned, %d counted, %d by the vector", n.id, count, stored, sum)
		}
		want, applied := n.frozenVector(sv, n.forkPoints())
		if !maps.Equal(n.state.Vector(), want) || n.state.Entries() != applied {
			v.add("%s: the state applied %d entries, %s; the store holds %s, %d entries below the forks %s", n.id,
				n.state.Entries(), short(n.state.Vector()), short(sv), applied, short(want))
		}

		// Every fork the store proves froze its author in the state.
		frozen := make(map[ledger.Author]ledger.Seq)
		for _, f := range n.state.Forks() {
			frozen[f.Author] = f.Seq
		}
		if fp := n.forkPoints(); !maps.Equal(frozen, fp) {
			v.add("%s's state froze %s, its store proves forks %s", n.id, forksString(frozen), forksString(fp))
		}

		// Convergence of the derived state: agree compared the live
		// states; each must be what its store replays to, as after a
		// restart.
		replayed, held, err := n.replay()
		switch {
		case err != nil:
			v.add("%s: %v", n.id, err)
		case len(held) > 0:
			v.add("%s: a replay of its store holds %d entries it cannot apply", n.id, len(held))
		case replayed.Hash() != n.state.Hash():
			v.add("%s's live state hash %s, its store replays to %s", n.id, n.state.Hash().Short(), replayed.Hash().Short())
		}
	}

	// No loss: every acknowledged entry is everywhere (below the fork
	// point of its author, if it forked).
	acked := slices.SortedFunc(maps.Values(w.acked), func(x, y ledger.Entry) int {
		if c := compareAuthors(x.Author(), y.Author()); c != 0 {
			return c
		}
		return cmp.Compare(x.Seq(), y.Seq())
	})
	for _, e := range acked {
		if f, ok := forks[e.Author()]; ok && e.Seq() >= f {
			continue
		}
		for _, n := range w.nodes {
			if x, err := n.store.Get(e.Author(), e.Seq()); err != nil || x.Hash() != e.Hash() {
				v.add("acknowledged %s is missing from %s", e, n.id)
			}
		}
	}
	return v.err()
}

// storeForks returns, per author, the first seq at which two stores hold
// different entries.
func (w *world) storeForks() map[ledger.Author]ledger.Seq {
	out := make(map[ledger.Author]ledger.Seq)
	top := make(map[ledger.Author]ledger.Seq)
	for _, n := range w.nodes {
		v, _ := n.store.Vector()
		for a, h := range v {
			top[a] = max(top[a], h.Seq)
		}
	}
	for _, a := range slices.SortedFunc(maps.Keys(top), compareAuthors) {
	seqs:
		for s := ledger.Seq(1); s <= top[a]; s++ {
			var seen *ledger.Hash
			for _, n := range w.nodes {
				e, err := n.store.Get(a, s)
				if err != nil {
					continue
				}
				h := e.Hash()
				if seen != nil && *seen != h {
					out[a] = s
					break seqs
				}
				seen = &h
			}
		}
	}
	return out
}

// frozenVector returns the part of the store's vector sv that a federation
// state applies, given the fork points: a forked author's log up to the
// entry before its fork (the founder keeps its genesis), and the number of
// entries in it.
func (n *node) frozenVector(sv ledger.Vector, forks map[ledger.Author]ledger.Seq) (ledger.Vector, uint64) {
	out := make(ledger.Vector, len(sv))
	var count uint64
	for a, h := range sv {
		if f, ok := forks[a]; ok && h.Seq >= f {
			keep := f - 1
			if a == n.w.genesis.Author() {
				keep = max(keep, 1)
			}
			if keep == 0 {
				continue
			}
			e, err := n.store.Get(a, keep)
			if err != nil {
				n.w.failf("%s: get %s/%d: %v", n.id, a.Short(), keep, err)
				continue
			}
			h = ledger.Head{Seq: e.Seq(), Hash: e.Hash(), Time: e.Time()}
		}
		out[a] = h
		count += uint64(h.Seq)
	}
	return out, count
}

func forksString(m map[ledger.Author]ledger.Seq) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range slices.SortedFunc(maps.Keys(m), compareAuthors) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", a.Short(), m[a])
	}
	b.WriteByte('}')
	return b.String()
}

func compareAuthors(a, b ledger.Author) int { return bytes.Compare(a[:], b[:]) }
