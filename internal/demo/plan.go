package demo

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// The shape of the network. Shares are in percent or basis points of the
// ETH restaked, chosen to look like EigenLayer mainnet.
const (
	nativePct         = 87   // of the ETH restaked, in native ETH
	validatorETH      = 32   // ETH per validator
	tokenFloorWei     = 1e16 // the smallest LST/LP holding, 0.01 ETH
	wad               = uint64(1e18)
	gweiWei           = ledger.GweiWei
	setsPerOperatorMx = 28 // bounds the sums of raw magnitudes below 2^64
)

// tokenAssetBips is each token asset's share of the LST/LP part, in bips:
// stETH dominates, as on mainnet.
var tokenAssetBips = [assetCount]uint64{
	assetStETH: 5000, assetRETH: 2000, assetEthLP: 1800, assetLsdLP: 1200,
}

// ether returns n ETH in wei.
func ether(n uint64) uint256.Int {
	var z uint256.Int
	z.Mul(uint256.NewInt(n), uint256.NewInt(wad))
	return z
}

// planStakers draws every staker's assets, amounts and operator.
//
// Operators get Zipf–Mandelbrot weights 1/(rank+q)^1.5, with q = 1 +
// 3·operators/2000: with 2,000 operators the top 10 draw about half of the
// delegations, as on mainnet; with a dozen the largest draws about half.
// Each staker delegates to an operator drawn by weight (staker 0 to the
// largest, so the demo's printed examples have stake and rewards).
//
// Balances are heavy-tailed (rng.heavy, Pareto alpha 1.16). Native ETH,
// 87% of the total rounded down to whole validators, is dealt out in whole
// validators: one to every native staker, the rest in proportion to the
// weights (to within one validator, see dealNative). The LST/LP part (the
// rest, exactly) is split between the token assets by tokenAssetBips, and
// each asset's part over its holders in proportion to their weights with a
// floor of 0.01 ETH; the last holder of each asset, the last staker, takes
// its remainder, so the total is exact to the wei. Two token holdings in
// five also keep 5% to 30% more in the wallet, undeposited: the driver's
// deposits spend it.
func (n *Network) planStakers(r *rng) error {
	o := n.opts
	n.opWeights = zipfWeights(o.Operators, 1+uint64(3*o.Operators/2000))
	ops := newPicker(n.opWeights)
	tokens := newPicker([]uint64{tokenAssetBips[assetStETH], tokenAssetBips[assetRETH],
		tokenAssetBips[assetEthLP], tokenAssetBips[assetLsdLP]})
	n.stakerOp = make([]uint32, o.Stakers)
	weights := make([]uint64, 0, o.Stakers*6/5)
	for i := range o.Stakers {
		if i > 0 {
			n.stakerOp[i] = uint32(ops.pick(r))
		}
		for _, a := range profile(r, tokens, i, o.Stakers-1) {
			n.holdings = append(n.holdings, holding{staker: uint32(i), asset: a})
			weights = append(weights, r.heavy())
		}
	}
	if err := n.dealNative(weights); err != nil {
		return err
	}
	if err := n.dealTokens(weights); err != nil {
		return err
	}
	for i := range n.holdings {
		h := &n.holdings[i]
		if h.asset != assetNative && r.chance(2, 5) {
			var liquid uint256.Int
			liquid.Mul(&h.amount, uint256.NewInt(r.between(5, 30)))
			liquid.Div(&liquid, uint256.NewInt(100))
			n.wallets = append(n.wallets, wallet{staker: h.staker, asset: h.asset, amount: liquid})
		}
	}
	return nil
}

