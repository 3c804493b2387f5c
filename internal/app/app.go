// Package app is restake's block pipeline, shaped like ABCI 2.0 so that the
// embedded node and CometBFT run the same code: CheckTx admits a
// transaction (decode, size, chain id, signature, nonce; no state change),
// FinalizeBlock executes a block and returns its results and app hash
// without persisting anything, and Commit persists through a Store.
//
// One block runs its phases in a fixed order: BeginBlock (the clock moves,
// rewards accrue), then each transaction (decode, authenticate, check the
// nonce, apply the operation, bump the nonce), then the changed records go
// into the state tree, whose root is the app hash.
package app

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/statetree"
	"github.com/restake/restake/internal/tx"
)

// Store persists committed blocks. Commit must be atomic: after a crash
// either the whole block (its transactions, results, state changes and
// app hash) is there, or none of it.
type Store interface {
	Commit(c *Committed) error
}

// Block is what a block producer proposes: a height, a time and raw
// transactions.
type Block struct {
	Height uint64   `json:"height"`
	Time   uint64   `json:"time"`
	Txs    [][]byte `json:"txs"`
}

// TxResult is the outcome of one transaction in a block.
type TxResult struct {
	Hash   string          `json:"hash"`
	Height uint64          `json:"height"`
	Index  int             `json:"index"`
	Sender string          `json:"sender,omitempty"`
	Op     string          `json:"op,omitempty"`
	Nonce  uint64          `json:"nonce"`
	Code   uint32          `json:"code"`            // 0: the operation succeeded
	Error  string          `json:"error,omitempty"` // the stable error name
	Hint   string          `json:"hint,omitempty"`  // what the sender can do
	Result json.RawMessage `json:"result,omitempty"`
	Events []ledger.Event  `json:"events,omitempty"`
}

// BlockResult is what FinalizeBlock returns.
type BlockResult struct {
	Height  uint64         `json:"height"`
	Time    uint64         `json:"time"`
	AppHash string         `json:"app_hash"`
	Txs     []TxResult     `json:"txs"`
	Events  []ledger.Event `json:"events,omitempty"` // the block's own (reward accruals)
}

// Committed is one block ready to persist.
type Committed struct {
	Block   Block
	Result  *BlockResult
	AppHash [32]byte
	Changes []ledger.Record // nil Value: deleted
}

// App is the application: the ledger, its state tree and the last committed
// height. It is not safe for concurrent use; the node serialises access.
type App struct {
	chainID string
	ledger  *ledger.Ledger
	tree    *statetree.Tree
	store   Store
	height  uint64
	time    uint64
	appHash [32]byte
	pending *Committed

	// senders caches the signer of transactions admitted at intake, so a
	// block (or a consensus engine's recheck and proposal checks) does not
	// verify the same signature twice. Entries leave when their block
	// commits or when Forget drops them; at most maxCachedSenders are kept,
	// so transactions that never reach a block cannot grow it without bound.
	sendersMu sync.Mutex
	senders   map[[32]byte]ledger.Address
}

// maxCachedSenders bounds the signature cache. Past it, admitted
// transactions are verified again when their block executes: slower, never
// wrong.
const maxCachedSenders = 1 << 18

// New starts a chain from its genesis at height 0.
func New(g *Genesis, store Store) (*App, error) {
	l, err := g.Build()
	if err != nil {
		return nil, err
	}
	a := &App{chainID: g.ChainID, ledger: l, tree: statetree.New(), store: store,
		time: g.GenesisTime, senders: map[[32]byte]ledger.Address{}}
	changes := l.Changes()
	for _, r := range changes {
		a.tree.Set(r.Key, r.Value)
	}
	a.appHash = a.tree.Root()
	a.pending = &Committed{Block: Block{Height: 0, Time: g.GenesisTime}, AppHash: a.appHash, Changes: changes,
		Result: &BlockResult{Height: 0, Time: g.GenesisTime, AppHash: hexHash(a.appHash), Txs: []TxResult{}}}
	return a, nil
}

