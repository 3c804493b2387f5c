// Package riskreport is the risk report of a restaking network: the
// graph of its state (internal/riskgraph) analysed by the risk engine
// (internal/risk), with the shocks a node checks on every report, the
// worst loss per shock size, leverage, cross-layer pledges,
// concentration, and a Monte Carlo of service failures. It is what the
// node serves at /v1/risk and `restake risk report` prints. Like the
// engine it is pure; numbers are exact decimal strings.
package riskreport

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/restake/restake/internal/risk"
	"github.com/restake/restake/internal/riskgraph"
)

// Options say what to compute beyond the analysis.
type Options struct {
	// Shocks is how many shock cascades to run (0: DefaultShocks).
	Shocks int
	// Psi are the shock sizes for R_psi (nil: DefaultPsi).
	Psi []*big.Rat
	// MonteCarlo, when Trials > 0, runs a Monte Carlo of failures.
	MonteCarlo MonteCarloSpec
}

// MonteCarloSpec is a uniform failure model: every service fails with
// Probability per trial and, when it does, slashes Slash of every
// allocation to it.
type MonteCarloSpec struct {
	Trials      int
	Seed        uint64
	Probability *big.Rat
	Slash       *big.Rat
}

// DefaultShocks is the number of shock cascades in a report.
const DefaultShocks = 100

// DefaultPsi are the shock sizes of R_psi in a report: 1%, 5% and 10% of
// all stake.
func DefaultPsi() []*big.Rat {
	return []*big.Rat{big.NewRat(1, 100), big.NewRat(5, 100), big.NewRat(10, 100)}
}

// Report is the network's risk report.
type Report struct {
	Height uint64 `json:"height"`
	Time   uint64 `json:"time"`
	Unit   string `json:"unit"`

	Summary    Summary           `json:"summary"`
	Services   []ServiceRow      `json:"services"`
	Operators  []OperatorRow     `json:"operators"`
	Undeclared []SetRow          `json:"undeclared_sets"`
	Assets     []AssetRow        `json:"assets"`
	Leverage   LeverageRow       `json:"leverage"`
	Layers     LayersRow         `json:"layers"`
	Conc       ConcentrationRows `json:"concentration"`
	Cascades   []CascadeRow      `json:"cascades"`
	// Edges are the allocations between the largest operators and the
	// largest services (EdgeOperators by EdgeServices): the part of the
	// graph the report draws. GET /v1/risk/graph has all of it.
	Edges      []EdgeRow          `json:"edges"`
	RPsi       []risk.RPsiReport  `json:"r_psi"`
	MonteCarlo *MonteCarloRow     `json:"monte_carlo,omitempty"`
	Attack     *risk.AttackReport `json:"profitable_attack"`
	// For callers in Go: the engine's whole output, the graph with the
	// report's shocks, the network and the Monte Carlo's groups.
	Analysis *risk.Report       `json:"-"`
	Graph    *risk.Graph        `json:"-"`
	Network  *riskgraph.Network `json:"-"`
	Groups   []risk.Group       `json:"-"`
}

// Summary is the report in a few numbers.
type Summary struct {
	Services          int      `json:"services"`
	Operators         int      `json:"operators"`
	TotalStake        string   `json:"total_stake"`
	Secure            bool     `json:"secure"`
	Exact             bool     `json:"exact"`
	SecureCertified   bool     `json:"secure_certified"`
	GammaStar         *string  `json:"gamma_star"`
	UnderwaterCount   int      `json:"services_with_negative_margin"`
	UnsecuredServices []string `json:"unsecured_services"`
	StalePrices       []string `json:"stale_prices"`
	UnpricedTokens    []string `json:"unpriced_tokens"`
}

// ServiceRow is one service's security.
type ServiceRow struct {
	ID            string  `json:"id"`
	Stake         string  `json:"stake"`
	Threshold     string  `json:"threshold"`
	Profit        string  `json:"profit"`
	CostToCorrupt *string `json:"cost_to_corrupt"`
	Margin        *string `json:"margin"`
	// CostRatio is cost to corrupt over profit: below 1 the service can
	// be corrupted profitably on its own.
	CostRatio  *string `json:"cost_ratio"`
	Validators int     `json:"validators"`
}

