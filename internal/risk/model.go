package risk

import (
	"fmt"
	"math/big"
	"sort"
	"sync"

	"github.com/holiman/uint256"
)

// model is a Graph in integers: every stake, allocation and profit
// multiplied by one common scale q (the least common multiple of their
// denominators), so that the searches add and compare 256-bit integers
// instead of rationals. Thresholds stay fractions aNum/aDen; a service's
// target is the exact integer ceil(aNum * W / aDen).
type model struct {
	nV, nS int
	q      *big.Int
	sigma  []uint256.Int
	w      [][]uint256.Int // w[v][s]
	pi     []uint256.Int
	aNum   []uint256.Int
	aDen   []uint256.Int
	vs     [][]int // services each validator allocates to, ascending
	sv     [][]int // validators allocating to each service, ascending
	total  uint256.Int

	// byW lists each service's validators by allocation, largest first
	// (ties by position): the single-service cover's order.
	byW [][]int
	// seeds caches the single-service cover of each service on the full
	// graph; a state whose removals did not touch a service reuses it.
	seedMu sync.Mutex
	seeds  []*Attack
	seeded []bool
	// cascades remembers greedy cascades by shock (see greedyCascades).
	cascadeMu sync.Mutex
	cascades  map[string]*Cascade
}

// maxScaledBits bounds every scaled value, so that sums over thousands of
// validators and products with a threshold numerator stay in 256 bits.
const maxScaledBits = 190

func newModel(g *Graph) (*model, error) {
	q := big.NewInt(1)
	lcm := func(d *big.Int) {
		gcd := new(big.Int).GCD(nil, nil, q, d)
		q.Mul(q, new(big.Int).Quo(d, gcd))
	}
	for _, s := range g.Services {
		lcm(s.Profit.Denom())
	}
	for _, v := range g.Validators {
		lcm(v.Stake.Denom())
		for _, a := range v.Alloc {
			lcm(a.Denom())
		}
	}
	m := &model{nV: len(g.Validators), nS: len(g.Services), q: q,
		sigma: make([]uint256.Int, len(g.Validators)), w: make([][]uint256.Int, len(g.Validators)),
		pi: make([]uint256.Int, len(g.Services)), aNum: make([]uint256.Int, len(g.Services)),
		aDen: make([]uint256.Int, len(g.Services)), vs: make([][]int, len(g.Validators)),
		sv: make([][]int, len(g.Services))}
	scale := func(entry string, r *big.Rat, out *uint256.Int) error {
		x := new(big.Int).Mul(r.Num(), q)
		x.Quo(x, r.Denom())
		if x.BitLen() > maxScaledBits {
			return inputErr(entry, "too large or too finely divided: scaled to a common denominator it needs "+
				"%d bits, more than %d", x.BitLen(), maxScaledBits)
		}
		out.SetFromBig(x)
		return nil
	}
	for i, s := range g.Services {
		if err := scale(fmt.Sprintf("services[%d] (%s).profit", i, s.ID), s.Profit, &m.pi[i]); err != nil {
			return nil, err
		}
		if s.Threshold.Num().BitLen() > 64 || s.Threshold.Denom().BitLen() > 64 {
			return nil, inputErr(fmt.Sprintf("services[%d] (%s).threshold", i, s.ID),
				"needs more than 64 bits of numerator or denominator")
		}
		m.aNum[i].SetFromBig(s.Threshold.Num())
		m.aDen[i].SetFromBig(s.Threshold.Denom())
	}
	for v, val := range g.Validators {
		entry := fmt.Sprintf("validators[%d] (%s)", v, val.ID)
		if err := scale(entry+".stake", val.Stake, &m.sigma[v]); err != nil {
			return nil, err
		}
		m.w[v] = make([]uint256.Int, m.nS)
		for s := range m.nS {
			a, ok := val.Alloc[s]
			if !ok || a.Sign() == 0 {
				continue
			}
			if err := scale(entry+".allocations."+g.Services[s].ID, a, &m.w[v][s]); err != nil {
				return nil, err
			}
			m.vs[v] = append(m.vs[v], s)
			m.sv[s] = append(m.sv[s], v)
		}
		m.total.Add(&m.total, &m.sigma[v])
	}
	m.byW = make([][]int, m.nS)
	for s := range m.nS {
		order := append([]int(nil), m.sv[s]...)
		sort.SliceStable(order, func(i, j int) bool { return m.w[order[i]][s].Cmp(&m.w[order[j]][s]) > 0 })
		m.byW[s] = order
	}
	m.seeds, m.seeded = make([]*Attack, m.nS), make([]bool, m.nS)
	m.cascades = map[string]*Cascade{}
	if m.total.BitLen() > maxScaledBits+16 {
		return nil, inputErr("validators", "total stake too large to compute with")
	}
	return m, nil
}

// rat turns a scaled integer back into the number it stands for.
func (m *model) rat(x *uint256.Int) *big.Rat {
	return new(big.Rat).SetFrac(x.ToBig(), m.q)
}

// target is the least allocation that corrupts service s when W is what
// secures it: ceil(alpha_s * W).
func (m *model) target(s int, W *uint256.Int) uint256.Int {
	var prod, t, rem uint256.Int
	prod.Mul(&m.aNum[s], W)
	t.DivMod(&prod, &m.aDen[s], &rem)
	if !rem.IsZero() {
		t.AddUint64(&t, 1)
	}
	return t
}

// state is the graph left after removing validators and corrupting
// services: what a cascade step attacks.
type state struct {
	m         *model
	alive     []bool
	corrupted []bool
	touched   []bool        // services a removal changed (their cached covers are stale)
	W         []uint256.Int // stake still securing each service
	t         []uint256.Int // its corruption target
}

func (m *model) fresh() *state {
	st := &state{m: m, alive: make([]bool, m.nV), corrupted: make([]bool, m.nS), touched: make([]bool, m.nS),
		W: make([]uint256.Int, m.nS), t: make([]uint256.Int, m.nS)}
	for v := range m.nV {
		st.alive[v] = true
	}
	for s := range m.nS {
		for _, v := range m.sv[s] {
			st.W[s].Add(&st.W[s], &m.w[v][s])
		}
		st.t[s] = m.target(s, &st.W[s])
	}
	return st
}

func (st *state) clone() *state {
	c := &state{m: st.m, alive: append([]bool(nil), st.alive...),
		corrupted: append([]bool(nil), st.corrupted...), touched: append([]bool(nil), st.touched...),
		W: append([]uint256.Int(nil), st.W...), t: append([]uint256.Int(nil), st.t...)}
	return c
}

// remove takes validator v out with its whole stake and allocations.
func (st *state) remove(v int) {
	if !st.alive[v] {
		return
	}
	st.alive[v] = false
	for _, s := range st.m.vs[v] {
		st.touched[s] = true
		st.W[s].Sub(&st.W[s], &st.m.w[v][s])
		st.t[s] = st.m.target(s, &st.W[s])
	}
}

// apply carries out an attack: its services are corrupted, its validators
// removed.
func (st *state) apply(a *Attack) {
	for _, s := range a.services {
		st.corrupted[s] = true
	}
	for _, v := range a.validators {
		st.remove(v)
	}
}
