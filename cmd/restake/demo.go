package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/demo"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/node"
)

func newDemoCmd(g *globals) *cobra.Command {
	var seed uint64
	var small, keep bool
	var listen string
	var traffic time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start a node with a realistic restaking network (8.47M ETH, 200,000 stakers)",
		Long: `Generates a restaking network deterministically from --seed: about 8.47M ETH
restaked by 200,000 stakers (87% native ETH, the rest stETH, rETH and two LP
tokens priced through their pools), 2,000 operators with a heavy-tailed share
of stake, 82 services with operator sets and allocations, rewards streaming
and occasional slashes. It starts a node on it in a temporary home (or
--home), keeps traffic flowing, and prints the URLs and example commands.

--small builds a 200-staker network in a second, for a quick look.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := demo.Options{Seed: seed}
			if small {
				opts = demo.Small(seed)
			}
			opts.GenesisTime = demo.StartGenesisTime(uint64(time.Now().Unix()))
			h := g.home
			if !cmd.Flags().Changed("home") && os.Getenv("RESTAKE_HOME") == "" {
				dir, err := os.MkdirTemp("", "restake-demo-")
				if err != nil {
					return err
				}
				h = config.Home(dir)
				if !keep {
					defer os.RemoveAll(dir)
				}
			}
			start := time.Now()
			fmt.Fprintf(g.stderr, "restake demo: generating the network (seed %d)…\n", seed)
			net, err := demo.Generate(opts)
			if err != nil {
				return err
			}
			gen := net.Genesis()
			if err := writeDemoHome(h, net, listen); err != nil {
				return err
			}
			doc, _ := json.MarshalIndent(gen, "", "  ")
			if err := os.WriteFile(h.GenesisPath(), doc, 0o644); err != nil {
				return err
			}
			cfg, err := config.Load(h)
			if err != nil {
				return err
			}
			s := net.Summary()
			fmt.Fprintf(g.stderr, "restake demo: %s in %s\n", s, time.Since(start).Round(time.Millisecond))
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runNode(ctx, g, h, gen, cfg, func(ctx context.Context, n *node.Node, url string) error {
				printDemoHelp(g, h, url, net)
				return demo.NewDriver(net, n, seed).Run(ctx, traffic)
			})
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the generated network")
	cmd.Flags().BoolVar(&small, "small", false, "a 200-staker network instead of the full 200,000")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary home when the demo stops")
	cmd.Flags().StringVar(&listen, "listen", config.DefaultListen, "API address")
	cmd.Flags().DurationVar(&traffic, "traffic", time.Second, "how often the demo submits a round of transactions")
	return cmd
}

// writeDemoHome writes config.toml and a few of the network's keys (light
// scrypt, empty password: a demo) so that restake tx can sign as them.
func writeDemoHome(h config.Home, net *demo.Network, listen string) error {
	if err := os.MkdirAll(string(h), 0o755); err != nil {
		return err
	}
	cfg := config.Default()
	cfg.API.Listen = listen
	cfg.Client.Node = "http://" + listen
	cfg.Client.Key = "staker0"
	if err := config.Save(h, cfg); err != nil {
		return err
	}
	kr := openKeyring(h)
	for _, k := range []struct {
		name string
		key  *keys.PrivateKey
	}{
		{"staker0", net.Key("staker", 0)}, {"staker1", net.Key("staker", 1)},
		{"operator0", net.Key("operator", 0)}, {"avs0", net.Key("avs", 0)},
		{"admin", net.Key("admin", 0)}, {"oracle", net.Key("oracle", 0)},
	} {
		if p, err := kr.path(k.name); err == nil {
			_ = os.Remove(p)
		}
		if _, err := kr.save(k.name, k.key, "", true); err != nil {
			return err
		}
	}
	return nil
}

func printDemoHelp(g *globals, h config.Home, url string, net *demo.Network) {
	home := "--home " + string(h)
	fmt.Fprintf(g.stderr, `
restake demo is running (Ctrl-C stops it).

  status     curl %[1]s/v1/status
  operators  curl '%[1]s/v1/operators?limit=5'
  a staker   curl %[1]s/v1/accounts/%[3]s
  events     curl -N %[1]s/v1/events
  API docs   %[1]s/docs  (OpenAPI: %[1]s/openapi.json)
  metrics    curl %[1]s/metrics

  restake query status %[2]s
  restake query account @staker0 --prove %[2]s
  restake tx claim token=EIGEN --key staker0 %[2]s
  restake tx queue_withdrawal strategies=beaconETH deposit_shares=1000000000 --key staker0 %[2]s

`, url, home, net.Key("staker", 0).Address().Hex())
}
