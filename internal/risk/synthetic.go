package risk

import (
	"fmt"
	"math/big"
	"math/bits"
)

// splitmix is SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast,
// seedable generator whose whole state is one word. The package is pure,
// so its randomness is its own and replays exactly from a seed; it is not
// cryptographic and need not be.
type splitmix struct{ s uint64 }

// splitmixGamma is SplitMix64's increment, the odd integer nearest
// 2^64 / phi.
const splitmixGamma = 0x9e3779b97f4a7c15

func (r *splitmix) next() uint64 {
	r.s += splitmixGamma
	return mix64(r.s)
}

// below returns a draw in [0, n) for n > 0 by Lemire's multiply-shift: the
// high word of a 64-bit draw times n (bias below n / 2^64, irrelevant to
// a synthetic graph).
func (r *splitmix) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// mix64 is SplitMix64's output function: a bijection of 64-bit words that
// spreads every input bit over the output.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Bounds of a synthetic graph, in whole USD.
const (
	syntheticStakeMin = 10_000        // the smallest operators
	syntheticStakeMax = 1_000_000_000 // the largest
	syntheticTopBase  = 500_000_000   // stake of rank 1 before noise
	syntheticMaxAlloc = 8             // services one validator secures, at most
	syntheticWeakOdds = 32            // one service in this many is underpriced
)

// Synthetic returns a deterministic, mainnet-like restaking graph of the
// given size, for benchmarks and what-if studies without a node: the same
// seed always gives the same graph.
//
// Its shape follows what public restaking data show. Stakes are
// heavy-tailed: the validator of stake rank k holds about
// 5*10^8 / k^(5/4) USD, times a noise factor in [1/2, 2), clamped to
// [10^4, 10^9], so on 2,000 validators the top ten hold about half to
// two thirds of the stake; ranks are shuffled over ids. Services are Zipf-popular (a few
// are secured by most operators, a long tail by few). Each validator
// allocates 10-100% of its stake to 1-8 distinct services, the more the
// larger it is, and every service gets at least one validator. Thresholds
// are 1/3, 1/2 or 2/3. Profits from corruption are 15-90% of alpha_s *
// W_s (so 5-60% of the stake securing the service, and below what
// corrupting it alone costs), except for about one service in 32 whose
// profit is 110-200% of alpha_s * W_s: most services are secure alone,
// a few are not. Every amount is a whole number of USD and the graph
// passes ParseGraph's rules. Ids are "op0001"... and "svc001"....
//
// Synthetic panics unless validators >= 1 and services >= 1: a graph
// needs validators, and each of them allocates to some service.
func Synthetic(seed uint64, validators, services int) *Graph {
	if validators < 1 || services < 1 {
		panic(fmt.Sprintf("risk.Synthetic: need at least one validator and one service, got %d and %d",
			validators, services))
	}
	r := &splitmix{s: seed}
	g := &Graph{Unit: "USD", Services: make([]Service, services),
		Validators: make([]Validator, validators)}
	stakes := syntheticStakes(r, validators)
	chooser := newPopularity(r, services)
	for v := range g.Validators {
		g.Validators[v] = Validator{ID: fmt.Sprintf("op%04d", v+1),
			Stake: new(big.Rat).SetInt64(int64(stakes[v])), Alloc: map[int]*big.Rat{}}
		n := min(uint64(services), 1+r.below(4)+stakeBonus(stakes[v]), syntheticMaxAlloc)
		for range n {
			s := chooser.pick(r, g.Validators[v].Alloc)
			g.Validators[v].Alloc[s] = syntheticAmount(r, stakes[v])
		}
	}
	secured := make([]bool, services)
	for _, val := range g.Validators {
		for s := range val.Alloc {
			secured[s] = true
		}
	}
	for s := range services {
		if !secured[s] {
			v := syntheticHost(r, g.Validators)
			g.Validators[v].Alloc[s] = syntheticAmount(r, stakes[v])
		}
	}
	syntheticServices(r, g)
	return g
}

