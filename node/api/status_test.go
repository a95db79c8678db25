package api

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
)

func TestStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{ledger.ErrInvalidAmount, codes.InvalidArgument},
		{ledger.ErrInvalidPeriod, codes.InvalidArgument},
		{ledger.ErrUnknownCategory, codes.InvalidArgument},
		{ledger.ErrMalformed, codes.InvalidArgument},
		{ledger.ErrNotFound, codes.NotFound},
		{ledger.ErrOverflow, codes.OutOfRange},
		{ledger.ErrBadSignature, codes.Unauthenticated},
		{ledger.ErrFork, codes.Aborted},
		{ledger.ErrClosed, codes.Unavailable},
		{federation.ErrNoGenesis, codes.FailedPrecondition},
		{federation.ErrGenesisExists, codes.AlreadyExists},
		{federation.ErrUnknownAuthor, codes.PermissionDenied},
		// The more precise sentinel wins over the one it wraps.
		{fmt.Errorf("%w: %w", federation.ErrBadCorrection, ledger.ErrNotFound), codes.NotFound},
		{errors.New("disk on fire"), codes.Internal},
	} {
		st := Status(fmt.Errorf("context: %w", tc.err))
		if st.Code() != tc.want {
			t.Errorf("Status(%v) = %v, want %v", tc.err, st.Code(), tc.want)
		}
		if st.Message() != "context: "+tc.err.Error() {
			t.Errorf("Status(%v) message %q", tc.err, st.Message())
		}
	}
}
