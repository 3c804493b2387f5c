package risk

import (
	"slices"
	"sort"

	"github.com/holiman/uint256"
)

// Attack is a coalition of validators and the services it corrupts, with
// its profit (pi_A), cost (what its members can be slashed: each
// min(sigma_v, sum over A of w_vs)) and stake (sigma_B), all scaled.
type Attack struct {
	services   []int // ascending positions
	validators []int // ascending positions
	profit     uint256.Int
	cost       uint256.Int
	stake      uint256.Int
}

// gain is profit minus cost; only profitable attacks (profit > cost) are
// ever compared.
func (a *Attack) gain() uint256.Int {
	var g uint256.Int
	g.Sub(&a.profit, &a.cost)
	return g
}

// better reports whether a ranks before b: larger profit minus cost, then
// larger profit, smaller attacker stake, fewer validators, fewer services,
// the lexicographically first validator positions, then service positions
// (spec/risk-format.md, "greedy cascade").
func better(a, b *Attack) bool {
	if b == nil {
		return a != nil
	}
	if a == nil {
		return false
	}
	ga, gb := a.gain(), b.gain()
	if c := ga.Cmp(&gb); c != 0 {
		return c > 0
	}
	if c := a.profit.Cmp(&b.profit); c != 0 {
		return c > 0
	}
	if c := a.stake.Cmp(&b.stake); c != 0 {
		return c < 0
	}
	if len(a.validators) != len(b.validators) {
		return len(a.validators) < len(b.validators)
	}
	if len(a.services) != len(b.services) {
		return len(a.services) < len(b.services)
	}
	if c := slices.Compare(a.validators, b.validators); c != 0 {
		return c < 0
	}
	return slices.Compare(a.services, b.services) < 0
}

// budget counts search steps; a search that runs out reports a result
// that is the best found, not proven best.
type budget struct{ left int64 }

func (b *budget) spend() bool {
	if b.left <= 0 {
		return false
	}
	b.left--
	return true
}

// coverProblem is: pick validators from cands covering every service in
// svcs up to its target, at least cost, then least stake, fewest
// validators, lexicographically first.
type coverProblem struct {
	st     *state
	svcs   []int
	cands  []int         // ascending positions (lexicographic tie-break)
	cost   []uint256.Int // per candidate
	suffix [][]uint256.Int
	limit  uint256.Int // costs above it are not wanted

	chosen  []int
	covered []uint256.Int
	best    []int
	bestKey struct {
		cost, stake uint256.Int
		n           int
		found       bool
	}
	budget  *budget
	aborted bool
}

// newCover prepares the cover of svcs by the alive validators allocating
// to them; cost of a validator is min(sigma_v, sum over svcs of w_vs).
func (st *state) newCover(svcs []int, limit uint256.Int, b *budget) *coverProblem {
	m := st.m
	p := &coverProblem{st: st, svcs: svcs, limit: limit, budget: b, covered: make([]uint256.Int, len(svcs))}
	seen := map[int]bool{}
	for _, s := range svcs {
		for _, v := range m.sv[s] {
			if st.alive[v] && !seen[v] {
				seen[v] = true
				p.cands = append(p.cands, v)
			}
		}
	}
	sort.Ints(p.cands)
	p.cost = make([]uint256.Int, len(p.cands))
	for i, v := range p.cands {
		var sum uint256.Int
		for _, s := range svcs {
			sum.Add(&sum, &m.w[v][s])
		}
		if sum.Cmp(&m.sigma[v]) > 0 {
			sum = m.sigma[v]
		}
		p.cost[i] = sum
	}
	p.suffix = make([][]uint256.Int, len(p.cands)+1)
	p.suffix[len(p.cands)] = make([]uint256.Int, len(svcs))
	for i := len(p.cands) - 1; i >= 0; i-- {
		p.suffix[i] = append([]uint256.Int(nil), p.suffix[i+1]...)
		for k, s := range svcs {
			p.suffix[i][k].Add(&p.suffix[i][k], &m.w[p.cands[i]][s])
		}
	}
	return p
}

