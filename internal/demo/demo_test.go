package demo

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/store"
)

// build generates a network and its genesis ledger, failing the test on
// any error.
func build(t testing.TB, opts Options) (*Network, *ledger.Ledger) {
	t.Helper()
	net, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Genesis().Build()
	if err != nil {
		t.Fatal(err)
	}
	return net, l
}

func TestGenerateIsDeterministic(t *testing.T) {
	_, a := build(t, Small(1))
	_, b := build(t, Small(1))
	if a.StateHash() != b.StateHash() {
		t.Fatal("Small(1) built twice gives two different genesis states")
	}
	_, c := build(t, Small(2))
	if a.StateHash() == c.StateHash() {
		t.Fatal("seeds 1 and 2 give the same genesis state")
	}
}

// TestGenesisBuildsTwiceFromOneNetwork checks that Setup does not consume
// the network: a node restarts by building the same genesis again.
func TestGenesisBuildsTwiceFromOneNetwork(t *testing.T) {
	net, a := build(t, Small(1))
	b, err := net.Genesis().Build()
	if err != nil {
		t.Fatal(err)
	}
	if a.StateHash() != b.StateHash() {
		t.Fatal("one network's genesis built twice gives two states")
	}
}

func TestKeysAreDerivedAsDocumented(t *testing.T) {
	net, err := Generate(Small(7))
	if err != nil {
		t.Fatal(err)
	}
	h := keys.Keccak256([]byte("restake/demo/7/staker/3"))
	want, err := keys.FromBytes(h[:])
	if err != nil {
		t.Fatal(err)
	}
	if got := net.Key("staker", 3); got.Address() != want.Address() {
		t.Fatalf("Key(staker, 3) = %s, want keccak256 of its path: %s", got, want)
	}
	seen := map[keys.Address]string{}
	roles := []string{"admin", "oracle", "staker", "operator", "avs", "recipient", "treasury"}
	for _, role := range roles {
		for i := range 3 {
			a := net.Key(role, i).Address()
			if prev, dup := seen[a]; dup {
				t.Fatalf("%s/%d and %s share address %s", role, i, prev, a)
			}
			seen[a] = role + "/" + strconv.Itoa(i)
			if got := net.Address(role, i); got != ledger.Address(a) {
				t.Fatalf("Address(%s, %d) = %s, Key gives %s", role, i, got, a)
			}
		}
	}
}

func TestAlignedGenesisTime(t *testing.T) {
	for _, c := range []struct{ now, want uint64 }{
		{1_767_225_600, 1_767_225_600},
		{1_767_225_600 + 604_799, 1_767_225_600},
		{1_767_225_600 + 604_800, 1_767_225_600 + 604_800},
	} {
		if got := AlignedGenesisTime(c.now); got != c.want {
			t.Errorf("AlignedGenesisTime(%d) = %d, want %d", c.now, got, c.want)
		}
	}
}

// TestDemoStartsWithRewardsToClaim starts the small network the way
// `restake demo` does, at StartGenesisTime of a wall-clock time in the middle
// of an interval, and checks that the node's first block closes the history
// intervals: staker 0 has EIGEN to claim at once, not a week later.
func TestDemoStartsWithRewardsToClaim(t *testing.T) {
	now := uint64(DefaultGenesisTime + 10*604_800 + 3*86_400 + 12_345)
	o := Small(1)
	o.GenesisTime = StartGenesisTime(now)
	if want := uint64(DefaultGenesisTime + 8*604_800); o.GenesisTime != want {
		t.Fatalf("StartGenesisTime(%d) = %d, want %d", now, o.GenesisTime, want)
	}
	net, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	n, clock := startNode(t, net.Genesis(), node.Config{})
	clock.jump(time.Duration(now-o.GenesisTime) * time.Second)
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	var claimable uint256.Int
	n.Read(func(a *app.App) { claimable = a.Ledger().Claimable(net.Address("staker", 0), "EIGEN") })
	if claimable.IsZero() {
		t.Fatal("staker 0 has no EIGEN to claim in the demo's first block")
	}
	checkInvariants(t, n)
}

func TestGenerateRejectsImpossibleOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"one staker":             {Stakers: 1},
		"too little ETH":         {Stakers: 1000, TotalETH: 100, Operators: 3, Services: 2},
		"before rewards genesis": {GenesisTime: 1_000_000_000},
	} {
		if _, err := Generate(o); err == nil {
			t.Errorf("%s: Generate accepted %+v", name, o)
		}
	}
}

// TestSmallNetworkShape checks the counts, the exact total, the split by
// asset and the invariants of the small network's genesis state.
func TestSmallNetworkShape(t *testing.T) {
	net, l := build(t, Small(1))
	if err := l.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	if got := len(l.OperatorAddresses()); got != 12 {
		t.Errorf("%d operators, want 12", got)
	}
	if got := len(l.AVSAddresses()); got != 5 {
		t.Errorf("%d services, want 5", got)
	}
	var native uint256.Int
	for i := range 200 {
		a := net.Address("staker", i)
		if l.DelegatedTo(a).IsZero() {
			t.Errorf("staker %d is not delegated", i)
		}
		if pod := l.Account(a).Pod; pod != nil {
			held := uint256.Int(pod.ETHHeld)
			native.Add(&native, &held)
		}
	}
	if extra := l.Account(net.Address("staker", 200)); len(extra.Positions) != 0 || extra.Pod != nil {
		t.Error("staker 200 exists in a 200-staker network")
	}
	total := native
	perAsset := map[string]uint256.Int{ledger.BeaconStrategy: native}
	for _, s := range l.Strategies()[1:] {
		bal := uint256.Int(s.Balance)
		perAsset[s.Name] = bal
		total.Add(&total, &bal) // one LST/LP token counted as one ETH
	}
	if want := ether(8_470); !total.Eq(&want) {
		t.Fatalf("%s wei restaked, want exactly %s", total.Dec(), want.Dec())
	}
	if !native.Eq(&net.assetTotals[assetNative]) {
		t.Errorf("pods hold %s wei, the network planned %s", native.Dec(),
			net.assetTotals[assetNative].Dec())
	}
	var rem uint256.Int
	if v := ether(32); !rem.Mod(&native, &v).IsZero() {
		t.Errorf("native ETH %s is not whole validators", native.Dec())
	}
	s := net.Summary()
	for _, a := range s.Assets {
		got := perAsset[a.Strategy]
		if !got.Eq(&a.Wei) {
			t.Errorf("%s: ledger holds %s, summary says %s", a.Strategy, got.Dec(), a.Wei.Dec())
		}
	}
	if b := s.Assets[assetNative].Bips; b < 8_500 || b > 8_700 {
		t.Errorf("native ETH is %d bips of the total, want about 87%%", b)
	}
	if s.Stakers != 200 || s.Operators != 12 || s.Services != 5 || s.OperatorSets < 5 ||
		s.RewardSubmissions != 5 {
		t.Errorf("summary counts: %+v", s)
	}
	if got := len(l.Submissions()); got != 5 {
		t.Errorf("%d reward submissions streaming, want one per service", got)
	}
	if _, ok := l.PriceOf(ledger.NativeToken); !ok {
		t.Error("no ETH price at genesis")
	}
	t.Log(s.Details())
}

// operatorStakes returns every operator's delegated shares (all strategies,
// one LST/LP share as one ETH), largest first.
func operatorStakes(net *Network, l *ledger.Ledger) []uint256.Int {
	var out []uint256.Int
	for o := range net.opts.Operators {
		var sum uint256.Int
		for _, name := range assetNames {
			sh := l.OperatorShares(net.operators[o], name)
			sum.Add(&sum, &sh)
		}
		out = append(out, sum)
	}
	slices.SortFunc(out, func(a, b uint256.Int) int { return b.Cmp(&a) })
	return out
}

