// Package demo generates a realistic restaking network from a seed (the
// state `restake demo` starts a node on) and drives background traffic
// against a running node.
//
// Everything is deterministic: the same Options give the same network, the
// same genesis state hash and the same keys on every machine. Random choices
// come from a PCG source seeded from Options.Seed and use integer arithmetic
// only (see rng.go), so no floating-point rounding can differ between
// architectures. This package is not consensus code (it uses math/rand/v2,
// and Driver.Run a ticker), but the state it builds goes through the
// ledger's own operations, so it obeys every ledger rule.
//
// The distributions (plan.go): staker balances are Pareto-like (alpha
// 1.16), 87% of the ETH is native in whole 32-ETH validators, the rest
// stETH, rETH and two LP tokens; delegations follow Zipf–Mandelbrot
// operator weights (the top 10 of 2,000 operators hold about half);
// services follow Zipf weights and bigger ones attract more operators.
package demo

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
)

// Defaults of the full-scale network: roughly EigenLayer mainnet in 2025.
const (
	// DefaultStakers is the number of stakers.
	DefaultStakers = 200_000
	// DefaultOperators is the number of operators.
	DefaultOperators = 2_000
	// DefaultServices is the number of services (AVSs).
	DefaultServices = 82
	// DefaultTotalETH is the ETH restaked in total, in whole ETH.
	DefaultTotalETH = 8_470_000
	// DefaultChainID is the demo chain's id.
	DefaultChainID = "restake-demo"
	// DefaultGenesisTime (2026-01-01T00:00:00Z) is used when Options leave
	// GenesisTime zero, so that a network built in a test is the same on
	// every run. It is a multiple of the rewards calculation interval.
	DefaultGenesisTime = 1_767_225_600
)

// Limits on Options: they keep every integer computation of the generator
// inside 64 bits.
const (
	stakersMax   = 10_000_000
	operatorsMax = 100_000
	servicesMax  = 10_000
	totalETHMax  = 1_000_000_000
)

// rewardsIntervalSeconds is the rewards calculation interval (7 days).
const rewardsIntervalSeconds = 604_800

// Options says what network to generate. Zero fields take the defaults.
type Options struct {
	Seed      uint64
	Stakers   int    // default 200,000
	Operators int    // default 2,000
	Services  int    // default 82
	TotalETH  uint64 // whole ETH restaked in total, default 8,470,000
	ChainID   string // default "restake-demo"
	// GenesisTime is block 0's time in unix seconds. The caller passes
	// AlignedGenesisTime(now), so that rewards submitted at genesis start at
	// genesis and flow from the first interval; zero means
	// DefaultGenesisTime.
	GenesisTime uint64
}

// Small returns the options of a small network: 200 stakers, 12 operators,
// 5 services and 8,470 ETH. It builds in well under a second, for tests and
// `restake demo --small`.
func Small(seed uint64) Options {
	return Options{Seed: seed, Stakers: 200, Operators: 12, Services: 5, TotalETH: 8_470}
}

// AlignedGenesisTime aligns a unix time down to the rewards calculation
// interval (7 days): a genesis at an interval boundary lets the genesis
// rewards submissions start exactly at genesis, as submissions must start
// on a boundary.
func AlignedGenesisTime(now uint64) uint64 { return now - now%rewardsIntervalSeconds }

// HistoryIntervals is how many rewards calculation intervals a demo network
// has behind it when its node starts: see StartGenesisTime.
const HistoryIntervals = 2

// StartGenesisTime is the genesis time for a demo started at now: the start
// of the current rewards interval, HistoryIntervals intervals back. The
// node's first block then closes those intervals, so claims, claimable
// amounts and a published rewards root exist from the first second instead
// of after up to a week of wall-clock time. The genesis rewards run 4 to 10
// intervals, so they are still streaming afterwards.
func StartGenesisTime(now uint64) uint64 {
	return AlignedGenesisTime(now) - HistoryIntervals*rewardsIntervalSeconds
}

