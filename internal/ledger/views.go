package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// Views read state without changing it. They are the views of
// scenario-format.md, with EigenLayer's semantics; unknown names and
// addresses read as empty (zero), never as errors.

// Balance returns an account's balance of a token.
func (l *Ledger) Balance(a Address, tok string) uint256.Int {
	return l.accounts[a].balanceOf(l.tokens[tok])
}

// DepositShares returns a staker's deposit shares in a strategy.
func (l *Ledger) DepositShares(staker Address, strategy string) uint256.Int {
	s := l.strategyByName(strategy)
	if s == nil {
		return uint256.Int{}
	}
	shares, _ := l.accounts[staker].depositShares(s)
	return shares
}

// DepositScalingFactor returns a staker's k in a strategy (WAD when unset).
func (l *Ledger) DepositScalingFactor(staker Address, strategy string) uint256.Int {
	s := l.strategyByName(strategy)
	if s == nil {
		return wad.One
	}
	_, k := l.accounts[staker].depositShares(s)
	return scalingFactor(k)
}

// WithdrawableShares is getWithdrawableShares: mulWad(mulWad(s, k), sf).
func (l *Ledger) WithdrawableShares(staker Address, strategy string) uint256.Int {
	s := l.strategyByName(strategy)
	if s == nil {
		return uint256.Int{}
	}
	acct := l.accounts[staker]
	shares, k := acct.depositShares(s)
	var c wad.Checked
	return calcWithdrawable(&c, k, shares, slashingFactor(&c, acct, acct.operatorOf(), s))
}

// OperatorShares returns an operator's delegated shares in a strategy.
func (l *Ledger) OperatorShares(op Address, strategy string) uint256.Int {
	if os := l.operatorOf(op).opStrategy(strategy); os != nil {
		return os.shares
	}
	return uint256.Int{}
}

func (l *Ledger) operatorOf(a Address) *operator {
	if acct := l.accounts[a]; acct != nil {
		return acct.operator
	}
	return nil
}

// MaxMagnitude returns an operator's max magnitude in a strategy.
func (l *Ledger) MaxMagnitude(op Address, strategy string) uint64 {
	return l.operatorOf(op).opStrategy(strategy).maxMagnitude()
}

// EncumberedMagnitude returns an operator's stored encumbered magnitude.
func (l *Ledger) EncumberedMagnitude(op Address, strategy string) uint64 {
	if os := l.operatorOf(op).opStrategy(strategy); os != nil {
		return os.encumbered
	}
	return 0
}

// AllocatableMagnitude is getAllocatableMagnitude.
func (l *Ledger) AllocatableMagnitude(op Address, strategy string) uint64 {
	return l.allocatable(l.operatorOf(op), strategy)
}

// AllocationView is an allocation as getAllocation reports it.
type AllocationView struct {
	Current     uint64
	PendingDiff int64
	EffectBlock uint64 // 0 when nothing is pending
}

// Allocation is getAllocation: the updated allocation of an operator in a set
// and strategy.
func (l *Ledger) Allocation(op Address, set OperatorSet, strategy string) AllocationView {
	a, _ := l.updated(l.operatorOf(op).allocationOf(set, strategy), 0)
	return AllocationView{Current: a.current, PendingDiff: a.pendingDiff, EffectBlock: a.effectBlock}
}

// SlashableSharesInQueue is getSlashableSharesInQueue: the shares queued
// from the operator that a slash could still reach.
func (l *Ledger) SlashableSharesInQueue(op Address, strategy string) uint256.Int {
	os := l.operatorOf(op).opStrategy(strategy)
	if os == nil {
		return uint256.Int{}
	}
	var c wad.Checked
	return c.MulWad(l.scaledSharesInWindow(os), wad.U(os.maxMagnitude()))
}

// MinimumSlashableStake is getMinimumSlashableStake at futureBlock (use the
// current height for "now").
func (l *Ledger) MinimumSlashableStake(set OperatorSet, op Address, strategy string,
	futureBlock uint64) uint256.Int {
	return l.slashableStake(l.accounts[op], set, strategy, futureBlock)
}

// QueuedWithdrawalView is a queued withdrawal's strategies and the shares it
// would pay now.
type QueuedWithdrawalView struct {
	ID          WithdrawalID  `json:"id"`
	Staker      Address       `json:"staker"`
	Operator    Address       `json:"operator"`
	StartBlock  uint64        `json:"start_block"`
	UnlockBlock uint64        `json:"unlock_block"` // the first block it can complete at
	Strategies  []string      `json:"strategies"`
	Shares      []uint256.Int `json:"-"`
	SharesDec   []string      `json:"shares"`
}

