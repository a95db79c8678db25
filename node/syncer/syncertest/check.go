package syncertest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/caisse-coop/caisse/federation"
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
// own log forked), holds the same fork proofs
// (by author and lowest seq), and the same logs: whole for an author that
// did not fork, up to the entry before the fork point for one that did.
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
		if len(st.Gaps) > 0 || len(st.Parked) > 0 {
			v.add("%s is not idle: gaps %v, parked %v", n.id, st.Gaps, st.Parked)
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
// convergence (same logs, same fork proofs, same state hash), no loss
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
	var liveHash, frozenHash ledger.Hash
	for i, n := range w.nodes {
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
		// of genuine entries, and the state applied exactly them.
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
		if stored, _ := n.store.Count(); stored != count || count != sum || n.state.Entries() != count {
			v.add("%s: %d entries scanned, %d counted, %d by the vector, %d applied", n.id, count, stored, sum, n.state.Entries())
		}
		if !maps.Equal(n.state.Vector(), sv) {
			v.add("%s: the state applied %s, the store holds %s", n.id, short(n.state.Vector()), short(sv))
		}

		// Convergence of the derived state. A forked author's entries
		// from its fork point on are not counted (the federation freezes
		// it there), so the nodes compare a state replayed without them.
		frozen := n.frozenHash(forks)
		if i == 0 {
			liveHash, frozenHash = n.state.Hash(), frozen
			continue
		}
		if len(forks) == 0 && n.state.Hash() != liveHash {
			v.add("%s's state hash %s, %s's %s", n.id, n.state.Hash().Short(), w.nodes[0].id, liveHash.Short())
		}
		if frozen != frozenHash {
			v.add("%s's state hash without forked entries %s, %s's %s", n.id, frozen.Short(), w.nodes[0].id, frozenHash.Short())
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

// frozenHash is the hash of the state that the node's store gives without
// the entries of forked authors from their fork points on.
func (n *node) frozenHash(forks map[ledger.Author]ledger.Seq) ledger.Hash {
	st := federation.New()
	if err := st.Apply(n.w.genesis); err != nil {
		n.w.failf("%s: apply genesis: %v", n.id, err)
	}
	_ = n.store.ScanAll(func(e ledger.Entry) error {
		if f, ok := forks[e.Author()]; ok && e.Seq() >= f {
			return nil
		}
		if err := st.Apply(e); err != nil && !errors.Is(err, ledger.ErrDuplicate) {
			n.w.failf("%s: replay %s: %v", n.id, e, err)
		}
		return nil
	})
	return st.Hash()
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
