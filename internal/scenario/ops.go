package scenario

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// action runs one decoded step against the runner and returns its result as
// a JSON-ready value, or the ledger's rejection.
type action func(r *runner) (any, error)

// builder decodes an op's fields into an action.
type builder func(f *fields, c *decodeCtx) action

// decodeCtx is what a builder may know about the file: the ops of earlier
// steps, to check withdrawal references.
type decodeCtx struct {
	index int
	ops   []string
}

// apply returns an action that sends op from sender and renders its result.
func apply(sender ledger.Address, op ledger.Op) action {
	return func(r *runner) (any, error) {
		res, err := r.ledger.Apply(sender, op)
		if err != nil {
			return nil, err
		}
		return render(res), nil
	}
}

func amountsJSON(v []uint256.Int) []string {
	out := make([]string, len(v))
	for i := range v {
		out[i] = v[i].Dec()
	}
	return out
}

// render turns an operation result into the JSON of scenario-format.md
// (the ledger's result types know their JSON form).
func render(res any) any {
	if res == nil {
		return map[string]any{}
	}
	b, err := json.Marshal(res)
	if err != nil {
		panic(fmt.Sprintf("scenario: rendering %T: %v", res, err))
	}
	var out map[string]any
	if err := decodeStrict(b, &out); err != nil {
		panic(fmt.Sprintf("scenario: rendering %T: %v", res, err))
	}
	return out
}

// withdrawalRef reads a withdrawal reference: "#S" or "#S.i" (an id returned
// by step S, which must be an earlier queue_withdrawal, undelegate or
// redelegate) or a literal 0x id.
func (f *fields) withdrawalRef(name string, c *decodeCtx) func(r *runner) (ledger.WithdrawalID, error) {
	s := f.str(name)
	if f.err != nil {
		return nil
	}
	if strings.HasPrefix(s, "0x") {
		id, err := ledger.ParseWithdrawalID(s)
		if err != nil {
			f.fail(name, "%v", err)
		}
		return func(*runner) (ledger.WithdrawalID, error) { return id, nil }
	}
	stepStr, idxStr, dotted := strings.Cut(strings.TrimPrefix(s, "#"), ".")
	stepN, err1 := strconv.Atoi(stepStr)
	idx, err2 := 0, error(nil)
	if dotted {
		idx, err2 = strconv.Atoi(idxStr)
	}
	if !strings.HasPrefix(s, "#") || err1 != nil || err2 != nil || stepN < 0 || idx < 0 {
		f.fail(name, "must be #S, #S.i or a 0x withdrawal id, got %q", s)
		return nil
	}
	if stepN >= c.index {
		f.fail(name, "%q refers to step %d, which is not an earlier step", s, stepN)
		return nil
	}
	switch c.ops[stepN] {
	case "queue_withdrawal", "undelegate", "redelegate":
	default:
		f.fail(name, "%q refers to step %d (%s), which queues no withdrawal", s, stepN, c.ops[stepN])
		return nil
	}
	return func(r *runner) (ledger.WithdrawalID, error) {
		ids := r.withdrawals[stepN]
		if idx >= len(ids) {
			return ledger.WithdrawalID{}, fmt.Errorf("%s: step %d returned %d withdrawal id(s)", s, stepN, len(ids))
		}
		return ids[idx], nil
	}
}

func (f *fields) set(avsField string) ledger.OperatorSet {
	return ledger.OperatorSet{AVS: f.actor(avsField), ID: uint32(f.uint("set", 1<<32-1))}
}

// builders maps every op of scenario-format.md (and restake's documented
// extensions) to its decoder.
var builders map[string]builder

