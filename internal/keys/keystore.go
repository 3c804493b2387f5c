package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/scrypt"
)

// The scrypt cost parameters geth uses, under the same names, so that a file
// written here costs an attacker as much as one written by geth. r is fixed
// at 8 by EncryptKeystore, as in geth.
const (
	// StandardScryptN is the scrypt CPU/memory cost for keys in long-term
	// storage: with r = 8 it needs 256 MiB and about a second.
	StandardScryptN = 1 << 18
	// StandardScryptP is the scrypt parallelism that goes with
	// StandardScryptN.
	StandardScryptP = 1
	// LightScryptN is a scrypt cost for tests and devices short of memory
	// (4 MiB); it is much cheaper to brute-force than StandardScryptN.
	LightScryptN = 1 << 12
	// LightScryptP is the scrypt parallelism that goes with LightScryptN.
	LightScryptP = 6
)

var (
	// ErrWrongPassword reports a keystore whose MAC does not match the key
	// derived from the password: the password is wrong, or the file's
	// ciphertext or KDF parameters were altered. The two cannot be told
	// apart, by design of the format.
	ErrWrongPassword = errors.New("keys: wrong password or corrupted keystore (MAC mismatch)")

	// ErrAddressMismatch reports a keystore that decrypts, with a matching
	// MAC, to a key whose address is not the one in its "address" field.
	ErrAddressMismatch = errors.New("keys: keystore address does not match the decrypted key")

	// ErrMalformedKeystore reports a keystore that is not valid JSON, is not
	// version 3, or uses a KDF, cipher or parameter this package does not
	// support. The wrapping error says which.
	ErrMalformedKeystore = errors.New("keys: malformed or unsupported keystore")
)

const (
	keystoreVersion = 3
	cipherName      = "aes-128-ctr"
	kdfScrypt       = "scrypt"
	kdfPBKDF2       = "pbkdf2"
	prfHMACSHA256   = "hmac-sha256"

	// derivedKeyLen is the only dklen accepted: the first 16 bytes are the
	// AES-128 key, the next 16 the MAC key, and every known writer uses 32.
	derivedKeyLen = 32
	// scryptR is the scrypt block size EncryptKeystore writes (geth's).
	scryptR = 8
	// saltLen and ivLen are the sizes of the random salt and AES-CTR IV
	// that EncryptKeystore writes.
	saltLen = 32
	ivLen   = aes.BlockSize
	// macLen is the size of the Keccak-256 MAC.
	macLen = 32

	// The limits below guard DecryptKeystore against a hostile or corrupt
	// file whose KDF parameters would take all memory or run for hours.
	// They are generous: the standard parameters and the spec's test
	// vectors need 1/4 of the memory and 1/16 of the work allowed.

	// scryptMemoryBytesMax bounds scrypt's buffers, 128*r*(N+p) bytes.
	scryptMemoryBytesMax = 1 << 30
	// scryptWorkMax bounds N*r*p, to which scrypt's running time is
	// proportional (2^21 for StandardScryptN with r = 8).
	scryptWorkMax = 1 << 25
	// pbkdf2IterationsMax bounds the PBKDF2 iteration count c (2^18 in
	// the spec's vector).
	pbkdf2IterationsMax = 1 << 22
)

// keystoreJSON is the Web3 Secret Storage (keystore v3) document. Decoding
// matches keys case-insensitively, so the "Crypto" key some old wallets
// write is accepted too.
type keystoreJSON struct {
	Address string     `json:"address,omitempty"`
	Crypto  cryptoJSON `json:"crypto"`
	ID      string     `json:"id"`
	Version int        `json:"version"`
}

type cryptoJSON struct {
	Cipher       string           `json:"cipher"`
	CipherText   string           `json:"ciphertext"`
	CipherParams cipherParamsJSON `json:"cipherparams"`
	KDF          string           `json:"kdf"`
	KDFParams    json.RawMessage  `json:"kdfparams"`
	MAC          string           `json:"mac"`
}

type cipherParamsJSON struct {
	IV string `json:"iv"`
}

// scryptParamsJSON and pbkdf2ParamsJSON are the two kdfparams shapes.
type scryptParamsJSON struct {
	DKLen int    `json:"dklen"`
	N     int    `json:"n"`
	P     int    `json:"p"`
	R     int    `json:"r"`
	Salt  string `json:"salt"`
}

type pbkdf2ParamsJSON struct {
	C     int    `json:"c"`
	DKLen int    `json:"dklen"`
	PRF   string `json:"prf"`
	Salt  string `json:"salt"`
}

