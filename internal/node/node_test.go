package node_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/apptest"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/store"
)

// fakeClock moves 12 s per call.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(12 * time.Second)
	return c.t
}

func (c *fakeClock) jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var lastClock *fakeClock

func newNode(t *testing.T, cfg node.Config) (*node.Node, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := app.New(apptest.Genesis(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(apptest.GenesisTime, 0)}
	lastClock = clock
	n := node.New(cfg, a, st, clock.now)
	t.Cleanup(n.WaitPublished) // runs before the store closes
	return n, st
}

func eth(n uint64) uint256.Int { return *new(uint256.Int).Mul(uint256.NewInt(n), uint256.NewInt(1e18)) }

func TestSubmitOrdersNoncesAndCommits(t *testing.T) {
	n, _ := newNode(t, node.Config{})
	alice := apptest.NewSigner(3)
	first := alice.Sign(ledger.Deposit{Strategy: "stETH", Amount: eth(1)})
	second := alice.Sign(ledger.Deposit{Strategy: "stETH", Amount: eth(2)})
	skipped := alice.Sign(ledger.Deposit{Strategy: "stETH", Amount: eth(3)}) // nonce 2
	if _, err := n.Submit(second); err != ledger.ErrNonceTooHigh {
		t.Fatalf("nonce 1 before nonce 0: %v, want NonceTooHigh", err)
	}
	h1, err := n.Submit(first)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Submit(first); err != ledger.ErrTxAlreadyKnown {
		t.Fatalf("the same transaction twice: %v, want TxAlreadyKnown", err)
	}
	h2, err := n.Submit(second)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.NextNonce(apptest.Addr(3)); got != 2 {
		t.Fatalf("next nonce %d with two pending, want 2", got)
	}
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	for _, h := range [][32]byte{h1, h2} {
		r, ok, err := n.TxResult(h)
		if err != nil || !ok || r.Code != 0 {
			t.Fatalf("result of %x: %+v ok=%v err=%v", h[:4], r, ok, err)
		}
	}
	if _, err := n.Submit(first); err != ledger.ErrTxAlreadyKnown {
		t.Fatalf("a committed transaction again: %v, want TxAlreadyKnown", err)
	}
	stale := alice.Sign(ledger.Deposit{Strategy: "stETH", Amount: eth(1)})
	_ = stale
	old, _ := apptest.SignWith(apptest.Key(3), 0, apptest.ChainID, ledger.Deposit{Strategy: "stETH", Amount: eth(9)})
	if _, err := n.Submit(old); err != ledger.ErrNonceTooLow {
		t.Fatalf("a used nonce: %v, want NonceTooLow", err)
	}
	if _, err := n.Submit(skipped); err != nil {
		t.Fatalf("nonce 2 after 0 and 1 committed: %v", err)
	}
}

func TestWaitAndSubscribe(t *testing.T) {
	n, _ := newNode(t, node.Config{})
	sub := n.Subscribe()
	defer n.Unsubscribe(sub)
	raw := apptest.NewSigner(1).Sign(ledger.RegisterOperator{Metadata: "https://op.example"})
	h, err := n.Submit(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan app.TxResult, 1)
	go func() {
		r, err := n.Wait(ctx, h)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	time.Sleep(20 * time.Millisecond) // let Wait register (correct either way: Wait also reads the store)
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.Code != 0 || r.Op != "register_operator" || r.Height != 1 {
			t.Fatalf("waited result %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("Wait did not return after the block")
	}
	select {
	case evs := <-sub:
		if len(evs) == 0 || evs[0].Event.Kind.String() != "OperatorRegistered" {
			t.Fatalf("events %+v", evs)
		}
	case <-ctx.Done():
		t.Fatal("no events")
	}
}

func TestMempoolFullAndBlockCap(t *testing.T) {
	n, _ := newNode(t, node.Config{MempoolSize: 3, MaxBlockTxs: 2})
	for i := 1; i <= 3; i++ {
		if _, err := n.Submit(apptest.NewSigner(i).Sign(ledger.RegisterAVS{})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Submit(apptest.NewSigner(4).Sign(ledger.RegisterAVS{})); err != ledger.ErrMempoolFull {
		t.Fatalf("a fourth transaction: %v, want MempoolFull", err)
	}
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	if n.MempoolSize() != 1 {
		t.Fatalf("a block takes at most MaxBlockTxs: %d left, want 1", n.MempoolSize())
	}
}

func TestRunProducesBlocksUntilCancelled(t *testing.T) {
	n, _ := newNode(t, node.Config{BlockInterval: 5 * time.Millisecond, EmptyBlocks: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var h uint64
		n.Read(func(a *app.App) { h = a.Height() })
		if h >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no blocks produced")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRootsPublishedEachInterval: crossing a calculation interval publishes
// the Merkle root of everyone's cumulative earnings at that block, stored
// and listed, equal to a tree built from the ledger's earnings.
func TestRootsPublishedEachInterval(t *testing.T) {
	n, st := newNode(t, node.Config{})
	op, avs, alice := apptest.NewSigner(1), apptest.NewSigner(2), apptest.NewSigner(3)
	set := ledger.OperatorSet{AVS: apptest.Addr(2), ID: 0}
	admin := apptest.NewSigner(0)
	for _, raw := range [][]byte{
		op.Sign(ledger.RegisterOperator{}), avs.Sign(ledger.RegisterAVS{}),
		alice.Sign(ledger.Deposit{Strategy: "stETH", Amount: eth(10)}),
		alice.Sign(ledger.Delegate{Operator: apptest.Addr(1)}),
		avs.Sign(ledger.CreateOperatorSet{ID: 0, Strategies: []string{"stETH"}}),
		op.Sign(ledger.RegisterForSets{AVS: apptest.Addr(2), Sets: []uint32{0}}),
		op.Sign(ledger.ModifyAllocations{Set: set, Strategies: []string{"stETH"}, Magnitudes: []uint64{5e17}}),
		admin.Sign(ledger.Mint{Account: apptest.Addr(2), Token: "EIGEN", Amount: eth(1000)}),
		avs.Sign(ledger.SubmitRewards{Token: "EIGEN", Amount: eth(100), Strategies: []string{"stETH"},
			Multipliers: []uint256.Int{eth(1)}, StartTime: apptest.GenesisTime, Duration: 604800}),
	} {
		if _, err := n.Submit(raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	if len(n.PublishedRoots()) != 0 {
		t.Fatal("a root before the first interval ended")
	}
	lastClock.jump(7 * 24 * time.Hour) // past the first interval's end
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	n.WaitPublished()
	roots := n.PublishedRoots()
	if len(roots) != 1 || roots[0].IntervalEnd != apptest.GenesisTime+604800 || roots[0].Earners < 2 {
		t.Fatalf("published roots %+v", roots)
	}
	d, latest, ok := n.LatestDistribution()
	if !ok || latest != roots[0] {
		t.Fatal("no latest distribution")
	}
	var want [32]byte
	n.Read(func(a *app.App) {
		w, err := a.Ledger().RewardsDistribution()
		if err != nil {
			t.Fatal(err)
		}
		want = w.Root()
	})
	if d.Root() != want {
		t.Fatal("the published root is not the tree of the committed earnings")
	}
	// The root is stored: a node restarted on the store lists it.
	docs, err := st.Roots()
	if err != nil || len(docs) != 1 {
		t.Fatalf("stored roots: %d %v", len(docs), err)
	}
	// The next interval publishes another.
	lastClock.jump(7 * 24 * time.Hour)
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	n.WaitPublished()
	if got := len(n.PublishedRoots()); got != 2 {
		t.Fatalf("%d roots after two intervals", got)
	}
}
