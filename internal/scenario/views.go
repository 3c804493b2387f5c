package scenario

import (
	"strconv"

	"github.com/restake/restake/internal/ledger"
)

// view returns an action that reads the ledger.
func view(read func(l *ledger.Ledger) any) action {
	return func(r *runner) (any, error) { return read(r.ledger), nil }
}

var viewBuilders = map[string]builder{
	"view_deposit_shares": func(f *fields, _ *decodeCtx) action {
		staker, s := f.actor("staker"), f.str("strategy")
		return view(func(l *ledger.Ledger) any { v := l.DepositShares(staker, s); return v.Dec() })
	},
	"view_withdrawable_shares": func(f *fields, _ *decodeCtx) action {
		staker, s := f.actor("staker"), f.str("strategy")
		return view(func(l *ledger.Ledger) any { v := l.WithdrawableShares(staker, s); return v.Dec() })
	},
	"view_deposit_scaling_factor": func(f *fields, _ *decodeCtx) action {
		staker, s := f.actor("staker"), f.str("strategy")
		return view(func(l *ledger.Ledger) any { v := l.DepositScalingFactor(staker, s); return v.Dec() })
	},
	"view_operator_shares": func(f *fields, _ *decodeCtx) action {
		op, s := f.actor("operator"), f.str("strategy")
		return view(func(l *ledger.Ledger) any { v := l.OperatorShares(op, s); return v.Dec() })
	},
	"view_max_magnitude": func(f *fields, _ *decodeCtx) action {
		op, s := f.actor("operator"), f.str("strategy")
		return view(func(l *ledger.Ledger) any { return u64(l.MaxMagnitude(op, s)) })
	},
	"view_encumbered_magnitude": func(f *fields, _ *decodeCtx) action {
		op, s := f.actor("operator"), f.str("strategy")
		return view(func(l *ledger.Ledger) any { return u64(l.EncumberedMagnitude(op, s)) })
	},
	"view_allocatable_magnitude": func(f *fields, _ *decodeCtx) action {
		op, s := f.actor("operator"), f.str("strategy")
		return view(func(l *ledger.Ledger) any { return u64(l.AllocatableMagnitude(op, s)) })
	},
	"view_allocation": func(f *fields, _ *decodeCtx) action {
		op, set, s := f.actor("operator"), f.set("avs"), f.str("strategy")
		return view(func(l *ledger.Ledger) any {
			a := l.Allocation(op, set, s)
			return map[string]any{"current": u64(a.Current), "pending_diff": bigString(a.PendingDiff),
				"effect_block": a.EffectBlock}
		})
	},
	"view_slashable_shares_in_queue": func(f *fields, _ *decodeCtx) action {
		op, s := f.actor("operator"), f.str("strategy")
		return view(func(l *ledger.Ledger) any { v := l.SlashableSharesInQueue(op, s); return v.Dec() })
	},
	"view_minimum_slashable_stake": func(f *fields, _ *decodeCtx) action {
		set, op, s := f.set("avs"), f.actor("operator"), f.str("strategy")
		hasFuture := f.has("future_block")
		future := f.optUint("future_block", 1<<63, 0)
		return view(func(l *ledger.Ledger) any {
			at := l.Height()
			if hasFuture {
				at = future
			}
			v := l.MinimumSlashableStake(set, op, s, at)
			return v.Dec()
		})
	},
	"view_queued_withdrawal": func(f *fields, c *decodeCtx) action {
		ref := f.withdrawalRef("withdrawal", c)
		return func(r *runner) (any, error) {
			id, err := ref(r)
			if err != nil {
				return nil, err
			}
			w := r.ledger.QueuedWithdrawal(id)
			return map[string]any{"strategies": w.Strategies, "shares": amountsJSON(w.Shares)}, nil
		}
	},
	"view_beacon_slashing_factor": func(f *fields, _ *decodeCtx) action {
		staker := f.actor("staker")
		return view(func(l *ledger.Ledger) any { return u64(l.BeaconSlashingFactor(staker)) })
	},
	"view_balance": func(f *fields, _ *decodeCtx) action {
		a, t := f.actor("account"), f.str("token")
		return view(func(l *ledger.Ledger) any { v := l.Balance(a, t); return v.Dec() })
	},
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }
