package keys

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// The Web3 Secret Storage test vectors
// (https://ethereum.org/developers/docs/data-structures-and-encoding/web3-secret-storage/).
const (
	specPassword = "testpassword"
	specKey      = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
	specAddress  = "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b"

	specScryptJSON = `{
  "crypto": {
    "cipher": "aes-128-ctr",
    "cipherparams": {"iv": "83dbcc02d8ccb40e466191a123791e0e"},
    "ciphertext": "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
    "kdf": "scrypt",
    "kdfparams": {
      "dklen": 32, "n": 262144, "p": 8, "r": 1,
      "salt": "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"
    },
    "mac": "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"
  },
  "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
  "version": 3
}`

	specPBKDF2JSON = `{
  "crypto": {
    "cipher": "aes-128-ctr",
    "cipherparams": {"iv": "6087dab2f9fdbbfaddc31a909735c1e6"},
    "ciphertext": "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
    "kdf": "pbkdf2",
    "kdfparams": {
      "c": 262144, "dklen": 32, "prf": "hmac-sha256",
      "salt": "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"
    },
    "mac": "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
  },
  "id": "3198bc9c-6672-5ab3-d995-4942343ae5b6",
  "version": 3
}`
)

// mutate decodes the JSON document data, applies edit and encodes it again.
func mutate(t *testing.T, data []byte, edit func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("test keystore is not JSON: %v", err)
	}
	edit(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cryptoOf returns the "crypto" object of a decoded keystore.
func cryptoOf(doc map[string]any) map[string]any { return doc["crypto"].(map[string]any) }

// kdfParamsOf returns the "crypto.kdfparams" object of a decoded keystore.
func kdfParamsOf(doc map[string]any) map[string]any {
	return cryptoOf(doc)["kdfparams"].(map[string]any)
}

// lightKeystore encrypts the spec key with the light scrypt parameters.
func lightKeystore(t *testing.T, seed uint64) []byte {
	t.Helper()
	data, err := EncryptKeystore(mustKey(t, specKey), specPassword, testRand(seed),
		LightScryptN, LightScryptP)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecryptKeystoreSpecVectors(t *testing.T) {
	for name, doc := range map[string]string{"scrypt": specScryptJSON, "pbkdf2": specPBKDF2JSON} {
		t.Run(name, func(t *testing.T) {
			k, err := DecryptKeystore([]byte(doc), specPassword)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(k.Bytes()); got != specKey {
				t.Errorf("decrypted key %s, want %s", got, specKey)
			}
			if got := k.Address().Hex(); got != specAddress {
				t.Errorf("address %s, want %s", got, specAddress)
			}
		})
	}
}

func TestDecryptKeystoreWrongPassword(t *testing.T) {
	for _, password := range []string{"", "testpassword ", "Testpassword"} {
		k, err := DecryptKeystore([]byte(specPBKDF2JSON), password)
		if !errors.Is(err, ErrWrongPassword) {
			t.Errorf("password %q: DecryptKeystore = %v, %v; want ErrWrongPassword", password, k, err)
		}
	}
	data := lightKeystore(t, 1)
	if k, err := DecryptKeystore(data, "wrong"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("light keystore: DecryptKeystore = %v, %v; want ErrWrongPassword", k, err)
	}
}

func TestEncryptKeystoreRoundTrip(t *testing.T) {
	k := mustKey(t, specKey)
	data := lightKeystore(t, 2)
	got, err := DecryptKeystore(data, specPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), k.Bytes()) {
		t.Fatalf("round trip gave key %x, want %x", got.Bytes(), k.Bytes())
	}

	// The document has the fields and values other wallets expect.
	var doc struct {
		Address string `json:"address"`
		ID      string `json:"id"`
		Version int    `json:"version"`
		Crypto  struct {
			Cipher       string `json:"cipher"`
			CipherText   string `json:"ciphertext"`
			CipherParams struct {
				IV string `json:"iv"`
			} `json:"cipherparams"`
			KDF       string `json:"kdf"`
			KDFParams struct {
				DKLen, N, P, R int
				Salt           string
			} `json:"kdfparams"`
			MAC string `json:"mac"`
		} `json:"crypto"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Crypto
	if doc.Version != 3 || c.Cipher != "aes-128-ctr" || c.KDF != "scrypt" ||
		c.KDFParams.DKLen != 32 || c.KDFParams.N != LightScryptN ||
		c.KDFParams.P != LightScryptP || c.KDFParams.R != 8 {
		t.Errorf("unexpected parameters in %s", data)
	}
	if want := strings.ToLower(specAddress[2:]); doc.Address != want {
		t.Errorf("address field %q, want %q", doc.Address, want)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !uuid.MatchString(doc.ID) {
		t.Errorf("id %q is not a version 4 UUID", doc.ID)
	}
	if len(c.CipherParams.IV) != 32 || len(c.KDFParams.Salt) != 64 || len(c.CipherText) != 64 {
		t.Errorf("iv, salt or ciphertext has the wrong length in %s", data)
	}
	// Recompute the MAC independently of the package's code path.
	salt, cipherText := mustHex(t, c.KDFParams.Salt), mustHex(t, c.CipherText)
	dk, err := scrypt.Key([]byte(specPassword), salt, LightScryptN, 8, LightScryptP, 32)
	if err != nil {
		t.Fatal(err)
	}
	if mac := Keccak256(dk[16:32], cipherText); hex.EncodeToString(mac[:]) != c.MAC {
		t.Errorf("mac %s, want %x", c.MAC, mac)
	}

	// Fresh randomness gives a fresh file for the same key.
	other := lightKeystore(t, 3)
	if bytes.Equal(other, data) {
		t.Error("two seeds gave the same keystore")
	}
}

func TestDecryptKeystoreTampering(t *testing.T) {
	data := lightKeystore(t, 4)
	// flipHex changes the hex digit at index i (from the end if negative)
	// of a crypto field to another hex digit.
	flipHex := func(field string, i int) func(map[string]any) {
		return func(doc map[string]any) {
			m := cryptoOf(doc)
			if field == "salt" {
				m = kdfParamsOf(doc)
			} else if field == "iv" {
				m = m["cipherparams"].(map[string]any)
			}
			s := []byte(m[field].(string))
			if i < 0 {
				i += len(s)
			}
			if s[i] == '0' {
				s[i] = '1'
			} else {
				s[i] = '0'
			}
			m[field] = string(s)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		want error
	}{
		{"ciphertext first", flipHex("ciphertext", 0), ErrWrongPassword},
		{"ciphertext last", flipHex("ciphertext", -1), ErrWrongPassword},
		{"mac first", flipHex("mac", 0), ErrWrongPassword},
		{"mac last", flipHex("mac", -1), ErrWrongPassword},
		{"salt", flipHex("salt", 0), ErrWrongPassword},
		{"scrypt n", func(doc map[string]any) {
			kdfParamsOf(doc)["n"] = LightScryptN * 2
		}, ErrWrongPassword},
		// The MAC does not cover the IV, so a changed IV decrypts to
		// another key; the address check is what catches it.
		{"iv", flipHex("iv", 0), ErrAddressMismatch},
		{"address", func(doc map[string]any) {
			doc["address"] = strings.Repeat("ab", 20)
		}, ErrAddressMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := DecryptKeystore(mutate(t, data, tc.edit), specPassword)
			if !errors.Is(err, tc.want) {
				t.Errorf("DecryptKeystore = %v, %v; want %v", k, err, tc.want)
			}
		})
	}
}

func TestDecryptKeystoreAddressField(t *testing.T) {
	data := lightKeystore(t, 5)
	for _, addr := range []any{nil, "", specAddress, strings.ToLower(specAddress[2:]),
		strings.ToUpper(specAddress[2:])} {
		doc := mutate(t, data, func(doc map[string]any) {
			if addr == nil {
				delete(doc, "address")
			} else {
				doc["address"] = addr
			}
		})
		if _, err := DecryptKeystore(doc, specPassword); err != nil {
			t.Errorf("address %v: %v", addr, err)
		}
	}
	// The IV-tampered file decrypts silently to a wrong key when the file
	// carries no address: this documents why the address check exists.
	noAddr := mutate(t, data, func(doc map[string]any) {
		delete(doc, "address")
		iv := cryptoOf(doc)["cipherparams"].(map[string]any)
		iv["iv"] = strings.Repeat("0", 32)
	})
	k, err := DecryptKeystore(noAddr, specPassword)
	if err == nil && k.Address().Hex() == specAddress {
		t.Error("a changed IV still gave the original key; the test no longer shows anything")
	}
}

func TestDecryptKeystoreAcceptsVariants(t *testing.T) {
	data := lightKeystore(t, 6)
	for name, edit := range map[string]func(map[string]any){
		// Some old wallets capitalize the key.
		"Crypto": func(doc map[string]any) { doc["Crypto"] = doc["crypto"]; delete(doc, "crypto") },
		"0x hex": func(doc map[string]any) {
			c := cryptoOf(doc)
			c["ciphertext"] = "0x" + c["ciphertext"].(string)
			c["mac"] = "0x" + c["mac"].(string)
		},
		"extra field": func(doc map[string]any) { doc["x-ethers"] = map[string]any{"client": "x"} },
		"no id":       func(doc map[string]any) { delete(doc, "id") },
	} {
		k, err := DecryptKeystore(mutate(t, data, edit), specPassword)
		if err != nil || hex.EncodeToString(k.Bytes()) != specKey {
			t.Errorf("%s: DecryptKeystore = %v, %v", name, k, err)
		}
	}
}

func TestDecryptKeystoreMalformed(t *testing.T) {
	data := lightKeystore(t, 7)
	set := func(path string, v any) func(map[string]any) {
		return func(doc map[string]any) {
			m := doc
			parts := strings.Split(path, ".")
			for _, p := range parts[:len(parts)-1] {
				m = m[p].(map[string]any)
			}
			if v == nil {
				delete(m, parts[len(parts)-1])
			} else {
				m[parts[len(parts)-1]] = v
			}
		}
	}
	pbkdf2 := func(edit func(map[string]any)) func(map[string]any) {
		return func(doc map[string]any) {
			c := cryptoOf(doc)
			c["kdf"] = "pbkdf2"
			c["kdfparams"] = map[string]any{"c": 4096, "dklen": 32, "prf": "hmac-sha256", "salt": "00"}
			edit(doc)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"version 1", set("version", 1)},
		{"version missing", set("version", nil)},
		{"version string", set("version", "3")},
		{"crypto missing", set("crypto", nil)},
		{"cipher", set("crypto.cipher", "aes-128-cbc")},
		{"ciphertext not hex", set("crypto.ciphertext", "zz")},
		{"ciphertext short", set("crypto.ciphertext", "00")},
		{"iv short", set("crypto.cipherparams.iv", "0011")},
		{"iv missing", set("crypto.cipherparams", nil)},
		{"mac short", set("crypto.mac", "00")},
		{"kdf", set("crypto.kdf", "argon2")},
		{"kdfparams missing", set("crypto.kdfparams", nil)},
		{"kdfparams not object", set("crypto.kdfparams", "x")},
		{"scrypt dklen", set("crypto.kdfparams.dklen", 16)},
		{"scrypt n not power of two", set("crypto.kdfparams.n", 1000)},
		{"scrypt n 1", set("crypto.kdfparams.n", 1)},
		{"scrypt n negative", set("crypto.kdfparams.n", -4096)},
		// Each of these would take minutes or gigabytes if it were run.
		{"scrypt n huge", set("crypto.kdfparams.n", 1<<31)},
		{"scrypt memory", set("crypto.kdfparams.n", 1<<21)},
		{"scrypt work", set("crypto.kdfparams.p", 1<<11)},
		{"scrypt r 0", set("crypto.kdfparams.r", 0)},
		{"scrypt p 0", set("crypto.kdfparams.p", 0)},
		{"salt not hex", set("crypto.kdfparams.salt", "xyz")},
		{"pbkdf2 prf", pbkdf2(set("crypto.kdfparams.prf", "hmac-sha512"))},
		{"pbkdf2 c 0", pbkdf2(set("crypto.kdfparams.c", 0))},
		{"pbkdf2 c huge", pbkdf2(set("crypto.kdfparams.c", 1<<40))},
		{"pbkdf2 dklen", pbkdf2(set("crypto.kdfparams.dklen", 64))},
		{"address not hex", set("address", strings.Repeat("zz", 20))},
		{"address short", set("address", "abcd")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := DecryptKeystore(mutate(t, data, tc.edit), specPassword)
			if !errors.Is(err, ErrMalformedKeystore) {
				t.Errorf("DecryptKeystore = %v, %v; want ErrMalformedKeystore", k, err)
			}
		})
	}
	for _, doc := range []string{"", "null", "[]", "{", `{"version": 3}`, "not json"} {
		if k, err := DecryptKeystore([]byte(doc), specPassword); !errors.Is(err, ErrMalformedKeystore) {
			t.Errorf("DecryptKeystore(%q) = %v, %v; want ErrMalformedKeystore", doc, k, err)
		}
	}
}

func TestDecryptKeystoreInvalidScalar(t *testing.T) {
	// A file with a correct MAC over a plaintext that is no valid key (0
	// or n) must fail with ErrInvalidKey rather than yield a reduced key.
	for _, plain := range [][]byte{make([]byte, 32), mustHex(t, groupOrderHex)} {
		salt, iv := []byte("salt"), make([]byte, 16)
		dk, err := scrypt.Key([]byte(specPassword), salt, LightScryptN, 8, LightScryptP, 32)
		if err != nil {
			t.Fatal(err)
		}
		ct, err := aesCTR(dk[:16], iv, plain)
		if err != nil {
			t.Fatal(err)
		}
		mac := Keccak256(dk[16:32], ct)
		doc := mutate(t, lightKeystore(t, 8), func(doc map[string]any) {
			delete(doc, "address")
			c := cryptoOf(doc)
			c["ciphertext"] = hex.EncodeToString(ct)
			c["mac"] = hex.EncodeToString(mac[:])
			c["cipherparams"] = map[string]any{"iv": hex.EncodeToString(iv)}
			kdfParamsOf(doc)["salt"] = hex.EncodeToString(salt)
		})
		if k, err := DecryptKeystore(doc, specPassword); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("plaintext %x: DecryptKeystore = %v, %v; want ErrInvalidKey", plain, k, err)
		}
	}
}

func TestEncryptKeystoreRejects(t *testing.T) {
	k := mustKey(t, specKey)
	for _, tc := range []struct {
		name string
		k    *PrivateKey
		n, p int
	}{
		{"nil key", nil, LightScryptN, LightScryptP},
		{"zero key", &PrivateKey{}, LightScryptN, LightScryptP},
		{"n not power of two", k, 1000, 1},
		{"n 1", k, 1, 1},
		{"n 0", k, 0, 1},
		{"p 0", k, LightScryptN, 0},
		{"p negative", k, LightScryptN, -1},
		{"memory", k, 1 << 21, 1},
		{"work", k, LightScryptN, 1 << 11},
	} {
		if _, err := EncryptKeystore(tc.k, "pw", testRand(9), tc.n, tc.p); err == nil {
			t.Errorf("%s: EncryptKeystore succeeded", tc.name)
		}
	}
	_, err := EncryptKeystore(nil, "pw", testRand(9), LightScryptN, LightScryptP)
	if !errors.Is(err, ErrInvalidKey) {
		t.Errorf("nil key: %v, want ErrInvalidKey", err)
	}
	if _, err := EncryptKeystore(k, "pw", nil, LightScryptN, LightScryptP); err == nil {
		t.Error("nil rand: EncryptKeystore succeeded")
	}
	short := bytes.NewReader(make([]byte, 20))
	if _, err := EncryptKeystore(k, "pw", short, LightScryptN, LightScryptP); err == nil {
		t.Error("short rand: EncryptKeystore succeeded")
	}
}

func TestCheckScryptParams(t *testing.T) {
	for _, tc := range []struct {
		n, r, p int
		ok      bool
	}{
		{StandardScryptN, 8, StandardScryptP, true},
		{LightScryptN, 8, LightScryptP, true},
		{262144, 1, 8, true},   // the spec's test vector
		{1 << 20, 8, 1, false}, // 1 GiB of V plus the B buffer: just over the limit
		{1 << 19, 8, 1, true},  // 512 MiB
		{1 << 20, 1, 32, true}, // work 2^25, at the limit
		{1 << 20, 1, 33, false},
		{2, 1, 1, true},
		{1 << 30, 1, 1, false},
		{1 << 30, 1 << 30, 1 << 30, false}, // products would overflow 64 bits
	} {
		err := checkScryptParams(tc.n, tc.r, tc.p)
		if (err == nil) != tc.ok {
			t.Errorf("checkScryptParams(%d, %d, %d) = %v, want ok=%v", tc.n, tc.r, tc.p, err, tc.ok)
		}
	}
}
