package demo

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// market simulates the prices the oracle reports, in USD with 1e18 = $1.
// ETH follows a random walk; stETH trades at a peg just under ETH; rETH and
// wstETH at exchange rates that creep up as staking yield accrues. The two
// LP tokens are priced through their pools, as an oracle would price them:
// an LP token is worth the pool's reserves over its supply,
// (X·p_X + Y·p_Y)/S, and swaps move the reserves (leaving a 4 bps fee in
// the pool, so the LP token gains on stETH over time).
type market struct {
	eth       uint256.Int // USD per ETH
	stethPeg  uint64      // ETH per stETH, ppm
	rethRate  uint64      // ETH per rETH, ppm
	wstRate   uint64      // stETH per wstETH, ppm
	ethLP     pool        // X: ETH, Y: stETH
	lsdLP     pool        // X: rETH, Y: wstETH
	rewardTok []string    // reward tokens, ascending
	rewardUSD []uint256.Int
}

// pool is an AMM pool's reserves and LP supply, in wei.
type pool struct{ x, y, supply uint256.Int }

const (
	ppm          = 1_000_000
	swapFeePpm   = 400   // 4 bps
	ethWalkPpm   = 500   // ETH moves at most 0.05% per step
	tokenWalkPpm = 3_000 // reward tokens at most 0.3%
	swapMaxPpm   = 2_000 // a step's swap moves at most 0.2% of a reserve
	pegMinPpm    = 995_000
	centWei      = 1e16 // one US cent in 1e18-scaled USD
)

// tokenPrice is one price report.
type tokenPrice struct {
	token string
	usd   uint256.Int
}

func newMarket(r *rng, totals [assetCount]uint256.Int, rewardTokens []string) market {
	m := market{stethPeg: r.between(998_500, ppm), rethRate: r.between(1_120_000, 1_150_000),
		wstRate: r.between(1_200_000, 1_220_000), rewardTok: rewardTokens}
	m.eth = mulU(*uint256.NewInt(r.between(250_000, 400_000)), centWei)
	m.ethLP = newPool(r, totals[assetEthLP], ppm, m.stethPeg)
	m.lsdLP = newPool(r, totals[assetLsdLP], m.rethRate, m.stethPeg*m.wstRate/ppm)
	for _, t := range rewardTokens {
		cents := r.between(80, 400) // EIGEN: $0.80 to $4
		if t != "EIGEN" {
			cents = r.between(1, 9) * pow10(r.between(0, 3)) // 1 cent to $90
		}
		m.rewardUSD = append(m.rewardUSD, mulU(*uint256.NewInt(cents), centWei))
	}
	return m
}

// newPool sizes a pool whose LP supply is 1.5 to 3 times what is restaked
// (not every LP token is restaked), worth 1.00 to 1.10 ETH per LP token,
// 40% to 60% of it in X. xETH and yETH are the ETH values of one X and one
// Y token, in ppm.
func newPool(r *rng, restaked uint256.Int, xETH, yETH uint64) pool {
	var p pool
	p.supply = mulDivU(restaked, r.between(150, 300), 100)
	if p.supply.Lt(uint256.NewInt(wad)) {
		p.supply = ether(1)
	}
	value := mulDivU(p.supply, r.between(ppm, ppm*11/10), ppm) // in ETH wei
	share := r.between(400_000, 600_000)
	p.x = mulDivU(mulDivU(value, share, ppm), ppm, xETH)
	p.y = mulDivU(mulDivU(value, ppm-share, ppm), ppm, yETH)
	return p
}

// prices returns the current price of every priced token: ETH (the native
// strategy's token), stETH, rETH, the LP tokens, then the reward tokens.
func (m *market) prices() []tokenPrice {
	steth := mulDivU(m.eth, m.stethPeg, ppm)
	reth := mulDivU(m.eth, m.rethRate, ppm)
	wst := mulDivU(steth, m.wstRate, ppm)
	out := []tokenPrice{
		{ledger.NativeToken, m.eth},
		{assetNames[assetStETH], steth},
		{assetNames[assetRETH], reth},
		{assetNames[assetEthLP], m.ethLP.price(m.eth, steth)},
		{assetNames[assetLsdLP], m.lsdLP.price(reth, wst)},
	}
	for i, t := range m.rewardTok {
		out = append(out, tokenPrice{t, m.rewardUSD[i]})
	}
	return out
}

// price is (X·px + Y·py) / S.
func (p *pool) price(px, py uint256.Int) uint256.Int {
	var a, b uint256.Int
	a.Mul(&p.x, &px)
	b.Mul(&p.y, &py)
	a.Add(&a, &b)
	return *a.Div(&a, &p.supply)
}

// walk moves the market one step: ETH and the reward tokens by a bounded
// random walk, the peg and the rates a little, and one swap in each pool.
func (m *market) walk(r *rng) {
	m.eth = walkPrice(r, m.eth, ethWalkPpm)
	m.stethPeg = min(ppm, max(pegMinPpm, m.stethPeg+r.between(0, 400)-200))
	m.rethRate += r.between(0, 2)
	m.wstRate += r.between(0, 2)
	m.ethLP.swap(r, ppm, m.stethPeg)
	m.lsdLP.swap(r, m.rethRate, m.stethPeg*m.wstRate/ppm)
	for i := range m.rewardUSD {
		m.rewardUSD[i] = walkPrice(r, m.rewardUSD[i], tokenWalkPpm)
	}
}

// walkPrice multiplies p by 1 ± a uniform draw of at most stepPpm, never
// reaching zero.
func walkPrice(r *rng, p uint256.Int, stepPpm uint64) uint256.Int {
	next := mulDivU(p, ppm-stepPpm+r.uint64n(2*stepPpm+1), ppm)
	if next.IsZero() {
		return *uint256.NewInt(1)
	}
	return next
}

// swap trades up to swapMaxPpm of the smaller reserve one way or the
// other at the fair rate less the fee, which stays in the pool.
func (p *pool) swap(r *rng, xETH, yETH uint64) {
	smaller := p.x
	if p.y.Lt(&smaller) {
		smaller = p.y
	}
	d := mulDivU(smaller, r.uint64n(swapMaxPpm+1), ppm)
	if r.chance(1, 2) { // sell d of X for Y
		out := mulDivU(mulDivU(d, xETH, yETH), ppm-swapFeePpm, ppm)
		p.x.Add(&p.x, &d)
		p.y.Sub(&p.y, &out)
		return
	}
	out := mulDivU(mulDivU(d, yETH, xETH), ppm-swapFeePpm, ppm)
	p.y.Add(&p.y, &d)
	p.x.Sub(&p.x, &out)
}

// mulDivU returns v·num/den, rounded down.
func mulDivU(v uint256.Int, num, den uint64) uint256.Int {
	var z uint256.Int
	z.Mul(&v, uint256.NewInt(num))
	return *z.Div(&z, uint256.NewInt(den))
}

// mulU returns v·k.
func mulU(v uint256.Int, k uint64) uint256.Int {
	var z uint256.Int
	return *z.Mul(&v, uint256.NewInt(k))
}

func pow10(e uint64) uint64 {
	v := uint64(1)
	for range e {
		v *= 10
	}
	return v
}
