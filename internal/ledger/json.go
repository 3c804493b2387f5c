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
