package api

import (
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/restake/restake/internal/node"
)

// Statuses that most operations can answer with, for the document.
const (
	s400 = http.StatusBadRequest
	s404 = http.StatusNotFound
	s409 = http.StatusConflict
	s413 = http.StatusRequestEntityTooLarge
	s415 = http.StatusUnsupportedMediaType
	s422 = http.StatusUnprocessableEntity
	s500 = http.StatusInternalServerError
	s503 = http.StatusServiceUnavailable
)

const (
	get  = http.MethodGet
	post = http.MethodPost
	// prov ends the description of every operation that can prove its record.
	prov = " With ?prove=true the response adds the record and its proof against the app hash."
)

// register adds the typed operations.
func (s *server) register(api huma.API) {
	s.registerChain(api)
	s.registerEntities(api)
	s.registerRewards(api)
	s.registerRisk(api)
}

// registerChain adds health, status, transactions and blocks.
func (s *server) registerChain(api huma.API) {
	huma.Register(api, operation("healthz", get, "/healthz", "node", "Health",
		"200 {\"status\":\"ok\"} while the node produces blocks, 503 {\"status\":\"halted\"} once a "+
			"failed block halted it."), s.healthz)
	huma.Register(api, operation("status", get, "/v1/status", "node", "Chain status",
		"The chain id, the last committed height, time and app hash, the mempool size and the "+
			"account count."), s.status)

	submit := operation("submit-txs", post, "/v1/txs", "transactions", "Submit transactions",
		"Submit one signed transaction ({\"tx\":\"0x…\"}) or a batch of at most 1000 "+
			"({\"txs\":[…]}). A single transaction refused at intake answers with its stable error "+
			"(409 NonceTooLow, NonceTooHigh, TxAlreadyKnown; 400 TxMalformed, TxTooLarge; 422 "+
			"WrongChainID, InvalidSignature; 503 MempoolFull); a batch answers 200 with each "+
			"transaction's status. With ?wait=true the response waits (up to ?timeout=, default 10s) "+
			"for the transactions to commit and carries their results; a committed transaction whose "+
			"operation the ledger rejected has its error name in the result.",
		s400, s409, s413, s415, s422, s503)
	submit.MaxBodyBytes = s.opts.MaxBodyBytes + 1 // huma refuses a body that reaches its limit
	submit.DefaultStatus = http.StatusOK
	huma.Register(api, submit, s.submit)
	// huma documents the RawBody field (read for the strict key check) as
	// an octet-stream alternative, which the operation does not accept.
	delete(api.OpenAPI().Paths[submit.Path].Post.RequestBody.Content, "application/octet-stream")
	huma.Register(api, operation("get-tx", get, "/v1/txs/{hash}", "transactions", "Transaction",
		"The committed result of a transaction, or {\"status\":\"pending\"} while it waits in the "+
			"mempool.", s400, s404), s.getTx)
	huma.Register(api, operation("nonce", get, "/v1/nonce/{address}", "transactions", "Next nonce",
		"The nonce to sign an account's next transaction with: its committed nonce plus its "+
			"transactions in the mempool.", s400), s.nonce)

	huma.Register(api, operation("latest-block", get, "/v1/blocks/latest", "blocks", "Latest block",
		"The last committed block with its transaction ids and results.", s500), s.latestBlock)
	huma.Register(api, operation("get-block", get, "/v1/blocks/{height}", "blocks", "Block",
		"A committed block with its transaction ids and results.", s400, s404), s.getBlock)
}

// registerEntities adds the state's entities: accounts, operators,
// services, assets and withdrawals.
func (s *server) registerEntities(api huma.API) {

	huma.Register(api, operation("list-accounts", get, "/v1/accounts", "accounts", "Accounts",
		"Every account in address order, with a summary.", s400), s.accounts)
	huma.Register(api, operation("get-account", get, "/v1/accounts/{address}", "accounts", "Account",
		"Balances, positions (deposit and withdrawable shares after slashes), queued withdrawals "+
			"(with unlock_block and unlocks_in_blocks), claimable and claimed rewards."+prov,
		s400, s404), s.account)

	huma.Register(api, operation("list-operators", get, "/v1/operators", "operators", "Operators",
		"Every operator in address order, with its full view.", s400), s.operators)
	huma.Register(api, operation("get-operator", get, "/v1/operators/{address}", "operators",
		"Operator",
		"An operator's shares and magnitudes per strategy, allocations and registrations."+prov,
		s400, s404), s.operator)

	huma.Register(api, operation("list-avss", get, "/v1/avss", "services", "AVSs",
		"Every AVS in address order, with its operator sets.", s400), s.avss)
	huma.Register(api, operation("get-avs", get, "/v1/avss/{address}", "services", "AVS",
		"An AVS and its operator sets."+prov, s400, s404), s.avs)
	huma.Register(api, operation("get-set", get, "/v1/avss/{address}/sets/{set}", "services",
		"Operator set", "An operator set: strategies, slasher, members, slash count."+prov,
		s400, s404), s.set)

	huma.Register(api, operation("list-strategies", get, "/v1/strategies", "assets", "Strategies",
		"The whitelisted strategies, native beaconETH first, then by name.", s400), s.strategies)
	huma.Register(api, operation("get-strategy", get, "/v1/strategies/{name}", "assets", "Strategy",
		"One strategy."+prov, s400, s404), s.strategy)
	huma.Register(api, operation("list-tokens", get, "/v1/tokens", "assets", "Tokens",
		"Every token by name, with its supply and rewards pool.", s400), s.tokens)
	huma.Register(api, operation("get-token", get, "/v1/tokens/{name}", "assets", "Token",
		"One token."+prov, s400, s404), s.token)
	huma.Register(api, operation("list-prices", get, "/v1/prices", "assets", "Prices",
		"The last reported USD price of each token; stale when observed longer than the node's "+
			"staleness window (default 1 h) before the last block's time.", s400), s.prices)
	huma.Register(api, operation("get-price", get, "/v1/prices/{token}", "assets", "Price",
		"One token's last reported price."+prov, s400, s404), s.price)

	huma.Register(api, operation("get-withdrawal", get, "/v1/withdrawals/{id}", "withdrawals",
		"Queued withdrawal", "A queued withdrawal: the shares it would pay now and when it "+
			"unlocks."+prov, s400, s404), s.withdrawal)
}