// profile returns the assets of staker i: 68% native ETH only, 25% one
// token asset, 5% native ETH and a token asset, 2% two or three token
// assets. Staker 0 holds native ETH; the last staker holds every token
// asset (it takes the rounding remainders).
func profile(r *rng, tokens picker, i, last int) []uint8 {
	pickToken := func() uint8 { return uint8(tokenAssets[tokens.pick(r)]) }
	switch {
	case i == 0:
		return []uint8{assetNative}
	case i == last:
		return []uint8{assetStETH, assetRETH, assetEthLP, assetLsdLP}
	}
	switch x := r.uint64n(100); {
	case x < 68:
		return []uint8{assetNative}
	case x < 93:
		return []uint8{pickToken()}
	case x < 98:
		return []uint8{assetNative, pickToken()}
	}
	out := []uint8{pickToken()}
	want := 2 + r.intn(2)
	for tries := 0; len(out) < want && tries < 16; tries++ {
		if a := pickToken(); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// dealNative gives every native holding whole validators (see planStakers).
func (n *Network) dealNative(weights []uint64) error {
	n.validators = n.opts.TotalETH * nativePct / 100 / validatorETH
	var idx []int
	var total uint64
	for i, h := range n.holdings {
		if h.asset == assetNative {
			idx = append(idx, i)
			total += weights[i]
		}
	}
	if uint64(len(idx)) > n.validators {
		return fmt.Errorf("demo: %d ETH is too little for %d native stakers (%d validators)",
			n.opts.TotalETH, len(idx), n.validators)
	}
	// Cumulative rounding: holding k gets floor(extra·W_k/W) −
	// floor(extra·W_(k−1)/W) extra validators, W_k the running sum of
	// weights. Each gets its share to within one validator and the shares
	// sum to extra exactly, where rounding each down on its own would leave
	// a remainder as large as the number of holders.
	extra := n.validators - uint64(len(idx))
	var cum, dealt uint64
	for _, i := range idx {
		cum += weights[i]
		hi, lo := bits.Mul64(extra, cum)
		upTo, _ := bits.Div64(hi, lo, total) // cum <= total, so the quotient fits
		n.holdings[i].amount = ether((1 + upTo - dealt) * validatorETH)
		dealt = upTo
	}
	n.assetTotals[assetNative] = ether(n.validators * validatorETH)
	return nil
}

// dealTokens splits the LST/LP part over the token holdings (see
// planStakers).
func (n *Network) dealTokens(weights []uint64) error {
	total := ether(n.opts.TotalETH)
	var rest uint256.Int
	rest.Sub(&total, &n.assetTotals[assetNative])
	var assigned uint256.Int
	for k, a := range tokenAssets {
		part := &n.assetTotals[a]
		if k == len(tokenAssets)-1 {
			part.Sub(&rest, &assigned) // the last asset takes the remainder
		} else {
			part.Mul(&rest, uint256.NewInt(tokenAssetBips[a]))
			part.Div(part, uint256.NewInt(10_000))
			assigned.Add(&assigned, part)
		}
		if err := n.dealAsset(uint8(a), *part, weights); err != nil {
			return err
		}
	}
	return nil
}

// dealAsset splits part over the holdings of one asset: a floor each, the
// rest by weight, the remainder to the last holding.
func (n *Network) dealAsset(a uint8, part uint256.Int, weights []uint64) error {
	var idx []int
	var total uint64
	for i, h := range n.holdings {
		if h.asset == a {
			idx = append(idx, i)
			total += weights[i]
		}
	}
	floor := uint256.NewInt(tokenFloorWei)
	var floors uint256.Int
	floors.Mul(floor, uint256.NewInt(uint64(len(idx))))
	if part.Lt(&floors) {
		return fmt.Errorf("demo: %s ETH of %s is too little for %d holders", weiToETH(part),
			assetNames[a], len(idx))
	}
	var spread, dealt uint256.Int
	spread.Sub(&part, &floors)
	for k, i := range idx {
		h := &n.holdings[i]
		if k == len(idx)-1 {
			h.amount.Sub(&part, &dealt)
			break
		}
		h.amount.Mul(&spread, uint256.NewInt(weights[i]))
		h.amount.Div(&h.amount, uint256.NewInt(total))
		h.amount.Add(&h.amount, floor)
		dealt.Add(&dealt, &h.amount)
	}
	return nil
}

// planServices draws each service's operator sets. Service weights are
// Zipf, 1/(index+1): service 0 is the largest. Every service has 1 to 3
// sets; set 0 takes native ETH and about half of the token assets; a later
// set is redistributing one time in four (token assets only: native ETH
// cannot be redistributed), otherwise it takes native ETH with probability
// 3/5 and each token asset with probability 2/5.
func (n *Network) planServices(r *rng) {
	n.serviceSets = make([][]int, n.opts.Services)
	for s := range n.opts.Services {
		count := 1 + r.intn(3)
		for id := range count {
			p := setPlan{service: s, id: uint32(id)}
			switch {
			case id == 0:
				p.strategies = []string{ledger.BeaconStrategy}
				p.strategies = append(p.strategies, drawTokenAssets(r, 1, 2)...)
			case r.chance(1, 4):
				p.redistributing = true
				p.strategies = drawTokenAssets(r, 1, 2)
			default:
				if r.chance(3, 5) {
					p.strategies = []string{ledger.BeaconStrategy}
				}
				p.strategies = append(p.strategies, drawTokenAssets(r, 2, 5)...)
			}
			if len(p.strategies) == 0 {
				p.strategies = []string{assetNames[tokenAssets[r.intn(len(tokenAssets))]]}
			}
			slices.Sort(p.strategies)
			n.serviceSets[s] = append(n.serviceSets[s], len(n.sets))
			n.sets = append(n.sets, p)
		}
	}
}

// drawTokenAssets returns each token asset's name with probability num/den.
func drawTokenAssets(r *rng, num, den uint64) []string {
	var out []string
	for _, a := range tokenAssets {
		if r.chance(num, den) {
			out = append(out, assetNames[a])
		}
	}
	return out
}

// serviceWeight is service s's Zipf weight.
func serviceWeight(s int) uint64 { return (1 << 40) / uint64(s+1) }

// planRegistrations draws the sets each operator registers for. Sets are
// drawn in proportion to their service's weight (split between its sets),
// so bigger services attract more operators. Every operator joins 1 to 3
// sets; the largest tenth joins up to 24 more, and always set 0 of the
// largest service, as the big operators do on mainnet.
func (n *Network) planRegistrations(r *rng) {
	weights := make([]uint64, len(n.sets))
	for j, p := range n.sets {
		weights[j] = max(1, serviceWeight(p.service)/uint64(len(n.serviceSets[p.service])))
	}
	pick := newPicker(weights)
	top := max(1, n.opts.Operators/10)
	for o := range n.opts.Operators {
		k := 1 + r.intn(3)
		var chosen []int
		if o < top {
			k += r.intn(25)
			chosen = append(chosen, 0)
		}
		k = min(k, len(n.sets), setsPerOperatorMx)
		for tries := 0; len(chosen) < k && tries < 32*k; tries++ {
			if j := pick.pick(r); !slices.Contains(chosen, j) {
				chosen = append(chosen, j)
			}
		}
		slices.Sort(chosen)
		for _, j := range chosen {
			n.sets[j].members = append(n.sets[j].members, o)
		}
		n.opSets = append(n.opSets, chosen)
	}
}

// planAllocations draws each operator's magnitudes: for every strategy,
// each of its sets holding the strategy gets 10% to 60% of WAD, scaled down
// together when they would sum past WAD, so an operator never allocates
// more than all of a strategy. Allocation delay is 0, so the allocations
// are live (slashable, earning) from genesis.
func (n *Network) planAllocations(r *rng) {
	for o, chosen := range n.opSets {
		raw := make([][]uint64, len(chosen))
		sums := map[string]uint64{}
		for k, j := range chosen {
			raw[k] = make([]uint64, len(n.sets[j].strategies))
			for si, name := range n.sets[j].strategies {
				raw[k][si] = r.between(wad/10, wad*6/10)
				sums[name] += raw[k][si] // at most setsPerOperatorMx·0.6 WAD < 2^64
			}
		}
		for k, j := range chosen {
			mags := raw[k]
			for si, name := range n.sets[j].strategies {
				if sum := sums[name]; sum > wad {
					hi, lo := bits.Mul64(mags[si], wad)
					mags[si], _ = bits.Div64(hi, lo, sum) // mags[si] <= sum: the quotient fits
				}
			}
			n.allocs = append(n.allocs, allocPlan{operator: o, set: j, magnitudes: mags})
		}
	}
}

// planRewards draws each service's reward token, budget and genesis
// submission, and the operators' custom splits. Every third service (0, 3,
// 6, ...) pays in EIGEN, the others in a token of their own named AVS<i>.
// A submission covers every strategy of the service's sets for 4 to 10
// weeks from genesis; its size follows the service's weight. The service
// keeps twice as much again for the driver's later submissions.
func (n *Network) planRewards(r *rng) {
	var weightSum uint64
	for s := range n.opts.Services {
		weightSum += serviceWeight(s)
	}
	tokens := map[string]bool{}
	n.rewards = make([]rewardPlan, n.opts.Services)
	for s := range n.opts.Services {
		p := &n.rewards[s]
		p.token = rewardToken(s)
		tokens[p.token] = true
		for _, j := range n.serviceSets[s] {
			for _, name := range n.sets[j].strategies {
				if !slices.Contains(p.strategies, name) {
					p.strategies = append(p.strategies, name)
				}
			}
		}
		slices.Sort(p.strategies)
		p.weeks = r.between(4, 10)
		perWeek := (2_000 + 400_000*serviceWeight(s)/weightSum) * r.between(50, 150) / 100
		p.amount = ether(perWeek * p.weeks)
		p.budget.Mul(&p.amount, uint256.NewInt(3))
	}
	for t := range tokens {
		n.rewardTokens = append(n.rewardTokens, t)
	}
	slices.Sort(n.rewardTokens)
	for o, chosen := range n.opSets {
		if o != 0 && !r.chance(1, 10) {
			continue
		}
		var done []int
		for range 1 + r.intn(2) {
			s := n.sets[chosen[r.intn(len(chosen))]].service
			if slices.Contains(done, s) {
				continue
			}
			done = append(done, s)
			bips := uint32(r.between(0, 40) * 50) // 0% to 20%, in steps of 0.5%
			n.splits = append(n.splits, splitPlan{operator: o, service: s, bips: bips})
		}
	}
}

// rewardToken names service s's reward token.
func rewardToken(s int) string {
	if s%3 == 0 {
		return "EIGEN"
	}
	return fmt.Sprintf("AVS%d", s)
}

// planWithdrawals queues, at genesis, a withdrawal of 10% to 50% of the
// first holding of about 1.5% of the stakers (native ETH in whole gwei), so
// the network starts with withdrawals in flight, as mainnet always has.
func (n *Network) planWithdrawals(r *rng) {
	last := -1
	for _, h := range n.holdings {
		if int(h.staker) == last {
			continue
		}
		last = int(h.staker)
		if h.staker == 0 || !r.chance(15, 1000) {
			continue
		}
		var shares uint256.Int
		shares.Mul(&h.amount, uint256.NewInt(r.between(10, 50)))
		shares.Div(&shares, uint256.NewInt(100))
		if h.asset == assetNative {
			var rem uint256.Int
			rem.Mod(&shares, uint256.NewInt(gweiWei))
			shares.Sub(&shares, &rem)
		}
		if !shares.IsZero() {
			n.withdrawals = append(n.withdrawals, queued{staker: h.staker, asset: h.asset, shares: shares})
		}
	}
}

// tally computes what each operator has delegated at genesis: its
// stakers' holdings less their queued withdrawals, counting one LST/LP
// share as one ETH (every strategy starts at one share per token).
func (n *Network) tally() {
	n.opDelegated = make([]uint256.Int, n.opts.Operators)
	for _, h := range n.holdings {
		d := &n.opDelegated[n.stakerOp[h.staker]]
		d.Add(d, &h.amount)
	}
	for _, w := range n.withdrawals {
		d := &n.opDelegated[n.stakerOp[w.staker]]
		d.Sub(d, &w.shares)
	}
}
