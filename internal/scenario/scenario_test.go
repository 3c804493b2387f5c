package scenario

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// scenarioFiles lists the repository's scenario files: EigenLayer's vectors
// and restake's own scenarios.
func scenarioFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{
		"../../testdata/vectors/eigenlayer/*.json",
		"../../testdata/scenarios/*.json",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 24 {
		t.Fatalf("found %d scenario files; the 24 EigenLayer vectors must be in testdata", len(files))
	}
	sort.Strings(files)
	return files
}

// TestScenarios replays every scenario file and requires every expectation
// to hold and the final state to satisfy every ledger invariant.
func TestScenarios(t *testing.T) {
	for _, file := range scenarioFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := Decode(file, data)
			if err != nil {
				t.Fatal(err)
			}
			results, l, err := sc.Run()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				if !r.OK {
					t.Errorf("step %d %s: code %q result %v mismatch %+v", r.Step, r.Op, r.Code, r.Result, *r.Mismatch)
				}
			}
			if err := l.CheckInvariants(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestVectorsMatchShared checks that the copies of the EigenLayer vectors in
// testdata are byte-identical to the shared spec, when it is present beside
// the repository (it is not in CI's clean clone).
func TestVectorsMatchShared(t *testing.T) {
	shared, _ := filepath.Glob("../../../shared/spec/vectors/*.json")
	if len(shared) == 0 {
		t.Skip("../shared/spec/vectors not present")
	}
	for _, src := range shared {
		want, _ := os.ReadFile(src)
		got, err := os.ReadFile(filepath.Join("../../testdata/vectors/eigenlayer", filepath.Base(src)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: testdata copy missing or different from the shared spec", filepath.Base(src))
		}
	}
}

// goldenStateHash pins the state after golden.json. It changes only when
// the state encoding or the ledger's semantics change; update it
// deliberately, with a note in docs/state-format.md.
const goldenStateHash = "869b7319b9c33d523aec54a49edd215a266ab9e18c23073b25f3ff03002d3d1d"

func TestGoldenStateHash(t *testing.T) {
	data, err := os.ReadFile("../../testdata/scenarios/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Decode("golden.json", data)
	if err != nil {
		t.Fatal(err)
	}
	_, l, err := sc.Run()
	if err != nil {
		t.Fatal(err)
	}
	h := l.StateHash()
	if got := hex.EncodeToString(h[:]); got != goldenStateHash {
		t.Fatalf("state hash %s, golden %s: the state format or semantics changed; "+
			"if deliberate, update goldenStateHash and docs/state-format.md", got, goldenStateHash)
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"not json", `{`, "not a JSON object"},
		{"unknown top", `{"steps":[],"x":1}`, `field "x": unknown top-level field`},
		{"unknown op", `{"steps":[{"op":"fly"}]}`, `unknown op "fly"`},
		{"unknown field", `{"steps":[{"op":"roll","blocks":1,"speed":2}]}`, `field "speed": unknown field`},
		{"missing field", `{"steps":[{"op":"roll"}]}`, `field "blocks": missing`},
		{"amount not string", `{"steps":[{"op":"mint","account":"a","token":"t","amount":5}]}`, `field "amount"`},
		{"negative amount", `{"steps":[{"op":"mint","account":"a","token":"t","amount":"-5"}]}`, `field "amount"`},
		{"both expects", `{"steps":[{"op":"roll","blocks":1,"expect":{},"expect_error":"X"}]}`, "both"},
		{"bad ref", `{"steps":[{"op":"roll","blocks":1},{"op":"view_queued_withdrawal","withdrawal":"#0"}]}`,
			"queues no withdrawal"},
		{"forward ref", `{"steps":[{"op":"view_queued_withdrawal","withdrawal":"#3"}]}`, "not an earlier step"},
		{"unknown param", `{"params":{"speed":1},"steps":[]}`, `params.speed`},
		{"rewards op field", `{"steps":[{"op":"claim","earner":"a"}]}`, `field "token": missing`},
		{"view expect type", `{"steps":[{"op":"view_balance","account":"a","token":"t","expect":5}]}`,
			"string or an object"},
	}
	for _, c := range cases {
		_, err := Decode("f.json", []byte(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
		if _, ok := err.(*FormatError); err != nil && !ok {
			t.Errorf("%s: error %T is not a *FormatError", c.name, err)
		}
	}
}

func TestBlockBackwardsIsFormatError(t *testing.T) {
	sc, err := Decode("f.json", []byte(`{"steps":[{"op":"roll","blocks":5},{"op":"roll","blocks":1,"block":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sc.Run(); err == nil || !strings.Contains(err.Error(), "before the current block") {
		t.Fatalf("got %v, want a block-backwards error", err)
	}
}

func TestUnexpectedRejectionFails(t *testing.T) {
	sc, err := Decode("f.json", []byte(`{"steps":[{"op":"deposit","staker":"a","strategy":"x","amount":"1"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	results, _, _ := sc.Run()
	if results[0].OK || results[0].Code != "StrategyNotWhitelisted" {
		t.Fatalf("a rejected step without expect_error must fail: %+v", results[0])
	}
}

func TestExpectChecksTypes(t *testing.T) {
	// slash_id is an integer: the string "1" must not match it.
	file := `{"steps":[
	 {"op":"add_strategy","strategy":"s","token":"t"},
	 {"op":"register_operator","operator":"o","allocation_delay":0},
	 {"op":"register_avs","avs":"v"},
	 {"op":"create_operator_set","avs":"v","set":0,"strategies":["s"]},
	 {"op":"register_for_sets","operator":"o","avs":"v","sets":[0]},
	 {"op":"modify_allocations","operator":"o","avs":"v","set":0,"strategies":["s"],"magnitudes":["1"]},
	 {"op":"slash","caller":"v","operator":"o","avs":"v","set":0,"strategies":["s"],"wads":["1"],
	  "expect":{"slash_id":"1"}}]}`
	sc, err := Decode("f.json", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	results, _, _ := sc.Run()
	last := results[len(results)-1]
	if last.OK || last.Mismatch == nil || last.Mismatch.Key != "slash_id" {
		t.Fatalf("a string expectation must not match an integer result: %+v", last)
	}
}

func TestActorAddress(t *testing.T) {
	a, _ := ActorAddress("alice")
	b, _ := ActorAddress("alice")
	c, _ := ActorAddress("bob")
	if a != b || a == c || a.IsZero() {
		t.Fatal("actor names must map to fixed, distinct, non-zero addresses")
	}
	lit, err := ActorAddress("0x00000000000000000000000000000000000E16E4")
	if err != nil || lit.String() != "0x00000000000000000000000000000000000E16E4" {
		t.Fatalf("a hex actor is the address itself: %v %v", lit, err)
	}
}
