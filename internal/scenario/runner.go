// Package scenario replays scenario files (../shared/spec/scenario-format.md)
// against a fresh ledger and checks every expectation. It is pure: it takes
// file contents and returns results; the command line reads the files and
// prints the results.
package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/restake/restake/internal/ledger"
)

// BlockTimeSeconds is the spacing of scenario blocks: each block adds 12 s.
const BlockTimeSeconds = 12

// Scenario is a decoded file, ready to run.
type Scenario struct {
	File   string
	Name   string
	Source string
	params ledger.Params
	start  uint64 // start_block
	time0  uint64 // start_time
	steps  []step
}

type step struct {
	index       int
	op          string
	block       *uint64
	expect      json.RawMessage
	expectError string
	run         action
}

// Result is one step's outcome, printed as one JSON line.
type Result struct {
	File     string    `json:"file"`
	Step     int       `json:"step"`
	Op       string    `json:"op"`
	OK       bool      `json:"ok"`
	Code     string    `json:"code"`
	Result   any       `json:"result"`
	Mismatch *Mismatch `json:"mismatch"`
}

// Mismatch says what an expectation wanted and what the step produced.
type Mismatch struct {
	Key      string `json:"key,omitempty"`
	Expected any    `json:"expected"`
	Observed any    `json:"observed"`
}

var topLevel = map[string]bool{"name": true, "source": true, "params": true, "steps": true}

// Decode parses a scenario file. Every problem with the file itself is a
// *FormatError naming the step and field.
func Decode(file string, data []byte) (*Scenario, error) {
	ferr := func(stepIdx int, field, format string, args ...any) error {
		return &FormatError{File: file, Step: stepIdx, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, ferr(-1, "", "not a JSON object: %v", err)
	}
	for _, k := range sortedKeys(top) {
		if !topLevel[k] {
			return nil, ferr(-1, k, "unknown top-level field")
		}
	}
	sc := &Scenario{File: file, params: ledger.DefaultParams(), start: 1, time0: 1710979200}
	if err := decodeOptString(top["name"], &sc.Name); err != nil {
		return nil, ferr(-1, "name", "%v", err)
	}
	if err := decodeOptString(top["source"], &sc.Source); err != nil {
		return nil, ferr(-1, "source", "%v", err)
	}
	if p, ok := top["params"]; ok {
		if err := sc.decodeParams(p); err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				fe.File = file
			}
			return nil, err
		}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(top["steps"], &raw); err != nil || raw == nil {
		return nil, ferr(-1, "steps", "must be an array of step objects")
	}
	ctx := &decodeCtx{}
	for i, r := range raw {
		ctx.index = i
		st, err := decodeStep(i, r, ctx)
		if err != nil {
			if fe, ok := err.(*FormatError); ok {
				fe.File = file
			}
			return nil, err
		}
		ctx.ops = append(ctx.ops, st.op)
		sc.steps = append(sc.steps, st)
	}
	return sc, nil
}

