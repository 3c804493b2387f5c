package risk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// Graph is a restaking graph (spec/risk-format.md): services with a profit
// from corruption and a threshold, validators with a stake and what they
// allocate to each service, and optional shocks and shock sizes to study.
type Graph struct {
	Unit       string
	Services   []Service
	Validators []Validator
	Shocks     [][]int    // validator positions
	Psi        []*big.Rat // shock sizes, fractions of all stake
}

// Service is one service: pi_s and alpha_s.
type Service struct {
	ID        string
	Profit    *big.Rat // pi_s > 0
	Threshold *big.Rat // alpha_s in (0, 1]
}

// Validator is one validator (operator): sigma_v and w_vs.
type Validator struct {
	ID    string
	Stake *big.Rat         // sigma_v > 0
	Alloc map[int]*big.Rat // service position -> w_vs, 0 < w_vs <= sigma_v
}

// InputError is a graph file refused under the input rules: Entry names
// what is wrong ("validators[2] (v3).allocations.bridge"), Reason why.
type InputError struct {
	Entry  string
	Reason string
}

func (e *InputError) Error() string {
	if e.Entry == "" {
		return e.Reason
	}
	return e.Entry + ": " + e.Reason
}

func inputErr(entry, format string, args ...any) *InputError {
	return &InputError{Entry: entry, Reason: fmt.Sprintf(format, args...)}
}

// number reads a JSON value that is a decimal string, a fraction string or
// a plain JSON number (its literal text, read exactly).
type number struct{ text string }

func (n *number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &n.text)
	}
	var num json.Number
	if err := json.Unmarshal(b, &num); err != nil {
		return fmt.Errorf("want a number as a string such as \"0.5\" or \"2/3\", got %s", b)
	}
	n.text = string(num)
	return nil
}

type fileGraph struct {
	Unit       string        `json:"unit"`
	Services   []fileService `json:"services"`
	Validators []fileVal     `json:"validators"`
	Shocks     [][]string    `json:"shocks"`
	Psi        []number      `json:"psi"`
}

type fileService struct {
	ID        string `json:"id"`
	Profit    number `json:"profit"`
	Threshold number `json:"threshold"`
}

type fileVal struct {
	ID          string          `json:"id"`
	Stake       number          `json:"stake"`
	Allocations json.RawMessage `json:"allocations"`
	Services    []string        `json:"services"`
}

// ParseGraph reads a graph file and checks every input rule of the spec;
// a refused file gives an *InputError naming the entry.
func ParseGraph(data []byte) (*Graph, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileGraph
	if err := dec.Decode(&f); err != nil {
		return nil, &InputError{Reason: "not a restaking graph: " + err.Error()}
	}
	if dec.More() {
		return nil, &InputError{Reason: "not a restaking graph: data after the JSON object"}
	}
	g := &Graph{Unit: f.Unit}
	if g.Unit == "" {
		g.Unit = "USD"
	}
	svc := map[string]int{}
	for i, s := range f.Services {
		entry := fmt.Sprintf("services[%d]", i)
		if s.ID == "" {
			return nil, inputErr(entry, "missing id")
		}
		entry += " (" + s.ID + ")"
		if _, dup := svc[s.ID]; dup {
			return nil, inputErr(entry, "duplicate service id %q", s.ID)
		}
		svc[s.ID] = i
		profit, err := positive(entry+".profit", s.Profit)
		if err != nil {
			return nil, err
		}
		th, err := ParseNumber(s.Threshold.text)
		if err != nil {
			return nil, inputErr(entry+".threshold", "%v", err)
		}
		if th.Sign() <= 0 || th.Cmp(rat(1, 1)) > 0 {
			return nil, inputErr(entry+".threshold", "%s is outside (0, 1]", s.Threshold.text)
		}
		g.Services = append(g.Services, Service{ID: s.ID, Profit: profit, Threshold: th})
	}
	if len(f.Validators) == 0 {
		return nil, inputErr("validators", "no validators")
	}
	val := map[string]int{}
	for i, v := range f.Validators {
		entry := fmt.Sprintf("validators[%d]", i)
		if v.ID == "" {
			return nil, inputErr(entry, "missing id")
		}
		entry += " (" + v.ID + ")"
		if _, dup := val[v.ID]; dup {
			return nil, inputErr(entry, "duplicate validator id %q", v.ID)
		}
		val[v.ID] = i
		stake, err := positive(entry+".stake", v.Stake)
		if err != nil {
			return nil, err
		}
		out := Validator{ID: v.ID, Stake: stake, Alloc: map[int]*big.Rat{}}
		hasAlloc := len(v.Allocations) > 0 && string(bytes.TrimSpace(v.Allocations)) != "null"
		switch {
		case hasAlloc && v.Services != nil:
			return nil, inputErr(entry, "has both allocations and services; give one")
		case !hasAlloc && v.Services == nil:
			return nil, inputErr(entry, "has neither allocations nor services; give one")
		case v.Services != nil:
			for _, id := range v.Services {
				s, ok := svc[id]
				if !ok {
					return nil, inputErr(entry+".services", "unknown service id %q", id)
				}
				if _, dup := out.Alloc[s]; dup {
					return nil, inputErr(entry+".services", "service %q listed twice", id)
				}
				out.Alloc[s] = stake
			}
		default:
			keys, vals, err := orderedObject(v.Allocations)
			if err != nil {
				return nil, inputErr(entry+".allocations", "%v", err)
			}
			for k, id := range keys {
				s, ok := svc[id]
				if !ok {
					return nil, inputErr(entry+".allocations", "unknown service id %q", id)
				}
				if _, dup := out.Alloc[s]; dup {
					return nil, inputErr(entry+".allocations", "service %q listed twice", id)
				}
				a, err := ParseNumber(vals[k].text)
				if err != nil {
					return nil, inputErr(entry+".allocations."+id, "%v", err)
				}
				if a.Sign() < 0 {
					return nil, inputErr(entry+".allocations."+id, "%s is negative", vals[k].text)
				}
				if a.Cmp(stake) > 0 {
					return nil, inputErr(entry+".allocations."+id, "%s is above the validator's stake %s",
						vals[k].text, v.Stake.text)
				}
				if a.Sign() > 0 {
					out.Alloc[s] = a
				}
			}
		}
		g.Validators = append(g.Validators, out)
	}
	for i, shock := range f.Shocks {
		entry := fmt.Sprintf("shocks[%d]", i)
		seen := map[int]bool{}
		var d []int
		for _, id := range shock {
			v, ok := val[id]
			if !ok {
				return nil, inputErr(entry, "unknown validator id %q", id)
			}
			if seen[v] {
				return nil, inputErr(entry, "validator %q named twice", id)
			}
			seen[v] = true
			d = append(d, v)
		}
		g.Shocks = append(g.Shocks, d)
	}
	for i, p := range f.Psi {
		entry := fmt.Sprintf("psi[%d]", i)
		r, err := ParseNumber(p.text)
		if err != nil {
			return nil, inputErr(entry, "%v", err)
		}
		if r.Sign() < 0 || r.Cmp(rat(1, 1)) > 0 {
			return nil, inputErr(entry, "%s is outside [0, 1]", p.text)
		}
		g.Psi = append(g.Psi, r)
	}
	return g, nil
}

