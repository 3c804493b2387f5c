package history

import (
	"flag"
	"math/rand/v2"
	"testing"
)

// seedFlag fixes the random stream of the differential test; the default is
// a constant so that a failure replays exactly.
var seedFlag = flag.Uint64("history.seed", 0x4157_0a1e, "seed of the history differential test")

func TestEmpty(t *testing.T) {
	var h History[int]
	if n := h.Len(); n != 0 {
		t.Fatalf("Len() = %d, want 0", n)
	}
	if v := h.Latest(-1); v != -1 {
		t.Errorf("Latest(-1) on empty = %d, want the default -1", v)
	}
	for _, height := range []uint64{0, 1, 1 << 63, ^uint64(0)} {
		if v := h.UpperLookup(height, -1); v != -1 {
			t.Errorf("UpperLookup(%d, -1) on empty = %d, want the default -1", height, v)
		}
	}
}

func TestPushLatestUpperLookup(t *testing.T) {
	var h History[string]
	h.Push(10, "a")
	h.Push(20, "b")
	h.Push(20, "b2") // same height: overwrites, no new entry
	h.Push(35, "c")

	if n := h.Len(); n != 3 {
		t.Fatalf("Len() = %d, want 3 (a same-height push must overwrite)", n)
	}
	wantEntries := []struct {
		height uint64
		v      string
	}{{10, "a"}, {20, "b2"}, {35, "c"}}
	for i, w := range wantEntries {
		if height, v := h.Entry(i); height != w.height || v != w.v {
			t.Errorf("Entry(%d) = (%d, %q), want (%d, %q)", i, height, v, w.height, w.v)
		}
	}
	if v := h.Latest("def"); v != "c" {
		t.Errorf("Latest = %q, want %q", v, "c")
	}

	lookups := []struct {
		name   string
		height uint64
		want   string
	}{
		{"height zero, before first entry", 0, "def"},
		{"just before first entry", 9, "def"},
		{"exact first", 10, "a"},
		{"between first and second", 15, "a"},
		{"just before second", 19, "a"},
		{"exact overwritten", 20, "b2"},
		{"between second and third", 34, "b2"},
		{"exact last", 35, "c"},
		{"after last", 36, "c"},
		{"max height", ^uint64(0), "c"},
	}
	for _, l := range lookups {
		if got := h.UpperLookup(l.height, "def"); got != l.want {
			t.Errorf("%s: UpperLookup(%d) = %q, want %q", l.name, l.height, got, l.want)
		}
	}
}

func TestPushAtHeightZeroAndMax(t *testing.T) {
	var h History[int]
	h.Push(0, 1)
	if v := h.UpperLookup(0, -1); v != 1 {
		t.Errorf("UpperLookup(0) after Push(0, 1) = %d, want 1", v)
	}
	h.Push(^uint64(0), 2)
	if v := h.UpperLookup(^uint64(0)-1, -1); v != 1 {
		t.Errorf("UpperLookup(max-1) = %d, want 1", v)
	}
	if v := h.UpperLookup(^uint64(0), -1); v != 2 {
		t.Errorf("UpperLookup(max) = %d, want 2", v)
	}
}

func TestPushBelowLastPanics(t *testing.T) {
	var h History[int]
	h.Push(5, 50)
	h.Push(8, 80)
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Push(7) after Push(8) did not panic")
			}
		}()
		h.Push(7, 70)
	}()
	// The failed push must leave the history as it was.
	if n := h.Len(); n != 2 {
		t.Fatalf("Len() after the rejected push = %d, want 2", n)
	}
	if v := h.Latest(-1); v != 80 {
		t.Errorf("Latest after the rejected push = %d, want 80", v)
	}
	if v := h.UpperLookup(7, -1); v != 50 {
		t.Errorf("UpperLookup(7) after the rejected push = %d, want 50", v)
	}
}

