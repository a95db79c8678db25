package api

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/tlsid"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Limits of the sync API.
const (
	// MaxBatchEntries and MaxBatchBytes bound one streamed batch of a Pull.
	MaxBatchEntries = 512
	MaxBatchBytes   = 512 << 10
	// MaxPushEntries bounds the entries of one Push.
	MaxPushEntries = 1024
	// MaxSyncMessage bounds any sync message received.
	MaxSyncMessage = 4 << 20
)

// SyncBackend is what the sync API needs of a node.
type SyncBackend interface {
	// Federation is the id of the node's federation; false if it has none.
	Federation() (ledger.Hash, bool)
	// Accept reports whether a peer with this key may sync: members and
	// applicants only.
	Accept(peer ledger.Author) error
	// Vector is what the node holds.
	Vector() (ledger.Vector, error)
	// PeerVector tells the node what a peer holds.
	PeerVector(peer ledger.Author, v ledger.Vector, forks uint32)
	// Scan reads an author's stored entries from seq from on.
	Scan(a ledger.Author, from ledger.Seq, fn func(ledger.Entry) error) error
	// Receive hands verified entries pushed by a peer to the node.
	Receive(peer ledger.Author, entries []ledger.Entry) PushResult
	// Forks lists the fork proofs the node holds.
	Forks() ([]ledger.ForkProof, error)
}

// PushResult is what the node did with pushed entries.
type PushResult struct {
	Accepted, Duplicates, Buffered int
	Refused                        []string
}

// SyncServer serves the Sync service.
type SyncServer struct {
	rpcv1.UnimplementedSyncServer
	b SyncBackend
}

// NewSyncServer returns the Sync service of a node.
func NewSyncServer(b SyncBackend) *SyncServer { return &SyncServer{b: b} }

// Register adds the Sync service to s.
func (s *SyncServer) Register(g *grpc.Server) { rpcv1.RegisterSyncServer(g, s) }

// peerOf returns the author behind the TLS connection of a call.
func peerOf(ctx context.Context) (ledger.Author, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ledger.Author{}, status.Error(codes.Unauthenticated, "no peer")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return ledger.Author{}, status.Error(codes.Unauthenticated, "not a TLS connection")
	}
	a, err := tlsid.PeerAuthor(info.State)
	if err != nil {
		return ledger.Author{}, status.Error(codes.Unauthenticated, err.Error())
	}
	return a, nil
}

// check authenticates the caller and the federation it names.
func (s *SyncServer) check(ctx context.Context, fed []byte) (ledger.Author, error) {
	a, err := s.checkFederation(ctx, fed)
	if err != nil {
		return a, err
	}
	if err := s.b.Accept(a); err != nil {
		return a, status.Error(codes.PermissionDenied, err.Error())
	}
	return a, nil
}

// checkFederation authenticates the caller, and checks the federation it
// names, but not that the caller may sync.
func (s *SyncServer) checkFederation(ctx context.Context, fed []byte) (ledger.Author, error) {
	a, err := peerOf(ctx)
	if err != nil {
		return a, err
	}
	mine, ok := s.b.Federation()
	if !ok {
		return a, status.Error(codes.FailedPrecondition, "this node has no federation yet")
	}
	if string(fed) != string(mine[:]) {
		return a, status.Errorf(codes.FailedPrecondition, "federation %x: this node belongs to %s", fed, mine)
	}
	return a, nil
}

// Exchange implements rpcv1.SyncServer.
func (s *SyncServer) Exchange(ctx context.Context, r *rpcv1.ExchangeRequest) (*rpcv1.ExchangeResponse, error) {
	a, err := s.check(ctx, r.GetFederation())
	if err != nil {
		return nil, err
	}
	theirs, err := VectorFromProto(r.GetVector())
	if err != nil {
		return nil, Status(err).Err()
	}
	s.b.PeerVector(a, theirs, r.GetForks())
	mine, err := s.b.Vector()
	if err != nil {
		return nil, Status(err).Err()
	}
	forks, err := s.b.Forks()
	if err != nil {
		return nil, Status(err).Err()
	}
	return &rpcv1.ExchangeResponse{Vector: VectorProto(mine), Forks: uint32(len(forks))}, nil
}

// Pull implements rpcv1.SyncServer: batches of at most MaxBatchEntries
// entries or MaxBatchBytes bytes.
func (s *SyncServer) Pull(r *rpcv1.PullRequest, stream grpc.ServerStreamingServer[rpcv1.EntryBatch]) error {
	if _, err := s.check(stream.Context(), r.GetFederation()); err != nil {
		return err
	}
	if len(r.GetAuthor()) != len(ledger.Author{}) {
		return status.Errorf(codes.InvalidArgument, "author of %d bytes", len(r.GetAuthor()))
	}
	author := ledger.Author(r.GetAuthor())
	from := max(ledger.Seq(r.GetFromSeq()), 1)
	to := ledger.Seq(r.GetToSeq())
	batch := &rpcv1.EntryBatch{}
	size := 0
	flush := func() error {
		if len(batch.Entries) == 0 {
			return nil
		}
		err := stream.Send(batch)
		batch, size = &rpcv1.EntryBatch{}, 0
		return err
	}
	errDone := errors.New("done")
	err := s.b.Scan(author, from, func(e ledger.Entry) error {
		if err := stream.Context().Err(); err != nil {
			return err
		}
		if to != 0 && e.Seq() > to {
			return errDone
		}
		if len(batch.Entries) == MaxBatchEntries || size+e.Size() > MaxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch.Entries = append(batch.Entries, e.Proto())
		size += e.Size()
		return nil
	})
	if err != nil && !errors.Is(err, errDone) {
		return Status(err).Err()
	}
	return flush()
}

