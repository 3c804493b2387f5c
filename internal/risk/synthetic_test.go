package risk

import (
	"bytes"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"testing"
)

// graphJSON writes g in the input format of spec/risk-format.md, numbers
// as exact fractions, allocations in service order.
func graphJSON(g *Graph) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"unit": %q, "services": [`, g.Unit)
	for s, svc := range g.Services {
		if s > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id": %q, "profit": %q, "threshold": %q}`, svc.ID,
			svc.Profit.RatString(), svc.Threshold.RatString())
	}
	b.WriteString(`], "validators": [`)
	for v, val := range g.Validators {
		if v > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id": %q, "stake": %q, "allocations": {`, val.ID, val.Stake.RatString())
		for i, s := range slices.Sorted(maps.Keys(val.Alloc)) {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `%q: %q`, g.Services[s].ID, val.Alloc[s].RatString())
		}
		b.WriteString("}}")
	}
	b.WriteString("]}")
	return b.Bytes()
}

// topShare is the share of the n largest amounts in their total.
func topShare(amounts []*big.Rat, n int) *big.Rat {
	sorted := slices.SortedFunc(slices.Values(amounts), func(a, b *big.Rat) int { return b.Cmp(a) })
	top, total := new(big.Rat), new(big.Rat)
	for i, a := range sorted {
		if i < n {
			top.Add(top, a)
		}
		total.Add(total, a)
	}
	return top.Quo(top, total)
}

// TestSyntheticRules: synthetic graphs of every size pass the input
// rules, as a file read back by ParseGraph, and read back the same.
func TestSyntheticRules(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {1, 9}, {3, 20}, {50, 5}, {300, 40}, {2000, 200}} {
		g := Synthetic(7, size[0], size[1])
		doc := graphJSON(g)
		back, err := ParseGraph(doc)
		if err != nil {
			t.Fatalf("Synthetic(7, %d, %d) breaks the input rules: %v", size[0], size[1], err)
		}
		if !bytes.Equal(graphJSON(back), doc) {
			t.Fatalf("Synthetic(7, %d, %d) does not read back the same", size[0], size[1])
		}
	}
}

func TestSyntheticDeterministic(t *testing.T) {
	a, b := graphJSON(Synthetic(5, 400, 60)), graphJSON(Synthetic(5, 400, 60))
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave two graphs")
	}
	if bytes.Equal(a, graphJSON(Synthetic(6, 400, 60))) {
		t.Fatal("seeds 5 and 6 gave the same graph")
	}
}

// TestSyntheticShape: heavy-tailed stakes (the top ten hold over 40%),
// whole-USD amounts in range, 1 to 8 services per validator, every
// service secured, and a few services, not most, cheaper to corrupt
// alone than their profit.
func TestSyntheticShape(t *testing.T) {
	thresholds := []*big.Rat{rat(1, 3), rat(1, 2), rat(2, 3)}
	for seed := uint64(1); seed <= 5; seed++ {
		g := Synthetic(seed, 2000, 200)
		stakes := make([]*big.Rat, len(g.Validators))
		W := make([]*big.Rat, len(g.Services))
		for s := range W {
			W[s] = new(big.Rat)
		}
		for v, val := range g.Validators {
			stakes[v] = val.Stake
			if !val.Stake.IsInt() || val.Stake.Cmp(rat(syntheticStakeMin, 1)) < 0 ||
				val.Stake.Cmp(rat(syntheticStakeMax, 1)) > 0 {
				t.Fatalf("seed %d: %s has stake %s", seed, val.ID, val.Stake.RatString())
			}
			if n := len(val.Alloc); n < 1 || n > 8 {
				t.Fatalf("seed %d: %s secures %d services", seed, val.ID, n)
			}
			for s, a := range val.Alloc {
				if !a.IsInt() || a.Sign() <= 0 || a.Cmp(val.Stake) > 0 {
					t.Fatalf("seed %d: %s allocates %s of %s", seed, val.ID, a.RatString(), val.Stake.RatString())
				}
				W[s].Add(W[s], a)
			}
		}
		if top := topShare(stakes, 10); top.Cmp(rat(2, 5)) <= 0 {
			t.Errorf("seed %d: the top ten hold %s of the stake, want over 40%%", seed, FormatNumber(top))
		}
		weak := 0
		for s, svc := range g.Services {
			if W[s].Sign() == 0 {
				t.Fatalf("seed %d: %s has no validator", seed, svc.ID)
			}
			if !slices.ContainsFunc(thresholds, func(r *big.Rat) bool { return r.Cmp(svc.Threshold) == 0 }) {
				t.Fatalf("seed %d: %s has threshold %s", seed, svc.ID, svc.Threshold.RatString())
			}
			if new(big.Rat).Mul(svc.Threshold, W[s]).Cmp(svc.Profit) < 0 {
				weak++
			}
		}
		if weak < 1 || weak > len(g.Services)/10 {
			t.Errorf("seed %d: %d of %d services are cheaper to corrupt than their profit", seed, weak,
				len(g.Services))
		}
	}
}

func TestSyntheticPanicsOnEmpty(t *testing.T) {
	for _, size := range [][2]int{{0, 5}, {5, 0}, {-1, 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Synthetic(1, %d, %d) did not panic", size[0], size[1])
				}
			}()
			Synthetic(1, size[0], size[1])
		}()
	}
}

// TestSyntheticAnalyze: the whole report on a mainnet-sized graph, whose
// searches may run to their budgets (skipped with -short).
func TestSyntheticAnalyze(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the attack searches to their budgets")
	}
	g := Synthetic(1, 2000, 200)
	r, err := Analyze(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	total := new(big.Rat)
	for _, v := range g.Validators {
		total.Add(total, v.Stake)
	}
	if len(r.Services) != 200 || r.TotalStake != FormatNumber(total) || len(r.UnsecuredServices) != 0 {
		t.Fatalf("report: %d services, total stake %s (want %s), unsecured %v", len(r.Services),
			r.TotalStake, FormatNumber(total), r.UnsecuredServices)
	}
	if r.Secure || r.ProfitableAttack == nil {
		t.Fatal("no profitable attack found, though some services are underpriced")
	}
}

func BenchmarkSynthetic(b *testing.B) {
	for b.Loop() {
		Synthetic(1, 2000, 200)
	}
}
