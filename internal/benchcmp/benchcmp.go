// Package benchcmp reports a benchmark as a ratio against a baseline run in
// the same benchmark, so that figures from a shared, noisy machine can be
// compared: an absolute ns/op means little there, a ratio to raw
// ed25519.Verify or to a raw badger write measured a moment before does.
package benchcmp

import (
	"testing"
	"time"
)

// Run times baseline over b.N iterations, then op over b.N iterations (the
// op's time is the benchmark's ns/op), and reports two more metrics:
// "baseline-ns/op" and "x-baseline", the ratio of op's time to baseline's.
// Both functions are given the iteration index. It returns the time of
// the b.N baselines and of the b.N ops, for figures derived from them.
func Run(b *testing.B, baseline, op func(i int)) (base, took time.Duration) {
	b.Helper()
	b.StopTimer()
	start := time.Now()
	for i := range b.N {
		baseline(i)
	}
	base = time.Since(start)
	b.StartTimer()
	b.ResetTimer()
	start = time.Now()
	for i := range b.N {
		op(i)
	}
	took = time.Since(start)
	b.StopTimer()
	if base <= 0 {
		base = 1
	}
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "baseline-ns/op")
	b.ReportMetric(float64(took)/float64(base), "x-baseline")
	return base, took
}
