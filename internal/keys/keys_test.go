package keys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// groupOrderHex is n, the order of the secp256k1 group.
const groupOrderHex = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

// testRand returns a deterministic random stream, so that a failure
// replays exactly; the seed is fixed, never the clock.
func testRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return rand.NewChaCha8(s)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex in test table %q: %v", s, err)
	}
	return b
}

func mustKey(t testing.TB, s string) *PrivateKey {
	t.Helper()
	k, err := FromHex(s)
	if err != nil {
		t.Fatalf("FromHex(%q): %v", s, err)
	}
	return k
}

func hash32(t testing.TB, s string) [32]byte {
	t.Helper()
	var h [32]byte
	if b := mustHex(t, s); copy(h[:], b) != 32 || len(b) != 32 {
		t.Fatalf("%q is not 32 bytes", s)
	}
	return h
}

func TestKeccak256Vectors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
		{"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
	} {
		got := Keccak256([]byte(tc.in))
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("Keccak256(%q) = %x, want %s", tc.in, got, tc.want)
		}
	}
	// The parts are hashed as one concatenated message.
	if Keccak256([]byte("a"), nil, []byte("bc")) != Keccak256([]byte("abc")) {
		t.Error("Keccak256(a, nil, bc) differs from Keccak256(abc)")
	}
	if Keccak256() != Keccak256([]byte{}) {
		t.Error("Keccak256() differs from Keccak256(empty)")
	}
}

func TestPrivateKeyAddressVectors(t *testing.T) {
	for _, tc := range []struct{ key, addr string }{
		// web3.js accounts documentation example.
		{"0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
			"0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"},
		{"0000000000000000000000000000000000000000000000000000000000000001",
			"0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"},
		{"0000000000000000000000000000000000000000000000000000000000000002",
			"0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"},
		// The key of the Web3 Secret Storage test vectors (geth's tests).
		{"7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d",
			"0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b"},
	} {
		k := mustKey(t, tc.key)
		if got := k.Address().Hex(); got != tc.addr {
			t.Errorf("key %s: address %s, want %s", tc.key, got, tc.addr)
		}
		if got := k.Address().String(); got != tc.addr {
			t.Errorf("key %s: Address.String %s, want %s", tc.key, got, tc.addr)
		}
	}
}

func TestAddressHexEIP55(t *testing.T) {
	// The examples of EIP-55, including its all-caps and all-lower ones,
	// where the checksum happens to choose a single case.
	for _, want := range []string{
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		"0x52908400098527886E0F7030069857D2E4169EE7",
		"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
		"0xde709f2102306220921060314715629080e2fb77",
		"0x27b1fdb04752bbc536007a920d24acb045561c26",
	} {
		var a Address
		copy(a[:], mustHex(t, strings.ToLower(want)))
		if got := a.Hex(); got != want {
			t.Errorf("Hex() = %s, want %s", got, want)
		}
	}
	if got, want := (Address{}).Hex(), "0x"+strings.Repeat("0", 40); got != want {
		t.Errorf("zero address Hex() = %s, want %s", got, want)
	}
}

func TestFromBytes(t *testing.T) {
	order := mustHex(t, groupOrderHex)
	orderMinus1 := bytes.Clone(order)
	orderMinus1[31]--
	orderPlus1 := bytes.Clone(order)
	orderPlus1[31]++
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"nil", nil, false},
		{"31 bytes", make([]byte, 31), false},
		{"33 bytes", append([]byte{0}, orderMinus1...), false},
		{"zero", make([]byte, 32), false},
		{"n", order, false},
		{"n+1", orderPlus1, false},
		{"all ones", bytes.Repeat([]byte{0xff}, 32), false},
		{"n-1", orderMinus1, true},
		{"one", append(make([]byte, 31), 1), true},
	} {
		k, err := FromBytes(tc.in)
		if !tc.ok {
			if !errors.Is(err, ErrInvalidKey) || k != nil {
				t.Errorf("%s: FromBytes = %v, %v; want nil, ErrInvalidKey", tc.name, k, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: FromBytes: %v", tc.name, err)
			continue
		}
		if !bytes.Equal(k.Bytes(), tc.in) {
			t.Errorf("%s: Bytes() = %x, want %x", tc.name, k.Bytes(), tc.in)
		}
	}
}

func TestFromHex(t *testing.T) {
	const key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	want := mustKey(t, key).Address()
	for _, s := range []string{key, "0x" + key, "0X" + key, strings.ToUpper(key)} {
		k, err := FromHex(s)
		if err != nil {
			t.Errorf("FromHex(%q): %v", s, err)
			continue
		}
		if k.Address() != want || hex.EncodeToString(k.Bytes()) != key {
			t.Errorf("FromHex(%q) gave key %x", s, k.Bytes())
		}
	}
	for _, s := range []string{
		"", "0x", key[:62], key + "00", " " + key, key + "\n", "0x0x" + key[4:],
		"zz" + key[2:], strings.Repeat("0", 64), groupOrderHex,
	} {
		if k, err := FromHex(s); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("FromHex(%q) = %v, %v; want ErrInvalidKey", s, k, err)
		}
	}
}

