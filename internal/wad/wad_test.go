package wad

import (
	"flag"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/holiman/uint256"
)

// seedFlag fixes the random stream of the differential tests. The default is
// a constant, never the clock, so that a failure replays exactly; pass
// -wad.seed=N to explore another stream.
var seedFlag = flag.Uint64("wad.seed", 0x5eed_0f_3a6e, "seed of the wad differential tests")

// bigMax256 is 2^256-1, the largest value a result may take.
var bigMax256 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))

// maxU is 2^256-1 as a uint256.
var maxU = *new(uint256.Int).SetAllOne()

// pow2 returns 2^n as a uint256; n must be below 256.
func pow2(n uint) uint256.Int {
	var z uint256.Int
	z.Lsh(uint256.NewInt(1), n)
	return z
}

// dec parses a decimal string; it is for test tables only.
func dec(s string) uint256.Int {
	z, err := uint256.FromDecimal(s)
	if err != nil {
		panic(err)
	}
	return *z
}

// addU and subU are wrapping helpers for building test values.
func addU(x uint256.Int, v uint64) uint256.Int {
	var z uint256.Int
	z.AddUint64(&x, v)
	return z
}

func subU(x uint256.Int, v uint64) uint256.Int {
	var z uint256.Int
	z.SubUint64(&x, v)
	return z
}

