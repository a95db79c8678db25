package federation

import (
	"errors"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// TestCorrectionTargetMissing reaches the safety net that no signed entry
// can: ledger refuses a correction whose target_seq is not below its own
// seq, and a log is contiguous, so the target is always in the log. Called
// directly, a target past the log is ErrBadCorrection and ErrNotFound.
func TestCorrectionTargetMissing(t *testing.T) {
	m := &member{}
	m.log.push(logEntry{kind: kindContribution, amount: 5})
	for _, seq := range []uint64{0, 2, 1 << 40} {
		_, err := m.planCorrection(ledger.Entry{}, &caissev1.Correction{TargetSeq: seq, TargetHash: make([]byte, 32), Reason: "x"})
		if !errors.Is(err, ErrBadCorrection) || !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("target seq %d: %v, want ErrBadCorrection and ErrNotFound", seq, err)
		}
	}
}
