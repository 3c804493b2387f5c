// Package api is the node's HTTP API: JSON over HTTP on chi, with typed
// handlers (huma v2) that generate an OpenAPI 3.1 document, served at
// /openapi.json and rendered server-side at /docs as a self-contained page.
//
// Every error response has one shape, {"error":"<StableName>",
// "message":"<what to do>","status":<code>}: transaction and ledger
// rejections carry the ledger's stable names (ledger.Error), and problems
// with the request carry the names in ErrorNames. Bad input is always a 4xx,
// never a 500 or a panic.
//
// Reads run under the node's read lock, so one response describes one
// committed height; entity endpoints with ?prove=true add the entity's state
// record and a statetree proof taken under the same lock, which a client can
// check against that height's app hash.
package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/node"
)

// Options configure the API. Zero values take the defaults.
type Options struct {
	// MaxBodyBytes bounds a request body (default 1 MiB); a larger body is
	// refused with 413 BodyTooLarge before it is parsed.
	MaxBodyBytes int64
	// RequestTimeout bounds one request (default 15 s). POST /v1/txs with
	// ?wait=true waits at most this long, whatever its ?timeout= says.
	RequestTimeout time.Duration
	// CORSOrigins are the browser origins allowed to call the API ("*" for
	// any). Empty (the default) sends no CORS headers at all, so browsers
	// keep other sites' pages from reading the API.
	CORSOrigins []string
	// Version is the node software's version, reported by /v1/status and
	// the OpenAPI document.
	Version string
	// PriceStaleAfter is how old a price may be, relative to the last
	// block's time, before /v1/prices flags it stale (default 1 h).
	PriceStaleAfter time.Duration
	// HeartbeatInterval is how often /v1/events sends a comment on an idle
	// stream, so that proxies and clients can tell a quiet chain from a
	// dead connection (default 15 s).
	HeartbeatInterval time.Duration
}

// Defaults of Options.
const (
	defaultMaxBodyBytes      = 1 << 20
	defaultRequestTimeout    = 15 * time.Second
	defaultPriceStaleAfter   = time.Hour
	defaultHeartbeatInterval = 15 * time.Second
	// writeGrace is added to RequestTimeout for a response's write
	// deadline: the time to write a large page after the work is done.
	writeGrace = 10 * time.Second
	// eventWriteTimeout bounds each write of the event stream, so that a
	// client that stops reading is dropped instead of holding a
	// subscription forever.
	eventWriteTimeout = 30 * time.Second
)

func (o *Options) fill() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = defaultMaxBodyBytes
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = defaultRequestTimeout
	}
	if o.PriceStaleAfter <= 0 {
		o.PriceStaleAfter = defaultPriceStaleAfter
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = defaultHeartbeatInterval
	}
}

// server holds the handlers' shared state.
type server struct {
	node *node.Node
	opts Options

	rewards rewardsCache
}

// New returns the whole API over n.
func New(n *node.Node, opts Options) http.Handler {
	opts.fill()
	installErrors()
	s := &server{node: n, opts: opts}

	router := chi.NewMux()
	router.Use(recoverer, s.deadlines)
	if len(opts.CORSOrigins) > 0 {
		router.Use(cors(opts.CORSOrigins))
	}
	router.NotFound(notFound)
	router.MethodNotAllowed(methodNotAllowed(router))

	api := humachi.New(router, s.humaConfig())
	s.register(api)
	s.registerRaw(router, api)

	spec, err := json.Marshal(api.OpenAPI())
	if err != nil {
		// The document is built from this package's own types at
		// startup; failing to marshal it is a programming error.
		panic(fmt.Sprintf("api: marshal the OpenAPI document: %v", err))
	}
	page := renderDocs(api.OpenAPI())
	router.Get("/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/openapi+json")
		_, _ = w.Write(spec)
	})
	router.Get("/docs", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page inlines its style and loads nothing, so it can forbid
		// everything else.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_, _ = w.Write(page)
	})
	return router
}

