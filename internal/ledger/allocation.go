package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// delayAt is getAllocationDelay: the pending delay once its effect block is
// reached, otherwise the current one.
func (d allocationDelay) delayAt(height uint64) (delay uint32, isSet bool) {
	if d.effectBlock != 0 && height >= d.effectBlock {
		return d.pending, true
	}
	return d.delay, d.isSet
}

// setAllocationDelay is AllocationManager.setAllocationDelay called by an
// operator: the new delay applies from now + ALLOCATION_CONFIGURATION_DELAY
// + 1, after any pending change that is already due is applied.
func (l *Ledger) setAllocationDelay(sender Address, op SetAllocationDelay) *Error {
	if !l.isOperator(sender) {
		return ErrInvalidOperator
	}
	// After this point the operation must succeed.
	l.dirty.operator(l.accounts[sender])
	d := &l.accounts[sender].operator.delay
	if d.effectBlock != 0 && l.height >= d.effectBlock {
		d.delay, d.isSet = d.pending, true
	}
	d.pending = op.Delay
	d.effectBlock = l.height + l.params.AllocationConfigurationDelayBlocks + 1
	l.emit(Event{Kind: EvAllocationDelaySet, Account: sender, N: uint64(op.Delay),
		Amount: wad.U(d.effectBlock)})
	return nil
}

// updated is _getUpdatedAllocation: the allocation with its pending change
// applied once the effect block is reached, and the encumbered magnitude
// lowered by a completed decrease.
func (l *Ledger) updated(a allocation, encumbered uint64) (allocation, uint64) {
	if l.height < a.effectBlock {
		return a, encumbered
	}
	a.current = uint64(int64(a.current) + a.pendingDiff)
	if a.pendingDiff < 0 {
		encumbered = uint64(int64(encumbered) + a.pendingDiff)
	}
	a.pendingDiff, a.effectBlock = 0, 0
	return a, encumbered
}

// allocationOf returns the stored allocation (zero when absent; nil-safe).
func (op *operator) allocationOf(set OperatorSet, strategy string) allocation {
	if op == nil {
		return allocation{}
	}
	if a := op.allocations[allocKey{set, strategy}]; a != nil {
		return *a
	}
	return allocation{}
}

func (op *operator) storeAllocation(set OperatorSet, strategy string, a allocation) {
	k := allocKey{set, strategy}
	if a == (allocation{}) {
		delete(op.allocations, k)
		return
	}
	if p := op.allocations[k]; p != nil {
		*p = a
		return
	}
	p := new(allocation) // a new record only: updates write in place
	*p = a
	op.allocations[k] = p
}

// dueDeallocations returns how many entries at the head of the operator's
// deallocation queue for a strategy are due now (stopping at the first
// that is not), and the sum of their pending decreases: what
// _clearDeallocationQueue would pop and release.
func (l *Ledger) dueDeallocations(op *operator, strategy string, limit int) (n int, released int64) {
	os := op.opStrategy(strategy)
	if os == nil {
		return 0, 0
	}
	for _, set := range os.queue {
		if n >= limit {
			break
		}
		a := op.allocationOf(set, strategy)
		if l.height < a.effectBlock {
			break
		}
		released += a.pendingDiff
		n++
	}
	return n, released
}

// popDeallocations completes the first n queue entries (mutation phase).
func (l *Ledger) popDeallocations(op *operator, strategy string, n int) {
	if n == 0 {
		return
	}
	os := op.opStrategy(strategy)
	for _, set := range os.queue[:n] {
		a, enc := l.updated(op.allocationOf(set, strategy), os.encumbered)
		os.encumbered = enc
		op.storeAllocation(set, strategy, a)
		l.dirty.allocation(op.account, allocKey{set, strategy})
	}
	l.dirty.opStrategy(os)
	os.queue = append(os.queue[:0:0], os.queue[n:]...)
}

// clearDeallocationQueue is AllocationManager.clearDeallocationQueue for one
// strategy. Anyone may call it; it only completes what is due.
func (l *Ledger) clearDeallocationQueue(op ClearDeallocationQueue) *Error {
	acct := l.accounts[op.Operator]
	if acct == nil || acct.operator == nil {
		return nil
	}
	n, _ := l.dueDeallocations(acct.operator, op.Strategy, int(op.Count))
	// After this point the operation must succeed.
	l.popDeallocations(acct.operator, op.Strategy, n)
	return nil
}

// allocStage is one strategy's state while modifyAllocations runs, before
// anything is written ("small copies, then a swap").
type allocStage struct {
	strategy   string
	popped     int        // due queue entries to complete first
	poppedSelf bool       // whether this set's allocation was one of them
	encumbered uint64     // after completing them
	alloc      allocation // this set's allocation
	staged     bool       // alloc holds a staged value
	push       bool       // queue a deallocation for this set
}

