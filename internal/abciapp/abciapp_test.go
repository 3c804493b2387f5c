package abciapp

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/apptest"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/statetree"
	"github.com/restake/restake/internal/store"
)

var ctx = context.Background()

// chain is an ABCI app over a node over a Pebble store at genesis.
type chain struct {
	t       *testing.T
	app     *App
	node    *node.Node
	genesis []byte
	height  int64
}

func newChain(t *testing.T) *chain {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := apptest.Genesis()
	a, err := app.New(g, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	n := node.New(node.Config{MaxBlockTxs: 100}, a, st, time.Now)
	t.Cleanup(n.WaitPublished)
	doc, _ := json.MarshalIndent(g, "", "    ")
	ap, err := New(n, doc, 100, "test")
	if err != nil {
		t.Fatal(err)
	}
	n.Attach(stubConsensus{ap})
	return &chain{t: t, app: ap, node: n, genesis: doc}
}

// stubConsensus is the node's view of a mempool that is the app's own
// CheckTx, as CometBFT's would be.
type stubConsensus struct{ a *App }

func (s stubConsensus) Broadcast(c app.Checked) *ledger.Error {
	r, _ := s.a.CheckTx(ctx, &abci.RequestCheckTx{Tx: c.Raw})
	if r.Code != 0 {
		return ledger.ErrorByName(r.Log)
	}
	return nil
}
func (s stubConsensus) NextNonce(a ledger.Address, c uint64) uint64 { return s.a.NextNonce(a, c) }
func (s stubConsensus) Has(h [32]byte) bool                         { return s.a.Has(h) }
func (s stubConsensus) Size() int                                   { return 0 }

func deposit(amount uint64) ledger.Op {
	return ledger.Deposit{Strategy: "stETH", Amount: *uint256.NewInt(amount)}
}

// block runs a block through FinalizeBlock and Commit, as CometBFT does.
func (c *chain) block(txs ...[]byte) *abci.ResponseFinalizeBlock {
	c.t.Helper()
	c.height++
	res, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: c.height,
		Time: time.Unix(apptest.GenesisTime+c.height, 0), Txs: txs})
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.app.Commit(ctx, &abci.RequestCommit{}); err != nil {
		c.t.Fatal(err)
	}
	return res
}