// topShareBips returns the share of the top k stakes in bips.
func topShareBips(stakes []uint256.Int, k int) uint64 {
	var top, all uint256.Int
	for i, s := range stakes {
		if i < k {
			top.Add(&top, &s)
		}
		all.Add(&all, &s)
	}
	return bipsOf(top, all)
}

func TestDelegationIsHeavyTailed(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		net, l := build(t, Small(seed))
		stakes := operatorStakes(net, l)
		tenth := (len(stakes) + 9) / 10
		if got := topShareBips(stakes, tenth); got <= 4_000 {
			t.Errorf("seed %d: the top %d of %d operators hold %s of the stake, want more than 40%%",
				seed, tenth, len(stakes), pct(got))
		}
		s := net.Summary()
		if !s.TopOperators[0].Wei.Eq(&stakes[0]) {
			t.Errorf("seed %d: summary's largest operator has %s, the ledger %s", seed,
				s.TopOperators[0].Wei.Dec(), stakes[0].Dec())
		}
	}
}

// TestGenesisDocumentIsSmall checks that the genesis JSON holds the
// configuration only (the positions are built by Setup) and parses back.
func TestGenesisDocumentIsSmall(t *testing.T) {
	net, err := Generate(Small(1))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(net.Genesis())
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) > 4<<10 {
		t.Errorf("genesis document is %d bytes", len(doc))
	}
	g, err := app.ParseGenesis(doc)
	if err != nil {
		t.Fatal(err)
	}
	if g.ChainID != DefaultChainID || g.Params.WithdrawalDelayBlocks != 100_800 ||
		g.Params.DeallocationDelayBlocks != 100_800 || len(g.Strategies) != 4 {
		t.Errorf("parsed genesis: %+v", g)
	}
}

// testClock is a node clock that moves 12 s per block, and can jump.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(12 * time.Second)
	return c.t
}

func (c *testClock) jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startNode runs a genesis on a node with a Pebble store in a temporary
// directory.
func startNode(t *testing.T, g *app.Genesis, cfg node.Config) (*node.Node, *testClock) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := app.New(g, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Unix(int64(g.GenesisTime), 0)}
	n := node.New(cfg, a, st, clock.now)
	t.Cleanup(n.WaitPublished) // runs before the store closes
	return n, clock
}

// results tallies the committed transactions of blocks from..to.
type results struct {
	total, ok int
	okByOp    map[string]int
	failed    map[string]int // by op and error
}

func tally(t *testing.T, n *node.Node, from, to uint64) results {
	t.Helper()
	r := results{okByOp: map[string]int{}, failed: map[string]int{}}
	for h := from; h <= to; h++ {
		res, ok, err := n.Store().Results(h)
		if err != nil || !ok {
			t.Fatalf("results of block %d: ok=%v err=%v", h, ok, err)
		}
		for _, tr := range res.Txs {
			r.total++
			if tr.Code == 0 {
				r.ok++
				r.okByOp[tr.Op]++
			} else {
				r.failed[tr.Op+": "+tr.Error]++
			}
		}
	}
	return r
}

// stepAndCommit runs driver steps, each followed by a block.
func stepAndCommit(t *testing.T, d *Driver, n *node.Node, steps int) {
	t.Helper()
	for range steps {
		if err := d.Step(); err != nil {
			t.Fatal(err)
		}
		if err := n.ProduceBlock(); err != nil {
			t.Fatal(err)
		}
	}
}

func checkInvariants(t *testing.T, n *node.Node) {
	t.Helper()
	var err error
	n.Read(func(a *app.App) { err = a.Ledger().CheckInvariants() })
	if err != nil {
		t.Fatal(err)
	}
}

func height(n *node.Node) uint64 {
	var h uint64
	n.Read(func(a *app.App) { h = a.Height() })
	return h
}