// withDefaults fills zero fields and checks the result.
func (o Options) withDefaults() (Options, error) {
	if o.Stakers == 0 {
		o.Stakers = DefaultStakers
	}
	if o.Operators == 0 {
		o.Operators = DefaultOperators
	}
	if o.Services == 0 {
		o.Services = DefaultServices
	}
	if o.TotalETH == 0 {
		o.TotalETH = DefaultTotalETH
	}
	if o.ChainID == "" {
		o.ChainID = DefaultChainID
	}
	if o.GenesisTime == 0 {
		o.GenesisTime = DefaultGenesisTime
	}
	switch {
	case o.Stakers < 2 || o.Stakers > stakersMax:
		return o, fmt.Errorf("demo: stakers must be 2 to %d, got %d", stakersMax, o.Stakers)
	case o.Operators < 1 || o.Operators > operatorsMax:
		return o, fmt.Errorf("demo: operators must be 1 to %d, got %d", operatorsMax, o.Operators)
	case o.Services < 1 || o.Services > servicesMax:
		return o, fmt.Errorf("demo: services must be 1 to %d, got %d", servicesMax, o.Services)
	case o.TotalETH > totalETHMax:
		return o, fmt.Errorf("demo: total ETH must be at most %d, got %d", totalETHMax, o.TotalETH)
	case len(o.ChainID) > 64:
		return o, errors.New("demo: chain id must be at most 64 bytes")
	case o.GenesisTime < ledger.DefaultParams().GenesisRewardsTimestamp:
		return o, fmt.Errorf("demo: genesis time %d is before the rewards genesis %d", o.GenesisTime,
			ledger.DefaultParams().GenesisRewardsTimestamp)
	}
	return o, nil
}

// Asset indexes. Native ETH is the beacon pseudo-strategy; the others are
// token strategies whose token has the strategy's name.
const (
	assetNative = iota
	assetStETH
	assetRETH
	assetEthLP
	assetLsdLP
	assetCount
)

// assetNames are the strategy names by asset index.
var assetNames = [assetCount]string{ledger.BeaconStrategy, "stETH", "rETH", "ethLP", "lsdLP"}

// tokenAssets are the token strategies (every asset but native ETH).
var tokenAssets = []int{assetStETH, assetRETH, assetEthLP, assetLsdLP}

// holding is one staker's restaked amount of one asset.
type holding struct {
	staker uint32
	asset  uint8
	amount uint256.Int // wei; for native ETH a multiple of 32 ETH
}

// wallet is a token balance minted at genesis but not deposited: liquid
// stETH, rETH or LP tokens the driver's deposits draw on.
type wallet struct {
	staker uint32
	asset  uint8
	amount uint256.Int
}

// queued is a withdrawal queued at genesis: part of one holding.
type queued struct {
	staker uint32
	asset  uint8
	shares uint256.Int
}

// setPlan is one operator set and the operators registered to it.
type setPlan struct {
	service        int
	id             uint32
	strategies     []string // ascending, as slashes and rewards require
	redistributing bool
	members        []int // operator indexes, ascending
}

// allocPlan is one operator's magnitudes in one set, per set strategy.
type allocPlan struct {
	operator   int
	set        int // index into Network.sets
	magnitudes []uint64
}

// rewardPlan is a service's reward token, its genesis budget and its
// genesis submission.
type rewardPlan struct {
	token      string
	budget     uint256.Int // minted to the service
	amount     uint256.Int // submitted at genesis
	strategies []string    // ascending
	weeks      uint64
}

// splitPlan is an operator's custom commission for one service.
type splitPlan struct {
	operator, service int
	bips              uint32
}

// Network is a generated restaking network: who the accounts are and what
// each holds, registers and allocates. Genesis turns it into the chain's
// initial state; Driver keeps traffic flowing on a node running it.
type Network struct {
	opts Options

	admin, oracle, treasury ledger.Address
	stakers                 []ledger.Address // Key("staker", i)
	operators               []ledger.Address // Key("operator", i); index 0 has the largest weight
	services                []ledger.Address // Key("avs", i); index 0 is the largest
	recipients              []ledger.Address // Key("recipient", i): service i's recipient

	stakerOp     []uint32  // each staker's operator
	holdings     []holding // in staker order
	wallets      []wallet
	withdrawals  []queued
	opWeights    []uint64 // delegation weight of each operator
	sets         []setPlan
	serviceSets  [][]int // per service, its set indexes
	opSets       [][]int // per operator, the set indexes it registers for, ascending
	allocs       []allocPlan
	rewards      []rewardPlan // per service
	splits       []splitPlan
	market       market
	assetTotals  [assetCount]uint256.Int
	validators   uint64
	opDelegated  []uint256.Int // per operator: shares delegated at genesis, 1 token = 1 ETH
	rewardTokens []string      // distinct reward tokens, ascending
}

