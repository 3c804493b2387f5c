package ledger

import (
	"fmt"

	"github.com/holiman/uint256"
)

// Op is one operation a sender asks the ledger to run. Transactions and
// scenario steps decode into these types and go through Apply, so both take
// the same code path. Every field is a parsed, typed value; validation of
// meaning happens inside the ledger.
type Op interface {
	// OpName is the operation's stable name (the scenario op name).
	OpName() string
}

// Admin and setup operations.
type (
	// Mint credits test tokens (scenario mode, or an admin faucet).
	Mint struct {
		Account Address
		Token   string
		Amount  uint256.Int
	}
	// AddStrategy whitelists a strategy holding Token (admin).
	AddStrategy struct {
		Strategy string
		Token    string
	}
	// Rebase adds Amount tokens of yield to a strategy's balance (admin).
	Rebase struct {
		Strategy string
		Amount   uint256.Int
	}
)

// Staker operations; the sender is the staker.
type (
	// Deposit moves Amount tokens into a strategy for deposit shares.
	Deposit struct {
		Strategy string
		Amount   uint256.Int
	}
	// Delegate delegates all of the sender's shares to Operator.
	Delegate struct{ Operator Address }
	// Undelegate undelegates Staker, queueing one withdrawal per strategy.
	// The sender is the staker, its operator or the operator's approver.
	Undelegate struct{ Staker Address }
	// Redelegate is Undelegate of the sender followed by Delegate to Operator.
	Redelegate struct{ Operator Address }
	// QueueWithdrawal queues one withdrawal of deposit shares.
	QueueWithdrawal struct {
		Strategies    []string
		DepositShares []uint256.Int
	}
	// CompleteWithdrawal completes a queued withdrawal after its delay.
	CompleteWithdrawal struct {
		Withdrawal WithdrawalID
		AsTokens   bool
	}
)

// Operator operations; the sender is the operator.
type (
	// RegisterOperator registers the sender as an operator delegated to
	// itself, with an allocation delay that applies at once.
	RegisterOperator struct {
		AllocationDelay uint32
		Approver        Address // zero: anyone may delegate
		Metadata        string
	}
	// ModifyOperatorDetails changes the operator's delegation approver.
	ModifyOperatorDetails struct{ Approver Address }
	// UpdateOperatorMetadata changes the operator's metadata URI.
	UpdateOperatorMetadata struct{ Metadata string }
	// SetAllocationDelay changes the allocation delay after the
	// configuration delay.
	SetAllocationDelay struct{ Delay uint32 }
	// ApproveDelegation, sent by an operator's approver, lets Staker
	// delegate to Operator until block Expiry (inclusive).
	ApproveDelegation struct {
		Operator Address
		Staker   Address
		Expiry   uint64
	}
)

// BeaconBalanceUpdate reports a change of a staker's native-ETH balance, with
// the semantics of EigenPodManager.recordBeaconChainETHBalanceUpdate. The
// sender is a beacon oracle.
type BeaconBalanceUpdate struct {
	Staker          Address
	PrevRestakedWei uint256.Int
	DeltaWei        uint256.Int // magnitude of the change
	Decrease        bool        // true when the balance fell
}

// Service (AVS) operations; the sender is the AVS.
type (
	// RegisterAVS registers the sender as an AVS (updateAVSMetadataURI).
	RegisterAVS struct{ Metadata string }
	// CreateOperatorSet creates set ID with its strategies and slasher.
	CreateOperatorSet struct {
		ID             uint32
		Strategies     []string
		Slasher        Address // zero: the AVS itself
		Redistributing bool
		Recipient      Address // redistribution recipient when Redistributing
	}
	// AddStrategies adds strategies to a set.
	AddStrategies struct {
		Set        uint32
		Strategies []string
	}
	// RemoveStrategies removes strategies from a set.
	RemoveStrategies struct {
		Set        uint32
		Strategies []string
	}
	// UpdateSlasher proposes a new slasher, effective after the slasher
	// configuration delay + 1.
	UpdateSlasher struct {
		Set     uint32
		Slasher Address
	}
)