// TestDriverOnNode runs the small network on a node with mainnet's delays,
// drives 20 rounds of traffic, then moves the clock past the first rewards
// interval and checks that rewards are claimed.
func TestDriverOnNode(t *testing.T) {
	net, err := Generate(Small(1))
	if err != nil {
		t.Fatal(err)
	}
	n, clock := startNode(t, net.Genesis(), node.Config{})
	d := NewDriver(net, n, 1)
	stepAndCommit(t, d, n, 20)
	r := tally(t, n, 1, height(n))
	t.Logf("20 steps: %d transactions committed, %d succeeded; %+v; failures %v; ok by op %v",
		r.total, r.ok, d.Stats(), r.failed, r.okByOp)
	if r.total < 200 {
		t.Errorf("only %d transactions in 20 steps", r.total)
	}
	if r.ok*100 <= r.total*80 {
		t.Errorf("%d of %d transactions succeeded, want more than 80%%", r.ok, r.total)
	}
	for _, op := range []string{
		"set_price", "beacon_balance_update", "deposit", "delegate", "queue_withdrawal", "mint",
	} {
		if r.okByOp[op] == 0 {
			t.Errorf("no successful %s in 20 steps", op)
		}
	}
	checkInvariants(t, n)

	// Past the first calculation interval the genesis submissions accrue:
	// staker 0, delegated to the largest operator, has EIGEN to claim.
	before := height(n)
	clock.jump(7 * 24 * time.Hour)
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	var claimable uint256.Int
	n.Read(func(a *app.App) { claimable = a.Ledger().Claimable(net.Address("staker", 0), "EIGEN") })
	if claimable.IsZero() {
		t.Fatal("staker 0 has no EIGEN to claim after the first interval")
	}
	stepAndCommit(t, d, n, 3)
	r = tally(t, n, before+1, height(n))
	t.Logf("after the first interval: %d transactions, %d succeeded; ok by op %v", r.total, r.ok, r.okByOp)
	if r.okByOp["claim"] == 0 {
		t.Errorf("no successful claim after the first interval; failures %v", r.failed)
	}
	if r.ok*100 <= r.total*80 {
		t.Errorf("%d of %d transactions succeeded after the interval, want more than 80%%", r.ok, r.total)
	}
	checkInvariants(t, n)
}

// TestDriverSlashesAndClears forces the rare slash and checks that it and
// its clear succeed and leave nothing held.
func TestDriverSlashesAndClears(t *testing.T) {
	net, err := Generate(Small(1))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := startNode(t, net.Genesis(), node.Config{})
	d := NewDriver(net, n, 3)
	var v *stepView
	for tries := 0; tries < 10_000 && (v == nil || len(v.bundles) == 0); tries++ {
		v = &stepView{touched: map[ledger.Address]bool{}}
		n.Read(func(a *app.App) {
			v.l, v.height, v.time = a.Ledger(), a.Height(), a.Time()
			d.planSlash(v)
		})
	}
	if len(v.bundles) != 1 {
		t.Fatal("the driver never planned a slash")
	}
	if err := d.submit(v.bundles[0]); err != nil {
		t.Fatal(err)
	}
	if err := n.ProduceBlock(); err != nil {
		t.Fatal(err)
	}
	r := tally(t, n, 1, 1)
	if r.okByOp["slash"] != 1 || r.okByOp["clear_slashed"] != 1 {
		t.Fatalf("slash and clear: %+v", r)
	}
	n.Read(func(a *app.App) {
		if held := a.Ledger().HeldSlashes(); len(held) != 0 {
			t.Errorf("%d slashes still held after the clear", len(held))
		}
	})
	checkInvariants(t, n)
}

// TestDriverCompletesWithdrawals shortens the withdrawal delay so that the
// withdrawals queued at genesis and by the driver unlock within the test.
func TestDriverCompletesWithdrawals(t *testing.T) {
	net, err := Generate(Small(1))
	if err != nil {
		t.Fatal(err)
	}
	g := net.Genesis()
	g.Params.WithdrawalDelayBlocks = 5
	n, _ := startNode(t, g, node.Config{})
	d := NewDriver(net, n, 1)
	stepAndCommit(t, d, n, 15)
	r := tally(t, n, 1, height(n))
	if r.okByOp["complete_withdrawal"] == 0 {
		t.Fatalf("no withdrawal completed; failures %v", r.failed)
	}
	if r.ok*100 <= r.total*80 {
		t.Errorf("%d of %d transactions succeeded, want more than 80%%", r.ok, r.total)
	}
	checkInvariants(t, n)
}