func (c *chain) check(raw []byte, typ abci.CheckTxType) *abci.ResponseCheckTx {
	c.t.Helper()
	r, err := c.app.CheckTx(ctx, &abci.RequestCheckTx{Tx: raw, Type: typ})
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

func TestInfoAndInitChain(t *testing.T) {
	c := newChain(t)
	info, _ := c.app.Info(ctx, &abci.RequestInfo{})
	if info.LastBlockHeight != 0 || len(info.LastBlockAppHash) != 0 {
		t.Fatalf("Info at genesis: %+v", info)
	}
	req := &abci.RequestInitChain{ChainId: apptest.ChainID, Time: time.Unix(apptest.GenesisTime, 0),
		InitialHeight: 1, AppStateBytes: c.genesis}
	res, err := c.app.InitChain(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var want [32]byte
	c.node.Read(func(a *app.App) { want = a.AppHash() })
	if !bytes.Equal(res.AppHash, want[:]) {
		t.Fatalf("InitChain app hash %x, want the genesis root %x", res.AppHash, want)
	}
	// The same genesis laid out differently is the same genesis.
	var compact bytes.Buffer
	json.Compact(&compact, c.genesis)
	req.AppStateBytes = compact.Bytes()
	if _, err := c.app.InitChain(ctx, req); err != nil {
		t.Fatalf("a compacted copy of the genesis: %v", err)
	}

	other := apptest.Genesis()
	other.Treasury = apptest.Key(5).Address().Hex()
	otherDoc, _ := json.Marshal(other)
	for name, bad := range map[string]*abci.RequestInitChain{
		"chain id":       {ChainId: "other", Time: req.Time, AppStateBytes: c.genesis},
		"app state":      {ChainId: apptest.ChainID, Time: req.Time, AppStateBytes: otherDoc},
		"not a genesis":  {ChainId: apptest.ChainID, Time: req.Time, AppStateBytes: []byte(`{"x":1}`)},
		"early time":     {ChainId: apptest.ChainID, Time: time.Unix(apptest.GenesisTime-1, 0), AppStateBytes: c.genesis},
		"initial height": {ChainId: apptest.ChainID, Time: req.Time, AppStateBytes: c.genesis, InitialHeight: 5},
	} {
		if _, err := c.app.InitChain(ctx, bad); err == nil {
			t.Errorf("InitChain accepted a different %s", name)
		}
	}

	c.block(apptest.NewSigner(1).Sign(deposit(5)))
	info, _ = c.app.Info(ctx, &abci.RequestInfo{})
	c.node.Read(func(a *app.App) { want = a.AppHash() })
	if info.LastBlockHeight != 1 || !bytes.Equal(info.LastBlockAppHash, want[:]) {
		t.Fatalf("Info after a block: height %d hash %x, want 1 %x", info.LastBlockHeight, info.LastBlockAppHash, want)
	}
}

// TestCheckTxSequencesNonces: the mempool takes a sender's transactions in
// nonce order only, rechecks rebuild its view after a commit, and a
// refused transaction never changes state.
func TestCheckTxSequencesNonces(t *testing.T) {
	c := newChain(t)
	s := apptest.NewSigner(1)
	tx0, tx1, tx2 := s.Sign(deposit(1)), s.Sign(deposit(2)), s.Sign(deposit(3))
	var before [32]byte
	c.node.Read(func(a *app.App) { before = a.AppHash() })

	if r := c.check(tx1, abci.CheckTxType_New); r.Log != "NonceTooHigh" || r.Code == 0 {
		t.Fatalf("nonce 1 before 0: %+v", r)
	}
	for i, raw := range [][]byte{tx0, tx1} {
		if r := c.check(raw, abci.CheckTxType_New); r.Code != 0 {
			t.Fatalf("tx %d: %+v", i, r)
		}
	}
	if r := c.check(tx0, abci.CheckTxType_New); r.Log != "NonceTooLow" {
		t.Fatalf("tx 0 twice: %+v", r)
	}
	if got := c.app.NextNonce(apptest.Addr(1), 0); got != 2 {
		t.Fatalf("next nonce %d, want 2", got)
	}
	if !c.app.Has(app.TxHash(tx1)) || c.app.Has(app.TxHash(tx2)) {
		t.Fatal("Has does not follow the mempool")
	}
	var after [32]byte
	c.node.Read(func(a *app.App) { after = a.AppHash() })
	if after != before {
		t.Fatal("CheckTx changed the state")
	}

	bad := append([]byte(nil), tx2...)
	bad[len(bad)-10] ^= 1 // the signature: recovers another signer, whose nonce 2 is too high
	for name, raw := range map[string][]byte{
		"garbage":     []byte("not a transaction"),
		"wrong chain": mustSign(t)(apptest.SignWith(apptest.Key(1), 2, "other-chain", deposit(1))),
		"bad sig":     bad,
		"too large":   make([]byte, 1<<20),
	} {
		if r := c.check(raw, abci.CheckTxType_New); r.Code == 0 || r.Codespace != Codespace {
			t.Errorf("%s admitted: %+v", name, r)
		}
	}

	// Block 1 holds tx0. The recheck after it keeps tx1 and takes tx2 next.
	c.block(tx0)
	if c.app.Has(app.TxHash(tx1)) {
		t.Fatal("the mempool view survived the commit")
	}
	if r := c.check(tx1, abci.CheckTxType_Recheck); r.Code != 0 {
		t.Fatalf("recheck of tx1: %+v", r)
	}
	if r := c.check(tx2, abci.CheckTxType_New); r.Code != 0 {
		t.Fatalf("tx2 after the recheck: %+v", r)
	}
	// A recheck of a transaction the block already included fails.
	if r := c.check(tx0, abci.CheckTxType_Recheck); r.Log != "NonceTooLow" {
		t.Fatalf("recheck of a committed tx: %+v", r)
	}
}

func mustSign(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func TestProcessProposalRejectsInvalidTransactions(t *testing.T) {
	c := newChain(t)
	s1, s2 := apptest.NewSigner(1), apptest.NewSigner(2)
	a0, a1, b0 := s1.Sign(deposit(1)), s1.Sign(deposit(2)), s2.Sign(deposit(3))
	badSig := append([]byte(nil), b0...)
	badSig[len(badSig)-1] ^= 0xff // recovery id out of range
	wrongChain := mustSign(t)(apptest.SignWith(apptest.Key(3), 0, "other-chain", deposit(1)))
	failing := apptest.NewSigner(4).Sign(ledger.Deposit{Strategy: "nope", Amount: *uint256.NewInt(1)})

	for name, tc := range map[string]struct {
		txs    [][]byte
		accept bool
	}{
		"empty":                         {nil, true},
		"in order":                      {[][]byte{a0, b0, a1}, true},
		"a failing op is still valid":   {[][]byte{failing}, true},
		"nonce gap":                     {[][]byte{a1}, false},
		"out of order":                  {[][]byte{a1, a0}, false},
		"duplicate":                     {[][]byte{a0, a0}, false},
		"bad signature":                 {[][]byte{a0, badSig}, false},
		"wrong chain":                   {[][]byte{wrongChain}, false},
		"garbage":                       {[][]byte{a0, []byte{1, 2, 3}}, false},
		"more than max_block_txs (100)": {tooMany(t), false},
	} {
		res, err := c.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Height: 1, Txs: tc.txs})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Status == abci.ResponseProcessProposal_ACCEPT; got != tc.accept {
			t.Errorf("%s: status %v, want accept=%v", name, res.Status, tc.accept)
		}
	}

	// PrepareProposal builds a valid block out of the same mess.
	prep, err := c.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{MaxTxBytes: 1 << 20,
		Txs: [][]byte{a1, a0, badSig, b0, wrongChain, a1, failing}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{a0, b0, a1, failing}
	if len(prep.Txs) != len(want) {
		t.Fatalf("prepared %d txs, want %d", len(prep.Txs), len(want))
	}
	for i := range want {
		if !bytes.Equal(prep.Txs[i], want[i]) {
			t.Fatalf("prepared tx %d differs", i)
		}
	}
	res, _ := c.app.ProcessProposal(ctx, &abci.RequestProcessProposal{Height: 1, Txs: prep.Txs})
	if res.Status != abci.ResponseProcessProposal_ACCEPT {
		t.Fatal("ProcessProposal rejected PrepareProposal's own block")
	}
	// The byte limit: room for two transactions only.
	prep, _ = c.app.PrepareProposal(ctx, &abci.RequestPrepareProposal{MaxTxBytes: int64(len(a0) + len(b0)),
		Txs: [][]byte{a0, b0, a1}})
	if len(prep.Txs) != 2 {
		t.Fatalf("prepared %d txs under a two-transaction byte limit", len(prep.Txs))
	}

	// The accepted block executes: the failing op is a result, not a halt.
	fin := c.block(want...)
	if len(fin.TxResults) != 4 || fin.TxResults[3].Code == 0 || fin.TxResults[3].Log != "StrategyNotWhitelisted" {
		t.Fatalf("results: %+v", fin.TxResults)
	}
	for i := range 3 {
		if fin.TxResults[i].Code != 0 || len(fin.TxResults[i].Data) == 0 {
			t.Fatalf("tx %d: %+v", i, fin.TxResults[i])
		}
	}
}

func tooMany(t *testing.T) [][]byte {
	s := apptest.NewSigner(6)
	out := make([][]byte, 101)
	for i := range out {
		out[i] = s.Sign(deposit(1))
	}
	return out
}

// TestFinalizeThenCommit: FinalizeBlock persists nothing and keeps readers
// on the committed state until Commit; then the results are stored and the
// app hash is the one FinalizeBlock returned.
func TestFinalizeThenCommit(t *testing.T) {
	c := newChain(t)
	raw := apptest.NewSigner(1).Sign(deposit(7))
	res, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 1,
		Time: time.Unix(apptest.GenesisTime+5, 0), Txs: [][]byte{raw}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.node.TxResult(app.TxHash(raw)); ok {
		t.Fatal("a finalized, uncommitted transaction is in the store")
	}
	read := make(chan uint64)
	go c.node.Read(func(a *app.App) { read <- a.Height() })
	select {
	case h := <-read:
		t.Fatalf("a reader ran between FinalizeBlock and Commit (height %d)", h)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 2, Time: time.Unix(apptest.GenesisTime+6, 0)}); err == nil {
		t.Fatal("a second FinalizeBlock before Commit succeeded")
	}
	if _, err := c.app.Commit(ctx, &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	if h := <-read; h != 1 {
		t.Fatalf("the reader saw height %d after Commit, want 1", h)
	}
	r, ok, err := c.node.TxResult(app.TxHash(raw))
	if err != nil || !ok || r.Code != 0 || r.Height != 1 {
		t.Fatalf("stored result: %+v %v %v", r, ok, err)
	}
	var hash [32]byte
	c.node.Read(func(a *app.App) { hash = a.AppHash() })
	if !bytes.Equal(res.AppHash, hash[:]) {
		t.Fatal("FinalizeBlock's app hash is not the committed one")
	}
	if _, err := c.app.Commit(ctx, &abci.RequestCommit{}); err == nil {
		t.Fatal("Commit without a finalized block succeeded")
	}
	if _, err := c.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 5, Time: time.Unix(apptest.GenesisTime+9, 0)}); err == nil {
		t.Fatal("a block out of order was executed")
	}
}

