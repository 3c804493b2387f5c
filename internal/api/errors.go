package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/restake/restake/internal/ledger"
)

// Error is the body of every error response:
// {"error":"<StableName>","message":"<what to do>","status":<http code>}.
// Transaction and ledger rejections carry the ledger's stable names
// (ledger.Error.Name) and hints; problems with the request itself carry the
// API's own names, listed in ErrorNames. A name never changes meaning once
// published, so clients match on it, never on the message.
type Error struct {
	Name    string `json:"error" doc:"Stable error name: match on this." example:"NonceTooLow"`
	Message string `json:"message" doc:"What went wrong and what to do about it, for people."`
	Status  int    `json:"status" doc:"The HTTP status code of the response." example:"409"`

	// header goes out with the response (Retry-After for MempoolFull).
	header http.Header
}

// Error returns "Name: message".
func (e *Error) Error() string { return e.Name + ": " + e.Message }

// GetStatus returns the HTTP status, for huma.
func (e *Error) GetStatus() int { return e.Status }

// GetHeaders returns the headers to send with the error, for huma.
func (e *Error) GetHeaders() http.Header {
	if e.header == nil {
		return http.Header{}
	}
	return e.header
}

// The API's own error names. Each is stable; ErrorNames lists them with
// their statuses for the documentation page and the tests.
const (
	NameBodyTooLarge         = "BodyTooLarge"
	NameBodyRequired         = "BodyRequired"
	NameMalformedJSON        = "MalformedJSON"
	NameUnknownField         = "UnknownField"
	NameDuplicateField       = "DuplicateField"
	NameInvalidField         = "InvalidField"
	NameInvalidBody          = "InvalidBody"
	NameEmptyBatch           = "EmptyBatch"
	NameBatchTooLarge        = "BatchTooLarge"
	NameUnsupportedMediaType = "UnsupportedMediaType"
	NameNotAcceptable        = "NotAcceptable"
	NameRequestTimeout       = "RequestTimeout"
	NameInvalidParameter     = "InvalidParameter"
	NameUnknownParameter     = "UnknownParameter"
	NameInvalidAddress       = "InvalidAddress"
	NameInvalidHash          = "InvalidHash"
	NameInvalidHeight        = "InvalidHeight"
	NameInvalidWithdrawalID  = "InvalidWithdrawalID"
	NameInvalidSetID         = "InvalidSetID"
	NameInvalidKey           = "InvalidKey"
	NameRouteNotFound        = "RouteNotFound"
	NameMethodNotAllowed     = "MethodNotAllowed"
	NameTxNotFound           = "TxNotFound"
	NameBlockNotFound        = "BlockNotFound"
	NameAccountNotFound      = "AccountNotFound"
	NameOperatorNotFound     = "OperatorNotFound"
	NameAVSNotFound          = "AVSNotFound"
	NameSetNotFound          = "SetNotFound"
	NameStrategyNotFound     = "StrategyNotFound"
	NameTokenNotFound        = "TokenNotFound"
	NamePriceNotFound        = "PriceNotFound"
	NameWithdrawalNotFound   = "WithdrawalNotFound"
	NameEarnerNotFound       = "EarnerNotFound"
	NameNodeHalted           = "NodeHalted"
	NameSubscriberTooSlow    = "SubscriberTooSlow"
	NameInternalError        = "InternalError"
)

