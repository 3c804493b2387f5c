package risk

import (
	"math/big"
	"sort"
)

// Concentration describes how a quantity is spread over holders
// (validators by stake, services by secured stake, assets, platforms),
// exactly.
type Concentration struct {
	HHI            *big.Rat // Herfindahl-Hirschman index on percentage shares, 0 to 10,000
	EffectiveCount *big.Rat // 1 / sum(share^2): as many equal holders would give the same HHI
	Gini           *big.Rat // population Gini: sum_i sum_j |x_i - x_j| / (2 n^2 mean)
	Nakamoto13     int      // fewest holders with strictly more than 1/3 of the total
	Nakamoto12     int      // ... more than 1/2
	Nakamoto23     int      // ... more than 2/3
	Top5Share      *big.Rat // the five largest shares summed, a fraction of 1
	Holders        int
}

// Concentrate computes the metrics over non-negative amounts. A list that
// sums to zero gives zero metrics.
func Concentrate(amounts []*big.Rat) Concentration {
	c := Concentration{HHI: new(big.Rat), EffectiveCount: new(big.Rat), Gini: new(big.Rat),
		Top5Share: new(big.Rat), Holders: len(amounts)}
	total := new(big.Rat)
	for _, a := range amounts {
		total.Add(total, a)
	}
	if total.Sign() == 0 {
		return c
	}
	sorted := append([]*big.Rat(nil), amounts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Cmp(sorted[j]) < 0 })
	n := len(sorted)
	sumSq := new(big.Rat)
	gini := new(big.Rat)
	for i, a := range sorted {
		share := new(big.Rat).Quo(a, total)
		sumSq.Add(sumSq, new(big.Rat).Mul(share, share))
		// sum_i sum_j |y_i - y_j| = 2 sum_i (2i - n - 1) y_i over ascending y (1-indexed).
		gini.Add(gini, new(big.Rat).Mul(rat(int64(2*(i+1)-n-1), 1), a))
	}
	c.HHI = new(big.Rat).Mul(sumSq, rat(10_000, 1))
	c.EffectiveCount = new(big.Rat).Inv(sumSq)
	c.Gini = gini.Quo(gini, new(big.Rat).Mul(rat(int64(n), 1), total))
	// Largest first for the Nakamoto coefficients and the top five.
	cum := new(big.Rat)
	thresholds := []*big.Rat{rat(1, 3), rat(1, 2), rat(2, 3)}
	counts := []*int{&c.Nakamoto13, &c.Nakamoto12, &c.Nakamoto23}
	for k := n - 1; k >= 0; k-- {
		cum.Add(cum, sorted[k])
		held := n - k
		if held == 5 || (k == 0 && held < 5) {
			c.Top5Share = new(big.Rat).Quo(cum, total)
		}
		frac := new(big.Rat).Quo(cum, total)
		for t, th := range thresholds {
			if *counts[t] == 0 && frac.Cmp(th) > 0 {
				*counts[t] = held
			}
		}
	}
	return c
}
