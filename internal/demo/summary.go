package demo

import (
	"fmt"
	"slices"
	"strings"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// Summary describes a generated network at genesis, for the demo's
// printout. Amounts count one LST/LP token as one ETH, as the strategies
// hold them one share per token at genesis.
type Summary struct {
	Stakers, Operators, Services int
	OperatorSets                 int // of which Redistributing redistribute slashed funds
	Redistributing               int
	Registrations                int // (operator, set) pairs, each with an allocation
	Validators                   uint64
	QueuedWithdrawals            int // queued at genesis
	RewardSubmissions            int // submitted at genesis
	RewardTokens                 []string
	TotalWei                     uint256.Int
	Assets                       []AssetSummary
	// TopOperators are the ten operators with the most delegated stake.
	TopOperators []OperatorShare
	// Top10Bips is the share of the delegated stake the ten largest
	// operators hold, in basis points.
	Top10Bips uint64
}

// AssetSummary is the amount restaked in one strategy.
type AssetSummary struct {
	Strategy string
	Wei      uint256.Int
	Holders  int
	Bips     uint64 // of the total
}

// OperatorShare is one operator's delegated stake.
type OperatorShare struct {
	Index   int // Key("operator", Index)
	Address ledger.Address
	Wei     uint256.Int
	Bips    uint64 // of all delegated stake
}

// Summary returns the network's figures at genesis.
func (n *Network) Summary() Summary {
	s := Summary{Stakers: n.opts.Stakers, Operators: n.opts.Operators, Services: n.opts.Services,
		OperatorSets: len(n.sets), Registrations: len(n.allocs), Validators: n.validators,
		QueuedWithdrawals: len(n.withdrawals), RewardSubmissions: len(n.rewards),
		RewardTokens: append([]string(nil), n.rewardTokens...)}
	for _, p := range n.sets {
		if p.redistributing {
			s.Redistributing++
		}
	}
	var holders [assetCount]int
	for _, h := range n.holdings {
		holders[h.asset]++
	}
	for a := range assetCount {
		s.TotalWei.Add(&s.TotalWei, &n.assetTotals[a])
	}
	for a := range assetCount {
		s.Assets = append(s.Assets, AssetSummary{Strategy: assetNames[a], Wei: n.assetTotals[a],
			Holders: holders[a], Bips: bipsOf(n.assetTotals[a], s.TotalWei)})
	}
	var delegated uint256.Int
	order := make([]int, len(n.opDelegated))
	for o := range order {
		order[o] = o
		delegated.Add(&delegated, &n.opDelegated[o])
	}
	slices.SortStableFunc(order, func(a, b int) int { return n.opDelegated[b].Cmp(&n.opDelegated[a]) })
	var top uint256.Int
	for _, o := range order[:min(10, len(order))] {
		top.Add(&top, &n.opDelegated[o])
		s.TopOperators = append(s.TopOperators, OperatorShare{Index: o, Address: n.operators[o],
			Wei: n.opDelegated[o], Bips: bipsOf(n.opDelegated[o], delegated)})
	}
	s.Top10Bips = bipsOf(top, delegated)
	return s
}

// bipsOf returns part/whole in basis points (0 when whole is zero).
func bipsOf(part, whole uint256.Int) uint64 {
	if whole.IsZero() {
		return 0
	}
	v := mulU(part, 10_000)
	return v.Div(&v, &whole).Uint64()
}

// String is the one-line summary the demo prints.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s stakers, %s operators, %d services (%d operator sets), %s ETH restaked (",
		commas(uint64(s.Stakers)), commas(uint64(s.Operators)), s.Services, s.OperatorSets,
		weiToETH(s.TotalWei))
	for i, a := range s.Assets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", a.Strategy, pct(a.Bips))
	}
	b.WriteString("); ")
	if len(s.TopOperators) > 0 {
		fmt.Fprintf(&b, "the largest operator holds %s, ", pct(s.TopOperators[0].Bips))
	}
	fmt.Fprintf(&b, "the top 10 %s", pct(s.Top10Bips))
	return b.String()
}

// Details is a multi-line account of the network: the String line, then
// the ETH per asset and the largest operators.
func (s Summary) Details() string {
	var b strings.Builder
	b.WriteString(s.String())
	fmt.Fprintf(&b, "\n  %s validators, %d registrations with allocations, %d redistributing sets, "+
		"%d withdrawals queued, %d reward submissions in %s",
		commas(s.Validators), s.Registrations, s.Redistributing, s.QueuedWithdrawals, s.RewardSubmissions,
		strings.Join(s.RewardTokens, ", "))
	for _, a := range s.Assets {
		fmt.Fprintf(&b, "\n  %-10s %14s ETH  %6s  %s holders", a.Strategy, weiToETH(a.Wei), pct(a.Bips),
			commas(uint64(a.Holders)))
	}
	for i, o := range s.TopOperators {
		fmt.Fprintf(&b, "\n  #%-2d operator %-5d %s %14s ETH  %6s", i+1, o.Index, o.Address,
			weiToETH(o.Wei), pct(o.Bips))
	}
	return b.String()
}

// weiToETH formats whole ETH (rounded down) with thousands separators.
func weiToETH(v uint256.Int) string {
	var e uint256.Int
	e.Div(&v, uint256.NewInt(wad))
	if !e.IsUint64() {
		return e.Dec()
	}
	return commas(e.Uint64())
}

func commas(v uint64) string {
	s := fmt.Sprint(v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func pct(bips uint64) string { return fmt.Sprintf("%d.%d%%", bips/100, bips%100/10) }