func TestQueryProvesRecords(t *testing.T) {
	c := newChain(t)
	c.block(apptest.NewSigner(1).Sign(deposit(9)))
	var key []byte
	var root [32]byte
	c.node.Read(func(a *app.App) {
		root = a.AppHash()
		recs := a.Ledger().Records()
		key = recs[len(recs)/2].Key
	})
	res, err := c.app.Query(ctx, &abci.RequestQuery{Path: "/record", Data: key, Prove: true})
	if err != nil || res.Code != 0 || res.Height != 1 || len(res.Value) == 0 || res.ProofOps == nil {
		t.Fatalf("query: %+v %v", res, err)
	}
	op := res.ProofOps.Ops[0]
	if op.Type != ProofOpType || !bytes.Equal(op.Key, key) {
		t.Fatalf("proof op %+v", op)
	}
	var p statetree.Proof
	if err := json.Unmarshal(op.Data, &p); err != nil {
		t.Fatal(err)
	}
	if err := statetree.Verify(root, key, res.Value, p); err != nil {
		t.Fatalf("proof does not verify: %v", err)
	}
	if statetree.Verify(root, key, append(res.Value, 0), p) == nil {
		t.Fatal("proof verifies a forged value")
	}
	// An absent key: no value, and a proof of absence.
	res, _ = c.app.Query(ctx, &abci.RequestQuery{Path: "/record", Data: []byte("no such key"), Prove: true})
	if res.Code != 0 || res.Value != nil {
		t.Fatalf("absent key: %+v", res)
	}
	json.Unmarshal(res.ProofOps.Ops[0].Data, &p)
	if err := statetree.Verify(root, []byte("no such key"), nil, p); err != nil {
		t.Fatalf("absence proof: %v", err)
	}
	for name, q := range map[string]*abci.RequestQuery{
		"old height":   {Path: "/record", Data: key, Height: 0 + 7},
		"unknown path": {Path: "/nope"},
	} {
		if res, _ := c.app.Query(ctx, q); res.Code == 0 {
			t.Errorf("%s: answered %+v", name, res)
		}
	}
	res, _ = c.app.Query(ctx, &abci.RequestQuery{Path: "/status"})
	var st struct{ Height uint64 }
	if json.Unmarshal(res.Value, &st); res.Code != 0 || st.Height != 1 {
		t.Fatalf("status: %+v", res)
	}
}

