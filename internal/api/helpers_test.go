package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/store"
	"github.com/restake/restake/internal/tx"
)

// Test chain parameters: short delays so that a test can walk a
// withdrawal to its unlock block, and 100-second reward intervals so that
// one block can close an interval.
const (
	testChainID   = "restake-api-test"
	testGenesis   = 1_711_000_000 // a multiple of the reward interval
	testInterval  = 100
	testDelay     = 5
	testBlockSecs = 12
)

// chain is an in-process node with its API behind a real HTTP server, and
// the keys of the accounts the tests act as.
type chain struct {
	t     *testing.T
	node  *node.Node
	srv   *httptest.Server
	now   atomic.Int64 // the node's clock, unix seconds
	keys  map[string]*keys.PrivateKey
	nonce map[string]uint64 // the next nonce each test account signs with
	store *failingStore
}

// failingStore is the Pebble store with a switch that makes commits fail,
// which halts the node.
type failingStore struct {
	*store.Store
	fail atomic.Bool
}

// Commit fails while the switch is on.
func (s *failingStore) Commit(c *app.Committed) error {
	if s.fail.Load() {
		return errors.New("test: the disk is gone")
	}
	return s.Store.Commit(c)
}

// The accounts of the test chain.
var testAccounts = []string{"admin", "oracle", "pricer", "staker", "operator", "avs", "stranger"}

func newChain(t *testing.T, opts Options) *chain {
	t.Helper()
	c := &chain{t: t, keys: map[string]*keys.PrivateKey{}, nonce: map[string]uint64{}}
	for _, name := range testAccounts {
		seed := sha256.Sum256([]byte("restake api test key " + name))
		k, err := keys.FromBytes(seed[:])
		if err != nil {
			t.Fatalf("key %s: %v", name, err)
		}
		c.keys[name] = k
	}
	g := &app.Genesis{ChainID: testChainID, GenesisTime: testGenesis,
		Params: app.GenesisParams{WithdrawalDelayBlocks: testDelay, DeallocationDelayBlocks: testDelay,
			AllocationConfigurationDelayBlocks: testDelay, CalculationIntervalSeconds: testInterval,
			GenesisRewardsTimestamp: testGenesis, ActivationDelaySeconds: testInterval},
		Admins: []string{c.addr("admin").String()}, BeaconOracles: []string{c.addr("oracle").String()},
		PriceOracles: []string{c.addr("pricer").String()}}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.store = &failingStore{Store: st}
	a, err := app.New(g, c.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	c.now.Store(testGenesis)
	c.node = node.New(node.Config{}, a, c.store, func() time.Time { return time.Unix(c.now.Load(), 0) })
	t.Cleanup(c.node.WaitPublished) // runs before the store closes
	c.srv = httptest.NewServer(New(c.node, opts))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *chain) addr(name string) ledger.Address { return ledger.Address(c.keys[name].Address()) }

// signNonce signs op from name with an explicit nonce, leaving the
// tracked nonce alone.
func (c *chain) signNonce(name string, nonce uint64, op ledger.Op) []byte {
	c.t.Helper()
	return c.signFor(testChainID, name, nonce, op)
}

func (c *chain) signFor(chainID, name string, nonce uint64, op ledger.Op) []byte {
	c.t.Helper()
	body := tx.Tx{ChainID: chainID, Nonce: nonce, Op: op}
	h, err := body.SigningHash()
	if err != nil {
		c.t.Fatalf("signing hash of %s: %v", op.OpName(), err)
	}
	sig, err := c.keys[name].Sign(h)
	if err != nil {
		c.t.Fatal(err)
	}
	raw, err := tx.Signed{Tx: body, Sig: sig}.Encode()
	if err != nil {
		c.t.Fatal(err)
	}
	return raw
}

// sign signs op from name with its next nonce and counts it.
func (c *chain) sign(name string, op ledger.Op) []byte {
	c.t.Helper()
	raw := c.signNonce(name, c.nonce[name], op)
	c.nonce[name]++
	return raw
}

func hexTx(raw []byte) string { return "0x" + hex.EncodeToString(raw) }

// block produces one block, twelve seconds after the last.
func (c *chain) block() {
	c.t.Helper()
	c.now.Add(testBlockSecs)
	if err := c.node.ProduceBlock(); err != nil {
		c.t.Fatalf("produce block: %v", err)
	}
}

// do sends a request and returns the status and body.
func (c *chain) do(method, path, contentType string, body []byte) (int, []byte, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, data, resp.Header
}

// getJSON GETs path, requires 200 and decodes the body into v.
func (c *chain) getJSON(path string, v any) {
	c.t.Helper()
	status, body, _ := c.do(http.MethodGet, path, "", nil)
	if status != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		c.t.Fatalf("GET %s: decode %s: %v", path, body, err)
	}
}

