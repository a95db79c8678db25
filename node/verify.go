package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// maxProblems caps the problems one Verify reports.
const maxProblems = 100

// Verify re-reads every entry in the store, re-verifies its signature over
// its stored bytes and its place in its author's chain, rebuilds the
// federation state from scratch and compares it with the live one.
func (b *backend) Verify(ctx context.Context, _ *rpcv1.VerifyRequest) (*rpcv1.VerifyResponse, error) {
	n := b.n
	resp := &rpcv1.VerifyResponse{}
	problem := func(format string, args ...any) {
		if len(resp.Problems) < maxProblems {
			resp.Problems = append(resp.Problems, fmt.Sprintf(format, args...))
		}
	}
	// Writes wait while the store is verified, so that the rebuilt state
	// can be compared with a live state that does not move.
	n.mu.Lock()
	defer n.mu.Unlock()
	n.inflight.Lock() // local appends in flight first reach the store
	defer n.inflight.Unlock()
	state := federation.New()
	genesis, err := findGenesis(n.store)
	if err != nil {
		return nil, err
	}
	if !genesis.IsZero() {
		if err := state.Apply(genesis); err != nil {
			problem("%s: does not apply: %v", genesis, err)
		}
	}
	heads := map[ledger.Author]*ledger.Head{}
	var held []ledger.Entry // entries whose dependencies are in later logs
	err = n.store.ScanAll(func(e ledger.Entry) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		resp.Entries++
		fresh, err := ledger.Decode(e.Marshal())
		if err != nil {
			problem("%s: %v", e, err)
			return nil
		}
		if err := ledger.CheckNext(heads[e.Author()], fresh); err != nil {
			problem("%s: %v", e, err)
		}
		h := fresh.Head()
		heads[e.Author()] = &h
		if fresh.Hash() != genesis.Hash() {
			switch err := state.Apply(fresh); {
			case err == nil:
			case isPending(err):
				held = append(held, fresh)
			default:
				problem("%s: does not apply: %v", e, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	proofs, err := n.store.Forks()
	if err != nil {
		return nil, err
	}
	for _, p := range proofs {
		fresh, err := ledger.DecodeForkProof(p.Marshal())
		if err != nil {
			problem("%s: %v", p, err)
			continue
		}
		if err := state.ApplyFork(fresh.A, fresh.B); err != nil && !errors.Is(err, ledger.ErrDuplicate) && !isPending(err) {
			problem("%s: does not apply: %v", p, err)
		}
	}
	waiting, dropped, err := state.Settle(held, nil)
	if err != nil {
		problem("settling entries held for later: %v", err)
	}
	for _, err := range dropped {
		problem("held entry does not apply: %v", err)
	}
	if len(waiting) != len(n.held) {
		problem("%d stored entries cannot apply yet, the live state holds %d aside", len(waiting), len(n.held))
	}
	resp.Authors = uint32(len(heads))
	vec, err := n.store.Vector()
	if err != nil {
		return nil, err
	}
	for _, a := range vec.Authors() {
		if got, h := heads[a], vec[a]; got == nil || got.Seq != h.Seq || got.Hash != h.Hash {
			problem("%s: stored head %d/%s does not match its log", a.Short(), h.Seq, h.Hash.Short())
		}
	}
	resp.StateHash = state.Hash().String()
	if live := n.state.Hash(); live != state.Hash() {
		problem("state rebuilt from the store (%s) differs from the live state (%s)", state.Hash().Short(), live.Short())
	}
	resp.Ok = len(resp.Problems) == 0
	return resp, nil
}