// NewServer returns an HTTP server for h on addr (the caller chooses the
// address; binding to loopback by default is the command's job).
//
// Timeouts: ReadHeaderTimeout (5 s) and ReadTimeout (30 s) stop slow
// clients from holding connections while they dribble a request in; they
// bound reading the request only (net/http lifts the read deadline once
// the body is read), so a long ?wait=true or event stream is not cut.
// WriteTimeout is 0 because /v1/events streams for as long as the client
// listens; instead New sets a write deadline on every other response
// (RequestTimeout plus a grace period) and the event stream sets one per
// write. IdleTimeout (120 s) closes idle keep-alive connections, and
// MaxHeaderBytes (64 KiB) bounds the headers, which no request of this API
// needs more of.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      0,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// humaConfig is huma's default configuration minus what this API serves
// itself: the OpenAPI and docs routes (huma's docs page loads Stoplight
// from a CDN and its spec route fills a cache without a lock), the schema
// routes, and the "$schema" links it would add to every response body.
func (s *server) humaConfig() huma.Config {
	cfg := huma.DefaultConfig("restake node API", s.opts.Version)
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	cfg.CreateHooks = nil
	cfg.OpenAPIPath = ""
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.RejectUnknownQueryParameters = true
	cfg.Info.Description = apiDescription
	cfg.Tags = tags
	registerAliases(cfg.Components.Schemas)
	return cfg
}

// schemaName is huma's namer without the "Doc" suffix of the types that
// document other types' JSON (see registerAliases).
func schemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	if n, ok := strings.CutSuffix(name, "Doc"); ok && n != "" {
		return n
	}
	return name
}

const apiDescription = "The HTTP API of a restake node: submit signed transactions, read the " +
	"committed state (with Merkle proofs against the app hash), follow committed events. " +
	"Amounts are decimal strings, addresses EIP-55 hex, hashes 0x hex. Lists are paginated " +
	"with ?limit= (1 to 1000, default 100) and ?after= (the previous page's next). Every " +
	"error is {\"error\":\"<StableName>\",\"message\":\"<what to do>\",\"status\":<code>}."

// tags group the operations in the document and on /docs, in this order.
var tags = []*huma.Tag{
	{Name: "node", Description: "Health, status, metrics and this documentation."},
	{Name: "transactions", Description: "Submit signed transactions and follow them."},
	{Name: "blocks", Description: "Committed blocks and their results."},
	{Name: "accounts", Description: "Accounts: balances, positions, withdrawals, rewards."},
	{Name: "operators", Description: "Operators, their allocations and registrations."},
	{Name: "services", Description: "AVSs and their operator sets."},
	{Name: "assets", Description: "Strategies, tokens and prices."},
	{Name: "withdrawals", Description: "Queued withdrawals."},
	{Name: "rewards", Description: "Rewards submissions, claimable amounts, the root and claims."},
	{Name: "slashing", Description: "Slashes waiting to be cleared."},
	{Name: "state", Description: "Raw state records and their proofs."},
	{Name: "events", Description: "The stream of committed events."},
}

// deadlines sets each response's write deadline (the server has none; see
// NewServer).
func (s *server) deadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != eventsPath {
			// An error means the writer cannot take deadlines (a test
			// recorder); the server's other limits still apply.
			_ = http.NewResponseController(w).SetWriteDeadline(
				time.Now().Add(s.opts.RequestTimeout + writeGrace))
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer answers 500 InternalError instead of dropping the connection
// when a handler panics (a bug: bad input must never panic).
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				writeError(w, internalError(fmt.Errorf("panic: %v", rec)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// cors answers browsers from the allowed origins. Preflights from them get
// 204 with the methods and headers the API uses; requests from other
// origins get no CORS headers, so the browser withholds the response.
func cors(origins []string) func(http.Handler) http.Handler {
	anyOrigin := contains(origins, "*")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" || !(anyOrigin || contains(origins, origin)) {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Add("Vary", "Origin")
			if anyOrigin {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			h.Set("Access-Control-Expose-Headers", "Retry-After")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST")
				h.Set("Access-Control-Allow-Headers", "Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeError writes an error response outside huma (routing errors, the
// event stream, panics).
func writeError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	for k, v := range e.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, apiError(NameRouteNotFound, "no route %s %s; see /docs for the routes",
		r.Method, truncate(r.URL.Path)))
}

// methodNotAllowed answers 405 with the Allow header chi's own handler
// would set (chi does not pass the allowed methods to a custom handler, so
// they are found by matching the path again).
func methodNotAllowed(router *chi.Mux) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if router.Match(chi.NewRouteContext(), m, r.URL.Path) {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, apiError(NameMethodNotAllowed, "%s is not allowed on %s; use %s",
			r.Method, truncate(r.URL.Path), strings.Join(allowed, " or ")))
	}
}

// read runs fn under the node's read lock.
func (s *server) read(fn func(a *app.App)) { s.node.Read(fn) }

// out wraps a response body for huma.
type out[T any] struct {
	Body T
}

// operation describes one route for huma.
func operation(id, method, path, tag, summary, description string, errs ...int) huma.Operation {
	return huma.Operation{OperationID: id, Method: method, Path: path, Tags: []string{tag},
		Summary: summary, Description: description, Errors: errs}
}
