package ledger_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// world is a small ledger driven by random operations: a few stakers,
// operators, services and strategies, with short delays so that
// withdrawals, deallocations and slasher changes complete within a run.
type world struct {
	t           testing.TB
	mirror      map[string]string // records as a node would store them from Changes
	l           *ledger.Ledger
	rng         *rand.Rand
	height      uint64
	stakers     []ledger.Address
	operators   []ledger.Address
	avss        []ledger.Address
	strategies  []string
	sets        []ledger.OperatorSet
	withdrawals []ledger.WithdrawalID
	slashes     []ledger.ClearSlashed
	log         []string
}

func addr(prefix byte, i int) ledger.Address {
	var a ledger.Address
	a[0], a[19] = prefix, byte(i+1)
	return a
}

const wadU = uint64(1e18)

func newWorld(t testing.TB, seed uint64) *world {
	p := ledger.DefaultParams()
	p.WithdrawalDelayBlocks, p.DeallocationDelayBlocks = 8, 8
	p.AllocationConfigurationDelayBlocks, p.SlasherConfigurationDelayBlocks = 12, 12
	p.CalculationIntervalSeconds, p.GenesisRewardsTimestamp, p.ActivationDelaySeconds = 120, 0, 240
	p.MaxRewardsDurationSeconds, p.MaxRetroactiveLengthSeconds, p.MaxFutureLengthSeconds = 1200, 1200, 1200
	w := &world{t: t, l: ledger.New(ledger.Config{Params: p, Open: true}), rng: rand.New(rand.NewPCG(seed, 7))}
	w.height = 1
	w.l.BeginBlock(1, 1_700_000_000)
	for i := 0; i < 6; i++ {
		w.stakers = append(w.stakers, addr('s', i))
	}
	for i := 0; i < 3; i++ {
		w.operators = append(w.operators, addr('o', i))
	}
	for i := 0; i < 2; i++ {
		w.avss = append(w.avss, addr('v', i))
	}
	w.strategies = []string{"s0", "s1", "s2", ledger.BeaconStrategy}
	for _, s := range w.strategies[:3] {
		w.must(ledger.AddStrategy{Strategy: s, Token: "tok" + s})
		for _, st := range w.stakers {
			w.must(ledger.Mint{Account: st, Token: "tok" + s, Amount: w.amount()})
		}
	}
	for i, op := range w.operators {
		w.mustFrom(op, ledger.RegisterOperator{AllocationDelay: uint32(i * 2)})
	}
	for i, v := range w.avss {
		w.must(ledger.Mint{Account: v, Token: "USDC", Amount: w.amount()})
		w.mustFrom(v, ledger.RegisterAVS{})
		set := ledger.CreateOperatorSet{ID: 1, Strategies: []string{"s0", "s1", ledger.BeaconStrategy}}
		if i == 1 {
			set = ledger.CreateOperatorSet{ID: 2, Strategies: []string{"s1", "s2"},
				Redistributing: true, Recipient: addr('r', i)}
		}
		w.mustFrom(v, set)
		w.sets = append(w.sets, ledger.OperatorSet{AVS: v, ID: set.ID})
	}
	// A populated start: every staker deposits and most delegate; every
	// operator joins every set and allocates, so that slashes, queued
	// withdrawals and deallocations have something to act on.
	for i, st := range w.stakers {
		for _, s := range w.strategies[:3] {
			bal := w.l.Balance(st, "tok"+s)
			bal.Rsh(&bal, 1)
			if !bal.IsZero() {
				if _, err := w.l.Apply(st, ledger.Deposit{Strategy: s, Amount: bal}); err != nil {
					continue // a dust balance can mint zero shares
				}
			}
		}
		eth := new(uint256.Int).Mul(uint256.NewInt(32), uint256.NewInt(1e18))
		w.mustFrom(st, ledger.BeaconBalanceUpdate{Staker: st, DeltaWei: *eth})
		if i < 5 {
			w.mustFrom(st, ledger.Delegate{Operator: w.operators[i%len(w.operators)]})
		}
	}
	for _, op := range w.operators {
		for _, set := range w.sets {
			w.mustFrom(op, ledger.RegisterForSets{AVS: set.AVS, Sets: []uint32{set.ID}})
			strategies := []string{"s1"}
			if set.ID == 1 {
				strategies = []string{ledger.BeaconStrategy, "s0"}
			}
			mags := make([]uint64, len(strategies))
			for i := range mags {
				mags[i] = wadU / 3
			}
			w.mustFrom(op, ledger.ModifyAllocations{Set: set, Strategies: strategies, Magnitudes: mags})
		}
	}
	w.height += 10
	w.l.BeginBlock(w.height, 1_700_000_000+w.height*12)
	return w
}

