package tx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// The JSON form of an operation, for the CLI and the HTTP API: an op name
// (ledger.Op.OpName) and an object of fields. Field names follow the
// scenario format (spec/scenario-format.md) where it has the op, minus the
// actor fields: the sender is the signer, so "staker" or "operator" appear
// only where the ledger type has such a field. The fields, per op:
//
//	mint                      account, token, amount
//	add_strategy              strategy, token
//	rebase                    strategy, amount
//	deposit                   strategy, amount
//	delegate                  operator
//	undelegate                staker
//	redelegate                operator
//	queue_withdrawal          strategies, deposit_shares
//	complete_withdrawal       withdrawal, as_tokens
//	register_operator         allocation_delay, approver?, metadata?
//	modify_operator_details   approver
//	update_operator_metadata  metadata
//	set_allocation_delay      delay
//	approve_delegation        operator, staker, expiry_block
//	beacon_balance_update     staker, prev_restaked_wei, delta_wei
//	register_avs              metadata?
//	create_operator_set       set, strategies, slasher?, redistributing?,
//	                          redistribution_recipient?
//	add_strategies            set, strategies
//	remove_strategies         set, strategies
//	update_slasher            set, slasher
//	register_for_sets         avs, sets
//	deregister_from_sets      operator, avs, sets
//	modify_allocations        avs, set, strategies, magnitudes
//	clear_deallocation_queue  operator, strategy, count
//	slash                     operator, avs, set, strategies, wads, description?
//	clear_slashed             avs, set, slash_id
//	submit_rewards            token, amount, strategies, multipliers,
//	                          start_time, duration
//	set_operator_split        avs, bips
//	claim                     token
//	set_price                 token, price_usd, timestamp
//	declare_service_risk      set, profit_usd, threshold_num, threshold_den
//
// A field marked ? is optional and defaults to the zero value (the zero
// address, "", false), except that "redistributing" defaults to whether
// "redistribution_recipient" is present, as in the scenario format; every
// other field is required. OpToJSON writes every field, optional or not.
//
// Value forms: addresses (account, operator, staker, approver, avs, slasher,
// redistribution_recipient) are 0x hex strings; amounts, shares, wads,
// multipliers, prices and prev_restaked_wei are decimal strings of a
// uint256 (digits only: no sign, no exponent); delta_wei is a signed
// decimal string (a leading '-' sets BeaconBalanceUpdate.Decrease);
// magnitudes are decimal strings of a uint64; withdrawal ids are 0x hex;
// set ids, sets, delays, counts, bips, block numbers, times, timestamps and
// slash ids are JSON integers; as_tokens and redistributing are booleans;
// names, metadata and descriptions are strings. Amounts are strings because
// JSON numbers lose precision past 2^53 in most clients.

// Errors of the JSON form, wrapped in a *FieldError that names the field.
var (
	// ErrUnknownField means the object has a field the op does not have.
	ErrUnknownField = errors.New("unknown field")
	// ErrMissingField means a required field is absent.
	ErrMissingField = errors.New("missing field")
	// ErrInvalidField means a field has the wrong JSON type or a value out
	// of its range (or the fields are not one JSON object).
	ErrInvalidField = errors.New("invalid field")
)

// OpFromJSON builds the operation called name from its JSON fields (an
// object; empty input counts as {}). Unknown, missing, duplicated and
// mistyped fields are errors naming the field, and so are values over the
// binary format's limits, so that whatever this accepts can be signed.
func OpFromJSON(name string, fields json.RawMessage) (ledger.Op, error) {
	build, ok := jsonBuilders[name]
	if !ok {
		return nil, &FieldError{Op: name, Offset: -1, Err: ErrUnknownOp}
	}
	raw, err := readObject(name, fields)
	if err != nil {
		return nil, err
	}
	r := &fieldReader{op: name, raw: raw, used: map[string]bool{}}
	op := build(r)
	r.checkUnused()
	if r.err != nil {
		return nil, r.err
	}
	e := &encoder{}
	e.body(Tx{Op: op})
	if e.err != nil {
		return nil, e.err
	}
	return op, nil
}

