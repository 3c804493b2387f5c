package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/risk"
)

func newRiskCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "risk",
		Short: "Price the security of restaked services: attacks, cost to corrupt, cascades, concentration",
	}
	cmd.AddCommand(newRiskAnalyzeCmd(g))
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
