package rewardtree

import (
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/holiman/uint256"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEigenLayerV25 reproduces EigenLayer's published single-earner claim
// (vector V25): every token leaf, walked up its proof, gives the earner's
// token root, and the earner leaf is the distribution root.
func TestEigenLayerV25(t *testing.T) {
	data, err := os.ReadFile("../../testdata/vectors/eigenlayer-rewards/v25-single-earner-claim.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Root            string
		EarnerIndex     uint32
		EarnerTreeProof string
		EarnerLeaf      struct{ Earner, EarnerTokenRoot string }
		LeafIndices     []uint32
		TokenTreeProofs []string
		TokenLeaves     []struct{ Token, CumulativeEarnings string }
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var c Claim
	copy(c.Root[:], mustHex(t, v.Root))
	c.EarnerIndex = v.EarnerIndex
	c.EarnerTreeProof = mustHex(t, v.EarnerTreeProof)
	copy(c.EarnerLeaf.Earner[:], mustHex(t, v.EarnerLeaf.Earner))
	copy(c.EarnerLeaf.EarnerTokenRoot[:], mustHex(t, v.EarnerLeaf.EarnerTokenRoot))
	c.TokenIndices = v.LeafIndices
	for i, tl := range v.TokenLeaves {
		var leaf TokenLeaf
		copy(leaf.Token[:], mustHex(t, tl.Token))
		leaf.CumulativeEarnings = *uint256.MustFromDecimal(tl.CumulativeEarnings)
		c.TokenLeaves = append(c.TokenLeaves, leaf)
		c.TokenTreeProofs = append(c.TokenTreeProofs, mustHex(t, v.TokenTreeProofs[i]))
	}
	if got := c.EarnerLeaf.Hash(); got != c.Root {
		t.Fatalf("earner leaf %x, want the root %x", got, c.Root)
	}
	// The spec lists the token leaf hashes' first bytes.
	wantLeafPrefix := []string{"167f18d5", "31335a07", "9ae7a20b"}
	for i, tl := range c.TokenLeaves {
		h := tl.Hash()
		if got := hex.EncodeToString(h[:4]); got != wantLeafPrefix[i] {
			t.Errorf("token leaf %d hash starts %s, want %s", i, got, wantLeafPrefix[i])
		}
		root, err := ProcessProof(c.TokenTreeProofs[i], h, uint64(c.TokenIndices[i]))
		if err != nil || root != c.EarnerLeaf.EarnerTokenRoot {
			t.Errorf("token leaf %d does not reach the earner token root: %x %v", i, root, err)
		}
	}
	if err := VerifyClaim(c); err != nil {
		t.Fatal(err)
	}
	// Forged: one wei more, a wrong index, a flipped proof byte.
	forged := c
	forged.TokenLeaves = append([]TokenLeaf(nil), c.TokenLeaves...)
	forged.TokenLeaves[1].CumulativeEarnings.AddUint64(&forged.TokenLeaves[1].CumulativeEarnings, 1)
	if VerifyClaim(forged) == nil {
		t.Error("a claim of one wei more verified")
	}
	forged = c
	forged.TokenIndices = []uint32{0, 3, 2}
	if VerifyClaim(forged) == nil {
		t.Error("a claim with swapped indices verified")
	}
	forged = c
	forged.TokenTreeProofs = append([][]byte(nil), c.TokenTreeProofs...)
	bad := append([]byte(nil), c.TokenTreeProofs[0]...)
	bad[5] ^= 1
	forged.TokenTreeProofs[0] = bad
	if VerifyClaim(forged) == nil {
		t.Error("a claim with a corrupted proof verified")
	}
}

func randomEarnings(rng *rand.Rand, n, tokens int) []Earnings {
	out := make([]Earnings, n)
	for i := range out {
		for b := range out[i].Earner {
			out[i].Earner[b] = byte(rng.UintN(256))
		}
		k := 1 + rng.IntN(tokens)
		for j := 0; j < k; j++ {
			var tl TokenLeaf
			tl.Token[19] = byte(j + 1)
			tl.CumulativeEarnings.SetUint64(rng.Uint64())
			out[i].Tokens = append(out[i].Tokens, tl)
		}
	}
	return out
}

// TestDistributionProofs builds random distributions and checks that every
// earner's claim verifies and that forged claims do not.
func TestDistributionProofs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 2, 3, 5, 8, 17, 100} {
		d, err := NewDistribution(randomEarnings(rng, n, 4))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range d.earners {
			c, err := d.Claim(e.Earner)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyClaim(c); err != nil {
				t.Fatalf("n=%d: an honest claim does not verify: %v", n, err)
			}
			if n > 1 {
				forged := c
				forged.EarnerIndex ^= 1
				if VerifyClaim(forged) == nil {
					t.Fatalf("n=%d: a claim at the wrong earner index verified", n)
				}
			}
			forged := c
			forged.TokenLeaves = append([]TokenLeaf(nil), c.TokenLeaves...)
			forged.TokenLeaves[0].Token[0] ^= 0x80
			if VerifyClaim(forged) == nil {
				t.Fatalf("n=%d: a claim for another token verified", n)
			}
		}
	}
}

