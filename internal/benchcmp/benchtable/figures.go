package main

// figures are the performance goals of a node (README, Performance), each
// with the benchmark and metrics that measure it. Benchmarks sized by
// BENCH_ENTRIES name their size in the sub-benchmark (entries=N).
var figures = []figure{
	{name: "remote ingest", bench: `^BenchmarkIngest$`, metric: "entries/s", unit: "entries/s",
		baseMetric: "baseline-entries/s", baseName: "raw parallel ed25519.Verify", atLeast: 0.7},
	{name: "local append, 64 clients", bench: `^BenchmarkAppend/clients=64$`, metric: "entries/s", unit: "entries/s",
		baseMetric: "baseline-entries/s", baseName: "raw ed25519.Sign", atLeast: 0.5},
	{name: "local append, 1 client", bench: `^BenchmarkAppend/clients=1$`, metric: "latency-us", unit: "µs",
		baseMetric: "baseline-us", baseName: "one raw synced badger write", atMost: 2},
	{name: "catch-up time", bench: `^BenchmarkCatchUp/entries=\d+$`, metric: "catchup-s", unit: "s",
		baseMetric: "baseline-s", baseName: "parallel ed25519.Verify of every entry", atMost: 1.5},
	{name: "catch-up bytes on the wire", bench: `^BenchmarkCatchUp/entries=\d+$`, metric: "wire-MB", unit: "MB",
		baseMetric: "entries-MB", baseName: "sum of the entries' sizes", atMost: 1.15},
	{name: "catch-up progress reports", bench: `^BenchmarkCatchUp/entries=\d+$`, metric: "progress-reports", unit: "reads",
		atLeast: 1},
	{name: "anti-entropy in sync, bytes/round", bench: `^BenchmarkAntiEntropyInSync/entries=\d{6,}$`, metric: "wire-bytes/op", unit: "B",
		baseBench: `^BenchmarkAntiEntropyInSync/entries=10000$`, baseMetric: "wire-bytes/op", baseName: "same at 10k entries", atMost: 1.05},
	{name: "anti-entropy, bytes per member", bench: `^BenchmarkAntiEntropyMembers/members=200$`, metric: "bytes/member", unit: "B",
		baseBench: `^BenchmarkAntiEntropyMembers/members=20$`, baseMetric: "bytes/member", baseName: "same at 20 members", atMost: 1.1},
	{name: "propagation p50", bench: `^BenchmarkPropagation/nodes=\d+$`, metric: "p50-ms", unit: "ms"},
	{name: "propagation p99", bench: `^BenchmarkPropagation/nodes=\d+$`, metric: "p99-ms", unit: "ms", atMost: 1000},
	{name: "RSS idle", bench: `^BenchmarkFootprint/entries=\d+$`, metric: "idle-rss-MiB", unit: "MiB", atMost: 150},
	{name: "RSS idle, anonymous only", bench: `^BenchmarkFootprint/entries=\d+$`, metric: "idle-anon-MiB", unit: "MiB"},
	{name: "RSS peak, catching up", bench: `^BenchmarkFootprint/entries=\d+$`, metric: "catchup-hwm-MiB", unit: "MiB", atMost: 150},
	{name: "RSS peak, catching up, anonymous only", bench: `^BenchmarkFootprint/entries=\d+$`, metric: "catchup-anon-peak-MiB", unit: "MiB"},
	{name: "start-up, first (replays the store)", bench: `^BenchmarkFootprint/entries=\d+$`, metric: "startup-s", unit: "s",
		baseMetric: "scan-s", baseName: "reading every entry from the store"},
	{name: "start-up (from the state checkpoint)", bench: `^BenchmarkFootprint/entries=\d+$`, metric: "restart-s", unit: "s",
		baseMetric: "scan-s", baseName: "reading every entry from the store", valueGoal: true, atMost: 2},
	{name: "RSS idle after a restart", bench: `^BenchmarkFootprint/entries=\d+$`, metric: "restart-idle-rss-MiB", unit: "MiB", atMost: 150},
	{name: "disk per entry", bench: `^BenchmarkFootprint/entries=\d+$`, metric: "disk-bytes/entry", unit: "B",
		baseMetric: "entry-bytes", baseName: "raw entry size"},
	{name: "query p99: balances", bench: `^BenchmarkQueries/entries=\d+/balances$`, metric: "p99-ms", unit: "ms", atMost: 5},
	{name: "query p99: redistribution", bench: `^BenchmarkQueries/entries=\d+/redistribution$`, metric: "p99-ms", unit: "ms", atMost: 5},
	{name: "query p99: page of entries", bench: `^BenchmarkQueries/entries=\d+/page$`, metric: "p99-ms", unit: "ms", atMost: 5},
}
