// Package tx is restake's transaction format: a canonical binary encoding of
// every ledger operation, the hash a sender signs (secp256k1 over
// Keccak-256, Ethereum-style addresses) and the signed envelope that nodes
// gossip and put in blocks. It also holds the JSON form of an operation used
// by the CLI and the HTTP API (json.go); JSON never reaches consensus.
//
// The package computes hashes and carries signature bytes; creating and
// checking signatures (and recovering the sender, who is never part of the
// operation) is the caller's job, with package keys.
//
// # Encoding (the spec)
//
// The encoding is canonical: every transaction has exactly one encoding,
// and Decode accepts nothing else, so that the transaction id (a hash of the
// bytes) and the block hash cannot be changed by re-encoding a transaction.
// All integers are big-endian and unsigned. A signed transaction is
//
//	signed  = body || sig
//	body    = version (1 byte, = Version)
//	          || chain_id (u8 length, then that many bytes; at most ChainIDLenMax)
//	          || nonce (u64)
//	          || op tag (u16, see the table below)
//	          || op fields, in the declaration order of the ledger type
//	sig     = 65 bytes r || s || v, as produced by keys.PrivateKey.Sign
//
// and its encoded size is at most MaxTxBytes. Field encodings:
//
//	ledger.Address        20 raw bytes
//	uint256.Int           32 bytes
//	uint64                8 bytes
//	uint32                4 bytes
//	bool                  1 byte, 0 or 1 (any other value is rejected)
//	string                u16 length, then the bytes (no terminator)
//	[]string              u8 count, then each string
//	[]uint256.Int         u8 count, then 32 bytes each
//	[]uint64              u8 count, then 8 bytes each
//	[]uint32              u8 count, then 4 bytes each
//	ledger.OperatorSet    Address (20 bytes) || id (uint32)
//	ledger.WithdrawalID   32 raw bytes
//
// Limits, enforced by both Encode and Decode (so anything that encodes also
// decodes, and the reverse): strategy and token names at most
// ledger.NameLenMax bytes; metadata URIs and a slash's description at most
// ledger.MetadataLenMax bytes; every array at most ledger.InputArrayMax
// items. The format checks sizes only: whether a name is well formed, an
// amount is positive or parallel arrays have equal lengths is the ledger's
// decision, with its own stable error names, so that a transaction and a
// scenario step are judged by the same code.
//
// # Operation tags
//
// Tags are stable forever: a tag is never reused or renumbered, and new
// operations take the next free tag.
//
//	tag  name                      ledger type
//	  1  mint                      Mint
//	  2  add_strategy              AddStrategy
//	  3  rebase                    Rebase
//	  4  deposit                   Deposit
//	  5  delegate                  Delegate
//	  6  undelegate                Undelegate
//	  7  redelegate                Redelegate
//	  8  queue_withdrawal          QueueWithdrawal
//	  9  complete_withdrawal       CompleteWithdrawal
//	 10  register_operator         RegisterOperator
//	 11  modify_operator_details   ModifyOperatorDetails
//	 12  update_operator_metadata  UpdateOperatorMetadata
//	 13  set_allocation_delay      SetAllocationDelay
//	 14  approve_delegation        ApproveDelegation
//	 15  beacon_balance_update     BeaconBalanceUpdate
//	 16  register_avs              RegisterAVS
//	 17  create_operator_set       CreateOperatorSet
//	 18  add_strategies            AddStrategies
//	 19  remove_strategies         RemoveStrategies
//	 20  update_slasher            UpdateSlasher
//	 21  register_for_sets         RegisterForSets
//	 22  deregister_from_sets      DeregisterFromSets
//	 23  modify_allocations        ModifyAllocations
//	 24  clear_deallocation_queue  ClearDeallocationQueue
//	 25  slash                     Slash
//	 26  clear_slashed             ClearSlashed
//	 27  submit_rewards            SubmitRewards
//	 28  set_operator_split        SetOperatorSplit
//	 29  claim                     ClaimRewards
//	 30  set_price                 SetPrice
//	 31  declare_service_risk      DeclareServiceRisk
//
// Tag 0 is never assigned, so an all-zero op tag is always an error.
//
// # Signing
//
// The sender signs SigningHash, keccak256("\x19restake transaction:\n" ||
// body). The prefix keeps a restake signature from being valid for anything
// an Ethereum wallet signs over the same bytes. Its first byte is 0x19, the
// EIP-191 prefix: a legacy Ethereum transaction's signing preimage is an RLP
// list, which starts with a byte of 0xc0 or more, never 0x19. Its second
// byte is 'r' (0x72): a typed (EIP-2718) transaction's preimage is one type
// byte followed by an RLP list (0xc0 or more), personal_sign's is
// "\x19Ethereum Signed Message:\n" (second byte 'E', 0x45), EIP-712's starts
// "\x19\x01" and EIP-191 version 0 "\x19\x00". So no preimage restake
// hashes is the preimage of any of them, and a signature taken for one can
// never be replayed as the other. The chain id in the body keeps a
// transaction from being replayed on another restake chain, and the nonce
// from being replayed on the same one.
//
// The transaction id (Signed.Hash) is keccak256 of the whole signed
// encoding. Low-s and v checks belong to signature recovery (keys.Recover):
// this package treats the 65 signature bytes as opaque.
package tx

