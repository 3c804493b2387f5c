package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// registerOperator is DelegationManager.registerAsOperator: the sender
// becomes an operator, its allocation delay applies at once (v1.9.0+), and
// it delegates to itself.
func (l *Ledger) registerOperator(sender Address, op RegisterOperator) *Error {
	acct := l.accounts[sender]
	if acct != nil && acct.delegate != nil {
		return ErrActivelyDelegated
	}
	if len(op.Metadata) > MetadataLenMax {
		return ErrInvalidMetadata
	}
	var c wad.Checked
	plan, err := l.planDelegation(&c, acct, nil)
	if err != nil {
		return err
	}
	// After this point the operation must succeed.
	acct = l.accountOrNew(sender)
	acct.operator = &operator{
		account:       acct,
		approver:      op.Approver,
		metadata:      op.Metadata,
		delay:         allocationDelay{isSet: true, delay: op.AllocationDelay, pending: op.AllocationDelay, effectBlock: l.height},
		strategies:    map[string]*opStrategy{},
		allocations:   map[allocKey]*allocation{},
		registrations: map[OperatorSet]*registration{},
	}
	l.dirty.operator(acct)
	l.emit(Event{Kind: EvOperatorRegistered, Account: sender, N: uint64(op.AllocationDelay)})
	l.applyDelegation(acct, acct, plan)
	return nil
}

// modifyOperatorDetails changes the sender's delegation approver.
func (l *Ledger) modifyOperatorDetails(sender Address, op ModifyOperatorDetails) *Error {
	if !l.isOperator(sender) {
		return ErrOperatorNotRegistered
	}
	// After this point the operation must succeed.
	l.accounts[sender].operator.approver = op.Approver
	l.dirty.operator(l.accounts[sender])
	l.emit(Event{Kind: EvOperatorDetailsModified, Account: sender, Other: op.Approver})
	return nil
}

// updateOperatorMetadata changes the sender's metadata URI.
func (l *Ledger) updateOperatorMetadata(sender Address, op UpdateOperatorMetadata) *Error {
	if !l.isOperator(sender) {
		return ErrOperatorNotRegistered
	}
	if len(op.Metadata) > MetadataLenMax {
		return ErrInvalidMetadata
	}
	// After this point the operation must succeed.
	l.accounts[sender].operator.metadata = op.Metadata
	l.dirty.operator(l.accounts[sender])
	return nil
}

// approveDelegation records an approver's consent to one delegation, the
// ledger's counterpart of EigenLayer's approver signature.
func (l *Ledger) approveDelegation(sender Address, op ApproveDelegation) *Error {
	if !l.isOperator(op.Operator) {
		return ErrOperatorNotRegistered
	}
	if l.accounts[op.Operator].operator.approver != sender {
		return ErrInvalidCaller
	}
	// After this point the operation must succeed.
	k := approvalKey{approver: sender, staker: op.Staker, operator: op.Operator}
	l.approvals[k] = op.Expiry
	l.dirty.approval(k)
	l.emitApproval(sender, op)
	return nil
}

func (l *Ledger) emitApproval(sender Address, op ApproveDelegation) {
	l.emit(Event{Kind: EvDelegationApproved, Account: sender, Other: op.Staker,
		Caller: op.Operator, N: op.Expiry})
}

// approvalNeeded returns the approval a delegation of staker to opAcct
// spends and whether one is needed (no approver, or the staker is the
// approver or operator, needs none); ok is false when one is needed and
// there is no live one.
func (l *Ledger) approvalNeeded(staker Address, opAcct *account) (k approvalKey, needed, ok bool) {
	approver := opAcct.operator.approver
	if approver.IsZero() || staker == approver || staker == opAcct.addr {
		return k, false, true
	}
	k = approvalKey{approver: approver, staker: staker, operator: opAcct.addr}
	expiry, found := l.approvals[k]
	return k, true, found && l.height <= expiry
}

// delegateTo is DelegationManager.delegateTo.
func (l *Ledger) delegateTo(sender Address, op Delegate) *Error {
	acct := l.accounts[sender]
	if acct != nil && acct.delegate != nil {
		return ErrActivelyDelegated
	}
	return l.delegateChecked(sender, acct, op.Operator)
}

// delegateChecked runs delegateTo's checks after "not delegated" and
// delegates. acct may be nil (an address the ledger has not seen).
func (l *Ledger) delegateChecked(sender Address, acct *account, to Address) *Error {
	if !l.isOperator(to) {
		return ErrOperatorNotRegistered
	}
	opAcct := l.accounts[to]
	approval, needed, ok := l.approvalNeeded(sender, opAcct)
	if !ok {
		return ErrDelegationNotApproved
	}
	var c wad.Checked
	plan, err := l.planDelegation(&c, acct, opAcct.operator)
	if err != nil {
		return err
	}
	// After this point the operation must succeed.
	if needed {
		delete(l.approvals, approval)
		l.dirty.approval(approval)
	}
	l.applyDelegation(l.accountOrNew(sender), opAcct, plan)
	return nil
}

// delegationPlan is what _delegate adds to the operator and the new k, per
// strategy the staker holds (deposit-list order, native ETH last).
type delegationPlan struct {
	strategies []*strategy
	added      []uint256.Int
	dsf        []uint256.Int
}

