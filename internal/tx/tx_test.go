package tx

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/holiman/uint256"
	"golang.org/x/crypto/sha3"

	"github.com/restake/restake/internal/ledger"
)

// addr returns an address whose 20 bytes are all b, easy to spot in hex.
func addr(b byte) ledger.Address {
	var a ledger.Address
	for i := range a {
		a[i] = b
	}
	return a
}

func wid(b byte) ledger.WithdrawalID {
	var w ledger.WithdrawalID
	for i := range w {
		w[i] = b ^ byte(i)
	}
	return w
}

// amt parses a decimal uint256 and panics on a typo in a test literal.
func amt(s string) uint256.Int {
	var z uint256.Int
	if err := z.SetFromDecimal(s); err != nil {
		panic(err)
	}
	return z
}

const (
	wad     = "1000000000000000000"
	maxU256 = "115792089237316195423570985008687907853269984665640564039457584007913129639935"
	twoP256 = "115792089237316195423570985008687907853269984665640564039457584007913129639936"
)

// examples holds one populated value of every op type, with every field
// non-zero (TestExamplesCoverEveryOp checks both), so that a field that is
// dropped, swapped or mis-sized changes the result of some test.
func examples() []ledger.Op {
	return []ledger.Op{
		ledger.Mint{Account: addr(0x11), Token: "stETH", Amount: amt(wad)},
		ledger.AddStrategy{Strategy: "stETH-strategy", Token: "stETH"},
		ledger.Rebase{Strategy: "rETH", Amount: amt("5")},
		ledger.Deposit{Strategy: "stETH", Amount: amt(maxU256)},
		ledger.Delegate{Operator: addr(0x22)},
		ledger.Undelegate{Staker: addr(0x11)},
		ledger.Redelegate{Operator: addr(0x33)},
		ledger.QueueWithdrawal{Strategies: []string{"stETH", ledger.BeaconStrategy},
			DepositShares: []uint256.Int{amt("1"), amt("18446744073709551616")}},
		ledger.CompleteWithdrawal{Withdrawal: wid(0xab), AsTokens: true},
		ledger.RegisterOperator{AllocationDelay: 17, Approver: addr(0x44),
			Metadata: "https://example.com/operator.json"},
		ledger.ModifyOperatorDetails{Approver: addr(0x45)},
		ledger.UpdateOperatorMetadata{Metadata: "ipfs://bafy"},
		ledger.SetAllocationDelay{Delay: 0xdeadbeef},
		ledger.ApproveDelegation{Operator: addr(0x22), Staker: addr(0x11), Expiry: 1 << 40},
		ledger.BeaconBalanceUpdate{Staker: addr(0x11), PrevRestakedWei: amt("32" + wad[1:]),
			DeltaWei: amt("1000000000"), Decrease: true},
		ledger.RegisterAVS{Metadata: "avs metadata"},
		ledger.CreateOperatorSet{ID: 7, Strategies: []string{"a", "b"}, Slasher: addr(0x55),
			Redistributing: true, Recipient: addr(0x66)},
		ledger.AddStrategies{Set: 7, Strategies: []string{"c"}},
		ledger.RemoveStrategies{Set: 8, Strategies: []string{"a", "c"}},
		ledger.UpdateSlasher{Set: 9, Slasher: addr(0x57)},
		ledger.RegisterForSets{AVS: addr(0x77), Sets: []uint32{0, 2, 0xffffffff}},
		ledger.DeregisterFromSets{Operator: addr(0x22), AVS: addr(0x77), Sets: []uint32{2}},
		ledger.ModifyAllocations{Set: ledger.OperatorSet{AVS: addr(0x77), ID: 3},
			Strategies: []string{"stETH", "rETH"}, Magnitudes: []uint64{1e18, 1<<64 - 1}},
		ledger.ClearDeallocationQueue{Operator: addr(0x22), Strategy: "stETH", Count: 5},
		ledger.Slash{Operator: addr(0x22), Set: ledger.OperatorSet{AVS: addr(0x77), ID: 4},
			Strategies: []string{"rETH", "stETH"}, Wads: []uint256.Int{amt(wad), amt("1")},
			Description: "double signing"},
		ledger.ClearSlashed{Set: ledger.OperatorSet{AVS: addr(0x77), ID: 4}, SlashID: 12},
		ledger.SubmitRewards{Token: "EIGEN", Amount: amt("1000" + wad[1:]),
			Strategies: []string{"stETH"}, Multipliers: []uint256.Int{amt(wad)},
			StartTime: 1710979200, Duration: 86400},
		ledger.SetOperatorSplit{AVS: addr(0x77), Bips: 1000},
		ledger.ClaimRewards{Token: "EIGEN"},
		ledger.SetPrice{Token: "stETH", PriceUSD: amt("3000" + wad[1:]), Timestamp: 1710979212},
		ledger.DeclareServiceRisk{Set: 1, ProfitUSD: amt("45000000" + wad[1:]), ThresholdNum: 2, ThresholdDen: 3},
	}
}

