package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/restake/restake/internal/app"
)

// Metrics are the node's Prometheus collectors (served at /metrics).
type Metrics struct {
	Registry  *prometheus.Registry
	height    prometheus.Gauge
	mempool   prometheus.Gauge
	blocks    prometheus.Counter
	txs       *prometheus.CounterVec
	rejected  *prometheus.CounterVec
	blockTime prometheus.Histogram
	blockTxs  prometheus.Histogram
	// riskSeconds is how long the last risk report took, riskLockSeconds
	// how much of it held the state lock (delaying blocks).
	riskSeconds     prometheus.Gauge
	riskLockSeconds prometheus.Gauge
}

func newMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		height:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "restake_height", Help: "Last committed block height."}),
		mempool:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "restake_mempool_txs", Help: "Transactions waiting in the mempool."}),
		blocks:   prometheus.NewCounter(prometheus.CounterOpts{Name: "restake_blocks_total", Help: "Blocks committed."}),
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "restake_txs_total",
			Help: "Transactions committed, by result (ok or the error name)."}, []string{"result"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "restake_txs_rejected_total",
			Help: "Transactions refused at intake, by error name."}, []string{"error"}),
		blockTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "restake_block_seconds",
			Help: "Time to execute and commit a block.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "restake_block_txs",
			Help: "Transactions per block.", Buckets: prometheus.ExponentialBuckets(1, 2, 14)}),
		riskSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Name: "restake_risk_report_seconds",
			Help: "Time the last risk report took (graph and analysis)."}),
		riskLockSeconds: prometheus.NewGauge(prometheus.GaugeOpts{Name: "restake_risk_report_lock_seconds",
			Help: "Time the last risk report read the state under its lock (blocks wait that long)."}),
	}
	m.Registry.MustRegister(m.height, m.mempool, m.blocks, m.txs, m.rejected, m.blockTime, m.blockTxs, m.riskSeconds,
		m.riskLockSeconds,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observeBlock(c *app.Committed, took time.Duration, pool int) {
	m.height.Set(float64(c.Block.Height))
	m.mempool.Set(float64(pool))
	m.blocks.Inc()
	m.blockTime.Observe(took.Seconds())
	m.blockTxs.Observe(float64(len(c.Block.Txs)))
	for _, r := range c.Result.Txs {
		label := "ok"
		if r.Error != "" {
			label = r.Error
		}
		m.txs.WithLabelValues(label).Inc()
	}
}
