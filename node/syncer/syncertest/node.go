package syncertest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/ledger/memstore"
	"github.com/caisse-coop/caisse/node/syncer"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// errPending is the simulated federation's "pending" answer (Faults.Pending),
// on top of the state's own: the entry may become valid once others
// arrive. It wraps federation.ErrPending, as the state's answers do.
var errPending = fmt.Errorf("syncertest: simulated: %w", federation.ErrPending)

// isPending is how the node tells an entry that may become valid once
// others arrive (node.isPending).
func isPending(err error) bool {
	return errors.Is(err, federation.ErrPending) || errors.Is(err, federation.ErrNoGenesis) || errors.Is(err, ledger.ErrGap)
}

// node is one simulated node, driven as the real node drives its syncer.
// Its store survives a crash; its syncer, federation state, peers view and
// calls in flight do not.
type node struct {
	w      *world
	i      int
	id     syncer.PeerID
	author *ledgertest.Author
	signer *ledger.Signer
	store  *memstore.Store
	lives  uint64

	up    bool
	sy    *syncer.Syncer
	state *federation.State
	held  []ledger.Entry   // stored entries the state cannot apply yet (see replay)
	view  []bool           // the peers its memberlist sees up
	calls map[uint64]*call // exchanges in flight, by id
	call  uint64
}

// call is an exchange in flight: the peer called and the tick at which the
// call times out.
type call struct {
	peer     syncer.PeerID
	deadline uint64
}

func newNode(w *world, i int, a *ledgertest.Author) *node {
	signer, err := ledger.NewSigner(a.Key)
	if err != nil {
		w.tb.Fatalf("syncertest: signer: %v", err)
	}
	n := &node{w: w, i: i, id: syncer.PeerID(fmt.Sprintf("n%d", i)), author: a, signer: signer, store: memstore.New()}
	if err := n.store.Append(w.genesis); err != nil {
		w.tb.Fatalf("syncertest: store genesis: %v", err)
	}
	return n
}

// start (re)starts the node on its store: the state is replayed from it,
// the syncer is new, and the fork proofs of the store are stepped first.
func (n *node) start() {
	w := n.w
	n.lives++
	var err error
	if n.state, n.held, err = n.replay(); err != nil {
		w.failf("%s: %v", n.id, err)
		return
	}
	v, err := n.store.Vector()
	if err != nil {
		w.failf("%s: vector: %v", n.id, err)
		return
	}
	cfg := w.cfg
	cfg.Self = n.author.ID
	cfg.Rand = rand.New(rand.NewPCG(w.o.Seed, uint64(n.i)<<32|n.lives))
	if n.sy, err = syncer.New(cfg, v); err != nil {
		w.failf("%s: new syncer: %v", n.id, err)
		return
	}
	n.up = true
	n.view = make([]bool, len(w.nodes))
	n.calls = make(map[uint64]*call)
	proofs, err := n.store.Forks()
	if err != nil {
		w.failf("%s: forks: %v", n.id, err)
		return
	}
	for _, p := range proofs {
		n.step(syncer.Forked{Proof: p})
	}
	w.logf("%s starts at %v", n.id, short(v))
	n.drive()
}

func (n *node) crash() {
	n.w.logf("%s crashes", n.id)
	n.w.res.Crashes++
	n.up, n.sy, n.state, n.held, n.calls = false, nil, nil, nil, nil
}