func sig(b byte) [SigLen]byte {
	var s [SigLen]byte
	for i := range s {
		s[i] = b + byte(i)
	}
	return s
}

func signedOf(op ledger.Op) Signed {
	return Signed{Tx: Tx{ChainID: "restake-test-1", Nonce: 42, Op: op}, Sig: sig(0x80)}
}

func mustEncode(t *testing.T, s Signed) []byte {
	t.Helper()
	b, err := s.Encode()
	if err != nil {
		t.Fatalf("%s: Encode: %v", s.Tx.Op.OpName(), err)
	}
	return b
}

func TestExamplesCoverEveryOp(t *testing.T) {
	var got []string
	for _, op := range examples() {
		got = append(got, op.OpName())
		v := reflect.ValueOf(op)
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).IsZero() {
				t.Errorf("%s: example field %s is zero; use a non-zero value so that "+
					"a lost field shows", op.OpName(), v.Type().Field(i).Name)
			}
		}
	}
	if want := OpNames(); !slices.Equal(got, want) {
		t.Fatalf("examples cover\n%v\nbut the format defines (in tag order)\n%v\n"+
			"add an example for every op, in tag order", got, want)
	}
}

// TestTagTable checks the three sources of the tag mapping against one
// another: OpTag, opsByTag and the table in the package doc.
func TestTagTable(t *testing.T) {
	for tag := 1; tag < len(opsByTag); tag++ {
		if got, ok := OpTag(opsByTag[tag]); !ok || int(got) != tag {
			t.Errorf("OpTag(%T) = %d, %v; want %d", opsByTag[tag], got, ok, tag)
		}
	}
	seen := map[string]bool{}
	for _, n := range OpNames() {
		if seen[n] {
			t.Errorf("op name %q appears twice", n)
		}
		seen[n] = true
	}
	for _, bad := range []ledger.Op{nil, &ledger.Mint{}, &ledger.Deposit{}} {
		if tag, ok := OpTag(bad); ok {
			t.Errorf("OpTag(%T) = %d, true; want false", bad, tag)
		}
	}
	src, err := os.ReadFile("tx.go")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^//\t +(\d+)  (\w+) +(\w+)$`)
	rows := row.FindAllStringSubmatch(string(src), -1)
	if len(rows) != len(opsByTag)-1 {
		t.Fatalf("the package doc's tag table has %d rows, want %d", len(rows), len(opsByTag)-1)
	}
	for i, r := range rows {
		tag, _ := strconv.Atoi(r[1])
		typ := reflect.TypeOf(opsByTag[i+1]).Name()
		if tag != i+1 || r[2] != OpNames()[i] || r[3] != typ {
			t.Errorf("doc table row %q, want %d %s %s", r[0], i+1, OpNames()[i], typ)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, op := range examples() {
		s := signedOf(op)
		b := mustEncode(t, s)
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: Decode: %v", op.OpName(), err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("%s: Decode(Encode(x)) =\n%+v\nwant\n%+v", op.OpName(), got, s)
		}
		again := mustEncode(t, got)
		if !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoding differs:\n%x\n%x", op.OpName(), again, b)
		}
		if got.Hash() != s.Hash() || s.Hash() == ([32]byte{}) {
			t.Errorf("%s: hash changed in the round trip or is zero", op.OpName())
		}
	}
}

