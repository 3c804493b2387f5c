package cometnode

import (
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/apptest"
	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/store"
)

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

func testConfig(t *testing.T) config.Config {
	c := config.Default()
	ports := freePorts(t, 2)
	c.Node.BlockInterval = config.Duration{Duration: 100 * time.Millisecond}
	c.Node.MaxBlockTxs = 200
	c.Consensus.Engine = config.EngineCometBFT
	c.Consensus.P2PListen = fmt.Sprintf("tcp://127.0.0.1:%d", ports[0])
	c.Consensus.RPCListen = fmt.Sprintf("tcp://127.0.0.1:%d", ports[1])
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// running is a node with CometBFT attached, over a store in a home.
type running struct {
	node   *node.Node
	engine *Engine
	store  *store.Store
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if err := r.engine.Stop(); err != nil {
		t.Fatal(err)
	}
	r.node.WaitPublished()
	r.store.Close()
}

// start opens the home's store (a fresh chain or a restored one, as
// restake node does) and starts CometBFT over it.
func start(t *testing.T, h config.Home, c config.Config, doc []byte) *running {
	t.Helper()
	g, err := app.ParseGenesis(doc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(h.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	var a *app.App
	if height, tm, hash, ok, _ := st.Head(); ok {
		recs, err := st.Records()
		if err != nil {
			t.Fatal(err)
		}
		if a, err = app.Restore(g, st, recs, height, tm, hash); err != nil {
			t.Fatal(err)
		}
	} else {
		if a, err = app.New(g, st); err != nil {
			t.Fatal(err)
		}
		if err := a.CommitGenesis(); err != nil {
			t.Fatal(err)
		}
	}
	n := node.New(node.Config{MaxBlockTxs: c.Node.MaxBlockTxs}, a, st, time.Now)
	e, err := Start(h, c, n, doc, "test", nil)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return &running{node: n, engine: e, store: st}
}

func TestInitKeysKeepsExistingKeys(t *testing.T) {
	h := config.Home(t.TempDir())
	a, err := InitKeys(h, "v")
	if err != nil {
		t.Fatal(err)
	}
	b, err := InitKeys(h, "v")
	if err != nil {
		t.Fatal(err)
	}
	if a.NodeID != b.NodeID || !a.Validator.PubKey.Equals(b.Validator.PubKey) {
		t.Fatal("InitKeys replaced existing keys")
	}
	if err := WriteGenesis(h, []byte(`{}`), []Identity{a}); err == nil {
		t.Fatal("WriteGenesis accepted a document that is not a restake genesis")
	}
	doc, _ := json.Marshal(apptest.Genesis())
	if err := WriteGenesis(h, doc, nil); err == nil {
		t.Fatal("WriteGenesis accepted no validators")
	}
}

func TestSettingsFollowConfig(t *testing.T) {
	c := testConfig(t)
	c.Consensus.PersistentPeers = []string{"aa@127.0.0.1:1", "bb@127.0.0.1:2"}
	s := Settings(config.Home("/h"), c)
	if s.Consensus.TimeoutCommit != 100*time.Millisecond || s.Mempool.Size != c.Node.MempoolSize ||
		s.P2P.ListenAddress != c.Consensus.P2PListen || s.P2P.PersistentPeers != "aa@127.0.0.1:1,bb@127.0.0.1:2" ||
		!s.Mempool.Recheck || !s.Consensus.CreateEmptyBlocks || s.TxIndex.Indexer != "null" ||
		s.RootDir != "/h/cometbft" || s.Consensus.TimeoutPropose != c.Consensus.TimeoutPropose.Duration {
		t.Fatalf("settings do not follow the config: %+v", s)
	}
	if err := s.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
}

// TestOneValidator runs CometBFT in process over a node: transactions from
// several senders submitted concurrently all commit, readers racing the
// blocks always see a committed height whose tree root is its app hash,
// and after a stop the restart resumes the chain through the handshake.
func TestOneValidator(t *testing.T) {
	h := config.Home(t.TempDir())
	c := testConfig(t)
	g := apptest.Genesis()
	doc, _ := json.Marshal(g)
	id, err := InitKeys(h, "solo")
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteGenesis(h, doc, []Identity{id}); err != nil {
		t.Fatal(err)
	}
	r := start(t, h, c, doc)

	stopReading := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stopReading:
				readerErr <- nil
				return
			default:
			}
			var err error
			r.node.Read(func(a *app.App) {
				if a.Tree().Root() != a.AppHash() {
					err = fmt.Errorf("a reader saw height %d with a tree that is not its app hash", a.Height())
				}
			})
			if err != nil {
				readerErr <- err
				return
			}
		}
	}()

	const senders, each = 8, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	var hashes [][32]byte
	for s := 1; s <= senders; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			signer := apptest.NewSigner(s)
			for range each {
				raw := signer.Sign(ledger.Deposit{Strategy: "stETH", Amount: *uint256.NewInt(1000)})
				hash, lerr := r.node.Submit(raw)
				for lerr == ledger.ErrMempoolFull { // not expected here, but a client would retry
					time.Sleep(10 * time.Millisecond)
					hash, lerr = r.node.Submit(raw)
				}
				if lerr != nil {
					t.Errorf("sender %d: %v", s, lerr)
					return
				}
				mu.Lock()
				hashes = append(hashes, hash)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for _, hash := range hashes {
		for !r.node.Committed(hash) {
			if time.Now().After(deadline) {
				t.Fatalf("transaction %x not committed", hash)
			}
			time.Sleep(10 * time.Millisecond)
		}
		res, ok, err := r.node.TxResult(hash)
		if err != nil || !ok || res.Code != 0 {
			t.Fatalf("result of %x: %+v %v %v", hash, res, ok, err)
		}
	}
	close(stopReading)
	if err := <-readerErr; err != nil {
		t.Fatal(err)
	}
	if got := r.node.NextNonce(apptest.Addr(1)); got != each {
		t.Fatalf("sender 1's next nonce %d, want %d", got, each)
	}
	stoppedAt := r.node.Height()
	r.stop(t)

	// Restart: the handshake finds the application at its last committed
	// height and the chain goes on.
	r = start(t, h, c, doc)
	defer r.stop(t)
	if r.node.Height() < stoppedAt {
		t.Fatalf("restarted at height %d, below %d", r.node.Height(), stoppedAt)
	}
	signer := &apptest.Signer{Key: apptest.Key(1), Nonce: each}
	hash, lerr := r.node.Submit(signer.Sign(ledger.Deposit{Strategy: "stETH", Amount: *uint256.NewInt(1)}))
	if lerr != nil {
		t.Fatal(lerr)
	}
	for !r.node.Committed(hash) {
		if time.Now().After(deadline) {
			t.Fatal("no commit after the restart")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.engine.Height() <= int64(stoppedAt) {
		t.Fatalf("CometBFT at %d after the restart, stopped at %d", r.engine.Height(), stoppedAt)
	}
}
