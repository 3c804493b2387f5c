// Package store keeps a node's committed blocks and state in Pebble. Each
// block commits as one synced batch: its transactions, results, transaction
// index, state changes and the new height and app hash, so that after a
// crash the store holds either the whole block or none of it.
//
// Keys:
//
//	m/height, m/time, m/apphash   the last committed block
//	m/genesis                     the genesis document the store was created with
//	s/<record key>                a ledger state record
//	b/<height u64>                a block: time u64, then (len u32, tx bytes)*
//	r/<height u64>                the block's results (JSON)
//	t/<tx hash>                   where a transaction landed: height u64, index u32,
//	                              then its result (JSON), so a lookup reads one key
//	q/<interval end u64>          a published rewards root (JSON)
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
)

// Store is a Pebble database of one chain.
type Store struct {
	db *pebble.DB
}

// quiet discards Pebble's informational logging; errors go to the node's
// log through the returned errors instead.
type quiet struct{}

func (quiet) Infof(string, ...any)  {}
func (quiet) Errorf(string, ...any) {}
func (quiet) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*Store, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

var (
	keyHeight  = []byte("m/height")
	keyTime    = []byte("m/time")
	keyAppHash = []byte("m/apphash")
	keyGenesis = []byte("m/genesis")
)

func heightKey(prefix string, h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefix), h)
}

// Commit writes a block atomically and syncs it to disk.
func (s *Store) Commit(c *app.Committed) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, r := range c.Changes {
		k := append([]byte("s/"), r.Key...)
		if r.Value == nil {
			if err := b.Delete(k, nil); err != nil {
				return err
			}
		} else if err := b.Set(k, r.Value, nil); err != nil {
			return err
		}
	}
	h := c.Block.Height
	if err := b.Set(heightKey("b/", h), encodeBlock(c.Block), nil); err != nil {
		return err
	}
	results, err := json.Marshal(c.Result)
	if err != nil {
		return err
	}
	if err := b.Set(heightKey("r/", h), results, nil); err != nil {
		return err
	}
	for i, raw := range c.Block.Txs {
		hash := app.TxHash(raw)
		v := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, h), uint32(i))
		if i < len(c.Result.Txs) {
			r, err := json.Marshal(c.Result.Txs[i])
			if err != nil {
				return err
			}
			v = append(v, r...)
		}
		if err := b.Set(append([]byte("t/"), hash[:]...), v, nil); err != nil {
			return err
		}
	}
	for _, kv := range [][2][]byte{
		{keyHeight, binary.BigEndian.AppendUint64(nil, h)},
		{keyTime, binary.BigEndian.AppendUint64(nil, c.Block.Time)},
		{keyAppHash, c.AppHash[:]},
	} {
		if err := b.Set(kv[0], kv[1], nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

func encodeBlock(b app.Block) []byte {
	out := binary.BigEndian.AppendUint64(nil, b.Time)
	for _, t := range b.Txs {
		out = binary.BigEndian.AppendUint32(out, uint32(len(t)))
		out = append(out, t...)
	}
	return out
}

func decodeBlock(h uint64, v []byte) (app.Block, error) {
	if len(v) < 8 {
		return app.Block{}, errors.New("store: short block")
	}
	b := app.Block{Height: h, Time: binary.BigEndian.Uint64(v)}
	v = v[8:]
	for len(v) > 0 {
		if len(v) < 4 {
			return b, errors.New("store: truncated block")
		}
		n := int(binary.BigEndian.Uint32(v))
		if len(v) < 4+n {
			return b, errors.New("store: truncated transaction")
		}
		b.Txs = append(b.Txs, append([]byte(nil), v[4:4+n]...))
		v = v[4+n:]
	}
	return b, nil
}

func (s *Store) get(k []byte) ([]byte, bool, error) { return get(s.db, k) }

// get reads k from r (the database or a snapshot of it), copying the value.
func get(r pebble.Reader, k []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

// Head returns the last committed height, time and app hash; ok is false
// for an empty store.
func (s *Store) Head() (height, time uint64, appHash [32]byte, ok bool, err error) {
	return head(s.db)
}

func head(r pebble.Reader) (height, time uint64, appHash [32]byte, ok bool, err error) {
	hv, ok, err := get(r, keyHeight)
	if err != nil || !ok {
		return 0, 0, appHash, false, err
	}
	tv, _, err := get(r, keyTime)
	if err != nil {
		return 0, 0, appHash, false, err
	}
	av, _, err := get(r, keyAppHash)
	if err != nil || len(hv) != 8 || len(tv) != 8 || len(av) != 32 {
		return 0, 0, appHash, false, errors.Join(err, errors.New("store: corrupt head"))
	}
	copy(appHash[:], av)
	return binary.BigEndian.Uint64(hv), binary.BigEndian.Uint64(tv), appHash, true, nil
}

// SaveGenesis records the genesis document the chain started from.
func (s *Store) SaveGenesis(doc []byte) error { return s.db.Set(keyGenesis, doc, pebble.Sync) }

// Genesis returns the recorded genesis document.
func (s *Store) Genesis() ([]byte, bool, error) { return s.get(keyGenesis) }

// Records returns every committed state record.
func (s *Store) Records() ([]ledger.Record, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte("s/"), UpperBound: []byte("s0")})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var recs []ledger.Record
	for it.First(); it.Valid(); it.Next() {
		recs = append(recs, ledger.Record{Key: append([]byte(nil), it.Key()[2:]...),
			Value: append([]byte(nil), it.Value()...)})
	}
	return recs, it.Error()
}

// Block returns a committed block.
func (s *Store) Block(h uint64) (app.Block, bool, error) {
	v, ok, err := s.get(heightKey("b/", h))
	if err != nil || !ok {
		return app.Block{}, ok, err
	}
	b, err := decodeBlock(h, v)
	return b, err == nil, err
}

// Results returns a committed block's results.
func (s *Store) Results(h uint64) (*app.BlockResult, bool, error) {
	v, ok, err := s.get(heightKey("r/", h))
	if err != nil || !ok {
		return nil, ok, err
	}
	var r app.BlockResult
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, false, fmt.Errorf("store: results of block %d: %w", h, err)
	}
	return &r, true, nil
}