// refEncode is a reflection-driven reference encoder: the spec's field
// rules applied to the struct's fields in declaration order. The
// hand-written codec must agree with it on every op.
func refEncode(t *testing.T, v reflect.Value) []byte {
	switch x := v.Interface().(type) {
	case ledger.Address:
		return x[:]
	case ledger.WithdrawalID:
		return x[:]
	case uint256.Int:
		b := x.Bytes32()
		return b[:]
	case uint64:
		return binary.BigEndian.AppendUint64(nil, x)
	case uint32:
		return binary.BigEndian.AppendUint32(nil, x)
	case bool:
		if x {
			return []byte{1}
		}
		return []byte{0}
	case string:
		return append(binary.BigEndian.AppendUint16(nil, uint16(len(x))), x...)
	}
	var out []byte
	switch v.Kind() {
	case reflect.Slice:
		out = append(out, byte(v.Len()))
		for i := 0; i < v.Len(); i++ {
			out = append(out, refEncode(t, v.Index(i))...)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			out = append(out, refEncode(t, v.Field(i))...)
		}
	default:
		t.Fatalf("refEncode: no rule for %s", v.Type())
	}
	return out
}

func TestEncodingMatchesSpec(t *testing.T) {
	for _, op := range examples() {
		tx := Tx{ChainID: "c", Nonce: 0x0102030405060708, Op: op}
		got, err := tx.Encode()
		if err != nil {
			t.Fatal(err)
		}
		tag, _ := OpTag(op)
		want := []byte{Version, 1, 'c', 1, 2, 3, 4, 5, 6, 7, 8, byte(tag >> 8), byte(tag)}
		want = append(want, refEncode(t, reflect.ValueOf(op))...)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encoding\n%x\nwant (fields in declaration order)\n%x",
				op.OpName(), got, want)
		}
	}
}

// Golden encodings. They pin the wire format: if one changes, the change
// must be deliberate (a new Version, or a new op tag), never a side effect.
var golden = []struct {
	tx          Signed
	hex         string // the body, spaced by field
	signingHash string
	id          string
}{
	{
		tx: Signed{Tx: Tx{ChainID: "restake-1", Nonce: 7,
			Op: ledger.Deposit{Strategy: "stETH", Amount: amt(wad)}}, Sig: sig(1)},
		hex: "01 09 72657374616b652d31 0000000000000007 0004 0005 7374455448" +
			" 0000000000000000000000000000000000000000000000000de0b6b3a7640000",
		signingHash: "63f625853f08c31694f03781721b13129ec2adbe8d3c88fbe6c083284bfb86a4",
		id:          "6aefd2cfd74cbd783ebbf14110e25f0627333887bfea4bfc81864462ca98a5b2",
	},
	{
		tx: Signed{Tx: Tx{ChainID: "restake-1", Nonce: 0,
			Op: ledger.CompleteWithdrawal{Withdrawal: wid(0), AsTokens: true}}, Sig: sig(2)},
		hex: "01 09 72657374616b652d31 0000000000000000 0009" +
			" 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 01",
		signingHash: "2debe00982e1c64abc1a59976c0e650668c170ad600e2381e404dd5a837cf152",
		id:          "329955c7412c19a24d5e7f0a9cb3d9898bea6bb274e71427708a2a3df538a758",
	},
	{
		tx: Signed{Tx: Tx{ChainID: "restake-test-1", Nonce: 42, Op: ledger.Slash{
			Operator: addr(0x22), Set: ledger.OperatorSet{AVS: addr(0x77), ID: 4},
			Strategies: []string{"rETH", "stETH"}, Wads: []uint256.Int{amt(wad), amt("1")},
			Description: "double signing"}}, Sig: sig(0x80)},
		hex: "01 0e 72657374616b652d746573742d31 000000000000002a 0019" +
			" 2222222222222222222222222222222222222222" +
			" 7777777777777777777777777777777777777777 00000004" +
			" 02 0004 72455448 0005 7374455448" +
			" 02 0000000000000000000000000000000000000000000000000de0b6b3a7640000" +
			" 0000000000000000000000000000000000000000000000000000000000000001" +
			" 000e 646f75626c65207369676e696e67",
		signingHash: "9323c4dd3e4c3691032d4adf597033be21ea2b0c359c07f747c2525377607382",
		id:          "f31567d4033f56d1c521a10dfe4263cf70c132c43b43edb8b83b4d28d65abd51",
	},
}

func unspace(s string) string { return strings.ReplaceAll(s, " ", "") }

