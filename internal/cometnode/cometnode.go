// Package cometnode runs CometBFT v0.38 in the node's process, over the
// ABCI application of internal/abciapp: a restake node in a replicated BFT
// network. It also writes what a network needs to start: validator and
// node keys, and a CometBFT genesis that carries the restake genesis as its
// app_state.
//
// Layout under a restake home:
//
//	cometbft/config/priv_validator_key.json   the validator's consensus key (ed25519)
//	cometbft/config/node_key.json             the peer-to-peer identity
//	cometbft/config/genesis.json              validators, consensus params, app_state
//	cometbft/data/                            CometBFT's blocks, state, WAL, signing state
//
// CometBFT's settings come from restake's config.toml at every start (see
// Settings); there is no second config file to keep in step.
package cometnode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/mempool"
	cmtnode "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/restake/restake/internal/abciapp"
	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
)

// Files of a home's CometBFT directory.
func configDir(h config.Home) string { return filepath.Join(h.CometBFTDir(), "config") }
func dataDir(h config.Home) string   { return filepath.Join(h.CometBFTDir(), "data") }
func validatorKeyFile(h config.Home) string {
	return filepath.Join(configDir(h), "priv_validator_key.json")
}
func validatorStateFile(h config.Home) string {
	return filepath.Join(dataDir(h), "priv_validator_state.json")
}
func nodeKeyFile(h config.Home) string { return filepath.Join(configDir(h), "node_key.json") }

// GenesisFile is CometBFT's genesis in a home.
func GenesisFile(h config.Home) string { return filepath.Join(configDir(h), "genesis.json") }

// Identity is a validator's public identity: what other nodes need to list
// it in a genesis and to dial it.
type Identity struct {
	NodeID    string                    // peer-to-peer id (hex of the node key's address)
	Validator cmttypes.GenesisValidator // consensus key, address, power 10 and the moniker
}

// InitKeys creates the home's validator and node keys if they are missing
// and returns its identity. Existing keys are kept.
func InitKeys(h config.Home, moniker string) (Identity, error) {
	for _, d := range []string{configDir(h), dataDir(h)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return Identity{}, err
		}
	}
	pv := privval.LoadOrGenFilePV(validatorKeyFile(h), validatorStateFile(h))
	nk, err := p2p.LoadOrGenNodeKey(nodeKeyFile(h))
	if err != nil {
		return Identity{}, fmt.Errorf("cometbft node key: %w", err)
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		return Identity{}, err
	}
	return Identity{NodeID: string(nk.ID()),
		Validator: cmttypes.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: moniker}}, nil
}

// WriteGenesis writes CometBFT's genesis for a restake genesis document and
// a validator set, all with the same voting power. The chain id and
// genesis time are the restake genesis's, so the first block's time is the
// restake genesis time.
func WriteGenesis(h config.Home, restakeGenesis []byte, validators []Identity) error {
	g, err := app.ParseGenesis(restakeGenesis)
	if err != nil {
		return err
	}
	if len(validators) == 0 {
		return errors.New("cometbft genesis: no validators")
	}
	doc := &cmttypes.GenesisDoc{ChainID: g.ChainID, GenesisTime: time.Unix(int64(g.GenesisTime), 0).UTC(),
		InitialHeight: 1, ConsensusParams: cmttypes.DefaultConsensusParams(), AppState: json.RawMessage(restakeGenesis)}
	for _, v := range validators {
		doc.Validators = append(doc.Validators, v.Validator)
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return fmt.Errorf("cometbft genesis: %w", err)
	}
	if err := os.MkdirAll(configDir(h), 0o700); err != nil {
		return err
	}
	return doc.SaveAs(GenesisFile(h))
}

// Settings maps restake's config onto CometBFT's. Besides the mapped
// knobs: peers on one host are allowed (addr_book_strict off, duplicate IPs
// allowed), CometBFT's transaction indexer is off (restake's store indexes
// transactions), its Prometheus endpoint is off (restake's /metrics
// serves the node), and mempool rechecks stay on, as the nonce view of
// CheckTx relies on them.
func Settings(h config.Home, c config.Config) *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(h.CometBFTDir())
	cfg.Moniker = c.Consensus.Moniker
	cfg.LogLevel = c.Consensus.LogLevel
	cfg.P2P.ListenAddress = c.Consensus.P2PListen
	cfg.P2P.PersistentPeers = strings.Join(c.Consensus.PersistentPeers, ",")
	cfg.P2P.AddrBookStrict = false
	cfg.P2P.AllowDuplicateIP = true
	cfg.RPC.ListenAddress = c.Consensus.RPCListen
	cfg.Consensus.TimeoutCommit = c.Node.BlockInterval.Duration
	cfg.Consensus.TimeoutPropose = c.Consensus.TimeoutPropose.Duration
	cfg.Consensus.CreateEmptyBlocks = true
	cfg.Mempool.Size = c.Node.MempoolSize
	cfg.Mempool.MaxTxsBytes = int64(c.Node.MempoolSize) * 4096
	cfg.Mempool.CacheSize = max(c.Node.MempoolSize, 10_000)
	cfg.Mempool.Recheck = true
	cfg.TxIndex.Indexer = "null"
	cfg.Instrumentation.Prometheus = false
	return cfg
}

