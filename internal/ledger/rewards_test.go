package ledger_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// rewardsWorld drives random operations on a small ledger with rewards
// streaming, and keeps a brute-force reference: at every interval it
// recomputes every operator's weight and every staker's share from the
// views, one earner at a time, in exact rational arithmetic. The ledger
// instead accrues through per-(operator, strategy, token) indices.
type rewardsWorld struct {
	t         *testing.T
	seed      uint64
	l         *ledger.Ledger
	rng       *rand.Rand
	height    uint64
	time      uint64
	params    ledger.Params
	stakers   []ledger.Address
	operators []ledger.Address
	avss      []ledger.Address
	subs      []*refSubmission
	ref       map[ledger.Address]map[string]*big.Rat // cumulative earnings
	tol       map[ledger.Address]map[string]*big.Rat // rounding allowed so far
	queued    []ledger.WithdrawalID
}

type refSubmission struct {
	avs         ledger.Address
	token       string
	strategies  []string
	multipliers []uint256.Int
	escrowed    uint256.Int
	remaining   uint256.Int
	start, end  uint64
	next        uint64
}

var rwStrategies = []string{"a", "b", ledger.BeaconStrategy}

func newRewardsWorld(t *testing.T, seed uint64) *rewardsWorld {
	p := ledger.DefaultParams()
	p.WithdrawalDelayBlocks, p.DeallocationDelayBlocks = 20, 20
	p.AllocationConfigurationDelayBlocks, p.SlasherConfigurationDelayBlocks = 30, 30
	p.CalculationIntervalSeconds = 120
	p.MaxRewardsDurationSeconds, p.MaxRetroactiveLengthSeconds = 120*20, 120*100
	p.MaxFutureLengthSeconds, p.GenesisRewardsTimestamp, p.ActivationDelaySeconds = 120*50, 0, 240
	w := &rewardsWorld{t: t, seed: seed, l: ledger.New(ledger.Config{Params: p, Open: true}), params: p,
		rng: rand.New(rand.NewPCG(seed, 3)), height: 1, time: 1200,
		ref: map[ledger.Address]map[string]*big.Rat{}, tol: map[ledger.Address]map[string]*big.Rat{}}
	w.l.BeginBlock(w.height, w.time)
	for _, s := range rwStrategies[:2] {
		w.must(diffAdmin, ledger.AddStrategy{Strategy: s, Token: "tok-" + s})
	}
	for i := 0; i < 3; i++ {
		op := addr('o', i)
		w.operators = append(w.operators, op)
		w.must(op, ledger.RegisterOperator{})
	}
	sets := map[int][]uint32{0: {1, 2}, 1: {3}}
	strategiesOf := map[uint32][]string{1: {"a", ledger.BeaconStrategy}, 2: {"b"}, 3: {"a", "b"}}
	for i := 0; i < 2; i++ {
		v := addr('v', i)
		w.avss = append(w.avss, v)
		w.must(v, ledger.RegisterAVS{})
		for _, id := range sets[i] {
			w.must(v, ledger.CreateOperatorSet{ID: id, Strategies: strategiesOf[id]})
			for _, op := range w.operators {
				if w.rng.IntN(4) == 0 {
					continue
				}
				w.must(op, ledger.RegisterForSets{AVS: v, Sets: []uint32{id}})
				set := ledger.OperatorSet{AVS: v, ID: id}
				for _, s := range strategiesOf[id] {
					w.must(op, ledger.ModifyAllocations{Set: set, Strategies: []string{s},
						Magnitudes: []uint64{w.rng.Uint64N(wadU/4) + 1}})
				}
			}
		}
	}
	for i := 0; i < 2+w.rng.IntN(8); i++ {
		st := addr('s', i)
		w.stakers = append(w.stakers, st)
		for _, s := range rwStrategies[:2] {
			amount := *new(uint256.Int).Mul(uint256.NewInt(w.rng.Uint64N(1e6)+1), uint256.NewInt(1e15))
			w.must(diffAdmin, ledger.Mint{Account: st, Token: "tok-" + s, Amount: *new(uint256.Int).Mul(&amount, uint256.NewInt(4))})
			w.must(st, ledger.Deposit{Strategy: s, Amount: amount})
		}
		if w.rng.IntN(2) == 0 {
			w.must(st, ledger.BeaconBalanceUpdate{Staker: st, DeltaWei: eth(32)})
		}
		w.must(st, ledger.Delegate{Operator: w.operators[w.rng.IntN(len(w.operators))]})
	}
	w.must(w.operators[0], ledger.SetOperatorSplit{AVS: w.avss[0], Bips: 2500})
	for i := 0; i < 2+w.rng.IntN(3); i++ {
		w.submit()
	}
	return w
}