func TestGolden(t *testing.T) {
	for i, g := range golden {
		b := mustEncode(t, g.tx)
		body := b[:len(b)-SigLen]
		if got, want := hex.EncodeToString(body), unspace(g.hex); got != want {
			t.Errorf("golden %d (%s): body\n%s\nwant\n%s", i, g.tx.Tx.Op.OpName(), got, want)
		}
		if !bytes.Equal(b[len(b)-SigLen:], g.tx.Sig[:]) {
			t.Errorf("golden %d: the signature is not the last %d bytes", i, SigLen)
		}
		h, err := g.tx.Tx.SigningHash()
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(h[:]); got != g.signingHash {
			t.Errorf("golden %d: signing hash %s, want %s", i, got, g.signingHash)
		}
		id := g.tx.Hash()
		if got := hex.EncodeToString(id[:]); got != g.id {
			t.Errorf("golden %d: id %s, want %s", i, got, g.id)
		}
	}
}

// keccak is an independent Keccak-256 for checking the hashes.
func keccak(b []byte) [32]byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(b)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func TestHashes(t *testing.T) {
	s := signedOf(examples()[0])
	body, err := s.Tx.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Tx.SigningHash()
	if err != nil {
		t.Fatal(err)
	}
	if want := keccak(append([]byte("\x19restake transaction:\n"), body...)); h != want {
		t.Errorf("signing hash %x, want keccak256(prefix || body) %x", h, want)
	}
	if h == keccak(body) {
		t.Error("the signing hash must not be the bare body hash")
	}
	// The prefix's first two bytes are what keeps it apart from Ethereum
	// preimages (see the package doc).
	if signingPrefix[0] != 0x19 || signingPrefix[1] == 'E' || signingPrefix[1] <= 0x01 ||
		signingPrefix[1] >= 0xc0 {
		t.Errorf("signing prefix %q lost its domain separation", signingPrefix)
	}
	if s.Hash() != keccak(mustEncode(t, s)) {
		t.Error("the id is not keccak256 of the signed encoding")
	}
	other := s
	other.Sig[64] ^= 1
	if other.Hash() == s.Hash() {
		t.Error("the id does not cover the signature")
	}
	other = s
	other.Tx.ChainID = "restake-test-2"
	h2, _ := other.Tx.SigningHash()
	if h2 == h {
		t.Error("the signing hash does not cover the chain id")
	}
	if (Signed{}).Hash() != ([32]byte{}) {
		t.Error("a Signed without an op has no id, Hash must be zero")
	}
}

// wantErr fails unless err wraps sentinel (and, when field is not "", is a
// *FieldError naming that field).
func wantErr(t *testing.T, what string, err, sentinel error, field string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: error %v, want %v", what, err, sentinel)
		return
	}
	var fe *FieldError
	if field != "" && (!errors.As(err, &fe) || fe.Field != field) {
		t.Errorf("%s: error %v does not name field %q", what, err, field)
	}
}

func TestDecodeTruncated(t *testing.T) {
	for _, op := range examples() {
		b := mustEncode(t, signedOf(op))
		for n := 0; n < len(b); n++ {
			_, err := Decode(b[:n])
			wantErr(t, op.OpName()+" cut at "+strconv.Itoa(n), err, ErrTruncated, "")
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := mustEncode(t, signedOf(ledger.Delegate{Operator: addr(0x22)}))
	tagAt := 1 + 1 + len("restake-test-1") + 8
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), valid...))
	}
	cases := []struct {
		name  string
		in    []byte
		want  error
		field string
	}{
		{"trailing byte", append(slices.Clone(valid), 0), ErrTrailingBytes, ""},
		{"trailing signature", append(slices.Clone(valid), valid[len(valid)-SigLen:]...),
			ErrTrailingBytes, ""},
		{"version 0", mutate(func(b []byte) []byte { b[0] = 0; return b }), ErrBadVersion, "version"},
		{"version 2", mutate(func(b []byte) []byte { b[0] = 2; return b }), ErrBadVersion, "version"},
		{"tag 0", mutate(func(b []byte) []byte { b[tagAt], b[tagAt+1] = 0, 0; return b }),
			ErrUnknownOp, "op"},
		{"tag 32", mutate(func(b []byte) []byte { b[tagAt], b[tagAt+1] = 0, 32; return b }),
			ErrUnknownOp, "op"},
		{"tag 0xffff", mutate(func(b []byte) []byte { b[tagAt], b[tagAt+1] = 0xff, 0xff; return b }),
			ErrUnknownOp, "op"},
		{"chain id 65 bytes", append([]byte{Version, 65}, make([]byte, 200)...),
			ErrFieldTooLong, "chain_id"},
		{"empty", nil, ErrTruncated, "version"},
		{"oversize", make([]byte, MaxTxBytes+1), ErrTooLarge, ""},
	}
	for _, c := range cases {
		_, err := Decode(c.in)
		wantErr(t, c.name, err, c.want, c.field)
	}
	// A body of exactly MaxTxBytes is not too large; it fails for another
	// reason (here, version 0).
	if _, err := Decode(make([]byte, MaxTxBytes)); errors.Is(err, ErrTooLarge) || err == nil {
		t.Errorf("MaxTxBytes bytes: error %v, want one other than ErrTooLarge", err)
	}
}