func TestProcessProofRejectsMalformed(t *testing.T) {
	var leaf Hash
	if _, err := ProcessProof(make([]byte, 31), leaf, 0); err == nil {
		t.Error("a proof that is not whole siblings was accepted")
	}
	if _, err := ProcessProof(make([]byte, 64), leaf, 4); err == nil {
		t.Error("an index beyond the proof's depth was accepted")
	}
	if got, err := ProcessProof(nil, leaf, 0); err != nil || got != leaf {
		t.Error("an empty proof must give the leaf itself")
	}
}

func TestNewDistributionRejectsDuplicates(t *testing.T) {
	e := Earnings{Tokens: []TokenLeaf{{}}}
	if _, err := NewDistribution([]Earnings{e, e}); err == nil {
		t.Error("an earner listed twice was accepted")
	}
	if _, err := NewDistribution([]Earnings{{Tokens: []TokenLeaf{{}, {}}}}); err == nil {
		t.Error("a token listed twice was accepted")
	}
	if _, err := NewDistribution([]Earnings{{}}); err == nil {
		t.Error("an earner without tokens was accepted")
	}
}

var (
	bench1MOnce     sync.Once
	bench1MEarnings []Earnings
)

// earnings1M returns 1,000,000 earners with 3 tokens each, built once.
func earnings1M() []Earnings {
	bench1MOnce.Do(func() {
		rng := rand.New(rand.NewPCG(1, 1))
		bench1MEarnings = randomEarnings(rng, 1_000_000, 1)
		for i := range bench1MEarnings {
			for j := len(bench1MEarnings[i].Tokens); j < 3; j++ {
				var tl TokenLeaf
				tl.Token[19] = byte(j + 1)
				tl.CumulativeEarnings.SetUint64(rng.Uint64())
				bench1MEarnings[i].Tokens = append(bench1MEarnings[i].Tokens, tl)
			}
		}
	})
	return bench1MEarnings
}

// BenchmarkDistribution1M builds the root over 1,000,000 earners with 3
// tokens each (the target: under 5 s on this machine).
func BenchmarkDistribution1M(b *testing.B) {
	earnings := earnings1M()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewDistribution(earnings); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimProof1M generates one earner's claim (earner proof and three
// token proofs) in a 1,000,000-earner distribution (target: under 1 ms).
func BenchmarkClaimProof1M(b *testing.B) {
	earnings := earnings1M()
	d, err := NewDistribution(earnings)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := d.Claim(earnings[i%len(earnings)].Earner); err != nil {
			b.Fatal(err)
		}
	}
}
