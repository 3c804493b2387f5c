// Package keys holds Ethereum-compatible secp256k1 keys: 20-byte addresses,
// recoverable signatures in Ethereum's r || s || v layout, and keystore v3
// (Web3 Secret Storage) files, so that a key made by geth, MetaMask or any
// other Ethereum tool works with restake unchanged, and the other way round.
//
// The curve math is github.com/decred/dcrd/dcrec/secp256k1/v4, which speaks
// Bitcoin's compact signature layout; this package converts at its edge so
// that callers only ever see Ethereum's.
//
// Nothing in keys.go reads a clock, a file or a global random source:
// Generate takes its entropy as an argument, and Recover and Keccak256 are
// pure functions, so consensus code may import this package.
package keys

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/sha3"
)

var (
	// ErrInvalidKey reports a private key that is not a scalar in [1, n-1],
	// where n is the order of the secp256k1 group, or that is not 32 bytes
	// (64 hex digits) long.
	ErrInvalidKey = errors.New("keys: invalid secp256k1 private key")

	// ErrInvalidSignature reports a signature that Recover refuses: a
	// recovery id other than 0, 1, 27 or 28, r or s outside [1, n-1], s
	// above n/2, or values that match no public key.
	ErrInvalidSignature = errors.New("keys: invalid signature")
)

const (
	// AddressLen is the length of an Ethereum address in bytes.
	AddressLen = 20

	// PrivateKeyLen is the length of a serialized private key in bytes.
	PrivateKeyLen = 32

	// SignatureLen is the length of an Ethereum signature r || s || v.
	SignatureLen = 65

	// generateAttemptsMax bounds the draws Generate makes. A uniform 32-byte
	// draw is out of range with probability about 2^-128, so failing this
	// many times in a row means the reader is broken (all zeros, say), and
	// looping on it forever would hide that.
	generateAttemptsMax = 16

	// compactMagic is the offset Bitcoin's compact signatures (and so
	// decred's) add to the recovery id in their first byte; Ethereum's v
	// is the bare recovery id instead.
	compactMagic = 27
)

// Address is an Ethereum address: the last 20 bytes of the Keccak-256 hash
// of an uncompressed public key without its 0x04 prefix.
type Address [AddressLen]byte

