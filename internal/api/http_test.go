package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restake/restake/internal/ledger"
)

// sseMessage is one Server-Sent Events message, or a comment.
type sseMessage struct {
	comment, event, data string
}

// readSSE reads the next message or comment from a stream.
func readSSE(t *testing.T, r *bufio.Reader) sseMessage {
	t.Helper()
	var m sseMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			return m
		case strings.HasPrefix(line, ":"):
			m.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			m.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			m.data = line[len("data: "):]
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
}

func TestEvents(t *testing.T) {
	c := newChain(t, Options{HeartbeatInterval: 5 * time.Millisecond})
	// A generous bound on the whole exchange; nothing is timed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.srv.URL+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	if m := readSSE(t, r); m.comment != "subscribed" {
		t.Fatalf("first message %+v, want the subscribed comment", m)
	}
	hashes := c.submit(
		c.sign("admin", ledger.AddStrategy{Strategy: "stETH", Token: "stETH"}),
		c.sign("admin", ledger.Mint{Account: c.addr("staker"), Token: "stETH", Amount: e18(5)}),
	)
	c.block()
	want := map[string]string{"StrategyAdded": hashes[0], "Minted": hashes[1]}
	heartbeats := 0
	for len(want) > 0 || heartbeats == 0 {
		m := readSSE(t, r)
		if m.comment == "heartbeat" {
			heartbeats++
			continue
		}
		var e struct {
			Height uint64 `json:"height"`
			Tx     string `json:"tx"`
			Event  struct {
				Kind    string `json:"kind"`
				Account string `json:"account"`
				Amount  string `json:"amount"`
			} `json:"event"`
		}
		if err := json.Unmarshal([]byte(m.data), &e); err != nil {
			t.Fatalf("message %+v: %v", m, err)
		}
		if e.Event.Kind != m.event || e.Height != 1 || want[m.event] != e.Tx {
			t.Fatalf("message %+v, want one of %v at height 1", m, want)
		}
		if m.event == "Minted" && (e.Event.Account != c.addr("staker").String() || e.Event.Amount != "5000000000000000000") {
			t.Fatalf("minted event %+v", e)
		}
		delete(want, m.event)
	}

	// The client leaves: the handler must return (and unsubscribe), or
	// the server's Close, which waits for handlers, never returns.
	cancel()
	closed := make(chan struct{})
	go func() {
		c.srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the event stream did not end when its client went away")
	}
}

