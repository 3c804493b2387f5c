package risk

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/holiman/uint256"
)

func mustGraph(t testing.TB, doc string) *Graph {
	t.Helper()
	g, err := ParseGraph([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// uniformModel gives every one of n services the same probability and
// slash.
func uniformModel(n int, p, slash *big.Rat) FailureModel {
	var fm FailureModel
	for range n {
		fm.Probability = append(fm.Probability, p)
		fm.Slash = append(fm.Slash, slash)
	}
	return fm
}

// mainnetFailures is a realistic failure model for a synthetic graph:
// each service fails in 1-5% of trials and then slashes 10-50%; ten
// groups (liquid restaking tokens) each hold 10-50% of a tenth of the
// validators, a third of which are also partly held by a second group.
func mainnetFailures(g *Graph, seed uint64) (FailureModel, []Group) {
	r := &splitmix{s: seed}
	var fm FailureModel
	for range g.Services {
		fm.Probability = append(fm.Probability, rat(int64(1+r.below(5)), 100))
		fm.Slash = append(fm.Slash, rat(int64(10+r.below(41)), 100))
	}
	groups := make([]Group, 10)
	for i := range groups {
		groups[i] = Group{ID: fmt.Sprintf("lrt%d", i), Share: map[int]*big.Rat{}}
	}
	for v := range g.Validators {
		a, held := int(r.below(10)), int64(1+r.below(5))
		groups[a].Share[v] = rat(held, 10)
		if r.below(3) == 0 {
			b := (a + 1 + int(r.below(9))) % 10
			groups[b].Share[v] = rat(int64(1+r.below(uint64(10-held))), 10)
		}
	}
	return fm, groups
}

func tailString(x Tail) string {
	return fmt.Sprintf("VaR95=%s ES95=%s VaR99=%s ES99=%s Mean=%s Max=%s", x.VaR95.RatString(),
		x.ES95.RatString(), x.VaR99.RatString(), x.ES99.RatString(), x.Mean.RatString(),
		x.Max.RatString())
}

// flat is the Tail of a loss that is x in every trial.
func flat(x *big.Rat) Tail { return Tail{x, x, x, x, x, x} }

func resultString(r *MonteCarloResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "trials=%d seed=%d failures=%s\ntotal %s\n", r.Trials, r.Seed,
		r.FailuresMean.RatString(), tailString(r.Total))
	for s, x := range r.Services {
		fmt.Fprintf(&b, "service %d %s\n", s, tailString(x))
	}
	for g, x := range r.Groups {
		fmt.Fprintf(&b, "group %d %s\n", g, tailString(x))
	}
	return b.String()
}

func mustMonteCarlo(t testing.TB, g *Graph, fm FailureModel, groups []Group,
	o MonteCarloOptions,
) *MonteCarloResult {
	t.Helper()
	r, err := MonteCarlo(g, fm, groups, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// refTail computes a Tail from the definitions: sort, index, average.
func refTail(xs []*big.Rat) Tail {
	s := slices.SortedFunc(slices.Values(xs), func(a, b *big.Rat) int { return a.Cmp(b) })
	n := len(s)
	mean := func(part []*big.Rat) *big.Rat {
		sum := new(big.Rat)
		for _, x := range part {
			sum.Add(sum, x)
		}
		return sum.Quo(sum, rat(int64(len(part)), 1))
	}
	i95, i99 := (95*n+99)/100-1, (99*n+99)/100-1 // ceil(q*N) - 1
	return Tail{VaR95: s[i95], ES95: mean(s[i95:]), VaR99: s[i99], ES99: mean(s[i99:]),
		Mean: mean(s), Max: s[n-1]}
}

// refMonteCarlo recomputes MonteCarlo from its definitions in rationals,
// trial by trial over every validator, drawing the same streams but
// testing failures with big integers: the reference for the scaled,
// incremental, parallel implementation.
func refMonteCarlo(g *Graph, fm FailureModel, groups []Group, trials int, seed uint64,
) *MonteCarloResult {
	nS := len(g.Services)
	svc, grp := make([][]*big.Rat, nS), make([][]*big.Rat, len(groups))
	var total []*big.Rat
	failures := 0
	zeros := func(n int) []*big.Rat {
		out := make([]*big.Rat, n)
		for i := range out {
			out[i] = new(big.Rat)
		}
		return out
	}
	for t := range trials {
		r := trialStream(seed, t)
		failed := make([]bool, nS)
		for s := range nS {
			u := new(big.Int).SetUint64(r.next())
			lhs := u.Mul(u, fm.Probability[s].Denom())
			rhs := new(big.Int).Lsh(fm.Probability[s].Num(), 64)
			if failed[s] = lhs.Cmp(rhs) < 0; failed[s] {
				failures++
			}
		}
		lost, sl, gl := new(big.Rat), zeros(nS), zeros(len(groups))
		for v, val := range g.Validators {
			L := new(big.Rat)
			for s, w := range val.Alloc {
				if failed[s] {
					L.Add(L, new(big.Rat).Mul(fm.Slash[s], w))
				}
			}
			if L.Cmp(val.Stake) > 0 {
				L.Set(val.Stake)
			}
			lost.Add(lost, L)
			left := new(big.Rat).Sub(val.Stake, L)
			for s, w := range val.Alloc {
				if w.Cmp(left) > 0 {
					sl[s].Add(sl[s], new(big.Rat).Sub(w, left))
				}
			}
			for i, gr := range groups {
				if h, ok := gr.Share[v]; ok {
					gl[i].Add(gl[i], new(big.Rat).Mul(h, L))
				}
			}
		}
		total = append(total, lost)
		for s := range nS {
			svc[s] = append(svc[s], sl[s])
		}
		for i := range groups {
			grp[i] = append(grp[i], gl[i])
		}
	}
	res := &MonteCarloResult{Trials: trials, Seed: seed, Total: refTail(total),
		FailuresMean: rat(int64(failures), int64(trials))}
	for s := range nS {
		res.Services = append(res.Services, refTail(svc[s]))
	}
	for i := range groups {
		res.Groups = append(res.Groups, refTail(grp[i]))
	}
	return res
}

// TestMonteCarloMatchesReference: on small random graphs with awkward
// fractions (slashes in sevenths, shares in sixths, probabilities in
// tenths including 0 and 1), the result is exactly the reference's.
func TestMonteCarloMatchesReference(t *testing.T) {
	r := &rng{s: 3}
	for round := range 12 {
		g := randomGraph(r, 3+r.intn(8), 1+r.intn(6), round%3 == 0)
		var fm FailureModel
		for range g.Services {
			fm.Probability = append(fm.Probability, rat(int64(r.intn(11)), 10))
			fm.Slash = append(fm.Slash, rat(int64(r.intn(8)), 7))
		}
		groups := []Group{{ID: "a", Share: map[int]*big.Rat{}}, {ID: "b", Share: map[int]*big.Rat{}},
			{ID: "c", Share: map[int]*big.Rat{}}}
		for v := range g.Validators {
			x, y := r.intn(7), r.intn(7)
			groups[v%3].Share[v] = rat(int64(min(x, y)), 6)
			groups[(v+1)%3].Share[v] = rat(int64(max(x, y)-min(x, y)), 6)
		}
		trials := 1 + r.intn(400)
		seed := uint64(round) * 977
		want := resultString(refMonteCarlo(g, fm, groups, trials, seed))
		for _, workers := range []int{1, 2, 3} {
			o := MonteCarloOptions{Trials: trials, Seed: seed, Workers: workers}
			got := mustMonteCarlo(t, g, fm, groups, o)
			if s := resultString(got); s != want {
				t.Fatalf("round %d, %d workers:\ngot  %s\nwant %s", round, workers, s, want)
			}
		}
	}
}

// TestMonteCarloDeterministic: the same seed gives the same result, with
// any number of workers; another seed gives another.
func TestMonteCarloDeterministic(t *testing.T) {
	g := Synthetic(3, 300, 40)
	fm, groups := mainnetFailures(g, 3)
	o := MonteCarloOptions{Trials: 3000, Seed: 42}
	want := resultString(mustMonteCarlo(t, g, fm, groups, o))
	for _, workers := range []int{0, 1, 2, 3, 7} {
		o.Workers = workers
		if got := resultString(mustMonteCarlo(t, g, fm, groups, o)); got != want {
			t.Fatalf("%d workers changed the result", workers)
		}
	}
	o.Seed = 43
	if resultString(mustMonteCarlo(t, g, fm, groups, o)) == want {
		t.Fatal("seeds 42 and 43 gave the same result")
	}
}

// TestMonteCarloHalfSlash: one service that always fails and slashes
// half: every trial loses exactly half of each allocation, so every
// measure equals that loss.
func TestMonteCarloHalfSlash(t *testing.T) {
	g := mustGraph(t, `{"services": [{"id": "a", "profit": "1", "threshold": "1/2"}],
		"validators": [{"id": "v1", "stake": "100", "allocations": {"a": "80"}},
		               {"id": "v2", "stake": "50", "services": ["a"]}]}`)
	groups := []Group{{ID: "lrt", Share: map[int]*big.Rat{0: rat(1, 2), 1: rat(1, 3)}}}
	res := mustMonteCarlo(t, g, uniformModel(1, rat(1, 1), rat(1, 2)), groups,
		MonteCarloOptions{Trials: 101, Seed: 9})
	// v1 loses 40 and keeps 60 < 80 at a; v2 loses 25 and keeps 25 < 50.
	for name, c := range map[string]struct {
		got  Tail
		want *big.Rat
	}{
		"total":    {res.Total, rat(65, 1)},
		"security": {res.Services[0], rat(20+25, 1)},
		"group":    {res.Groups[0], rat(40*3+25*2, 6)},
	} {
		if got, want := tailString(c.got), tailString(flat(c.want)); got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
	if res.FailuresMean.Cmp(rat(1, 1)) != 0 {
		t.Errorf("FailuresMean %s, want 1", res.FailuresMean.RatString())
	}
}

// TestMonteCarloNeverFails: probability 0 loses nothing, whatever the
// slash.
func TestMonteCarloNeverFails(t *testing.T) {
	g := Synthetic(2, 50, 8)
	_, groups := mainnetFailures(g, 2)
	res := mustMonteCarlo(t, g, uniformModel(8, new(big.Rat), rat(1, 1)), groups,
		MonteCarloOptions{Trials: 500, Seed: 1})
	zero := tailString(flat(new(big.Rat)))
	all := append(append([]Tail{res.Total}, res.Services...), res.Groups...)
	for i, x := range all {
		if tailString(x) != zero {
			t.Fatalf("tail %d: %s, want all zero", i, tailString(x))
		}
	}
	if res.FailuresMean.Sign() != 0 {
		t.Fatalf("FailuresMean %s, want 0", res.FailuresMean.RatString())
	}
}

// TestMonteCarloCapAndElastic: v1 allocates 70 to a and 60 to b (130 of
// its 100) and both fail with slash 1: it loses its stake once, 100, not
// 130. Having nothing left, it also stops securing c, which never fails;
// v2, hit by b for 30, keeps 50 and shrinks its 80 at c to 50.
func TestMonteCarloCapAndElastic(t *testing.T) {
	g := mustGraph(t, `{"services": [{"id": "a", "profit": "1", "threshold": "1/2"},
		{"id": "b", "profit": "1", "threshold": "1/2"}, {"id": "c", "profit": "1", "threshold": "1/2"}],
		"validators": [{"id": "v1", "stake": "100", "allocations": {"a": "70", "b": "60", "c": "50"}},
		               {"id": "v2", "stake": "80", "allocations": {"b": "30", "c": "80"}},
		               {"id": "v3", "stake": "30", "services": ["c"]}]}`)
	fm := FailureModel{Probability: []*big.Rat{rat(1, 1), rat(1, 1), new(big.Rat)},
		Slash: []*big.Rat{rat(1, 1), rat(1, 1), rat(1, 1)}}
	groups := []Group{{ID: "v1-holder", Share: map[int]*big.Rat{0: rat(1, 1)}},
		{ID: "spread", Share: map[int]*big.Rat{1: rat(1, 2), 2: rat(1, 1)}}}
	res := mustMonteCarlo(t, g, fm, groups, MonteCarloOptions{Trials: 20, Seed: 5})
	for name, c := range map[string]struct {
		got  Tail
		want int64
	}{
		"total": {res.Total, 100 + 30}, "a": {res.Services[0], 70}, "b": {res.Services[1], 60},
		"c": {res.Services[2], 50 + 30}, "v1-holder": {res.Groups[0], 100}, "spread": {res.Groups[1], 15},
	} {
		if got, want := tailString(c.got), tailString(flat(rat(c.want, 1))); got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
	if res.FailuresMean.Cmp(rat(2, 1)) != 0 {
		t.Errorf("FailuresMean %s, want 2", res.FailuresMean.RatString())
	}
}

// TestTailMeasures checks VaR and ES on hand-made samples, fed to several
// accumulators as the workers would, with zeros left implicit.
func TestTailMeasures(t *testing.T) {
	sample := func(n int, xs ...int64) Tail {
		accs := []*tailAcc{{k: tailSize(n, 95, 100)}, {k: tailSize(n, 95, 100)}}
		for i, x := range xs {
			accs[i%2].add(uint256.NewInt(uint64(x)))
		}
		return mergeTail(accs, n, big.NewInt(1))
	}
	one20 := []int64{}
	for x := int64(20); x >= 1; x-- {
		one20 = append(one20, x)
	}
	for _, c := range []struct {
		name string
		got  Tail
		want Tail
	}{
		// 1..20: ceil(0.95*20) = 19, so VaR95 = x_18 = 19 and ES95 = (19+20)/2;
		// ceil(0.99*20) = 20, so VaR99 = ES99 = x_19 = 20.
		{"1..20", sample(20, one20...),
			Tail{rat(19, 1), rat(39, 2), rat(20, 1), rat(20, 1), rat(21, 2), rat(20, 1)}},
		// 90 zeros then 1..10: x_94 = 5, ES95 = (5+...+10)/6; x_98 = 9, ES99 = (9+10)/2.
		{"zeros and 1..10", sample(100, 3, 1, 4, 10, 5, 9, 2, 6, 8, 7),
			Tail{rat(5, 1), rat(45, 6), rat(9, 1), rat(19, 2), rat(55, 100), rat(10, 1)}},
		{"one trial", sample(1, 7), flat(rat(7, 1))},
		{"all zero", sample(3), flat(rat(0, 1))},
	} {
		if got, want := tailString(c.got), tailString(c.want); got != want {
			t.Errorf("%s: got %s, want %s", c.name, got, want)
		}
	}
	// Random samples against the definitions, split over 1-3 accumulators.
	r := &rng{s: 5}
	for round := range 300 {
		n := 1 + r.intn(250)
		xs := make([]*big.Rat, n)
		accs := make([]*tailAcc, 1+r.intn(3))
		for i := range accs {
			accs[i] = &tailAcc{k: tailSize(n, 95, 100)}
		}
		for i := range xs {
			x := int64(0)
			if r.intn(3) == 0 {
				x = int64(r.intn(40)) // many ties and zeros
			}
			xs[i] = rat(x, 3)
			accs[r.intn(len(accs))].add(uint256.NewInt(uint64(x)))
		}
		got, want := tailString(mergeTail(accs, n, big.NewInt(3))), tailString(refTail(xs))
		if got != want {
			t.Fatalf("round %d (N=%d): got %s, want %s", round, n, got, want)
		}
	}
}

// TestMonteCarloFailureRate: a service failing with probability 1/10
// fails in 9-11% of 20,000 trials (the standard deviation is about
// 0.2%), and the mean loss is exactly the failure rate times what one
// failure slashes.
func TestMonteCarloFailureRate(t *testing.T) {
	g := mustGraph(t, `{"services": [{"id": "a", "profit": "1", "threshold": "1/2"}],
		"validators": [{"id": "v", "stake": "10", "services": ["a"]}]}`)
	res := mustMonteCarlo(t, g, uniformModel(1, rat(1, 10), rat(1, 2)), nil,
		MonteCarloOptions{Trials: 20000, Seed: 2024})
	if f := res.FailuresMean; f.Cmp(rat(9, 100)) < 0 || f.Cmp(rat(11, 100)) > 0 {
		t.Fatalf("FailuresMean %s, want within [0.09, 0.11]", FormatNumber(f))
	}
	if want := new(big.Rat).Mul(res.FailuresMean, rat(5, 1)); res.Total.Mean.Cmp(want) != 0 {
		t.Fatalf("mean loss %s, want %s", res.Total.Mean.RatString(), want.RatString())
	}
	// About 10% of trials lose 5, the rest nothing: both quantiles are 5.
	five := rat(5, 1)
	want := Tail{five, five, five, five, res.Total.Mean, five}
	if got, want := tailString(res.Total), tailString(want); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestMonteCarloInputErrors(t *testing.T) {
	g := mustGraph(t, `{"services": [{"id": "a", "profit": "1", "threshold": "1/2"},
		{"id": "b", "profit": "1", "threshold": "1/2"}],
		"validators": [{"id": "v1", "stake": "100", "services": ["a", "b"]},
		               {"id": "v2", "stake": "50", "services": ["b"]}]}`)
	ok := func() FailureModel { return uniformModel(2, rat(1, 10), rat(1, 2)) }
	share := func(id string, v int, h *big.Rat) Group {
		return Group{ID: id, Share: map[int]*big.Rat{v: h}}
	}
	over := &Graph{Unit: "USD", Services: g.Services, Validators: []Validator{{ID: "x",
		Stake: rat(5, 1), Alloc: map[int]*big.Rat{1: rat(6, 1)}}}}
	opts := MonteCarloOptions{Trials: 10}
	for _, c := range []struct {
		name   string
		g      *Graph
		fm     FailureModel
		groups []Group
		o      MonteCarloOptions
		want   string
	}{
		{"no trials", g, ok(), nil, MonteCarloOptions{}, "trials: 0; need at least 1"},
		{"negative workers", g, ok(), nil, MonteCarloOptions{Trials: 1, Workers: -1},
			"workers: -1 is negative"},
		{"short probabilities", g, uniformModel(1, rat(1, 2), rat(1, 2)), nil, opts,
			"failure_model.probability: has 1 entries for 2 services"},
		{"short slashes", g, FailureModel{Probability: ok().Probability, Slash: ok().Slash[:1]}, nil,
			opts, "failure_model.slash: has 1 entries for 2 services"},
		{"probability above 1", g, FailureModel{Probability: []*big.Rat{rat(1, 2), rat(11, 10)},
			Slash: ok().Slash}, nil, opts, "failure_model.probability[1] (b): 1.1 is outside [0, 1]"},
		{"negative probability", g, FailureModel{Probability: []*big.Rat{rat(-1, 2), rat(1, 2)},
			Slash: ok().Slash}, nil, opts, "failure_model.probability[0] (a): -0.5 is outside [0, 1]"},
		{"missing probability", g, FailureModel{Probability: []*big.Rat{rat(1, 2), nil},
			Slash: ok().Slash}, nil, opts, "failure_model.probability[1] (b): missing"},
		{"probability too fine", g, FailureModel{Probability: []*big.Rat{rat(1, 2),
			new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 70))}, Slash: ok().Slash},
			nil, opts, "failure_model.probability[1] (b): 1/1180591620717411303424 needs more " +
				"than 64 bits of numerator or denominator"},
		{"slash above 1", g, FailureModel{Probability: ok().Probability,
			Slash: []*big.Rat{rat(3, 2), rat(1, 2)}}, nil, opts,
			"failure_model.slash[0] (a): 1.5 is outside [0, 1]"},
		{"share above 1", g, ok(), []Group{share("lrt", 1, rat(3, 2))}, opts,
			"groups[0] (lrt).share[1]: 1.5 is outside [0, 1]"},
		{"negative share", g, ok(), []Group{share("lrt", 0, rat(-1, 2))}, opts,
			"groups[0] (lrt).share[0]: -0.5 is outside [0, 1]"},
		{"unknown validator", g, ok(), []Group{share("lrt", 2, rat(1, 2))}, opts,
			"groups[0] (lrt).share[2]: no such validator (the graph has 2)"},
		{"shares above 1", g, ok(), []Group{share("x", 1, rat(1, 2)), share("y", 1, rat(3, 4))}, opts,
			"validators[1] (v2): group shares sum to 1.25, above 1"},
		{"duplicate group", g, ok(), []Group{share("x", 1, rat(1, 4)), share("x", 0, rat(1, 4))}, opts,
			`groups[1] (x): duplicate group id "x"`},
		{"unnamed group", g, ok(), []Group{share("", 1, rat(1, 4))}, opts, "groups[0]: missing id"},
		{"allocation above stake", over, ok(), nil, opts,
			"validators[0] (x).allocations.b: above the validator's stake"},
	} {
		_, err := MonteCarlo(c.g, c.fm, c.groups, c.o)
		var ie *InputError
		if !errors.As(err, &ie) || err.Error() != c.want {
			t.Errorf("%s: got %v, want *InputError %q", c.name, err, c.want)
		}
	}
}

// BenchmarkMonteCarloMainnet: 10,000 trials on a mainnet-sized graph
// (2,000 validators, 200 services, 10 groups) with 2 workers (target:
// under 10 s).
func BenchmarkMonteCarloMainnet(b *testing.B) {
	g := Synthetic(1, 2000, 200)
	fm, groups := mainnetFailures(g, 1)
	for b.Loop() {
		mustMonteCarlo(b, g, fm, groups, MonteCarloOptions{Trials: 10000, Seed: 1, Workers: 2})
	}
}
