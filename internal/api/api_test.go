package api

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/rewardtree"
	"github.com/restake/restake/internal/statetree"
)

// fixture is the state setup builds: a staker delegated to an operator
// that allocated half its stETH magnitude to an AVS's set 1, was slashed
// by half of that, and a queued withdrawal of 10 of the staker's 100
// deposit shares.
type fixture struct {
	set        ledger.OperatorSet
	withdrawal string // its id
	queuedAt   uint64 // the block that queued it
	firstTxs   []string
	firstRaw   [][]byte // the signed bytes of firstTxs
}

// setup builds the fixture through POST /v1/txs, one block per step.
func setup(c *chain) fixture {
	c.t.Helper()
	f := fixture{set: ledger.OperatorSet{AVS: c.addr("avs"), ID: 1}}
	f.firstRaw = [][]byte{
		c.sign("admin", ledger.AddStrategy{Strategy: "stETH", Token: "stETH"}),
		c.sign("admin", ledger.Mint{Account: c.addr("staker"), Token: "stETH", Amount: e18(100)}),
		c.sign("admin", ledger.Mint{Account: c.addr("avs"), Token: "stETH", Amount: e18(1000)}),
		c.sign("operator", ledger.RegisterOperator{AllocationDelay: 0, Metadata: "https://op.example"}),
		c.sign("avs", ledger.RegisterAVS{Metadata: "ipfs://avs"}),
	}
	f.firstTxs = c.submit(f.firstRaw...)
	steps := [][][]byte{{
		c.sign("staker", ledger.Deposit{Strategy: "stETH", Amount: e18(100)}),
		c.sign("staker", ledger.Delegate{Operator: c.addr("operator")}),
		c.sign("avs", ledger.CreateOperatorSet{ID: 1, Strategies: []string{"stETH"}}),
		c.sign("operator", ledger.RegisterForSets{AVS: c.addr("avs"), Sets: []uint32{1}}),
	}, {
		c.sign("operator", ledger.ModifyAllocations{Set: f.set, Strategies: []string{"stETH"},
			Magnitudes: []uint64{5e17}}),
		c.sign("pricer", ledger.SetPrice{Token: "stETH", PriceUSD: e18(3500), Timestamp: testGenesis}),
	}, {
		// Half of the allocated half: the operator's stake falls by a
		// quarter, and so does every delegated staker's.
		c.sign("avs", ledger.Slash{Operator: c.addr("operator"), Set: f.set, Strategies: []string{"stETH"},
			Wads: []uint256.Int{*uint256.NewInt(5e17)}, Description: "double signing"}),
	}}
	c.block()
	for _, h := range f.firstTxs {
		c.committed(h, "")
	}
	for _, step := range steps {
		hashes := c.submit(step...)
		c.block()
		for _, h := range hashes {
			c.committed(h, "")
		}
	}
	h := c.submit(c.sign("staker", ledger.QueueWithdrawal{Strategies: []string{"stETH"},
		DepositShares: []uint256.Int{e18(10)}}))
	c.block()
	res := c.committed(h[0], "")
	var q struct{ Withdrawal string }
	if err := json.Unmarshal(res.Result, &q); err != nil || q.Withdrawal == "" {
		c.t.Fatalf("queue_withdrawal result %s: %v", res.Result, err)
	}
	f.withdrawal, f.queuedAt = q.Withdrawal, res.Height
	return f
}

// Test-side views of the API's JSON, with amounts as strings.
type (
	positionJSON struct {
		Strategy     string `json:"strategy"`
		Deposit      string `json:"deposit_shares"`
		Withdrawable string `json:"withdrawable_shares"`
	}
	withdrawalJSON struct {
		ID              string   `json:"id"`
		Staker          string   `json:"staker"`
		Operator        string   `json:"operator"`
		StartBlock      uint64   `json:"start_block"`
		UnlockBlock     uint64   `json:"unlock_block"`
		UnlocksInBlocks uint64   `json:"unlocks_in_blocks"`
		Shares          []string `json:"shares"`
	}
	accountJSON struct {
		Address     string           `json:"address"`
		Nonce       uint64           `json:"nonce"`
		DelegatedTo string           `json:"delegated_to"`
		Positions   []positionJSON   `json:"positions"`
		Withdrawals []withdrawalJSON `json:"queued_withdrawals"`
		Balances    []struct {
			Token, Amount string
		} `json:"balances"`
	}
	recordJSON struct {
		Key     string          `json:"key"`
		Value   *string         `json:"value"`
		Proof   json.RawMessage `json:"proof"`
		Height  uint64          `json:"height"`
		AppHash string          `json:"app_hash"`
	}
	pageJSON struct {
		Items []json.RawMessage `json:"items"`
		Next  string            `json:"next"`
	}
)

