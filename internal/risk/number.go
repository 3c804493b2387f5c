package risk

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// ParseNumber reads a number exactly: a decimal string ("120", "0.5",
// "-3.25") or a fraction of two such integers ("2/3"). Exponents, "NaN",
// "Inf" and empty strings are refused: a risk figure must mean one exact
// rational.
func ParseNumber(s string) (*big.Rat, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty number")
	}
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, ok1 := parseInteger(num)
		d, ok2 := parseInteger(den)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%q is not a fraction of two integers", s)
		}
		if d.Sign() == 0 {
			return nil, fmt.Errorf("%q divides by zero", s)
		}
		return new(big.Rat).SetFrac(n, d), nil
	}
	intPart, frac, _ := strings.Cut(s, ".")
	sign := ""
	if strings.HasPrefix(intPart, "-") || strings.HasPrefix(intPart, "+") {
		sign, intPart = intPart[:1], intPart[1:]
	}
	if (intPart == "" && frac == "") || !digits(intPart) || !digits(frac) {
		return nil, fmt.Errorf("%q is not a decimal number (write 0.5 or 2/3)", s)
	}
	n, _ := new(big.Int).SetString(sign+"0"+intPart+frac, 10)
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	return new(big.Rat).SetFrac(n, d), nil
}

func parseInteger(s string) (*big.Int, bool) {
	s = strings.TrimSpace(s)
	body := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if body == "" || !digits(body) {
		return nil, false
	}
	return new(big.Int).SetString(s, 10)
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// significantDigits is the least precision of a non-terminating output.
const significantDigits = 18

// FormatNumber writes r as a decimal string: exact when its expansion
// terminates (the denominator has no prime factor but 2 and 5), otherwise
// rounded half away from zero to 18 significant digits.
func FormatNumber(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	d := new(big.Int).Set(r.Denom())
	twos, fives := 0, 0
	for d.Bit(0) == 0 {
		d.Rsh(d, 1)
		twos++
	}
	five, mod := big.NewInt(5), new(big.Int)
	for {
		q, m := new(big.Int).QuoRem(d, five, mod)
		if m.Sign() != 0 {
			break
		}
		d = q
		fives++
	}
	if d.Cmp(big.NewInt(1)) == 0 { // terminates after max(twos, fives) digits
		return strings.TrimRight(strings.TrimRight(r.FloatString(max(twos, fives)), "0"), ".")
	}
	// Digits after the point: enough for 18 significant ones.
	abs := new(big.Rat).Abs(r)
	prec := significantDigits
	if abs.Cmp(big.NewRat(1, 1)) >= 0 {
		intDigits := len(new(big.Int).Quo(abs.Num(), abs.Denom()).String())
		prec = max(0, significantDigits-intDigits)
	} else {
		// Leading zeros after the point: abs < 10^-k.
		tenth := big.NewRat(1, 10)
		x := new(big.Rat).Set(abs)
		for x.Cmp(tenth) < 0 {
			x.Mul(x, big.NewRat(10, 1))
			prec++
		}
	}
	return r.FloatString(prec)
}

// rat is a shorthand for an exact integer ratio.
func rat(a, b int64) *big.Rat { return big.NewRat(a, b) }