func decodeOptString(v json.RawMessage, out *string) error {
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(v, out); err != nil {
		return errors.New("must be a string")
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (sc *Scenario) decodeParams(v json.RawMessage) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return &FormatError{Step: -1, Field: "params", Msg: "must be an object"}
	}
	f := &fields{raw: raw, used: map[string]bool{}}
	p := &sc.params
	const maxDelay = 1 << 32
	p.WithdrawalDelayBlocks = f.optUint("withdrawal_delay_blocks", maxDelay, p.WithdrawalDelayBlocks)
	p.DeallocationDelayBlocks = f.optUint("deallocation_delay_blocks", maxDelay, p.DeallocationDelayBlocks)
	p.AllocationConfigurationDelayBlocks = f.optUint("allocation_configuration_delay_blocks", maxDelay,
		p.AllocationConfigurationDelayBlocks)
	p.SlasherConfigurationDelayBlocks = p.AllocationConfigurationDelayBlocks
	sc.start = f.optUint("start_block", 1<<40, sc.start)
	sc.time0 = f.optUint("start_time", 1<<40, sc.time0)
	p.ProtocolFeeBips = uint32(f.optUint("protocol_fee_bips", 10000, uint64(p.ProtocolFeeBips)))
	p.DefaultOperatorSplitBips = uint32(f.optUint("default_operator_split_bips", 10000,
		uint64(p.DefaultOperatorSplitBips)))
	const maxSeconds = 1 << 40
	p.CalculationIntervalSeconds = f.optUint("calculation_interval_seconds", maxSeconds, p.CalculationIntervalSeconds)
	p.MaxRewardsDurationSeconds = f.optUint("max_rewards_duration_seconds", maxSeconds, p.MaxRewardsDurationSeconds)
	p.MaxRetroactiveLengthSeconds = f.optUint("max_retroactive_length_seconds", maxSeconds,
		p.MaxRetroactiveLengthSeconds)
	p.MaxFutureLengthSeconds = f.optUint("max_future_length_seconds", maxSeconds, p.MaxFutureLengthSeconds)
	p.GenesisRewardsTimestamp = f.optUint("genesis_rewards_timestamp", maxSeconds, p.GenesisRewardsTimestamp)
	p.ActivationDelaySeconds = f.optUint("activation_delay_seconds", maxSeconds, p.ActivationDelaySeconds)
	if f.err == nil && p.CalculationIntervalSeconds == 0 {
		f.fail("calculation_interval_seconds", "must be positive")
	}
	if f.err != nil {
		return &FormatError{Step: -1, Field: "params." + f.err.field, Msg: f.err.msg}
	}
	for _, k := range sortedKeys(raw) {
		if !f.used[k] {
			return &FormatError{Step: -1, Field: "params." + k, Msg: "unknown parameter"}
		}
	}
	return nil
}

