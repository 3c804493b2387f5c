package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/config"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/tx"
)

// Field kinds for key=value arguments: everything not listed is a string.
var (
	intFields = map[string]bool{"set": true, "delay": true, "allocation_delay": true, "count": true,
		"bips": true, "expiry_block": true, "start_time": true, "duration": true, "timestamp": true,
		"slash_id": true}
	boolFields    = map[string]bool{"as_tokens": true, "redistributing": true}
	intListFields = map[string]bool{"sets": true}
	listFields    = map[string]bool{"strategies": true, "deposit_shares": true, "magnitudes": true, "wads": true,
		"multipliers": true}
	addressFields = map[string]bool{"account": true, "operator": true, "staker": true, "approver": true,
		"avs": true, "slasher": true, "redistribution_recipient": true}
)

// fieldsFromArgs turns key=value arguments into the JSON fields of an
// operation. Lists are comma-separated; @name stands for the address of a
// local key.
func fieldsFromArgs(g *globals, args []string) (map[string]any, error) {
	out := map[string]any{}
	kr := openKeyring(g.home)
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("argument %q: write fields as name=value (lists as a,b,c)", a)
		}
		if addressFields[k] && strings.HasPrefix(v, "@") {
			addr, err := kr.address(v[1:])
			if err != nil {
				return nil, fmt.Errorf("%s=%s: %w", k, v, err)
			}
			v = addr.Hex()
		}
		switch {
		case intFields[k]:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s=%s: not a non-negative integer", k, v)
			}
			out[k] = n
		case boolFields[k]:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("%s=%s: use true or false", k, v)
			}
			out[k] = b
		case intListFields[k]:
			var ns []uint64
			for _, s := range splitList(v) {
				n, err := strconv.ParseUint(s, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("%s=%s: %q is not a set id", k, v, s)
				}
				ns = append(ns, n)
			}
			out[k] = ns
		case listFields[k]:
			out[k] = splitList(v)
		default:
			out[k] = v
		}
	}
	return out, nil
}

func splitList(v string) []string {
	if v == "" {
		return []string{}
	}
	return strings.Split(v, ",")
}

func newTxCmd(g *globals) *cobra.Command {
	var keyName, passFile, node, jsonFields string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "tx OPERATION [field=value ...]",
		Short: "Sign an operation, submit it and print its result",
		Long: `Signs OPERATION with a local key, submits it to the node and, with --wait
(the default), waits for its block and prints the result.

Fields are name=value; lists are comma-separated; @name is the address of the
local key "name". Amounts are decimal integers in the token's smallest unit.
Operations and their fields:

` + opTable() + `
Examples:
  restake tx deposit strategy=stETH amount=1000000000000000000
  restake tx delegate operator=@alice
  restake tx slash operator=0x... avs=@myavs set=0 strategies=stETH wads=100000000000000000`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			op := args[0]
			fields, err := fieldsFromArgs(g, args[1:])
			if err != nil {
				return err
			}
			if jsonFields != "" {
				if err := json.Unmarshal([]byte(jsonFields), &fields); err != nil {
					return fmt.Errorf("--json: %w", err)
				}
			}
			raw, err := json.Marshal(fields)
			if err != nil {
				return err
			}
			parsed, err := tx.OpFromJSON(op, raw)
			if err != nil {
				return fmt.Errorf("%w (see restake tx --help for the fields of %s)", err, op)
			}
			if keyName == "" {
				cfg, _ := config.Load(g.home)
				keyName = cfg.Client.Key
			}
			pass, _, err := password(passFile)
			if err != nil {
				return err
			}
			key, err := openKeyring(g.home).load(keyName, pass)
			if err != nil {
				return err
			}
			c := newClient(nodeURL(g, node))
			var status struct {
				ChainID string `json:"chain_id"`
			}
			if err := c.get("/v1/status", &status); err != nil {
				return err
			}
			var nonce struct {
				Nonce uint64 `json:"nonce"`
			}
			if err := c.get("/v1/nonce/"+key.Address().Hex(), &nonce); err != nil {
				return err
			}
			t := tx.Tx{ChainID: status.ChainID, Nonce: nonce.Nonce, Op: parsed}
			h, err := t.SigningHash()
			if err != nil {
				return err
			}
			sig, err := key.Sign(h)
			if err != nil {
				return err
			}
			enc, err := tx.Signed{Tx: t, Sig: sig}.Encode()
			if err != nil {
				return err
			}
			return submit(g, c, enc, wait, timeout)
		},
	}
	cmd.Flags().StringVar(&keyName, "key", "", "local key to sign with (default client.key in config.toml)")
	cmd.Flags().StringVar(&passFile, "password-file", "", "file holding the key's password (default $RESTAKE_PASSWORD)")
	cmd.Flags().StringVar(&node, "node", "", "node URL (default client.node in config.toml)")
	cmd.Flags().StringVar(&jsonFields, "json", "", "fields as a JSON object (merged over name=value arguments)")
	cmd.Flags().BoolVar(&wait, "wait", true, "wait for the transaction's block and print its result")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait")
	return cmd
}

