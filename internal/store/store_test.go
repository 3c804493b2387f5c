package store

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// block builds a committed block at height h with n transactions, setting
// the records in set and deleting the keys in del.
func block(h uint64, n int, set map[string]string, del ...string) *app.Committed {
	c := &app.Committed{Block: app.Block{Height: h, Time: 1_000 + h},
		Result: &app.BlockResult{Height: h, Time: 1_000 + h, Txs: []app.TxResult{}}}
	c.AppHash[0], c.AppHash[31] = byte(h), 0xaa
	c.Result.AppHash = fmt.Sprintf("0x%x", c.AppHash[:])
	for i := range n {
		raw := []byte(fmt.Sprintf("tx %d of block %d", i, h))
		c.Block.Txs = append(c.Block.Txs, raw)
		hash := app.TxHash(raw)
		c.Result.Txs = append(c.Result.Txs, app.TxResult{Hash: fmt.Sprintf("0x%x", hash[:]), Height: h, Index: i})
	}
	for k, v := range set {
		c.Changes = append(c.Changes, ledger.Record{Key: []byte(k), Value: []byte(v)})
	}
	for _, k := range del {
		c.Changes = append(c.Changes, ledger.Record{Key: []byte(k)})
	}
	return c
}

func records(t *testing.T, s *Store) map[string]string {
	t.Helper()
	recs, err := s.Records()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i, r := range recs {
		if i > 0 && bytes.Compare(recs[i-1].Key, r.Key) >= 0 {
			t.Fatalf("records out of order: %q before %q", recs[i-1].Key, r.Key)
		}
		out[string(r.Key)] = string(r.Value)
	}
	return out
}

func TestEmptyStoreHasNoHead(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	if _, _, _, ok, err := s.Head(); err != nil || ok {
		t.Fatalf("Head of an empty store: ok %v, err %v", ok, err)
	}
	if _, ok, err := s.Block(1); err != nil || ok {
		t.Fatalf("Block(1) of an empty store: ok %v, err %v", ok, err)
	}
	if _, err := s.ExportSnapshot(io.Discard, "c"); err == nil {
		t.Fatal("exporting an empty store succeeded")
	}
}

// TestCommitSurvivesReopen commits blocks that set, overwrite and delete
// records, closes the store and checks everything after reopening it.
func TestCommitSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.SaveGenesis([]byte(`{"chain_id":"c"}`)); err != nil {
		t.Fatal(err)
	}
	blocks := []*app.Committed{
		block(1, 3, map[string]string{"a": "1", "b": "2", "c": "3"}),
		block(2, 0, map[string]string{"b": "20"}, "c"),
		block(3, 2, map[string]string{"d": "4"}),
	}
	for _, c := range blocks {
		if err := s.Commit(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	defer s.Close()
	h, tm, hash, ok, err := s.Head()
	if err != nil || !ok || h != 3 || tm != 1_003 || hash != blocks[2].AppHash {
		t.Fatalf("Head = %d %d %x %v %v", h, tm, hash, ok, err)
	}
	want := map[string]string{"a": "1", "b": "20", "d": "4"}
	if got := records(t, s); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records %v, want %v", got, want)
	}
	for _, c := range blocks {
		b, ok, err := s.Block(c.Block.Height)
		if err != nil || !ok || b.Time != c.Block.Time || len(b.Txs) != len(c.Block.Txs) {
			t.Fatalf("block %d: %+v %v %v", c.Block.Height, b, ok, err)
		}
		for i, raw := range c.Block.Txs {
			if !bytes.Equal(b.Txs[i], raw) {
				t.Fatalf("block %d tx %d: %q, want %q", c.Block.Height, i, b.Txs[i], raw)
			}
			h, idx, ok, err := s.TxLocation(app.TxHash(raw))
			if err != nil || !ok || h != c.Block.Height || idx != i {
				t.Fatalf("TxLocation of block %d tx %d: %d %d %v %v", c.Block.Height, i, h, idx, ok, err)
			}
		}
		for i, raw := range c.Block.Txs {
			r, ok, err := s.TxResult(app.TxHash(raw))
			if err != nil || !ok || r.Hash != c.Result.Txs[i].Hash || r.Index != i {
				t.Fatalf("TxResult of block %d tx %d: %+v %v %v", c.Block.Height, i, r, ok, err)
			}
		}
		r, ok, err := s.Results(c.Block.Height)
		if err != nil || !ok || r.AppHash != c.Result.AppHash {
			t.Fatalf("results of block %d: %+v %v %v", c.Block.Height, r, ok, err)
		}
	}
	if _, _, ok, _ := s.TxLocation(app.TxHash([]byte("never sent"))); ok {
		t.Fatal("TxLocation found a transaction never committed")
	}
	if g, ok, err := s.Genesis(); err != nil || !ok || string(g) != `{"chain_id":"c"}` {
		t.Fatalf("genesis %q %v %v", g, ok, err)
	}
}