// readObject splits a JSON object into its fields, rejecting duplicate
// keys: parsers disagree on which duplicate wins, and a signed request must
// mean one thing.
func readObject(op string, fields json.RawMessage) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(fields)) == 0 {
		return out, nil
	}
	bad := func(field, detail string) error {
		return &FieldError{Op: op, Field: field, Offset: -1, Err: ErrInvalidField, Detail: detail}
	}
	dec := json.NewDecoder(bytes.NewReader(fields))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, bad("", "the fields must be a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		if err != nil || !isKey {
			return nil, bad("", "malformed JSON object")
		}
		if _, dup := out[key]; dup {
			return nil, bad(key, "appears twice")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, bad(key, "malformed JSON value")
		}
		out[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad("", "malformed JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bad("", "data after the JSON object")
	}
	return out, nil
}

// fieldReader reads the fields of one op, keeping the first problem so a
// builder can read every field and the caller checks once.
type fieldReader struct {
	op   string
	raw  map[string]json.RawMessage
	used map[string]bool
	err  error
}

func (r *fieldReader) fail(field string, sentinel error, format string, args ...any) {
	if r.err == nil {
		r.err = &FieldError{Op: r.op, Field: field, Offset: -1, Err: sentinel,
			Detail: fmt.Sprintf(format, args...)}
	}
}

// get returns a field's raw value and whether it is present. A missing
// required field is an error; JSON null counts as a wrong type, never as
// absent, so that null cannot silently become a zero value.
func (r *fieldReader) get(field string, required bool) ([]byte, bool) {
	r.used[field] = true
	v, ok := r.raw[field]
	if !ok {
		if required {
			r.fail(field, ErrMissingField, "")
		}
		return nil, false
	}
	return bytes.TrimSpace(v), r.err == nil
}

// checkUnused fails on the first unknown field, in name order so that the
// error does not depend on map iteration order.
func (r *fieldReader) checkUnused() {
	var unknown []string
	for k := range r.raw {
		if !r.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		r.fail(unknown[0], ErrUnknownField, "")
	}
}

// Element parsers: each takes one raw JSON value and returns an error
// message for people, or "".

func parseString(v []byte) (string, string) {
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", "must be a JSON string"
	}
	return s, ""
}

func isDigits(s string) bool { return s != "" && strings.TrimLeft(s, "0123456789") == "" }

func parseAmount(v []byte) (uint256.Int, string) {
	var z uint256.Int
	s, msg := parseString(v)
	if msg != "" {
		return z, "must be a decimal string"
	}
	if !isDigits(s) {
		return z, fmt.Sprintf("must be a decimal string of digits only, got %q", s)
	}
	if z.SetFromDecimal(s) != nil {
		return z, fmt.Sprintf("%s does not fit in 256 bits", s)
	}
	return z, ""
}

func parseMagnitude(v []byte) (uint64, string) {
	s, msg := parseString(v)
	if msg != "" {
		return 0, "must be a decimal string"
	}
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil || !isDigits(s) {
		return 0, fmt.Sprintf("must be a decimal string of a uint64, got %q", s)
	}
	return u, ""
}

// parseUint reads a JSON integer in [0, max]. Only digits pass: a quoted
// number, a fraction, an exponent or a sign is a wrong type.
func parseUint(v []byte, max uint64) (uint64, string) {
	u, err := strconv.ParseUint(string(v), 10, 64)
	if !isDigits(string(v)) || err != nil || u > max {
		return 0, fmt.Sprintf("must be a JSON integer in [0, %d], got %s", max, v)
	}
	return u, ""
}

func parseAddress(v []byte) (ledger.Address, string) {
	s, msg := parseString(v)
	if msg != "" {
		return ledger.Address{}, "must be a 0x hex address string"
	}
	a, err := ledger.ParseAddress(s)
	if err != nil {
		return a, fmt.Sprintf("%v, got %q", err, s)
	}
	return a, ""
}

// Field readers: each reads a required field, and records the first error.

func (r *fieldReader) str(field string) string {
	v, ok := r.get(field, true)
	if !ok {
		return ""
	}
	s, msg := parseString(v)
	if msg != "" {
		r.fail(field, ErrInvalidField, "%s", msg)
	}
	return s
}

func (r *fieldReader) optStr(field string) string {
	if _, ok := r.raw[field]; !ok {
		r.used[field] = true
		return ""
	}
	return r.str(field)
}