func TestEndToEnd(t *testing.T) {
	c := newChain(t, Options{Version: "test"})
	f := setup(c)
	staker, operator := c.addr("staker"), c.addr("operator")

	t.Run("account after the slash and the withdrawal", func(t *testing.T) {
		var a accountJSON
		c.getJSON("/v1/accounts/"+strings.ToLower(staker.String()), &a)
		if a.Address != staker.String() || a.DelegatedTo != operator.String() || a.Nonce != 3 {
			t.Fatalf("account %+v", a)
		}
		want := positionJSON{Strategy: "stETH", Deposit: "90000000000000000000",
			Withdrawable: "67500000000000000000"} // 90 shares at 3/4 after the slash
		if len(a.Positions) != 1 || a.Positions[0] != want {
			t.Fatalf("positions %+v, want [%+v]", a.Positions, want)
		}
		unlock := f.queuedAt + testDelay + 1
		if len(a.Withdrawals) != 1 {
			t.Fatalf("withdrawals %+v", a.Withdrawals)
		}
		w := a.Withdrawals[0]
		if w.ID != f.withdrawal || w.UnlockBlock != unlock || w.UnlocksInBlocks != unlock-(f.queuedAt+1) ||
			len(w.Shares) != 1 || w.Shares[0] != "7500000000000000000" {
			t.Fatalf("withdrawal %+v, want unlock %d in %d blocks, 7.5e18 shares", w, unlock,
				unlock-(f.queuedAt+1))
		}
	})

	t.Run("operator, set, slashes", func(t *testing.T) {
		var op struct {
			Address    string `json:"address"`
			Stakers    int    `json:"stakers"`
			Strategies []struct {
				Strategy     string `json:"strategy"`
				Shares       string `json:"shares"`
				MaxMagnitude string `json:"max_magnitude"`
			} `json:"strategies"`
		}
		c.getJSON("/v1/operators/"+operator.String(), &op)
		if op.Stakers != 2 || len(op.Strategies) != 1 || op.Strategies[0].MaxMagnitude != "750000000000000000" ||
			op.Strategies[0].Shares != "67500000000000000000" {
			t.Fatalf("operator %+v", op)
		}
		var set struct {
			Members []string `json:"members"`
			Slashes uint64   `json:"slashes"`
			Slasher string   `json:"slasher"`
		}
		c.getJSON(fmt.Sprintf("/v1/avss/%s/sets/1", c.addr("avs")), &set)
		if len(set.Members) != 1 || set.Members[0] != operator.String() || set.Slashes != 1 ||
			set.Slasher != c.addr("avs").String() {
			t.Fatalf("set %+v", set)
		}
		var slashes struct {
			Items []struct {
				Set     uint32   `json:"set"`
				SlashID uint64   `json:"slash_id"`
				Shares  []string `json:"shares"`
			} `json:"items"`
		}
		c.getJSON("/v1/slashes", &slashes)
		// The operator had 100e18 shares; a quarter of them was slashed.
		if len(slashes.Items) != 1 || slashes.Items[0].SlashID != 1 || slashes.Items[0].Set != 1 ||
			slashes.Items[0].Shares[0] != "25000000000000000000" {
			t.Fatalf("slashes %+v", slashes)
		}
		var avss pageJSON
		c.getJSON("/v1/avss", &avss)
		var ops pageJSON
		c.getJSON("/v1/operators", &ops)
		if len(avss.Items) != 1 || len(ops.Items) != 1 || avss.Next != "" || ops.Next != "" {
			t.Fatalf("avss %+v operators %+v", avss, ops)
		}
	})

	t.Run("withdrawal", func(t *testing.T) {
		var w withdrawalJSON
		c.getJSON("/v1/withdrawals/"+f.withdrawal, &w)
		if w.Staker != staker.String() || w.Operator != operator.String() || w.StartBlock != f.queuedAt ||
			w.UnlockBlock != f.queuedAt+testDelay+1 {
			t.Fatalf("withdrawal %+v", w)
		}
	})

	t.Run("assets", func(t *testing.T) {
		var strategies struct {
			Items []struct {
				Name   string `json:"name"`
				Native bool   `json:"native"`
			} `json:"items"`
		}
		c.getJSON("/v1/strategies", &strategies)
		if len(strategies.Items) != 2 || strategies.Items[0].Name != ledger.BeaconStrategy ||
			strategies.Items[1].Name != "stETH" {
			t.Fatalf("strategies %+v", strategies)
		}
		var tok struct {
			Name   string `json:"name"`
			Supply string `json:"supply"`
		}
		c.getJSON("/v1/tokens/stETH", &tok)
		if tok.Supply != "1100000000000000000000" {
			t.Fatalf("token %+v", tok)
		}
		var prices struct {
			Items []struct {
				PriceUSD string `json:"price_usd"`
				Stale    bool   `json:"stale"`
			} `json:"items"`
		}
		c.getJSON("/v1/prices", &prices)
		if len(prices.Items) != 1 || prices.Items[0].Stale || prices.Items[0].PriceUSD != "3500000000000000000000" {
			t.Fatalf("prices %+v", prices)
		}
	})

	t.Run("blocks and transactions", func(t *testing.T) {
		var b struct {
			Height  uint64   `json:"height"`
			AppHash string   `json:"app_hash"`
			Txs     []string `json:"txs"`
			Results struct {
				AppHash string   `json:"app_hash"`
				Txs     []txJSON `json:"txs"`
			} `json:"results"`
		}
		c.getJSON("/v1/blocks/1", &b)
		if b.Height != 1 || len(b.Txs) != len(f.firstTxs) || len(b.Results.Txs) != len(f.firstTxs) ||
			b.AppHash != b.Results.AppHash {
			t.Fatalf("block 1: %+v", b)
		}
		for i, h := range f.firstTxs {
			if b.Txs[i] != h || b.Results.Txs[i].Hash != h {
				t.Fatalf("block 1 tx %d: %s / %s, want %s", i, b.Txs[i], b.Results.Txs[i].Hash, h)
			}
		}
		var latest struct {
			Height  uint64 `json:"height"`
			AppHash string `json:"app_hash"`
		}
		c.getJSON("/v1/blocks/latest", &latest)
		var st Status
		c.getJSON("/v1/status", &st)
		if latest.Height != st.Height || latest.AppHash != st.AppHash || st.Height != f.queuedAt ||
			st.ChainID != testChainID || st.Version != "test" || st.Mempool != 0 {
			t.Fatalf("latest %+v status %+v", latest, st)
		}
		var n Nonce
		c.getJSON("/v1/nonce/"+c.addr("admin").String(), &n)
		if n.Nonce != 3 {
			t.Fatalf("admin nonce %d, want 3", n.Nonce)
		}
	})

	t.Run("pagination visits every account once", func(t *testing.T) {
		var st Status
		c.getJSON("/v1/status", &st)
		var seen []string
		after := ""
		for page := 0; ; page++ {
			if page > st.Accounts {
				t.Fatal("pagination does not end")
			}
			var p struct {
				Items []struct {
					Address string `json:"address"`
				} `json:"items"`
				Next string `json:"next"`
			}
			c.getJSON("/v1/accounts?limit=2&after="+after, &p)
			for _, it := range p.Items {
				seen = append(seen, strings.ToLower(it.Address))
			}
			if p.Next == "" {
				break
			}
			after = p.Next
		}
		if len(seen) != st.Accounts || !sort.StringsAreSorted(seen) {
			t.Fatalf("pages gave %d accounts %v, want %d in order", len(seen), seen, st.Accounts)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] == seen[i-1] {
				t.Fatalf("account %s twice", seen[i])
			}
		}
	})

	t.Run("proofs", func(t *testing.T) {
		wid, _ := ledger.ParseWithdrawalID(f.withdrawal)
		avs, stranger := c.addr("avs"), c.addr("stranger")
		cases := []struct {
			path    string
			key     []byte
			present bool
		}{
			{"/v1/accounts/" + staker.String(), append([]byte("a/"), staker[:]...), true},
			{"/v1/operators/" + operator.String(), append([]byte("o/"), operator[:]...), true},
			{"/v1/avss/" + avs.String(), append([]byte("v/"), avs[:]...), true},
			{"/v1/avss/" + avs.String() + "/sets/1", append(append([]byte("e/"), avs[:]...), 0, 0, 0, 1), true},
			{"/v1/withdrawals/" + f.withdrawal, append([]byte("w/"), wid[:]...), true},
			{"/v1/strategies/stETH", []byte("s/stETH"), true},
			{"/v1/strategies/beaconETH", []byte("s/beaconETH"), false}, // native: no record
			{"/v1/tokens/stETH", []byte("t/stETH"), true},
			{"/v1/prices/stETH", []byte("p/stETH"), true},
			{"/v1/state/0x" + hex.EncodeToString([]byte("g")), []byte("g"), true},
			{"/v1/state/0x" + hex.EncodeToString(append([]byte("a/"), stranger[:]...)),
				append([]byte("a/"), stranger[:]...), false},
		}
		records := map[string][]byte{}
		c.node.Read(func(a *app.App) {
			for _, r := range a.Ledger().Records() {
				records[string(r.Key)] = r.Value
			}
		})
		appHash := c.appHash()
		for _, tc := range cases {
			t.Run(tc.path, func(t *testing.T) {
				var body struct {
					Proof *recordJSON `json:"proof"`
				}
				path := tc.path + "?prove=true"
				c.getJSON(path, &body)
				rec := body.Proof
				if strings.HasPrefix(tc.path, "/v1/state/") {
					c.getJSON(path, &rec) // the record is the body itself
				}
				if rec == nil {
					t.Fatal("no proof")
				}
				checkProof(t, rec, tc.key, records[string(tc.key)], tc.present, appHash)
			})
		}
		// Without ?prove there is no proof.
		status, body, _ := c.do(http.MethodGet, "/v1/accounts/"+staker.String(), "", nil)
		if status != http.StatusOK || bytes.Contains(body, []byte(`"proof"`)) {
			t.Fatalf("without prove: %d %s", status, body)
		}
	})

	t.Run("rewards", func(t *testing.T) {
		h := c.submit(c.sign("avs", ledger.SubmitRewards{Token: "stETH", Amount: e18(100),
			Strategies: []string{"stETH"}, Multipliers: []uint256.Int{e18(1)}, StartTime: testGenesis,
			Duration: testInterval}))
		c.block()
		c.committed(h[0], "")
		var subs struct {
			Items []struct {
				ID uint64 `json:"id"`
			} `json:"items"`
		}
		c.getJSON("/v1/rewards/submissions", &subs)
		if len(subs.Items) != 1 || subs.Items[0].ID != 1 {
			t.Fatalf("submissions %+v", subs)
		}
		// The next block closes the submission's only interval.
		c.now.Add(2 * testInterval)
		c.block()
		var cl Claimable
		c.getJSON("/v1/rewards/claimable/"+staker.String(), &cl)
		if len(cl.Tokens) != 1 || cl.Tokens[0].Token != "stETH" || cl.Tokens[0].Claimable == "0" {
			t.Fatalf("claimable %+v", cl)
		}
		var root RewardsRoot
		c.getJSON("/v1/rewards/root", &root)
		var claim RewardsClaim
		c.getJSON("/v1/rewards/proof/"+staker.String(), &claim)
		if claim.Root != root.Root || claim.Height != root.Height || root.Earners < 2 {
			t.Fatalf("claim root %s at %d, root %+v", claim.Root, claim.Height, root)
		}
		rc := claimFromJSON(t, claim)
		if err := rewardtree.VerifyClaim(rc); err != nil {
			t.Fatalf("the claim does not verify: %v", err)
		}
		if len(claim.TokenLeaves) != 1 || claim.TokenLeaves[0].Name != "stETH" ||
			claim.TokenLeaves[0].CumulativeEarnings != cl.Tokens[0].Claimable {
			t.Fatalf("token leaves %+v, claimable %+v", claim.TokenLeaves, cl.Tokens)
		}
		// A claim for another amount must not verify: the test can fail.
		rc.TokenLeaves[0].CumulativeEarnings.AddUint64(&rc.TokenLeaves[0].CumulativeEarnings, 1)
		if rewardtree.VerifyClaim(rc) == nil {
			t.Fatal("a claim with a tampered amount verifies")
		}
	})

	t.Run("complete the withdrawal with wait", func(t *testing.T) {
		// Walk to the block before the unlock block: the next block can
		// complete it.
		for {
			var w withdrawalJSON
			c.getJSON("/v1/withdrawals/"+f.withdrawal, &w)
			if w.UnlocksInBlocks == 0 {
				break
			}
			c.block()
		}
		raw := c.sign("staker", ledger.CompleteWithdrawal{Withdrawal: mustWID(t, f.withdrawal), AsTokens: true})
		res := c.submitWaitWhileProducing(raw)
		if res.Status != "committed" || res.Result == nil || res.Result.Error != "" || res.Error != "" {
			t.Fatalf("complete: %+v", res)
		}
		var a accountJSON
		c.getJSON("/v1/accounts/"+staker.String(), &a)
		if len(a.Withdrawals) != 0 || len(a.Balances) != 1 || a.Balances[0].Amount != "7500000000000000000" {
			t.Fatalf("after completion: %+v", a)
		}
		status, body, _ := c.do(http.MethodGet, "/v1/withdrawals/"+f.withdrawal, "", nil)
		wantError(t, status, body, http.StatusNotFound, NameWithdrawalNotFound)
	})

	t.Run("prices go stale", func(t *testing.T) {
		c.now.Add(2 * 3600)
		c.block()
		var p struct {
			Stale bool `json:"stale"`
		}
		c.getJSON("/v1/prices/stETH", &p)
		if !p.Stale {
			t.Fatalf("a two-hour-old price is not stale: %+v", p)
		}
	})

	t.Run("health and metrics", func(t *testing.T) {
		var h Health
		c.getJSON("/healthz", &h)
		if h.Status != "ok" || h.Height == 0 {
			t.Fatalf("health %+v", h)
		}
		status, body, hdr := c.do(http.MethodGet, "/metrics", "", nil)
		if status != http.StatusOK || !bytes.Contains(body, []byte("restake_height ")) ||
			!strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
			t.Fatalf("metrics: %d %s", status, hdr.Get("Content-Type"))
		}
	})
}

