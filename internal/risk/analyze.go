// Package risk prices the security of a restaking graph
// (spec/risk-format.md; theory in spec/lrt-pendle-risk.md §3): profitable
// attacks and each service's cost to corrupt, the per-validator
// certificate and its slack gamma*, cascades after shocks and the worst
// loss R_psi next to Theorem 1's bound, and concentration. Every number is
// exact (rationals in, scaled 256-bit integers in the searches, exact or
// 18-significant-digit decimals out); the package is pure like the ledger.
package risk

import (
	"bytes"
	"encoding/json"
	"math/big"
)

// Options tune an analysis.
type Options struct {
	// Exact forces exhaustive search beyond the default size limit
	// (ExactValidators by ExactServices); it may take exponential time.
	Exact bool
	// Budget bounds the steps of each search (0: the default, about a few
	// seconds); a search that runs out reports its best result as a bound.
	Budget int64
}

// Report is `restake risk analyze`'s output. Fields past Concentration are
// restake's extensions to the format (documented in docs/risk.md).
type Report struct {
	Secure            bool              `json:"secure"`
	ProfitableAttack  *AttackReport     `json:"profitable_attack"`
	FullRestaking     bool              `json:"full_restaking"`
	GammaStar         *string           `json:"gamma_star"`
	Certificate       orderedStrings    `json:"certificate"`
	Services          []ServiceReport   `json:"services"`
	Cascades          []CascadeReport   `json:"cascades"`
	RPsi              []RPsiReport      `json:"r_psi"`
	Concentration     ConcentrationJSON `json:"concentration"`
	UnsecuredServices []string          `json:"unsecured_services,omitempty"`

	// Exact is true when the attack search was exhaustive: then Secure and
	// ProfitableAttack are proven. Otherwise they report what the
	// heuristic found, and SecureCertified says whether the certificate
	// alone proves security.
	Exact           bool        `json:"exact"`
	SecureCertified bool        `json:"secure_certified"`
	ExactLimit      ExactLimits `json:"exact_limit"`
	Unit            string      `json:"unit"`
	TotalStake      string      `json:"total_stake"`
}

// ExactLimits states the size up to which search is exact by default.
type ExactLimits struct {
	Validators int `json:"validators"`
	Services   int `json:"services"`
}

// AttackReport is one attack, by ids in input order.
type AttackReport struct {
	Services   []string `json:"services"`
	Validators []string `json:"validators"`
	Profit     string   `json:"profit"`
	Cost       string   `json:"cost"`
}

// ServiceReport is one service's security.
type ServiceReport struct {
	ID            string  `json:"id"`
	Stake         string  `json:"stake"`
	CostToCorrupt *string `json:"cost_to_corrupt"`
	Profit        string  `json:"profit"`
	Margin        *string `json:"margin"`
	CostExact     bool    `json:"cost_exact"`
}

// CascadeReport is the greedy cascade after one shock.
type CascadeReport struct {
	Shock     []string       `json:"shock"`
	LostStake string         `json:"lost_stake"`
	Attacks   []AttackReport `json:"attacks"`
	Exact     bool           `json:"exact"`
}

// RPsiReport is the worst loss for one shock size.
type RPsiReport struct {
	Psi        string   `json:"psi"`
	WorstLoss  string   `json:"worst_loss"`
	Bound      *string  `json:"bound"`
	Exact      bool     `json:"exact"`
	WorstShock []string `json:"worst_shock"`
}

// ConcentrationJSON is Concentration in the output format.
type ConcentrationJSON struct {
	HHI            string `json:"hhi"`
	EffectiveCount string `json:"effective_count"`
	Gini           string `json:"gini"`
	Nakamoto13     int    `json:"nakamoto_1_3"`
	Nakamoto12     int    `json:"nakamoto_1_2"`
	Nakamoto23     int    `json:"nakamoto_2_3"`
	Top5Share      string `json:"top5_share"`
}

// JSON is the output form of c.
func (c Concentration) JSON() ConcentrationJSON {
	if c.HHI == nil { // the zero value: an empty list
		c = Concentrate(nil)
	}
	return ConcentrationJSON{HHI: FormatNumber(c.HHI), EffectiveCount: FormatNumber(c.EffectiveCount),
		Gini: FormatNumber(c.Gini), Nakamoto13: c.Nakamoto13, Nakamoto12: c.Nakamoto12,
		Nakamoto23: c.Nakamoto23, Top5Share: FormatNumber(c.Top5Share)}
}

// orderedStrings is a JSON object whose keys keep their order.
type orderedStrings struct {
	keys []string
	vals []string
}