func (r *fieldReader) amount(field string) uint256.Int {
	v, ok := r.get(field, true)
	if !ok {
		return uint256.Int{}
	}
	z, msg := parseAmount(v)
	if msg != "" {
		r.fail(field, ErrInvalidField, "%s", msg)
	}
	return z
}

// signed reads a signed decimal string as a magnitude and a sign. "-0" is
// a zero with the sign set, which BeaconBalanceUpdate can hold.
func (r *fieldReader) signed(field string) (uint256.Int, bool) {
	v, ok := r.get(field, true)
	if !ok {
		return uint256.Int{}, false
	}
	neg := len(v) > 1 && v[0] == '"' && v[1] == '-'
	if neg {
		v = append([]byte{'"'}, v[2:]...)
	}
	z, msg := parseAmount(v)
	if msg != "" {
		r.fail(field, ErrInvalidField, "must be a signed decimal string (optional '-', digits)")
	}
	return z, neg
}

func (r *fieldReader) uint(field string, max uint64) uint64 {
	v, ok := r.get(field, true)
	if !ok {
		return 0
	}
	u, msg := parseUint(v, max)
	if msg != "" {
		r.fail(field, ErrInvalidField, "%s", msg)
	}
	return u
}

func (r *fieldReader) u32(field string) uint32 { return uint32(r.uint(field, 1<<32-1)) }
func (r *fieldReader) u64(field string) uint64 { return r.uint(field, 1<<64-1) }

func (r *fieldReader) boolean(field string) bool {
	v, ok := r.get(field, true)
	if !ok {
		return false
	}
	switch string(v) {
	case "true":
		return true
	case "false":
		return false
	}
	r.fail(field, ErrInvalidField, "must be true or false")
	return false
}

func (r *fieldReader) addr(field string) ledger.Address {
	v, ok := r.get(field, true)
	if !ok {
		return ledger.Address{}
	}
	a, msg := parseAddress(v)
	if msg != "" {
		r.fail(field, ErrInvalidField, "%s", msg)
	}
	return a
}

func (r *fieldReader) optAddr(field string) ledger.Address {
	if _, ok := r.raw[field]; !ok {
		r.used[field] = true
		return ledger.Address{}
	}
	return r.addr(field)
}

func (r *fieldReader) wid(field string) ledger.WithdrawalID {
	s := r.str(field)
	if r.err != nil {
		return ledger.WithdrawalID{}
	}
	w, err := ledger.ParseWithdrawalID(s)
	if err != nil {
		r.fail(field, ErrInvalidField, "%v, got %q", err, s)
	}
	return w
}

func (r *fieldReader) set(avsField, idField string) ledger.OperatorSet {
	return ledger.OperatorSet{AVS: r.addr(avsField), ID: r.u32(idField)}
}

// array reads a JSON array and parses each element with elem, which
// returns "" or what is wrong. An empty array gives nil, as Decode does.
func array[T any](r *fieldReader, field string, elem func([]byte) (T, string)) []T {
	v, ok := r.get(field, true)
	if !ok {
		return nil
	}
	var items []json.RawMessage
	if len(v) == 0 || v[0] != '[' || json.Unmarshal(v, &items) != nil {
		r.fail(field, ErrInvalidField, "must be a JSON array")
		return nil
	}
	var out []T
	for i, item := range items {
		x, msg := elem(bytes.TrimSpace(item))
		if msg != "" {
			r.fail(field, ErrInvalidField, "element %d: %s", i, msg)
			return nil
		}
		out = append(out, x)
	}
	return out
}

func (r *fieldReader) strs(field string) []string { return array(r, field, parseString) }

func (r *fieldReader) amounts(field string) []uint256.Int { return array(r, field, parseAmount) }

func (r *fieldReader) magnitudes(field string) []uint64 {
	return array(r, field, parseMagnitude)
}

func (r *fieldReader) u32s(field string) []uint32 {
	return array(r, field, func(v []byte) (uint32, string) {
		u, msg := parseUint(v, 1<<32-1)
		return uint32(u), msg
	})
}

