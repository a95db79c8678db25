package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"golang.org/x/net/netutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"github.com/caisse-coop/caisse/ledger"
)

// Limits of the operator API, on its unix socket. Requests are small (a
// contribution, a query); responses may list many entries.
const (
	MaxMessageSize     = 1 << 20
	maxOperatorSend    = 4 * MaxMessageSize
	maxOperatorStreams = 64
	maxOperatorConns   = 64
)

// Limits of the sync API, open to the network. A batch of a Pull is at
// most MaxBatchBytes plus one entry (ledger.MaxEntrySize); a Push holds at
// most MaxPushEntries entries: MaxSyncMessage bounds both with room to
// spare, after decompression.
const (
	maxSyncStreams = 64
	maxSyncConns   = 256
)

// Timeouts shared by both servers.
const (
	// handshakeTimeout bounds a new connection's TLS and HTTP/2 handshake.
	handshakeTimeout = 10 * time.Second
	// keepaliveMinTime is the most often a client may ping; more often and
	// the connection is closed (a ping flood).
	keepaliveMinTime = 10 * time.Second
	// idleTimeout closes a connection with no call for that long.
	idleTimeout = 10 * time.Minute
	// pingEvery and pingTimeout detect a dead peer on a quiet connection.
	pingEvery   = 2 * time.Minute
	pingTimeout = 20 * time.Second
)

// Compile-time check of the sizing above.
var _ = [MaxSyncMessage - (MaxBatchBytes + 2*ledger.MaxEntrySize)]struct{}{}

// OperatorServerOptions are the operator server's options: message sizes,
// streams, keepalive, and panic recovery before the error mapping. Listen
// uses them; extra are appended (tests add interceptors).
func OperatorServerOptions(log *slog.Logger, extra ...grpc.ServerOption) []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(maxOperatorSend),
		grpc.MaxConcurrentStreams(maxOperatorStreams),
		grpc.ConnectionTimeout(handshakeTimeout),
		grpc.KeepaliveEnforcementPolicy(enforcement),
		grpc.KeepaliveParams(serverKeepalive),
		grpc.ChainUnaryInterceptor(recovery.UnaryServerInterceptor(recoverWith(log)), errorInterceptor(log)),
		grpc.ChainStreamInterceptor(recovery.StreamServerInterceptor(recoverWith(log))),
	}
	return append(opts, extra...)
}

// SyncServerOptions are the sync server's options, with its TLS
// credentials; extra are appended.
func SyncServerOptions(creds credentials.TransportCredentials, log *slog.Logger, extra ...grpc.ServerOption) []grpc.ServerOption {
	opts := []grpc.ServerOption{
		grpc.Creds(creds),
		grpc.MaxRecvMsgSize(MaxSyncMessage),
		grpc.MaxSendMsgSize(MaxSyncMessage),
		grpc.MaxConcurrentStreams(maxSyncStreams),
		grpc.ConnectionTimeout(handshakeTimeout),
		grpc.KeepaliveEnforcementPolicy(enforcement),
		grpc.KeepaliveParams(serverKeepalive),
		grpc.ChainUnaryInterceptor(recovery.UnaryServerInterceptor(recoverWith(log))),
		grpc.ChainStreamInterceptor(recovery.StreamServerInterceptor(recoverWith(log))),
	}
	return append(opts, extra...)
}

// LimitOperatorListener caps the operator socket's concurrent connections.
func LimitOperatorListener(l net.Listener) net.Listener {
	return netutil.LimitListener(l, maxOperatorConns)
}

// LimitSyncListener caps the sync port's concurrent connections: one more
// waits until another closes.
func LimitSyncListener(l net.Listener) net.Listener { return netutil.LimitListener(l, maxSyncConns) }

var enforcement = keepalive.EnforcementPolicy{MinTime: keepaliveMinTime, PermitWithoutStream: true}

var serverKeepalive = keepalive.ServerParameters{
	MaxConnectionIdle: idleTimeout,
	Time:              pingEvery,
	Timeout:           pingTimeout,
}

// recoverWith logs a handler's panic with its stack and answers Internal:
// one bad request must not take the node down.
func recoverWith(log *slog.Logger) recovery.Option {
	return recovery.WithRecoveryHandlerContext(func(ctx context.Context, p any) error {
		log.Error("panic in a gRPC handler; the call fails with Internal, the node goes on",
			"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return status.Error(codes.Internal, "internal error: the node logged it")
	})
}
