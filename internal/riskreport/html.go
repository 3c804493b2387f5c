package riskreport

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/restake/restake/internal/risk"
)

// Limits of the HTML page: they keep it small (well under 2 MB for 2,000
// operators and 200 services) and its charts readable. Every table cut
// by one says so on the page.
const (
	marginBarsMax         = 40  // services in the security margin chart
	operatorRowsMax       = 100 // operators in the operators table
	chartOperatorsMax     = 25  // operators in the operators and services chart
	chartServicesMax      = 20  // services in the operators and services chart
	cascadeBarsMax        = 20  // shocks in the cascade chart
	corruptedListedMax    = 5   // corrupted services named per cascade row
	attackListedMax       = 50  // services and operators named in the attack
	monteCarloServicesMax = 20  // services in the Monte Carlo table
	undeclaredRowsMax     = 200 // sets in the undeclared table
	chartIDRunesMax       = 28  // a service id in a chart, shortened in the middle
	chartAddressRunesMax  = 19  // an operator address in a chart
	chartLabelRunesMax    = 42  // a cascade label in a chart
	marginAxisMax         = 10  // the margin chart's axis ends at most at this ratio
	wadDigits             = 18  // every token has 18 decimals: amounts are in 1e-18 units
)

// WriteHTML writes r as one self-contained HTML page (no external scripts,
// styles, fonts or images; works offline, opened from a file): the
// summary, then charts and tables of security margins, leverage,
// concentration, operators and services, cascades, R_psi, assets and
// layers, the Monte Carlo and the undeclared sets, each with a sentence
// on what it means.
//
// Contract: WriteHTML reads only the fields of r that have a JSON form,
// so a Report decoded from /v1/risk renders the same as the one Build
// returned. Numbers that do not parse are printed as they are.
func WriteHTML(w io.Writer, r *Report) error {
	if r == nil {
		return errors.New("risk report html: no report")
	}
	return pageTemplate.Execute(w, newPage(r))
}

// page is everything the template prints, formatted: the template only
// lays it out.
type page struct {
	Height, Time, Date string
	Summary            summaryView
	Margin             hbarChart
	Services           []serviceView
	Leverage           leverageView
	Conc               concView
	OpChart            opChart
	Operators          []operatorView
	OperatorsNote      string
	CascadeChart       hbarChart
	Cascades           []cascadeView
	RPsi               []rpsiView
	Assets             []assetView
	Layers             layersView
	MonteCarlo         *mcView
	Undeclared         []setView
	UndeclaredNote     string
}

func newPage(r *Report) *page {
	p := &page{Height: groupDigits(strconv.FormatUint(r.Height, 10)),
		Time: strconv.FormatUint(r.Time, 10), Date: civilDate(r.Time), Summary: summaryOf(r)}
	p.Services, p.Margin = servicesOf(r.Services)
	p.Leverage = leverageOf(r.Leverage)
	p.Conc = concentrationOf(r.Conc)
	p.OpChart = opChartOf(r)
	p.Operators, p.OperatorsNote = operatorsOf(r)
	p.CascadeChart, p.Cascades = cascadesOf(r.Cascades)
	p.RPsi = rpsiOf(r.RPsi)
	p.Assets = assetsOf(r.Assets)
	p.Layers = layersView{Beacon: formatUSD(r.Layers.Beacon), Restaked: formatUSD(r.Layers.Restaked),
		Allocated: formatUSD(r.Layers.Allocated), LRT: formatUSD(r.Layers.LRT),
		Multiplier: formatRatio(r.Layers.Multiplier)}
	p.MonteCarlo = monteCarloOf(r.MonteCarlo)
	p.Undeclared, p.UndeclaredNote = undeclaredOf(r.Undeclared)
	return p
}

// --- 1. Summary ---

type summaryView struct {
	Verdict, VerdictClass, Proof string
	GammaStar, GammaClass        string
	TotalStake                   string
	Services, Operators          string
	Underwater                   int
	Unsecured, Stale, Unpriced   []string
	Attack                       *attackView
}

type attackView struct {
	Services, Validators         []string
	MoreServices, MoreValidators int
	Profit, Cost, Gain           string
}

func summaryOf(r *Report) summaryView {
	s := r.Summary
	v := summaryView{TotalStake: formatUSD(s.TotalStake), Services: formatCount(int64(s.Services)),
		Operators: formatCount(int64(s.Operators)), Underwater: s.UnderwaterCount,
		Unsecured: s.UnsecuredServices, Stale: s.StalePrices, Unpriced: s.UnpricedTokens,
		GammaStar: "none"}
	switch {
	case s.Secure && s.Exact:
		v.Verdict, v.VerdictClass = "Secure", "good"
		v.Proof = "Proven: an exhaustive search found no group of operators " +
			"that would profit from attacking."
	case s.Secure && s.SecureCertified:
		v.Verdict, v.VerdictClass = "Secure", "good"
		v.Proof = "Proven by the certificate (γ* is not negative); " +
			"the search for attacks was not exhaustive."
	case s.Secure:
		v.Verdict, v.VerdictClass = "No attack found (not proven)", "warn"
		v.Proof = "The search found no profitable attack, but it was not exhaustive " +
			"and the certificate does not prove security either."
	case r.Attack == nil && len(s.UnsecuredServices) > 0:
		v.Verdict, v.VerdictClass = "Not secure", "bad"
		v.Proof = "Some services have no stake at all behind them."
	case r.Attack == nil:
		v.Verdict, v.VerdictClass = "Not secure", "bad"
		v.Proof = "The report names neither an attack nor a service without stake."
	case s.Exact:
		v.Verdict, v.VerdictClass = "Not secure", "bad"
		v.Proof = "Proven: the exhaustive search found a profitable attack (below)."
	default:
		v.Verdict, v.VerdictClass = "Not secure", "bad"
		v.Proof = "The search found a profitable attack (below); it was not exhaustive, " +
			"so a more profitable one may exist."
	}
	if s.GammaStar != nil {
		v.GammaStar, v.GammaClass = formatRatio(*s.GammaStar), "good"
		if g, ok := parseRat(*s.GammaStar); ok && g.Sign() < 0 {
			v.GammaClass = "bad"
		}
	}
	if a := r.Attack; a != nil {
		av := &attackView{Profit: formatUSD(a.Profit), Cost: formatUSD(a.Cost)}
		av.Services, av.MoreServices = firstN(a.Services, attackListedMax)
		av.Validators, av.MoreValidators = firstN(a.Validators, attackListedMax)
		profit, ok1 := parseRat(a.Profit)
		cost, ok2 := parseRat(a.Cost)
		if ok1 && ok2 {
			av.Gain = formatUSD(risk.FormatNumber(new(big.Rat).Sub(profit, cost)))
		}
		v.Attack = av
	}
	return v
}

func firstN(xs []string, n int) ([]string, int) {
	if len(xs) <= n {
		return xs, 0
	}
	return xs[:n], len(xs) - n
}

// --- 2 and 3. Security margin chart and services table ---

type serviceView struct {
	ID, Stake, Threshold, Profit, Cost, Margin, Ratio string
	MarginClass, Class                                string
	Validators                                        string
}