// jsonBuilders maps each op name to the reader of its fields. The reads
// follow the field table in the comment at the top of this file.
var jsonBuilders = map[string]func(r *fieldReader) ledger.Op{
	"mint": func(r *fieldReader) ledger.Op {
		return ledger.Mint{Account: r.addr("account"), Token: r.str("token"),
			Amount: r.amount("amount")}
	},
	"add_strategy": func(r *fieldReader) ledger.Op {
		return ledger.AddStrategy{Strategy: r.str("strategy"), Token: r.str("token")}
	},
	"rebase": func(r *fieldReader) ledger.Op {
		return ledger.Rebase{Strategy: r.str("strategy"), Amount: r.amount("amount")}
	},
	"deposit": func(r *fieldReader) ledger.Op {
		return ledger.Deposit{Strategy: r.str("strategy"), Amount: r.amount("amount")}
	},
	"delegate": func(r *fieldReader) ledger.Op {
		return ledger.Delegate{Operator: r.addr("operator")}
	},
	"undelegate": func(r *fieldReader) ledger.Op {
		return ledger.Undelegate{Staker: r.addr("staker")}
	},
	"redelegate": func(r *fieldReader) ledger.Op {
		return ledger.Redelegate{Operator: r.addr("operator")}
	},
	"queue_withdrawal": func(r *fieldReader) ledger.Op {
		return ledger.QueueWithdrawal{Strategies: r.strs("strategies"),
			DepositShares: r.amounts("deposit_shares")}
	},
	"complete_withdrawal": func(r *fieldReader) ledger.Op {
		return ledger.CompleteWithdrawal{Withdrawal: r.wid("withdrawal"),
			AsTokens: r.boolean("as_tokens")}
	},
	"register_operator": func(r *fieldReader) ledger.Op {
		return ledger.RegisterOperator{AllocationDelay: r.u32("allocation_delay"),
			Approver: r.optAddr("approver"), Metadata: r.optStr("metadata")}
	},
	"modify_operator_details": func(r *fieldReader) ledger.Op {
		return ledger.ModifyOperatorDetails{Approver: r.addr("approver")}
	},
	"update_operator_metadata": func(r *fieldReader) ledger.Op {
		return ledger.UpdateOperatorMetadata{Metadata: r.str("metadata")}
	},
	"set_allocation_delay": func(r *fieldReader) ledger.Op {
		return ledger.SetAllocationDelay{Delay: r.u32("delay")}
	},
	"approve_delegation": func(r *fieldReader) ledger.Op {
		return ledger.ApproveDelegation{Operator: r.addr("operator"), Staker: r.addr("staker"),
			Expiry: r.u64("expiry_block")}
	},
	"beacon_balance_update": func(r *fieldReader) ledger.Op {
		op := ledger.BeaconBalanceUpdate{Staker: r.addr("staker"),
			PrevRestakedWei: r.amount("prev_restaked_wei")}
		op.DeltaWei, op.Decrease = r.signed("delta_wei")
		return op
	},
	"register_avs": func(r *fieldReader) ledger.Op {
		return ledger.RegisterAVS{Metadata: r.optStr("metadata")}
	},
	"create_operator_set": func(r *fieldReader) ledger.Op {
		op := ledger.CreateOperatorSet{ID: r.u32("set"), Strategies: r.strs("strategies"),
			Slasher: r.optAddr("slasher")}
		_, hasRecipient := r.raw["redistribution_recipient"]
		op.Recipient = r.optAddr("redistribution_recipient")
		op.Redistributing = hasRecipient
		if _, ok := r.raw["redistributing"]; ok {
			op.Redistributing = r.boolean("redistributing")
		}
		r.used["redistributing"] = true
		return op
	},
	"add_strategies": func(r *fieldReader) ledger.Op {
		return ledger.AddStrategies{Set: r.u32("set"), Strategies: r.strs("strategies")}
	},
	"remove_strategies": func(r *fieldReader) ledger.Op {
		return ledger.RemoveStrategies{Set: r.u32("set"), Strategies: r.strs("strategies")}
	},
	"update_slasher": func(r *fieldReader) ledger.Op {
		return ledger.UpdateSlasher{Set: r.u32("set"), Slasher: r.addr("slasher")}
	},
	"register_for_sets": func(r *fieldReader) ledger.Op {
		return ledger.RegisterForSets{AVS: r.addr("avs"), Sets: r.u32s("sets")}
	},
	"deregister_from_sets": func(r *fieldReader) ledger.Op {
		return ledger.DeregisterFromSets{Operator: r.addr("operator"), AVS: r.addr("avs"),
			Sets: r.u32s("sets")}
	},
	"modify_allocations": func(r *fieldReader) ledger.Op {
		return ledger.ModifyAllocations{Set: r.set("avs", "set"), Strategies: r.strs("strategies"),
			Magnitudes: r.magnitudes("magnitudes")}
	},
	"clear_deallocation_queue": func(r *fieldReader) ledger.Op {
		return ledger.ClearDeallocationQueue{Operator: r.addr("operator"),
			Strategy: r.str("strategy"), Count: r.u32("count")}
	},
	"slash": func(r *fieldReader) ledger.Op {
		return ledger.Slash{Operator: r.addr("operator"), Set: r.set("avs", "set"),
			Strategies: r.strs("strategies"), Wads: r.amounts("wads"),
			Description: r.optStr("description")}
	},
	"clear_slashed": func(r *fieldReader) ledger.Op {
		return ledger.ClearSlashed{Set: r.set("avs", "set"), SlashID: r.u64("slash_id")}
	},
	"submit_rewards": func(r *fieldReader) ledger.Op {
		return ledger.SubmitRewards{Token: r.str("token"), Amount: r.amount("amount"),
			Strategies: r.strs("strategies"), Multipliers: r.amounts("multipliers"),
			StartTime: r.u64("start_time"), Duration: r.u64("duration")}
	},
	"set_operator_split": func(r *fieldReader) ledger.Op {
		return ledger.SetOperatorSplit{AVS: r.addr("avs"), Bips: r.u32("bips")}
	},
	"claim": func(r *fieldReader) ledger.Op {
		return ledger.ClaimRewards{Token: r.str("token")}
	},
	"set_price": func(r *fieldReader) ledger.Op {
		return ledger.SetPrice{Token: r.str("token"), PriceUSD: r.amount("price_usd"),
			Timestamp: r.u64("timestamp")}
	},
	"declare_service_risk": func(r *fieldReader) ledger.Op {
		return ledger.DeclareServiceRisk{Set: r.u32("set"), ProfitUSD: r.amount("profit_usd"),
			ThresholdNum: r.u64("threshold_num"), ThresholdDen: r.u64("threshold_den")}
	},
}

