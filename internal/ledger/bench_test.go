package ledger_test

// Benchmarks of the staker, operator and service operations, and a
// mainnet-scale state build. Run them on one core:
//
//	go test -run '^$' -bench . -benchmem -cpu 1 ./internal/ledger/
//	RESTAKE_BENCH_RATIOS=1 go test -run TestBenchmarkRatios -v -cpu 1 ./internal/ledger/
//	RESTAKE_MAINNET=1 go test -run TestMainnetScaleState -v -cpu 1 ./internal/ledger/
//
// docs/benchmarks.md records the results and the targets they are held to.
//
// Every operation is built and boxed into a ledger.Op before the timer
// starts, so ns/op and allocs/op measure the ledger (Apply and what it
// returns), not the caller's decoding. Setup checks every Apply error, and
// the timed loops fail on any error, so only successful operations are
// measured. The timed loops end a block every benchBlockOps operations with
// the timer stopped, as a node does: Changes (the commit, which drains the
// ledger's dirty set) and BeginBlock of the next height.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

const (
	benchGenesisTime  = 1710979200 // 2024-03-21, unix seconds
	benchBlockSeconds = 12
	benchWAD          = uint64(1e18)

	// The first byte of a derived address says what it is.
	benchKindStaker   = 0x5a
	benchKindOperator = 0x0b
	benchKindAVS      = 0xa5
	benchKindAdmin    = 0xad
	benchKindOracle   = 0x0c

	// roundRobinStakers is how many distinct stakers the round-robin
	// benchmarks cycle through, so that a run does not hit one hot account.
	benchRoundRobin = 10_000

	// benchBlockOps is how many timed operations make one block.
	benchBlockOps = 512
)

// lsts are the token strategies, in ascending name order.
var benchLSTs = []string{"cbETH", "rETH", "stETH"}

// setStrategies are the strategies of the benchmark operator set, in
// ascending name order (slash requires it): "beaconETH" < "cbETH" < ...
var benchSetStrategies = []string{ledger.BeaconStrategy, "cbETH", "rETH", "stETH"}

// address derives a non-zero address from a kind and an index.
func benchAddr(kind byte, i int) ledger.Address {
	var a ledger.Address
	a[0] = kind
	binary.BigEndian.PutUint64(a[12:], uint64(i)+1)
	return a
}

func benchU(v uint64) uint256.Int { return *uint256.NewInt(v) }

// ether returns n ETH (or n whole tokens) in wei.
func benchEther(n uint64) uint256.Int {
	var z uint256.Int
	z.Mul(uint256.NewInt(n), uint256.NewInt(benchWAD))
	return z
}

// env is a ledger with three LST strategies, one operator (allocation delay
// 0) registered in one set of one AVS containing all four strategies, and
// half of its magnitude allocated to that set in each strategy.
type benchEnv struct {
	tb     testing.TB
	l      *ledger.Ledger
	height uint64
	op     ledger.Address
	avs    ledger.Address
	set    ledger.OperatorSet
}

var benchAdmin = benchAddr(benchKindAdmin, 0)

func newBenchEnv(tb testing.TB) *benchEnv {
	e := &benchEnv{
		tb:     tb,
		l:      ledger.New(ledger.Config{Params: ledger.DefaultParams(), Open: true}),
		height: 1,
		op:     benchAddr(benchKindOperator, 0),
		avs:    benchAddr(benchKindAVS, 0),
	}
	e.l.BeginBlock(1, benchGenesisTime)
	for _, s := range benchLSTs {
		e.must(benchAdmin, ledger.AddStrategy{Strategy: s, Token: s})
	}
	e.must(e.op, ledger.RegisterOperator{Metadata: "https://operator.example/0"})
	e.must(e.avs, ledger.RegisterAVS{Metadata: "https://avs.example/0"})
	e.set = ledger.OperatorSet{AVS: e.avs, ID: 0}
	e.must(e.avs, ledger.CreateOperatorSet{ID: 0, Strategies: benchSetStrategies})
	e.must(e.op, ledger.RegisterForSets{AVS: e.avs, Sets: []uint32{0}})
	half := benchWAD / 2
	e.must(e.op, ledger.ModifyAllocations{Set: e.set, Strategies: benchSetStrategies,
		Magnitudes: []uint64{half, half, half, half}})
	e.commit()
	return e
}

// commit is the node's per-block commit: it drains the ledger's dirty set
// (the records are dropped). Without it the dirty set would grow for the
// whole run, a state no node reaches.
func (e *benchEnv) commit() { e.l.Changes() }

// endBlock ends a block of a timed loop with the timer stopped: commit and
// move to the next block.
func (e *benchEnv) endBlock(clk *benchClock) {
	clk.stop()
	e.commit()
	e.advance(1)
	clk.start()
}

// benchClock wraps the benchmark timer and also meters the garbage
// collector's CPU time while the timer runs, reported as gc-ns/op: the part
// of ns/op spent collecting (background marking and assists).
type benchClock struct {
	b           *testing.B
	gcStart, gc float64
}

// startBenchClock resets the timer and starts timing.
func startBenchClock(b *testing.B) *benchClock {
	b.ReportAllocs()
	b.ResetTimer()
	return &benchClock{b: b, gcStart: benchGCSeconds()}
}

