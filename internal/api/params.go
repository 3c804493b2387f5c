package api

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/restake/restake/internal/ledger"
)

// Limits of the API's inputs, named so the documentation and the checks
// agree.
const (
	// pageLimitDefault and pageLimitMax bound ?limit= of list endpoints.
	pageLimitDefault = 100
	pageLimitMax     = 1000
	// batchTxsMax bounds the transactions of one POST /v1/txs.
	batchTxsMax = 1000
	// stateKeyBytesMax bounds a raw record key of /v1/state/{key}; the
	// ledger's longest keys (allocations) are about 100 bytes.
	stateKeyBytesMax = 256
)

// PageParams are the query parameters of every list endpoint.
type PageParams struct {
	Limit int    `query:"limit" default:"100" minimum:"1" maximum:"1000" doc:"Items per page, 1 to 1000."`
	After string `query:"after" doc:"Start after this key: the previous page's next."`
}

// ProveParam is the query parameter of endpoints that can prove their
// record.
type ProveParam struct {
	Prove bool `query:"prove" doc:"Add the entity's state record and its proof against the app hash."`
}

// parseAddress reads a 0x-prefixed 40-digit hex address from a path or
// query value.
func parseAddress(what, s string) (ledger.Address, *Error) {
	a, err := ledger.ParseAddress(s)
	if err != nil {
		return a, apiError(NameInvalidAddress, "%s %q is not an address: give 0x followed by 40 hex "+
			"digits", what, truncate(s))
	}
	return a, nil
}

// parseHash32 reads a 0x-prefixed 64-digit hex hash.
func parseHash32(s string) ([32]byte, bool) {
	var h [32]byte
	digits, ok := strings.CutPrefix(s, "0x")
	if !ok || len(digits) != 64 {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(digits)); err != nil {
		return h, false
	}
	return h, true
}

// parseTxHash reads a transaction id.
func parseTxHash(s string) ([32]byte, *Error) {
	h, ok := parseHash32(s)
	if !ok {
		return h, apiError(NameInvalidHash, "%q is not a transaction hash: give 0x followed by 64 hex "+
			"digits (the hash POST /v1/txs returned)", truncate(s))
	}
	return h, nil
}

// parseWithdrawalID reads a withdrawal id.
func parseWithdrawalID(s string) (ledger.WithdrawalID, *Error) {
	id, err := ledger.ParseWithdrawalID(s)
	if err != nil {
		return id, apiError(NameInvalidWithdrawalID, "%q is not a withdrawal id: give 0x followed by 64 "+
			"hex digits (the id queue_withdrawal returned)", truncate(s))
	}
	return id, nil
}

// parseHeight reads a block height: decimal digits only, so "-1", "+1"
// and "1e3" are refused rather than read as something else.
func parseHeight(s string) (uint64, *Error) {
	h, err := strconv.ParseUint(s, 10, 64)
	if err != nil || !isDigits(s) {
		return 0, apiError(NameInvalidHeight, "%q is not a block height: give a decimal number from 0 "+
			"(or use /v1/blocks/latest)", truncate(s))
	}
	return h, nil
}

// parseSetID reads an operator set id (a uint32).
func parseSetID(s string) (uint32, *Error) {
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil || !isDigits(s) {
		return 0, apiError(NameInvalidSetID, "%q is not an operator set id: give a decimal number "+
			"from 0 to 4294967295", truncate(s))
	}
	return uint32(id), nil
}

// parseName reads a strategy or token name with the ledger's rules.
func parseName(s string) (string, *Error) {
	if !ledger.ValidName(s) {
		return "", fromLedger(ledger.ErrInvalidName)
	}
	return s, nil
}

// parseStateKey reads a raw record key in 0x hex.
func parseStateKey(s string) ([]byte, *Error) {
	digits, ok := strings.CutPrefix(s, "0x")
	b, err := hex.DecodeString(digits)
	if !ok || err != nil || len(b) == 0 || len(b) > stateKeyBytesMax {
		return nil, apiError(NameInvalidKey, "%q is not a record key: give 0x followed by the key's "+
			"bytes in hex, 1 to %d bytes (docs/state-format.md lists the keys)", truncate(s),
			stateKeyBytesMax)
	}
	return b, nil
}

func isDigits(s string) bool { return s != "" && strings.TrimLeft(s, "0123456789") == "" }

// truncate shortens an echoed input so that an error never repeats a huge
// value back.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

// Record keys (docs/state-format.md). The ledger keeps its key functions
// unexported; these follow internal/ledger/export.go.
func accountKey(a ledger.Address) []byte  { return append([]byte("a/"), a[:]...) }
func operatorKey(a ledger.Address) []byte { return append([]byte("o/"), a[:]...) }
func avsKey(a ledger.Address) []byte      { return append([]byte("v/"), a[:]...) }
func setKey(s ledger.OperatorSet) []byte {
	return binary.BigEndian.AppendUint32(append([]byte("e/"), s.AVS[:]...), s.ID)
}
func withdrawalKey(id ledger.WithdrawalID) []byte { return append([]byte("w/"), id[:]...) }
func strategyKey(name string) []byte              { return append([]byte("s/"), name...) }
func tokenKey(name string) []byte                 { return append([]byte("t/"), name...) }
func priceKey(name string) []byte                 { return append([]byte("p/"), name...) }

