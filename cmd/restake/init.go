package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/keys"
)

func newInitCmd(g *globals) *cobra.Command {
	var chainID, passFile string
	var force, light bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a node home: config.toml, genesis.json and a first key",
		Long: `Creates HOME/config.toml (documented defaults), HOME/genesis.json and a first
key, "default", which genesis makes the admin, beacon oracle, price oracle and
treasury, with stETH and rETH strategies and a balance of each token.

Then start the node with: restake node --home HOME`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			h := g.home
			if _, err := os.Stat(h.GenesisPath()); err == nil && !force {
				return fmt.Errorf("%s already has a genesis; use --force to overwrite, or another --home", h)
			}
			if err := os.MkdirAll(string(h), 0o755); err != nil {
				return err
			}
			pass, set, err := password(passFile)
			if err != nil {
				return err
			}
			key, err := keys.Generate(rand.Reader)
			if err != nil {
				return err
			}
			kr := openKeyring(h)
			if force {
				if p, err := kr.path("default"); err == nil {
					_ = os.Remove(p)
				}
			}
			if _, err := kr.save("default", key, pass, light); err != nil {
				return err
			}
			if !set {
				fmt.Fprintln(g.stderr, "warning: the key is protected by an empty password; set RESTAKE_PASSWORD or --password-file")
			}
			gen := defaultGenesis(chainID, key.Address(), uint64(time.Now().Unix()))
			doc, err := json.MarshalIndent(gen, "", "  ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(h.GenesisPath(), append(doc, '\n'), 0o644); err != nil {
				return err
			}
			cfg := config.Default()
			if err := config.Save(h, cfg); err != nil {
				return err
			}
			return g.print(map[string]string{"home": string(h), "chain_id": gen.ChainID, "key": key.Address().Hex()},
				fmt.Sprintf("initialised %s\n  chain id  %s\n  key       default = %s (admin, oracles, treasury)\n"+
					"start the node with: restake node --home %s", h, gen.ChainID, key.Address().Hex(), h))
		},
	}
	cmd.Flags().StringVar(&chainID, "chain-id", "restake-local", "the chain id signed into every transaction")
	cmd.Flags().StringVar(&passFile, "password-file", "", "file holding the key's password (default $RESTAKE_PASSWORD)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing home")
	cmd.Flags().BoolVar(&light, "light", false, "weaker, faster scrypt parameters for the key (tests)")
	return cmd
}

// defaultGenesis is a small single-operator-friendly chain: the first key
// holds every authority and some of each token.
func defaultGenesis(chainID string, key keys.Address, now uint64) *app.Genesis {
	addr := key.Hex()
	return &app.Genesis{
		ChainID:       chainID,
		GenesisTime:   now,
		Admins:        []string{addr},
		BeaconOracles: []string{addr},
		PriceOracles:  []string{addr},
		Treasury:      addr,
		Strategies:    []app.GenesisStrategy{{Name: "stETH", Token: "stETH"}, {Name: "rETH", Token: "rETH"}},
		Balances: []app.GenesisBalance{
			{Account: addr, Token: "stETH", Amount: "1000000000000000000000"},
			{Account: addr, Token: "rETH", Amount: "1000000000000000000000"},
			{Account: addr, Token: "USDC", Amount: "1000000000000000000000000"},
		},
	}
}

// errNoHome explains a missing home.
func errNoHome(h config.Home) error {
	return errors.New("no genesis in " + string(h) + "; run: restake init --home " + string(h))
}
