// Package rewardtree builds and verifies EigenLayer-compatible rewards
// Merkle trees: a tree of earners whose leaves each commit to a tree of that
// earner's cumulative earnings per token, hashed byte for byte as
// RewardsCoordinator does (../shared/spec/eigenlayer.md §4.7):
//
//	tokenLeaf  = keccak256(0x01 ‖ token[20] ‖ uint256 cumulativeEarnings[32])
//	earnerLeaf = keccak256(0x00 ‖ earner[20] ‖ earnerTokenRoot[32])
//
// A proof is the concatenation of 32-byte siblings from the leaf up; at each
// level an even index hashes (node ‖ sibling) and an odd index
// (sibling ‖ node), then the index halves. An empty proof means the leaf is
// the root. Trees are built over leaves sorted by address and padded with
// zero hashes to a power of two, so every proof is exactly log2(size)
// siblings long, the shape RewardsCoordinator.processClaim checks.
package rewardtree

import (
	"bytes"
	"errors"
	"hash"
	"runtime"
	"sort"
	"sync"

	"github.com/holiman/uint256"
	"golang.org/x/crypto/sha3"
)

// Hash is a 32-byte Keccak-256 digest.
type Hash [32]byte

// Address is a 20-byte account or token address.
type Address [20]byte

// Leaf salts (RewardsCoordinator's EARNER_LEAF_SALT and TOKEN_LEAF_SALT).
const (
	earnerLeafSalt = 0
	tokenLeafSalt  = 1
)

// TokenLeaf is one token's cumulative earnings of one earner.
type TokenLeaf struct {
	Token              Address
	CumulativeEarnings uint256.Int
}

// Hash is keccak256(0x01 ‖ token ‖ cumulativeEarnings).
func (t TokenLeaf) Hash() Hash {
	var h hasher
	return t.hash(&h)
}

func (t TokenLeaf) hash(h *hasher) Hash {
	var buf [1 + 20 + 32]byte
	buf[0] = tokenLeafSalt
	copy(buf[1:], t.Token[:])
	t.CumulativeEarnings.WriteToSlice(buf[21:])
	return h.sum(buf[:])
}

// EarnerLeaf is an earner and the root of its token tree.
type EarnerLeaf struct {
	Earner          Address
	EarnerTokenRoot Hash
}

// Hash is keccak256(0x00 ‖ earner ‖ earnerTokenRoot).
func (e EarnerLeaf) Hash() Hash {
	var h hasher
	return e.hash(&h)
}

func (e EarnerLeaf) hash(h *hasher) Hash {
	var buf [1 + 20 + 32]byte
	buf[0] = earnerLeafSalt
	copy(buf[1:], e.Earner[:])
	copy(buf[21:], e.EarnerTokenRoot[:])
	return h.sum(buf[:])
}

func hashPair(a, b Hash) Hash {
	var h hasher
	return h.pair(a, b)
}

// hasher reuses one Keccak state across hashes: building a distribution
// hashes millions of times, and a fresh state per hash would dominate.
type hasher struct{ h hash.Hash }

func (h *hasher) sum(b []byte) Hash {
	if h.h == nil {
		h.h = sha3.NewLegacyKeccak256()
	}
	h.h.Reset()
	h.h.Write(b)
	var out Hash
	h.h.Sum(out[:0])
	return out
}

func (h *hasher) pair(a, b Hash) Hash {
	var buf [64]byte
	copy(buf[:32], a[:])
	copy(buf[32:], b[:])
	return h.sum(buf[:])
}

// Tree is a complete binary Merkle tree over leaf hashes, padded with zero
// hashes to a power of two. levels[0] are the leaves, the last level the
// root.
type Tree struct {
	levels [][]Hash
	n      int // leaves before padding
}

// Build returns the tree over leaves (in the given order).
func Build(leaves []Hash) *Tree {
	var h hasher
	return build(leaves, &h)
}

// root returns the root over leaves without keeping the tree.
func root(leaves []Hash, h *hasher) Hash {
	if len(leaves) == 0 {
		return Hash{}
	}
	size := 1
	for size < len(leaves) {
		size *= 2
	}
	var small [8]Hash
	level := small[:0]
	if size > len(small) {
		level = make([]Hash, 0, size)
	}
	level = append(level, leaves...)
	level = level[:size]
	for i := len(leaves); i < size; i++ {
		level[i] = Hash{}
	}
	for len(level) > 1 {
		for i := 0; i < len(level)/2; i++ {
			level[i] = h.pair(level[2*i], level[2*i+1])
		}
		level = level[:len(level)/2]
	}
	return level[0]
}

