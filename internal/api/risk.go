package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/risk"
	"github.com/restake/restake/internal/riskgraph"
	"github.com/restake/restake/internal/riskreport"
)

// Risk error names.
const (
	NameRiskReportPending = "RiskReportPending"
	NameInvalidGraph      = "InvalidGraph"
)

func init() {
	ErrorNames[NameRiskReportPending] = http.StatusServiceUnavailable
	ErrorNames[NameInvalidGraph] = http.StatusUnprocessableEntity
}

// RiskReport and GraphAnalysis name the two reports in the OpenAPI
// document, whose schema names must be unique across packages.
type (
	RiskReport    riskreport.Report
	GraphAnalysis risk.Report
)

// registerRisk adds the risk engine's routes.
func (s *server) registerRisk(api huma.API) {
	huma.Register(api, operation("risk-report", get, "/v1/risk", "risk", "Risk report",
		"The latest risk report of the network (docs/risk.md): each service's cost to corrupt and "+
			"margin, the most profitable attack, the certificate's slack gamma*, operators' leverage, "+
			"cross-layer pledges, concentration, 100 shock cascades, the worst loss R_psi and a Monte "+
			"Carlo of failures. The node recomputes it every risk.every_blocks blocks off the block "+
			"path; 503 RiskReportPending until the first is ready. The report is also at "+
			"/v1/risk/report.html.", s503), s.riskReport)
	huma.Register(api, operation("risk-graph", get, "/v1/risk/graph", "risk", "Network graph",
		"The network's restaking graph now, in spec/risk-format.md's input format: every declared "+
			"operator set as a service (id AVS:set, declared profit and threshold), every operator "+
			"with stake as a validator, with its slashable stake per set, in USD after haircuts. "+
			"Feed it to restake risk analyze or POST /v1/risk/analyze to ask your own questions.",
		s500), s.riskGraph)
	huma.Register(api, operation("risk-analyze", post, "/v1/risk/analyze", "risk", "Analyze a graph",
		"The risk engine on any restaking graph sent as the body, in spec/risk-format.md's input "+
			"format (what restake risk analyze reads); the answer is its output format. ?exact=true "+
			"searches exhaustively beyond the default size; ?psi=0.01,0.05 replaces the file's psi. "+
			"422 InvalidGraph names the offending entry.", s400, s413, s422), s.riskAnalyze)
	huma.Register(api, operation("risk-shock", post, "/v1/risk/shock", "risk", "Shock and cascade",
		"Removes operators (\"operators\": [addresses]) or the largest operators up to a share of "+
			"all stake (\"psi\": \"0.05\") from the network's current graph and runs the greedy "+
			"cascade of profitable attacks that follows.", s400, s422), s.riskShock)
	huma.Register(api, operation("risk-whatif-slash", post, "/v1/risk/whatif-slash", "risk", "What-if slash",
		"What a slash would take now, without doing it: set (avs, set) slashes operators by wad "+
			"(1e18 = their whole allocation): losses per operator, per staker (largest first, at most "+
			"\"max_stakers\", default 100) and the set's security before and after.", s400, s404, s422),
		s.riskWhatIf)
	huma.Register(api, operation("risk-monte-carlo", post, "/v1/risk/monte-carlo", "risk", "Monte Carlo",
		"A seeded Monte Carlo of service failures on the current graph: every service fails with "+
			"\"probability\" per trial and slashes \"slash\" of its allocations; losses per service "+
			"(security lost) and per asset group with VaR and expected shortfall at 95% and 99%. "+
			"At most 100,000 trials.", s400, s422), s.riskMonteCarlo)
}

