package ledger

// Error is a stable, named rejection of an operation. A rejected operation
// changes nothing. Code and Name never change meaning once published: the
// same pair goes into transaction results, the HTTP API and scenario output.
// Names follow EigenLayer's Solidity errors where EigenLayer has one.
type Error struct {
	Code uint32 // stable numeric code; 0 is never used
	Name string // stable name, for example "OperatorNotSlashable"
	Hint string // what the user can do about it
}

// Error returns "Name: hint".
func (e *Error) Error() string { return e.Name + ": " + e.Hint }

var errorsByName = map[string]*Error{}

func newError(code uint32, name, hint string) *Error {
	e := &Error{Code: code, Name: name, Hint: hint}
	if _, dup := errorsByName[name]; dup {
		panic("ledger: duplicate error name " + name)
	}
	errorsByName[name] = e
	return e
}

// ErrorByName returns the error with that stable name, or nil.
func ErrorByName(name string) *Error { return errorsByName[name] }

// Errors from EigenLayer and the scenario format (codes 1-99, in the order of
// scenario-format.md). Never renumber.
var (
	ErrStrategyNotWhitelisted = newError(1, "StrategyNotWhitelisted",
		"the strategy is not whitelisted; list strategies and use one of them")
	ErrNewSharesZero = newError(2, "NewSharesZero",
		"the deposit is too small to mint a share; deposit more")
	ErrSharesAmountZero = newError(3, "SharesAmountZero",
		"the share amount is zero; give a positive amount")
	ErrSharesAmountTooHigh = newError(4, "SharesAmountTooHigh",
		"more deposit shares than the staker holds; read the staker's deposit shares first")
	ErrMaxStrategiesExceeded = newError(5, "MaxStrategiesExceeded",
		"a staker may hold at most 32 token strategies; withdraw one first")
	ErrInsufficientBalance = newError(6, "InsufficientBalance",
		"the account's token balance is lower than the amount")
	ErrActivelyDelegated = newError(7, "ActivelyDelegated",
		"the account is already delegated; undelegate first (operators cannot)")
	ErrNotActivelyDelegated = newError(8, "NotActivelyDelegated",
		"the staker is not delegated to an operator")
	ErrOperatorNotRegistered = newError(9, "OperatorNotRegistered",
		"that address is not a registered operator")
	ErrOperatorsCannotUndelegate = newError(10, "OperatorsCannotUndelegate",
		"an operator is delegated to itself and cannot undelegate")
	ErrCallerCannotUndelegate = newError(11, "CallerCannotUndelegate",
		"only the staker, its operator or the operator's approver may undelegate it")
	ErrFullySlashed = newError(12, "FullySlashed",
		"the operator (or the staker's pod) is fully slashed for this strategy; "+
			"use another operator")
	ErrWithdrawalNotQueued = newError(13, "WithdrawalNotQueued",
		"no queued withdrawal has that id (it may already be completed)")
	ErrWithdrawalDelayNotElapsed = newError(14, "WithdrawalDelayNotElapsed",
		"the withdrawal is still in escrow; retry after its unlock block")
	ErrWithdrawerNotCaller = newError(15, "WithdrawerNotCaller",
		"only the withdrawer may complete this withdrawal")
	ErrInvalidDepositScalingFactor = newError(16, "InvalidDepositScalingFactor",
		"the deposit would zero the deposit scaling factor; deposit a larger amount")
	ErrNonexistentAVSMetadata = newError(17, "NonexistentAVSMetadata",
		"the AVS has not registered; call register_avs first")
	ErrInvalidOperatorSet = newError(18, "InvalidOperatorSet",
		"the operator set does not exist (or already exists, when creating)")
	ErrInvalidOperator = newError(19, "InvalidOperator",
		"that address is not a registered operator")
	ErrAlreadyMemberOfSet = newError(20, "AlreadyMemberOfSet",
		"the operator is registered, or still slashable after deregistering")
	ErrNotMemberOfSet = newError(21, "NotMemberOfSet",
		"the operator is not registered for that set")
	ErrUninitializedAllocationDelay = newError(22, "UninitializedAllocationDelay",
		"the account has no allocation delay; register as an operator first")
	ErrModificationAlreadyPending = newError(23, "ModificationAlreadyPending",
		"a change of this allocation is pending; wait for its effect block")
	ErrSameMagnitude = newError(24, "SameMagnitude",
		"the new magnitude equals the current one")
	ErrInsufficientMagnitude = newError(25, "InsufficientMagnitude",
		"not enough unallocated magnitude; deallocate elsewhere first")
	ErrOperatorNotSlashable = newError(26, "OperatorNotSlashable",
		"the operator is not registered for the set and past its slashable window")
	ErrInvalidCaller = newError(27, "InvalidCaller",
		"the sender is not allowed to do this for that operator or set")
	ErrInvalidWadToSlash = newError(28, "InvalidWadToSlash",
		"each wad to slash must be in (0, 1e18]")
	ErrStrategyNotInOperatorSet = newError(29, "StrategyNotInOperatorSet",
		"the operator set does not contain that strategy")
	ErrStrategyAlreadyInOperatorSet = newError(30, "StrategyAlreadyInOperatorSet",
		"the operator set already contains that strategy")
	ErrStrategiesMustBeInAscendingOrder = newError(31, "StrategiesMustBeInAscendingOrder",
		"list strategies in strictly ascending order of their names")
	ErrInputArrayLengthMismatch = newError(32, "InputArrayLengthMismatch",
		"the parallel arrays have different lengths")
	ErrLegacyWithdrawalsNotCompleted = newError(33, "LegacyWithdrawalsNotCompleted",
		"the pod has negative legacy shares; complete its withdrawals as shares")
	ErrSharesNotMultipleOfGwei = newError(34, "SharesNotMultipleOfGwei",
		"beacon balance deltas must be whole gwei (multiples of 1e9 wei)")
	ErrEarningsNotGreaterThanClaimed = newError(35, "EarningsNotGreaterThanClaimed",
		"nothing new to claim for that token")
	ErrSplitExceedsMax = newError(36, "SplitExceedsMax",
		"a split is at most 10000 bips")
	ErrPreviousSplitPending = newError(37, "PreviousSplitPending",
		"the previous split change is not active yet; wait for its activation")
	ErrInvalidBeaconBalanceUpdate = newError(38, "InvalidBeaconBalanceUpdate",
		"a decrease cannot exceed the previous restaked balance")
	ErrInputArrayLengthZero = newError(39, "InputArrayLengthZero",
		"give at least one element")
	ErrInvalidStrategy = newError(40, "InvalidStrategy",
		"that strategy cannot be used here (native ETH in a redistributing set, "+
			"or the reserved name beaconETH)")
	ErrTotalSharesExceedsMax = newError(41, "TotalSharesExceedsMax",
		"the strategy would exceed its maximum of 1e38-1 shares")
	ErrStrategyAlreadyWhitelisted = newError(42, "StrategyAlreadyWhitelisted",
		"a strategy with that name exists")
)