// EncryptKeystore returns k encrypted under password as a keystore v3 JSON
// document that geth, MetaMask and DecryptKeystore read: scrypt with
// scryptN, r = 8 and scryptP derives a 32-byte key, whose first half is the
// AES-128-CTR key and whose second half authenticates the ciphertext
// through MAC = keccak256(derivedKey[16:32] || ciphertext). The salt, the
// IV and the version 4 UUID in "id" are read from rand, which must be a
// cryptographically secure source such as crypto/rand.Reader.
//
// Use StandardScryptN and StandardScryptP for real keys; LightScryptN and
// LightScryptP are for tests. scryptN must be a power of two above 1, and
// the parameters must be within what DecryptKeystore accepts, so that no
// file written here is one it would refuse to read.
func EncryptKeystore(
	k *PrivateKey, password string, rand io.Reader, scryptN, scryptP int,
) ([]byte, error) {
	if k == nil || k.key.Key.IsZero() {
		return nil, fmt.Errorf("%w: encrypting an uninitialized key", ErrInvalidKey)
	}
	if rand == nil {
		return nil, errors.New("keys: EncryptKeystore needs a random source, got nil")
	}
	if err := checkScryptParams(scryptN, scryptR, scryptP); err != nil {
		return nil, fmt.Errorf("keys: EncryptKeystore: %w", err)
	}
	var random [saltLen + ivLen + 16]byte
	if _, err := io.ReadFull(rand, random[:]); err != nil {
		return nil, fmt.Errorf("keys: reading randomness for a keystore: %w", err)
	}
	salt, iv, id := random[:saltLen], random[saltLen:saltLen+ivLen], random[saltLen+ivLen:]

	derived, err := scrypt.Key([]byte(password), salt, scryptN, scryptR, scryptP, derivedKeyLen)
	if err != nil {
		return nil, fmt.Errorf("keys: scrypt: %w", err)
	}
	defer clear(derived)
	plain := k.Bytes()
	defer clear(plain)
	cipherText, err := aesCTR(derived[:16], iv, plain)
	if err != nil {
		return nil, err
	}
	mac := Keccak256(derived[16:32], cipherText)

	params, err := json.Marshal(scryptParamsJSON{
		DKLen: derivedKeyLen, N: scryptN, P: scryptP, R: scryptR,
		Salt: hex.EncodeToString(salt),
	})
	if err != nil {
		return nil, fmt.Errorf("keys: encoding kdfparams: %w", err)
	}
	addr := k.Address()
	return json.Marshal(keystoreJSON{
		Address: hex.EncodeToString(addr[:]),
		Crypto: cryptoJSON{
			Cipher:       cipherName,
			CipherText:   hex.EncodeToString(cipherText),
			CipherParams: cipherParamsJSON{IV: hex.EncodeToString(iv)},
			KDF:          kdfScrypt,
			KDFParams:    params,
			MAC:          hex.EncodeToString(mac[:]),
		},
		ID:      uuidV4(id),
		Version: keystoreVersion,
	})
}

// DecryptKeystore returns the private key in the keystore v3 JSON document
// data, decrypted with password. It reads files with kdf "scrypt" or
// "pbkdf2" (prf "hmac-sha256") and cipher "aes-128-ctr", which covers those
// written by geth, MetaMask, MyEtherWallet and the Web3 Secret Storage spec.
//
// Errors: ErrMalformedKeystore when data is not such a document (checked
// before the slow key derivation), ErrWrongPassword when the MAC does not
// match, ErrInvalidKey when it decrypts to 0 or a scalar not below the
// group order, and ErrAddressMismatch when the optional "address" field
// names another key, which catches a file whose address was edited.
func DecryptKeystore(data []byte, password string) (*PrivateKey, error) {
	var doc keystoreJSON
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: not keystore JSON: %v", ErrMalformedKeystore, err)
	}
	if doc.Version != keystoreVersion {
		return nil, fmt.Errorf("%w: version %d, want %d",
			ErrMalformedKeystore, doc.Version, keystoreVersion)
	}
	c := &doc.Crypto
	if c.Cipher != cipherName {
		return nil, fmt.Errorf("%w: cipher %q, want %q", ErrMalformedKeystore, c.Cipher, cipherName)
	}
	cipherText, err := decodeHexField("ciphertext", c.CipherText, PrivateKeyLen)
	if err != nil {
		return nil, err
	}
	iv, err := decodeHexField("cipherparams.iv", c.CipherParams.IV, ivLen)
	if err != nil {
		return nil, err
	}
	mac, err := decodeHexField("mac", c.MAC, macLen)
	if err != nil {
		return nil, err
	}
	var want *Address
	if doc.Address != "" {
		a, err := parseAddressHex(doc.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedKeystore, err)
		}
		want = &a
	}
	derive, err := parseKDF(c.KDF, c.KDFParams)
	if err != nil {
		return nil, err
	}

	// After this point the document is well formed; only the password can
	// still be wrong.
	derived, err := derive(password)
	if err != nil {
		return nil, fmt.Errorf("keys: deriving the keystore key: %w", err)
	}
	defer clear(derived)
	got := Keccak256(derived[16:32], cipherText)
	// Constant time, so that how long the check takes says nothing about
	// how many leading MAC bytes a guessed password got right.
	if subtle.ConstantTimeCompare(got[:], mac) != 1 {
		return nil, ErrWrongPassword
	}
	plain, err := aesCTR(derived[:16], iv, cipherText)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	k, err := FromBytes(plain)
	if err != nil {
		return nil, fmt.Errorf("keys: keystore decrypted to an unusable key: %w", err)
	}
	if want != nil && *want != k.Address() {
		return nil, fmt.Errorf("%w: file says %s, key is %s",
			ErrAddressMismatch, want.Hex(), k.Address().Hex())
	}
	return k, nil
}

