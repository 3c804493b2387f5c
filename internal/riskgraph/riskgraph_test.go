package riskgraph_test

import (
	"math/big"
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/demo"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/risk"
	. "github.com/restake/restake/internal/riskgraph"
)

func addr(b byte) ledger.Address {
	var a ledger.Address
	a[19] = b
	return a
}

func eth(n uint64) uint256.Int {
	var x uint256.Int
	return *x.Mul(uint256.NewInt(n), uint256.NewInt(1e18))
}

type world struct {
	t *testing.T
	l *ledger.Ledger
}

func (w *world) do(sender ledger.Address, op ledger.Op) {
	w.t.Helper()
	if _, err := w.l.Apply(sender, op); err != nil {
		w.t.Fatalf("%s: %v", op.OpName(), err)
	}
}

// TestGraphOfALedger builds a small ledger by hand and checks every figure
// of its graph: two operators, two sets (one declared), stETH priced with
// a haircut, ETH priced without one.
func TestGraphOfALedger(t *testing.T) {
	w := &world{t: t, l: ledger.New(ledger.Config{Params: ledger.DefaultParams(), Open: true})}
	w.l.BeginBlock(1, 1_000_000)
	admin, op1, op2, st1, st2, avs := addr(1), addr(2), addr(3), addr(4), addr(5), addr(6)
	w.do(admin, ledger.AddStrategy{Strategy: "stETH", Token: "stETH"})
	w.do(admin, ledger.Mint{Account: st1, Token: "stETH", Amount: eth(100)})
	w.do(st1, ledger.Deposit{Strategy: "stETH", Amount: eth(100)})
	w.do(admin, ledger.BeaconBalanceUpdate{Staker: st2, DeltaWei: eth(64)})
	w.do(op1, ledger.RegisterOperator{})
	w.do(op2, ledger.RegisterOperator{})
	w.do(st1, ledger.Delegate{Operator: op1})
	w.do(st2, ledger.Delegate{Operator: op2})
	w.do(avs, ledger.RegisterAVS{})
	w.do(avs, ledger.CreateOperatorSet{ID: 0, Strategies: []string{ledger.BeaconStrategy, "stETH"}})
	w.do(avs, ledger.CreateOperatorSet{ID: 1, Strategies: []string{"stETH"}})
	for _, op := range []ledger.Address{op1, op2} {
		w.do(op, ledger.RegisterForSets{AVS: avs, Sets: []uint32{0, 1}})
	}
	// op1: half of its stETH to set 0, a quarter to set 1 (undeclared).
	w.do(op1, ledger.ModifyAllocations{Set: ledger.OperatorSet{AVS: avs, ID: 0}, Strategies: []string{"stETH"},
		Magnitudes: []uint64{5e17}})
	w.do(op1, ledger.ModifyAllocations{Set: ledger.OperatorSet{AVS: avs, ID: 1}, Strategies: []string{"stETH"},
		Magnitudes: []uint64{25e16}})
	// op2: all of its native ETH to set 0.
	w.do(op2, ledger.ModifyAllocations{Set: ledger.OperatorSet{AVS: avs, ID: 0},
		Strategies: []string{ledger.BeaconStrategy}, Magnitudes: []uint64{1e18}})
	w.do(avs, ledger.DeclareServiceRisk{Set: 0, ProfitUSD: eth(50_000), ThresholdNum: 2, ThresholdDen: 3})
	w.do(admin, ledger.SetPrice{Token: "ETH", PriceUSD: eth(3000), Timestamp: 1_000_000})
	w.do(admin, ledger.SetPrice{Token: "stETH", PriceUSD: eth(2990), Timestamp: 900_000})

	n, err := Build(w.l, Options{Haircuts: map[string]*big.Rat{"stETH": big.NewRat(1, 10)}, StaleAfter: 3600})
	if err != nil {
		t.Fatal(err)
	}
	g := n.Graph
	if len(g.Services) != 1 || g.Services[0].ID != SetID(ledger.OperatorSet{AVS: avs, ID: 0}) ||
		g.Services[0].Profit.Cmp(big.NewRat(50_000, 1)) != 0 || g.Services[0].Threshold.Cmp(big.NewRat(2, 3)) != 0 {
		t.Fatalf("services %+v", g.Services)
	}
	// stETH: 100 tokens (the first depositor's shares are 1:1) at 2,990 less
	// 10% = 269,100; half of it slashable in set 0 = 134,550.
	// ETH: 64 at 3,000 = 192,000, all slashable in set 0.
	want := []struct {
		stake, alloc *big.Rat
	}{{big.NewRat(269_100, 1), big.NewRat(134_550, 1)}, {big.NewRat(192_000, 1), big.NewRat(192_000, 1)}}
	if len(g.Validators) != 2 {
		t.Fatalf("%d validators", len(g.Validators))
	}
	for i, v := range g.Validators {
		if v.Stake.Cmp(want[i].stake) != 0 || v.Alloc[0] == nil || v.Alloc[0].Cmp(want[i].alloc) != 0 {
			t.Fatalf("validator %d: stake %s alloc %v, want %s %s", i, v.Stake.RatString(), v.Alloc,
				want[i].stake.RatString(), want[i].alloc.RatString())
		}
	}
	if g.Validators[0].ID != op1.String() || n.Operators[0].Services != 1 {
		t.Fatalf("operator 0: %+v", n.Operators[0])
	}
	if n.Operators[1].Leverage.Cmp(big.NewRat(1, 1)) != 0 || n.Operators[0].Leverage.Cmp(big.NewRat(1, 2)) != 0 {
		t.Fatalf("leverage %s %s", n.Operators[0].Leverage.RatString(), n.Operators[1].Leverage.RatString())
	}
	// The undeclared set: a quarter of op1's stETH.
	if len(n.Undeclared) != 1 || n.Undeclared[0].StakeUSD.Cmp(big.NewRat(67_275, 1)) != 0 {
		t.Fatalf("undeclared %+v", n.Undeclared)
	}
	// Network leverage: (134,550 + 192,000) / (269,100 + 192,000).
	if n.Leverage.Cmp(big.NewRat(326_550, 461_100)) != 0 {
		t.Fatalf("leverage %s", n.Leverage.RatString())
	}
	// Layers: all of it is staked ether (beacon), all restaked, 326,550
	// allocated to declared services.
	mult := new(big.Rat).Quo(big.NewRat(461_100+461_100+326_550, 1), big.NewRat(461_100, 1))
	if n.Layers.Beacon.Cmp(big.NewRat(461_100, 1)) != 0 || n.Layers.Multiplier.Cmp(mult) != 0 {
		t.Fatalf("layers %+v", n.Layers)
	}
	// stETH's price is 100,000 s old, over an hour: stale; ETH's is fresh.
	stale := map[string]bool{}
	for _, a := range n.Assets {
		stale[a.Token] = a.Stale
	}
	if !stale["stETH"] || stale["ETH"] {
		t.Fatalf("stale %v", stale)
	}
	// The graph analyses: secure (profit 50,000 against a two-thirds
	// threshold of 326,550 of stake).
	r, err := risk.Analyze(g, risk.Options{})
	if err != nil || !r.Secure {
		t.Fatalf("analysis: %v %+v", err, r)
	}
	if _, err := Build(w.l, Options{DefaultHaircut: big.NewRat(3, 2)}); err == nil {
		t.Fatal("a haircut above 1 was accepted")
	}
}

