package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/restake/restake/internal/keys"
)

func keystoreAddress(data []byte) (keys.Address, error) {
	var ks struct {
		Address string `json:"address"`
	}
	var a keys.Address
	if err := json.Unmarshal(data, &ks); err != nil {
		return a, fmt.Errorf("not a keystore file: %w", err)
	}
	b, err := hex.DecodeString(trim0x(ks.Address))
	if err != nil || len(b) != 20 {
		return a, errors.New("the keystore has no address field")
	}
	copy(a[:], b)
	return a, nil
}

func trim0x(s string) string {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:]
	}
	return s
}

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage signing keys (Ethereum keystore v3 files in HOME/keys)"}
	var passFile string
	var light bool
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a new secp256k1 key",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			pass, set, err := password(passFile)
			if err != nil {
				return err
			}
			key, err := keys.Generate(rand.Reader)
			if err != nil {
				return err
			}
			path, err := openKeyring(g.home).save(args[0], key, pass, light)
			if err != nil {
				return err
			}
			if !set {
				fmt.Fprintln(g.stderr, "warning: the key is protected by an empty password; set RESTAKE_PASSWORD or --password-file")
			}
			return g.print(map[string]string{"name": args[0], "address": key.Address().Hex(), "file": path},
				fmt.Sprintf("created key %s: %s (%s)", args[0], key.Address().Hex(), path))
		},
	}
	importCmd := &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Import an Ethereum keystore v3 JSON file (FILE - reads stdin), or a raw hex private key with --hex",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			pass, _, err := password(passFile)
			if err != nil {
				return err
			}
			var data []byte
			if args[1] == "-" {
				data, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
			} else {
				data, err = os.ReadFile(args[1])
			}
			if err != nil {
				return err
			}
			var key *keys.PrivateKey
			if hexKey, _ := cmdFlagBool(g, "hex"); hexKey {
				key, err = keys.FromHex(string(trimSpace(data)))
			} else {
				key, err = keys.DecryptKeystore(data, pass)
			}
			if err != nil {
				return fmt.Errorf("import: %w", err)
			}
			path, err := openKeyring(g.home).save(args[0], key, pass, light)
			if err != nil {
				return err
			}
			return g.print(map[string]string{"name": args[0], "address": key.Address().Hex(), "file": path},
				fmt.Sprintf("imported key %s: %s", args[0], key.Address().Hex()))
		},
	}
	importCmd.Flags().Bool("hex", false, "FILE holds a hex private key instead of a keystore")
	export := &cobra.Command{
		Use:   "export NAME",
		Short: "Print a key's keystore v3 JSON (it stays encrypted)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			data, err := openKeyring(g.home).raw(args[0])
			if err != nil {
				return fmt.Errorf("no key %q: %w", args[0], err)
			}
			_, err = g.stdout.Write(append(data, '\n'))
			return err
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List keys and their addresses",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			kr := openKeyring(g.home)
			names, err := kr.list()
			if err != nil {
				return err
			}
			type row struct {
				Name    string `json:"name"`
				Address string `json:"address"`
			}
			rows := []row{}
			text := ""
			for _, n := range names {
				a, err := kr.address(n)
				if err != nil {
					return err
				}
				rows = append(rows, row{n, a.Hex()})
				text += fmt.Sprintf("%-20s %s\n", n, a.Hex())
			}
			if len(rows) == 0 {
				text = "no keys; create one with: restake keys create NAME\n"
			}
			return g.print(rows, text[:len(text)-1])
		},
	}
	for _, c := range []*cobra.Command{create, importCmd} {
		c.Flags().StringVar(&passFile, "password-file", "", "file holding the keystore password (default $RESTAKE_PASSWORD)")
		c.Flags().BoolVar(&light, "light", false, "weaker, faster scrypt parameters (tests and devnets)")
	}
	cmd.AddCommand(create, importCmd, export, list)
	return cmd
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// cmdFlagBool reads a bool flag of the running command.
func cmdFlagBool(g *globals, name string) (bool, error) {
	if g.cmd == nil {
		return false, nil
	}
	return g.cmd.Flags().GetBool(name)
}