// OpToJSON returns op's name and its fields in the JSON form, every field
// present (optional ones too), ready for encoding/json: OpFromJSON of the
// marshalled fields gives op back. It returns "" and nil for a type the
// format does not define.
func OpToJSON(op ledger.Op) (name string, fields map[string]any) {
	if _, ok := OpTag(op); !ok {
		return "", nil
	}
	fields = accountOpJSON(op)
	if fields == nil {
		fields = serviceOpJSON(op)
	}
	if fields == nil {
		fields = economicOpJSON(op)
	}
	if fields == nil {
		// OpTag knows the type but no case here does: a bug, and tests
		// cover every tag.
		panic(fmt.Sprintf("tx: no JSON form for operation %T", op))
	}
	return op.OpName(), fields
}

// JSON value writers. Arrays are never nil, so they marshal as [] (which
// OpFromJSON accepts) rather than null (which it rejects).

func decStr(v uint256.Int) string { return v.Dec() }

func decs(vs []uint256.Int) []string {
	out := make([]string, len(vs))
	for i := range vs {
		out[i] = vs[i].Dec()
	}
	return out
}

func mags(vs []uint64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.FormatUint(v, 10)
	}
	return out
}

func strsOut(ss []string) []string { return append([]string{}, ss...) }

func u32sOut(vs []uint32) []uint32 { return append([]uint32{}, vs...) }

