// Package abciapp runs restake's block pipeline as an ABCI 2.0 application
// for CometBFT v0.38: the same node, application and store as the embedded
// mode, with blocks ordered by CometBFT instead of the local producer.
//
//   - CheckTx admits a transaction to CometBFT's mempool: size, encoding,
//     chain id, signature, and a nonce that follows the sender's committed
//     nonce and what the mempool already holds. It changes no ledger state.
//   - PrepareProposal takes the mempool's transactions in order, up to the
//     block's byte and count limits, and drops any that no longer fit the
//     nonce sequence. ProcessProposal rejects a block holding a transaction
//     that is malformed, too large, for another chain, badly signed or out of
//     nonce order: such a block could only come from a faulty proposer.
//   - FinalizeBlock executes the decided block (node.Finalize) and returns
//     its results and app hash; it persists nothing. Commit persists it
//     (node.CommitBlock) in one synced Pebble batch.
//   - Info reports the last committed height and app hash, from which
//     CometBFT's handshake replays any blocks the application missed in a
//     crash. InitChain checks that CometBFT's genesis carries the same
//     restake genesis the node started from.
//   - Query serves state records with their Merkle proofs.
//
// Validity of a transaction (ProcessProposal) is a function of the block's
// transactions and the committed state only, so every correct validator
// reaches the same verdict.
package abciapp

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
)

// Codespace tags restake's result codes in ABCI responses. A failed
// transaction's Log is the stable error name and its Info the hint.
const Codespace = "restake"

// ProofOpType names the proof in a Query response's ProofOps: the JSON
// form of a statetree.Proof, checked with statetree.Verify against the app
// hash of the response's height.
const ProofOpType = "restake/statetree/v1"

// App is the ABCI application.
type App struct {
	abci.BaseApplication

	node        *node.Node
	genesis     []byte // the restake genesis the node started from, compact JSON
	maxBlockTxs int
	version     string

	mu      sync.Mutex
	next    map[ledger.Address]uint64 // the mempool's next nonce per sender with transactions in it
	pending map[[32]byte]struct{}     // transactions in the mempool
}

var _ abci.Application = (*App)(nil)

// New returns the application over a node. genesis is the restake genesis
// document the node was started from; CometBFT's genesis must carry the
// same one as its app_state. A block holds at most maxBlockTxs
// transactions.
func New(n *node.Node, genesis []byte, maxBlockTxs int, version string) (*App, error) {
	g, err := compactGenesis(genesis)
	if err != nil {
		return nil, err
	}
	return &App{node: n, genesis: g, maxBlockTxs: maxBlockTxs, version: version,
		next: map[ledger.Address]uint64{}, pending: map[[32]byte]struct{}{}}, nil
}

// compactGenesis normalises a genesis document, so that two files with
// the same content compare equal whatever their layout.
func compactGenesis(doc []byte) ([]byte, error) {
	g, err := app.ParseGenesis(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(g)
}

// Info reports the last committed block. CometBFT's handshake replays
// every stored block above it.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	var height uint64
	var hash [32]byte
	a.node.Read(func(ap *app.App) { height, hash = ap.Height(), ap.AppHash() })
	res := &abci.ResponseInfo{Data: "restake", Version: a.version, AppVersion: 1,
		LastBlockHeight: int64(height)}
	if height > 0 {
		res.LastBlockAppHash = hash[:]
	}
	return res, nil
}

// InitChain checks CometBFT's genesis against the node's (chain id, start
// time, restake genesis as app_state) and returns the genesis app hash. It
// runs whenever the application is at height 0, so it only reads.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var chainID string
	var genesisTime uint64
	var hash [32]byte
	a.node.Read(func(ap *app.App) { chainID, genesisTime, hash = ap.ChainID(), ap.Time(), ap.AppHash() })
	if req.ChainId != chainID {
		return nil, fmt.Errorf("abciapp: CometBFT's chain id %q is not restake's %q", req.ChainId, chainID)
	}
	if req.InitialHeight > 1 {
		return nil, fmt.Errorf("abciapp: initial height %d: restake chains start at 1", req.InitialHeight)
	}
	if t := uint64(req.Time.Unix()); t < genesisTime {
		return nil, fmt.Errorf("abciapp: CometBFT's genesis time %d is before restake's %d", t, genesisTime)
	}
	got, err := compactGenesis(req.AppStateBytes)
	if err != nil {
		return nil, fmt.Errorf("abciapp: CometBFT's app_state is not a restake genesis: %w", err)
	}
	if !bytes.Equal(got, a.genesis) {
		return nil, errors.New("abciapp: CometBFT's app_state differs from the node's genesis.json")
	}
	return &abci.ResponseInitChain{AppHash: hash[:]}, nil
}

