package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/tx"
)

// Genesis is the chain's first state: its id, parameters, authorities and
// initial collateral. It is a JSON file (restake init writes one).
type Genesis struct {
	ChainID     string        `json:"chain_id"`
	GenesisTime uint64        `json:"genesis_time"` // unix seconds of block 0
	Params      GenesisParams `json:"params"`
	// Admins whitelist strategies and may mint (a devnet faucet).
	Admins []string `json:"admins"`
	// BeaconOracles report native-ETH beacon balances.
	BeaconOracles []string `json:"beacon_oracles"`
	// PriceOracles report USD prices.
	PriceOracles []string `json:"price_oracles"`
	// Treasury receives protocol fees.
	Treasury string `json:"treasury"`
	// Strategies are whitelisted at genesis.
	Strategies []GenesisStrategy `json:"strategies"`
	// Balances are credited at genesis.
	Balances []GenesisBalance `json:"balances"`
	// Ops are operations applied at genesis without signatures, each from
	// its named sender, in order (a demo network's initial positions).
	Ops []GenesisOp `json:"ops,omitempty"`
	// Setup, when set, runs after Ops with authorisation still lifted: a
	// program that builds a large initial state (the demo network) without
	// writing it out as JSON. It is not part of the document.
	Setup func(l *ledger.Ledger) error `json:"-"`
}

// GenesisParams are ledger.Params in JSON (zero means the default).
type GenesisParams struct {
	WithdrawalDelayBlocks              uint64 `json:"withdrawal_delay_blocks,omitempty"`
	DeallocationDelayBlocks            uint64 `json:"deallocation_delay_blocks,omitempty"`
	AllocationConfigurationDelayBlocks uint64 `json:"allocation_configuration_delay_blocks,omitempty"`
	ProtocolFeeBips                    uint32 `json:"protocol_fee_bips,omitempty"`
	DefaultOperatorSplitBips           uint32 `json:"default_operator_split_bips,omitempty"`
	CalculationIntervalSeconds         uint64 `json:"calculation_interval_seconds,omitempty"`
	MaxRewardsDurationSeconds          uint64 `json:"max_rewards_duration_seconds,omitempty"`
	MaxRetroactiveLengthSeconds        uint64 `json:"max_retroactive_length_seconds,omitempty"`
	MaxFutureLengthSeconds             uint64 `json:"max_future_length_seconds,omitempty"`
	GenesisRewardsTimestamp            uint64 `json:"genesis_rewards_timestamp,omitempty"`
	ActivationDelaySeconds             uint64 `json:"activation_delay_seconds,omitempty"`
}

// GenesisStrategy whitelists a strategy over a token.
type GenesisStrategy struct {
	Name  string `json:"name"`
	Token string `json:"token"`
}

// GenesisBalance credits an account.
type GenesisBalance struct {
	Account string `json:"account"`
	Token   string `json:"token"`
	Amount  string `json:"amount"`
}

// GenesisOp is an operation in tx's JSON form, applied at genesis.
type GenesisOp struct {
	Sender string          `json:"sender"`
	Op     string          `json:"op"`
	Fields json.RawMessage `json:"fields"`
}

// LedgerParams returns the parameters with defaults filled in.
func (g GenesisParams) LedgerParams() ledger.Params {
	p := ledger.DefaultParams()
	set := func(dst *uint64, v uint64) {
		if v != 0 {
			*dst = v
		}
	}
	set(&p.WithdrawalDelayBlocks, g.WithdrawalDelayBlocks)
	set(&p.DeallocationDelayBlocks, g.DeallocationDelayBlocks)
	set(&p.AllocationConfigurationDelayBlocks, g.AllocationConfigurationDelayBlocks)
	p.SlasherConfigurationDelayBlocks = p.AllocationConfigurationDelayBlocks
	if g.ProtocolFeeBips != 0 {
		p.ProtocolFeeBips = g.ProtocolFeeBips
	}
	if g.DefaultOperatorSplitBips != 0 {
		p.DefaultOperatorSplitBips = g.DefaultOperatorSplitBips
	}
	set(&p.CalculationIntervalSeconds, g.CalculationIntervalSeconds)
	set(&p.MaxRewardsDurationSeconds, g.MaxRewardsDurationSeconds)
	set(&p.MaxRetroactiveLengthSeconds, g.MaxRetroactiveLengthSeconds)
	set(&p.MaxFutureLengthSeconds, g.MaxFutureLengthSeconds)
	set(&p.GenesisRewardsTimestamp, g.GenesisRewardsTimestamp)
	set(&p.ActivationDelaySeconds, g.ActivationDelaySeconds)
	return p
}