type submitResponse struct {
	Results []struct {
		Hash    string          `json:"hash"`
		Status  string          `json:"status"`
		Error   string          `json:"error"`
		Message string          `json:"message"`
		Result  json.RawMessage `json:"result"`
	} `json:"results"`
}

// submit posts a signed transaction and, with wait, polls for its result
// with a progress line on stderr.
func submit(g *globals, c *client, enc []byte, wait bool, timeout time.Duration) error {
	var resp submitResponse
	if err := c.post("/v1/txs", map[string]any{"tx": "0x" + hex.EncodeToString(enc)}, &resp); err != nil {
		return err
	}
	if len(resp.Results) != 1 {
		return fmt.Errorf("unexpected answer from the node")
	}
	r := resp.Results[0]
	if r.Error != "" {
		return &apiError{Name: r.Error, Message: r.Message}
	}
	if !wait {
		return g.print(map[string]string{"hash": r.Hash, "status": "pending"}, "submitted "+r.Hash)
	}
	start := time.Now()
	for {
		var res struct {
			Status string `json:"status"`
			Code   uint32 `json:"code"`
			Error  string `json:"error"`
			Hint   string `json:"hint"`
			Height uint64 `json:"height"`
		}
		var raw json.RawMessage
		err := c.get("/v1/txs/"+r.Hash, &raw)
		if err == nil {
			_ = json.Unmarshal(raw, &res)
			if res.Status != "pending" {
				g.endProgress()
				if g.output == "json" {
					_, err := fmt.Fprintln(g.stdout, string(raw))
					if err == nil && res.Code != 0 {
						return exitError{1}
					}
					return err
				}
				if res.Code != 0 {
					fmt.Fprintf(g.stdout, "rejected in block %d: %s: %s\n", res.Height, res.Error, res.Hint)
					return exitError{1}
				}
				var pretty map[string]any
				_ = json.Unmarshal(raw, &pretty)
				b, _ := json.MarshalIndent(pretty, "", "  ")
				fmt.Fprintf(g.stdout, "committed in block %d\n%s\n", res.Height, b)
				return nil
			}
		}
		if time.Since(start) > timeout {
			g.endProgress()
			return fmt.Errorf("transaction %s not committed after %s; check later with: restake query tx %s",
				r.Hash, timeout, r.Hash)
		}
		g.progress("waiting for block… %.1fs", time.Since(start).Seconds())
		time.Sleep(150 * time.Millisecond)
	}
}

// opTable lists every operation with its fields, for --help.
func opTable() string {
	names := tx.OpNames()
	fields := opFields()
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-26s %s\n", n, fields[n])
	}
	return b.String()
}

// opFields reads the fields of every op from tx.OpToJSON of a zero op.
func opFields() map[string]string {
	out := map[string]string{}
	for _, op := range allOps() {
		name, fields := tx.OpToJSON(op)
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out[name] = strings.Join(keys, " ")
	}
	return out
}

func allOps() []ledger.Op {
	return []ledger.Op{ledger.Mint{}, ledger.AddStrategy{}, ledger.Rebase{}, ledger.Deposit{}, ledger.Delegate{},
		ledger.Undelegate{}, ledger.Redelegate{}, ledger.QueueWithdrawal{}, ledger.CompleteWithdrawal{},
		ledger.RegisterOperator{}, ledger.ModifyOperatorDetails{}, ledger.UpdateOperatorMetadata{},
		ledger.SetAllocationDelay{}, ledger.ApproveDelegation{}, ledger.BeaconBalanceUpdate{}, ledger.RegisterAVS{},
		ledger.CreateOperatorSet{}, ledger.AddStrategies{}, ledger.RemoveStrategies{}, ledger.UpdateSlasher{},
		ledger.RegisterForSets{}, ledger.DeregisterFromSets{}, ledger.ModifyAllocations{},
		ledger.ClearDeallocationQueue{}, ledger.Slash{}, ledger.ClearSlashed{}, ledger.SubmitRewards{},
		ledger.SetOperatorSplit{}, ledger.ClaimRewards{}, ledger.SetPrice{}}
}
