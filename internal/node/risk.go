package node

import (
	"sync"
	"time"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/riskgraph"
	"github.com/restake/restake/internal/riskreport"
)

// RiskConfig says how often and how the node prices its network's risk.
type RiskConfig struct {
	// EveryBlocks recomputes the report after every that many blocks (0:
	// never). The graph is read under the state lock (milliseconds); the
	// analysis runs in the background, off the block path, and a block
	// that comes while one is running does not start another.
	EveryBlocks uint64
	Graph       riskgraph.Options
	Report      riskreport.Options
}

// RiskStatus is the latest report and how it was made.
type RiskStatus struct {
	Report   *riskreport.Report
	Took     time.Duration // reading the graph and analysing it
	GraphFor time.Duration // of which under the state lock
	Err      error         // the last attempt's failure, if any
}

type riskState struct {
	mu      sync.Mutex
	cfg     RiskConfig
	latest  RiskStatus
	running bool
	wg      sync.WaitGroup
}

// ConfigureRisk turns on periodic risk reports. Call before the node takes
// blocks.
func (n *Node) ConfigureRisk(c RiskConfig) {
	n.risk.mu.Lock()
	n.risk.cfg = c
	n.risk.mu.Unlock()
}

// RiskReport returns the latest risk report, if one was made.
func (n *Node) RiskReport() (RiskStatus, bool) {
	n.risk.mu.Lock()
	defer n.risk.mu.Unlock()
	return n.risk.latest, n.risk.latest.Report != nil
}

// RiskNetwork reads the network of the committed state now, with the
// node's valuation options (for what-if questions).
func (n *Node) RiskNetwork() (*riskgraph.Network, error) {
	n.risk.mu.Lock()
	o := n.risk.cfg.Graph
	n.risk.mu.Unlock()
	var net *riskgraph.Network
	var err error
	n.Read(func(a *app.App) { net, err = riskgraph.Build(a.Ledger(), o) })
	return net, err
}

// RiskGraphOptions returns the node's valuation options.
func (n *Node) RiskGraphOptions() riskgraph.Options {
	n.risk.mu.Lock()
	defer n.risk.mu.Unlock()
	return n.risk.cfg.Graph
}

// RefreshRisk computes a report now, in the background (unless one is
// running), as the periodic trigger does.
func (n *Node) RefreshRisk() { n.startRisk() }

// maybeRisk starts a report after every EveryBlocks blocks.
func (n *Node) maybeRisk(c *app.Committed) {
	n.risk.mu.Lock()
	every := n.risk.cfg.EveryBlocks
	n.risk.mu.Unlock()
	if every == 0 || c.Block.Height%every != 0 {
		return
	}
	n.startRisk()
}

func (n *Node) startRisk() {
	n.risk.mu.Lock()
	if n.risk.running {
		n.risk.mu.Unlock()
		return
	}
	n.risk.running = true
	cfg := n.risk.cfg
	n.risk.wg.Add(1)
	n.risk.mu.Unlock()
	go func() {
		defer n.risk.wg.Done()
		start := time.Now()
		var net *riskgraph.Network
		var err error
		n.Read(func(a *app.App) { net, err = riskgraph.Build(a.Ledger(), cfg.Graph) })
		graphFor := time.Since(start)
		var rep *riskreport.Report
		if err == nil {
			rep, err = riskreport.Build(net, cfg.Report)
		}
		n.risk.mu.Lock()
		defer n.risk.mu.Unlock()
		n.risk.running = false
		if err != nil {
			n.risk.latest.Err = err
			return
		}
		n.risk.latest = RiskStatus{Report: rep, Took: time.Since(start), GraphFor: graphFor}
		n.metrics.riskSeconds.Set(time.Since(start).Seconds())
		n.metrics.riskLockSeconds.Set(graphFor.Seconds())
	}()
}

// WaitRisk waits for a report in progress (tests and shutdown).
func (n *Node) WaitRisk() { n.risk.wg.Wait() }
