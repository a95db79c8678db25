// Package api serves a node's gRPC APIs. It maps the errors of ledger and
// federation to gRPC status codes in one place (Status), so that callers
// can branch on codes and people read one clear line.
package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// Limits of the operator API.
const (
	MaxMessageSize = 1 << 20
	maxStreams     = 64
)

// Backend answers the operator API. Its errors are mapped by Status.
type Backend interface {
	Init(context.Context, *rpcv1.InitRequest) (*rpcv1.InitResponse, error)
	Status(context.Context, *rpcv1.StatusRequest) (*rpcv1.StatusResponse, error)
	Contribute(context.Context, *rpcv1.ContributeRequest) (*rpcv1.RecordResponse, error)
	Disburse(context.Context, *rpcv1.DisburseRequest) (*rpcv1.RecordResponse, error)
	Correct(context.Context, *rpcv1.CorrectRequest) (*rpcv1.RecordResponse, error)
	ListEntries(context.Context, *rpcv1.ListEntriesRequest) (*rpcv1.ListEntriesResponse, error)
	Balances(context.Context, *rpcv1.BalancesRequest) (*rpcv1.BalancesResponse, error)
	Verify(context.Context, *rpcv1.VerifyRequest) (*rpcv1.VerifyResponse, error)
	Invite(context.Context, *rpcv1.InviteRequest) (*rpcv1.InviteResponse, error)
	Join(context.Context, *rpcv1.JoinRequest) (*rpcv1.JoinResponse, error)
	Propose(context.Context, *rpcv1.ProposeRequest) (*rpcv1.RecordResponse, error)
	Vote(context.Context, *rpcv1.VoteRequest) (*rpcv1.RecordResponse, error)
	Members(context.Context, *rpcv1.MembersRequest) (*rpcv1.MembersResponse, error)
	Peers(context.Context, *rpcv1.PeersRequest) (*rpcv1.PeersResponse, error)
	Gossip(context.Context, *rpcv1.GossipRequest) (*rpcv1.GossipResponse, error)
	ClosePeriod(context.Context, *rpcv1.ClosePeriodRequest) (*rpcv1.RecordResponse, error)
	PeriodStatus(context.Context, *rpcv1.PeriodStatusRequest) (*rpcv1.PeriodStatusResponse, error)
	Redistribution(context.Context, *rpcv1.RedistributionRequest) (*rpcv1.RedistributionResponse, error)
	Rules(context.Context, *rpcv1.RulesRequest) (*rpcv1.RulesResponse, error)
	Proposals(context.Context, *rpcv1.ProposalsRequest) (*rpcv1.ProposalsResponse, error)
	Settle(context.Context, *rpcv1.SettleRequest) (*rpcv1.RecordResponse, error)
	Ack(context.Context, *rpcv1.AckRequest) (*rpcv1.RecordResponse, error)
	Settlements(context.Context, *rpcv1.SettlementsRequest) (*rpcv1.SettlementsResponse, error)
	// Export writes the export to w, in chunks.
	Export(ctx context.Context, r *rpcv1.ExportRequest, w io.Writer) error
}

// Server is the operator API on a unix socket.
type Server struct {
	lis    net.Listener
	grpc   *grpc.Server
	health *health.Server
	path   string
}

// Listen opens the operator socket at path, mode 0600. A stale socket left
// by a killed node is removed; a live one means another node serves this
// data directory, and is an error.
func Listen(path string, b Backend, log *slog.Logger) (*Server, error) {
	if _, err := os.Stat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("api: %s: another node is serving this socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("api: remove stale socket: %w", err)
		}
	}
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("api: listen: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return nil, fmt.Errorf("api: chmod socket: %w", err)
	}
	s := &Server{lis: lis, path: path, health: health.NewServer()}
	s.grpc = grpc.NewServer(
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(4*MaxMessageSize),
		grpc.MaxConcurrentStreams(maxStreams),
		grpc.ChainUnaryInterceptor(errorInterceptor(log)),
	)
	rpcv1.RegisterOperatorServer(s.grpc, &operator{b: b})
	healthpb.RegisterHealthServer(s.grpc, s.health)
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(rpcv1.Operator_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	reflection.Register(s.grpc)
	return s, nil
}

// Serve serves until Stop.
func (s *Server) Serve() error {
	if err := s.grpc.Serve(s.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("api: serve: %w", err)
	}
	return nil
}

// Stop drains calls in flight for up to timeout, then closes the socket.
func (s *Server) Stop(timeout time.Duration) {
	s.health.Shutdown()
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.grpc.Stop()
	}
	os.Remove(s.path)
}

func errorInterceptor(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if err != nil {
			st := Status(err)
			log.Debug("operator call failed", "method", info.FullMethod, "code", st.Code(), "err", err)
			return nil, st.Err()
		}
		return resp, nil
	}
}

// NewOperator returns the operator service of b, as the socket serves it,
// for callers in the same process (the dashboard's JSON API). Its errors
// are the backend's, unmapped: pass them to Status.
func NewOperator(b Backend) rpcv1.OperatorServer { return &operator{b: b} }