func (c *benchClock) stop() {
	c.b.StopTimer()
	c.gc += benchGCSeconds() - c.gcStart
}

func (c *benchClock) start() {
	c.gcStart = benchGCSeconds()
	c.b.StartTimer()
}

// done stops timing and reports gc-ns/op.
func (c *benchClock) done() {
	c.stop()
	c.b.ReportMetric(c.gc*1e9/float64(c.b.N), "gc-ns/op")
}

// must applies op in setup and stops the benchmark on any error. It is not
// a t.Helper: that costs more than the operation in million-staker setups.
func (e *benchEnv) must(sender ledger.Address, op ledger.Op) any {
	r, err := e.l.Apply(sender, op)
	if err != nil {
		e.tb.Fatalf("setup: %s by %x at block %d: %v", op.OpName(), sender, e.height, err)
	}
	return r
}

// advance moves the ledger n blocks forward.
func (e *benchEnv) advance(n uint64) {
	e.height += n
	e.l.BeginBlock(e.height, benchGenesisTime+benchBlockSeconds*(e.height-1))
}

// slashTenPercent slashes 20% of the operator's half allocation in every
// strategy: its max magnitude falls to 0.9 WAD, so deposits and delegations
// take the realistic (non-WAD) deposit-scaling-factor path.
func (e *benchEnv) slashTenPercent() {
	w := benchU(benchWAD / 5)
	e.must(e.avs, ledger.Slash{Operator: e.op, Set: e.set, Strategies: benchSetStrategies,
		Wads: []uint256.Int{w, w, w, w}, Description: "bench: 10% of max magnitude"})
	for _, s := range benchSetStrategies {
		if m := e.l.MaxMagnitude(e.op, s); m != benchWAD/10*9 {
			e.tb.Fatalf("max magnitude of %s after the slash: %d", s, m)
		}
	}
}

// addStaker mints mint of each strategy's token to staker i, deposits
// deposit into each strategy, and delegates to the operator if asked.
func (e *benchEnv) addStaker(i int, mint, deposit uint256.Int, strategies []string, delegate bool) ledger.Address {
	s := benchAddr(benchKindStaker, i)
	for _, name := range strategies {
		e.must(benchAdmin, ledger.Mint{Account: s, Token: name, Amount: mint})
		e.must(s, ledger.Deposit{Strategy: name, Amount: deposit})
	}
	if delegate {
		e.must(s, ledger.Delegate{Operator: e.op})
	}
	if i%4096 == 4095 {
		e.commit()
	}
	return s
}

// apply runs one timed operation; an error fails the benchmark.
func benchApply(b *testing.B, l *ledger.Ledger, sender ledger.Address, op ledger.Op) {
	if _, err := l.Apply(sender, op); err != nil {
		b.Fatalf("%s by %x: %v", op.OpName(), sender, err)
	}
}

// ---------------------------------------------------------------- deposit

// benchDeposit deposits 1 stETH per operation, cycling through n delegated
// stakers that already hold stETH, under an operator slashed by 10%.
func benchDeposit(b *testing.B, n int) {
	e := newBenchEnv(b)
	bigMint := benchEther(1_000_000_000_000) // 1e12 tokens: never runs out
	stakers := make([]ledger.Address, n)
	for i := range stakers {
		stakers[i] = e.addStaker(i, bigMint, benchEther(32), []string{"stETH"}, true)
	}
	e.slashTenPercent()
	e.commit()
	e.advance(1)
	var op ledger.Op = ledger.Deposit{Strategy: "stETH", Amount: benchEther(1)}
	clk := startBenchClock(b)
	for i, j := 0, 0; i < b.N; i++ {
		benchApply(b, e.l, stakers[j], op)
		if j++; j == n {
			j = 0
		}
		if i%benchBlockOps == benchBlockOps-1 {
			e.endBlock(clk)
		}
	}
	clk.done()
}

// BenchmarkDeposit: a delegated staker adds to its stETH position (DSF
// update at slashing factor 0.9), over 10,000 stakers in round robin.
func BenchmarkDeposit(b *testing.B) { benchDeposit(b, benchRoundRobin) }

// BenchmarkDepositSingleStaker: the same, always by one staker (hot cache).
func BenchmarkDepositSingleStaker(b *testing.B) { benchDeposit(b, 1) }

// --------------------------------------------------------------- delegate

// chunk is how many fresh stakers (or withdrawals) the one-shot benchmarks
// prepare at a time, with the timer stopped, in a fresh ledger each time:
// memory stays bounded whatever b.N is.
const benchChunk = 1 << 15

// BenchmarkDelegate: a fresh staker holding stETH (and rETH, every other
// staker) delegates to an operator slashed by 10%.
func BenchmarkDelegate(b *testing.B) { benchDelegate(b) }