import (
	"errors"
	"fmt"

	"github.com/restake/restake/internal/ledger"
	"golang.org/x/crypto/sha3"
)

// Version is the body's first byte. A format change that old nodes could
// misread takes a new version instead of silently changing meaning.
const Version byte = 1

// MaxTxBytes limits a signed transaction's encoded size, so that a node can
// reject an oversized input before it parses any of it.
const MaxTxBytes = 64 << 10

// ChainIDLenMax limits the chain id, in bytes. It fits the u8 length prefix.
const ChainIDLenMax = 64

// SigLen is the length of a signature: r (32) || s (32) || v (1).
const SigLen = 65

// signingPrefix is the domain prefix of SigningHash; see the package doc
// for why it cannot collide with anything Ethereum signs.
const signingPrefix = "\x19restake transaction:\n"

// Errors of encoding and decoding. They are stable: callers and the API
// match them with errors.Is, so their meaning never changes. Most are
// returned wrapped in a *FieldError that says where the problem is.
var (
	// ErrTooLarge means the signed encoding is over MaxTxBytes.
	ErrTooLarge = errors.New("transaction too large")
	// ErrTruncated means the input ended inside a field.
	ErrTruncated = errors.New("truncated")
	// ErrTrailingBytes means bytes follow the signature.
	ErrTrailingBytes = errors.New("trailing bytes")
	// ErrUnknownOp means an op tag, op name or Go op type that this
	// version of the format does not define.
	ErrUnknownOp = errors.New("unknown operation")
	// ErrBadVersion means the first byte is not Version.
	ErrBadVersion = errors.New("unsupported version")
	// ErrFieldTooLong means a string or array is over its limit.
	ErrFieldTooLong = errors.New("field too long")
	// ErrNonCanonical means a field has a value that no encoder would
	// write (a bool other than 0 or 1), or the input does not re-encode
	// to itself.
	ErrNonCanonical = errors.New("non-canonical encoding")
)

// FieldError locates an encoding, decoding or JSON problem: which field of
// which operation, and, when decoding, at which byte offset. Err is one of
// this package's sentinel errors, so errors.Is sees through a FieldError.
type FieldError struct {
	Op     string // operation name, or "" for an envelope field
	Field  string // snake_case field name (as in the JSON form)
	Offset int    // byte offset where the field starts; -1 when not decoding
	Err    error  // the sentinel: ErrTruncated, ErrFieldTooLong, ...
	Detail string // what exactly is wrong, for people
}

// Error returns "tx: op.field at byte N: err: detail", leaving out the parts
// that are empty.
func (e *FieldError) Error() string {
	where := e.Field
	switch {
	case e.Op != "" && e.Field != "":
		where = e.Op + "." + e.Field
	case e.Op != "":
		where = e.Op
	case e.Field == "":
		where = "transaction"
	}
	msg := "tx: " + where
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" at byte %d", e.Offset)
	}
	msg += ": " + e.Err.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel error.
func (e *FieldError) Unwrap() error { return e.Err }

// Tx is the signed body of a transaction. The sender is not in it: it is
// the address recovered from the signature, so that nobody can send in
// another account's name.
type Tx struct {
	ChainID string    // the chain this transaction is valid on
	Nonce   uint64    // the sender's ledger.TxNonce when it is included
	Op      ledger.Op // a value of one of the ledger's op types (not a pointer)
}

// Signed is a transaction with its signature.
type Signed struct {
	Tx  Tx
	Sig [SigLen]byte // r || s || v over Tx.SigningHash
}

// Encode returns the canonical body. It fails with ErrUnknownOp for an op
// type the format does not define, and ErrFieldTooLong for a field over its
// limit.
func (t Tx) Encode() ([]byte, error) {
	e := &encoder{buf: make([]byte, 0, 256)}
	e.body(t)
	if e.err != nil {
		return nil, e.err
	}
	if len(e.buf)+SigLen > MaxTxBytes {
		// A body that cannot be sent once signed is rejected now, before
		// anyone signs it.
		return nil, &FieldError{Op: e.op, Offset: -1, Err: ErrTooLarge,
			Detail: fmt.Sprintf("%d bytes signed, limit %d", len(e.buf)+SigLen, MaxTxBytes)}
	}
	return e.buf, nil
}

