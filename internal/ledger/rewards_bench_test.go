package ledger_test

import (
	"fmt"
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// rewardsNet is a network for the rewards benchmarks: operators with
// delegated stakers, one service whose set every operator joins and
// allocates to, and a reward token.
type rewardsNet struct {
	l         *ledger.Ledger
	avs       ledger.Address
	operators []ledger.Address
	stakers   []ledger.Address
	height    uint64
	time      uint64
}

func rbAddr(kind byte, i int) ledger.Address {
	var a ledger.Address
	a[0] = kind
	a[16], a[17], a[18], a[19] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return a
}

func newRewardsNet(tb testing.TB, operators, stakers int) *rewardsNet {
	p := ledger.DefaultParams()
	p.CalculationIntervalSeconds = 600
	p.GenesisRewardsTimestamp = 0
	n := &rewardsNet{l: ledger.New(ledger.Config{Params: p, Open: true}), avs: rbAddr('v', 0), height: 1, time: 6000}
	n.l.BeginBlock(n.height, n.time)
	must := func(s ledger.Address, op ledger.Op) {
		if _, err := n.l.Apply(s, op); err != nil {
			tb.Fatalf("%T: %v", op, err)
		}
	}
	admin := rbAddr('a', 0)
	must(admin, ledger.AddStrategy{Strategy: "stETH", Token: "stETH"})
	must(n.avs, ledger.RegisterAVS{})
	must(n.avs, ledger.CreateOperatorSet{ID: 0, Strategies: []string{"stETH"}})
	set := ledger.OperatorSet{AVS: n.avs, ID: 0}
	for i := 0; i < operators; i++ {
		op := rbAddr('o', i)
		n.operators = append(n.operators, op)
		must(op, ledger.RegisterOperator{})
		must(op, ledger.RegisterForSets{AVS: n.avs, Sets: []uint32{0}})
		must(op, ledger.ModifyAllocations{Set: set, Strategies: []string{"stETH"}, Magnitudes: []uint64{5e17}})
	}
	amount := *uint256.NewInt(32e18 / 4)
	for i := 0; i < stakers; i++ {
		st := rbAddr('s', i)
		n.stakers = append(n.stakers, st)
		must(admin, ledger.Mint{Account: st, Token: "stETH", Amount: amount})
		must(st, ledger.Deposit{Strategy: "stETH", Amount: amount})
		must(st, ledger.Delegate{Operator: n.operators[i%operators]})
		if i%100_000 == 99_999 {
			n.l.Changes() // a node commits as it goes; keep the change set small
		}
	}
	must(admin, ledger.Mint{Account: n.avs, Token: "EIGEN", Amount: *new(uint256.Int).Lsh(uint256.NewInt(1), 200)})
	n.l.Changes()
	return n
}

// interval submits one interval's rewards and moves the clock past it, so
// the next block accrues it over every operator.
func (n *rewardsNet) interval(tb testing.TB) {
	start := (n.time/600 + 1) * 600
	if _, err := n.l.Apply(n.avs, ledger.SubmitRewards{Token: "EIGEN", Amount: *new(uint256.Int).Mul(uint256.NewInt(1e18), uint256.NewInt(1e6)),
		Strategies: []string{"stETH"}, Multipliers: []uint256.Int{*uint256.NewInt(1e18)}, StartTime: start,
		Duration: 600}); err != nil {
		tb.Fatal(err)
	}
	n.height++
	n.time = start + 600
	n.l.BeginBlock(n.height, n.time)
	n.l.Changes()
}

// BenchmarkRewardsInterval is one submission plus one calculation interval
// of accrual over 2,000 operators, with 2,000 and with 1,000,000 delegated
// stakers: the cost must not depend on the stakers.
func BenchmarkRewardsInterval(b *testing.B) {
	for _, stakers := range []int{2_000, 1_000_000} {
		b.Run(fmt.Sprintf("operators=2000/stakers=%d", stakers), func(b *testing.B) {
			n := newRewardsNet(b, 2_000, stakers)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n.interval(b)
			}
		})
	}
}

// BenchmarkClaim is one staker's claim of what it earned over an interval.
func BenchmarkClaim(b *testing.B) {
	n := newRewardsNet(b, 100, 200_000)
	n.interval(b)
	claim := ledger.ClaimRewards{Token: "EIGEN"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := n.stakers[i%len(n.stakers)]
		if i > 0 && i%len(n.stakers) == 0 {
			b.StopTimer()
			n.interval(b)
			b.StartTimer()
		}
		if _, err := n.l.Apply(st, claim); err != nil {
			b.Fatal(err)
		}
	}
}
