package tx

import (
	"encoding/binary"
	"fmt"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// This file is the binary codec. Every operation is written by hand, field
// by field in declaration order, with the encoder and the decoder side by
// side in the same order, so that a reader can check canonicity by eye: each
// field has one fixed-width or length-prefixed form and the decoder accepts
// only what the encoder writes. The field labels are the JSON names, for
// error messages.

// Item limits, from the ledger's own input limits.
const (
	nameLenMax  = ledger.NameLenMax
	textLenMax  = ledger.MetadataLenMax
	arrayLenMax = ledger.InputArrayMax
)

// encoder appends the canonical encoding to buf. The first error sticks and
// makes later writes no-ops, so a caller checks err once at the end.
type encoder struct {
	buf []byte
	op  string // name of the operation being encoded, for errors
	err error
}

func (e *encoder) fail(field string, err error, format string, args ...any) {
	if e.err == nil {
		e.err = &FieldError{Op: e.op, Field: field, Offset: -1, Err: err,
			Detail: fmt.Sprintf(format, args...)}
	}
}

// body writes version, chain id, nonce, op tag and op fields.
func (e *encoder) body(t Tx) {
	e.buf = append(e.buf, Version)
	if len(t.ChainID) > ChainIDLenMax {
		e.fail("chain_id", ErrFieldTooLong, "%d bytes, limit %d", len(t.ChainID), ChainIDLenMax)
		return
	}
	e.buf = append(e.buf, byte(len(t.ChainID)))
	e.buf = append(e.buf, t.ChainID...)
	e.u64("nonce", t.Nonce)
	tag, ok := OpTag(t.Op)
	if !ok {
		e.fail("op", ErrUnknownOp, "Go type %T", t.Op)
		return
	}
	e.op = t.Op.OpName()
	e.u16("op", tag)
	if !e.accountOp(t.Op) && !e.serviceOp(t.Op) && !e.economicOp(t.Op) {
		// OpTag knows the type but no encoder case does: a bug here, not
		// bad input, and tests cover every tag.
		panic(fmt.Sprintf("tx: no encoder for operation %T", t.Op))
	}
}

// Fixed-width writes cannot fail. They take the field label anyway, so that
// each encoder case reads line for line like its decoder case.

func (e *encoder) u16(_ string, v uint16) {
	e.buf = binary.BigEndian.AppendUint16(e.buf, v)
}

func (e *encoder) u32(_ string, v uint32) {
	e.buf = binary.BigEndian.AppendUint32(e.buf, v)
}

func (e *encoder) u64(_ string, v uint64) {
	e.buf = binary.BigEndian.AppendUint64(e.buf, v)
}

func (e *encoder) addr(_ string, a ledger.Address) { e.buf = append(e.buf, a[:]...) }

func (e *encoder) wid(_ string, w ledger.WithdrawalID) { e.buf = append(e.buf, w[:]...) }

func (e *encoder) u256(_ string, v *uint256.Int) {
	b := v.Bytes32()
	e.buf = append(e.buf, b[:]...)
}

func (e *encoder) boolean(_ string, v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

func (e *encoder) set(field string, s ledger.OperatorSet) {
	e.addr(field, s.AVS)
	e.u32(field, s.ID)
}

// str writes a u16 length and the bytes of a string of at most max bytes.
func (e *encoder) str(field, s string, max int) {
	if len(s) > max {
		e.fail(field, ErrFieldTooLong, "%d bytes, limit %d", len(s), max)
		return
	}
	e.u16(field, uint16(len(s)))
	e.buf = append(e.buf, s...)
}

// count writes the u8 item count of an array of at most arrayLenMax items,
// and reports whether the items may follow.
func (e *encoder) count(field string, n int) bool {
	if n > arrayLenMax {
		e.fail(field, ErrFieldTooLong, "%d items, limit %d", n, arrayLenMax)
		return false
	}
	e.buf = append(e.buf, byte(n))
	return true
}

func (e *encoder) names(field string, ss []string) {
	if e.count(field, len(ss)) {
		for _, s := range ss {
			e.str(field, s, nameLenMax)
		}
	}
}

func (e *encoder) u256s(field string, vs []uint256.Int) {
	if e.count(field, len(vs)) {
		for i := range vs {
			e.u256(field, &vs[i])
		}
	}
}

func (e *encoder) u64s(field string, vs []uint64) {
	if e.count(field, len(vs)) {
		for _, v := range vs {
			e.u64(field, v)
		}
	}
}

func (e *encoder) u32s(field string, vs []uint32) {
	if e.count(field, len(vs)) {
		for _, v := range vs {
			e.u32(field, v)
		}
	}
}

// decoder reads a canonical encoding from b. Like the encoder, the first
// error sticks: later reads return zero values without reading.
type decoder struct {
	b   []byte
	off int    // next byte to read
	op  string // name of the operation being decoded, for errors
	err error
}

func (d *decoder) fail(field string, off int, err error, format string, args ...any) {
	if d.err == nil {
		d.err = &FieldError{Op: d.op, Field: field, Offset: off, Err: err,
			Detail: fmt.Sprintf(format, args...)}
	}
}

// take returns the next n bytes, or nil (after recording ErrTruncated) when
// fewer remain. The result aliases b; callers copy what they keep.
func (d *decoder) take(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b)-d.off {
		d.fail(field, d.off, ErrTruncated, "need %d bytes, %d left", n, len(d.b)-d.off)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8(field string) uint8 {
	if p := d.take(field, 1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u16(field string) uint16 {
	if p := d.take(field, 2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (d *decoder) u32(field string) uint32 {
	if p := d.take(field, 4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64(field string) uint64 {
	if p := d.take(field, 8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) addr(field string) ledger.Address {
	var a ledger.Address
	copy(a[:], d.take(field, len(a)))
	return a
}

func (d *decoder) wid(field string) ledger.WithdrawalID {
	var w ledger.WithdrawalID
	copy(w[:], d.take(field, len(w)))
	return w
}

func (d *decoder) u256(field string) uint256.Int {
	var z uint256.Int
	if p := d.take(field, 32); p != nil {
		z.SetBytes32(p)
	}
	return z
}

// boolean accepts only 0 and 1: any other byte would be a second encoding
// of true.
func (d *decoder) boolean(field string) bool {
	off := d.off
	switch d.u8(field) {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail(field, off, ErrNonCanonical, "bool byte %#x, want 0 or 1", d.b[off])
	return false
}

func (d *decoder) set(field string) ledger.OperatorSet {
	return ledger.OperatorSet{AVS: d.addr(field), ID: d.u32(field)}
}

// str reads a u16 length and a string of at most max bytes.
func (d *decoder) str(field string, max int) string {
	off := d.off
	n := int(d.u16(field))
	if d.err == nil && n > max {
		d.fail(field, off, ErrFieldTooLong, "%d bytes, limit %d", n, max)
	}
	return string(d.take(field, n))
}

// count reads the u8 item count of an array, at most arrayLenMax. It
// returns 0 on error, so the caller's loop does not run.
func (d *decoder) count(field string) int {
	off := d.off
	n := int(d.u8(field))
	if d.err == nil && n > arrayLenMax {
		d.fail(field, off, ErrFieldTooLong, "%d items, limit %d", n, arrayLenMax)
	}
	if d.err != nil {
		return 0
	}
	return n
}

// The array readers return nil for an empty array, so that a decoded
// operation is the same value whatever produced its encoding.

func (d *decoder) names(field string) []string {
	var out []string
	for n, i := d.count(field), 0; i < n; i++ {
		out = append(out, d.str(field, nameLenMax))
	}
	return out
}

func (d *decoder) u256s(field string) []uint256.Int {
	var out []uint256.Int
	for n, i := d.count(field), 0; i < n; i++ {
		out = append(out, d.u256(field))
	}
	return out
}

func (d *decoder) u64s(field string) []uint64 {
	var out []uint64
	for n, i := d.count(field), 0; i < n; i++ {
		out = append(out, d.u64(field))
	}
	return out
}

func (d *decoder) u32s(field string) []uint32 {
	var out []uint32
	for n, i := d.count(field), 0; i < n; i++ {
		out = append(out, d.u32(field))
	}
	return out
}

// decodeSigned parses body || sig without the size and re-encoding checks
// of Decode; the fuzz target calls it directly to check that the decoder is
// canonical on its own.
func decodeSigned(b []byte) (Signed, error) {
	d := &decoder{b: b}
	if v := d.u8("version"); d.err == nil && v != Version {
		d.fail("version", 0, ErrBadVersion, "version %d, want %d", v, Version)
	}
	var s Signed
	s.Tx.ChainID = d.str8("chain_id", ChainIDLenMax)
	s.Tx.Nonce = d.u64("nonce")
	off := d.off
	tag := d.u16("op")
	if d.err == nil {
		s.Tx.Op = d.operation(tag)
		if s.Tx.Op == nil {
			d.fail("op", off, ErrUnknownOp, "tag %d", tag)
		}
	}
	copy(s.Sig[:], d.take("sig", SigLen))
	if d.err == nil && d.off != len(b) {
		d.fail("", d.off, ErrTrailingBytes, "%d bytes after the signature", len(b)-d.off)
	}
	if d.err != nil {
		return Signed{}, d.err
	}
	return s, nil
}

// str8 reads the chain id: a u8 length and at most max bytes.
func (d *decoder) str8(field string, max int) string {
	off := d.off
	n := int(d.u8(field))
	if d.err == nil && n > max {
		d.fail(field, off, ErrFieldTooLong, "%d bytes, limit %d", n, max)
	}
	return string(d.take(field, n))
}

// operation decodes the fields of the op with that tag, or returns nil for
// an unknown tag.
func (d *decoder) operation(tag uint16) ledger.Op {
	if tag == 0 || int(tag) >= len(opsByTag) {
		return nil
	}
	d.op = opsByTag[tag].OpName()
	if op := d.accountOp(tag); op != nil {
		return op
	}
	if op := d.serviceOp(tag); op != nil {
		return op
	}
	if op := d.economicOp(tag); op != nil {
		return op
	}
	// opsByTag knows the tag but no decoder case does: a bug here, and
	// tests cover every tag.
	panic(fmt.Sprintf("tx: no decoder for tag %d", tag))
}

// The per-operation cases. Each encoder case writes the fields in the
// declaration order of the ledger type; the decoder case with the same tag
// reads them back in the same order. The decoders build each op with a
// keyed composite literal listing the fields in declaration order: Go
// evaluates the calls in it left to right (spec, "Order of evaluation"), so
// the reads happen in the order written.

// accountOp encodes the admin, staker and operator operations (tags 1-15).
func (e *encoder) accountOp(op ledger.Op) bool {
	switch o := op.(type) {
	case ledger.Mint:
		e.addr("account", o.Account)
		e.str("token", o.Token, nameLenMax)
		e.u256("amount", &o.Amount)
	case ledger.AddStrategy:
		e.str("strategy", o.Strategy, nameLenMax)
		e.str("token", o.Token, nameLenMax)
	case ledger.Rebase:
		e.str("strategy", o.Strategy, nameLenMax)
		e.u256("amount", &o.Amount)
	case ledger.Deposit:
		e.str("strategy", o.Strategy, nameLenMax)
		e.u256("amount", &o.Amount)
	case ledger.Delegate:
		e.addr("operator", o.Operator)
	case ledger.Undelegate:
		e.addr("staker", o.Staker)
	case ledger.Redelegate:
		e.addr("operator", o.Operator)
	case ledger.QueueWithdrawal:
		e.names("strategies", o.Strategies)
		e.u256s("deposit_shares", o.DepositShares)
	case ledger.CompleteWithdrawal:
		e.wid("withdrawal", o.Withdrawal)
		e.boolean("as_tokens", o.AsTokens)
	case ledger.RegisterOperator:
		e.u32("allocation_delay", o.AllocationDelay)
		e.addr("approver", o.Approver)
		e.str("metadata", o.Metadata, textLenMax)
	case ledger.ModifyOperatorDetails:
		e.addr("approver", o.Approver)
	case ledger.UpdateOperatorMetadata:
		e.str("metadata", o.Metadata, textLenMax)
	case ledger.SetAllocationDelay:
		e.u32("delay", o.Delay)
	case ledger.ApproveDelegation:
		e.addr("operator", o.Operator)
		e.addr("staker", o.Staker)
		e.u64("expiry_block", o.Expiry)
	case ledger.BeaconBalanceUpdate:
		e.addr("staker", o.Staker)
		e.u256("prev_restaked_wei", &o.PrevRestakedWei)
		e.u256("delta_wei", &o.DeltaWei)
		e.boolean("decrease", o.Decrease)
	default:
		return false
	}
	return true
}

// accountOp decodes tags 1-15; see encoder.accountOp.
func (d *decoder) accountOp(tag uint16) ledger.Op {
	switch tag {
	case tagMint:
		return ledger.Mint{Account: d.addr("account"), Token: d.str("token", nameLenMax),
			Amount: d.u256("amount")}
	case tagAddStrategy:
		return ledger.AddStrategy{Strategy: d.str("strategy", nameLenMax),
			Token: d.str("token", nameLenMax)}
	case tagRebase:
		return ledger.Rebase{Strategy: d.str("strategy", nameLenMax), Amount: d.u256("amount")}
	case tagDeposit:
		return ledger.Deposit{Strategy: d.str("strategy", nameLenMax), Amount: d.u256("amount")}
	case tagDelegate:
		return ledger.Delegate{Operator: d.addr("operator")}
	case tagUndelegate:
		return ledger.Undelegate{Staker: d.addr("staker")}
	case tagRedelegate:
		return ledger.Redelegate{Operator: d.addr("operator")}
	case tagQueueWithdrawal:
		return ledger.QueueWithdrawal{Strategies: d.names("strategies"),
			DepositShares: d.u256s("deposit_shares")}
	case tagCompleteWithdrawal:
		return ledger.CompleteWithdrawal{Withdrawal: d.wid("withdrawal"),
			AsTokens: d.boolean("as_tokens")}
	case tagRegisterOperator:
		return ledger.RegisterOperator{AllocationDelay: d.u32("allocation_delay"),
			Approver: d.addr("approver"), Metadata: d.str("metadata", textLenMax)}
	case tagModifyOperatorDetails:
		return ledger.ModifyOperatorDetails{Approver: d.addr("approver")}
	case tagUpdateOperatorMetadata:
		return ledger.UpdateOperatorMetadata{Metadata: d.str("metadata", textLenMax)}
	case tagSetAllocationDelay:
		return ledger.SetAllocationDelay{Delay: d.u32("delay")}
	case tagApproveDelegation:
		return ledger.ApproveDelegation{Operator: d.addr("operator"), Staker: d.addr("staker"),
			Expiry: d.u64("expiry_block")}
	case tagBeaconBalanceUpdate:
		return ledger.BeaconBalanceUpdate{Staker: d.addr("staker"),
			PrevRestakedWei: d.u256("prev_restaked_wei"), DeltaWei: d.u256("delta_wei"),
			Decrease: d.boolean("decrease")}
	}
	return nil
}

// serviceOp encodes the service, registration and allocation operations
// (tags 16-24).
func (e *encoder) serviceOp(op ledger.Op) bool {
	switch o := op.(type) {
	case ledger.RegisterAVS:
		e.str("metadata", o.Metadata, textLenMax)
	case ledger.CreateOperatorSet:
		e.u32("set", o.ID)
		e.names("strategies", o.Strategies)
		e.addr("slasher", o.Slasher)
		e.boolean("redistributing", o.Redistributing)
		e.addr("redistribution_recipient", o.Recipient)
	case ledger.AddStrategies:
		e.u32("set", o.Set)
		e.names("strategies", o.Strategies)
	case ledger.RemoveStrategies:
		e.u32("set", o.Set)
		e.names("strategies", o.Strategies)
	case ledger.UpdateSlasher:
		e.u32("set", o.Set)
		e.addr("slasher", o.Slasher)
	case ledger.RegisterForSets:
		e.addr("avs", o.AVS)
		e.u32s("sets", o.Sets)
	case ledger.DeregisterFromSets:
		e.addr("operator", o.Operator)
		e.addr("avs", o.AVS)
		e.u32s("sets", o.Sets)
	case ledger.ModifyAllocations:
		e.set("set", o.Set)
		e.names("strategies", o.Strategies)
		e.u64s("magnitudes", o.Magnitudes)
	case ledger.ClearDeallocationQueue:
		e.addr("operator", o.Operator)
		e.str("strategy", o.Strategy, nameLenMax)
		e.u32("count", o.Count)
	default:
		return false
	}
	return true
}

// serviceOp decodes tags 16-24; see encoder.serviceOp.
func (d *decoder) serviceOp(tag uint16) ledger.Op {
	switch tag {
	case tagRegisterAVS:
		return ledger.RegisterAVS{Metadata: d.str("metadata", textLenMax)}
	case tagCreateOperatorSet:
		return ledger.CreateOperatorSet{ID: d.u32("set"), Strategies: d.names("strategies"),
			Slasher: d.addr("slasher"), Redistributing: d.boolean("redistributing"),
			Recipient: d.addr("redistribution_recipient")}
	case tagAddStrategies:
		return ledger.AddStrategies{Set: d.u32("set"), Strategies: d.names("strategies")}
	case tagRemoveStrategies:
		return ledger.RemoveStrategies{Set: d.u32("set"), Strategies: d.names("strategies")}
	case tagUpdateSlasher:
		return ledger.UpdateSlasher{Set: d.u32("set"), Slasher: d.addr("slasher")}
	case tagRegisterForSets:
		return ledger.RegisterForSets{AVS: d.addr("avs"), Sets: d.u32s("sets")}
	case tagDeregisterFromSets:
		return ledger.DeregisterFromSets{Operator: d.addr("operator"), AVS: d.addr("avs"),
			Sets: d.u32s("sets")}
	case tagModifyAllocations:
		return ledger.ModifyAllocations{Set: d.set("set"), Strategies: d.names("strategies"),
			Magnitudes: d.u64s("magnitudes")}
	case tagClearDeallocationQueue:
		return ledger.ClearDeallocationQueue{Operator: d.addr("operator"),
			Strategy: d.str("strategy", nameLenMax), Count: d.u32("count")}
	}
	return nil
}

// economicOp encodes the slashing, rewards and price operations (tags
// 25-30).
func (e *encoder) economicOp(op ledger.Op) bool {
	switch o := op.(type) {
	case ledger.Slash:
		e.addr("operator", o.Operator)
		e.set("set", o.Set)
		e.names("strategies", o.Strategies)
		e.u256s("wads", o.Wads)
		e.str("description", o.Description, textLenMax)
	case ledger.ClearSlashed:
		e.set("set", o.Set)
		e.u64("slash_id", o.SlashID)
	case ledger.SubmitRewards:
		e.str("token", o.Token, nameLenMax)
		e.u256("amount", &o.Amount)
		e.names("strategies", o.Strategies)
		e.u256s("multipliers", o.Multipliers)
		e.u64("start_time", o.StartTime)
		e.u64("duration", o.Duration)
	case ledger.SetOperatorSplit:
		e.addr("avs", o.AVS)
		e.u32("bips", o.Bips)
	case ledger.ClaimRewards:
		e.str("token", o.Token, nameLenMax)
	case ledger.SetPrice:
		e.str("token", o.Token, nameLenMax)
		e.u256("price_usd", &o.PriceUSD)
		e.u64("timestamp", o.Timestamp)
	case ledger.DeclareServiceRisk:
		e.u32("set", o.Set)
		e.u256("profit_usd", &o.ProfitUSD)
		e.u64("threshold_num", o.ThresholdNum)
		e.u64("threshold_den", o.ThresholdDen)
	default:
		return false
	}
	return true
}

// economicOp decodes tags 25-31; see encoder.economicOp.
func (d *decoder) economicOp(tag uint16) ledger.Op {
	switch tag {
	case tagSlash:
		return ledger.Slash{Operator: d.addr("operator"), Set: d.set("set"),
			Strategies: d.names("strategies"), Wads: d.u256s("wads"),
			Description: d.str("description", textLenMax)}
	case tagClearSlashed:
		return ledger.ClearSlashed{Set: d.set("set"), SlashID: d.u64("slash_id")}
	case tagSubmitRewards:
		return ledger.SubmitRewards{Token: d.str("token", nameLenMax), Amount: d.u256("amount"),
			Strategies: d.names("strategies"), Multipliers: d.u256s("multipliers"),
			StartTime: d.u64("start_time"), Duration: d.u64("duration")}
	case tagSetOperatorSplit:
		return ledger.SetOperatorSplit{AVS: d.addr("avs"), Bips: d.u32("bips")}
	case tagClaimRewards:
		return ledger.ClaimRewards{Token: d.str("token", nameLenMax)}
	case tagSetPrice:
		return ledger.SetPrice{Token: d.str("token", nameLenMax), PriceUSD: d.u256("price_usd"),
			Timestamp: d.u64("timestamp")}
	case tagDeclareServiceRisk:
		return ledger.DeclareServiceRisk{Set: d.u32("set"), ProfitUSD: d.u256("profit_usd"),
			ThresholdNum: d.u64("threshold_num"), ThresholdDen: d.u64("threshold_den")}
	}
	return nil
}