// TxLocation returns where a transaction was committed.
func (s *Store) TxLocation(hash [32]byte) (height uint64, index int, ok bool, err error) {
	v, ok, err := s.get(append([]byte("t/"), hash[:]...))
	if err != nil || !ok || len(v) < 12 {
		return 0, 0, false, err
	}
	return binary.BigEndian.Uint64(v), int(binary.BigEndian.Uint32(v[8:])), true, nil
}

// TxResult returns a committed transaction's result, from its index entry
// alone (not its whole block's results).
func (s *Store) TxResult(hash [32]byte) (app.TxResult, bool, error) {
	v, ok, err := s.get(append([]byte("t/"), hash[:]...))
	if err != nil || !ok || len(v) <= 12 {
		return app.TxResult{}, false, err
	}
	var r app.TxResult
	if err := json.Unmarshal(v[12:], &r); err != nil {
		return app.TxResult{}, false, fmt.Errorf("store: result of %x: %w", hash, err)
	}
	return r, true, nil
}

// SaveRoot records a published rewards root under its interval's end.
func (s *Store) SaveRoot(intervalEnd uint64, doc []byte) error {
	return s.db.Set(heightKey("q/", intervalEnd), doc, pebble.Sync)
}

// Roots returns every published rewards root document, oldest first.
func (s *Store) Roots() ([][]byte, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte("q/"), UpperBound: []byte("q0")})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out [][]byte
	for it.First(); it.Valid(); it.Next() {
		out = append(out, append([]byte(nil), it.Value()...))
	}
	return out, it.Error()
}
