// Package statetree is the state commitment of restake's node: a hash of the
// ledger's whole state (the app hash) that is cheap to update after every
// block, plus membership and non-membership proofs that a light client checks
// against that hash alone. The state is a set of key/value records; keys are
// arbitrary byte strings (up to about 100 bytes in practice) and values are
// arbitrary byte strings (up to a few KB).
//
// # Construction
//
// This section is the specification; any change to it changes every app hash
// and needs a migration note. All hashes are SHA-256, written H, and ‖ is
// concatenation.
//
//  1. keyHash = H(key). A record's bucket is the first 16 bits of its keyHash,
//     read big-endian: bucket = keyHash[0]<<8 | keyHash[1]. There are always
//     65,536 buckets, numbered 0 to 65,535.
//  2. entryHash = H(0x00 ‖ keyHash ‖ H(value)), 65 bytes hashed.
//  3. A bucket with entries e_1 … e_k (k ≥ 1), sorted by keyHash ascending
//     (bytewise), hashes to H(0x01 ‖ entryHash_1 ‖ … ‖ entryHash_k). An empty
//     bucket's hash is 32 zero bytes (the zero hash).
//  4. The 65,536 bucket hashes, in bucket order, are the leaves of a complete
//     binary tree of depth 16. An inner node is H(0x02 ‖ left ‖ right), except
//     that a node whose two children are both the zero hash is itself the
//     zero hash. The root is the top node, so the root of an empty state is
//     32 zero bytes.
//
// The prefixes 0x00, 0x01 and 0x02 keep the three kinds of preimage apart
// (an entry, a node and a two-entry bucket all hash 65 bytes), so no entry,
// bucket or node hash can be passed off as another kind. The zero-hash rule
// makes untouched subtrees free to hash and keeps the empty state's root
// recognisable.
//
// # Proofs
//
// A [Proof] for key K carries K's bucket index, every entry of that bucket as
// (keyHash, H(value)) sorted by keyHash, and the 16 sibling hashes on the path
// from the bucket's leaf to the root, nearest the leaf first. [Verify] checks,
// in this order:
//
//  1. the entries are strictly ascending by keyHash and every keyHash lies in
//     the proof's bucket (otherwise [ErrMalformedProof]);
//  2. the proof's bucket is K's bucket;
//  3. for a membership claim (value != nil) an entry with K's keyHash and
//     H(value) is present; for a non-membership claim (value == nil) no entry
//     has K's keyHash;
//  4. hashing the entries as in step 3 of the construction and then walking
//     the siblings reproduces the root: at level i (0 = the leaf), bit i of
//     the bucket index, counted from the least significant, set means the
//     current node is a right child, H(0x02 ‖ sibling ‖ node); clear means a
//     left child, H(0x02 ‖ node ‖ sibling); two zero children give the zero
//     hash.
//
// Failures of 2 to 4 wrap [ErrProofMismatch]. A bucket holds about 15 entries
// at 1,000,000 records, so a proof is about 15·64 + 16·32 bytes.
//
// Because a nil value means "prove absence", a record whose value is empty
// must be verified with a non-nil empty slice ([]byte{}).
//
// # Cost
//
// The tree keeps every record (Get serves the values that go with proofs)
// and caches every bucket and node hash. A change marks its bucket dirty;
// [Tree.Root] rehashes only dirty buckets and the nodes above them, spreading
// the bucket hashing over the available cores when there is enough of it.
// The work is split by index ranges and each goroutine writes only its own
// hashes, so the result never depends on the number of goroutines.
//
// The bucket is 16 bits of an unkeyed hash, so whoever chooses keys can put
// many records in one bucket at about 65,536 hash trials per key. That
// bucket's inserts, rehashes and proofs then grow linearly with its size;
// the tree sets no cap, so the ledger must bound how many records one party
// can create, and clients should bound the size of proofs they accept.
package statetree

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"slices"
	"sync"
)

