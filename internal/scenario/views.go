package scenario

import (
	"encoding/hex"
	"strconv"

	"github.com/restake/restake/internal/rewardtree"

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
	"view_claimable": func(f *fields, _ *decodeCtx) action {
		a, t := f.actor("earner"), f.str("token")
		return view(func(l *ledger.Ledger) any { v := l.Claimable(a, t); return v.Dec() })
	},
	"view_claimed": func(f *fields, _ *decodeCtx) action {
		a, t := f.actor("earner"), f.str("token")
		return view(func(l *ledger.Ledger) any { v := l.Claimed(a, t); return v.Dec() })
	},
	"view_rewards_root": func(f *fields, _ *decodeCtx) action {
		return func(r *runner) (any, error) {
			d, err := r.ledger.RewardsDistribution()
			if err != nil {
				return nil, err
			}
			root := d.Root()
			return map[string]any{"root": "0x" + hex.EncodeToString(root[:]), "earners": d.Earners()}, nil
		}
	},
	"view_claim_proof": func(f *fields, _ *decodeCtx) action {
		earner := f.actor("earner")
		return func(r *runner) (any, error) {
			d, err := r.ledger.RewardsDistribution()
			if err != nil {
				return nil, err
			}
			c, err := d.Claim(rewardtree.Address(earner))
			if err != nil {
				return map[string]any{"verified": false}, nil
			}
			return claimJSON(c), nil
		}
	},
	"view_price": func(f *fields, _ *decodeCtx) action {
		t := f.str("token")
		return view(func(l *ledger.Ledger) any {
			p, ok := l.PriceOf(t)
			if !ok {
				return map[string]any{}
			}
			return map[string]any{"price_usd": p.USD.Dec(), "timestamp": p.Timestamp}
		})
	},
	"view_service_risk": func(f *fields, _ *decodeCtx) action {
		set := f.set("avs")
		return view(func(l *ledger.Ledger) any {
			r := l.ServiceRiskOf(set)
			if !r.Declared {
				return map[string]any{}
			}
			return map[string]any{"profit_usd": r.ProfitUSD.Dec(), "threshold_num": r.ThresholdNum,
				"threshold_den": r.ThresholdDen}
		})
	},
	"view_balance": func(f *fields, _ *decodeCtx) action {
		a, t := f.actor("account"), f.str("token")
		return view(func(l *ledger.Ledger) any { v := l.Balance(a, t); return v.Dec() })
	},
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// claimJSON renders a claim with its proofs, and whether it verifies
// against its root (processClaim's checks).
func claimJSON(c rewardtree.Claim) map[string]any {
	hx := func(b []byte) string { return "0x" + hex.EncodeToString(b) }
	proofs := make([]string, len(c.TokenTreeProofs))
	leaves := make([]map[string]any, len(c.TokenLeaves))
	for i := range c.TokenLeaves {
		proofs[i] = hx(c.TokenTreeProofs[i])
		leaves[i] = map[string]any{"token": hx(c.TokenLeaves[i].Token[:]),
			"cumulative_earnings": c.TokenLeaves[i].CumulativeEarnings.Dec()}
	}
	return map[string]any{
		"root": hx(c.Root[:]), "earner_index": c.EarnerIndex, "earner_tree_proof": hx(c.EarnerTreeProof),
		"earner": hx(c.EarnerLeaf.Earner[:]), "earner_token_root": hx(c.EarnerLeaf.EarnerTokenRoot[:]),
		"token_indices": c.TokenIndices, "token_tree_proofs": proofs, "token_leaves": leaves,
		"verified": rewardtree.VerifyClaim(c) == nil,
	}
}