// Restore rebuilds the application from its committed records (a store
// after a restart, or a snapshot), checking that they hash to appHash.
func Restore(g *Genesis, store Store, recs []ledger.Record, height, time uint64, appHash [32]byte) (*App, error) {
	cfg, err := g.Config()
	if err != nil {
		return nil, err
	}
	l, err := ledger.FromRecords(cfg, recs)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	if l.Height() != height {
		return nil, fmt.Errorf("restore: records are at height %d, the store says %d", l.Height(), height)
	}
	tree := statetree.Build(func(yield func(key, value []byte) bool) {
		for _, r := range recs {
			if !yield(r.Key, r.Value) {
				return
			}
		}
	})
	if root := tree.Root(); root != appHash {
		return nil, fmt.Errorf("restore: records hash to %x, the store's app hash is %x", root, appHash)
	}
	l.Changes() // start tracking from the restored state
	return &App{chainID: g.ChainID, ledger: l, tree: tree, store: store, height: height, time: time,
		appHash: appHash, senders: map[[32]byte]ledger.Address{}}, nil
}

// ChainID returns the chain id.
func (a *App) ChainID() string { return a.chainID }

// Height returns the last committed height.
func (a *App) Height() uint64 { return a.height }

// Time returns the last committed block's time.
func (a *App) Time() uint64 { return a.time }

// AppHash returns the last committed app hash.
func (a *App) AppHash() [32]byte { return a.appHash }

// Ledger returns the ledger for reads. Callers must not mutate it and must
// hold the node's lock while reading.
func (a *App) Ledger() *ledger.Ledger { return a.ledger }

// Tree returns the state tree for proofs (read under the node's lock).
func (a *App) Tree() *statetree.Tree { return a.tree }

// Checked is a transaction admitted by CheckTx.
type Checked struct {
	Tx     tx.Signed
	Hash   [32]byte
	Sender ledger.Address
	Raw    []byte
}

// CheckTx decodes and authenticates a transaction without touching state:
// size, encoding, chain id, signature (skipped when Admit cached the
// transaction's signer). The caller checks the nonce against its own view
// (the ledger's nonce plus what it already holds) and calls Admit if it
// keeps the transaction. Safe to call concurrently with everything: it reads
// no ledger state, and the signature cache has its own lock.
func (a *App) CheckTx(raw []byte) (Checked, *ledger.Error) {
	if len(raw) > tx.MaxTxBytes {
		return Checked{}, ledger.ErrTxTooLarge
	}
	s, err := tx.Decode(raw)
	if err != nil {
		return Checked{}, ledger.ErrTxMalformed
	}
	if s.Tx.ChainID != a.chainID {
		return Checked{}, ledger.ErrWrongChainID
	}
	c := Checked{Tx: s, Hash: TxHash(raw), Raw: raw}
	a.sendersMu.Lock()
	sender, cached := a.senders[c.Hash]
	a.sendersMu.Unlock()
	if cached {
		c.Sender = sender
		return c, nil
	}
	signer, err := keys.Recover(tx.SigningHashOf(raw), s.Sig)
	if err != nil {
		return Checked{}, ledger.ErrInvalidSignature
	}
	c.Sender = ledger.Address(signer)
	return c, nil
}

// Admit caches the signer of a transaction its mempool accepted, so that
// its block does not verify the signature again.
func (a *App) Admit(c Checked) {
	a.sendersMu.Lock()
	if len(a.senders) < maxCachedSenders {
		a.senders[c.Hash] = c.Sender
	}
	a.sendersMu.Unlock()
}

// Forget drops a transaction that left the mempool without a block (a
// consensus engine's recheck evicted it).
func (a *App) Forget(hash [32]byte) {
	a.sendersMu.Lock()
	delete(a.senders, hash)
	a.sendersMu.Unlock()
}

// sender authenticates a block's transaction, from the intake cache when
// CheckTx already did.
func (a *App) sender(s tx.Signed, hash [32]byte) (ledger.Address, *ledger.Error) {
	a.sendersMu.Lock()
	addr, ok := a.senders[hash]
	a.sendersMu.Unlock()
	if ok {
		return addr, nil
	}
	h, err := s.Tx.SigningHash()
	if err != nil {
		return addr, ledger.ErrTxMalformed
	}
	signer, err := keys.Recover(h, s.Sig)
	if err != nil {
		return addr, ledger.ErrInvalidSignature
	}
	return ledger.Address(signer), nil
}

// ErrPendingBlock is returned by FinalizeBlock before the previous block is
// committed.
var ErrPendingBlock = errors.New("app: the previous block is not committed")

