package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// beaconBalanceUpdate is EigenPodManager.recordBeaconChainETHBalanceUpdate
// (spec §4.2), reported by an authorised beacon oracle until beacon-state
// proofs exist.
//
// An increase is a deposit of native ETH: it mints deposit shares 1:1 and
// goes through _increaseDelegation. A decrease leaves deposit shares alone
// and lowers the staker's beacon-chain slashing factor
// l' = floor(l * (prev - |delta|) / prev), and the operator loses
// calcWithdrawable(k, s, mulWad(m, l - l')) shares.
//
// The pod's ETH (restakedWei) is the native ETH the ledger holds for the
// staker: increases add to it, decreases burn from it, withdrawals as tokens
// pay from it. A report whose prev exceeds it is rejected, which keeps ETH
// conserved.
func (l *Ledger) beaconBalanceUpdate(sender Address, op BeaconBalanceUpdate) *Error {
	if !l.open && !l.oracles[sender] {
		return ErrCallerNotBeaconOracle
	}
	var rem uint256.Int
	if rem.Mod(&op.DeltaWei, uint256.NewInt(GweiWei)); !rem.IsZero() {
		return ErrSharesNotMultipleOfGwei
	}
	if op.DeltaWei.IsZero() {
		return nil
	}
	acct := l.accounts[op.Staker]
	var custody uint256.Int
	if acct != nil && acct.pod != nil {
		custody = acct.pod.restakedWei
	}
	if op.Decrease {
		return l.beaconDecrease(acct, op, custody)
	}
	return l.beaconIncrease(acct, op)
}

func (l *Ledger) beaconIncrease(acct *account, op BeaconBalanceUpdate) *Error {
	var c wad.Checked
	if _, ok := wad.Add(l.beacon.token.supply, op.DeltaWei); !ok {
		return ErrArithmeticOverflow
	}
	prev, k := acct.depositShares(l.beacon)
	newK, err := l.planIncrease(&c, acct, l.beacon, prev, k, op.DeltaWei)
	if err != nil {
		return err
	}
	// After this point the operation must succeed.
	acct = l.accountOrNew(op.Staker)
	if acct.pod == nil {
		acct.pod = &pod{}
	}
	t := l.beacon.token
	t.supply.Add(&t.supply, &op.DeltaWei)
	l.dirty.token(t)
	acct.pod.restakedWei.Add(&acct.pod.restakedWei, &op.DeltaWei)
	l.applyIncrease(acct, l.beacon, c.Add(prev, op.DeltaWei), newK, op.DeltaWei)
	l.emit(Event{Kind: EvBeaconBalanceUpdated, Account: op.Staker, Amount: op.DeltaWei,
		N: 1, Amount2: wad.U(acct.beaconFactor())})
	return nil
}

func (l *Ledger) beaconDecrease(acct *account, op BeaconBalanceUpdate, custody uint256.Int) *Error {
	if op.DeltaWei.Gt(&op.PrevRestakedWei) {
		return ErrInvalidBeaconBalanceUpdate
	}
	if op.PrevRestakedWei.Gt(&custody) {
		return ErrPrevRestakedBalanceTooHigh
	}
	var c wad.Checked
	lPrev := wad.U(acct.beaconFactor())
	remaining := c.Sub(op.PrevRestakedWei, op.DeltaWei)
	lNext := c.MulDiv(lPrev, remaining, op.PrevRestakedWei, wad.Floor)
	decrease := c.Sub(lPrev, lNext)
	var opLoss uint256.Int
	op2 := acct.operatorOf()
	if op2 != nil {
		m := wad.U(op2.opStrategy(BeaconStrategy).maxMagnitude())
		opLoss = calcWithdrawable(&c, acct.pod.dsf, acct.pod.shares, c.MulWad(m, decrease))
	}
	if c.Failed() {
		return ErrArithmeticOverflow
	}
	// After this point the operation must succeed.
	l.settlePosition(acct, l.beacon) // rewards earned at the old factor
	p := acct.pod
	p.bcsf, p.bcsfSet = lNext.Uint64(), true
	p.restakedWei.Sub(&p.restakedWei, &op.DeltaWei)
	t := l.beacon.token
	t.supply.Sub(&t.supply, &op.DeltaWei)
	l.dirty.token(t)
	l.dirty.account(acct)
	if op2 != nil {
		os := op2.opStrategyOrNew(BeaconStrategy)
		os.shares = wad.SatSub(os.shares, opLoss)
		l.dirty.opStrategy(os)
	}
	l.emit(Event{Kind: EvBeaconBalanceUpdated, Account: op.Staker, Amount: op.DeltaWei,
		Amount2: lNext})
	return nil
}
