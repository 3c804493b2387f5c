// Package apptest builds small signed-transaction chains for tests of the
// app, the node, the store and the API: a genesis whose authorities are
// keys the test holds, and helpers to sign operations.
package apptest

import (
	"fmt"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/tx"
)

// ChainID is the test chain's id.
const ChainID = "restake-test"

// GenesisTime is the test chain's genesis time (aligned to the rewards
// interval).
const GenesisTime = 1_710_979_200

// Key returns the i-th deterministic test key.
func Key(i int) *keys.PrivateKey {
	b := make([]byte, 32)
	b[31] = byte(i + 1)
	b[30] = byte((i + 1) >> 8)
	b[0] = 0x42
	k, err := keys.FromBytes(b)
	if err != nil {
		panic(err)
	}
	return k
}

// Addr returns Key(i)'s address.
func Addr(i int) ledger.Address { return ledger.Address(Key(i).Address()) }

// Genesis is a chain whose admin, oracles and treasury are Key(0), with an
// stETH strategy and balances of stETH for keys 0-9.
func Genesis() *app.Genesis {
	admin := Key(0).Address().Hex()
	g := &app.Genesis{ChainID: ChainID, GenesisTime: GenesisTime, Admins: []string{admin},
		BeaconOracles: []string{admin}, PriceOracles: []string{admin}, Treasury: admin,
		Params:     app.GenesisParams{WithdrawalDelayBlocks: 10, DeallocationDelayBlocks: 10, AllocationConfigurationDelayBlocks: 15},
		Strategies: []app.GenesisStrategy{{Name: "stETH", Token: "stETH"}}}
	for i := 0; i < 10; i++ {
		g.Balances = append(g.Balances, app.GenesisBalance{Account: Key(i).Address().Hex(), Token: "stETH",
			Amount: "1000000000000000000000"})
	}
	return g
}

// Signer signs operations for one key, counting its nonce.
type Signer struct {
	Key   *keys.PrivateKey
	Nonce uint64
}

// NewSigner returns a signer for Key(i) starting at nonce 0.
func NewSigner(i int) *Signer { return &Signer{Key: Key(i)} }

// Sign encodes and signs op with the next nonce.
func (s *Signer) Sign(op ledger.Op) []byte {
	b, err := SignWith(s.Key, s.Nonce, ChainID, op)
	if err != nil {
		panic(fmt.Sprintf("apptest: sign %T: %v", op, err))
	}
	s.Nonce++
	return b
}

// SignWith signs op with an explicit nonce and chain id.
func SignWith(k *keys.PrivateKey, nonce uint64, chainID string, op ledger.Op) ([]byte, error) {
	t := tx.Tx{ChainID: chainID, Nonce: nonce, Op: op}
	h, err := t.SigningHash()
	if err != nil {
		return nil, err
	}
	sig, err := k.Sign(h)
	if err != nil {
		return nil, err
	}
	return tx.Signed{Tx: t, Sig: sig}.Encode()
}
