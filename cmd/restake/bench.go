package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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
}

func newBenchCmd(g *globals) *cobra.Command {
	var txs, senders, batch, conns int
	var blockInterval time.Duration
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure committed transactions per second through the HTTP API",
		Long: `Starts a node in a temporary home with its API on 127.0.0.1, measures this
machine's raw secp256k1 signature verification rate on all cores, then sends
--txs pre-signed deposits from --senders accounts through POST /v1/txs (in
batches, over --conns connections) and reports committed transactions per
second, its ratio to the verification rate, and the p50/p99 latency of
submit-and-wait at half that rate. Figures go in docs/benchmarks.md.`,
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
			rep, err := runBench(g, txs, senders, batch, conns, blockInterval)
			if err != nil {
				return err
			}
			return g.print(rep, fmt.Sprintf(`cores                         %d
secp256k1 verify (all cores)  %.0f /s
committed through HTTP        %.0f tx/s over %d txs in %d blocks
ratio to verification         %.2f
submit-and-wait at %.0f tx/s   p50 %.1f ms, p99 %.1f ms
failed submissions            %d`, rep.Cores, rep.VerifyPerSec, rep.CommittedPerSec, rep.Txs, rep.Blocks,
				rep.RatioToVerify, rep.LatencyRate, rep.LatencyP50Millis, rep.LatencyP99Millis, rep.FailedSubmissions))
		},
	}
	cmd.Flags().IntVar(&txs, "txs", 40000, "transactions in the throughput run")
	cmd.Flags().IntVar(&senders, "senders", 1000, "distinct sending accounts")
	cmd.Flags().IntVar(&batch, "batch", 100, "transactions per POST /v1/txs")
	cmd.Flags().IntVar(&conns, "conns", 2*runtime.GOMAXPROCS(0), "concurrent HTTP connections")
	cmd.Flags().DurationVar(&blockInterval, "block-interval", 200*time.Millisecond, "the node's block interval")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
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

func runBench(g *globals, txs, senders, batch, conns int, blockInterval time.Duration) (benchReport, error) {
	rep := benchReport{Cores: runtime.GOMAXPROCS(0), Txs: txs}
	tuneGC() // as restake node does
	dir, err := os.MkdirTemp("", "restake-bench-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	h := config.Home(dir)
	fmt.Fprintf(g.stderr, "bench: generating %d keys and signing %d transactions…\n", senders, txs)
	ks := make([]*keys.PrivateKey, senders)
	for i := range ks {
		if ks[i], err = keys.Generate(rand.Reader); err != nil {
			return rep, err
		}
	}
	gen := defaultGenesis("restake-bench", ks[0].Address(), uint64(time.Now().Unix()))
	for _, k := range ks {
		gen.Balances = append(gen.Balances, app.GenesisBalance{Account: k.Address().Hex(), Token: "stETH",
			Amount: "1000000000000000000000000"})
	}
	signed := signDeposits(ks, txs+2000)
	rep.VerifyPerSec = verifyRate(signed[:min(len(signed), 2000)])

	st, err := store.Open(h.DataDir())
	if err != nil {
		return rep, err
	}
	defer st.Close()
	a, err := app.New(gen, st)
	if err != nil {
		return rep, err
	}
	if err := a.CommitGenesis(); err != nil {
		return rep, err
	}
	n := node.New(node.Config{BlockInterval: blockInterval, MaxBlockTxs: 10000, MempoolSize: txs + 10000,
		EmptyBlocks: true}, a, st, time.Now)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	srv := api.NewServer(ln.Addr().String(), api.New(n, api.Options{MaxBodyBytes: 16 << 20}))
	go srv.Serve(ln)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go n.Run(ctx)
	base := "http://" + ln.Addr().String()
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: time.Minute}

	// Throughput: every sender's transactions in nonce order, spread over
	// connections by sender so nonces arrive in order.
	load := signed[:txs]
	var failed atomic.Int64
	startHeight := n.Height()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var mine [][]byte
			for i := c; i < len(load); i += conns {
				mine = append(mine, load[i])
			}
			for i := 0; i < len(mine); i += batch {
				failed.Add(postBatch(httpc, base, mine[i:min(len(mine), i+batch)]))
			}
		}(c)
	}
	wg.Wait()
	fmt.Fprintf(g.stderr, "bench: %d transactions admitted in %s\n", txs, time.Since(start).Round(time.Millisecond))
	waitCommitted(n, load[max(0, len(load)-senders):])
	elapsed := time.Since(start)
	rep.CommittedPerSec = float64(txs) / elapsed.Seconds()
	rep.RatioToVerify = rep.CommittedPerSec / rep.VerifyPerSec
	rep.Blocks = n.Height() - startHeight
	rep.FailedSubmissions = failed.Load()

	// Latency at half the peak rate: single transactions with ?wait=true.
	rate := rep.CommittedPerSec / 2
	rep.LatencyRate = rate
	lat := latencyRun(httpc, base, signed[txs:], rate)
	if len(lat) > 0 {
		rep.LatencyP50Millis = lat[len(lat)/2]
		rep.LatencyP99Millis = lat[len(lat)*99/100]
	}
	return rep, nil
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
				t := tx.Tx{ChainID: "restake-bench", Nonce: uint64(i / len(ks)),
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
func waitCommitted(n *node.Node, txs [][]byte) {
	for _, raw := range txs {
		h := app.TxHash(raw)
		for {
			if n.Committed(h) {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// latencyRun submits txs one at a time with ?wait=true, paced at rate per
// second over several goroutines, and returns sorted latencies in ms.
func latencyRun(c *http.Client, base string, txs [][]byte, rate float64) []float64 {
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
