// Package node is restake's node: the application, its store, and the read
// side the HTTP API and the event stream use (committed state, transaction
// results, waiters, subscribers, metrics, published rewards roots).
//
// Blocks come from one of two sources. Embedded (the default): the node's
// own mempool admits signed transactions and a local block producer orders
// them into blocks (every BlockInterval, or sooner when MaxBlockTxs are
// waiting), executes and commits each one. External: a consensus engine
// (CometBFT, through internal/abciapp) holds the mempool, behind the
// Consensus interface, and drives Finalize and CommitBlock. Everything else
// is the same in both modes.
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
	TxResult(hash [32]byte) (app.TxResult, bool, error)
}

// Consensus is an external consensus engine's side of the node: its
// mempool. Attach it before the node takes transactions.
type Consensus interface {
	// Broadcast hands an authenticated transaction to the engine's mempool
	// and returns its verdict (the engine runs the application's CheckTx).
	Broadcast(c app.Checked) *ledger.Error
	// NextNonce is the nonce the sender's next transaction must carry,
	// given its committed nonce: past what the mempool already holds.
	NextNonce(sender ledger.Address, committed uint64) uint64
	// Has reports whether a transaction waits in the mempool.
	Has(hash [32]byte) bool
	// Size is the number of waiting transactions.
	Size() int
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
	// gate keeps readers out between an external engine's Finalize and
	// CommitBlock, when the ledger holds a block's state that is not yet
	// committed. The engine's CheckTx reads nonces under mu alone, because
	// the engine may call it in that window (and its Commit waits for it).
	gate      sync.RWMutex
	finalized *finalized // the block between Finalize and CommitBlock
	consensus Consensus

	pool    mempool
	kick    chan struct{}
	waitMu  sync.Mutex
	waiters map[[32]byte][]chan app.TxResult

	subsMu sync.Mutex
	subs   map[chan []CommittedEvent]struct{}

	metrics *Metrics
	halted  error
	roots   roots
	risk    riskState
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
	n.gate.RLock()
	defer n.gate.RUnlock()
	n.mu.RLock()
	defer n.mu.RUnlock()
	fn(n.app)
}

// CommittedNonce returns a sender's transaction nonce for an external
// engine's CheckTx. Between Finalize and CommitBlock it already counts the
// finalized block's transactions; the engine's own pending count (taken as
// a maximum with this one) keeps the next nonce right either way.
func (n *Node) CommittedNonce(a ledger.Address) uint64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.app.Ledger().TxNonce(a)
}

// Attach makes the node take its blocks from an external consensus engine:
// Submit goes to the engine's mempool, Run and ProduceBlock refuse, and
// the engine calls Finalize and CommitBlock.
func (n *Node) Attach(c Consensus) { n.consensus = c }

// App returns the application, for an external engine's read-only calls
// that need no ledger state (CheckTx's decoding and signature check).
func (n *Node) App() *app.App { return n.app }

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
	if n.consensus != nil {
		// The signature is checked here, in the caller's goroutine (the API
		// submits a batch in parallel); cached, the engine's CheckTx, which
		// runs one transaction at a time, only decodes and checks the nonce.
		n.app.Admit(c)
		if lerr := n.consensus.Broadcast(c); lerr != nil {
			n.app.Forget(c.Hash)
			if lerr == ledger.ErrNonceTooLow && n.Committed(c.Hash) {
				lerr = ledger.ErrTxAlreadyKnown
			}
			n.metrics.rejected.WithLabelValues(lerr.Name).Inc()
			return c.Hash, lerr
		}
		n.metrics.mempool.Set(float64(n.consensus.Size()))
		return c.Hash, nil
	}
	// The ledger's nonce and the mempool's count must be read together:
	// a block commits (bumping nonces, releasing its transactions) under
	// the write lock, so reading both under the read lock sees one or the
	// other side of it, never half.
	var lerr2 *ledger.Error
	n.Read(func(a *app.App) {
		if lerr2 = n.pool.add(c, a.Ledger().TxNonce(c.Sender)); lerr2 == nil {
			a.Admit(c)
		}
	})
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
	return n.store.TxResult(hash)
}

