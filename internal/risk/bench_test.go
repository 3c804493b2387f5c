package risk

import (
	"fmt"
	"math/big"
	"testing"
)

// limitGraph is a graph at the exact-search size limit (24 validators by
// 12 services) whose profits make many attacks profitable, so the search
// has to work: each validator secures about a third of the services.
func limitGraph(seed uint64, full bool) *Graph {
	r := &rng{s: seed}
	g := randomGraph(r, ExactValidators, ExactServices, full)
	for s := range g.Services {
		g.Services[s].Profit = rat(int64(20+r.intn(200)), 1)
	}
	return g
}

// BenchmarkExactSearchAtLimit: the most profitable attack, proven, on
// 24 validators by 12 services (target: under 5 s).
func BenchmarkExactSearchAtLimit(b *testing.B) {
	for _, full := range []bool{false, true} {
		b.Run(fmt.Sprintf("full=%v", full), func(b *testing.B) {
			g := limitGraph(42, full)
			m, err := newModel(g)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				a, proven := m.fresh().bestAttackExact(&budget{left: defaultBudget})
				if !proven {
					b.Fatal("the search ran out of budget")
				}
				_ = a
			}
		})
	}
}

var _ = big.NewRat

// BenchmarkAnalyzeAtLimit: the whole report at the size limit, R_psi for
// two shock sizes included.
func BenchmarkAnalyzeAtLimit(b *testing.B) {
	g := limitGraph(42, false)
	g.Psi = []*big.Rat{rat(1, 20), rat(1, 5)}
	g.Shocks = [][]int{{0}, {1, 2}}
	for b.Loop() {
		r, err := Analyze(g, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range r.RPsi {
			b.ReportMetric(boolMetric(p.Exact), "rpsi-exact-"+p.Psi)
		}
	}
}

func boolMetric(x bool) float64 {
	if x {
		return 1
	}
	return 0
}
