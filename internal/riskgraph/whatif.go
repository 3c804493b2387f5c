package riskgraph

import (
	"fmt"
	"math/big"
	"sort"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/risk"
)

// SlashImpact is what a slash would take if it happened now: "set S
// slashes operators X by wad". Nothing is changed; the ledger is only
// read.
//
// The slash follows EigenLayer's rule: in each strategy of the set, the
// operator loses ceil(allocated magnitude * wad / 1e18) of its magnitude,
// which scales every share delegated to it in that strategy by
// (max magnitude - slashed) / max magnitude: the operator's shares and
// each staker's withdrawable shares (withdrawals still in the escrow lose
// the same fraction; they are not listed). Figures are the proportional
// losses, rounded down, before the ledger's own rounding (which moves them
// by at most a few wei per staker).
type SlashImpact struct {
	Set       string          `json:"set"`
	Wad       string          `json:"wad"` // fraction of the allocation, 1e18 = all of it
	Operators []OperatorLoss  `json:"operators"`
	Stakers   []StakerLoss    `json:"stakers"` // largest loss first
	Services  []ServiceImpact `json:"services"`
	TotalUSD  string          `json:"total_usd"`
	// Note explains whom a slash does not touch.
	Note string `json:"note"`
}

// OperatorLoss is one slashed operator's loss.
type OperatorLoss struct {
	Operator   string      `json:"operator"`
	Slashable  bool        `json:"slashable"` // registered, or still in the window after deregistering
	Strategies []ShareLoss `json:"strategies"`
	USD        string      `json:"usd"`
	Stakers    int         `json:"stakers"`
}

// ShareLoss is a loss in one strategy.
type ShareLoss struct {
	Strategy string `json:"strategy"`
	Fraction string `json:"fraction"` // of every share delegated to the operator in it
	Shares   string `json:"shares"`
	Tokens   string `json:"tokens"`
	Token    string `json:"token"`
	USD      string `json:"usd"`
}

// StakerLoss is one staker's loss.
type StakerLoss struct {
	Staker   string `json:"staker"`
	Operator string `json:"operator"`
	USD      string `json:"usd"`
}

// ServiceImpact is how a service's security changes.
type ServiceImpact struct {
	Service string `json:"service"`
	Before  string `json:"stake_before"`
	After   string `json:"stake_after"`
}

