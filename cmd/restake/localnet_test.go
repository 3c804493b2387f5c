package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/apptest"
	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
)

// TestMain lets the test binary stand in for the restake binary: the
// localnet test starts its validators as child processes of this binary
// with RESTAKE_TEST_CLI=1.
func TestMain(m *testing.M) {
	if os.Getenv("RESTAKE_TEST_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// net4 is a running four-validator localnet and the accounts that send to it.
type net4 struct {
	t       *testing.T
	dir     string
	net     *localnet
	senders []*keys.PrivateKey
	nonces  []uint64
	mu      sync.Mutex
	acked   map[string]int // transaction hash → index of the node that admitted it
}

func (n *net4) cli(args ...string) string {
	n.t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		n.t.Fatalf("restake %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// freeBase finds a port p such that p … p+count-1 are all free.
func freeBase(t *testing.T, count int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(30000)
		free := true
		for p := base; p < base+count && free; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func startNet4(t *testing.T) *net4 {
	t.Helper()
	t.Setenv("RESTAKE_PASSWORD", "")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	localnetExe = func() (string, error) { return exe, nil }
	localnetEnv = func() []string { return append(os.Environ(), "RESTAKE_TEST_CLI=1") }
	t.Cleanup(func() { localnetExe, localnetEnv = os.Executable, os.Environ })

	n := &net4{t: t, dir: t.TempDir(), acked: map[string]int{}}
	apiBase, p2pBase := freeBase(t, 4), freeBase(t, 8)
	n.cli("localnet", "init", "--dir", n.dir, "--validators", "4", "--accounts", "20",
		"--api-port", fmt.Sprint(apiBase), "--p2p-port", fmt.Sprint(p2pBase),
		"--block-interval", "200ms", "--timeout-propose", "1s")
	t.Cleanup(func() {
		var out bytes.Buffer
		run([]string{"localnet", "stop", "--dir", n.dir, "--timeout", "10s"}, &out, &out)
		if t.Failed() {
			for i := range 4 {
				t.Logf("node%d log:\n%s", i, tailFile(filepath.Join(n.dir, fmt.Sprintf("node%d", i), "node.log"), 30))
			}
		}
	})
	n.cli("localnet", "start", "--dir", n.dir, "--timeout", "90s")
	if n.net, err = readLocalnet(n.dir); err != nil {
		t.Fatal(err)
	}
	kr := openKeyring(config.Home(filepath.Join(n.dir, "node0")))
	for i := range 20 {
		k, err := kr.load(fmt.Sprintf("user%d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		n.senders = append(n.senders, k)
	}
	n.nonces = make([]uint64, len(n.senders))
	return n
}

// sign makes count deposits from sender s, with its next nonces.
func (n *net4) sign(s, count int) []string {
	out := make([]string, count)
	for i := range out {
		raw, err := apptest.SignWith(n.senders[s], n.nonces[s], n.net.ChainID,
			ledger.Deposit{Strategy: "stETH", Amount: *uint256.NewInt(uint64(1000 + i))})
		if err != nil {
			n.t.Fatal(err)
		}
		n.nonces[s]++
		out[i] = "0x" + hex.EncodeToString(raw)
	}
	return out
}

// submit posts a batch to one node and records what it admitted.
func (n *net4) submit(node int, txs []string) error {
	var res struct {
		Results []struct {
			Hash, Status, Error string
		} `json:"results"`
	}
	if err := newClient(n.net.Nodes[node].API).post("/v1/txs", map[string]any{"txs": txs}, &res); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, r := range res.Results {
		if r.Status != "pending" {
			return fmt.Errorf("node%d refused %s: %s", node, r.Hash, r.Error)
		}
		n.acked[r.Hash] = node
	}
	return nil
}

type status struct {
	Height  uint64 `json:"height"`
	AppHash string `json:"app_hash"`
}

func (n *net4) status(node int) (status, error) {
	var st status
	err := newClient(n.net.Nodes[node].API).get("/v1/status", &st)
	return st, err
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func (n *net4) waitFor(what string, timeout time.Duration, cond func() bool) {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			n.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (n *net4) heightAtLeast(nodes []int, h uint64) func() bool {
	return func() bool {
		for _, i := range nodes {
			if st, err := n.status(i); err != nil || st.Height < h {
				return false
			}
		}
		return true
	}
}

// committedNonces reports whether every sender's committed nonce on the
// given nodes has reached what was signed.
func (n *net4) committedNonces(nodes []int) func() bool {
	return func() bool {
		for _, i := range nodes {
			c := newClient(n.net.Nodes[i].API)
			for s, k := range n.senders {
				var acct struct {
					Nonce uint64 `json:"nonce"`
				}
				if c.get("/v1/accounts/"+k.Address().Hex(), &acct) != nil || acct.Nonce != n.nonces[s] {
					return false
				}
			}
		}
		return true
	}
}

// sameBlocks checks that blocks 1..h (transactions, results and app hash)
// are byte-identical on the given nodes.
func (n *net4) sameBlocks(nodes []int, h uint64) {
	n.t.Helper()
	for height := uint64(1); height <= h; height++ {
		var first []byte
		for _, i := range nodes {
			var raw json.RawMessage
			if err := newClient(n.net.Nodes[i].API).get(fmt.Sprintf("/v1/blocks/%d", height), &raw); err != nil {
				n.t.Fatalf("node%d block %d: %v", i, height, err)
			}
			if first == nil {
				first = raw
			} else if !bytes.Equal(first, raw) {
				n.t.Fatalf("block %d differs between node%d and node%d:\n%s\n%s", height, nodes[0], i, first, raw)
			}
		}
	}
}

// sameResults checks that every admitted transaction is committed with
// the same result on the given nodes.
func (n *net4) sameResults(nodes []int) {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	for hash := range n.acked {
		var first []byte
		for _, i := range nodes {
			var raw json.RawMessage
			if err := newClient(n.net.Nodes[i].API).get("/v1/txs/"+hash, &raw); err != nil {
				n.t.Fatalf("node%d lost admitted transaction %s: %v", i, hash, err)
			}
			var r struct{ Status, Error string }
			json.Unmarshal(raw, &r)
			if r.Status != "committed" || r.Error != "" {
				n.t.Fatalf("node%d: transaction %s: %s", i, hash, raw)
			}
			if first == nil {
				first = raw
			} else if !bytes.Equal(first, raw) {
				n.t.Fatalf("transaction %s differs between nodes:\n%s\n%s", hash, first, raw)
			}
		}
	}
}

func (n *net4) kill(node int) {
	n.t.Helper()
	pid := runningPid(n.dir, n.net.Nodes[node])
	if pid == 0 {
		n.t.Fatalf("node%d is not running", node)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		n.t.Fatal(err)
	}
	n.waitFor(fmt.Sprintf("node%d to die", node), 10*time.Second, func() bool { return !alive(pid) })
}

// load keeps sending deposits to the given nodes until stop is closed.
func (n *net4) load(nodes []int, stop chan struct{}) chan error {
	done := make(chan error, 1)
	go func() {
		for round := 0; ; round++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			s := round % len(n.senders)
			if err := n.submit(nodes[s%len(nodes)], n.sign(s, 5)); err != nil {
				done <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return done
}

// TestLocalnet runs four validators as processes: 2,000 transactions
// across all of them, then one and two validators killed under load, then
// a replay of the chain by the embedded pipeline.
func TestLocalnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four validator processes")
	}
	n := startNet4(t)
	all := []int{0, 1, 2, 3}
	n.waitFor("every validator past height 1", 60*time.Second, n.heightAtLeast(all, 2))

	// 2,000 transactions: 100 from each of 20 senders, each sender through
	// one node, the senders spread over all four.
	var wg sync.WaitGroup
	errs := make(chan error, len(n.senders))
	batches := make([][]string, len(n.senders))
	for s := range n.senders {
		batches[s] = n.sign(s, 100)
	}
	for s := range n.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.submit(s%4, batches[s]); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(n.acked) != 2000 {
		t.Fatalf("%d transactions admitted, want 2000", len(n.acked))
	}
	began := time.Now()
	n.waitFor("2,000 transactions committed on every node", 120*time.Second, n.committedNonces(all))
	t.Logf("2,000 transactions committed on four nodes %s after submission", time.Since(began).Round(time.Millisecond))
	st, _ := n.status(0)
	n.waitFor("every node at node0's height", 30*time.Second, n.heightAtLeast(all, st.Height+1))
	n.sameBlocks(all, st.Height)
	n.sameResults(all)
	t.Logf("2,000 transactions: identical blocks 1-%d and results on four nodes", st.Height)

	// CometBFT agreed on restake's app hash: the header of block h+1
	// carries the app hash after block h.
	var blk struct {
		AppHash string `json:"app_hash"`
	}
	newClient(n.net.Nodes[0].API).get(fmt.Sprintf("/v1/blocks/%d", st.Height), &blk)
	var header struct {
		Result struct {
			Block struct {
				Header struct {
					AppHash string `json:"app_hash"`
				} `json:"header"`
			} `json:"block"`
		} `json:"result"`
	}
	rpc := "http://" + strings.TrimPrefix(n.net.Nodes[1].RPC, "tcp://")
	if err := getJSON(fmt.Sprintf("%s/block?height=%d", rpc, st.Height+1), &header); err != nil {
		t.Fatal(err)
	}
	if got := "0x" + strings.ToLower(header.Result.Block.Header.AppHash); got != blk.AppHash {
		t.Fatalf("CometBFT's header app hash %s, restake's %s", got, blk.AppHash)
	}

	// A transaction that fails CheckTx never enters a block, whether it
	// comes through restake's API or straight to CometBFT's RPC.
	bad := n.sign(0, 2)[1] // skips a nonce
	n.nonces[0] -= 2
	forgedRaw, _ := hex.DecodeString(strings.TrimPrefix(n.sign(1, 1)[0], "0x"))
	n.nonces[1]--
	forgedRaw[len(forgedRaw)-1] ^= 0xff // the recovery id: out of range
	forged := "0x" + hex.EncodeToString(forgedRaw)
	var bt struct {
		Result struct {
			Code uint32 `json:"code"`
			Log  string `json:"log"`
		} `json:"result"`
	}
	for _, tx := range []string{bad, forged} {
		if err := getJSON(rpc+"/broadcast_tx_sync?tx="+tx, &bt); err != nil {
			t.Fatal(err)
		}
		if bt.Result.Code == 0 {
			t.Fatalf("CometBFT admitted %s", tx[:20])
		}
		if err := n.submit(2, []string{tx}); err == nil {
			t.Fatal("restake's API admitted a transaction that fails CheckTx")
		}
	}

	// Kill one validator under load: the other three keep committing.
	stop := make(chan struct{})
	loadDone := n.load([]int{0, 1, 2}, stop)
	n.kill(3)
	st, _ = n.status(0)
	n.waitFor("three validators to commit 5 more blocks", 60*time.Second, n.heightAtLeast([]int{0, 1, 2}, st.Height+5))
	close(stop)
	if err := <-loadDone; err != nil {
		t.Fatal(err)
	}
	n.waitFor("the load committed on three nodes", 60*time.Second, n.committedNonces([]int{0, 1, 2}))
	// Restarted, it catches up and agrees.
	n.cli("localnet", "start", "--dir", n.dir, "--timeout", "60s")
	st, _ = n.status(0)
	n.waitFor("node3 to catch up", 90*time.Second, n.heightAtLeast(all, st.Height))
	n.sameBlocks(all, st.Height)
	n.sameResults(all)
	t.Logf("node3 killed and restarted: caught up to %d, identical blocks", st.Height)

	// Kill two of four: no quorum, no blocks, no divergence.
	n.kill(2)
	n.kill(3)
	time.Sleep(time.Second)
	a, _ := n.status(0)
	b, _ := n.status(1)
	stalled := max(a.Height, b.Height)
	n.waitFor("node0 and node1 at the same height", 10*time.Second, n.heightAtLeast([]int{0, 1}, stalled))
	if err := n.submit(0, n.sign(4, 1)); err != nil { // admitted, waits for a quorum
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // 15 block intervals
	for _, i := range []int{0, 1} {
		if st, _ := n.status(i); st.Height != stalled {
			t.Fatalf("node%d committed height %d with two of four validators down (stalled at %d)", i, st.Height, stalled)
		}
	}
	n.sameBlocks([]int{0, 1}, stalled)
	// One back: a quorum again, and the waiting transaction commits.
	n.cli("localnet", "start", "--dir", n.dir, "--node", "node2", "--timeout", "60s")
	n.waitFor("commits to resume", 60*time.Second, n.heightAtLeast([]int{0, 1, 2}, stalled+3))
	n.waitFor("the waiting transaction", 60*time.Second, n.committedNonces([]int{0, 1, 2}))
	n.cli("localnet", "start", "--dir", n.dir, "--timeout", "60s")
	st, _ = n.status(0)
	n.waitFor("every node to catch up", 90*time.Second, n.heightAtLeast(all, st.Height))
	n.sameBlocks(all, st.Height)
	n.sameResults(all)
	t.Logf("two of four killed: stalled at %d without divergence; resumed to %d; %d transactions, none lost",
		stalled, st.Height, len(n.acked))

	// The embedded pipeline replays every node's blocks to the same app
	// hashes CometBFT committed.
	n.cli("localnet", "stop", "--dir", n.dir)
	for i := range 4 {
		out := n.cli("replay", "--home", filepath.Join(n.dir, fmt.Sprintf("node%d", i)))
		if !strings.Contains(out, "every app hash matches") {
			t.Fatalf("replay of node%d: %s", i, out)
		}
	}
}

func getJSON(url string, out any) error {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}