// CheckTx admits a transaction to the mempool. New transactions and
// rechecks after each commit go through the same checks; a recheck that
// fails evicts the transaction.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	ap := a.node.App()
	c, lerr := ap.CheckTx(req.Tx)
	if lerr == nil {
		committed := a.node.CommittedNonce(c.Sender)
		a.mu.Lock()
		next := max(a.next[c.Sender], committed)
		switch {
		case c.Tx.Tx.Nonce < next:
			lerr = ledger.ErrNonceTooLow
		case c.Tx.Tx.Nonce > next:
			lerr = ledger.ErrNonceTooHigh
		default:
			a.next[c.Sender] = next + 1
			a.pending[c.Hash] = struct{}{}
		}
		a.mu.Unlock()
	}
	if lerr != nil {
		if req.Type == abci.CheckTxType_Recheck {
			ap.Forget(app.TxHash(req.Tx))
		}
		return &abci.ResponseCheckTx{Code: lerr.Code, Log: lerr.Name, Info: lerr.Hint, Codespace: Codespace}, nil
	}
	ap.Admit(c)
	return &abci.ResponseCheckTx{Code: 0, GasWanted: 1}, nil
}

// NextNonce is the nonce a sender's next transaction must carry: past the
// committed nonce and past what the mempool holds.
func (a *App) NextNonce(sender ledger.Address, committed uint64) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return max(a.next[sender], committed)
}

// Has reports whether a transaction is in the mempool (as of its last
// check or recheck).
func (a *App) Has(hash [32]byte) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.pending[hash]
	return ok
}

// sequence checks a block's transactions in order against the committed
// state: each must pass CheckTx's stateless checks and carry its sender's
// next nonce, counting the earlier ones. It returns, per transaction, nil
// or why it is invalid.
func (a *App) sequence(txs [][]byte) []*ledger.Error {
	ap := a.node.App()
	out := make([]*ledger.Error, len(txs))
	next := map[ledger.Address]uint64{}
	for i, raw := range txs {
		c, lerr := ap.CheckTx(raw)
		if lerr != nil {
			out[i] = lerr
			continue
		}
		n, ok := next[c.Sender]
		if !ok {
			n = a.node.CommittedNonce(c.Sender)
		}
		switch {
		case c.Tx.Tx.Nonce < n:
			out[i] = ledger.ErrNonceTooLow
		case c.Tx.Tx.Nonce > n:
			out[i] = ledger.ErrNonceTooHigh
		default:
			next[c.Sender] = n + 1
		}
	}
	return out
}

// PrepareProposal builds this validator's block from the mempool's
// transactions, in order: valid ones only, at most maxBlockTxs and
// req.MaxTxBytes in all.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	txs := req.Txs
	if len(txs) > a.maxBlockTxs*2 {
		txs = txs[:a.maxBlockTxs*2] // enough to fill a block after dropping some
	}
	verdicts := a.sequence(txs)
	var out [][]byte
	var size int64
	for i, raw := range txs {
		if verdicts[i] != nil {
			continue
		}
		if len(out) == a.maxBlockTxs || size+int64(len(raw)) > req.MaxTxBytes {
			break
		}
		out = append(out, raw)
		size += int64(len(raw))
	}
	return &abci.ResponsePrepareProposal{Txs: out}, nil
}