// SigningHash returns the hash the sender signs:
// keccak256("\x19restake transaction:\n" || body). The prefix is a domain
// separator (see the package doc): without it, a signature over a body that
// happened to parse as an Ethereum transaction or message would be valid
// there too.
func (t Tx) SigningHash() ([32]byte, error) {
	body, err := t.Encode()
	if err != nil {
		return [32]byte{}, err
	}
	return keccak256([]byte(signingPrefix), body), nil
}

// Encode returns the signed encoding, body || sig.
func (s Signed) Encode() ([]byte, error) {
	body, err := s.Tx.Encode()
	if err != nil {
		return nil, err
	}
	return append(body, s.Sig[:]...), nil
}

// Hash returns the transaction id, keccak256 of the signed encoding. The id
// covers the signature, so two signatures over one body are two ids (the
// nonce still lets only one of them run). A Signed that does not encode
// (Encode fails; no result of Decode does) has no id, and Hash returns the
// zero hash for it.
func (s Signed) Hash() [32]byte {
	b, err := s.Encode()
	if err != nil {
		return [32]byte{}
	}
	return keccak256(b)
}

// Decode parses a signed transaction. It is strict: the input must be
// exactly one canonical encoding of at most MaxTxBytes (no trailing bytes,
// a known version and op tag, every length within its limit, bools 0 or 1),
// so that Encode of the result gives back b byte for byte. Errors wrap the
// sentinels above, usually in a *FieldError.
func Decode(b []byte) (Signed, error) {
	if len(b) > MaxTxBytes {
		return Signed{}, &FieldError{Offset: 0, Err: ErrTooLarge,
			Detail: fmt.Sprintf("%d bytes, limit %d", len(b), MaxTxBytes)}
	}
	s, err := decodeSigned(b)
	if err != nil {
		return Signed{}, err
	}
	// The decoder is written to be canonical and the fuzz target checks it;
	// this check keeps a decoder bug from letting two encodings of one
	// transaction (two ids, two block hashes) into a block.
	again, err := s.Encode()
	if err != nil || string(again) != string(b) {
		return Signed{}, &FieldError{Offset: 0, Err: ErrNonCanonical,
			Detail: "the transaction does not re-encode to its input"}
	}
	return s, nil
}

