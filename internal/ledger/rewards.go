package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/rewardtree"
	"github.com/restake/restake/internal/wad"
)

// Rewards: services pay for security in any token over a time range; the
// ledger streams each payment, one calculation interval at a time, to the
// operators registered in the service's operator sets in proportion to their
// slashable (allocated) stake in the listed strategies, weighted by the
// multipliers. Each operator keeps its commission; the rest goes to its
// delegated stakers through a cumulative reward index per (operator,
// strategy, token), so an interval costs O(operators × strategies) and a
// claim O(the earner's strategies), never O(stakers).
//
// Split (restake's convention, spec eigenlayer.md §2.7): the protocol fee and
// the operator's commission are both shares of the gross amount. With the
// defaults the protocol keeps 5% at submission, the operator 5% and stakers
// 90%.
//
// The index counts reward per unit of a staker's scaled shares
// x = mulWad(s, k), with the operator's max magnitude m at accrual folded
// in: a staker with withdrawable shares a = x·m earns a·Δ where Δ is the
// reward per withdrawable share. Slashing lowers m for later accruals only,
// so it needs no per-staker work; a staker's own changes (deposits,
// withdrawals, delegation, beacon balance) settle its index first.
// Every division rounds down: the pool keeps the dust, so every token is
// conserved to the wei.

// rewardIndexUnit scales reward indices (1e36 keeps precision for a wei of
// reward per 1e36 shares).
var rewardIndexUnit = *new(uint256.Int).Exp(uint256.NewInt(10), uint256.NewInt(36))

// maxRewardsAmount is MAX_REWARDS_AMOUNT (1e38 - 1).
var maxRewardsAmount = *maxTotalShares

const bipsOne = 10_000

// DefaultTreasury receives protocol fees when the configuration names no
// treasury: keccak256("restake/treasury")[12:].
var DefaultTreasury = func() Address {
	h := Keccak256([]byte("restake/treasury"))
	var a Address
	copy(a[:], h[12:])
	return a
}()

// SubmitRewards pays Amount of Token for [StartTime, StartTime+Duration)
// to the sender's operator sets, weighted by Strategies and Multipliers
// (createAVSRewardsSubmission). The sender is the AVS.
type SubmitRewards struct {
	Token       string
	Amount      uint256.Int
	Strategies  []string
	Multipliers []uint256.Int
	StartTime   uint64
	Duration    uint64
}

// SetOperatorSplit sets the sender's commission for one AVS, in bips of the
// gross reward, effective after the activation delay (setOperatorAVSSplit).
type SetOperatorSplit struct {
	AVS  Address
	Bips uint32
}

// ClaimRewards pays the sender everything it has earned in Token.
type ClaimRewards struct{ Token string }

// SubmitRewardsResult is the protocol fee taken and the amount escrowed.
type SubmitRewardsResult struct {
	ID          uint64
	ProtocolFee uint256.Int
	Escrowed    uint256.Int
}

// ClaimResult is the amount paid.
type ClaimResult struct{ Amount uint256.Int }

// OpName implementations.
func (SubmitRewards) OpName() string    { return "submit_rewards" }
func (SetOperatorSplit) OpName() string { return "set_operator_split" }
func (ClaimRewards) OpName() string     { return "claim" }

// submission is an accepted rewards submission still streaming.
type submission struct {
	id          uint64
	avs         Address
	token       *token
	strategies  []string
	multipliers []uint256.Int
	start, end  uint64
	escrowed    uint256.Int // after the protocol fee
	remaining   uint256.Int // not yet accrued
	next        uint64      // start of the next interval to accrue
}

// rewardIndex is the cumulative reward per unit of scaled shares (times
// rewardIndexUnit) of one token for one operator and strategy.
type rewardIndex struct {
	token *token
	j     uint256.Int
}

// rewardSnap is the index a staker's position last settled at.
type rewardSnap struct {
	token *token
	j     uint256.Int
}

// tokenAmount is an amount of one token (claimable or claimed).
type tokenAmount struct {
	token  *token
	amount uint256.Int
}

