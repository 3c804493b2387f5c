package ledger

import (
	"sort"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// Query views: read-only snapshots of entities for the HTTP API and the CLI,
// with the same JSON conventions as results (amounts as decimal strings,
// addresses as EIP-55 hex). They read the current state; the node calls them
// under its read lock.

// Amount is a uint256 that marshals as a decimal string.
type Amount uint256.Int

// MarshalJSON renders the amount as a quoted decimal.
func (a Amount) MarshalJSON() ([]byte, error) {
	v := uint256.Int(a)
	return []byte(`"` + v.Dec() + `"`), nil
}

// StrategyView is a whitelisted strategy.
type StrategyView struct {
	Name        string `json:"name"`
	Token       string `json:"token"`
	TotalShares Amount `json:"total_shares"`
	Balance     Amount `json:"balance"`
	Native      bool   `json:"native"`
}

// Strategies lists the strategies by name, native ETH first.
func (l *Ledger) Strategies() []StrategyView {
	out := []StrategyView{{Name: BeaconStrategy, Token: NativeToken, Native: true}}
	for _, name := range sortedNames(l.strategies) {
		s := l.strategies[name]
		out = append(out, StrategyView{Name: name, Token: s.token.name, TotalShares: Amount(s.totalShares),
			Balance: Amount(s.balance)})
	}
	return out
}

// TokenView is a token's supply and rewards pool.
type TokenView struct {
	Name        string  `json:"name"`
	Address     Address `json:"address"` // its address in rewards Merkle leaves
	Supply      Amount  `json:"supply"`
	RewardsHeld Amount  `json:"rewards_held"`
}

// Tokens lists the tokens by name.
func (l *Ledger) Tokens() []TokenView {
	var out []TokenView
	for _, name := range sortedNames(l.tokens) {
		t := l.tokens[name]
		out = append(out, TokenView{Name: name, Address: TokenAddress(name), Supply: Amount(t.supply),
			RewardsHeld: Amount(t.rewardsHeld)})
	}
	return out
}

// PositionView is a staker's holding in one strategy.
type PositionView struct {
	Strategy           string `json:"strategy"`
	DepositShares      Amount `json:"deposit_shares"`
	WithdrawableShares Amount `json:"withdrawable_shares"`
	ScalingFactor      Amount `json:"deposit_scaling_factor"`
}

// PodView is a staker's native ETH.
type PodView struct {
	ETHHeld              Amount `json:"eth_held"`
	BeaconSlashingFactor Amount `json:"beacon_slashing_factor"`
}

// TokenAmountView is an amount of one token.
type TokenAmountView struct {
	Token  string `json:"token"`
	Amount Amount `json:"amount"`
}

// AccountView is everything about one address.
type AccountView struct {
	Address     Address                `json:"address"`
	Nonce       uint64                 `json:"nonce"` // the next transaction's nonce
	DelegatedTo *Address               `json:"delegated_to,omitempty"`
	IsOperator  bool                   `json:"is_operator"`
	Balances    []TokenAmountView      `json:"balances"`
	Positions   []PositionView         `json:"positions"`
	Pod         *PodView               `json:"pod,omitempty"`
	Withdrawals []QueuedWithdrawalView `json:"queued_withdrawals"`
	Claimable   []TokenAmountView      `json:"claimable"`
	Claimed     []TokenAmountView      `json:"claimed"`
}

// Account returns the view of an address (an empty view for an unknown one).
func (l *Ledger) Account(a Address) AccountView {
	v := AccountView{Address: a, Balances: []TokenAmountView{}, Positions: []PositionView{},
		Withdrawals: []QueuedWithdrawalView{}, Claimable: []TokenAmountView{}, Claimed: []TokenAmountView{}}
	acct := l.accounts[a]
	if acct == nil {
		return v
	}
	v.Nonce, v.IsOperator = acct.txNonce, acct.operator != nil
	if acct.delegate != nil {
		d := acct.delegate.addr
		v.DelegatedTo = &d
	}
	for _, b := range acct.balances {
		if !b.amount.IsZero() {
			v.Balances = append(v.Balances, TokenAmountView{Token: b.token.name, Amount: Amount(b.amount)})
		}
	}
	for _, p := range acct.positions {
		v.Positions = append(v.Positions, l.positionView(a, p.strategy.name))
	}
	if acct.pod != nil {
		if !acct.pod.shares.IsZero() {
			v.Positions = append(v.Positions, l.positionView(a, BeaconStrategy))
		}
		v.Pod = &PodView{ETHHeld: Amount(acct.pod.restakedWei), BeaconSlashingFactor: Amount(wad.U(acct.beaconFactor()))}
	}
	for _, id := range acct.queued {
		v.Withdrawals = append(v.Withdrawals, l.QueuedWithdrawal(id))
	}
	for _, name := range sortedNames(l.tokens) {
		if c := l.claimable(acct, l.tokens[name]); !c.IsZero() {
			v.Claimable = append(v.Claimable, TokenAmountView{Token: name, Amount: Amount(c)})
		}
	}
	for _, c := range acct.claimed {
		v.Claimed = append(v.Claimed, TokenAmountView{Token: c.token.name, Amount: Amount(c.amount)})
	}
	return v
}

func (l *Ledger) positionView(staker Address, strategy string) PositionView {
	return PositionView{Strategy: strategy, DepositShares: Amount(l.DepositShares(staker, strategy)),
		WithdrawableShares: Amount(l.WithdrawableShares(staker, strategy)),
		ScalingFactor:      Amount(l.DepositScalingFactor(staker, strategy))}
}

// OperatorStrategyView is an operator's state in one strategy.
type OperatorStrategyView struct {
	Strategy             string `json:"strategy"`
	Shares               Amount `json:"shares"`
	MaxMagnitude         uint64 `json:"max_magnitude,string"`
	EncumberedMagnitude  uint64 `json:"encumbered_magnitude,string"`
	AllocatableMagnitude uint64 `json:"allocatable_magnitude,string"`
	SlashableInQueue     Amount `json:"slashable_shares_in_queue"`
}

// AllocationEntry is one allocation of an operator.
type AllocationEntry struct {
	AVS             Address `json:"avs"`
	Set             uint32  `json:"set"`
	Strategy        string  `json:"strategy"`
	Current         uint64  `json:"current,string"`
	PendingDiff     int64   `json:"pending_diff,string"`
	EffectBlock     uint64  `json:"effect_block"`
	SlashableShares Amount  `json:"slashable_shares"`
}

// RegistrationEntry is an operator's registration for one set.
type RegistrationEntry struct {
	AVS            Address `json:"avs"`
	Set            uint32  `json:"set"`
	Registered     bool    `json:"registered"`
	SlashableUntil uint64  `json:"slashable_until"`
}

// OperatorView is an operator.
type OperatorView struct {
	Address         Address                `json:"address"`
	Approver        *Address               `json:"delegation_approver,omitempty"`
	Metadata        string                 `json:"metadata,omitempty"`
	AllocationDelay uint32                 `json:"allocation_delay"`
	Stakers         int                    `json:"stakers"`
	Strategies      []OperatorStrategyView `json:"strategies"`
	Allocations     []AllocationEntry      `json:"allocations"`
	Registrations   []RegistrationEntry    `json:"registrations"`
}

// OperatorAddresses returns every operator, in address order.
func (l *Ledger) OperatorAddresses() []Address {
	// Collect in map order, then sort: operators are a few thousand of
	// hundreds of thousands of accounts, so this beats walking them all in
	// order; the result is the same sorted list.
	var out []Address
	for a, acct := range l.accounts {
		if acct.operator != nil {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return compareAddr(out[i], out[j]) < 0 })
	return out
}

// Operator returns an operator's view; ok is false when a is not one.
func (l *Ledger) Operator(a Address) (OperatorView, bool) {
	acct := l.accounts[a]
	if acct == nil || acct.operator == nil {
		return OperatorView{}, false
	}
	op := acct.operator
	delay, _ := op.delay.delayAt(l.height)
	v := OperatorView{Address: a, Metadata: op.metadata, AllocationDelay: delay,
		Strategies: []OperatorStrategyView{}, Allocations: []AllocationEntry{}, Registrations: []RegistrationEntry{}}
	if !op.approver.IsZero() {
		ap := op.approver
		v.Approver = &ap
	}
	v.Stakers = l.delegatorCount(acct)
	for _, name := range sortedNames(op.strategies) {
		os := op.strategies[name]
		v.Strategies = append(v.Strategies, OperatorStrategyView{Strategy: name, Shares: Amount(os.shares),
			MaxMagnitude: os.maxMagnitude(), EncumberedMagnitude: os.encumbered,
			AllocatableMagnitude: l.allocatable(op, name), SlashableInQueue: Amount(l.SlashableSharesInQueue(a, name))})
	}
	keys := make([]allocKey, 0, len(op.allocations))
	for k := range op.allocations {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].set != keys[j].set {
			return keys[i].set.Less(keys[j].set)
		}
		return keys[i].strategy < keys[j].strategy
	})
	for _, k := range keys {
		al := l.Allocation(a, k.set, k.strategy)
		v.Allocations = append(v.Allocations, AllocationEntry{AVS: k.set.AVS, Set: k.set.ID, Strategy: k.strategy,
			Current: al.Current, PendingDiff: al.PendingDiff, EffectBlock: al.EffectBlock,
			SlashableShares: Amount(l.slashableStake(acct, k.set, k.strategy, l.height))})
	}
	for _, s := range sortedSets(op.registrations) {
		r := op.registrations[s]
		v.Registrations = append(v.Registrations, RegistrationEntry{AVS: s.AVS, Set: s.ID, Registered: r.registered,
			SlashableUntil: r.slashableUntil})
	}
	return v, true
}