// Registration, allocation and slashing.
type (
	// RegisterForSets registers the sender (an operator) for sets of AVS.
	RegisterForSets struct {
		AVS  Address
		Sets []uint32
	}
	// DeregisterFromSets deregisters Operator; the sender is the operator
	// or the AVS.
	DeregisterFromSets struct {
		Operator Address
		AVS      Address
		Sets     []uint32
	}
	// ModifyAllocations sets the sender's magnitudes for strategies in one
	// operator set.
	ModifyAllocations struct {
		Set        OperatorSet
		Strategies []string
		Magnitudes []uint64
	}
	// ClearDeallocationQueue completes up to Count due deallocations of
	// Operator in Strategy. Anyone may send it.
	ClearDeallocationQueue struct {
		Operator Address
		Strategy string
		Count    uint32
	}
	// Slash slashes Operator in Set by a WAD fraction per strategy; the
	// sender must be the set's slasher.
	Slash struct {
		Operator    Address
		Set         OperatorSet
		Strategies  []string
		Wads        []uint256.Int
		Description string
	}
	// ClearSlashed burns or redistributes what a slash took. Anyone may
	// send it.
	ClearSlashed struct {
		Set     OperatorSet
		SlashID uint64
	}
)

// Results of operations that return something.
type (
	// DepositResult holds the deposit shares minted.
	DepositResult struct{ Shares uint256.Int }
	// UndelegateResult holds one withdrawal per strategy, in deposit-list
	// order with native ETH last.
	UndelegateResult struct{ Withdrawals []WithdrawalID }
	// QueueWithdrawalResult holds the withdrawal and its withdrawable shares
	// at the time it was queued.
	QueueWithdrawalResult struct {
		Withdrawal   WithdrawalID
		Withdrawable []uint256.Int
	}
	// CompleteWithdrawalResult holds the tokens (or shares) credited per
	// strategy.
	CompleteWithdrawalResult struct{ Amounts []uint256.Int }
	// SlashResult holds the slash id and the shares taken per strategy.
	SlashResult struct {
		SlashID uint64
		Shares  []uint256.Int
	}
	// ClearSlashedResult holds the tokens sent per recorded strategy.
	ClearSlashedResult struct{ Amounts []uint256.Int }
)

// OpName implementations.
func (Mint) OpName() string                   { return "mint" }
func (AddStrategy) OpName() string            { return "add_strategy" }
func (Rebase) OpName() string                 { return "rebase" }
func (Deposit) OpName() string                { return "deposit" }
func (Delegate) OpName() string               { return "delegate" }
func (Undelegate) OpName() string             { return "undelegate" }
func (Redelegate) OpName() string             { return "redelegate" }
func (QueueWithdrawal) OpName() string        { return "queue_withdrawal" }
func (CompleteWithdrawal) OpName() string     { return "complete_withdrawal" }
func (RegisterOperator) OpName() string       { return "register_operator" }
func (ModifyOperatorDetails) OpName() string  { return "modify_operator_details" }
func (UpdateOperatorMetadata) OpName() string { return "update_operator_metadata" }
func (SetAllocationDelay) OpName() string     { return "set_allocation_delay" }
func (ApproveDelegation) OpName() string      { return "approve_delegation" }
func (BeaconBalanceUpdate) OpName() string    { return "beacon_balance_update" }
func (RegisterAVS) OpName() string            { return "register_avs" }
func (CreateOperatorSet) OpName() string      { return "create_operator_set" }
func (AddStrategies) OpName() string          { return "add_strategies" }
func (RemoveStrategies) OpName() string       { return "remove_strategies" }
func (UpdateSlasher) OpName() string          { return "update_slasher" }
func (RegisterForSets) OpName() string        { return "register_for_sets" }
func (DeregisterFromSets) OpName() string     { return "deregister_from_sets" }
func (ModifyAllocations) OpName() string      { return "modify_allocations" }
func (ClearDeallocationQueue) OpName() string { return "clear_deallocation_queue" }
func (Slash) OpName() string                  { return "slash" }
func (ClearSlashed) OpName() string           { return "clear_slashed" }

