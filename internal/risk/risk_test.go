package risk

import (
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/holiman/uint256"
)

// rng is a small deterministic generator for the property tests (the
// package is pure, so no math/rand).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// randomGraph builds a graph of nv validators and ns services with small
// integer stakes and profits; full makes every allocation the whole stake.
func randomGraph(r *rng, nv, ns int, full bool) *Graph {
	g := &Graph{Unit: "USD"}
	thresholds := []*big.Rat{rat(1, 3), rat(1, 2), rat(2, 3), rat(1, 1), rat(3, 5)}
	for s := range ns {
		g.Services = append(g.Services, Service{ID: fmt.Sprintf("s%d", s),
			Profit: rat(int64(1+r.intn(60)), 1), Threshold: thresholds[r.intn(len(thresholds))]})
	}
	for v := range nv {
		stake := rat(int64(5+r.intn(40)), 1)
		val := Validator{ID: fmt.Sprintf("v%d", v), Stake: stake, Alloc: map[int]*big.Rat{}}
		for s := range ns {
			if r.intn(3) != 0 {
				continue
			}
			if full {
				val.Alloc[s] = stake
			} else {
				num := stake.Num().Int64()
				val.Alloc[s] = rat(1+int64(r.intn(int(num))), 1)
			}
		}
		g.Validators = append(g.Validators, val)
	}
	return g
}

// bruteBestAttack enumerates every attack (A, B) on st and returns the
// best by better: the reference for the branch and bound.
func bruteBestAttack(st *state) *Attack {
	m := st.m
	open := st.openServices()
	var best *Attack
	for mask := 1; mask < 1<<len(open); mask++ {
		var svcs []int
		var pi uint256.Int
		adj := map[int]bool{}
		for k, s := range open {
			if mask&(1<<k) != 0 {
				svcs = append(svcs, s)
				pi.Add(&pi, &m.pi[s])
				for _, v := range m.sv[s] {
					if st.alive[v] {
						adj[v] = true
					}
				}
			}
		}
		cands := sortedKeys(adj)
		for bm := 0; bm < 1<<len(cands); bm++ {
			a := &Attack{services: svcs, profit: pi}
			cov := make([]uint256.Int, len(svcs))
			for i, v := range cands {
				if bm&(1<<i) == 0 {
					continue
				}
				a.validators = append(a.validators, v)
				var c uint256.Int
				for k, s := range svcs {
					cov[k].Add(&cov[k], &m.w[v][s])
					c.Add(&c, &m.w[v][s])
				}
				if c.Cmp(&m.sigma[v]) > 0 {
					c = m.sigma[v]
				}
				a.cost.Add(&a.cost, &c)
				a.stake.Add(&a.stake, &m.sigma[v])
			}
			ok := true
			for k, s := range svcs {
				if cov[k].Cmp(&st.t[s]) < 0 {
					ok = false
				}
			}
			if ok && a.profit.Cmp(&a.cost) > 0 && better(a, best) {
				best = a
			}
		}
	}
	return best
}

func sameAttack(a, b *Attack) bool {
	if a == nil || b == nil {
		return a == b
	}
	return fmt.Sprint(a.services, a.validators, a.cost.Dec()) == fmt.Sprint(b.services, b.validators, b.cost.Dec())
}

func describe(a *Attack) string {
	if a == nil {
		return "none"
	}
	return fmt.Sprintf("A=%v B=%v profit=%s cost=%s", a.services, a.validators, a.profit.Dec(), a.cost.Dec())
}