func roundingName(r Rounding) string {
	switch r {
	case Floor:
		return "Floor"
	case Ceil:
		return "Ceil"
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// refMulDiv is the math/big reference for MulDiv: the exact quotient of
// x*y by d rounded as r, and ok false on d == 0 or a quotient above 2^256-1.
func refMulDiv(x, y, d uint256.Int, r Rounding) (uint256.Int, bool) {
	if d.IsZero() {
		return uint256.Int{}, false
	}
	p := new(big.Int).Mul(x.ToBig(), y.ToBig())
	q, m := new(big.Int).QuoRem(p, d.ToBig(), new(big.Int))
	if r == Ceil && m.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if q.Cmp(bigMax256) > 0 {
		return uint256.Int{}, false
	}
	return *uint256.MustFromBig(q), true
}

// sameResult compares two (value, ok) results. The value of a failed
// MulDiv is unspecified, so only ok is compared then.
func sameResult(got uint256.Int, gotOK bool, want uint256.Int, wantOK bool) bool {
	if gotOK != wantOK {
		return false
	}
	return !gotOK || got.Eq(&want)
}

func TestMulDivTable(t *testing.T) {
	// (2^129-1)(2^129+1) = 2^258-1; divided by 4 it is 2^256-1 remainder 3,
	// so the floor just fits in 256 bits and the ceil (2^256) does not.
	lo129 := dec("680564733841876926926749214863536422911")
	hi129 := dec("680564733841876926926749214863536422913")
	// (2^255+1)*3/2 = 3*2^254 + 1 remainder 1, through the 512-bit path.
	var q3 uint256.Int
	q3.Mul(ptr(pow2(254)), uint256.NewInt(3))

	tests := []struct {
		name    string
		x, y, d uint256.Int
		r       Rounding
		want    uint256.Int
		wantOK  bool
	}{
		{"zero x", U(0), U(7), U(3), Ceil, U(0), true},
		{"zero y", U(7), U(0), U(3), Ceil, U(0), true},
		{"zero x, max y", U(0), maxU, U(1), Floor, U(0), true},
		{"exact floor", U(6), U(7), U(3), Floor, U(14), true},
		{"exact ceil", U(6), U(7), U(3), Ceil, U(14), true},
		{"floor drops remainder", U(7), U(5), U(3), Floor, U(11), true},
		{"ceil adds one on remainder", U(7), U(5), U(3), Ceil, U(12), true},
		{"floor below one", U(1), U(1), U(2), Floor, U(0), true},
		{"ceil below one", U(1), U(1), U(2), Ceil, U(1), true},
		{"div by zero floor", U(1), U(1), U(0), Floor, U(0), false},
		{"div by zero ceil", U(1), U(1), U(0), Ceil, U(0), false},
		{"div by zero, zero product", U(0), U(0), U(0), Floor, U(0), false},
		{"max*1/1", maxU, U(1), U(1), Ceil, maxU, true},
		{"max*max/max", maxU, maxU, maxU, Ceil, maxU, true},
		{"max*max/max floor", maxU, maxU, maxU, Floor, maxU, true},
		{"fast path max/2 ceil", maxU, U(1), U(2), Ceil, pow2(255), true},
		{"overflow max*2/1", maxU, U(2), U(1), Floor, U(0), false},
		{"overflow max*max/1", maxU, maxU, U(1), Floor, U(0), false},
		{"overflow max*max/(max-1)", maxU, maxU, subU(maxU, 1), Floor, U(0), false},
		{"overflow 2^200*2^200/2^100", pow2(200), pow2(200), pow2(100), Ceil, U(0), false},
		{"overflow 2^128*2^128/1", pow2(128), pow2(128), U(1), Floor, U(0), false},
		{"512-bit 2^200*2^200/2^150", pow2(200), pow2(200), pow2(150), Floor, pow2(250), true},
		{"512-bit 2^200*2^200/2^150 ceil", pow2(200), pow2(200), pow2(150), Ceil, pow2(250), true},
		{"512-bit 2^128*2^128/2", pow2(128), pow2(128), U(2), Floor, pow2(255), true},
		{"512-bit floor just fits", lo129, hi129, U(4), Floor, maxU, true},
		{"512-bit ceil overflows by one", lo129, hi129, U(4), Ceil, U(0), false},
		{"512-bit floor with remainder", addU(pow2(255), 1), U(3), U(2), Floor, addU(q3, 1), true},
		{"512-bit ceil with remainder", addU(pow2(255), 1), U(3), U(2), Ceil, addU(q3, 2), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := MulDiv(tc.x, tc.y, tc.d, tc.r)
			if !sameResult(got, ok, tc.want, tc.wantOK) {
				t.Fatalf("MulDiv(%s, %s, %s, %s) = (%s, %v), want (%s, %v)",
					tc.x.Dec(), tc.y.Dec(), tc.d.Dec(), roundingName(tc.r),
					got.Dec(), ok, tc.want.Dec(), tc.wantOK)
			}
			// Guard the table itself against a typo.
			ref, refOK := refMulDiv(tc.x, tc.y, tc.d, tc.r)
			if !sameResult(ref, refOK, tc.want, tc.wantOK) {
				t.Fatalf("table row disagrees with math/big: (%s, %v)", ref.Dec(), refOK)
			}
		})
	}
}

func ptr(x uint256.Int) *uint256.Int { return &x }

func TestWadHelpersTable(t *testing.T) {
	e18 := U(Unit)
	half := U(5e17)
	tests := []struct {
		name   string
		f      func(x, y uint256.Int) (uint256.Int, bool)
		x, y   uint256.Int
		want   uint256.Int
		wantOK bool
	}{
		// EigenLayer SlashingLib: mulWadRoundUp(3, 0.5e18) = 2, mulWad = 1.
		{"MulWadUp(3, 0.5)", MulWadUp, U(3), half, U(2), true},
		{"MulWad(3, 0.5)", MulWad, U(3), half, U(1), true},
		{"MulWad(1, 1)", MulWad, e18, e18, e18, true},
		{"MulWadUp(1, 1)", MulWadUp, e18, e18, e18, true},
		{"MulWad(1 wei, 1)", MulWad, U(1), e18, U(1), true},
		{"MulWad(1 wei, 1-1e-18)", MulWad, U(1), U(Unit - 1), U(0), true},
		{"MulWadUp(1 wei, 1-1e-18)", MulWadUp, U(1), U(Unit - 1), U(1), true},
		{"MulWad(1 wei, 1e-18)", MulWad, U(1), U(1), U(0), true},
		{"MulWadUp(1 wei, 1e-18)", MulWadUp, U(1), U(1), U(1), true},
		{"MulWad(100e18, 0.3)", MulWad, dec("100000000000000000000"), U(3e17),
			dec("30000000000000000000"), true},
		{"MulWad(0, 1)", MulWad, U(0), e18, U(0), true},
		{"MulWadUp(0, 1)", MulWadUp, U(0), e18, U(0), true},
		{"MulWad(2^200, 2^100) 512-bit", MulWad, pow2(200), pow2(100),
			dec("2037035976334486086268445688409378161051468393665936250636140449354381299"), true},
		{"MulWadUp(2^200, 2^100) 512-bit", MulWadUp, pow2(200), pow2(100),
			dec("2037035976334486086268445688409378161051468393665936250636140449354381300"), true},
		{"MulWad overflow", MulWad, maxU, U(2e18), U(0), false},
		{"DivWad(1, 3)", DivWad, U(1), U(3), U(333333333333333333), true},
		{"DivWad(2, 3)", DivWad, U(2), U(3), U(666666666666666666), true},
		{"DivWad(2e18, 4e18)", DivWad, U(2e18), U(4e18), half, true},
		{"DivWad(x, 1)", DivWad, U(12345), e18, U(12345), true},
		{"DivWad(0, 5)", DivWad, U(0), U(5), U(0), true},
		{"DivWad by zero", DivWad, U(1), U(0), U(0), false},
		{"DivWad zero by zero", DivWad, U(0), U(0), U(0), false},
		{"DivWad overflow", DivWad, maxU, U(1), U(0), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.f(tc.x, tc.y)
			if !sameResult(got, ok, tc.want, tc.wantOK) {
				t.Fatalf("%s = (%s, %v), want (%s, %v)", tc.name, got.Dec(), ok, tc.want.Dec(), tc.wantOK)
			}
		})
	}
}