// replay rebuilds the federation state from the store, as node.replay
// does: the genesis first, then every log (the entries that cannot apply
// yet are held), then every fork proof stored, then the held entries
// settled. The entries still held are returned with the state.
func (n *node) replay() (*federation.State, []ledger.Entry, error) {
	w := n.w
	st := federation.New()
	if err := st.Apply(w.genesis); err != nil {
		return nil, nil, fmt.Errorf("replay genesis: %w", err)
	}
	var held []ledger.Entry
	err := n.store.ScanAll(func(e ledger.Entry) error {
		if e.Hash() == w.fed {
			return nil
		}
		switch err := st.Apply(e); {
		case err == nil:
		case isPending(err):
			held = append(held, e)
		default:
			return fmt.Errorf("replay %s: %w", e, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	proofs, err := n.store.Forks()
	if err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	for _, p := range proofs {
		if err := st.ApplyFork(p.A, p.B); err != nil && !errors.Is(err, ledger.ErrDuplicate) && !isPending(err) {
			return nil, nil, fmt.Errorf("replay %s: %w", p, err)
		}
	}
	held, dropped, err := st.Settle(held, nil)
	if err == nil && len(dropped) > 0 {
		// The node logs them; here every stored entry was checked
		// against a state that the store replays to, so none may be.
		err = fmt.Errorf("stored entries that can never apply: %w", errors.Join(dropped...))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("replay: settle: %w", err)
	}
	return st, held, nil
}

// settle applies the held entries that can apply now (node.settleLocked).
func (n *node) settle() {
	if len(n.held) == 0 {
		return
	}
	waiting, dropped, err := n.state.Settle(n.held, nil)
	if err == nil && len(dropped) > 0 {
		err = errors.Join(dropped...)
	}
	if err != nil {
		n.w.failf("%s: settle held entries: %v", n.id, err)
	}
	n.held = waiting
}

// restore restarts the node from an old backup of its store: each log is
// cut to a random prefix (logs are independent, so any mix of prefixes is
// a store some past moment could have held). With equivocate, the node
// then appends at once over the entries of its own log that it lost,
// without waiting for its peers: a fork.
func (n *node) restore(equivocate bool) {
	w := n.w
	if n.up {
		n.crash()
	}
	w.res.Restores++
	v, err := n.store.Vector()
	if err != nil {
		w.failf("%s: vector: %v", n.id, err)
		return
	}
	keep := make(map[ledger.Author]ledger.Seq)
	for _, a := range v.Authors() {
		keep[a] = ledger.Seq(w.rnd.IntN(int(v[a].Seq) + 1))
		if a == w.genesis.Author() {
			keep[a] = max(keep[a], 1)
		}
	}
	lostOwn := keep[n.author.ID] < v[n.author.ID].Seq
	w.logf("%s restores a backup: keeps %v of %v", n.id, keep, short(v))
	n.replaceStore(func(e ledger.Entry) bool { return e.Seq() <= keep[e.Author()] })
	n.start()
	if equivocate && lostOwn && n.up {
		n.append(true)
	}
}

// replaceStore keeps only the entries for which keep is true. Acknowledged
// entries that no other store holds are lost: they no longer count.
func (n *node) replaceStore(keep func(ledger.Entry) bool) {
	w := n.w
	s := memstore.New()
	var kept []ledger.Entry
	err := n.store.ScanAll(func(e ledger.Entry) error {
		if keep(e) {
			kept = append(kept, e)
			return nil
		}
		if _, ok := w.acked[e.Hash()]; !ok {
			return nil
		}
		for _, o := range w.nodes {
			if o == n {
				continue
			}
			if x, err := o.store.Get(e.Author(), e.Seq()); err == nil && x.Hash() == e.Hash() {
				return nil
			}
		}
		delete(w.acked, e.Hash())
		w.res.Lost++
		return nil
	})
	if err == nil {
		err = s.Append(kept...)
	}
	if err != nil {
		w.failf("%s: replace store: %v", n.id, err)
		return
	}
	n.store = s
}

// append records a contribution or a disbursement in the node's own log,
// if the syncer allows it (or if force: the equivocation of a restored
// node), and acknowledges it once stored.
func (n *node) append(force bool) {
	w := n.w
	if err := n.sy.CheckAppend(); err != nil && !force {
		return
	}
	body := &caissev1.EntryBody{
		Federation: w.fed[:],
		Author:     n.author.ID[:],
		Seq:        1,
		Time:       ledger.HLC{Wall: ledgertest.Epoch + w.now*ledgertest.Step}.Proto(),
	}
	if h, err := n.store.Head(n.author.ID); err == nil {
		body.Seq = uint64(h.Seq) + 1
		body.Prev = h.Hash[:]
		if t := (ledger.HLC{Wall: ledgertest.Epoch + w.now*ledgertest.Step}); !h.Time.Before(t) {
			body.Time = ledger.HLC{Wall: h.Time.Wall, Logical: h.Time.Logical + 1}.Proto()
		}
	}
	member := ledgertest.Member(fmt.Sprintf("member %d of %s", w.rnd.IntN(5), n.id))
	amount := int64(1 + w.rnd.IntN(10000))
	period := fmt.Sprintf("2026-%02d", 1+w.rnd.IntN(3))
	if w.rnd.IntN(4) == 0 {
		body.Kind = &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
			Beneficiary: member[:], Amount: amount, Period: period,
			Category: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE,
		}}
	} else {
		note := ""
		if force {
			note = "equivocation"
		}
		body.Kind = &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
			Member: member[:], Amount: amount, Period: period, Note: note,
			Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES,
		}}
	}
	e, err := n.signer.Sign(body)
	if err != nil {
		w.failf("%s: sign: %v", n.id, err)
		return
	}
	if err := n.state.Check(e); err != nil {
		w.failf("%s: append %s: check: %v", n.id, e, err)
		return
	}
	if err := n.store.Append(e); err != nil {
		w.failf("%s: append %s: %v", n.id, e, err)
		return
	}
	if err := n.state.Apply(e); err != nil {
		w.failf("%s: append %s: apply after check: %v", n.id, e, err)
		return
	}
	w.genuine[e.Hash()] = true
	w.acked[e.Hash()] = e
	w.res.Appended++
	if force {
		w.logf("%s equivocates: %s", n.id, e)
	}
	n.step(syncer.Appended{Entry: e})
	n.drive()
}

