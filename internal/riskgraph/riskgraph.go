// Package riskgraph reads the restaking graph of a ledger's committed
// state for the risk engine, and the exposure figures that need the
// ledger itself: leverage, how many times the same ether is pledged across
// layers, concentration of operators, services and assets, and which
// prices are missing or stale.
//
// Operators are the validators and each operator set whose AVS declared
// its risk (declare_service_risk) is a service. A validator's stake is
// what is delegated to it (its operator shares in every strategy); its
// allocation to a service is its slashable stake there
// (getMinimumSlashableStake now, summed over the set's strategies). Both
// are valued in USD with the oracle prices, less a per-token haircut for
// assets that can lose their peg or liquidity. Like the ledger, the
// package is pure: the caller passes the state and the options.
package riskgraph

import (
	"fmt"
	"math/big"
	"slices"
	"sort"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/risk"
)

// Options say how to value stake.
type Options struct {
	// Haircuts maps a token to the fraction of its value the risk engine
	// does not count (0 to 1); tokens not listed take DefaultHaircut.
	Haircuts map[string]*big.Rat
	// DefaultHaircut applies to tokens without their own (nil: 0).
	DefaultHaircut *big.Rat
	// StaleAfter is how old (seconds before the ledger's time) a price may
	// be before it is reported stale; 0 never reports one.
	StaleAfter uint64
	// LSTs are the tokens that are staked ether (their ether is already
	// pledged once to the beacon chain); nil: DefaultLSTs.
	LSTs []string
}

// DefaultLSTs are the liquid staking tokens the layers count as staked ether.
var DefaultLSTs = []string{"stETH", "wstETH", "rETH", "cbETH", "sfrxETH", "ETHx", "osETH", "mETH", "swETH", "ankrETH"}

// DefaultHaircuts are conservative per-asset discounts: none for ether,
// 2% for liquid staking tokens (their depegs have reached a few percent),
// 10% for LP tokens (impermanent loss and pool liquidity).
func DefaultHaircuts() map[string]*big.Rat {
	h := map[string]*big.Rat{ledger.NativeToken: new(big.Rat)}
	for _, t := range DefaultLSTs {
		h[t] = big.NewRat(2, 100)
	}
	return h
}

// Network is the graph and the exposure figures of one committed state.
type Network struct {
	Height uint64
	Time   uint64
	Graph  *risk.Graph
	// Operators, one per validator of Graph (same order), and the
	// operators left out for having no stake.
	Operators []Operator
	// Undeclared are operator sets with stake whose AVS declared no risk:
	// the engine cannot price them (they are not in Graph).
	Undeclared []SetStake
	// Assets is every restaked token with its value and price status.
	Assets []Asset
	// Leverage is allocated stake over unique stake, network-wide.
	Leverage *big.Rat
	// Layers counts how many times the same ether is pledged.
	Layers Layers
	// Concentration of operators by stake, services by secured stake,
	// assets by restaked value.
	OperatorConcentration risk.Concentration
	ServiceConcentration  risk.Concentration
	AssetConcentration    risk.Concentration
}

// Operator is one operator's exposure.
type Operator struct {
	Address   ledger.Address
	StakeUSD  *big.Rat // delegated, after haircuts
	Allocated *big.Rat // slashable for declared services, after haircuts
	Leverage  *big.Rat // Allocated / StakeUSD: the restaking degree
	Services  int      // declared services it is slashable for
	// ByToken is StakeUSD split by the token the stake is held in.
	ByToken map[string]*big.Rat
}

// AssetShares returns, per validator of Graph (by position), the share of
// its stake held in token: the staker group "holders of token" for the
// Monte Carlo.
func (n *Network) AssetShares(token string) map[int]*big.Rat {
	out := map[int]*big.Rat{}
	for i, op := range n.Operators {
		if x := op.ByToken[token]; x != nil && x.Sign() > 0 {
			// Rounded down to 1e-12: a share with the stake's own
			// denominator would make the Monte Carlo's integers huge.
			share := new(big.Rat).Quo(x, op.StakeUSD)
			q := new(big.Int).Mul(share.Num(), big.NewInt(1_000_000_000_000))
			q.Quo(q, share.Denom())
			out[i] = new(big.Rat).SetFrac(q, big.NewInt(1_000_000_000_000))
		}
	}
	return out
}