// servicesOf sorts the services by cost ratio, lowest first (those
// without one last), and charts the lowest.
func servicesOf(rows []ServiceRow) ([]serviceView, hbarChart) {
	type svc struct {
		row   ServiceRow
		ratio *big.Rat // nil: none
	}
	list := make([]svc, len(rows))
	for i, row := range rows {
		list[i].row = row
		if row.CostRatio != nil {
			if x, ok := parseRat(*row.CostRatio); ok {
				list[i].ratio = x
			}
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].ratio, list[j].ratio
		if a == nil || b == nil {
			return a != nil && b == nil
		}
		return a.Cmp(b) < 0
	})
	var views []serviceView
	var bars []barValue
	one := big.NewRat(1, 1)
	for _, s := range list {
		v := serviceView{ID: s.row.ID, Stake: formatUSD(s.row.Stake),
			Threshold: formatPercent(s.row.Threshold), Profit: formatUSD(s.row.Profit),
			Cost: "—", Margin: "—", Ratio: "—",
			Validators: formatCount(int64(s.row.Validators))}
		if s.row.CostToCorrupt != nil {
			v.Cost = formatUSD(*s.row.CostToCorrupt)
		}
		if s.row.Margin != nil {
			v.Margin = formatUSD(*s.row.Margin)
			if m, ok := parseRat(*s.row.Margin); ok && m.Sign() < 0 {
				v.MarginClass = "bad"
			}
		}
		if s.ratio != nil {
			v.Ratio = ratioText(s.ratio)
			if s.ratio.Cmp(one) < 0 {
				v.Class = "bad"
			}
			if len(bars) < marginBarsMax {
				bars = append(bars, barValue{label: shorten(s.row.ID, chartIDRunesMax), title: s.row.ID,
					value: s.ratio, text: v.Ratio, class: v.Class})
			}
		}
		views = append(views, v)
	}
	return views, marginChart(bars)
}

// barValue is one bar before layout.
type barValue struct {
	label, title, text, class string
	value                     *big.Rat
}

// marginChart lays out cost ratios on an axis from 0 to the next integer
// above the largest (at least 2, at most marginAxisMax), with the
// reference line at 1.
func marginChart(bars []barValue) hbarChart {
	top := 2
	for _, b := range bars {
		c := ceilInt(b.value)
		if c > int64(top) {
			top = int(min(c, marginAxisMax))
		}
	}
	c := newHbarChart("Cost to corrupt ÷ profit, per service", 200, 440, len(bars), true)
	full := big.NewRat(int64(top), 1)
	for i := 0; i <= top; i++ {
		x := c.PlotX + c.PlotW*i/top
		c.Ticks = append(c.Ticks, chartTick{X: x, Label: strconv.Itoa(i)})
		if i == 1 {
			c.Ref = &chartTick{X: x, Label: "1"}
		}
	}
	for i, b := range bars {
		c.addBar(i, b, full)
	}
	return c
}

// hbarChart is a horizontal bar chart: labels on the left, bars from
// PlotX, ticks on top, and an optional vertical reference line.
type hbarChart struct {
	Title                string
	Width, Height        int
	LabelX, PlotX, PlotW int
	Top, Bottom, TickY   int
	Mono                 bool
	Ticks                []chartTick
	Ref                  *chartTick
	Bars                 []hbar
}

type chartTick struct {
	X     int
	Label string
}

type hbar struct {
	Y, W, TextY, ValueX        int
	Label, Title, Value, Class string
}

const (
	hbarRowPx    = 18  // one bar and the gap below it
	chartWidthPx = 760 // the width of most charts
)

func newHbarChart(title string, labelWidth, plotWidth, rows int, mono bool) hbarChart {
	top := 26
	return hbarChart{Title: title, Width: chartWidthPx, LabelX: labelWidth, PlotX: labelWidth + 6,
		PlotW: plotWidth, Top: top, Bottom: top + rows*hbarRowPx + 4, TickY: 16, Mono: mono,
		Height: top + rows*hbarRowPx + 14}
}

func (c *hbarChart) addBar(i int, b barValue, full *big.Rat) {
	y := c.Top + 4 + i*hbarRowPx
	w := scalePx(b.value, full, c.PlotW)
	text := b.text
	if b.value.Cmp(full) > 0 {
		text += " (off scale)"
	}
	c.Bars = append(c.Bars, hbar{Y: y, W: w, TextY: y + 10, ValueX: c.PlotX + w + 4,
		Label: b.label, Title: b.title + ": " + b.text, Value: text, Class: b.class})
}

// --- 4. Leverage ---

type leverageView struct {
	Network, P50, P90, Max string
	Chart                  histChart
}

type histChart struct {
	Width, Height, Base, Left, Right int
	Bars                             []vbar
}

type vbar struct {
	X, Y, W, H, MidX, CountY int
	Label, Count, Class      string
}

func leverageOf(l LeverageRow) leverageView {
	v := leverageView{Network: formatRatio(l.Network), P50: formatRatio(l.P50),
		P90: formatRatio(l.P90), Max: formatRatio(l.Max)}
	const left, plotW, plotH, base = 40, 700, 160, 190
	c := histChart{Width: chartWidthPx, Height: base + 24, Base: base, Left: left, Right: left + plotW}
	most := 1
	for _, n := range l.Histogram {
		most = max(most, n)
	}
	n := len(l.Histogram)
	for i, count := range l.Histogram {
		x0, x1 := left+plotW*i/n, left+plotW*(i+1)/n
		h := plotH * count / most
		b := vbar{X: x0 + 3, W: x1 - x0 - 6, Y: base - h, H: h, MidX: (x0 + x1) / 2, CountY: base - h - 4,
			Count: formatCount(int64(count)), Label: bucketLabel(i)}
		if i >= 10 && count > 0 {
			b.Class = "bad"
		}
		c.Bars = append(c.Bars, b)
	}
	v.Chart = c
	return v
}

// bucketLabel names the histogram's i-th bucket: tenths, then "≥ 1".
func bucketLabel(i int) string {
	if i >= 10 {
		return "≥ 1"
	}
	return fmt.Sprintf("%d.%d–%s", i/10, i%10, ratioText(big.NewRat(int64(i+1), 10)))
}

// --- 5. Concentration ---

type concView struct {
	Curve curveChart
	Rows  []concRow
}

type concRow struct {
	Name, HHI, Effective, Gini, N13, N12, N23, Top5 string
}

// curveChart is the operator curve on a square plot from (Left, Bottom)
// to (Left+Size, Bottom-Size).
type curveChart struct {
	Left, Bottom, Size, Right, Top int
	Points                         string
	Ticks                          []curveTick
	Empty                          bool
}

type curveTick struct {
	X, Y  int
	Label string
}