func TestDecodeNonCanonicalBool(t *testing.T) {
	for _, op := range []ledger.Op{
		ledger.CompleteWithdrawal{Withdrawal: wid(1), AsTokens: false},
		ledger.BeaconBalanceUpdate{Staker: addr(1), Decrease: true},
	} {
		b := mustEncode(t, signedOf(op))
		at := len(b) - SigLen - 1 // the bool is the op's last field
		for _, v := range []byte{2, 0xff} {
			bad := slices.Clone(b)
			bad[at] = v
			_, err := Decode(bad)
			wantErr(t, op.OpName()+" bool "+strconv.Itoa(int(v)), err, ErrNonCanonical, "")
		}
	}
}

// TestLimits checks every limit from both sides: at the limit encodes and
// decodes, one over fails to encode, and bytes with one over fail to decode.
func TestLimits(t *testing.T) {
	name := func(n int) string { return strings.Repeat("n", n) }
	names := func(n int) []string { return slices.Repeat([]string{"s"}, n) }
	cases := []struct {
		field    string
		at, over Tx
	}{
		{"chain_id", Tx{ChainID: name(ChainIDLenMax), Op: ledger.Delegate{}},
			Tx{ChainID: name(ChainIDLenMax + 1), Op: ledger.Delegate{}}},
		{"token", Tx{Op: ledger.ClaimRewards{Token: name(ledger.NameLenMax)}},
			Tx{Op: ledger.ClaimRewards{Token: name(ledger.NameLenMax + 1)}}},
		{"metadata", Tx{Op: ledger.RegisterAVS{Metadata: name(ledger.MetadataLenMax)}},
			Tx{Op: ledger.RegisterAVS{Metadata: name(ledger.MetadataLenMax + 1)}}},
		{"description", Tx{Op: ledger.Slash{Description: name(ledger.MetadataLenMax)}},
			Tx{Op: ledger.Slash{Description: name(ledger.MetadataLenMax + 1)}}},
		{"strategies", Tx{Op: ledger.AddStrategies{Strategies: names(ledger.InputArrayMax)}},
			Tx{Op: ledger.AddStrategies{Strategies: names(ledger.InputArrayMax + 1)}}},
		{"strategies", Tx{Op: ledger.AddStrategies{Strategies: []string{name(32)}}},
			Tx{Op: ledger.AddStrategies{Strategies: []string{"ok", name(33)}}}},
		{"sets", Tx{Op: ledger.RegisterForSets{Sets: make([]uint32, ledger.InputArrayMax)}},
			Tx{Op: ledger.RegisterForSets{Sets: make([]uint32, ledger.InputArrayMax+1)}}},
		{"magnitudes", Tx{Op: ledger.ModifyAllocations{Magnitudes: make([]uint64, 64)}},
			Tx{Op: ledger.ModifyAllocations{Magnitudes: make([]uint64, 65)}}},
		{"wads", Tx{Op: ledger.Slash{Wads: make([]uint256.Int, 64)}},
			Tx{Op: ledger.Slash{Wads: make([]uint256.Int, 65)}}},
	}
	for _, c := range cases {
		s := Signed{Tx: c.at}
		b := mustEncode(t, s)
		if _, err := Decode(b); err != nil {
			t.Errorf("%s at the limit: Decode: %v", c.field, err)
		}
		_, err := c.over.Encode()
		wantErr(t, c.field+" over the limit: Encode", err, ErrFieldTooLong, c.field)
		// Forge the over-limit bytes: encode with the limit lifted by
		// writing the length by hand, then decode.
		forged := forge(t, c.over)
		_, err = Decode(forged)
		wantErr(t, c.field+" over the limit: Decode", err, ErrFieldTooLong, c.field)
	}
}