// TestCeilFloorDifference checks that Ceil is Floor plus one exactly when
// the division leaves a remainder.
func TestCeilFloorDifference(t *testing.T) {
	for _, tc := range []struct{ x, y, d uint64 }{
		{3, 5e17, Unit}, {10, 10, 10}, {10, 10, 3}, {1, 1, 1e18}, {Unit, Unit, Unit},
	} {
		x, y, d := U(tc.x), U(tc.y), U(tc.d)
		f, okF := MulDiv(x, y, d, Floor)
		c, okC := MulDiv(x, y, d, Ceil)
		if !okF || !okC {
			t.Fatalf("MulDiv(%d, %d, %d) failed: floor ok=%v ceil ok=%v", tc.x, tc.y, tc.d, okF, okC)
		}
		exact := new(big.Int).Mod(new(big.Int).Mul(x.ToBig(), y.ToBig()), d.ToBig()).Sign() == 0
		want := f
		if !exact {
			want = addU(f, 1)
		}
		if !c.Eq(&want) {
			t.Errorf("MulDiv(%d, %d, %d): floor %s ceil %s, exact=%v",
				tc.x, tc.y, tc.d, f.Dec(), c.Dec(), exact)
		}
	}
}

// randU256 draws a value from a mix of shapes that exercise the edges of
// the implementation: small numbers, the 64-, 128- and 256-bit borders,
// powers of two, WAD-scaled amounts and random bit lengths.
func randU256(r *rand.Rand) uint256.Int {
	near := func(base uint256.Int) uint256.Int {
		delta := r.Uint64N(5)
		if r.IntN(2) == 0 {
			return addU(base, delta)
		}
		return subU(base, delta)
	}
	switch r.IntN(10) {
	case 0:
		return U(r.Uint64N(1000))
	case 1:
		return near(pow2(64))
	case 2:
		return near(pow2(128))
	case 3:
		return subU(maxU, r.Uint64N(5))
	case 4:
		return pow2(uint(r.IntN(256)))
	case 5:
		var z uint256.Int
		z.Mul(uint256.NewInt(Unit), uint256.NewInt(r.Uint64N(1e12)))
		return near(z)
	case 6:
		return near(U(Unit))
	case 7:
		return U(r.Uint64())
	default:
		// Uniform random bits, truncated to a random bit length.
		z := uint256.Int{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
		n := uint(r.IntN(257))
		if n < 256 {
			z.And(&z, ptr(subU(pow2(n), 1)))
			if n == 0 {
				z.Clear()
			}
		}
		return z
	}
}

// randDivisor is randU256 with an occasional zero and a bias toward
// divisors that keep the quotient in range.
func randDivisor(r *rand.Rand) uint256.Int {
	switch r.IntN(10) {
	case 0:
		return U(0)
	case 1:
		return U(1)
	case 2:
		return U(Unit)
	default:
		return randU256(r)
	}
}

func TestMulDivDifferential(t *testing.T) {
	seed := *seedFlag
	r := rand.New(rand.NewPCG(seed, 1))
	const iterations = 200_000
	var ok512, fail512 int
	for i := range iterations {
		x, y, d := randU256(r), randU256(r), randDivisor(r)
		for _, rd := range []Rounding{Floor, Ceil} {
			got, ok := MulDiv(x, y, d, rd)
			want, wantOK := refMulDiv(x, y, d, rd)
			if !sameResult(got, ok, want, wantOK) {
				t.Fatalf("seed=%d iteration=%d: MulDiv(0x%x, 0x%x, 0x%x, %s) = (%s, %v), math/big (%s, %v)",
					seed, i, x.ToBig(), y.ToBig(), d.ToBig(), roundingName(rd), got.Dec(), ok, want.Dec(), wantOK)
			}
		}
		if x.BitLen()+y.BitLen() > 256 && !d.IsZero() {
			if _, ok := refMulDiv(x, y, d, Ceil); ok {
				ok512++
			} else {
				fail512++
			}
		}
	}
	// The generator must reach both outcomes of the 512-bit path, or the
	// test silently checks less than it claims.
	if ok512 < 1000 || fail512 < 1000 {
		t.Fatalf("seed=%d: weak coverage of the 512-bit path: %d fitting, %d overflowing quotients",
			seed, ok512, fail512)
	}
}

func TestWadHelpersDifferential(t *testing.T) {
	seed := *seedFlag
	r := rand.New(rand.NewPCG(seed, 2))
	for i := range 50_000 {
		x, y := randU256(r), randDivisor(r)
		check := func(name string, got uint256.Int, ok bool, want uint256.Int, wantOK bool) {
			t.Helper()
			if !sameResult(got, ok, want, wantOK) {
				t.Fatalf("seed=%d iteration=%d: %s(0x%x, 0x%x) = (%s, %v), math/big (%s, %v)",
					seed, i, name, x.ToBig(), y.ToBig(), got.Dec(), ok, want.Dec(), wantOK)
			}
		}
		got, ok := MulWad(x, y)
		want, wantOK := refMulDiv(x, y, One, Floor)
		check("MulWad", got, ok, want, wantOK)
		got, ok = MulWadUp(x, y)
		want, wantOK = refMulDiv(x, y, One, Ceil)
		check("MulWadUp", got, ok, want, wantOK)
		got, ok = DivWad(x, y)
		want, wantOK = refMulDiv(x, One, y, Floor)
		check("DivWad", got, ok, want, wantOK)
	}
}

// refAdd, refSub are the math/big references of Add and Sub.
func refAdd(x, y uint256.Int) (uint256.Int, bool) {
	s := new(big.Int).Add(x.ToBig(), y.ToBig())
	if s.Cmp(bigMax256) > 0 {
		return uint256.Int{}, false
	}
	return *uint256.MustFromBig(s), true
}

func refSub(x, y uint256.Int) (uint256.Int, bool) {
	s := new(big.Int).Sub(x.ToBig(), y.ToBig())
	if s.Sign() < 0 {
		return uint256.Int{}, false
	}
	return *uint256.MustFromBig(s), true
}

func TestAddSubSatSubMinDifferential(t *testing.T) {
	seed := *seedFlag
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range 100_000 {
		x, y := randU256(r), randU256(r)
		if r.IntN(8) == 0 {
			y = x // equal operands: Sub to zero, Min tie
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed=%d iteration=%d x=0x%x y=0x%x: %s",
				seed, i, x.ToBig(), y.ToBig(), fmt.Sprintf(format, args...))
		}
		got, ok := Add(x, y)
		want, wantOK := refAdd(x, y)
		// A failed Add or Sub has no documented value, so only ok is compared.
		if !sameResult(got, ok, want, wantOK) {
			fail("Add = (%s, %v), want (%s, %v)", got.Dec(), ok, want.Dec(), wantOK)
		}
		got, ok = Sub(x, y)
		want, wantOK = refSub(x, y)
		if !sameResult(got, ok, want, wantOK) {
			fail("Sub = (%s, %v), want (%s, %v)", got.Dec(), ok, want.Dec(), wantOK)
		}
		sat := SatSub(x, y)
		if !wantOK {
			want = uint256.Int{}
		}
		if !sat.Eq(&want) {
			fail("SatSub = %s, want %s", sat.Dec(), want.Dec())
		}
		m := Min(x, y)
		wantMin := x
		if y.ToBig().Cmp(x.ToBig()) < 0 {
			wantMin = y
		}
		if !m.Eq(&wantMin) {
			fail("Min = %s, want %s", m.Dec(), wantMin.Dec())
		}
	}
}