// submitWaitWhileProducing posts one transaction with ?wait=true and
// produces the block that commits it once it reaches the mempool.
func (c *chain) submitWaitWhileProducing(raw []byte) submitJSON {
	c.t.Helper()
	produced := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for c.node.MempoolSize() == 0 {
			if time.Now().After(deadline) {
				produced <- errors.New("the transaction never reached the mempool")
				return
			}
			time.Sleep(time.Millisecond)
		}
		c.now.Add(testBlockSecs)
		produced <- c.node.ProduceBlock()
	}()
	body, _ := json.Marshal(map[string]string{"tx": hexTx(raw)})
	status, data, _ := c.do(http.MethodPost, "/v1/txs?wait=true&timeout=30s", "application/json", body)
	if err := <-produced; err != nil {
		c.t.Fatal(err)
	}
	if status != http.StatusOK {
		c.t.Fatalf("POST ?wait=true: %d %s", status, data)
	}
	var resp struct{ Results []submitJSON }
	if err := json.Unmarshal(data, &resp); err != nil || len(resp.Results) != 1 {
		c.t.Fatalf("POST ?wait=true: %s: %v", data, err)
	}
	return resp.Results[0]
}

func mustWID(t *testing.T, s string) ledger.WithdrawalID {
	t.Helper()
	id, err := ledger.ParseWithdrawalID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// checkProof verifies a returned record against the returned app hash,
// checks it is the ledger's record under the expected key, and that a
// tampered value (or a false claim of absence) fails.
func checkProof(t *testing.T, rec *recordJSON, key, ledgerValue []byte, present bool, appHash string) {
	t.Helper()
	if rec.Key != "0x"+hex.EncodeToString(key) {
		t.Fatalf("key %s, want %x", rec.Key, key)
	}
	if rec.AppHash != appHash {
		t.Fatalf("app hash %s, the chain's is %s", rec.AppHash, appHash)
	}
	var root [32]byte
	if b, err := hex.DecodeString(strings.TrimPrefix(rec.AppHash, "0x")); err != nil || len(b) != 32 {
		t.Fatalf("app hash %q", rec.AppHash)
	} else {
		copy(root[:], b)
	}
	var p statetree.Proof
	if err := json.Unmarshal(rec.Proof, &p); err != nil {
		t.Fatalf("proof %s: %v", rec.Proof, err)
	}
	if !present {
		if rec.Value != nil || ledgerValue != nil {
			t.Fatalf("value %v for an absent record (ledger: %x)", *rec.Value, ledgerValue)
		}
		if err := statetree.Verify(root, key, nil, p); err != nil {
			t.Fatalf("non-membership proof does not verify: %v", err)
		}
		if statetree.Verify(root, key, []byte{1}, p) == nil {
			t.Fatal("a non-membership proof also proves a value")
		}
		return
	}
	if rec.Value == nil {
		t.Fatal("no value for a present record")
	}
	value, err := hex.DecodeString(strings.TrimPrefix(*rec.Value, "0x"))
	if err != nil || !bytes.Equal(value, ledgerValue) {
		t.Fatalf("value %s, the ledger's record is %x", *rec.Value, ledgerValue)
	}
	if err := statetree.Verify(root, key, value, p); err != nil {
		t.Fatalf("proof does not verify: %v", err)
	}
	tampered := append([]byte(nil), value...)
	tampered[len(tampered)-1] ^= 1
	if err := statetree.Verify(root, key, tampered, p); !errors.Is(err, statetree.ErrProofMismatch) {
		t.Fatalf("a tampered value: %v, want ErrProofMismatch", err)
	}
	if statetree.Verify(root, key, nil, p) == nil {
		t.Fatal("a membership proof also proves absence")
	}
}

// claimFromJSON reads a RewardsClaim back into a rewardtree.Claim.
func claimFromJSON(t *testing.T, c RewardsClaim) rewardtree.Claim {
	t.Helper()
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
		if err != nil {
			t.Fatalf("hex %q: %v", s, err)
		}
		return b
	}
	addr := func(s string) rewardtree.Address {
		a, err := ledger.ParseAddress(s)
		if err != nil {
			t.Fatal(err)
		}
		return rewardtree.Address(a)
	}
	out := rewardtree.Claim{EarnerIndex: c.EarnerIndex, EarnerTreeProof: unhex(c.EarnerTreeProof),
		TokenIndices: c.TokenIndices}
	copy(out.Root[:], unhex(c.Root))
	out.EarnerLeaf.Earner = addr(c.EarnerLeaf.Earner)
	copy(out.EarnerLeaf.EarnerTokenRoot[:], unhex(c.EarnerLeaf.EarnerTokenRoot))
	for _, p := range c.TokenTreeProofs {
		out.TokenTreeProofs = append(out.TokenTreeProofs, unhex(p))
	}
	for _, l := range c.TokenLeaves {
		out.TokenLeaves = append(out.TokenLeaves, rewardtree.TokenLeaf{Token: addr(l.Token),
			CumulativeEarnings: amount(l.CumulativeEarnings)})
	}
	return out
}