// solve runs the branch and bound. Include-first in ascending position
// order meets equal keys in lexicographic order, so only a strictly
// better key replaces the incumbent.
func (p *coverProblem) solve() {
	p.dfs(0, uint256.Int{}, uint256.Int{})
}

func (p *coverProblem) dfs(i int, cost, stake uint256.Int) {
	if p.aborted {
		return
	}
	if !p.budget.spend() {
		p.aborted = true
		return
	}
	// Deficits: the largest one bounds the remaining cost from below,
	// since covering a unit of w_vs costs at least one unit.
	var maxDef uint256.Int
	done := true
	for k, s := range p.svcs {
		t := &p.st.t[s]
		if p.covered[k].Cmp(t) >= 0 {
			continue
		}
		done = false
		var have, def uint256.Int
		have.Add(&p.covered[k], &p.suffix[i][k])
		if have.Cmp(t) < 0 {
			return // infeasible even with every remaining candidate
		}
		def.Sub(t, &p.covered[k])
		if def.Cmp(&maxDef) > 0 {
			maxDef = def
		}
	}
	var lb uint256.Int
	lb.Add(&cost, &maxDef)
	if lb.Cmp(&p.limit) > 0 {
		return
	}
	if p.bestKey.found && lb.Cmp(&p.bestKey.cost) > 0 {
		return
	}
	if done {
		p.offer(cost, stake)
		return // a superset costs more
	}
	if i == len(p.cands) {
		return
	}
	v := p.cands[i]
	// Include v.
	for k, s := range p.svcs {
		p.covered[k].Add(&p.covered[k], &p.st.m.w[v][s])
	}
	p.chosen = append(p.chosen, v)
	var c2, s2 uint256.Int
	c2.Add(&cost, &p.cost[i])
	s2.Add(&stake, &p.st.m.sigma[v])
	p.dfs(i+1, c2, s2)
	p.chosen = p.chosen[:len(p.chosen)-1]
	for k, s := range p.svcs {
		p.covered[k].Sub(&p.covered[k], &p.st.m.w[v][s])
	}
	// Exclude v.
	p.dfs(i+1, cost, stake)
}

func (p *coverProblem) offer(cost, stake uint256.Int) {
	k := &p.bestKey
	if k.found {
		if c := cost.Cmp(&k.cost); c != 0 {
			if c > 0 {
				return
			}
		} else if c := stake.Cmp(&k.stake); c != 0 {
			if c > 0 {
				return
			}
		} else if len(p.chosen) >= k.n {
			return // equal or larger size: the incumbent is lexicographically first
		}
	}
	k.cost, k.stake, k.n, k.found = cost, stake, len(p.chosen), true
	p.best = append(p.best[:0], p.chosen...)
}

// minSingleCost is the cheapest coalition corrupting service s alone on
// st: cost_to_corrupt. Candidates go largest allocation first, which finds
// good covers early; exact is false when the budget ran out first.
func (st *state) minSingleCost(s int, b *budget) (cost uint256.Int, exact bool) {
	m := st.m
	var cands []int
	for _, v := range m.sv[s] {
		if st.alive[v] {
			cands = append(cands, v)
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return m.w[cands[i]][s].Cmp(&m.w[cands[j]][s]) > 0 })
	t := st.t[s]
	if t.IsZero() {
		return uint256.Int{}, true
	}
	suffix := make([]uint256.Int, len(cands)+1)
	for i := len(cands) - 1; i >= 0; i-- {
		suffix[i].Add(&suffix[i+1], &m.w[cands[i]][s])
	}
	// Greedy first: the largest allocations until covered.
	var best uint256.Int
	found := false
	var acc uint256.Int
	for _, v := range cands {
		acc.Add(&acc, &m.w[v][s])
		if acc.Cmp(&t) >= 0 {
			best, found = acc, true
			break
		}
	}
	if !found {
		return uint256.Int{}, false // cannot happen: t <= W
	}
	aborted := false
	var dfs func(i int, sum uint256.Int)
	dfs = func(i int, sum uint256.Int) {
		if aborted || best.Eq(&t) {
			return
		}
		if !b.spend() {
			aborted = true
			return
		}
		if sum.Cmp(&t) >= 0 {
			if sum.Cmp(&best) < 0 {
				best = sum
			}
			return
		}
		if i == len(cands) {
			return
		}
		var reach uint256.Int
		reach.Add(&sum, &suffix[i])
		if reach.Cmp(&t) < 0 {
			return
		}
		// Any completion costs at least t; nothing beats best if sum+... >= best.
		w := &m.w[cands[i]][s]
		var with uint256.Int
		with.Add(&sum, w)
		if with.Cmp(&best) < 0 {
			dfs(i+1, with)
		}
		dfs(i+1, sum)
	}
	dfs(0, uint256.Int{})
	return best, !aborted
}