func concentrationOf(c ConcentrationRows) concView {
	const left, top, size = 56, 16, 300
	ch := curveChart{Left: left, Top: top, Size: size, Bottom: top + size, Right: left + size,
		Empty: len(c.OperatorCurve) == 0}
	pts := []string{fmt.Sprintf("%d,%d", left, top+size)}
	n := len(c.OperatorCurve)
	one := big.NewRat(1, 1)
	for i, s := range c.OperatorCurve {
		share, ok := parseRat(s)
		if !ok {
			share = new(big.Rat)
		}
		x := left + size*(i+1)/n
		y := top + size - scalePx(share, one, size)
		pts = append(pts, fmt.Sprintf("%d,%d", x, y))
	}
	ch.Points = strings.Join(pts, " ")
	for q := 0; q <= 4; q++ {
		ch.Ticks = append(ch.Ticks, curveTick{X: left + size*q/4, Y: top + size - size*q/4,
			Label: strconv.Itoa(25*q) + "%"})
	}
	row := func(name string, j risk.ConcentrationJSON) concRow {
		return concRow{Name: name, HHI: formatRatio(j.HHI), Effective: formatRatio(j.EffectiveCount),
			Gini: formatRatio(j.Gini), N13: formatCount(int64(j.Nakamoto13)),
			N12: formatCount(int64(j.Nakamoto12)), N23: formatCount(int64(j.Nakamoto23)),
			Top5: formatPercent(j.Top5Share)}
	}
	return concView{Curve: ch, Rows: []concRow{row("Operators (by stake)", c.Operators),
		row("Services (by stake securing them)", c.Services), row("Assets (by value)", c.Assets)}}
}

// --- 6. Operators and services ---

type opChart struct {
	Width, Height int
	Ops           []opBar
	Svcs          []svcBar
	Edges         []edgeLine
}

// edgeLine is an allocation drawn from an operator's row to a service's,
// its width growing with the allocation.
type edgeLine struct {
	Y1, Y2, W int
	Title     string
}

type opBar struct {
	Y, TextY, StakeW, LevW           int
	Label, Title, Share, Lev, LevCls string
}

type svcBar struct {
	Y, TextY, W         int
	Label, Title, Stake string
}

type operatorView struct {
	Address, Stake, Share, Allocated, Leverage, Services, Certificate string
	LevClass, CertClass                                               string
}

// byStake is a list's order by stake, largest first; unparsable stakes
// count as zero.
func byStake(n int, stake func(int) string) ([]int, []*big.Rat) {
	order := make([]int, n)
	stakes := make([]*big.Rat, n)
	for i := range order {
		order[i] = i
		if x, ok := parseRat(stake(i)); ok {
			stakes[i] = x
		} else {
			stakes[i] = new(big.Rat)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return stakes[order[a]].Cmp(stakes[order[b]]) > 0 })
	return order, stakes
}

// totalStake is the summary's total, or the operators' sum without one.
func totalStake(r *Report) *big.Rat {
	if t, ok := parseRat(r.Summary.TotalStake); ok && t.Sign() > 0 {
		return t
	}
	t := new(big.Rat)
	for _, op := range r.Operators {
		if x, ok := parseRat(op.Stake); ok {
			t.Add(t, x)
		}
	}
	return t
}

func opChartOf(r *Report) opChart {
	const top = 34
	ops, opStakes := byStake(len(r.Operators), func(i int) string { return r.Operators[i].Stake })
	svcs, svcStakes := byStake(len(r.Services), func(i int) string { return r.Services[i].Stake })
	ops, svcs = ops[:min(len(ops), chartOperatorsMax)], svcs[:min(len(svcs), chartServicesMax)]
	rows := max(len(ops), len(svcs))
	c := opChart{Width: 920, Height: top + rows*hbarRowPx + 10}
	total, one := totalStake(r), big.NewRat(1, 1)
	for i, o := range ops {
		op := r.Operators[o]
		y := top + i*hbarRowPx
		b := opBar{Y: y, TextY: y + 10, Label: shorten(op.Address, chartAddressRunesMax),
			Lev: formatRatio(op.Leverage) + " · " + formatCount(int64(op.Services)), Share: "—"}
		b.StakeW = scalePx(opStakes[o], opStakes[ops[0]], 120)
		if total.Sign() > 0 {
			b.Share = percentText(new(big.Rat).Quo(opStakes[o], total))
		}
		if lev, ok := parseRat(op.Leverage); ok {
			b.LevW = scalePx(lev, one, 70)
			if lev.Cmp(one) >= 0 {
				b.LevCls = "bad"
			}
		}
		b.Title = fmt.Sprintf("%s: stake %s (%s), leverage %s, %s services", op.Address,
			formatUSD(op.Stake), b.Share, formatRatio(op.Leverage), formatCount(int64(op.Services)))
		c.Ops = append(c.Ops, b)
	}
	opY, svcY := map[string]int{}, map[string]int{}
	for i, o := range ops {
		opY[r.Operators[o].Address] = top + i*hbarRowPx + 6
	}
	for i, s := range svcs {
		svcY[r.Services[s].ID] = top + i*hbarRowPx + 6
	}
	var maxAlloc *big.Rat
	for _, e := range r.Edges {
		if a, ok := parseRat(e.Allocation); ok && (maxAlloc == nil || a.Cmp(maxAlloc) > 0) {
			maxAlloc = a
		}
	}
	for _, e := range r.Edges {
		y1, ok1 := opY[e.Operator]
		y2, ok2 := svcY[e.Service]
		a, ok3 := parseRat(e.Allocation)
		if !ok1 || !ok2 || !ok3 {
			continue
		}
		c.Edges = append(c.Edges, edgeLine{Y1: y1, Y2: y2, W: 1 + scalePx(a, maxAlloc, 4),
			Title: e.Operator + " → " + e.Service + ": " + formatUSD(e.Allocation)})
	}
	for i, s := range svcs {
		row := r.Services[s]
		y := top + i*hbarRowPx
		c.Svcs = append(c.Svcs, svcBar{Y: y, TextY: y + 10,
			W: scalePx(svcStakes[s], svcStakes[svcs[0]], 140), Label: shorten(row.ID, chartIDRunesMax),
			Title: row.ID + ": stake " + formatUSD(row.Stake),
			Stake: formatUSDShort(row.Stake)})
	}
	return c
}

func operatorsOf(r *Report) ([]operatorView, string) {
	order, stakes := byStake(len(r.Operators), func(i int) string { return r.Operators[i].Stake })
	note := ""
	if len(order) > operatorRowsMax {
		note = fmt.Sprintf("The %d largest of %s operators are listed; the JSON report has them all.",
			operatorRowsMax, formatCount(int64(len(order))))
		order = order[:operatorRowsMax]
	}
	total, one := totalStake(r), big.NewRat(1, 1)
	var views []operatorView
	for _, i := range order {
		op := r.Operators[i]
		v := operatorView{Address: op.Address, Stake: formatUSD(op.Stake), Share: "—",
			Allocated: formatUSD(op.Allocated), Leverage: formatRatio(op.Leverage),
			Services: formatCount(int64(op.Services)), Certificate: formatRatio(op.Certificate)}
		if total.Sign() > 0 {
			v.Share = percentText(new(big.Rat).Quo(stakes[i], total))
		}
		if lev, ok := parseRat(op.Leverage); ok && lev.Cmp(one) >= 0 {
			v.LevClass = "bad"
		}
		if t, ok := parseRat(op.Certificate); ok && t.Cmp(one) > 0 {
			v.CertClass = "bad"
		}
		views = append(views, v)
	}
	return views, note
}

// --- 7. Cascades ---

type cascadeView struct {
	Label, Shock, LostStake, LostShare, Attacks string
	Corrupted                                   []string
	MoreCorrupted                               int
	Exact                                       bool
}

