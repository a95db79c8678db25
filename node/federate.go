package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/api"
	"github.com/caisse-coop/caisse/node/tlsid"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Files of a federated node.
const (
	gossipKeyFile = "gossip.key" // the federation's gossip key: a secret shared by its nodes
	joinFile      = "join.json"  // the federation an applicant joined, and how to reach it
)

// joinInfo is what a node that joined remembers of its join token.
type joinInfo struct {
	Federation  string   `json:"federation"`
	Inviter     string   `json:"inviter"`
	InviterAddr string   `json:"inviter_addr"`
	GossipSeeds []string `json:"gossip_seeds"`
}

func (n *Node) path(name string) string { return filepath.Join(n.cfg.DataDir, name) }

func (n *Node) readJoinInfo() (*joinInfo, error) {
	raw, err := os.ReadFile(n.path(joinFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	var j joinInfo
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("node: %s: %w", joinFile, err)
	}
	return &j, nil
}

// federationID is the node's federation: its charter's, or the one it
// applied to.
func (n *Node) federationID() (ledger.Hash, bool, error) {
	n.mu.Lock()
	fid, ok := n.state.Federation()
	n.mu.Unlock()
	if ok {
		return fid, true, nil
	}
	j, err := n.readJoinInfo()
	if err != nil || j == nil {
		return ledger.Hash{}, false, err
	}
	fid, err = ledger.ParseHash(j.Federation)
	return fid, err == nil, err
}

// replicate waits until the node has a federation, then replicates until
// ctx is done.
func (n *Node) replicate(ctx context.Context) error {
	fid, ok, err := n.federationID()
	if err != nil {
		return err
	}
	if !ok {
		select {
		case <-n.fedReady:
		case <-ctx.Done():
			return nil
		}
		if fid, ok, err = n.federationID(); err != nil || !ok {
			return fmt.Errorf("node: federation ready but unknown: %v", err)
		}
	}
	key, err := os.ReadFile(n.path(gossipKeyFile))
	if err != nil {
		return fmt.Errorf("node: gossip key: %w", err)
	}
	seeds := slices.Clone(n.cfg.Join)
	j, err := n.readJoinInfo()
	if err != nil {
		return err
	}
	if j != nil {
		seeds = append(seeds, j.GossipSeeds...)
	}
	r, err := n.startReplication(ctx, fid, key, seeds)
	if err != nil {
		return err
	}
	n.repl.Store(r)
	if j != nil {
		if a, err := ledger.ParseAuthor(j.Inviter); err == nil {
			r.peerUp(a, j.InviterAddr, "", "unknown")
		}
	}
	<-ctx.Done()
	<-r.done // the store stays open until replication has stopped
	return nil
}

func (n *Node) markFederated() { n.fedReadyOnce.Do(func() { close(n.fedReady) }) }

// createGossipKey makes the federation's gossip key when this node founds
// it; the key travels in join tokens.
func (n *Node) createGossipKey() error {
	if _, err := os.Stat(n.path(gossipKeyFile)); err == nil {
		return nil
	}
	key := make([]byte, 32)
	rand.Read(key)
	return writeNewFile(n.path(gossipKeyFile), key)
}

// Invite returns a join token for a new collective.
func (b *backend) Invite(context.Context, *rpcv1.InviteRequest) (*rpcv1.InviteResponse, error) {
	n := b.n
	fid, ok, err := n.federationID()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("node: no federation to invite to: %w", federation.ErrNoGenesis)
	}
	n.mu.Lock()
	member := n.state.CanAuthor(n.self)
	n.mu.Unlock()
	if !member {
		return nil, invalid("only a member can invite; this node is not one (yet)")
	}
	r := n.repl.Load()
	if r == nil {
		return nil, fmt.Errorf("node: replication is not running yet: %w", errUnavailable)
	}
	key, err := os.ReadFile(n.path(gossipKeyFile))
	if err != nil {
		return nil, fmt.Errorf("node: gossip key: %w", err)
	}
	seeds := []string{r.gossip.LocalAddr().String()}
	tok := &rpcv1.JoinToken{Federation: fid[:], GossipKey: key, GossipSeeds: seeds, Inviter: n.self[:], InviterAddr: r.syncAddr}
	return &rpcv1.InviteResponse{
		Token: encodeToken(tok), FederationId: fid.String(), InviterId: string(n.self.ID()),
		GossipSeeds: seeds, InviterAddr: r.syncAddr,
	}, nil
}

