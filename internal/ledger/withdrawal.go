package ledger

import (
	"encoding/binary"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// queuePlan is one withdrawal checked and computed, ready to store: per
// entry the deposit shares removed (x), the withdrawable shares at queue
// time (w) and the scaled shares kept in the withdrawal (q).
type queuePlan struct {
	strategies   []*strategy
	deposit      []uint256.Int
	withdrawable []uint256.Int
	scaled       []uint256.Int
}

// queueWithdrawal is DelegationManager.queueWithdrawals with one parameter
// struct (spec §4.4). Its input is deposit shares.
func (l *Ledger) queueWithdrawal(sender Address, op QueueWithdrawal) (QueueWithdrawalResult, *Error) {
	n := len(op.Strategies)
	if n != len(op.DepositShares) {
		return QueueWithdrawalResult{}, ErrInputArrayLengthMismatch
	}
	if n == 0 {
		return QueueWithdrawalResult{}, ErrInputArrayLengthZero
	}
	if n > InputArrayMax {
		return QueueWithdrawalResult{}, ErrInputArrayLengthExceedsMax
	}
	acct := l.accounts[sender]
	strategies := make([]*strategy, n)
	for i, name := range op.Strategies {
		s := l.strategyByName(name)
		if s == nil {
			// Nothing deposited in an unknown strategy: the share checks
			// of StrategyManager.removeDepositShares decide.
			if op.DepositShares[i].IsZero() {
				return QueueWithdrawalResult{}, ErrSharesAmountZero
			}
			return QueueWithdrawalResult{}, ErrSharesAmountTooHigh
		}
		strategies[i] = s
	}
	if acct == nil {
		if op.DepositShares[0].IsZero() {
			return QueueWithdrawalResult{}, ErrSharesAmountZero
		}
		return QueueWithdrawalResult{}, ErrSharesAmountTooHigh
	}
	p, err := l.planQueue(acct, strategies, op.DepositShares)
	if err != nil {
		return QueueWithdrawalResult{}, err
	}
	// After this point the operation must succeed.
	id := l.applyQueue(acct, acct.delegate, p)
	return QueueWithdrawalResult{Withdrawal: id, Withdrawable: p.withdrawable}, nil
}

// planQueue checks and computes one withdrawal of x deposit shares per
// entry (DelegationManager._removeSharesAndQueueWithdrawal). Entries run in
// order; a strategy listed twice draws on the shares left by the first.
func (l *Ledger) planQueue(acct *account, strategies []*strategy, x []uint256.Int) (queuePlan, *Error) {
	var c wad.Checked
	n := len(strategies)
	p := queuePlan{strategies: strategies, deposit: x,
		withdrawable: make([]uint256.Int, n), scaled: make([]uint256.Int, n)}
	op := acct.operatorOf()
	var queued map[*strategy]uint256.Int // per strategy across entries
	for i, s := range strategies {
		if x[i].IsZero() {
			return p, ErrSharesAmountZero
		}
		held, k := acct.depositShares(s)
		removed := x[i]
		if prior, dup := queued[s]; dup {
			removed = c.Add(prior, x[i])
		}
		if removed.Gt(&held) || c.Failed() {
			if s.native {
				return p, ErrSharesNegative
			}
			return p, ErrSharesAmountTooHigh
		}
		if n > 1 {
			if queued == nil {
				queued = map[*strategy]uint256.Int{}
			}
			queued[s] = removed
		}
		sf := slashingFactor(&c, acct, op, s)
		p.withdrawable[i] = calcWithdrawable(&c, k, x[i], sf)
		p.scaled[i] = c.MulWad(x[i], scalingFactor(k))
		if op != nil {
			os := op.opStrategy(s.name)
			var cum uint256.Int
			if os != nil {
				cum = os.cumQueued.Latest(uint256.Int{})
			}
			c.Add(cum, p.scaled[i])
		}
	}
	if c.Failed() {
		return p, ErrArithmeticOverflow
	}
	return p, nil
}

// applyQueue removes the planned shares from the staker and from opAcct
// (its operator at queue time, nil when undelegated) and stores the
// withdrawal. An operator's shares never fall below zero: when rounding
// after beacon-chain losses leaves them a few wei short of a staker's
// withdrawable shares, they drop to zero and the shortfall is reported in
// the WithdrawalQueued event ("Operator shares never trap a staker").
func (l *Ledger) applyQueue(acct, opAcct *account, p queuePlan) WithdrawalID {
	w := &withdrawal{
		staker: acct.addr, withdrawer: acct.addr, nonce: acct.nonce,
		startBlock: l.height, strategies: p.strategies, scaled: p.scaled,
	}
	if opAcct != nil {
		w.delegatedTo = opAcct.addr
	}
	w.id = withdrawalRoot(w)
	shortfall := make([]uint256.Int, len(p.strategies))
	for i, s := range p.strategies {
		if opAcct != nil {
			os := opAcct.operator.opStrategyOrNew(s.name)
			cum := os.cumQueued.Latest(uint256.Int{})
			cum.Add(&cum, &p.scaled[i])
			os.cumQueued.Push(l.height, cum)
			if l.height > l.params.WithdrawalDelayBlocks+1 {
				// Only the last entry at or before the oldest block a
				// future slash can look back to is ever read again.
				os.cumQueued.DropBefore(l.height - l.params.WithdrawalDelayBlocks - 1)
			}
			take := wad.Min(os.shares, p.withdrawable[i])
			shortfall[i] = wad.SatSub(p.withdrawable[i], take)
			os.shares.Sub(&os.shares, &take)
			l.dirty.opStrategy(os)
		}
		l.settlePosition(acct, s)
		held, k := acct.depositShares(s)
		held.Sub(&held, &p.deposit[i])
		acct.setDepositShares(s, held, k)
	}
	acct.nonce++
	acct.queued = append(acct.queued, w.id)
	l.withdrawals[w.id] = w
	l.dirty.account(acct)
	l.dirty.withdrawal(w.id)
	for i, s := range p.strategies {
		l.emit(Event{Kind: EvWithdrawalQueued, Account: acct.addr, Other: w.delegatedTo,
			ID: w.id, Strategy: s.name, Amount: p.withdrawable[i], Amount2: shortfall[i]})
	}
	return w.id
}

// withdrawalRoot hashes a withdrawal's fields with Keccak-256, as
// EigenLayer's calculateWithdrawalRoot hashes its ABI encoding.
func withdrawalRoot(w *withdrawal) WithdrawalID {
	buf := make([]byte, 0, 3*20+16+len(w.strategies)*(NameLenMax+33))
	buf = append(buf, w.staker[:]...)
	buf = append(buf, w.delegatedTo[:]...)
	buf = append(buf, w.withdrawer[:]...)
	buf = binary.BigEndian.AppendUint64(buf, w.nonce)
	buf = binary.BigEndian.AppendUint64(buf, w.startBlock)
	for i, s := range w.strategies {
		buf = append(buf, byte(len(s.name)))
		buf = append(buf, s.name...)
		b := w.scaled[i].Bytes32()
		buf = append(buf, b[:]...)
	}
	return WithdrawalID(Keccak256(buf))
}

// stagedShares is a staker's position as a multi-entry operation changes
// it, before anything is written.
type stagedShares struct {
	s          *strategy
	shares, k  uint256.Int
	opShares   uint256.Int // the current operator's shares, when delegated
	existed    bool
	total, bal uint256.Int // the strategy's totals, for completion as tokens
	custody    uint256.Int // the pod's ETH, for native ETH as tokens
}

// completionPlan is a checked completion.
type completionPlan struct {
	amounts []uint256.Int // credited per entry (tokens or shares)
	shares  []uint256.Int // shares withdrawn per entry
	staged  []stagedShares
}

// completeWithdrawal is DelegationManager.completeQueuedWithdrawal
// (spec §4.4). The withdrawal is valued at the max magnitude its operator
// had at start+delay, the last block it could be slashed, times the staker's
// current beacon factor for native ETH.
func (l *Ledger) completeWithdrawal(sender Address, op CompleteWithdrawal) (CompleteWithdrawalResult, *Error) {
	w := l.withdrawals[op.Withdrawal]
	if w == nil {
		return CompleteWithdrawalResult{}, ErrWithdrawalNotQueued
	}
	if sender != w.withdrawer {
		return CompleteWithdrawalResult{}, ErrWithdrawerNotCaller
	}
	until := w.startBlock + l.params.WithdrawalDelayBlocks
	if l.height <= until {
		return CompleteWithdrawalResult{}, ErrWithdrawalDelayNotElapsed
	}
	staker := l.accounts[w.staker]
	var queuedUnder *operator
	if !w.delegatedTo.IsZero() {
		queuedUnder = l.accounts[w.delegatedTo].operator
	}
	var c wad.Checked
	shares := make([]uint256.Int, len(w.strategies))
	for i, s := range w.strategies {
		sf := slashingFactorAt(&c, staker, queuedUnder, s, until)
		shares[i] = c.MulWad(w.scaled[i], sf)
	}
	if c.Failed() {
		return CompleteWithdrawalResult{}, ErrArithmeticOverflow
	}
	var p completionPlan
	var err *Error
	if op.AsTokens {
		p, err = l.planAsTokens(staker, w, shares)
	} else {
		p, err = l.planAsShares(staker, w, shares)
	}
	if err != nil {
		return CompleteWithdrawalResult{}, err
	}
	// After this point the operation must succeed.
	l.applyCompletion(staker, w, p, op.AsTokens)
	return CompleteWithdrawalResult{Amounts: p.amounts}, nil
}

func stage(staged []stagedShares, s *strategy) (*stagedShares, bool) {
	for i := range staged {
		if staged[i].s == s {
			return &staged[i], true
		}
	}
	return nil, false
}

// planAsTokens values each entry in tokens: StrategyBase.withdraw for token
// strategies, whole gwei of ETH from the pod for native ETH.
func (l *Ledger) planAsTokens(staker *account, w *withdrawal, shares []uint256.Int) (completionPlan, *Error) {
	var c wad.Checked
	p := completionPlan{amounts: make([]uint256.Int, len(shares)), shares: shares}
	for i, s := range w.strategies {
		if shares[i].IsZero() {
			continue
		}
		st, ok := stage(p.staged, s)
		if !ok {
			p.staged = append(p.staged, stagedShares{s: s, total: s.totalShares, bal: s.balance})
			if s.native && staker.pod != nil {
				p.staged[len(p.staged)-1].custody = staker.pod.restakedWei
			}
			st = &p.staged[len(p.staged)-1]
		}
		if s.native {
			var rem uint256.Int
			rem.Mod(&shares[i], uint256.NewInt(GweiWei))
			amount := c.Sub(shares[i], rem)
			if amount.Gt(&st.custody) {
				return p, ErrInsufficientWithdrawableBalance
			}
			st.custody.Sub(&st.custody, &amount)
			p.amounts[i] = amount
			continue
		}
		if shares[i].Gt(&st.total) {
			return p, ErrWithdrawalAmountExceedsTotalDeposits
		}
		amount := tokensForShares(&c, &strategy{balance: st.bal, totalShares: st.total}, shares[i])
		st.total.Sub(&st.total, &shares[i])
		st.bal = c.Sub(st.bal, amount)
		p.amounts[i] = amount
	}
	if c.Failed() {
		return p, ErrArithmeticOverflow
	}
	return p, nil
}

// planAsShares re-credits each entry as deposit shares under the staker's
// current operator (StrategyManager.addShares + _increaseDelegation).
func (l *Ledger) planAsShares(staker *account, w *withdrawal, shares []uint256.Int) (completionPlan, *Error) {
	var c wad.Checked
	p := completionPlan{amounts: shares, shares: shares}
	positions := len(staker.positions)
	for i, s := range w.strategies {
		if shares[i].IsZero() {
			continue
		}
		st, ok := stage(p.staged, s)
		if !ok {
			held, k := staker.depositShares(s)
			p.staged = append(p.staged, stagedShares{s: s, shares: held, k: k, existed: true})
			st = &p.staged[len(p.staged)-1]
		}
		if st.shares.IsZero() && !s.native {
			if positions >= StakerStrategiesMax {
				return p, ErrMaxStrategiesExceeded
			}
			positions++
		}
		k, err := l.planIncrease(&c, staker, s, st.shares, st.k, shares[i])
		if err != nil {
			return p, err
		}
		st.k = k
		st.shares = c.Add(st.shares, shares[i])
	}
	if c.Failed() {
		return p, ErrArithmeticOverflow
	}
	return p, nil
}

func (l *Ledger) applyCompletion(staker *account, w *withdrawal, p completionPlan, asTokens bool) {
	delete(l.withdrawals, w.id)
	l.dirty.withdrawal(w.id)
	l.dirty.account(staker)
	for i, id := range staker.queued {
		if id == w.id {
			staker.queued = append(staker.queued[:i], staker.queued[i+1:]...)
			break
		}
	}
	for i, s := range w.strategies {
		if p.shares[i].IsZero() {
			l.emitCompleted(staker, w, s, p.amounts[i], asTokens)
			continue
		}
		switch {
		case asTokens && s.native:
			staker.pod.restakedWei.Sub(&staker.pod.restakedWei, &p.amounts[i])
			staker.credit(s.token, p.amounts[i])
		case asTokens:
			l.dirty.strategy(s)
			s.totalShares.Sub(&s.totalShares, &p.shares[i])
			s.balance.Sub(&s.balance, &p.amounts[i])
			staker.credit(s.token, p.amounts[i])
		default:
			held, _ := staker.depositShares(s)
			held.Add(&held, &p.shares[i])
			st, _ := stage(p.staged, s)
			l.applyIncrease(staker, s, held, st.k, p.shares[i])
		}
		l.emitCompleted(staker, w, s, p.amounts[i], asTokens)
	}
}

func (l *Ledger) emitCompleted(staker *account, w *withdrawal, s *strategy, amount uint256.Int, asTokens bool) {
	var n uint64
	if asTokens {
		n = 1
	}
	l.emit(Event{Kind: EvWithdrawalCompleted, Account: staker.addr, ID: w.id,
		Strategy: s.name, Amount: amount, N: n})
}