// Pending reports whether a transaction waits in the mempool.
func (n *Node) Pending(hash [32]byte) bool {
	if n.consensus != nil {
		return n.consensus.Has(hash)
	}
	return n.pool.has(hash)
}

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

// ErrExternalConsensus is returned by Run and ProduceBlock on a node whose
// blocks come from an attached consensus engine.
var ErrExternalConsensus = errors.New("node: blocks come from the consensus engine")

// Run produces blocks until ctx ends or a block fails (a broken invariant
// or a store error), which halts the node: it returns the error and commits
// nothing more.
func (n *Node) Run(ctx context.Context) error {
	if n.consensus != nil {
		return ErrExternalConsensus
	}
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
	if n.consensus != nil {
		return ErrExternalConsensus
	}
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
	n.afterCommit(committed, prevTime, time.Since(start), n.pool.size())
	return nil
}

// afterCommit is what every committed block does once the lock is
// released: metrics, waiters and subscribers, and the rewards root.
func (n *Node) afterCommit(c *app.Committed, prevTime uint64, took time.Duration, mempool int) {
	n.metrics.observeBlock(c, took, mempool)
	n.deliver(c)
	n.maybePublish(prevTime, c)
	n.maybeRisk(c)
}

// finalized is a block an external engine finalized and has not committed.
type finalized struct {
	prevTime uint64
	start    time.Time
}

// Finalize executes a block an external consensus engine decided (ABCI
// FinalizeBlock): it returns the results and the app hash and persists
// nothing. Readers wait until CommitBlock. A panic in the ledger (a broken
// invariant) halts the node and comes back as an error: the engine must
// stop rather than commit a divergent state.
func (n *Node) Finalize(b app.Block) (res *app.BlockResult, err error) {
	n.mu.Lock()
	pending := n.finalized != nil
	n.mu.Unlock()
	if pending { // before taking the gate, which the pending block holds
		return nil, app.ErrPendingBlock
	}
	n.gate.Lock() // released by CommitBlock, or below on failure
	n.mu.Lock()
	defer n.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("node: block %d halted the node: %v", b.Height, r)
		}
		if err != nil {
			n.halted = err
			n.gate.Unlock()
		}
	}()
	if n.halted != nil {
		return nil, n.halted
	}
	if n.finalized != nil {
		return nil, app.ErrPendingBlock
	}
	f := &finalized{prevTime: n.app.Time(), start: time.Now()}
	if res, err = n.app.FinalizeBlock(b); err != nil {
		return nil, err
	}
	if n.cfg.InvariantCheckEvery > 0 && b.Height%n.cfg.InvariantCheckEvery == 0 {
		if err = n.app.Ledger().CheckInvariants(); err != nil {
			return nil, err
		}
	}
	n.finalized = f
	return res, nil
}

// CommitBlock persists the block Finalize executed (ABCI Commit) and
// delivers it: results to waiters, events to subscribers, metrics, and the
// rewards root when the block closed a calculation interval.
func (n *Node) CommitBlock() (*app.Committed, error) {
	n.mu.Lock()
	f := n.finalized
	if f == nil {
		n.mu.Unlock()
		return nil, errors.New("node: no finalized block to commit")
	}
	n.finalized = nil
	c, err := n.app.Commit()
	if err != nil {
		n.halted = err
	}
	n.mu.Unlock()
	n.gate.Unlock()
	if err != nil {
		return nil, err
	}
	size := 0
	if n.consensus != nil {
		size = n.consensus.Size()
	}
	n.afterCommit(c, f.prevTime, time.Since(f.start), size)
	return c, nil
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
	n.Read(func(ap *app.App) {
		committed := ap.Ledger().TxNonce(a)
		if n.consensus != nil {
			next = n.consensus.NextNonce(a, committed)
		} else {
			next = committed + n.pool.pendingOf(a)
		}
	})
	return next
}

// MempoolSize returns the number of waiting transactions.
func (n *Node) MempoolSize() int {
	if n.consensus != nil {
		return n.consensus.Size()
	}
	return n.pool.size()
}

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
