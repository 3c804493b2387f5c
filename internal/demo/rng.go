package demo

import (
	"math/bits"
	"math/rand/v2"
)

// rng draws the network's random choices. It uses only the raw 64-bit
// output of math/rand/v2's PCG source and does its own bounded draws
// (Lemire's multiply-shift with rejection) and integer arithmetic, never
// floating point: the PCG algorithm is fixed by its specification, so a
// seed gives the same network on every architecture and Go release, which
// rand.Rand's helper methods and float-based distributions do not promise.
type rng struct{ src *rand.PCG }

// newRNG returns a generator for one seed and one purpose (stream), so that
// the network and the traffic driver draw from independent sequences.
func newRNG(seed, stream uint64) *rng { return &rng{src: rand.NewPCG(seed, stream)} }

// uint64n returns a uniform draw from [0, n); n must be positive.
func (r *rng) uint64n(n uint64) uint64 {
	hi, lo := bits.Mul64(r.src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.src.Uint64(), n)
		}
	}
	return hi
}

// intn returns a uniform draw from [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.uint64n(uint64(n))) }

// between returns a uniform draw from [lo, hi] (inclusive).
func (r *rng) between(lo, hi uint64) uint64 { return lo + r.uint64n(hi-lo+1) }

// chance reports true with probability num/den.
func (r *rng) chance(num, den uint64) bool { return r.uint64n(den) < num }

// Heavy-tail parameters: a Pareto distribution of index alpha = 1.16 (the
// "80/20" exponent), drawn without floating point. The octave G of a draw is
// geometric, P(G >= g) = q^g with q = 2^-alpha ≈ 0.4475, so the weight
// 2^G·(1+U) with U uniform in [0, 1) has P(weight > 2^g) ∝ 2^(-alpha·g): a
// Pareto tail, piecewise uniform within each octave.
const (
	heavyQPpm     = 447_500 // q in parts per million
	heavyOctaveMx = 24      // caps a weight at 2^25 times the smallest
	heavyUnit     = 1 << 10 // resolution of U within an octave
)

// heavy returns a Pareto-like weight in [2^10, 2^35).
func (r *rng) heavy() uint64 {
	g := 0
	for g < heavyOctaveMx && r.uint64n(1_000_000) < heavyQPpm {
		g++
	}
	return (heavyUnit + r.uint64n(heavyUnit)) << g
}

// picker draws indexes in proportion to integer weights.
type picker struct{ cum []uint64 } // cum[i] = weight[0] + ... + weight[i]

func newPicker(weights []uint64) picker {
	p := picker{cum: make([]uint64, len(weights))}
	var sum uint64
	for i, w := range weights {
		sum += w
		p.cum[i] = sum
	}
	return p
}

// pick returns index i with probability weight[i] / total.
func (p picker) pick(r *rng) int {
	x := r.uint64n(p.cum[len(p.cum)-1])
	lo, hi := 0, len(p.cum)-1
	for lo < hi { // the first i with cum[i] > x
		mid := (lo + hi) / 2
		if p.cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// zipfWeights returns Zipf–Mandelbrot weights 1/(rank+offset)^1.5 for n
// ranks, scaled to integers: (rank+offset)^1.5 is d·sqrt(d), with the square
// root taken exactly in integers.
func zipfWeights(n int, offset uint64) []uint64 {
	w := make([]uint64, n)
	for r := range w {
		d := uint64(r) + offset
		w[r] = (1 << 62) / (d * isqrt(d<<32)) // isqrt(d·2^32) = sqrt(d)·2^16
	}
	return w
}

// isqrt returns floor(sqrt(x)).
func isqrt(x uint64) uint64 {
	if x < 2 {
		return x
	}
	// Newton's iteration from above converges to the floor.
	y := uint64(1) << ((bits.Len64(x) + 1) / 2)
	for {
		next := (y + x/y) / 2
		if next >= y {
			return y
		}
		y = next
	}
}