func build(leaves []Hash, h *hasher) *Tree {
	size := 1
	for size < len(leaves) {
		size *= 2
	}
	level := make([]Hash, size)
	copy(level, leaves)
	t := &Tree{n: len(leaves), levels: [][]Hash{level}}
	for len(level) > 1 {
		next := make([]Hash, len(level)/2)
		hashLevel(level, next)
		t.levels = append(t.levels, next)
		level = next
	}
	return t
}

// hashLevel fills next with the pair hashes of level, in parallel for large
// levels (Keccak dominates the cost of building a root over many earners).
func hashLevel(level, next []Hash) {
	parallel(len(next), func(h *hasher, i int) { next[i] = h.pair(level[2*i], level[2*i+1]) })
}

// parallel runs fn(i) for i in [0, n), in chunks on every core when n is
// large. Each worker has its own hasher; results do not depend on the
// number of workers.
func parallel(n int, fn func(h *hasher, i int)) {
	const chunk = 1 << 13
	if n < 2*chunk {
		var h hasher
		for i := 0; i < n; i++ {
			fn(&h, i)
		}
		return
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var h hasher
			for start := range work {
				for i := start; i < min(start+chunk, n); i++ {
					fn(&h, i)
				}
			}
		}()
	}
	for start := 0; start < n; start += chunk {
		work <- start
	}
	close(work)
	wg.Wait()
}

// Root returns the tree's root (the zero hash for an empty tree).
func (t *Tree) Root() Hash {
	top := t.levels[len(t.levels)-1]
	return top[0]
}

// Len returns the number of leaves before padding.
func (t *Tree) Len() int { return t.n }

// Proof returns the siblings of leaf i, leaf level first, concatenated.
func (t *Tree) Proof(i int) ([]byte, error) {
	if i < 0 || i >= t.n {
		return nil, errors.New("rewardtree: leaf index out of range")
	}
	proof := make([]byte, 0, 32*(len(t.levels)-1))
	for _, level := range t.levels[:len(t.levels)-1] {
		sib := level[i^1]
		proof = append(proof, sib[:]...)
		i /= 2
	}
	return proof, nil
}

// ErrInvalidProof is returned when a proof does not lead to the root.
var ErrInvalidProof = errors.New("rewardtree: invalid proof")

// ProcessProof walks leaf up a proof at index and returns the root it gives
// (Merkle.processInclusionProofKeccak). It fails when the proof is not a
// whole number of 32-byte siblings or the index does not fit the proof
// (index >= 2^(len(proof)/32)).
func ProcessProof(proof []byte, leaf Hash, index uint64) (Hash, error) {
	if len(proof)%32 != 0 {
		return Hash{}, ErrInvalidProof
	}
	levels := len(proof) / 32
	if levels < 64 && index >= uint64(1)<<levels {
		return Hash{}, ErrInvalidProof
	}
	node := leaf
	for i := 0; i < levels; i++ {
		var sib Hash
		copy(sib[:], proof[32*i:])
		if index%2 == 0 {
			node = hashPair(node, sib)
		} else {
			node = hashPair(sib, node)
		}
		index /= 2
	}
	if index != 0 {
		return Hash{}, ErrInvalidProof
	}
	return node, nil
}

// Verify reports whether leaf at index is in the tree of root.
func Verify(proof []byte, root, leaf Hash, index uint64) bool {
	got, err := ProcessProof(proof, leaf, index)
	return err == nil && got == root
}

// Earnings is one earner's cumulative earnings per token.
type Earnings struct {
	Earner Address
	Tokens []TokenLeaf
}

// Distribution is a built two-level tree: one token tree per earner, and the
// earner tree over their leaves.
type Distribution struct {
	earners     []Earnings // sorted by earner, tokens sorted by token
	tokenRoots  []Hash     // token trees are rebuilt for a claim: they are small
	earnerTree  *Tree
	earnerIndex map[Address]int
}

