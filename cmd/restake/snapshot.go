package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/statetree"
	"github.com/restake/restake/internal/store"
)

func newSnapshotCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "snapshot", Short: "Export or import the state at a height, for fast bootstrap"}
	export := &cobra.Command{
		Use:   "export FILE",
		Short: "Write the committed state of HOME (stop the node first) to FILE",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			gen, err := app.ReadGenesis(g.home.GenesisPath())
			if err != nil {
				return errNoHome(g.home)
			}
			st, err := store.Open(g.home.DataDir())
			if err != nil {
				return fmt.Errorf("%w (is the node running? stop it first)", err)
			}
			defer st.Close()
			f, err := os.Create(args[0])
			if err != nil {
				return err
			}
			hdr, err := st.ExportSnapshot(f, gen.ChainID)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			return g.print(hdr, fmt.Sprintf("wrote %s: chain %s at height %d, %d records, app hash %s",
				args[0], hdr.ChainID, hdr.Height, hdr.Records, hdr.AppHash))
		},
	}
	importCmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Start HOME (empty) from a snapshot, after checking it hashes to its app hash",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			hdr, recs, err := store.ReadSnapshot(f)
			if err != nil {
				return err
			}
			want, err := hex.DecodeString(trim0x(hdr.AppHash))
			if err != nil || len(want) != 32 {
				return errors.New("snapshot: bad app hash in the header")
			}
			var appHash [32]byte
			copy(appHash[:], want)
			tree := statetree.Build(func(yield func(k, v []byte) bool) {
				for _, r := range recs {
					if !yield(r.Key, r.Value) {
						return
					}
				}
			})
			if tree.Root() != appHash {
				return fmt.Errorf("snapshot: its records hash to %x, not to its app hash %s; the file is corrupt", tree.Root(), hdr.AppHash)
			}
			gen, err := app.ParseGenesis(hdr.Genesis)
			if err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			cfg, err := gen.Config()
			if err != nil {
				return err
			}
			if _, err := ledger.FromRecords(cfg, recs); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			if err := os.MkdirAll(string(g.home), 0o755); err != nil {
				return err
			}
			if _, err := os.Stat(g.home.GenesisPath()); errors.Is(err, os.ErrNotExist) {
				if err := os.WriteFile(g.home.GenesisPath(), hdr.Genesis, 0o644); err != nil {
					return err
				}
			}
			st, err := store.Open(g.home.DataDir())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.ImportSnapshot(hdr, appHash, recs); err != nil {
				return err
			}
			return g.print(hdr, fmt.Sprintf("imported chain %s at height %d (%d records, app hash verified); start with: restake node --home %s",
				hdr.ChainID, hdr.Height, len(recs), g.home))
		},
	}
	cmd.AddCommand(export, importCmd)
	return cmd
}