// QueuedWithdrawal is getQueuedWithdrawal: after the slashable window the
// shares are valued at the magnitude of its last slashable block, before it
// at the current magnitude (they may still fall). Unknown or completed ids
// give empty lists.
func (l *Ledger) QueuedWithdrawal(id WithdrawalID) QueuedWithdrawalView {
	w := l.withdrawals[id]
	if w == nil {
		return QueuedWithdrawalView{Strategies: []string{}, Shares: []uint256.Int{}, SharesDec: []string{}}
	}
	v := QueuedWithdrawalView{ID: id, Staker: w.staker, Operator: w.delegatedTo, StartBlock: w.startBlock,
		UnlockBlock: w.startBlock + l.params.WithdrawalDelayBlocks + 1,
		Strategies:  make([]string, len(w.strategies)), Shares: make([]uint256.Int, len(w.strategies)),
		SharesDec: make([]string, len(w.strategies))}
	staker := l.accounts[w.staker]
	var op *operator
	if !w.delegatedTo.IsZero() {
		op = l.accounts[w.delegatedTo].operator
	}
	until := w.startBlock + l.params.WithdrawalDelayBlocks
	var c wad.Checked
	for i, s := range w.strategies {
		var sf uint256.Int
		if until < l.height {
			sf = slashingFactorAt(&c, staker, op, s, until)
		} else {
			sf = slashingFactor(&c, staker, op, s)
		}
		v.Strategies[i] = s.name
		v.Shares[i] = c.MulWad(w.scaled[i], sf)
		v.SharesDec[i] = v.Shares[i].Dec()
	}
	return v
}

// DelegatedTo returns a staker's operator (the zero address when
// undelegated; an operator is delegated to itself).
func (l *Ledger) DelegatedTo(staker Address) Address {
	if acct := l.accounts[staker]; acct != nil && acct.delegate != nil {
		return acct.delegate.addr
	}
	return Address{}
}

// IsRegistered reports whether an operator is registered for a set (and so
// earns its rewards).
func (l *Ledger) IsRegistered(op Address, set OperatorSet) bool {
	s := l.sets[set]
	if s == nil {
		return false
	}
	_, ok := s.members[op]
	return ok
}

// OperatorSets returns an AVS's set ids in creation order.
func (l *Ledger) OperatorSets(avs Address) []uint32 {
	if a := l.avss[avs]; a != nil {
		return append([]uint32(nil), a.sets...)
	}
	return nil
}

// SplitBips returns an operator's effective commission for an AVS, in bips
// of the gross reward.
func (l *Ledger) SplitBips(op, avs Address) uint32 { return l.splitFor(l.accounts[op], avs) }

// BeaconSlashingFactor returns a staker's beacon-chain slashing factor l.
func (l *Ledger) BeaconSlashingFactor(staker Address) uint64 {
	return l.accounts[staker].beaconFactor()
}

// SharesToTokens values shares of a strategy in its token, at the rate a
// withdrawal would pay now (StrategyBase's, rounded down); native ETH
// shares are wei. ok is false for an unknown strategy.
func (l *Ledger) SharesToTokens(strategy string, shares uint256.Int) (token string, amount uint256.Int, ok bool) {
	if strategy == BeaconStrategy {
		return NativeToken, shares, true
	}
	s := l.strategies[strategy]
	if s == nil {
		return "", uint256.Int{}, false
	}
	var c wad.Checked
	return s.token.name, tokensForShares(&c, s, shares), true
}

// NativeRestakedWei is the ether restaked through every pod: what the
// beacon chain validators behind the pods hold, as last reported.
func (l *Ledger) NativeRestakedWei() uint256.Int {
	var total uint256.Int
	for _, acct := range l.accounts { // a sum: the same in any order
		if p := acct.pod; p != nil {
			total.Add(&total, &p.restakedWei)
		}
	}
	return total
}

// Delegators returns the stakers delegated to op (op itself included, as
// operators delegate to themselves), in address order. It scans every
// account: a what-if question, not a hot path.
func (l *Ledger) Delegators(op Address) []Address {
	var out []Address
	for _, a := range l.sortedAccounts() {
		if acct := l.accounts[a]; acct.delegate != nil && acct.delegate.addr == op {
			out = append(out, a)
		}
	}
	return out
}