// NewDistribution builds the trees. Earners and each earner's tokens are
// sorted by address; an earner listed twice or a token listed twice for one
// earner is an error, as are earners without tokens.
func NewDistribution(earnings []Earnings) (*Distribution, error) {
	d := &Distribution{earners: make([]Earnings, len(earnings)), earnerIndex: make(map[Address]int, len(earnings))}
	copy(d.earners, earnings)
	sort.Slice(d.earners, func(i, j int) bool {
		return bytes.Compare(d.earners[i].Earner[:], d.earners[j].Earner[:]) < 0
	})
	for i := range d.earners {
		e := &d.earners[i]
		if _, dup := d.earnerIndex[e.Earner]; dup {
			return nil, errors.New("rewardtree: earner listed twice")
		}
		if len(e.Tokens) == 0 {
			return nil, errors.New("rewardtree: earner without tokens")
		}
		d.earnerIndex[e.Earner] = i
		if !sort.SliceIsSorted(e.Tokens, func(a, b int) bool { return tokenLess(e.Tokens, a, b) }) {
			e.Tokens = append([]TokenLeaf(nil), e.Tokens...)
			sort.Slice(e.Tokens, func(a, b int) bool { return tokenLess(e.Tokens, a, b) })
		}
		for j := 1; j < len(e.Tokens); j++ {
			if e.Tokens[j-1].Token == e.Tokens[j].Token {
				return nil, errors.New("rewardtree: token listed twice for one earner")
			}
		}
	}
	d.tokenRoots = make([]Hash, len(d.earners))
	earnerLeaves := make([]Hash, len(d.earners))
	parallel(len(d.earners), func(h *hasher, i int) {
		d.tokenRoots[i] = tokenRoot(d.earners[i].Tokens, h)
		earnerLeaves[i] = EarnerLeaf{Earner: d.earners[i].Earner, EarnerTokenRoot: d.tokenRoots[i]}.hash(h)
	})
	var h hasher
	d.earnerTree = build(earnerLeaves, &h)
	return d, nil
}

func tokenLess(ts []TokenLeaf, a, b int) bool {
	return bytes.Compare(ts[a].Token[:], ts[b].Token[:]) < 0
}

func tokenLeaves(tokens []TokenLeaf, h *hasher) []Hash {
	leaves := make([]Hash, len(tokens))
	for j, tl := range tokens {
		leaves[j] = tl.hash(h)
	}
	return leaves
}

func tokenRoot(tokens []TokenLeaf, h *hasher) Hash {
	var small [8]Hash
	leaves := small[:0]
	for _, tl := range tokens {
		leaves = append(leaves, tl.hash(h))
	}
	return root(leaves, h)
}

// Root returns the distribution root.
func (d *Distribution) Root() Hash { return d.earnerTree.Root() }

// Earners returns the number of earners.
func (d *Distribution) Earners() int { return len(d.earners) }

// Claim is everything a claimant sends to RewardsCoordinator.processClaim.
type Claim struct {
	Root            Hash
	EarnerIndex     uint32
	EarnerTreeProof []byte
	EarnerLeaf      EarnerLeaf
	TokenIndices    []uint32
	TokenTreeProofs [][]byte
	TokenLeaves     []TokenLeaf
}

// Claim returns the proofs of all of an earner's tokens.
func (d *Distribution) Claim(earner Address) (Claim, error) {
	i, ok := d.earnerIndex[earner]
	if !ok {
		return Claim{}, errors.New("rewardtree: earner not in the distribution")
	}
	ep, _ := d.earnerTree.Proof(i)
	e := d.earners[i]
	c := Claim{Root: d.Root(), EarnerIndex: uint32(i), EarnerTreeProof: ep,
		EarnerLeaf: EarnerLeaf{Earner: earner, EarnerTokenRoot: d.tokenRoots[i]}}
	var h hasher
	tokenTree := build(tokenLeaves(e.Tokens, &h), &h)
	for j, tl := range e.Tokens {
		tp, _ := tokenTree.Proof(j)
		c.TokenIndices = append(c.TokenIndices, uint32(j))
		c.TokenTreeProofs = append(c.TokenTreeProofs, tp)
		c.TokenLeaves = append(c.TokenLeaves, tl)
	}
	return c, nil
}

// VerifyClaim checks a claim as processClaim does: the earner leaf against
// the root, then every token leaf against the earner's token root.
func VerifyClaim(c Claim) error {
	if len(c.TokenIndices) != len(c.TokenTreeProofs) || len(c.TokenIndices) != len(c.TokenLeaves) {
		return errors.New("rewardtree: input array length mismatch")
	}
	if !Verify(c.EarnerTreeProof, c.Root, c.EarnerLeaf.Hash(), uint64(c.EarnerIndex)) {
		return ErrInvalidProof
	}
	for i := range c.TokenLeaves {
		if !Verify(c.TokenTreeProofs[i], c.EarnerLeaf.EarnerTokenRoot, c.TokenLeaves[i].Hash(),
			uint64(c.TokenIndices[i])) {
			return ErrInvalidProof
		}
	}
	return nil
}