// fraction returns a random part of v (all of it, half, a little, or one).
func (w *world) fraction(v uint256.Int) uint256.Int {
	switch w.rng.IntN(4) {
	case 0:
		return v
	case 1:
		return *new(uint256.Int).Rsh(&v, 1)
	case 2:
		return *new(uint256.Int).Div(&v, uint256.NewInt(w.rng.Uint64N(1000)+1))
	default:
		return *uint256.NewInt(1)
	}
}

// held returns a strategy the staker holds, or any strategy.
func (w *world) held(st ledger.Address) string {
	var hs []string
	for _, s := range w.strategies {
		if sh := w.l.DepositShares(st, s); !sh.IsZero() {
			hs = append(hs, s)
		}
	}
	if len(hs) == 0 || w.rng.IntN(8) == 0 {
		return pick(w, w.strategies)
	}
	return pick(w, hs)
}

func (w *world) must(op ledger.Op) { w.mustFrom(addr('a', 0), op) }

func (w *world) mustFrom(sender ledger.Address, op ledger.Op) {
	if _, err := w.l.Apply(sender, op); err != nil {
		w.t.Fatalf("setup %T: %v", op, err)
	}
}

// amount draws a token amount across the scales that matter: dust, ether
// amounts and very large balances.
func (w *world) amount() uint256.Int {
	switch w.rng.IntN(4) {
	case 0:
		return *uint256.NewInt(w.rng.Uint64N(2000))
	case 1:
		return *new(uint256.Int).Mul(uint256.NewInt(w.rng.Uint64N(100)+1), uint256.NewInt(1e18))
	case 2:
		return *new(uint256.Int).Mul(uint256.NewInt(w.rng.Uint64()), uint256.NewInt(w.rng.Uint64N(1e12)+1))
	default:
		return *uint256.NewInt(w.rng.Uint64())
	}
}

func (w *world) magnitude() uint64 {
	switch w.rng.IntN(5) {
	case 0:
		return 0
	case 1:
		return wadU
	case 2:
		return w.rng.Uint64N(10)
	default:
		return w.rng.Uint64N(wadU + 1)
	}
}

func (w *world) wadToSlash() uint256.Int {
	switch w.rng.IntN(4) {
	case 0:
		return *uint256.NewInt(wadU)
	case 1:
		return *uint256.NewInt(w.rng.Uint64N(3)) // 0 is rejected, tiny slashes round
	case 2:
		return *uint256.NewInt(wadU + 1) // rejected
	default:
		return *uint256.NewInt(w.rng.Uint64N(wadU/2) + 1)
	}
}

func pick[T any](w *world, xs []T) T { return xs[w.rng.IntN(len(xs))] }

func (w *world) anyone() ledger.Address {
	all := append(append(append([]ledger.Address{}, w.stakers...), w.operators...), w.avss...)
	return pick(w, all)
}