// SetStake is an operator set and the stake securing it.
type SetStake struct {
	ID       string
	StakeUSD *big.Rat
}

// Asset is one restaked token.
type Asset struct {
	Token     string
	Amount    uint256.Int // token units restaked (delegated or not)
	PriceUSD  *big.Rat    // nil when no price was ever reported
	Haircut   *big.Rat
	ValueUSD  *big.Rat // after the haircut; 0 without a price
	Stale     bool     // the price is older than StaleAfter
	PriceTime uint64
}

// Layers is the cross-layer pledge count: the value pledged at each layer
// over the value restaked. An ether staked on the beacon chain, restaked,
// then allocated to a service is pledged three times.
type Layers struct {
	Beacon     *big.Rat // native ETH and liquid staking tokens: staked on the beacon chain
	Restaked   *big.Rat // everything deposited into strategies
	Allocated  *big.Rat // slashable for some operator set
	LRT        *big.Rat // held through liquid restaking tokens (none until they exist)
	Multiplier *big.Rat // (Beacon + Restaked + Allocated + LRT) / Restaked
}

// SetID names an operator set in the graph: "0x<avs>:<id>".
func SetID(s ledger.OperatorSet) string { return fmt.Sprintf("%s:%d", s.AVS, s.ID) }

var wadRat = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil))

// valuer turns token amounts into USD after haircuts.
type valuer struct {
	l       *ledger.Ledger
	o       Options
	price   map[string]*big.Rat // per token unit (1e-18 of a token), USD
	haircut map[string]*big.Rat
}

func newValuer(l *ledger.Ledger, o Options) *valuer {
	v := &valuer{l: l, o: o, price: map[string]*big.Rat{}, haircut: map[string]*big.Rat{}}
	tokens, prices := l.Prices()
	for i, t := range tokens {
		// USD per token = price/1e18; per base unit (1e-18 token): /1e36.
		p := new(big.Rat).SetInt(prices[i].USD.ToBig())
		p.Quo(p, wadRat)
		p.Quo(p, wadRat)
		v.price[t] = p
	}
	return v
}

func (v *valuer) haircutOf(token string) *big.Rat {
	if h, ok := v.haircut[token]; ok {
		return h
	}
	h := v.o.DefaultHaircut
	if x, ok := v.o.Haircuts[token]; ok {
		h = x
	}
	if h == nil {
		h = new(big.Rat)
	}
	v.haircut[token] = h
	return h
}

// usd values amount units of token, after its haircut (0 without a price).
func (v *valuer) usd(token string, amount uint256.Int) *big.Rat {
	p, ok := v.price[token]
	if !ok || amount.IsZero() {
		return new(big.Rat)
	}
	x := new(big.Rat).SetInt(amount.ToBig())
	x.Mul(x, p)
	keep := new(big.Rat).Sub(big.NewRat(1, 1), v.haircutOf(token))
	return micro(x.Mul(x, keep))
}

// micro rounds a USD value down to a millionth of a dollar. Finer is
// noise, and one common denominator keeps the engine's integers small.
func micro(x *big.Rat) *big.Rat {
	q := new(big.Int).Mul(x.Num(), big.NewInt(1_000_000))
	q.Quo(q, x.Denom())
	return new(big.Rat).SetFrac(q, big.NewInt(1_000_000))
}

// sharesUSD values shares of a strategy.
func (v *valuer) sharesUSD(strategy string, shares uint256.Int) *big.Rat {
	token, amount, ok := v.l.SharesToTokens(strategy, shares)
	if !ok {
		return new(big.Rat)
	}
	return v.usd(token, amount)
}

