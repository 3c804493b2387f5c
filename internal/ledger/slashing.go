package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// slashEntry is one strategy of a slash, checked and computed.
type slashEntry struct {
	name       string
	strategy   *strategy  // nil for a name that is not (yet) a strategy
	skip       bool       // the allocation was zero: nothing happens
	alloc      allocation // after the slash
	encumbered uint64
	newMax     uint64
	wadSlashed uint256.Int
	opSlashed  uint256.Int // taken from operator shares
	total      uint256.Int // operator shares + shares still in the queue
}

// slash is AllocationManager.slashOperator followed, per strategy, by
// DelegationManager.slashOperatorShares (spec §4.5). The cost depends on the
// number of strategies slashed, never on the number of stakers: stakers
// lose through the operator's lower max magnitude, and queued withdrawals
// through the cumulative scaled-shares history (one binary search).
//
// Slashed shares are not burned here: they are held under (set, slash id)
// until clear_slashed burns or redistributes them. Native ETH is never held:
// it stays in the pods, lost to stakers through lower withdrawable shares.
func (l *Ledger) slash(sender Address, op Slash) (SlashResult, *Error) {
	n := len(op.Strategies)
	if n != len(op.Wads) {
		return SlashResult{}, ErrInputArrayLengthMismatch
	}
	if n > InputArrayMax {
		return SlashResult{}, ErrInputArrayLengthExceedsMax
	}
	set := l.sets[op.Set]
	if set == nil {
		return SlashResult{}, ErrInvalidOperatorSet
	}
	opAcct := l.accounts[op.Operator]
	if !l.isSlashable(opAcct, op.Set) {
		return SlashResult{}, ErrOperatorNotSlashable
	}
	if sender != l.slasherOf(set) {
		return SlashResult{}, ErrInvalidCaller
	}
	one := wad.One
	for i, name := range op.Strategies {
		if i > 0 && name <= op.Strategies[i-1] {
			return SlashResult{}, ErrStrategiesMustBeInAscendingOrder
		}
		if op.Wads[i].IsZero() || op.Wads[i].Gt(&one) {
			return SlashResult{}, ErrInvalidWadToSlash
		}
		if !set.has(name) {
			return SlashResult{}, ErrStrategyNotInOperatorSet
		}
	}
	// Most slashes name a few strategies: plan them on the stack.
	var buf [4]slashEntry
	entries := buf[:0]
	if n > len(buf) {
		entries = make([]slashEntry, 0, n)
	}
	entries, err := l.planSlash(opAcct.operator, op, entries[:n])
	if err != nil {
		return SlashResult{}, err
	}
	// After this point the operation must succeed.
	return l.applySlash(opAcct, set, op, entries), nil
}

// planSlash computes every strategy of a checked slash into entries (one
// per strategy).
func (l *Ledger) planSlash(opr *operator, op Slash, entries []slashEntry) ([]slashEntry, *Error) {
	var c wad.Checked
	for i, name := range op.Strategies {
		e := &entries[i]
		*e = slashEntry{}
		e.name, e.strategy = name, l.strategyByName(name)
		os := opr.opStrategy(name)
		if os == nil {
			// Never allocated: current is zero.
			e.skip = true
			continue
		}
		a, enc := l.updated(opr.allocationOf(op.Set, name), os.encumbered)
		if a.current == 0 {
			e.skip = true
			continue
		}
		wadToSlash := op.Wads[i]
		smU := c.MulWadUp(wad.U(a.current), wadToSlash)
		sm := smU.Uint64() // at most current, since wad <= WAD
		prevMax := os.maxMagnitude()
		e.wadSlashed = c.DivWad(wad.U(sm), wad.U(prevMax))
		a.current -= sm
		e.newMax = prevMax - sm
		e.encumbered = enc - sm
		if a.pendingDiff < 0 {
			// A deallocation still in its window is slashed too, so less
			// magnitude is freed when it completes.
			pendingU := c.MulWadUp(wad.U(uint64(-a.pendingDiff)), wadToSlash)
			pending := pendingU.Uint64()
			a.pendingDiff += int64(pending)
		}
		e.alloc = a
		e.opSlashed = calcSlashedAmount(&c, os.shares, prevMax, e.newMax)
		queued := c.MulWad(l.scaledSharesInWindow(os), wad.U(prevMax))
		e.total = c.Add(e.opSlashed, calcSlashedAmount(&c, queued, prevMax, e.newMax))
	}
	if c.Failed() {
		return nil, ErrArithmeticOverflow
	}
	return entries, nil
}