func (w *rewardsWorld) must(sender ledger.Address, op ledger.Op) any {
	w.t.Helper()
	res, err := w.l.Apply(sender, op)
	if err != nil {
		w.t.Fatalf("%T %+v: %v", op, op, err)
	}
	return res
}

func (w *rewardsWorld) submit() {
	v := w.avss[w.rng.IntN(len(w.avss))]
	token := []string{"USDC", "EIGEN"}[w.rng.IntN(2)]
	var strategies []string
	var mults []uint256.Int
	for _, s := range []string{"a", "b", ledger.BeaconStrategy} { // ascending: "a" < "b" < "beaconETH"
		if w.rng.IntN(3) > 0 {
			strategies = append(strategies, s)
			mults = append(mults, *uint256.NewInt(w.rng.Uint64N(3*wadU) + 1))
		}
	}
	if len(strategies) == 0 {
		strategies, mults = []string{"a"}, []uint256.Int{*uint256.NewInt(wadU)}
	}
	iv := w.params.CalculationIntervalSeconds
	start := (w.time/iv + uint64(w.rng.IntN(3))) * iv
	if w.rng.IntN(3) == 0 && start >= iv {
		start -= iv // retroactive by one interval
	}
	duration := iv * uint64(1+w.rng.IntN(6))
	amount := *new(uint256.Int).Mul(uint256.NewInt(w.rng.Uint64N(1e9)+1), uint256.NewInt(w.rng.Uint64N(1e12)+1))
	w.must(diffAdmin, ledger.Mint{Account: v, Token: token, Amount: amount})
	res := w.must(v, ledger.SubmitRewards{Token: token, Amount: amount, Strategies: strategies,
		Multipliers: mults, StartTime: start, Duration: duration}).(ledger.SubmitRewardsResult)
	w.subs = append(w.subs, &refSubmission{avs: v, token: token, strategies: strategies, multipliers: mults,
		escrowed: res.Escrowed, remaining: res.Escrowed, start: start, end: start + duration, next: start})
}

func (w *rewardsWorld) credit(m map[ledger.Address]map[string]*big.Rat, who ledger.Address, token string, v *big.Rat) {
	if m[who] == nil {
		m[who] = map[string]*big.Rat{}
	}
	if m[who][token] == nil {
		m[who][token] = new(big.Rat)
	}
	m[who][token].Add(m[who][token], v)
}

// accrueReference pays every interval ending by upTo, from the views.
func (w *rewardsWorld) accrueReference(upTo uint64) {
	iv := w.params.CalculationIntervalSeconds
	for _, s := range w.subs {
		for s.next < s.end && s.next+iv <= upTo {
			amount := s.remaining
			if s.next+iv < s.end {
				amount.Mul(&s.escrowed, uint256.NewInt(iv))
				amount.Div(&amount, uint256.NewInt(s.end-s.start))
			}
			s.remaining.Sub(&s.remaining, &amount)
			w.payReference(s, ratOf(amount))
			s.next += iv
		}
	}
}