// ErrorNames maps each API error name to its HTTP status. Ledger names
// (ledger.ErrorByName) are not in it: see ledgerStatus for theirs.
var ErrorNames = map[string]int{
	NameBodyTooLarge:         http.StatusRequestEntityTooLarge,
	NameBodyRequired:         http.StatusBadRequest,
	NameMalformedJSON:        http.StatusBadRequest,
	NameUnknownField:         http.StatusBadRequest,
	NameDuplicateField:       http.StatusBadRequest,
	NameInvalidField:         http.StatusUnprocessableEntity,
	NameInvalidBody:          http.StatusUnprocessableEntity,
	NameEmptyBatch:           http.StatusUnprocessableEntity,
	NameBatchTooLarge:        http.StatusUnprocessableEntity,
	NameUnsupportedMediaType: http.StatusUnsupportedMediaType,
	NameNotAcceptable:        http.StatusNotAcceptable,
	NameRequestTimeout:       http.StatusRequestTimeout,
	NameInvalidParameter:     http.StatusBadRequest,
	NameUnknownParameter:     http.StatusBadRequest,
	NameInvalidAddress:       http.StatusBadRequest,
	NameInvalidHash:          http.StatusBadRequest,
	NameInvalidHeight:        http.StatusBadRequest,
	NameInvalidWithdrawalID:  http.StatusBadRequest,
	NameInvalidSetID:         http.StatusBadRequest,
	NameInvalidKey:           http.StatusBadRequest,
	NameRouteNotFound:        http.StatusNotFound,
	NameMethodNotAllowed:     http.StatusMethodNotAllowed,
	NameTxNotFound:           http.StatusNotFound,
	NameBlockNotFound:        http.StatusNotFound,
	NameAccountNotFound:      http.StatusNotFound,
	NameOperatorNotFound:     http.StatusNotFound,
	NameAVSNotFound:          http.StatusNotFound,
	NameSetNotFound:          http.StatusNotFound,
	NameStrategyNotFound:     http.StatusNotFound,
	NameTokenNotFound:        http.StatusNotFound,
	NamePriceNotFound:        http.StatusNotFound,
	NameWithdrawalNotFound:   http.StatusNotFound,
	NameEarnerNotFound:       http.StatusNotFound,
	NameNodeHalted:           http.StatusServiceUnavailable,
	// SubscriberTooSlow ends an event stream (as an "error" event; the
	// response status was already 200).
	NameSubscriberTooSlow: http.StatusServiceUnavailable,
	NameInternalError:     http.StatusInternalServerError,
}

// apiError builds an error with one of the API's own names; its status
// comes from ErrorNames so that a name always travels with one status.
func apiError(name, format string, args ...any) *Error {
	status, ok := ErrorNames[name]
	if !ok {
		// A name missing from the table is a bug in this package; answer
		// 500 rather than invent a status.
		status = http.StatusInternalServerError
	}
	return &Error{Name: name, Message: fmt.Sprintf(format, args...), Status: status}
}

// internalError reports a failure of the node, not of the request: a store
// read error or a proof that does not check.
func internalError(err error) *Error {
	return apiError(NameInternalError, "the node could not answer (%v); retry, and report it "+
		"with the node's log if it persists", err)
}

// ledgerStatus is the HTTP status of a ledger error refused at intake.
// Encoding problems are 400 (the transaction cannot be read), a readable
// transaction that can never be valid here is 422, a nonce or replay
// conflict with the chain's state is 409, and a full mempool is 503 (retry
// later).
func ledgerStatus(name string) int {
	switch name {
	case ledger.ErrTxMalformed.Name, ledger.ErrTxTooLarge.Name, ledger.ErrInvalidName.Name:
		return http.StatusBadRequest
	case ledger.ErrWrongChainID.Name, ledger.ErrInvalidSignature.Name:
		return http.StatusUnprocessableEntity
	case ledger.ErrNonceTooLow.Name, ledger.ErrNonceTooHigh.Name, ledger.ErrTxAlreadyKnown.Name:
		return http.StatusConflict
	case ledger.ErrMempoolFull.Name:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

// fromLedger turns a ledger error into a response with the ledger's name and
// hint. A full mempool also says when to retry.
func fromLedger(e *ledger.Error) *Error {
	out := &Error{Name: e.Name, Message: e.Hint, Status: ledgerStatus(e.Name)}
	if e.Name == ledger.ErrMempoolFull.Name {
		out.header = http.Header{"Retry-After": []string{"1"}}
	}
	return out
}

// installErrors makes huma build its own errors (validation failures, body
// limits, content negotiation) as *Error with a stable name, so that every
// response of the API has one error shape. huma.NewError is a package
// variable, so this affects every huma API in the process; restake serves
// one.
var installErrors = sync.OnceFunc(func() {
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return classify(status, msg, 0, errs)
	}
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string,
		errs ...error) huma.StatusError {
		var limit int64
		if ctx != nil && ctx.Operation() != nil {
			// New registers operations with one byte over the limit, so
			// that a body of exactly MaxBodyBytes passes huma's check.
			limit = ctx.Operation().MaxBodyBytes - 1
		}
		return classify(status, msg, limit, errs)
	}
})