// Apply runs op on behalf of sender at the current block. It returns the
// operation's result (one of the *Result types, or nil) or a *Error; a
// rejected operation changes nothing. Events() then holds what it did.
func (l *Ledger) Apply(sender Address, op Op) (any, error) {
	l.events = l.events[:0]
	switch o := op.(type) {
	case Mint:
		return nil, errOrNil(l.mint(sender, o))
	case AddStrategy:
		return nil, errOrNil(l.addStrategy(sender, o))
	case Rebase:
		return nil, errOrNil(l.rebase(sender, o))
	case Deposit:
		return wrap(l.deposit(sender, o))
	case Delegate:
		return nil, errOrNil(l.delegateTo(sender, o))
	case Undelegate:
		return wrap(l.undelegate(sender, o))
	case Redelegate:
		return wrap(l.redelegate(sender, o))
	case QueueWithdrawal:
		return wrap(l.queueWithdrawal(sender, o))
	case CompleteWithdrawal:
		return wrap(l.completeWithdrawal(sender, o))
	case RegisterOperator:
		return nil, errOrNil(l.registerOperator(sender, o))
	case ModifyOperatorDetails:
		return nil, errOrNil(l.modifyOperatorDetails(sender, o))
	case UpdateOperatorMetadata:
		return nil, errOrNil(l.updateOperatorMetadata(sender, o))
	case SetAllocationDelay:
		return nil, errOrNil(l.setAllocationDelay(sender, o))
	case ApproveDelegation:
		return nil, errOrNil(l.approveDelegation(sender, o))
	case BeaconBalanceUpdate:
		return nil, errOrNil(l.beaconBalanceUpdate(sender, o))
	case SubmitRewards:
		return wrap(l.submitRewards(sender, o))
	case SetOperatorSplit:
		return nil, errOrNil(l.setOperatorSplit(sender, o))
	case ClaimRewards:
		return wrap(l.claimRewards(sender, o))
	case SetPrice:
		return nil, errOrNil(l.setPrice(sender, o))
	default:
		return l.applyService(sender, op)
	}
}

func (l *Ledger) applyService(sender Address, op Op) (any, error) {
	switch o := op.(type) {
	case RegisterAVS:
		return nil, errOrNil(l.registerAVS(sender, o))
	case CreateOperatorSet:
		return nil, errOrNil(l.createOperatorSet(sender, o))
	case AddStrategies:
		return nil, errOrNil(l.addStrategies(sender, o))
	case RemoveStrategies:
		return nil, errOrNil(l.removeStrategies(sender, o))
	case UpdateSlasher:
		return nil, errOrNil(l.updateSlasher(sender, o))
	case RegisterForSets:
		return nil, errOrNil(l.registerForSets(sender, o))
	case DeregisterFromSets:
		return nil, errOrNil(l.deregisterFromSets(sender, o))
	case ModifyAllocations:
		return nil, errOrNil(l.modifyAllocations(sender, o))
	case ClearDeallocationQueue:
		return nil, errOrNil(l.clearDeallocationQueue(o))
	case Slash:
		return wrap(l.slash(sender, o))
	case ClearSlashed:
		return wrap(l.clearSlashed(o))
	case DeclareServiceRisk:
		return nil, errOrNil(l.declareServiceRisk(sender, o))
	}
	panic(fmt.Sprintf("ledger: unknown operation %T", op))
}

// errOrNil returns err as an error, or a nil error when err is nil.
func errOrNil(err *Error) error {
	if err == nil {
		return nil
	}
	return err
}

// wrap turns a typed (result, *Error) into (any, error) without boxing a nil
// *Error into a non-nil error.
func wrap[R any](r R, err *Error) (any, error) {
	if err != nil {
		return nil, err
	}
	return r, nil
}