// modifyAllocations is AllocationManager.modifyAllocations for one operator
// set (spec §4.5). Per strategy, in order: complete the due deallocations,
// read the updated allocation, refuse a second pending change, and then
// either queue a slashable decrease (effective after DEALLOCATION_DELAY + 1),
// apply a non-slashable decrease at once, or encumber an increase
// (effective after the operator's allocation delay).
func (l *Ledger) modifyAllocations(sender Address, op ModifyAllocations) *Error {
	acct := l.accounts[sender]
	var delay uint32
	isSet := false
	if acct != nil && acct.operator != nil {
		delay, isSet = acct.operator.delay.delayAt(l.height)
	}
	if !isSet {
		return ErrUninitializedAllocationDelay
	}
	if len(op.Strategies) != len(op.Magnitudes) {
		return ErrInputArrayLengthMismatch
	}
	if len(op.Strategies) > InputArrayMax {
		return ErrInputArrayLengthExceedsMax
	}
	set := l.sets[op.Set]
	if set == nil {
		return ErrInvalidOperatorSet
	}
	opr := acct.operator
	slashable := l.isSlashable(acct, op.Set)
	var stages []allocStage
	for i, name := range op.Strategies {
		if !ValidName(name) {
			return ErrInvalidName
		}
		st := l.stageFor(&stages, opr, op.Set, name)
		a, enc := st.alloc, st.encumbered
		if !st.staged && !st.poppedSelf {
			a = opr.allocationOf(op.Set, name)
		}
		a, enc = l.updated(a, enc)
		if a.pendingDiff != 0 {
			return ErrModificationAlreadyPending
		}
		next := op.Magnitudes[i]
		if next == a.current {
			return ErrSameMagnitude
		}
		if next > wadU64 {
			return ErrInsufficientMagnitude // an increase beyond any max magnitude
		}
		maxMag := opr.opStrategy(name).maxMagnitude()
		diff := int64(next) - int64(a.current)
		switch {
		case diff < 0 && set.has(name) && slashable && a.current != 0:
			a.pendingDiff = diff
			a.effectBlock = l.height + l.params.DeallocationDelayBlocks + 1
			st.push = true
		case diff < 0:
			enc = uint64(int64(enc) + diff)
			a.current, a.pendingDiff, a.effectBlock = next, 0, l.height
		default:
			enc = uint64(int64(enc) + diff)
			if enc > maxMag {
				return ErrInsufficientMagnitude
			}
			a.pendingDiff = diff
			a.effectBlock = l.height + uint64(delay)
		}
		st.alloc, st.encumbered, st.staged = a, enc, true
	}
	// After this point the operation must succeed.
	for i := range stages {
		st := &stages[i]
		l.popDeallocations(opr, st.strategy, st.popped)
		os := opr.opStrategyOrNew(st.strategy)
		os.encumbered = st.encumbered
		if os.encumbered > os.maxMagnitude() {
			violated("encumbered %d > max %d after modify_allocations", os.encumbered, os.maxMagnitude())
		}
		opr.storeAllocation(op.Set, st.strategy, st.alloc)
		l.dirty.opStrategy(os)
		l.dirty.allocation(acct, allocKey{op.Set, st.strategy})
		if st.push {
			os.queue = append(os.queue, op.Set)
		}
		l.emit(Event{Kind: EvAllocationUpdated, Account: sender, Set: op.Set,
			Strategy: st.strategy, N: st.alloc.effectBlock,
			Amount: wad.U(uint64(int64(st.alloc.current) + st.alloc.pendingDiff))})
	}
	return nil
}

// stageFor returns the stage of a strategy, creating it: the due
// deallocations are completed (in the stage) the first time a strategy is
// seen, as _clearDeallocationQueue runs before each modification.
func (l *Ledger) stageFor(stages *[]allocStage, op *operator, set OperatorSet, name string) *allocStage {
	for i := range *stages {
		if (*stages)[i].strategy == name {
			return &(*stages)[i]
		}
	}
	st := allocStage{strategy: name}
	os := op.opStrategy(name)
	if os != nil {
		st.encumbered = os.encumbered
		n, released := l.dueDeallocations(op, name, len(os.queue))
		st.popped = n
		st.encumbered = uint64(int64(st.encumbered) + released)
		for _, s := range os.queue[:n] {
			if s == set {
				// Completing the entry folds this set's pending decrease.
				st.alloc, _ = l.updated(op.allocationOf(set, name), 0)
				st.poppedSelf = true
			}
		}
	}
	*stages = append(*stages, st)
	return &(*stages)[len(*stages)-1]
}

// allocatable is getAllocatableMagnitude: max magnitude minus encumbered
// magnitude, counting the due deallocations as already released.
func (l *Ledger) allocatable(op *operator, strategy string) uint64 {
	os := op.opStrategy(strategy)
	if os == nil {
		return wadU64
	}
	_, released := l.dueDeallocations(op, strategy, len(os.queue))
	enc := uint64(int64(os.encumbered) + released)
	return os.maxMagnitude() - enc
}

// slashableStake is getMinimumSlashableStake for one operator, set and
// strategy at futureBlock: a pending decrease due by then is applied first,
// pending increases are ignored, and the result is
// mulWad(operatorShares, divWad(current, maxMagnitude)).
func (l *Ledger) slashableStake(opAcct *account, set OperatorSet, strategy string,
	futureBlock uint64) uint256.Int {
	if !l.isSlashable(opAcct, set) {
		return uint256.Int{}
	}
	op := opAcct.operator
	os := op.opStrategy(strategy)
	if os == nil {
		return uint256.Int{}
	}
	a, _ := l.updated(op.allocationOf(set, strategy), os.encumbered)
	if a.pendingDiff < 0 && a.effectBlock <= futureBlock {
		a.current = uint64(int64(a.current) + a.pendingDiff)
	}
	maxMag := os.maxMagnitude()
	if maxMag == 0 {
		return uint256.Int{}
	}
	var c wad.Checked
	return c.MulWad(os.shares, c.DivWad(wad.U(a.current), wad.U(maxMag)))
}