func init() {
	builders = map[string]builder{
		"mint": func(f *fields, _ *decodeCtx) action {
			op := ledger.Mint{Account: f.actor("account"), Token: f.str("token"), Amount: f.amount("amount")}
			return apply(op.Account, op)
		},
		"add_strategy": func(f *fields, _ *decodeCtx) action {
			return apply(admin, ledger.AddStrategy{Strategy: f.str("strategy"), Token: f.str("token")})
		},
		"rebase": func(f *fields, _ *decodeCtx) action {
			return apply(admin, ledger.Rebase{Strategy: f.str("strategy"), Amount: f.amount("amount")})
		},
		"roll": func(f *fields, _ *decodeCtx) action {
			n := f.uint("blocks", 1<<40)
			return func(r *runner) (any, error) {
				r.advance(r.height + n)
				return map[string]any{"block": r.height}, nil
			}
		},
		"deposit": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("staker"), ledger.Deposit{Strategy: f.str("strategy"), Amount: f.amount("amount")})
		},
		"register_operator": func(f *fields, _ *decodeCtx) action {
			op := ledger.RegisterOperator{AllocationDelay: uint32(f.uint("allocation_delay", 1<<32-1)),
				Approver: f.optActor("approver", ledger.Address{})}
			op.Metadata, _ = f.optStr("metadata")
			return apply(f.actor("operator"), op)
		},
		"set_allocation_delay": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("operator"), ledger.SetAllocationDelay{Delay: uint32(f.uint("delay", 1<<32-1))})
		},
		"delegate": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("staker"), ledger.Delegate{Operator: f.actor("operator")})
		},
		"undelegate": func(f *fields, _ *decodeCtx) action {
			staker := f.actor("staker")
			return apply(f.optActor("caller", staker), ledger.Undelegate{Staker: staker})
		},
		"redelegate": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("staker"), ledger.Redelegate{Operator: f.actor("operator")})
		},
		"approve_delegation": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("approver"), ledger.ApproveDelegation{Operator: f.actor("operator"),
				Staker: f.actor("staker"), Expiry: f.uint("expiry_block", 1<<63)})
		},
		"queue_withdrawal": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("staker"), ledger.QueueWithdrawal{Strategies: f.strs("strategies"),
				DepositShares: f.amounts("deposit_shares")})
		},
		"complete_withdrawal": func(f *fields, c *decodeCtx) action {
			staker, ref, asTokens := f.actor("staker"), f.withdrawalRef("withdrawal", c), f.boolean("as_tokens")
			return func(r *runner) (any, error) {
				id, err := ref(r)
				if err != nil {
					return nil, err
				}
				return apply(staker, ledger.CompleteWithdrawal{Withdrawal: id, AsTokens: asTokens})(r)
			}
		},
		"beacon_balance_update": func(f *fields, _ *decodeCtx) action {
			staker := f.actor("staker")
			delta, neg := f.signed("delta_wei")
			return apply(staker, ledger.BeaconBalanceUpdate{Staker: staker,
				PrevRestakedWei: f.amount("prev_restaked_wei"), DeltaWei: delta, Decrease: neg})
		},
		"register_avs": func(f *fields, _ *decodeCtx) action {
			op := ledger.RegisterAVS{}
			op.Metadata, _ = f.optStr("metadata")
			return apply(f.actor("avs"), op)
		},
		"create_operator_set": func(f *fields, _ *decodeCtx) action {
			avs := f.actor("avs")
			op := ledger.CreateOperatorSet{ID: uint32(f.uint("set", 1<<32-1)), Strategies: f.strs("strategies"),
				Slasher: f.optActor("slasher", avs)}
			if f.has("redistribution_recipient") {
				op.Redistributing, op.Recipient = true, f.actor("redistribution_recipient")
			}
			return apply(avs, op)
		},
		"add_strategies": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("avs"), ledger.AddStrategies{Set: uint32(f.uint("set", 1<<32-1)),
				Strategies: f.strs("strategies")})
		},
		"remove_strategies": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("avs"), ledger.RemoveStrategies{Set: uint32(f.uint("set", 1<<32-1)),
				Strategies: f.strs("strategies")})
		},
		"update_slasher": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("avs"), ledger.UpdateSlasher{Set: uint32(f.uint("set", 1<<32-1)),
				Slasher: f.actor("slasher")})
		},
		"register_for_sets": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("operator"), ledger.RegisterForSets{AVS: f.actor("avs"), Sets: f.uints32("sets")})
		},
		"deregister_from_sets": func(f *fields, _ *decodeCtx) action {
			operator := f.actor("operator")
			return apply(f.optActor("caller", operator), ledger.DeregisterFromSets{Operator: operator,
				AVS: f.actor("avs"), Sets: f.uints32("sets")})
		},
		"modify_allocations": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("operator"), ledger.ModifyAllocations{Set: f.set("avs"),
				Strategies: f.strs("strategies"), Magnitudes: f.magnitudes("magnitudes")})
		},
		"clear_deallocation_queue": func(f *fields, _ *decodeCtx) action {
			operator := f.actor("operator")
			return apply(operator, ledger.ClearDeallocationQueue{Operator: operator,
				Strategy: f.str("strategy"), Count: uint32(f.uint("count", 1<<32-1))})
		},
		"slash": func(f *fields, _ *decodeCtx) action {
			op := ledger.Slash{Operator: f.actor("operator"), Set: f.set("avs"),
				Strategies: f.strs("strategies"), Wads: f.amounts("wads")}
			op.Description, _ = f.optStr("description")
			return apply(f.actor("caller"), op)
		},
		"submit_rewards": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("avs"), ledger.SubmitRewards{Token: f.str("token"), Amount: f.amount("amount"),
				Strategies: f.strs("strategies"), Multipliers: f.amounts("multipliers"),
				StartTime: f.uint("start_time", 1<<40), Duration: f.uint("duration", 1<<40)})
		},
		"set_operator_split": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("operator"), ledger.SetOperatorSplit{AVS: f.actor("avs"),
				Bips: uint32(f.uint("bips", 1<<32-1))})
		},
		"claim": func(f *fields, _ *decodeCtx) action {
			return apply(f.actor("earner"), ledger.ClaimRewards{Token: f.str("token")})
		},
		"set_price": func(f *fields, _ *decodeCtx) action {
			return apply(f.optActor("oracle", admin), ledger.SetPrice{Token: f.str("token"),
				PriceUSD: f.amount("price_usd"), Timestamp: f.uint("timestamp", 1<<40)})
		},
		"declare_service_risk": func(f *fields, _ *decodeCtx) action {
			set := f.set("avs")
			return apply(set.AVS, ledger.DeclareServiceRisk{Set: set.ID, ProfitUSD: f.amount("profit_usd"),
				ThresholdNum: f.uint("threshold_num", 1<<63), ThresholdDen: f.uint("threshold_den", 1<<63)})
		},
		"clear_slashed": func(f *fields, _ *decodeCtx) action {
			set := f.set("avs")
			return apply(set.AVS, ledger.ClearSlashed{Set: set, SlashID: f.uint("slash_id", 1<<63)})
		},
	}
	for name, b := range viewBuilders {
		builders[name] = b
	}
}

// admin is the sender of admin operations in scenarios (authorisation is
// open in scenario mode; a fixed sender keeps results reproducible).
var admin, _ = ActorAddress("admin")