// exactLimits are the sizes up to which searches are exact by default.
const (
	ExactValidators = 24
	ExactServices   = 12
)

// defaultBudget bounds one attack search's steps (a few seconds at most;
// at the exact size limit a search takes milliseconds).
const defaultBudget = 50_000_000

// worstBudget bounds each R_psi search (about a second): every shock and
// every cascade is exponential, so it is exact on small graphs (measured:
// always up to 14 validators by 7 services on dense random graphs, usually
// up to 16 by 8) and a lower bound marked exact: false beyond.
const worstBudget = 5_000_000

// bestAttack finds the most profitable attack on st (better's order), or
// nil when none is profitable. exact searches every service subset with
// branch and bound; otherwise a heuristic builds attacks around each
// service. proven is false when the result is only the best found.
func (st *state) bestAttack(exact bool, b *budget) (best *Attack, proven bool) {
	if exact {
		return st.bestAttackExact(b)
	}
	return st.bestAttackHeuristic(b), false
}

func (st *state) openServices() []int {
	var open []int
	for s := range st.m.nS {
		if !st.corrupted[s] {
			open = append(open, s)
		}
	}
	return open
}

func (st *state) bestAttackExact(b *budget) (*Attack, bool) {
	m := st.m
	open := st.openServices()
	if len(open) > 24 {
		return st.bestAttackHeuristic(b), false
	}
	proven := true
	lb := make([]uint256.Int, m.nS) // a lower bound on any attack's cost that includes s
	for _, s := range open {
		c, ok := st.minSingleCost(s, b)
		if ok {
			lb[s] = c
		} else {
			lb[s], proven = st.t[s], false
		}
	}
	type cand struct {
		mask  uint32
		bound uint256.Int // pi_A - max lb: no attack on A gains more
		pi    uint256.Int
	}
	var cands []cand
	for mask := uint32(1); mask < 1<<len(open); mask++ {
		var pi, maxLB uint256.Int
		for k, s := range open {
			if mask&(1<<k) != 0 {
				pi.Add(&pi, &m.pi[s])
				if lb[s].Cmp(&maxLB) > 0 {
					maxLB = lb[s]
				}
			}
		}
		if pi.Cmp(&maxLB) <= 0 {
			continue // not even the cheapest service alone is paid for
		}
		var bound uint256.Int
		bound.Sub(&pi, &maxLB)
		cands = append(cands, cand{mask, bound, pi})
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].bound.Cmp(&cands[j].bound) > 0 })
	var best *Attack
	for _, c := range cands {
		if best != nil {
			g := best.gain()
			if c.bound.Cmp(&g) < 0 {
				break // sorted: nothing later can reach best's gain
			}
		}
		var svcs []int
		for k, s := range open {
			if c.mask&(1<<k) != 0 {
				svcs = append(svcs, s)
			}
		}
		// Wanted: cost < pi (profitable) and pi - cost >= best's gain.
		var limit uint256.Int
		need := uint256.NewInt(1)
		if best != nil {
			g := best.gain()
			need = &g
		}
		if c.pi.Cmp(need) < 0 {
			continue
		}
		limit.Sub(&c.pi, need)
		p := st.newCover(svcs, limit, b)
		p.solve()
		if p.aborted {
			proven = false
		}
		if !p.bestKey.found {
			continue
		}
		a := &Attack{services: svcs, validators: append([]int(nil), p.best...), profit: c.pi,
			cost: p.bestKey.cost, stake: p.bestKey.stake}
		if better(a, best) {
			best = a
		}
		if p.aborted {
			break
		}
	}
	return best, proven
}