// TestNodeSubmitGoesThroughCheckTx: with a consensus engine attached, the
// node's Submit (the API's path) is the engine's CheckTx verdict, and its
// next nonce counts the engine's mempool.
func TestNodeSubmitGoesThroughCheckTx(t *testing.T) {
	c := newChain(t)
	s := apptest.NewSigner(2)
	t0, t1 := s.Sign(deposit(1)), s.Sign(deposit(1))
	if _, lerr := c.node.Submit(t1); lerr != ledger.ErrNonceTooHigh {
		t.Fatalf("skipped nonce: %v", lerr)
	}
	if _, lerr := c.node.Submit(t0); lerr != nil {
		t.Fatal(lerr)
	}
	if got := c.node.NextNonce(apptest.Addr(2)); got != 1 {
		t.Fatalf("NextNonce %d, want 1", got)
	}
	if !c.node.Pending(app.TxHash(t0)) {
		t.Fatal("the submitted transaction is not pending")
	}
	if err := c.node.ProduceBlock(); err != node.ErrExternalConsensus {
		t.Fatalf("ProduceBlock with an engine attached: %v", err)
	}
	c.block(t0)
	if _, lerr := c.node.Submit(t0); lerr != ledger.ErrTxAlreadyKnown {
		t.Fatalf("resubmitting a committed tx: %v", lerr)
	}
}