func TestBytesIsACopy(t *testing.T) {
	k := mustKey(t, "0000000000000000000000000000000000000000000000000000000000000001")
	b := k.Bytes()
	b[31] = 7
	if k.Bytes()[31] != 1 {
		t.Fatal("changing the slice from Bytes changed the key")
	}
}

func TestGenerate(t *testing.T) {
	a, err := Generate(testRand(1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(testRand(1))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Generate(testRand(2))
	if err != nil {
		t.Fatal(err)
	}
	if a.Address() != b.Address() || a.Address() == c.Address() {
		t.Errorf("same seed gave %s and %s, another seed %s",
			a.Address(), b.Address(), c.Address())
	}
	if a.Address() != mustKey(t, hex.EncodeToString(a.Bytes())).Address() {
		t.Error("Generate's address differs from FromBytes of its scalar")
	}

	// Out-of-range draws are skipped, not reduced mod n.
	valid := append(make([]byte, 31), 5)
	draws := append(append(mustHex(t, groupOrderHex), make([]byte, 32)...), valid...)
	k, err := Generate(bytes.NewReader(draws))
	if err != nil || !bytes.Equal(k.Bytes(), valid) {
		t.Errorf("Generate after two invalid draws = %v, %v; want the third draw", k, err)
	}

	// A broken source fails instead of looping forever or returning a
	// key it did not choose.
	if _, err := Generate(bytes.NewReader(make([]byte, 1<<12))); err == nil {
		t.Error("Generate accepted an all-zero random source")
	}
	if _, err := Generate(bytes.NewReader(make([]byte, 10))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Generate on a short reader: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := Generate(nil); err == nil {
		t.Error("Generate(nil) succeeded")
	}
}

func TestSignWeb3Vector(t *testing.T) {
	// web3.eth.accounts.sign('Some data', key) from the web3.js docs
	// (https://docs.web3js.org/api/web3-eth-accounts/function/sign). The
	// hash is EIP-191's personal-message hash. web3.js signs with RFC 6979
	// too, so the signature must match byte for byte.
	k := mustKey(t, "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	msg := "Some data"
	hash := Keccak256([]byte(fmt.Sprintf("\x19Ethereum Signed Message:\n%d%s", len(msg), msg)))
	want := hash32(t, "1da44b586eb0729ff70a73c326926f6ed5a25f5b056e7f47fbc6e58d86871655")
	if hash != want {
		t.Fatalf("message hash %x, want %x", hash, want)
	}
	const wantRS = "b91467e570a6466aa9e9876cbcd013baba02900b8979d43fe208a4a4f339f5fd" +
		"6007e74cd82e037b800186422fc2da167c747ef045e5d18a5f5d4300f8e1a029"
	sig, err := k.Sign(hash)
	if err != nil {
		t.Fatal(err)
	}
	// web3.js reports v = 0x1c = 28, that is recovery id 1.
	if got := hex.EncodeToString(sig[:64]); got != wantRS || sig[64] != 1 {
		t.Fatalf("signature %x, want %s01", sig, wantRS)
	}
	var web3Sig [SignatureLen]byte
	copy(web3Sig[:], mustHex(t, wantRS+"1c"))
	addr, err := Recover(hash, web3Sig)
	if err != nil || addr != k.Address() {
		t.Fatalf("Recover(web3.js signature) = %s, %v; want %s", addr, err, k.Address())
	}
}

func TestSignRecoverRoundTrip(t *testing.T) {
	r := testRand(3)
	seenV := [2]bool{}
	for i := range 200 {
		k, err := Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		var hash [32]byte
		r.Read(hash[:])
		sig, err := k.Sign(hash)
		if err != nil {
			t.Fatalf("#%d: Sign: %v", i, err)
		}
		if sig[64] > 1 {
			t.Fatalf("#%d: v = %d, want 0 or 1", i, sig[64])
		}
		seenV[sig[64]] = true
		var s secp256k1.ModNScalar
		s.SetByteSlice(sig[32:64])
		if s.IsOverHalfOrder() {
			t.Fatalf("#%d: Sign returned high s %x", i, sig[32:64])
		}
		again, err := k.Sign(hash)
		if err != nil || again != sig {
			t.Fatalf("#%d: signing twice gave %x then %x, %v", i, sig, again, err)
		}
		for _, v := range []byte{sig[64], sig[64] + 27} {
			sig[64] = v
			addr, err := Recover(hash, sig)
			if err != nil || addr != k.Address() {
				t.Fatalf("#%d v=%d: Recover = %s, %v; want %s", i, v, addr, err, k.Address())
			}
		}
	}
	// Both recovery ids occur about half the time; if one never does, the
	// v conversion is suspect.
	if !seenV[0] || !seenV[1] {
		t.Errorf("over 200 signatures saw v=0: %v, v=1: %v", seenV[0], seenV[1])
	}
}

func TestRecoverDetectsTampering(t *testing.T) {
	r := testRand(4)
	k, err := Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	var hash [32]byte
	r.Read(hash[:])
	sig, err := k.Sign(hash)
	if err != nil {
		t.Fatal(err)
	}
	for bit := range 256 {
		h := hash
		h[bit/8] ^= 1 << (bit % 8)
		if addr, err := Recover(h, sig); err == nil && addr == k.Address() {
			t.Fatalf("hash bit %d flipped: still recovers the signer", bit)
		}
	}
	// Every bit of r, s and the low bit of v.
	for bit := range 65*8 - 7 {
		s := sig
		s[bit/8] ^= 1 << (bit % 8)
		if addr, err := Recover(hash, s); err == nil && addr == k.Address() {
			t.Fatalf("signature bit %d flipped: still recovers the signer", bit)
		}
	}
}

func TestRecoverRejectsHighS(t *testing.T) {
	r := testRand(5)
	for i := range 20 {
		k, err := Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		var hash [32]byte
		r.Read(hash[:])
		sig, err := k.Sign(hash)
		if err != nil {
			t.Fatal(err)
		}
		// (r, n-s, v^1) is the other valid signature of the same hash.
		var s secp256k1.ModNScalar
		s.SetByteSlice(sig[32:64])
		s.Negate()
		high := sig
		s.PutBytesUnchecked(high[32:64])
		high[64] ^= 1

		// Check that the malleated signature really is valid ECDSA, so
		// that the rejection below is for high s and nothing else.
		compact := append([]byte{27 + high[64]}, high[:64]...)
		pub, _, err := ecdsa.RecoverCompact(compact, hash[:])
		if err != nil || pubKeyAddress(pub) != k.Address() {
			t.Fatalf("#%d: malleated signature is not valid ECDSA (%v); test is broken", i, err)
		}
		if addr, err := Recover(hash, high); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("#%d: Recover(high s) = %s, %v; want ErrInvalidSignature", i, addr, err)
		}
	}
}

func TestRecoverV(t *testing.T) {
	k := mustKey(t, "0000000000000000000000000000000000000000000000000000000000000002")
	hash := Keccak256([]byte("v"))
	sig, err := k.Sign(hash)
	if err != nil {
		t.Fatal(err)
	}
	id := sig[64]
	for v := range 256 {
		sig[64] = byte(v)
		addr, err := Recover(hash, sig)
		switch byte(v) {
		case id, id + 27:
			if err != nil || addr != k.Address() {
				t.Errorf("v=%d: Recover = %s, %v; want %s", v, addr, err, k.Address())
			}
		case id ^ 1, id ^ 1 + 27:
			// The other recovery id is well formed but names another key.
			if err == nil && addr == k.Address() {
				t.Errorf("v=%d: the wrong recovery id recovered the signer", v)
			}
		default:
			if !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("v=%d: Recover = %s, %v; want ErrInvalidSignature", v, addr, err)
			}
		}
	}
}

func TestRecoverRejectsOutOfRangeScalars(t *testing.T) {
	k := mustKey(t, "0000000000000000000000000000000000000000000000000000000000000001")
	hash := Keccak256([]byte("scalars"))
	good, err := k.Sign(hash)
	if err != nil {
		t.Fatal(err)
	}
	order := mustHex(t, groupOrderHex)
	ones := bytes.Repeat([]byte{0xff}, 32)
	zero := make([]byte, 32)
	for _, tc := range []struct {
		name string
		r, s []byte
	}{
		{"r=0", zero, good[32:64]},
		{"s=0", good[:32], zero},
		{"r=n", order, good[32:64]},
		{"s=n", good[:32], order},
		{"r=2^256-1", ones, good[32:64]},
		{"s=2^256-1", good[:32], ones},
	} {
		sig := good
		copy(sig[:32], tc.r)
		copy(sig[32:64], tc.s)
		if addr, err := Recover(hash, sig); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s: Recover = %s, %v; want ErrInvalidSignature", tc.name, addr, err)
		}
	}
	// An r in range that is no curve point's x coordinate recovers nothing:
	// x = 5 has no y on secp256k1 (5^3 + 7 = 132 is not a square mod p).
	sig := good
	copy(sig[:32], append(make([]byte, 31), 5))
	if addr, err := Recover(hash, sig); !errors.Is(err, ErrInvalidSignature) {
		t.Errorf("r=5: Recover = %s, %v; want ErrInvalidSignature", addr, err)
	}
}

func TestSignRejectsUninitializedKey(t *testing.T) {
	var hash [32]byte
	for _, k := range []*PrivateKey{nil, {}} {
		if sig, err := k.Sign(hash); !errors.Is(err, ErrInvalidKey) || sig != [SignatureLen]byte{} {
			t.Errorf("Sign with %#v = %x, %v; want zero, ErrInvalidKey", k, sig, err)
		}
	}
	if (&PrivateKey{}).Address() != (Address{}) {
		t.Error("the zero PrivateKey has a non-zero address")
	}
}

func TestPrintingHidesScalar(t *testing.T) {
	const key = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	k := mustKey(t, key)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, arg := range []any{k, *k} {
			out := fmt.Sprintf(format, arg)
			if strings.Contains(strings.ToLower(out), key[:16]) || !strings.Contains(out, "0x2c7536E3") {
				t.Errorf("Sprintf(%q, %T) = %q: leaks the key or lacks the address", format, arg, out)
			}
		}
	}
}

