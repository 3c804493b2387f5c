package riskreport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/riskgraph"
)

func TestFormatUSD(t *testing.T) {
	for in, want := range map[string]string{
		"1234567.891":                    "$1,234,567.89",
		"5":                              "$5",
		"5.5":                            "$5.50",
		"0":                              "$0",
		"999":                            "$999",
		"999.995":                        "$1,000",
		"0.005":                          "$0.01",
		"0.001":                          "<$0.01",
		"-0.001":                         ">-$0.01",
		"-987340.532701":                 "-$987,340.53",
		"2/3":                            "$0.67",
		"30100228.737831":                "$30,100,228.74",
		"123456789012345678901234567890": "$123,456,789,012,345,678,901,234,567,890",
		"":                               "—",
		"not a number":                   "not a number",
	} {
		if got := formatUSD(in); got != want {
			t.Errorf("formatUSD(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatUSDShort(t *testing.T) {
	for in, want := range map[string]string{
		"4841727.299116":       "$4.84M",
		"999999":               "$1M",
		"1234":                 "$1.23K",
		"12.5":                 "$12.50",
		"-2500000000":          "-$2.5B",
		"7e3":                  "7e3", // exponents are refused, printed as they are
		"12345678901234567890": "$12,300,000T",
	} {
		if got := formatUSDShort(in); got != want {
			t.Errorf("formatUSDShort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatRatio(t *testing.T) {
	for in, want := range map[string]string{
		"0.666666666666666667":    "0.667",
		"0.625665000516822925":    "0.626",
		"1.76356011173060014":     "1.76",
		"12.345":                  "12.3",
		"2218.96839255501564":     "2,219",
		"0.00123456":              "0.00123",
		"0.0000123456":            "1.23e-5",
		"0.00000999999":           "1e-5",
		"0.99996":                 "0.99996", // not "1": it is below 1
		"1.00004":                 "1.00004",
		"0.999999999997547588":    "<1",
		"1.0000001":               ">1",
		"1":                       "1",
		"0":                       "0",
		"-0.5":                    "-0.5",
		"-0.388111151122927212":   "-0.388",
		"100000000000000000000.5": "100,000,000,000,000,000,001",
		"123456789.5":             "123,456,790",
		"2/3":                     "0.667",
		"":                        "—",
	} {
		if got := formatRatio(in); got != want {
			t.Errorf("formatRatio(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatPercent(t *testing.T) {
	for in, want := range map[string]string{
		"0.05":                 "5%",
		"0.666666666666666667": "66.7%",
		"0.001234":             "0.12%",
		"0.0000001":            "<0.01%",
		"-0.0000001":           ">-0.01%",
		"0":                    "0%",
		"1":                    "100%",
		"0.99999":              "99.999%", // not "100%"
		"0.99999999":           "<100%",
		"-0.25":                "-25%",
		"2.5":                  "250%",
		"123.456":              "12,345.6%",
	} {
		if got := formatPercent(in); got != want {
			t.Errorf("formatPercent(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormatTokensAndCounts(t *testing.T) {
	for in, want := range map[string]string{
		"7360000000000000000000":      "7,360",
		"1500000000000000000":         "1.5",
		"1":                           "1e-18",
		"123456789123456789123456789": "123,456,789.1235",
		"0":                           "0",
	} {
		if got := formatTokens(in); got != want {
			t.Errorf("formatTokens(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567",
		-1234: "-1,234"} {
		if got := formatCount(in); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestShorten(t *testing.T) {
	id := "0x103A600c539Bb96F1d3922d2676cD4A11A71a1a5:0"
	if got, want := shorten(id, 28), "0x103A600c539B…4A11A71a1a5:0"; got != want {
		t.Errorf("shorten = %q, want %q", got, want)
	}
	if got := shorten("short:1", 28); got != "short:1" {
		t.Errorf("shorten(short) = %q", got)
	}
	if got := shorten("ééééééééé", 5); got != "éé…éé" {
		t.Errorf("shorten(runes) = %q", got)
	}
}

func TestCivilDate(t *testing.T) {
	for in, want := range map[uint64]string{
		0:            "1970-01-01 00:00:00 UTC",
		1767225600:   "2026-01-01 00:00:00 UTC",
		1767311999:   "2026-01-01 23:59:59 UTC",
		951782400:    "2000-02-29 00:00:00 UTC",
		1709164800:   "2024-02-29 00:00:00 UTC",
		4102444799:   "2099-12-31 23:59:59 UTC",
		253402300799: "9999-12-31 23:59:59 UTC",
	} {
		if got := civilDate(in); got != want {
			t.Errorf("civilDate(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestScale(t *testing.T) {
	if got := scalePx(big.NewRat(1, 3), big.NewRat(1, 1), 300); got != 100 {
		t.Errorf("scalePx(1/3) = %d", got)
	}
	if got := scalePx(big.NewRat(5, 1), big.NewRat(2, 1), 440); got != 440 {
		t.Errorf("scalePx past full = %d", got)
	}
	if got := scalePx(big.NewRat(-1, 1), big.NewRat(2, 1), 440); got != 0 {
		t.Errorf("scalePx negative = %d", got)
	}
	if ceilInt(big.NewRat(7, 2)) != 4 || ceilInt(big.NewRat(3, 1)) != 3 ||
		ceilInt(big.NewRat(-7, 2)) != -3 {
		t.Error("ceilInt")
	}
}

// handmadeJSON is a report as /v1/risk serves it, with a service below a
// cost ratio of 1 whose id needs escaping, a service without a cost, a
// stale and an unpriced token, R_psi with and without a bound, and a
// Monte Carlo.
const handmadeJSON = `{
 "height": 1234567, "time": 1767225600, "unit": "USD",
 "summary": {"services": 3, "operators": 3, "total_stake": "1234567.891", "secure": false,
   "exact": false,
  "secure_certified": false, "gamma_star": "-0.25", "services_with_negative_margin": 1,
  "unsecured_services": [], "stale_prices": ["stETH"], "unpriced_tokens": ["XYZ"]},
 "services": [
  {"id": "0x103A600c539Bb96F1d3922d2676cD4A11A71a1a5:1", "stake": "1000000",
   "threshold": "0.666666666666666667",
   "profit": "100000", "cost_to_corrupt": "666666.666666666666666667",
   "margin": "566666.666666666666666667",
   "cost_ratio": "6.66666666666666667", "validators": 3},
  {"id": "<b>&\"x", "stake": "200000", "threshold": "0.5", "profit": "200000",
   "cost_to_corrupt": "100000",
   "margin": "-100000", "cost_ratio": "0.5", "validators": 2},
  {"id": "0xbbbb:3", "stake": "0", "threshold": "0.5", "profit": "1", "cost_to_corrupt": null,
   "margin": null,
   "cost_ratio": null, "validators": 0}
 ],
 "operators": [
  {"address": "0x01", "stake": "234567.891", "allocated": "100000", "leverage": "0.426",
   "services": 1,
   "certificate": "0.5"},
  {"address": "0x02", "stake": "600000", "allocated": "500000", "leverage": "0.833333333333333333",
   "services": 2, "certificate": "1.25"},
  {"address": "<op>", "stake": "400000", "allocated": "380000", "leverage": "0.95", "services": 2,
   "certificate": "0.9"}
 ],
 "undeclared_sets": [{"id": "0xcccc:7", "stake": "5000"}],
 "assets": [
  {"token": "ETH", "amount": "7360000000000000000000", "price_usd": "3558.15",
   "price_time": 1767225600,
   "stale": false, "haircut": "0", "value": "26187984"},
  {"token": "stETH", "amount": "1500000000000000000", "price_usd": "3500", "price_time": 1767000000,
   "stale": true, "haircut": "0.02", "value": "5145"},
  {"token": "XYZ", "amount": "1", "price_usd": null, "stale": false, "haircut": "0", "value": "0"}
 ],
 "leverage": {"network": "0.5", "p50": "0.4", "p90": "0.9", "max": "0.95",
  "histogram": [0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0]},
 "layers": {"beacon": "1000000", "restaked": "1234567.891", "allocated": "980000", "lrt": "0",
  "multiplier": "2.60321864411446211"},
 "concentration": {
  "operators": {"hhi": "3500.5", "effective_count": "2.857", "gini": "0.2", "nakamoto_1_3": 1,
   "nakamoto_1_2": 2, "nakamoto_2_3": 2, "top5_share": "1"},
  "services": {"hhi": "7000", "effective_count": "1.43", "gini": "0.5", "nakamoto_1_3": 1,
   "nakamoto_1_2": 1, "nakamoto_2_3": 2, "top5_share": "1"},
  "assets": {"hhi": "9990", "effective_count": "1", "gini": "0.66", "nakamoto_1_3": 1,
   "nakamoto_1_2": 1, "nakamoto_2_3": 1, "top5_share": "1"},
  "operator_curve": ["0.486", "0.81", "1"]},
 "cascades": [
  {"label": "the 2 largest operators", "shock": ["0x02", "<op>"], "lost_stake": "1000000",
   "lost_share": "0.81", "attacks": 2, "corrupted_services": ["<b>&\"x",
   "0x103A600c539Bb96F1d3922d2676cD4A11A71a1a5:1"],
   "exact": true},
  {"label": "operator 0x01", "shock": ["0x01"], "lost_stake": "0", "lost_share": "0", "attacks": 0,
   "corrupted_services": [], "exact": false}
 ],
 "r_psi": [
  {"psi": "0.01", "worst_loss": "0.05", "bound": "0.3", "exact": true, "worst_shock": ["0x01"]},
  {"psi": "0.1", "worst_loss": "0.6", "bound": null, "exact": false, "worst_shock": []}
 ],
 "monte_carlo": {"trials": 200, "seed": 1, "probability": "0.05", "slash": "0.25",
   "failures_mean": "0.345",
  "total": {"mean": "209008.861464105", "var_95": "864158.860794", "es_95": "1302841.49005018182",
   "var_99": "1625980.61770875", "es_99": "1775615.38744641667", "max": "1920076.228737"},
  "groups": [{"id": "ETH", "mean": "1", "var_95": "2", "es_95": "3", "var_99": "4", "es_99": "5",
   "max": "6"}],
  "services": [
   {"id": "<b>&\"x", "mean": "1", "var_95": "2", "es_95": "3", "var_99": "4", "es_99": "5",
   "max": "6"},
   {"id": "0xbbbb:3", "mean": "1", "var_95": "2", "es_95": "3", "var_99": "4", "es_99": "50",
   "max": "60"}]},
 "profitable_attack": {"services": ["<b>&\"x"], "validators": ["0x01", "<op>"], "profit": "200000",
  "cost": "100000"}
}`

func decodeReport(t *testing.T, s string) *Report {
	t.Helper()
	var r Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func render(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkSelfContained fails on anything that would load from elsewhere.
func checkSelfContained(t *testing.T, out string) {
	t.Helper()
	if !strings.HasPrefix(out, "<!DOCTYPE html>") {
		t.Errorf("the page starts with %q", out[:min(40, len(out))])
	}
	bare := strings.ReplaceAll(out, "http://www.w3.org/2000/svg", "")
	for _, ref := range []string{"<script", "http://", "https://", "<link", "<img", "<iframe", "url(",
		"@import", "src=", "href="} {
		if strings.Contains(bare, ref) {
			t.Errorf("the page is not self-contained: it has %q", ref)
		}
	}
}

func TestWriteHTML(t *testing.T) {
	out := render(t, decodeReport(t, handmadeJSON))
	checkSelfContained(t, out)
	if strings.Count(out, "<svg") < 5 {
		t.Errorf("%d charts, want 5", strings.Count(out, "<svg"))
	}
	// User-chosen ids are escaped, never markup.
	if strings.Contains(out, `<b>&"x`) || strings.Contains(out, "<op>") ||
		strings.Contains(out, "<b>&amp;") {
		t.Error("an id was written unescaped")
	}
	if !strings.Contains(out, "&lt;b&gt;&amp;&#34;x") || !strings.Contains(out, "&lt;op&gt;") {
		t.Error("the escaped ids are missing")
	}
	// The service below 1 is red, in the chart and in the table, and it
	// alone: no operator has a leverage of 1.
	if n := strings.Count(out, `class="bar bad"`); n != 1 {
		t.Errorf("%d red bars, want 1 (the service below 1)", n)
	}
	if !strings.Contains(out, `<tr class="bad"><td class="id">&lt;b&gt;&amp;&#34;x</td>`) {
		t.Error("the service below 1 is not a red row")
	}
	// The services table is sorted by cost ratio, without one last.
	table := out[strings.Index(out, "<h2>Services</h2>"):strings.Index(out, "<h2>Leverage</h2>")]
	low := strings.Index(table, "&lt;b&gt;")
	high := strings.Index(table, "0x103A600c539Bb96F1d3922d2676cD4A11A71a1a5:1")
	none := strings.Index(table, "0xbbbb:3")
	if low < 0 || high < low || none < high {
		t.Errorf("services table order: %d %d %d", low, high, none)
	}
	for _, want := range []string{
		"Not secure", "$1,234,567.89", "1,234,567", "2026-01-01 00:00:00 UTC", "-0.25", // summary
		"6.67", "0.5", ">1<", // margin chart: the reference line's tick and the ratios
		"66.7%", "-$100,000", "—", // services table
		"≥ 1", "0.95", // leverage
		"3,501", "2.86", "polyline", // concentration
		"48.6%", "0.833 · 2", // operators: a share of the total stake and leverage · services
		"The 2 largest operators", "81%", "(greedy)", // cascades
		"30%", "none", "lower bound", "exact", // R_psi
		"7,360", "1.5", "2.6", `<span class="pill">stale</span>`, // assets
		`<span class="pill">no price</span>`,
		"Monte Carlo", "$1,775,615.39", "holders of ETH", // Monte Carlo
		"0xcccc:7", "$5,000", // undeclared
	} {
		lower := strings.ToLower(out)
		if !strings.Contains(out, want) && !strings.Contains(lower, strings.ToLower(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The sections come in order.
	last := -1
	for _, h := range []string{"Summary", "Security margin per service", "Services</h2>",
		"Leverage</h2>", "Concentration</h2>", "Operators and services", "Cascades after shocks",
		"Worst loss per shock size", "Assets and layers", "Monte Carlo", "Undeclared operator sets"} {
		i := strings.Index(out, h)
		if i <= last {
			t.Errorf("section %q at %d, after %d", h, i, last)
		}
		last = i
	}
	// Monte Carlo services by ES99, largest first.
	mc := out[strings.Index(out, "Services by expected shortfall"):]
	if strings.Index(mc, "0xbbbb:3") > strings.Index(mc, "&lt;b&gt;") {
		t.Error("Monte Carlo services are not by ES99")
	}
	if again := render(t, decodeReport(t, handmadeJSON)); again != out {
		t.Error("the same report rendered twice differently")
	}
}

func TestWriteHTMLEmpty(t *testing.T) {
	empty := `{"height": 0, "time": 0, "unit": "USD", "summary": {"services": 0, "operators": 0,
	 "total_stake": "0", "secure": true, "exact": true, "secure_certified": true, "gamma_star": null,
	 "services_with_negative_margin": 0, "unsecured_services": [], "stale_prices": [],
	 "unpriced_tokens": []},
	 "services": [], "operators": [], "undeclared_sets": [], "assets": [],
	 "leverage": {"network": "0", "p50": "0", "p90": "0", "max": "0",
	  "histogram": [0,0,0,0,0,0,0,0,0,0,0]},
	 "layers": {"beacon": "0", "restaked": "0", "allocated": "0", "lrt": "0", "multiplier": "0"},
	 "concentration": {"operators": {}, "services": {}, "assets": {}, "operator_curve": []},
	 "cascades": [], "r_psi": [], "profitable_attack": null}`
	for name, r := range map[string]*Report{"decoded": decodeReport(t, empty), "zero": {}} {
		out := render(t, r)
		checkSelfContained(t, out)
		if strings.Contains(out, `class="bar bad"`) || strings.Contains(out, "Monte Carlo") {
			t.Errorf("%s: a red bar or a Monte Carlo in an empty report", name)
		}
		for _, want := range []string{"No services.", "No cascades.", "No assets.", "None: every"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the page lacks %q", name, want)
			}
		}
	}
	out := render(t, decodeReport(t, empty))
	if !strings.Contains(out, `<p class="verdict good">Secure</p>`) {
		t.Error("an empty, exactly searched report is not secure")
	}
	if err := WriteHTML(&bytes.Buffer{}, nil); err == nil {
		t.Error("a nil report rendered")
	}
}

// TestWriteHTMLSize: a report of 2,000 operators and 200 services, with
// 100 cascades that corrupt every service, stays well under 2 MB.
func TestWriteHTMLSize(t *testing.T) {
	r := &Report{Height: 1, Time: 1767225600, Summary: Summary{Services: 200, Operators: 2000,
		TotalStake: "8470000000.123456789012345678"}}
	for i := range 200 {
		ratio := fmt.Sprintf("%d.%018d", i/50, i*7919)
		id := fmt.Sprintf("0x%040x:%d", i*104729, i%4)
		r.Services = append(r.Services, ServiceRow{ID: id, Stake: "42350000.5",
			Threshold: "0.333333333333333333", Profit: "1000000.123456789", CostToCorrupt: &ratio,
			Margin: &ratio, CostRatio: &ratio, Validators: 400})
		r.Undeclared = append(r.Undeclared, SetRow{ID: id, Stake: "1"})
	}
	for i := range 2000 {
		r.Operators = append(r.Operators, OperatorRow{Address: fmt.Sprintf("0x%040x", i*7),
			Stake: fmt.Sprint(i * 4235), Allocated: "1", Leverage: "0.999999999999999999", Services: 200,
			Certificate: "1.000000000000000001"})
	}
	var all []string
	for _, s := range r.Services {
		all = append(all, s.ID)
	}
	for i := range 100 {
		r.Cascades = append(r.Cascades, CascadeRow{
			Label: fmt.Sprintf("the 3 largest validators of %s", all[i]), Shock: make([]string, i),
			LostStake: "8000000000", LostShare: "0.944513457", Attacks: 200, Corrupted: all})
	}
	mc := &MonteCarloRow{Trials: 10000}
	for _, id := range all {
		tail := TailRow{ES99: "123456789.987654321"}
		mc.Services = append(mc.Services, GroupTailRow{ID: id, TailRow: tail})
	}
	r.MonteCarlo = mc
	out := render(t, r)
	checkSelfContained(t, out)
	t.Logf("%d bytes for 2,000 operators and 200 services", len(out))
	if len(out) > 2<<20 {
		t.Errorf("%d bytes, over 2 MB", len(out))
	}
	if !strings.Contains(out, "The 100 largest of 2,000 operators are listed") ||
		strings.Count(out, "<h2>Services</h2>") != 1 {
		t.Error("the operators table does not say it is cut")
	}
}

// eth is n whole tokens in 1e-18 units.
func eth(n uint64) uint256.Int {
	var x uint256.Int
	return *x.Mul(uint256.NewInt(n), uint256.NewInt(1e18))
}

// TestWriteHTMLOfALedger renders the report of a ledger built by hand,
// through the whole path a node takes (ledger, graph, report, JSON),
// decoded from its JSON form so that only what /v1/risk serves is used.
// (internal/demo cannot be imported here: it imports internal/node,
// which imports this package.)
func TestWriteHTMLOfALedger(t *testing.T) {
	l := ledger.New(ledger.Config{Params: ledger.DefaultParams(), Open: true})
	l.BeginBlock(7, 1_000_000)
	addr := func(b byte) ledger.Address {
		var a ledger.Address
		a[19] = b
		return a
	}
	do := func(sender ledger.Address, op ledger.Op) {
		t.Helper()
		if _, err := l.Apply(sender, op); err != nil {
			t.Fatalf("%s: %v", op.OpName(), err)
		}
	}
	admin, op1, op2, st1, st2, avs := addr(1), addr(2), addr(3), addr(4), addr(5), addr(6)
	do(admin, ledger.AddStrategy{Strategy: "stETH", Token: "stETH"})
	do(admin, ledger.Mint{Account: st1, Token: "stETH", Amount: eth(100)})
	do(st1, ledger.Deposit{Strategy: "stETH", Amount: eth(100)})
	do(admin, ledger.BeaconBalanceUpdate{Staker: st2, DeltaWei: eth(64)})
	do(op1, ledger.RegisterOperator{})
	do(op2, ledger.RegisterOperator{})
	do(st1, ledger.Delegate{Operator: op1})
	do(st2, ledger.Delegate{Operator: op2})
	do(avs, ledger.RegisterAVS{})
	for id := range uint32(3) {
		do(avs, ledger.CreateOperatorSet{ID: id, Strategies: []string{ledger.BeaconStrategy, "stETH"}})
	}
	do(op1, ledger.RegisterForSets{AVS: avs, Sets: []uint32{0, 1, 2}})
	do(op2, ledger.RegisterForSets{AVS: avs, Sets: []uint32{0}})
	for id, mag := range []uint64{5e17, 25e16, 1e17} {
		do(op1, ledger.ModifyAllocations{Set: ledger.OperatorSet{AVS: avs, ID: uint32(id)},
			Strategies: []string{"stETH"}, Magnitudes: []uint64{mag}})
	}
	do(op2, ledger.ModifyAllocations{Set: ledger.OperatorSet{AVS: avs, ID: 0},
		Strategies: []string{ledger.BeaconStrategy}, Magnitudes: []uint64{1e18}})
	// Set 0 is well secured; set 1 is worth far more than the stake on it;
	// set 2 declares nothing.
	do(avs, ledger.DeclareServiceRisk{Set: 0, ProfitUSD: eth(50_000), ThresholdNum: 2,
		ThresholdDen: 3})
	do(avs, ledger.DeclareServiceRisk{Set: 1, ProfitUSD: eth(200_000), ThresholdNum: 1,
		ThresholdDen: 2})
	do(admin, ledger.SetPrice{Token: "ETH", PriceUSD: eth(3000), Timestamp: 1_000_000})
	do(admin, ledger.SetPrice{Token: "stETH", PriceUSD: eth(2990), Timestamp: 900_000})

	o := riskgraph.Options{Haircuts: riskgraph.DefaultHaircuts(), StaleAfter: 3600}
	n, err := riskgraph.Build(l, o)
	if err != nil {
		t.Fatal(err)
	}
	built, err := Build(n, Options{MonteCarlo: MonteCarloSpec{Trials: 200, Seed: 1,
		Probability: big.NewRat(1, 20), Slash: big.NewRat(1, 4)}})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(built)
	if err != nil {
		t.Fatal(err)
	}
	r := decodeReport(t, string(data))
	out := render(t, r)
	checkSelfContained(t, out)
	t.Logf("%d bytes of HTML for %d bytes of JSON", len(out), len(data))
	weak := riskgraph.SetID(ledger.OperatorSet{AVS: avs, ID: 1})
	if !strings.Contains(out, `<tr class="bad"><td class="id">`+weak+`</td>`) ||
		!strings.Contains(out, `class="bar bad"`) {
		t.Errorf("set 1 (%s) is not red", weak)
	}
	undeclared := riskgraph.SetID(ledger.OperatorSet{AVS: avs, ID: 2})
	for _, want := range []string{undeclared, `<span class="pill">stale</span>`, "Monte Carlo",
		"Not secure", "holders of stETH", op1.String(), "1970-01-12 13:46:40 UTC"} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, s := range r.Services {
		if !strings.Contains(out, s.ID) {
			t.Errorf("service %s is missing", s.ID)
		}
	}
	if r.MonteCarlo == nil || len(r.Cascades) == 0 || len(r.RPsi) != 3 {
		t.Fatalf("the report lacks parts: %+v", r)
	}
}