// Sizes of the fixed tree shape.
const (
	// depth is the number of levels between a bucket's leaf and the root.
	depth = 16
	// bucketCount is the number of buckets, 2^depth.
	bucketCount = 1 << depth
	// leafBase is the index of bucket 0's leaf in Tree.nodes, which is laid
	// out as a heap: node 1 is the root and node n has children 2n and 2n+1.
	leafBase = bucketCount
)

// Domain-separation prefixes of the three kinds of preimage.
const (
	entryPrefix  = 0x00
	bucketPrefix = 0x01
	nodePrefix   = 0x02
)

// Parallelism thresholds. Starting a goroutine costs about a microsecond, a
// bucket rehash about as much and a node hash a tenth of that, so smaller
// batches run on the calling goroutine.
const (
	bucketsPerWorkerMin = 64
	nodesPerWorkerMin   = 1024
)

// zeroHash is the hash of an empty bucket and of an all-empty subtree.
var zeroHash [32]byte

// entry is one record as stored in its bucket. The key itself is not kept:
// its SHA-256 identifies it (a collision is infeasible), and dropping it saves
// about a key's length per record. The entry hash is cached, not the value
// hash: every rehash of the bucket needs all its entry hashes, and caching
// them makes a rehash one pass over k·32 bytes instead of k entry hashes,
// which halves the per-block cost. Prove, which needs the value hashes,
// recomputes them from the values; it is off the block's critical path.
type entry struct {
	keyHash   [32]byte
	entryHash [32]byte
	// value is the tree's own copy: Set and Build copy into it and Get
	// copies out of it, so nothing outside the tree aliases it.
	value []byte
}

// Tree is the state commitment over a set of key/value records.
//
// The zero Tree is an empty tree ready to use; [New] returns one on the heap.
// A Tree holds about 5.5 MB of fixed arrays, so pass it by pointer and never
// copy it.
//
// A Tree is not safe for concurrent use. Root and Prove write the hash cache,
// so even they need exclusive access; only Get and Len may run concurrently
// with each other.
type Tree struct {
	// buckets[b] holds bucket b's entries sorted by keyHash ascending.
	buckets [bucketCount][]entry
	// nodes[n] is the cached hash of heap node n (nodes[0] is unused);
	// nodes[leafBase+b] is bucket b's hash. A node is stale when a bucket
	// below it is dirty.
	nodes [2 * bucketCount][32]byte
	// dirty lists the buckets changed since the hashes were last brought up
	// to date, each once; dirtyBits is its membership bitmap.
	dirty     []uint16
	dirtyBits [bucketCount / 64]uint64
	// count is the number of records.
	count int
}

// New returns an empty tree.
func New() *Tree {
	return &Tree{}
}

// keyHashOf returns the keyHash of key and its bucket.
func keyHashOf(key []byte) ([32]byte, uint16) {
	kh := sha256.Sum256(key)
	return kh, bucketOf(&kh)
}

// bucketOf returns the bucket of a keyHash: its first 16 bits, big-endian.
func bucketOf(kh *[32]byte) uint16 {
	return uint16(kh[0])<<8 | uint16(kh[1])
}

// compareKeyHash orders key hashes bytewise, the order buckets are kept in.
// Entries of a bucket share their first two bytes, and the next eight
// nearly always differ, so one integer comparison usually decides.
func compareKeyHash(x, y *[32]byte) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(y[:8])); c != 0 {
		return c
	}
	return bytes.Compare(x[8:], y[8:])
}

// compareEntry orders an entry against a key hash, for binary search.
func compareEntry(e entry, kh [32]byte) int {
	return compareKeyHash(&e.keyHash, &kh)
}

// find returns the position of kh in bucket b, or where it would be inserted.
func (t *Tree) find(b uint16, kh [32]byte) (int, bool) {
	return slices.BinarySearchFunc(t.buckets[b], kh, compareEntry)
}

// markDirty records that bucket b's hash is stale.
func (t *Tree) markDirty(b uint16) {
	word, bit := b/64, uint64(1)<<(b%64)
	if t.dirtyBits[word]&bit != 0 {
		return
	}
	t.dirtyBits[word] |= bit
	t.dirty = append(t.dirty, b)
}

