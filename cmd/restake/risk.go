package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/risk"
	"github.com/restake/restake/internal/riskgraph"
	"github.com/restake/restake/internal/riskreport"
)

func newRiskCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "risk",
		Short: "Price the security of restaked services: attacks, cost to corrupt, cascades, concentration",
	}
	var node string
	cmd.PersistentFlags().StringVar(&node, "node", "", "node URL for report, shock, whatif-slash and montecarlo "+
		"(default client.node in config.toml)")
	cmd.AddCommand(newRiskAnalyzeCmd(g), newRiskReportCmd(g, &node), newRiskGraphCmd(g, &node),
		newRiskShockCmd(g, &node), newRiskWhatIfCmd(g, &node), newRiskMonteCarloCmd(g, &node))
	return cmd
}

func newRiskGraphCmd(g *globals, node *string) *cobra.Command {
	var outFile string
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "The node's restaking graph now, as a file restake risk analyze reads",
		Long: `Fetches GET /v1/risk/graph: every declared operator set as a service and every
operator with stake as a validator, with its slashable stake per set in USD
after haircuts, in spec/risk-format.md's input format. Edit it (add a
service, shock it, change a threshold) and analyze it:

  restake risk graph --out net.json && restake risk analyze net.json --psi 0.05`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var raw json.RawMessage
			if err := newClient(nodeURL(g, *node)).get("/v1/risk/graph", &raw); err != nil {
				return err
			}
			if outFile == "" {
				_, err := g.stdout.Write(raw)
				return err
			}
			if err := os.WriteFile(outFile, raw, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "wrote %s\n", outFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&outFile, "out", "", "write to this file instead of standard output")
	return cmd
}