// errUnavailable marks a request the node cannot serve yet.
var errUnavailable = api.ErrUnavailable

// Join applies to a federation: the node signs its application (the first
// entry of its log), stores it, and pushes it to the inviter; replication
// then brings the federation's logs.
func (b *backend) Join(ctx context.Context, r *rpcv1.JoinRequest) (*rpcv1.JoinResponse, error) {
	n := b.n
	tok, err := decodeToken(r.GetToken())
	if err != nil {
		return nil, err
	}
	name := r.GetName()
	if name == "" {
		name = n.cfg.Name
	}
	if err := checkName("collective name", name); err != nil {
		return nil, invalid("%v", err)
	}
	fid := ledger.Hash(tok.GetFederation())
	if r.GetRestore() {
		return n.restore(tok)
	}
	n.mu.Lock()
	if _, ok := n.state.Federation(); ok {
		n.mu.Unlock()
		return nil, fmt.Errorf("node: this node already belongs to a federation: %w", federation.ErrGenesisExists)
	}
	if _, err := n.store.Head(n.self); err == nil {
		n.mu.Unlock()
		return nil, invalid("this node has already applied (its log is not empty); wait for the members to decide")
	}
	body := &caissev1.EntryBody{Federation: fid[:], Author: n.self[:], Seq: 1, Time: n.clock.Now(n.nowMs()).Proto(),
		Kind: &caissev1.EntryBody_Application{Application: &caissev1.Application{Name: name, Note: r.GetNote()}}}
	app, err := n.signer.Sign(body)
	if err != nil {
		n.mu.Unlock()
		return nil, errors.Join(err, errInvalidArgument)
	}
	n.mu.Unlock()

	// Tell the inviter first: if it refuses, nothing is kept here.
	if err := pushApplication(ctx, n, tok, app); err != nil {
		return nil, err
	}
	if err := n.writeJoinInfo(tok); err != nil {
		return nil, err
	}
	n.mu.Lock()
	if err := n.store.Append(app); err != nil {
		n.mu.Unlock()
		return nil, fmt.Errorf("node: store application: %w", err)
	}
	n.held = append(n.held, app) // applied once the charter arrives
	n.mu.Unlock()
	n.log.Info("applied to federation", "federation", fid.Short(), "inviter", ledger.Author(tok.GetInviter()).ID().Short())
	n.markFederated()
	return &rpcv1.JoinResponse{FederationId: fid.String(), Application: n.view(app)}, nil
}