func (o orderedStrings) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(o.vals[i])
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Get returns the value of key k.
func (o orderedStrings) Get(k string) (string, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return "", false
}

// Analyze computes the full report for a graph.
func Analyze(g *Graph, o Options) (*Report, error) {
	m, err := newModel(g)
	if err != nil {
		return nil, err
	}
	b := &budget{left: o.Budget}
	if b.left <= 0 {
		b.left = defaultBudget
	}
	exact := o.Exact || (m.nV <= ExactValidators && m.nS <= ExactServices)
	r := &Report{Unit: g.Unit, ExactLimit: ExactLimits{ExactValidators, ExactServices},
		TotalStake: FormatNumber(m.rat(&m.total)), Cascades: []CascadeReport{}, RPsi: []RPsiReport{}}

	cert := certificate(g)
	r.FullRestaking = cert.FullRestak
	if cert.GammaStar != nil {
		s := FormatNumber(cert.GammaStar)
		r.GammaStar = &s
	}
	for v, t := range cert.T {
		r.Certificate.keys = append(r.Certificate.keys, g.Validators[v].ID)
		r.Certificate.vals = append(r.Certificate.vals, FormatNumber(t))
	}
	for _, s := range cert.Unsecured {
		r.UnsecuredServices = append(r.UnsecuredServices, g.Services[s].ID)
	}
	r.SecureCertified = len(cert.Unsecured) == 0 && (cert.GammaStar == nil || cert.GammaStar.Sign() >= 0)

	st := m.fresh()
	best, proven := st.bestAttack(exact, b)
	r.Exact = exact && proven
	if best != nil {
		r.ProfitableAttack = m.report(g, best)
	}
	// Without exact search, Secure means that none was found; Exact and
	// SecureCertified say whether that is proven.
	r.Secure = best == nil && len(cert.Unsecured) == 0

	for s, svc := range g.Services {
		sr := ServiceReport{ID: svc.ID, Stake: FormatNumber(m.rat(&st.W[s])), Profit: FormatNumber(svc.Profit)}
		c, ok := st.minSingleCost(s, &budget{left: defaultBudget / 10})
		cost := m.rat(&c)
		cs := FormatNumber(cost)
		margin := FormatNumber(new(big.Rat).Sub(cost, svc.Profit))
		sr.CostToCorrupt, sr.Margin, sr.CostExact = &cs, &margin, ok
		r.Services = append(r.Services, sr)
	}

	for _, c := range m.greedyCascades(g.Shocks, exact) {
		r.Cascades = append(r.Cascades, m.cascadeReport(g, c))
	}

	for _, psi := range g.Psi {
		wb := &budget{left: worstBudget}
		if o.Budget > 0 {
			wb.left = o.Budget
		}
		lost, ok, at := m.worstLoss(m.psiLimit(psi), exact, wb)
		frac := new(big.Rat)
		if !m.total.IsZero() { // a graph with no stake loses nothing
			frac.SetFrac(lost.ToBig(), m.total.ToBig())
		}
		rp := RPsiReport{Psi: FormatNumber(psi), WorstLoss: FormatNumber(frac), Exact: ok,
			WorstShock: ids(g, at, true)}
		if bound := cert.Bound(psi); bound != nil && psi.Sign() > 0 {
			s := FormatNumber(bound)
			rp.Bound = &s
		}
		r.RPsi = append(r.RPsi, rp)
	}

	stakes := make([]*big.Rat, len(g.Validators))
	for v, val := range g.Validators {
		stakes[v] = val.Stake
	}
	r.Concentration = Concentrate(stakes).JSON()
	return r, nil
}

func (m *model) report(g *Graph, a *Attack) *AttackReport {
	return &AttackReport{Services: ids(g, a.services, false), Validators: ids(g, a.validators, true),
		Profit: FormatNumber(m.rat(&a.profit)), Cost: FormatNumber(m.rat(&a.cost))}
}

func (m *model) cascadeReport(g *Graph, c *Cascade) CascadeReport {
	cr := CascadeReport{Shock: ids(g, c.Shock, true), LostStake: FormatNumber(m.rat(&c.Lost)),
		Attacks: []AttackReport{}, Exact: c.Exact}
	for _, a := range c.Attacks {
		cr.Attacks = append(cr.Attacks, *m.report(g, a))
	}
	return cr
}

// ids names positions, in input order.
func ids(g *Graph, pos []int, validators bool) []string {
	out := []string{}
	for _, p := range sortedCopy(pos) {
		if validators {
			out = append(out, g.Validators[p].ID)
		} else {
			out = append(out, g.Services[p].ID)
		}
	}
	return out
}