// TestDriverIsDeterministic runs the same traffic on two nodes and
// compares their app hashes.
func TestDriverIsDeterministic(t *testing.T) {
	net, err := Generate(Small(1))
	if err != nil {
		t.Fatal(err)
	}
	var hashes [2][32]byte
	for k := range hashes {
		n, _ := startNode(t, net.Genesis(), node.Config{})
		stepAndCommit(t, NewDriver(net, n, 5), n, 5)
		n.Read(func(a *app.App) { hashes[k] = a.AppHash() })
	}
	if hashes[0] != hashes[1] {
		t.Fatal("the same seed drove two nodes to different states")
	}
}

// TestDriverRunsBesideTheNode runs the driver and the node's block
// producer concurrently, as `restake demo` does (run it with -race), until
// 30 blocks are committed: neither may fail, and the state must keep its
// invariants. Refused submissions (nonce races with block production) are
// allowed: the driver counts them.
func TestDriverRunsBesideTheNode(t *testing.T) {
	net, err := Generate(Small(1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := node.Config{BlockInterval: 20 * time.Millisecond, EmptyBlocks: true}
	n, _ := startNode(t, net.Genesis(), cfg)
	d := NewDriver(net, n, 1)
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { errs <- n.Run(ctx) }()
	go func() { errs <- d.Run(ctx, 3*time.Millisecond) }()
	for height(n) < 30 && n.Halted() == nil {
		time.Sleep(time.Millisecond)
	}
	cancel()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	r := tally(t, n, 1, height(n))
	if r.ok == 0 {
		t.Fatalf("nothing succeeded in %d blocks: %+v", height(n), r)
	}
	t.Logf("%d blocks, %d transactions, %d succeeded; driver %+v", height(n), r.total, r.ok, d.Stats())
	checkInvariants(t, n)
}

// TestFullScaleGenesis generates the default network (200,000 stakers),
// builds its genesis ledger, then starts an app on it as `restake demo`
// does (the ledger again plus its state tree), and logs the time of each
// phase and the memory held. It runs only with RESTAKE_DEMO_FULL=1.
func TestFullScaleGenesis(t *testing.T) {
	if os.Getenv("RESTAKE_DEMO_FULL") != "1" {
		t.Skip("set RESTAKE_DEMO_FULL=1 to build the full-scale network")
	}
	start := time.Now()
	net, err := Generate(Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	generated := time.Now()
	l, err := net.Genesis().Build()
	if err != nil {
		t.Fatal(err)
	}
	built := time.Now()
	s := net.Summary()
	stakes := operatorStakes(net, l)
	if top := topShareBips(stakes, 10); s.Top10Bips != top {
		t.Errorf("summary says the top 10 hold %s, the ledger %s", pct(s.Top10Bips), pct(top))
	}
	accounts := l.AccountCount()
	l = nil
	started := time.Now()
	a, err := app.New(net.Genesis(), nil)
	if err != nil {
		t.Fatal(err)
	}
	appNew := time.Since(started)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("GOMAXPROCS=%d %s: generate %.2fs, genesis ledger build (Setup + invariants) %.2fs; "+
		"app.New (ledger + state tree) %.2fs", runtime.GOMAXPROCS(0), runtime.Version(),
		generated.Sub(start).Seconds(), built.Sub(generated).Seconds(), appNew.Seconds())
	t.Logf("memory after GC, holding the network and the app: HeapAlloc %.0f MiB live, "+
		"HeapSys %.0f MiB (the heap's peak reservation), Sys %.0f MiB",
		mib(m.HeapAlloc), mib(m.HeapSys), mib(m.Sys))
	t.Logf("%s", s.Details())
	t.Logf("ledger: %d accounts, app hash %x", accounts, a.AppHash())
	runtime.KeepAlive(net)
}

func mib(v uint64) float64 { return float64(v) / (1 << 20) }