func benchDelegate(b *testing.B) {
	holdings := [2][]string{{"stETH"}, {"rETH", "stETH"}}
	var e *benchEnv
	stakers := make([]ledger.Address, 0, min(b.N, benchChunk))
	build := func(n int) {
		e = nil
		e = newBenchEnv(b)
		e.slashTenPercent()
		stakers = stakers[:0]
		for i := range n {
			stakers = append(stakers, e.addStaker(i, benchEther(32), benchEther(32), holdings[i%2], false))
		}
		e.commit()
		e.advance(1)
	}
	var op ledger.Op = ledger.Delegate{Operator: benchAddr(benchKindOperator, 0)}
	clk := startBenchClock(b)
	for i := 0; i < b.N; i++ {
		k := i % benchChunk
		if k == 0 {
			clk.stop()
			build(min(benchChunk, b.N-i))
			clk.start()
		}
		benchApply(b, e.l, stakers[k], op)
		if i%benchBlockOps == benchBlockOps-1 {
			e.endBlock(clk)
		}
	}
	clk.done()
}

// ------------------------------------------------------------ withdrawals

// BenchmarkQueueWithdrawal: a delegated staker queues 1 of its 1,000,000
// stETH deposit shares, over 10,000 stakers in round robin. A fresh ledger
// is built (timer stopped) every benchChunk operations, so at most that many
// withdrawals are pending: an ever-growing map of b.N pending withdrawals is
// not a state mainnet reaches.
func BenchmarkQueueWithdrawal(b *testing.B) { benchQueue(b) }

func benchQueue(b *testing.B) {
	var e *benchEnv
	stakers := make([]ledger.Address, benchRoundRobin)
	build := func() {
		e = nil
		e = newBenchEnv(b)
		for i := range stakers {
			stakers[i] = e.addStaker(i, benchEther(1_000_000), benchEther(1_000_000), []string{"stETH"}, true)
		}
		e.slashTenPercent()
		e.commit()
		e.advance(1)
	}
	var op ledger.Op = ledger.QueueWithdrawal{Strategies: []string{"stETH"},
		DepositShares: []uint256.Int{benchEther(1)}}
	clk := startBenchClock(b)
	for i, j := 0, 0; i < b.N; i++ {
		if i%benchChunk == 0 {
			clk.stop()
			build()
			clk.start()
		}
		benchApply(b, e.l, stakers[j], op)
		if j++; j == len(stakers) {
			j = 0
		}
		if i%benchBlockOps == benchBlockOps-1 {
			e.endBlock(clk)
		}
	}
	clk.done()
}

// BenchmarkCompleteWithdrawal: a staker completes its one queued stETH
// withdrawal (half its deposit, queued under an operator slashed by 10%)
// after the delay, as tokens or as shares.
func BenchmarkCompleteWithdrawal(b *testing.B) {
	b.Run("tokens", func(b *testing.B) { benchComplete(b, true) })
	b.Run("shares", func(b *testing.B) { benchComplete(b, false) })
}

func benchComplete(b *testing.B, asTokens bool) {
	var e *benchEnv
	var stakers []ledger.Address
	var ops []ledger.Op
	build := func(n int) {
		e = nil
		e = newBenchEnv(b)
		e.slashTenPercent()
		e.advance(1)
		stakers, ops = stakers[:0], ops[:0]
		for i := range n {
			s := e.addStaker(i, benchEther(64), benchEther(64), []string{"stETH"}, true)
			r := e.must(s, ledger.QueueWithdrawal{Strategies: []string{"stETH"},
				DepositShares: []uint256.Int{benchEther(32)}}).(ledger.QueueWithdrawalResult)
			stakers = append(stakers, s)
			ops = append(ops, ledger.CompleteWithdrawal{Withdrawal: r.Withdrawal, AsTokens: asTokens})
		}
		e.commit()
		e.advance(ledger.DefaultParams().WithdrawalDelayBlocks + 1)
	}
	clk := startBenchClock(b)
	for i := 0; i < b.N; i++ {
		k := i % benchChunk
		if k == 0 {
			clk.stop()
			build(min(benchChunk, b.N-i))
			clk.start()
		}
		benchApply(b, e.l, stakers[k], ops[k])
		if i%benchBlockOps == benchBlockOps-1 {
			e.endBlock(clk)
		}
	}
	clk.done()
}

// ------------------------------------------------------------ allocations

// modifySets is how many operator sets BenchmarkModifyAllocations/registered
// rotates over; 32 sets at 2% of magnitude each stay below max magnitude.
const benchModifySets = 32

// BenchmarkModifyAllocations alternates an operator's stETH magnitude in a
// set between 1% and 2% of WAD (allocation delay 0).
//
// registered: the operator is registered for 32 sets and rotates over them.
// A round raises every set (an allocation, effective at once), the next
// round lowers every set (a slashable deallocation queued for
// DEALLOCATION_DELAY+1 blocks), then the ledger moves past the delay, so
// the first raise of the next round completes the 32 queued deallocations.
//
// unregistered: the operator is not registered for the set, so a decrease
// is not slashable and takes effect at once; one set, alternating.
func BenchmarkModifyAllocations(b *testing.B) {
	b.Run("registered", benchModifyRegistered)
	b.Run("unregistered", benchModifyUnregistered)
}

const (
	benchMagLow  = benchWAD / 100
	benchMagHigh = benchWAD / 50
)