// syntheticStakes draws n heavy-tailed stakes in whole USD: rank k gets
// syntheticTopBase / k^(5/4) times a factor in [1/2, 2), and the ranks
// are dealt to validators in a shuffled order.
func syntheticStakes(r *splitmix, n int) []uint64 {
	rank := make([]int, n)
	for i := range rank {
		rank[i] = i
	}
	for i := n - 1; i > 0; i-- { // Fisher-Yates
		j := int(r.below(uint64(i + 1)))
		rank[i], rank[j] = rank[j], rank[i]
	}
	stakes := make([]uint64, n)
	root, k5 := new(big.Int), new(big.Int)
	for v := range n {
		// k^(5/4) * 2^16 = fourth root of k^5 * 2^64, in integers.
		k := big.NewInt(int64(rank[v] + 1))
		k5.Exp(k, big.NewInt(5), nil).Lsh(k5, 64)
		root.Sqrt(k5).Sqrt(root)
		base := new(big.Int).Lsh(big.NewInt(syntheticTopBase), 16)
		base.Quo(base, root)
		noise := 512 + r.below(1536) // [512, 2048) / 1024 = [1/2, 2)
		stake := base.Mul(base, new(big.Int).SetUint64(noise)).Rsh(base, 10).Uint64()
		stakes[v] = min(max(stake, syntheticStakeMin), syntheticStakeMax)
	}
	return stakes
}

// stakeBonus is how many more services a validator secures for its size:
// one per decade of stake above 10^5 USD.
func stakeBonus(stake uint64) uint64 {
	bonus := uint64(0)
	for t := uint64(100_000); t <= stake && bonus < 4; t *= 10 {
		bonus++
	}
	return bonus
}

// syntheticAmount is one allocation: 10-100% of the stake, whole USD.
func syntheticAmount(r *splitmix, stake uint64) *big.Rat {
	pct := 10 + r.below(91)
	return new(big.Rat).SetInt64(int64(max(1, stake/100*pct)))
}

// popularity draws services with Zipf weights: the service of popularity
// rank j (shuffled over ids) is chosen with weight proportional to 1/j.
type popularity struct {
	cum []uint64 // cumulative weights, by service position
}

func newPopularity(r *splitmix, n int) *popularity {
	rank := make([]uint64, n)
	for i := range rank {
		rank[i] = uint64(i + 1)
	}
	for i := n - 1; i > 0; i-- {
		j := int(r.below(uint64(i + 1)))
		rank[i], rank[j] = rank[j], rank[i]
	}
	p := &popularity{cum: make([]uint64, n)}
	sum := uint64(0)
	for s := range n {
		sum += (1 << 32) / rank[s]
		p.cum[s] = sum
	}
	return p
}

// pick draws a service not in taken (which must leave one free). After a
// few collisions it falls back to the first free service in order, so
// that it ends whatever the weights.
func (p *popularity) pick(r *splitmix, taken map[int]*big.Rat) int {
	for range 32 {
		x := r.below(p.cum[len(p.cum)-1])
		lo, hi := 0, len(p.cum)-1
		for lo < hi { // first s with cum[s] > x
			mid := (lo + hi) / 2
			if p.cum[mid] > x {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		if _, ok := taken[lo]; !ok {
			return lo
		}
	}
	for s := range p.cum {
		if _, ok := taken[s]; !ok {
			return s
		}
	}
	panic("risk.Synthetic: no free service to pick") // the caller caps the count
}

// syntheticHost picks a validator to secure a service nobody chose:
// preferably one under the 8-service limit.
func syntheticHost(r *splitmix, vals []Validator) int {
	for range 16 {
		v := int(r.below(uint64(len(vals))))
		if len(vals[v].Alloc) < syntheticMaxAlloc {
			return v
		}
	}
	for v := range vals {
		if len(vals[v].Alloc) < syntheticMaxAlloc {
			return v
		}
	}
	return int(r.below(uint64(len(vals)))) // every validator is full: exceed the limit
}

// syntheticServices sets each service's id, threshold and profit from the
// stake W_s that secures it.
func syntheticServices(r *splitmix, g *Graph) {
	thresholds := [3][2]int64{{1, 3}, {1, 2}, {2, 3}}
	W := make([]*big.Int, len(g.Services))
	for s := range W {
		W[s] = new(big.Int)
	}
	for _, val := range g.Validators {
		for s, a := range val.Alloc {
			W[s].Add(W[s], a.Num()) // whole USD: the numerator is the amount
		}
	}
	for s := range g.Services {
		th := thresholds[r.below(3)]
		pct := 15 + r.below(76) // 15-90% of alpha * W
		if r.below(syntheticWeakOdds) == 0 {
			pct = 110 + r.below(91) // 110-200%: profitable to corrupt alone
		}
		num := new(big.Int).Mul(W[s], big.NewInt(th[0]*int64(pct)))
		profit := num.Quo(num, big.NewInt(th[1]*100))
		if profit.Sign() == 0 {
			profit.SetInt64(1)
		}
		g.Services[s] = Service{ID: fmt.Sprintf("svc%03d", s+1),
			Profit: new(big.Rat).SetInt(profit), Threshold: big.NewRat(th[0], th[1])}
	}
}