// registerRewards adds rewards, slashes and raw state.
func (s *server) registerRewards(api huma.API) {

	huma.Register(api, operation("list-submissions", get, "/v1/rewards/submissions", "rewards",
		"Rewards submissions", "The rewards submissions still streaming, by id.", s400), s.submissions)
	huma.Register(api, operation("get-claimable", get, "/v1/rewards/claimable/{address}", "rewards",
		"Claimable rewards", "What an earner can claim now, and has claimed, per token.", s400),
		s.claimable)
	huma.Register(api, operation("rewards-root", get, "/v1/rewards/root", "rewards", "Rewards root",
		"The Merkle root of every earner's cumulative earnings (claimed plus claimable), "+
			"EigenLayer's RewardsCoordinator layout; computed once per height.", s500), s.rewardsRoot)
	huma.Register(api, operation("rewards-roots", get, "/v1/rewards/roots", "rewards", "Published rewards roots",
		"The roots the node published, one per calculation interval (the first block past each "+
			"interval's end), oldest first; earners claim against the latest.", s500), s.publishedRoots)
	huma.Register(api, operation("rewards-proof", get, "/v1/rewards/proof/{address}", "rewards",
		"Rewards claim", "An earner's claim against the rewards root: its leaf, its token leaves "+
			"and their proofs, in 0x hex.", s400, s404), s.rewardsProof)

	huma.Register(api, operation("list-slashes", get, "/v1/slashes", "slashing", "Held slashes",
		"Slashes whose shares wait for clear_slashed, by set and slash id.", s400), s.slashes)

	huma.Register(api, operation("get-state", get, "/v1/state/{key}", "state", "State record",
		"Any raw state record by key (docs/state-format.md); value is null when absent. With "+
			"?prove=true, a membership or non-membership proof against the app hash.", s400), s.state)
}

// registerRaw adds the routes huma does not serve (Prometheus text, the
// event stream, the document and its page) and describes them in the
// document.
func (s *server) registerRaw(router *chi.Mux, api huma.API) {
	reg := s.node.Metrics().Registry
	router.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	router.Get(eventsPath, s.events)
	router.Get("/v1/risk/report.html", s.riskReportHTML)

	doc := api.OpenAPI()
	event := doc.Components.Schemas.Schema(reflect.TypeFor[node.CommittedEvent](), true,
		"CommittedEvent")
	text := func(contentType, description string, schema *huma.Schema) map[string]*huma.Response {
		return map[string]*huma.Response{"200": {Description: description,
			Content: map[string]*huma.MediaType{contentType: {Schema: schema}}}}
	}
	doc.AddOperation(&huma.Operation{OperationID: "metrics", Method: http.MethodGet, Path: "/metrics",
		Tags: []string{"node"}, Summary: "Prometheus metrics",
		Description: "The node's metrics in the Prometheus text format.",
		Responses:   text("text/plain", "Prometheus exposition text.", &huma.Schema{Type: "string"})})
	doc.AddOperation(&huma.Operation{OperationID: "events", Method: http.MethodGet, Path: eventsPath,
		Tags: []string{"events"}, Summary: "Committed events (SSE)",
		Description: "Server-Sent Events: one message per committed ledger event, `event:` its kind " +
			"and `data:` the CommittedEvent JSON. The stream opens with a \": subscribed\" comment " +
			"(nothing committed after it is missed) and sends a heartbeat comment every 15 s. A " +
			"client 64 blocks behind gets an \"error\" event (SubscriberTooSlow) and the stream ends.",
		Responses: text("text/event-stream", "A stream of committed events.", event)})
	doc.AddOperation(&huma.Operation{OperationID: "risk-report-html", Method: http.MethodGet,
		Path: "/v1/risk/report.html", Tags: []string{"risk"}, Summary: "Risk report (HTML)",
		Description: "The latest risk report as one self-contained HTML page with charts (no scripts, " +
			"nothing loaded from elsewhere); 503 RiskReportPending until the first is ready.",
		Responses: text("text/html", "The page.", &huma.Schema{Type: "string"})})
	doc.AddOperation(&huma.Operation{OperationID: "openapi", Method: http.MethodGet,
		Path: "/openapi.json", Tags: []string{"node"}, Summary: "OpenAPI document",
		Description: "This API's OpenAPI 3.1 document.",
		Responses:   text("application/openapi+json", "The document.", &huma.Schema{Type: "object"})})
	doc.AddOperation(&huma.Operation{OperationID: "docs", Method: http.MethodGet, Path: "/docs",
		Tags: []string{"node"}, Summary: "Documentation",
		Description: "This document as a self-contained HTML page.",
		Responses:   text("text/html", "The page.", &huma.Schema{Type: "string"})})
}