// paginate returns the page of items (sorted by sortKey) that follows the
// cursor after (a sort key; hasAfter false starts at the beginning), with
// the public cursor of its last item as Next when more items follow.
// Searching by key rather than by position keeps a cursor valid when the
// item it names has gone (a completed submission, a cleared slash).
func paginate[T any](items []T, sortKey func(T) string, after string, hasAfter bool, limit int,
	cursor func(T) string) Page[T] {
	sort.SliceStable(items, func(i, j int) bool { return sortKey(items[i]) < sortKey(items[j]) })
	i := 0
	if hasAfter {
		i = sort.Search(len(items), func(i int) bool { return sortKey(items[i]) > after })
	}
	end := min(len(items), i+limit)
	p := Page[T]{Items: append(make([]T, 0, end-i), items[i:end]...)}
	if end < len(items) && end > i {
		p.Next = cursor(items[end-1])
	}
	return p
}

// Sort keys and cursors of the lists.

func addrSortKey(a ledger.Address) string { return string(a[:]) }
func addrCursor(a ledger.Address) string  { return a.String() }
func nameSortKey(name string) string      { return name }
func strategySortKey(name string) string  { return strategyRank(name) + name }
func submissionSortKey(id uint64) string  { return fmt.Sprintf("%020d", id) }
func slashSortKey(v ledger.HeldSlashView) string {
	return string(v.AVS[:]) + fmt.Sprintf("%010d%020d", v.Set, v.SlashID)
}
func slashCursor(v ledger.HeldSlashView) string {
	return fmt.Sprintf("%s/%d/%d", v.AVS, v.Set, v.SlashID)
}

// strategyRank puts the native strategy first, as ledger.Strategies does.
func strategyRank(name string) string {
	if name == ledger.BeaconStrategy {
		return "0"
	}
	return "1"
}

// parseCursor turns ?after= into a sort key with the list's own parser.
func parseCursor(after string, parse func(string) (string, error)) (string, bool, *Error) {
	if after == "" {
		return "", false, nil
	}
	k, err := parse(after)
	if err != nil {
		return "", false, apiError(NameInvalidParameter, "query.after: %v; pass the previous page's "+
			"next unchanged, or leave after out to start at the beginning", err)
	}
	return k, true, nil
}

func addrCursorKey(s string) (string, error) {
	a, err := ledger.ParseAddress(s)
	if err != nil {
		return "", errors.New("the cursor must be an address (0x and 40 hex digits)")
	}
	return addrSortKey(a), nil
}

func nameCursorKey(s string) (string, error) {
	if !ledger.ValidName(s) {
		return "", errors.New("the cursor must be a name (1-32 letters, digits, '.', '-', '_')")
	}
	return s, nil
}

func strategyCursorKey(s string) (string, error) {
	if _, err := nameCursorKey(s); err != nil {
		return "", err
	}
	return strategySortKey(s), nil
}

func submissionCursorKey(s string) (string, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || !isDigits(s) {
		return "", errors.New("the cursor must be a submission id (a decimal number)")
	}
	return submissionSortKey(id), nil
}

func slashCursorKey(s string) (string, error) {
	bad := errors.New("the cursor must be <avs>/<set>/<slash id>")
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return "", bad
	}
	avs, err := ledger.ParseAddress(parts[0])
	set, err2 := strconv.ParseUint(parts[1], 10, 32)
	id, err3 := strconv.ParseUint(parts[2], 10, 64)
	if err != nil || err2 != nil || err3 != nil || !isDigits(parts[1]) || !isDigits(parts[2]) {
		return "", bad
	}
	return slashSortKey(ledger.HeldSlashView{AVS: avs, Set: uint32(set), SlashID: id}), nil
}

// bodyKeys reads the top-level keys of a JSON object exactly as written,
// refusing keys outside allowed, keys given twice and null values (which
// encoding/json would read as the field's zero value). huma's validator
// matches property names case-insensitively and encoding/json keeps the
// last of duplicate keys; a signed submission must mean one thing, so the
// API checks the raw body itself.
func bodyKeys(raw []byte, allowed ...string) (map[string]bool, *Error) {
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, apiError(NameInvalidField, "body: expected a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return nil, apiError(NameMalformedJSON, "the body is not valid JSON; send one JSON object")
		}
		if !contains(allowed, key) {
			return nil, apiError(NameUnknownField, "%s is not a field of this request (fields: %s); "+
				"remove it", truncate(key), strings.Join(allowed, ", "))
		}
		if seen[key] {
			return nil, apiError(NameDuplicateField, "%s appears twice; send each field once", key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, apiError(NameMalformedJSON, "the body is not valid JSON; send one JSON object")
		}
		if string(value) == "null" {
			return nil, apiError(NameInvalidField, "body.%s: null is not a value here; leave the field "+
				"out or give a value", key)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, apiError(NameMalformedJSON, "the body is not valid JSON; send one JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, apiError(NameMalformedJSON, "data follows the JSON object; send one JSON object")
	}
	return seen, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
