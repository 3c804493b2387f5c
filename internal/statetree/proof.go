package statetree

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
)

// ErrMalformedProof is wrapped by Verify's error when a proof is invalid on
// its own, whatever the key and root: its entries are not strictly sorted or
// do not all belong to its bucket. It is also wrapped by UnmarshalJSON's
// error when the JSON does not describe a proof.
var ErrMalformedProof = errors.New("statetree: malformed proof")

// ErrProofMismatch is wrapped by Verify's error when a well-formed proof does
// not establish the claim: it is for another bucket, the key's presence or
// value differs from the claim, or the proof leads to another root.
var ErrProofMismatch = errors.New("statetree: proof does not match")

// Proof shows that a key is present with a given value, or absent, in the
// tree with a given root. See the package documentation for its meaning.
type Proof struct {
	// Bucket is the key's bucket, the first 16 bits of its keyHash.
	Bucket uint16
	// Entries is every entry of the bucket, sorted by KeyHash ascending.
	// It is empty when the bucket is.
	Entries []ProofEntry
	// Siblings are the hashes of the siblings of the nodes on the path from
	// the bucket's leaf to the root: Siblings[0] is the leaf's sibling and
	// Siblings[15] the sibling of the root's child.
	Siblings [depth][32]byte
}

// ProofEntry is one record of a proof's bucket, reduced to what its entry
// hash needs, so that a proof does not carry the other records' values.
type ProofEntry struct {
	// KeyHash is SHA-256 of the record's key.
	KeyHash [32]byte
	// ValueHash is SHA-256 of the record's value.
	ValueHash [32]byte
}

// Prove returns a proof that key is present with its current value, or
// absent, in the tree whose root Root returns now. It brings the hashes up to
// date first, so it need not follow a call to Root.
//
// The value hashes are recomputed from the stored values (the tree caches
// entry hashes instead), so a proof costs about one pass over the values of
// the key's bucket, some 15 records at 1,000,000.
//
// Prove checks its own proof against the root before returning it. An error,
// which wraps ErrProofMismatch, therefore means the tree's cached hashes
// disagree with its records: a bug, after which the tree's root must not be
// trusted.
func (t *Tree) Prove(key []byte) (Proof, error) {
	t.update(runtime.GOMAXPROCS(0))
	kh, b := keyHashOf(key)
	entries := t.buckets[b]
	p := Proof{Bucket: b, Entries: make([]ProofEntry, len(entries))}
	var valueHash *[32]byte
	for i := range entries {
		e := &p.Entries[i]
		e.KeyHash = entries[i].keyHash
		e.ValueHash = sha256.Sum256(entries[i].value)
		if e.KeyHash == kh {
			valueHash = &e.ValueHash
		}
	}
	n := leafBase + int(b)
	for level := range depth {
		p.Siblings[level] = t.nodes[n^1]
		n >>= 1
	}

	// The check rehashes the entries from the values, so it also catches a
	// cached entry hash that disagrees with its value.
	if err := verify(t.nodes[1], kh, valueHash, p); err != nil {
		return Proof{}, fmt.Errorf("statetree: proving key hash %x: %w", kh, err)
	}
	return p, nil
}

// Verify checks that p proves, against root, that key is present with value
// (value != nil) or that key is absent (value == nil). A present record with
// an empty value is claimed with a non-nil empty slice. Verify returns nil
// when the proof holds and otherwise an error wrapping ErrMalformedProof or
// ErrProofMismatch.
func Verify(root [32]byte, key, value []byte, p Proof) error {
	kh := sha256.Sum256(key)
	var valueHash *[32]byte
	if value != nil {
		vh := sha256.Sum256(value)
		valueHash = &vh
	}
	return verify(root, kh, valueHash, p)
}

// verify is Verify on the key's hash and the value's hash (nil to claim
// absence), so that Prove can check itself without rehashing the value.
func verify(root, keyHash [32]byte, valueHash *[32]byte, p Proof) error {
	if err := p.checkEntries(); err != nil {
		return err
	}
	if b := bucketOf(&keyHash); p.Bucket != b {
		return fmt.Errorf("%w: proof is for bucket %d, the key is in bucket %d",
			ErrProofMismatch, p.Bucket, b)
	}
	i, found := slices.BinarySearchFunc(p.Entries, keyHash, compareProofEntry)
	switch {
	case valueHash != nil && !found:
		return fmt.Errorf("%w: presence claimed, the key is absent from its bucket",
			ErrProofMismatch)
	case valueHash != nil && p.Entries[i].ValueHash != *valueHash:
		return fmt.Errorf("%w: the key's value hash is %x, the claimed value's is %x",
			ErrProofMismatch, p.Entries[i].ValueHash, *valueHash)
	case valueHash == nil && found:
		return fmt.Errorf("%w: absence claimed, the key is in its bucket", ErrProofMismatch)
	}

	var h hasher
	node := h.bucketHashOfProof(p.Entries)
	for level := range depth {
		sibling := &p.Siblings[level]
		if p.Bucket>>level&1 == 1 {
			node = nodeHash(sibling, &node)
		} else {
			node = nodeHash(&node, sibling)
		}
	}
	if node != root {
		return fmt.Errorf("%w: proof leads to root %x, not %x", ErrProofMismatch, node, root)
	}
	return nil
}

