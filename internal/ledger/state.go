// Package ledger is restake's deterministic restaking state machine: tokens,
// strategies, native-ETH pods, operators, delegation, escrowed withdrawals,
// services (AVSs) with operator sets, unique-stake allocations and slashing,
// with EigenLayer's formulas, rounding, boundary blocks and error names
// (../shared/spec/eigenlayer.md).
//
// The package is pure: no I/O, no clock, no randomness, no floating point
// and no map iteration whose order matters. Time comes from the caller
// through BeginBlock. Every operation checks all its preconditions first and
// returns a stable *Error without touching state; after its checks it cannot
// fail ("validate, then mutate").
package ledger

import (
	"sync"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/history"
	"github.com/restake/restake/internal/wad"
)

// Ledger is the whole restaking state. It is not safe for concurrent use.
type Ledger struct {
	params       Params
	admins       map[Address]bool
	oracles      map[Address]bool
	priceOracles map[Address]bool
	open         bool

	height uint64 // current block number
	time   uint64 // current block time, unix seconds

	tokens      map[string]*token
	beacon      *strategy            // the native-ETH pseudo-strategy
	strategies  map[string]*strategy // whitelisted token strategies
	accounts    map[Address]*account
	avss        map[Address]*avs
	sets        map[OperatorSet]*operatorSet
	withdrawals map[WithdrawalID]*withdrawal
	slashes     map[slashKey]*pendingSlash
	approvals   map[approvalKey]uint64 // expiry block of each live approval

	dirty        dirtySet   // what changed since the last Changes call
	orderMu      sync.Mutex // guards accountOrder: views rebuild it under a shared read lock
	accountOrder []Address  // sorted account addresses, rebuilt when accounts are added

	prices         map[string]Price // by token
	treasury       Address
	submissions    []*submission // streaming rewards submissions, in id order
	nextSubmission uint64

	// beaconSlashedShares counts native-ETH shares slashed by AVSs. Native ETH
	// is not burned: it stays in the pods and is lost to stakers through
	// lower withdrawable shares (EigenPodManager.burnableETHShares).
	beaconSlashedShares uint256.Int

	events []Event
}

// token is a fungible asset tracked by the ledger.
type token struct {
	name        string
	supply      uint256.Int // minted + yield + beacon credits - beacon losses
	rewardsHeld uint256.Int // escrowed rewards, claimable earnings and dust
}

// strategy is a vault of one token (StrategyBase) or the native-ETH
// pseudo-strategy.
type strategy struct {
	name        string
	token       *token
	native      bool
	totalShares uint256.Int
	balance     uint256.Int // tokens held; grows by deposits and yield
}

// account is everything stored under one address. Any address can be a
// staker; some are also operators.
type account struct {
	addr     Address
	balances []balance // token balances, in order of first credit

	delegate  *account   // the operator's account, nil when undelegated
	positions []position // token strategies in deposit-list order
	pod       *pod       // native ETH, nil until the first beacon credit
	nonce     uint64     // withdrawals queued so far (cumulativeWithdrawalsQueued)
	txNonce   uint64     // transactions this account has sent
	queued    []WithdrawalID

	claimables []tokenAmount   // settled, unclaimed rewards
	claimed    []tokenAmount   // rewards claimed so far (cumulative)
	splits     []operatorSplit // commission per AVS, when an operator set one

	operator *operator // nil unless registered as an operator
}

type balance struct {
	token  *token
	amount uint256.Int
}

// position is a staker's deposit shares in one token strategy and its
// deposit scaling factor k (zero means WAD).
type position struct {
	strategy *strategy
	shares   uint256.Int
	dsf      uint256.Int
	snaps    []rewardSnap // reward indices at the last settlement
}

// pod is a staker's native ETH: deposit shares, k, the beacon-chain slashing
// factor l, and the ETH held for the staker.
type pod struct {
	shares      uint256.Int
	dsf         uint256.Int
	bcsf        uint64 // l, meaningful when bcsfSet
	bcsfSet     bool   // unset means WAD
	restakedWei uint256.Int
	snaps       []rewardSnap
}

// approvalKey names an approval: approver lets staker delegate to operator
// (until the expiry block stored with it).
type approvalKey struct {
	approver, staker, operator Address
}

// operator is an account registered as an operator.
type operator struct {
	account       *account // back reference, for change tracking
	delegators    int      // accounts delegated to it, itself included (derived, not stored)
	approver      Address
	metadata      string
	delay         allocationDelay
	strategies    map[string]*opStrategy
	allocations   map[allocKey]*allocation
	registrations map[OperatorSet]*registration
}

// allocationDelay is AllocationDelayInfo.
type allocationDelay struct {
	delay       uint32
	isSet       bool
	pending     uint32
	effectBlock uint64
}