// bestAttackHeuristic searches large graphs in three moves, each cheap:
//
//  1. every open service alone, covered by its largest allocations first
//     (then members whose removal keeps it covered are dropped);
//  2. every such coalition extended with each other service it already
//     corrupts, while that adds more profit than cost (a coalition that
//     corrupts a bridge often holds an oracle too);
//  3. for the two most profitable seeds, services the coalition only partly
//     holds, added one at a time with a greedy re-cover, while the gain
//     rises.
//
// It never proves anything: the result is the best attack it found.
func (st *state) bestAttackHeuristic(b *budget) *Attack {
	m := st.m
	open := st.openServices()
	var best *Attack
	type seed struct {
		a    *Attack
		gain uint256.Int
	}
	var seeds []seed
	for _, s := range open {
		if !b.spend() {
			break
		}
		a := st.singleCover(s)
		if a == nil {
			continue
		}
		a = st.extendFree(a)
		if a.profit.Cmp(&a.cost) > 0 {
			if better(a, best) {
				best = a
			}
			seeds = append(seeds, seed{a, a.gain()})
		}
	}
	// Move 3 on the two best seeds.
	sort.SliceStable(seeds, func(i, j int) bool { return seeds[i].gain.Cmp(&seeds[j].gain) > 0 })
	if len(seeds) > 2 {
		seeds = seeds[:2]
	}
	for _, sd := range seeds {
		a := sd.a
		for step := 0; step < 3 && b.spend(); step++ {
			// Services sharing the most allocation with the coalition.
			shared := map[int]*uint256.Int{}
			in := make(map[int]bool, len(a.services))
			for _, x := range a.services {
				in[x] = true
			}
			for _, v := range a.validators {
				for _, x := range m.vs[v] {
					if in[x] || st.corrupted[x] {
						continue
					}
					if shared[x] == nil {
						shared[x] = new(uint256.Int)
					}
					shared[x].Add(shared[x], &m.w[v][x])
				}
			}
			cands := make([]int, 0, len(shared))
			for x := range shared {
				cands = append(cands, x)
			}
			sort.Slice(cands, func(i, j int) bool {
				if c := shared[cands[i]].Cmp(shared[cands[j]]); c != 0 {
					return c > 0
				}
				return cands[i] < cands[j]
			})
			if len(cands) > 3 {
				cands = cands[:3]
			}
			var grown *Attack
			for _, x := range cands {
				c := st.greedyAttack(insertSorted(a.services, x))
				if c != nil && c.profit.Cmp(&c.cost) > 0 && better(c, a) && better(c, grown) {
					grown = c
				}
			}
			if grown == nil {
				break
			}
			a = st.extendFree(grown)
			if better(a, best) {
				best = a
			}
		}
	}
	return best
}

// singleCover is greedyAttack of one service, from the model's cache when
// no removal touched the service.
func (st *state) singleCover(s int) *Attack {
	m := st.m
	if st.touched[s] {
		return st.greedyAttack([]int{s})
	}
	m.seedMu.Lock()
	defer m.seedMu.Unlock()
	if !m.seeded[s] {
		m.seeds[s], m.seeded[s] = st.greedyAttack([]int{s}), true
	}
	return m.seeds[s]
}