// operatorSplit is OperatorSplit for one AVS.
type operatorSplit struct {
	avs         Address
	oldBips     uint32
	newBips     uint32
	activatedAt uint64
	initialized bool
}

// splitFor returns the operator's effective commission for an AVS: the
// default until its first setting activates, then the new split from its
// activation time and the old one before.
func (l *Ledger) splitFor(acct *account, avs Address) uint32 {
	if acct != nil {
		for _, s := range acct.splits {
			if s.avs != avs {
				continue
			}
			if l.time >= s.activatedAt {
				return s.newBips
			}
			if s.initialized {
				return s.oldBips
			}
		}
	}
	return l.params.DefaultOperatorSplitBips
}

// submitRewards validates and escrows a submission (spec §4.7), taking the
// protocol fee for the treasury at once.
func (l *Ledger) submitRewards(sender Address, op SubmitRewards) (SubmitRewardsResult, *Error) {
	if err := l.checkSubmission(sender, op); err != nil {
		return SubmitRewardsResult{}, err
	}
	t := l.tokens[op.Token]
	if bal := l.accounts[sender].balanceOf(t); t == nil || bal.Lt(&op.Amount) {
		return SubmitRewardsResult{}, ErrInsufficientBalance
	}
	var c wad.Checked
	fee := c.MulDiv(op.Amount, wad.U(uint64(l.params.ProtocolFeeBips)), wad.U(bipsOne), wad.Floor)
	escrowed := c.Sub(op.Amount, fee)
	if c.Failed() {
		return SubmitRewardsResult{}, ErrArithmeticOverflow
	}
	// After this point the operation must succeed.
	l.accounts[sender].debit(t, op.Amount)
	treasury := l.accountOrNew(l.treasury)
	treasury.credit(t, fee)
	l.dirty.account(l.accounts[sender])
	l.dirty.account(treasury)
	l.dirty.token(t)
	t.rewardsHeld.Add(&t.rewardsHeld, &escrowed)
	l.nextSubmission++
	s := &submission{id: l.nextSubmission, avs: sender, token: t,
		strategies: append([]string(nil), op.Strategies...), multipliers: append([]uint256.Int(nil), op.Multipliers...),
		start: op.StartTime, end: op.StartTime + op.Duration, escrowed: escrowed, remaining: escrowed, next: op.StartTime}
	l.submissions = append(l.submissions, s)
	l.dirty.submission(s.id)
	l.emit(Event{Kind: EvRewardsSubmitted, Account: sender, Token: t.name, N: s.id, Amount: escrowed, Amount2: fee})
	return SubmitRewardsResult{ID: s.id, ProtocolFee: fee, Escrowed: escrowed}, nil
}

// checkSubmission is RewardsCoordinator's _validateRewardsSubmission, in
// its order.
func (l *Ledger) checkSubmission(sender Address, op SubmitRewards) *Error {
	p := l.params
	if l.avss[sender] == nil {
		return ErrNonexistentAVSMetadata
	}
	if len(op.Strategies) != len(op.Multipliers) {
		return ErrInputArrayLengthMismatch
	}
	if len(op.Strategies) == 0 {
		return ErrInputArrayLengthZero
	}
	if len(op.Strategies) > InputArrayMax {
		return ErrInputArrayLengthExceedsMax
	}
	if op.Duration > p.MaxRewardsDurationSeconds {
		return ErrDurationExceedsMax
	}
	if op.Duration%p.CalculationIntervalSeconds != 0 {
		return ErrInvalidDurationRemainder
	}
	if op.Duration == 0 {
		return ErrDurationIsZero
	}
	if op.StartTime%p.CalculationIntervalSeconds != 0 {
		return ErrInvalidStartTimestampRemainder
	}
	if op.StartTime+p.MaxRetroactiveLengthSeconds < l.time || op.StartTime < p.GenesisRewardsTimestamp {
		return ErrStartTimestampTooFarInPast
	}
	for i, name := range op.Strategies {
		if l.strategyByName(name) == nil {
			return ErrStrategyNotWhitelisted
		}
		if i > 0 && name <= op.Strategies[i-1] {
			return ErrStrategiesMustBeInAscendingOrder
		}
	}
	if !ValidName(op.Token) {
		return ErrInvalidName
	}
	if op.Amount.IsZero() {
		return ErrAmountIsZero
	}
	if op.Amount.Gt(&maxRewardsAmount) {
		return ErrAmountExceedsMax
	}
	if op.StartTime > l.time+p.MaxFutureLengthSeconds {
		return ErrStartTimestampTooFarInFuture
	}
	return nil
}