// randomOp draws the next operation and its sender. Most are plausible;
// many are invalid on purpose, to exercise every rejection path.
func (w *world) randomOp() (ledger.Address, ledger.Op) {
	st, op, set := pick(w, w.stakers), pick(w, w.operators), pick(w, w.sets)
	strategy := pick(w, w.strategies)
	switch w.rng.IntN(19) {
	case 0, 1:
		amount := w.amount()
		if strategy != ledger.BeaconStrategy && w.rng.IntN(4) > 0 {
			amount = w.fraction(w.l.Balance(st, "tok"+strategy))
		}
		return st, ledger.Deposit{Strategy: strategy, Amount: amount}
	case 2:
		delta := w.amount()
		delta.Mul(&delta, uint256.NewInt(1e9)) // usually whole gwei
		if w.rng.IntN(8) == 0 {
			delta.AddUint64(&delta, 1)
		}
		prev := w.l.Balance(st, "ETH") // any value; the ledger checks it
		if w.rng.IntN(2) == 0 {
			prev = *new(uint256.Int).Mul(uint256.NewInt(w.rng.Uint64N(64)), uint256.NewInt(1e18))
		}
		return st, ledger.BeaconBalanceUpdate{Staker: st, PrevRestakedWei: prev, DeltaWei: delta,
			Decrease: w.rng.IntN(3) == 0}
	case 3:
		return st, ledger.Delegate{Operator: pick(w, append(w.operators, st))}
	case 4:
		return pick(w, []ledger.Address{st, op, w.anyone()}), ledger.Undelegate{Staker: st}
	case 5:
		return st, ledger.Redelegate{Operator: op}
	case 6, 7:
		strategy = w.held(st)
		shares := w.fraction(w.l.DepositShares(st, strategy))
		if w.rng.IntN(8) == 0 {
			shares = w.amount()
		}
		if w.rng.IntN(4) == 0 { // two entries, sometimes of the same strategy
			s2 := w.held(st)
			return st, ledger.QueueWithdrawal{Strategies: []string{strategy, s2},
				DepositShares: []uint256.Int{shares, w.fraction(w.l.DepositShares(st, s2))}}
		}
		return st, ledger.QueueWithdrawal{Strategies: []string{strategy}, DepositShares: []uint256.Int{shares}}
	case 8, 9:
		if len(w.withdrawals) == 0 {
			return st, ledger.CompleteWithdrawal{}
		}
		i := w.rng.IntN(len(w.withdrawals))
		id := w.withdrawals[i]
		if w.l.QueuedWithdrawal(id).Strategies == nil || len(w.l.QueuedWithdrawal(id).Strategies) == 0 {
			w.withdrawals = append(w.withdrawals[:i], w.withdrawals[i+1:]...)
		}
		staker := w.l.QueuedWithdrawal(id).Staker
		if w.rng.IntN(6) == 0 {
			staker = st
		}
		return staker, ledger.CompleteWithdrawal{Withdrawal: id, AsTokens: w.rng.IntN(2) == 0}
	case 10:
		return op, ledger.RegisterForSets{AVS: set.AVS, Sets: []uint32{set.ID}}
	case 11:
		return pick(w, []ledger.Address{op, set.AVS}), ledger.DeregisterFromSets{Operator: op, AVS: set.AVS,
			Sets: []uint32{set.ID}}
	case 12, 13:
		return op, ledger.ModifyAllocations{Set: set, Strategies: []string{strategy},
			Magnitudes: []uint64{w.magnitude()}}
	case 14:
		return w.anyone(), ledger.ClearDeallocationQueue{Operator: op, Strategy: strategy,
			Count: uint32(w.rng.IntN(3))}
	case 15:
		strategies := []string{"s1"}
		if set.ID == 1 {
			strategies = []string{ledger.BeaconStrategy, "s0"}[w.rng.IntN(2):]
		}
		if w.rng.IntN(8) == 0 {
			strategies = []string{strategy}
		}
		wads := make([]uint256.Int, len(strategies))
		for i := range wads {
			wads[i] = w.wadToSlash()
		}
		return set.AVS, ledger.Slash{Operator: op, Set: set, Strategies: strategies, Wads: wads}
	case 16:
		if len(w.slashes) > 0 && w.rng.IntN(3) > 0 {
			return w.anyone(), pick(w, w.slashes)
		}
		return addr('a', 0), ledger.Rebase{Strategy: strategy, Amount: w.amount()}
	case 17:
		return w.rewardsOp(set.AVS)
	default:
		if w.rng.IntN(2) == 0 { // a declaration, sometimes invalid, sometimes not the set's AVS
			den := w.rng.Uint64N(4)
			return pick(w, []ledger.Address{set.AVS, set.AVS, op}), ledger.DeclareServiceRisk{Set: set.ID,
				ProfitUSD: w.amount(), ThresholdNum: w.rng.Uint64N(den + 2), ThresholdDen: den}
		}
		return op, ledger.SetAllocationDelay{Delay: uint32(w.rng.IntN(4))}
	}
}