func cascadesOf(rows []CascadeRow) (hbarChart, []cascadeView) {
	var views []cascadeView
	shares := make([]*big.Rat, len(rows))
	for i, c := range rows {
		if x, ok := parseRat(c.LostShare); ok {
			shares[i] = x
		} else {
			shares[i] = new(big.Rat)
		}
		v := cascadeView{Label: c.Label, Shock: formatCount(int64(len(c.Shock))),
			LostStake: formatUSD(c.LostStake), LostShare: formatPercent(c.LostShare),
			Attacks: formatCount(int64(c.Attacks)), Exact: c.Exact}
		v.Corrupted, v.MoreCorrupted = firstN(c.Corrupted, corruptedListedMax)
		views = append(views, v)
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return shares[order[a]].Cmp(shares[order[b]]) > 0 })
	order = order[:min(len(order), cascadeBarsMax)]
	c := newHbarChart("Share of all stake lost after each shock", 300, 380, len(order), false)
	one := big.NewRat(1, 1)
	for q := 0; q <= 4; q++ {
		c.Ticks = append(c.Ticks, chartTick{X: c.PlotX + c.PlotW*q/4, Label: strconv.Itoa(25*q) + "%"})
	}
	for i, k := range order {
		c.addBar(i, barValue{label: shorten(rows[k].Label, chartLabelRunesMax), title: rows[k].Label,
			value: shares[k], text: views[k].LostShare, class: "loss"}, one)
	}
	return c, views
}

// --- 8. R_psi ---

type rpsiView struct {
	Psi, WorstLoss, Bound, Shock string
	Exact                        bool
}

func rpsiOf(rows []risk.RPsiReport) []rpsiView {
	var views []rpsiView
	for _, r := range rows {
		v := rpsiView{Psi: formatPercent(r.Psi), WorstLoss: formatPercent(r.WorstLoss), Bound: "none",
			Shock: formatCount(int64(len(r.WorstShock))), Exact: r.Exact}
		if r.Bound != nil {
			v.Bound = formatPercent(*r.Bound)
		}
		views = append(views, v)
	}
	return views
}

// --- 9. Assets and layers ---

type assetView struct {
	Token, Amount, Price, PriceTime, Haircut, Value string
	Stale, Unpriced                                 bool
}

type layersView struct {
	Beacon, Restaked, Allocated, LRT, Multiplier string
}

func assetsOf(rows []AssetRow) []assetView {
	var views []assetView
	for _, a := range rows {
		v := assetView{Token: a.Token, Amount: formatTokens(a.Amount), Price: "no price", PriceTime: "—",
			Haircut: formatPercent(a.Haircut), Value: formatUSD(a.Value), Stale: a.Stale,
			Unpriced: a.PriceUSD == nil}
		if a.PriceUSD != nil {
			v.Price = formatUSD(*a.PriceUSD)
		}
		if a.PriceTime != 0 {
			v.PriceTime = civilDate(a.PriceTime)
		}
		views = append(views, v)
	}
	return views
}

// --- 10. Monte Carlo ---

type mcView struct {
	Trials, Seed, Probability, Slash, FailuresMean string
	Tails, Services                                []tailView
	ServicesNote                                   string
}

type tailView struct {
	ID, Mean, VaR95, ES95, VaR99, ES99, Max string
	Total                                   bool
}

func tailOf(id string, t TailRow, total bool) tailView {
	return tailView{ID: id, Mean: formatUSD(t.Mean), VaR95: formatUSD(t.VaR95),
		ES95: formatUSD(t.ES95), VaR99: formatUSD(t.VaR99), ES99: formatUSD(t.ES99),
		Max: formatUSD(t.Max), Total: total}
}

func monteCarloOf(m *MonteCarloRow) *mcView {
	if m == nil {
		return nil
	}
	v := &mcView{Trials: formatCount(int64(m.Trials)), Seed: strconv.FormatUint(m.Seed, 10),
		Probability: formatPercent(m.Probability), Slash: formatPercent(m.Slash),
		FailuresMean: formatRatio(m.FailuresMean)}
	v.Tails = append(v.Tails, tailOf("all stakers", m.Total, true))
	for _, g := range m.Groups {
		v.Tails = append(v.Tails, tailOf(g.ID, g.TailRow, false))
	}
	order, _ := byStake(len(m.Services), func(i int) string { return m.Services[i].ES99 })
	if len(order) > monteCarloServicesMax {
		v.ServicesNote = fmt.Sprintf("The %d of %s services with the largest ES99 are listed.",
			monteCarloServicesMax, formatCount(int64(len(order))))
		order = order[:monteCarloServicesMax]
	}
	for _, i := range order {
		v.Services = append(v.Services, tailOf(m.Services[i].ID, m.Services[i].TailRow, false))
	}
	return v
}

// --- 11. Undeclared sets ---

type setView struct {
	ID, Stake string
}

func undeclaredOf(rows []SetRow) ([]setView, string) {
	order, _ := byStake(len(rows), func(i int) string { return rows[i].Stake })
	note := ""
	if len(order) > undeclaredRowsMax {
		note = fmt.Sprintf("The %d largest of %s sets are listed.", undeclaredRowsMax,
			formatCount(int64(len(order))))
		order = order[:undeclaredRowsMax]
	}
	var views []setView
	for _, i := range order {
		views = append(views, setView{ID: rows[i].ID, Stake: formatUSD(rows[i].Stake)})
	}
	return views, note
}

// --- Numbers, without floating point ---

// parseRat reads one of the report's exact decimal strings.
func parseRat(s string) (*big.Rat, bool) {
	if s == "" {
		return nil, false
	}
	r, err := risk.ParseNumber(s)
	return r, err == nil
}

