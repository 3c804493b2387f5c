package riskreport_test

import (
	"encoding/json"
	"math/big"
	"runtime"
	"strings"
	"testing"

	"github.com/restake/restake/internal/demo"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/risk"
	"github.com/restake/restake/internal/riskgraph"
	"github.com/restake/restake/internal/riskreport"
)

func demoNetwork(t testing.TB) *riskgraph.Network {
	t.Helper()
	net, err := demo.Generate(demo.Small(1))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Genesis().Build()
	if err != nil {
		t.Fatal(err)
	}
	n, err := riskgraph.Build(l, riskgraph.Options{Haircuts: riskgraph.DefaultHaircuts(), StaleAfter: 3600})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReportOfTheDemo: every part of the report is filled and consistent
// with the engine's analysis, the JSON form round-trips, and the same
// state gives the same report.
func TestReportOfTheDemo(t *testing.T) {
	n := demoNetwork(t)
	o := riskreport.Options{MonteCarlo: riskreport.MonteCarloSpec{Trials: 300, Seed: 7,
		Probability: big.NewRat(1, 20), Slash: big.NewRat(1, 4)}}
	r, err := riskreport.Build(n, o)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Services != len(n.Graph.Services) || len(r.Services) != r.Summary.Services ||
		len(r.Operators) != len(n.Graph.Validators) {
		t.Fatalf("summary %+v: %d service rows, %d operator rows", r.Summary, len(r.Services), len(r.Operators))
	}
	if len(r.Cascades) == 0 || len(r.Cascades) > riskreport.DefaultShocks || len(r.RPsi) != 3 {
		t.Fatalf("%d cascades, %d r_psi", len(r.Cascades), len(r.RPsi))
	}
	for _, c := range r.Cascades {
		share, _ := risk.ParseNumber(c.LostShare)
		if share.Sign() <= 0 || share.Cmp(big.NewRat(1, 1)) > 0 || c.Label == "" {
			t.Fatalf("cascade %+v", c)
		}
	}
	if r.MonteCarlo == nil || r.MonteCarlo.Trials != 300 || len(r.MonteCarlo.Groups) == 0 ||
		len(r.MonteCarlo.Services) != r.Summary.Services {
		t.Fatalf("monte carlo %+v", r.MonteCarlo)
	}
	sum := 0
	for _, h := range r.Leverage.Histogram {
		sum += h
	}
	if sum != len(r.Operators) || len(r.Conc.OperatorCurve) == 0 || r.Conc.OperatorCurve[len(r.Conc.OperatorCurve)-1] != "1" {
		t.Fatalf("histogram %v (of %d operators), curve %v", r.Leverage.Histogram, len(r.Operators), r.Conc.OperatorCurve)
	}
	for _, s := range r.Services {
		if s.CostToCorrupt == nil || s.CostRatio == nil || s.Validators == 0 {
			t.Fatalf("service %+v", s)
		}
	}
	a, _ := json.Marshal(r)
	r2, _ := riskreport.Build(demoNetwork(t), o)
	b, _ := json.Marshal(r2)
	if string(a) != string(b) {
		t.Fatal("the same state gave two different reports")
	}
	var back map[string]any
	if err := json.Unmarshal(a, &back); err != nil || back["summary"] == nil || back["monte_carlo"] == nil {
		t.Fatalf("json: %v", err)
	}
}

// TestHTMLOfTheDemo renders the demo's report after a JSON round trip, as
// restake risk report --format html does.
func TestHTMLOfTheDemo(t *testing.T) {
	r, err := riskreport.Build(demoNetwork(t), riskreport.Options{MonteCarlo: riskreport.MonteCarloSpec{
		Trials: 200, Seed: 1, Probability: big.NewRat(1, 20), Slash: big.NewRat(1, 4)}})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(r)
	var back riskreport.Report
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatal(err)
	}
	var page strings.Builder
	if err := riskreport.WriteHTML(&page, &back); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(page.String(), "<!DOCTYPE html>") || strings.Count(page.String(), "<svg") < 5 ||
		!strings.Contains(page.String(), back.Services[0].ID) {
		t.Fatalf("page of %d bytes lacks its charts or services", page.Len())
	}
	// The operator-service graph: an edge per allocation between the
	// largest, drawn as a line.
	if len(back.Edges) == 0 || strings.Count(page.String(), `class="edge"`) != len(back.Edges) {
		t.Fatalf("%d edges in the report, %d drawn", len(back.Edges), strings.Count(page.String(), `class="edge"`))
	}
}

// mainnetNetwork wraps a synthetic 2,000 x 200 graph as a network.
func mainnetNetwork() *riskgraph.Network {
	g := risk.Synthetic(1, 2000, 200)
	n := &riskgraph.Network{Graph: g, Leverage: new(big.Rat),
		Layers: riskgraph.Layers{Beacon: new(big.Rat), Restaked: new(big.Rat), Allocated: new(big.Rat),
			LRT: new(big.Rat), Multiplier: new(big.Rat)}}
	var stakes []*big.Rat
	for i, v := range g.Validators {
		alloc := new(big.Rat)
		for _, w := range v.Alloc {
			alloc.Add(alloc, w)
		}
		var a ledger.Address
		a[18], a[19] = byte(i>>8), byte(i)
		n.Operators = append(n.Operators, riskgraph.Operator{Address: a, StakeUSD: v.Stake, Allocated: alloc,
			Leverage: new(big.Rat).Quo(alloc, v.Stake), Services: len(v.Alloc),
			ByToken: map[string]*big.Rat{"ETH": v.Stake}})
		stakes = append(stakes, v.Stake)
	}
	n.OperatorConcentration = risk.Concentrate(stakes)
	return n
}

// BenchmarkMainnetReport: the full report (certificate, cost to corrupt
// per service, concentration, leverage, 100 shock cascades, R_psi at three
// sizes) on 2,000 operators and 200 services. Target: under 2 s and 1 GiB.
func BenchmarkMainnetReport(b *testing.B) {
	n := mainnetNetwork()
	var peak uint64
	for b.Loop() {
		r, err := riskreport.Build(n, riskreport.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Cascades) != riskreport.DefaultShocks {
			b.Fatalf("%d cascades, want %d", len(r.Cascades), riskreport.DefaultShocks)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.Sys)
	}
	b.ReportMetric(float64(peak)/(1<<20), "sys-MiB")
}