func newRiskReportCmd(g *globals, node *string) *cobra.Command {
	var format, outFile string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "The running node's risk report, as text, JSON or a self-contained HTML page",
		Long: `Fetches the node's latest risk report (GET /v1/risk; the node recomputes it
every risk.every_blocks blocks) and prints it: --format text (default), json,
or html (one self-contained page with charts; use --out report.html).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if format == "" {
				format = g.output
			}
			var raw json.RawMessage
			if err := newClient(nodeURL(g, *node)).get("/v1/risk", &raw); err != nil {
				return err
			}
			var rep riskreport.Report
			if err := json.Unmarshal(raw, &rep); err != nil {
				return fmt.Errorf("the node's report does not decode: %w", err)
			}
			w := g.stdout
			if outFile != "" {
				f, err := os.Create(outFile)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			var err error
			switch format {
			case "json":
				var b []byte
				if b, err = json.MarshalIndent(raw, "", "  "); err == nil {
					_, err = fmt.Fprintln(w, string(b))
				}
			case "html":
				err = riskreport.WriteHTML(w, &rep)
			case "text":
				writeReportText(w, &rep)
			default:
				return errors.New("--format must be text, json or html")
			}
			if err == nil && outFile != "" {
				fmt.Fprintf(g.stderr, "wrote %s\n", outFile)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "text, json or html (default text, or --output)")
	cmd.Flags().StringVar(&outFile, "out", "", "write to this file instead of standard output")
	return cmd
}

// writeReportText prints the report's main figures, rounded for reading
// (--format json has them exact).
func writeReportText(w io.Writer, r *riskreport.Report) {
	usd, ratio := riskreport.FormatUSD, riskreport.FormatRatio
	s := r.Summary
	verdict := "secure"
	if !s.Secure {
		verdict = "NOT secure"
	}
	proof := "proven by exhaustive search"
	switch {
	case !s.Exact && s.SecureCertified:
		proof = "certified by the per-validator condition"
	case !s.Exact:
		proof = "heuristic search: not proven"
	}
	gamma := "none"
	if s.GammaStar != nil {
		gamma = ratio(*s.GammaStar)
	}
	fmt.Fprintf(w, "risk report at height %d: %s (%s); certified slack gamma* %s\n", r.Height, verdict, proof, gamma)
	fmt.Fprintf(w, "  %d services, %d operators, %s of stake; %d services corruptible at a profit on their own\n",
		s.Services, s.Operators, usd(s.TotalStake), s.UnderwaterCount)
	if r.Attack != nil {
		fmt.Fprintf(w, "  most profitable attack: %d validators corrupt %d services for %s at a cost of %s\n",
			len(r.Attack.Validators), len(r.Attack.Services), usd(r.Attack.Profit), usd(r.Attack.Cost))
	}
	if len(s.StalePrices) > 0 || len(s.UnpricedTokens) > 0 {
		fmt.Fprintf(w, "  stale prices: %v; unpriced tokens: %v\n", s.StalePrices, s.UnpricedTokens)
	}
	fmt.Fprintf(w, "  leverage %s (p50 %s, p90 %s, max %s); the same ether is pledged %s times\n",
		ratio(r.Leverage.Network), ratio(r.Leverage.P50), ratio(r.Leverage.P90), ratio(r.Leverage.Max),
		ratio(r.Layers.Multiplier))
	c := r.Conc.Operators
	fmt.Fprintf(w, "  operators: HHI %s, Nakamoto 1/3 %d, 1/2 %d, the top 5 hold %s\n\n", ratio(c.HHI), c.Nakamoto13,
		c.Nakamoto12, ratio(c.Top5Share))
	rows := append([]riskreport.ServiceRow(nil), r.Services...)
	sort.SliceStable(rows, func(i, j int) bool { return ratioOf(rows[i]).Cmp(ratioOf(rows[j])) < 0 })
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "service\tstake\tprofit\tcost to corrupt\tcost/profit\t")
	for i, row := range rows {
		if i == 15 {
			fmt.Fprintf(tw, "… %d more (--format json)\t\t\t\t\t\n", len(rows)-15)
			break
		}
		cost, cr := "-", "-"
		if row.CostToCorrupt != nil {
			cost, cr = usd(*row.CostToCorrupt), ratio(*row.CostRatio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", row.ID, usd(row.Stake), usd(row.Profit), cost, cr)
	}
	tw.Flush()
	worst := append([]riskreport.CascadeRow(nil), r.Cascades...)
	sort.SliceStable(worst, func(i, j int) bool { return decimal(worst[i].LostShare).Cmp(decimal(worst[j].LostShare)) > 0 })
	fmt.Fprintf(w, "\nworst of %d shock cascades (share of all stake lost):\n", len(r.Cascades))
	for _, c := range worst[:min(5, len(worst))] {
		fmt.Fprintf(w, "  %s: %s, %d attacks\n", c.Label, ratio(c.LostShare), c.Attacks)
	}
	for _, p := range r.RPsi {
		kind := "exact"
		if !p.Exact {
			kind = "lower bound"
		}
		fmt.Fprintf(w, "  worst loss after a shock of %s of stake (R_psi): %s (%s)\n", ratio(p.Psi), ratio(p.WorstLoss), kind)
	}
	if mc := r.MonteCarlo; mc != nil {
		fmt.Fprintf(w, "\nMonte Carlo, %d trials (each service fails with p %s, slashing %s): mean loss %s, "+
			"VaR 99%% %s, expected shortfall 99%% %s\n", mc.Trials, ratio(mc.Probability), ratio(mc.Slash),
			usd(mc.Total.Mean), usd(mc.Total.VaR99), usd(mc.Total.ES99))
	}
}

func ratioOf(r riskreport.ServiceRow) *big.Rat {
	if r.CostRatio == nil {
		return new(big.Rat)
	}
	return decimal(*r.CostRatio)
}

func decimal(s string) *big.Rat {
	x, err := risk.ParseNumber(s)
	if err != nil {
		return new(big.Rat)
	}
	return x
}

func newRiskShockCmd(g *globals, node *string) *cobra.Command {
	var operators []string
	var psi string
	cmd := &cobra.Command{
		Use:   "shock",
		Short: "Remove operators (or the largest up to a share of stake) and show the cascade that follows",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			body := map[string]any{}
			if len(operators) > 0 {
				body["operators"] = operators
			}
			if psi != "" {
				body["psi"] = psi
			}
			var res struct {
				Cascade   risk.CascadeReport `json:"cascade"`
				LostShare string             `json:"lost_share"`
			}
			var raw json.RawMessage
			if err := newClient(nodeURL(g, *node)).post("/v1/risk/shock", body, &raw); err != nil {
				return err
			}
			_ = json.Unmarshal(raw, &res)
			var b strings.Builder
			fmt.Fprintf(&b, "shock of %d operators: %s of all stake lost (%s), %d attacks follow",
				len(res.Cascade.Shock), res.LostShare, res.Cascade.LostStake, len(res.Cascade.Attacks))
			for i, a := range res.Cascade.Attacks {
				fmt.Fprintf(&b, "\n  %d. %d validators corrupt %s (profit %s, cost %s)", i+1, len(a.Validators),
					strings.Join(a.Services, ", "), a.Profit, a.Cost)
			}
			return g.print(raw, b.String())
		},
	}
	cmd.Flags().StringSliceVar(&operators, "operators", nil, "operators to remove (addresses)")
	cmd.Flags().StringVar(&psi, "psi", "", "remove the largest operators up to this share of stake instead")
	return cmd
}

func newRiskWhatIfCmd(g *globals, node *string) *cobra.Command {
	var set, wad string
	var operators []string
	var top int
	cmd := &cobra.Command{
		Use:     "whatif-slash",
		Short:   "What a slash would take now, without doing it: per operator, staker and service",
		Example: "  restake risk whatif-slash --set 0xAVS…:0 --operators 0xOP… --wad 100000000000000000",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			avs, id, ok := strings.Cut(set, ":")
			n, err := strconv.ParseUint(id, 10, 32)
			if !ok || err != nil {
				return fmt.Errorf("--set %q: write it as AVS:ID, for example 0xabc…:0", set)
			}
			body := map[string]any{"avs": avs, "set": n, "operators": operators, "wad": wad, "max_stakers": top}
			var raw json.RawMessage
			if err := newClient(nodeURL(g, *node)).post("/v1/risk/whatif-slash", body, &raw); err != nil {
				return err
			}
			var imp riskgraph.SlashImpact
			_ = json.Unmarshal(raw, &imp)
			var b strings.Builder
			fmt.Fprintf(&b, "a slash by %s of %s (wad) would take %s USD", imp.Set, imp.Wad, imp.TotalUSD)
			for _, o := range imp.Operators {
				fmt.Fprintf(&b, "\n  operator %s: %s USD from %d stakers", o.Operator, o.USD, o.Stakers)
			}
			for _, s := range imp.Stakers {
				fmt.Fprintf(&b, "\n    staker %s: %s USD", s.Staker, s.USD)
			}
			for _, s := range imp.Services {
				fmt.Fprintf(&b, "\n  %s secured by %s USD, %s after", s.Service, s.Before, s.After)
			}
			fmt.Fprintf(&b, "\n%s", imp.Note)
			return g.print(raw, b.String())
		},
	}
	cmd.Flags().StringVar(&set, "set", "", "the slashing operator set, AVS:ID")
	cmd.Flags().StringSliceVar(&operators, "operators", nil, "operators slashed (addresses)")
	cmd.Flags().StringVar(&wad, "wad", "", "fraction of each allocation slashed, 1e18 = all (for example 100000000000000000 = 10%)")
	cmd.Flags().IntVar(&top, "stakers", 10, "stakers listed, largest loss first")
	return cmd
}

func newRiskMonteCarloCmd(g *globals, node *string) *cobra.Command {
	var trials int
	var seed uint64
	var probability, slash string
	cmd := &cobra.Command{
		Use:   "montecarlo",
		Short: "A seeded Monte Carlo of service failures on the node's current network",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			body := map[string]any{"trials": trials, "seed": seed, "probability": probability, "slash": slash}
			var raw json.RawMessage
			if err := newClient(nodeURL(g, *node)).post("/v1/risk/monte-carlo", body, &raw); err != nil {
				return err
			}
			var mc riskreport.MonteCarloRow
			_ = json.Unmarshal(raw, &mc)
			var b strings.Builder
			fmt.Fprintf(&b, "%d trials (seed %d): %s services fail per trial on average\n", mc.Trials, mc.Seed,
				riskreport.FormatRatio(mc.FailuresMean))
			tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "loss (USD)\tmean\tVaR 95%\tES 95%\tVaR 99%\tES 99%\tmax\t")
			u := riskreport.FormatUSD
			row := func(id string, t riskreport.TailRow) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", id, u(t.Mean), u(t.VaR95), u(t.ES95),
					u(t.VaR99), u(t.ES99), u(t.Max))
			}
			row("all stake", mc.Total)
			for _, gr := range mc.Groups {
				row("holders of "+gr.ID, gr.TailRow)
			}
			tw.Flush()
			return g.print(raw, strings.TrimRight(b.String(), "\n"))
		},
	}
	cmd.Flags().IntVar(&trials, "trials", 10000, "trials (at most 100,000)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed: the same seed and state give the same result")
	cmd.Flags().StringVar(&probability, "probability", "0.01", "each service's failure probability per trial")
	cmd.Flags().StringVar(&slash, "slash", "0.25", "fraction of every allocation to a failing service slashed")
	return cmd
}

func newRiskAnalyzeCmd(g *globals) *cobra.Command {
	var psi, format string
	var exact bool
	var budget int64
	cmd := &cobra.Command{
		Use:   "analyze GRAPH.json",
		Short: "Analyze a restaking graph file (spec/risk-format.md)",
		Long: fmt.Sprintf(`Reads a restaking graph (services with profit from corruption and threshold,
validators with stake and allocations) and reports: whether a profitable
attack exists and the most profitable one; each service's cost to corrupt
and margin; the per-validator certificate and its slack gamma*; the greedy
cascade after each shock in the file; the worst loss R_psi over every shock
of size psi and every cascade, beside Theorem 1's bound; and the
concentration of stake. docs/risk.md explains every number.

Search is exact by default up to %d validators by %d services, and with
--exact beyond (exponential time). Above that the report gives the best
attack found and lower bounds, marked "exact": false. Numbers are read and
written exactly ("2/3" is two thirds).

Exit status: 0 whether or not the graph is secure; 2 when the file breaks an
input rule (the message names the entry).`, risk.ExactValidators, risk.ExactServices),
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			graph, err := risk.ParseGraph(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if psi != "" {
				if graph.Psi, err = risk.ParsePsi(psi, "--psi"); err != nil {
					return err
				}
			}
			rep, err := risk.Analyze(graph, risk.Options{Exact: exact, Budget: budget})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if format == "" {
				format = g.output
			}
			switch format {
			case "json":
				b, err := json.MarshalIndent(rep, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(g.stdout, string(b))
				return err
			case "text":
				writeRiskText(g, rep)
				return nil
			default:
				return errors.New("--format must be json or text")
			}
		},
	}
	cmd.Flags().StringVar(&psi, "psi", "", "shock sizes for R_psi, comma-separated (replace the file's psi)")
	cmd.Flags().StringVar(&format, "format", "", "json or text (default text, or --output)")
	cmd.Flags().BoolVar(&exact, "exact", false, "exhaustive search even above the default size limit")
	cmd.Flags().Int64Var(&budget, "budget", 0, "search steps per search before reporting bounds (0: default)")
	return cmd
}

func writeRiskText(g *globals, r *risk.Report) {
	w := g.stdout
	verdict := "SECURE: no profitable attack"
	switch {
	case !r.Secure:
		verdict = "NOT SECURE"
	case !r.Exact && r.SecureCertified:
		verdict = "SECURE: certified by the per-validator condition (search was heuristic)"
	case !r.Exact:
		verdict = "no profitable attack found (heuristic search; not proven)"
	}
	fmt.Fprintf(w, "%s\n", verdict)
	if len(r.UnsecuredServices) > 0 {
		fmt.Fprintf(w, "  unsecured services (no stake): %s\n", strings.Join(r.UnsecuredServices, ", "))
	}
	if a := r.ProfitableAttack; a != nil {
		fmt.Fprintf(w, "  most profitable attack: validators %s corrupt %s; profit %s %s, cost %s\n",
			strings.Join(a.Validators, ", "), strings.Join(a.Services, ", "), a.Profit, r.Unit, a.Cost)
	}
	gamma := "none (no validator carries risk)"
	if r.GammaStar != nil {
		gamma = *r.GammaStar
	}
	fmt.Fprintf(w, "gamma* (certified slack) %s; full restaking %v; total stake %s %s; exact %v\n\n",
		gamma, r.FullRestaking, r.TotalStake, r.Unit, r.Exact)

	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "service\tstake\tcost to corrupt\tprofit\tmargin\t")
	for _, s := range r.Services {
		cost, margin := "-", "-"
		if s.CostToCorrupt != nil {
			cost, margin = *s.CostToCorrupt, *s.Margin
		}
		if !s.CostExact {
			cost = "<= " + cost
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", s.ID, s.Stake, cost, s.Profit, margin)
	}
	tw.Flush()
	for _, c := range r.Cascades {
		fmt.Fprintf(w, "\ncascade after shock [%s]: lost %s %s in %d attacks\n", strings.Join(c.Shock, ", "),
			c.LostStake, r.Unit, len(c.Attacks))
		for i, a := range c.Attacks {
			fmt.Fprintf(w, "  %d. %s corrupt %s (profit %s, cost %s)\n", i+1, strings.Join(a.Validators, ", "),
				strings.Join(a.Services, ", "), a.Profit, a.Cost)
		}
	}
	if len(r.RPsi) > 0 {
		fmt.Fprintln(w)
	}
	for _, p := range r.RPsi {
		bound := "none (needs full restaking and gamma* > 0)"
		if p.Bound != nil {
			bound = *p.Bound
		}
		kind := "exact"
		if !p.Exact {
			kind = "lower bound"
		}
		fmt.Fprintf(w, "R_psi at psi %s: worst loss %s of all stake (%s; worst shock [%s]); Theorem 1 bound %s\n",
			p.Psi, p.WorstLoss, kind, strings.Join(p.WorstShock, ", "), bound)
	}
	c := r.Concentration
	fmt.Fprintf(w, "\nconcentration of stake: HHI %s, effective count %s, Gini %s, Nakamoto 1/3 %d, 1/2 %d, 2/3 %d, top 5 %s\n",
		c.HHI, c.EffectiveCount, c.Gini, c.Nakamoto13, c.Nakamoto12, c.Nakamoto23, c.Top5Share)
}