// rewardsOp draws a rewards submission, a claim or a split change.
func (w *world) rewardsOp(avs ledger.Address) (ledger.Address, ledger.Op) {
	switch w.rng.IntN(3) {
	case 0:
		amount := w.fraction(w.l.Balance(avs, "USDC"))
		start := (1_700_000_000 + w.height*12) / 120 * 120
		if w.rng.IntN(4) == 0 {
			start += uint64(w.rng.IntN(5)) // sometimes misaligned
		}
		strategies := []string{"s0", "s1", "s2", ledger.BeaconStrategy}[:1+w.rng.IntN(3)]
		mults := make([]uint256.Int, len(strategies))
		for i := range mults {
			mults[i] = *uint256.NewInt(w.rng.Uint64N(2*wadU) + 1)
		}
		return avs, ledger.SubmitRewards{Token: "USDC", Amount: amount, Strategies: strategies,
			Multipliers: mults, StartTime: start, Duration: 120 * uint64(w.rng.IntN(4))}
	case 1:
		return w.anyone(), ledger.ClaimRewards{Token: "USDC"}
	default:
		return pick(w, w.operators), ledger.SetOperatorSplit{AVS: avs, Bips: uint32(w.rng.IntN(12000))}
	}
}

func (w *world) roll() {
	switch w.rng.IntN(10) {
	case 0:
		w.height += 9 // past every delay
	case 1, 2:
		w.height += uint64(w.rng.IntN(4) + 1)
	default:
		return
	}
	w.l.BeginBlock(w.height, 1_700_000_000+w.height*12)
}

// step applies one random operation and checks the properties that must
// hold after it.
func (w *world) step() {
	w.roll()
	sender, op := w.randomOp()
	before := w.l.StateHash()
	res, err := w.l.Apply(sender, op)
	w.log = append(w.log, fmt.Sprintf("h=%d %T %+v -> %v", w.height, op, op, err))
	if err != nil {
		var lerr *ledger.Error
		if !errors.As(err, &lerr) {
			w.t.Fatalf("rejection is not a *ledger.Error: %v", err)
		}
		if w.l.StateHash() != before {
			w.fail("rejected %T (%s) changed the state", op, lerr.Name)
		}
		if len(w.l.Events()) != 0 {
			w.fail("rejected %T emitted events", op)
		}
		return
	}
	switch r := res.(type) {
	case ledger.QueueWithdrawalResult:
		w.withdrawals = append(w.withdrawals, r.Withdrawal)
	case ledger.UndelegateResult:
		w.withdrawals = append(w.withdrawals, r.Withdrawals...)
	case ledger.SlashResult:
		w.slashes = append(w.slashes, ledger.ClearSlashed{Set: op.(ledger.Slash).Set, SlashID: r.SlashID})
	}
	if err := w.l.CheckInvariants(); err != nil {
		w.fail("after %T: %v", op, err)
	}
	w.checkChanges(op)
}

// checkChanges applies the ledger's incremental changes to a mirror of its
// records, as a node does after each block, and compares the mirror with a
// full export: a mutation that forgets to mark its record shows here.
func (w *world) checkChanges(op ledger.Op) {
	if w.mirror == nil {
		w.mirror = map[string]string{}
	}
	for _, r := range w.l.Changes() {
		if r.Value == nil {
			delete(w.mirror, string(r.Key))
		} else {
			w.mirror[string(r.Key)] = string(r.Value)
		}
	}
	full := w.l.Records()
	if len(full) != len(w.mirror) {
		w.fail("after %T: %d records incrementally, %d in a full export", op, len(w.mirror), len(full))
	}
	for _, r := range full {
		if got, ok := w.mirror[string(r.Key)]; !ok || got != string(r.Value) {
			w.fail("after %T: record %q is stale in the incremental changes", op, r.Key)
		}
	}
}