// unparsed is what a number that does not parse prints as.
func unparsed(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func pow10(n int) *big.Rat {
	return new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
}

// splitSign returns "-" for a negative r, and |r|.
func splitSign(r *big.Rat) (string, *big.Rat) {
	if r.Sign() < 0 {
		return "-", new(big.Rat).Neg(r)
	}
	return "", r
}

// groupDigits puts a comma between every three digits of a run of digits.
func groupDigits(d string) string {
	if len(d) <= 3 {
		return d
	}
	head := len(d) % 3
	if head == 0 {
		head = 3
	}
	var b strings.Builder
	b.WriteString(d[:head])
	for i := head; i < len(d); i += 3 {
		b.WriteByte(',')
		b.WriteString(d[i : i+3])
	}
	return b.String()
}

// fixed writes abs (not negative) with prec decimals, rounded half away
// from zero, thousands grouped; trim drops trailing zeros.
func fixed(abs *big.Rat, prec int, trim bool) string {
	ip, fp, _ := strings.Cut(abs.FloatString(prec), ".")
	if trim {
		fp = strings.TrimRight(fp, "0")
	}
	if fp == "" {
		return groupDigits(ip)
	}
	return groupDigits(ip) + "." + fp
}

// exponent10 is floor(log10(abs)) for abs > 0.
func exponent10(abs *big.Rat) int {
	if q := new(big.Int).Quo(abs.Num(), abs.Denom()); q.Sign() > 0 {
		return len(q.String()) - 1
	}
	e, x, ten := 0, new(big.Rat).Set(abs), big.NewRat(10, 1)
	for x.Cmp(big.NewRat(1, 1)) < 0 {
		x.Mul(x, ten)
		e--
	}
	return e
}

// formatUSD writes a dollar amount: thousands grouped and cents, no cents
// when they are zero ("1234567.891" is "$1,234,567.89", "5" is "$5").
func formatUSD(s string) string {
	r, ok := parseRat(s)
	if !ok {
		return unparsed(s)
	}
	sign, abs := splitSign(r)
	if abs.Sign() > 0 && abs.Cmp(big.NewRat(1, 200)) < 0 { // rounds to $0.00
		if sign == "" {
			return "<$0.01"
		}
		return ">-$0.01"
	}
	out := fixed(abs, 2, false)
	out = strings.TrimSuffix(out, ".00")
	return sign + "$" + out
}

// formatUSDShort writes a dollar amount in three significant digits with
// K, M, B or T ("4841727.3" is "$4.84M"), for chart labels.
func formatUSDShort(s string) string {
	r, ok := parseRat(s)
	if !ok {
		return unparsed(s)
	}
	sign, abs := splitSign(r)
	if abs.Cmp(big.NewRat(1000, 1)) < 0 {
		return formatUSD(s)
	}
	rounded := roundSignificant(abs, 3)
	suffixes := []string{"K", "M", "B", "T"}
	e := min(exponent10(rounded)/3, len(suffixes))
	return sign + "$" + ratioText(new(big.Rat).Quo(rounded, pow10(3*e))) + suffixes[e-1]
}

// roundSignificant rounds abs > 0 to n significant digits, half away from
// zero.
func roundSignificant(abs *big.Rat, n int) *big.Rat {
	p := n - 1 - exponent10(abs)
	x := new(big.Rat).Mul(abs, pow10Signed(p))
	x.Add(x, big.NewRat(1, 2))
	q := new(big.Int).Quo(x.Num(), x.Denom())
	return new(big.Rat).Quo(new(big.Rat).SetInt(q), pow10Signed(p))
}

func pow10Signed(p int) *big.Rat {
	if p >= 0 {
		return pow10(p)
	}
	return new(big.Rat).Inv(pow10(-p))
}

// formatRatio writes a ratio or fraction for reading: two decimals from
// 1 to 10, one to 100, none beyond (grouped), three significant digits
// below 1 ("0.666666666666666667" is "0.667"), and a power of ten below
// 0.001 ("1.23e-5").
func formatRatio(s string) string {
	r, ok := parseRat(s)
	if !ok {
		return unparsed(s)
	}
	return ratioText(r)
}

func ratioText(r *big.Rat) string {
	if r.Sign() == 0 {
		return "0"
	}
	sign, abs := splitSign(r)
	e := exponent10(abs)
	var out string
	switch {
	case e >= 2:
		out = fixed(abs, 0, true)
	case e >= -3: // two decimals from 1, three significant digits below
		out = fixed(abs, 2-e, true)
	default:
		m := roundSignificant(abs, 3)
		e = exponent10(m)
		out = fixed(new(big.Rat).Mul(m, pow10Signed(-e)), 2, true) + "e" + strconv.Itoa(e)
	}
	return sign + notRoundedTo(out, abs, "1", 1)
}

// nearMax is the most decimals notRoundedTo adds.
const nearMax = 5

// notRoundedTo keeps a value that is not exactly target from printing as
// target, as a cost ratio of 0.9996 must not read "1": it adds decimals
// (up to nearMax) until it no longer does, and past them says on which
// side of target the value is ("<1", ">100").
func notRoundedTo(out string, abs *big.Rat, target string, targetValue int64) string {
	c := abs.Cmp(big.NewRat(targetValue, 1))
	if out != target || c == 0 {
		return out
	}
	for prec := 1; prec <= nearMax && out == target; prec++ {
		out = fixed(abs, prec, true)
	}
	switch {
	case out != target:
		return out
	case c < 0:
		return "<" + target
	default:
		return ">" + target
	}
}

// formatPercent writes a fraction as a percentage: one decimal from 10%,
// two below ("0.05" is "5%", "0.666666666666666667" is "66.7%"), and
// "<0.01%" for a tiny one that is not zero.
func formatPercent(s string) string {
	r, ok := parseRat(s)
	if !ok {
		return unparsed(s)
	}
	return percentText(r)
}

func percentText(r *big.Rat) string {
	sign, abs := splitSign(new(big.Rat).Mul(r, big.NewRat(100, 1)))
	if abs.Sign() == 0 {
		return "0%"
	}
	prec := 2
	if abs.Cmp(big.NewRat(10, 1)) >= 0 {
		prec = 1
	}
	out := fixed(abs, prec, true)
	if out == "0" {
		if sign == "" {
			return "<0.01%"
		}
		return ">-0.01%"
	}
	return sign + notRoundedTo(out, abs, "100", 100) + "%"
}

// formatTokens writes an amount of 1e-18 token units in whole tokens, up
// to four decimals (three significant digits below one token).
func formatTokens(s string) string {
	r, ok := parseRat(s)
	if !ok {
		return unparsed(s)
	}
	sign, abs := splitSign(new(big.Rat).Quo(r, pow10(wadDigits)))
	if abs.Cmp(big.NewRat(1, 1)) >= 0 {
		return sign + fixed(abs, 4, true)
	}
	return sign + ratioText(abs)
}

// formatCount writes an integer with thousands grouped.
func formatCount(n int64) string {
	if n < 0 {
		return "-" + groupDigits(strconv.FormatInt(n, 10)[1:])
	}
	return groupDigits(strconv.FormatInt(n, 10))
}

// ceilInt is the least integer not below r, saturated to int64.
func ceilInt(r *big.Rat) int64 {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return 1 << 62
	}
	return q.Int64()
}

// scalePx is v as a length where full is px long: floor(v*px/full), in
// [0, px].
func scalePx(v, full *big.Rat, px int) int {
	if v == nil || full == nil || v.Sign() <= 0 || full.Sign() <= 0 {
		return 0
	}
	if v.Cmp(full) >= 0 {
		return px
	}
	x := new(big.Rat).Mul(v, big.NewRat(int64(px), 1))
	x.Quo(x, full)
	return int(new(big.Int).Quo(x.Num(), x.Denom()).Int64())
}

// shorten cuts the middle out of a long id ("0x103A600c539B…1A71a1a5:0"),
// keeping its start and its end, where the set number is.
func shorten(s string, runes int) string {
	rs := []rune(s)
	if len(rs) <= runes {
		return s
	}
	tail := (runes - 1) / 2
	head := runes - 1 - tail
	return string(rs[:head]) + "…" + string(rs[len(rs)-tail:])
}

// civilDate writes unix seconds as a UTC date and time. The core reads no
// clock and imports no time package, so the calendar is integer
// arithmetic: the inverse of the days-from-civil algorithm (H. Hinnant,
// "chrono-compatible low-level date algorithms"), proleptic Gregorian.
func civilDate(unix uint64) string {
	z := int64(unix/86_400) + 719_468 // days since 0000-03-01
	secs := unix % 86_400
	era := z / 146_097
	doe := z - era*146_097                                    // day of the era, [0, 146096]
	yoe := (doe - doe/1_460 + doe/36_524 - doe/146_096) / 365 // year of the era, [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)                  // day of the year from March 1
	mp := (5*doy + 2) / 153                                   // month from March, [0, 11]
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d UTC", year, month, day,
		secs/3600, secs/60%60, secs%60)
}