// delegatorCount is the number of accounts delegated to an operator (itself
// included), kept by delegation and undelegation.
func (l *Ledger) delegatorCount(opAcct *account) int { return opAcct.operator.delegators }

// SetView is an operator set.
type SetView struct {
	AVS            Address   `json:"avs"`
	ID             uint32    `json:"id"`
	Strategies     []string  `json:"strategies"`
	Slasher        Address   `json:"slasher"`
	PendingSlasher *Address  `json:"pending_slasher,omitempty"`
	SlasherEffect  uint64    `json:"pending_slasher_effect_block,omitempty"`
	Redistributing bool      `json:"redistributing"`
	Recipient      *Address  `json:"redistribution_recipient,omitempty"`
	Members        []Address `json:"members"`
	Slashes        uint64    `json:"slashes"`
	// Risk is what the AVS declared for the risk engine; absent until then.
	Risk *SetRiskView `json:"risk,omitempty"`
}

// SetRiskView is a set's declared profit from corruption and threshold.
type SetRiskView struct {
	ProfitUSD    uint256.Int `json:"profit_usd"` // 1e18 = $1
	ThresholdNum uint64      `json:"threshold_num"`
	ThresholdDen uint64      `json:"threshold_den"`
}

// AVSView is a service.
type AVSView struct {
	Address  Address   `json:"address"`
	Metadata string    `json:"metadata,omitempty"`
	Sets     []SetView `json:"sets"`
}

