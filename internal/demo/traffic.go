package demo

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// The planners of a driver step. Each reads the committed state through v,
// claims the accounts it gives something to do, and adds bundles. They run
// under the node's read lock, so they must not call back into the node.

// coreTokens is how many of market.prices' tokens are reported every step
// (ETH, stETH, rETH and the two LP tokens); reward tokens follow.
const coreTokens = 5

// slashReasons are the descriptions of the driver's slashes.
var slashReasons = []string{
	"liveness: missed 3 consecutive task responses",
	"equivocation: two conflicting signatures on one batch",
	"invalid state attestation",
	"data availability: chunk not served within the challenge window",
	"oracle report deviated beyond the allowed threshold",
}

// planSlash, one step in slashOneIn, has a service slash one of the
// operators registered in one of its sets by 1% to 10% of every strategy
// the operator allocates there, and then clear what the slash holds
// (burning it, or sending it to the set's recipient). The clear names the
// set's next slash id; should another slash take that id first, a later
// step's sweep of held slashes (planClearHeld) clears it.
func (d *Driver) planSlash(v *stepView) {
	if !d.rng.chance(1, slashOneIn) {
		return
	}
	p := d.net.sets[d.rng.intn(len(d.net.sets))]
	if len(p.members) == 0 {
		return
	}
	o := p.members[d.rng.intn(len(p.members))]
	avs, op := d.net.services[p.service], d.net.operators[o]
	set := ledger.OperatorSet{AVS: avs, ID: p.id}
	view, ok := v.l.Set(set)
	if !ok || view.Slasher != avs || !v.l.IsRegistered(op, set) {
		return
	}
	w := *uint256.NewInt(d.rng.between(1, 10) * (wad / 100))
	reason := slashReasons[d.rng.intn(len(slashReasons))]
	slash := ledger.Slash{Operator: op, Set: set, Description: reason}
	for _, s := range p.strategies { // ascending, as Slash requires
		if v.l.Allocation(op, set, s).Current > 0 {
			slash.Strategies = append(slash.Strategies, s)
			slash.Wads = append(slash.Wads, w)
		}
	}
	if len(slash.Strategies) == 0 || !v.claim(avs) {
		return
	}
	from := signer{"avs", p.service}
	v.add(bundle{idle: []idleReq{v.idle(avs)}, txs: []plannedTx{
		{from, slash},
		{from, ledger.ClearSlashed{Set: set, SlashID: view.Slashes + 1}},
	}})
}

// planClearHeld clears slashes still held from earlier blocks (anyone may;
// the admin does). Clearing one twice is harmless: the second finds
// nothing.
func (d *Driver) planClearHeld(v *stepView) {
	for i, h := range v.l.HeldSlashes() {
		if i == heldClearsMax {
			break
		}
		v.add(bundle{txs: []plannedTx{{d.admin(), ledger.ClearSlashed{
			Set: ledger.OperatorSet{AVS: h.AVS, ID: h.Set}, SlashID: h.SlashID}}}})
	}
}

// planPrices moves the market once per new block time and reports the
// core prices, and each reward token's one time in rewardPriceOneIn. A
// report carries the last block's time: never in the future of the block
// that includes it, and later than the token's last report.
func (d *Driver) planPrices(v *stepView) {
	if v.time <= d.lastWalk {
		return
	}
	d.lastWalk = v.time
	d.market.walk(d.rng)
	var txs []plannedTx
	for i, p := range d.market.prices() {
		if i >= coreTokens && !d.rng.chance(1, rewardPriceOneIn) {
			continue
		}
		last := d.priceTS[p.token]
		if cur, ok := v.l.PriceOf(p.token); ok {
			last = max(last, cur.Timestamp)
		}
		if v.time <= last {
			continue
		}
		d.priceTS[p.token] = v.time
		report := ledger.SetPrice{Token: p.token, PriceUSD: p.usd, Timestamp: v.time}
		txs = append(txs, plannedTx{d.oracle(), report})
	}
	if len(txs) > 0 {
		v.add(bundle{txs: txs})
	}
}

