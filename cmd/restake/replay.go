package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/store"
)

func newReplayCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "replay",
		Short: "Re-execute every stored block from genesis and check every app hash (stop the node first)",
		Long: `Rebuilds the chain in memory from HOME/genesis.json, re-executes every block
in HOME/data and compares each app hash with the one committed. A mismatch
means the state machine is not deterministic (or the store was altered).
Chains started from a snapshot, or the demo (whose genesis is a program),
can only be replayed from the height they hold blocks for.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			gen, err := app.ReadGenesis(g.home.GenesisPath())
			if err != nil {
				return errNoHome(g.home)
			}
			st, err := store.Open(g.home.DataDir())
			if err != nil {
				return fmt.Errorf("%w (is the node running? stop it first)", err)
			}
			defer st.Close()
			head, _, _, ok, err := st.Head()
			if err != nil || !ok {
				return fmt.Errorf("nothing committed in %s", g.home.DataDir())
			}
			a, err := app.New(gen, nil)
			if err != nil {
				return err
			}
			if err := a.CommitGenesis(); err != nil {
				return err
			}
			start := time.Now()
			txs := 0
			for h := uint64(1); h <= head; h++ {
				b, ok, err := st.Block(h)
				if err != nil || !ok {
					return fmt.Errorf("block %d is not in the store (started from a snapshot?)", h)
				}
				res, err := a.FinalizeBlock(b)
				if err != nil {
					return err
				}
				if _, err := a.Commit(); err != nil {
					return err
				}
				stored, ok, err := st.Results(h)
				if err != nil || !ok {
					return fmt.Errorf("results of block %d missing", h)
				}
				if stored.AppHash != res.AppHash {
					return fmt.Errorf("block %d: replay gives app hash %s, the store committed %s", h, res.AppHash, stored.AppHash)
				}
				txs += len(b.Txs)
				if h%1000 == 0 {
					g.progress("replayed %d/%d blocks", h, head)
				}
			}
			g.endProgress()
			took := time.Since(start)
			return g.print(map[string]any{"blocks": head, "txs": txs, "seconds": took.Seconds(), "ok": true},
				fmt.Sprintf("replayed %d blocks (%d transactions) in %s: every app hash matches", head, txs, took.Round(time.Millisecond)))
		},
	}
}