func TestCloneIndependence(t *testing.T) {
	var h History[int]
	h.Push(1, 10)
	h.Push(2, 20)

	c := h.Clone()
	// Same-height overwrite in the clone must not reach the original
	// (it would if the clone shared the values array).
	c.Push(2, 21)
	c.Push(3, 30)
	// And the other way round.
	h.Push(2, 22)
	h.Push(4, 40)

	if got, want := h.Len(), 3; got != want {
		t.Fatalf("original Len() = %d, want %d", got, want)
	}
	if got, want := c.Len(), 3; got != want {
		t.Fatalf("clone Len() = %d, want %d", got, want)
	}
	checks := []struct {
		name   string
		h      *History[int]
		height uint64
		want   int
	}{
		{"original at 2", &h, 2, 22},
		{"original at 3", &h, 3, 22},
		{"original at 4", &h, 4, 40},
		{"clone at 2", &c, 2, 21},
		{"clone at 3", &c, 3, 30},
		{"clone at 4", &c, 4, 30},
	}
	for _, ch := range checks {
		if got := ch.h.UpperLookup(ch.height, -1); got != ch.want {
			t.Errorf("%s: UpperLookup = %d, want %d", ch.name, got, ch.want)
		}
	}

	var empty History[int]
	ec := empty.Clone()
	ec.Push(1, 1)
	if empty.Len() != 0 {
		t.Error("pushing to the clone of an empty history changed the original")
	}
}

// TestCloneAfterSpareCapacity guards against a clone that shares the
// backing array: after appends the original has spare capacity, and an
// append to one copy must not show up in the other.
func TestCloneAfterSpareCapacity(t *testing.T) {
	var h History[int]
	for i := range 5 {
		h.Push(uint64(i), i)
	}
	c := h.Clone()
	h.Push(10, 100)
	c.Push(11, 111)
	if height, v := h.Entry(5); height != 10 || v != 100 {
		t.Errorf("original Entry(5) = (%d, %d), want (10, 100)", height, v)
	}
	if height, v := c.Entry(5); height != 11 || v != 111 {
		t.Errorf("clone Entry(5) = (%d, %d), want (11, 111)", height, v)
	}
}

// naive is the reference model: every push appended, lookups by linear
// scan, with the last push at or below the height winning.
type naive struct {
	heights []uint64
	values  []int
}

func (n *naive) push(height uint64, v int) {
	n.heights = append(n.heights, height)
	n.values = append(n.values, v)
}

func (n *naive) upperLookup(height uint64, def int) int {
	v := def
	for i, h := range n.heights {
		if h <= height {
			v = n.values[i]
		}
	}
	return v
}

func (n *naive) distinctHeights() int {
	d := 0
	for i, h := range n.heights {
		if i == 0 || h != n.heights[i-1] {
			d++
		}
	}
	return d
}

func TestDifferentialAgainstLinearScan(t *testing.T) {
	seed := *seedFlag
	r := rand.New(rand.NewPCG(seed, 1))
	const def = -1
	for run := range 500 {
		var h History[int]
		var ref naive
		height := r.Uint64N(3)
		pushes := r.IntN(60)
		for p := range pushes {
			// Mostly small steps, many same-height overwrites, a few jumps.
			switch r.IntN(4) {
			case 0: // same height
			case 1:
				height += 1 + r.Uint64N(1000)
			default:
				height += 1 + r.Uint64N(3)
			}
			v := r.IntN(1_000_000)
			h.Push(height, v)
			ref.push(height, v)
			if got, want := h.Latest(def), v; got != want {
				t.Fatalf("seed=%d run=%d push=%d: Latest = %d, want %d", seed, run, p, got, want)
			}
		}
		if got, want := h.Len(), ref.distinctHeights(); got != want {
			t.Fatalf("seed=%d run=%d: Len = %d, want %d distinct heights", seed, run, got, want)
		}
		// Query every pushed height and its neighbours, plus random heights.
		var queries []uint64
		for _, ph := range ref.heights {
			queries = append(queries, ph, ph+1)
			if ph > 0 {
				queries = append(queries, ph-1)
			}
		}
		for range 20 {
			queries = append(queries, r.Uint64N(height+10))
		}
		queries = append(queries, 0, ^uint64(0))
		for _, q := range queries {
			if got, want := h.UpperLookup(q, def), ref.upperLookup(q, def); got != want {
				t.Fatalf("seed=%d run=%d: UpperLookup(%d) = %d, want %d (pushes %v / %v)",
					seed, run, q, got, want, ref.heights, ref.values)
			}
		}
		// A clone answers the same queries.
		c := h.Clone()
		for _, q := range queries {
			if got, want := c.UpperLookup(q, def), ref.upperLookup(q, def); got != want {
				t.Fatalf("seed=%d run=%d: clone UpperLookup(%d) = %d, want %d", seed, run, q, got, want)
			}
		}
	}
}