var pageTemplate = template.Must(template.New("report").Parse(pageHTML))

// pageHTML is the page. Every value in it comes from newPage, formatted;
// html/template escapes them, ids and labels included, as they come from
// users. The CSS and the charts are inline: the page loads nothing.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Restaking risk report at height {{.Height}}</title>
<style>
:root{color-scheme:light}
body{margin:0;background:#f6f7f9;color:#1d2330;
 font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:24px 20px 60px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:16px 0 4px;break-after:avoid}
h3{font-size:16px;margin:20px 0 4px;break-after:avoid}
section{background:#fff;border:1px solid #dfe3ea;border-radius:8px;
 padding:4px 20px 16px;margin-top:20px}
.explain{color:#4a5262;margin:0 0 12px;max-width:48em}
.note{color:#6a7282;font-size:13px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
th,td{padding:4px 8px;border-bottom:1px solid #e6e9ef;text-align:right;vertical-align:top}
th{background:#eef1f5;font-weight:600;position:sticky;top:0}
th:first-child,td:first-child,td.text,th.text{text-align:left}
tbody tr:nth-child(even){background:#fafbfc}
td.id,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
 word-break:break-all}
td.id{font-size:12px}
.good{color:#1b7a3a}.bad{color:#c62828}.warn{color:#a15c00}
tr.bad td{background:#fdecec}
.verdict{font-size:22px;font-weight:700;margin:8px 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0}
dl.facts dt{color:#4a5262}
dl.facts dd{margin:0;font-weight:600}
.pill{display:inline-block;padding:0 6px;border-radius:4px;background:#fdecec;color:#c62828;
 font-weight:600}
svg{max-width:100%;height:auto;display:block;margin:8px 0}
svg text{font-size:11px;fill:#1d2330;
 font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg text.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
svg text.tick,svg text.head{fill:#6a7282}
svg text.head{font-weight:600}
.bar{fill:#4a78b5}.bar.bad{fill:#c62828}.bar.loss{fill:#d9822b}.bar.stake{fill:#7c8aa5}
.grid{stroke:#e3e6ec;stroke-width:1}.axis{stroke:#9aa3b2;stroke-width:1}
.track{fill:#eef1f5}.edge{stroke:#4a78b5;stroke-opacity:.35}
.ref{stroke:#c62828;stroke-width:2;stroke-dasharray:4 3}
.curve{fill:none;stroke:#4a78b5;stroke-width:2}.diag{stroke:#9aa3b2;stroke-dasharray:4 3}
ul.ids{margin:4px 0;padding-left:20px;font-size:13px}
@media print{
 body{background:#fff;font-size:12px}
 main{max-width:none;padding:0}
 section{border:none;padding:0}
 svg,tr{break-inside:avoid}
 th{position:static}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
</style>
</head>
<body>
<main>
<h1>Restaking risk report</h1>
<p class="note">Block height {{.Height}} · time {{.Time}} ({{.Date}}) · amounts in US dollars</p>

<section>
<h2>Summary</h2>
<p class="explain">Whether any group of operators could earn more by attacking services than
it would lose to slashing, and the numbers behind the answer.</p>
{{with .Summary}}
<p class="verdict {{.VerdictClass}}">{{.Verdict}}</p>
<p>{{.Proof}}</p>
<dl class="facts">
<dt>Total stake</dt><dd>{{.TotalStake}}</dd>
<dt>Services · operators</dt><dd>{{.Services}} · {{.Operators}}</dd>
<dt>Safety slack γ*</dt><dd class="{{.GammaClass}}">{{.GammaStar}}</dd>
<dt>Services with negative margin</dt>
<dd{{if .Underwater}} class="bad"{{end}}>{{.Underwater}}</dd>
<dt>Services with no stake</dt>
<dd>{{if .Unsecured}}<span class="bad">{{len .Unsecured}}:</span>
{{range .Unsecured}}<span class="mono">{{.}}</span> {{end}}{{else}}none{{end}}</dd>
<dt>Stale prices</dt>
<dd>{{range .Stale}}<span class="pill">{{.}}</span> {{else}}none{{end}}</dd>
<dt>Tokens without a price</dt>
<dd>{{range .Unpriced}}<span class="pill">{{.}}</span> {{else}}none{{end}}</dd>
</dl>
<p class="note">γ* is how much room the proof of security has: if it is 0 or more, profits
from attacks could grow by a factor of 1 + γ* before any attack paid; below 0 this simple
proof fails, which alone does not mean an attack exists. A negative margin means that
corrupting the service costs less than it yields.</p>
{{with .Attack}}
<h3 class="bad">Most profitable attack found</h3>
<p>These operators, acting together, could corrupt these services and take {{.Profit}}, for
a cost (their stake slashed) of {{.Cost}}{{if .Gain}}: a gain of <b>{{.Gain}}</b>{{end}}.</p>
<p>Services:</p>
<ul class="ids mono">{{range .Services}}<li>{{.}}</li>{{end}}
{{if .MoreServices}}<li>and {{.MoreServices}} more</li>{{end}}</ul>
<p>Operators:</p>
<ul class="ids mono">{{range .Validators}}<li>{{.}}</li>{{end}}
{{if .MoreValidators}}<li>and {{.MoreValidators}} more</li>{{end}}</ul>
{{else}}<p>No profitable attack was found.</p>{{end}}
{{end}}
</section>

<section>
<h2>Security margin per service</h2>
<p class="explain">For each service, what it would cost to corrupt it divided by what
corrupting it would yield: below 1 (red, left of the dashed line) an attacker makes a
profit.</p>
{{if .Margin.Bars}}{{template "hbars" .Margin}}
<p class="note">The {{len .Margin.Bars}} lowest ratios, lowest first; hover a bar for the
full id.</p>
{{else}}<p class="note">No service has a cost ratio.</p>{{end}}
</section>

<section>
<h2>Services</h2>
<p class="explain">Every service with the stake securing it, the share of that stake an
attacker must control (threshold), what an attacker would gain (profit) and lose (cost),
lowest cost ratio first.</p>
{{if .Services}}<table>
<thead><tr><th>Service</th><th>Stake</th><th>Threshold</th><th>Profit from corruption</th>
<th>Cost to corrupt</th><th>Margin</th><th>Cost ratio</th><th>Validators</th></tr></thead>
<tbody>{{range .Services}}<tr class="{{.Class}}"><td class="id">{{.ID}}</td>
<td>{{.Stake}}</td><td>{{.Threshold}}</td><td>{{.Profit}}</td><td>{{.Cost}}</td>
<td class="{{.MarginClass}}">{{.Margin}}</td><td class="{{.Class}}">{{.Ratio}}</td>
<td>{{.Validators}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="note">No services.</p>{{end}}
</section>

<section>
<h2>Leverage</h2>
<p class="explain">Leverage is the part of an operator's stake that services can slash
(allocated ÷ stake): at 1 all of it is at risk; the chart counts operators per tenth.</p>
{{with .Leverage}}
<dl class="facts"><dt>Network</dt><dd>{{.Network}}</dd>
<dt>Median operator (p50)</dt><dd>{{.P50}}</dd>
<dt>90th percentile (p90)</dt><dd>{{.P90}}</dd><dt>Highest</dt><dd>{{.Max}}</dd></dl>
{{if .Chart.Bars}}{{with .Chart}}{{$h := .}}
<svg class="chart" width="{{.Width}}" height="{{.Height}}"
 viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="Operators per leverage bucket">
<line class="axis" x1="{{.Left}}" y1="{{.Base}}" x2="{{.Right}}" y2="{{.Base}}"/>
{{range .Bars}}<g><title>{{.Label}}: {{.Count}} operators</title>
<rect class="bar {{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"/>
<text x="{{.MidX}}" y="{{.CountY}}" text-anchor="middle">{{.Count}}</text>
<text class="tick" x="{{.MidX}}" y="{{$h.Base}}" dy="16" text-anchor="middle">{{.Label}}</text>
</g>
{{end}}</svg>{{end}}{{else}}<p class="note">No operators.</p>{{end}}
{{end}}
</section>

<section>
<h2>Concentration</h2>
<p class="explain">How much of the stake the largest holders control: the further the curve
rises above the dashed diagonal (everyone equal), the fewer operators it takes to control
most of the stake.</p>
{{with .Conc.Curve}}{{$c := .}}{{if .Empty}}<p class="note">No stake.</p>{{else}}
<svg class="chart" width="380" height="370" viewBox="0 0 380 370" role="img"
 aria-label="Cumulative share of stake held by the largest operators">
{{range .Ticks}}<line class="grid" x1="{{.X}}" y1="{{$c.Top}}" x2="{{.X}}" y2="{{$c.Bottom}}"/>
<line class="grid" x1="{{$c.Left}}" y1="{{.Y}}" x2="{{$c.Right}}" y2="{{.Y}}"/>
<text class="tick" x="{{.X}}" y="{{$c.Bottom}}" dy="14" text-anchor="middle">{{.Label}}</text>
<text class="tick" x="{{$c.Left}}" y="{{.Y}}" dx="-4" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}<line class="diag" x1="{{.Left}}" y1="{{.Bottom}}" x2="{{.Right}}" y2="{{.Top}}"/>
<polyline class="curve" fill="none" points="{{.Points}}"/>
<text class="tick" x="{{.Left}}" y="{{.Bottom}}" dy="34">share of operators, largest first →</text>
<text class="tick" x="12" y="{{.Bottom}}" transform="rotate(-90 12 {{.Bottom}})">share of
stake →</text>
</svg>{{end}}{{end}}
<table>
<thead><tr><th>Of</th><th>HHI</th><th>Effective number</th><th>Gini</th>
<th>Nakamoto ⅓</th><th>Nakamoto ½</th><th>Nakamoto ⅔</th><th>Top 5 share</th></tr></thead>
<tbody>{{range .Conc.Rows}}<tr><td>{{.Name}}</td><td>{{.HHI}}</td><td>{{.Effective}}</td>
<td>{{.Gini}}</td><td>{{.N13}}</td><td>{{.N12}}</td><td>{{.N23}}</td><td>{{.Top5}}</td></tr>
{{end}}</tbody></table>
<p class="note">HHI runs from near 0 (spread out) to 10,000 (one holder); the effective
number is how many equal holders would be as concentrated; Gini is 0 when all are equal and
near 1 when one holds all; Nakamoto ⅓, ½ and ⅔ are the fewest holders that together have
more than that share.</p>
</section>

<section>
<h2>Operators and services</h2>
<p class="explain">The largest operators (left: share of all stake, then leverage and number
of services) and the services with the most stake behind them (right).</p>
{{with .OpChart}}{{if or .Ops .Svcs}}
<svg class="chart" width="{{.Width}}" height="{{.Height}}"
 viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="Largest operators and services">
<text class="head" x="150" y="14" text-anchor="end">Operator</text>
<text class="head" x="156" y="14">stake share</text>
<text class="head" x="325" y="14">leverage · services</text>
<text class="head" x="660" y="14" text-anchor="end">Service</text>
<text class="head" x="666" y="14">stake</text>
{{range .Edges}}<line class="edge" x1="470" y1="{{.Y1}}" x2="520" y2="{{.Y2}}" stroke-width="{{.W}}"><title>{{.Title}}</title></line>
{{end}}{{range .Ops}}<g><title>{{.Title}}</title>
<text class="mono" x="150" y="{{.TextY}}" text-anchor="end">{{.Label}}</text>
<rect class="bar stake" x="156" y="{{.Y}}" width="{{.StakeW}}" height="12"/>
<text x="280" y="{{.TextY}}">{{.Share}}</text>
<rect class="track" x="325" y="{{.Y}}" width="70" height="12"/>
<rect class="bar {{.LevCls}}" x="325" y="{{.Y}}" width="{{.LevW}}" height="12"/>
<text x="400" y="{{.TextY}}">{{.Lev}}</text></g>
{{end}}{{range .Svcs}}<g><title>{{.Title}}</title>
<text class="mono" x="660" y="{{.TextY}}" text-anchor="end">{{.Label}}</text>
<rect class="bar" x="666" y="{{.Y}}" width="{{.W}}" height="12"/>
<text x="812" y="{{.TextY}}">{{.Stake}}</text></g>
{{end}}</svg>
<p class="note">Up to {{len .Ops}} operators and {{len .Svcs}} services, largest first; a line
joins an operator to a service it secures, thicker for a larger allocation (hover for the
amount). The whole graph is at <code>/v1/risk/graph</code>, in the format
<code>restake risk analyze</code> reads.</p>
{{else}}<p class="note">No operators or services.</p>{{end}}{{end}}
{{if .Operators}}<h3>Largest operators</h3>
{{if .OperatorsNote}}<p class="note">{{.OperatorsNote}}</p>{{end}}
<table>
<thead><tr><th>Operator</th><th>Stake</th><th>Share</th><th>Allocated</th><th>Leverage</th>
<th>Services</th><th>Certificate T</th></tr></thead>
<tbody>{{range .Operators}}<tr><td class="id">{{.Address}}</td><td>{{.Stake}}</td>
<td>{{.Share}}</td><td>{{.Allocated}}</td><td class="{{.LevClass}}">{{.Leverage}}</td>
<td>{{.Services}}</td><td class="{{.CertClass}}">{{.Certificate}}</td></tr>
{{end}}</tbody></table>
<p class="note">Certificate T is the operator's part of the proof of security: at most 1 for
every operator proves that no attack pays.</p>{{end}}
</section>

<section>
<h2>Cascades after shocks</h2>
<p class="explain">If some operators suddenly lost their stake (the shock), attacks that were
not worth it may become profitable, and so on: this is the share of all stake lost in the
end.</p>
{{if .CascadeChart.Bars}}{{template "hbars" .CascadeChart}}
<p class="note">The {{len .CascadeChart.Bars}} worst shocks, worst first.</p>{{end}}
{{if .Cascades}}<table>
<thead><tr><th>Shock</th><th>Operators shocked</th><th>Stake lost</th><th>Share lost</th>
<th>Attacks</th><th class="text">Services corrupted</th></tr></thead>
<tbody>{{range .Cascades}}<tr>
<td>{{.Label}}{{if not .Exact}} <span class="note">(greedy)</span>{{end}}</td>
<td>{{.Shock}}</td><td>{{.LostStake}}</td><td>{{.LostShare}}</td><td>{{.Attacks}}</td>
<td class="text mono">{{range .Corrupted}}{{.}}<br>{{else}}none{{end}}
{{if .MoreCorrupted}}and {{.MoreCorrupted}} more{{end}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="note">No cascades.</p>{{end}}
</section>

<section>
<h2>Worst loss per shock size (R<sub>ψ</sub>)</h2>
<p class="explain">If a shock wiped out ψ of all stake, R<sub>ψ</sub> is the most stake that
could be lost in total once the attacks it makes profitable are carried out; Theorem 1 caps
it when the certificate allows.</p>
{{if .RPsi}}<table>
<thead><tr><th>Shock size ψ</th><th>Worst loss R<sub>ψ</sub></th><th>Theorem 1 bound</th>
<th>Search</th><th>Operators in the worst shock</th></tr></thead>
<tbody>{{range .RPsi}}<tr><td>{{.Psi}} of stake</td><td>{{.WorstLoss}}</td><td>{{.Bound}}</td>
<td>{{if .Exact}}exact{{else}}lower bound{{end}}</td><td>{{.Shock}}</td></tr>
{{end}}</tbody></table>
<p class="note">"lower bound": the search was not exhaustive, the true worst loss may be
higher. The bound exists only when every operator puts all its stake behind every service it
secures and γ* is above 0.</p>
{{else}}<p class="note">No shock sizes.</p>{{end}}
</section>

<section>
<h2>Assets and layers</h2>
<p class="explain">The tokens restaked, what they are worth after a safety discount
(haircut) for price risk, and whether their price is recent.</p>
{{if .Assets}}<table>
<thead><tr><th>Token</th><th>Amount (tokens)</th><th>Price</th><th>Price time</th>
<th>Haircut</th><th>Value</th></tr></thead>
<tbody>{{range .Assets}}<tr{{if or .Stale .Unpriced}} class="bad"{{end}}><td>{{.Token}}</td>
<td>{{.Amount}}</td>
<td>{{if .Unpriced}}<span class="pill">no price</span>{{else}}{{.Price}}{{end}}</td>
<td>{{.PriceTime}}{{if .Stale}} <span class="pill">stale</span>{{end}}</td>
<td>{{.Haircut}}</td><td>{{.Value}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="note">No assets.</p>{{end}}
{{with .Layers}}<h3>The same ether, pledged several times</h3>
<p class="explain">Ether staked on the beacon chain can be restaked and then allocated to
services, so the same ether is pledged {{.Multiplier}} times over on average.</p>
<table><thead><tr><th>Layer</th><th>Value</th></tr></thead><tbody>
<tr><td>Staked on the beacon chain (ETH and liquid staking tokens)</td><td>{{.Beacon}}</td></tr>
<tr><td>Restaked</td><td>{{.Restaked}}</td></tr>
<tr><td>Allocated to services (slashable)</td><td>{{.Allocated}}</td></tr>
<tr><td>Held through liquid restaking tokens</td><td>{{.LRT}}</td></tr>
<tr><td>Multiplier (all pledges ÷ restaked)</td><td>{{.Multiplier}}</td></tr>
</tbody></table>{{end}}
</section>

{{with .MonteCarlo}}<section>
<h2>Monte Carlo of service failures</h2>
<p class="explain">A simulation in which services fail at random and slash the stake
allocated to them: the average loss per trial, and the loss in the worst 5% and 1% of
trials.</p>
<dl class="facts"><dt>Trials</dt><dd>{{.Trials}}</dd><dt>Seed</dt><dd>{{.Seed}}</dd>
<dt>Chance a service fails</dt><dd>{{.Probability}} per trial</dd>
<dt>Slashed when it does</dt><dd>{{.Slash}} of the stake allocated to it</dd>
<dt>Failures per trial, on average</dt><dd>{{.FailuresMean}}</dd></dl>
<table>
<thead><tr><th>Loss of</th><th>Mean</th><th>VaR 95%</th><th>ES 95%</th><th>VaR 99%</th>
<th>ES 99%</th><th>Max</th></tr></thead>
<tbody>{{range .Tails}}<tr>
<td>{{if .Total}}<b>{{.ID}}</b>{{else}}holders of {{.ID}}{{end}}</td>
<td>{{.Mean}}</td><td>{{.VaR95}}</td><td>{{.ES95}}</td><td>{{.VaR99}}</td><td>{{.ES99}}</td>
<td>{{.Max}}</td></tr>
{{end}}</tbody></table>
<p class="note">VaR 95% is the loss exceeded in only 5% of trials; ES 95% is the average loss
in those worst 5% (likewise for 99%).</p>
{{if .Services}}<h3>Services by expected shortfall (ES 99%)</h3>
{{if .ServicesNote}}<p class="note">{{.ServicesNote}}</p>{{end}}
<table>
<thead><tr><th>Service</th><th>Mean</th><th>VaR 95%</th><th>ES 95%</th><th>VaR 99%</th>
<th>ES 99%</th><th>Max</th></tr></thead>
<tbody>{{range .Services}}<tr><td class="id">{{.ID}}</td><td>{{.Mean}}</td>
<td>{{.VaR95}}</td><td>{{.ES95}}</td><td>{{.VaR99}}</td><td>{{.ES99}}</td><td>{{.Max}}</td></tr>
{{end}}</tbody></table>{{end}}
</section>{{end}}

<section>
<h2>Undeclared operator sets</h2>
<p class="explain">Stake allocated to operator sets whose service declared no risk (no profit
from corruption): the engine cannot price their security, so they are left out of everything
above.</p>
{{if .Undeclared}}{{if .UndeclaredNote}}<p class="note">{{.UndeclaredNote}}</p>{{end}}
<table><thead><tr><th>Operator set</th><th>Stake</th></tr></thead>
<tbody>{{range .Undeclared}}<tr><td class="id">{{.ID}}</td><td>{{.Stake}}</td></tr>
{{end}}</tbody></table>
{{else}}<p>None: every operator set with stake declared its risk.</p>{{end}}
</section>
</main>
</body>
</html>
{{define "hbars"}}<svg class="chart" width="{{.Width}}" height="{{.Height}}"
 viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Ticks}}<line class="grid" x1="{{.X}}" y1="{{$.Top}}" x2="{{.X}}" y2="{{$.Bottom}}"/>
<text class="tick" x="{{.X}}" y="{{$.TickY}}" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Bars}}<g><title>{{.Title}}</title>
<text{{if $.Mono}} class="mono"{{end}} x="{{$.LabelX}}" y="{{.TextY}}"
 text-anchor="end">{{.Label}}</text>
<rect class="bar {{.Class}}" x="{{$.PlotX}}" y="{{.Y}}" width="{{.W}}" height="12"/>
<text x="{{.ValueX}}" y="{{.TextY}}">{{.Value}}</text></g>
{{end}}{{with .Ref}}<line class="ref" x1="{{.X}}" y1="{{$.Top}}" x2="{{.X}}" y2="{{$.Bottom}}"/>
{{end}}</svg>{{end}}`