// accountOpJSON writes the admin, staker and operator operations.
func accountOpJSON(op ledger.Op) map[string]any {
	switch o := op.(type) {
	case ledger.Mint:
		return map[string]any{"account": o.Account.String(), "token": o.Token,
			"amount": decStr(o.Amount)}
	case ledger.AddStrategy:
		return map[string]any{"strategy": o.Strategy, "token": o.Token}
	case ledger.Rebase:
		return map[string]any{"strategy": o.Strategy, "amount": decStr(o.Amount)}
	case ledger.Deposit:
		return map[string]any{"strategy": o.Strategy, "amount": decStr(o.Amount)}
	case ledger.Delegate:
		return map[string]any{"operator": o.Operator.String()}
	case ledger.Undelegate:
		return map[string]any{"staker": o.Staker.String()}
	case ledger.Redelegate:
		return map[string]any{"operator": o.Operator.String()}
	case ledger.QueueWithdrawal:
		return map[string]any{"strategies": strsOut(o.Strategies),
			"deposit_shares": decs(o.DepositShares)}
	case ledger.CompleteWithdrawal:
		return map[string]any{"withdrawal": o.Withdrawal.String(), "as_tokens": o.AsTokens}
	case ledger.RegisterOperator:
		return map[string]any{"allocation_delay": o.AllocationDelay,
			"approver": o.Approver.String(), "metadata": o.Metadata}
	case ledger.ModifyOperatorDetails:
		return map[string]any{"approver": o.Approver.String()}
	case ledger.UpdateOperatorMetadata:
		return map[string]any{"metadata": o.Metadata}
	case ledger.SetAllocationDelay:
		return map[string]any{"delay": o.Delay}
	case ledger.ApproveDelegation:
		return map[string]any{"operator": o.Operator.String(), "staker": o.Staker.String(),
			"expiry_block": o.Expiry}
	case ledger.BeaconBalanceUpdate:
		delta := o.DeltaWei.Dec()
		if o.Decrease {
			delta = "-" + delta
		}
		return map[string]any{"staker": o.Staker.String(),
			"prev_restaked_wei": decStr(o.PrevRestakedWei), "delta_wei": delta}
	}
	return nil
}

// serviceOpJSON writes the service, registration and allocation operations.
func serviceOpJSON(op ledger.Op) map[string]any {
	switch o := op.(type) {
	case ledger.RegisterAVS:
		return map[string]any{"metadata": o.Metadata}
	case ledger.CreateOperatorSet:
		return map[string]any{"set": o.ID, "strategies": strsOut(o.Strategies),
			"slasher": o.Slasher.String(), "redistributing": o.Redistributing,
			"redistribution_recipient": o.Recipient.String()}
	case ledger.AddStrategies:
		return map[string]any{"set": o.Set, "strategies": strsOut(o.Strategies)}
	case ledger.RemoveStrategies:
		return map[string]any{"set": o.Set, "strategies": strsOut(o.Strategies)}
	case ledger.UpdateSlasher:
		return map[string]any{"set": o.Set, "slasher": o.Slasher.String()}
	case ledger.RegisterForSets:
		return map[string]any{"avs": o.AVS.String(), "sets": u32sOut(o.Sets)}
	case ledger.DeregisterFromSets:
		return map[string]any{"operator": o.Operator.String(), "avs": o.AVS.String(),
			"sets": u32sOut(o.Sets)}
	case ledger.ModifyAllocations:
		return map[string]any{"avs": o.Set.AVS.String(), "set": o.Set.ID,
			"strategies": strsOut(o.Strategies), "magnitudes": mags(o.Magnitudes)}
	case ledger.ClearDeallocationQueue:
		return map[string]any{"operator": o.Operator.String(), "strategy": o.Strategy,
			"count": o.Count}
	}
	return nil
}

// economicOpJSON writes the slashing, rewards and price operations.
func economicOpJSON(op ledger.Op) map[string]any {
	switch o := op.(type) {
	case ledger.Slash:
		return map[string]any{"operator": o.Operator.String(), "avs": o.Set.AVS.String(),
			"set": o.Set.ID, "strategies": strsOut(o.Strategies), "wads": decs(o.Wads),
			"description": o.Description}
	case ledger.ClearSlashed:
		return map[string]any{"avs": o.Set.AVS.String(), "set": o.Set.ID, "slash_id": o.SlashID}
	case ledger.SubmitRewards:
		return map[string]any{"token": o.Token, "amount": decStr(o.Amount),
			"strategies": strsOut(o.Strategies), "multipliers": decs(o.Multipliers),
			"start_time": o.StartTime, "duration": o.Duration}
	case ledger.SetOperatorSplit:
		return map[string]any{"avs": o.AVS.String(), "bips": o.Bips}
	case ledger.ClaimRewards:
		return map[string]any{"token": o.Token}
	case ledger.SetPrice:
		return map[string]any{"token": o.Token, "price_usd": decStr(o.PriceUSD),
			"timestamp": o.Timestamp}
	case ledger.DeclareServiceRisk:
		return map[string]any{"set": o.Set, "profit_usd": decStr(o.ProfitUSD),
			"threshold_num": o.ThresholdNum, "threshold_den": o.ThresholdDen}
	}
	return nil
}