// FuzzRecover checks that Recover never panics, and that whatever it
// accepts is low-s with v in {0, 1, 27, 28}, and recovers the same address
// with v written either way.
func FuzzRecover(f *testing.F) {
	k := mustKey(f, "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
	hash := Keccak256([]byte("seed"))
	sig, err := k.Sign(hash)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(hash[:], sig[:])
	f.Add(make([]byte, 32), make([]byte, 65))
	f.Add(bytes.Repeat([]byte{0xff}, 32), append(bytes.Repeat([]byte{0xff}, 64), 28))
	f.Fuzz(func(t *testing.T, hashIn, sigIn []byte) {
		var h [32]byte
		var s [SignatureLen]byte
		copy(h[:], hashIn)
		copy(s[:], sigIn)
		addr, err := Recover(h, s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSignature) || addr != (Address{}) {
				t.Fatalf("Recover failed with %v and address %s", err, addr)
			}
			return
		}
		var sc secp256k1.ModNScalar
		if overflow := sc.SetByteSlice(s[32:64]); overflow || sc.IsZero() || sc.IsOverHalfOrder() {
			t.Fatalf("Recover accepted s = %x", s[32:64])
		}
		other := s
		switch s[64] {
		case 0, 1:
			other[64] += 27
		case 27, 28:
			other[64] -= 27
		default:
			t.Fatalf("Recover accepted v = %d", s[64])
		}
		if addr2, err := Recover(h, other); err != nil || addr2 != addr {
			t.Fatalf("v=%d recovers %s, v=%d gives %s, %v", s[64], addr, other[64], addr2, err)
		}
	})
}
