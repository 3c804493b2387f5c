// Package wad is fixed-point arithmetic on 256-bit unsigned integers with
// 1e18 (WAD) as the unit, the number format of EigenLayer's SlashingLib.
//
// Every function names its rounding. Products are kept in 512 bits before
// the division, as OpenZeppelin's Math.mulDiv does, so an intermediate
// product never overflows; only a quotient that does not fit in 256 bits
// (or a division by zero) is reported, through the ok result or a Checked
// accumulator, and never by a panic.
package wad

import "github.com/holiman/uint256"

// Rounding names the direction of a division.
type Rounding uint8

const (
	// Floor rounds toward zero (Solidity's default division).
	Floor Rounding = iota + 1
	// Ceil rounds away from zero when the division leaves a remainder.
	Ceil
)

// Unit is 1e18, the fixed-point one (EigenLayer's WAD).
const Unit uint64 = 1e18

// One is Unit as a uint256.
var One = *uint256.NewInt(Unit)

// MulDiv returns x*y/d rounded as r, computed with a 512-bit intermediate.
// ok is false, and z zero, when d is zero or the quotient does not fit in
// 256 bits. r must be Floor or Ceil.
func MulDiv(x, y, d uint256.Int, r Rounding) (z uint256.Int, ok bool) {
	if r != Floor && r != Ceil {
		panic("wad: rounding must be Floor or Ceil")
	}
	if d.IsZero() {
		return z, false
	}
	if x.IsZero() || y.IsZero() {
		return z, true
	}
	if x.BitLen()+y.BitLen() <= 256 {
		// The product fits in 256 bits: one multiplication and one
		// division, the common case for token amounts and WAD factors.
		var p, rem uint256.Int
		p.Mul(&x, &y)
		z.DivMod(&p, &d, &rem)
		if r == Ceil && !rem.IsZero() {
			if z.Eq(maxUint256) {
				return uint256.Int{}, false
			}
			z.AddUint64(&z, 1)
		}
		return z, true
	}
	_, overflow := z.MulDivOverflow(&x, &y, &d)
	if overflow {
		return uint256.Int{}, false
	}
	if r == Ceil {
		var rem uint256.Int
		rem.MulMod(&x, &y, &d)
		if !rem.IsZero() {
			if z.Eq(maxUint256) {
				return uint256.Int{}, false
			}
			z.AddUint64(&z, 1)
		}
	}
	return z, true
}

var maxUint256 = new(uint256.Int).SetAllOne()

// MulWad returns floor(x*y/WAD) (SlashingLib mulWad).
func MulWad(x, y uint256.Int) (uint256.Int, bool) { return MulDiv(x, y, One, Floor) }

// MulWadUp returns ceil(x*y/WAD) (SlashingLib mulWadRoundUp).
func MulWadUp(x, y uint256.Int) (uint256.Int, bool) { return MulDiv(x, y, One, Ceil) }

// DivWad returns floor(x*WAD/y) (SlashingLib divWad). ok is false when y is
// zero.
func DivWad(x, y uint256.Int) (uint256.Int, bool) { return MulDiv(x, One, y, Floor) }

// U returns v as a uint256.
func U(v uint64) uint256.Int { return *uint256.NewInt(v) }

// Checked strings several operations together and remembers whether any of
// them failed (overflow, underflow or division by zero), so that a
// computation can be written as a sequence of expressions and checked once:
//
//	var c wad.Checked
//	a := c.MulWad(c.MulWad(s, k), sf)
//	if c.Failed() { ... }
//
// After a failure every later result is zero.
type Checked struct{ failed bool }

// Failed reports whether any operation so far overflowed or divided by zero.
func (c *Checked) Failed() bool { return c.failed }

func (c *Checked) result(z uint256.Int, ok bool) uint256.Int {
	if !ok || c.failed {
		c.failed = true
		return uint256.Int{}
	}
	return z
}

// MulDiv is MulDiv, recording a failure.
func (c *Checked) MulDiv(x, y, d uint256.Int, r Rounding) uint256.Int {
	return c.result(MulDiv(x, y, d, r))
}

// MulWad is MulWad, recording a failure.
func (c *Checked) MulWad(x, y uint256.Int) uint256.Int { return c.result(MulWad(x, y)) }

// MulWadUp is MulWadUp, recording a failure.
func (c *Checked) MulWadUp(x, y uint256.Int) uint256.Int { return c.result(MulWadUp(x, y)) }

// DivWad is DivWad, recording a failure.
func (c *Checked) DivWad(x, y uint256.Int) uint256.Int { return c.result(DivWad(x, y)) }

// Add returns x+y, recording an overflow.
func (c *Checked) Add(x, y uint256.Int) uint256.Int {
	var z uint256.Int
	_, overflow := z.AddOverflow(&x, &y)
	return c.result(z, !overflow)
}

// Sub returns x-y, recording an underflow.
func (c *Checked) Sub(x, y uint256.Int) uint256.Int {
	var z uint256.Int
	_, underflow := z.SubOverflow(&x, &y)
	return c.result(z, !underflow)
}

// Add returns x+y and whether it did not overflow.
func Add(x, y uint256.Int) (uint256.Int, bool) {
	var z uint256.Int
	_, overflow := z.AddOverflow(&x, &y)
	return z, !overflow
}

// Sub returns x-y and whether it did not underflow.
func Sub(x, y uint256.Int) (uint256.Int, bool) {
	var z uint256.Int
	_, underflow := z.SubOverflow(&x, &y)
	return z, !underflow
}

// SatSub returns x-y, or zero when y > x.
func SatSub(x, y uint256.Int) uint256.Int {
	if y.Gt(&x) {
		return uint256.Int{}
	}
	var z uint256.Int
	z.Sub(&x, &y)
	return z
}

// Min returns the smaller of x and y.
func Min(x, y uint256.Int) uint256.Int {
	if x.Lt(&y) {
		return x
	}
	return y
}