// OperatorRow is one operator's exposure.
type OperatorRow struct {
	Address     string `json:"address"`
	Stake       string `json:"stake"`
	Allocated   string `json:"allocated"`
	Leverage    string `json:"leverage"`
	Services    int    `json:"services"`
	Certificate string `json:"certificate"` // T_v: at most 1 for the operator's part of the security proof
}

// SetRow is an operator set the engine cannot price (no declared risk).
type SetRow struct {
	ID    string `json:"id"`
	Stake string `json:"stake"`
}

// AssetRow is one restaked token.
type AssetRow struct {
	Token     string  `json:"token"`
	Amount    string  `json:"amount"` // base units (1e-18 of a token)
	PriceUSD  *string `json:"price_usd"`
	PriceTime uint64  `json:"price_time,omitempty"`
	Stale     bool    `json:"stale"`
	Haircut   string  `json:"haircut"`
	Value     string  `json:"value"`
}

// LeverageRow is allocated over unique stake: network-wide and the
// distribution over operators (stake-weighted quantiles would hide the
// many small ones, so these are per operator).
type LeverageRow struct {
	Network string `json:"network"`
	P50     string `json:"p50"`
	P90     string `json:"p90"`
	Max     string `json:"max"`
	// Histogram counts operators per tenth of leverage: [0, 0.1), ...,
	// [0.9, 1), then 1 and above.
	Histogram []int `json:"histogram"`
}

// LayersRow is the cross-layer pledge count.
type LayersRow struct {
	Beacon     string `json:"beacon"`
	Restaked   string `json:"restaked"`
	Allocated  string `json:"allocated"`
	LRT        string `json:"lrt"`
	Multiplier string `json:"multiplier"`
}

// ConcentrationRows are the metrics per list, with the list's curve: the
// cumulative share held by the largest k holders, for the chart.
type ConcentrationRows struct {
	Operators risk.ConcentrationJSON `json:"operators"`
	Services  risk.ConcentrationJSON `json:"services"`
	Assets    risk.ConcentrationJSON `json:"assets"`
	// OperatorCurve[k] is the share of stake held by the k+1 largest
	// operators, at up to 100 points.
	OperatorCurve []string `json:"operator_curve"`
}

// EdgeRow is one operator's allocation to one service.
type EdgeRow struct {
	Operator   string `json:"operator"`
	Service    string `json:"service"`
	Allocation string `json:"allocation"`
}

// The largest operators and services whose edges a report lists.
const (
	EdgeOperators = 25
	EdgeServices  = 20
)

// CascadeRow is the greedy cascade after one shock.
type CascadeRow struct {
	Label     string   `json:"label"`
	Shock     []string `json:"shock"`
	LostStake string   `json:"lost_stake"`
	LostShare string   `json:"lost_share"`
	Attacks   int      `json:"attacks"`
	Corrupted []string `json:"corrupted_services"`
	Exact     bool     `json:"exact"`
}

// MonteCarloRow is the Monte Carlo's result.
type MonteCarloRow struct {
	Trials       int            `json:"trials"`
	Seed         uint64         `json:"seed"`
	Probability  string         `json:"probability"`
	Slash        string         `json:"slash"`
	FailuresMean string         `json:"failures_mean"`
	Total        TailRow        `json:"total"`
	Groups       []GroupTailRow `json:"groups"`
	Services     []GroupTailRow `json:"services"`
}

// TailRow is a loss distribution's tail.
type TailRow struct {
	Mean  string `json:"mean"`
	VaR95 string `json:"var_95"`
	ES95  string `json:"es_95"`
	VaR99 string `json:"var_99"`
	ES99  string `json:"es_99"`
	Max   string `json:"max"`
}

// GroupTailRow is one group's (or service's) tail.
type GroupTailRow struct {
	ID string `json:"id"`
	TailRow
}

func tailRow(t risk.Tail) TailRow {
	return TailRow{Mean: risk.FormatNumber(t.Mean), VaR95: risk.FormatNumber(t.VaR95), ES95: risk.FormatNumber(t.ES95),
		VaR99: risk.FormatNumber(t.VaR99), ES99: risk.FormatNumber(t.ES99), Max: risk.FormatNumber(t.Max)}
}

func num(r *big.Rat) string { return risk.FormatNumber(r) }

