package api

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
)

// ErrInvalidArgument marks an error caused by what the caller asked, when no
// more precise sentinel says so.
var ErrInvalidArgument = errors.New("invalid argument")

// ErrUnavailable marks a request the node cannot serve yet, such as one
// that needs replication before it has started.
var ErrUnavailable = errors.New("unavailable")

// ErrFailedPrecondition marks a request that the node's state does not
// allow yet, such as settling a period that is not final.
var ErrFailedPrecondition = errors.New("failed precondition")

// codeOf lists, in order, which sentinel maps to which code. The first
// match wins, so more precise sentinels come first.
var codeOf = []struct {
	err  error
	code codes.Code
}{
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
	{ledger.ErrClosed, codes.Unavailable},
	{ledger.ErrNotFound, codes.NotFound},
	{ledger.ErrDuplicate, codes.AlreadyExists},
	{federation.ErrGenesisExists, codes.AlreadyExists},
	{federation.ErrNoGenesis, codes.FailedPrecondition},
	{federation.ErrAlreadyCorrected, codes.FailedPrecondition},
	{federation.ErrBadCorrection, codes.InvalidArgument},
	{federation.ErrBadClose, codes.InvalidArgument},
	{federation.ErrPeriodClosed, codes.FailedPrecondition},
	{federation.ErrBadProposal, codes.InvalidArgument},
	{federation.ErrBadSettlement, codes.FailedPrecondition},
	{federation.ErrUnknownAuthor, codes.PermissionDenied},
	{ledger.ErrOverflow, codes.OutOfRange},
	{ledger.ErrClockAhead, codes.OutOfRange},
	{ledger.ErrFork, codes.Aborted},
	{ledger.ErrGap, codes.FailedPrecondition},
	{ledger.ErrBadPrev, codes.FailedPrecondition},
	{ledger.ErrClockRegressed, codes.FailedPrecondition},
	{ledger.ErrBadSignature, codes.Unauthenticated},
	{ledger.ErrWrongAuthor, codes.PermissionDenied},
	{ledger.ErrWrongFederation, codes.InvalidArgument},
	{ledger.ErrTooLarge, codes.ResourceExhausted},
	{ledger.ErrMalformed, codes.InvalidArgument},
	{ledger.ErrInvalidAmount, codes.InvalidArgument},
	{ledger.ErrInvalidPeriod, codes.InvalidArgument},
	{ledger.ErrUnknownCategory, codes.InvalidArgument},
	{ErrInvalidArgument, codes.InvalidArgument},
	{ErrUnavailable, codes.Unavailable},
	{ErrFailedPrecondition, codes.FailedPrecondition},
}

// Status maps an error of the node to a gRPC status whose message is the
// error's text.
func Status(err error) *status.Status {
	if st, ok := status.FromError(err); ok {
		return st
	}
	for _, c := range codeOf {
		if errors.Is(err, c.err) {
			return status.New(c.code, err.Error())
		}
	}
	return status.New(codes.Internal, err.Error())
}