// Build reads the network of l's committed state.
func Build(l *ledger.Ledger, o Options) (*Network, error) {
	for t, h := range o.Haircuts {
		if h.Sign() < 0 || h.Cmp(big.NewRat(1, 1)) > 0 {
			return nil, fmt.Errorf("haircut of %s is %s, outside [0, 1]", t, h.RatString())
		}
	}
	if d := o.DefaultHaircut; d != nil && (d.Sign() < 0 || d.Cmp(big.NewRat(1, 1)) > 0) {
		return nil, fmt.Errorf("default haircut %s is outside [0, 1]", d.RatString())
	}
	v := newValuer(l, o)
	n := &Network{Height: l.Height(), Time: l.Time(), Graph: &risk.Graph{Unit: "USD"}}

	// Services: every declared set, in (AVS, id) order.
	type svc struct {
		key   ledger.OperatorSet
		strat []string
	}
	var services []svc
	svcIndex := map[ledger.OperatorSet]int{}
	setStrategies := map[ledger.OperatorSet][]string{} // read once: a set view sorts its members
	undeclared := map[ledger.OperatorSet]*big.Rat{}
	var undeclaredOrder []ledger.OperatorSet
	for _, avs := range l.AVSAddresses() {
		for _, id := range l.OperatorSets(avs) {
			key := ledger.OperatorSet{AVS: avs, ID: id}
			set, _ := l.Set(key)
			setStrategies[key] = set.Strategies
			r := l.ServiceRiskOf(key)
			if !r.Declared {
				undeclared[key] = new(big.Rat)
				undeclaredOrder = append(undeclaredOrder, key)
				continue
			}
			profit := micro(new(big.Rat).Quo(new(big.Rat).SetInt(r.ProfitUSD.ToBig()), wadRat))
			if profit.Sign() == 0 {
				profit = big.NewRat(1, 1_000_000) // a declared profit below a micro-dollar still counts
			}
			svcIndex[key] = len(services)
			services = append(services, svc{key, set.Strategies})
			n.Graph.Services = append(n.Graph.Services, risk.Service{ID: SetID(key), Profit: profit,
				Threshold: big.NewRat(int64(r.ThresholdNum), int64(r.ThresholdDen))})
		}
	}
	// ThresholdNum/Den are uint64; NewRat takes int64. Rebuild exactly
	// when they do not fit.
	for i, s := range services {
		r := l.ServiceRiskOf(s.key)
		n.Graph.Services[i].Threshold = new(big.Rat).SetFrac(new(big.Int).SetUint64(r.ThresholdNum),
			new(big.Int).SetUint64(r.ThresholdDen))
	}

	// Validators: every operator with stake.
	secured := make([]*big.Rat, len(services))
	for i := range secured {
		secured[i] = new(big.Rat)
	}
	totalStake, totalAlloc := new(big.Rat), new(big.Rat)
	for _, addr := range l.OperatorAddresses() {
		view, _ := l.Operator(addr)
		stake := new(big.Rat)
		byToken := map[string]*big.Rat{}
		for _, s := range view.Strategies {
			x := v.sharesUSD(s.Strategy, l.OperatorShares(addr, s.Strategy))
			stake.Add(stake, x)
			if token, _, ok := l.SharesToTokens(s.Strategy, uint256.Int{}); ok && x.Sign() > 0 {
				if byToken[token] == nil {
					byToken[token] = new(big.Rat)
				}
				byToken[token].Add(byToken[token], x)
			}
		}
		if stake.Sign() == 0 {
			continue
		}
		val := risk.Validator{ID: addr.String(), Stake: stake, Alloc: map[int]*big.Rat{}}
		op := Operator{Address: addr, StakeUSD: stake, Allocated: new(big.Rat), ByToken: byToken}
		for _, reg := range view.Registrations {
			key := ledger.OperatorSet{AVS: reg.AVS, ID: reg.Set}
			alloc := new(big.Rat)
			for _, st := range setStrategies[key] {
				sh := l.MinimumSlashableStake(key, addr, st, l.Height())
				alloc.Add(alloc, v.sharesUSD(st, sh))
			}
			if alloc.Sign() == 0 {
				continue
			}
			if alloc.Cmp(stake) > 0 {
				alloc.Set(stake) // rounding of two valuations; the slashable part never exceeds the whole
			}
			if i, ok := svcIndex[key]; ok {
				val.Alloc[i] = alloc
				secured[i].Add(secured[i], alloc)
				op.Allocated.Add(op.Allocated, alloc)
				op.Services++
			} else if u, ok := undeclared[key]; ok {
				u.Add(u, alloc)
			}
		}
		op.Leverage = new(big.Rat).Quo(op.Allocated, stake)
		totalStake.Add(totalStake, stake)
		totalAlloc.Add(totalAlloc, op.Allocated)
		n.Graph.Validators = append(n.Graph.Validators, val)
		n.Operators = append(n.Operators, op)
	}
	n.Leverage = new(big.Rat)
	if totalStake.Sign() > 0 {
		n.Leverage.Quo(totalAlloc, totalStake)
	}
	for _, key := range undeclaredOrder {
		if undeclared[key].Sign() > 0 {
			n.Undeclared = append(n.Undeclared, SetStake{ID: SetID(key), StakeUSD: undeclared[key]})
		}
	}

	// Assets and layers.
	lsts := o.LSTs
	if lsts == nil {
		lsts = DefaultLSTs
	}
	restaked := map[string]*uint256.Int{}
	for _, s := range l.Strategies() {
		token, amount, ok := l.SharesToTokens(s.Name, uint256.Int(s.TotalShares))
		if !ok {
			continue
		}
		if s.Native {
			amount = l.NativeRestakedWei() // what the pods' validators hold
		}
		if restaked[token] == nil {
			restaked[token] = new(uint256.Int)
		}
		restaked[token].Add(restaked[token], &amount)
	}
	tokens := make([]string, 0, len(restaked))
	for t := range restaked {
		tokens = append(tokens, t)
	}
	sort.Strings(tokens)
	n.Layers = Layers{Beacon: new(big.Rat), Restaked: new(big.Rat), Allocated: new(big.Rat).Set(totalAlloc),
		LRT: new(big.Rat), Multiplier: new(big.Rat)}
	var assetValues []*big.Rat
	for _, t := range tokens {
		a := Asset{Token: t, Amount: *restaked[t], Haircut: v.haircutOf(t)}
		if p, ok := l.PriceOf(t); ok {
			a.PriceUSD = new(big.Rat).SetFrac(p.USD.ToBig(), wadRat.Num())
			a.PriceTime = p.Timestamp
			a.Stale = o.StaleAfter > 0 && l.Time() > p.Timestamp+o.StaleAfter
		}
		a.ValueUSD = v.usd(t, a.Amount)
		n.Assets = append(n.Assets, a)
		assetValues = append(assetValues, a.ValueUSD)
		n.Layers.Restaked.Add(n.Layers.Restaked, a.ValueUSD)
		if t == ledger.NativeToken || slices.Contains(lsts, t) {
			n.Layers.Beacon.Add(n.Layers.Beacon, a.ValueUSD)
		}
	}
	if n.Layers.Restaked.Sign() > 0 {
		sum := new(big.Rat).Add(n.Layers.Beacon, n.Layers.Restaked)
		sum.Add(sum, n.Layers.Allocated)
		sum.Add(sum, n.Layers.LRT)
		n.Layers.Multiplier.Quo(sum, n.Layers.Restaked)
	}

	opStakes := make([]*big.Rat, len(n.Operators))
	for i, op := range n.Operators {
		opStakes[i] = op.StakeUSD
	}
	n.OperatorConcentration = risk.Concentrate(opStakes)
	n.ServiceConcentration = risk.Concentrate(secured)
	n.AssetConcentration = risk.Concentrate(assetValues)
	return n, nil
}