// planBeacon reports beacon-chain balance changes: consensus rewards on a
// few pods (0.0001 to 0.003 ETH per validator), new validators on one or
// two, and one step in penaltyOneIn a penalty of 0.01 to 1 ETH (an
// inactivity leak or a beacon-chain slashing), which lowers the staker's
// beacon slashing factor.
func (d *Driver) planBeacon(v *stepView) {
	for range d.rng.between(3, 8) {
		i := d.native[d.rng.intn(len(d.native))]
		addr := d.staker(i)
		held, ok := d.pod(v, addr)
		if !ok || !v.claim(addr) {
			continue
		}
		var eth uint256.Int
		eth.Div(&held, uint256.NewInt(wad))
		gwei := max(1, eth.Uint64()/validatorETH) * d.rng.between(100_000, 3_000_000)
		v.add(bundle{txs: []plannedTx{{d.oracle(), ledger.BeaconBalanceUpdate{Staker: addr,
			PrevRestakedWei: held, DeltaWei: mulU(*uint256.NewInt(gwei), gweiWei)}}}})
	}
	for range d.rng.between(0, 2) {
		addr := d.staker(d.native[d.rng.intn(len(d.native))])
		if v.claim(addr) {
			v.add(bundle{txs: []plannedTx{{d.oracle(), ledger.BeaconBalanceUpdate{Staker: addr,
				DeltaWei: ether(d.rng.between(1, 4) * validatorETH)}}}})
		}
	}
	if !d.rng.chance(1, penaltyOneIn) {
		return
	}
	addr := d.staker(d.native[d.rng.intn(len(d.native))])
	held, ok := d.pod(v, addr)
	if !ok || held.Lt(uint256.NewInt(wad)) || !v.claim(addr) {
		return
	}
	loss := mulU(*uint256.NewInt(d.rng.between(10_000_000, 1_000_000_000)), gweiWei)
	// The staker must be idle: a completion of its native ETH in flight
	// would leave less than PrevRestakedWei in the pod.
	penalty := ledger.BeaconBalanceUpdate{Staker: addr, PrevRestakedWei: held, DeltaWei: loss,
		Decrease: true}
	v.add(bundle{idle: []idleReq{v.idle(addr)}, txs: []plannedTx{{d.oracle(), penalty}}})
}

// pod returns the native ETH a staker's pod holds (ok false without one).
func (d *Driver) pod(v *stepView, addr ledger.Address) (uint256.Int, bool) {
	if v.touched[addr] {
		return uint256.Int{}, false
	}
	p := v.l.Account(addr).Pod
	if p == nil {
		return uint256.Int{}, false
	}
	held := uint256.Int(p.ETHHeld)
	return held, !held.IsZero()
}

// planCompletions completes the unlocked withdrawals of stakers known to
// have queued some (checking up to watchChecksMax of them), mostly as
// tokens, one time in five as shares (restaked again). Stakers with
// nothing queued leave the watch list.
func (d *Driver) planCompletions(v *stepView) {
	for range min(len(d.watch), watchChecksMax) {
		if len(d.watch) == 0 {
			return
		}
		k := d.rng.intn(len(d.watch))
		i := d.watch[k]
		addr := d.staker(i)
		if v.touched[addr] {
			continue
		}
		queued := v.l.Account(addr).Withdrawals
		if len(queued) == 0 {
			d.watch[k] = d.watch[len(d.watch)-1]
			d.watch = d.watch[:len(d.watch)-1]
			delete(d.watched, i)
			continue
		}
		var txs []plannedTx
		for _, w := range queued {
			if w.UnlockBlock <= v.height+1 { // the next block is the earliest that can include it
				txs = append(txs, plannedTx{stakerSigner(i), ledger.CompleteWithdrawal{Withdrawal: w.ID,
					AsTokens: d.rng.chance(4, 5)}})
			}
		}
		if len(txs) > 0 && v.claim(addr) {
			v.add(bundle{idle: []idleReq{v.idle(addr)}, txs: txs})
		}
	}
}

// planClaims has a few stakers and operators claim every reward token they
// have earned.
func (d *Driver) planClaims(v *stepView) {
	for range d.rng.between(5, 15) {
		i := d.anyStaker()
		d.planClaim(v, stakerSigner(i), d.staker(i))
	}
	for range d.rng.between(1, 3) {
		o := d.rng.intn(len(d.net.operators))
		d.planClaim(v, signer{"operator", o}, d.net.operators[o])
	}
}

