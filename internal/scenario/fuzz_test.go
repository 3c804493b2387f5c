package scenario

import (
	"errors"
	"os"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the scenario decoder and runs what it
// accepts: decoding never panics, every problem with the file is a
// *FormatError, and a run of any decoded file never panics (a ledger
// invariant panic would be a bug). Seeds: the repository's scenario files
// and the committed corpus in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, file := range scenarioFiles(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) < 8<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Decode("fuzz.json", data)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("decode error %v is not a *FormatError", err)
			}
			return
		}
		if len(sc.steps) > 2000 {
			return
		}
		results, l, err := sc.Run()
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("run error %v is not a *FormatError", err)
			}
		}
		if len(results) > len(sc.steps) {
			t.Fatalf("%d results for %d steps", len(results), len(sc.steps))
		}
		if err := l.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	})
}
