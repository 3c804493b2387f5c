package tx

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder. It must never panic, and
// whatever it accepts must re-encode to exactly the input: one transaction,
// one encoding. The property is checked on decodeSigned, the decoder
// without Decode's re-encoding safety net, so that a decoder that accepts a
// second encoding fails here instead of being masked. The committed corpus
// in testdata/fuzz/FuzzDecode holds valid and malformed seeds; the examples
// of every op are added here too.
func FuzzDecode(f *testing.F) {
	for _, op := range examples() {
		b, err := signedOf(op).Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSigned(b)
		if err == nil {
			again, err := s.Encode()
			if err != nil {
				t.Fatalf("decoded %x but cannot re-encode it: %v", b, err)
			}
			if !bytes.Equal(again, b) {
				t.Fatalf("non-canonical input accepted:\n in %x\nout %x", b, again)
			}
			if _, ok := OpTag(s.Tx.Op); !ok {
				t.Fatalf("decoded an op of unknown type %T", s.Tx.Op)
			}
		}
		got, derr := Decode(b)
		if len(b) <= MaxTxBytes && (derr == nil) != (err == nil) {
			t.Fatalf("Decode error %v, decodeSigned error %v: they must agree", derr, err)
		}
		if derr == nil && !reflect.DeepEqual(got, s) {
			t.Fatalf("Decode and decodeSigned disagree on %x", b)
		}
		if derr == nil && got.Hash() == ([32]byte{}) {
			t.Fatalf("a decoded transaction has no id")
		}
	})
}