func TestAddSubEdges(t *testing.T) {
	if _, ok := Add(maxU, U(1)); ok {
		t.Error("Add(max, 1) reported no overflow")
	}
	if z, ok := Add(maxU, U(0)); !ok || !z.Eq(&maxU) {
		t.Errorf("Add(max, 0) = (%s, %v), want (max, true)", z.Dec(), ok)
	}
	if _, ok := Sub(U(0), U(1)); ok {
		t.Error("Sub(0, 1) reported no underflow")
	}
	if z, ok := Sub(U(5), U(5)); !ok || !z.IsZero() {
		t.Errorf("Sub(5, 5) = (%s, %v), want (0, true)", z.Dec(), ok)
	}
	if z := SatSub(U(3), U(5)); !z.IsZero() {
		t.Errorf("SatSub(3, 5) = %s, want 0", z.Dec())
	}
	if z := SatSub(U(5), U(3)); !z.Eq(ptr(U(2))) {
		t.Errorf("SatSub(5, 3) = %s, want 2", z.Dec())
	}
	if z := Min(U(3), U(5)); !z.Eq(ptr(U(3))) {
		t.Errorf("Min(3, 5) = %s, want 3", z.Dec())
	}
	if z := Min(maxU, U(0)); !z.IsZero() {
		t.Errorf("Min(max, 0) = %s, want 0", z.Dec())
	}
}