// step feeds the syncer; the simulated node never sends bad input, so an
// error is a bug of the driver or of the syncer.
func (n *node) step(m syncer.Msg) {
	if err := n.sy.Step(m); err != nil {
		n.w.failf("%s: step %T: %v", n.id, m, err)
	}
}

func (n *node) tick() {
	for _, id := range slices.Sorted(maps.Keys(n.calls)) {
		if c := n.calls[id]; c.deadline <= n.w.now {
			delete(n.calls, id)
			n.step(syncer.ExchangeFailed{Peer: c.peer, Err: errors.New("deadline exceeded")})
		}
	}
	n.sy.Tick()
	n.drive()
}

// refresh is the node's memberlist noticing which peers are up.
func (n *node) refresh() {
	if !n.up {
		return
	}
	for j, o := range n.w.nodes {
		if j == n.i {
			continue
		}
		up := o.up && (n.w.part == nil || n.w.part[j] == n.w.part[n.i])
		if up == n.view[j] {
			continue
		}
		n.view[j] = up
		if up {
			n.step(syncer.PeerUp{Peer: o.id})
		} else {
			n.step(syncer.PeerDown{Peer: o.id})
		}
	}
	n.drive()
}

// drive is the node's Ready loop, as node.Node runs it.
func (n *node) drive() {
	w := n.w
	for rounds := 0; n.up && n.sy.HasReady(); rounds++ {
		if rounds > 10000 {
			w.failf("%s: still ready after %d rounds", n.id, rounds)
			return
		}
		rd := n.sy.Ready()
		refused := make(map[ledger.Author]bool)
		for _, e := range rd.Save {
			if refused[e.Author()] {
				continue // allowed: the syncer takes the rest back
			}
			if err := n.save(e); err != nil {
				refused[e.Author()] = true
			}
		}
		for _, c := range rd.Check {
			stored, err := n.store.Get(c.Entry.Author(), c.Entry.Seq())
			if err != nil {
				w.failf("%s: check %s: %v", n.id, c.Entry, err)
				continue
			}
			var fe *ledger.ForkError
			if errors.As(ledger.CheckStored(stored, c.Entry), &fe) {
				p, err := fe.Proof()
				if err != nil {
					w.failf("%s: proof: %v", n.id, err)
					continue
				}
				if n.keepProof(p) {
					n.step(syncer.Forked{Peer: c.Peer, Proof: p})
				}
			}
		}
		for _, f := range rd.Proofs {
			if n.keepProof(f.Proof) {
				n.step(f)
			}
		}
		if !w.o.NeverPull {
			for _, p := range rd.Pulls {
				n.send(p.Peer, pullReq{pull: p})
			}
		}
		if len(rd.Exchanges) > 0 {
			v, forks := n.frontier()
			for _, id := range rd.Exchanges {
				n.call++
				n.calls[n.call] = &call{peer: id, deadline: w.now + uint64(3*w.maxDelay+2)}
				n.send(id, exchangeReq{id: n.call, vector: v, forks: forks})
			}
		}
		for _, id := range rd.FetchForks {
			n.send(id, forksReq{})
		}
		for _, p := range rd.Pushes {
			raws := make([][]byte, len(p.Entries))
			for i, e := range p.Entries {
				raws[i] = e.Marshal()
			}
			n.send(p.Peer, push{raws: raws})
		}
		if len(rd.Heads) > 0 {
			for j := range w.nodes {
				if j != n.i {
					w.send(n.i, j, gossip{heads: rd.Heads})
				}
			}
		}
		n.sy.Advance(rd)
	}
}