// scaledSharesInWindow returns the scaled shares queued for withdrawal from
// the operator in the last WithdrawalDelayBlocks blocks, inclusive: those
// still slashable. Near genesis, where the window would start before the
// first block, every queued share is in it.
func (l *Ledger) scaledSharesInWindow(os *opStrategy) uint256.Int {
	latest := os.cumQueued.Latest(uint256.Int{})
	if l.height < l.params.WithdrawalDelayBlocks+1 {
		return latest
	}
	before := os.cumQueued.UpperLookup(l.height-l.params.WithdrawalDelayBlocks-1, uint256.Int{})
	return wad.SatSub(latest, before)
}

func (l *Ledger) applySlash(opAcct *account, set *operatorSet, op Slash, entries []slashEntry) SlashResult {
	set.lastSlashID++
	id := set.lastSlashID
	l.dirty.set(set.key)
	res := SlashResult{SlashID: id, Shares: make([]uint256.Int, len(entries))}
	var held *pendingSlash
	opr := opAcct.operator
	for i := range entries {
		e := &entries[i]
		if e.skip {
			continue
		}
		os := opr.strategies[e.name]
		opr.storeAllocation(op.Set, e.name, e.alloc)
		l.dirty.allocation(opAcct, allocKey{op.Set, e.name})
		l.dirty.opStrategy(os)
		os.encumbered = e.encumbered
		if e.newMax > os.maxMagnitude() || e.encumbered > e.newMax {
			violated("slash would raise max magnitude or leave encumbered %d > max %d", e.encumbered, e.newMax)
		}
		os.maxMag.Push(l.height, e.newMax)
		os.shares.Sub(&os.shares, &e.opSlashed)
		res.Shares[i] = e.total
		switch {
		case e.strategy == nil:
			// Magnitude of a name that is not a strategy: no shares exist.
		case e.strategy.native:
			l.beaconSlashedShares.Add(&l.beaconSlashedShares, &e.total)
		default:
			if held == nil {
				held = &pendingSlash{strategies: make([]*strategy, 0, len(entries)),
					shares: make([]uint256.Int, 0, len(entries))}
			}
			held.strategies = append(held.strategies, e.strategy)
			held.shares = append(held.shares, e.total)
		}
		l.emit(Event{Kind: EvOperatorSlashed, Account: op.Operator, Set: op.Set,
			Strategy: e.name, N: id, Amount: e.total, Amount2: e.wadSlashed})
	}
	if held != nil {
		l.slashes[slashKey{op.Set, id}] = held
		l.dirty.slash(slashKey{op.Set, id})
	}
	return res
}

// clearSlashed is StrategyManager.clearBurnOrRedistributableShares: for each
// strategy a slash recorded, the shares are withdrawn from the strategy and
// the tokens sent to the set's redistribution recipient, or burned. Anyone
// may call it; clearing an unknown or already cleared slash returns nothing.
func (l *Ledger) clearSlashed(op ClearSlashed) (ClearSlashedResult, *Error) {
	key := slashKey{op.Set, op.SlashID}
	held := l.slashes[key]
	if held == nil {
		return ClearSlashedResult{Amounts: []uint256.Int{}}, nil
	}
	var c wad.Checked
	amounts := make([]uint256.Int, len(held.strategies))
	for i, s := range held.strategies {
		// Strategies in one slash are distinct, so each reads its own totals.
		if held.shares[i].Gt(&s.totalShares) {
			return ClearSlashedResult{}, ErrWithdrawalAmountExceedsTotalDeposits
		}
		amounts[i] = tokensForShares(&c, s, held.shares[i])
	}
	if c.Failed() {
		return ClearSlashedResult{}, ErrArithmeticOverflow
	}
	// After this point the operation must succeed.
	recipient := BurnAddress
	if set := l.sets[op.Set]; set != nil && !set.recipient.IsZero() {
		recipient = set.recipient
	}
	to := l.accountOrNew(recipient)
	l.dirty.account(to)
	l.dirty.slash(key)
	for i, s := range held.strategies {
		l.dirty.strategy(s)
		s.totalShares.Sub(&s.totalShares, &held.shares[i])
		s.balance.Sub(&s.balance, &amounts[i])
		to.credit(s.token, amounts[i])
		l.emit(Event{Kind: EvSlashCleared, Account: recipient, Set: op.Set,
			Strategy: s.name, N: op.SlashID, Amount: amounts[i]})
	}
	delete(l.slashes, key)
	return ClearSlashedResult{Amounts: amounts}, nil
}