// checkEntries reports whether p's entries are strictly sorted and all in
// p's bucket. Sortedness is what lets a bucket's entries be hashed in one
// canonical order, so that an absent key cannot be hidden by listing the
// entries differently; membership of the bucket keeps a proof from moving
// an entry out of the bucket it is hashed in.
func (p Proof) checkEntries() error {
	for i := range p.Entries {
		e := &p.Entries[i]
		if b := bucketOf(&e.KeyHash); b != p.Bucket {
			return fmt.Errorf("%w: entry %d (key hash %x) is in bucket %d, not %d",
				ErrMalformedProof, i, e.KeyHash, b, p.Bucket)
		}
		if i > 0 && compareKeyHash(&p.Entries[i-1].KeyHash, &e.KeyHash) >= 0 {
			return fmt.Errorf("%w: entry %d (key hash %x) does not sort after entry %d",
				ErrMalformedProof, i, e.KeyHash, i-1)
		}
	}
	return nil
}

// compareProofEntry orders proof entries by key hash.
func compareProofEntry(e ProofEntry, kh [32]byte) int {
	return compareKeyHash(&e.KeyHash, &kh)
}

// proofJSON is the JSON form of a Proof. Pointers tell a missing field from
// a zero one, so that a truncated proof is rejected rather than read as
// zeros.
type proofJSON struct {
	Bucket   *uint32          `json:"bucket"`
	Entries  []proofEntryJSON `json:"entries"`
	Siblings []hexHash        `json:"siblings"`
}

// proofEntryJSON is the JSON form of a ProofEntry.
type proofEntryJSON struct {
	KeyHash   *hexHash `json:"key_hash"`
	ValueHash *hexHash `json:"value_hash"`
}

// hexHash is a hash written in JSON as "0x" and 64 lowercase hex digits,
// the form the HTTP API uses for every hash.
type hexHash [32]byte

// MarshalText writes h as 0x-prefixed lowercase hex.
func (h hexHash) MarshalText() ([]byte, error) {
	out := make([]byte, 2+hex.EncodedLen(len(h)))
	copy(out, "0x")
	hex.Encode(out[2:], h[:])
	return out, nil
}

// UnmarshalText reads a 0x-prefixed hex hash of exactly 32 bytes; upper-case
// digits are accepted.
func (h *hexHash) UnmarshalText(text []byte) error {
	digits, ok := bytes.CutPrefix(text, []byte("0x"))
	if !ok {
		return fmt.Errorf("%w: hash %q lacks the 0x prefix", ErrMalformedProof, text)
	}
	if len(digits) != hex.EncodedLen(len(h)) {
		return fmt.Errorf("%w: hash %q is not 64 hex digits", ErrMalformedProof, text)
	}
	if _, err := hex.Decode(h[:], digits); err != nil {
		return fmt.Errorf("%w: hash %q: %w", ErrMalformedProof, text, err)
	}
	return nil
}

// MarshalJSON encodes p as
// {"bucket":n,"entries":[{"key_hash":"0x…","value_hash":"0x…"}],"siblings":["0x…",…]}
// with hashes in 0x-prefixed lowercase hex and exactly 16 siblings.
func (p Proof) MarshalJSON() ([]byte, error) {
	bucket := uint32(p.Bucket)
	out := proofJSON{
		Bucket:   &bucket,
		Entries:  make([]proofEntryJSON, len(p.Entries)),
		Siblings: make([]hexHash, depth),
	}
	for i := range p.Entries {
		out.Entries[i] = proofEntryJSON{
			KeyHash:   (*hexHash)(&p.Entries[i].KeyHash),
			ValueHash: (*hexHash)(&p.Entries[i].ValueHash),
		}
	}
	for i := range p.Siblings {
		out.Siblings[i] = p.Siblings[i]
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes the form MarshalJSON writes. Every field must be
// present except entries (missing or null means none), unknown fields are
// rejected, and there must be exactly 16 siblings; errors wrap
// ErrMalformedProof or come from encoding/json. It checks the form only:
// whether the proof proves anything is for Verify to say.
func (p *Proof) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	// A proof arrives from an untrusted server; a field this package does
	// not know is more likely a mistake on either side than something to
	// ignore silently.
	dec.DisallowUnknownFields()
	var in proofJSON
	if err := dec.Decode(&in); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedProof, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the proof object", ErrMalformedProof)
	}
	switch {
	case in.Bucket == nil:
		return fmt.Errorf("%w: missing bucket", ErrMalformedProof)
	case *in.Bucket >= bucketCount:
		return fmt.Errorf("%w: bucket %d is not below %d", ErrMalformedProof, *in.Bucket,
			bucketCount)
	case len(in.Siblings) != depth:
		return fmt.Errorf("%w: %d siblings, want %d", ErrMalformedProof, len(in.Siblings),
			depth)
	}
	out := Proof{Bucket: uint16(*in.Bucket), Entries: make([]ProofEntry, len(in.Entries))}
	for i, e := range in.Entries {
		if e.KeyHash == nil || e.ValueHash == nil {
			return fmt.Errorf("%w: entry %d lacks key_hash or value_hash", ErrMalformedProof, i)
		}
		out.Entries[i] = ProofEntry{KeyHash: *e.KeyHash, ValueHash: *e.ValueHash}
	}
	for i, s := range in.Siblings {
		out.Siblings[i] = s
	}
	*p = out
	return nil
}
