package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// This file holds EigenLayer's share math (SlashingLib, StrategyBase,
// DelegationManager._getSlashingFactor). Every function is pure and reports
// overflow through the wad.Checked it is given.

// scalingFactor returns k, reading a stored zero as WAD.
func scalingFactor(k uint256.Int) uint256.Int {
	if k.IsZero() {
		return wad.One
	}
	return k
}

// calcWithdrawable is SlashingLib.calcWithdrawable:
// a = mulWad(mulWad(s, k), sf), both rounded down.
func calcWithdrawable(c *wad.Checked, k, s, sf uint256.Int) uint256.Int {
	return c.MulWad(c.MulWad(s, scalingFactor(k)), sf)
}

// updateDSF is SlashingLib.update: the new k after adding shares at slashing
// factor sf (sf != 0, checked by the caller as FullySlashed). A first
// deposit (prev == 0) divides the existing k by sf, forgiving earlier
// slashing; otherwise k is chosen so that the staker's withdrawable shares
// grow by exactly the added shares, up to rounding.
func updateDSF(c *wad.Checked, k, prev, added, sf uint256.Int) (uint256.Int, *Error) {
	if prev.IsZero() {
		return c.DivWad(scalingFactor(k), sf), nil
	}
	cur := calcWithdrawable(c, k, prev, sf)
	next := c.DivWad(c.DivWad(c.Add(cur, added), c.Add(prev, added)), sf)
	if c.Failed() {
		return uint256.Int{}, ErrArithmeticOverflow
	}
	if next.IsZero() {
		return uint256.Int{}, ErrInvalidDepositScalingFactor
	}
	return next, nil
}

// calcSlashedAmount is SlashingLib.calcSlashedAmount: the shares removed
// when max magnitude falls from prev to next, op - ceil(op*next/prev). The
// remainder rounds up, so the slashed amount rounds down.
func calcSlashedAmount(c *wad.Checked, op uint256.Int, prev, next uint64) uint256.Int {
	remaining := c.MulDiv(op, wad.U(next), wad.U(prev), wad.Ceil)
	return c.Sub(op, remaining)
}

// slashingFactor is DelegationManager._getSlashingFactor for a staker
// delegated to op (nil when undelegated): the operator's max magnitude, times
// the staker's beacon-chain slashing factor for native ETH.
func slashingFactor(c *wad.Checked, staker *account, op *operator, s *strategy) uint256.Int {
	m := wad.U(op.opStrategy(s.name).maxMagnitude())
	if s.native {
		return c.MulWad(m, wad.U(staker.beaconFactor()))
	}
	return m
}

// slashingFactorAt is the slashing factor a queued withdrawal completes at:
// the max magnitude of the operator it was queued under, read at height h,
// times the staker's current beacon factor for native ETH.
func slashingFactorAt(c *wad.Checked, staker *account, op *operator, s *strategy,
	h uint64) uint256.Int {
	m := wad.U(op.opStrategy(s.name).maxMagnitudeAt(h))
	if s.native {
		return c.MulWad(m, wad.U(staker.beaconFactor()))
	}
	return m
}

// sharesForDeposit is StrategyBase.deposit's exchange rate with virtual
// shares and balance: amount*(totalShares+1e3)/(balanceBefore+1e3), down.
func sharesForDeposit(c *wad.Checked, s *strategy, amount uint256.Int) uint256.Int {
	return c.MulDiv(amount, c.Add(s.totalShares, offset), c.Add(s.balance, offset), wad.Floor)
}

// tokensForShares is StrategyBase.withdraw's exchange rate:
// (balance+1e3)*shares/(totalShares+1e3), rounded down.
func tokensForShares(c *wad.Checked, s *strategy, shares uint256.Int) uint256.Int {
	return c.MulDiv(c.Add(s.balance, offset), shares, c.Add(s.totalShares, offset), wad.Floor)
}