// MarshalGraph writes g in the input format, so that ParseGraph reads it
// back exactly: numbers as exact decimals when they terminate, else as
// fractions; allocations in service order.
func MarshalGraph(g *Graph) ([]byte, error) {
	exact := func(r *big.Rat) string {
		if s := FormatNumber(r); !strings.ContainsAny(s, ".") || func() bool {
			back, err := ParseNumber(s)
			return err == nil && back.Cmp(r) == 0
		}() {
			return s
		}
		return r.RatString()
	}
	var b bytes.Buffer
	unit, _ := json.Marshal(g.Unit)
	fmt.Fprintf(&b, "{\n  \"unit\": %s,\n  \"services\": [", unit)
	for i, s := range g.Services {
		if i > 0 {
			b.WriteString(",")
		}
		id, _ := json.Marshal(s.ID)
		fmt.Fprintf(&b, "\n    {\"id\": %s, \"profit\": %q, \"threshold\": %q}", id, exact(s.Profit), exact(s.Threshold))
	}
	b.WriteString("\n  ],\n  \"validators\": [")
	for i, v := range g.Validators {
		if i > 0 {
			b.WriteString(",")
		}
		id, _ := json.Marshal(v.ID)
		fmt.Fprintf(&b, "\n    {\"id\": %s, \"stake\": %q, \"allocations\": {", id, exact(v.Stake))
		first := true
		for s := range g.Services {
			a, ok := v.Alloc[s]
			if !ok {
				continue
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			sid, _ := json.Marshal(g.Services[s].ID)
			fmt.Fprintf(&b, "%s: %q", sid, exact(a))
		}
		b.WriteString("}}")
	}
	b.WriteString("\n  ]\n}\n")
	return b.Bytes(), nil
}

// ParsePsi reads a comma-separated psi list (which replaces the file's);
// errors name entries name[i] (for example "--psi[0]").
func ParsePsi(list, name string) ([]*big.Rat, error) {
	var out []*big.Rat
	for i, p := range strings.Split(list, ",") {
		r, err := ParseNumber(p)
		if err != nil {
			return nil, inputErr(fmt.Sprintf("%s[%d]", name, i), "%v", err)
		}
		if r.Sign() < 0 || r.Cmp(rat(1, 1)) > 0 {
			return nil, inputErr(fmt.Sprintf("%s[%d]", name, i), "%s is outside [0, 1]", p)
		}
		out = append(out, r)
	}
	return out, nil
}

func positive(entry string, n number) (*big.Rat, error) {
	r, err := ParseNumber(n.text)
	if err != nil {
		return nil, inputErr(entry, "%v", err)
	}
	if r.Sign() <= 0 {
		return nil, inputErr(entry, "%s is not positive", n.text)
	}
	return r, nil
}

// orderedObject reads a JSON object's keys and values in file order (a Go
// map would lose it, and ties are broken by input order).
func orderedObject(raw json.RawMessage) ([]string, []number, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("want an object of service id to amount")
	}
	var keys []string
	var vals []number
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := tok.(string)
		var n number
		if err := dec.Decode(&n); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", k, err)
		}
		keys = append(keys, k)
		vals = append(vals, n)
	}
	return keys, vals, nil
}
