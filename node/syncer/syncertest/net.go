package syncertest

import (
	"container/heap"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/syncer"
)

// The simulated network carries what the real one does: vectors and heads
// (unauthenticated), and entries and fork proofs as the bytes their
// protobuf messages hold, which the receiver decodes and verifies
// (ledger.Decode, ledger.DecodeForkProof), so that a flipped byte is
// refused where the real node would refuse it.

// envelope is one message in flight.
type envelope struct {
	at       uint64 // the tick it is delivered at
	order    uint64 // random: reorders messages of one tick
	from, to int
	body     any
}

type (
	exchangeReq struct {
		id     uint64
		vector ledger.Vector
		forks  uint32
	}
	exchangeResp struct {
		id     uint64
		vector ledger.Vector
		forks  uint32
	}
	pullReq  struct{ pull syncer.Pull }
	pullResp struct {
		pull    syncer.Pull
		batches [][][]byte // encoded entries, in batches as the stream sends them
		failed  bool       // the stream broke after these batches
	}
	push      struct{ raws [][]byte }
	gossip    struct{ heads []syncer.AuthorHead }
	forksReq  struct{}
	forksResp struct{ proofs [][]byte }
	// membership is not a network message: it is when the node's
	// memberlist notices the peers that came and went (see world.refresh).
	membership struct{}
)

// queue is the messages in flight, a heap by delivery tick then order.
type queue []*envelope

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].order < q[j].order
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*envelope)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// send puts a message on the network, which may drop, duplicate, delay
// (and so reorder) it, and forge the entries it carries.
func (w *world) send(from, to int, body any) {
	w.res.Messages++
	if !w.connected(from, to) {
		w.res.Dropped++
		return
	}
	f := w.faults()
	if w.rnd.Float64() < f.Drop {
		w.res.Dropped++
		return
	}
	copies := 1
	if w.rnd.Float64() < f.Dup {
		copies = 2
		w.res.Duplicated++
	}
	for range copies {
		b := body
		if w.rnd.Float64() < f.Forge {
			b = w.forge(body)
		}
		w.post(from, to, 1+uint64(w.rnd.IntN(w.maxDelay)), b)
	}
}

// post delivers a message after delay ticks, whatever the faults.
func (w *world) post(from, to int, delay uint64, body any) {
	heap.Push(&w.net, &envelope{at: w.now + delay, order: w.rnd.Uint64(), from: from, to: to, body: body})
}

// forge returns a copy of body with one byte of one entry or proof it
// carries flipped, or body itself if it carries none.
func (w *world) forge(body any) any {
	flip := func(raws [][]byte) [][]byte {
		if len(raws) == 0 {
			return raws
		}
		out := append([][]byte(nil), raws...)
		i := w.rnd.IntN(len(out))
		raw := append([]byte(nil), out[i]...)
		raw[w.rnd.IntN(len(raw))] ^= byte(1 + w.rnd.IntN(255))
		out[i] = raw
		w.res.Forged++
		return out
	}
	switch b := body.(type) {
	case push:
		return push{raws: flip(b.raws)}
	case pullResp:
		if len(b.batches) == 0 {
			return b
		}
		batches := append([][][]byte(nil), b.batches...)
		i := w.rnd.IntN(len(batches))
		batches[i] = flip(batches[i])
		b.batches = batches
		return b
	case forksResp:
		return forksResp{proofs: flip(b.proofs)}
	}
	return body
}

// decode is ledger.Decode, remembered per byte string: verifying is a pure
// function of the bytes, and the simulation verifies the same entries many
// times. A forged copy differs, so it is decoded, and refused, afresh.
func (w *world) decode(raw []byte) (ledger.Entry, error) {
	if e, ok := w.verified[string(raw)]; ok {
		return e, nil
	}
	e, err := ledger.Decode(raw)
	if err != nil {
		return ledger.Entry{}, err
	}
	w.verified[string(raw)] = e
	return e, nil
}
