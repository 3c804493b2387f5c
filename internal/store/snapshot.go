package store

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"

	"github.com/restake/restake/internal/ledger"
)

// A snapshot is the state at one height: a gzip stream of the magic
// "restake-snapshot-1\n", a length-prefixed JSON header, then every record
// as (u32 key length, key, u32 value length, value), then a record with an
// empty key ending the stream. Importing it into an empty store lets a node
// start at that height without replaying the chain; the node checks that
// the records hash to the header's app hash before it trusts them.

const snapshotMagic = "restake-snapshot-1\n"

// SnapshotHeader describes a snapshot.
type SnapshotHeader struct {
	ChainID string          `json:"chain_id"`
	Height  uint64          `json:"height"`
	Time    uint64          `json:"time"`
	AppHash string          `json:"app_hash"`
	Records int             `json:"records"`
	Genesis json.RawMessage `json:"genesis"`
}

// ExportSnapshot writes the store's committed state.
func (s *Store) ExportSnapshot(w io.Writer, chainID string) (SnapshotHeader, error) {
	snap := s.db.NewSnapshot()
	defer snap.Close()
	// Head, genesis and records all come from the one snapshot, so they
	// describe the same height even if a block commits meanwhile.
	h, t, appHash, ok, err := head(snap)
	if err != nil || !ok {
		return SnapshotHeader{}, errors.Join(err, errors.New("store: nothing committed to export"))
	}
	genesis, _, err := get(snap, keyGenesis)
	if err != nil {
		return SnapshotHeader{}, err
	}
	it, err := snap.NewIter(&pebble.IterOptions{LowerBound: []byte("s/"), UpperBound: []byte("s0")})
	if err != nil {
		return SnapshotHeader{}, err
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		n++
	}
	hdr := SnapshotHeader{ChainID: chainID, Height: h, Time: t, AppHash: fmt.Sprintf("0x%x", appHash[:]),
		Records: n, Genesis: genesis}
	zw := gzip.NewWriter(w)
	bw := bufio.NewWriter(zw)
	hb, _ := json.Marshal(hdr)
	bw.WriteString(snapshotMagic)
	writeChunk(bw, hb)
	for it.First(); it.Valid(); it.Next() {
		writeChunk(bw, it.Key()[2:])
		writeChunk(bw, it.Value())
	}
	writeChunk(bw, nil)
	if err := bw.Flush(); err != nil {
		return hdr, err
	}
	return hdr, zw.Close()
}

func writeChunk(w *bufio.Writer, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	w.Write(n[:])
	w.Write(b)
}

func readChunk(r *bufio.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > 64<<20 {
		return nil, errors.New("snapshot: chunk too large")
	}
	b := make([]byte, size)
	_, err := io.ReadFull(r, b)
	return b, err
}

// ReadSnapshot reads a snapshot's header and records.
func ReadSnapshot(r io.Reader) (SnapshotHeader, []ledger.Record, error) {
	var hdr SnapshotHeader
	zr, err := gzip.NewReader(r)
	if err != nil {
		return hdr, nil, fmt.Errorf("snapshot: %w", err)
	}
	br := bufio.NewReader(zr)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return hdr, nil, errors.New("snapshot: not a restake snapshot")
	}
	hb, err := readChunk(br)
	if err != nil {
		return hdr, nil, fmt.Errorf("snapshot header: %w", err)
	}
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return hdr, nil, fmt.Errorf("snapshot header: %w", err)
	}
	recs := make([]ledger.Record, 0, hdr.Records)
	for {
		k, err := readChunk(br)
		if err != nil {
			return hdr, nil, fmt.Errorf("snapshot: truncated (%w)", err)
		}
		if len(k) == 0 {
			break
		}
		v, err := readChunk(br)
		if err != nil {
			return hdr, nil, fmt.Errorf("snapshot: truncated (%w)", err)
		}
		recs = append(recs, ledger.Record{Key: k, Value: v})
	}
	if len(recs) != hdr.Records {
		return hdr, nil, fmt.Errorf("snapshot: %d records, the header says %d", len(recs), hdr.Records)
	}
	// Read to the end of the gzip stream, which checks its CRC and length,
	// and refuse anything after the end record.
	if n, err := io.Copy(io.Discard, br); err != nil || n != 0 {
		return hdr, nil, errors.Join(fmt.Errorf("snapshot: corrupt after its last record (%d stray bytes)", n), err)
	}
	return hdr, recs, nil
}

// ImportSnapshot writes a snapshot into an empty store, in one synced batch.
// The caller has verified the records against the header's app hash.
func (s *Store) ImportSnapshot(hdr SnapshotHeader, appHash [32]byte, recs []ledger.Record) error {
	if _, _, _, ok, err := s.Head(); err != nil || ok {
		return errors.Join(err, errors.New("store: import needs an empty store"))
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, r := range recs {
		if err := b.Set(append([]byte("s/"), r.Key...), r.Value, nil); err != nil {
			return err
		}
	}
	for _, kv := range [][2][]byte{
		{keyHeight, binary.BigEndian.AppendUint64(nil, hdr.Height)},
		{keyTime, binary.BigEndian.AppendUint64(nil, hdr.Time)},
		{keyAppHash, appHash[:]},
		{keyGenesis, hdr.Genesis},
	} {
		if err := b.Set(kv[0], kv[1], nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}