func benchModifyRegistered(b *testing.B) {
	e := newBenchEnv(b)
	opr, avs := benchAddr(benchKindOperator, 1), benchAddr(benchKindAVS, 1)
	e.must(opr, ledger.RegisterOperator{Metadata: "https://operator.example/1"})
	e.must(avs, ledger.RegisterAVS{Metadata: "https://avs.example/1"})
	ids := make([]uint32, benchModifySets)
	var ops [2][benchModifySets]ledger.Op // [0]: raise, [1]: lower
	for i := range ids {
		ids[i] = uint32(i)
		e.must(avs, ledger.CreateOperatorSet{ID: ids[i], Strategies: []string{"stETH"}})
		set := ledger.OperatorSet{AVS: avs, ID: ids[i]}
		ops[0][i] = ledger.ModifyAllocations{Set: set, Strategies: []string{"stETH"}, Magnitudes: []uint64{benchMagHigh}}
		ops[1][i] = ledger.ModifyAllocations{Set: set, Strategies: []string{"stETH"}, Magnitudes: []uint64{benchMagLow}}
	}
	e.must(opr, ledger.RegisterForSets{AVS: avs, Sets: ids})
	for i := range ids {
		e.must(opr, ledger.ModifyAllocations{Set: ledger.OperatorSet{AVS: avs, ID: ids[i]},
			Strategies: []string{"stETH"}, Magnitudes: []uint64{benchMagLow}})
	}
	delay := ledger.DefaultParams().DeallocationDelayBlocks + 1
	e.commit()
	e.advance(1)
	clk := startBenchClock(b)
	for i, j, phase := 0, 0, 0; i < b.N; i++ {
		benchApply(b, e.l, opr, ops[phase][j])
		if j++; j == benchModifySets {
			j = 0
			if phase ^= 1; phase == 0 {
				e.advance(delay) // the queued deallocations become due
			}
		}
		if i%benchBlockOps == benchBlockOps-1 {
			e.endBlock(clk)
		}
	}
	clk.done()
}

func benchModifyUnregistered(b *testing.B) {
	e := newBenchEnv(b)
	opr, avs := benchAddr(benchKindOperator, 1), benchAddr(benchKindAVS, 1)
	e.must(opr, ledger.RegisterOperator{Metadata: "https://operator.example/1"})
	e.must(avs, ledger.RegisterAVS{Metadata: "https://avs.example/1"})
	e.must(avs, ledger.CreateOperatorSet{ID: 0, Strategies: []string{"stETH"}})
	set := ledger.OperatorSet{AVS: avs, ID: 0}
	ops := [2]ledger.Op{
		ledger.ModifyAllocations{Set: set, Strategies: []string{"stETH"}, Magnitudes: []uint64{benchMagHigh}},
		ledger.ModifyAllocations{Set: set, Strategies: []string{"stETH"}, Magnitudes: []uint64{benchMagLow}},
	}
	e.must(opr, ledger.ModifyAllocations{Set: set, Strategies: []string{"stETH"}, Magnitudes: []uint64{benchMagLow}})
	e.commit()
	e.advance(1)
	clk := startBenchClock(b)
	for i := 0; i < b.N; i++ {
		benchApply(b, e.l, opr, ops[i&1])
		if i%benchBlockOps == benchBlockOps-1 {
			e.endBlock(clk)
		}
	}
	clk.done()
}

// --------------------------------------------------------------- slashing

// slashWad is what each timed slash takes: 1e-6 of the allocation, so the
// magnitude shrinks by a factor (1-1e-6) per slash and stays far from zero.
const benchSlashWad = 1_000_000_000_000

// buildSlashEnv builds an operator with n delegated stakers of 32 stETH,
// 1% of them with a queued withdrawal of half of it (so the slash also
// reads the queued-shares history), slashed by 10%.
func buildBenchSlashEnv(tb testing.TB, n int) *benchEnv {
	e := newBenchEnv(tb)
	for i := range n {
		s := e.addStaker(i, benchEther(32), benchEther(32), []string{"stETH"}, true)
		if i%100 == 0 {
			e.must(s, ledger.QueueWithdrawal{Strategies: []string{"stETH"},
				DepositShares: []uint256.Int{benchEther(16)}})
		}
		if i%10_000 == 9_999 {
			e.advance(1)
		}
	}
	e.slashTenPercent()
	e.commit()
	e.advance(1)
	return e
}

// canSlash reports whether n more slashes of slashWad leave the operator's
// stETH allocation comfortably above zero.
func (e *benchEnv) canSlash(n int) bool {
	cur := float64(e.l.Allocation(e.op, e.set, "stETH").Current)
	return cur*math.Exp(-1.01*float64(n)*benchSlashWad/float64(benchWAD))-float64(n) > 1e9
}

