package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
)

// TestRiskRoutes walks the risk routes on the test chain: the set the
// fixture slashed declares its risk, the node computes a report, and the
// what-if, shock and Monte Carlo routes answer from the same state.
func TestRiskRoutes(t *testing.T) {
	c := newChain(t, Options{Version: "test"})
	f := setup(c)
	operator := c.addr("operator")

	if status, body, _ := c.do(http.MethodGet, "/v1/risk", "", nil); status != http.StatusServiceUnavailable ||
		!strings.Contains(string(body), NameRiskReportPending) {
		t.Fatalf("before any report: %d %s", status, body)
	}
	h := c.submit(c.sign("avs", ledger.DeclareServiceRisk{Set: 1, ProfitUSD: e18(10_000), ThresholdNum: 1, ThresholdDen: 2}))
	c.block()
	c.committed(h[0], "")
	c.node.ConfigureRisk(node.RiskConfig{})
	c.node.RefreshRisk()
	c.node.WaitRisk()

	// After the slash the operator holds 67.5 stETH ($236,250), a third of
	// it slashable by set 1: 22.5 stETH, less the wei EigenLayer's
	// rounding down keeps (shown to the micro-dollar).
	var rep struct {
		Summary struct {
			Services int  `json:"services"`
			Secure   bool `json:"secure"`
		} `json:"summary"`
		Services []struct {
			ID            string `json:"id"`
			Stake         string `json:"stake"`
			CostToCorrupt string `json:"cost_to_corrupt"`
			Margin        string `json:"margin"`
		} `json:"services"`
		Operators []struct {
			Stake    string `json:"stake"`
			Leverage string `json:"leverage"`
		} `json:"operators"`
	}
	c.getJSON("/v1/risk", &rep)
	set := fmt.Sprintf("%s:1", c.addr("avs"))
	if rep.Summary.Services != 1 || !rep.Summary.Secure || len(rep.Services) != 1 || rep.Services[0].ID != set ||
		rep.Services[0].Stake != "78749.999999" || rep.Services[0].CostToCorrupt != "78749.999999" ||
		rep.Services[0].Margin != "68749.999999" {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Operators) != 1 || rep.Operators[0].Stake != "236250" ||
		!strings.HasPrefix(rep.Operators[0].Leverage, "0.33333333332") {
		t.Fatalf("operators %+v", rep.Operators)
	}

	post := func(path, body string) (int, map[string]any) {
		t.Helper()
		status, raw, _ := c.do(http.MethodPost, path, "application/json", []byte(body))
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: %s", path, raw)
		}
		return status, out
	}
	status, imp := post("/v1/risk/whatif-slash", fmt.Sprintf(`{"avs":"%s","set":1,"operators":["%s"],"wad":"1000000000000000000"}`,
		c.addr("avs"), operator))
	if status != 200 || imp["total_usd"] != "78750" { // a third of 67.5 stETH: the whole allocation
		t.Fatalf("what-if: %d %v", status, imp)
	}
	status, sh := post("/v1/risk/shock", fmt.Sprintf(`{"operators":["%s"]}`, operator))
	if status != 200 || sh["lost_share"] != "1" {
		t.Fatalf("shock: %d %v", status, sh)
	}
	status, mc := post("/v1/risk/monte-carlo", `{"trials":50,"probability":"1","slash":"1"}`)
	if total, _ := mc["total"].(map[string]any); status != 200 || total["mean"] != "78749.999999" ||
		total["es_99"] != "78749.999999" {
		t.Fatalf("monte carlo: %d %v", status, mc)
	}
	// The node's graph, fed back to the engine, gives the report's answer.
	_, graph, _ := c.do(http.MethodGet, "/v1/risk/graph", "", nil)
	status, an := post("/v1/risk/analyze", string(graph))
	if status != 200 || an["secure"] != true {
		t.Fatalf("analyze of the node's graph: %d %v\n%s", status, an, graph)
	}
	status, page, hdr := c.do(http.MethodGet, "/v1/risk/report.html", "", nil)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page), set) {
		t.Fatalf("report.html: %d %s", status, hdr.Get("Content-Type"))
	}
	status, an = post("/v1/risk/analyze?psi=0.5", `{"services":[{"id":"s","profit":"1","threshold":"1/2"}],
		"validators":[{"id":"v","stake":"10","services":["s"]}]}`)
	if status != 200 || an["secure"] != true {
		t.Fatalf("analyze: %d %v", status, an)
	}

	for _, tc := range []struct {
		path, body, name string
		status           int
	}{
		{"/v1/risk/analyze", `{"services":[],"validators":[]}`, NameInvalidGraph, 422},
		{"/v1/risk/analyze", `{"services":[{"id":"s","profit":"0","threshold":"1"}],"validators":[{"id":"v","stake":"1","services":["s"]}]}`, NameInvalidGraph, 422},
		{"/v1/risk/analyze?psi=2", `{"services":[],"validators":[{"id":"v","stake":"1","services":[]}]}`, NameInvalidGraph, 422},
		{"/v1/risk/shock", `{}`, NameInvalidBody, 422},
		{"/v1/risk/shock", `{"psi":"0.1","operators":["` + operator.String() + `"]}`, NameInvalidBody, 422},
		{"/v1/risk/shock", `{"psi":"1.5"}`, NameInvalidField, 422},
		{"/v1/risk/shock", `{"operators":["0x12"]}`, NameInvalidAddress, 400},
		{"/v1/risk/shock", `{"operators":["` + c.addr("stranger").String() + `"]}`, NameInvalidField, 422},
		{"/v1/risk/whatif-slash", fmt.Sprintf(`{"avs":"%s","set":9,"operators":["%s"],"wad":"1"}`, c.addr("avs"), operator), NameSetNotFound, 404},
		{"/v1/risk/whatif-slash", fmt.Sprintf(`{"avs":"%s","set":1,"operators":["%s"],"wad":"2000000000000000000"}`, c.addr("avs"), operator), NameInvalidBody, 422},
		{"/v1/risk/whatif-slash", fmt.Sprintf(`{"avs":"%s","set":1,"operators":[],"wad":"1"}`, c.addr("avs")), NameInvalidField, 422},
		{"/v1/risk/whatif-slash", fmt.Sprintf(`{"avs":"%s","set":1,"operators":["%s"],"wad":"-1"}`, c.addr("avs"), operator), NameInvalidField, 422},
		{"/v1/risk/monte-carlo", `{"trials":0,"probability":"0.1","slash":"0.1"}`, NameInvalidField, 422},
		{"/v1/risk/monte-carlo", `{"trials":10,"probability":"x","slash":"0.1"}`, NameInvalidField, 422},
		{"/v1/risk/monte-carlo", `{"trials":10,"probability":"0.1","slash":"0.1","extra":1}`, NameUnknownField, 400},
	} {
		before := c.appHash()
		status, out := post(tc.path, tc.body)
		if status != tc.status || out["error"] != tc.name {
			t.Errorf("%s %s: %d %v, want %d %s", tc.path, tc.body, status, out, tc.status, tc.name)
		}
		if c.appHash() != before {
			t.Fatalf("%s changed the state", tc.path)
		}
	}
	_ = f
}
