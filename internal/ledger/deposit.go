package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// deposit is StrategyManager.depositIntoStrategy followed by
// DelegationManager.increaseDelegatedShares (spec §4.1). The checks run in
// EigenLayer's order: whitelist, token transfer, shares minted, share cap,
// strategy-list length, operator slashing.
func (l *Ledger) deposit(sender Address, op Deposit) (DepositResult, *Error) {
	s := l.strategies[op.Strategy]
	if s == nil {
		return DepositResult{}, ErrStrategyNotWhitelisted
	}
	acct := l.accounts[sender]
	if bal := acct.balanceOf(s.token); bal.Lt(&op.Amount) {
		return DepositResult{}, ErrInsufficientBalance
	}
	var c wad.Checked
	shares := sharesForDeposit(&c, s, op.Amount)
	if c.Failed() {
		return DepositResult{}, ErrArithmeticOverflow
	}
	if shares.IsZero() {
		return DepositResult{}, ErrNewSharesZero
	}
	if total := c.Add(s.totalShares, shares); c.Failed() || total.Gt(maxTotalShares) {
		return DepositResult{}, ErrTotalSharesExceedsMax
	}
	prev, k := acct.depositShares(s)
	if prev.IsZero() && acct != nil && len(acct.positions) >= StakerStrategiesMax {
		return DepositResult{}, ErrMaxStrategiesExceeded
	}
	newK, err := l.planIncrease(&c, acct, s, prev, k, shares)
	if err != nil {
		return DepositResult{}, err
	}
	// After this point the operation must succeed.
	acct = l.accountOrNew(sender)
	acct.debit(s.token, op.Amount)
	s.balance.Add(&s.balance, &op.Amount)
	s.totalShares.Add(&s.totalShares, &shares)
	l.dirty.strategy(s)
	l.applyIncrease(acct, s, c.Add(prev, shares), newK, shares)
	l.emit(Event{Kind: EvDeposited, Account: sender, Strategy: s.name,
		Amount: op.Amount, Amount2: shares})
	return DepositResult{Shares: shares}, nil
}

// planIncrease checks DelegationManager._increaseDelegation for adding
// shares to a staker holding prev deposit shares with factor k, and returns
// the new k. It fails with FullySlashed when the slashing factor is zero,
// and when the operator's shares would overflow.
func (l *Ledger) planIncrease(c *wad.Checked, acct *account, s *strategy,
	prev, k, added uint256.Int) (uint256.Int, *Error) {
	op := acct.operatorOf()
	sf := slashingFactor(c, acct, op, s)
	if sf.IsZero() {
		return uint256.Int{}, ErrFullySlashed
	}
	newK, err := updateDSF(c, k, prev, added, sf)
	if err != nil {
		return uint256.Int{}, err
	}
	if op != nil {
		os := op.opStrategy(s.name)
		var cur uint256.Int
		if os != nil {
			cur = os.shares
		}
		c.Add(cur, added)
	}
	c.Add(prev, added)
	if c.Failed() {
		return uint256.Int{}, ErrArithmeticOverflow
	}
	return newK, nil
}

// applyIncrease stores the staker's new deposit shares and k and adds the
// shares to its operator (mutation phase). The position's rewards are
// settled first, at its old shares.
func (l *Ledger) applyIncrease(acct *account, s *strategy, shares, k, added uint256.Int) {
	l.settlePosition(acct, s)
	acct.setDepositShares(s, shares, k)
	l.snapshotPosition(acct, s)
	l.dirty.account(acct)
	if op := acct.operatorOf(); op != nil {
		os := op.opStrategyOrNew(s.name)
		os.shares.Add(&os.shares, &added)
		l.dirty.opStrategy(os)
	}
}
