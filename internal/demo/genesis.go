package demo

import (
	"fmt"
	"math/big"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/riskgraph"
)

// Genesis returns the network's genesis: its chain id and time, mainnet's
// parameters (14-day withdrawal and deallocation delays in 12-second
// blocks), the demo admin, oracle and treasury keys, and the token
// strategies. Everything else (operators, services, stakers and their
// positions, rewards and prices) is built by its Setup hook through the
// ledger's own operations, so the genesis document stays small (the demo
// writes it to disk) and the state obeys every ledger rule. Each call
// returns a fresh Genesis; Build may run it any number of times and gets
// the same state.
func (n *Network) Genesis() *app.Genesis {
	p := ledger.DefaultParams()
	g := &app.Genesis{
		ChainID:     n.opts.ChainID,
		GenesisTime: n.opts.GenesisTime,
		Params: app.GenesisParams{
			WithdrawalDelayBlocks:              p.WithdrawalDelayBlocks,
			DeallocationDelayBlocks:            p.DeallocationDelayBlocks,
			AllocationConfigurationDelayBlocks: p.AllocationConfigurationDelayBlocks,
			ProtocolFeeBips:                    p.ProtocolFeeBips,
			DefaultOperatorSplitBips:           p.DefaultOperatorSplitBips,
			CalculationIntervalSeconds:         p.CalculationIntervalSeconds,
			MaxRewardsDurationSeconds:          p.MaxRewardsDurationSeconds,
			MaxRetroactiveLengthSeconds:        p.MaxRetroactiveLengthSeconds,
			MaxFutureLengthSeconds:             p.MaxFutureLengthSeconds,
			GenesisRewardsTimestamp:            p.GenesisRewardsTimestamp,
			ActivationDelaySeconds:             p.ActivationDelaySeconds,
		},
		Admins:        []string{n.admin.String()},
		BeaconOracles: []string{n.oracle.String()},
		PriceOracles:  []string{n.oracle.String()},
		Treasury:      n.treasury.String(),
		Setup:         n.setup,
	}
	for _, a := range tokenAssets {
		name := assetNames[a]
		g.Strategies = append(g.Strategies, app.GenesisStrategy{Name: name, Token: name})
	}
	return g
}

// applier applies genesis operations and keeps the first error.
type applier struct {
	l   *ledger.Ledger
	err error
}

func (a *applier) apply(sender ledger.Address, op ledger.Op) any {
	if a.err != nil {
		return nil
	}
	res, err := a.l.Apply(sender, op)
	if err != nil {
		a.err = fmt.Errorf("demo: %s from %s: %w", op.OpName(), sender, err)
	}
	return res
}

// setup builds the network at block 0. Authorisation is lifted during
// genesis, but every operation still comes from the account that would
// send it (the admin mints, the oracle reports, stakers deposit), so the
// events and the state are those of a real history.
func (n *Network) setup(l *ledger.Ledger) error {
	a := &applier{l: l}
	for _, step := range []func(*applier){
		n.setupOperators, n.setupServices, n.setupRegistrations, n.setupStakers,
		n.setupWithdrawals, n.setupRewards, n.setupPrices, n.setupServiceRisk,
	} {
		step(a)
		if a.err != nil {
			return a.err
		}
	}
	return nil
}

func (n *Network) setupOperators(a *applier) {
	for o, addr := range n.operators {
		a.apply(addr, ledger.RegisterOperator{AllocationDelay: 0,
			Metadata: fmt.Sprintf("https://demo.restake.dev/operators/%d.json", o)})
	}
}

func (n *Network) setupServices(a *applier) {
	for s, addr := range n.services {
		meta := fmt.Sprintf("https://demo.restake.dev/services/%d.json", s)
		a.apply(addr, ledger.RegisterAVS{Metadata: meta})
		for _, j := range n.serviceSets[s] {
			p := n.sets[j]
			op := ledger.CreateOperatorSet{ID: p.id, Strategies: p.strategies,
				Redistributing: p.redistributing}
			if p.redistributing {
				op.Recipient = n.recipients[s]
			}
			a.apply(addr, op)
		}
	}
}

// setupRegistrations registers every operator for its sets (one operation
// per service) and makes its allocations.
func (n *Network) setupRegistrations(a *applier) {
	for o, chosen := range n.opSets {
		for k := 0; k < len(chosen); {
			s := n.sets[chosen[k]].service
			var ids []uint32
			for ; k < len(chosen) && n.sets[chosen[k]].service == s; k++ {
				ids = append(ids, n.sets[chosen[k]].id)
			}
			a.apply(n.operators[o], ledger.RegisterForSets{AVS: n.services[s], Sets: ids})
		}
	}
	for _, p := range n.allocs {
		set := n.sets[p.set]
		a.apply(n.operators[p.operator], ledger.ModifyAllocations{
			Set:        ledger.OperatorSet{AVS: n.services[set.service], ID: set.id},
			Strategies: set.strategies, Magnitudes: p.magnitudes})
	}
	for _, p := range n.splits {
		split := ledger.SetOperatorSplit{AVS: n.services[p.service], Bips: p.bips}
		a.apply(n.operators[p.operator], split)
	}
}