// opStrategy is an operator's state in one strategy.
type opStrategy struct {
	owner      *account                     // the operator's account (for change tracking)
	name       string                       // the strategy's name
	shares     uint256.Int                  // operator shares (op)
	maxMag     history.History[uint64]      // max magnitude, default WAD
	encumbered uint64                       // allocated + pending magnitude
	queue      []OperatorSet                // deallocation queue (FIFO)
	cumQueued  history.History[uint256.Int] // cumulative scaled shares queued
	rewards    []rewardIndex                // cumulative reward per scaled share, per token
}

type allocKey struct {
	set      OperatorSet
	strategy string
}

// allocation is Allocation: the current magnitude and one pending change.
type allocation struct {
	current     uint64
	pendingDiff int64
	effectBlock uint64
}

// registration is RegistrationStatus.
type registration struct {
	registered     bool
	slashableUntil uint64
}

// avs is a registered service.
type avs struct {
	metadata string
	sets     []uint32 // in creation order
}

// operatorSet is one of an AVS's operator sets.
type operatorSet struct {
	key            OperatorSet
	strategies     []string // in order of addition
	members        map[Address]struct{}
	slasher        Address
	pendingSlasher Address
	slasherEffect  uint64
	recipient      Address // redistribution recipient; zero when burning
	lastSlashID    uint64
	risk           ServiceRisk // declared by the AVS for the risk engine
}

// withdrawal is a queued withdrawal (EigenLayer's Withdrawal struct).
type withdrawal struct {
	id          WithdrawalID
	staker      Address
	delegatedTo Address
	withdrawer  Address
	nonce       uint64
	startBlock  uint64
	strategies  []*strategy
	scaled      []uint256.Int
}

type slashKey struct {
	set OperatorSet
	id  uint64
}

// pendingSlash holds the shares a slash took, per strategy, until
// clear_slashed burns or redistributes them.
type pendingSlash struct {
	strategies []*strategy
	shares     []uint256.Int
}

const wadU64 = wad.Unit

var (
	maxTotalShares = uint256.MustFromDecimal(maxTotalSharesDec)
	offset         = wad.U(virtualOffset)
)

// New returns an empty ledger at height 0 (call BeginBlock before the
// first operation).
func New(cfg Config) *Ledger {
	l := &Ledger{
		params:       cfg.Params,
		admins:       map[Address]bool{},
		oracles:      map[Address]bool{},
		priceOracles: map[Address]bool{},
		prices:       map[string]Price{},
		open:         cfg.Open,
		tokens:       map[string]*token{},
		strategies:   map[string]*strategy{},
		accounts:     map[Address]*account{},
		avss:         map[Address]*avs{},
		sets:         map[OperatorSet]*operatorSet{},
		withdrawals:  map[WithdrawalID]*withdrawal{},
		slashes:      map[slashKey]*pendingSlash{},
		approvals:    map[approvalKey]uint64{},
		treasury:     cfg.Treasury,
		dirty:        dirtySet{all: true},
	}
	if l.treasury.IsZero() {
		l.treasury = DefaultTreasury
	}
	for _, a := range cfg.Admins {
		l.admins[a] = true
	}
	for _, a := range cfg.BeaconOracles {
		l.oracles[a] = true
	}
	for _, a := range cfg.PriceOracles {
		l.priceOracles[a] = true
	}
	l.beacon = &strategy{name: BeaconStrategy, token: l.tokenOrNew(NativeToken), native: true}
	return l
}

// Params returns the ledger's parameters.
func (l *Ledger) Params() Params { return l.params }

// Height returns the current block number.
func (l *Ledger) Height() uint64 { return l.height }

// Time returns the current block time in unix seconds.
func (l *Ledger) Time() uint64 { return l.time }

// BeginBlock moves the ledger to a new block. Its first phase accrues
// rewards for every calculation interval that has ended by the new block's
// time, valued on the state (and clock) the previous block left; then the
// clock moves. Heights must increase and times must not go backwards; a
// violation is a bug in the block producer, so BeginBlock panics rather than
// execute against a wrong clock. Events() then holds the accruals.
func (l *Ledger) BeginBlock(height, time uint64) {
	if height <= l.height && l.height != 0 || time < l.time {
		panic("ledger: BeginBlock must move forward")
	}
	l.events = l.events[:0]
	l.accrueRewards(time)
	l.height, l.time = height, time
}

// tokenOrNew returns the named token, creating it. Mutation phase only.
func (l *Ledger) tokenOrNew(name string) *token {
	t := l.tokens[name]
	if t == nil {
		t = &token{name: name}
		l.tokens[name] = t
	}
	return t
}

// accountOrNew returns the account at a, creating it. Mutation phase only:
// validation reads l.accounts directly, so a rejected operation never
// leaves an empty account behind.
func (l *Ledger) accountOrNew(a Address) *account {
	acct := l.accounts[a]
	if acct == nil {
		acct = &account{addr: a}
		l.accounts[a] = acct
	}
	return acct
}

