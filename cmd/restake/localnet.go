package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/cometnode"
	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/keys"
)

// manifestFile describes a localnet in its directory.
const manifestFile = "localnet.json"

// localnet is a localnet's manifest: what start, stop and status act on.
type localnet struct {
	ChainID  string         `json:"chain_id"`
	Nodes    []localnetNode `json:"nodes"`
	Accounts []string       `json:"accounts"` // key names in every node's keys/
}

// localnetNode is one validator of a localnet.
type localnetNode struct {
	Name   string `json:"name"`
	Home   string `json:"home"` // relative to the localnet directory
	API    string `json:"api"`
	RPC    string `json:"rpc"`
	P2P    string `json:"p2p"`
	NodeID string `json:"node_id"`
}

// Hooks for tests, which run the test binary as the node processes.
var (
	localnetExe = os.Executable
	localnetEnv = os.Environ
)

func newLocalnetCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "localnet",
		Short: "A CometBFT network of N validators on this machine, one process each",
		Long: `restake localnet writes, starts and stops a network of validators on
127.0.0.1, each a restake node with CometBFT in its process:

  restake localnet init --validators 4 --dir ./net
  restake localnet start --dir ./net
  restake localnet status --dir ./net
  restake tx deposit strategy=stETH amount=1000 --home ./net/node2 --key user0
  restake localnet stop --dir ./net

Every node has the same genesis, every account key (with the password from
$RESTAKE_PASSWORD, empty by default) and its own validator key.`,
	}
	cmd.AddCommand(newLocalnetInitCmd(g), newLocalnetStartCmd(g), newLocalnetStopCmd(g), newLocalnetStatusCmd(g))
	return cmd
}

