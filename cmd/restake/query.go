package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/statetree"
)

// queryRoute maps a query subcommand to an API path.
type queryRoute struct {
	use, short string
	args       int
	path       func(args []string) string
	provable   bool
}

var queryRoutes = []queryRoute{
	{"status", "Chain id, height, app hash, mempool", 0, func([]string) string { return "/v1/status" }, false},
	{"account ADDRESS", "A staker's balances, positions, withdrawable shares, queued withdrawals, rewards", 1,
		func(a []string) string { return "/v1/accounts/" + a[0] }, true},
	{"accounts", "Every account (paginated)", 0, func([]string) string { return "/v1/accounts" }, false},
	{"operator ADDRESS", "An operator: shares, magnitudes, allocations, registrations", 1,
		func(a []string) string { return "/v1/operators/" + a[0] }, true},
	{"operators", "Every operator (paginated)", 0, func([]string) string { return "/v1/operators" }, false},
	{"avs ADDRESS", "A service and its operator sets", 1, func(a []string) string { return "/v1/avss/" + a[0] }, false},
	{"avss", "Every service", 0, func([]string) string { return "/v1/avss" }, false},
	{"set AVS ID", "An operator set: strategies, slasher, members", 2,
		func(a []string) string { return "/v1/avss/" + a[0] + "/sets/" + a[1] }, true},
	{"strategies", "Whitelisted strategies", 0, func([]string) string { return "/v1/strategies" }, false},
	{"tokens", "Tokens, supplies and rewards pools", 0, func([]string) string { return "/v1/tokens" }, false},
	{"prices", "Oracle prices (stale ones flagged)", 0, func([]string) string { return "/v1/prices" }, false},
	{"withdrawal ID", "A queued withdrawal and its unlock block", 1,
		func(a []string) string { return "/v1/withdrawals/" + a[0] }, true},
	{"tx HASH", "A transaction's result", 1, func(a []string) string { return "/v1/txs/" + a[0] }, false},
	{"block HEIGHT", "A block and its results (HEIGHT or latest)", 1,
		func(a []string) string { return "/v1/blocks/" + a[0] }, false},
	{"nonce ADDRESS", "The nonce an account's next transaction must carry", 1,
		func(a []string) string { return "/v1/nonce/" + a[0] }, false},
	{"submissions", "Rewards submissions still streaming", 0,
		func([]string) string { return "/v1/rewards/submissions" }, false},
	{"claimable ADDRESS", "Rewards an earner can claim", 1,
		func(a []string) string { return "/v1/rewards/claimable/" + a[0] }, false},
	{"rewards-root", "The Merkle root of every earner's cumulative earnings", 0,
		func([]string) string { return "/v1/rewards/root" }, false},
	{"rewards-roots", "The rewards roots published after each calculation interval", 0,
		func([]string) string { return "/v1/rewards/roots" }, false},
	{"rewards-proof ADDRESS", "An earner's EigenLayer-compatible claim with proofs", 1,
		func(a []string) string { return "/v1/rewards/proof/" + a[0] }, false},
	{"slashes", "Slashes waiting to be burned or redistributed", 0,
		func([]string) string { return "/v1/slashes" }, false},
	{"state KEY", "A raw state record by hex key, with --prove a verified Merkle proof", 1,
		func(a []string) string { return "/v1/state/" + a[0] }, true},
}

func newQueryCmd(g *globals) *cobra.Command {
	var node string
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Read the node's state through its HTTP API",
		Long: `Reads views from the node's API. ADDRESS may be @name for a local key.
With --prove, views backed by one state record also fetch its Merkle proof and
check it against the block's app hash before printing.`,
	}
	cmd.PersistentFlags().StringVar(&node, "node", "", "node URL (default client.node in config.toml)")
	for _, r := range queryRoutes {
		r := r
		var prove bool
		var limit int
		var after string
		sub := &cobra.Command{
			Use:   r.use,
			Short: r.short,
			Args:  cobra.ExactArgs(r.args),
			RunE: func(_ *cobra.Command, args []string) error {
				for i, a := range args {
					if strings.HasPrefix(a, "@") {
						addr, err := openKeyring(g.home).address(a[1:])
						if err != nil {
							return err
						}
						args[i] = addr.Hex()
					}
				}
				q := url.Values{}
				if prove {
					q.Set("prove", "true")
				}
				if limit > 0 {
					q.Set("limit", fmt.Sprint(limit))
				}
				if after != "" {
					q.Set("after", after)
				}
				path := r.path(args)
				if len(q) > 0 {
					path += "?" + q.Encode()
				}
				var out json.RawMessage
				if err := newClient(nodeURL(g, node)).get(path, &out); err != nil {
					return err
				}
				if prove {
					if err := verifyProof(out); err != nil {
						return fmt.Errorf("the node's proof does not verify: %w", err)
					}
					fmt.Fprintln(g.stderr, "proof verified against the app hash")
				}
				var v any
				if err := json.Unmarshal(out, &v); err != nil {
					return err
				}
				return g.printJSON(v)
			},
		}
		if r.provable {
			sub.Flags().BoolVar(&prove, "prove", false, "fetch and verify a Merkle proof of the record")
		}
		if r.args == 0 {
			sub.Flags().IntVar(&limit, "limit", 0, "page size (lists)")
			sub.Flags().StringVar(&after, "after", "", "the last key of the previous page (lists)")
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

// verifyProof checks the "proof" object of a proved view: the value (or
// its absence) against the app hash with statetree.Verify.
func verifyProof(body []byte) error {
	var v struct {
		Proof *struct {
			Key     string          `json:"key"`
			Value   *string         `json:"value"`
			Proof   statetree.Proof `json:"proof"`
			AppHash string          `json:"app_hash"`
		} `json:"proof"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	if v.Proof == nil {
		return fmt.Errorf("the answer carries no proof")
	}
	key, err := hex.DecodeString(trim0x(v.Proof.Key))
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	var value []byte
	if v.Proof.Value != nil {
		if value, err = hex.DecodeString(trim0x(*v.Proof.Value)); err != nil {
			return fmt.Errorf("value: %w", err)
		}
		if value == nil {
			value = []byte{}
		}
	}
	rootB, err := hex.DecodeString(trim0x(v.Proof.AppHash))
	if err != nil || len(rootB) != 32 {
		return fmt.Errorf("app hash: %v", err)
	}
	var root [32]byte
	copy(root[:], rootB)
	return statetree.Verify(root, key, value, v.Proof.Proof)
}