// extendFree adds to a every open service its coalition already corrupts
// whose profit exceeds the extra cost (a member's cost grows with the
// services it is slashed for, up to its stake).
func (st *state) extendFree(a *Attack) *Attack {
	m := st.m
	in := make(map[int]bool, len(a.services))
	for _, x := range a.services {
		in[x] = true
	}
	cover := map[int]*uint256.Int{}
	for _, v := range a.validators {
		for _, x := range m.vs[v] {
			if in[x] || st.corrupted[x] {
				continue
			}
			if cover[x] == nil {
				cover[x] = new(uint256.Int)
			}
			cover[x].Add(cover[x], &m.w[v][x])
		}
	}
	xs := make([]int, 0, len(cover))
	for x, c := range cover {
		if c.Cmp(&st.t[x]) >= 0 {
			xs = append(xs, x)
		}
	}
	sort.Ints(xs)
	for _, x := range xs {
		c := st.attackCost(insertSorted(a.services, x), a.validators)
		if c.profit.Cmp(&c.cost) > 0 && better(c, a) {
			a = c
		}
	}
	return a
}

// attackCost prices the attack of validators on svcs (they must corrupt
// them): profit, cost and stake.
func (st *state) attackCost(svcs, validators []int) *Attack {
	m := st.m
	a := &Attack{services: svcs, validators: validators}
	for _, s := range svcs {
		a.profit.Add(&a.profit, &m.pi[s])
	}
	for _, v := range validators {
		var c uint256.Int
		for _, s := range svcs {
			c.Add(&c, &m.w[v][s])
		}
		if c.Cmp(&m.sigma[v]) > 0 {
			c = m.sigma[v]
		}
		a.cost.Add(&a.cost, &c)
		a.stake.Add(&a.stake, &m.sigma[v])
	}
	return a
}

// greedyAttack covers svcs greedily. One service: its largest allocations
// first. Several: repeatedly the validator with the most still-needed
// allocation per unit of cost. Then it drops members whose removal keeps
// every service covered, the costliest first.
func (st *state) greedyAttack(svcs []int) *Attack {
	m := st.m
	need := make([]uint256.Int, len(svcs))
	for k, s := range svcs {
		need[k] = st.t[s]
	}
	costOf := func(v int) uint256.Int {
		var sum uint256.Int
		for _, s := range svcs {
			sum.Add(&sum, &m.w[v][s])
		}
		if sum.Cmp(&m.sigma[v]) > 0 {
			sum = m.sigma[v]
		}
		return sum
	}
	var chosen []int
	var cands []int
	var costs []uint256.Int
	if len(svcs) > 1 {
		// Candidates: alive validators allocating to svcs, each once.
		seen := make([]bool, m.nV)
		for _, s := range svcs {
			for _, v := range m.sv[s] {
				if st.alive[v] && !seen[v] {
					seen[v] = true
					cands = append(cands, v)
				}
			}
		}
		sort.Ints(cands)
		costs = make([]uint256.Int, len(cands))
		for i, v := range cands {
			costs[i] = costOf(v)
		}
	}
	if len(svcs) == 1 {
		s := svcs[0]
		for _, v := range m.byW[s] {
			if need[0].IsZero() {
				break
			}
			if !st.alive[v] {
				continue
			}
			chosen = append(chosen, v)
			if m.w[v][s].Cmp(&need[0]) >= 0 {
				need[0].Clear()
			} else {
				need[0].Sub(&need[0], &m.w[v][s])
			}
		}
		if !need[0].IsZero() {
			return nil
		}
	} else {
		// Lazy greedy: what a candidate still covers only shrinks as others
		// are taken, so a stale ratio is an upper bound. Pop the best bound,
		// refresh it, and take it if it still beats the next bound.
		useful := func(v int) uint256.Int {
			var u uint256.Int
			for k, s := range svcs {
				x := m.w[v][s]
				if x.Cmp(&need[k]) > 0 {
					x = need[k]
				}
				u.Add(&u, &x)
			}
			return u
		}
		h := &ratioHeap{items: make([]ratioItem, 0, len(cands))}
		for i, v := range cands {
			u := useful(v)
			if !u.IsZero() {
				h.items = append(h.items, ratioItem{i: i, key: ratioKey(&u, &costs[i])})
			}
		}
		h.init()
		remaining := func() bool {
			for k := range need {
				if !need[k].IsZero() {
					return true
				}
			}
			return false
		}
		for remaining() {
			if h.Len() == 0 {
				return nil
			}
			top := h.pop()
			u := useful(cands[top.i])
			if u.IsZero() {
				continue
			}
			top.key = ratioKey(&u, &costs[top.i])
			if h.Len() > 0 && ratioLess(top, h.items[0]) {
				h.push(top) // stale: someone else may be better now
				continue
			}
			v := cands[top.i]
			chosen = append(chosen, v)
			for k, s := range svcs {
				if m.w[v][s].Cmp(&need[k]) >= 0 {
					need[k].Clear()
				} else {
					need[k].Sub(&need[k], &m.w[v][s])
				}
			}
		}
	}
	// Prune redundant members, the costliest first.
	type member struct {
		v    int
		cost uint256.Int
	}
	members := make([]member, len(chosen))
	for i, v := range chosen {
		members[i] = member{v, costOf(v)}
	}
	slices.SortStableFunc(members, func(a, b member) int { return b.cost.Cmp(&a.cost) })
	for i := range members {
		chosen[i] = members[i].v
	}
	covered := make([]uint256.Int, len(svcs))
	for _, v := range chosen {
		for k, s := range svcs {
			covered[k].Add(&covered[k], &m.w[v][s])
		}
	}
	var kept []int
	for _, v := range chosen {
		redundant := true
		for k, s := range svcs {
			var rest uint256.Int
			rest.Sub(&covered[k], &m.w[v][s])
			if rest.Cmp(&st.t[s]) < 0 {
				redundant = false
				break
			}
		}
		if redundant {
			for k, s := range svcs {
				covered[k].Sub(&covered[k], &m.w[v][s])
			}
			continue
		}
		kept = append(kept, v)
	}
	sort.Ints(kept)
	return st.attackCost(svcs, kept)
}

