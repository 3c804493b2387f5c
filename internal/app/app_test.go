package app_test

import (
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/apptest"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/store"
)

func eth(n uint64) uint256.Int { return *new(uint256.Int).Mul(uint256.NewInt(n), uint256.NewInt(1e18)) }

// scriptBlocks is a short chain: an operator, a service, deposits,
// delegation, allocation, a slash, a withdrawal, a beacon report, and some
// transactions the ledger rejects.
func scriptBlocks() []app.Block {
	admin, op, avs, alice := apptest.NewSigner(0), apptest.NewSigner(1), apptest.NewSigner(2), apptest.NewSigner(3)
	set := ledger.OperatorSet{AVS: apptest.Addr(2), ID: 0}
	blocks := [][][]byte{
		{
			op.Sign(ledger.RegisterOperator{}),
			avs.Sign(ledger.RegisterAVS{}),
			alice.Sign(ledger.Deposit{Strategy: "stETH", Amount: eth(100)}),
			admin.Sign(ledger.BeaconBalanceUpdate{Staker: apptest.Addr(3), DeltaWei: eth(32)}),
		},
		{
			alice.Sign(ledger.Delegate{Operator: apptest.Addr(1)}),
			avs.Sign(ledger.CreateOperatorSet{ID: 0, Strategies: []string{"beaconETH", "stETH"}}),
			op.Sign(ledger.RegisterForSets{AVS: apptest.Addr(2), Sets: []uint32{0}}),
			alice.Sign(ledger.Deposit{Strategy: "nope", Amount: eth(1)}), // rejected: StrategyNotWhitelisted
		},
		{
			op.Sign(ledger.ModifyAllocations{Set: set, Strategies: []string{"beaconETH", "stETH"},
				Magnitudes: []uint64{5e17, 5e17}}),
			alice.Sign(ledger.Slash{Operator: apptest.Addr(1), Set: set, Strategies: []string{"stETH"},
				Wads: []uint256.Int{*uint256.NewInt(1e17)}}), // rejected: InvalidCaller
		},
		{
			avs.Sign(ledger.Slash{Operator: apptest.Addr(1), Set: set, Strategies: []string{"stETH"},
				Wads: []uint256.Int{*uint256.NewInt(1e17)}}),
			alice.Sign(ledger.QueueWithdrawal{Strategies: []string{"stETH"}, DepositShares: []uint256.Int{eth(10)}}),
		},
	}
	var out []app.Block
	for i, txs := range blocks {
		out = append(out, app.Block{Height: uint64(i + 1), Time: apptest.GenesisTime + uint64(i+1)*12, Txs: txs})
	}
	return out
}

func runChain(t *testing.T, st app.Store) (*app.App, []string) {
	t.Helper()
	a, err := app.New(apptest.Genesis(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, b := range scriptBlocks() {
		res, err := a.FinalizeBlock(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Commit(); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, res.AppHash)
	}
	return a, hashes
}

func TestBlocksExecuteAndResultsCarryErrors(t *testing.T) {
	a, err := app.New(apptest.Genesis(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.CommitGenesis(); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"", "", "", ""}, {"", "", "", "StrategyNotWhitelisted"}, {"", "InvalidCaller"}, {"", ""}}
	for i, b := range scriptBlocks() {
		res, err := a.FinalizeBlock(b)
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range res.Txs {
			if r.Error != want[i][j] {
				t.Errorf("block %d tx %d (%s): error %q, want %q (%s)", b.Height, j, r.Op, r.Error, want[i][j], r.Hint)
			}
		}
		if _, err := a.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// The slash took 10% of the stETH allocation: magnitude 1 - 0.05.
	if m := a.Ledger().MaxMagnitude(apptest.Addr(1), "stETH"); m != 95e16 {
		t.Fatalf("max magnitude %d after the slash", m)
	}
	// Rejected operations still used their nonce.
	if n := a.Ledger().TxNonce(apptest.Addr(3)); n != 5 {
		t.Fatalf("alice's nonce %d, want 5 (every included transaction counts)", n)
	}
	if err := a.Ledger().CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestReplayAndRestoreReproduceAppHashes: replaying the blocks from genesis
// gives the same app hash at every height, and a chain restored from its
// store's records continues with the same hashes as one that never stopped.
func TestReplayAndRestoreReproduceAppHashes(t *testing.T) {
	_, first := runChain(t, nil)
	_, second := runChain(t, nil)
	for i := range first {
		if first[i] != second[i] {
			t.Fatalf("height %d: app hash %s then %s on replay", i+1, first[i], second[i])
		}
	}
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := runChain(t, st)
	h, tm, hash, ok, err := st.Head()
	if err != nil || !ok || h != 4 || hash != a.AppHash() {
		t.Fatalf("store head %d %x ok=%v err=%v", h, hash, ok, err)
	}
	recs, err := st.Records()
	if err != nil {
		t.Fatal(err)
	}
	b, err := app.Restore(apptest.Genesis(), st, recs, h, tm, hash)
	if err != nil {
		t.Fatal(err)
	}
	if b.Ledger().StateHash() != a.Ledger().StateHash() {
		t.Fatal("the restored ledger differs from the one that committed")
	}
	st.Close()
}

func TestCheckTxRejects(t *testing.T) {
	a, err := app.New(apptest.Genesis(), nil)
	if err != nil {
		t.Fatal(err)
	}
	good := apptest.NewSigner(1).Sign(ledger.RegisterOperator{})
	wrongChain, _ := apptest.SignWith(apptest.Key(1), 0, "other-chain", ledger.RegisterOperator{})
	badSig := append([]byte(nil), good...)
	badSig[len(badSig)-1] = 7 // v must be 0 or 1 (27 or 28)
	cases := []struct {
		name string
		raw  []byte
		want *ledger.Error
	}{
		{"empty", nil, ledger.ErrTxMalformed},
		{"garbage", []byte("not a transaction"), ledger.ErrTxMalformed},
		{"too large", make([]byte, 70<<10), ledger.ErrTxTooLarge},
		{"wrong chain", wrongChain, ledger.ErrWrongChainID},
		{"bad signature", badSig, ledger.ErrInvalidSignature},
	}
	for _, c := range cases {
		if _, err := a.CheckTx(c.raw); err != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want.Name)
		}
	}
	c, lerr := a.CheckTx(good)
	if lerr != nil || c.Sender != apptest.Addr(1) {
		t.Fatalf("a good transaction: %v, sender %s", lerr, c.Sender)
	}
	// A mangled s recovers to some other key (as on Ethereum): never to the
	// signer, so nothing can be done in the signer's name.
	mangled := append([]byte(nil), good...)
	mangled[len(mangled)-2] ^= 0xff
	if c, lerr := a.CheckTx(mangled); lerr == nil && c.Sender == apptest.Addr(1) {
		t.Fatal("a mangled signature still authenticates the signer")
	}
}