func (d *Driver) planClaim(v *stepView, from signer, addr ledger.Address) {
	if v.touched[addr] {
		return
	}
	var txs []plannedTx
	for _, t := range d.net.rewardTokens {
		if c := v.l.Claimable(addr, t); !c.IsZero() {
			txs = append(txs, plannedTx{from, ledger.ClaimRewards{Token: t}})
		}
	}
	if len(txs) > 0 && v.claim(addr) {
		v.add(bundle{idle: []idleReq{v.idle(addr)}, txs: txs})
	}
}

// planDeposits has a few token holders deposit 0.01 to 10 ETH worth (one
// time in 20 a hundred times more), mostly into a strategy they already
// hold, from their wallet when it has enough, otherwise from newly minted
// tokens (a purchase, as far as the ledger can tell).
func (d *Driver) planDeposits(v *stepView) {
	for range d.rng.between(2, 6) {
		i := d.token[d.rng.intn(len(d.token))]
		addr := d.staker(i)
		if v.touched[addr] {
			continue
		}
		name := d.depositAsset(v, addr)
		amount := mulU(*uint256.NewInt(d.rng.between(1, 1000)), wad/100)
		if d.rng.chance(1, 20) {
			amount = mulU(amount, 100)
		}
		var txs []plannedTx
		if bal := v.l.Balance(addr, name); bal.Lt(&amount) {
			if !bal.IsZero() && d.rng.chance(1, 2) {
				amount = bal
			} else {
				txs = append(txs, plannedTx{d.admin(), ledger.Mint{Account: addr, Token: name, Amount: amount}})
			}
		}
		txs = append(txs, plannedTx{stakerSigner(i), ledger.Deposit{Strategy: name, Amount: amount}})
		v.claim(addr)
		v.add(bundle{idle: []idleReq{v.idle(addr)}, txs: txs})
	}
}

// depositAsset picks the strategy of a deposit: two times in three one the
// staker holds (or has a wallet balance of), otherwise any.
func (d *Driver) depositAsset(v *stepView, addr ledger.Address) string {
	var held []string
	for _, a := range tokenAssets {
		name := assetNames[a]
		shares, bal := v.l.DepositShares(addr, name), v.l.Balance(addr, name)
		if !shares.IsZero() || !bal.IsZero() {
			held = append(held, name)
		}
	}
	if len(held) > 0 && d.rng.chance(2, 3) {
		return held[d.rng.intn(len(held))]
	}
	return assetNames[tokenAssets[d.rng.intn(len(tokenAssets))]]
}

// planNewStakers brings one to three new stakers in, each delegating to an
// operator drawn by the operators' weights: two in three with 1 to 4 new
// validators, the others with 0.01 to 32 ETH of a token. One step in
// redelegateOneIn a staker also moves to another operator (which queues
// withdrawals of everything it holds, as EigenLayer's redelegate does).
func (d *Driver) planNewStakers(v *stepView) {
	for range d.rng.between(1, 3) {
		i, ok := d.freshStaker(v)
		if !ok {
			break
		}
		addr := d.staker(i)
		v.claim(addr)
		op := ledger.Delegate{Operator: d.net.operators[d.opPick.pick(d.rng)]}
		if d.rng.chance(2, 3) {
			d.native = append(d.native, i)
			v.add(bundle{txs: []plannedTx{{stakerSigner(i), op}, {d.oracle(), ledger.BeaconBalanceUpdate{
				Staker: addr, DeltaWei: ether(d.rng.between(1, 4) * validatorETH)}}}})
			continue
		}
		d.token = append(d.token, i)
		name := assetNames[tokenAssets[d.rng.intn(len(tokenAssets))]]
		amount := mulU(*uint256.NewInt(d.rng.between(1, 3200)), wad/100)
		v.add(bundle{txs: []plannedTx{
			{d.admin(), ledger.Mint{Account: addr, Token: name, Amount: amount}},
			{stakerSigner(i), ledger.Deposit{Strategy: name, Amount: amount}},
			{stakerSigner(i), op},
		}})
	}
	if d.rng.chance(1, redelegateOneIn) {
		d.planRedelegate(v)
	}
}