func TestCORS(t *testing.T) {
	const origin = "https://wallet.example"
	preflight := func(c *chain, origin string) (int, http.Header) {
		req, _ := http.NewRequest(http.MethodOptions, c.srv.URL+"/v1/txs", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := c.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	get := func(c *chain, origin string) http.Header {
		req, _ := http.NewRequest(http.MethodGet, c.srv.URL+"/v1/status", nil)
		req.Header.Set("Origin", origin)
		resp, err := c.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/status: %d", resp.StatusCode)
		}
		return resp.Header
	}
	noCORS := func(t *testing.T, h http.Header) {
		t.Helper()
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Fatalf("CORS header %s: %s", k, h.Get(k))
			}
		}
	}

	t.Run("off by default", func(t *testing.T) {
		c := newChain(t, Options{})
		noCORS(t, get(c, origin))
		status, h := preflight(c, origin)
		noCORS(t, h)
		if status != http.StatusMethodNotAllowed {
			t.Fatalf("preflight: %d", status)
		}
	})
	t.Run("on for the configured origins", func(t *testing.T) {
		c := newChain(t, Options{CORSOrigins: []string{origin}})
		if h := get(c, origin); h.Get("Access-Control-Allow-Origin") != origin || h.Get("Vary") != "Origin" {
			t.Fatalf("headers %v", h)
		}
		status, h := preflight(c, origin)
		if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") {
			t.Fatalf("preflight: %d %v", status, h)
		}
		noCORS(t, get(c, "https://evil.example"))
		_, h = preflight(c, "https://evil.example")
		noCORS(t, h)
	})
	t.Run("any origin", func(t *testing.T) {
		c := newChain(t, Options{CORSOrigins: []string{"*"}})
		if h := get(c, "https://anyone.example"); h.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("headers %v", h)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	const limit = 1000
	c := newChain(t, Options{MaxBodyBytes: limit})
	body := func(n int) []byte {
		b := []byte(`{"tx":"0x"}`)
		return append(b, bytes.Repeat([]byte(" "), n-len(b))...) // JSON allows trailing space
	}
	// At the limit the body is read and judged on its content.
	status, data, _ := c.do(http.MethodPost, "/v1/txs", "application/json", body(limit))
	wantError(t, status, data, http.StatusBadRequest, ledger.ErrTxMalformed.Name)
	// One byte over, it is refused unread.
	status, data, _ = c.do(http.MethodPost, "/v1/txs", "application/json", body(limit+1))
	wantError(t, status, data, http.StatusRequestEntityTooLarge, NameBodyTooLarge)
	if !bytes.Contains(data, []byte("1000 bytes")) {
		t.Fatalf("the message does not state the limit: %s", data)
	}
}

func TestNewServer(t *testing.T) {
	c := newChain(t, Options{})
	srv := NewServer("127.0.0.1:0", New(c.node, Options{}))
	if srv.Addr != "127.0.0.1:0" || srv.ReadHeaderTimeout != 5*time.Second || srv.ReadTimeout != 30*time.Second ||
		srv.WriteTimeout != 0 || srv.IdleTimeout != 120*time.Second || srv.MaxHeaderBytes != 64<<10 {
		t.Fatalf("server %+v", srv)
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Fatalf("Serve: %v", err)
	}
}

func TestDocs(t *testing.T) {
	c := newChain(t, Options{Version: "v9.9.9"})
	status, spec, hdr := c.do(http.MethodGet, "/openapi.json", "", nil)
	if status != http.StatusOK || !strings.Contains(hdr.Get("Content-Type"), "json") {
		t.Fatalf("openapi.json: %d %s", status, hdr.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Version string `json:"version"`
		} `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Version != "v9.9.9" {
		t.Fatalf("openapi %q version %q", doc.OpenAPI, doc.Info.Version)
	}
	for _, p := range []string{"/healthz", "/metrics", "/v1/status", "/v1/txs", "/v1/txs/{hash}",
		"/v1/blocks/latest", "/v1/blocks/{height}", "/v1/nonce/{address}", "/v1/accounts",
		"/v1/accounts/{address}", "/v1/operators", "/v1/operators/{address}", "/v1/avss",
		"/v1/avss/{address}", "/v1/avss/{address}/sets/{set}", "/v1/strategies", "/v1/tokens", "/v1/prices",
		"/v1/withdrawals/{id}", "/v1/rewards/submissions", "/v1/rewards/claimable/{address}",
		"/v1/rewards/root", "/v1/rewards/proof/{address}", "/v1/slashes", "/v1/state/{key}", "/v1/events"} {
		if doc.Paths[p] == nil {
			t.Errorf("the document lacks %s", p)
		}
	}
	for _, s := range []string{"Error", "Account", "StateRecord", "Proof", "Event", "SubmitRequest"} {
		if doc.Components.Schemas[s] == nil {
			t.Errorf("the document lacks schema %s", s)
		}
	}
	// The error responses use the one error shape.
	if !bytes.Contains(doc.Paths["/v1/txs"]["post"], []byte(`"#/components/schemas/Error"`)) {
		t.Errorf("POST /v1/txs does not document its errors: %s", doc.Paths["/v1/txs"]["post"])
	}

	status, page, hdr := c.do(http.MethodGet, "/docs", "", nil)
	if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("docs: %d %s", status, hdr.Get("Content-Type"))
	}
	html := string(page)
	for _, banned := range []string{"<script", "<link", "src=", "@import", "url(", "http://", "https://"} {
		if strings.Contains(html, banned) {
			t.Errorf("the docs page is not self-contained: it contains %q", banned)
		}
	}
	for p := range doc.Paths {
		if !strings.Contains(html, ">"+p+"<") {
			t.Errorf("the docs page lacks %s", p)
		}
	}
	for _, s := range []string{"NonceTooLow", "BodyTooLarge", "SubmitRequest", "StateRecord", "v9.9.9"} {
		if !strings.Contains(html, s) {
			t.Errorf("the docs page lacks %s", s)
		}
	}
}

// TestErrorNames keeps the API's names apart from the ledger's, so that a
// client can tell a request problem from a ledger rejection by name.
func TestErrorNames(t *testing.T) {
	for name, status := range ErrorNames {
		if ledger.ErrorByName(name) != nil {
			t.Errorf("%s is also a ledger error name", name)
		}
		if status < 400 || status > 599 {
			t.Errorf("%s has status %d", name, status)
		}
	}
}

func TestHalted(t *testing.T) {
	c := newChain(t, Options{})
	h := c.submit(c.sign("admin", ledger.AddStrategy{Strategy: "stETH", Token: "stETH"}))
	c.store.fail.Store(true)
	if err := c.node.ProduceBlock(); err == nil {
		t.Fatal("the block committed to a failing store")
	}
	status, body, _ := c.do(http.MethodGet, "/healthz", "", nil)
	var health Health
	if err := json.Unmarshal(body, &health); err != nil || status != http.StatusServiceUnavailable ||
		health.Status != "halted" || !strings.Contains(health.Error, "the disk is gone") {
		t.Fatalf("healthz: %d %s", status, body)
	}
	raw := hexTx(c.sign("admin", ledger.Mint{Account: c.addr("staker"), Token: "stETH", Amount: e18(1)}))
	status, body, _ = c.do(http.MethodPost, "/v1/txs", "application/json", jsonBody(map[string]string{"tx": raw}))
	wantError(t, status, body, http.StatusServiceUnavailable, NameNodeHalted)
	var st Status
	c.getJSON("/v1/status", &st)
	if st.Halted == "" || st.Height != 0 {
		t.Fatalf("status %+v", st)
	}
	// The transaction of the failed block is not committed.
	var tx struct {
		Status string `json:"status"`
	}
	status, body, _ = c.do(http.MethodGet, "/v1/txs/"+h[0], "", nil)
	if status == http.StatusNotFound {
		wantError(t, status, body, http.StatusNotFound, NameTxNotFound)
		return
	}
	if err := json.Unmarshal(body, &tx); err != nil || tx.Status == "committed" {
		t.Fatalf("the failed block's transaction: %d %s", status, body)
	}
}

// TestPendingAndWaitTimeout covers a transaction between intake and its
// block: pending, counted in the sender's next nonce, and returned as
// pending by ?wait=true when no block comes within the timeout.
func TestPendingAndWaitTimeout(t *testing.T) {
	c := newChain(t, Options{})
	raw := c.sign("admin", ledger.AddStrategy{Strategy: "stETH", Token: "stETH"})
	status, data, _ := c.do(http.MethodPost, "/v1/txs?wait=true&timeout=1ms", "application/json",
		jsonBody(map[string]string{"tx": hexTx(raw)}))
	var resp struct{ Results []submitJSON }
	if err := json.Unmarshal(data, &resp); err != nil || status != http.StatusOK || len(resp.Results) != 1 ||
		resp.Results[0].Status != "pending" || !strings.Contains(resp.Results[0].Message, "poll") {
		t.Fatalf("%d %s", status, data)
	}
	hash := resp.Results[0].Hash
	status, data, _ = c.do(http.MethodGet, "/v1/txs/"+hash, "", nil)
	if status != http.StatusOK || string(bytes.TrimSpace(data)) != `{"status":"pending"}` {
		t.Fatalf("pending tx: %d %s", status, data)
	}
	var n Nonce
	c.getJSON("/v1/nonce/"+c.addr("admin").String(), &n)
	var st Status
	c.getJSON("/v1/status", &st)
	if n.Nonce != 1 || st.Mempool != 1 {
		t.Fatalf("nonce %d mempool %d, want 1 and 1", n.Nonce, st.Mempool)
	}
	// The same bytes again while pending: already known.
	status, data, _ = c.do(http.MethodPost, "/v1/txs", "application/json", jsonBody(map[string]string{"tx": hexTx(raw)}))
	wantError(t, status, data, http.StatusConflict, ledger.ErrTxAlreadyKnown.Name)
	c.block()
	c.committed(hash, "")
}

// TestConcurrentReads reads every kind of view while blocks commit; run
// with -race it checks that the API's reads do not race with block
// execution or with each other.
func TestConcurrentReads(t *testing.T) {
	c := newChain(t, Options{})
	f := setup(c)
	paths := []string{"/v1/accounts", "/v1/operators", "/v1/avss", "/v1/strategies", "/v1/tokens",
		"/v1/prices", "/v1/slashes", "/v1/rewards/submissions", "/v1/rewards/root", "/v1/status",
		"/v1/accounts/" + c.addr("staker").String() + "?prove=true",
		"/v1/operators/" + c.addr("operator").String() + "?prove=true",
		"/v1/withdrawals/" + f.withdrawal + "?prove=true", "/v1/blocks/latest", "/openapi.json", "/healthz"}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 5; round++ {
				for _, p := range paths {
					resp, err := c.srv.Client().Get(c.srv.URL + p)
					if err != nil {
						errs <- err.Error()
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						errs <- p + ": " + resp.Status
					}
				}
			}
		}()
	}
	for i := 0; i < 5; i++ {
		if err := c.node.ProduceBlock(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