// classify names an error huma raised. It looks at the status first (body
// limits, media types), then at the first detail's location: "body" alone
// with 400 is JSON that does not parse, "body.x" is a field of the body,
// "query.x" and "path.x" are parameters.
func classify(status int, msg string, bodyLimit int64, errs []error) *Error {
	for _, err := range errs {
		var own *Error
		if errors.As(err, &own) {
			return own
		}
	}
	switch status {
	case 0:
		return &Error{} // huma's example error, used for the schema only
	case http.StatusRequestEntityTooLarge:
		if bodyLimit > 0 {
			return apiError(NameBodyTooLarge, "the request body is over %d bytes; send fewer or "+
				"smaller transactions per request", bodyLimit)
		}
		return apiError(NameBodyTooLarge, "the request body is too large; send fewer or smaller "+
			"transactions per request")
	case http.StatusUnsupportedMediaType:
		return apiError(NameUnsupportedMediaType, "send the body as JSON with "+
			"Content-Type: application/json")
	case http.StatusNotAcceptable:
		return apiError(NameNotAcceptable, "this API answers in JSON; accept application/json")
	case http.StatusRequestTimeout:
		return apiError(NameRequestTimeout, "the request body arrived too slowly; send it at once")
	}
	if status >= 500 {
		return internalError(errors.New(msg))
	}
	if msg == "request body is required" {
		return apiError(NameBodyRequired, "the request needs a JSON body; see /docs for its fields")
	}
	d := firstDetail(errs)
	if d == nil {
		return apiError(NameInvalidParameter, "%s; see /docs for this operation's parameters", msg)
	}
	return classifyDetail(status, d)
}

// classifyDetail names a validation failure by where it is.
func classifyDetail(status int, d *huma.ErrorDetail) *Error {
	loc, m := d.Location, d.Message
	switch {
	case loc == "body" && status == http.StatusBadRequest:
		return apiError(NameMalformedJSON, "the body is not valid JSON (%s); send one JSON object", m)
	case m == "unexpected property":
		return apiError(NameUnknownField, "%s is not a field of this request; remove it (see /docs)",
			strings.TrimPrefix(loc, "body."))
	case m == "unknown query parameter":
		return apiError(NameUnknownParameter, "%s is not a parameter of this operation; remove it "+
			"(see /docs)", strings.TrimPrefix(loc, "query."))
	case strings.HasPrefix(loc, "body.txs") && strings.HasPrefix(m, "expected array length <="):
		return apiError(NameBatchTooLarge, "a batch holds at most %d transactions; split it", batchTxsMax)
	case loc == "body" || strings.HasPrefix(loc, "body."):
		return apiError(NameInvalidField, "%s: %s; see /docs for the body's fields", loc, m)
	case strings.HasPrefix(loc, "query."), strings.HasPrefix(loc, "path."),
		strings.HasPrefix(loc, "header."):
		return apiError(NameInvalidParameter, "%s: %s; see /docs for this operation's parameters", loc, m)
	}
	return apiError(NameInvalidParameter, "%s: %s", loc, m)
}

// firstDetail returns the first validation detail among errs, if any.
func firstDetail(errs []error) *huma.ErrorDetail {
	for _, err := range errs {
		var d huma.ErrorDetailer
		if errors.As(err, &d) {
			return d.ErrorDetail()
		}
	}
	return nil
}