// isOperator reports whether a is a registered operator.
func (l *Ledger) isOperator(a Address) bool {
	acct := l.accounts[a]
	return acct != nil && acct.operator != nil
}

// balanceOf returns the token balance of acct (nil-safe).
func (acct *account) balanceOf(t *token) uint256.Int {
	if acct == nil || t == nil {
		return uint256.Int{}
	}
	for i := range acct.balances {
		if acct.balances[i].token == t {
			return acct.balances[i].amount
		}
	}
	return uint256.Int{}
}

// credit adds amount of t to acct. The caller has checked the token's
// supply, which bounds every balance, so the sum cannot overflow.
func (acct *account) credit(t *token, amount uint256.Int) {
	for i := range acct.balances {
		if acct.balances[i].token == t {
			b := &acct.balances[i].amount
			b.Add(b, &amount)
			return
		}
	}
	if amount.IsZero() {
		return
	}
	acct.balances = append(acct.balances, balance{token: t, amount: amount})
}

// debit subtracts amount of t from acct; the caller has checked the balance.
func (acct *account) debit(t *token, amount uint256.Int) {
	for i := range acct.balances {
		if acct.balances[i].token == t {
			b := &acct.balances[i].amount
			if b.Lt(&amount) {
				panic("ledger: debit below zero after validation")
			}
			b.Sub(b, &amount)
			return
		}
	}
	if !amount.IsZero() {
		panic("ledger: debit of an absent balance after validation")
	}
}

// position returns the staker's position in s, or nil (nil-safe).
func (acct *account) position(s *strategy) *position {
	if acct == nil {
		return nil
	}
	for i := range acct.positions {
		if acct.positions[i].strategy == s {
			return &acct.positions[i]
		}
	}
	return nil
}

// depositShares returns the staker's deposit shares and k in s (nil-safe).
func (acct *account) depositShares(s *strategy) (shares, dsf uint256.Int) {
	if acct == nil {
		return
	}
	if s.native {
		if acct.pod != nil {
			return acct.pod.shares, acct.pod.dsf
		}
		return
	}
	if p := acct.position(s); p != nil {
		return p.shares, p.dsf
	}
	return
}

// setDepositShares stores the staker's deposit shares and k in s, keeping
// the deposit list: a new position goes last, a position that reaches zero
// is removed by moving the last one into its place (StrategyManager's
// _removeStrategyFromStakerStrategyList), and its k resets to WAD.
func (acct *account) setDepositShares(s *strategy, shares, dsf uint256.Int) {
	if s.native {
		if acct.pod == nil {
			acct.pod = &pod{}
		}
		acct.pod.shares = shares
		if shares.IsZero() {
			dsf = uint256.Int{}
		}
		acct.pod.dsf = dsf
		return
	}
	for i := range acct.positions {
		if acct.positions[i].strategy != s {
			continue
		}
		if shares.IsZero() {
			last := len(acct.positions) - 1
			acct.positions[i] = acct.positions[last]
			acct.positions = acct.positions[:last]
			return
		}
		acct.positions[i].shares, acct.positions[i].dsf = shares, dsf
		return
	}
	if !shares.IsZero() {
		acct.positions = append(acct.positions, position{strategy: s, shares: shares, dsf: dsf})
	}
}

// beaconFactor returns the staker's beacon-chain slashing factor l (nil-safe).
func (acct *account) beaconFactor() uint64 {
	if acct == nil || acct.pod == nil || !acct.pod.bcsfSet {
		return wadU64
	}
	return acct.pod.bcsf
}

// strategyByName returns a whitelisted strategy or the native pseudo-strategy.
func (l *Ledger) strategyByName(name string) *strategy {
	if name == BeaconStrategy {
		return l.beacon
	}
	return l.strategies[name]
}

// opStrategy returns the operator's state in a strategy, or nil (nil-safe).
func (op *operator) opStrategy(name string) *opStrategy {
	if op == nil {
		return nil
	}
	return op.strategies[name]
}

// opStrategyOrNew returns the operator's state in a strategy, creating it.
// Mutation phase only.
func (op *operator) opStrategyOrNew(name string) *opStrategy {
	os := op.strategies[name]
	if os == nil {
		os = &opStrategy{owner: op.account, name: name}
		op.strategies[name] = os
	}
	return os
}

// maxMagnitude returns the operator's current max magnitude (nil-safe).
func (os *opStrategy) maxMagnitude() uint64 {
	if os == nil {
		return wadU64
	}
	return os.maxMag.Latest(wadU64)
}

// maxMagnitudeAt returns the max magnitude in force at height h (nil-safe).
func (os *opStrategy) maxMagnitudeAt(h uint64) uint64 {
	if os == nil {
		return wadU64
	}
	return os.maxMag.UpperLookup(h, wadU64)
}

// operatorOf returns the operator state of the account's delegate, or nil.
func (acct *account) operatorOf() *operator {
	if acct == nil || acct.delegate == nil {
		return nil
	}
	return acct.delegate.operator
}