// forge encodes t like the spec says but without any limit, for testing
// that Decode enforces the limits itself.
func forge(t *testing.T, tx Tx) []byte {
	tag, _ := OpTag(tx.Op)
	b := []byte{Version, byte(len(tx.ChainID))}
	b = append(b, tx.ChainID...)
	b = binary.BigEndian.AppendUint64(b, tx.Nonce)
	b = binary.BigEndian.AppendUint16(b, tag)
	b = append(b, refEncode(t, reflect.ValueOf(tx.Op))...)
	return append(b, make([]byte, SigLen)...)
}

func TestEncodeUnknownOp(t *testing.T) {
	for _, op := range []ledger.Op{nil, &ledger.Delegate{}} {
		_, err := Tx{Op: op}.Encode()
		wantErr(t, fmt.Sprintf("Encode of %T", op), err, ErrUnknownOp, "op")
		_, err = Tx{Op: op}.SigningHash()
		wantErr(t, "SigningHash", err, ErrUnknownOp, "op")
		_, err = Signed{Tx: Tx{Op: op}}.Encode()
		wantErr(t, "Signed.Encode", err, ErrUnknownOp, "op")
	}
}

// TestSeedCorpus keeps the committed fuzz corpus meaningful: it must parse,
// hold valid transactions (so the fuzzer starts deep inside the format) and
// malformed ones. If the format changes, the valid seeds stop decoding and
// this test says so; regenerate them from the new encoding.
func TestSeedCorpus(t *testing.T) {
	dir := "testdata/fuzz/FuzzDecode"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var valid, invalid int
	for _, e := range entries {
		src, err := os.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(src)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" ||
			!strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
			t.Fatalf("%s: not a go test fuzz v1 file with one []byte", e.Name())
		}
		lit := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		in, err := strconv.Unquote(lit)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if _, err := Decode([]byte(in)); err == nil {
			valid++
		} else {
			invalid++
		}
	}
	if valid < 3 || invalid < 2 {
		t.Errorf("seed corpus has %d valid and %d invalid inputs; want at least 3 and 2",
			valid, invalid)
	}
}

// JSON form.

func TestJSONRoundTrip(t *testing.T) {
	for _, op := range examples() {
		name, fields := OpToJSON(op)
		if name != op.OpName() {
			t.Fatalf("OpToJSON name %q, want %q", name, op.OpName())
		}
		raw, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		got, err := OpFromJSON(name, raw)
		if err != nil {
			t.Fatalf("%s: OpFromJSON(%s): %v", name, raw, err)
		}
		if !reflect.DeepEqual(got, op) {
			t.Errorf("%s: JSON round trip\n%+v\nwant\n%+v", name, got, op)
		}
	}
	if name, fields := OpToJSON(&ledger.Delegate{}); name != "" || fields != nil {
		t.Errorf("OpToJSON of a pointer = %q, %v; want \"\", nil", name, fields)
	}
}

// TestJSONEmptyArrays: empty arrays marshal as [] (not null) and come back
// as nil, the same value Decode gives.
func TestJSONEmptyArrays(t *testing.T) {
	op := ledger.QueueWithdrawal{}
	_, fields := OpToJSON(op)
	raw, _ := json.Marshal(fields)
	if !strings.Contains(string(raw), `"strategies":[]`) {
		t.Errorf("empty strategies marshal as %s", raw)
	}
	got, err := OpFromJSON("queue_withdrawal", raw)
	if err != nil || !reflect.DeepEqual(got, op) {
		t.Errorf("OpFromJSON(%s) = %+v, %v", raw, got, err)
	}
}