// setOperatorSplit is _setOperatorSplit for (sender, avs).
func (l *Ledger) setOperatorSplit(sender Address, op SetOperatorSplit) *Error {
	if op.Bips > bipsOne {
		return ErrSplitExceedsMax
	}
	acct := l.accounts[sender]
	var cur *operatorSplit
	if acct != nil {
		for i := range acct.splits {
			if acct.splits[i].avs == op.AVS {
				cur = &acct.splits[i]
			}
		}
	}
	if cur != nil && l.time <= cur.activatedAt {
		return ErrPreviousSplitPending
	}
	// After this point the operation must succeed.
	if cur == nil {
		acct = l.accountOrNew(sender)
		acct.splits = append(acct.splits, operatorSplit{avs: op.AVS})
		cur = &acct.splits[len(acct.splits)-1]
		cur.oldBips = l.params.DefaultOperatorSplitBips
	} else {
		cur.oldBips, cur.initialized = cur.newBips, true
	}
	cur.newBips = op.Bips
	cur.activatedAt = l.time + l.params.ActivationDelaySeconds
	l.dirty.account(acct)
	l.emit(Event{Kind: EvOperatorSplitSet, Account: sender, Other: op.AVS, N: uint64(op.Bips),
		Amount: wad.U(cur.activatedAt)})
	return nil
}

// claimRewards settles the sender and pays its claimable amount of a token.
func (l *Ledger) claimRewards(sender Address, op ClaimRewards) (ClaimResult, *Error) {
	t := l.tokens[op.Token]
	acct := l.accounts[sender]
	owed := l.claimable(acct, t)
	if owed.IsZero() {
		return ClaimResult{}, ErrEarningsNotGreaterThanClaimed
	}
	// After this point the operation must succeed.
	l.settleAll(acct)
	paid := acct.takeClaimable(t)
	if !paid.Eq(&owed) || t.rewardsHeld.Lt(&paid) {
		violated("claim of %s %s: settled %s, pool %s", owed.Dec(), t.name, paid.Dec(), t.rewardsHeld.Dec())
	}
	t.rewardsHeld.Sub(&t.rewardsHeld, &paid)
	acct.credit(t, paid)
	acct.addClaimed(t, paid)
	l.dirty.account(acct)
	l.dirty.token(t)
	l.emit(Event{Kind: EvRewardsClaimed, Account: sender, Token: t.name, Amount: paid})
	return ClaimResult{Amount: paid}, nil
}

// Claimable returns what an earner could claim now in a token: settled
// earnings plus what its positions earned since they last settled.
func (l *Ledger) Claimable(earner Address, tok string) uint256.Int {
	return l.claimable(l.accounts[earner], l.tokens[tok])
}

// Claimed returns everything an earner has claimed in a token.
func (l *Ledger) Claimed(earner Address, tok string) uint256.Int {
	acct, t := l.accounts[earner], l.tokens[tok]
	if acct == nil || t == nil {
		return uint256.Int{}
	}
	for _, c := range acct.claimed {
		if c.token == t {
			return c.amount
		}
	}
	return uint256.Int{}
}

func (l *Ledger) claimable(acct *account, t *token) uint256.Int {
	var total uint256.Int
	if acct == nil || t == nil {
		return total
	}
	for _, c := range acct.claimables {
		if c.token == t {
			total = c.amount
		}
	}
	op := acct.operatorOf()
	if op == nil {
		return total
	}
	for i := range acct.positions {
		p := &acct.positions[i]
		e := pendingEarnings(op.opStrategy(p.strategy.name), p.shares, p.dsf, wadU64, p.snaps, t)
		total.Add(&total, &e)
	}
	if p := acct.pod; p != nil {
		e := pendingEarnings(op.opStrategy(BeaconStrategy), p.shares, p.dsf, acct.beaconFactor(), p.snaps, t)
		total.Add(&total, &e)
	}
	return total
}

