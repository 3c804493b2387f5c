package ledger_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// reference is the naive model of slashing: every delegated staker's stake,
// and every queued withdrawal still in its window, is multiplied by
// newMax/prevMax at each slash, one by one, in exact rational arithmetic.
// The ledger instead slashes in O(1) through the operator's max magnitude and
// the queue's cumulative scaled shares.
type reference struct {
	stake  map[ledger.Address]*big.Rat
	queued map[ledger.WithdrawalID]*refWithdrawal
	order  []ledger.WithdrawalID // queued ids in queue order, for a reproducible run
	// flow is every token a staker ever deposited: rounding dust grows with
	// the amounts that went through the share math, not with what is left.
	flow map[ledger.Address]*big.Rat
}

type refWithdrawal struct {
	value *big.Rat
	start uint64
	flow  *big.Rat // the staker's flow when it was queued
}

func ratOf(v uint256.Int) *big.Rat { return new(big.Rat).SetInt(v.ToBig()) }

func floorRat(r *big.Rat) *big.Int { return new(big.Int).Quo(r.Num(), r.Denom()) }

// dust is the rounding the ledger may lose against the exact value, given
// the flow through the share math: a relative 1e-12 of it (k is WAD-scaled,
// so each rounding loses at most flow/1e18, and a run compounds a few
// thousand of them; EigenLayer's deposit-drift vector V9 loses 1e-15 of a
// balance) plus 1,000 wei.
func dust(v *big.Rat) *big.Int {
	d := floorRat(new(big.Rat).Quo(v, big.NewRat(1e12, 1)))
	return d.Add(d, big.NewInt(1000))
}

func within(t *testing.T, what string, got uint256.Int, want, flow *big.Rat) {
	t.Helper()
	g := got.ToBig()
	w := floorRat(want)
	if g.Cmp(new(big.Int).Add(w, big.NewInt(1))) > 0 {
		t.Fatalf("%s: ledger %s exceeds the exact value %s", what, g, want.FloatString(3))
	}
	if diff := new(big.Int).Sub(w, g); diff.Cmp(dust(flow)) > 0 {
		t.Fatalf("%s: ledger %s is %s below the exact value %s", what, g, diff, want.FloatString(3))
	}
}

// TestSlashingMatchesNaiveReference is the differential test of slashing:
// random stakers, deposits, queued withdrawals and slashes of two operator
// sets, checked against the per-staker reference after every step.
func TestSlashingMatchesNaiveReference(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 40
	}
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		diffRun(t, seed)
		if t.Failed() {
			t.Fatalf("seed=%d", seed)
		}
	}
}

func diffRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	p := ledger.DefaultParams()
	p.WithdrawalDelayBlocks = 20
	l := ledger.New(ledger.Config{Params: p, Open: true})
	height := uint64(1)
	l.BeginBlock(height, 0)
	apply := func(sender ledger.Address, op ledger.Op) any {
		t.Helper()
		res, err := l.Apply(sender, op)
		if err != nil {
			t.Fatalf("seed %d: %T: %v", seed, op, err)
		}
		return res
	}
	op, avs := addr('o', 0), addr('v', 0)
	apply(diffAdmin, ledger.AddStrategy{Strategy: "lst", Token: "LST"})
	apply(op, ledger.RegisterOperator{})
	apply(avs, ledger.RegisterAVS{})
	sets := []ledger.OperatorSet{{AVS: avs, ID: 1}, {AVS: avs, ID: 2}}
	for _, s := range sets {
		apply(avs, ledger.CreateOperatorSet{ID: s.ID, Strategies: []string{"lst"}})
		apply(op, ledger.RegisterForSets{AVS: avs, Sets: []uint32{s.ID}})
	}
	a1 := rng.Uint64N(wadU/2) + 1
	apply(op, ledger.ModifyAllocations{Set: sets[0], Strategies: []string{"lst"}, Magnitudes: []uint64{a1}})
	apply(op, ledger.ModifyAllocations{Set: sets[1], Strategies: []string{"lst"},
		Magnitudes: []uint64{rng.Uint64N(wadU-a1) + 1}})

	ref := reference{stake: map[ledger.Address]*big.Rat{}, queued: map[ledger.WithdrawalID]*refWithdrawal{},
		flow: map[ledger.Address]*big.Rat{}}
	var stakers []ledger.Address
	deposit := func(st ledger.Address) {
		amount := *new(uint256.Int).Mul(uint256.NewInt(rng.Uint64N(1e9)+1), uint256.NewInt(rng.Uint64N(1e15)+1))
		apply(diffAdmin, ledger.Mint{Account: st, Token: "LST", Amount: amount})
		apply(st, ledger.Deposit{Strategy: "lst", Amount: amount})
		if ref.stake[st] == nil {
			ref.stake[st], ref.flow[st] = new(big.Rat), new(big.Rat)
			stakers = append(stakers, st)
			apply(st, ledger.Delegate{Operator: op})
		}
		ref.stake[st].Add(ref.stake[st], ratOf(amount))
		ref.flow[st].Add(ref.flow[st], ratOf(amount))
	}
	for i := 0; i < rng.IntN(20)+1; i++ {
		deposit(addr('s', i))
	}
	for step := 0; step < 40; step++ {
		switch rng.IntN(6) {
		case 0: // a deposit, sometimes by a new staker
			deposit(addr('s', rng.IntN(len(stakers)+2)))
		case 1: // queue part of a staker's shares
			st := stakers[rng.IntN(len(stakers))]
			shares := l.DepositShares(st, "lst")
			if shares.IsZero() {
				continue
			}
			x := *new(uint256.Int).Div(&shares, uint256.NewInt(rng.Uint64N(4)+1))
			res := apply(st, ledger.QueueWithdrawal{Strategies: []string{"lst"}, DepositShares: []uint256.Int{x}})
			part := new(big.Rat).Mul(ref.stake[st], new(big.Rat).SetFrac(x.ToBig(), shares.ToBig()))
			ref.stake[st].Sub(ref.stake[st], part)
			id := res.(ledger.QueueWithdrawalResult).Withdrawal
			ref.queued[id] = &refWithdrawal{value: part, start: height, flow: ref.flow[st]}
			ref.order = append(ref.order, id)
		case 2: // complete a withdrawal past its delay
			for i, id := range ref.order {
				w := ref.queued[id]
				if height <= w.start+p.WithdrawalDelayBlocks {
					continue
				}
				ref.order = append(ref.order[:i], ref.order[i+1:]...)
				staker := l.QueuedWithdrawal(id).Staker
				res := apply(staker, ledger.CompleteWithdrawal{Withdrawal: id, AsTokens: true})
				within(t, "completed withdrawal", res.(ledger.CompleteWithdrawalResult).Amounts[0], w.value, w.flow)
				delete(ref.queued, id)
				break
			}
		default: // slash one of the sets
			set := sets[rng.IntN(2)]
			prevMax := l.MaxMagnitude(op, "lst")
			w := *uint256.NewInt(rng.Uint64N(wadU/2) + 1)
			apply(avs, ledger.Slash{Operator: op, Set: set, Strategies: []string{"lst"}, Wads: []uint256.Int{w}})
			newMax := l.MaxMagnitude(op, "lst")
			if prevMax == 0 {
				continue
			}
			keep := new(big.Rat).SetFrac(new(big.Int).SetUint64(newMax), new(big.Int).SetUint64(prevMax))
			for _, s := range ref.stake {
				s.Mul(s, keep)
			}
			for _, q := range ref.queued {
				if height <= q.start+p.WithdrawalDelayBlocks {
					q.value.Mul(q.value, keep)
				}
			}
		}
		if n := uint64(rng.IntN(8)); n > 0 {
			height += n
			l.BeginBlock(height, height*12)
		}
		checkAgainstReference(t, l, op, stakers, ref)
		if t.Failed() {
			return
		}
	}
}

func checkAgainstReference(t *testing.T, l *ledger.Ledger, op ledger.Address, stakers []ledger.Address,
	ref reference) {
	t.Helper()
	total, flow := new(big.Rat), new(big.Rat)
	sum := new(big.Int)
	for _, st := range stakers {
		w := l.WithdrawableShares(st, "lst")
		within(t, "withdrawable shares", w, ref.stake[st], ref.flow[st])
		total.Add(total, ref.stake[st])
		flow.Add(flow, ref.flow[st])
		sum.Add(sum, w.ToBig())
	}
	opShares := l.OperatorShares(op, "lst")
	if opShares.ToBig().Cmp(sum) < 0 {
		t.Fatalf("operator shares %s below the stakers' withdrawable sum %s", opShares.Dec(), sum)
	}
	// The operator keeps at most rounding dust beyond the exact total.
	over := new(big.Int).Sub(opShares.ToBig(), floorRat(total))
	if over.Cmp(dust(flow)) > 0 {
		t.Fatalf("operator shares %s exceed the exact total %s by %s", opShares.Dec(), total.FloatString(0), over)
	}
	for id, q := range ref.queued {
		v := l.QueuedWithdrawal(id)
		within(t, "queued withdrawal", v.Shares[0], q.value, q.flow)
	}
}

var diffAdmin = addr('a', 0)