// Set inserts the record key → value, or replaces the value if key is
// present. Both slices are copied, so the caller may reuse them. A nil value
// is stored as the empty value.
func (t *Tree) Set(key, value []byte) {
	kh, b := keyHashOf(key)
	vh := sha256.Sum256(value)
	eh := entryHash(&kh, &vh)
	i, found := t.find(b, kh)
	if found {
		e := &t.buckets[b][i]
		if e.entryHash == eh {
			// Same value: nothing to copy and, more usefully, no bucket to
			// rehash, since nodes often rewrite records unchanged.
			return
		}
		e.entryHash = eh
		e.value = bytes.Clone(value)
	} else {
		t.buckets[b] = slices.Insert(t.buckets[b], i, entry{
			keyHash: kh, entryHash: eh, value: bytes.Clone(value),
		})
		t.count++
	}
	t.markDirty(b)
}

// Delete removes the record with key. Deleting an absent key does nothing.
func (t *Tree) Delete(key []byte) {
	kh, b := keyHashOf(key)
	i, found := t.find(b, kh)
	if !found {
		return
	}
	t.buckets[b] = slices.Delete(t.buckets[b], i, i+1)
	if len(t.buckets[b]) == 0 {
		// Release the backing array: a bucket that empties is as likely as
		// any other to stay empty.
		t.buckets[b] = nil
	}
	t.count--
	t.markDirty(b)
}

// Get returns a copy of the value stored under key and whether key is
// present. The value of a present record is never nil, so that it can be
// passed to Verify as a membership claim even when empty.
func (t *Tree) Get(key []byte) ([]byte, bool) {
	kh, b := keyHashOf(key)
	i, found := t.find(b, kh)
	if !found {
		return nil, false
	}
	return append([]byte{}, t.buckets[b][i].value...), true
}

// Len returns the number of records.
func (t *Tree) Len() int {
	return t.count
}

// Root returns the root hash of the current records, rehashing only the
// buckets changed since the last call and the nodes above them.
func (t *Tree) Root() [32]byte {
	t.update(runtime.GOMAXPROCS(0))
	return t.nodes[1]
}

// update brings every cached hash up to date using at most workers
// goroutines at a time. The result does not depend on workers.
func (t *Tree) update(workers int) {
	if len(t.dirty) == 0 {
		return
	}
	// Sorted, the dirty buckets' parents come out sorted too, so duplicates
	// are adjacent and each level's dirty set is one pass over the last.
	slices.Sort(t.dirty)
	dirty := t.dirty
	parallelFor(len(dirty), bucketsPerWorkerMin, workers, func(lo, hi int) {
		var h hasher
		for _, b := range dirty[lo:hi] {
			t.nodes[leafBase+int(b)] = h.bucketHash(t.buckets[b])
		}
	})

	level := make([]int, len(dirty))
	for i, b := range dirty {
		level[i] = leafBase + int(b)
	}
	for range depth {
		// Parents overwrite their children's slots in place: the j-th
		// parent is written at j, never past the child being read.
		n := 0
		for _, child := range level {
			p := child >> 1
			if n == 0 || level[n-1] != p {
				level[n] = p
				n++
			}
		}
		level = level[:n]
		parallelFor(len(level), nodesPerWorkerMin, workers, func(lo, hi int) {
			for _, p := range level[lo:hi] {
				t.nodes[p] = nodeHash(&t.nodes[2*p], &t.nodes[2*p+1])
			}
		})
	}

	clear(t.dirtyBits[:])
	t.dirty = t.dirty[:0]
}

