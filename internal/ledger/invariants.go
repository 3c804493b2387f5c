package ledger

import (
	"fmt"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// InvariantError reports a broken ledger invariant: a bug, never a user
// error. A node that sees one halts rather than commit a divergent state.
type InvariantError struct{ Msg string }

func (e *InvariantError) Error() string { return "ledger invariant violated: " + e.Msg }

// violated panics with an InvariantError. Operations call it after their
// mutations when a cheap local check fails (the magnitude bounds of what
// they touched); the panic stops the block before it is committed. Call
// sites test the condition first, so that a passing check costs no
// allocation for the message's arguments.
func violated(format string, args ...any) {
	panic(&InvariantError{Msg: fmt.Sprintf(format, args...)})
}

// BeaconShortfallMax bounds how far an operator's native-ETH shares may fall
// below the sum of its stakers' withdrawable shares, per staker, through
// rounding after beacon-chain losses (scenario-format.md, "Operator shares
// never trap a staker"). Each beacon decrease can leave at most a few wei.
const BeaconShortfallMax = 16

// CheckInvariants verifies the whole state (O(size of the state)):
//
//   - every token is conserved: its supply equals the sum of account
//     balances, strategy balances and native ETH held in pods;
//   - per operator and strategy, encumbered magnitude is at most max
//     magnitude, equals the sum of current allocations plus pending
//     increases, and max magnitude never increased;
//   - per operator and strategy, operator shares are at least the sum of the
//     withdrawable shares of the stakers delegated to it (native ETH may
//     fall short by BeaconShortfallMax wei per staker);
//   - every staker's deposit list holds non-zero positions, at most
//     StakerStrategiesMax, each strategy once;
//   - every queued withdrawal is listed by its staker and vice versa.
func (l *Ledger) CheckInvariants() error {
	for _, check := range []func() error{
		l.checkConservation, l.checkMagnitudes, l.checkOperatorShares, l.checkStakers,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (l *Ledger) checkConservation() error {
	held := map[*token]*uint256.Int{}
	add := func(t *token, v uint256.Int) error {
		sum := held[t]
		if sum == nil {
			sum = new(uint256.Int)
			held[t] = sum
		}
		if _, overflow := sum.AddOverflow(sum, &v); overflow {
			return &InvariantError{Msg: "token " + t.name + " holdings overflow"}
		}
		return nil
	}
	for _, a := range sortedAddrs(l.accounts) {
		acct := l.accounts[a]
		for _, b := range acct.balances {
			if err := add(b.token, b.amount); err != nil {
				return err
			}
		}
		if acct.pod != nil {
			if err := add(l.beacon.token, acct.pod.restakedWei); err != nil {
				return err
			}
		}
	}
	for _, name := range sortedNames(l.strategies) {
		s := l.strategies[name]
		if err := add(s.token, s.balance); err != nil {
			return err
		}
	}
	for _, name := range sortedNames(l.tokens) {
		t := l.tokens[name]
		if err := add(t, t.rewardsHeld); err != nil {
			return err
		}
	}
	if err := l.checkRewardsPool(); err != nil {
		return err
	}
	for _, name := range sortedNames(l.tokens) {
		t := l.tokens[name]
		var sum uint256.Int
		if p := held[t]; p != nil {
			sum = *p
		}
		if !sum.Eq(&t.supply) {
			return &InvariantError{Msg: fmt.Sprintf("token %s: supply %s but holdings %s",
				name, t.supply.Dec(), sum.Dec())}
		}
	}
	return nil
}

// checkRewardsPool checks that the rewards each token's pool holds cover
// what is still to stream plus everything earners can claim; the rest is
// rounding dust the pool keeps.
func (l *Ledger) checkRewardsPool() error {
	owed := map[*token]*uint256.Int{}
	add := func(t *token, v uint256.Int) {
		if owed[t] == nil {
			owed[t] = new(uint256.Int)
		}
		owed[t].Add(owed[t], &v)
	}
	for _, s := range l.submissions {
		add(s.token, s.remaining)
	}
	for _, a := range sortedAddrs(l.accounts) {
		for _, name := range sortedNames(l.tokens) {
			if v := l.claimable(l.accounts[a], l.tokens[name]); !v.IsZero() {
				add(l.tokens[name], v)
			}
		}
	}
	for _, name := range sortedNames(l.tokens) {
		t := l.tokens[name]
		if o := owed[t]; o != nil && o.Gt(&t.rewardsHeld) {
			return &InvariantError{Msg: fmt.Sprintf("token %s: rewards owed %s exceed the pool %s",
				name, o.Dec(), t.rewardsHeld.Dec())}
		}
	}
	return nil
}

func (l *Ledger) checkMagnitudes() error {
	for _, a := range sortedAddrs(l.accounts) {
		op := l.accounts[a].operator
		if op == nil {
			continue
		}
		sums := map[string]uint64{}
		for k, al := range op.allocations {
			sum := al.current
			if al.pendingDiff > 0 {
				sum += uint64(al.pendingDiff)
			}
			sums[k.strategy] += sum
		}
		for _, name := range sortedNames(op.strategies) {
			os := op.strategies[name]
			maxMag := os.maxMagnitude()
			if os.encumbered > maxMag {
				return &InvariantError{Msg: fmt.Sprintf("operator %s %s: encumbered %d > max %d",
					a, name, os.encumbered, maxMag)}
			}
			if os.encumbered != sums[name] {
				return &InvariantError{Msg: fmt.Sprintf("operator %s %s: encumbered %d != allocations %d",
					a, name, os.encumbered, sums[name])}
			}
			prev := wadU64
			for i := 0; i < os.maxMag.Len(); i++ {
				_, m := os.maxMag.Entry(i)
				if m > prev {
					return &InvariantError{Msg: fmt.Sprintf("operator %s %s: max magnitude rose", a, name)}
				}
				prev = m
			}
		}
	}
	return nil
}

func (l *Ledger) checkOperatorShares() error {
	type key struct {
		op       Address
		strategy string
	}
	claims := map[key]uint256.Int{}
	stakers := map[key]uint64{}
	delegators := map[*account]int{}
	var c wad.Checked
	for _, a := range sortedAddrs(l.accounts) {
		acct := l.accounts[a]
		if acct.delegate == nil {
			continue
		}
		op := acct.delegate.operator
		visit := func(s *strategy, shares, k uint256.Int) {
			w := calcWithdrawable(&c, k, shares, slashingFactor(&c, acct, op, s))
			kk := key{acct.delegate.addr, s.name}
			claims[kk] = c.Add(claims[kk], w)
			stakers[kk]++
		}
		for _, p := range acct.positions {
			visit(p.strategy, p.shares, p.dsf)
		}
		delegators[acct.delegate]++
		if acct.pod != nil && !acct.pod.shares.IsZero() {
			visit(l.beacon, acct.pod.shares, acct.pod.dsf)
		}
	}
	if c.Failed() {
		return &InvariantError{Msg: "withdrawable shares overflow"}
	}
	for _, a := range sortedAddrs(l.accounts) {
		if op := l.accounts[a].operator; op != nil && op.delegators != delegators[l.accounts[a]] {
			return &InvariantError{Msg: fmt.Sprintf("operator %s counts %d delegators, %d delegate to it",
				a, op.delegators, delegators[l.accounts[a]])}
		}
	}
	for k, sum := range claims {
		have := l.accounts[k.op].operator.opStrategy(k.strategy)
		var shares uint256.Int
		if have != nil {
			shares = have.shares
		}
		if k.strategy == BeaconStrategy {
			shares.AddUint64(&shares, BeaconShortfallMax*stakers[k])
		}
		if shares.Lt(&sum) {
			return &InvariantError{Msg: fmt.Sprintf("operator %s %s: shares %s < stakers' withdrawable %s",
				k.op, k.strategy, shares.Dec(), sum.Dec())}
		}
	}
	return nil
}

func (l *Ledger) checkStakers() error {
	listed := 0
	for _, a := range sortedAddrs(l.accounts) {
		acct := l.accounts[a]
		if len(acct.positions) > StakerStrategiesMax {
			return &InvariantError{Msg: fmt.Sprintf("staker %s holds %d strategies", a, len(acct.positions))}
		}
		seen := map[*strategy]bool{}
		for _, p := range acct.positions {
			if p.shares.IsZero() || seen[p.strategy] {
				return &InvariantError{Msg: fmt.Sprintf("staker %s: bad position in %s", a, p.strategy.name)}
			}
			seen[p.strategy] = true
		}
		for _, id := range acct.queued {
			w := l.withdrawals[id]
			if w == nil || w.staker != a {
				return &InvariantError{Msg: fmt.Sprintf("staker %s lists unknown withdrawal %s", a, id)}
			}
			listed++
		}
	}
	if listed != len(l.withdrawals) {
		return &InvariantError{Msg: fmt.Sprintf("%d withdrawals stored, %d listed", len(l.withdrawals), listed)}
	}
	return nil
}
