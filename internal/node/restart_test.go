package node_test

import (
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/apptest"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/store"
	"github.com/restake/restake/internal/tx"
)

// TestRestartAfterMillionTxs commits 1,000,000 signed transactions (from
// 10,000 accounts, in blocks of 5,000), closes the store as a crash would
// leave it, and measures the restart: open the store, read every record,
// rebuild the ledger (with its invariant check) and the state tree, and
// check the app hash. The target is under 5 s. It takes a few
// minutes (signing dominates), so it runs only with RESTAKE_RESTART_BENCH=1.
func TestRestartAfterMillionTxs(t *testing.T) {
	if os.Getenv("RESTAKE_RESTART_BENCH") == "" {
		t.Skip("set RESTAKE_RESTART_BENCH=1 (takes minutes)")
	}
	const total, senders, perBlock = 1_000_000, 10_000, 5_000
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := apptest.Genesis()
	ks := make([]*keys.PrivateKey, senders)
	for i := range ks {
		ks[i] = apptest.Key(1000 + i)
		g.Balances = append(g.Balances, app.GenesisBalance{Account: ks[i].Address().Hex(), Token: "stETH",
			Amount: "1000000000000000000000000"})
	}
	a, err := app.New(g, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(apptest.GenesisTime, 0)}
	n := node.New(node.Config{MaxBlockTxs: perBlock, MempoolSize: perBlock * 2}, a, st, clock.now)
	build := time.Now()
	for start := 0; start < total; start += perBlock {
		txs := make([][]byte, perBlock)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < perBlock; i += workers {
					j := start + i
					tr := tx.Tx{ChainID: apptest.ChainID, Nonce: uint64(j / senders),
						Op: ledger.Deposit{Strategy: "stETH", Amount: *uint256.NewInt(1e12)}}
					h, _ := tr.SigningHash()
					sig, _ := ks[j%senders].Sign(h)
					txs[i], _ = tx.Signed{Tx: tr, Sig: sig}.Encode()
				}
			}(w)
		}
		wg.Wait()
		for _, raw := range txs {
			if _, err := n.Submit(raw); err != nil {
				t.Fatal(err)
			}
		}
		if err := n.ProduceBlock(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("built %d transactions in %d blocks in %s", total, total/perBlock, time.Since(build).Round(time.Second))
	want := a.AppHash()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()

	start := time.Now()
	st2, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	h, tm, hash, ok, err := st2.Head()
	if err != nil || !ok {
		t.Fatal(err)
	}
	recs, err := st2.Records()
	if err != nil {
		t.Fatal(err)
	}
	b, err := app.Restore(g, st2, recs, h, tm, hash)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if b.AppHash() != want || b.Height() != total/perBlock {
		t.Fatalf("restored at %d with %x, want %d with %x", b.Height(), b.AppHash(), total/perBlock, want)
	}
	t.Logf("restart with %d transactions in history (%d records): %s", total, len(recs), took.Round(time.Millisecond))
}