// benchSlashFunc returns a benchmark of one-strategy slashes of an operator
// with n delegated stakers, and a func that drops its state. The state is
// built once and reused across the runs of the benchmark (each slash moves
// one block forward), and rebuilt only when the next run could drive the
// allocation to zero. A block holds benchBlockOps slashes; at its end, with
// the timer stopped, the pending slashes are cleared (clear_slashed), as
// keepers do, and the ledger commits, so neither the map of uncleared
// slashes nor the dirty set grows with b.N. (One slash per block would grow
// the operator's max-magnitude history by an entry per slash, which the
// per-block commit re-encodes: a million slashes of one operator is not a
// realistic state.)
func benchSlashFunc(n int) (run func(b *testing.B), release func()) {
	var e *benchEnv
	run = func(b *testing.B) {
		if e == nil || !e.canSlash(b.N) {
			e = nil
			runtime.GC()
			e = buildBenchSlashEnv(b, n)
			if !e.canSlash(b.N) {
				b.Fatalf("b.N = %d slashes would exhaust a fresh allocation", b.N)
			}
		}
		e.tb = b
		var op ledger.Op = ledger.Slash{Operator: e.op, Set: e.set, Strategies: []string{"stETH"},
			Wads: []uint256.Int{benchU(benchSlashWad)}, Description: "bench"}
		var first, last uint64 // uncleared slash ids
		clear := func() {
			for id := first; id != 0 && id <= last; id++ {
				e.must(e.avs, ledger.ClearSlashed{Set: e.set, SlashID: id})
			}
			first = 0
		}
		runtime.GC()
		clk := startBenchClock(b)
		for i := 0; i < b.N; i++ {
			r, err := e.l.Apply(e.avs, op)
			if err != nil {
				b.Fatalf("slash: %v", err)
			}
			last = r.(ledger.SlashResult).SlashID
			if first == 0 {
				first = last
			}
			if i%benchBlockOps == benchBlockOps-1 {
				clk.stop()
				clear()
				e.commit()
				e.advance(1)
				clk.start()
			}
		}
		clk.done()
		clear()
		e.commit()
		e.advance(1)
	}
	return run, func() { e = nil }
}

// benchGCSeconds returns the CPU time the garbage collector has used so far
// (an estimate by the runtime: mark assists, mark workers and pauses).
func benchGCSeconds() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return s[0].Value.Float64()
}

// BenchmarkSlash: an AVS slashes 1e-6 of an operator's stETH allocation; the
// operator has 10,000 delegated stakers.
func BenchmarkSlash(b *testing.B) {
	run, release := benchSlashFunc(benchRoundRobin)
	defer release()
	run(b)
}

// BenchmarkSlashStakers: the same slash with 1,000 and 1,000,000 delegated
// stakers. Slashing is lazy (through the operator's max magnitude), so its
// cost must not depend on the number of stakers.
func BenchmarkSlashStakers(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		run, release := benchSlashFunc(n)
		b.Run(fmt.Sprintf("stakers=%d", n), run)
		release()
	}
}

// ------------------------------------------------------------------ ratios

// TestBenchmarkRatios runs the benchmarks through testing.Benchmark and logs
// each operation's ns/op as a ratio to a deposit, and slash at 1,000,000
// stakers over slash at 1,000. It only logs: machines are shared and noisy,
// so timings are never asserted.
func TestBenchmarkRatios(t *testing.T) {
	if testing.Short() || os.Getenv("RESTAKE_BENCH_RATIOS") == "" {
		t.Skip("set RESTAKE_BENCH_RATIOS=1 to run the benchmarks and log their ratios (takes minutes)")
	}
	slash10k, release10k := benchSlashFunc(benchRoundRobin)
	slash1k, release1k := benchSlashFunc(1_000)
	slash1M, release1M := benchSlashFunc(1_000_000)
	rows := []struct {
		name    string
		f       func(*testing.B)
		release func()
	}{
		{"deposit", BenchmarkDeposit, nil},
		{"deposit (single staker)", BenchmarkDepositSingleStaker, nil},
		{"delegate", benchDelegate, nil},
		{"queue_withdrawal", benchQueue, nil},
		{"complete_withdrawal tokens", func(b *testing.B) { benchComplete(b, true) }, nil},
		{"complete_withdrawal shares", func(b *testing.B) { benchComplete(b, false) }, nil},
		{"modify_allocations registered", benchModifyRegistered, nil},
		{"modify_allocations unregistered", benchModifyUnregistered, nil},
		{"slash (10k stakers)", slash10k, release10k},
		{"slash (1k stakers)", slash1k, release1k},
		{"slash (1M stakers)", slash1M, release1M},
	}
	t.Logf("GOMAXPROCS=%d %s %s/%s", runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	ns := map[string]float64{}
	for _, r := range rows {
		res := testing.Benchmark(r.f)
		if r.release != nil {
			r.release()
		}
		if res.N == 0 {
			t.Fatalf("%s: benchmark failed", r.name)
		}
		ns[r.name] = float64(res.T.Nanoseconds()) / float64(res.N)
		t.Logf("%-32s %9.0f ns/op %4d allocs/op %6d B/op %6.2fx deposit  (N=%d)",
			r.name, ns[r.name], res.AllocsPerOp(), res.AllocedBytesPerOp(),
			ns[r.name]/ns["deposit"], res.N)
	}
	t.Logf("deposits per second on one core: %.0f", 1e9/ns["deposit"])
	t.Logf("slash@1M / slash@1k = %.2f", ns["slash (1M stakers)"]/ns["slash (1k stakers)"])
}

// -------------------------------------------------------- mainnet scale

// Mainnet-scale state (the figures): 8.47M ETH restaked by 200,000
// stakers, 87% of it native, delegated to 2,000 operators with a Zipf-like
// skew, and 82 services with 1 to 3 operator sets each.
const (
	benchMainnetStakers   = 200_000
	benchMainnetOperators = 2_000
	benchMainnetAVSs      = 82
	benchMainnetETH       = 8_470_000
	benchMainnetNativePct = 87
	benchGwei             = 1_000_000_000
	benchMemTarget        = 2 << 30 // 2 GiB
)

// memPeak tracks the largest memory figures seen while building.
type benchMemPeak struct {
	heapInuse, heapAlloc, sys uint64
	samples                   int
}

func (p *benchMemPeak) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	p.heapInuse = max(p.heapInuse, m.HeapInuse)
	p.heapAlloc = max(p.heapAlloc, m.HeapAlloc)
	p.sys = max(p.sys, m.Sys)
	p.samples++
}

