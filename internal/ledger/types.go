package ledger

import (
	"encoding/hex"
	"errors"
	"strings"

	"golang.org/x/crypto/sha3"
)

// Address is a 20-byte Ethereum-style account address. The zero address
// means "none" (an undelegated staker, an operator without approver).
type Address [20]byte

// BurnAddress receives slashed tokens of sets that do not redistribute
// (EigenLayer's DEFAULT_BURN_ADDRESS, 0x00000000000000000000000000000000000E16E4).
var BurnAddress = Address{17: 0x0E, 18: 0x16, 19: 0xE4}

// IsZero reports whether a is the zero address.
func (a Address) IsZero() bool { return a == Address{} }

// String returns the address in EIP-55 mixed-case hex with a 0x prefix.
func (a Address) String() string {
	lower := hex.EncodeToString(a[:])
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lower))
	sum := h.Sum(nil)
	out := []byte(lower)
	for i, c := range out {
		if c >= 'a' && c <= 'f' {
			nibble := sum[i/2] >> 4
			if i%2 == 1 {
				nibble = sum[i/2] & 0x0f
			}
			if nibble >= 8 {
				out[i] = c - 'a' + 'A'
			}
		}
	}
	return "0x" + string(out)
}

// ParseAddress parses a 0x-prefixed 40-digit hex address (any case).
func ParseAddress(s string) (Address, error) {
	var a Address
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return a, errors.New("address must start with 0x")
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil || len(b) != len(a) {
		return a, errors.New("address must be 0x followed by 40 hex digits")
	}
	copy(a[:], b)
	return a, nil
}

// Keccak256 returns the Keccak-256 hash (Ethereum's, not NIST SHA3) of the
// concatenated inputs.
func Keccak256(parts ...[]byte) [32]byte {
	h := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// OperatorSet names a service's operator set: the AVS address and the set's
// 32-bit id, as EigenLayer's OperatorSet struct.
type OperatorSet struct {
	AVS Address
	ID  uint32
}

// Less orders operator sets by AVS address, then id.
func (s OperatorSet) Less(o OperatorSet) bool {
	if c := compareAddr(s.AVS, o.AVS); c != 0 {
		return c < 0
	}
	return s.ID < o.ID
}

func compareAddr(a, b Address) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// WithdrawalID identifies a queued withdrawal: the Keccak-256 hash of its
// canonical encoding (EigenLayer's withdrawal root).
type WithdrawalID [32]byte

// String returns the id as 0x-prefixed hex.
func (w WithdrawalID) String() string { return "0x" + hex.EncodeToString(w[:]) }

// ParseWithdrawalID parses a 0x-prefixed 64-digit hex id.
func ParseWithdrawalID(s string) (WithdrawalID, error) {
	var w WithdrawalID
	if !strings.HasPrefix(s, "0x") {
		return w, errors.New("withdrawal id must start with 0x")
	}
	b, err := hex.DecodeString(s[2:])
	if err != nil || len(b) != len(w) {
		return w, errors.New("withdrawal id must be 0x followed by 64 hex digits")
	}
	copy(w[:], b)
	return w, nil
}

// Names of the built-in collateral.
const (
	// BeaconStrategy is the reserved name of the native-ETH pseudo-strategy
	// (EigenLayer's beaconChainETHStrategy).
	BeaconStrategy = "beaconETH"
	// NativeToken is the token credited when native ETH leaves restaking.
	NativeToken = "ETH"
)

// Limits on user input and state growth. Each bounds a loop that a
// transaction can make the ledger run.
const (
	// NameLenMax bounds strategy and token names, in bytes.
	NameLenMax = 32
	// MetadataLenMax bounds metadata URIs, in bytes.
	MetadataLenMax = 1024
	// StakerStrategiesMax is EigenLayer's MAX_STAKER_STRATEGY_LIST_LENGTH:
	// the number of token strategies a staker may hold at once (native ETH
	// is not counted).
	StakerStrategiesMax = 32
	// StrategiesMax bounds the whitelist.
	StrategiesMax = 1024
	// SetStrategiesMax bounds the strategies of one operator set.
	SetStrategiesMax = 64
	// InputArrayMax bounds every array argument of an operation.
	InputArrayMax = 64
	// MaxTotalShares is StrategyBase's MAX_TOTAL_SHARES (1e38 - 1).
	maxTotalSharesDec = "99999999999999999999999999999999999999"
	// GweiWei is GWEI_TO_WEI: beacon balance deltas are whole gwei.
	GweiWei = 1_000_000_000
	// virtualOffset is StrategyBase's SHARES_OFFSET and BALANCE_OFFSET.
	virtualOffset = 1_000
)

// ValidName reports whether s may name a token or strategy: 1 to NameLenMax
// bytes of ASCII letters, digits, '.', '-' and '_'.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > NameLenMax {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '-' || c == '_':
		default:
			return false
		}
	}
	return true
}