// WhatIfSlash computes the impact of set slashing operators by wad (a
// WAD fraction, 0 < wad <= 1e18) of their allocations, valued with o's
// prices and haircuts. At most maxStakers stakers are listed (largest
// losses), all are counted.
func WhatIfSlash(l *ledger.Ledger, set ledger.OperatorSet, operators []ledger.Address, wad uint256.Int,
	o Options, maxStakers int) (*SlashImpact, error) {
	view, ok := l.Set(set)
	if !ok {
		return nil, fmt.Errorf("no operator set %s", SetID(set))
	}
	one := uint256.NewInt(1e18)
	if wad.IsZero() || wad.Gt(one) {
		return nil, fmt.Errorf("wad %s is outside (0, 1e18]", wad.Dec())
	}
	v := newValuer(l, o)
	out := &SlashImpact{Set: SetID(set), Wad: wad.Dec(), Operators: []OperatorLoss{}, Stakers: []StakerLoss{},
		Note: "Unique stake: a slash by this set does not reduce what the operators have allocated to other " +
			"sets, so no other service loses security."}
	total := new(big.Rat)
	securedBefore, securedLoss := new(big.Rat), new(big.Rat)
	for _, op := range operators {
		if _, isOp := l.Operator(op); !isOp {
			return nil, fmt.Errorf("%s is not an operator", op)
		}
	}
	// The set's secured stake before: every member's slashable stake.
	for _, m := range view.Members {
		for _, st := range view.Strategies {
			securedBefore.Add(securedBefore, v.sharesUSD(st, l.MinimumSlashableStake(set, m, st, l.Height())))
		}
	}
	type stakerAcc struct {
		usd *big.Rat
		op  ledger.Address
	}
	stakers := map[ledger.Address]*stakerAcc{}
	var stakerOrder []ledger.Address
	for _, op := range operators {
		ol := OperatorLoss{Operator: op.String(), Strategies: []ShareLoss{}}
		opUSD := new(big.Rat)
		delegators := l.Delegators(op)
		ol.Stakers = len(delegators)
		for _, st := range view.Strategies {
			slashable := l.MinimumSlashableStake(set, op, st, l.Height())
			if slashable.IsZero() {
				continue
			}
			ol.Slashable = true
			alloc := l.Allocation(op, set, st).Current
			maxMag := l.MaxMagnitude(op, st)
			if maxMag == 0 || alloc == 0 {
				continue
			}
			// Slashed magnitude, rounded up as EigenLayer does.
			var m, rem uint256.Int
			m.Mul(uint256.NewInt(alloc), &wad)
			m.DivMod(&m, one, &rem)
			if !rem.IsZero() {
				m.AddUint64(&m, 1)
			}
			frac := new(big.Rat).SetFrac(m.ToBig(), new(big.Int).SetUint64(maxMag))
			shares := l.OperatorShares(op, st)
			lostShares := ratTimes(shares, frac)
			token, _, _ := l.SharesToTokens(st, uint256.Int{})
			_, lostTokens, _ := l.SharesToTokens(st, lostShares)
			usd := v.usd(token, lostTokens)
			opUSD.Add(opUSD, usd)
			securedLoss.Add(securedLoss, v.sharesUSD(st, ratTimes(slashable, new(big.Rat).SetFrac(wad.ToBig(),
				one.ToBig()))))
			ol.Strategies = append(ol.Strategies, ShareLoss{Strategy: st, Fraction: risk.FormatNumber(frac),
				Shares: lostShares.Dec(), Tokens: lostTokens.Dec(), Token: token, USD: risk.FormatNumber(usd)})
			for _, s := range delegators {
				ws := l.WithdrawableShares(s, st)
				if ws.IsZero() {
					continue
				}
				_, tok, _ := l.SharesToTokens(st, ratTimes(ws, frac))
				acc := stakers[s]
				if acc == nil {
					acc = &stakerAcc{usd: new(big.Rat), op: op}
					stakers[s] = acc
					stakerOrder = append(stakerOrder, s)
				}
				acc.usd.Add(acc.usd, v.usd(token, tok))
			}
		}
		ol.USD = risk.FormatNumber(opUSD)
		total.Add(total, opUSD)
		out.Operators = append(out.Operators, ol)
	}
	sort.SliceStable(stakerOrder, func(i, j int) bool {
		if c := stakers[stakerOrder[i]].usd.Cmp(stakers[stakerOrder[j]].usd); c != 0 {
			return c > 0
		}
		return string(stakerOrder[i][:]) < string(stakerOrder[j][:])
	})
	for i, s := range stakerOrder {
		if maxStakers > 0 && i >= maxStakers {
			break
		}
		out.Stakers = append(out.Stakers, StakerLoss{Staker: s.String(), Operator: stakers[s].op.String(),
			USD: risk.FormatNumber(stakers[s].usd)})
	}
	after := new(big.Rat).Sub(securedBefore, securedLoss)
	if after.Sign() < 0 {
		after.SetInt64(0)
	}
	out.Services = []ServiceImpact{{Service: SetID(set), Before: risk.FormatNumber(securedBefore), After: risk.FormatNumber(after)}}
	out.TotalUSD = risk.FormatNumber(total)
	return out, nil
}

// ratTimes is x * r rounded down.
func ratTimes(x uint256.Int, r *big.Rat) uint256.Int {
	p := new(big.Int).Mul(x.ToBig(), r.Num())
	p.Quo(p, r.Denom())
	var out uint256.Int
	out.SetFromBig(p)
	return out
}