func TestRootsInIntervalOrder(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	for _, end := range []uint64{1_209_600, 604_800, 70_000_000_000} {
		if err := s.SaveRoot(end, []byte(fmt.Sprint(end))); err != nil {
			t.Fatal(err)
		}
	}
	roots, err := s.Roots()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range roots {
		got = append(got, string(r))
	}
	if want := "604800 1209600 70000000000"; strings.Join(got, " ") != want {
		t.Fatalf("roots %v, want %s", got, want)
	}
}

func TestDecodeBlockRejectsTruncation(t *testing.T) {
	enc := encodeBlock(app.Block{Time: 7, Txs: [][]byte{[]byte("abc"), []byte("de")}})
	b, err := decodeBlock(5, enc)
	if err != nil || b.Height != 5 || b.Time != 7 || len(b.Txs) != 2 || string(b.Txs[1]) != "de" {
		t.Fatalf("round trip: %+v %v", b, err)
	}
	for n := range len(enc) {
		if n == 8 || n == 15 { // whole time only; time and first tx: valid prefixes
			continue
		}
		if _, err := decodeBlock(5, enc[:n]); err == nil {
			t.Errorf("a block cut to %d of %d bytes decoded", n, len(enc))
		}
	}
}

func snapshotOf(t *testing.T, s *Store) ([]byte, SnapshotHeader) {
	t.Helper()
	var buf bytes.Buffer
	hdr, err := s.ExportSnapshot(&buf, "chain-x")
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), hdr
}

// TestSnapshotRoundTrip exports a store, imports it into an empty one and
// checks head, genesis and records; a non-empty store refuses the import.
func TestSnapshotRoundTrip(t *testing.T) {
	src := open(t, t.TempDir())
	defer src.Close()
	src.SaveGenesis([]byte(`{"g":1}`))
	big := strings.Repeat("v", 100_000)
	for _, c := range []*app.Committed{
		block(1, 1, map[string]string{"a": "1", "big": big, "c": "3"}),
		block(2, 1, map[string]string{"a": "10"}, "c"),
	} {
		if err := src.Commit(c); err != nil {
			t.Fatal(err)
		}
	}
	data, hdr := snapshotOf(t, src)
	if hdr.Height != 2 || hdr.Time != 1_002 || hdr.Records != 2 || hdr.ChainID != "chain-x" {
		t.Fatalf("header %+v", hdr)
	}

	rhdr, recs, err := ReadSnapshot(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(hdr)
	rb, _ := json.Marshal(rhdr)
	if !bytes.Equal(b, rb) {
		t.Fatalf("header read back %s, written %s", rb, b)
	}
	dst := open(t, t.TempDir())
	defer dst.Close()
	_, _, hash, _, _ := src.Head()
	if err := dst.ImportSnapshot(rhdr, hash, recs); err != nil {
		t.Fatal(err)
	}
	h, _, dhash, ok, err := dst.Head()
	if err != nil || !ok || h != 2 || dhash != hash {
		t.Fatalf("imported head %d %x %v %v", h, dhash, ok, err)
	}
	if got, want := records(t, dst), records(t, src); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatal("imported records differ from the source's")
	}
	if g, _, _ := dst.Genesis(); string(g) != `{"g":1}` {
		t.Fatalf("imported genesis %q", g)
	}
	if err := dst.ImportSnapshot(rhdr, hash, recs); err == nil {
		t.Fatal("importing into a non-empty store succeeded")
	}
}

// TestSnapshotRejectsDamage damages a snapshot in every way a file can be
// damaged (cut short, bytes flipped, bytes appended, a wrong record count,
// not a snapshot at all) and checks that ReadSnapshot refuses each.
func TestSnapshotRejectsDamage(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	if err := s.Commit(block(1, 0, map[string]string{"a": "1", "b": "2"})); err != nil {
		t.Fatal(err)
	}
	data, _ := snapshotOf(t, s)

	regzip := func(f func([]byte) []byte) []byte {
		zr, _ := gzip.NewReader(bytes.NewReader(data))
		raw, _ := io.ReadAll(zr)
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(f(raw))
		zw.Close()
		return out.Bytes()
	}
	cases := map[string][]byte{
		"empty":        nil,
		"not gzip":     []byte("restake-snapshot-1\n"),
		"cut short":    data[:len(data)/2],
		"no trailer":   data[:len(data)-4],
		"flipped byte": flip(data, len(data)-6),
		"stray bytes after the end": regzip(func(b []byte) []byte {
			return append(b, 0, 0, 0, 1, 'x')
		}),
		"other magic": regzip(func(b []byte) []byte {
			return append([]byte("restake-snapshot-2\n"), b[len(snapshotMagic):]...)
		}),
		"count too high": regzip(func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"records":2`), []byte(`"records":3`), 1)
		}),
		"no end record": regzip(func(b []byte) []byte { return b[:len(b)-4] }),
	}
	for name, d := range cases {
		if _, _, err := ReadSnapshot(bytes.NewReader(d)); err == nil {
			t.Errorf("%s: ReadSnapshot accepted it", name)
		}
	}
	if _, recs, err := ReadSnapshot(bytes.NewReader(data)); err != nil || len(recs) != 2 {
		t.Fatalf("the undamaged snapshot: %d records, %v", len(recs), err)
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x40
	return out
}
