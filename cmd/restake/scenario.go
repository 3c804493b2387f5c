package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/scenario"
)

func newScenarioCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenario",
		Short: "Replay scenario files against a fresh ledger",
	}
	runCmd := &cobra.Command{
		Use:   "run FILE.json [FILE.json ...]",
		Short: "Replay scenarios and check every expectation",
		Long: `Replays each scenario file (spec: scenario-format.md) on a fresh in-memory
ledger and checks every expectation.

It prints one JSON object per step (JSON Lines) and a summary line
"N passed, M failed", as scenario-format.md specifies. With --output text
it prints one line per file and the failing steps instead.

Exit status: 0 when every expectation holds, 1 when one fails, 2 when a file
cannot be read or has an unknown op or field.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			// JSON Lines are this command's native output (the format's
			// contract), so it is the default here; --output text opts out.
			output := "json"
			if cmd.Flags().Changed("output") && g.output == "text" {
				output = "text"
			}
			code := runScenarios(files, output, g.stdout, g.stderr)
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	cmd.AddCommand(runCmd)
	return cmd
}

// runScenarios replays every file and returns the exit code.
func runScenarios(files []string, output string, stdout, stderr io.Writer) int {
	passed, failed, broken := 0, 0, 0
	enc := json.NewEncoder(stdout)
	for _, file := range files {
		ok, err := runScenarioFile(file, output, enc, stdout)
		switch {
		case err != nil:
			broken++
			fmt.Fprintln(stderr, "error:", err)
		case ok:
			passed++
		default:
			failed++
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed+broken)
	switch {
	case broken > 0:
		return 2
	case failed > 0:
		return 1
	}
	return 0
}

func runScenarioFile(file, output string, enc *json.Encoder, stdout io.Writer) (bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return false, fmt.Errorf("%s: %w", file, err)
	}
	sc, err := scenario.Decode(file, data)
	if err != nil {
		return false, err
	}
	results, _, err := sc.Run()
	ok := true
	for _, r := range results {
		ok = ok && r.OK
		if output == "json" {
			if encErr := enc.Encode(r); encErr != nil {
				return false, encErr
			}
		} else if !r.OK {
			m, _ := json.Marshal(r.Mismatch)
			fmt.Fprintf(stdout, "  step %d %s: code=%q mismatch=%s\n", r.Step, r.Op, r.Code, m)
		}
	}
	var fe *scenario.FormatError
	if errors.As(err, &fe) {
		return false, err
	}
	if output == "text" {
		status := "PASS"
		if !ok {
			status = "FAIL"
		}
		fmt.Fprintf(stdout, "%s %s (%d steps) %s\n", status, file, len(results), sc.Name)
	}
	return ok, nil
}