// save is the node's ingest of one entry of Ready.Save (node.ingest):
// federation check, durable store, apply, and the report to the syncer.
func (n *node) save(e ledger.Entry) error {
	w := n.w
	err := n.state.Check(e)
	if err == nil && w.rnd.Float64() < w.faults().Pending {
		err = fmt.Errorf("federation: check %s: %w", e, errPending)
	}
	switch {
	case err == nil:
	case errors.Is(err, ledger.ErrDuplicate):
		n.step(syncer.Rejected{Entry: e, Err: err})
		return err
	case errors.Is(err, ledger.ErrFork):
		// The state applied another entry at this place: the store
		// holds it (node.recordForkLocked).
		mine, gerr := n.store.Get(e.Author(), e.Seq())
		if gerr != nil {
			w.failf("%s: fork of %s: the state applied an entry the store lacks: %v", n.id, e, gerr)
			return err
		}
		p, perr := ledger.NewForkProof(mine, e)
		if perr != nil {
			w.failf("%s: fork of %s: %v", n.id, e, perr)
			return err
		}
		if n.keepProof(p) {
			n.step(syncer.Forked{Proof: p})
		}
		n.step(syncer.Rejected{Entry: e, Err: err})
		return err
	case isPending(err):
		n.step(syncer.Rejected{Entry: e, Err: err, Pending: true})
		return err
	default:
		n.step(syncer.Rejected{Entry: e, Err: err})
		return err
	}
	// The state checked e, and the state holds what the store holds (but
	// what a fork took out, which it refuses): the store takes it.
	if err := n.store.Append(e); err != nil {
		w.failf("%s: store %s after check: %v", n.id, e, err)
		return err
	}
	if err := n.state.Apply(e); err != nil {
		w.failf("%s: apply %s after check: %v", n.id, e, err)
	}
	n.step(syncer.Saved{Entry: e})
	n.settle()
	return nil
}

// keepProof keeps a fork proof durably and freezes its author in the state
// (node.addForkLocked). A proof the state knows already, or about an
// author it does not know yet, is fine: it is kept, and applied again at
// replay. It reports whether the proof was kept.
func (n *node) keepProof(p ledger.ForkProof) bool {
	w := n.w
	if err := n.store.AddFork(p); err != nil {
		w.failf("%s: keep %s: %v", n.id, p, err)
		return false
	}
	if w.o.SkipApplyFork {
		return true
	}
	switch err := n.state.ApplyFork(p.A, p.B); {
	case err == nil:
		w.logf("%s: %s", n.id, p)
	case errors.Is(err, ledger.ErrDuplicate), errors.Is(err, federation.ErrPending):
	default:
		w.failf("%s: apply %s: %v", n.id, p, err)
		return false
	}
	return true
}

// frontier is what the node sends in an exchange: its store's vector and
// its number of fork proofs.
func (n *node) frontier() (ledger.Vector, uint32) {
	v, err := n.store.Vector()
	if err != nil {
		n.w.failf("%s: vector: %v", n.id, err)
	}
	proofs, err := n.store.Forks()
	if err != nil {
		n.w.failf("%s: forks: %v", n.id, err)
	}
	return v, uint32(len(proofs))
}

func (n *node) send(to syncer.PeerID, body any) {
	var j int
	if _, err := fmt.Sscanf(string(to), "n%d", &j); err != nil || j < 0 || j >= len(n.w.nodes) || j == n.i {
		n.w.failf("%s: send to unknown peer %q", n.id, to)
		return
	}
	n.w.send(n.i, j, body)
}