// submit POSTs signed transactions as a batch and requires each to be
// accepted, returning their hashes.
func (c *chain) submit(raws ...[]byte) []string {
	c.t.Helper()
	txs := make([]string, len(raws))
	for i, r := range raws {
		txs[i] = hexTx(r)
	}
	body, _ := json.Marshal(map[string]any{"txs": txs})
	status, data, _ := c.do(http.MethodPost, "/v1/txs", "application/json", body)
	if status != http.StatusOK {
		c.t.Fatalf("POST /v1/txs: %d %s", status, data)
	}
	var resp struct{ Results []submitJSON }
	if err := json.Unmarshal(data, &resp); err != nil {
		c.t.Fatal(err)
	}
	hashes := make([]string, len(resp.Results))
	for i, r := range resp.Results {
		if r.Status != "pending" {
			c.t.Fatalf("tx %d: %s %s: %s", i, r.Status, r.Error, r.Message)
		}
		hashes[i] = r.Hash
	}
	return hashes
}

// txJSON is app.TxResult (with TxStatus's status) as a client reads it:
// events stay raw, since ledger.Event has no JSON decoder.
type txJSON struct {
	Status string            `json:"status"`
	Hash   string            `json:"hash"`
	Height uint64            `json:"height"`
	Index  int               `json:"index"`
	Sender string            `json:"sender"`
	Op     string            `json:"op"`
	Nonce  uint64            `json:"nonce"`
	Code   uint32            `json:"code"`
	Error  string            `json:"error"`
	Hint   string            `json:"hint"`
	Result json.RawMessage   `json:"result"`
	Events []json.RawMessage `json:"events"`
}

// submitJSON is a SubmitResult as a client reads it.
type submitJSON struct {
	Hash    string  `json:"hash"`
	Status  string  `json:"status"`
	Error   string  `json:"error"`
	Message string  `json:"message"`
	Result  *txJSON `json:"result"`
}

// committed returns a committed transaction's result, requiring the
// operation to have succeeded unless wantErr names its error.
func (c *chain) committed(hash, wantErr string) txJSON {
	c.t.Helper()
	var st txJSON
	c.getJSON("/v1/txs/"+hash, &st)
	if st.Status != "committed" || st.Hash != hash {
		c.t.Fatalf("tx %s: status %q hash %s, want committed", hash, st.Status, st.Hash)
	}
	if st.Error != wantErr {
		c.t.Fatalf("tx %s (%s): error %q (%s), want %q", hash, st.Op, st.Error, st.Hint, wantErr)
	}
	return st
}

// appHash reads the app hash from /v1/status.
func (c *chain) appHash() string {
	c.t.Helper()
	var st Status
	c.getJSON("/v1/status", &st)
	return st.AppHash
}

func amount(s string) uint256.Int {
	v, err := uint256.FromDecimal(s)
	if err != nil {
		panic(err)
	}
	return *v
}

// e18 is n·10^18 as a uint256.
func e18(n uint64) uint256.Int {
	return *new(uint256.Int).Mul(uint256.NewInt(n), uint256.NewInt(1e18))
}