// vmHWM returns the process's peak resident set size in bytes (Linux
// /proc/self/status VmHWM), or 0 when unknown.
func benchVmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func benchMiB(v uint64) float64 { return float64(v) / (1 << 20) }

// holding is one (staker, strategy) position of the mainnet build.
type benchHolding struct {
	staker   int
	strategy string
	weight   float64
	gwei     uint64
}

// benchMainnetState is the built state and what the build knows about it.
type benchMainnetState struct {
	e          *benchEnv
	holdings   []benchHolding
	stakers    []ledger.Address
	delegated  int
	sets       []benchMainnetSet
	regs       int // (operator, set) registrations
	withdrawn  int
	slashes    int
	phases     []benchPhase
	totalBuild time.Duration
	commitTime time.Duration // of totalBuild, in Changes (the per-block commits)
}

type benchMainnetSet struct {
	key        ledger.OperatorSet
	strategies []string
	members    []int // operator indexes
}

type benchPhase struct {
	name string
	dur  time.Duration
}

// distribute splits total gwei over the holdings in proportion to their
// weights, each getting at least floor gwei, exactly: the rounding
// remainder goes to the largest holding.
func benchDistribute(hs []*benchHolding, total, floor uint64) {
	var w float64
	for _, h := range hs {
		w += h.weight
	}
	rest := total - floor*uint64(len(hs))
	var sum uint64
	big := 0
	for i, h := range hs {
		h.gwei = floor + uint64(float64(rest)*h.weight/w)
		sum += h.gwei
		if h.gwei > hs[big].gwei {
			big = i
		}
	}
	if sum > total {
		panic("distribute: rounding overshot")
	}
	hs[big].gwei += total - sum
}