// wantError checks an error response: its status, its stable name, and
// the one error shape.
func wantError(t *testing.T, status int, body []byte, wantStatus int, wantName string) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("status %d, body %q is not JSON: %v", status, body, err)
	}
	if status != wantStatus || e["error"] != wantName {
		t.Fatalf("status %d error %v (%s), want %d %s", status, e["error"], e["message"], wantStatus, wantName)
	}
	msg, _ := e["message"].(string)
	if code, _ := e["status"].(float64); int(code) != status || msg == "" || len(e) != 3 {
		t.Fatalf("error body %s is not {error, message, status}", body)
	}
}

// TestRewardsTreeCachedPerHeight checks that the rewards tree, which reads
// every account, is built once per height and rebuilt after a block.
func TestRewardsTreeCachedPerHeight(t *testing.T) {
	c := newChain(t, Options{})
	s := &server{node: c.node}
	first, err := s.distribution()
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.distribution()
	if err != nil {
		t.Fatal(err)
	}
	if again.dist != first.dist {
		t.Fatal("the tree was rebuilt at the same height")
	}
	c.block()
	next, err := s.distribution()
	if err != nil {
		t.Fatal(err)
	}
	if next.dist == first.dist || next.height != first.height+1 {
		t.Fatalf("after a block: height %d (was %d), same tree %v", next.height, first.height,
			next.dist == first.dist)
	}
}