// TestExactSearchMatchesBruteForce: on random small graphs, with full and
// partial allocations, and after random removals (cascade states), the
// branch and bound finds exactly the attack plain enumeration ranks first,
// ties included; and the heuristic never claims more than it.
func TestExactSearchMatchesBruteForce(t *testing.T) {
	r := &rng{s: 1}
	found, ties := 0, 0
	for i := range 600 {
		g := randomGraph(r, 2+r.intn(9), 1+r.intn(5), i%2 == 0)
		m, err := newModel(g)
		if err != nil {
			t.Fatal(err)
		}
		st := m.fresh()
		for v := range m.nV {
			if r.intn(5) == 0 {
				st.remove(v)
			}
		}
		want := bruteBestAttack(st)
		if want != nil {
			found++
			if len(want.validators) > 1 {
				ties++
			}
		}
		got, proven := st.bestAttackExact(&budget{left: defaultBudget})
		if !proven || !sameAttack(got, want) {
			t.Fatalf("graph %d: exact search %s, brute force %s", i, describe(got), describe(want))
		}
		if h := st.bestAttackHeuristic(&budget{left: defaultBudget}); h != nil {
			if want == nil || better(h, want) {
				t.Fatalf("graph %d: heuristic %s beats the exact best %s", i, describe(h), describe(want))
			}
		}
		// The single-service cost is the brute-force minimum.
		for s := range m.nS {
			c, ok := st.minSingleCost(s, &budget{left: defaultBudget})
			if !ok {
				t.Fatal("single-cost search ran out of budget")
			}
			var bestC *uint256.Int
			var cands []int
			for _, v := range m.sv[s] {
				if st.alive[v] {
					cands = append(cands, v)
				}
			}
			for bm := 0; bm < 1<<len(cands); bm++ {
				var sum uint256.Int
				for k, v := range cands {
					if bm&(1<<k) != 0 {
						sum.Add(&sum, &m.w[v][s])
					}
				}
				if sum.Cmp(&st.t[s]) >= 0 && (bestC == nil || sum.Cmp(bestC) < 0) {
					x := sum
					bestC = &x
				}
			}
			if bestC == nil || !c.Eq(bestC) {
				t.Fatalf("graph %d service %d: cost to corrupt %s, brute force %v", i, s, c.Dec(), bestC)
			}
		}
	}
	t.Logf("%d of 600 graphs had a profitable attack, %d with several attackers", found, ties)
	if found < 150 || ties < 30 {
		t.Fatal("too few profitable attacks: the comparison lost its power")
	}
}

// bruteWorst explores every cascade after every shock within limit by
// plain recursion: the reference for R_psi.
func bruteWorst(m *model, limit uint256.Int) uint256.Int {
	var best uint256.Int
	var explore func(st *state, lost uint256.Int)
	explore = func(st *state, lost uint256.Int) {
		if lost.Cmp(&best) > 0 {
			best = lost
		}
		for _, a := range allAttacksBrute(st) {
			next := st.clone()
			next.apply(a)
			var l uint256.Int
			l.Add(&lost, &a.stake)
			explore(next, l)
		}
	}
	for d := 0; d < 1<<m.nV; d++ {
		var sd uint256.Int
		st := m.fresh()
		for v := range m.nV {
			if d&(1<<v) != 0 {
				sd.Add(&sd, &m.sigma[v])
				st.remove(v)
			}
		}
		if sd.Cmp(&limit) <= 0 {
			explore(st, sd)
		}
	}
	return best
}