func newLocalnetInitCmd(g *globals) *cobra.Command {
	var dir, chainID string
	var validators, accounts, apiPort, p2pPort int
	var blockInterval, timeoutPropose time.Duration
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write configs, keys and genesis for N validators",
		Long: `Writes DIR/node0 … DIR/node<N-1>, each a restake home (config.toml,
genesis.json, keys/, cometbft/), and DIR/localnet.json.

Node i serves the API on 127.0.0.1:(api-port + i), CometBFT's peer-to-peer
port on p2p-port + 2i and its RPC on p2p-port + 2i + 1. Each lists all the
others as persistent peers. Genesis makes key "default" the admin, oracles
and treasury, and funds it and --accounts keys user0, user1, … with stETH,
rETH and USDC. Keys use light scrypt parameters: this is a development
network.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if dir == "" {
				return errors.New("--dir is required: the directory to write the network to")
			}
			if validators < 1 || validators > 64 {
				return fmt.Errorf("--validators %d: use 1 to 64", validators)
			}
			if accounts < 0 || accounts > 10_000 {
				return fmt.Errorf("--accounts %d: use 0 to 10000", accounts)
			}
			if apiPort < 1 || apiPort+validators > 65535 || p2pPort < 1 || p2pPort+2*validators > 65535 {
				return errors.New("--api-port and --p2p-port must leave room for every validator below 65536")
			}
			if _, err := os.Stat(filepath.Join(dir, manifestFile)); err == nil {
				if !force {
					return fmt.Errorf("%s already holds a localnet; use --force to replace it (stop it first)", dir)
				}
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
			}
			net, err := writeLocalnet(dir, chainID, validators, accounts, apiPort, p2pPort, blockInterval, timeoutPropose)
			if err != nil {
				return err
			}
			var b strings.Builder
			fmt.Fprintf(&b, "localnet %s: %d validators in %s\n", net.ChainID, len(net.Nodes), dir)
			writeEndpoints(&b, net)
			fmt.Fprintf(&b, "start it with: restake localnet start --dir %s", dir)
			return g.print(net, b.String())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write the network to")
	cmd.Flags().IntVar(&validators, "validators", 4, "number of validators")
	cmd.Flags().IntVar(&accounts, "accounts", 4, "funded account keys besides the admin (user0, user1, …)")
	cmd.Flags().StringVar(&chainID, "chain-id", "restake-localnet", "chain id")
	cmd.Flags().IntVar(&apiPort, "api-port", 8080, "API port of node 0 (node i: +i)")
	cmd.Flags().IntVar(&p2pPort, "p2p-port", 26656, "CometBFT p2p port of node 0 (node i: +2i; RPC +2i+1)")
	cmd.Flags().DurationVar(&blockInterval, "block-interval", 500*time.Millisecond, "block time (CometBFT's timeout_commit)")
	cmd.Flags().DurationVar(&timeoutPropose, "timeout-propose", time.Second, "how long validators wait for a proposer that may be down")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing localnet in --dir")
	return cmd
}

// localnetOptions say what localnet to write.
type localnetOptions struct {
	chainID        string
	validators     int
	accounts       int   // funded keys user0… besides the admin "default"
	apiPorts       []int // one per validator
	p2pPorts       []int // two per validator: p2p, then CometBFT RPC
	blockInterval  time.Duration
	timeoutPropose time.Duration
	maxBlockTxs    int          // 0: the default
	mempoolSize    int          // 0: the default
	genesis        *app.Genesis // nil: the admin's genesis funding every account
}

// writeLocalnet writes a localnet with consecutive ports.
func writeLocalnet(dir, chainID string, validators, accounts, apiPort, p2pPort int,
	blockInterval, timeoutPropose time.Duration) (*localnet, error) {
	o := localnetOptions{chainID: chainID, validators: validators, accounts: accounts,
		blockInterval: blockInterval, timeoutPropose: timeoutPropose}
	for i := range validators {
		o.apiPorts = append(o.apiPorts, apiPort+i)
		o.p2pPorts = append(o.p2pPorts, p2pPort+2*i, p2pPort+2*i+1)
	}
	return writeLocalnetWith(dir, o)
}

// writeLocalnetWith writes every node's home and the manifest.
func writeLocalnetWith(dir string, o localnetOptions) (*localnet, error) {
	pass, _, err := password("")
	if err != nil {
		return nil, err
	}
	names := []string{"default"}
	for i := range o.accounts {
		names = append(names, fmt.Sprintf("user%d", i))
	}
	// One set of account keys, encrypted once and copied to every node.
	keyFiles := make([][]byte, len(names))
	addrs := make([]keys.Address, len(names))
	for i := range names {
		k, err := keys.Generate(rand.Reader)
		if err != nil {
			return nil, err
		}
		addrs[i] = k.Address()
		if keyFiles[i], err = keys.EncryptKeystore(k, pass, rand.Reader, keys.LightScryptN, keys.LightScryptP); err != nil {
			return nil, err
		}
	}
	gen := o.genesis
	if gen == nil {
		gen = defaultGenesis(o.chainID, addrs[0], uint64(time.Now().Unix()))
		for _, a := range addrs[1:] {
			for _, tok := range []string{"stETH", "rETH", "USDC"} {
				gen.Balances = append(gen.Balances, app.GenesisBalance{Account: a.Hex(), Token: tok,
					Amount: "1000000000000000000000000"})
			}
		}
	}
	genDoc, err := json.MarshalIndent(gen, "", "  ")
	if err != nil {
		return nil, err
	}
	net := &localnet{ChainID: gen.ChainID, Accounts: names}
	ids := make([]cometnode.Identity, o.validators)
	for i := range o.validators {
		n := localnetNode{Name: fmt.Sprintf("node%d", i), Home: fmt.Sprintf("node%d", i),
			API: fmt.Sprintf("http://127.0.0.1:%d", o.apiPorts[i]),
			P2P: fmt.Sprintf("tcp://127.0.0.1:%d", o.p2pPorts[2*i]),
			RPC: fmt.Sprintf("tcp://127.0.0.1:%d", o.p2pPorts[2*i+1])}
		h := config.Home(filepath.Join(dir, n.Home))
		if err := os.MkdirAll(h.KeysDir(), 0o700); err != nil {
			return nil, err
		}
		if ids[i], err = cometnode.InitKeys(h, n.Name); err != nil {
			return nil, err
		}
		n.NodeID = ids[i].NodeID
		if err := os.WriteFile(h.GenesisPath(), append(genDoc, '\n'), 0o644); err != nil {
			return nil, err
		}
		for j, name := range names {
			if err := os.WriteFile(filepath.Join(h.KeysDir(), name+".json"), keyFiles[j], 0o600); err != nil {
				return nil, err
			}
		}
		net.Nodes = append(net.Nodes, n)
	}
	for i, n := range net.Nodes {
		h := config.Home(filepath.Join(dir, n.Home))
		if err := cometnode.WriteGenesis(h, genDoc, ids); err != nil {
			return nil, err
		}
		cfg := config.Default()
		cfg.Node.BlockInterval = config.Duration{Duration: o.blockInterval}
		if o.maxBlockTxs > 0 {
			cfg.Node.MaxBlockTxs = o.maxBlockTxs
		}
		if o.mempoolSize > 0 {
			cfg.Node.MempoolSize = o.mempoolSize
		}
		cfg.API.Listen = strings.TrimPrefix(n.API, "http://")
		cfg.API.MaxBodyBytes = 16 << 20
		cfg.Client.Node = n.API
		cfg.Consensus.Engine = config.EngineCometBFT
		cfg.Consensus.Moniker = n.Name
		cfg.Consensus.P2PListen = n.P2P
		cfg.Consensus.RPCListen = n.RPC
		cfg.Consensus.TimeoutPropose = config.Duration{Duration: o.timeoutPropose}
		for j, p := range net.Nodes {
			if j != i {
				cfg.Consensus.PersistentPeers = append(cfg.Consensus.PersistentPeers,
					p.NodeID+"@"+strings.TrimPrefix(p.P2P, "tcp://"))
			}
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if err := config.Save(h, cfg); err != nil {
			return nil, err
		}
	}
	doc, _ := json.MarshalIndent(net, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, manifestFile), append(doc, '\n'), 0o644); err != nil {
		return nil, err
	}
	return net, nil
}

func readLocalnet(dir string) (*localnet, error) {
	if dir == "" {
		return nil, errors.New("--dir is required: the localnet's directory")
	}
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no localnet in %s; create one with: restake localnet init --dir %s", dir, dir)
	}
	if err != nil {
		return nil, err
	}
	var net localnet
	if err := json.Unmarshal(data, &net); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestFile), err)
	}
	return &net, nil
}

func writeEndpoints(w io.Writer, net *localnet) {
	for _, n := range net.Nodes {
		fmt.Fprintf(w, "  %-7s API %-24s CometBFT RPC %-24s p2p %s\n", n.Name, n.API, n.RPC, n.P2P)
	}
}

func pidFile(dir string, n localnetNode) string { return filepath.Join(dir, n.Home, "node.pid") }

// runningPid returns the pid of a node's process when it is alive and is
// that node (its command line names the node's home), or 0.
func runningPid(dir string, n localnetNode) int {
	data, err := os.ReadFile(pidFile(dir, n))
	if err != nil {
		return 0
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil || pid <= 0 {
		return 0
	}
	if !alive(pid) {
		return 0
	}
	if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		home := filepath.Join(dir, n.Home)
		if !strings.Contains(string(cmdline), home+"\x00") { // arguments end in NUL: node1 is not node10
			return 0 // the pid was reused by another process
		}
	}
	return pid
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill(0)
	}
	// "pid (comm) S ...": the state follows the last ')'.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

func newLocalnetStartCmd(g *globals) *cobra.Command {
	var dir string
	var only []string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start every validator that is not running, in the background",
		Long: `Starts "restake node" for each validator of DIR that is not running, as a
background process logging to DIR/<node>/node.log, waits until every API
answers, and prints the endpoints. Running validators are left alone, so
start also restarts the ones that stopped or were killed.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			net, err := readLocalnet(dir)
			if err != nil {
				return err
			}
			exe, err := localnetExe()
			if err != nil {
				return err
			}
			for _, name := range only {
				if !slices.ContainsFunc(net.Nodes, func(n localnetNode) bool { return n.Name == name }) {
					return fmt.Errorf("--node %s: %s has no such validator", name, dir)
				}
			}
			started := 0
			for _, n := range net.Nodes {
				if runningPid(dir, n) != 0 || (len(only) > 0 && !slices.Contains(only, n.Name)) {
					continue
				}
				if err := startLocalnetNode(dir, n, exe); err != nil {
					return fmt.Errorf("%s: %w", n.Name, err)
				}
				started++
			}
			deadline := time.Now().Add(timeout)
			for _, n := range net.Nodes {
				if len(only) > 0 && !slices.Contains(only, n.Name) {
					continue
				}
				if err := waitAPI(dir, n, deadline); err != nil {
					return err
				}
			}
			var b strings.Builder
			fmt.Fprintf(&b, "localnet %s: %d validators, %d started\n", net.ChainID, len(net.Nodes), started)
			writeEndpoints(&b, net)
			fmt.Fprintf(&b, "logs in %s/<node>/node.log; stop with: restake localnet stop --dir %s", dir, dir)
			return g.print(map[string]any{"chain_id": net.ChainID, "nodes": net.Nodes, "started": started}, b.String())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the localnet's directory")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for every API to answer")
	cmd.Flags().StringSliceVar(&only, "node", nil, "start only these validators (node0, node1, …; repeatable)")
	return cmd
}