// ReadGenesis reads and validates a genesis file.
func ReadGenesis(path string) (*Genesis, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseGenesis(data)
}

// ParseGenesis decodes a genesis document, rejecting unknown fields.
func ParseGenesis(data []byte) (*Genesis, error) {
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	if g.ChainID == "" || len(g.ChainID) > 64 {
		return nil, errors.New("genesis: chain_id must be 1 to 64 characters")
	}
	return &g, nil
}

func parseAddrs(field string, in []string) ([]ledger.Address, error) {
	out := make([]ledger.Address, len(in))
	for i, s := range in {
		a, err := ledger.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("genesis: %s[%d]: %w", field, i, err)
		}
		out[i] = a
	}
	return out, nil
}

// Config returns the ledger configuration of a genesis.
func (g *Genesis) Config() (ledger.Config, error) {
	cfg := ledger.Config{Params: g.Params.LedgerParams()}
	var err error
	if cfg.Admins, err = parseAddrs("admins", g.Admins); err != nil {
		return cfg, err
	}
	if cfg.BeaconOracles, err = parseAddrs("beacon_oracles", g.BeaconOracles); err != nil {
		return cfg, err
	}
	if cfg.PriceOracles, err = parseAddrs("price_oracles", g.PriceOracles); err != nil {
		return cfg, err
	}
	if g.Treasury != "" {
		if cfg.Treasury, err = ledger.ParseAddress(g.Treasury); err != nil {
			return cfg, fmt.Errorf("genesis: treasury: %w", err)
		}
	}
	return cfg, nil
}

// Build applies the genesis to a fresh ledger at block 0: strategies and
// balances as the first admin, then the genesis operations from their
// senders. Genesis runs with authorisation lifted; the ledger is sealed
// before it is returned.
func (g *Genesis) Build() (*ledger.Ledger, error) {
	cfg, err := g.Config()
	if err != nil {
		return nil, err
	}
	cfg.Open = true
	l := ledger.New(cfg)
	l.BeginBlock(0, g.GenesisTime)
	var admin ledger.Address
	if len(cfg.Admins) > 0 {
		admin = cfg.Admins[0]
	}
	for i, s := range g.Strategies {
		if _, err := l.Apply(admin, ledger.AddStrategy{Strategy: s.Name, Token: s.Token}); err != nil {
			return nil, fmt.Errorf("genesis: strategies[%d]: %w", i, err)
		}
	}
	for i, b := range g.Balances {
		a, err := ledger.ParseAddress(b.Account)
		if err != nil {
			return nil, fmt.Errorf("genesis: balances[%d]: %w", i, err)
		}
		amount, err := uint256.FromDecimal(b.Amount)
		if err != nil {
			return nil, fmt.Errorf("genesis: balances[%d]: amount: %w", i, err)
		}
		if _, err := l.Apply(admin, ledger.Mint{Account: a, Token: b.Token, Amount: *amount}); err != nil {
			return nil, fmt.Errorf("genesis: balances[%d]: %w", i, err)
		}
	}
	for i, o := range g.Ops {
		sender, err := ledger.ParseAddress(o.Sender)
		if err != nil {
			return nil, fmt.Errorf("genesis: ops[%d]: sender: %w", i, err)
		}
		op, err := tx.OpFromJSON(o.Op, o.Fields)
		if err != nil {
			return nil, fmt.Errorf("genesis: ops[%d]: %w", i, err)
		}
		if _, err := l.Apply(sender, op); err != nil {
			return nil, fmt.Errorf("genesis: ops[%d] (%s): %w", i, o.Op, err)
		}
	}
	if g.Setup != nil {
		if err := g.Setup(l); err != nil {
			return nil, fmt.Errorf("genesis: setup: %w", err)
		}
	}
	l.Seal()
	if err := l.CheckInvariants(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return l, nil
}
