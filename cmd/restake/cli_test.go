package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/restake/restake/internal/api"
	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/store"
)

// cliEnv is a home made by restake init and a node serving it in-process.
type cliEnv struct {
	t    *testing.T
	home string
	url  string
	node *node.Node
}

func (e *cliEnv) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	full := append([]string{"--home", e.home}, args...)
	code = run(full, &out, &errb)
	return code, out.String(), errb.String()
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	t.Setenv("RESTAKE_PASSWORD", "pw")
	home := t.TempDir()
	e := &cliEnv{t: t, home: home}
	if code, _, stderr := e.run("init", "--light"); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	gen, err := app.ReadGenesis(config.Home(home).GenesisPath())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(config.Home(home).DataDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := app.New(gen, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	e.node = node.New(node.Config{BlockInterval: 20 * time.Millisecond, EmptyBlocks: true}, a, st, time.Now)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.NewServer(ln.Addr().String(), api.New(e.node, api.Options{}))
	go srv.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { e.node.Run(ctx); close(stopped) }()
	t.Cleanup(func() { // before the store closes: nothing may write to it after
		cancel()
		srv.Close()
		<-stopped
		e.node.WaitPublished()
	})
	e.url = "http://" + ln.Addr().String()
	cfg := config.Default()
	cfg.Client.Node = e.url
	if err := config.Save(config.Home(home), cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *cliEnv) appHash() [32]byte {
	var h [32]byte
	e.node.Read(func(a *app.App) { h = a.AppHash() })
	return h
}

// TestCLIEndToEnd drives a chain through the CLI: keys, transactions,
// queries with verified proofs, JSON output.
func TestCLIEndToEnd(t *testing.T) {
	e := newCLIEnv(t)
	if code, out, stderr := e.run("tx", "deposit", "strategy=stETH", "amount=1000000000000000000"); code != 0 ||
		!strings.Contains(out, `"shares": "1000000000000000000"`) {
		t.Fatalf("deposit: %d %s %s", code, out, stderr)
	}
	if code, _, stderr := e.run("tx", "register_operator", "allocation_delay=0"); code != 0 {
		t.Fatalf("register_operator: %s", stderr)
	}
	code, out, stderr := e.run("--output", "json", "query", "account", "@default", "--prove")
	if code != 0 || !strings.Contains(stderr, "proof verified") {
		t.Fatalf("query --prove: %d %s %s", code, out, stderr)
	}
	var acct struct {
		IsOperator bool `json:"is_operator"`
		Nonce      int  `json:"nonce"`
	}
	if err := json.Unmarshal([]byte(out), &acct); err != nil || !acct.IsOperator || acct.Nonce != 2 {
		t.Fatalf("account JSON %s (%v)", out, err)
	}
	if code, out, _ := e.run("keys", "create", "bob", "--light"); code != 0 || !strings.Contains(out, "0x") {
		t.Fatalf("keys create: %s", out)
	}
	if code, out, _ := e.run("--output", "json", "keys", "list"); code != 0 || !strings.Contains(out, `"name":"bob"`) {
		t.Fatalf("keys list: %s", out)
	}
	// A transaction the ledger rejects: the committed result carries the
	// stable name and the exit status is 1.
	code, out, _ = e.run("tx", "deposit", "strategy=nope", "amount=1")
	if code != 1 || !strings.Contains(out, "StrategyNotWhitelisted") {
		t.Fatalf("rejected deposit: %d %s", code, out)
	}
}

// TestCLIBadInput: each bad command line exits non-zero with an error that
// names the problem, and none changes the chain.
func TestCLIBadInput(t *testing.T) {
	e := newCLIEnv(t)
	before := e.appHash()
	// Wait for the chain to idle so the hash only moves on empty blocks:
	// compare ledger state through the default account's nonce instead.
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad output", []string{"--output", "yaml", "version"}, "--output must be text or json"},
		{"unknown op", []string{"tx", "teleport", "amount=1"}, "unknown"},
		{"field without =", []string{"tx", "deposit", "strategy"}, "name=value"},
		{"unknown field", []string{"tx", "deposit", "strategy=stETH", "amount=1", "colour=red"}, "colour"},
		{"missing field", []string{"tx", "deposit", "strategy=stETH"}, "amount"},
		{"negative amount", []string{"tx", "deposit", "strategy=stETH", "amount=-5"}, "amount"},
		{"amount above uint256", []string{"tx", "deposit", "strategy=stETH",
			"amount=999999999999999999999999999999999999999999999999999999999999999999999999999999999"}, "amount"},
		{"amount with letters", []string{"tx", "deposit", "strategy=stETH", "amount=12abc"}, "amount"},
		{"bad address", []string{"tx", "delegate", "operator=0x1234"}, "operator"},
		{"unknown key alias", []string{"tx", "delegate", "operator=@nobody"}, "nobody"},
		{"bad integer", []string{"tx", "set_allocation_delay", "delay=soon"}, "delay"},
		{"bad bool", []string{"tx", "complete_withdrawal", "withdrawal=0x" + strings.Repeat("00", 32), "as_tokens=maybe"}, "as_tokens"},
		{"bad set list", []string{"tx", "register_for_sets", "avs=@default", "sets=1,x"}, "sets"},
		{"bad withdrawal id", []string{"tx", "complete_withdrawal", "withdrawal=0x12", "as_tokens=true"}, "withdrawal"},
		{"bad --json", []string{"tx", "deposit", "--json", "{nope"}, "--json"},
		{"missing key", []string{"tx", "deposit", "strategy=stETH", "amount=1", "--key", "ghost"}, "ghost"},
		{"bad key name", []string{"tx", "deposit", "strategy=stETH", "amount=1", "--key", "../etc"}, "key name"},
		{"unreachable node", []string{"tx", "deposit", "strategy=stETH", "amount=1", "--node", "http://127.0.0.1:1"}, "cannot reach"},
		{"query unknown account", []string{"query", "account", "0x" + strings.Repeat("ab", 20)}, "AccountNotFound"},
		{"query bad address", []string{"query", "account", "0xzz"}, "InvalidAddress"},
		{"query bad hash", []string{"query", "tx", "0x12"}, "InvalidHash"},
		{"query unknown tx", []string{"query", "tx", "0x" + strings.Repeat("cd", 32)}, "TxNotFound"},
		{"query bad height", []string{"query", "block", "tall"}, "InvalidHeight"},
		{"query negative height", []string{"query", "block", "-3"}, "unknown shorthand flag"},
		{"query missing argument", []string{"query", "account"}, "accepts 1 arg"},
		{"query unreachable", []string{"query", "status", "--node", "http://127.0.0.1:1"}, "cannot reach"},
		{"keys create twice", []string{"keys", "create", "default"}, "exists"},
		{"keys import missing file", []string{"keys", "import", "x", "/nonexistent/file.json"}, "no such file"},
		{"keys export unknown", []string{"keys", "export", "ghost"}, "ghost"},
		{"init twice", []string{"init"}, "already has a genesis"},
		{"scenario missing file", []string{"scenario", "run", "/nonexistent.json"}, "no such file"},
		{"snapshot import missing", []string{"snapshot", "import", "/nonexistent.snap"}, "no such file"},
		{"version with args", []string{"version", "extra"}, "unknown command"},
		{"tx without op", []string{"tx"}, "requires at least 1 arg"},
		{"wrong password", []string{"tx", "deposit", "strategy=stETH", "amount=1", "--password-file", "WRONG"}, "wrong password"},
		{"bad timeout", []string{"tx", "deposit", "strategy=stETH", "amount=1", "--timeout", "soon"}, "invalid argument"},
		{"query bad limit", []string{"query", "operators", "--limit", "many"}, "invalid argument"},
		{"query set bad id", []string{"query", "set", "@default", "x"}, "InvalidSetID"},
		{"query state bad key", []string{"query", "state", "zz"}, "InvalidKey"},
		{"node on a home in use", []string{"node", "--listen", strings.TrimPrefix(e.url, "http://")}, "another node running"},
	}
	pwFile := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(pwFile, []byte("not-the-password"), 0o600); err != nil {
		t.Fatal(err)
	}
	var nonceBefore uint64
	e.node.Read(func(a *app.App) { nonceBefore = a.Ledger().TxNonce(firstKey(t, e)) })
	for _, c := range cases {
		args := append([]string(nil), c.args...)
		for i, a := range args {
			if a == "WRONG" {
				args[i] = pwFile
			}
		}
		code, stdout, stderr := e.run(args...)
		if code == 0 {
			t.Errorf("%s: exit 0 (stdout %s)", c.name, stdout)
			continue
		}
		if !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("%s: exit %d, output does not mention %q:\n%s%s", c.name, code, c.want, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, "panic") {
			t.Errorf("%s: panicked:\n%s", c.name, stderr)
		}
	}
	if len(cases) < 40 {
		t.Fatalf("%d cases; the issue asks for at least 40", len(cases))
	}
	var nonceAfter uint64
	e.node.Read(func(a *app.App) { nonceAfter = a.Ledger().TxNonce(firstKey(t, e)) })
	if nonceAfter != nonceBefore {
		t.Fatalf("bad input sent transactions: nonce %d -> %d", nonceBefore, nonceAfter)
	}
	_ = before
}

func firstKey(t *testing.T, e *cliEnv) (a [20]byte) {
	addr, err := openKeyring(config.Home(e.home)).address("default")
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestRiskAnalyzeCLI: a graph file gives a report in text and JSON with
// exit 0; a file breaking an input rule gives exit 2 and names the entry.
func TestRiskAnalyzeCLI(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "g.json")
	os.WriteFile(good, []byte(`{"services":[{"id":"bridge","profit":"45","threshold":"0.5"}],
		"validators":[{"id":"v1","stake":"120","allocations":{"bridge":"80"}},{"id":"v2","stake":"90","services":["bridge"]}],
		"psi":["0.01"]}`), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"risk", "analyze", good, "--format", "json", "--psi", "0.5"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		Secure bool `json:"secure"`
		RPsi   []struct {
			Psi string `json:"psi"`
		} `json:"r_psi"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || !rep.Secure || rep.RPsi[0].Psi != "0.5" {
		t.Fatalf("report %s (%v)", out.String(), err)
	}
	out.Reset()
	if code := run([]string{"risk", "analyze", good}, &out, &errb); code != 0 || !strings.Contains(out.String(), "SECURE") {
		t.Fatalf("text: exit %d\n%s", code, out.String())
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"services":[{"id":"s","profit":"1","threshold":"1"}],
		"validators":[{"id":"v","stake":"5","allocations":{"s":"6"}}]}`), 0o644)
	errb.Reset()
	if code := run([]string{"risk", "analyze", bad}, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "validators[0] (v).allocations.s") {
		t.Fatalf("bad file: exit %d, %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"risk", "analyze", good, "--psi", "2"}, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "--psi[0]") {
		t.Fatalf("bad psi: exit %d, %s", code, errb.String())
	}
}

// TestRiskCommandsAgainstANode runs the node-facing risk commands against
// the in-process node of the CLI test: report in three formats, graph,
// shock and Monte Carlo.
func TestRiskCommandsAgainstANode(t *testing.T) {
	e := newCLIEnv(t)
	e.node.ConfigureRisk(node.RiskConfig{})
	e.node.RefreshRisk()
	e.node.WaitRisk()
	for _, args := range [][]string{
		{"risk", "report"},
		{"risk", "report", "--format", "json"},
		{"risk", "graph"},
		{"risk", "montecarlo", "--trials", "10"},
	} {
		if code, out, errOut := e.run(args...); code != 0 || out == "" {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	page := filepath.Join(t.TempDir(), "r.html")
	if code, _, errOut := e.run("risk", "report", "--format", "html", "--out", page); code != 0 {
		t.Fatalf("html: %s", errOut)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.HasPrefix(string(b), "<!DOCTYPE html>") {
		t.Fatalf("html page: %v", err)
	}
	if code, _, errOut := e.run("risk", "shock", "--psi", "2"); code == 0 || !strings.Contains(errOut, "psi") {
		t.Fatalf("bad psi: exit %d %s", code, errOut)
	}
}
