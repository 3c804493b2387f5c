package risk

import "math/big"

// Certificate is the per-validator sufficient condition for security
// (spec/risk-format.md, after the EigenLayer whitepaper's eq. 9 and
// Durvasula-Roughgarden's Corollary 2): with rho_s = pi_s / (alpha_s W_s),
// T_v = max(sum_s (w_vs / sigma_v) rho_s, max over s with w_vs > 0 of rho_s).
// T_v <= 1/(1+gamma) for every v proves gamma slack.
type Certificate struct {
	T          []*big.Rat // per validator
	GammaStar  *big.Rat   // min over T_v > 0 of 1/T_v - 1; nil when no T_v > 0; -1 with an unsecured service
	Unsecured  []int      // services with no stake
	FullRestak bool       // every non-zero w_vs equals sigma_v
}

func certificate(g *Graph) *Certificate {
	c := &Certificate{T: make([]*big.Rat, len(g.Validators)), FullRestak: true}
	W := make([]*big.Rat, len(g.Services))
	for s := range W {
		W[s] = new(big.Rat)
	}
	for _, v := range g.Validators {
		for s, a := range v.Alloc {
			W[s].Add(W[s], a)
			if a.Sign() > 0 && a.Cmp(v.Stake) != 0 {
				c.FullRestak = false
			}
		}
	}
	rho := make([]*big.Rat, len(g.Services))
	for s, svc := range g.Services {
		if W[s].Sign() == 0 {
			c.Unsecured = append(c.Unsecured, s)
			continue
		}
		den := new(big.Rat).Mul(svc.Threshold, W[s])
		rho[s] = new(big.Rat).Quo(svc.Profit, den)
	}
	for v, val := range g.Validators {
		sum, maxRho := new(big.Rat), new(big.Rat)
		for s := range g.Services { // ascending: the sum is exact, order only for clarity
			a, ok := val.Alloc[s]
			if !ok || a.Sign() == 0 || rho[s] == nil {
				continue
			}
			share := new(big.Rat).Quo(a, val.Stake)
			sum.Add(sum, share.Mul(share, rho[s]))
			if rho[s].Cmp(maxRho) > 0 {
				maxRho.Set(rho[s])
			}
		}
		if maxRho.Cmp(sum) > 0 {
			sum = maxRho
		}
		c.T[v] = sum
	}
	if len(c.Unsecured) > 0 {
		c.GammaStar = rat(-1, 1)
		return c
	}
	for _, t := range c.T {
		if t.Sign() <= 0 {
			continue
		}
		inv := new(big.Rat).Inv(t)
		inv.Sub(inv, rat(1, 1))
		if c.GammaStar == nil || inv.Cmp(c.GammaStar) < 0 {
			c.GammaStar = inv
		}
	}
	return c
}

// Bound is Theorem 1's (1 + 1/gamma*) psi, defined on full-restaking
// graphs with gamma* > 0 only; nil otherwise.
func (c *Certificate) Bound(psi *big.Rat) *big.Rat {
	if !c.FullRestak || c.GammaStar == nil || c.GammaStar.Sign() <= 0 {
		return nil
	}
	b := new(big.Rat).Inv(c.GammaStar)
	b.Add(b, rat(1, 1))
	return b.Mul(b, psi)
}