// parseKDF validates the kdf name and parameters and returns the key
// derivation they describe, without running it.
func parseKDF(kdf string, raw json.RawMessage) (func(password string) ([]byte, error), error) {
	switch kdf {
	case kdfScrypt:
		var p scryptParamsJSON
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("%w: scrypt kdfparams: %v", ErrMalformedKeystore, err)
		}
		if p.DKLen != derivedKeyLen {
			return nil, fmt.Errorf("%w: scrypt dklen %d, want %d",
				ErrMalformedKeystore, p.DKLen, derivedKeyLen)
		}
		if err := checkScryptParams(p.N, p.R, p.P); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedKeystore, err)
		}
		salt, err := decodeHexField("kdfparams.salt", p.Salt, -1)
		if err != nil {
			return nil, err
		}
		return func(password string) ([]byte, error) {
			return scrypt.Key([]byte(password), salt, p.N, p.R, p.P, derivedKeyLen)
		}, nil
	case kdfPBKDF2:
		var p pbkdf2ParamsJSON
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("%w: pbkdf2 kdfparams: %v", ErrMalformedKeystore, err)
		}
		if p.DKLen != derivedKeyLen {
			return nil, fmt.Errorf("%w: pbkdf2 dklen %d, want %d",
				ErrMalformedKeystore, p.DKLen, derivedKeyLen)
		}
		if p.PRF != prfHMACSHA256 {
			return nil, fmt.Errorf("%w: pbkdf2 prf %q, want %q",
				ErrMalformedKeystore, p.PRF, prfHMACSHA256)
		}
		if p.C < 1 || p.C > pbkdf2IterationsMax {
			return nil, fmt.Errorf("%w: pbkdf2 c %d, want 1 to %d",
				ErrMalformedKeystore, p.C, pbkdf2IterationsMax)
		}
		salt, err := decodeHexField("kdfparams.salt", p.Salt, -1)
		if err != nil {
			return nil, err
		}
		return func(password string) ([]byte, error) {
			return pbkdf2.Key(sha256.New, password, salt, p.C, derivedKeyLen)
		}, nil
	default:
		return nil, fmt.Errorf("%w: kdf %q, want %q or %q",
			ErrMalformedKeystore, kdf, kdfScrypt, kdfPBKDF2)
	}
}

// checkScryptParams fails unless n is a power of two above 1, r and p are
// positive, and the memory and work they imply are within the limits.
func checkScryptParams(n, r, p int) error {
	if n < 2 || n > scryptMemoryBytesMax || n&(n-1) != 0 {
		return fmt.Errorf("scrypt n %d is not a power of two in [2, 2^30]", n)
	}
	if r < 1 || r > scryptMemoryBytesMax || p < 1 || p > scryptMemoryBytesMax {
		return fmt.Errorf("scrypt r %d and p %d must be in [1, 2^30]", r, p)
	}
	// Each factor is at most 2^30, so dividing the limit instead of
	// multiplying the factors cannot overflow.
	if uint64(n)+uint64(p) > scryptMemoryBytesMax/128/uint64(r) {
		return fmt.Errorf("scrypt n %d, r %d, p %d need more than %d MiB",
			n, r, p, scryptMemoryBytesMax>>20)
	}
	if uint64(n)*uint64(r) > scryptWorkMax/uint64(p) {
		return fmt.Errorf("scrypt n*r*p = %d*%d*%d is above the work limit 2^25", n, r, p)
	}
	return nil
}

// decodeHexField decodes the hex string s of the named field, with or
// without 0x, and checks that it is n bytes long unless n is negative.
func decodeHexField(name, s string, n int) ([]byte, error) {
	b, err := hex.DecodeString(trim0x(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not hex: %v", ErrMalformedKeystore, name, err)
	}
	if n >= 0 && len(b) != n {
		return nil, fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformedKeystore, name, len(b), n)
	}
	return b, nil
}

// aesCTR returns in encrypted (or decrypted: CTR is its own inverse) with
// AES-128 under key, counting from iv.
func aesCTR(key, iv, in []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: aes: %w", err)
	}
	out := make([]byte, len(in))
	cipher.NewCTR(block, iv).XORKeyStream(out, in)
	return out, nil
}

// uuidV4 formats 16 random bytes as a version 4, variant 1 UUID.
func uuidV4(b []byte) string {
	var u [16]byte
	copy(u[:], b)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