// TestJSONDocTable checks the field table in json.go's comment against
// what OpToJSON writes, so the documentation cannot drift.
func TestJSONDocTable(t *testing.T) {
	src, err := os.ReadFile("json.go")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	start := strings.Index(text, "The fields, per op:\n//\n")
	if start < 0 {
		t.Fatal("json.go: field table not found")
	}
	doc := map[string][]string{}
	var cur string
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "//\t") {
			break
		}
		body := strings.TrimPrefix(line, "//\t")
		if body[0] != ' ' {
			cur, body, _ = strings.Cut(body, " ")
		}
		for _, f := range strings.Split(body, ",") {
			if f = strings.TrimSuffix(strings.TrimSpace(f), "?"); f != "" {
				doc[cur] = append(doc[cur], f)
			}
		}
	}
	for _, op := range examples() {
		name, fields := OpToJSON(op)
		var keys []string
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		want := slices.Sorted(slices.Values(doc[name]))
		if !slices.Equal(keys, want) {
			t.Errorf("%s: OpToJSON fields %v, json.go documents %v", name, keys, want)
		}
	}
	if len(doc) != len(OpNames()) {
		t.Errorf("json.go documents %d ops, want %d", len(doc), len(OpNames()))
	}
}

func TestJSONScenarioStyle(t *testing.T) {
	recipient := "0x6666666666666666666666666666666666666666"
	cases := []struct {
		name, fields string
		want         ledger.Op
	}{
		{"deposit", `{"strategy": "stETH", "amount": "1000"}`,
			ledger.Deposit{Strategy: "stETH", Amount: amt("1000")}},
		{"register_operator", `{"allocation_delay": 0}`, ledger.RegisterOperator{}},
		{"register_avs", ``, ledger.RegisterAVS{}},
		{"create_operator_set", `{"set": 1, "strategies": ["a"], "redistribution_recipient": "` +
			recipient + `"}`, ledger.CreateOperatorSet{ID: 1, Strategies: []string{"a"},
			Redistributing: true, Recipient: addr(0x66)}},
		{"create_operator_set", `{"set": 1, "strategies": [], "redistributing": true}`,
			ledger.CreateOperatorSet{ID: 1, Redistributing: true}},
		{"beacon_balance_update", `{"staker": "` + recipient + `", "prev_restaked_wei": "32",` +
			` "delta_wei": "-5"}`, ledger.BeaconBalanceUpdate{Staker: addr(0x66),
			PrevRestakedWei: amt("32"), DeltaWei: amt("5"), Decrease: true}},
		{"beacon_balance_update", `{"staker": "` + recipient + `", "prev_restaked_wei": "0",` +
			` "delta_wei": "7"}`, ledger.BeaconBalanceUpdate{Staker: addr(0x66),
			DeltaWei: amt("7")}},
		{"set_price", `{"token": "stETH", "price_usd": "` + maxU256 + `", "timestamp": 5}`,
			ledger.SetPrice{Token: "stETH", PriceUSD: amt(maxU256), Timestamp: 5}},
		{"declare_service_risk", `{"set": 2, "profit_usd": "100", "threshold_num": 1, "threshold_den": 2}`,
			ledger.DeclareServiceRisk{Set: 2, ProfitUSD: amt("100"), ThresholdNum: 1, ThresholdDen: 2}},
	}
	for _, c := range cases {
		got, err := OpFromJSON(c.name, json.RawMessage(c.fields))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("OpFromJSON(%s, %s) = %+v, %v; want %+v", c.name, c.fields, got, err, c.want)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	a := `"0x1111111111111111111111111111111111111111"`
	cases := []struct {
		name, fields string
		want         error
		field        string
	}{
		{"no_such_op", `{}`, ErrUnknownOp, ""},
		{"deposit", `{"strategy": "s", "amount": "1", "staker": ` + a + `}`, ErrUnknownField, "staker"},
		{"deposit", `{"strategy": "s"}`, ErrMissingField, "amount"},
		{"deposit", `{}`, ErrMissingField, "strategy"},
		{"deposit", `{"strategy": 5, "amount": "1"}`, ErrInvalidField, "strategy"},
		{"deposit", `{"strategy": null, "amount": "1"}`, ErrInvalidField, "strategy"},
		{"deposit", `{"strategy": "s", "amount": 1}`, ErrInvalidField, "amount"},
		{"deposit", `{"strategy": "s", "amount": "-1"}`, ErrInvalidField, "amount"},
		{"deposit", `{"strategy": "s", "amount": "+1"}`, ErrInvalidField, "amount"},
		{"deposit", `{"strategy": "s", "amount": ""}`, ErrInvalidField, "amount"},
		{"deposit", `{"strategy": "s", "amount": "1e18"}`, ErrInvalidField, "amount"},
		{"deposit", `{"strategy": "s", "amount": " 1"}`, ErrInvalidField, "amount"},
		{"deposit", `{"strategy": "s", "amount": "` + twoP256 + `"}`, ErrInvalidField, "amount"},
		{"deposit", `{"strategy": "s", "amount": "1", "amount": "2"}`, ErrInvalidField, "amount"},
		{"deposit", `{"strategy": "` + strings.Repeat("x", 33) + `", "amount": "1"}`,
			ErrFieldTooLong, "strategy"},
		{"deposit", `["strategy"]`, ErrInvalidField, ""},
		{"deposit", `null`, ErrInvalidField, ""},
		{"deposit", `{"strategy": "s", "amount": "1"} {}`, ErrInvalidField, ""},
		{"delegate", `{"operator": "0x11"}`, ErrInvalidField, "operator"},
		{"delegate", `{"operator": "1111111111111111111111111111111111111111"}`,
			ErrInvalidField, "operator"},
		{"delegate", `{"operator": "0xzz11111111111111111111111111111111111111"}`,
			ErrInvalidField, "operator"},
		{"complete_withdrawal", `{"withdrawal": "0x12", "as_tokens": true}`,
			ErrInvalidField, "withdrawal"},
		{"complete_withdrawal", `{"withdrawal": "0x` + strings.Repeat("ab", 32) +
			`", "as_tokens": 1}`, ErrInvalidField, "as_tokens"},
		{"set_allocation_delay", `{"delay": 4294967296}`, ErrInvalidField, "delay"},
		{"set_allocation_delay", `{"delay": -1}`, ErrInvalidField, "delay"},
		{"set_allocation_delay", `{"delay": 1.5}`, ErrInvalidField, "delay"},
		{"set_allocation_delay", `{"delay": "5"}`, ErrInvalidField, "delay"},
		{"clear_slashed", `{"avs": ` + a + `, "set": 1, "slash_id": 18446744073709551616}`,
			ErrInvalidField, "slash_id"},
		{"register_for_sets", `{"avs": ` + a + `, "sets": [1, "2"]}`, ErrInvalidField, "sets"},
		{"register_for_sets", `{"avs": ` + a + `, "sets": null}`, ErrInvalidField, "sets"},
		{"queue_withdrawal", `{"strategies": ["s", null], "deposit_shares": ["1", "2"]}`,
			ErrInvalidField, "strategies"},
		{"queue_withdrawal", `{"strategies": ["s"], "deposit_shares": ["-1"]}`,
			ErrInvalidField, "deposit_shares"},
		{"queue_withdrawal", `{"strategies": "s", "deposit_shares": ["1"]}`,
			ErrInvalidField, "strategies"},
		{"modify_allocations", `{"avs": ` + a + `, "set": 0, "strategies": ["s"],` +
			` "magnitudes": ["18446744073709551616"]}`, ErrInvalidField, "magnitudes"},
		{"modify_allocations", `{"avs": ` + a + `, "set": 0, "strategies": ["s"],` +
			` "magnitudes": ["+1"]}`, ErrInvalidField, "magnitudes"},
		{"beacon_balance_update", `{"staker": ` + a + `, "prev_restaked_wei": "1",` +
			` "delta_wei": "+5"}`, ErrInvalidField, "delta_wei"},
		{"beacon_balance_update", `{"staker": ` + a + `, "prev_restaked_wei": "1",` +
			` "delta_wei": "--5"}`, ErrInvalidField, "delta_wei"},
		{"create_operator_set", `{"set": 1, "strategies": [], "redistributing": "yes"}`,
			ErrInvalidField, "redistributing"},
	}
	for _, c := range cases {
		_, err := OpFromJSON(c.name, json.RawMessage(c.fields))
		wantErr(t, c.name+" "+c.fields, err, c.want, c.field)
	}
}

func TestSigningHashOfMatchesSigningHash(t *testing.T) {
	for _, op := range examples() {
		tr := Tx{ChainID: "c", Nonce: 7, Op: op}
		want, err := tr.SigningHash()
		if err != nil {
			t.Fatal(err)
		}
		enc, err := Signed{Tx: tr}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if got := SigningHashOf(enc); got != want {
			t.Fatalf("%s: SigningHashOf %x, SigningHash %x", op.OpName(), got, want)
		}
	}
}