// AVSAddresses returns every AVS, in address order.
func (l *Ledger) AVSAddresses() []Address { return sortedAddrs(l.avss) }

// AVS returns a service's view; ok is false when a is not one.
func (l *Ledger) AVS(a Address) (AVSView, bool) {
	v := l.avss[a]
	if v == nil {
		return AVSView{}, false
	}
	out := AVSView{Address: a, Metadata: v.metadata, Sets: []SetView{}}
	for _, id := range v.sets {
		s, _ := l.Set(OperatorSet{AVS: a, ID: id})
		out.Sets = append(out.Sets, s)
	}
	return out, true
}

// Set returns an operator set's view.
func (l *Ledger) Set(key OperatorSet) (SetView, bool) {
	s := l.sets[key]
	if s == nil {
		return SetView{}, false
	}
	v := SetView{AVS: key.AVS, ID: key.ID, Strategies: append([]string{}, s.strategies...), Slasher: l.slasherOf(s),
		Redistributing: !s.recipient.IsZero(), Members: sortedAddrs(s.members), Slashes: s.lastSlashID}
	if s.risk.Declared {
		v.Risk = &SetRiskView{ProfitUSD: s.risk.ProfitUSD, ThresholdNum: s.risk.ThresholdNum,
			ThresholdDen: s.risk.ThresholdDen}
	}
	if !s.pendingSlasher.IsZero() && l.height < s.slasherEffect {
		p := s.pendingSlasher
		v.PendingSlasher, v.SlasherEffect = &p, s.slasherEffect
	}
	if v.Redistributing {
		r := s.recipient
		v.Recipient = &r
	}
	return v, true
}