// planDelegation checks DelegationManager._delegate for acct delegating to
// op (nil: the operator is acct itself, just registered, at max magnitude
// WAD everywhere). For each held strategy it adds the withdrawable shares
// (the deposit shares for tokens, calcWithdrawable(k, s, l) for native ETH)
// and divides k by the operator's max magnitude, forgiving earlier slashing.
func (l *Ledger) planDelegation(c *wad.Checked, acct *account, op *operator) (delegationPlan, *Error) {
	var p delegationPlan
	if acct == nil {
		return p, nil
	}
	add := func(s *strategy, shares, k uint256.Int) *Error {
		m := wad.U(op.opStrategy(s.name).maxMagnitude())
		if m.IsZero() {
			return ErrFullySlashed
		}
		added := shares
		if s.native {
			added = calcWithdrawable(c, k, shares, wad.U(acct.beaconFactor()))
		}
		p.strategies = append(p.strategies, s)
		p.added = append(p.added, added)
		p.dsf = append(p.dsf, c.DivWad(scalingFactor(k), m))
		if op != nil {
			os := op.opStrategy(s.name)
			if os != nil {
				c.Add(os.shares, added)
			}
		}
		return nil
	}
	for _, pos := range acct.positions {
		if err := add(pos.strategy, pos.shares, pos.dsf); err != nil {
			return p, err
		}
	}
	if acct.pod != nil && !acct.pod.shares.IsZero() {
		if err := add(l.beacon, acct.pod.shares, acct.pod.dsf); err != nil {
			return p, err
		}
	}
	if c.Failed() {
		return p, ErrArithmeticOverflow
	}
	return p, nil
}

// applyDelegation delegates acct to opAcct with a checked plan.
func (l *Ledger) applyDelegation(acct, opAcct *account, p delegationPlan) {
	acct.delegate = opAcct
	opAcct.operator.delegators++
	for i, s := range p.strategies {
		shares, _ := acct.depositShares(s)
		acct.setDepositShares(s, shares, p.dsf[i])
		os := opAcct.operator.opStrategyOrNew(s.name)
		os.shares.Add(&os.shares, &p.added[i])
		l.dirty.opStrategy(os)
	}
	l.snapshotAll(acct) // rewards count from now, at the new operator's indices
	l.dirty.account(acct)
	l.emit(Event{Kind: EvDelegated, Account: acct.addr, Other: opAcct.addr})
}

// undelegate is DelegationManager.undelegate: the staker leaves its
// operator and every strategy it holds is queued as its own withdrawal of
// all its deposit shares, in deposit-list order with native ETH last.
func (l *Ledger) undelegate(sender Address, op Undelegate) (UndelegateResult, *Error) {
	acct := l.accounts[op.Staker]
	if acct == nil || acct.delegate == nil {
		return UndelegateResult{}, ErrNotActivelyDelegated
	}
	if acct.operator != nil {
		return UndelegateResult{}, ErrOperatorsCannotUndelegate
	}
	opAcct := acct.delegate
	approver := opAcct.operator.approver
	if sender != op.Staker && sender != opAcct.addr && (approver.IsZero() || sender != approver) {
		return UndelegateResult{}, ErrCallerCannotUndelegate
	}
	plans, err := l.planUndelegate(acct)
	if err != nil {
		return UndelegateResult{}, err
	}
	// After this point the operation must succeed.
	return l.applyUndelegate(acct, sender, plans), nil
}

// planUndelegate plans one single-strategy withdrawal per held strategy.
func (l *Ledger) planUndelegate(acct *account) ([]queuePlan, *Error) {
	var held []*strategy
	for _, pos := range acct.positions {
		held = append(held, pos.strategy)
	}
	if acct.pod != nil && !acct.pod.shares.IsZero() {
		held = append(held, l.beacon)
	}
	plans := make([]queuePlan, 0, len(held))
	for _, s := range held {
		shares, _ := acct.depositShares(s)
		p, err := l.planQueue(acct, []*strategy{s}, []uint256.Int{shares})
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return plans, nil
}

func (l *Ledger) applyUndelegate(acct *account, caller Address, plans []queuePlan) UndelegateResult {
	opAcct := acct.delegate
	l.settleAll(acct) // earnings under the old operator, before leaving it
	acct.delegate = nil
	opAcct.operator.delegators--
	l.dirty.account(acct)
	l.emit(Event{Kind: EvUndelegated, Account: acct.addr, Other: opAcct.addr, Caller: caller})
	res := UndelegateResult{Withdrawals: make([]WithdrawalID, 0, len(plans))}
	for _, p := range plans {
		res.Withdrawals = append(res.Withdrawals, l.applyQueue(acct, opAcct, p))
	}
	return res
}

// redelegate is DelegationManager.redelegate: undelegate the sender, then
// delegate it to a new operator, as one operation.
func (l *Ledger) redelegate(sender Address, op Redelegate) (UndelegateResult, *Error) {
	acct := l.accounts[sender]
	if acct == nil || acct.delegate == nil {
		return UndelegateResult{}, ErrNotActivelyDelegated
	}
	if acct.operator != nil {
		return UndelegateResult{}, ErrOperatorsCannotUndelegate
	}
	plans, err := l.planUndelegate(acct)
	if err != nil {
		return UndelegateResult{}, err
	}
	if !l.isOperator(op.Operator) {
		return UndelegateResult{}, ErrOperatorNotRegistered
	}
	opAcct := l.accounts[op.Operator]
	if _, _, ok := l.approvalNeeded(sender, opAcct); !ok {
		return UndelegateResult{}, ErrDelegationNotApproved
	}
	// After undelegating the staker holds no shares, so delegating cannot
	// fail: after this point the operation must succeed.
	res := l.applyUndelegate(acct, sender, plans)
	if err := l.delegateChecked(sender, acct, op.Operator); err != nil {
		panic("ledger: redelegation failed after its checks: " + err.Name)
	}
	return res, nil
}
