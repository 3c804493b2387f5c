package ledger

import (
	"encoding/json"
	"strconv"

	"github.com/holiman/uint256"
)

// JSON forms of results and events, with the field names of the scenario
// format: amounts and shares as decimal strings, ids as 0x hex, slash ids
// and blocks as numbers. The HTTP API and the scenario runner both use them.

func decs(v []uint256.Int) []string {
	out := make([]string, len(v))
	for i := range v {
		out[i] = v[i].Dec()
	}
	return out
}

// MarshalJSON renders {"shares"}.
func (r DepositResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"shares": r.Shares.Dec()})
}

// MarshalJSON renders {"withdrawals": [id...]}.
func (r UndelegateResult) MarshalJSON() ([]byte, error) {
	ids := make([]string, len(r.Withdrawals))
	for i, id := range r.Withdrawals {
		ids[i] = id.String()
	}
	return json.Marshal(map[string]any{"withdrawals": ids})
}

// MarshalJSON renders {"withdrawal", "withdrawable"}.
func (r QueueWithdrawalResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"withdrawal": r.Withdrawal.String(), "withdrawable": decs(r.Withdrawable)})
}

// MarshalJSON renders {"amounts"}.
func (r CompleteWithdrawalResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"amounts": decs(r.Amounts)})
}

// MarshalJSON renders {"slash_id", "shares"}.
func (r SlashResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"slash_id": r.SlashID, "shares": decs(r.Shares)})
}

// MarshalJSON renders {"amounts"}.
func (r ClearSlashedResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"amounts": decs(r.Amounts)})
}

// MarshalJSON renders {"protocol_fee", "escrowed", "submission"}.
func (r SubmitRewardsResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"protocol_fee": r.ProtocolFee.Dec(), "escrowed": r.Escrowed.Dec(),
		"submission": r.ID})
}

// MarshalJSON renders {"amount"}.
func (r ClaimResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"amount": r.Amount.Dec()})
}

// MarshalJSON renders an event with its kind's name and the fields the kind
// uses (events.go lists them), zero fields left out.
func (e Event) MarshalJSON() ([]byte, error) {
	m := map[string]any{"kind": e.Kind.String()}
	if !e.Account.IsZero() {
		m["account"] = e.Account.String()
	}
	if !e.Other.IsZero() {
		m["other"] = e.Other.String()
	}
	if !e.Caller.IsZero() {
		m["caller"] = e.Caller.String()
	}
	if e.Set != (OperatorSet{}) {
		m["set"] = map[string]any{"avs": e.Set.AVS.String(), "id": e.Set.ID}
	}
	if e.Strategy != "" {
		m["strategy"] = e.Strategy
	}
	if e.Token != "" {
		m["token"] = e.Token
	}
	if e.ID != (WithdrawalID{}) {
		m["id"] = e.ID.String()
	}
	if e.N != 0 {
		m["n"] = strconv.FormatUint(e.N, 10)
	}
	if !e.Amount.IsZero() {
		m["amount"] = e.Amount.Dec()
	}
	if !e.Amount2.IsZero() {
		m["amount2"] = e.Amount2.Dec()
	}
	return json.Marshal(m)
}

// MarshalJSON renders the address as EIP-55 hex.
func (a Address) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// MarshalJSON renders the id as 0x hex.
func (w WithdrawalID) MarshalJSON() ([]byte, error) { return json.Marshal(w.String()) }

// Seal ends genesis: a ledger built Open to apply genesis operations stops
// lifting authorisation checks.
func (l *Ledger) Seal() { l.open = false }

// UnmarshalJSON reads an EIP-55 (or any-case) hex address.
func (a *Address) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseAddress(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// UnmarshalJSON reads a 0x hex id.
func (w *WithdrawalID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseWithdrawalID(s)
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// EventKindByName returns the kind with that name (0 when none).
func EventKindByName(name string) EventKind {
	for k, n := range eventNames {
		if n == name && n != "" {
			return EventKind(k)
		}
	}
	return 0
}

// UnmarshalJSON reads what MarshalJSON writes (events stored with block
// results are read back for the API).
func (e *Event) UnmarshalJSON(b []byte) error {
	var m struct {
		Kind    string   `json:"kind"`
		Account *Address `json:"account"`
		Other   *Address `json:"other"`
		Caller  *Address `json:"caller"`
		Set     *struct {
			AVS Address `json:"avs"`
			ID  uint32  `json:"id"`
		} `json:"set"`
		Strategy string        `json:"strategy"`
		Token    string        `json:"token"`
		ID       *WithdrawalID `json:"id"`
		N        string        `json:"n"`
		Amount   string        `json:"amount"`
		Amount2  string        `json:"amount2"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*e = Event{Kind: EventKindByName(m.Kind), Strategy: m.Strategy, Token: m.Token}
	if m.Account != nil {
		e.Account = *m.Account
	}
	if m.Other != nil {
		e.Other = *m.Other
	}
	if m.Caller != nil {
		e.Caller = *m.Caller
	}
	if m.Set != nil {
		e.Set = OperatorSet{AVS: m.Set.AVS, ID: m.Set.ID}
	}
	if m.ID != nil {
		e.ID = *m.ID
	}
	if m.N != "" {
		n, err := strconv.ParseUint(m.N, 10, 64)
		if err != nil {
			return err
		}
		e.N = n
	}
	for _, f := range []struct {
		s   string
		dst *uint256.Int
	}{{m.Amount, &e.Amount}, {m.Amount2, &e.Amount2}} {
		if f.s != "" {
			v, err := uint256.FromDecimal(f.s)
			if err != nil {
				return err
			}
			*f.dst = *v
		}
	}
	return nil
}