// pushApplication sends the application to the inviter over the sync API.
func pushApplication(ctx context.Context, n *Node, tok *rpcv1.JoinToken, app ledger.Entry) error {
	cert, err := tlsid.Certificate(n.key)
	if err != nil {
		return err
	}
	inviter := ledger.Author(tok.GetInviter())
	creds := credentials.NewTLS(tlsid.ClientConfig(cert, inviter, func(ledger.Author) error { return nil }))
	conn, err := grpc.NewClient(tok.GetInviterAddr(), grpc.WithTransportCredentials(creds))
	if err != nil {
		return fmt.Errorf("node: reach the inviter at %s: %w", tok.GetInviterAddr(), err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	fid := tok.GetFederation()
	resp, err := rpcv1.NewSyncClient(conn).Push(ctx, &rpcv1.PushRequest{Federation: fid, Entries: []*caissev1.Entry{app.Proto()}})
	if err != nil {
		return fmt.Errorf("node: send the application to the inviter at %s: %w", tok.GetInviterAddr(), err)
	}
	if len(resp.GetRefused()) > 0 {
		return invalid("the inviter refused the application: %s", strings.Join(resp.GetRefused(), "; "))
	}
	return nil
}

// Propose records a proposal, and this node's vote on it if asked.
func (b *backend) Propose(ctx context.Context, r *rpcv1.ProposeRequest) (*rpcv1.RecordResponse, error) {
	n := b.n
	p, err := n.proposalOf(r)
	if err != nil {
		return nil, err
	}
	var choice caissev1.Choice
	if r.GetVote() != "" {
		if choice, err = parseChoice(r.GetVote()); err != nil {
			return nil, err
		}
	}
	if who := n.reg.mentioned(r.GetNote()); who != "" {
		return nil, invalid("the note names %q: keep names out of it", who)
	}
	e, err := n.append(func(body *caissev1.EntryBody) { body.Kind = &caissev1.EntryBody_Proposal{Proposal: p} })
	if err != nil {
		return nil, err
	}
	if choice != caissev1.Choice_CHOICE_UNSPECIFIED {
		h := e.Hash()
		if _, err := n.append(func(body *caissev1.EntryBody) {
			body.Kind = &caissev1.EntryBody_Vote{Vote: &caissev1.Vote{Proposal: h[:], Choice: choice}}
		}); err != nil {
			return nil, fmt.Errorf("node: proposal %s recorded, but not the vote: %w", h.Short(), err)
		}
	}
	return &rpcv1.RecordResponse{Entry: n.view(e)}, nil
}

func parseChoice(s string) (caissev1.Choice, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes":
		return caissev1.Choice_CHOICE_YES, nil
	case "no":
		return caissev1.Choice_CHOICE_NO, nil
	case "abstain":
		return caissev1.Choice_CHOICE_ABSTAIN, nil
	}
	return 0, invalid("vote %q: want yes, no or abstain", s)
}

// parseNodeRef reads a node as people give it: its id, or its hex key.
func parseNodeRef(s string) (ledger.Author, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if a, err := ledger.ParseAuthor(s); err == nil {
			return a, nil
		}
	}
	a, err := ledger.ParseNodeID(s)
	if err != nil {
		return a, invalid("node %q: not a node id or a hex key: %v", s, err)
	}
	return a, nil
}

// Vote records this node's vote on a proposal.
func (b *backend) Vote(ctx context.Context, r *rpcv1.VoteRequest) (*rpcv1.RecordResponse, error) {
	n := b.n
	choice, err := parseChoice(r.GetChoice())
	if err != nil {
		return nil, err
	}
	prefix := strings.ToLower(strings.TrimSpace(r.GetProposal()))
	if len(prefix) < 8 {
		return nil, invalid("proposal %q: give at least 8 characters of its hash", prefix)
	}
	n.mu.Lock()
	var matches []ledger.Hash
	for _, p := range n.state.Proposals() {
		if strings.HasPrefix(p.ID.String(), prefix) {
			matches = append(matches, p.ID)
		}
	}
	n.mu.Unlock()
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("no proposal %s known here: %w", prefix, ledger.ErrNotFound)
	case 1:
	default:
		return nil, invalid("%d proposals start with %s: give more of the hash", len(matches), prefix)
	}
	h := matches[0]
	e, err := n.append(func(body *caissev1.EntryBody) {
		body.Kind = &caissev1.EntryBody_Vote{Vote: &caissev1.Vote{Proposal: h[:], Choice: choice}}
	})
	if err != nil {
		return nil, err
	}
	return &rpcv1.RecordResponse{Entry: n.view(e)}, nil
}

