package node

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/rewardtree"
)

// PublishedRoot is the rewards Merkle root the node publishes after each
// calculation interval: every earner's cumulative earnings (claimed plus
// claimable) as of the first block past the interval's end, in EigenLayer's
// RewardsCoordinator layout. Earners claim against the latest one (the tree
// holds cumulative totals).
type PublishedRoot struct {
	IntervalEnd uint64 `json:"interval_end"` // unix seconds
	Height      uint64 `json:"height"`       // the block whose state it commits to
	Time        uint64 `json:"time"`
	Root        string `json:"root"`
	Earners     int    `json:"earners"`
}

// RootStore keeps published roots.
type RootStore interface {
	SaveRoot(intervalEnd uint64, doc []byte) error
	Roots() ([][]byte, error)
}

// roots is the node's publication state.
type roots struct {
	mu     sync.Mutex
	list   []PublishedRoot
	latest *rewardtree.Distribution
	wg     sync.WaitGroup
}

// PublishedRoots returns every root published so far, oldest first.
func (n *Node) PublishedRoots() []PublishedRoot {
	n.roots.mu.Lock()
	defer n.roots.mu.Unlock()
	return append([]PublishedRoot(nil), n.roots.list...)
}

// LatestDistribution returns the tree of the latest published root (nil
// before the first), for proofs against it.
func (n *Node) LatestDistribution() (*rewardtree.Distribution, PublishedRoot, bool) {
	n.roots.mu.Lock()
	defer n.roots.mu.Unlock()
	if n.roots.latest == nil || len(n.roots.list) == 0 {
		return nil, PublishedRoot{}, false
	}
	return n.roots.latest, n.roots.list[len(n.roots.list)-1], true
}

func (n *Node) loadRoots() {
	rs, ok := n.store.(RootStore)
	if !ok {
		return
	}
	docs, err := rs.Roots()
	if err != nil {
		return
	}
	for _, d := range docs {
		var r PublishedRoot
		if json.Unmarshal(d, &r) == nil {
			n.roots.list = append(n.roots.list, r)
		}
	}
}

// maybePublish publishes a root when block c is the first past the end of
// a calculation interval. The earnings are read under the read lock (so
// they are exactly the committed state of c); the tree is built in the
// background.
func (n *Node) maybePublish(prevTime uint64, c *app.Committed) {
	var interval uint64
	n.Read(func(a *app.App) { interval = a.Ledger().Params().CalculationIntervalSeconds })
	if interval == 0 || prevTime/interval == c.Block.Time/interval || c.Block.Height == 0 {
		return
	}
	end := c.Block.Time / interval * interval
	var earnings []rewardtree.Earnings
	n.Read(func(a *app.App) { earnings = a.Ledger().Earnings() })
	n.roots.wg.Add(1)
	go func() {
		defer n.roots.wg.Done()
		d, err := rewardtree.NewDistribution(earnings)
		if err != nil {
			return
		}
		root := d.Root()
		r := PublishedRoot{IntervalEnd: end, Height: c.Block.Height, Time: c.Block.Time,
			Root: fmt.Sprintf("0x%x", root[:]), Earners: d.Earners()}
		if rs, ok := n.store.(RootStore); ok {
			if doc, err := json.Marshal(r); err == nil {
				_ = rs.SaveRoot(end, doc)
			}
		}
		n.roots.mu.Lock()
		n.roots.list = append(n.roots.list, r)
		n.roots.latest = d
		n.roots.mu.Unlock()
	}()
}

// WaitPublished waits for the node's background work: rewards roots being
// built and a risk report in progress (tests and shutdown).
func (n *Node) WaitPublished() {
	n.roots.wg.Wait()
	n.risk.wg.Wait()
}