func startLocalnetNode(dir string, n localnetNode, exe string) error {
	home, err := filepath.Abs(filepath.Join(dir, n.Home))
	if err != nil {
		return err
	}
	logs, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logs.Close()
	c := exec.Command(exe, "node", "--home", home)
	c.Env = localnetEnv()
	c.Stdout, c.Stderr = logs, logs
	// Its own process group: a Ctrl-C in this terminal does not reach it.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		return err
	}
	// Reap it if it exits while this process still runs (a long-lived
	// caller, such as a test); otherwise it outlives us and init reaps it.
	go c.Wait()
	return os.WriteFile(pidFile(dir, n), []byte(fmt.Sprintln(c.Process.Pid)), 0o644)
}

// waitAPI waits until a node's API answers, failing early with the end of
// its log when the process exits.
func waitAPI(dir string, n localnetNode, deadline time.Time) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := hc.Get(n.API + "/v1/status"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if runningPid(dir, n) == 0 {
			return fmt.Errorf("%s exited; the end of %s:\n%s", n.Name,
				filepath.Join(dir, n.Home, "node.log"), tailFile(filepath.Join(dir, n.Home, "node.log"), 20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no answer from %s yet; see %s", n.Name, n.API, filepath.Join(dir, n.Home, "node.log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tailFile(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

func newLocalnetStopCmd(g *globals) *cobra.Command {
	var dir string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop every validator (SIGTERM, then SIGKILL after --timeout)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			net, err := readLocalnet(dir)
			if err != nil {
				return err
			}
			stopped, killed := stopLocalnet(dir, net, timeout)
			return g.print(map[string]int{"stopped": stopped, "killed": killed},
				fmt.Sprintf("localnet %s: stopped %d validators (%d needed SIGKILL)", net.ChainID, stopped, killed))
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the localnet's directory")
	cmd.Flags().DurationVar(&timeout, "timeout", 20*time.Second, "how long to wait after SIGTERM")
	return cmd
}

// stopLocalnet sends SIGTERM to every running validator, waits up to
// timeout, then kills what is left. It returns how many were running and
// how many needed SIGKILL.
func stopLocalnet(dir string, net *localnet, timeout time.Duration) (stopped, killed int) {
	pids := map[string]int{}
	for _, n := range net.Nodes {
		if pid := runningPid(dir, n); pid != 0 {
			pids[n.Name] = pid
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(timeout)
	for _, n := range net.Nodes {
		pid := pids[n.Name]
		for pid != 0 && alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if pid != 0 && alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed++
		}
		_ = os.Remove(pidFile(dir, n))
	}
	return len(pids), killed
}

// localnetNodeStatus is one line of localnet status.
type localnetNodeStatus struct {
	Name    string `json:"name"`
	Running bool   `json:"running"`
	Pid     int    `json:"pid,omitempty"`
	Height  uint64 `json:"height,omitempty"`
	AppHash string `json:"app_hash,omitempty"`
	Peers   int    `json:"peers,omitempty"`
	API     string `json:"api"`
}

func newLocalnetStatusCmd(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each validator: running, height, app hash, peers",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			net, err := readLocalnet(dir)
			if err != nil {
				return err
			}
			var out []localnetNodeStatus
			var b strings.Builder
			for _, n := range net.Nodes {
				s := localnetNodeStatus{Name: n.Name, API: n.API, Pid: runningPid(dir, n)}
				s.Running = s.Pid != 0
				var st struct {
					Height  uint64 `json:"height"`
					AppHash string `json:"app_hash"`
				}
				if s.Running && newClient(n.API).get("/v1/status", &st) == nil {
					s.Height, s.AppHash = st.Height, st.AppHash
					s.Peers = cometPeers(n.RPC)
				}
				out = append(out, s)
				state := "stopped"
				if s.Running {
					state = fmt.Sprintf("pid %d", s.Pid)
				}
				fmt.Fprintf(&b, "%-7s %-10s height %-7d peers %-2d app hash %s\n", n.Name, state, s.Height, s.Peers, s.AppHash)
			}
			return g.print(out, strings.TrimRight(b.String(), "\n"))
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the localnet's directory")
	return cmd
}

// cometPeers asks CometBFT's RPC for the number of connected peers (-1 when
// it does not answer).
func cometPeers(rpc string) int {
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get("http://" + strings.TrimPrefix(rpc, "tcp://") + "/net_info")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var body struct {
		Result struct {
			NPeers string `json:"n_peers"`
		} `json:"result"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		return -1
	}
	var n int
	fmt.Sscan(body.Result.NPeers, &n)
	return n
}