func TestCheckedSticky(t *testing.T) {
	var c Checked
	if c.Failed() {
		t.Fatal("zero Checked reports a failure")
	}
	if z := c.MulWadUp(U(3), U(5e17)); !z.Eq(ptr(U(2))) || c.Failed() {
		t.Fatalf("MulWadUp(3, 0.5) = %s failed=%v, want 2 false", z.Dec(), c.Failed())
	}
	if z := c.DivWad(U(1), U(0)); !z.IsZero() || !c.Failed() {
		t.Fatalf("DivWad by zero = %s failed=%v, want 0 true", z.Dec(), c.Failed())
	}
	// Every later operation, even one that would succeed alone, yields zero.
	later := []struct {
		name string
		z    uint256.Int
	}{
		{"Add", c.Add(U(1), U(2))},
		{"Sub", c.Sub(U(5), U(2))},
		{"MulWad", c.MulWad(U(Unit), U(Unit))},
		{"MulWadUp", c.MulWadUp(U(3), U(5e17))},
		{"DivWad", c.DivWad(U(1), U(1))},
		{"MulDiv", c.MulDiv(U(6), U(7), U(3), Floor)},
	}
	for _, l := range later {
		if !l.z.IsZero() {
			t.Errorf("%s after a failure = %s, want 0", l.name, l.z.Dec())
		}
	}
	if !c.Failed() {
		t.Error("Failed() became false after later successful operations")
	}
}

// TestCheckedDifferential runs random chains of operations through a
// Checked and through a model built on math/big: the model fails at the
// first failing step and yields zero from then on.
func TestCheckedDifferential(t *testing.T) {
	seed := *seedFlag
	r := rand.New(rand.NewPCG(seed, 4))
	type op struct {
		name  string
		run   func(c *Checked, a, b, d uint256.Int) uint256.Int
		model func(a, b, d uint256.Int) (uint256.Int, bool)
	}
	ops := []op{
		{"MulDivFloor",
			func(c *Checked, a, b, d uint256.Int) uint256.Int { return c.MulDiv(a, b, d, Floor) },
			func(a, b, d uint256.Int) (uint256.Int, bool) { return refMulDiv(a, b, d, Floor) }},
		{"MulDivCeil",
			func(c *Checked, a, b, d uint256.Int) uint256.Int { return c.MulDiv(a, b, d, Ceil) },
			func(a, b, d uint256.Int) (uint256.Int, bool) { return refMulDiv(a, b, d, Ceil) }},
		{"MulWad",
			func(c *Checked, a, b, _ uint256.Int) uint256.Int { return c.MulWad(a, b) },
			func(a, b, _ uint256.Int) (uint256.Int, bool) { return refMulDiv(a, b, One, Floor) }},
		{"MulWadUp",
			func(c *Checked, a, b, _ uint256.Int) uint256.Int { return c.MulWadUp(a, b) },
			func(a, b, _ uint256.Int) (uint256.Int, bool) { return refMulDiv(a, b, One, Ceil) }},
		{"DivWad",
			func(c *Checked, a, _, d uint256.Int) uint256.Int { return c.DivWad(a, d) },
			func(a, _, d uint256.Int) (uint256.Int, bool) { return refMulDiv(a, One, d, Floor) }},
		{"Add",
			func(c *Checked, a, b, _ uint256.Int) uint256.Int { return c.Add(a, b) },
			func(a, b, _ uint256.Int) (uint256.Int, bool) { return refAdd(a, b) }},
		{"Sub",
			func(c *Checked, a, b, _ uint256.Int) uint256.Int { return c.Sub(a, b) },
			func(a, b, _ uint256.Int) (uint256.Int, bool) { return refSub(a, b) }},
	}
	var chainsFailed, chainsOK int
	for i := range 20_000 {
		var c Checked
		modelFailed := false
		acc := randU256(r)
		var trace []string
		steps := 1 + r.IntN(8)
		for s := range steps {
			o := ops[r.IntN(len(ops))]
			b, d := randU256(r), randDivisor(r)
			if r.IntN(2) == 0 {
				b = U(r.Uint64N(3 * Unit)) // keep some chains alive longer
			}
			want, ok := o.model(acc, b, d)
			if modelFailed || !ok {
				modelFailed = true
				want = uint256.Int{}
			}
			got := o.run(&c, acc, b, d)
			trace = append(trace, fmt.Sprintf("%s(0x%x, 0x%x, 0x%x)",
				o.name, acc.ToBig(), b.ToBig(), d.ToBig()))
			if !got.Eq(&want) || c.Failed() != modelFailed {
				t.Fatalf("seed=%d chain=%d step=%d: got %s failed=%v, want %s failed=%v\nchain: %v",
					seed, i, s, got.Dec(), c.Failed(), want.Dec(), modelFailed, trace)
			}
			acc = got
		}
		if modelFailed {
			chainsFailed++
		} else {
			chainsOK++
		}
	}
	if chainsFailed < 1000 || chainsOK < 1000 {
		t.Fatalf("seed=%d: weak coverage: %d failed chains, %d clean chains",
			seed, chainsFailed, chainsOK)
	}
}

