package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/holiman/uint256"
	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/api"
	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/cometnode"
	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/store"
	"github.com/restake/restake/internal/tx"
)

// benchReport is what restake bench measures.
type benchReport struct {
	Cores             int     `json:"cores"`
	VerifyPerSec      float64 `json:"secp256k1_verify_per_sec_all_cores"`
	Txs               int     `json:"txs"`
	CommittedPerSec   float64 `json:"committed_tx_per_sec"`
	RatioToVerify     float64 `json:"ratio_to_verify"`
	LatencyRate       float64 `json:"latency_test_tx_per_sec"`
	LatencyP50Millis  float64 `json:"submit_and_wait_p50_ms"`
	LatencyP99Millis  float64 `json:"submit_and_wait_p99_ms"`
	Blocks            uint64  `json:"blocks"`
	FailedSubmissions int64   `json:"failed_submissions"`
	// Consensus holds, with --consensus, the same run under CometBFT with
	// one and with four validators.
	Consensus []engineReport `json:"consensus,omitempty"`
}

// engineReport is one consensus setup's figures, beside the embedded run's.
type engineReport struct {
	Name              string  `json:"name"`
	Validators        int     `json:"validators"`
	CommittedPerSec   float64 `json:"committed_tx_per_sec"`
	RatioToEmbedded   float64 `json:"ratio_to_embedded"`
	LatencyRate       float64 `json:"latency_test_tx_per_sec"`
	LatencyP50Millis  float64 `json:"submit_and_wait_p50_ms"`
	LatencyP99Millis  float64 `json:"submit_and_wait_p99_ms"`
	Blocks            uint64  `json:"blocks"`
	FailedSubmissions int64   `json:"failed_submissions"`
}