// keccak256 hashes the concatenation of parts with Ethereum's Keccak-256
// (not NIST SHA3-256).
func keccak256(parts ...[]byte) [32]byte {
	h := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Op tags. The values are the wire format: never change or reuse one.
const (
	tagMint                   uint16 = 1
	tagAddStrategy            uint16 = 2
	tagRebase                 uint16 = 3
	tagDeposit                uint16 = 4
	tagDelegate               uint16 = 5
	tagUndelegate             uint16 = 6
	tagRedelegate             uint16 = 7
	tagQueueWithdrawal        uint16 = 8
	tagCompleteWithdrawal     uint16 = 9
	tagRegisterOperator       uint16 = 10
	tagModifyOperatorDetails  uint16 = 11
	tagUpdateOperatorMetadata uint16 = 12
	tagSetAllocationDelay     uint16 = 13
	tagApproveDelegation      uint16 = 14
	tagBeaconBalanceUpdate    uint16 = 15
	tagRegisterAVS            uint16 = 16
	tagCreateOperatorSet      uint16 = 17
	tagAddStrategies          uint16 = 18
	tagRemoveStrategies       uint16 = 19
	tagUpdateSlasher          uint16 = 20
	tagRegisterForSets        uint16 = 21
	tagDeregisterFromSets     uint16 = 22
	tagModifyAllocations      uint16 = 23
	tagClearDeallocationQueue uint16 = 24
	tagSlash                  uint16 = 25
	tagClearSlashed           uint16 = 26
	tagSubmitRewards          uint16 = 27
	tagSetOperatorSplit       uint16 = 28
	tagClaimRewards           uint16 = 29
	tagSetPrice               uint16 = 30
	tagDeclareServiceRisk     uint16 = 31
)

// opsByTag holds a zero value of each op type at its tag's index (index 0
// is unused). OpNames reads it; tests check it against OpTag.
var opsByTag = [...]ledger.Op{
	tagMint:                   ledger.Mint{},
	tagAddStrategy:            ledger.AddStrategy{},
	tagRebase:                 ledger.Rebase{},
	tagDeposit:                ledger.Deposit{},
	tagDelegate:               ledger.Delegate{},
	tagUndelegate:             ledger.Undelegate{},
	tagRedelegate:             ledger.Redelegate{},
	tagQueueWithdrawal:        ledger.QueueWithdrawal{},
	tagCompleteWithdrawal:     ledger.CompleteWithdrawal{},
	tagRegisterOperator:       ledger.RegisterOperator{},
	tagModifyOperatorDetails:  ledger.ModifyOperatorDetails{},
	tagUpdateOperatorMetadata: ledger.UpdateOperatorMetadata{},
	tagSetAllocationDelay:     ledger.SetAllocationDelay{},
	tagApproveDelegation:      ledger.ApproveDelegation{},
	tagBeaconBalanceUpdate:    ledger.BeaconBalanceUpdate{},
	tagRegisterAVS:            ledger.RegisterAVS{},
	tagCreateOperatorSet:      ledger.CreateOperatorSet{},
	tagAddStrategies:          ledger.AddStrategies{},
	tagRemoveStrategies:       ledger.RemoveStrategies{},
	tagUpdateSlasher:          ledger.UpdateSlasher{},
	tagRegisterForSets:        ledger.RegisterForSets{},
	tagDeregisterFromSets:     ledger.DeregisterFromSets{},
	tagModifyAllocations:      ledger.ModifyAllocations{},
	tagClearDeallocationQueue: ledger.ClearDeallocationQueue{},
	tagSlash:                  ledger.Slash{},
	tagClearSlashed:           ledger.ClearSlashed{},
	tagSubmitRewards:          ledger.SubmitRewards{},
	tagSetOperatorSplit:       ledger.SetOperatorSplit{},
	tagClaimRewards:           ledger.ClaimRewards{},
	tagSetPrice:               ledger.SetPrice{},
	tagDeclareServiceRisk:     ledger.DeclareServiceRisk{},
}

// OpTag returns the stable tag of op's type, and false for a type the
// format does not define (including nil and pointers to op types, which
// the ledger does not accept either).
func OpTag(op ledger.Op) (uint16, bool) {
	switch op.(type) {
	case ledger.Mint:
		return tagMint, true
	case ledger.AddStrategy:
		return tagAddStrategy, true
	case ledger.Rebase:
		return tagRebase, true
	case ledger.Deposit:
		return tagDeposit, true
	case ledger.Delegate:
		return tagDelegate, true
	case ledger.Undelegate:
		return tagUndelegate, true
	case ledger.Redelegate:
		return tagRedelegate, true
	case ledger.QueueWithdrawal:
		return tagQueueWithdrawal, true
	case ledger.CompleteWithdrawal:
		return tagCompleteWithdrawal, true
	case ledger.RegisterOperator:
		return tagRegisterOperator, true
	case ledger.ModifyOperatorDetails:
		return tagModifyOperatorDetails, true
	case ledger.UpdateOperatorMetadata:
		return tagUpdateOperatorMetadata, true
	case ledger.SetAllocationDelay:
		return tagSetAllocationDelay, true
	case ledger.ApproveDelegation:
		return tagApproveDelegation, true
	case ledger.BeaconBalanceUpdate:
		return tagBeaconBalanceUpdate, true
	}
	return serviceOpTag(op)
}

// serviceOpTag is OpTag for the service, allocation, slashing, rewards and
// price operations (split only to keep each switch short).
func serviceOpTag(op ledger.Op) (uint16, bool) {
	switch op.(type) {
	case ledger.RegisterAVS:
		return tagRegisterAVS, true
	case ledger.CreateOperatorSet:
		return tagCreateOperatorSet, true
	case ledger.AddStrategies:
		return tagAddStrategies, true
	case ledger.RemoveStrategies:
		return tagRemoveStrategies, true
	case ledger.UpdateSlasher:
		return tagUpdateSlasher, true
	case ledger.RegisterForSets:
		return tagRegisterForSets, true
	case ledger.DeregisterFromSets:
		return tagDeregisterFromSets, true
	case ledger.ModifyAllocations:
		return tagModifyAllocations, true
	case ledger.ClearDeallocationQueue:
		return tagClearDeallocationQueue, true
	case ledger.Slash:
		return tagSlash, true
	case ledger.ClearSlashed:
		return tagClearSlashed, true
	case ledger.SubmitRewards:
		return tagSubmitRewards, true
	case ledger.SetOperatorSplit:
		return tagSetOperatorSplit, true
	case ledger.ClaimRewards:
		return tagClaimRewards, true
	case ledger.SetPrice:
		return tagSetPrice, true
	case ledger.DeclareServiceRisk:
		return tagDeclareServiceRisk, true
	}
	return 0, false
}

// OpNames returns the names (ledger.Op.OpName) of every operation the
// format defines, in tag order: OpNames()[i] has tag i+1.
func OpNames() []string {
	names := make([]string, 0, len(opsByTag)-1)
	for _, op := range opsByTag[1:] {
		names = append(names, op.OpName())
	}
	return names
}

// SigningHashOf returns the signing hash of a signed encoding that Decode
// accepted, without encoding the transaction again: Decode only accepts
// canonical input, so the body is the input minus its signature.
func SigningHashOf(signed []byte) [32]byte {
	return keccak256([]byte(signingPrefix), signed[:len(signed)-SigLen])
}