func (w *rewardsWorld) payReference(s *refSubmission, amount *big.Rat) {
	one := big.NewRat(1e18, 1)
	per := map[ledger.Address][]*big.Rat{}
	total := new(big.Rat)
	for _, id := range w.l.OperatorSets(s.avs) {
		set := ledger.OperatorSet{AVS: s.avs, ID: id}
		for _, op := range w.operators {
			if !w.l.IsRegistered(op, set) {
				continue
			}
			if per[op] == nil {
				per[op] = make([]*big.Rat, len(s.strategies))
				for i := range per[op] {
					per[op][i] = new(big.Rat)
				}
			}
			for i, name := range s.strategies {
				stake := w.l.MinimumSlashableStake(set, op, name, w.height)
				v := new(big.Rat).Mul(ratOf(stake), ratOf(s.multipliers[i]))
				per[op][i].Add(per[op][i], v)
				total.Add(total, v)
			}
		}
	}
	if total.Sign() == 0 {
		return
	}
	feeBips := int64(w.params.ProtocolFeeBips)
	for _, op := range w.operators {
		if per[op] == nil {
			continue
		}
		weight := new(big.Rat)
		for _, v := range per[op] {
			weight.Add(weight, v)
		}
		if weight.Sign() == 0 {
			continue
		}
		share := new(big.Rat).Mul(amount, new(big.Rat).Quo(weight, total))
		commission := new(big.Rat).Mul(share, big.NewRat(int64(w.l.SplitBips(op, s.avs)), 10000-feeBips))
		if commission.Cmp(share) > 0 {
			commission.Set(share)
		}
		w.credit(w.ref, op, s.token, commission)
		w.credit(w.tol, op, s.token, big.NewRat(2, 1))
		stakersPart := new(big.Rat).Sub(share, commission)
		for i, name := range s.strategies {
			opShares := w.l.OperatorShares(op, name)
			if per[op][i].Sign() == 0 || opShares.IsZero() {
				continue
			}
			part := new(big.Rat).Mul(stakersPart, new(big.Rat).Quo(per[op][i], weight))
			perShare := new(big.Rat).Quo(part, ratOf(opShares))
			for _, st := range w.stakers {
				if w.l.DelegatedTo(st) != op {
					continue
				}
				a := w.l.WithdrawableShares(st, name)
				w.credit(w.ref, st, s.token, new(big.Rat).Mul(perShare, ratOf(a)))
				// Each accrual may err by the reward of a few shares: the
				// ledger folds the magnitude (and, for native ETH, the beacon
				// factor) into its index and floors in another order than the
				// withdrawable-shares view, which loses up to a/1e18 + 1
				// shares; plus a few wei of floors.
				slack := new(big.Rat).Add(new(big.Rat).Quo(ratOf(a), one), big.NewRat(2, 1))
				w.credit(w.tol, st, s.token, new(big.Rat).Add(new(big.Rat).Mul(perShare, slack), big.NewRat(3, 1)))
			}
		}
	}
}

func (w *rewardsWorld) roll(blocks int) {
	for i := 0; i < blocks; i++ {
		w.accrueReference(w.time + 12)
		w.height++
		w.time += 12
		w.l.BeginBlock(w.height, w.time)
	}
}