func decodeStep(i int, r json.RawMessage, ctx *decodeCtx) (step, error) {
	st := step{index: i}
	ferr := func(field, format string, args ...any) error {
		return &FormatError{Step: i, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r, &raw); err != nil || raw == nil {
		return st, ferr("", "a step must be a JSON object")
	}
	if err := json.Unmarshal(raw["op"], &st.op); err != nil || st.op == "" {
		return st, ferr("op", "missing or not a string")
	}
	delete(raw, "op")
	if e, ok := raw["expect"]; ok {
		st.expect = e
		delete(raw, "expect")
	}
	if e, ok := raw["expect_error"]; ok {
		if err := json.Unmarshal(e, &st.expectError); err != nil || st.expectError == "" {
			return st, ferr("expect_error", "must be a non-empty error name")
		}
		if st.expect != nil {
			return st, ferr("expect_error", "a step may not carry both expect and expect_error")
		}
		delete(raw, "expect_error")
	}
	f := &fields{raw: raw, used: map[string]bool{}}
	if b, ok := raw["block"]; ok {
		h := f.parseUint("block", b, 1<<40)
		st.block = &h
		delete(raw, "block")
	}
	b, ok := builders[st.op]
	if !ok {
		return st, ferr("op", "unknown op %q", st.op)
	}
	st.run = b(f, ctx)
	if f.err != nil {
		return st, ferr(f.err.field, "%s", f.err.msg)
	}
	for _, k := range sortedKeys(raw) {
		if !f.used[k] {
			return st, ferr(k, "unknown field for op %q", st.op)
		}
	}
	if st.expect != nil && strings.HasPrefix(st.op, "view_") {
		var v any
		if err := decodeStrict(st.expect, &v); err != nil {
			return st, ferr("expect", "not valid JSON")
		}
		switch v.(type) {
		case string, map[string]any:
		default:
			return st, ferr("expect", "a view's expect is a string or an object")
		}
	} else if st.expect != nil {
		var v map[string]any
		if err := decodeStrict(st.expect, &v); err != nil || v == nil {
			return st, ferr("expect", "an action's expect is an object of result fields")
		}
	}
	return st, nil
}

// treasury receives protocol fees in scenarios: the actor "treasury".
var treasury, _ = ActorAddress("treasury")

// runner is one replay in progress.
type runner struct {
	ledger      *ledger.Ledger
	height      uint64
	time0       uint64
	start       uint64
	withdrawals map[int][]ledger.WithdrawalID
}

func (r *runner) advance(h uint64) {
	r.height = h
	r.ledger.BeginBlock(h, r.time0+(h-r.start)*BlockTimeSeconds)
}

// Run replays the scenario on a fresh ledger in scenario mode and returns one
// result per step. A step whose block goes backwards stops the run with a
// *FormatError.
func (sc *Scenario) Run() ([]Result, *ledger.Ledger, error) {
	r := &runner{
		ledger:      ledger.New(ledger.Config{Params: sc.params, Open: true, Treasury: treasury}),
		time0:       sc.time0,
		start:       sc.start,
		withdrawals: map[int][]ledger.WithdrawalID{},
	}
	r.advance(sc.start)
	results := make([]Result, 0, len(sc.steps))
	for _, st := range sc.steps {
		if st.block != nil {
			if *st.block < r.height {
				return results, r.ledger, &FormatError{File: sc.File, Step: st.index, Field: "block",
					Msg: fmt.Sprintf("block %d is before the current block %d", *st.block, r.height)}
			}
			if *st.block > r.height {
				r.advance(*st.block)
			}
		}
		results = append(results, sc.runStep(r, st))
	}
	return results, r.ledger, nil
}

func (sc *Scenario) runStep(r *runner, st step) Result {
	res := Result{File: sc.File, Step: st.index, Op: st.op}
	out, err := st.run(r)
	var lerr *ledger.Error
	switch {
	case errors.As(err, &lerr):
		res.Code = lerr.Name
	case err != nil:
		// A reference that resolved to nothing (its step was rejected).
		res.Code = "ReferenceError"
		res.Mismatch = &Mismatch{Expected: "a withdrawal id", Observed: err.Error()}
		return res
	default:
		res.Result = out
		r.recordWithdrawals(st, out)
	}
	res.Mismatch = check(st, res.Code, out)
	res.OK = res.Mismatch == nil
	return res
}

func (r *runner) recordWithdrawals(st step, out any) {
	m, ok := out.(map[string]any)
	if !ok {
		return
	}
	var ids []string
	if id, ok := m["withdrawal"].(string); ok {
		ids = []string{id}
	}
	if list, ok := m["withdrawals"].([]any); ok {
		for _, v := range list {
			if s, ok := v.(string); ok {
				ids = append(ids, s)
			}
		}
	}
	for _, s := range ids {
		id, err := ledger.ParseWithdrawalID(s)
		if err == nil {
			r.withdrawals[st.index] = append(r.withdrawals[st.index], id)
		}
	}
}

// check compares a step's outcome with its expectations. A step without
// expect_error must succeed.
func check(st step, code string, out any) *Mismatch {
	if st.expectError != "" {
		if code != st.expectError {
			return &Mismatch{Expected: st.expectError, Observed: orSuccess(code)}
		}
		return nil
	}
	if code != "" {
		return &Mismatch{Expected: "success", Observed: code}
	}
	if st.expect == nil {
		return nil
	}
	var want any
	_ = decodeStrict(st.expect, &want) // validated by Decode
	got := normalize(out)
	wantObj, isObj := want.(map[string]any)
	if !isObj {
		if !jsonEqual(want, got) {
			return &Mismatch{Expected: want, Observed: got}
		}
		return nil
	}
	gotObj, _ := got.(map[string]any)
	for _, k := range sortedKeys(wantObj) {
		g, present := gotObj[k]
		if !present {
			return &Mismatch{Key: k, Expected: wantObj[k], Observed: "(absent)"}
		}
		if !jsonEqual(wantObj[k], g) {
			return &Mismatch{Key: k, Expected: wantObj[k], Observed: g}
		}
	}
	return nil
}

func orSuccess(code string) string {
	if code == "" {
		return "success"
	}
	return code
}

// normalize round-trips a value through JSON so that it compares with the
// expectation type for type (numbers as json.Number).
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	_ = decodeStrict(b, &out)
	return out
}

func jsonEqual(a, b any) bool {
	ab, err1 := json.Marshal(a)
	bb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ab, bb)
}