// pendingEarnings is what a position earned in token t since its snapshot:
// x·(J − last)/unit with x the scaled shares (times l for native ETH). An
// overflow (unreachable with realistic amounts) earns nothing: the pool
// keeps it.
func pendingEarnings(os *opStrategy, shares, dsf uint256.Int, lf uint64, snaps []rewardSnap, t *token) uint256.Int {
	if os == nil {
		return uint256.Int{}
	}
	for _, idx := range os.rewards {
		if idx.token != t {
			continue
		}
		var last uint256.Int
		for _, s := range snaps {
			if s.token == t {
				last = s.j
			}
		}
		var c wad.Checked
		x := c.MulWad(shares, scalingFactor(dsf))
		if lf != wadU64 {
			x = c.MulWad(x, wad.U(lf))
		}
		e := c.MulDiv(x, c.Sub(idx.j, last), rewardIndexUnit, wad.Floor)
		if c.Failed() {
			return uint256.Int{}
		}
		return e
	}
	return uint256.Int{}
}

// settleAll credits everything the account's positions earned and moves
// their snapshots to the current indices (mutation phase; cannot fail).
func (l *Ledger) settleAll(acct *account) {
	if acct == nil {
		return
	}
	for i := range acct.positions {
		l.settlePosition(acct, acct.positions[i].strategy)
	}
	if acct.pod != nil {
		l.settlePosition(acct, l.beacon)
	}
}

// settlePosition settles one position (no-op when absent or undelegated).
func (l *Ledger) settlePosition(acct *account, s *strategy) {
	op := acct.operatorOf()
	shares, dsf, snaps := acct.positionRewards(s)
	if op == nil || snaps == nil {
		return
	}
	os := op.opStrategy(s.name)
	if os == nil {
		return
	}
	lf := wadU64
	if s.native {
		lf = acct.beaconFactor()
	}
	for _, idx := range os.rewards {
		e := pendingEarnings(os, shares, dsf, lf, *snaps, idx.token)
		if !e.IsZero() {
			acct.addClaimable(idx.token, e)
		}
	}
	*snaps = currentSnaps(os, (*snaps)[:0])
	l.dirty.account(acct)
}

// snapshotAll moves every position's snapshots to its operator's current
// indices: after joining an operator, or after a position is created.
func (l *Ledger) snapshotAll(acct *account) {
	op := acct.operatorOf()
	for i := range acct.positions {
		p := &acct.positions[i]
		p.snaps = currentSnaps(op.opStrategy(p.strategy.name), p.snaps[:0])
	}
	if acct.pod != nil {
		acct.pod.snaps = currentSnaps(op.opStrategy(BeaconStrategy), acct.pod.snaps[:0])
	}
	l.dirty.account(acct)
}

// snapshotPosition moves one position's snapshots to the current indices.
func (l *Ledger) snapshotPosition(acct *account, s *strategy) {
	_, _, snaps := acct.positionRewards(s)
	if snaps != nil {
		*snaps = currentSnaps(acct.operatorOf().opStrategy(s.name), (*snaps)[:0])
		l.dirty.account(acct)
	}
}

func currentSnaps(os *opStrategy, dst []rewardSnap) []rewardSnap {
	if os == nil {
		return dst
	}
	for _, idx := range os.rewards {
		dst = append(dst, rewardSnap{token: idx.token, j: idx.j})
	}
	return dst
}

// positionRewards returns a position's shares, k and snapshots (nil snaps
// when the staker holds no such position).
func (acct *account) positionRewards(s *strategy) (shares, dsf uint256.Int, snaps *[]rewardSnap) {
	if s.native {
		if acct.pod == nil {
			return
		}
		return acct.pod.shares, acct.pod.dsf, &acct.pod.snaps
	}
	if p := acct.position(s); p != nil {
		return p.shares, p.dsf, &p.snaps
	}
	return
}

