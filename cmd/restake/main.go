// Command restake is the restaking ledger, node and risk engine in one
// binary. Run "restake help" for the commands.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a process exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// globals are the flags and streams every command shares.
type globals struct {
	home   config.Home
	output string
	stdout io.Writer
	stderr io.Writer
	cmd    *cobra.Command
}

// progress redraws a one-line progress message on stderr when stderr is a
// terminal. In a pipe or a log file carriage returns and erase sequences are
// noise, so it writes nothing there; the command's result still follows.
func (g *globals) progress(format string, args ...any) {
	if isTerminal(g.stderr) {
		fmt.Fprintf(g.stderr, "\r\033[K"+format, args...)
	}
}

// endProgress erases the progress line, if one was drawn.
func (g *globals) endProgress() {
	if isTerminal(g.stderr) {
		fmt.Fprint(g.stderr, "\r\033[K")
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// print writes v as JSON with --output json, or text otherwise.
func (g *globals) print(v any, text string) error {
	if g.output == "json" {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(g.stdout, string(b))
		return err
	}
	_, err := fmt.Fprintln(g.stdout, text)
	return err
}

// printJSON writes v as indented JSON (text) or compact JSON (json).
func (g *globals) printJSON(v any) error {
	var b []byte
	var err error
	if g.output == "json" {
		b, err = json.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, "", "  ")
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.stdout, string(b))
	return err
}

// run executes the command line and returns the exit code, so tests can
// drive the CLI without a process.
func run(args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	if e, ok := err.(exitError); ok {
		return e.code
	}
	fmt.Fprintln(stderr, "error:", err)
	return 2
}

func newRoot(g *globals) *cobra.Command {
	var home string
	root := &cobra.Command{
		Use:   "restake",
		Short: "Restaking ledger, node and risk engine",
		Long: "restake keeps a deterministic ledger of restaked collateral, operators,\n" +
			"services, allocations, slashing, escrowed withdrawals and rewards, exact to the wei,\n" +
			"and runs it as a node with an HTTP API.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.cmd = cmd
			if g.output != "text" && g.output != "json" {
				return fmt.Errorf("--output must be text or json, not %q", g.output)
			}
			g.home = config.DefaultHome()
			if home != "" {
				g.home = config.Home(home)
			}
			return nil
		},
	}
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.PersistentFlags().StringVar(&home, "home", "", "node home directory (default $RESTAKE_HOME or ~/.restake)")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	root.AddCommand(newScenarioCmd(g), newVersionCmd(g), newInitCmd(g), newNodeCmd(g), newDemoCmd(g),
		newKeysCmd(g), newTxCmd(g), newQueryCmd(g), newSnapshotCmd(g), newBenchCmd(g), newReplayCmd(g),
		newLocalnetCmd(g), newRiskCmd(g))
	return root
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.print(map[string]string{"version": version}, "restake "+version)
		},
	}
}
