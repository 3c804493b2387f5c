// Package history keeps values keyed by block height, with the lookups of
// EigenLayer's Snapshots library: the latest value, and the value in force
// at a given height (upperLookup).
//
// A history is append-only in height order. Pushing at the height of the
// last entry overwrites it, so a history holds at most one entry per height,
// and a lookup costs O(log n) in the number of heights at which the value
// changed, whatever else the ledger holds.
package history

import "sort"

// History is a sequence of (height, value) entries in strictly increasing
// height order. The zero value is an empty history; lookups on an empty
// history, or before its first entry, return the default given to them.
type History[V any] struct {
	heights []uint64
	values  []V
}

// Push records v as the value from height h on. h must not be below the
// height of the last entry (the ledger only moves forward); a push at the
// same height replaces the last value. Push panics on a height that goes
// backwards, because that is a bug in the caller, never user input.
func (h *History[V]) Push(height uint64, v V) {
	n := len(h.heights)
	if n > 0 {
		last := h.heights[n-1]
		if height < last {
			panic("history: push at a height below the last entry")
		}
		if height == last {
			h.values[n-1] = v
			return
		}
	}
	h.heights = append(h.heights, height)
	h.values = append(h.values, v)
}

// Latest returns the most recent value, or def when the history is empty.
func (h *History[V]) Latest(def V) V {
	if n := len(h.values); n > 0 {
		return h.values[n-1]
	}
	return def
}

// UpperLookup returns the value of the last entry whose height is at most
// height, or def when there is none.
func (h *History[V]) UpperLookup(height uint64, def V) V {
	// Index of the first entry above height.
	i := sort.Search(len(h.heights), func(i int) bool { return h.heights[i] > height })
	if i == 0 {
		return def
	}
	return h.values[i-1]
}

// Len returns the number of entries.
func (h *History[V]) Len() int { return len(h.heights) }

// Entry returns the i-th entry, oldest first.
func (h *History[V]) Entry(i int) (height uint64, v V) { return h.heights[i], h.values[i] }

// Clone returns an independent copy (values are copied by assignment).
func (h *History[V]) Clone() History[V] {
	return History[V]{
		heights: append([]uint64(nil), h.heights...),
		values:  append([]V(nil), h.values...),
	}
}

// DropBefore forgets the entries that no lookup at a height of at least h
// can return: every entry before the last one at or below h. The caller
// promises never to look up below h again (the ledger's queue-slashing
// window only moves forward).
func (h *History[V]) DropBefore(height uint64) {
	i := sort.Search(len(h.heights), func(i int) bool { return h.heights[i] > height })
	if i <= 1 {
		return
	}
	h.heights = append(h.heights[:0:0], h.heights[i-1:]...)
	h.values = append(h.values[:0:0], h.values[i-1:]...)
}