// Accounts returns up to limit addresses after `after` (exclusive) in
// address order, for paging through every account.
func (l *Ledger) Accounts(after *Address, limit int) []Address {
	all := l.sortedAccounts()
	i := 0
	if after != nil {
		i = sort.Search(len(all), func(i int) bool { return compareAddr(all[i], *after) > 0 })
	}
	return append([]Address(nil), all[i:min(len(all), i+limit)]...)
}

// AccountCount returns the number of accounts.
func (l *Ledger) AccountCount() int { return len(l.accounts) }

// sortedAccounts caches the sorted address list; accounts are never
// deleted, so it only grows, and is rebuilt when it is short. Views run
// concurrently under the node's read lock, so the cache has its own lock;
// the returned slice is never modified afterwards (a rebuild replaces it).
func (l *Ledger) sortedAccounts() []Address {
	l.orderMu.Lock()
	defer l.orderMu.Unlock()
	if len(l.accountOrder) != len(l.accounts) {
		l.accountOrder = sortedAddrs(l.accounts)
	}
	return l.accountOrder
}

// SubmissionView is a streaming rewards submission.
type SubmissionView struct {
	ID          uint64   `json:"id"`
	AVS         Address  `json:"avs"`
	Token       string   `json:"token"`
	Strategies  []string `json:"strategies"`
	Multipliers []Amount `json:"multipliers"`
	StartTime   uint64   `json:"start_time"`
	EndTime     uint64   `json:"end_time"`
	Escrowed    Amount   `json:"escrowed"`
	Remaining   Amount   `json:"remaining"`
	NextAccrual uint64   `json:"next_interval_start"`
}

// Submissions lists the rewards submissions still streaming, by id.
func (l *Ledger) Submissions() []SubmissionView {
	out := []SubmissionView{}
	for _, s := range l.submissions {
		v := SubmissionView{ID: s.id, AVS: s.avs, Token: s.token.name, Strategies: append([]string{}, s.strategies...),
			StartTime: s.start, EndTime: s.end, Escrowed: Amount(s.escrowed), Remaining: Amount(s.remaining),
			NextAccrual: s.next}
		for _, m := range s.multipliers {
			v.Multipliers = append(v.Multipliers, Amount(m))
		}
		out = append(out, v)
	}
	return out
}

// HeldSlashView is a slash whose shares wait for clear_slashed.
type HeldSlashView struct {
	AVS        Address  `json:"avs"`
	Set        uint32   `json:"set"`
	SlashID    uint64   `json:"slash_id"`
	Strategies []string `json:"strategies"`
	Shares     []Amount `json:"shares"`
}

// HeldSlashes lists the slashes not yet cleared.
func (l *Ledger) HeldSlashes() []HeldSlashView {
	out := []HeldSlashView{}
	for _, k := range sortedSlashes(l.slashes) {
		p := l.slashes[k]
		v := HeldSlashView{AVS: k.set.AVS, Set: k.set.ID, SlashID: k.id}
		for i, s := range p.strategies {
			v.Strategies = append(v.Strategies, s.name)
			v.Shares = append(v.Shares, Amount(p.shares[i]))
		}
		out = append(out, v)
	}
	return out
}

// UnlockBlock returns the first block at which a queued withdrawal can
// complete.
func (l *Ledger) UnlockBlock(w QueuedWithdrawalView) uint64 {
	return w.StartBlock + l.params.WithdrawalDelayBlocks + 1
}
