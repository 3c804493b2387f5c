package ledger

import "github.com/holiman/uint256"

// EventKind names what happened. Kinds are stable: new kinds are appended.
type EventKind uint8

// Event kinds. The fields an event fills are listed with each kind.
const (
	_ EventKind = iota
	// EvDeposited: Account staker, Strategy, Amount tokens, Amount2 shares.
	EvDeposited
	// EvOperatorRegistered: Account operator, N allocation delay.
	EvOperatorRegistered
	// EvDelegated: Account staker, Other operator.
	EvDelegated
	// EvUndelegated: Account staker, Other operator, Caller.
	EvUndelegated
	// EvWithdrawalQueued: Account staker, Other operator, ID, Strategy,
	// Amount withdrawable shares, Amount2 shortfall (operator shares that
	// were missing; see "Operator shares never trap a staker").
	EvWithdrawalQueued
	// EvWithdrawalCompleted: Account staker, ID, Strategy, Amount tokens or
	// shares credited, N 1 when received as tokens.
	EvWithdrawalCompleted
	// EvBeaconBalanceUpdated: Account staker, Amount |delta| wei,
	// N 1 for an increase, Amount2 the new beacon slashing factor.
	EvBeaconBalanceUpdated
	// EvAVSRegistered: Account avs.
	EvAVSRegistered
	// EvOperatorSetCreated: Set, Other slasher, Account recipient.
	EvOperatorSetCreated
	// EvOperatorRegisteredToSet: Account operator, Set.
	EvOperatorRegisteredToSet
	// EvOperatorDeregisteredFromSet: Account operator, Set, N slashable
	// until (block).
	EvOperatorDeregisteredFromSet
	// EvAllocationUpdated: Account operator, Set, Strategy, Amount the
	// magnitude after the change, N effect block.
	EvAllocationUpdated
	// EvOperatorSlashed: Account operator, Set, Strategy, N slash id,
	// Amount shares slashed, Amount2 wadSlashed.
	EvOperatorSlashed
	// EvSlashCleared: Account recipient, Set, Strategy, N slash id,
	// Amount tokens sent.
	EvSlashCleared
	// EvStrategyAdded: Strategy, Token.
	EvStrategyAdded
	// EvMinted: Account, Token, Amount.
	EvMinted
	// EvRebased: Strategy, Amount tokens of yield.
	EvRebased
	// EvAllocationDelaySet: Account operator, N delay, Amount effect block.
	EvAllocationDelaySet
	// EvSlasherUpdated: Set, Other new slasher, N effect block.
	EvSlasherUpdated
	// EvDelegationApproved: Account approver, Other staker, Caller operator,
	// N expiry block.
	EvDelegationApproved
	// EvOperatorDetailsModified: Account operator, Other approver.
	EvOperatorDetailsModified
	// EvRewardsSubmitted: Account avs, Token, N submission id, Amount
	// escrowed, Amount2 protocol fee.
	EvRewardsSubmitted
	// EvRewardsAccrued: Account avs, Token, N submission id, Amount
	// distributed for one interval, Amount2 left undistributed (no stake).
	EvRewardsAccrued
	// EvRewardsClaimed: Account earner, Token, Amount.
	EvRewardsClaimed
	// EvOperatorSplitSet: Account operator, Other avs, N bips, Amount
	// activation time.
	EvOperatorSplitSet
	// EvPriceSet: Account oracle, Token, Amount USD price (1e18 = $1), N
	// observation time.
	EvPriceSet
	// EvServiceRiskDeclared: Account avs, Set, Amount profit from
	// corruption in USD (1e18 = $1), N threshold numerator, Amount2 its
	// denominator.
	EvServiceRiskDeclared
)

var eventNames = [...]string{
	EvDeposited: "Deposited", EvOperatorRegistered: "OperatorRegistered",
	EvDelegated: "Delegated", EvUndelegated: "Undelegated",
	EvWithdrawalQueued: "WithdrawalQueued", EvWithdrawalCompleted: "WithdrawalCompleted",
	EvBeaconBalanceUpdated: "BeaconBalanceUpdated", EvAVSRegistered: "AVSRegistered",
	EvOperatorSetCreated: "OperatorSetCreated", EvOperatorRegisteredToSet: "OperatorRegisteredToSet",
	EvOperatorDeregisteredFromSet: "OperatorDeregisteredFromSet",
	EvAllocationUpdated:           "AllocationUpdated", EvOperatorSlashed: "OperatorSlashed",
	EvSlashCleared: "SlashCleared", EvStrategyAdded: "StrategyAdded", EvMinted: "Minted",
	EvRebased: "Rebased", EvAllocationDelaySet: "AllocationDelaySet",
	EvSlasherUpdated: "SlasherUpdated", EvDelegationApproved: "DelegationApproved",
	EvOperatorDetailsModified: "OperatorDetailsModified",
	EvRewardsSubmitted:        "RewardsSubmitted", EvRewardsAccrued: "RewardsAccrued",
	EvRewardsClaimed: "RewardsClaimed", EvOperatorSplitSet: "OperatorSplitSet", EvPriceSet: "PriceSet",
	EvServiceRiskDeclared: "ServiceRiskDeclared",
}

// String returns the kind's stable name.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "Unknown"
}

// Event is one thing an operation did. It is a flat value (no pointers but
// strings the ledger already holds) so that recording it allocates nothing;
// the API renders it.
type Event struct {
	Kind     EventKind
	Account  Address
	Other    Address
	Caller   Address
	Set      OperatorSet
	Strategy string
	Token    string
	ID       WithdrawalID
	N        uint64
	Amount   uint256.Int
	Amount2  uint256.Int
}

func (l *Ledger) emit(e Event) { l.events = append(l.events, e) }

// Events returns the events of the last operation applied (none when it was
// rejected). The slice is reused by the next operation: copy what must
// outlive it.
func (l *Ledger) Events() []Event { return l.events }