func (w *world) fail(format string, args ...any) {
	w.t.Helper()
	start := max(0, len(w.log)-15)
	for _, line := range w.log[start:] {
		w.t.Log(line)
	}
	w.t.Fatalf(format, args...)
}

// TestRandomOperationSequences runs thousands of random operation sequences
// and checks, after every operation: token conservation, magnitude bounds
// and monotonicity, operator shares covering their stakers, and that a
// rejected operation leaves the state hash unchanged and emits nothing.
func TestRandomOperationSequences(t *testing.T) {
	sequences, steps := 2000, 60
	if testing.Short() {
		sequences = 200
	}
	for seed := uint64(1); seed <= uint64(sequences); seed++ {
		w := newWorld(t, seed)
		for i := 0; i < steps; i++ {
			w.step()
			if t.Failed() {
				t.Fatalf("seed=%d step=%d (rerun with this seed to reproduce)", seed, i)
			}
		}
		w.checkImport()
	}
}

// checkImport rebuilds the ledger from its records and requires the copy
// to equal the original, and to stay equal under the same further
// operations.
func (w *world) checkImport() {
	copyL, err := ledger.FromRecords(ledger.Config{Open: true}, w.l.Records())
	if err != nil {
		w.fail("import: %v", err)
	}
	if copyL.StateHash() != w.l.StateHash() {
		w.fail("the imported ledger's state differs")
	}
	orig := w.l
	for i := 0; i < 20; i++ {
		w.roll()
		if copyL.Height() != orig.Height() {
			copyL.BeginBlock(orig.Height(), orig.Time())
		}
		sender, op := w.randomOp()
		_, err1 := orig.Apply(sender, op)
		_, err2 := copyL.Apply(sender, op)
		if (err1 == nil) != (err2 == nil) || orig.StateHash() != copyL.StateHash() {
			w.fail("the imported ledger diverged on %T: %v vs %v", op, err1, err2)
		}
	}
}

// TestRandomSequencesCoverRejections guards the generator: it must reach
// both accepted and rejected operations of the main kinds, or the
// properties above would be checked on too little.
func TestRandomSequencesCoverRejections(t *testing.T) {
	accepted, rejected := map[string]int{}, map[string]int{}
	for seed := uint64(1); seed <= 100; seed++ {
		w := newWorld(t, seed)
		for i := 0; i < 60; i++ {
			w.roll()
			sender, op := w.randomOp()
			res, err := w.l.Apply(sender, op)
			if err != nil {
				rejected[op.OpName()]++
				continue
			}
			accepted[op.OpName()]++
			switch r := res.(type) {
			case ledger.QueueWithdrawalResult:
				w.withdrawals = append(w.withdrawals, r.Withdrawal)
			case ledger.SlashResult:
				w.slashes = append(w.slashes, ledger.ClearSlashed{Set: op.(ledger.Slash).Set, SlashID: r.SlashID})
			}
		}
	}
	for _, name := range []string{"deposit", "queue_withdrawal", "complete_withdrawal", "modify_allocations",
		"slash", "delegate", "beacon_balance_update", "register_for_sets", "undelegate",
		"submit_rewards", "claim", "set_operator_split"} {
		if accepted[name] == 0 || rejected[name] == 0 {
			t.Errorf("%s: %d accepted, %d rejected; the generator must reach both", name, accepted[name], rejected[name])
		}
	}
}

// TestEventJSONRoundTrip: every event of random sequences reads back equal
// from its JSON (the node stores events with block results as JSON).
func TestEventJSONRoundTrip(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		w := newWorld(t, seed)
		for i := 0; i < 60; i++ {
			w.roll()
			sender, op := w.randomOp()
			if _, err := w.l.Apply(sender, op); err != nil {
				continue
			}
			for _, e := range w.l.Events() {
				b, err := json.Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				var back ledger.Event
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatalf("%s: %v", b, err)
				}
				if back != e {
					t.Fatalf("event %s read back as %+v", b, back)
				}
			}
		}
	}
}
