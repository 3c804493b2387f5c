package ledger

// Params are the protocol parameters fixed at genesis. Delays count blocks,
// as every delay of EigenLayer's core does.
type Params struct {
	// WithdrawalDelayBlocks is MIN_WITHDRAWAL_DELAY_BLOCKS: a queued
	// withdrawal stays slashable through start+delay and completes from
	// start+delay+1.
	WithdrawalDelayBlocks uint64
	// DeallocationDelayBlocks is DEALLOCATION_DELAY: a deallocation (or a
	// deregistration) stays slashable for this many blocks.
	DeallocationDelayBlocks uint64
	// AllocationConfigurationDelayBlocks is ALLOCATION_CONFIGURATION_DELAY:
	// a change of an operator's allocation delay takes effect after it + 1.
	AllocationConfigurationDelayBlocks uint64
	// SlasherConfigurationDelayBlocks is SLASHER_CONFIGURATION_DELAY: a new
	// slasher takes over after it + 1. EigenLayer ties it to the allocation
	// configuration delay.
	SlasherConfigurationDelayBlocks uint64
	// ProtocolFeeBips is the share of every reward submission kept by the
	// protocol (restake's default 5%).
	ProtocolFeeBips uint32
	// DefaultOperatorSplitBips is the share of the gross reward an operator
	// keeps unless it sets its own (restake's default 5%).
	DefaultOperatorSplitBips uint32
	// CalculationIntervalSeconds is CALCULATION_INTERVAL_SECONDS: rewards
	// accrue one interval at a time, and submissions align to it.
	CalculationIntervalSeconds uint64
	// MaxRewardsDurationSeconds is MAX_REWARDS_DURATION.
	MaxRewardsDurationSeconds uint64
	// MaxRetroactiveLengthSeconds is MAX_RETROACTIVE_LENGTH: how far in the
	// past a submission may start.
	MaxRetroactiveLengthSeconds uint64
	// MaxFutureLengthSeconds is MAX_FUTURE_LENGTH: how far ahead it may start.
	MaxFutureLengthSeconds uint64
	// GenesisRewardsTimestamp is GENESIS_REWARDS_TIMESTAMP: no submission
	// starts before it.
	GenesisRewardsTimestamp uint64
	// ActivationDelaySeconds delays a change of an operator's split.
	ActivationDelaySeconds uint64
}

// DefaultParams returns mainnet's delays (12-second blocks: 100,800 blocks
// are 14 days, 126,000 are 17.5 days), mainnet's rewards timing (7-day
// intervals, 70-day maximum duration, 168 days retroactive, 30 days ahead,
// 7-day split activation) and restake's 90/5/5 reward split.
func DefaultParams() Params {
	return Params{
		WithdrawalDelayBlocks:              100_800,
		DeallocationDelayBlocks:            100_800,
		AllocationConfigurationDelayBlocks: 126_000,
		SlasherConfigurationDelayBlocks:    126_000,
		ProtocolFeeBips:                    500,
		DefaultOperatorSplitBips:           500,
		CalculationIntervalSeconds:         604_800,
		MaxRewardsDurationSeconds:          6_048_000,
		MaxRetroactiveLengthSeconds:        14_515_200,
		MaxFutureLengthSeconds:             2_592_000,
		GenesisRewardsTimestamp:            1_710_979_200,
		ActivationDelaySeconds:             604_800,
	}
}

// Config is what a ledger is built from: its parameters and the accounts
// with special powers.
type Config struct {
	Params Params
	// Admins may whitelist strategies, credit yield (rebase) and mint.
	Admins []Address
	// BeaconOracles may report native-ETH beacon balance changes.
	BeaconOracles []Address
	// PriceOracles may report token prices in USD.
	PriceOracles []Address
	// Treasury receives protocol fees (DefaultTreasury when zero).
	Treasury Address
	// Open lifts every authorisation check on admin and oracle operations
	// and allows minting. Scenario replay uses it; a node never does.
	Open bool
}