// fuzzWord turns fuzz bytes into a uint256, keeping the last 32 bytes of a
// longer input (big-endian, as uint256.SetBytes reads them).
func fuzzWord(b []byte) uint256.Int {
	if len(b) > 32 {
		b = b[len(b)-32:]
	}
	var z uint256.Int
	z.SetBytes(b)
	return z
}

// FuzzMulDiv compares MulDiv with math/big on arbitrary 256-bit operands,
// for both roundings, and checks that ceil is floor or floor plus one.
// The seed corpus lives in testdata/fuzz/FuzzMulDiv.
func FuzzMulDiv(f *testing.F) {
	f.Fuzz(func(t *testing.T, xb, yb, db []byte) {
		x, y, d := fuzzWord(xb), fuzzWord(yb), fuzzWord(db)
		var results [2]uint256.Int
		var oks [2]bool
		for i, rd := range []Rounding{Floor, Ceil} {
			got, ok := MulDiv(x, y, d, rd)
			want, wantOK := refMulDiv(x, y, d, rd)
			if !sameResult(got, ok, want, wantOK) {
				t.Fatalf("MulDiv(0x%x, 0x%x, 0x%x, %s) = (%s, %v), math/big (%s, %v)",
					x.ToBig(), y.ToBig(), d.ToBig(), roundingName(rd), got.Dec(), ok, want.Dec(), wantOK)
			}
			results[i], oks[i] = got, ok
		}
		if oks[0] && oks[1] {
			diff := new(big.Int).Sub(results[1].ToBig(), results[0].ToBig())
			if diff.Sign() < 0 || diff.Cmp(big.NewInt(1)) > 0 {
				t.Fatalf("ceil %s - floor %s = %s, want 0 or 1", results[1].Dec(), results[0].Dec(), diff)
			}
		}
		if oks[1] && !oks[0] {
			t.Fatalf("ceil fits but floor does not: x=0x%x y=0x%x d=0x%x", x.ToBig(), y.ToBig(), d.ToBig())
		}
	})
}

var sink uint256.Int

func BenchmarkMulWad(b *testing.B) {
	// ~2^97 wei times a 0.7 WAD factor: the product fits in 256 bits.
	x := dec("123456789000000000000000000000")
	y := U(7e17)
	b.ReportAllocs()
	for b.Loop() {
		z, _ := MulWad(x, y)
		sink = z
	}
}

func BenchmarkMulDiv512(b *testing.B) {
	// A 2^450-ish product over a 2^240-ish divisor: the 512-bit path.
	x := addU(pow2(250), 12345)
	y := addU(pow2(200), 67890)
	d := addU(pow2(240), 3)
	if _, ok := MulDiv(x, y, d, Ceil); !ok || x.BitLen()+y.BitLen() <= 256 {
		b.Fatal("operands do not take the 512-bit path with a fitting quotient")
	}
	b.ReportAllocs()
	for b.Loop() {
		z, _ := MulDiv(x, y, d, Ceil)
		sink = z
	}
}