// ratioItem is a cover candidate and its useful/cost ratio, as a fixed
// point key (useful * 2^64 / cost): computed once per refresh, so the heap
// compares keys instead of multiplying 256-bit numbers.
type ratioItem struct {
	i   int
	key uint256.Int
}

func ratioKey(useful, cost *uint256.Int) uint256.Int {
	var k uint256.Int
	if cost.IsZero() {
		k.SetAllOne()
		return k
	}
	k.Lsh(useful, 64)
	k.Div(&k, cost)
	return k
}

// ratioLess orders by ratio, smaller first; ties by larger position (so
// the heap's top, the largest, prefers the smaller position).
func ratioLess(a, b ratioItem) bool {
	if c := a.key.Cmp(&b.key); c != 0 {
		return c < 0
	}
	return a.i > b.i
}

// ratioHeap is a max-heap of candidates by ratio. It is written out
// rather than built on container/heap, whose interface boxes every item.
type ratioHeap struct{ items []ratioItem }

func (h *ratioHeap) Len() int { return len(h.items) }

func (h *ratioHeap) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *ratioHeap) push(x ratioItem) {
	h.items = append(h.items, x)
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !ratioLess(h.items[p], h.items[i]) {
			break
		}
		h.items[p], h.items[i] = h.items[i], h.items[p]
		i = p
	}
}

func (h *ratioHeap) pop() ratioItem {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	if last > 0 {
		h.down(0)
	}
	return top
}

func (h *ratioHeap) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && ratioLess(h.items[l], h.items[r]) {
			c = r
		}
		if !ratioLess(h.items[i], h.items[c]) {
			return
		}
		h.items[i], h.items[c] = h.items[c], h.items[i]
		i = c
	}
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func insertSorted(xs []int, x int) []int {
	out := append(append([]int(nil), xs...), x)
	sort.Ints(out)
	return out
}
