package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/tx"
)

// badCase is one bad request. A case either expects an error response
// (status and stable name) or, for a batch, 200 with each transaction
// rejected under the names in batch.
type badCase struct {
	name        string
	method      string
	path        string
	contentType string
	body        []byte
	status      int
	error       string
	batch       []string
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// badCases builds the table against a chain in the fixture's state. Every
// transaction in it is either refused at intake or never submitted, so no
// case may change the state or the mempool.
func badCases(c *chain, f fixture) []badCase {
	staker, avs := c.addr("staker"), c.addr("avs")
	next := c.nonce["staker"]
	// A transaction the node would accept: cases that must fail before
	// submitting carry it, so that a wrong acceptance shows in the mempool.
	good := hexTx(c.signNonce("staker", next, ledger.Delegate{Operator: c.addr("operator")}))
	badV := c.signNonce("staker", next, ledger.Undelegate{Staker: staker})
	badV[len(badV)-1] = 7 // v must be 0, 1, 27 or 28
	zeroR := c.signNonce("staker", next, ledger.Undelegate{Staker: staker})
	copy(zeroR[len(zeroR)-tx.SigLen:], make([]byte, 32))
	otherChain := c.signFor("another-chain", "staker", next, ledger.Undelegate{Staker: staker})
	tooHigh := c.signNonce("staker", next+5, ledger.Undelegate{Staker: staker})
	tooLow := c.signNonce("staker", 0, ledger.Undelegate{Staker: staker})
	txBody := func(s string) []byte { return jsonBody(map[string]string{"tx": s}) }
	over := make([]string, batchTxsMax+1)
	for i := range over {
		over[i] = "0x00"
	}
	const js = "application/json"
	post := func(name string, body []byte, status int, errName string) badCase {
		return badCase{name: name, method: http.MethodPost, path: "/v1/txs", contentType: js, body: body,
			status: status, error: errName}
	}
	get := func(name, path string, status int, errName string) badCase {
		return badCase{name: name, method: http.MethodGet, path: path, status: status, error: errName}
	}
	addr := staker.String()
	unknownAddr := "0x00000000000000000000000000000000000000aa"
	randomHash := "0x" + strings.Repeat("ab", 32)
	return []badCase{
		// Bodies that are not the request.
		post("malformed JSON", []byte(`{"tx":`), 400, NameMalformedJSON),
		post("trailing data", []byte(`{"tx":"0x00"} {}`), 400, NameMalformedJSON),
		post("not JSON at all", []byte(`tx=0x00`), 400, NameMalformedJSON),
		post("empty body", nil, 400, NameBodyRequired),
		post("an array, not an object", []byte(`["0x00"]`), 422, NameInvalidField),
		post("unknown field", []byte(`{"tx":"`+good[2:]+`","fee":1}`), 400, NameUnknownField),
		post("unknown field only", []byte(`{"transaction":"0x00"}`), 400, NameUnknownField),
		post("field in another case", []byte(`{"TX":"`+good+`"}`), 400, NameUnknownField),
		post("duplicate field", []byte(`{"tx":"`+good+`","tx":"`+good+`"}`), 400, NameDuplicateField),
		post("tx is a number", []byte(`{"tx":5}`), 422, NameInvalidField),
		post("tx is null", []byte(`{"tx":null}`), 422, NameInvalidField),
		post("txs is a string", []byte(`{"txs":"0x00"}`), 422, NameInvalidField),
		post("txs holds a number", []byte(`{"txs":[5]}`), 422, NameInvalidField),
		post("tx and txs", jsonBody(map[string]any{"tx": good, "txs": []string{good}}), 422, NameInvalidBody),
		post("no tx", []byte(`{}`), 422, NameInvalidBody),
		post("empty batch", []byte(`{"txs":[]}`), 422, NameEmptyBatch),
		post("batch over 1000", jsonBody(map[string]any{"txs": over}), 422, NameBatchTooLarge),
		post("body over 1 MiB", txBody("0x"+strings.Repeat("00", 600_000)), 413, NameBodyTooLarge),
		{name: "not JSON content type", method: http.MethodPost, path: "/v1/txs", contentType: "text/plain",
			body: txBody(good), status: 415, error: NameUnsupportedMediaType},

		// Transactions that do not decode or cannot be valid.
		post("tx not hex", txBody("0xzz"), 400, ledger.ErrTxMalformed.Name),
		post("tx odd-length hex", txBody("0x123"), 400, ledger.ErrTxMalformed.Name),
		post("tx without 0x", txBody(good[2:]), 400, ledger.ErrTxMalformed.Name),
		post("tx empty", txBody(""), 400, ledger.ErrTxMalformed.Name),
		post("tx only 0x", txBody("0x"), 400, ledger.ErrTxMalformed.Name),
		post("tx garbage bytes", txBody("0xdeadbeef"), 400, ledger.ErrTxMalformed.Name),
		post("tx over MaxTxBytes", txBody("0x"+strings.Repeat("01", tx.MaxTxBytes+1)), 400,
			ledger.ErrTxTooLarge.Name),
		post("signature with a bad v", txBody(hexTx(badV)), 422, ledger.ErrInvalidSignature.Name),
		post("signature with r = 0", txBody(hexTx(zeroR)), 422, ledger.ErrInvalidSignature.Name),
		post("wrong chain id", txBody(hexTx(otherChain)), 422, ledger.ErrWrongChainID.Name),
		post("replayed committed tx", txBody(hexTx(f.firstRaw[0])), 409, ledger.ErrTxAlreadyKnown.Name),
		post("skipped nonce", txBody(hexTx(tooHigh)), 409, ledger.ErrNonceTooHigh.Name),
		post("stale nonce", txBody(hexTx(tooLow)), 409, ledger.ErrNonceTooLow.Name),
		{name: "batch of rejected txs", method: http.MethodPost, path: "/v1/txs", contentType: js,
			body: jsonBody(map[string]any{"txs": []string{"0xzz", hexTx(otherChain), hexTx(f.firstRaw[1]),
				hexTx(tooLow), hexTx(badV)}}),
			status: 200, batch: []string{ledger.ErrTxMalformed.Name, ledger.ErrWrongChainID.Name,
				ledger.ErrTxAlreadyKnown.Name, ledger.ErrNonceTooLow.Name, ledger.ErrInvalidSignature.Name}},

		// Bad query parameters of a good transaction: refused before it is
		// submitted.
		post("wait not a boolean", nil, 400, NameInvalidParameter).withPath("/v1/txs?wait=maybe").withBody(txBody(good)),
		post("timeout not a duration", nil, 400, NameInvalidParameter).withPath("/v1/txs?wait=true&timeout=soon").withBody(txBody(good)),
		post("negative timeout", nil, 400, NameInvalidParameter).withPath("/v1/txs?wait=true&timeout=-1s").withBody(txBody(good)),
		post("zero timeout", nil, 400, NameInvalidParameter).withPath("/v1/txs?timeout=0s").withBody(txBody(good)),
		post("unknown query parameter", nil, 400, NameUnknownParameter).withPath("/v1/txs?fee=1").withBody(txBody(good)),

		// Routes and methods.
		get("unknown route", "/v1/nothing", 404, NameRouteNotFound),
		get("unknown top-level route", "/admin", 404, NameRouteNotFound),
		get("route below an entity", "/v1/accounts/"+addr+"/secrets", 404, NameRouteNotFound),
		{name: "DELETE status", method: http.MethodDelete, path: "/v1/status", status: 405, error: NameMethodNotAllowed},
		{name: "PUT txs", method: http.MethodPut, path: "/v1/txs", contentType: js, body: txBody(good), status: 405,
			error: NameMethodNotAllowed},
		get("GET txs", "/v1/txs", 405, NameMethodNotAllowed),
		{name: "POST account", method: http.MethodPost, path: "/v1/accounts/" + addr, contentType: js,
			body: []byte(`{}`), status: 405, error: NameMethodNotAllowed},
		{name: "OPTIONS without CORS", method: http.MethodOptions, path: "/v1/status", status: 405,
			error: NameMethodNotAllowed},

		// Paths.
		get("short address", "/v1/accounts/0x1234", 400, NameInvalidAddress),
		get("address without 0x", "/v1/accounts/"+addr[2:], 400, NameInvalidAddress),
		get("address not hex", "/v1/accounts/0x"+strings.Repeat("g", 40), 400, NameInvalidAddress),
		get("address too long", "/v1/operators/"+addr+"00", 400, NameInvalidAddress),
		get("nonce of a bad address", "/v1/nonce/alice", 400, NameInvalidAddress),
		get("claimable of a bad address", "/v1/rewards/claimable/0x", 400, NameInvalidAddress),
		get("unknown account", "/v1/accounts/"+unknownAddr, 404, NameAccountNotFound),
		get("not an operator", "/v1/operators/"+addr, 404, NameOperatorNotFound),
		get("not an AVS", "/v1/avss/"+addr, 404, NameAVSNotFound),
		get("set id not a number", "/v1/avss/"+avs.String()+"/sets/one", 400, NameInvalidSetID),
		get("set id over uint32", "/v1/avss/"+avs.String()+"/sets/4294967296", 400, NameInvalidSetID),
		get("negative set id", "/v1/avss/"+avs.String()+"/sets/-1", 400, NameInvalidSetID),
		get("unknown set", "/v1/avss/"+avs.String()+"/sets/99", 404, NameSetNotFound),
		get("short tx hash", "/v1/txs/0x1234", 400, NameInvalidHash),
		get("tx hash not hex", "/v1/txs/0x"+strings.Repeat("zz", 32), 400, NameInvalidHash),
		get("unknown tx", "/v1/txs/"+randomHash, 404, NameTxNotFound),
		get("height not a number", "/v1/blocks/tip", 400, NameInvalidHeight),
		get("negative height", "/v1/blocks/-1", 400, NameInvalidHeight),
		get("height over uint64", "/v1/blocks/99999999999999999999", 400, NameInvalidHeight),
		get("height with a sign", "/v1/blocks/+1", 400, NameInvalidHeight),
		get("future block", "/v1/blocks/1000000", 404, NameBlockNotFound),
		get("short withdrawal id", "/v1/withdrawals/0x12", 400, NameInvalidWithdrawalID),
		get("unknown withdrawal", "/v1/withdrawals/"+randomHash, 404, NameWithdrawalNotFound),
		get("bad strategy name", "/v1/strategies/st%20ETH", 400, ledger.ErrInvalidName.Name),
		get("unknown strategy", "/v1/strategies/rETH", 404, NameStrategyNotFound),
		get("unknown token", "/v1/tokens/rETH", 404, NameTokenNotFound),
		get("unknown price", "/v1/prices/rETH", 404, NamePriceNotFound),
		get("state key not hex", "/v1/state/0xzz", 400, NameInvalidKey),
		get("state key empty", "/v1/state/0x", 400, NameInvalidKey),
		get("state key too long", "/v1/state/0x"+strings.Repeat("61", stateKeyBytesMax+1), 400, NameInvalidKey),
		get("no rewards for the earner", "/v1/rewards/proof/"+unknownAddr, 404, NameEarnerNotFound),

		// Query parameters.
		get("negative limit", "/v1/accounts?limit=-1", 400, NameInvalidParameter),
		get("zero limit", "/v1/operators?limit=0", 400, NameInvalidParameter),
		get("limit over the maximum", "/v1/avss?limit=1001", 400, NameInvalidParameter),
		get("huge limit", "/v1/accounts?limit=99999999999999999999999", 400, NameInvalidParameter),
		get("limit not a number", "/v1/strategies?limit=ten", 400, NameInvalidParameter),
		get("account cursor not an address", "/v1/accounts?after=zzz", 400, NameInvalidParameter),
		get("operator cursor not an address", "/v1/operators?after=0x12", 400, NameInvalidParameter),
		get("strategy cursor not a name", "/v1/strategies?after=a%20b", 400, NameInvalidParameter),
		get("submission cursor not an id", "/v1/rewards/submissions?after=-3", 400, NameInvalidParameter),
		get("slash cursor malformed", "/v1/slashes?after=1/2", 400, NameInvalidParameter),
		get("prove not a boolean", "/v1/accounts/"+addr+"?prove=maybe", 400, NameInvalidParameter),
		get("prove a number", "/v1/withdrawals/"+f.withdrawal+"?prove=2", 400, NameInvalidParameter),
		get("unknown parameter", "/v1/status?verbose=1", 400, NameUnknownParameter),
	}
}

func (b badCase) withPath(p string) badCase    { b.path = p; return b }
func (b badCase) withBody(body []byte) badCase { b.body = body; return b }

// stateSnapshot is what no refused request may change.
type stateSnapshot struct {
	appHash  string
	height   uint64
	mempool  int
	accounts int
	nonces   map[string]uint64
}

func (c *chain) snapshot() stateSnapshot {
	c.t.Helper()
	var st Status
	c.getJSON("/v1/status", &st)
	s := stateSnapshot{appHash: st.AppHash, height: st.Height, mempool: st.Mempool, accounts: st.Accounts,
		nonces: map[string]uint64{}}
	for _, name := range testAccounts {
		var n Nonce
		c.getJSON("/v1/nonce/"+c.addr(name).String(), &n)
		s.nonces[name] = n.Nonce
	}
	return s
}

func TestBadInput(t *testing.T) {
	c := newChain(t, Options{})
	f := setup(c)
	cases := badCases(c, f)
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	before := c.snapshot()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := c.do(tc.method, tc.path, tc.contentType, tc.body)
			if status >= 500 {
				t.Fatalf("%d %s", status, body)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q", ct)
			}
			if tc.batch == nil {
				wantError(t, status, body, tc.status, tc.error)
				return
			}
			var resp struct{ Results []submitJSON }
			if err := json.Unmarshal(body, &resp); err != nil || status != http.StatusOK ||
				len(resp.Results) != len(tc.batch) {
				t.Fatalf("%d %s", status, body)
			}
			for i, r := range resp.Results {
				if r.Status != "rejected" || r.Error != tc.batch[i] || r.Message == "" {
					t.Errorf("tx %d: %+v, want rejected %s", i, r, tc.batch[i])
				}
			}
		})
	}
	after := c.snapshot()
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("the bad requests changed the node:\nbefore %+v\nafter  %+v", before, after)
	}
	if after.mempool != 0 {
		t.Fatalf("%d transactions were admitted", after.mempool)
	}
}