// Hex returns a as 0x followed by 40 hex digits in the EIP-55 mixed-case
// checksum encoding, which wallets check to catch mistyped addresses.
func (a Address) Hex() string {
	var lower [2 * AddressLen]byte
	hex.Encode(lower[:], a[:])
	// EIP-55: a letter digit is upper case when the matching nibble of
	// keccak256(lower-case hex text) is 8 or more.
	hash := Keccak256(lower[:])
	out := make([]byte, 2, 2+len(lower))
	out[0], out[1] = '0', 'x'
	for i, c := range lower {
		nibble := hash[i/2] >> 4
		if i%2 == 1 {
			nibble = hash[i/2] & 0x0f
		}
		if c >= 'a' && nibble >= 8 {
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// String returns a.Hex(), so that %v and %s print the checksummed form.
func (a Address) String() string {
	return a.Hex()
}

// PrivateKey is a secp256k1 private key with its address. The zero value is
// not a valid key: Sign refuses it and Address returns the zero address.
// Obtain keys from Generate, FromBytes, FromHex or DecryptKeystore.
type PrivateKey struct {
	key secp256k1.PrivateKey
	// addr is computed once at construction because deriving it costs a
	// scalar multiplication and callers ask for it often.
	addr Address
}

// Generate returns a new private key drawn from rand, which must be a
// cryptographically secure source such as crypto/rand.Reader. The caller
// passes it so that tests can be deterministic and this package never
// touches global randomness.
func Generate(rand io.Reader) (*PrivateKey, error) {
	if rand == nil {
		return nil, errors.New("keys: Generate needs a random source, got nil")
	}
	var b [PrivateKeyLen]byte
	defer clear(b[:])
	for range generateAttemptsMax {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return nil, fmt.Errorf("keys: reading randomness for a private key: %w", err)
		}
		if k, err := FromBytes(b[:]); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("keys: %d random draws in a row were not valid private keys; "+
		"the random source is broken", generateAttemptsMax)
}

// FromBytes returns the private key whose scalar is the 32-byte big-endian
// b. It fails with ErrInvalidKey when b is not 32 bytes long or is 0 or at
// least the group order n: decred would silently reduce such a value mod n,
// which would turn a corrupt key into a different valid one.
func FromBytes(b []byte) (*PrivateKey, error) {
	if len(b) != PrivateKeyLen {
		return nil, fmt.Errorf("%w: length %d bytes, want %d", ErrInvalidKey, len(b), PrivateKeyLen)
	}
	var k PrivateKey
	if overflow := k.key.Key.SetByteSlice(b); overflow {
		return nil, fmt.Errorf("%w: scalar is not below the group order", ErrInvalidKey)
	}
	if k.key.Key.IsZero() {
		return nil, fmt.Errorf("%w: scalar is zero", ErrInvalidKey)
	}
	k.addr = pubKeyAddress(k.key.PubKey())
	return &k, nil
}

// FromHex returns the private key written as 64 hex digits in s, with or
// without a 0x prefix, in either case. Surrounding white space is an error,
// not trimmed, so that a key read from a file is checked byte for byte.
func FromHex(s string) (*PrivateKey, error) {
	s = trim0x(s)
	if len(s) != 2*PrivateKeyLen {
		return nil, fmt.Errorf("%w: %d hex digits, want %d", ErrInvalidKey, len(s), 2*PrivateKeyLen)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	defer clear(b)
	return FromBytes(b)
}

// Bytes returns the key's scalar as 32 big-endian bytes. The slice is a
// fresh copy that the caller owns (and should clear when done with it).
func (k *PrivateKey) Bytes() []byte {
	b := k.key.Key.Bytes()
	return b[:]
}

// Address returns the Ethereum address of k, or the zero address when k is
// the zero PrivateKey.
func (k *PrivateKey) Address() Address {
	return k.addr
}

// String names the key by its address only, so that a key which ends up in
// a log line or an error message by mistake does not leak its scalar. Its
// receiver is a value, unlike the other methods, so that printing a
// dereferenced key is covered too.
func (k PrivateKey) String() string {
	return "keys.PrivateKey{" + k.addr.Hex() + "}"
}

// GoString is String, so that %#v, which would otherwise print the struct
// fields, does not leak the scalar either.
func (k PrivateKey) GoString() string {
	return k.String()
}

// Sign signs hash (a 32-byte digest, never a raw message) and returns the
// signature in Ethereum's layout r(32) || s(32) || v(1) with v in {0, 1}.
// Signing is deterministic (RFC 6979) and s is always in the lower half of
// the group order, as EIP-2 requires of transactions.
func (k *PrivateKey) Sign(hash [32]byte) ([SignatureLen]byte, error) {
	var sig [SignatureLen]byte
	if k == nil || k.key.Key.IsZero() {
		return sig, fmt.Errorf("%w: signing with an uninitialized key", ErrInvalidKey)
	}
	compact := ecdsa.SignCompact(&k.key, hash[:], false)
	// compact is recovery byte || r || s with recovery byte = 27 + id.
	id := compact[0] - compactMagic
	if id > 1 {
		// Ids 2 and 3 mean r overflowed the group order, which happens with
		// probability about 2^-127; Ethereum cannot express it in v.
		return sig, fmt.Errorf("%w: recovery id %d has no Ethereum v", ErrInvalidSignature, id)
	}
	copy(sig[:64], compact[1:])
	sig[64] = id
	// decred documents that it normalizes s (BIP 62); this check keeps that
	// promise from ever becoming an assumption this package silently relies on.
	if err := checkScalars(&sig); err != nil {
		return [SignatureLen]byte{}, fmt.Errorf("keys: decred produced a signature "+
			"Recover would refuse: %w", err)
	}
	return sig, nil
}

// Recover returns the address of the key that signed hash with sig, where
// sig is r || s || v. v may be 0 or 1, or 27 or 28 as eth_sign and
// Solidity's ecrecover write it. Anything else fails with
// ErrInvalidSignature: another v, r or s of zero or at least the group
// order n, and s above n/2, since for any valid (r, s, v) the triple
// (r, n-s, v^1) is valid too and accepting both would let a third party
// change a signature's bytes without the key (EIP-2).
//
// A signature over a different hash or from a different key usually still
// recovers some address, just not the expected one, so callers must compare
// the result with the address they expect.
func Recover(hash [32]byte, sig [SignatureLen]byte) (Address, error) {
	v := sig[64]
	if v == compactMagic || v == compactMagic+1 {
		v -= compactMagic
	}
	if v > 1 {
		return Address{}, fmt.Errorf("%w: v is %d, want 0, 1, 27 or 28", ErrInvalidSignature, sig[64])
	}
	if err := checkScalars(&sig); err != nil {
		return Address{}, err
	}
	var compact [SignatureLen]byte
	compact[0] = compactMagic + v
	copy(compact[1:], sig[:64])
	pub, _, err := ecdsa.RecoverCompact(compact[:], hash[:])
	if err != nil {
		return Address{}, fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	return pubKeyAddress(pub), nil
}

// checkScalars fails unless r and s of sig are in [1, n-1] and s <= n/2.
func checkScalars(sig *[SignatureLen]byte) error {
	var r, s secp256k1.ModNScalar
	if overflow := r.SetByteSlice(sig[:32]); overflow || r.IsZero() {
		return fmt.Errorf("%w: r is not in [1, n-1]", ErrInvalidSignature)
	}
	if overflow := s.SetByteSlice(sig[32:64]); overflow || s.IsZero() {
		return fmt.Errorf("%w: s is not in [1, n-1]", ErrInvalidSignature)
	}
	if s.IsOverHalfOrder() {
		return fmt.Errorf("%w: s is above n/2 (malleable, EIP-2)", ErrInvalidSignature)
	}
	return nil
}

// Keccak256 returns the Keccak-256 hash of the concatenation of parts. This
// is Ethereum's hash, the original Keccak submission, which differs from the
// standardized SHA3-256 in its padding and so in every output.
func Keccak256(parts ...[]byte) [32]byte {
	h := sha3.NewLegacyKeccak256()
	for _, p := range parts {
		h.Write(p) // A hash.Hash Write never returns an error.
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// pubKeyAddress returns the Ethereum address of pub.
func pubKeyAddress(pub *secp256k1.PublicKey) Address {
	// The uncompressed encoding is 0x04 || X || Y; Ethereum hashes X || Y.
	hash := Keccak256(pub.SerializeUncompressed()[1:])
	var a Address
	copy(a[:], hash[32-AddressLen:])
	return a
}

// trim0x returns s without a leading 0x or 0X.
func trim0x(s string) string {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:]
	}
	return s
}

// parseAddressHex parses 40 hex digits, with or without 0x, in any case.
// It does not enforce the EIP-55 checksum, because keystore files store
// addresses in lower case.
func parseAddressHex(s string) (Address, error) {
	var a Address
	s = trim0x(s)
	if len(s) != 2*AddressLen {
		return a, fmt.Errorf("keys: address %q: %d hex digits, want %d", s, len(s), 2*AddressLen)
	}
	if _, err := hex.Decode(a[:], []byte(s)); err != nil {
		return a, fmt.Errorf("keys: address %q: %v", s, err)
	}
	return a, nil
}
