package node_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/apptest"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/store"
)

// TestCrashChild is the process TestCrashRecovery kills: it opens (or
// restores) the chain in $RESTAKE_CRASH_DIR and commits blocks of signed
// deposits as fast as it can, printing the hash of every transaction right
// after its block is committed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("RESTAKE_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestCrashRecovery")
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openOrRestore(st)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(int64(a.Time()), 0)}
	n := node.New(node.Config{MaxBlockTxs: 50}, a, st, clock.now)
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		k := apptest.Key(1 + i%8)
		nonce := n.NextNonce(ledger.Address(k.Address()))
		raw, _ := apptest.SignWith(k, nonce, apptest.ChainID, ledger.Deposit{Strategy: "stETH", Amount: eth(1)})
		h, lerr := n.Submit(raw)
		if lerr != nil {
			t.Fatal(lerr)
		}
		if i%50 == 49 {
			if err := n.ProduceBlock(); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(out, "committed %x\n", h)
			out.Flush()
		}
	}
}

func openOrRestore(st *store.Store) (*app.App, error) {
	h, tm, hash, ok, err := st.Head()
	if err != nil {
		return nil, err
	}
	if !ok {
		a, err := app.New(apptest.Genesis(), st)
		if err != nil {
			return nil, err
		}
		return a, a.CommitGenesis()
	}
	recs, err := st.Records()
	if err != nil {
		return nil, err
	}
	return app.Restore(apptest.Genesis(), st, recs, h, tm, hash)
}

// TestCrashRecovery kills a committing node with SIGKILL at random moments
// and restarts it: every restart finds a consistent store (its records hash
// to the committed app hash, which Restore checks), no transaction reported
// committed is lost, and replaying every stored block from genesis
// reproduces every stored app hash.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	var committed []string
	for round := 0; round < 6; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v=false")
		cmd.Env = append(os.Environ(), "RESTAKE_CRASH_DIR="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it commit a few blocks, then kill it mid-stream.
		kill := time.After(time.Duration(300+rng.IntN(700)) * time.Millisecond)
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break wait
				}
				if h, ok := strings.CutPrefix(l, "committed "); ok {
					committed = append(committed, h)
				}
			case <-kill:
				_ = cmd.Process.Signal(syscall.SIGKILL)
				kill = nil
			}
		}
		_ = cmd.Wait()
	}
	if len(committed) == 0 {
		t.Fatal("the child committed nothing: the test exercised nothing")
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := openOrRestore(st)
	if err != nil {
		t.Fatalf("restart after SIGKILL: %v", err)
	}
	for _, h := range committed {
		var hash [32]byte
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			t.Fatalf("bad hash line %q", h)
		}
		copy(hash[:], b)
		if _, _, ok, err := st.TxLocation(hash); err != nil || !ok {
			t.Fatalf("transaction %s was reported committed but is not in the store", h)
		}
	}
	// Replay from genesis.
	replay, err := app.New(apptest.Genesis(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := replay.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	for h := uint64(1); h <= a.Height(); h++ {
		b, ok, err := st.Block(h)
		if err != nil || !ok {
			t.Fatalf("block %d missing: %v", h, err)
		}
		res, err := replay.FinalizeBlock(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := replay.Commit(); err != nil {
			t.Fatal(err)
		}
		stored, ok, err := st.Results(h)
		if err != nil || !ok || stored.AppHash != res.AppHash {
			t.Fatalf("block %d: replay app hash %s, stored %v", h, res.AppHash, stored)
		}
	}
	t.Logf("%d kills, %d blocks, %d transactions reported committed, all recovered", 6, a.Height(), len(committed))
}
