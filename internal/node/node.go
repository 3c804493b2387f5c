// Package node is restake's embedded single-process node: a mempool that
// admits signed transactions, a local block producer that orders them into
// blocks (every BlockInterval, or sooner when MaxBlockTxs are waiting),
// executes each block through the app's pipeline and commits it to the
// store, and the read side the HTTP API and the event stream use.
package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
)

// Config holds the node's knobs. Zero values take the defaults.
type Config struct {
	// BlockInterval is how often a block is produced (default 500 ms).
	BlockInterval time.Duration
	// MaxBlockTxs cuts a block early when that many transactions wait
	// (default 5,000).
	MaxBlockTxs int
	// MempoolSize bounds pending transactions (default 100,000).
	MempoolSize int
	// EmptyBlocks produces blocks with no transactions so that time (and
	// reward accrual) moves on an idle chain (default true in DefaultConfig).
	EmptyBlocks bool
	// InvariantCheckEvery runs the full ledger invariant check every that
	// many blocks (0: never; the cheap per-operation checks always run).
	InvariantCheckEvery uint64
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{BlockInterval: 500 * time.Millisecond, MaxBlockTxs: 5000, MempoolSize: 100_000,
		EmptyBlocks: true}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.BlockInterval <= 0 {
		c.BlockInterval = d.BlockInterval
	}
	if c.MaxBlockTxs <= 0 {
		c.MaxBlockTxs = d.MaxBlockTxs
	}
	if c.MempoolSize <= 0 {
		c.MempoolSize = d.MempoolSize
	}
}

// Store is what the node reads back from its store.
type Store interface {
	app.Store
	Block(h uint64) (app.Block, bool, error)
	Results(h uint64) (*app.BlockResult, bool, error)
	TxLocation(hash [32]byte) (height uint64, index int, ok bool, err error)
}

// CommittedEvent is one ledger event of a committed block, as the event
// stream sends it.
type CommittedEvent struct {
	Height uint64       `json:"height"`
	Tx     string       `json:"tx,omitempty"` // the transaction's hash; empty for block events
	Event  ledger.Event `json:"event"`
}

// Node runs the chain.
type Node struct {
	cfg   Config
	store Store
	clock func() time.Time

	mu  sync.RWMutex // app: readers share, block execution excludes
	app *app.App

	pool    mempool
	kick    chan struct{}
	waitMu  sync.Mutex
	waiters map[[32]byte][]chan app.TxResult

	subsMu sync.Mutex
	subs   map[chan []CommittedEvent]struct{}

	metrics *Metrics
	halted  error
	roots   roots
}

// New returns a node over an application restored or started by the
// caller. clock gives block times (time.Now in production; tests inject
// their own).
func New(cfg Config, a *app.App, store Store, clock func() time.Time) *Node {
	cfg.fill()
	n := &Node{cfg: cfg, app: a, store: store, clock: clock, kick: make(chan struct{}, 1),
		waiters: map[[32]byte][]chan app.TxResult{}, subs: map[chan []CommittedEvent]struct{}{},
		metrics: newMetrics()}
	n.pool.init(cfg.MempoolSize)
	n.metrics.height.Set(float64(a.Height()))
	n.loadRoots()
	return n
}

// Metrics returns the node's Prometheus collectors.
func (n *Node) Metrics() *Metrics { return n.metrics }

// ChainID returns the chain id.
func (n *Node) ChainID() string { return n.app.ChainID() }

// Read runs fn with the application under the read lock: the state it sees
// is the last committed block's.
func (n *Node) Read(fn func(a *app.App)) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	fn(n.app)
}

// Store returns the node's store for reads of blocks and results.
func (n *Node) Store() Store { return n.store }