// parallelFor calls fn over [0, n) split into contiguous ranges, one per
// goroutine, using at most workers goroutines and at least perWorkerMin items
// per goroutine. It returns when every call has returned. fn must write only
// state owned by its own range, which keeps results independent of the split.
func parallelFor(n, perWorkerMin, workers int, fn func(lo, hi int)) {
	workers = min(workers, n/perWorkerMin)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// hasher holds the scratch buffer for bucket preimages, reused across
// buckets so that rehashing allocates only when a bucket outgrows it.
type hasher struct {
	buf []byte
}

// bucketHash returns the hash of a bucket whose entries are sorted by
// keyHash: H(0x01 ‖ entryHash_1 ‖ … ‖ entryHash_k), or the zero hash when
// the bucket is empty.
func (h *hasher) bucketHash(entries []entry) [32]byte {
	if len(entries) == 0 {
		return zeroHash
	}
	h.buf = append(h.buf[:0], bucketPrefix)
	for i := range entries {
		h.buf = append(h.buf, entries[i].entryHash[:]...)
	}
	return sha256.Sum256(h.buf)
}

// bucketHashOfProof is bucketHash over proof entries; Verify uses it.
func (h *hasher) bucketHashOfProof(entries []ProofEntry) [32]byte {
	if len(entries) == 0 {
		return zeroHash
	}
	h.buf = append(h.buf[:0], bucketPrefix)
	for i := range entries {
		eh := entryHash(&entries[i].KeyHash, &entries[i].ValueHash)
		h.buf = append(h.buf, eh[:]...)
	}
	return sha256.Sum256(h.buf)
}

// entryHash returns H(0x00 ‖ keyHash ‖ valueHash).
func entryHash(keyHash, valueHash *[32]byte) [32]byte {
	var buf [1 + 32 + 32]byte
	buf[0] = entryPrefix
	copy(buf[1:], keyHash[:])
	copy(buf[33:], valueHash[:])
	return sha256.Sum256(buf[:])
}

// nodeHash returns H(0x02 ‖ left ‖ right), or the zero hash when both
// children are the zero hash.
func nodeHash(left, right *[32]byte) [32]byte {
	if *left == zeroHash && *right == zeroHash {
		return zeroHash
	}
	var buf [1 + 32 + 32]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[33:], right[:])
	return sha256.Sum256(buf[:])
}

// buildBatchLen is the number of records hashed per Build work item: large
// enough that handing a batch to a worker costs little next to hashing it,
// small enough that the reading goroutine and the workers overlap.
const buildBatchLen = 4096

// buildInput is a run of records as read by Build, in input order: keys and
// values back to back in data, record i's key ending at ends[2i] and its
// value at ends[2i+1]. The iterator may reuse its slices, so they are copied
// here; one buffer, recycled once hashed, costs the reading goroutine far
// less than allocations per record.
type buildInput struct {
	data []byte
	ends []int
}

// buildBatch is one work item of Build.
type buildBatch struct {
	in buildInput
	// entries[i] and buckets[i] are record i's entry and bucket, filled in
	// by a worker.
	entries []entry
	buckets []uint16
}

// Build returns a tree holding the records yielded by records, the same tree
// as New followed by Set for each record in order (a key yielded twice keeps
// its last value). The yielded slices are copied, so the iterator may reuse
// them.
//
// Build is the startup path: it hashes keys and values on all cores while
// records is still being read, then fills and sorts each bucket once instead
// of inserting record by record.
func Build(records func(yield func(key, value []byte) bool)) *Tree {
	return build(records, runtime.GOMAXPROCS(0))
}