// step runs one random operation; rejections are fine, they change nothing.
func (w *rewardsWorld) step() {
	st := w.stakers[w.rng.IntN(len(w.stakers))]
	op := w.operators[w.rng.IntN(len(w.operators))]
	s := rwStrategies[w.rng.IntN(3)]
	var res any
	var err error
	switch w.rng.IntN(11) {
	case 0:
		if s != ledger.BeaconStrategy {
			bal := w.l.Balance(st, "tok-"+s)
			res, err = w.l.Apply(st, ledger.Deposit{Strategy: s, Amount: *new(uint256.Int).Rsh(&bal, 2)})
		}
	case 1:
		shares := w.l.DepositShares(st, s)
		res, err = w.l.Apply(st, ledger.QueueWithdrawal{Strategies: []string{s},
			DepositShares: []uint256.Int{*new(uint256.Int).Rsh(&shares, 1)}})
	case 2:
		if len(w.queued) > 0 {
			id := w.queued[w.rng.IntN(len(w.queued))]
			staker := w.l.QueuedWithdrawal(id).Staker
			_, err = w.l.Apply(staker, ledger.CompleteWithdrawal{Withdrawal: id, AsTokens: w.rng.IntN(2) == 0})
		}
	case 3:
		res, err = w.l.Apply(st, ledger.Undelegate{Staker: st})
	case 4:
		_, err = w.l.Apply(st, ledger.Delegate{Operator: op})
	case 5:
		v := w.avss[w.rng.IntN(2)]
		ids := w.l.OperatorSets(v)
		set := ledger.OperatorSet{AVS: v, ID: ids[w.rng.IntN(len(ids))]}
		_, err = w.l.Apply(v, ledger.Slash{Operator: op, Set: set, Strategies: []string{s},
			Wads: []uint256.Int{*uint256.NewInt(w.rng.Uint64N(wadU/3) + 1)}})
	case 6:
		v := w.avss[w.rng.IntN(2)]
		ids := w.l.OperatorSets(v)
		set := ledger.OperatorSet{AVS: v, ID: ids[w.rng.IntN(len(ids))]}
		if w.rng.IntN(2) == 0 {
			_, err = w.l.Apply(op, ledger.DeregisterFromSets{Operator: op, AVS: v, Sets: []uint32{set.ID}})
		} else {
			_, err = w.l.Apply(op, ledger.ModifyAllocations{Set: set, Strategies: []string{s},
				Magnitudes: []uint64{w.rng.Uint64N(wadU / 3)}})
		}
	case 7:
		delta := eth(w.rng.Uint64N(8))
		_, err = w.l.Apply(st, ledger.BeaconBalanceUpdate{Staker: st, DeltaWei: delta,
			PrevRestakedWei: eth(32), Decrease: w.rng.IntN(2) == 0})
	case 8:
		earner := append(w.stakers, w.operators...)[w.rng.IntN(len(w.stakers)+len(w.operators))]
		_, err = w.l.Apply(earner, ledger.ClaimRewards{Token: []string{"USDC", "EIGEN"}[w.rng.IntN(2)]})
	case 9:
		if w.rng.IntN(3) == 0 {
			w.submit()
		}
	default:
		w.roll(1 + w.rng.IntN(15))
	}
	_ = err
	switch r := res.(type) {
	case ledger.QueueWithdrawalResult:
		w.queued = append(w.queued, r.Withdrawal)
	case ledger.UndelegateResult:
		w.queued = append(w.queued, r.Withdrawals...)
	}
}

func (w *rewardsWorld) check() {
	w.t.Helper()
	earners := append(append([]ledger.Address{}, w.stakers...), w.operators...)
	for _, e := range earners {
		for _, token := range []string{"USDC", "EIGEN"} {
			got := w.l.Claimable(e, token)
			claimed := w.l.Claimed(e, token)
			got.Add(&got, &claimed)
			want, tol := new(big.Rat), new(big.Rat)
			if w.ref[e] != nil && w.ref[e][token] != nil {
				want = w.ref[e][token]
				tol = w.tol[e][token]
			}
			diff := new(big.Rat).Sub(ratOf(got), want)
			if diff.Abs(diff).Cmp(tol) > 0 {
				w.t.Fatalf("seed=%d earner %x %s: ledger %s, brute force %s (tolerance %s)", w.seed, e, token,
					got.Dec(), want.FloatString(2), tol.FloatString(2))
			}
		}
	}
	if err := w.l.CheckInvariants(); err != nil {
		w.t.Fatal(err)
	}
}

// TestRewardsMatchBruteForce compares the index-based accrual with a
// brute-force recomputation over every interval and earner, on random runs
// with slashes, delegation changes, deposits, withdrawals, deregistrations,
// deallocations, beacon-chain losses and claims mid-stream.
func TestRewardsMatchBruteForce(t *testing.T) {
	runs := 150
	if testing.Short() {
		runs = 20
	}
	paid := 0
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		w := newRewardsWorld(t, seed)
		for i := 0; i < 80; i++ {
			w.step()
			w.check()
		}
		w.roll(200) // stream every submission to its end
		w.check()
		for _, e := range w.ref {
			for _, v := range e {
				if v.Sign() > 0 {
					paid++
				}
			}
		}
	}
	if paid < runs {
		t.Fatalf("only %d earner-token pairs earned anything in %d runs: the test exercises too little", paid, runs)
	}
}

func eth(n uint64) uint256.Int { return *new(uint256.Int).Mul(uint256.NewInt(n), uint256.NewInt(1e18)) }