// Submit admits a signed transaction: it must decode, be signed for this
// chain, and carry the sender's next nonce (counting what the sender already
// has pending). It returns the transaction's hash.
func (n *Node) Submit(raw []byte) ([32]byte, *ledger.Error) {
	if err := n.Halted(); err != nil {
		return [32]byte{}, ledger.ErrMempoolFull
	}
	c, lerr := n.app.CheckTx(raw)
	if lerr != nil {
		n.metrics.rejected.WithLabelValues(lerr.Name).Inc()
		return [32]byte{}, lerr
	}
	// The ledger's nonce and the mempool's count must be read together:
	// a block commits (bumping nonces, releasing its transactions) under
	// the write lock, so reading both under the read lock sees one or the
	// other side of it, never half.
	var lerr2 *ledger.Error
	n.Read(func(a *app.App) { lerr2 = n.pool.add(c, a.Ledger().TxNonce(c.Sender)) })
	if lerr := lerr2; lerr != nil {
		// A committed transaction comes back as NonceTooLow; look it up
		// (only then: the index read costs more than the check) to say so.
		if lerr == ledger.ErrNonceTooLow && n.Committed(c.Hash) {
			lerr = ledger.ErrTxAlreadyKnown
		}
		n.metrics.rejected.WithLabelValues(lerr.Name).Inc()
		return c.Hash, lerr
	}
	n.metrics.mempool.Set(float64(n.pool.size()))
	if n.pool.size() >= n.cfg.MaxBlockTxs {
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
	return c.Hash, nil
}

// Wait blocks until the transaction is committed (or ctx ends) and returns
// its result.
func (n *Node) Wait(ctx context.Context, hash [32]byte) (app.TxResult, error) {
	ch := make(chan app.TxResult, 1)
	n.waitMu.Lock()
	n.waiters[hash] = append(n.waiters[hash], ch)
	n.waitMu.Unlock()
	defer n.dropWaiter(hash, ch)
	if r, ok, err := n.TxResult(hash); err != nil || ok {
		return r, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return app.TxResult{}, ctx.Err()
	}
}

func (n *Node) dropWaiter(hash [32]byte, ch chan app.TxResult) {
	n.waitMu.Lock()
	defer n.waitMu.Unlock()
	list := n.waiters[hash]
	for i, c := range list {
		if c == ch {
			n.waiters[hash] = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(n.waiters[hash]) == 0 {
		delete(n.waiters, hash)
	}
}

// TxResult returns a committed transaction's result.
func (n *Node) TxResult(hash [32]byte) (app.TxResult, bool, error) {
	h, i, ok, err := n.store.TxLocation(hash)
	if err != nil || !ok {
		return app.TxResult{}, false, err
	}
	res, ok, err := n.store.Results(h)
	if err != nil || !ok || i >= len(res.Txs) {
		return app.TxResult{}, false, err
	}
	return res.Txs[i], true, nil
}

// Pending reports whether a transaction waits in the mempool.
func (n *Node) Pending(hash [32]byte) bool { return n.pool.has(hash) }

// Subscribe returns a channel of committed events, one slice per block;
// cancel with Unsubscribe. A subscriber that falls behind by 64 blocks is
// dropped (its channel closed) rather than slow the chain.
func (n *Node) Subscribe() chan []CommittedEvent {
	ch := make(chan []CommittedEvent, 64)
	n.subsMu.Lock()
	n.subs[ch] = struct{}{}
	n.subsMu.Unlock()
	return ch
}

// Unsubscribe stops a subscription.
func (n *Node) Unsubscribe(ch chan []CommittedEvent) {
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	if _, ok := n.subs[ch]; ok {
		delete(n.subs, ch)
		close(ch)
	}
}

// Halted returns the error that stopped block production, if any.
func (n *Node) Halted() error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.halted
}

// Run produces blocks until ctx ends or a block fails (a broken invariant
// or a store error), which halts the node: it returns the error and commits
// nothing more.
func (n *Node) Run(ctx context.Context) error {
	ticker := time.NewTicker(n.cfg.BlockInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-n.kick:
		}
		if !n.cfg.EmptyBlocks && n.pool.size() == 0 {
			continue
		}
		if err := n.ProduceBlock(); err != nil {
			return err
		}
	}
}

// ProduceBlock builds, executes and commits one block from the mempool.
func (n *Node) ProduceBlock() (err error) {
	batch := n.pool.take(n.cfg.MaxBlockTxs)
	n.mu.Lock()
	if n.halted != nil {
		n.mu.Unlock()
		return n.halted
	}
	start := time.Now()
	prevTime := n.app.Time()
	b := app.Block{Height: n.app.Height() + 1, Time: max(uint64(n.clock().Unix()), n.app.Time())}
	for _, c := range batch {
		b.Txs = append(b.Txs, c.Raw)
	}
	var committed *app.Committed
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("node: block %d halted the node: %v", b.Height, r)
			}
		}()
		if _, err = n.app.FinalizeBlock(b); err != nil {
			return
		}
		if n.cfg.InvariantCheckEvery > 0 && b.Height%n.cfg.InvariantCheckEvery == 0 {
			if err = n.app.Ledger().CheckInvariants(); err != nil {
				return
			}
		}
		committed, err = n.app.Commit()
	}()
	if err != nil {
		n.halted = err
		n.pool.done(batch) // never committed: no longer pending either
		n.mu.Unlock()
		return err
	}
	n.pool.done(batch)
	n.mu.Unlock()
	n.metrics.observeBlock(committed, time.Since(start), n.pool.size())
	n.deliver(committed)
	n.maybePublish(prevTime, committed)
	return nil
}

// deliver wakes the waiters of a committed block's transactions and sends
// its events to subscribers.
func (n *Node) deliver(c *app.Committed) {
	n.waitMu.Lock()
	for i, r := range c.Result.Txs {
		h := app.TxHash(c.Block.Txs[i])
		for _, ch := range n.waiters[h] {
			select {
			case ch <- r:
			default:
			}
		}
	}
	n.waitMu.Unlock()
	var events []CommittedEvent
	for _, e := range c.Result.Events {
		events = append(events, CommittedEvent{Height: c.Block.Height, Event: e})
	}
	for _, r := range c.Result.Txs {
		for _, e := range r.Events {
			events = append(events, CommittedEvent{Height: c.Block.Height, Tx: r.Hash, Event: e})
		}
	}
	if len(events) == 0 {
		return
	}
	n.subsMu.Lock()
	defer n.subsMu.Unlock()
	for ch := range n.subs {
		select {
		case ch <- events:
		default:
			delete(n.subs, ch)
			close(ch)
		}
	}
}

// ErrHalted reports a node that stopped producing blocks.
var ErrHalted = errors.New("node: halted")

// NextNonce returns the nonce a sender's next transaction must carry: its
// committed nonce plus its transactions waiting in the mempool (or in the
// block being built).
func (n *Node) NextNonce(a ledger.Address) uint64 {
	var next uint64
	n.Read(func(ap *app.App) { next = ap.Ledger().TxNonce(a) + n.pool.pendingOf(a) })
	return next
}

// MempoolSize returns the number of waiting transactions.
func (n *Node) MempoolSize() int { return n.pool.size() }

// Height returns the last committed height.
func (n *Node) Height() uint64 {
	var h uint64
	n.Read(func(a *app.App) { h = a.Height() })
	return h
}

// Committed reports whether a transaction is in a committed block (a cheap
// index lookup; TxResult also reads the block's results).
func (n *Node) Committed(hash [32]byte) bool {
	_, _, ok, _ := n.store.TxLocation(hash)
	return ok
}