func newBenchCmd(g *globals) *cobra.Command {
	var txs, senders, batch, conns int
	var blockInterval time.Duration
	var cpuProfile string
	var consensus bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure committed transactions per second through the HTTP API",
		Long: `Starts a node in a temporary home with its API on 127.0.0.1, measures this
machine's raw secp256k1 signature verification rate on all cores, then sends
--txs pre-signed deposits from --senders accounts through POST /v1/txs (in
batches, over --conns connections) and reports committed transactions per
second, its ratio to the verification rate, and the p50/p99 latency of
submit-and-wait at half that rate.

With --consensus it then runs the same transactions on CometBFT: one
validator in this process, and four validators as separate processes (a
localnet), each sender through one of their APIs; it reports each one's
committed rate as a ratio to the embedded node's from the same run, and
its submit-and-wait latency. Figures go in docs/benchmarks.md.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			rep, err := runBench(g, txs, senders, batch, conns, blockInterval, consensus)
			if err != nil {
				return err
			}
			text := fmt.Sprintf(`cores                         %d
secp256k1 verify (all cores)  %.0f /s
committed through HTTP        %.0f tx/s over %d txs in %d blocks
ratio to verification         %.2f
submit-and-wait at %.0f tx/s   p50 %.1f ms, p99 %.1f ms
failed submissions            %d`, rep.Cores, rep.VerifyPerSec, rep.CommittedPerSec, rep.Txs, rep.Blocks,
				rep.RatioToVerify, rep.LatencyRate, rep.LatencyP50Millis, rep.LatencyP99Millis, rep.FailedSubmissions)
			if len(rep.Consensus) > 0 {
				text += fmt.Sprintf("\n\n%-22s %10s %9s %8s %20s %10s %10s\n", "engine", "tx/s", "ratio", "blocks",
					"submit-and-wait at", "p50 ms", "p99 ms")
				text += fmt.Sprintf("%-22s %10.0f %9.2f %8d %15.0f tx/s %10.1f %10.1f", "embedded", rep.CommittedPerSec,
					1.0, rep.Blocks, rep.LatencyRate, rep.LatencyP50Millis, rep.LatencyP99Millis)
				for _, e := range rep.Consensus {
					text += fmt.Sprintf("\n%-22s %10.0f %9.2f %8d %15.0f tx/s %10.1f %10.1f", e.Name, e.CommittedPerSec,
						e.RatioToEmbedded, e.Blocks, e.LatencyRate, e.LatencyP50Millis, e.LatencyP99Millis)
				}
			}
			return g.print(rep, text)
		},
	}
	cmd.Flags().IntVar(&txs, "txs", 40000, "transactions in the throughput run")
	cmd.Flags().IntVar(&senders, "senders", 1000, "distinct sending accounts")
	cmd.Flags().IntVar(&batch, "batch", 100, "transactions per POST /v1/txs")
	cmd.Flags().IntVar(&conns, "conns", 2*runtime.GOMAXPROCS(0), "concurrent HTTP connections")
	cmd.Flags().DurationVar(&blockInterval, "block-interval", 200*time.Millisecond, "the node's block interval")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	cmd.Flags().BoolVar(&consensus, "consensus", false, "also run CometBFT with one and with four validators")
	return cmd
}

// verifyRate measures keys.Recover per second on every core.
func verifyRate(samples [][]byte) float64 {
	type item struct {
		h   [32]byte
		sig [65]byte
	}
	items := make([]item, len(samples))
	for i, raw := range samples {
		s, _ := tx.Decode(raw)
		h, _ := s.Tx.SigningHash()
		items[i] = item{h, s.Sig}
	}
	var count atomic.Int64
	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; time.Now().Before(deadline); i++ {
				it := items[i%len(items)]
				if _, err := keys.Recover(it.h, it.sig); err == nil {
					count.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	return float64(count.Load()) / time.Since(start).Seconds()
}

// benchTarget is a chain under measurement: the APIs to send to (sender i
// uses apis[i % len(apis)]), and how to see its height and whether a
// transaction committed.
type benchTarget struct {
	apis      []string
	height    func() uint64
	committed func(hash [32]byte) bool
}

// benchChainID is the chain id the bench signs for.
const benchChainID = "restake-bench"

func runBench(g *globals, txs, senders, batch, conns int, blockInterval time.Duration, consensus bool) (benchReport, error) {
	rep := benchReport{Cores: runtime.GOMAXPROCS(0), Txs: txs}
	tuneGC() // as restake node does
	fmt.Fprintf(g.stderr, "bench: generating %d keys and signing %d transactions…\n", senders, txs)
	ks := make([]*keys.PrivateKey, senders)
	var err error
	for i := range ks {
		if ks[i], err = keys.Generate(rand.Reader); err != nil {
			return rep, err
		}
	}
	gen := defaultGenesis(benchChainID, ks[0].Address(), uint64(time.Now().Unix()))
	for _, k := range ks {
		gen.Balances = append(gen.Balances, app.GenesisBalance{Account: k.Address().Hex(), Token: "stETH",
			Amount: "1000000000000000000000000"})
	}
	signed := signDeposits(ks, txs+2000)
	rep.VerifyPerSec = verifyRate(signed[:min(len(signed), 2000)])

	// Every setup runs a fresh chain from the same genesis, so the same
	// signed transactions (nonces from 0) serve them all.
	setups := []struct {
		name       string
		validators int
	}{{"embedded", 0}}
	if consensus {
		setups = append(setups, struct {
			name       string
			validators int
		}{"cometbft, 1 validator", 1}, struct {
			name       string
			validators int
		}{"cometbft, 4 validators", 4})
	}
	for _, s := range setups {
		dir, err := os.MkdirTemp("", "restake-bench-")
		if err != nil {
			return rep, err
		}
		fmt.Fprintf(g.stderr, "bench: %s…\n", s.name)
		m, err := benchSetup(g, dir, gen, s.validators, txs, blockInterval, func(t benchTarget) benchMeasure {
			return measure(g, t, signed, txs, senders, batch, conns)
		})
		os.RemoveAll(dir)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", s.name, err)
		}
		if s.validators == 0 {
			rep.CommittedPerSec, rep.Blocks, rep.FailedSubmissions = m.perSec, m.blocks, m.failed
			rep.RatioToVerify = rep.CommittedPerSec / rep.VerifyPerSec
			rep.LatencyRate, rep.LatencyP50Millis, rep.LatencyP99Millis = m.latRate, m.p50, m.p99
			continue
		}
		rep.Consensus = append(rep.Consensus, engineReport{Name: s.name, Validators: s.validators,
			CommittedPerSec: m.perSec, RatioToEmbedded: m.perSec / rep.CommittedPerSec, Blocks: m.blocks,
			FailedSubmissions: m.failed, LatencyRate: m.latRate, LatencyP50Millis: m.p50, LatencyP99Millis: m.p99})
	}
	return rep, nil
}

// benchSetup starts one chain in dir (embedded when validators is 0,
// CometBFT in this process for 1, a localnet of separate processes
// otherwise), runs fn on it, and stops it.
func benchSetup(g *globals, dir string, gen *app.Genesis, validators, txs int, blockInterval time.Duration,
	fn func(benchTarget) benchMeasure) (benchMeasure, error) {
	if validators > 1 {
		return benchLocalnet(g, dir, gen, validators, txs, blockInterval, fn)
	}
	h := config.Home(dir)
	st, err := store.Open(h.DataDir())
	if err != nil {
		return benchMeasure{}, err
	}
	defer st.Close()
	a, err := app.New(gen, st)
	if err != nil {
		return benchMeasure{}, err
	}
	if err := a.CommitGenesis(); err != nil {
		return benchMeasure{}, err
	}
	cfg := config.Default()
	cfg.Node.BlockInterval = config.Duration{Duration: blockInterval}
	cfg.Node.MaxBlockTxs, cfg.Node.MempoolSize = 10000, txs+10000
	n := node.New(node.Config{BlockInterval: blockInterval, MaxBlockTxs: cfg.Node.MaxBlockTxs,
		MempoolSize: cfg.Node.MempoolSize, EmptyBlocks: true}, a, st, time.Now)
	defer n.WaitPublished()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if validators == 1 {
		ports, err := freePorts(2)
		if err != nil {
			return benchMeasure{}, err
		}
		cfg.Consensus.Engine = config.EngineCometBFT
		cfg.Consensus.P2PListen = fmt.Sprintf("tcp://127.0.0.1:%d", ports[0])
		cfg.Consensus.RPCListen = fmt.Sprintf("tcp://127.0.0.1:%d", ports[1])
		doc, _ := json.Marshal(gen)
		id, err := cometnode.InitKeys(h, "bench")
		if err != nil {
			return benchMeasure{}, err
		}
		if err := cometnode.WriteGenesis(h, doc, []cometnode.Identity{id}); err != nil {
			return benchMeasure{}, err
		}
		e, err := cometnode.Start(h, cfg, n, doc, version, nil)
		if err != nil {
			return benchMeasure{}, err
		}
		defer e.Stop()
	} else {
		go n.Run(ctx)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return benchMeasure{}, err
	}
	srv := api.NewServer(ln.Addr().String(), api.New(n, api.Options{MaxBodyBytes: 16 << 20}))
	go srv.Serve(ln)
	defer srv.Close()
	return fn(benchTarget{apis: []string{"http://" + ln.Addr().String()}, height: n.Height, committed: n.Committed}), nil
}

// benchLocalnet runs fn on a localnet of separate validator processes
// whose genesis funds the bench's senders.
func benchLocalnet(g *globals, dir string, gen *app.Genesis, validators, txs int, blockInterval time.Duration,
	fn func(benchTarget) benchMeasure) (benchMeasure, error) {
	ports, err := freePorts(3 * validators)
	if err != nil {
		return benchMeasure{}, err
	}
	net, err := writeLocalnetWith(dir, localnetOptions{chainID: benchChainID, validators: validators,
		apiPorts: ports[:validators], p2pPorts: ports[validators:], blockInterval: blockInterval,
		timeoutPropose: time.Second, maxBlockTxs: 10000, mempoolSize: txs + 10000, genesis: gen})
	if err != nil {
		return benchMeasure{}, err
	}
	exe, err := localnetExe()
	if err != nil {
		return benchMeasure{}, err
	}
	for _, n := range net.Nodes {
		if err := startLocalnetNode(dir, n, exe); err != nil {
			return benchMeasure{}, err
		}
	}
	defer stopLocalnet(dir, net, 20*time.Second)
	deadline := time.Now().Add(2 * time.Minute)
	t := benchTarget{}
	for _, n := range net.Nodes {
		if err := waitAPI(dir, n, deadline); err != nil {
			return benchMeasure{}, err
		}
		t.apis = append(t.apis, n.API)
	}
	c := newClient(net.Nodes[0].API)
	t.height = func() uint64 {
		var st struct{ Height uint64 }
		c.get("/v1/status", &st)
		return st.Height
	}
	t.committed = func(h [32]byte) bool {
		var r struct{ Status string }
		return c.get(fmt.Sprintf("/v1/txs/0x%x", h[:]), &r) == nil && r.Status == "committed"
	}
	return fn(t), nil
}

// freePorts returns count distinct free TCP ports on 127.0.0.1.
func freePorts(count int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range count {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// benchMeasure is one target's throughput and latency.
type benchMeasure struct {
	perSec            float64
	blocks            uint64
	failed            int64
	latRate, p50, p99 float64
}

// measure sends the load to a target and waits for it to commit, then
// runs the latency test at half the rate it reached.
func measure(g *globals, t benchTarget, signed [][]byte, txs, senders, batch, conns int) benchMeasure {
	var m benchMeasure
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: time.Minute}
	// Every sender's transactions in nonce order, over one connection and
	// to one API, so nonces arrive in order.
	load := signed[:txs]
	var failed atomic.Int64
	startHeight := t.height()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			byAPI := make([][][]byte, len(t.apis))
			for i := c; i < len(load); i += conns {
				a := (i % senders) % len(t.apis)
				byAPI[a] = append(byAPI[a], load[i])
			}
			for a, mine := range byAPI {
				for i := 0; i < len(mine); i += batch {
					failed.Add(postBatch(httpc, t.apis[a], mine[i:min(len(mine), i+batch)]))
				}
			}
		}(c)
	}
	wg.Wait()
	fmt.Fprintf(g.stderr, "bench: %d transactions admitted in %s\n", txs, time.Since(start).Round(time.Millisecond))
	waitCommitted(t.committed, load[max(0, len(load)-senders):])
	elapsed := time.Since(start)
	m.perSec = float64(txs) / elapsed.Seconds()
	m.blocks = t.height() - startHeight
	m.failed = failed.Load()

	// Latency at half the peak rate: single transactions with ?wait=true.
	m.latRate = m.perSec / 2
	lat := latencyRun(httpc, t.apis, senders, txs, signed[txs:], m.latRate)
	if len(lat) > 0 {
		m.p50, m.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return m
}

// signDeposits signs count deposits, round robin over the keys, each key's
// nonces in order (so a sender's transactions sit at i, i+len(keys), ...).
func signDeposits(ks []*keys.PrivateKey, count int) [][]byte {
	out := make([][]byte, count)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < count; i += workers {
				k := ks[i%len(ks)]
				t := tx.Tx{ChainID: benchChainID, Nonce: uint64(i / len(ks)),
					Op: ledger.Deposit{Strategy: "stETH", Amount: *uint256.NewInt(1e9)}}
				h, _ := t.SigningHash()
				sig, _ := k.Sign(h)
				out[i], _ = tx.Signed{Tx: t, Sig: sig}.Encode()
			}
		}(w)
	}
	wg.Wait()
	return out
}

func postBatch(c *http.Client, base string, txs [][]byte) int64 {
	body := []byte(`{"txs":[`)
	for i, t := range txs {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `"0x`...)
		body = append(body, hex.EncodeToString(t)...)
		body = append(body, '"')
	}
	body = append(body, "]}"...)
	resp, err := c.Post(base+"/v1/txs", "application/json", bytes.NewReader(body))
	if err != nil {
		return int64(len(txs))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return int64(len(txs))
	}
	return 0
}

// waitCommitted waits until each of txs (every sender's last transaction:
// its earlier ones, with lower nonces, committed before it) is committed.
func waitCommitted(committed func([32]byte) bool, txs [][]byte) {
	for _, raw := range txs {
		h := app.TxHash(raw)
		for !committed(h) {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// latencyRun submits txs one at a time with ?wait=true, paced at rate per
// second over several goroutines, and returns sorted latencies in ms.
// txs[i] is signed transaction offset+i, whose sender is (offset+i) %
// senders; it goes to the API that sender used.
func latencyRun(c *http.Client, apis []string, senders, offset int, txs [][]byte, rate float64) []float64 {
	if rate < 1 {
		rate = 1
	}
	count := min(len(txs), int(rate*5)) // about five seconds
	var mu sync.Mutex
	var lat []float64
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for i := 0; i < count; i++ {
		time.Sleep(time.Until(next))
		next = next.Add(interval)
		wg.Add(1)
		base := apis[((offset+i)%senders)%len(apis)]
		go func(raw []byte) {
			defer wg.Done()
			body := []byte(`{"tx":"0x` + hex.EncodeToString(raw) + `"}`)
			t0 := time.Now()
			resp, err := c.Post(base+"/v1/txs?wait=true", "application/json", bytes.NewReader(body))
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				mu.Lock()
				lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
				mu.Unlock()
			}
		}(txs[i])
	}
	wg.Wait()
	sort.Float64s(lat)
	return lat
}