// receive handles a message from node j, as the node's gRPC server and
// clients and its gossip delegate do.
func (n *node) receive(j int, body any) {
	w := n.w
	peer := w.nodes[j].id
	switch b := body.(type) {
	case exchangeReq:
		n.step(syncer.Vector{Peer: peer, Vector: b.vector, Forks: b.forks})
		v, forks := n.frontier()
		w.send(n.i, j, exchangeResp{id: b.id, vector: v, forks: forks})
	case exchangeResp:
		if _, ok := n.calls[b.id]; !ok {
			return // the call timed out
		}
		delete(n.calls, b.id)
		n.step(syncer.Vector{Peer: peer, Vector: b.vector, Forks: b.forks})
	case pullReq:
		w.send(n.i, j, n.serve(b.pull))
	case pullResp:
		ok := !b.failed
		for _, batch := range b.batches {
			es, bad := n.decodeAll(batch)
			if len(es) > 0 {
				n.step(syncer.Entries{Peer: peer, Entries: es})
			}
			if bad {
				ok = false // a stream with a bad entry fails there
				break
			}
		}
		if ok {
			n.step(syncer.PullDone{Pull: b.pull})
		} else {
			n.step(syncer.PullFailed{Pull: b.pull, Err: errors.New("stream broken")})
		}
	case push:
		if es, _ := n.decodeAll(b.raws); len(es) > 0 {
			n.step(syncer.Entries{Peer: peer, Entries: es})
		}
	case gossip:
		n.step(syncer.Heads{Peer: peer, Heads: b.heads})
	case forksReq:
		proofs, err := n.store.Forks()
		if err != nil {
			w.failf("%s: forks: %v", n.id, err)
			return
		}
		raws := make([][]byte, len(proofs))
		for i, p := range proofs {
			raws[i] = p.Marshal()
		}
		w.send(n.i, j, forksResp{proofs: raws})
	case forksResp:
		for _, raw := range b.proofs {
			p, err := ledger.DecodeForkProof(raw)
			if err != nil {
				w.res.Refused++
				continue
			}
			if n.keepProof(p) {
				n.step(syncer.Forked{Peer: peer, Proof: p})
			}
		}
	default:
		w.failf("%s: unknown message %T", n.id, body)
	}
	n.drive()
}

// decodeAll decodes and verifies entries received; bad says one was
// refused.
func (n *node) decodeAll(raws [][]byte) (es []ledger.Entry, bad bool) {
	for _, raw := range raws {
		e, err := n.w.decode(raw)
		if err != nil {
			n.w.res.Refused++
			bad = true
			continue
		}
		es = append(es, e)
	}
	return es, bad
}

// serve answers a pull from the store, in batches; the stream may break
// after any batch.
func (n *node) serve(p syncer.Pull) pullResp {
	w := n.w
	resp := pullResp{pull: p}
	size := 1 + w.rnd.IntN(8)
	var batch [][]byte
	err := n.store.Scan(p.Author, p.From, func(e ledger.Entry) error {
		if e.Seq() > p.To {
			return errStop
		}
		batch = append(batch, e.Marshal())
		if len(batch) == size {
			resp.batches = append(resp.batches, batch)
			batch = nil
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		w.failf("%s: serve %s: %v", n.id, p, err)
	}
	if len(batch) > 0 {
		resp.batches = append(resp.batches, batch)
	}
	if f := w.faults(); len(resp.batches) > 0 && w.rnd.Float64() < f.Drop {
		resp.batches = resp.batches[:w.rnd.IntN(len(resp.batches))]
		resp.failed = true
	}
	return resp
}

var errStop = errors.New("stop")

// forkPoints returns, per forked author, the lowest seq of the proofs the
// node holds.
func (n *node) forkPoints() map[ledger.Author]ledger.Seq {
	out := make(map[ledger.Author]ledger.Seq)
	proofs, err := n.store.Forks()
	if err != nil {
		n.w.failf("%s: forks: %v", n.id, err)
		return out
	}
	for _, p := range proofs {
		if s, ok := out[p.Author()]; !ok || p.Seq() < s {
			out[p.Author()] = p.Seq()
		}
	}
	return out
}

// short prints a vector as author prefixes and seqs, for traces.
func short(v ledger.Vector) string {
	s := "{"
	for i, a := range v.Authors() {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s:%d", a.Short()[:4], v[a].Seq)
	}
	return s + "}"
}