// freshStaker returns the next staker index past the network's that has
// never been used (on a restarted chain, earlier runs used some).
func (d *Driver) freshStaker(v *stepView) (int, bool) {
	for range freshTriesMax {
		i := len(d.net.stakers) + d.nextFresh
		d.nextFresh++
		addr := d.staker(i)
		if v.l.TxNonce(addr) == 0 && v.l.DelegatedTo(addr).IsZero() && !v.touched[addr] {
			return i, true
		}
	}
	return 0, false
}

func (d *Driver) planRedelegate(v *stepView) {
	i := d.anyStaker()
	addr := d.staker(i)
	cur := v.l.DelegatedTo(addr)
	if cur.IsZero() || v.touched[addr] || len(v.l.Account(addr).Positions) == 0 {
		return
	}
	next := d.net.operators[d.opPick.pick(d.rng)]
	if next == cur {
		return
	}
	v.claim(addr)
	d.watchStaker(i)
	v.add(bundle{idle: []idleReq{v.idle(addr)},
		txs: []plannedTx{{stakerSigner(i), ledger.Redelegate{Operator: next}}}})
}

// planWithdrawals has one to four stakers queue a withdrawal of 10% to 50%
// of one position (one time in ten all of it).
func (d *Driver) planWithdrawals(v *stepView) {
	for range d.rng.between(1, 4) {
		i := d.anyStaker()
		addr := d.staker(i)
		if v.touched[addr] {
			continue
		}
		acct := v.l.Account(addr)
		if len(acct.Withdrawals) > 0 {
			d.watchStaker(i) // queued in an earlier run of the demo, say
		}
		positions := acct.Positions
		if len(positions) == 0 {
			continue
		}
		p := positions[d.rng.intn(len(positions))]
		pct := d.rng.between(10, 50)
		if d.rng.chance(1, 10) {
			pct = 100
		}
		shares := mulDivU(uint256.Int(p.DepositShares), pct, 100)
		if p.Strategy == ledger.BeaconStrategy && pct < 100 { // whole gwei, as validators exit
			var rem uint256.Int
			rem.Mod(&shares, uint256.NewInt(gweiWei))
			shares.Sub(&shares, &rem)
		}
		if shares.IsZero() {
			continue
		}
		v.claim(addr)
		d.watchStaker(i)
		queue := ledger.QueueWithdrawal{Strategies: []string{p.Strategy},
			DepositShares: []uint256.Int{shares}}
		v.add(bundle{idle: []idleReq{v.idle(addr)}, txs: []plannedTx{{stakerSigner(i), queue}}})
	}
}

// planRewards, one step in rewardsOneIn, has a service (drawn by weight)
// submit another 4 to 10 weeks of rewards at its genesis weekly rate,
// starting at the current interval, topping its budget up first when it
// runs short.
func (d *Driver) planRewards(v *stepView) {
	if !d.rng.chance(1, rewardsOneIn) {
		return
	}
	s := d.svcPick.pick(d.rng)
	addr, p := d.net.services[s], d.net.rewards[s]
	params := v.l.Params()
	start := v.time - v.time%params.CalculationIntervalSeconds
	if start < params.GenesisRewardsTimestamp || !v.claim(addr) {
		return
	}
	weeks := d.rng.between(4, 10)
	var amount uint256.Int
	amount.Div(&p.amount, uint256.NewInt(p.weeks))
	amount = mulU(amount, weeks)
	var txs []plannedTx
	if bal := v.l.Balance(addr, p.token); bal.Lt(&amount) {
		topUp := ledger.Mint{Account: addr, Token: p.token, Amount: mulU(amount, 3)}
		txs = append(txs, plannedTx{d.admin(), topUp})
	}
	mult := make([]uint256.Int, len(p.strategies))
	for k := range mult {
		mult[k] = *uint256.NewInt(wad)
	}
	txs = append(txs, plannedTx{signer{"avs", s}, ledger.SubmitRewards{Token: p.token, Amount: amount,
		Strategies: p.strategies, Multipliers: mult, StartTime: start,
		Duration: weeks * params.CalculationIntervalSeconds}})
	v.add(bundle{idle: []idleReq{v.idle(addr)}, txs: txs})
}