// Errors that restake adds (codes 100 and up). Each names one case that
// EigenLayer either reverts on without a name (arithmetic panics), or does not
// have because restake's accounts, oracles and limits differ.
var (
	ErrArithmeticOverflow = newError(100, "ArithmeticOverflow",
		"an amount would overflow 256 bits (or divide by zero); use smaller amounts")
	ErrInvalidName = newError(101, "InvalidName",
		"names are 1-32 characters of letters, digits, '.', '-' and '_'")
	ErrCallerNotAdmin = newError(102, "CallerNotAdmin",
		"only a genesis admin account may do this")
	ErrCallerNotBeaconOracle = newError(103, "CallerNotBeaconOracle",
		"only an authorised beacon-oracle account may report beacon balances")
	ErrInputArrayLengthExceedsMax = newError(104, "InputArrayLengthExceedsMax",
		"an array argument is longer than 64 elements; split the operation")
	ErrInputAddressZero = newError(105, "InputAddressZero",
		"the zero address is not allowed here")
	ErrInvalidRedistributionRecipient = newError(106, "InvalidRedistributionRecipient",
		"the redistribution recipient cannot be the burn address")
	ErrTooManyStrategies = newError(107, "TooManyStrategies",
		"the strategy whitelist (or the operator set) is full")
	ErrInsufficientWithdrawableBalance = newError(108, "InsufficientWithdrawableBalance",
		"the pod holds less ETH than the withdrawal; report the pod's balance first")
	ErrSharesNegative = newError(109, "SharesNegative",
		"more native-ETH deposit shares than the staker holds")
	ErrDelegationNotApproved = newError(110, "DelegationNotApproved",
		"the operator's approver has not approved this staker (or the approval expired)")
	ErrInvalidMetadata = newError(111, "InvalidMetadata",
		"metadata URIs are at most 1024 bytes")
	ErrMintDisabled = newError(112, "MintDisabled",
		"minting is only for scenarios and genesis admin accounts")
	ErrPrevRestakedBalanceTooHigh = newError(113, "PrevRestakedBalanceTooHigh",
		"the previous restaked balance is more ETH than the pod holds")
	ErrWithdrawalAmountExceedsTotalDeposits = newError(114,
		"WithdrawalAmountExceedsTotalDeposits",
		"the strategy holds fewer shares than the withdrawal")
	ErrAmountIsZero = newError(115, "AmountIsZero",
		"the rewards amount is zero")
	ErrAmountExceedsMax = newError(116, "AmountExceedsMax",
		"a rewards submission is at most 1e38-1 token units")
	ErrDurationExceedsMax = newError(117, "DurationExceedsMax",
		"a rewards submission lasts at most 70 days")
	ErrInvalidDurationRemainder = newError(118, "InvalidDurationRemainder",
		"the duration must be a whole number of calculation intervals (7 days)")
	ErrDurationIsZero = newError(119, "DurationIsZero",
		"the duration is zero")
	ErrInvalidStartTimestampRemainder = newError(120, "InvalidStartTimestampRemainder",
		"the start time must be a multiple of the calculation interval (7 days)")
	ErrStartTimestampTooFarInPast = newError(121, "StartTimestampTooFarInPast",
		"the start is more than 168 days ago or before rewards genesis")
	ErrStartTimestampTooFarInFuture = newError(122, "StartTimestampTooFarInFuture",
		"the start is more than 30 days ahead")
	ErrCallerNotPriceOracle = newError(123, "CallerNotPriceOracle",
		"only an authorised price-oracle account may report prices")
	ErrPriceTimestampInFuture = newError(124, "PriceTimestampInFuture",
		"a price's timestamp cannot be later than the block time")
	ErrStalePrice = newError(125, "StalePrice",
		"a newer price of that token is already recorded")
	ErrInvalidServiceRisk = newError(126, "InvalidServiceRisk",
		"the profit from corruption must be positive and the threshold a fraction in (0, 1]: "+
			"0 < threshold_num <= threshold_den")
)

// Transaction errors (codes 200 and up): a transaction that is rejected
// before its operation runs. The node's intake (CheckTx) returns them; a
// block can only contain them if a proposer misbehaves, and then the
// transaction changes nothing, not even its sender's nonce.
var (
	ErrTxMalformed = newError(200, "TxMalformed",
		"the transaction does not decode; build it with restake tx or the tx package")
	ErrTxTooLarge = newError(201, "TxTooLarge",
		"the transaction is larger than 64 KiB")
	ErrWrongChainID = newError(202, "WrongChainID",
		"the transaction was signed for another chain; check the chain id")
	ErrInvalidSignature = newError(203, "InvalidSignature",
		"the signature does not recover to a signer; sign the transaction's signing hash")
	ErrNonceTooLow = newError(204, "NonceTooLow",
		"the nonce was already used; read the account's nonce and sign again")
	ErrNonceTooHigh = newError(205, "NonceTooHigh",
		"the nonce skips ahead of the account's next nonce; send the missing transactions first")
	ErrMempoolFull = newError(206, "MempoolFull",
		"the node holds too many pending transactions; retry shortly")
	ErrTxAlreadyKnown = newError(207, "TxAlreadyKnown",
		"this transaction is already pending or committed")
)