// Members lists members, applicants, proposals and forks.
func (b *backend) Members(context.Context, *rpcv1.MembersRequest) (*rpcv1.MembersResponse, error) {
	n := b.n
	n.mu.Lock()
	defer n.mu.Unlock()
	resp := &rpcv1.MembersResponse{}
	names := map[ledger.Author]string{}
	seq := func(a ledger.Author) uint64 {
		if h, ok := n.state.Head(a); ok {
			return uint64(h.Seq)
		}
		return 0
	}
	for _, m := range n.state.Members() {
		names[m.Key] = m.Name
		status := "member"
		if m.Status == federation.StatusExcluded {
			status = "excluded"
		}
		resp.Members = append(resp.Members, &rpcv1.MemberView{Id: string(m.Key.ID()), Key: m.Key.String(), Name: m.Name,
			Status: status, Founder: m.Founder, ForkSeq: uint64(m.ForkSeq), Seq: seq(m.Key)})
	}
	for _, a := range n.state.Applicants() {
		names[a.Key] = a.Name
		resp.Members = append(resp.Members, &rpcv1.MemberView{Id: string(a.Key.ID()), Key: a.Key.String(), Name: a.Name,
			Status: "applicant", ForkSeq: uint64(a.ForkSeq), Seq: seq(a.Key)})
	}
	for _, p := range n.state.Proposals() {
		resp.Proposals = append(resp.Proposals, proposalRPC(p, names))
	}
	for _, f := range n.state.Forks() {
		resp.Forks = append(resp.Forks, &rpcv1.ForkView{Author: string(f.Author.ID()), Seq: uint64(f.Seq), First: f.First.String(), Second: f.Second.String()})
	}
	return resp, nil
}

// acknowledgeDecisions appends, for each admission that waits for this
// node's log to pass its deciding vote, a vote on the proposal dated after
// the decision: votes after a decision change nothing, and this one tells
// every node that no earlier entry of this log can still come and undo the
// admission, which is what makes it final (see federation.Member.Final).
// Without it, a quiet member would keep a newcomer waiting.
func (n *Node) acknowledgeDecisions() {
	// One at a time: batches saved in a row would otherwise each append
	// an acknowledgement of the same decisions.
	if !n.acking.CompareAndSwap(false, true) {
		return
	}
	defer n.acking.Store(false)
	n.mu.Lock()
	waiting := n.state.Awaiting(n.self)
	can := n.state.CanAuthor(n.self)
	n.mu.Unlock()
	if !can || len(waiting) == 0 {
		return
	}
	// One entry after the latest decision passes them all.
	p := waiting[len(waiting)-1]
	_, err := n.append(func(body *caissev1.EntryBody) {
		body.Kind = &caissev1.EntryBody_Vote{Vote: &caissev1.Vote{Proposal: p[:], Choice: caissev1.Choice_CHOICE_ABSTAIN}}
	})
	if err != nil {
		n.log.Warn("acknowledge a decision", "proposal", p.Short(), "err", err)
		return
	}
	n.log.Info("acknowledged admissions, so that they become final", "proposals", len(waiting))
}

// writeJoinInfo keeps what a join token says: the gossip key, and how to
// reach the federation.
func (n *Node) writeJoinInfo(tok *rpcv1.JoinToken) error {
	if err := writeNewFile(n.path(gossipKeyFile), tok.GetGossipKey()); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("node: gossip key: %w", err)
	}
	j := joinInfo{Federation: ledger.Hash(tok.GetFederation()).String(), Inviter: hex.EncodeToString(tok.GetInviter()),
		InviterAddr: tok.GetInviterAddr(), GossipSeeds: tok.GetGossipSeeds()}
	raw, _ := json.MarshalIndent(j, "", "  ")
	if err := writeFileAtomic(n.path(joinFile), raw, 0o600); err != nil {
		return fmt.Errorf("node: %s: %w", joinFile, err)
	}
	return nil
}

// restore rebuilds a lost node's ledger from the federation: with its key
// and a join token, and nothing else, it replicates every log, its own
// included, and refuses to append until its peers have told it how far its
// own log goes (node/syncer's CheckAppend), so that it cannot fork it.
func (n *Node) restore(tok *rpcv1.JoinToken) (*rpcv1.JoinResponse, error) {
	n.mu.Lock()
	_, has := n.state.Federation()
	n.mu.Unlock()
	if has {
		return nil, fmt.Errorf("node: this node already holds a federation's ledger: %w", federation.ErrGenesisExists)
	}
	if err := n.writeJoinInfo(tok); err != nil {
		return nil, err
	}
	fid := ledger.Hash(tok.GetFederation())
	n.log.Info("restoring the ledger from the federation", "federation", fid.Short())
	n.markFederated()
	return &rpcv1.JoinResponse{FederationId: fid.String()}, nil
}