// TestLedgerRejections sends well-formed transactions that the ledger
// refuses once they run: intake accepts them (200), and the committed
// result carries the ledger's error. They bump their senders' nonces, so
// they change the state and are kept out of TestBadInput.
func TestLedgerRejections(t *testing.T) {
	c := newChain(t, Options{})
	f := setup(c)
	before := c.snapshot()
	cases := []struct {
		name, sender string
		op           ledger.Op
		error        string
	}{
		{"complete someone else's withdrawal", "operator",
			ledger.CompleteWithdrawal{Withdrawal: mustWID(t, f.withdrawal), AsTokens: true},
			ledger.ErrWithdrawerNotCaller.Name},
		{"slash by a non-slasher", "stranger", ledger.Slash{Operator: c.addr("operator"), Set: f.set,
			Strategies: []string{"stETH"}, Wads: []uint256.Int{*uint256.NewInt(1e17)}},
			ledger.ErrInvalidCaller.Name},
		{"admin operation by a non-admin", "staker", ledger.AddStrategy{Strategy: "rETH", Token: "rETH"},
			ledger.ErrCallerNotAdmin.Name},
		{"mint by a non-admin", "stranger", ledger.Mint{Account: c.addr("stranger"), Token: "stETH",
			Amount: e18(1)}, ledger.ErrMintDisabled.Name},
		{"beacon report by a non-oracle", "staker", ledger.BeaconBalanceUpdate{Staker: c.addr("staker"),
			DeltaWei: e18(32)}, ledger.ErrCallerNotBeaconOracle.Name},
		{"price report by a non-oracle", "staker", ledger.SetPrice{Token: "stETH", PriceUSD: e18(1),
			Timestamp: testGenesis + 1}, ledger.ErrCallerNotPriceOracle.Name},
	}
	raws := make([][]byte, len(cases))
	for i, tc := range cases {
		raws[i] = c.sign(tc.sender, tc.op)
	}
	// The last one goes through ?wait=true: the submit response itself
	// carries the committed error.
	hashes := c.submit(raws[:len(raws)-1]...)
	c.block()
	for i, h := range hashes {
		t.Run(cases[i].name, func(t *testing.T) {
			r := c.committed(h, cases[i].error)
			if r.Code != ledger.ErrorByName(cases[i].error).Code || r.Hint == "" || len(r.Events) != 0 {
				t.Fatalf("result %+v", r)
			}
		})
	}
	last := cases[len(cases)-1]
	t.Run(last.name+" with wait", func(t *testing.T) {
		res := c.submitWaitWhileProducing(raws[len(raws)-1])
		if res.Status != "committed" || res.Error != last.error || res.Message == "" || res.Result == nil ||
			res.Result.Error != last.error {
			t.Fatalf("%+v", res)
		}
	})

	after := c.snapshot()
	for _, tc := range cases {
		before.nonces[tc.sender]++
	}
	for name, n := range before.nonces {
		if after.nonces[name] != n {
			t.Errorf("%s's nonce is %d, want %d (one per committed transaction)", name, after.nonces[name], n)
		}
	}
	// Nothing else moved: the withdrawal is still queued, the operator
	// unslashed further, no strategy added.
	var w withdrawalJSON
	c.getJSON("/v1/withdrawals/"+f.withdrawal, &w)
	var op struct {
		Strategies []struct {
			MaxMagnitude string `json:"max_magnitude"`
		} `json:"strategies"`
	}
	c.getJSON("/v1/operators/"+c.addr("operator").String(), &op)
	if op.Strategies[0].MaxMagnitude != "750000000000000000" {
		t.Fatalf("operator %+v", op)
	}
	status, body, _ := c.do(http.MethodGet, "/v1/strategies/rETH", "", nil)
	wantError(t, status, body, http.StatusNotFound, NameStrategyNotFound)
}
