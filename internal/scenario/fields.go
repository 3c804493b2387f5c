package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// FormatError is a problem with a scenario file itself (not with the ledger):
// unreadable JSON, an unknown op or field, a missing or mistyped field, a bad
// withdrawal reference or a block that goes backwards. The runner exits 2 on
// it.
type FormatError struct {
	File  string
	Step  int // -1 for the file or its params
	Field string
	Msg   string
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Step >= 0 {
		fmt.Fprintf(&b, ": step %d", e.Step)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// fields reads the op-specific fields of one step, remembering the first
// problem so that builders can read several fields and check once.
type fields struct {
	raw  map[string]json.RawMessage
	used map[string]bool
	err  *fieldError
}

type fieldError struct{ field, msg string }

func (f *fields) fail(field, format string, args ...any) {
	if f.err == nil {
		f.err = &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
	}
}

// get returns a field's raw JSON; a missing required field is an error.
func (f *fields) get(name string, required bool) (json.RawMessage, bool) {
	f.used[name] = true
	v, ok := f.raw[name]
	if !ok && required {
		f.fail(name, "missing")
	}
	return v, ok
}

func (f *fields) has(name string) bool {
	f.used[name] = true
	_, ok := f.raw[name]
	return ok
}

func decodeStrict(v json.RawMessage, out any) error {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	return dec.Decode(out)
}

func (f *fields) str(name string) string {
	v, ok := f.get(name, true)
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		f.fail(name, "must be a string")
	}
	return s
}

func (f *fields) optStr(name string) (string, bool) {
	if !f.has(name) {
		return "", false
	}
	return f.str(name), true
}

func (f *fields) strs(name string) []string {
	v, ok := f.get(name, true)
	if !ok {
		return nil
	}
	var s []string
	if err := json.Unmarshal(v, &s); err != nil || s == nil {
		f.fail(name, "must be an array of strings")
	}
	return s
}

// actor resolves an actor name to its address.
func (f *fields) actor(name string) ledger.Address {
	s := f.str(name)
	if f.err != nil {
		return ledger.Address{}
	}
	a, err := ActorAddress(s)
	if err != nil {
		f.fail(name, "%v", err)
	}
	return a
}

func (f *fields) optActor(name string, def ledger.Address) ledger.Address {
	if !f.has(name) {
		return def
	}
	return f.actor(name)
}

func parseAmount(s string) (uint256.Int, error) {
	var z uint256.Int
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return z, fmt.Errorf("must be a decimal string of a non-negative integer, got %q", s)
	}
	if err := z.SetFromDecimal(s); err != nil {
		return z, fmt.Errorf("%q does not fit in 256 bits", s)
	}
	return z, nil
}

func (f *fields) amount(name string) uint256.Int {
	s := f.str(name)
	if f.err != nil {
		return uint256.Int{}
	}
	z, err := parseAmount(s)
	if err != nil {
		f.fail(name, "%v", err)
	}
	return z
}

func (f *fields) amounts(name string) []uint256.Int {
	ss := f.strs(name)
	out := make([]uint256.Int, len(ss))
	for i, s := range ss {
		z, err := parseAmount(s)
		if err != nil {
			f.fail(name, "element %d: %v", i, err)
		}
		out[i] = z
	}
	return out
}

// signed reads a signed decimal string as magnitude and sign.
func (f *fields) signed(name string) (uint256.Int, bool) {
	s := f.str(name)
	neg := strings.HasPrefix(s, "-")
	z, err := parseAmount(strings.TrimPrefix(s, "-"))
	if err != nil && f.err == nil {
		f.fail(name, "must be a signed decimal string, got %q", s)
	}
	return z, neg
}

// uint reads a JSON integer in [0, max].
func (f *fields) uint(name string, max uint64) uint64 {
	v, ok := f.get(name, true)
	if !ok {
		return 0
	}
	return f.parseUint(name, v, max)
}

func (f *fields) parseUint(name string, v json.RawMessage, max uint64) uint64 {
	var n json.Number
	if err := decodeStrict(v, &n); err != nil {
		f.fail(name, "must be a JSON integer")
		return 0
	}
	u, err := strconv.ParseUint(n.String(), 10, 64)
	if err != nil || u > max {
		f.fail(name, "must be an integer in [0, %d], got %s", max, n)
		return 0
	}
	return u
}

func (f *fields) optUint(name string, max, def uint64) uint64 {
	if !f.has(name) {
		return def
	}
	return f.uint(name, max)
}

func (f *fields) uints32(name string) []uint32 {
	v, ok := f.get(name, true)
	if !ok {
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil || raw == nil {
		f.fail(name, "must be an array of integers")
		return nil
	}
	out := make([]uint32, len(raw))
	for i, r := range raw {
		out[i] = uint32(f.parseUint(name, r, 1<<32-1))
	}
	return out
}

// magnitudes reads decimal strings that must fit in 64 bits.
func (f *fields) magnitudes(name string) []uint64 {
	ss := f.strs(name)
	out := make([]uint64, len(ss))
	for i, s := range ss {
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil || strings.TrimLeft(s, "0123456789") != "" {
			f.fail(name, "element %d: must be a decimal string of a 64-bit magnitude, got %q", i, s)
		}
		out[i] = u
	}
	return out
}

func (f *fields) boolean(name string) bool {
	v, ok := f.get(name, true)
	if !ok {
		return false
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		f.fail(name, "must be true or false")
	}
	return b
}

// ActorAddress maps a scenario actor name to its account: a 0x-prefixed
// 40-digit hex string is taken as the address itself; any other name is the
// last 20 bytes of keccak256("restake/scenario/actor/" + name), so the same
// name always names the same account.
func ActorAddress(name string) (ledger.Address, error) {
	if strings.HasPrefix(name, "0x") && len(name) == 42 {
		return ledger.ParseAddress(name)
	}
	if name == "" {
		return ledger.Address{}, fmt.Errorf("actor name is empty")
	}
	h := ledger.Keccak256([]byte("restake/scenario/actor/" + name))
	var a ledger.Address
	copy(a[:], h[12:])
	return a, nil
}

// bigString renders a signed value for JSON.
func bigString(v int64) string { return big.NewInt(v).String() }