// buildBenchMainnet builds the mainnet-scale state deterministically.
func buildBenchMainnet(tb testing.TB, peak *benchMemPeak) *benchMainnetState {
	rng := rand.New(rand.NewPCG(20240321, 0x5eed))
	ms := &benchMainnetState{}
	start := time.Now()
	mark := start
	endPhase := func(name string) {
		now := time.Now()
		ms.phases = append(ms.phases, benchPhase{name, now.Sub(mark)})
		mark = now
		peak.sample()
	}

	// Strategies, operators, services.
	e := &benchEnv{tb: tb, l: ledger.New(ledger.Config{Params: ledger.DefaultParams(), Open: true}), height: 1}
	ms.e = e
	e.l.BeginBlock(1, benchGenesisTime)
	// block ends a block as a node does: commit (Changes), next height.
	block := func() {
		t := time.Now()
		e.commit()
		ms.commitTime += time.Since(t)
		e.advance(1)
	}
	for _, s := range benchLSTs {
		e.must(benchAdmin, ledger.AddStrategy{Strategy: s, Token: s})
	}
	for i := range benchMainnetOperators {
		e.must(benchAddr(benchKindOperator, i), ledger.RegisterOperator{
			Metadata: fmt.Sprintf("https://operators.example/%d.json", i)})
	}
	for a := range benchMainnetAVSs {
		avs := benchAddr(benchKindAVS, a)
		e.must(avs, ledger.RegisterAVS{Metadata: fmt.Sprintf("https://avs.example/%d.json", a)})
		for id := range 1 + rng.IntN(3) {
			strategies := []string{ledger.BeaconStrategy}
			for _, s := range benchLSTs {
				if rng.IntN(10) < 6 {
					strategies = append(strategies, s)
				}
			}
			e.must(avs, ledger.CreateOperatorSet{ID: uint32(id), Strategies: strategies})
			ms.sets = append(ms.sets, benchMainnetSet{key: ledger.OperatorSet{AVS: avs, ID: uint32(id)},
				strategies: strategies})
		}
	}
	block()
	endPhase("operators and services")

	// Registrations and allocations: every operator joins a few sets, the
	// 200 largest (lowest indexes, see the Zipf delegation below) many
	// more, and allocates an equal part of its magnitude to each.
	perm := make([]int, len(ms.sets))
	for i := range benchMainnetOperators {
		opAddr := benchAddr(benchKindOperator, i)
		k := 1 + rng.IntN(4)
		if i < 200 {
			k += rng.IntN(30)
		}
		for j := range perm {
			perm[j] = j
		}
		rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		byAVS := map[ledger.Address][]uint32{}
		var order []ledger.Address
		for _, si := range perm[:k] {
			key := ms.sets[si].key
			if _, ok := byAVS[key.AVS]; !ok {
				order = append(order, key.AVS)
			}
			byAVS[key.AVS] = append(byAVS[key.AVS], key.ID)
		}
		for _, avs := range order {
			e.must(opAddr, ledger.RegisterForSets{AVS: avs, Sets: byAVS[avs]})
		}
		mag := benchWAD / uint64(k+1)
		for _, si := range perm[:k] {
			set := &ms.sets[si]
			set.members = append(set.members, i)
			mags := make([]uint64, len(set.strategies))
			for j := range mags {
				mags[j] = mag
			}
			e.must(opAddr, ledger.ModifyAllocations{Set: set.key, Strategies: set.strategies, Magnitudes: mags})
			ms.regs++
		}
	}
	block()
	endPhase("registrations and allocations")

	// Stakers: 40% hold native ETH (a fifth of them an LST too), the rest
	// one to three LSTs. Holdings are Pareto-weighted; the native pool gets
	// 87% of the ETH and the LST pool the rest, exactly, in whole gwei.
	pareto := func() float64 { return min(math.Pow(1-rng.Float64(), -1/1.16), 1e5) }
	lstBias := map[string]float64{"stETH": 1, "rETH": 0.3, "cbETH": 0.2}
	for s := range benchMainnetStakers {
		native := rng.IntN(10) < 4
		if native {
			ms.holdings = append(ms.holdings, benchHolding{staker: s, strategy: ledger.BeaconStrategy, weight: pareto()})
		}
		if !native || rng.IntN(5) == 0 {
			n := 1 + rng.IntN(3)
			for _, i := range rng.Perm(3)[:n] {
				name := benchLSTs[i]
				ms.holdings = append(ms.holdings, benchHolding{staker: s, strategy: name, weight: pareto() * lstBias[name]})
			}
		}
	}
	var nativePool, lstPool []*benchHolding
	for i := range ms.holdings {
		if h := &ms.holdings[i]; h.strategy == ledger.BeaconStrategy {
			nativePool = append(nativePool, h)
		} else {
			lstPool = append(lstPool, h)
		}
	}
	totalGwei := uint64(benchMainnetETH) * benchGwei
	nativeGwei := totalGwei / 100 * benchMainnetNativePct
	benchDistribute(nativePool, nativeGwei, benchGwei/100) // at least 0.01 ETH
	benchDistribute(lstPool, totalGwei-nativeGwei, benchGwei/100)
	endPhase("staker profiles")

	oracle := benchAddr(benchKindOracle, 0)
	zipf := rand.NewZipf(rng, 1.1, 8, benchMainnetOperators-1)
	hi := 0
	for s := range benchMainnetStakers {
		staker := benchAddr(benchKindStaker, s)
		ms.stakers = append(ms.stakers, staker)
		delegate := rng.IntN(20) != 0 // 95% delegate
		opAddr := benchAddr(benchKindOperator, int(zipf.Uint64()))
		if delegate && s%2 == 0 { // half delegate before depositing
			e.must(staker, ledger.Delegate{Operator: opAddr})
		}
		for ; hi < len(ms.holdings) && ms.holdings[hi].staker == s; hi++ {
			h := &ms.holdings[hi]
			var amount uint256.Int
			amount.Mul(uint256.NewInt(h.gwei), uint256.NewInt(benchGwei))
			if h.strategy == ledger.BeaconStrategy {
				e.must(oracle, ledger.BeaconBalanceUpdate{Staker: staker, DeltaWei: amount})
				continue
			}
			e.must(benchAdmin, ledger.Mint{Account: staker, Token: h.strategy, Amount: amount})
			e.must(staker, ledger.Deposit{Strategy: h.strategy, Amount: amount})
		}
		if delegate && s%2 == 1 {
			e.must(staker, ledger.Delegate{Operator: opAddr})
		}
		if delegate {
			ms.delegated++
		}
		if s%100 == 99 {
			block()
		}
		if s%5_000 == 4_999 {
			peak.sample()
		}
	}
	endPhase("stakers (deposits, beacon credits, delegations)")

	// Some churn: 2% of stakers queue a withdrawal of half of their first
	// holding, and 20 slashes of 1% by random services.
	hi = 0
	for s, staker := range ms.stakers {
		first := ms.holdings[hi]
		for hi < len(ms.holdings) && ms.holdings[hi].staker == s {
			hi++
		}
		if rng.IntN(50) != 0 {
			continue
		}
		shares := e.l.DepositShares(staker, first.strategy)
		var half uint256.Int
		half.Rsh(&shares, 1)
		if first.strategy == ledger.BeaconStrategy {
			half.Sub(&half, new(uint256.Int).Mod(&half, uint256.NewInt(benchGwei)))
		}
		if half.IsZero() {
			continue
		}
		e.must(staker, ledger.QueueWithdrawal{Strategies: []string{first.strategy},
			DepositShares: []uint256.Int{half}})
		ms.withdrawn++
	}
	block()
	w := benchU(benchWAD / 100)
	for ms.slashes < 20 {
		set := ms.sets[rng.IntN(len(ms.sets))]
		if len(set.members) == 0 {
			continue
		}
		wads := make([]uint256.Int, len(set.strategies))
		for i := range wads {
			wads[i] = w
		}
		e.must(set.key.AVS, ledger.Slash{Operator: benchAddr(benchKindOperator, set.members[rng.IntN(len(set.members))]),
			Set: set.key, Strategies: set.strategies, Wads: wads, Description: "bench"})
		ms.slashes++
	}
	block()
	endPhase("withdrawals and slashes")
	ms.totalBuild = time.Since(start)
	return ms
}