// Engine is a running in-process CometBFT node. It is the node's
// node.Consensus: Submit goes into CometBFT's mempool, which gossips it.
type Engine struct {
	cmt  *cmtnode.Node
	abci *abciapp.App
	max  int
}

var _ node.Consensus = (*Engine)(nil)

// Start attaches a CometBFT node to n and starts it: the handshake replays
// any blocks n's application is missing, then it joins consensus.
// genesis is the restake genesis document n was started from; CometBFT's
// genesis (GenesisFile) must carry the same one. logs receives CometBFT's
// log at the configured level.
func Start(h config.Home, c config.Config, n *node.Node, genesis []byte, version string, logs io.Writer) (*Engine, error) {
	cfg := Settings(h, c)
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("cometbft config: %w", err)
	}
	if _, err := os.Stat(GenesisFile(h)); err != nil {
		return nil, fmt.Errorf("no CometBFT genesis at %s: run restake node --consensus cometbft once to create "+
			"a single-validator network, or restake localnet init", GenesisFile(h))
	}
	if _, err := os.Stat(validatorKeyFile(h)); err != nil {
		return nil, fmt.Errorf("no validator key at %s", validatorKeyFile(h))
	}
	a, err := abciapp.New(n, genesis, c.Node.MaxBlockTxs, version)
	if err != nil {
		return nil, err
	}
	nk, err := p2p.LoadNodeKey(nodeKeyFile(h))
	if err != nil {
		return nil, fmt.Errorf("cometbft node key: %w", err)
	}
	logger, err := newLogger(logs, c.Consensus.LogLevel)
	if err != nil {
		return nil, err
	}
	e := &Engine{abci: a, max: c.Node.MempoolSize}
	n.Attach(e)
	pv := privval.LoadFilePV(validatorKeyFile(h), validatorStateFile(h))
	cmt, err := cmtnode.NewNode(cfg, pv, nk, proxy.NewConnSyncLocalClientCreator(a),
		cmtnode.DefaultGenesisDocProviderFunc(cfg), cmtcfg.DefaultDBProvider,
		cmtnode.DefaultMetricsProvider(cfg.Instrumentation), logger)
	if err != nil {
		return nil, fmt.Errorf("cometbft: %w", err)
	}
	if err := cmt.Start(); err != nil {
		return nil, fmt.Errorf("cometbft start: %w", err)
	}
	e.cmt = cmt
	return e, nil
}

func newLogger(w io.Writer, level string) (cmtlog.Logger, error) {
	if w == nil {
		w = io.Discard
	}
	opt, err := cmtlog.AllowLevel(level)
	if err != nil {
		return nil, err
	}
	return cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(w)), opt), nil
}

// Stop stops CometBFT and waits for it: after Stop nothing calls the
// application any more.
func (e *Engine) Stop() error {
	if e.cmt == nil || !e.cmt.IsRunning() {
		return nil
	}
	if err := e.cmt.Stop(); err != nil {
		return err
	}
	e.cmt.Wait()
	return nil
}

// NodeID is this node's peer-to-peer id.
func (e *Engine) NodeID() string { return string(e.cmt.NodeInfo().ID()) }

// Height is CometBFT's last committed height (its block store's).
func (e *Engine) Height() int64 { return e.cmt.BlockStore().Height() }

// Peers is the number of connected peers.
func (e *Engine) Peers() int { return e.cmt.Switch().Peers().Size() }

// Broadcast puts a transaction into CometBFT's mempool, which runs the
// application's CheckTx and gossips it to the other validators.
func (e *Engine) Broadcast(c app.Checked) *ledger.Error {
	if e.cmt == nil {
		return ledger.ErrMempoolFull
	}
	mp := e.cmt.Mempool()
	// CometBFT drops a transaction that passed CheckTx when the mempool
	// filled in the meantime, without telling the caller; refusing here
	// first keeps that from happening short of a race.
	if mp.Size() >= e.max {
		return ledger.ErrMempoolFull
	}
	res := make(chan *abci.ResponseCheckTx, 1)
	err := mp.CheckTx(c.Raw, func(r *abci.ResponseCheckTx) { res <- r }, mempool.TxInfo{})
	switch {
	case err == nil:
	case errors.Is(err, mempool.ErrTxInCache):
		return ledger.ErrTxAlreadyKnown
	case errors.As(err, new(mempool.ErrTxTooLarge)):
		return ledger.ErrTxTooLarge
	default:
		return ledger.ErrMempoolFull
	}
	select {
	case r := <-res:
		if r.Code == 0 {
			return nil
		}
		if lerr := ledger.ErrorByName(r.Log); lerr != nil {
			return lerr
		}
		return ledger.ErrTxMalformed
	case <-time.After(30 * time.Second):
		return ledger.ErrMempoolFull
	}
}

// NextNonce implements node.Consensus.
func (e *Engine) NextNonce(sender ledger.Address, committed uint64) uint64 {
	return e.abci.NextNonce(sender, committed)
}

// Has implements node.Consensus.
func (e *Engine) Has(hash [32]byte) bool { return e.abci.Has(hash) }

// Size implements node.Consensus.
func (e *Engine) Size() int {
	if e.cmt == nil {
		return 0
	}
	return e.cmt.Mempool().Size()
}