func addTo(list *[]tokenAmount, t *token, v uint256.Int) {
	for i := range *list {
		if (*list)[i].token == t {
			a := &(*list)[i].amount
			a.Add(a, &v)
			return
		}
	}
	*list = append(*list, tokenAmount{token: t, amount: v})
}

func (acct *account) addClaimable(t *token, v uint256.Int) { addTo(&acct.claimables, t, v) }
func (acct *account) addClaimed(t *token, v uint256.Int)   { addTo(&acct.claimed, t, v) }

// takeClaimable removes and returns the settled claimable amount of t.
func (acct *account) takeClaimable(t *token) uint256.Int {
	for i, c := range acct.claimables {
		if c.token == t {
			acct.claimables = append(acct.claimables[:i], acct.claimables[i+1:]...)
			return c.amount
		}
	}
	return uint256.Int{}
}

// accrueRewards streams every submission over the calculation intervals
// that ended at or before upTo (the next block's time), valued on the
// current state. BeginBlock calls it before moving the clock.
func (l *Ledger) accrueRewards(upTo uint64) {
	interval := l.params.CalculationIntervalSeconds
	kept := l.submissions[:0]
	for _, s := range l.submissions {
		for s.next < s.end && s.next+interval <= upTo {
			amount := s.remaining
			if s.next+interval < s.end {
				var c wad.Checked
				amount = c.MulDiv(s.escrowed, wad.U(interval), wad.U(s.end-s.start), wad.Floor)
			}
			s.remaining.Sub(&s.remaining, &amount)
			l.distribute(s, amount)
			s.next += interval
			l.dirty.submission(s.id)
		}
		if s.next < s.end {
			kept = append(kept, s)
		}
	}
	for i := len(kept); i < len(l.submissions); i++ {
		l.submissions[i] = nil
	}
	l.submissions = kept
}

// opWeight is one operator's stake weight for a submission, per strategy.
type opWeight struct {
	addr   Address
	acct   *account
	per    []uint256.Int // per submission strategy: Σ_sets multiplier × slashable stake
	weight uint256.Int
}

// distribute pays one interval of a submission: commission to each
// operator's claimable, the rest into its reward indices. With no stake at
// all, the amount stays in the pool, undistributed.
func (l *Ledger) distribute(s *submission, amount uint256.Int) {
	weights, total := l.weights(s)
	if total.IsZero() || amount.IsZero() {
		l.emit(Event{Kind: EvRewardsAccrued, Account: s.avs, Token: s.token.name, N: s.id, Amount2: amount})
		return
	}
	var c wad.Checked
	feeBips := uint64(l.params.ProtocolFeeBips)
	for _, w := range weights {
		if w.weight.IsZero() {
			continue
		}
		share := c.MulDiv(amount, w.weight, total, wad.Floor)
		commission := share
		if feeBips < bipsOne {
			commission = wad.Min(share,
				c.MulDiv(share, wad.U(uint64(l.splitFor(w.acct, s.avs))), wad.U(bipsOne-feeBips), wad.Floor))
		}
		stakers := c.Sub(share, commission)
		if c.Failed() {
			return
		}
		if !commission.IsZero() {
			w.acct.addClaimable(s.token, commission)
			l.dirty.account(w.acct)
		}
		l.addToIndices(w, s, stakers)
	}
	l.emit(Event{Kind: EvRewardsAccrued, Account: s.avs, Token: s.token.name, N: s.id, Amount: amount})
}

