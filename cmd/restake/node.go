package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/api"
	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/cometnode"
	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/risk"
	"github.com/restake/restake/internal/riskgraph"
	"github.com/restake/restake/internal/riskreport"
	"github.com/restake/restake/internal/store"
)

func newNodeCmd(g *globals) *cobra.Command {
	var listen, consensus string
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run the node: embedded block producer or CometBFT, Pebble store and HTTP API",
		Long: `Runs the node over HOME (see restake init). Embedded (the default), it
orders transactions into blocks every block_interval (or sooner when
max_block_txs wait). With --consensus cometbft (or consensus.engine =
"cometbft" in config.toml) CometBFT runs in this process and orders blocks
with the other validators of its network; a home with no CometBFT files
becomes a one-validator network (see also restake localnet). Either way each
block commits atomically to HOME/data, and the HTTP API is served on
api.listen (127.0.0.1:8080 by default), the same in both modes.

On restart it resumes at its last committed block (under CometBFT, the
handshake replays any block it missed). SIGINT or SIGTERM stops it after the
block in progress.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := config.Load(g.home)
			if err != nil {
				return err
			}
			if listen != "" {
				cfg.API.Listen = listen
			}
			if consensus != "" {
				cfg.Consensus.Engine = consensus
				if err := cfg.Validate(); err != nil {
					return err
				}
			}
			gen, err := app.ReadGenesis(g.home.GenesisPath())
			if errors.Is(err, os.ErrNotExist) {
				return errNoHome(g.home)
			}
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runNode(ctx, g, g.home, gen, cfg, nil)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "API address (overrides api.listen in config.toml)")
	cmd.Flags().StringVar(&consensus, "consensus", "", "embedded or cometbft (overrides consensus.engine in config.toml)")
	return cmd
}

// openChain opens the store in home and returns the application: started
// from genesis on an empty store, restored from the store otherwise.
func openChain(h config.Home, gen *app.Genesis) (*app.App, *store.Store, error) {
	st, err := store.Open(h.DataDir())
	if err != nil {
		return nil, nil, fmt.Errorf("%w (is another node running on %s?)", err, h)
	}
	height, t, appHash, ok, err := st.Head()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	if !ok {
		a, err := app.New(gen, st)
		if err != nil {
			st.Close()
			return nil, nil, err
		}
		doc, _ := json.Marshal(gen)
		if err := st.SaveGenesis(doc); err != nil {
			st.Close()
			return nil, nil, err
		}
		if err := a.CommitGenesis(); err != nil {
			st.Close()
			return nil, nil, err
		}
		return a, st, nil
	}
	if doc, ok, _ := st.Genesis(); ok {
		stored, err := app.ParseGenesis(doc)
		if err == nil && stored.ChainID != gen.ChainID {
			st.Close()
			return nil, nil, fmt.Errorf("%s holds chain %q but genesis.json says %q; use another --home",
				h.DataDir(), stored.ChainID, gen.ChainID)
		}
	}
	recs, err := st.Records()
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	a, err := app.Restore(gen, st, recs, height, t, appHash)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return a, st, nil
}

// runNode runs a node until ctx ends; background, when set, runs beside it
// (the demo's traffic). cfg.Consensus.Engine chooses who orders blocks.
func runNode(ctx context.Context, g *globals, h config.Home, gen *app.Genesis, cfg config.Config,
	background func(ctx context.Context, n *node.Node, url string) error) error {
	started := time.Now()
	tuneGC()
	a, st, err := openChain(h, gen)
	if err != nil {
		return err
	}
	defer st.Close()
	n := node.New(node.Config{BlockInterval: cfg.Node.BlockInterval.Duration, MaxBlockTxs: cfg.Node.MaxBlockTxs,
		MempoolSize: cfg.Node.MempoolSize, EmptyBlocks: cfg.Node.EmptyBlocks,
		InvariantCheckEvery: cfg.Node.InvariantCheckEvery}, a, st, time.Now)
	// The store closes (deferred above) only after everything that writes
	// to it has stopped: the consensus engine or the block producer, the
	// traffic driver and a rewards root being built in the background.
	defer n.WaitPublished()
	n.ConfigureRisk(riskConfig(cfg))
	n.RefreshRisk() // a first report at once, then every risk.every_blocks

	var engine *cometnode.Engine
	if cfg.Consensus.Engine == config.EngineCometBFT {
		if engine, err = startCometBFT(g, h, cfg, n, gen); err != nil {
			return err
		}
		defer func() {
			if err := engine.Stop(); err != nil {
				fmt.Fprintln(g.stderr, "restake node: stopping CometBFT:", err)
			}
		}()
	}

	handler := api.New(n, api.Options{MaxBodyBytes: cfg.API.MaxBodyBytes, RequestTimeout: cfg.API.RequestTimeout.Duration,
		CORSOrigins: cfg.API.CORSOrigins, PriceStaleAfter: cfg.API.PriceStaleAfter.Duration, Version: version})
	ln, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another node running? try --listen 127.0.0.1:0)", cfg.API.Listen, err)
	}
	srv := api.NewServer(ln.Addr().String(), handler)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(g.stderr, "restake node: chain %s at height %d (ready in %s)\n  API      %s/v1/status\n  docs     %s/docs\n  events   %s/v1/events\n  metrics  %s/metrics\n",
		a.ChainID(), a.Height(), time.Since(started).Round(time.Millisecond), url, url, url, url)
	if engine != nil {
		fmt.Fprintf(g.stderr, "  consensus CometBFT, node id %s, p2p %s, rpc %s\n", engine.NodeID(),
			cfg.Consensus.P2PListen, cfg.Consensus.RPCListen)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bgErr := make(chan error, 1)
	if background != nil {
		go func() { bgErr <- background(ctx, n, url) }()
	}
	runErr := make(chan error, 1)
	if engine == nil {
		go func() { runErr <- n.Run(ctx) }()
	} else {
		go func() { runErr <- watchHalt(ctx, n) }()
	}
	var result error
	runDone, bgDone := false, background == nil
	select {
	case err := <-runErr:
		result, runDone = err, true
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			result = err
		}
	case err := <-bgErr:
		bgDone = true
		if err != nil && !errors.Is(err, context.Canceled) {
			result = err
		}
	case <-ctx.Done():
	}
	cancel()
	shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	_ = srv.Shutdown(shutdown)
	if !runDone {
		if err := <-runErr; result == nil {
			result = err
		}
	}
	if !bgDone {
		<-bgErr
	}
	if result != nil {
		return fmt.Errorf("node stopped: %w", result)
	}
	fmt.Fprintf(g.stderr, "restake node: stopped at height %d\n", n.Height())
	return nil
}

// riskConfig turns config.toml's [risk] (already validated) into the
// node's risk settings; stale prices are those older than
// api.price_stale_after.
func riskConfig(cfg config.Config) node.RiskConfig {
	frac := func(s string) *big.Rat {
		r, err := risk.ParseNumber(s)
		if err != nil {
			return new(big.Rat)
		}
		return r
	}
	rc := node.RiskConfig{EveryBlocks: cfg.Risk.EveryBlocks,
		Graph: riskgraph.Options{Haircuts: map[string]*big.Rat{}, DefaultHaircut: frac(cfg.Risk.DefaultHaircut),
			StaleAfter: uint64(cfg.API.PriceStaleAfter.Seconds())},
		Report: riskreport.Options{Shocks: cfg.Risk.Shocks, MonteCarlo: riskreport.MonteCarloSpec{
			Trials: cfg.Risk.MonteCarloTrials, Seed: cfg.Risk.MonteCarloSeed,
			Probability: frac(cfg.Risk.MonteCarloProbability), Slash: frac(cfg.Risk.MonteCarloSlash)}}}
	for t, h := range cfg.Risk.Haircuts {
		rc.Graph.Haircuts[t] = frac(h)
	}
	for _, p := range cfg.Risk.Psi {
		rc.Report.Psi = append(rc.Report.Psi, frac(p))
	}
	return rc
}

// watchHalt waits until ctx ends or the node halts (a block that broke an
// invariant or failed to commit under CometBFT).
func watchHalt(ctx context.Context, n *node.Node) error {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := n.Halted(); err != nil {
				return err
			}
		}
	}
}

// startCometBFT starts CometBFT in this process over n. A home without
// CometBFT files becomes a single-validator network first.
func startCometBFT(g *globals, h config.Home, cfg config.Config, n *node.Node, gen *app.Genesis) (*cometnode.Engine, error) {
	doc, err := json.Marshal(gen)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(cometnode.GenesisFile(h)); errors.Is(err, os.ErrNotExist) {
		if height := n.Height(); height > 0 {
			return nil, fmt.Errorf("this home's chain is at height %d, made by the embedded node; CometBFT cannot "+
				"continue a chain it did not start. Start a new home (restake init) for a CometBFT network", height)
		}
		id, err := cometnode.InitKeys(h, cfg.Consensus.Moniker)
		if err != nil {
			return nil, err
		}
		if err := cometnode.WriteGenesis(h, doc, []cometnode.Identity{id}); err != nil {
			return nil, err
		}
		fmt.Fprintf(g.stderr, "restake node: created a single-validator CometBFT network in %s\n", h.CometBFTDir())
	}
	logs, err := os.OpenFile(filepath.Join(h.CometBFTDir(), "cometbft.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	e, err := cometnode.Start(h, cfg, n, doc, version, logs)
	if err != nil {
		logs.Close()
		return nil, fmt.Errorf("%w (CometBFT's log: %s)", err, logs.Name())
	}
	return e, nil
}