// Generate builds the network the options describe: every account, what
// each staker holds and which operator it delegates to, the services'
// operator sets, the registrations and allocations, and the genesis rewards
// and prices. It fails when an option is out of range, or when the ETH is
// too little to give every native staker a validator and every token
// holder 0.01 ETH. Most of the time of a full-scale network goes into
// deriving its 200,000 key pairs, which is spread over the CPUs.
func Generate(opts Options) (*Network, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Network{opts: opts}
	n.deriveAddresses()
	r := newRNG(opts.Seed, streamNetwork)
	if err := n.planStakers(r); err != nil {
		return nil, err
	}
	n.planServices(r)
	n.planRegistrations(r)
	n.planAllocations(r)
	n.planRewards(r)
	n.planWithdrawals(r)
	n.market = newMarket(r, n.assetTotals, n.rewardTokens)
	n.tally()
	return n, nil
}

// RNG streams: independent sequences from one seed.
const (
	streamNetwork = 0x6e6574776f726b // "network"
	streamDriver  = 0x647269766572   // "driver"
	// streamServiceRisk draws the services' declared risk.
	streamServiceRisk = 0x7269736b // "risk"
)

// Options returns the options the network was generated with, defaults
// filled in.
func (n *Network) Options() Options { return n.opts }

// Key returns the deterministic private key of a role's i-th account. Roles
// are "admin", "oracle" (the beacon and price oracle), "staker",
// "operator", "avs" (a service), "recipient" (service i's redistribution
// recipient) and "treasury". The scalar is
// keccak256("restake/demo/<seed>/<role>/<i>"), or in the (about 2^-128
// likely) case that it is zero or not below the group order,
// keccak256 of that string followed by "/1", "/2", ... until one is valid.
// Anyone who knows the seed can sign as any demo account: the keys are for
// a demo, never for value.
func (n *Network) Key(role string, i int) *keys.PrivateKey {
	return deriveKey(n.opts.Seed, role, i)
}

func deriveKey(seed uint64, role string, i int) *keys.PrivateKey {
	base := "restake/demo/" + strconv.FormatUint(seed, 10) + "/" + role + "/" + strconv.Itoa(i)
	h := keys.Keccak256([]byte(base))
	for ctr := 1; ; ctr++ {
		if k, err := keys.FromBytes(h[:]); err == nil {
			return k
		}
		h = keys.Keccak256([]byte(base + "/" + strconv.Itoa(ctr)))
	}
}

// Address returns the address of Key(role, i).
func (n *Network) Address(role string, i int) ledger.Address {
	switch role {
	case "staker":
		if i >= 0 && i < len(n.stakers) {
			return n.stakers[i]
		}
	case "operator":
		if i >= 0 && i < len(n.operators) {
			return n.operators[i]
		}
	case "avs":
		if i >= 0 && i < len(n.services) {
			return n.services[i]
		}
	}
	return ledger.Address(n.Key(role, i).Address())
}

// deriveAddresses derives every account's address. Each takes a scalar
// multiplication, so the stakers are split over the CPUs; every index is
// computed on its own, so the result does not depend on the split.
func (n *Network) deriveAddresses() {
	o := n.opts
	n.admin = n.addr("admin", 0)
	n.oracle = n.addr("oracle", 0)
	n.treasury = n.addr("treasury", 0)
	n.stakers = n.addrs("staker", o.Stakers)
	n.operators = n.addrs("operator", o.Operators)
	n.services = n.addrs("avs", o.Services)
	n.recipients = n.addrs("recipient", o.Services)
}

func (n *Network) addr(role string, i int) ledger.Address {
	return ledger.Address(deriveKey(n.opts.Seed, role, i).Address())
}

func (n *Network) addrs(role string, count int) []ledger.Address {
	out := make([]ledger.Address, count)
	workers := min(runtime.GOMAXPROCS(0), max(1, count/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < count; i += workers {
				out[i] = n.addr(role, i)
			}
		}()
	}
	wg.Wait()
	return out
}