// build is Build with at most workers hashing goroutines (plus the one
// reading records); the tree does not depend on workers.
func build(records func(yield func(key, value []byte) bool), workers int) *Tree {
	workers = max(workers, 1)
	work := make(chan *buildBatch, 2*workers)
	// spare returns hashed batches' input buffers to the reader. Only about
	// as many buffers as there are batches in flight are ever allocated.
	spare := make(chan buildInput, 3*workers+1)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for batch := range work {
				batch.hash()
				select {
				case spare <- buildInput{data: batch.in.data[:0], ends: batch.in.ends[:0]}:
				default:
				}
				batch.in = buildInput{}
			}
		})
	}

	var batches []*buildBatch
	dataCapHint := 1 << 16
	newBatch := func() *buildBatch {
		select {
		case in := <-spare:
			return &buildBatch{in: in}
		default:
			return &buildBatch{in: buildInput{
				data: make([]byte, 0, dataCapHint),
				ends: make([]int, 0, 2*buildBatchLen),
			}}
		}
	}
	batch := newBatch()
	for key, value := range records {
		in := &batch.in
		in.data = append(in.data, key...)
		in.ends = append(in.ends, len(in.data))
		in.data = append(in.data, value...)
		in.ends = append(in.ends, len(in.data))
		if len(in.ends) == 2*buildBatchLen {
			// Later buffers start at about the size records have had
			// so far, so they rarely grow.
			dataCapHint = max(dataCapHint, len(in.data)+len(in.data)/4)
			batches = append(batches, batch)
			work <- batch
			batch = newBatch()
		}
	}
	if len(batch.in.ends) > 0 {
		batches = append(batches, batch)
		work <- batch
	}
	close(work)
	wg.Wait()

	t := New()
	t.fill(batches, workers)
	for b := range uint32(bucketCount) {
		if len(t.buckets[b]) > 0 {
			t.count += len(t.buckets[b])
			t.markDirty(uint16(b))
		}
	}
	t.update(workers)
	return t
}

// hash computes the batch's entries and buckets.
func (batch *buildBatch) hash() {
	n := len(batch.in.ends) / 2
	batch.entries = make([]entry, n)
	batch.buckets = make([]uint16, n)
	start := 0
	for i := range n {
		keyEnd, valueEnd := batch.in.ends[2*i], batch.in.ends[2*i+1]
		value := batch.in.data[keyEnd:valueEnd]
		e := &batch.entries[i]
		e.keyHash = sha256.Sum256(batch.in.data[start:keyEnd])
		vh := sha256.Sum256(value)
		e.entryHash = entryHash(&e.keyHash, &vh)
		e.value = bytes.Clone(value)
		batch.buckets[i] = bucketOf(&e.keyHash)
		start = valueEnd
	}
}

// fill moves the batches' entries into their buckets and sorts each bucket,
// splitting the buckets into ranges handled by up to workers goroutines.
// Within a bucket, entries arrive in input order, whatever the split.
func (t *Tree) fill(batches []*buildBatch, workers int) {
	parallelFor(bucketCount, bucketsPerWorkerMin, workers, func(lo, hi int) {
		// Every goroutine scans all the batches' bucket numbers, 2 bytes
		// a record, and copies only the entries of its own range.
		sizes := make([]int, hi-lo)
		for _, batch := range batches {
			for _, b := range batch.buckets {
				if int(b) >= lo && int(b) < hi {
					sizes[int(b)-lo]++
				}
			}
		}
		for i, n := range sizes {
			if n > 0 {
				// Exactly sized: most buckets never change after startup.
				t.buckets[lo+i] = make([]entry, 0, n)
			}
		}
		for _, batch := range batches {
			for i, b := range batch.buckets {
				if int(b) >= lo && int(b) < hi {
					t.buckets[b] = append(t.buckets[b], batch.entries[i])
				}
			}
		}
		for b := lo; b < hi; b++ {
			t.sortBucket(uint16(b))
		}
	})
}

// sortBucket sorts bucket b by keyHash and keeps only the last of entries
// with the same keyHash. The sort is stable and fill appended in input
// order, so the last of equal entries is the one yielded last, as with Set.
func (t *Tree) sortBucket(b uint16) {
	entries := t.buckets[b]
	slices.SortStableFunc(entries, func(x, y entry) int {
		return compareKeyHash(&x.keyHash, &y.keyHash)
	})
	n := 0
	for i := range entries {
		if n > 0 && entries[n-1].keyHash == entries[i].keyHash {
			entries[n-1] = entries[i]
			continue
		}
		entries[n] = entries[i]
		n++
	}
	clear(entries[n:]) // drop the replaced values for the collector
	t.buckets[b] = entries[:n]
}