// setupStakers delegates every staker and credits its holdings: native ETH
// as a beacon balance increase from the oracle, tokens minted by the admin
// and deposited by the staker. Half of the stakers delegate first and half
// deposit first, as both happen on mainnet.
func (n *Network) setupStakers(a *applier) {
	h := 0
	for i, staker := range n.stakers {
		op := ledger.Delegate{Operator: n.operators[n.stakerOp[i]]}
		if i%2 == 0 {
			a.apply(staker, op)
		}
		for ; h < len(n.holdings) && int(n.holdings[h].staker) == i; h++ {
			hd := n.holdings[h]
			if hd.asset == assetNative {
				a.apply(n.oracle, ledger.BeaconBalanceUpdate{Staker: staker, DeltaWei: hd.amount})
				continue
			}
			a.apply(n.admin, ledger.Mint{Account: staker, Token: assetNames[hd.asset], Amount: hd.amount})
			a.apply(staker, ledger.Deposit{Strategy: assetNames[hd.asset], Amount: hd.amount})
		}
		if i%2 == 1 {
			a.apply(staker, op)
		}
	}
	for _, w := range n.wallets {
		a.apply(n.admin, ledger.Mint{Account: n.stakers[w.staker], Token: assetNames[w.asset],
			Amount: w.amount})
	}
}

func (n *Network) setupWithdrawals(a *applier) {
	for _, w := range n.withdrawals {
		a.apply(n.stakers[w.staker], ledger.QueueWithdrawal{Strategies: []string{assetNames[w.asset]},
			DepositShares: []uint256.Int{w.shares}})
	}
}

// setupRewards mints each service its budget and submits its genesis
// rewards, starting at genesis (aligned down to the interval), with every
// strategy weighted 1.
func (n *Network) setupRewards(a *applier) {
	start := AlignedGenesisTime(n.opts.GenesisTime)
	for s, p := range n.rewards {
		a.apply(n.admin, ledger.Mint{Account: n.services[s], Token: p.token, Amount: p.budget})
		mult := make([]uint256.Int, len(p.strategies))
		for i := range mult {
			mult[i] = *uint256.NewInt(wad)
		}
		a.apply(n.services[s], ledger.SubmitRewards{Token: p.token, Amount: p.amount,
			Strategies: p.strategies, Multipliers: mult, StartTime: start,
			Duration: p.weeks * rewardsIntervalSeconds})
	}
}

// setupServiceRisk has every AVS declare, for each of its staked sets, its
// corruption threshold (1/2 for most, 2/3 or 1/3 for some) and what
// corrupting it would gain an attacker: a share of what corrupting it
// costs at genesis prices (threshold times the stake securing it), 10% to
// 90% for most and 110% to 200% for about one in 25, so that the risk
// report has something to find. It draws from its own stream so the rest
// of the network does not change with it.
func (n *Network) setupServiceRisk(a *applier) {
	net, err := riskgraph.Build(a.l, riskgraph.Options{})
	if err != nil {
		a.err = err
		return
	}
	stake := map[string]*big.Rat{}
	for _, s := range net.Undeclared {
		stake[s.ID] = s.StakeUSD
	}
	r := newRNG(n.opts.Seed, streamServiceRisk)
	for _, p := range n.sets {
		key := ledger.OperatorSet{AVS: n.services[p.service], ID: p.id}
		secured, ok := stake[riskgraph.SetID(key)]
		share := r.between(100, 900) // per mille of threshold x stake
		if r.chance(1, 25) {
			share = r.between(1100, 2000)
		}
		num, den := uint64(1), uint64(2)
		switch x := r.intn(10); {
		case x < 3:
			num, den = 2, 3
		case x < 4:
			num, den = 1, 3
		}
		if !ok {
			continue // nothing secures it: nothing to price
		}
		profit := new(big.Rat).Mul(secured, big.NewRat(int64(share)*int64(num), 1000*int64(den)))
		profit.Mul(profit, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)))
		var usd uint256.Int
		usd.SetFromBig(new(big.Int).Quo(profit.Num(), profit.Denom()))
		if usd.IsZero() {
			continue
		}
		a.apply(key.AVS, ledger.DeclareServiceRisk{Set: p.id, ProfitUSD: usd, ThresholdNum: num, ThresholdDen: den})
	}
}

func (n *Network) setupPrices(a *applier) {
	for _, p := range n.market.prices() {
		a.apply(n.oracle, ledger.SetPrice{Token: p.token, PriceUSD: p.usd, Timestamp: n.opts.GenesisTime})
	}
}