// FinalizeBlock executes a block on the in-memory state and returns its
// results and app hash. It persists nothing: Commit does.
func (a *App) FinalizeBlock(b Block) (*BlockResult, error) {
	if a.pending != nil {
		return nil, ErrPendingBlock
	}
	if b.Height != a.height+1 {
		return nil, fmt.Errorf("app: block %d after %d", b.Height, a.height)
	}
	if b.Time < a.time {
		return nil, fmt.Errorf("app: block time %d before %d", b.Time, a.time)
	}
	a.ledger.BeginBlock(b.Height, b.Time)
	res := &BlockResult{Height: b.Height, Time: b.Time, Txs: make([]TxResult, len(b.Txs)),
		Events: append([]ledger.Event(nil), a.ledger.Events()...)}
	for i, raw := range b.Txs {
		res.Txs[i] = a.deliver(b.Height, i, raw)
	}
	changes := a.ledger.Changes()
	for _, r := range changes {
		if r.Value == nil {
			a.tree.Delete(r.Key)
		} else {
			a.tree.Set(r.Key, r.Value)
		}
	}
	root := a.tree.Root()
	res.AppHash = hexHash(root)
	a.pending = &Committed{Block: b, Result: res, AppHash: root, Changes: changes}
	return res, nil
}

// deliver runs one transaction of a block.
func (a *App) deliver(height uint64, index int, raw []byte) TxResult {
	r := TxResult{Height: height, Index: index}
	fail := func(e *ledger.Error) TxResult {
		r.Code, r.Error, r.Hint = e.Code, e.Name, e.Hint
		return r
	}
	hash := TxHash(raw)
	r.Hash = hexHash(hash)
	if len(raw) > tx.MaxTxBytes {
		return fail(ledger.ErrTxTooLarge)
	}
	s, err := tx.Decode(raw)
	if err != nil {
		return fail(ledger.ErrTxMalformed)
	}
	r.Op, r.Nonce = s.Tx.Op.OpName(), s.Tx.Nonce
	if s.Tx.ChainID != a.chainID {
		return fail(ledger.ErrWrongChainID)
	}
	sender, lerr := a.sender(s, hash)
	if lerr != nil {
		return fail(lerr)
	}
	r.Sender = sender.String()
	switch next := a.ledger.TxNonce(sender); {
	case s.Tx.Nonce < next:
		return fail(ledger.ErrNonceTooLow)
	case s.Tx.Nonce > next:
		return fail(ledger.ErrNonceTooHigh)
	}
	out, err := a.ledger.Apply(sender, s.Tx.Op)
	events := append([]ledger.Event(nil), a.ledger.Events()...)
	a.ledger.BumpTxNonce(sender)
	if err != nil {
		var lerr *ledger.Error
		if !errors.As(err, &lerr) {
			panic(fmt.Sprintf("app: ledger returned a non-ledger error: %v", err))
		}
		return fail(lerr)
	}
	r.Events = events
	if out != nil {
		if b, err := json.Marshal(out); err == nil {
			r.Result = b
		}
	}
	return r
}

// Commit persists the block FinalizeBlock executed. A store failure is
// fatal for the node: its memory is ahead of its disk, and only a restart
// (which reloads the last committed block) can bring them together.
func (a *App) Commit() (*Committed, error) {
	c := a.pending
	if c == nil {
		return nil, errors.New("app: nothing to commit")
	}
	if a.store != nil {
		if err := a.store.Commit(c); err != nil {
			return nil, fmt.Errorf("app: commit block %d: %w", c.Block.Height, err)
		}
	}
	a.pending = nil
	a.height, a.time, a.appHash = c.Block.Height, c.Block.Time, c.AppHash
	a.sendersMu.Lock()
	for _, raw := range c.Block.Txs {
		delete(a.senders, TxHash(raw))
	}
	a.sendersMu.Unlock()
	return c, nil
}

// CommitGenesis persists block 0 after New.
func (a *App) CommitGenesis() error {
	_, err := a.Commit()
	return err
}

func hexHash(h [32]byte) string { return fmt.Sprintf("0x%x", h[:]) }

// HeightKey encodes a height for store keys (big-endian, so keys sort by
// height).
func HeightKey(h uint64) []byte { return binary.BigEndian.AppendUint64(nil, h) }

// TxHash is a transaction's id: keccak256 of its signed encoding (equal to
// tx.Signed.Hash for a canonical transaction).
func TxHash(raw []byte) [32]byte { return keys.Keccak256(raw) }
