// Package config reads and writes a node's home directory: config.toml,
// genesis.json, keys/ (keystore v3 files) and data/ (the Pebble store).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/restake/restake/internal/risk"
)

// Config is config.toml. Every field has a documented default.
type Config struct {
	Node      NodeConfig      `toml:"node" comment:"The embedded node's block producer and mempool."`
	API       APIConfig       `toml:"api" comment:"The HTTP API (JSON, OpenAPI at /openapi.json, docs at /docs)."`
	Client    ClientConfig    `toml:"client" comment:"Defaults for restake tx and restake query."`
	Consensus ConsensusConfig `toml:"consensus" comment:"Who orders blocks: this process alone (embedded) or a CometBFT network of validators."`
	Risk      RiskConfig      `toml:"risk" comment:"The risk report the node recomputes in the background (GET /v1/risk; docs/risk.md)."`
}

// RiskConfig configures the node's risk report. Fractions are decimal
// strings ("0.02") or fractions ("1/50").
type RiskConfig struct {
	EveryBlocks           uint64            `toml:"every_blocks" comment:"Recompute the report after every N blocks (0: never)."`
	Haircuts              map[string]string `toml:"haircuts" comment:"Per token, the fraction of its value not counted as security (depeg and liquidity risk)."`
	DefaultHaircut        string            `toml:"default_haircut" comment:"The haircut of tokens not listed in haircuts."`
	Shocks                int               `toml:"shocks" comment:"Shock cascades per report."`
	Psi                   []string          `toml:"psi" comment:"Shock sizes (fractions of all stake) for the worst-loss R_psi."`
	MonteCarloTrials      int               `toml:"monte_carlo_trials" comment:"Trials of the Monte Carlo of service failures per report (0: none)."`
	MonteCarloProbability string            `toml:"monte_carlo_probability" comment:"Each service's failure probability per trial."`
	MonteCarloSlash       string            `toml:"monte_carlo_slash" comment:"The fraction of every allocation to a failing service that is slashed."`
	MonteCarloSeed        uint64            `toml:"monte_carlo_seed" comment:"The Monte Carlo's seed: the same seed and state give the same report."`
}

// Consensus engines.
const (
	EngineEmbedded = "embedded"
	EngineCometBFT = "cometbft"
)

// ConsensusConfig chooses the consensus engine and configures CometBFT.
// CometBFT's own files (keys, its genesis, its block store) live under
// home/cometbft. Its block time is node.block_interval (timeout_commit),
// its mempool holds node.mempool_size transactions and a block at most
// node.max_block_txs.
type ConsensusConfig struct {
	Engine          string   `toml:"engine" comment:"embedded or cometbft (restake node --consensus overrides it)."`
	Moniker         string   `toml:"moniker" comment:"This node's name among CometBFT peers."`
	P2PListen       string   `toml:"p2p_listen" comment:"CometBFT peer-to-peer address."`
	RPCListen       string   `toml:"rpc_listen" comment:"CometBFT's own RPC (status, blocks, abci_query); empty turns it off."`
	PersistentPeers []string `toml:"persistent_peers" comment:"Peers to keep connected to, as node-id@host:port."`
	LogLevel        string   `toml:"log_level" comment:"CometBFT log level: error, info or debug."`
	TimeoutPropose  Duration `toml:"timeout_propose" comment:"How long validators wait for a proposal before moving to the next round (a proposer that is down costs this much)."`
}

// NodeConfig configures block production.
type NodeConfig struct {
	BlockInterval       Duration `toml:"block_interval" comment:"How often a block is produced."`
	MaxBlockTxs         int      `toml:"max_block_txs" comment:"A block is cut early when this many transactions wait."`
	MempoolSize         int      `toml:"mempool_size" comment:"Pending transactions held at most; more are refused with MempoolFull."`
	EmptyBlocks         bool     `toml:"empty_blocks" comment:"Produce blocks with no transactions, so time and reward accrual move on an idle chain."`
	InvariantCheckEvery uint64   `toml:"invariant_check_every" comment:"Run the full ledger invariant check every N blocks (0: never; cheap checks always run)."`
}

// APIConfig configures the HTTP server.
type APIConfig struct {
	Listen          string   `toml:"listen" comment:"Address to listen on. Keep 127.0.0.1 unless a proxy in front adds TLS and access control."`
	MaxBodyBytes    int64    `toml:"max_body_bytes" comment:"Largest request body accepted."`
	RequestTimeout  Duration `toml:"request_timeout" comment:"Longest a request (including ?wait=true) may take."`
	CORSOrigins     []string `toml:"cors_origins" comment:"Origins allowed by CORS; empty keeps CORS off."`
	PriceStaleAfter Duration `toml:"price_stale_after" comment:"A price older than this (before the last block) is reported stale."`
}

// ClientConfig configures the CLI.
type ClientConfig struct {
	Node string `toml:"node" comment:"The node the CLI talks to."`
	Key  string `toml:"key" comment:"The key restake tx signs with unless --key is given."`
}

// Duration is a time.Duration written as "500ms" in TOML.
type Duration struct{ time.Duration }

// MarshalText writes the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "500ms", "15s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	d.Duration = v
	return nil
}

// DefaultListen is the API's default address: loopback only.
const DefaultListen = "127.0.0.1:8080"