// Build analyses a network.
func Build(n *riskgraph.Network, o Options) (*Report, error) {
	if o.Shocks <= 0 {
		o.Shocks = DefaultShocks
	}
	if o.Psi == nil {
		o.Psi = DefaultPsi()
	}
	g := *n.Graph // the shocks and psi go on a copy
	labels := shocks(o.Shocks, &g)
	g.Psi = o.Psi
	a, err := risk.Analyze(&g, risk.Options{})
	if err != nil {
		return nil, err
	}
	total := new(big.Rat)
	for _, v := range g.Validators {
		total.Add(total, v.Stake)
	}
	r := &Report{Height: n.Height, Time: n.Time, Unit: "USD", Analysis: a, Graph: &g, Network: n,
		Attack: a.ProfitableAttack, RPsi: a.RPsi}
	r.Summary = Summary{Services: len(g.Services), Operators: len(g.Validators), TotalStake: num(total),
		Secure: a.Secure, Exact: a.Exact, SecureCertified: a.SecureCertified, GammaStar: a.GammaStar,
		UnsecuredServices: nonNil(a.UnsecuredServices), StalePrices: []string{}, UnpricedTokens: []string{}}

	validatorsOf := make([]int, len(g.Services))
	for _, v := range g.Validators {
		for s := range v.Alloc {
			validatorsOf[s]++
		}
	}
	for i, s := range a.Services {
		row := ServiceRow{ID: s.ID, Stake: s.Stake, Threshold: num(g.Services[i].Threshold), Profit: s.Profit,
			CostToCorrupt: s.CostToCorrupt, Margin: s.Margin, Validators: validatorsOf[i]}
		if s.CostToCorrupt != nil {
			c, _ := risk.ParseNumber(*s.CostToCorrupt)
			ratio := num(new(big.Rat).Quo(c, g.Services[i].Profit))
			row.CostRatio = &ratio
			if c.Cmp(g.Services[i].Profit) < 0 {
				r.Summary.UnderwaterCount++
			}
		}
		r.Services = append(r.Services, row)
	}
	for i, op := range n.Operators {
		t, _ := a.Certificate.Get(g.Validators[i].ID)
		r.Operators = append(r.Operators, OperatorRow{Address: op.Address.String(), Stake: num(op.StakeUSD),
			Allocated: num(op.Allocated), Leverage: num(op.Leverage), Services: op.Services, Certificate: t})
	}
	r.Undeclared = []SetRow{}
	for _, s := range n.Undeclared {
		r.Undeclared = append(r.Undeclared, SetRow{ID: s.ID, Stake: num(s.StakeUSD)})
	}
	for _, as := range n.Assets {
		row := AssetRow{Token: as.Token, Amount: as.Amount.Dec(), PriceTime: as.PriceTime, Stale: as.Stale,
			Haircut: num(as.Haircut), Value: num(as.ValueUSD)}
		if as.PriceUSD != nil {
			p := num(as.PriceUSD)
			row.PriceUSD = &p
		} else {
			r.Summary.UnpricedTokens = append(r.Summary.UnpricedTokens, as.Token)
		}
		if as.Stale {
			r.Summary.StalePrices = append(r.Summary.StalePrices, as.Token)
		}
		r.Assets = append(r.Assets, row)
	}
	r.Leverage = leverage(n)
	r.Layers = LayersRow{Beacon: num(n.Layers.Beacon), Restaked: num(n.Layers.Restaked),
		Allocated: num(n.Layers.Allocated), LRT: num(n.Layers.LRT), Multiplier: num(n.Layers.Multiplier)}
	r.Conc = ConcentrationRows{Operators: n.OperatorConcentration.JSON(), Services: n.ServiceConcentration.JSON(),
		Assets: n.AssetConcentration.JSON(), OperatorCurve: curve(n)}
	for i, c := range a.Cascades {
		lost, _ := risk.ParseNumber(c.LostStake)
		share := new(big.Rat)
		if total.Sign() > 0 {
			share.Quo(lost, total)
		}
		var corrupted []string
		for _, at := range c.Attacks {
			corrupted = append(corrupted, at.Services...)
		}
		r.Cascades = append(r.Cascades, CascadeRow{Label: labels[i], Shock: c.Shock, LostStake: c.LostStake,
			LostShare: num(share), Attacks: len(c.Attacks), Corrupted: nonNil(corrupted), Exact: c.Exact})
	}
	r.Edges = edges(&g)
	if o.MonteCarlo.Trials > 0 {
		mc, groups, err := monteCarlo(n, &g, o.MonteCarlo)
		if err != nil {
			return nil, err
		}
		r.MonteCarlo, r.Groups = mc, groups
	}
	return r, nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// shocks chooses the report's shocks and puts them on g: the largest
// operators alone, the largest k together, the heaviest members of the
// largest services, and the largest operators filling each psi of stake.
func shocks(count int, g *risk.Graph) []string {
	bySize := make([]int, len(g.Validators))
	for i := range bySize {
		bySize[i] = i
	}
	sort.SliceStable(bySize, func(i, j int) bool { return g.Validators[bySize[i]].Stake.Cmp(g.Validators[bySize[j]].Stake) > 0 })
	var labels []string
	seen := map[string]bool{}
	add := func(label string, d []int) {
		if len(labels) >= count || len(d) == 0 {
			return
		}
		sorted := append([]int(nil), d...)
		sort.Ints(sorted)
		key := fmt.Sprint(sorted)
		if seen[key] {
			return
		}
		seen[key] = true
		g.Shocks = append(g.Shocks, sorted)
		labels = append(labels, label)
	}
	for k := 2; k <= 10 && k <= len(bySize); k++ {
		add(fmt.Sprintf("the %d largest operators", k), bySize[:k])
	}
	total := new(big.Rat)
	for _, v := range g.Validators {
		total.Add(total, v.Stake)
	}
	for _, p := range []int64{1, 2, 5, 10, 20, 33} {
		limit := new(big.Rat).Mul(total, big.NewRat(p, 100))
		acc := new(big.Rat)
		var d []int
		for _, v := range bySize {
			next := new(big.Rat).Add(acc, g.Validators[v].Stake)
			if next.Cmp(limit) <= 0 {
				acc, d = next, append(d, v)
			}
		}
		add(fmt.Sprintf("largest operators up to %d%% of stake", p), d)
	}
	// The three heaviest members of each of the largest services.
	secured := make([]*big.Rat, len(g.Services))
	members := make([][]int, len(g.Services))
	for s := range secured {
		secured[s] = new(big.Rat)
	}
	for v, val := range g.Validators {
		for s, w := range val.Alloc {
			secured[s].Add(secured[s], w)
			members[s] = append(members[s], v)
		}
	}
	svcOrder := make([]int, len(g.Services))
	for i := range svcOrder {
		svcOrder[i] = i
	}
	sort.SliceStable(svcOrder, func(i, j int) bool { return secured[svcOrder[i]].Cmp(secured[svcOrder[j]]) > 0 })
	for _, s := range svcOrder[:min(20, len(svcOrder))] {
		ms := members[s]
		sort.SliceStable(ms, func(i, j int) bool {
			return g.Validators[ms[i]].Alloc[s].Cmp(g.Validators[ms[j]].Alloc[s]) > 0
		})
		add("the 3 largest validators of "+g.Services[s].ID, ms[:min(3, len(ms))])
	}
	for _, v := range bySize {
		add("operator "+g.Validators[v].ID, []int{v})
	}
	return labels
}

// edges lists the allocations between the EdgeOperators largest
// validators and the EdgeServices best-secured services.
func edges(g *risk.Graph) []EdgeRow {
	ops := make([]int, len(g.Validators))
	for i := range ops {
		ops[i] = i
	}
	sort.SliceStable(ops, func(i, j int) bool { return g.Validators[ops[i]].Stake.Cmp(g.Validators[ops[j]].Stake) > 0 })
	ops = ops[:min(EdgeOperators, len(ops))]
	secured := make([]*big.Rat, len(g.Services))
	for s := range secured {
		secured[s] = new(big.Rat)
	}
	for _, v := range g.Validators {
		for s, w := range v.Alloc {
			secured[s].Add(secured[s], w)
		}
	}
	svcs := make([]int, len(g.Services))
	for i := range svcs {
		svcs[i] = i
	}
	sort.SliceStable(svcs, func(i, j int) bool { return secured[svcs[i]].Cmp(secured[svcs[j]]) > 0 })
	top := map[int]bool{}
	for _, s := range svcs[:min(EdgeServices, len(svcs))] {
		top[s] = true
	}
	out := []EdgeRow{}
	for _, v := range ops {
		for s := range g.Services {
			if w, ok := g.Validators[v].Alloc[s]; ok && top[s] {
				out = append(out, EdgeRow{Operator: g.Validators[v].ID, Service: g.Services[s].ID, Allocation: num(w)})
			}
		}
	}
	return out
}

func leverage(n *riskgraph.Network) LeverageRow {
	lv := make([]*big.Rat, len(n.Operators))
	row := LeverageRow{Network: num(n.Leverage), Histogram: make([]int, 11), P50: "0", P90: "0", Max: "0"}
	for i, op := range n.Operators {
		lv[i] = op.Leverage
		tenth := new(big.Rat).Mul(op.Leverage, big.NewRat(10, 1))
		b := new(big.Int).Quo(tenth.Num(), tenth.Denom()).Int64()
		row.Histogram[min(10, int(b))]++
	}
	if len(lv) == 0 {
		return row
	}
	sort.SliceStable(lv, func(i, j int) bool { return lv[i].Cmp(lv[j]) < 0 })
	q := func(p int) *big.Rat { return lv[min(len(lv)-1, (len(lv)*p+99)/100-1)] }
	row.P50, row.P90, row.Max = num(q(50)), num(q(90)), num(lv[len(lv)-1])
	return row
}

// curve is the cumulative share of the largest operators, at up to 100
// points (every holder for small networks, evenly spaced ranks beyond).
func curve(n *riskgraph.Network) []string {
	stakes := make([]*big.Rat, len(n.Operators))
	total := new(big.Rat)
	for i, op := range n.Operators {
		stakes[i] = op.StakeUSD
		total.Add(total, op.StakeUSD)
	}
	out := []string{}
	if total.Sign() == 0 {
		return out
	}
	sort.SliceStable(stakes, func(i, j int) bool { return stakes[i].Cmp(stakes[j]) > 0 })
	points := min(100, len(stakes))
	cum := new(big.Rat)
	next := 0
	for k, s := range stakes {
		cum.Add(cum, s)
		// Rank k+1 is a point when it reaches the next evenly spaced one.
		if (k+1)*points >= (next+1)*len(stakes) {
			out = append(out, num(new(big.Rat).Quo(cum, total)))
			next++
		}
	}
	return out
}

// MonteCarlo runs the uniform failure model on a network's graph, with
// its assets as staker groups.
func MonteCarlo(n *riskgraph.Network, spec MonteCarloSpec) (*MonteCarloRow, error) {
	row, _, err := monteCarlo(n, n.Graph, spec)
	return row, err
}

// monteCarlo runs the uniform failure model with the assets as staker
// groups: a group holds, of each operator's stake, the share that asset
// makes of it.
func monteCarlo(n *riskgraph.Network, g *risk.Graph, spec MonteCarloSpec) (*MonteCarloRow, []risk.Group, error) {
	if spec.Probability == nil || spec.Slash == nil {
		return nil, nil, fmt.Errorf("monte carlo: probability and slash are required")
	}
	fm := risk.FailureModel{}
	for range g.Services {
		fm.Probability = append(fm.Probability, spec.Probability)
		fm.Slash = append(fm.Slash, spec.Slash)
	}
	var groups []risk.Group
	for _, a := range n.Assets {
		shares := n.AssetShares(a.Token)
		if len(shares) == 0 {
			continue
		}
		groups = append(groups, risk.Group{ID: a.Token, Share: shares})
	}
	res, err := risk.MonteCarlo(g, fm, groups, risk.MonteCarloOptions{Trials: spec.Trials, Seed: spec.Seed})
	if err != nil {
		return nil, nil, err
	}
	row := &MonteCarloRow{Trials: res.Trials, Seed: res.Seed, Probability: num(spec.Probability),
		Slash: num(spec.Slash), FailuresMean: num(res.FailuresMean), Total: tailRow(res.Total)}
	for i, t := range res.Groups {
		row.Groups = append(row.Groups, GroupTailRow{ID: groups[i].ID, TailRow: tailRow(t)})
	}
	for i, t := range res.Services {
		row.Services = append(row.Services, GroupTailRow{ID: g.Services[i].ID, TailRow: tailRow(t)})
	}
	return row, groups, nil
}