// TestMainnetScaleState builds the mainnet-scale state and logs its build
// time and memory: the target is a peak under 2 GiB. It runs only
// with RESTAKE_MAINNET=1 (it takes seconds and a few hundred MiB).
func TestMainnetScaleState(t *testing.T) {
	if os.Getenv("RESTAKE_MAINNET") != "1" {
		t.Skip("set RESTAKE_MAINNET=1 to build the mainnet-scale state")
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak benchMemPeak
	peak.sample()
	ms := buildBenchMainnet(t, &peak)
	peak.sample()

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	hwm := benchVmHWM()

	l := ms.e.l
	t.Logf("GOMAXPROCS=%d %s %s/%s", runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	t.Logf("state: %d stakers (%d delegated, %d holdings), %d operators, %d services, %d operator sets, "+
		"%d registrations with allocations, %d queued withdrawals, %d slashes, height %d",
		benchMainnetStakers, ms.delegated, len(ms.holdings), benchMainnetOperators, benchMainnetAVSs, len(ms.sets),
		ms.regs, ms.withdrawn, ms.slashes, l.Height())
	for _, p := range ms.phases {
		t.Logf("  build phase %-48s %8.3fs", p.name, p.dur.Seconds())
	}
	t.Logf("build time: %.3fs (of which %.3fs in the per-block commits, Changes)",
		ms.totalBuild.Seconds(), ms.commitTime.Seconds())
	t.Logf("memory after build and GC: HeapInuse %.1f MiB (%.1f MiB above the empty test process), Sys %.1f MiB",
		benchMiB(after.HeapInuse), benchMiB(after.HeapInuse-min(base.HeapInuse, after.HeapInuse)), benchMiB(after.Sys))
	t.Logf("peak while building (%d samples): HeapInuse %.1f MiB, HeapAlloc %.1f MiB, Sys %.1f MiB; "+
		"process peak RSS (VmHWM) %.1f MiB", peak.samples, benchMiB(peak.heapInuse), benchMiB(peak.heapAlloc),
		benchMiB(peak.sys), benchMiB(hwm))
	if peak.sys >= benchMemTarget {
		t.Errorf("peak Sys %.1f MiB is not under the 2 GiB target", benchMiB(peak.sys))
	}

	// Check what was built (not part of the build time): the ETH restaked
	// per strategy, and the whole state's invariants.
	var want = map[string]*uint256.Int{}
	for _, s := range benchSetStrategies {
		want[s] = new(uint256.Int)
	}
	for _, h := range ms.holdings {
		var a uint256.Int
		a.Mul(uint256.NewInt(h.gwei), uint256.NewInt(benchGwei))
		want[h.strategy].Add(want[h.strategy], &a)
	}
	total, native := new(uint256.Int), new(uint256.Int)
	for _, s := range benchSetStrategies {
		total.Add(total, want[s])
	}
	native.Set(want[ledger.BeaconStrategy])
	eth := benchEther(benchMainnetETH)
	if !total.Eq(&eth) {
		t.Errorf("built %s wei in total, want %s", total.Dec(), eth.Dec())
	}
	var pct uint256.Int
	pct.Mul(native, uint256.NewInt(100))
	pct.Div(&pct, total)
	t.Logf("restaked: %s ETH total, %s%% native; per strategy (ETH): beaconETH %s, cbETH %s, rETH %s, stETH %s",
		new(uint256.Int).Div(total, uint256.NewInt(benchWAD)).Dec(), pct.Dec(),
		new(uint256.Int).Div(want["beaconETH"], uint256.NewInt(benchWAD)).Dec(),
		new(uint256.Int).Div(want["cbETH"], uint256.NewInt(benchWAD)).Dec(),
		new(uint256.Int).Div(want["rETH"], uint256.NewInt(benchWAD)).Dec(),
		new(uint256.Int).Div(want["stETH"], uint256.NewInt(benchWAD)).Dec())
	var opShares []float64
	for i := range benchMainnetOperators {
		sh := l.OperatorShares(benchAddr(benchKindOperator, i), ledger.BeaconStrategy)
		opShares = append(opShares, sh.Float64()/1e18)
	}
	slices.Sort(opShares)
	slices.Reverse(opShares)
	var sumTop10, sumAll float64
	for i, v := range opShares {
		if i < 10 {
			sumTop10 += v
		}
		sumAll += v
	}
	t.Logf("native ETH delegated: largest operator %.0f ETH, top 10 hold %.1f%% of %.0f ETH delegated",
		opShares[0], 100*sumTop10/sumAll, sumAll)

	start := time.Now()
	if err := l.CheckInvariants(); err != nil {
		t.Fatalf("invariants: %v", err)
	}
	t.Logf("CheckInvariants over the state: %.3fs", time.Since(start).Seconds())
	start = time.Now()
	h := l.StateHash()
	t.Logf("StateHash: %.3fs, 0x%x; process peak RSS (VmHWM) after it %.1f MiB",
		time.Since(start).Seconds(), h, benchMiB(benchVmHWM()))
}