// Default returns the defaults.
func Default() Config {
	return Config{
		Node: NodeConfig{BlockInterval: Duration{500 * time.Millisecond}, MaxBlockTxs: 5000, MempoolSize: 100_000,
			EmptyBlocks: true},
		API: APIConfig{Listen: DefaultListen, MaxBodyBytes: 1 << 20, RequestTimeout: Duration{15 * time.Second},
			CORSOrigins: []string{}, PriceStaleAfter: Duration{time.Hour}},
		Client: ClientConfig{Node: "http://" + DefaultListen, Key: "default"},
		Risk: RiskConfig{EveryBlocks: 100, Haircuts: map[string]string{"ETH": "0", "stETH": "0.02", "wstETH": "0.02",
			"rETH": "0.02", "cbETH": "0.02"}, DefaultHaircut: "0.1", Shocks: 100, Psi: []string{"0.01", "0.05", "0.1"},
			MonteCarloTrials: 1000, MonteCarloProbability: "0.01", MonteCarloSlash: "0.25", MonteCarloSeed: 1},
		Consensus: ConsensusConfig{Engine: EngineEmbedded, Moniker: "restake", P2PListen: "tcp://127.0.0.1:26656",
			RPCListen: "tcp://127.0.0.1:26657", PersistentPeers: []string{}, LogLevel: "error",
			TimeoutPropose: Duration{3 * time.Second}},
	}
}

// Home is a node's home directory.
type Home string

// ConfigPath returns home/config.toml.
func (h Home) ConfigPath() string { return filepath.Join(string(h), "config.toml") }

// GenesisPath returns home/genesis.json.
func (h Home) GenesisPath() string { return filepath.Join(string(h), "genesis.json") }

// KeysDir returns home/keys.
func (h Home) KeysDir() string { return filepath.Join(string(h), "keys") }

// DataDir returns home/data (the Pebble store).
func (h Home) DataDir() string { return filepath.Join(string(h), "data") }

// CometBFTDir returns home/cometbft: CometBFT's config/ (its keys and
// genesis) and data/ (its block store, state and write-ahead log).
func (h Home) CometBFTDir() string { return filepath.Join(string(h), "cometbft") }

// DefaultHome is $RESTAKE_HOME, or ~/.restake.
func DefaultHome() Home {
	if h := os.Getenv("RESTAKE_HOME"); h != "" {
		return Home(h)
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		return Home(".restake")
	}
	return Home(filepath.Join(dir, ".restake"))
}

// Load reads config.toml, filling defaults for missing fields; a missing
// file gives the defaults.
func Load(h Home) (Config, error) {
	c := Default()
	data, err := os.ReadFile(h.ConfigPath())
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", h.ConfigPath(), err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %w", h.ConfigPath(), err)
	}
	return c, nil
}

// Validate refuses values no node can run with. Missing fields take their
// defaults, so a zero written in the file is a mistake, not a request for
// the default.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, field, want string) {
		if !ok {
			errs = append(errs, fmt.Errorf("%s must be %s", field, want))
		}
	}
	check(c.Node.BlockInterval.Duration >= time.Millisecond, "node.block_interval", "at least 1ms")
	check(c.Node.MaxBlockTxs >= 1, "node.max_block_txs", "at least 1")
	check(c.Node.MempoolSize >= c.Node.MaxBlockTxs, "node.mempool_size", "at least node.max_block_txs")
	check(c.API.Listen != "", "api.listen", "an address such as 127.0.0.1:8080")
	check(c.API.MaxBodyBytes >= 1024, "api.max_body_bytes", "at least 1024")
	check(c.API.RequestTimeout.Duration > 0, "api.request_timeout", "positive")
	check(c.API.PriceStaleAfter.Duration > 0, "api.price_stale_after", "positive")
	check(c.Client.Node != "", "client.node", "the node's URL, such as http://127.0.0.1:8080")
	check(c.Consensus.Engine == EngineEmbedded || c.Consensus.Engine == EngineCometBFT, "consensus.engine",
		"embedded or cometbft")
	if c.Consensus.Engine == EngineCometBFT {
		// Every block changes the app hash (the state records its height and
		// time), and CometBFT follows a block that changed it with another,
		// so it would make a block every interval anyway.
		check(c.Node.EmptyBlocks, "node.empty_blocks", "true with consensus.engine = cometbft")
		check(c.Consensus.P2PListen != "", "consensus.p2p_listen", "an address such as tcp://127.0.0.1:26656")
		check(slices.Contains([]string{"error", "info", "debug"}, c.Consensus.LogLevel), "consensus.log_level",
			"error, info or debug")
		check(c.Consensus.TimeoutPropose.Duration >= 100*time.Millisecond, "consensus.timeout_propose", "at least 100ms")
	}
	fraction := func(field, s string) {
		r, err := risk.ParseNumber(s)
		if err != nil || r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
			errs = append(errs, fmt.Errorf("%s must be a fraction in [0, 1] such as \"0.02\" or \"1/50\", not %q", field, s))
		}
	}
	for _, t := range slices.Sorted(maps.Keys(c.Risk.Haircuts)) {
		fraction("risk.haircuts."+t, c.Risk.Haircuts[t])
	}
	fraction("risk.default_haircut", c.Risk.DefaultHaircut)
	for i, p := range c.Risk.Psi {
		fraction(fmt.Sprintf("risk.psi[%d]", i), p)
	}
	fraction("risk.monte_carlo_probability", c.Risk.MonteCarloProbability)
	fraction("risk.monte_carlo_slash", c.Risk.MonteCarloSlash)
	check(c.Risk.Shocks >= 0 && c.Risk.Shocks <= 10_000, "risk.shocks", "between 0 and 10000")
	check(c.Risk.MonteCarloTrials >= 0 && c.Risk.MonteCarloTrials <= 1_000_000, "risk.monte_carlo_trials",
		"between 0 and 1000000")
	return errors.Join(errs...)
}

// Save writes config.toml.
func Save(h Home, c Config) error {
	data, err := toml.Marshal(c)
	if err != nil {
		return err
	}
	header := []byte("# restake node configuration. Durations are like \"500ms\" or \"15s\".\n\n")
	return os.WriteFile(h.ConfigPath(), append(header, data...), 0o644)
}
