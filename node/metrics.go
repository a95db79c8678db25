package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/caisse-coop/caisse/node/gossip"
	"github.com/caisse-coop/caisse/node/syncer"
)

// metrics are the node's Prometheus metrics, in a registry of their own
// (never the global one), served on the admin listener. Labels stay
// bounded: origins, outcomes, queues and gossip states are fixed sets, and
// peers are the federation's members.
type metrics struct {
	reg      *prometheus.Registry
	applied  *prometheus.CounterVec   // origin: local, peer
	rejected *prometheus.CounterVec   // reason: duplicate, pending, refused, forked
	commit   *prometheus.HistogramVec // origin: local, peer
	apply    prometheus.Histogram
}

func newMetrics(n *Node) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caisse_entries_applied_total",
			Help: "Entries stored and applied to the federation state, by origin (local: this node's own log; peer: received).",
		}, []string{"origin"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "caisse_entries_rejected_total",
			Help: "Entries received from peers and not stored, by reason: duplicate, pending (may apply later), refused (never valid), forked (an equivocation).",
		}, []string{"reason"}),
		commit: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "caisse_store_commit_duration_seconds",
			Help:    "Time to store entries durably (one transaction, fsync included), by origin.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5ms to 4s
		}, []string{"origin"}),
		apply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "caisse_apply_duration_seconds",
			Help:    "Time to apply one entry to the federation state.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 4, 10), // 10µs to 2.6s
		}),
	}
	for _, o := range []string{"local", "peer"} {
		m.applied.WithLabelValues(o)
		m.commit.WithLabelValues(o)
	}
	for _, o := range []outcome{duplicate, pending, refused, forked} {
		m.rejected.WithLabelValues(o.String())
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "caisse_build_info",
		Help:        "Always 1; the version label is the running caissed's.",
		ConstLabels: prometheus.Labels{"version": n.cfg.Version},
	})
	build.Set(1)
	m.reg.MustRegister(build, m.applied, m.rejected, m.commit, m.apply, snapshotCollector{n},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ingested counts the outcomes of ingest.
func (m *metrics) ingested(results []result) {
	for _, r := range results {
		if r.out == stored {
			m.applied.WithLabelValues("peer").Inc()
		} else {
			m.rejected.WithLabelValues(r.out.String()).Inc()
		}
	}
}

// Durations are measured with the monotonic wall clock, not Config.Now:
// they time the disk and the CPU, not the ledger's clock.

func (m *metrics) observeCommit(origin string, start time.Time) {
	m.commit.WithLabelValues(origin).Observe(time.Since(start).Seconds())
}

func (m *metrics) observeApply(start time.Time) { m.apply.Observe(time.Since(start).Seconds()) }

// snapshotCollector reads gauges from status snapshots at scrape time: the
// state, the syncer's Status, the replicator's peers and queues, gossip.
type snapshotCollector struct{ n *Node }

var (
	descStateEntries = prometheus.NewDesc("caisse_state_entries",
		"Entries applied to the federation state.", nil, nil)
	descGossipMembers = prometheus.NewDesc("caisse_gossip_members",
		"Nodes gossip knows, this one included, by state (alive, dead, left).", []string{"state"}, nil)
	descSyncLag = prometheus.NewDesc("caisse_sync_lag_entries",
		"Entries a peer holds that this node lacks, as far as it knows.", []string{"peer"}, nil)
	descLastSync = prometheus.NewDesc("caisse_sync_last_success_timestamp_seconds",
		"When a pull or vector exchange with a peer last succeeded, unix seconds.", []string{"peer"}, nil)
	descQueueDepth = prometheus.NewDesc("caisse_sync_queue_depth",
		"Items waiting in a bounded replication queue.", []string{"queue"}, nil)
	descQueueCapacity = prometheus.NewDesc("caisse_sync_queue_capacity",
		"Capacity of a bounded replication queue.", []string{"queue"}, nil)
	descDiskFree = prometheus.NewDesc("caisse_disk_free_bytes",
		"Free space on the data directory's file system.", nil, nil)
	descDiskFloor = prometheus.NewDesc("caisse_disk_min_free_bytes",
		"The free space the node keeps (min-free-disk): below it, writes are refused and replication pauses; 0 when the check is off.", nil, nil)
	descQueueDropped = prometheus.NewDesc("caisse_sync_queue_dropped_total",
		"Items a bounded replication queue dropped since replication started; anti-entropy and pulls repair drops.", []string{"queue"}, nil)
)

func (c snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStateEntries, descGossipMembers, descSyncLag, descLastSync, descQueueDepth, descQueueCapacity, descQueueDropped,
		descDiskFree, descDiskFloor} {
		ch <- d
	}
}

func (c snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	n.mu.Lock()
	entries := n.state.Entries()
	n.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descStateEntries, prometheus.GaugeValue, float64(entries))
	ch <- prometheus.MustNewConstMetric(descDiskFloor, prometheus.GaugeValue, float64(n.cfg.MinFreeDisk))
	if n.cfg.FreeDisk != nil {
		if free, err := n.cfg.FreeDisk(n.cfg.DataDir); err == nil {
			ch <- prometheus.MustNewConstMetric(descDiskFree, prometheus.GaugeValue, float64(free))
		}
	}
	r := n.repl.Load()
	if r == nil {
		return
	}
	states := map[gossip.State]int{gossip.StateAlive: 0, gossip.StateDead: 0, gossip.StateLeft: 0}
	for _, m := range r.gossip.Members() {
		states[m.State]++
	}
	for s, k := range states {
		ch <- prometheus.MustNewConstMetric(descGossipMembers, prometheus.GaugeValue, float64(k), s.String())
	}
	r.mu.Lock()
	st := r.sy.Status()
	r.mu.Unlock()
	cfg := syncer.DefaultConfig()
	r.peersMu.Lock()
	for _, p := range st.Peers {
		ch <- prometheus.MustNewConstMetric(descSyncLag, prometheus.GaugeValue, float64(p.Lag), string(p.Peer))
		if pc := r.peers[p.Peer]; pc != nil && !pc.lastSync.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastSync, prometheus.GaugeValue, float64(pc.lastSync.UnixMilli())/1000, string(p.Peer))
		}
	}
	r.peersMu.Unlock()
	gs := r.gossip.Stats()
	d := st.Counters.Dropped
	for _, q := range []struct {
		name            string
		depth, capacity int
		dropped         uint64
	}{
		{"inbox", len(r.inbox), cap(r.inbox), r.dropped.Load()},
		{"gap_buffer", sumBuffered(st.Gaps), cfg.MaxBuffered, d.Buffer + d.Expired},
		{"parked", len(st.Parked), cfg.MaxParked, d.Parked},
		{"pulls", len(st.Pulls), cfg.MaxInflightPulls, d.Probe},
		{"push", 0, cfg.MaxPushEntries, d.Push},
		{"checks", 0, cfg.MaxChecks, d.Check},
		{"gossip_broadcasts", gs.Queued, 0, gs.Dropped},
	} {
		ch <- prometheus.MustNewConstMetric(descQueueDepth, prometheus.GaugeValue, float64(q.depth), q.name)
		if q.capacity > 0 {
			ch <- prometheus.MustNewConstMetric(descQueueCapacity, prometheus.GaugeValue, float64(q.capacity), q.name)
		}
		ch <- prometheus.MustNewConstMetric(descQueueDropped, prometheus.CounterValue, float64(q.dropped), q.name)
	}
}