// operator adapts a Backend to the generated server interface.
type operator struct {
	rpcv1.UnimplementedOperatorServer
	b Backend
}

func (o *operator) Init(ctx context.Context, r *rpcv1.InitRequest) (*rpcv1.InitResponse, error) {
	return o.b.Init(ctx, r)
}

func (o *operator) Status(ctx context.Context, r *rpcv1.StatusRequest) (*rpcv1.StatusResponse, error) {
	return o.b.Status(ctx, r)
}

func (o *operator) Contribute(ctx context.Context, r *rpcv1.ContributeRequest) (*rpcv1.RecordResponse, error) {
	return o.b.Contribute(ctx, r)
}

func (o *operator) Disburse(ctx context.Context, r *rpcv1.DisburseRequest) (*rpcv1.RecordResponse, error) {
	return o.b.Disburse(ctx, r)
}

func (o *operator) Correct(ctx context.Context, r *rpcv1.CorrectRequest) (*rpcv1.RecordResponse, error) {
	return o.b.Correct(ctx, r)
}

func (o *operator) ListEntries(ctx context.Context, r *rpcv1.ListEntriesRequest) (*rpcv1.ListEntriesResponse, error) {
	return o.b.ListEntries(ctx, r)
}

func (o *operator) Balances(ctx context.Context, r *rpcv1.BalancesRequest) (*rpcv1.BalancesResponse, error) {
	return o.b.Balances(ctx, r)
}

func (o *operator) Verify(ctx context.Context, r *rpcv1.VerifyRequest) (*rpcv1.VerifyResponse, error) {
	return o.b.Verify(ctx, r)
}

func (o *operator) Invite(ctx context.Context, r *rpcv1.InviteRequest) (*rpcv1.InviteResponse, error) {
	return o.b.Invite(ctx, r)
}

func (o *operator) Join(ctx context.Context, r *rpcv1.JoinRequest) (*rpcv1.JoinResponse, error) {
	return o.b.Join(ctx, r)
}

func (o *operator) Propose(ctx context.Context, r *rpcv1.ProposeRequest) (*rpcv1.RecordResponse, error) {
	return o.b.Propose(ctx, r)
}

func (o *operator) Vote(ctx context.Context, r *rpcv1.VoteRequest) (*rpcv1.RecordResponse, error) {
	return o.b.Vote(ctx, r)
}

func (o *operator) Members(ctx context.Context, r *rpcv1.MembersRequest) (*rpcv1.MembersResponse, error) {
	return o.b.Members(ctx, r)
}

func (o *operator) Peers(ctx context.Context, r *rpcv1.PeersRequest) (*rpcv1.PeersResponse, error) {
	return o.b.Peers(ctx, r)
}

func (o *operator) Gossip(ctx context.Context, r *rpcv1.GossipRequest) (*rpcv1.GossipResponse, error) {
	return o.b.Gossip(ctx, r)
}

// Export implements rpcv1.OperatorServer: the backend writes, the stream
// carries chunks of at most 64 KiB.
func (o *operator) Export(r *rpcv1.ExportRequest, stream grpc.ServerStreamingServer[rpcv1.ExportChunk]) error {
	w := &chunkWriter{stream: stream}
	if err := o.b.Export(stream.Context(), r, w); err != nil {
		return Status(err).Err()
	}
	return nil
}

type chunkWriter struct {
	stream grpc.ServerStreamingServer[rpcv1.ExportChunk]
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	const chunk = 64 << 10
	for off := 0; off < len(p); off += chunk {
		end := min(off+chunk, len(p))
		if err := w.stream.Send(&rpcv1.ExportChunk{Data: p[off:end]}); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

func (o *operator) ClosePeriod(ctx context.Context, r *rpcv1.ClosePeriodRequest) (*rpcv1.RecordResponse, error) {
	return o.b.ClosePeriod(ctx, r)
}

func (o *operator) PeriodStatus(ctx context.Context, r *rpcv1.PeriodStatusRequest) (*rpcv1.PeriodStatusResponse, error) {
	return o.b.PeriodStatus(ctx, r)
}

func (o *operator) Redistribution(ctx context.Context, r *rpcv1.RedistributionRequest) (*rpcv1.RedistributionResponse, error) {
	return o.b.Redistribution(ctx, r)
}

func (o *operator) Rules(ctx context.Context, r *rpcv1.RulesRequest) (*rpcv1.RulesResponse, error) {
	return o.b.Rules(ctx, r)
}

func (o *operator) Proposals(ctx context.Context, r *rpcv1.ProposalsRequest) (*rpcv1.ProposalsResponse, error) {
	return o.b.Proposals(ctx, r)
}

func (o *operator) Settle(ctx context.Context, r *rpcv1.SettleRequest) (*rpcv1.RecordResponse, error) {
	return o.b.Settle(ctx, r)
}

func (o *operator) Ack(ctx context.Context, r *rpcv1.AckRequest) (*rpcv1.RecordResponse, error) {
	return o.b.Ack(ctx, r)
}

func (o *operator) Settlements(ctx context.Context, r *rpcv1.SettlementsRequest) (*rpcv1.SettlementsResponse, error) {
	return o.b.Settlements(ctx, r)
}