// riskReport serves the latest report.
func (s *server) riskReport(_ context.Context, _ *struct{}) (*out[*RiskReport], error) {
	st, ok := s.node.RiskReport()
	if !ok {
		msg := "the first risk report is being computed; retry in a few seconds"
		if st.Err != nil {
			msg = fmt.Sprintf("the risk report failed (%v); it is retried every risk.every_blocks blocks", st.Err)
		}
		return nil, apiError(NameRiskReportPending, "%s", msg)
	}
	return &out[*RiskReport]{Body: (*RiskReport)(st.Report)}, nil
}

// GraphFile is spec/risk-format.md's input, as the OpenAPI document shows
// it; the handler reads the raw body exactly (numbers as written).
type GraphFile struct {
	Unit       string           `json:"unit,omitempty"`
	Services   []map[string]any `json:"services"`
	Validators []map[string]any `json:"validators"`
	Shocks     [][]string       `json:"shocks,omitempty"`
	Psi        []any            `json:"psi,omitempty"`
}

// riskReportHTML serves the latest report as a page.
func (s *server) riskReportHTML(w http.ResponseWriter, _ *http.Request) {
	st, ok := s.node.RiskReport()
	if !ok {
		writeError(w, apiError(NameRiskReportPending, "the first risk report is being computed; retry in a few seconds"))
		return
	}
	var buf bytes.Buffer
	if err := riskreport.WriteHTML(&buf, st.Report); err != nil {
		writeError(w, internalError(err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// riskGraph serves the current network as a graph file.
func (s *server) riskGraph(_ context.Context, _ *struct{}) (*out[json.RawMessage], error) {
	n, err := s.node.RiskNetwork()
	if err != nil {
		return nil, internalError(err)
	}
	doc, err := risk.MarshalGraph(n.Graph)
	if err != nil {
		return nil, internalError(err)
	}
	return &out[json.RawMessage]{Body: doc}, nil
}

type riskAnalyzeInput struct {
	Exact   bool   `query:"exact" doc:"Search exhaustively even above the default size limit."`
	Psi     string `query:"psi" doc:"Comma-separated shock sizes; replace the graph's psi." example:"0.01,0.05"`
	RawBody []byte
	Body    GraphFile
}

// riskAnalyze runs the engine on a posted graph.
func (s *server) riskAnalyze(_ context.Context, in *riskAnalyzeInput) (*out[*GraphAnalysis], error) {
	if len(in.RawBody) == 0 {
		return nil, apiError(NameBodyRequired, "send a restaking graph (spec/risk-format.md) as the body")
	}
	g, err := risk.ParseGraph(in.RawBody)
	if err != nil {
		return nil, graphError(err)
	}
	if in.Psi != "" {
		if g.Psi, err = risk.ParsePsi(in.Psi, "query.psi"); err != nil {
			return nil, graphError(err)
		}
	}
	r, err := risk.Analyze(g, risk.Options{Exact: in.Exact})
	if err != nil {
		return nil, graphError(err)
	}
	return &out[*GraphAnalysis]{Body: (*GraphAnalysis)(r)}, nil
}

func graphError(err error) *Error {
	var ie *risk.InputError
	if errors.As(err, &ie) {
		return apiError(NameInvalidGraph, "%s; fix that entry (spec/risk-format.md lists the rules)", ie.Error())
	}
	return apiError(NameInvalidGraph, "%v", err)
}

// ShockRequest names the shock.
type ShockRequest struct {
	Operators []string `json:"operators,omitempty" doc:"Operators to remove (0x addresses)."`
	Psi       string   `json:"psi,omitempty" doc:"Remove the largest operators up to this share of all stake instead."`
}

type riskShockInput struct {
	Body ShockRequest
}

// ShockResponse is the cascade after a shock.
type ShockResponse struct {
	Height    uint64             `json:"height"`
	Cascade   risk.CascadeReport `json:"cascade"`
	LostShare string             `json:"lost_share"`
	Summary   riskreport.Summary `json:"summary"`
	Attack    *risk.AttackReport `json:"profitable_attack_before"`
}

func (s *server) riskShock(_ context.Context, in *riskShockInput) (*out[ShockResponse], error) {
	if (len(in.Body.Operators) == 0) == (in.Body.Psi == "") {
		return nil, apiError(NameInvalidBody, "send exactly one of \"operators\" (a list of addresses) and \"psi\" "+
			"(a share of all stake, such as \"0.05\")")
	}
	n, err := s.node.RiskNetwork()
	if err != nil {
		return nil, internalError(err)
	}
	g := *n.Graph
	pos := map[string]int{}
	total := new(big.Rat)
	for i, v := range g.Validators {
		pos[strings.ToLower(v.ID)] = i
		total.Add(total, v.Stake)
	}
	var shock []int
	if in.Body.Psi != "" {
		psi, err := risk.ParseNumber(in.Body.Psi)
		if err != nil || psi.Sign() < 0 || psi.Cmp(big.NewRat(1, 1)) > 0 {
			return nil, apiError(NameInvalidField, "body.psi: %q is not a fraction in [0, 1]", truncate(in.Body.Psi))
		}
		shock = largestUpTo(&g, new(big.Rat).Mul(total, psi))
	} else {
		seen := map[int]bool{}
		for i, a := range in.Body.Operators {
			addr, perr := parseAddress(fmt.Sprintf("body.operators[%d]", i), a)
			if perr != nil {
				return nil, perr
			}
			p, ok := pos[strings.ToLower(addr.String())]
			if !ok {
				return nil, apiError(NameInvalidField, "body.operators[%d]: %s is not an operator with stake", i, a)
			}
			if !seen[p] {
				seen[p] = true
				shock = append(shock, p)
			}
		}
	}
	g.Shocks = [][]int{shock}
	g.Psi = nil
	r, err := risk.Analyze(&g, risk.Options{})
	if err != nil {
		return nil, internalError(err)
	}
	c := r.Cascades[0]
	lost, _ := risk.ParseNumber(c.LostStake)
	share := new(big.Rat)
	if total.Sign() > 0 {
		share.Quo(lost, total)
	}
	return &out[ShockResponse]{Body: ShockResponse{Height: n.Height, Cascade: c, LostShare: risk.FormatNumber(share),
		Attack: r.ProfitableAttack, Summary: riskreport.Summary{Services: len(g.Services), Operators: len(g.Validators),
			TotalStake: risk.FormatNumber(total), Secure: r.Secure, Exact: r.Exact, SecureCertified: r.SecureCertified,
			GammaStar: r.GammaStar, UnsecuredServices: nonNilStrings(r.UnsecuredServices), StalePrices: []string{},
			UnpricedTokens: []string{}}}}, nil
}

func nonNilStrings(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// largestUpTo is the largest validators, added while their stake fits.
func largestUpTo(g *risk.Graph, limit *big.Rat) []int {
	order := make([]int, len(g.Validators))
	for i := range order {
		order[i] = i
	}
	sortByStake(g, order)
	acc := new(big.Rat)
	var out []int
	for _, v := range order {
		next := new(big.Rat).Add(acc, g.Validators[v].Stake)
		if next.Cmp(limit) <= 0 {
			acc, out = next, append(out, v)
		}
	}
	return out
}

func sortByStake(g *risk.Graph, order []int) {
	for i := 1; i < len(order); i++ { // insertion sort keeps ties in position order
		for j := i; j > 0 && g.Validators[order[j]].Stake.Cmp(g.Validators[order[j-1]].Stake) > 0; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

// WhatIfRequest is a hypothetical slash.
type WhatIfRequest struct {
	AVS        string   `json:"avs" doc:"The set's AVS."`
	Set        uint32   `json:"set" doc:"The set id."`
	Operators  []string `json:"operators" doc:"The operators slashed."`
	Wad        string   `json:"wad" doc:"Fraction of each operator's allocation slashed, 1e18 = all." example:"100000000000000000"`
	MaxStakers int      `json:"max_stakers,omitempty" doc:"Stakers listed, largest loss first (default 100)."`
}

type riskWhatIfInput struct {
	Body WhatIfRequest
}

func (s *server) riskWhatIf(_ context.Context, in *riskWhatIfInput) (*out[*riskgraph.SlashImpact], error) {
	avs, perr := parseAddress("body.avs", in.Body.AVS)
	if perr != nil {
		return nil, perr
	}
	if len(in.Body.Operators) == 0 {
		return nil, apiError(NameInvalidField, "body.operators: list at least one operator")
	}
	var ops []ledger.Address
	for i, a := range in.Body.Operators {
		addr, perr := parseAddress(fmt.Sprintf("body.operators[%d]", i), a)
		if perr != nil {
			return nil, perr
		}
		ops = append(ops, addr)
	}
	wad, err := uint256.FromDecimal(in.Body.Wad)
	if err != nil {
		return nil, apiError(NameInvalidField, "body.wad: %q is not a decimal amount (1e18 = all)", truncate(in.Body.Wad))
	}
	maxStakers := in.Body.MaxStakers
	if maxStakers <= 0 {
		maxStakers = 100
	}
	set := ledger.OperatorSet{AVS: avs, ID: in.Body.Set}
	var imp *riskgraph.SlashImpact
	var werr error
	found := true
	opts := s.riskGraphOptions()
	s.read(func(a *app.App) {
		if _, ok := a.Ledger().Set(set); !ok {
			found = false
			return
		}
		imp, werr = riskgraph.WhatIfSlash(a.Ledger(), set, ops, *wad, opts, maxStakers)
	})
	if !found {
		return nil, apiError(NameSetNotFound, "no operator set %d of %s; list them at /v1/avss/%s", set.ID, avs, avs)
	}
	if werr != nil {
		return nil, apiError(NameInvalidBody, "%v", werr)
	}
	return &out[*riskgraph.SlashImpact]{Body: imp}, nil
}

// riskGraphOptions are the node's valuation options (its risk settings).
func (s *server) riskGraphOptions() riskgraph.Options { return s.node.RiskGraphOptions() }

// MonteCarloRequest is a Monte Carlo run.
type MonteCarloRequest struct {
	Trials      int    `json:"trials" doc:"Trials, 1 to 100000."`
	Seed        uint64 `json:"seed,omitempty" doc:"The seed: the same seed and state give the same result."`
	Probability string `json:"probability" doc:"Each service's failure probability per trial." example:"0.01"`
	Slash       string `json:"slash" doc:"Fraction of every allocation to a failing service slashed." example:"0.25"`
}

type riskMonteCarloInput struct {
	Body MonteCarloRequest
}

func (s *server) riskMonteCarlo(_ context.Context, in *riskMonteCarloInput) (*out[*riskreport.MonteCarloRow], error) {
	b := in.Body
	if b.Trials < 1 || b.Trials > 100_000 {
		return nil, apiError(NameInvalidField, "body.trials: %d is outside 1 to 100000", b.Trials)
	}
	p, err := risk.ParseNumber(b.Probability)
	if err != nil || p.Sign() < 0 || p.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, apiError(NameInvalidField, "body.probability: %q is not a fraction in [0, 1]", truncate(b.Probability))
	}
	f, err := risk.ParseNumber(b.Slash)
	if err != nil || f.Sign() < 0 || f.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, apiError(NameInvalidField, "body.slash: %q is not a fraction in [0, 1]", truncate(b.Slash))
	}
	n, err := s.node.RiskNetwork()
	if err != nil {
		return nil, internalError(err)
	}
	row, err := riskreport.MonteCarlo(n, riskreport.MonteCarloSpec{Trials: b.Trials, Seed: b.Seed, Probability: p, Slash: f})
	if err != nil {
		return nil, apiError(NameInvalidBody, "%v", err)
	}
	return &out[*riskreport.MonteCarloRow]{Body: row}, nil
}