// TestDemoNetworkGraph: the demo's small network declares risk for its
// staked sets, and its graph analyses.
func TestDemoNetworkGraph(t *testing.T) {
	net, err := demo.Generate(demo.Small(1))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Genesis().Build()
	if err != nil {
		t.Fatal(err)
	}
	n, err := Build(l, Options{Haircuts: DefaultHaircuts(), StaleAfter: 3600})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Graph.Services) == 0 || len(n.Graph.Validators) == 0 || len(n.Undeclared) != 0 {
		t.Fatalf("%d services, %d validators, %d undeclared", len(n.Graph.Services), len(n.Graph.Validators), len(n.Undeclared))
	}
	if _, err := risk.Analyze(n.Graph, risk.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestWhatIfSlash slashes half of op1's allocation to set 0 on paper: op1
// had half its 100 stETH allocated, so it loses a quarter of its stETH
// shares, and so does its only staker; the ledger is unchanged.
func TestWhatIfSlash(t *testing.T) {
	w := &world{t: t, l: ledger.New(ledger.Config{Params: ledger.DefaultParams(), Open: true})}
	w.l.BeginBlock(1, 1_000_000)
	admin, op1, st1, avs := addr(1), addr(2), addr(4), addr(6)
	w.do(admin, ledger.AddStrategy{Strategy: "stETH", Token: "stETH"})
	w.do(admin, ledger.Mint{Account: st1, Token: "stETH", Amount: eth(100)})
	w.do(st1, ledger.Deposit{Strategy: "stETH", Amount: eth(100)})
	w.do(op1, ledger.RegisterOperator{})
	w.do(st1, ledger.Delegate{Operator: op1})
	w.do(avs, ledger.RegisterAVS{})
	set := ledger.OperatorSet{AVS: avs, ID: 0}
	w.do(avs, ledger.CreateOperatorSet{ID: 0, Strategies: []string{"stETH"}})
	w.do(op1, ledger.RegisterForSets{AVS: avs, Sets: []uint32{0}})
	w.do(op1, ledger.ModifyAllocations{Set: set, Strategies: []string{"stETH"}, Magnitudes: []uint64{5e17}})
	w.do(admin, ledger.SetPrice{Token: "stETH", PriceUSD: eth(2000), Timestamp: 1_000_000})
	before := w.l.StateHash()

	imp, err := WhatIfSlash(w.l, set, []ledger.Address{op1}, *uint256.NewInt(5e17), Options{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if w.l.StateHash() != before {
		t.Fatal("a what-if changed the ledger")
	}
	if len(imp.Operators) != 1 || imp.Operators[0].Strategies[0].Fraction != "0.25" ||
		imp.Operators[0].Strategies[0].Tokens != "25000000000000000000" || imp.TotalUSD != "50000" {
		t.Fatalf("operator loss %+v total %s", imp.Operators, imp.TotalUSD)
	}
	if len(imp.Stakers) != 1 || imp.Stakers[0].Staker != st1.String() || imp.Stakers[0].USD != "50000" {
		t.Fatalf("stakers %+v", imp.Stakers)
	}
	// Set 0 was secured by 50 stETH ($100,000); half of that is slashed.
	if s := imp.Services[0]; s.Before != "100000" || s.After != "50000" {
		t.Fatalf("service %+v", s)
	}
	for name, call := range map[string]func() error{
		"wad zero": func() error {
			_, err := WhatIfSlash(w.l, set, []ledger.Address{op1}, uint256.Int{}, Options{}, 0)
			return err
		},
		"wad above 1": func() error {
			_, err := WhatIfSlash(w.l, set, []ledger.Address{op1}, *uint256.NewInt(2e18), Options{}, 0)
			return err
		},
		"no such set": func() error {
			_, err := WhatIfSlash(w.l, ledger.OperatorSet{AVS: avs, ID: 9}, nil, *uint256.NewInt(1), Options{}, 0)
			return err
		},
		"not operator": func() error {
			_, err := WhatIfSlash(w.l, set, []ledger.Address{st1}, *uint256.NewInt(1), Options{}, 0)
			return err
		},
	} {
		if call() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