func allAttacksBrute(st *state) []*Attack {
	m := st.m
	open := st.openServices()
	var out []*Attack
	for mask := 1; mask < 1<<len(open); mask++ {
		var svcs []int
		var pi uint256.Int
		adj := map[int]bool{}
		for k, s := range open {
			if mask&(1<<k) != 0 {
				svcs = append(svcs, s)
				pi.Add(&pi, &m.pi[s])
				for _, v := range m.sv[s] {
					if st.alive[v] {
						adj[v] = true
					}
				}
			}
		}
		cands := sortedKeys(adj)
		for bm := 0; bm < 1<<len(cands); bm++ {
			a := &Attack{services: svcs, profit: pi}
			cov := make([]uint256.Int, len(svcs))
			for i, v := range cands {
				if bm&(1<<i) == 0 {
					continue
				}
				a.validators = append(a.validators, v)
				var c uint256.Int
				for k, s := range svcs {
					cov[k].Add(&cov[k], &m.w[v][s])
					c.Add(&c, &m.w[v][s])
				}
				if c.Cmp(&m.sigma[v]) > 0 {
					c = m.sigma[v]
				}
				a.cost.Add(&a.cost, &c)
				a.stake.Add(&a.stake, &m.sigma[v])
			}
			ok := a.profit.Cmp(&a.cost) > 0
			for k, s := range svcs {
				if cov[k].Cmp(&st.t[s]) < 0 {
					ok = false
				}
			}
			if ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// TestWorstCascadeMatchesBruteForce: the exact R_psi search equals plain
// recursion over every shock and cascade, and is never below the greedy
// cascade after any shock within the limit.
func TestWorstCascadeMatchesBruteForce(t *testing.T) {
	r := &rng{s: 7}
	cascading := 0
	for i := range 250 {
		g := randomGraph(r, 2+r.intn(4), 1+r.intn(3), i%2 == 1)
		m, err := newModel(g)
		if err != nil {
			t.Fatal(err)
		}
		psi := []*big.Rat{rat(0, 1), rat(1, 10), rat(1, 4), rat(1, 2)}[r.intn(4)]
		limit := m.psiLimit(psi)
		got, exact, _ := m.worstLoss(limit, true, &budget{left: defaultBudget})
		want := bruteWorst(m, limit)
		if !exact || !got.Eq(&want) {
			t.Fatalf("graph %d psi %s: worst loss %s (exact %v), brute force %s", i, psi, got.Dec(), exact, want.Dec())
		}
		if !want.Eq(&limit) && !want.IsZero() {
			cascading++
		}
		for d := 0; d < 1<<m.nV; d++ {
			var shock []int
			var sd uint256.Int
			for v := range m.nV {
				if d&(1<<v) != 0 {
					shock = append(shock, v)
					sd.Add(&sd, &m.sigma[v])
				}
			}
			if sd.Cmp(&limit) > 0 {
				continue
			}
			c := m.greedyCascade(shock, true, &budget{left: defaultBudget})
			if c.Lost.Cmp(&got) > 0 {
				t.Fatalf("graph %d: greedy cascade after %v loses %s, more than the worst %s", i, shock, c.Lost.Dec(), got.Dec())
			}
		}
	}
	t.Logf("%d of 250 graphs lost stake to attacks", cascading)
	if cascading < 50 {
		t.Fatal("too few cascades: the comparison lost its power")
	}
}

// TestCertificateIsSound: whenever the certificate certifies a graph
// (gamma* >= 0, every service staked), exact search finds no profitable
// attack; and on full-restaking graphs with gamma* > 0 no cascade reaches
// Theorem 1's bound.
func TestCertificateIsSound(t *testing.T) {
	r := &rng{s: 11}
	certified, bounded := 0, 0
	for i := range 3000 {
		g := randomGraph(r, 2+r.intn(6), 1+r.intn(4), i%3 != 0)
		// Raise stakes so that a useful share of graphs is certified.
		if i%2 == 0 {
			for v := range g.Validators {
				f := rat(int64(1+r.intn(8)), 1)
				g.Validators[v].Stake = new(big.Rat).Mul(g.Validators[v].Stake, f)
				for s, a := range g.Validators[v].Alloc {
					g.Validators[v].Alloc[s] = new(big.Rat).Mul(a, f)
				}
			}
		}
		cert := certificate(g)
		if cert.GammaStar == nil || cert.GammaStar.Sign() < 0 {
			continue
		}
		certified++
		m, _ := newModel(g)
		if a, _ := m.fresh().bestAttackExact(&budget{left: defaultBudget}); a != nil {
			t.Fatalf("graph %d: certified (gamma* %s) but %s is profitable", i, FormatNumber(cert.GammaStar), describe(a))
		}
		for _, psi := range []*big.Rat{rat(1, 20), rat(1, 5), rat(1, 2)} {
			bound := cert.Bound(psi)
			if bound == nil {
				continue
			}
			bounded++
			lost, exact, _ := m.worstLoss(m.psiLimit(psi), true, &budget{left: defaultBudget})
			frac := new(big.Rat).SetFrac(lost.ToBig(), m.total.ToBig())
			if !exact || frac.Cmp(bound) >= 0 {
				t.Fatalf("graph %d psi %s: worst loss %s reaches the bound %s (exact %v)", i, psi,
					FormatNumber(frac), FormatNumber(bound), exact)
			}
		}
	}
	if certified < 200 || bounded < 200 {
		t.Fatalf("only %d certified graphs and %d bound checks: the test lost its power", certified, bounded)
	}
}

func analyzeJSON(t *testing.T, doc string) *Report {
	t.Helper()
	g, err := ParseGraph([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTheorem2: for every eps, a secure graph meeting the EigenLayer
// condition loses everything to a shock of size eps (no slack, no
// robustness).
func TestTheorem2(t *testing.T) {
	for _, eps := range []string{"1/10", "1/4", "1/3", "1/1000"} {
		e, _ := ParseNumber(eps)
		b := new(big.Rat).Sub(rat(1, 1), e)
		doc := fmt.Sprintf(`{"services":[{"id":"x","profit":"1","threshold":"1"}],
			"validators":[{"id":"a","stake":"%s","services":["x"]},{"id":"b","stake":"%s","services":["x"]}],
			"psi":["%s","1/2"]}`, eps, b.RatString(), eps)
		r := analyzeJSON(t, doc)
		if !r.Secure || !r.Exact || *r.GammaStar != "0" || !r.FullRestaking {
			t.Fatalf("eps %s: secure %v exact %v gamma* %v", eps, r.Secure, r.Exact, *r.GammaStar)
		}
		for _, p := range r.RPsi {
			if p.WorstLoss != "1" || !p.Exact || p.Bound != nil {
				t.Fatalf("eps %s: R_psi at %s = %s (exact %v), want 1 with no bound", eps, p.Psi, p.WorstLoss, p.Exact)
			}
		}
	}
}

// TestTheorem3: Theorem 1's bound is tight: with sigma_a = psi,
// sigma_b = psi/gamma - eps and pi_x = (sigma_a + sigma_b)/(1 + gamma), the
// graph has exactly gamma slack and loses at least (1 + 1/gamma) psi - eps,
// yet stays below the bound.
func TestTheorem3(t *testing.T) {
	for _, tc := range []struct{ psi, gamma, eps string }{
		{"1/10", "1/2", "1/100"}, {"1/20", "1", "1/1000"}, {"1/5", "2", "1/50"}, {"1/100", "1/4", "1/10000"},
	} {
		psi, _ := ParseNumber(tc.psi)
		gamma, _ := ParseNumber(tc.gamma)
		eps, _ := ParseNumber(tc.eps)
		sa := psi
		sb := new(big.Rat).Sub(new(big.Rat).Quo(psi, gamma), eps)
		sc := new(big.Rat).Sub(new(big.Rat).Sub(rat(1, 1), sa), sb)
		pix := new(big.Rat).Quo(new(big.Rat).Add(sa, sb), new(big.Rat).Add(rat(1, 1), gamma))
		doc := fmt.Sprintf(`{"services":[{"id":"x","profit":"%s","threshold":"1"}],
			"validators":[{"id":"a","stake":"%s","services":["x"]},{"id":"b","stake":"%s","services":["x"]},
			{"id":"c","stake":"%s","allocations":{}}],"psi":["%s"]}`,
			pix.RatString(), sa.RatString(), sb.RatString(), sc.RatString(), tc.psi)
		r := analyzeJSON(t, doc)
		g, _ := ParseNumber(*r.GammaStar)
		if g.Cmp(gamma) != 0 {
			t.Fatalf("%v: gamma* %s, want exactly %s", tc, *r.GammaStar, tc.gamma)
		}
		p := r.RPsi[0]
		loss, _ := ParseNumber(p.WorstLoss)
		floor := new(big.Rat).Sub(new(big.Rat).Mul(new(big.Rat).Add(rat(1, 1), new(big.Rat).Inv(gamma)), psi), eps)
		bound, _ := ParseNumber(*p.Bound)
		if !p.Exact || loss.Cmp(floor) < 0 || loss.Cmp(bound) >= 0 {
			t.Fatalf("%v: worst loss %s, want in [%s, %s)", tc, p.WorstLoss, FormatNumber(floor), *p.Bound)
		}
	}
}

// TestSpecExample checks the spec's example graph by hand-derived numbers.
func TestSpecExample(t *testing.T) {
	r := analyzeJSON(t, `{"unit":"USD","services":[{"id":"bridge","profit":"45","threshold":"0.5"},
		{"id":"oracle","profit":"12","threshold":"0.666666666666666667"}],
		"validators":[{"id":"v1","stake":"120","allocations":{"bridge":"80"}},
		{"id":"v2","stake":"90","services":["bridge","oracle"]},{"id":"v3","stake":"40","services":["oracle"]}],
		"shocks":[["v1"]],"psi":["0.01"]}`)
	if !r.Secure || r.ProfitableAttack != nil || r.FullRestaking {
		t.Fatalf("secure %v attack %v full %v", r.Secure, r.ProfitableAttack, r.FullRestaking)
	}
	// rho_bridge = 45/85, rho_oracle = 12/(alpha*130); T_v2 = their sum.
	if v, _ := r.Certificate.Get("v1"); v != "0.529411764705882353" {
		t.Fatalf("T_v1 = %s", v)
	}
	for _, s := range r.Services {
		if *s.CostToCorrupt != "90" || !s.CostExact {
			t.Fatalf("%s: cost to corrupt %s", s.ID, *s.CostToCorrupt)
		}
	}
	if c := r.Cascades[0]; c.LostStake != "120" || len(c.Attacks) != 0 {
		t.Fatalf("cascade %+v", c)
	}
	if r.Concentration.HHI != "3856" || r.Concentration.Gini != "0.213333333333333333" ||
		r.Concentration.Nakamoto13 != 1 || r.Concentration.Nakamoto23 != 2 {
		t.Fatalf("concentration %+v", r.Concentration)
	}
}

// TestUnsecuredService: a service with no stake is corrupted by the empty
// coalition: not secure, listed, gamma* = -1.
func TestUnsecuredService(t *testing.T) {
	r := analyzeJSON(t, `{"services":[{"id":"lonely","profit":"5","threshold":"1/2"},{"id":"x","profit":"1","threshold":"1"}],
		"validators":[{"id":"v","stake":"100","services":["x"]}],"shocks":[[]]}`)
	if r.Secure || *r.GammaStar != "-1" || strings.Join(r.UnsecuredServices, ",") != "lonely" {
		t.Fatalf("secure %v gamma* %v unsecured %v", r.Secure, *r.GammaStar, r.UnsecuredServices)
	}
	if a := r.ProfitableAttack; a == nil || len(a.Validators) != 0 || a.Cost != "0" || a.Profit != "5" {
		t.Fatalf("attack %+v", a)
	}
}

func TestInputRules(t *testing.T) {
	ok := `{"services":[{"id":"s","profit":"1","threshold":"1/2"}],"validators":[{"id":"v","stake":"10","services":["s"]}]}`
	if _, err := ParseGraph([]byte(ok)); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ doc, entry string }{
		"unknown service":        {`{"services":[{"id":"s","profit":"1","threshold":"1"}],"validators":[{"id":"v","stake":"1","services":["t"]}]}`, "validators[0] (v).services"},
		"unknown in allocations": {`{"services":[{"id":"s","profit":"1","threshold":"1"}],"validators":[{"id":"v","stake":"1","allocations":{"t":"1"}}]}`, "validators[0] (v).allocations"},
		"duplicate service":      {`{"services":[{"id":"s","profit":"1","threshold":"1"},{"id":"s","profit":"1","threshold":"1"}],"validators":[{"id":"v","stake":"1","services":[]}]}`, "services[1] (s)"},
		"duplicate validator":    {`{"services":[],"validators":[{"id":"v","stake":"1","services":[]},{"id":"v","stake":"1","services":[]}]}`, "validators[1] (v)"},
		"threshold zero":         {`{"services":[{"id":"s","profit":"1","threshold":"0"}],"validators":[{"id":"v","stake":"1","services":[]}]}`, "services[0] (s).threshold"},
		"threshold above one":    {`{"services":[{"id":"s","profit":"1","threshold":"3/2"}],"validators":[{"id":"v","stake":"1","services":[]}]}`, "services[0] (s).threshold"},
		"stake zero":             {`{"services":[],"validators":[{"id":"v","stake":"0","services":[]}]}`, "validators[0] (v).stake"},
		"profit negative":        {`{"services":[{"id":"s","profit":"-1","threshold":"1"}],"validators":[{"id":"v","stake":"1","services":[]}]}`, "services[0] (s).profit"},
		"allocation negative":    {`{"services":[{"id":"s","profit":"1","threshold":"1"}],"validators":[{"id":"v","stake":"5","allocations":{"s":"-1"}}]}`, "validators[0] (v).allocations.s"},
		"allocation above stake": {`{"services":[{"id":"s","profit":"1","threshold":"1"}],"validators":[{"id":"v","stake":"5","allocations":{"s":"5.5"}}]}`, "validators[0] (v).allocations.s"},
		"both kinds":             {`{"services":[{"id":"s","profit":"1","threshold":"1"}],"validators":[{"id":"v","stake":"5","allocations":{"s":"1"},"services":["s"]}]}`, "validators[0] (v)"},
		"neither kind":           {`{"services":[],"validators":[{"id":"v","stake":"5"}]}`, "validators[0] (v)"},
		"shock unknown":          {`{"services":[],"validators":[{"id":"v","stake":"5","services":[]}],"shocks":[["w"]]}`, "shocks[0]"},
		"shock twice":            {`{"services":[],"validators":[{"id":"v","stake":"5","services":[]}],"shocks":[["v","v"]]}`, "shocks[0]"},
		"psi above one":          {`{"services":[],"validators":[{"id":"v","stake":"5","services":[]}],"psi":["1.5"]}`, "psi[0]"},
		"psi negative":           {`{"services":[],"validators":[{"id":"v","stake":"5","services":[]}],"psi":["-0.1"]}`, "psi[0]"},
		"no validators":          {`{"services":[],"validators":[]}`, "validators"},
		"not a number":           {`{"services":[{"id":"s","profit":"1e3","threshold":"1"}],"validators":[{"id":"v","stake":"1","services":[]}]}`, "services[0] (s).profit"},
		"divide by zero":         {`{"services":[{"id":"s","profit":"1/0","threshold":"1"}],"validators":[{"id":"v","stake":"1","services":[]}]}`, "services[0] (s).profit"},
		"service listed twice":   {`{"services":[{"id":"s","profit":"1","threshold":"1"}],"validators":[{"id":"v","stake":"1","services":["s","s"]}]}`, "validators[0] (v).services"},
		"unknown field":          {`{"services":[],"validators":[{"id":"v","stake":"1","services":[]}],"extra":1}`, ""},
		"missing id":             {`{"services":[{"profit":"1","threshold":"1"}],"validators":[{"id":"v","stake":"1","services":[]}]}`, "services[0]"},
	} {
		_, err := ParseGraph([]byte(tc.doc))
		ie, isInput := err.(*InputError)
		if err == nil || !isInput || ie.Entry != tc.entry {
			t.Errorf("%s: error %v, want an InputError naming %q", name, err, tc.entry)
		}
	}
}

func TestNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"2/3": "0.666666666666666667", "0.666666666666666667": "0.666666666666666667", "120": "120",
		"0.5": "0.5", "-3.25": "-3.25", "1/3000": "0.000333333333333333333", "100/3": "33.3333333333333333",
		"7/8": "0.875", "10": "10", ".5": "0.5", "4/2": "2", "123456789012345678901/3": "41152263004115226300",
	} {
		r, err := ParseNumber(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := FormatNumber(r); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	if a, _ := ParseNumber("0.666666666666666667"); a.Cmp(rat(2, 3)) <= 0 {
		t.Fatal("0.666666666666666667 must read as slightly above two thirds")
	}
	for _, bad := range []string{"", "1e5", "abc", "1/", "/2", "1.2.3", "NaN", "1/0", "--1"} {
		if _, err := ParseNumber(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestConcentration(t *testing.T) {
	c := Concentrate([]*big.Rat{rat(1, 1), rat(1, 1), rat(1, 1), rat(1, 1)})
	if FormatNumber(c.HHI) != "2500" || FormatNumber(c.EffectiveCount) != "4" || c.Gini.Sign() != 0 ||
		c.Nakamoto13 != 2 || c.Nakamoto12 != 3 || c.Nakamoto23 != 3 || FormatNumber(c.Top5Share) != "1" {
		t.Fatalf("equal holders: %+v", c.JSON())
	}
	// One holder of everything among ten: Gini (n-1)/n, HHI 10,000.
	vals := []*big.Rat{rat(100, 1)}
	for range 9 {
		vals = append(vals, rat(0, 1))
	}
	c = Concentrate(vals)
	if FormatNumber(c.HHI) != "10000" || FormatNumber(c.Gini) != "0.9" || c.Nakamoto23 != 1 {
		t.Fatalf("monopoly: %+v", c.JSON())
	}
	// Shares 0.5 exactly: Nakamoto 1/2 needs strictly more.
	c = Concentrate([]*big.Rat{rat(5, 1), rat(3, 1), rat(2, 1)})
	if c.Nakamoto12 != 2 || c.Nakamoto13 != 1 || FormatNumber(c.Top5Share) != "1" {
		t.Fatalf("halves: %+v", c.JSON())
	}
}

// TestMarshalGraphRoundTrip: a graph written by MarshalGraph reads back
// exactly, fractions that do not terminate included.
func TestMarshalGraphRoundTrip(t *testing.T) {
	g := Synthetic(3, 50, 10)
	g.Services[0].Threshold = rat(2, 3)
	g.Validators[0].Stake = new(big.Rat).Add(g.Validators[0].Stake, rat(1, 7))
	doc, err := MarshalGraph(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseGraph(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	for s := range g.Services {
		if back.Services[s].ID != g.Services[s].ID || back.Services[s].Profit.Cmp(g.Services[s].Profit) != 0 ||
			back.Services[s].Threshold.Cmp(g.Services[s].Threshold) != 0 {
			t.Fatalf("service %d differs", s)
		}
	}
	for v := range g.Validators {
		a, b := g.Validators[v], back.Validators[v]
		if a.ID != b.ID || a.Stake.Cmp(b.Stake) != 0 || len(a.Alloc) != len(b.Alloc) {
			t.Fatalf("validator %d differs", v)
		}
		for s, w := range a.Alloc {
			if b.Alloc[s] == nil || b.Alloc[s].Cmp(w) != 0 {
				t.Fatalf("validator %d allocation %d differs", v, s)
			}
		}
	}
}

// TestEmptyNetwork: a node with no operators yet has an empty graph; the
// engine reports on it without failing.
func TestEmptyNetwork(t *testing.T) {
	r, err := Analyze(&Graph{Unit: "USD", Psi: []*big.Rat{rat(1, 10)}, Shocks: [][]int{nil}}, Options{})
	if err != nil || !r.Secure || r.RPsi[0].WorstLoss != "0" || r.Cascades[0].LostStake != "0" {
		t.Fatalf("%v %+v", err, r)
	}
}
