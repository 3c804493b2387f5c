package risk

import (
	"fmt"
	"math/big"
	"sort"
	"sync"

	"github.com/holiman/uint256"
)

// Cascade is what follows a shock: the attacks in order and the stake lost
// (the shocked validators' plus every attacker's whole stake).
type Cascade struct {
	Shock   []int
	Attacks []*Attack
	Lost    uint256.Int
	Exact   bool // every step was the proven best attack
}

// greedyCascade removes the shock, then repeatedly carries out the best
// attack on what is left until none is profitable.
func (m *model) greedyCascade(shock []int, exact bool, b *budget) *Cascade {
	st := m.fresh()
	c := &Cascade{Shock: shock, Exact: true}
	for _, v := range shock {
		st.remove(v)
		c.Lost.Add(&c.Lost, &m.sigma[v])
	}
	for {
		a, proven := st.bestAttack(exact, b)
		if !proven {
			c.Exact = false
		}
		if a == nil {
			return c
		}
		st.apply(a)
		c.Attacks = append(c.Attacks, a)
		c.Lost.Add(&c.Lost, &a.stake)
	}
}

// cascadeWorkers is how many cascades run at once: independent shocks
// share nothing but the model's read-only data and its cover cache.
const cascadeWorkers = 2

// greedyCascades runs greedyCascade after each shock, on both cores, each
// with its own budget; the result is in the shocks' order whatever the
// scheduling.
//
// A model remembers the cascades it ran: the report's shocks and R_psi's
// candidate shocks overlap (the largest operators, single operators), and
// a cascade depends only on its shock.
func (m *model) greedyCascades(shocks [][]int, exact bool) []*Cascade {
	out := make([]*Cascade, len(shocks))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(cascadeWorkers, len(shocks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				key := fmt.Sprint(exact, sortedCopy(shocks[i]))
				m.cascadeMu.Lock()
				c, ok := m.cascades[key]
				m.cascadeMu.Unlock()
				if !ok {
					c = m.greedyCascade(shocks[i], exact, &budget{left: defaultBudget})
					m.cascadeMu.Lock()
					m.cascades[key] = c
					m.cascadeMu.Unlock()
				}
				out[i] = c
			}
		}()
	}
	for i := range shocks {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// worstLoss is R_psi's search: the most stake lost, over every shock D with
// sigma_D <= limit and every cascade after it (not only the greedy one).
// Exact (over every shock and cascade, with branch and bound) when the
// graph is small enough for the exact attack enumeration and the budget
// holds; otherwise the best of the greedy cascades after a family of
// shocks, a lower bound.
type worstSearch struct {
	m      *model
	b      *budget
	best   uint256.Int
	exact  bool
	seen   map[[2]uint64]bool // (removed, corrupted) states already expanded
	bestAt []int              // the shock of the best cascade
}

func (m *model) worstLoss(limit uint256.Int, exact bool, b *budget) (uint256.Int, bool, []int) {
	w := &worstSearch{m: m, b: b, exact: exact && m.nV <= 64 && m.nS <= 24}
	// A lower bound first: greedy cascades after heuristic shocks.
	shocks := m.candidateShocks(limit)
	for i, c := range m.greedyCascades(shocks, false) {
		if c.Lost.Cmp(&w.best) > 0 || w.bestAt == nil {
			w.best, w.bestAt = c.Lost, shocks[i]
		}
	}
	if !w.exact {
		return w.best, false, w.bestAt
	}
	w.seen = map[[2]uint64]bool{}
	// Every shock within the limit: include-or-skip over validators.
	order := make([]int, m.nV)
	for i := range order {
		order[i] = i
	}
	var shock []int
	var rec func(i int, lost uint256.Int)
	rec = func(i int, lost uint256.Int) {
		if !w.exact {
			return
		}
		if i == m.nV {
			st := m.fresh()
			var removed uint64
			for _, v := range shock {
				st.remove(v)
				removed |= 1 << v
			}
			w.cascades(st, removed, 0, lost, shock)
			return
		}
		// Skip validator i first, so that small shocks are tried early.
		rec(i+1, lost)
		var with uint256.Int
		with.Add(&lost, &m.sigma[order[i]])
		if with.Cmp(&limit) <= 0 {
			shock = append(shock, order[i])
			rec(i+1, with)
			shock = shock[:len(shock)-1]
		}
	}
	rec(0, uint256.Int{})
	return w.best, w.exact, w.bestAt
}

// cascades explores every cascade from st, where lost stake is already
// gone; it updates the best total and gives up exactness when the budget
// runs out.
func (w *worstSearch) cascades(st *state, removed, corrupted uint64, lost uint256.Int, shock []int) {
	if !w.exact {
		return
	}
	if lost.Cmp(&w.best) > 0 {
		w.best, w.bestAt = lost, append([]int(nil), shock...)
	}
	key := [2]uint64{removed, corrupted}
	if w.seen[key] {
		return // the same remaining graph: its continuations were explored
	}
	w.seen[key] = true
	if ub := w.upperBound(st, lost); ub.Cmp(&w.best) <= 0 {
		return
	}
	for _, a := range st.allAttacks(w.b) {
		if !w.b.spend() {
			w.exact = false
			return
		}
		next := st.clone()
		next.apply(a)
		r, c := removed, corrupted
		var l uint256.Int
		l.Add(&lost, &a.stake)
		for _, v := range a.validators {
			r |= 1 << v
		}
		for _, s := range a.services {
			c |= 1 << s
		}
		w.cascades(next, r, c, l, shock)
	}
	if w.b.left <= 0 {
		w.exact = false
	}
}

// upperBound bounds the loss of any cascade from st. Every future attacker
// is alive and secures an open service, which bounds the loss by their
// stake. Every step is profitable and corrupts services not yet corrupted,
// so the future attackers' costs sum below the open services' profits; a
// validator costs at least its smallest allocation to an open service (or
// its stake), so the loss is also at most the best fractional knapsack of
// stakes under that cost budget.
func (w *worstSearch) upperBound(st *state, lost uint256.Int) uint256.Int {
	m := w.m
	var piOpen, all uint256.Int
	for s := range m.nS {
		if !st.corrupted[s] {
			piOpen.Add(&piOpen, &m.pi[s])
		}
	}
	type item struct{ sigma, cost uint256.Int }
	var items []item
	for v := range m.nV {
		if !st.alive[v] {
			continue
		}
		var minW uint256.Int
		adj := false
		for _, s := range m.vs[v] {
			if st.corrupted[s] {
				continue
			}
			if !adj || m.w[v][s].Cmp(&minW) < 0 {
				minW = m.w[v][s]
			}
			adj = true
		}
		if !adj {
			continue
		}
		all.Add(&all, &m.sigma[v])
		items = append(items, item{m.sigma[v], minW})
	}
	// Fractional knapsack: most stake per unit of cost first.
	sort.Slice(items, func(i, j int) bool {
		var l, r uint256.Int
		l.Mul(&items[i].sigma, &items[j].cost)
		r.Mul(&items[j].sigma, &items[i].cost)
		return l.Cmp(&r) > 0
	})
	var gain, budget uint256.Int
	budget = piOpen // costs sum strictly below it
	for _, it := range items {
		if budget.IsZero() {
			break
		}
		if it.cost.Cmp(&budget) <= 0 {
			gain.Add(&gain, &it.sigma)
			budget.Sub(&budget, &it.cost)
			continue
		}
		// A fraction: sigma * budget / cost, rounded up to stay a bound.
		var part, rem uint256.Int
		part.Mul(&it.sigma, &budget)
		part.DivMod(&part, &it.cost, &rem)
		if !rem.IsZero() {
			part.AddUint64(&part, 1)
		}
		gain.Add(&gain, &part)
		break
	}
	if gain.Cmp(&all) > 0 {
		gain = all
	}
	var ub uint256.Int
	ub.Add(&lost, &gain)
	return ub
}

// allAttacks lists every profitable attack on st (for the exact worst
// cascade): for each subset A of open services, every coalition of
// validators allocating to A that corrupts all of A at a cost below pi_A.
func (st *state) allAttacks(b *budget) []*Attack {
	m := st.m
	open := st.openServices()
	var out []*Attack
	for mask := uint32(1); mask < 1<<len(open); mask++ {
		var svcs []int
		var pi, maxT uint256.Int
		for k, s := range open {
			if mask&(1<<k) != 0 {
				svcs = append(svcs, s)
				pi.Add(&pi, &m.pi[s])
				if st.t[s].Cmp(&maxT) > 0 {
					maxT = st.t[s]
				}
			}
		}
		// Any coalition corrupting s costs at least its target (a unit of
		// allocation costs at least a unit), so A is never profitable
		// when its profit does not exceed the largest target.
		if pi.Cmp(&maxT) <= 0 {
			continue
		}
		if !b.spend() {
			return out
		}
		p := st.newCover(svcs, uint256.Int{}, b)
		var chosen []int
		var rec func(i int, cost, stake uint256.Int, covered []uint256.Int)
		rec = func(i int, cost, stake uint256.Int, covered []uint256.Int) {
			if cost.Cmp(&pi) >= 0 || !b.spend() {
				return
			}
			done := true
			for k, s := range svcs {
				if covered[k].Cmp(&st.t[s]) < 0 {
					done = false
					var have uint256.Int
					have.Add(&covered[k], &p.suffix[i][k])
					if have.Cmp(&st.t[s]) < 0 {
						return
					}
				}
			}
			if done {
				// Every superset also corrupts A; list this one and go on
				// adding members while it stays profitable.
				out = append(out, &Attack{services: svcs, validators: append([]int(nil), chosen...),
					profit: pi, cost: cost, stake: stake})
			}
			if i == len(p.cands) {
				return
			}
			v := p.cands[i]
			next := append([]uint256.Int(nil), covered...)
			for k, s := range svcs {
				next[k].Add(&next[k], &m.w[v][s])
			}
			var c2, s2 uint256.Int
			c2.Add(&cost, &p.cost[i])
			s2.Add(&stake, &m.sigma[v])
			chosen = append(chosen, v)
			rec(i+1, c2, s2, next)
			chosen = chosen[:len(chosen)-1]
			rec(i+1, cost, stake, covered)
		}
		rec(0, uint256.Int{}, uint256.Int{}, make([]uint256.Int, len(svcs)))
	}
	// The most destructive first, so the bound prunes early.
	sort.SliceStable(out, func(i, j int) bool { return out[i].stake.Cmp(&out[j].stake) > 0 })
	return out
}

// candidateShocks are the shocks the lower bound tries: none; every single
// validator within the limit; the largest validators, added while they fit;
// and each validator's heaviest neighbourhood that fits (the co-securers of
// its largest service, largest first).
func (m *model) candidateShocks(limit uint256.Int) [][]int {
	shocks := [][]int{nil}
	bySize := make([]int, m.nV)
	for i := range bySize {
		bySize[i] = i
	}
	sort.SliceStable(bySize, func(i, j int) bool { return m.sigma[bySize[i]].Cmp(&m.sigma[bySize[j]]) > 0 })
	var acc uint256.Int
	var top []int
	for _, v := range bySize {
		var next uint256.Int
		next.Add(&acc, &m.sigma[v])
		if next.Cmp(&limit) <= 0 {
			acc = next
			top = append(top, v)
		}
	}
	if len(top) > 1 {
		shocks = append(shocks, sortedCopy(top))
	}
	singles := 0
	for _, v := range bySize {
		if m.sigma[v].Cmp(&limit) <= 0 && singles < maxCandidateShocks/2 {
			shocks = append(shocks, []int{v})
			singles++
		}
	}
	for s := range m.nS {
		vals := append([]int(nil), m.sv[s]...)
		sort.SliceStable(vals, func(i, j int) bool { return m.w[vals[i]][s].Cmp(&m.w[vals[j]][s]) > 0 })
		var acc uint256.Int
		var d []int
		for _, v := range vals {
			var next uint256.Int
			next.Add(&acc, &m.sigma[v])
			if next.Cmp(&limit) <= 0 {
				acc = next
				d = append(d, v)
			}
		}
		if len(d) > 1 && len(shocks) < maxCandidateShocks {
			shocks = append(shocks, sortedCopy(d))
		}
	}
	return shocks
}

// maxCandidateShocks bounds the shocks the R_psi lower bound tries on a
// graph too large for the exact search.
const maxCandidateShocks = 12

func sortedCopy(xs []int) []int {
	out := append([]int(nil), xs...)
	sort.Ints(out)
	return out
}

// psiLimit is psi * sigma_V in scaled units, rounded down (a shock may not
// exceed it).
func (m *model) psiLimit(psi *big.Rat) uint256.Int {
	x := new(big.Int).Mul(m.total.ToBig(), psi.Num())
	x.Quo(x, psi.Denom())
	var out uint256.Int
	out.SetFromBig(x)
	return out
}