// addToIndices spreads an operator's stakers' part over the submission's
// strategies by weight and raises each (operator, strategy, token) index.
func (l *Ledger) addToIndices(w opWeight, s *submission, stakers uint256.Int) {
	op := w.acct.operator
	for i, name := range s.strategies {
		if w.per[i].IsZero() {
			continue
		}
		os := op.opStrategy(name)
		if os == nil || os.shares.IsZero() {
			continue
		}
		var c wad.Checked
		part := c.MulDiv(stakers, w.per[i], w.weight, wad.Floor)
		perShare := c.MulDiv(part, rewardIndexUnit, os.shares, wad.Floor)
		inc := c.MulDiv(perShare, wad.U(os.maxMagnitude()), wad.One, wad.Floor)
		if c.Failed() || inc.IsZero() {
			continue
		}
		os.addIndex(s.token, inc)
		l.dirty.opStrategy(os)
	}
}

func (os *opStrategy) addIndex(t *token, inc uint256.Int) {
	for i := range os.rewards {
		if os.rewards[i].token == t {
			j := &os.rewards[i].j
			j.Add(j, &inc)
			return
		}
	}
	os.rewards = append(os.rewards, rewardIndex{token: t, j: inc})
}

// weights returns every operator registered in any of the submission's
// AVS's sets, in address order, with its slashable stake in the listed
// strategies weighted by the multipliers, and their total.
func (l *Ledger) weights(s *submission) ([]opWeight, uint256.Int) {
	var total uint256.Int
	a := l.avss[s.avs]
	if a == nil {
		return nil, total
	}
	byOp := map[Address]*opWeight{}
	for _, id := range a.sets {
		key := OperatorSet{AVS: s.avs, ID: id}
		set := l.sets[key]
		for _, m := range sortedAddrs(set.members) {
			w := byOp[m]
			if w == nil {
				w = &opWeight{addr: m, acct: l.accounts[m], per: make([]uint256.Int, len(s.strategies))}
				byOp[m] = w
			}
			for i, name := range s.strategies {
				var c wad.Checked
				// stake × multiplier, unscaled: exact weights keep the
				// proportions exact, so only the final shares round.
				stake := l.slashableStake(w.acct, key, name, l.height)
				v := c.MulDiv(stake, s.multipliers[i], wad.U(1), wad.Floor)
				sum := c.Add(w.per[i], v)
				if !c.Failed() {
					w.per[i] = sum
				}
			}
		}
	}
	out := make([]opWeight, 0, len(byOp))
	for _, addr := range sortedAddrs(byOp) {
		w := byOp[addr]
		var c wad.Checked
		for i := range w.per {
			w.weight = c.Add(w.weight, w.per[i])
		}
		next := c.Add(total, w.weight)
		if c.Failed() {
			continue // an absurd weight is left out rather than overflow
		}
		total = next
		out = append(out, *w)
	}
	return out, total
}

// TokenAddress is the 20-byte address a token has in rewards Merkle leaves:
// keccak256("restake/token/" + name)[12:], until genesis can map tokens to
// the addresses of their contracts.
func TokenAddress(name string) Address {
	h := Keccak256([]byte("restake/token/" + name))
	var a Address
	copy(a[:], h[12:])
	return a
}

// Earnings returns every earner's cumulative earnings (claimed + claimable)
// per token, earners in address order: the leaves of the rewards Merkle
// tree. It reads the whole state.
func (l *Ledger) Earnings() []rewardtree.Earnings {
	var out []rewardtree.Earnings
	tokens := sortedNames(l.tokens)
	for _, a := range sortedAddrs(l.accounts) {
		acct := l.accounts[a]
		var e rewardtree.Earnings
		for _, name := range tokens {
			t := l.tokens[name]
			total := l.claimable(acct, t)
			claimed := l.Claimed(a, name)
			total.Add(&total, &claimed)
			if !total.IsZero() {
				e.Tokens = append(e.Tokens, rewardtree.TokenLeaf{Token: rewardtree.Address(TokenAddress(name)),
					CumulativeEarnings: total})
			}
		}
		if len(e.Tokens) > 0 {
			e.Earner = rewardtree.Address(a)
			out = append(out, e)
		}
	}
	return out
}

// RewardsDistribution builds the EigenLayer-compatible Merkle tree of every
// earner's cumulative earnings now.
func (l *Ledger) RewardsDistribution() (*rewardtree.Distribution, error) {
	return rewardtree.NewDistribution(l.Earnings())
}