// Push implements rpcv1.SyncServer. Signatures are verified in parallel
// before the node sees the entries; a forged entry is refused with its
// reason and never reaches the store. A collective that is neither member
// nor applicant may push one thing only: its own application, which is how
// it becomes an applicant.
func (s *SyncServer) Push(ctx context.Context, r *rpcv1.PushRequest) (*rpcv1.PushResponse, error) {
	a, err := s.checkFederation(ctx, r.GetFederation())
	if err != nil {
		return nil, err
	}
	if err := s.b.Accept(a); err != nil && !ownApplication(a, r.GetEntries()) {
		return nil, status.Error(codes.PermissionDenied, err.Error())
	}
	if len(r.GetEntries()) > MaxPushEntries {
		return nil, status.Errorf(codes.ResourceExhausted, "%d entries in one push, at most %d", len(r.GetEntries()), MaxPushEntries)
	}
	entries, errs := VerifyAll(r.GetEntries())
	resp := &rpcv1.PushResponse{}
	var good []ledger.Entry
	for i, e := range entries {
		if errs[i] != nil {
			resp.Refused = append(resp.Refused, fmt.Sprintf("entry %d: %v", i, errs[i]))
			continue
		}
		good = append(good, e)
	}
	res := s.b.Receive(a, good)
	resp.Accepted, resp.Duplicates, resp.Buffered = uint32(res.Accepted), uint32(res.Duplicates), uint32(res.Buffered)
	resp.Refused = append(resp.Refused, res.Refused...)
	return resp, nil
}

// Forks implements rpcv1.SyncServer.
func (s *SyncServer) Forks(ctx context.Context, r *rpcv1.ForksRequest) (*rpcv1.ForksResponse, error) {
	if _, err := s.check(ctx, r.GetFederation()); err != nil {
		return nil, err
	}
	proofs, err := s.b.Forks()
	if err != nil {
		return nil, Status(err).Err()
	}
	resp := &rpcv1.ForksResponse{}
	for _, p := range proofs {
		resp.Proofs = append(resp.Proofs, p.Proto())
	}
	return resp, nil
}

// ownApplication reports whether entries are exactly one application
// signed by a, before any signature is checked (Push verifies it next).
func ownApplication(a ledger.Author, entries []*caissev1.Entry) bool {
	if len(entries) != 1 {
		return false
	}
	var body caissev1.EntryBody
	if proto.Unmarshal(entries[0].GetBody(), &body) != nil {
		return false
	}
	return body.GetApplication() != nil && string(body.GetAuthor()) == string(a[:])
}

// VerifyAll decodes and verifies entries on every core: signature
// verification is the cost of ingest, and it is independent per entry.
// Each core takes slices of up to maxVerifyBatch entries and verifies each
// slice as one batch (ledger.FromProtos), which costs less than verifying
// its entries one by one. The i-th result is entries[i] verified, or errs[i].
func VerifyAll(in []*caissev1.Entry) (entries []ledger.Entry, errs []error) {
	workers := min(runtime.GOMAXPROCS(0), (len(in)+15)/16)
	if workers <= 1 {
		return ledger.FromProtos(in)
	}
	entries, errs = make([]ledger.Entry, len(in)), make([]error, len(in))
	size := min(maxVerifyBatch, (len(in)+workers-1)/workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(size))) - size
				if lo >= len(in) {
					return
				}
				hi := min(lo+size, len(in))
				es, errs1 := ledger.FromProtos(in[lo:hi])
				copy(entries[lo:hi], es)
				copy(errs[lo:hi], errs1)
			}
		}()
	}
	wg.Wait()
	return entries, errs
}

// maxVerifyBatch bounds the entries verified as one batch: past a few
// hundred, a larger batch saves little and holds more memory.
const maxVerifyBatch = 1024

// VectorProto encodes a vector, authors in byte order.
func VectorProto(v ledger.Vector) []*rpcv1.Head {
	out := make([]*rpcv1.Head, 0, len(v))
	for _, a := range v.Authors() {
		h := v[a]
		out = append(out, &rpcv1.Head{Author: a[:], Seq: uint64(h.Seq), Hash: h.Hash[:]})
	}
	return out
}

// MaxVectorLen bounds the authors of a vector received.
const MaxVectorLen = 100_000

// VectorFromProto decodes a vector received from a peer.
func VectorFromProto(heads []*rpcv1.Head) (ledger.Vector, error) {
	if len(heads) > MaxVectorLen {
		return nil, fmt.Errorf("vector of %d authors, at most %d: %w", len(heads), MaxVectorLen, ledger.ErrTooLarge)
	}
	v := make(ledger.Vector, len(heads))
	for _, h := range heads {
		if len(h.GetAuthor()) != len(ledger.Author{}) || len(h.GetHash()) != len(ledger.Hash{}) || h.GetSeq() == 0 {
			return nil, fmt.Errorf("vector head %x/%d: %w", h.GetAuthor(), h.GetSeq(), ledger.ErrMalformed)
		}
		a := ledger.Author(h.GetAuthor())
		if _, dup := v[a]; dup {
			return nil, fmt.Errorf("vector lists %s twice: %w", a.Short(), ledger.ErrMalformed)
		}
		v[a] = ledger.Head{Seq: ledger.Seq(h.GetSeq()), Hash: ledger.Hash(h.GetHash())}
	}
	return v, nil
}