// ProcessProposal accepts a proposed block only if every transaction in it
// is valid (see sequence) and it holds at most maxBlockTxs.
func (a *App) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	if len(req.Txs) > a.maxBlockTxs {
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
	}
	for _, v := range a.sequence(req.Txs) {
		if v != nil {
			return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
		}
	}
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// FinalizeBlock executes the decided block and returns its results and app
// hash without persisting them. An error (a broken invariant, a block out
// of order) stops CometBFT: a validator halts rather than commit a state
// it cannot vouch for.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	if req.Height < 1 {
		return nil, fmt.Errorf("abciapp: block height %d", req.Height)
	}
	b := app.Block{Height: uint64(req.Height), Time: uint64(req.Time.Unix()), Txs: req.Txs}
	res, err := a.node.Finalize(b)
	if err != nil {
		return nil, err
	}
	out := &abci.ResponseFinalizeBlock{TxResults: make([]*abci.ExecTxResult, len(res.Txs))}
	for i, r := range res.Txs {
		x := &abci.ExecTxResult{Code: r.Code, Data: r.Result, Info: r.Op, Events: events(r.Events)}
		if r.Code != 0 {
			x.Log, x.Info, x.Codespace = r.Error, r.Hint, Codespace
		}
		out.TxResults[i] = x
	}
	out.Events = events(res.Events)
	hash, err := parseHash(res.AppHash)
	if err != nil {
		return nil, err
	}
	out.AppHash = hash
	return out, nil
}

// Commit persists the finalized block. CometBFT then rechecks the mempool,
// which rebuilds the nonce view from the new committed state.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	if _, err := a.node.CommitBlock(); err != nil {
		return nil, err
	}
	a.mu.Lock()
	clear(a.next)
	clear(a.pending)
	a.mu.Unlock()
	return &abci.ResponseCommit{}, nil
}

// Query serves "/record" (Data: a state record's key; with Prove, its
// Merkle proof against the app hash of the returned height) and "/status".
// Only the latest committed height is served: Height 0 or that height.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	res := &abci.ResponseQuery{Codespace: Codespace}
	a.node.Read(func(ap *app.App) {
		res.Height = int64(ap.Height())
		if req.Height != 0 && req.Height != res.Height {
			res.Code, res.Log = 1, fmt.Sprintf("only the latest height (%d) is served", res.Height)
			return
		}
		switch req.Path {
		case "/status":
			hash := ap.AppHash()
			res.Value, _ = json.Marshal(map[string]any{"chain_id": ap.ChainID(), "height": ap.Height(),
				"app_hash": fmt.Sprintf("0x%x", hash[:])})
		case "/record":
			res.Key = req.Data
			if v, ok := ap.Tree().Get(req.Data); ok {
				res.Value = v
			}
			if req.Prove {
				p, err := ap.Tree().Prove(req.Data)
				if err != nil {
					res.Code, res.Log = 1, err.Error()
					return
				}
				data, _ := json.Marshal(p)
				res.ProofOps = &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{{Type: ProofOpType, Key: req.Data, Data: data}}}
			}
		default:
			res.Code, res.Log = 1, fmt.Sprintf("unknown path %q: use /record or /status", req.Path)
		}
	})
	return res, nil
}

// events turns ledger events into ABCI events: the type is the event's
// kind, the attributes its other JSON fields.
func events(in []ledger.Event) []abci.Event {
	if len(in) == 0 {
		return nil
	}
	out := make([]abci.Event, 0, len(in))
	for _, e := range in {
		b, err := json.Marshal(e)
		if err != nil {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(b, &fields) != nil {
			continue
		}
		kind, _ := fields["kind"].(string)
		ev := abci.Event{Type: kind}
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			if k == "kind" {
				continue
			}
			v, ok := fields[k].(string)
			if !ok {
				vb, _ := json.Marshal(fields[k])
				v = string(vb)
			}
			ev.Attributes = append(ev.Attributes, abci.EventAttribute{Key: k, Value: v, Index: k == "account"})
		}
		out = append(out, ev)
	}
	return out
}

// parseHash reads a BlockResult's "0x…" app hash.
func parseHash(s string) ([]byte, error) {
	h, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(h) != 32 {
		return nil, fmt.Errorf("abciapp: bad app hash %q", s)
	}
	return h, nil
}
