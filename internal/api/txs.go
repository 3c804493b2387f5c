package api

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/tx"
)

// submitTimeoutDefault is how long ?wait=true waits without ?timeout=.
const submitTimeoutDefault = 10 * time.Second

type submitInput struct {
	Wait    bool   `query:"wait" doc:"Wait until the transactions are committed (or the timeout passes) and return their results."`
	Timeout string `query:"timeout" doc:"How long ?wait=true waits, a Go duration (default 10s, at most the node's request timeout)." example:"10s"`
	RawBody []byte
	Body    SubmitRequest
}

// submit admits one transaction or a batch. One transaction refused at
// intake is an error response with the ledger's name; a batch answers 200
// with each transaction's own status, so that one bad transaction does not
// hide what happened to the others.
func (s *server) submit(ctx context.Context, in *submitInput) (*out[SubmitResponse], error) {
	fields, lerr := bodyKeys(in.RawBody, "tx", "txs")
	if lerr != nil {
		return nil, lerr
	}
	wait, lerr := s.waitFor(in.Wait, in.Timeout)
	if lerr != nil {
		return nil, lerr
	}
	switch {
	case fields["tx"] == fields["txs"]:
		return nil, apiError(NameInvalidBody, "send exactly one of \"tx\" (one transaction) and "+
			"\"txs\" (a batch)")
	case fields["txs"] && len(in.Body.Txs) == 0:
		return nil, apiError(NameEmptyBatch, "the batch is empty; put at least one transaction in txs")
	case len(in.Body.Txs) > batchTxsMax:
		return nil, apiError(NameBatchTooLarge, "a batch holds at most %d transactions; split it",
			batchTxsMax)
	}
	if err := s.node.Halted(); err != nil {
		return nil, apiError(NameNodeHalted, "the node stopped producing blocks (%v); it accepts no "+
			"transactions until an operator restarts it", err)
	}
	var results []SubmitResult
	if fields["tx"] {
		r, rerr := s.submitOne(in.Body.Tx)
		if rerr != nil {
			return nil, rerr
		}
		results = []SubmitResult{r}
	} else {
		for _, t := range in.Body.Txs {
			r, rerr := s.submitOne(t)
			if rerr != nil {
				r.Status, r.Error, r.Message = "rejected", rerr.Name, rerr.Message
			}
			results = append(results, r)
		}
	}
	if wait > 0 {
		s.await(ctx, wait, results)
	}
	return &out[SubmitResponse]{Body: SubmitResponse{Results: results}}, nil
}

// waitFor returns how long to wait for commitment: 0 without ?wait=true,
// else ?timeout= (default 10 s) capped at RequestTimeout.
func (s *server) waitFor(wait bool, timeout string) (time.Duration, *Error) {
	d := submitTimeoutDefault
	if timeout != "" {
		var err error
		d, err = time.ParseDuration(timeout)
		if err != nil || d <= 0 {
			return 0, apiError(NameInvalidParameter, "query.timeout: %q is not a positive duration; "+
				"write it like 10s or 1500ms", truncate(timeout))
		}
	}
	if !wait {
		return 0, nil
	}
	return min(d, s.opts.RequestTimeout), nil
}

// await fills in the results of pending transactions as they commit,
// until wait passes or the client goes away; what has not committed by
// then stays pending.
func (s *server) await(ctx context.Context, wait time.Duration, results []SubmitResult) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for i := range results {
		r := &results[i]
		if r.Status != "pending" {
			continue
		}
		h, _ := parseHash32(r.Hash)
		res, err := s.node.Wait(ctx, h)
		if err != nil {
			r.Message = fmt.Sprintf("not committed within %s; poll GET /v1/txs/%s", wait, r.Hash)
			continue
		}
		r.Status, r.Error, r.Message, r.Result = "committed", res.Error, res.Hint, &res
	}
}

// submitOne decodes one hex transaction and hands it to the node.
func (s *server) submitOne(text string) (SubmitResult, *Error) {
	raw, rerr := decodeTxHex(text)
	if rerr != nil {
		return SubmitResult{}, rerr
	}
	hash := app.TxHash(raw)
	r := SubmitResult{Hash: hexBytes(hash[:])}
	if _, lerr := s.node.Submit(raw); lerr != nil {
		e := fromLedger(lerr)
		if lerr == ledger.ErrNonceTooLow || lerr == ledger.ErrNonceTooHigh {
			e.Message += s.nonceDetail(raw)
		}
		return r, e
	}
	r.Status = "pending"
	return r, nil
}

// nonceDetail says which nonce the sender used and which it needs, for a
// transaction refused for its nonce (the ledger's hint cannot know them).
func (s *server) nonceDetail(raw []byte) string {
	st, err := tx.Decode(raw)
	if err != nil {
		return ""
	}
	h, err := st.Tx.SigningHash()
	if err != nil {
		return ""
	}
	signer, err := keys.Recover(h, st.Sig)
	if err != nil {
		return ""
	}
	sender := ledger.Address(signer)
	return fmt.Sprintf(" (%s signed nonce %d; its next nonce is %d)", sender, st.Tx.Nonce,
		s.node.NextNonce(sender))
}

// decodeTxHex reads a 0x-hex transaction, refusing an oversized one before
// decoding it.
func decodeTxHex(text string) ([]byte, *Error) {
	digits, ok := strings.CutPrefix(text, "0x")
	if !ok {
		digits, ok = strings.CutPrefix(text, "0X")
	}
	switch {
	case !ok || digits == "":
		return nil, malformed("a transaction is 0x followed by its signed encoding in hex")
	case len(digits) > 2*tx.MaxTxBytes:
		return nil, fromLedger(ledger.ErrTxTooLarge)
	case len(digits)%2 != 0:
		return nil, malformed("the hex has an odd number of digits")
	}
	raw, err := hex.DecodeString(digits)
	if err != nil {
		return nil, malformed("the transaction is not hex")
	}
	return raw, nil
}

// malformed is the ledger's TxMalformed with what is wrong in front of its
// hint.
func malformed(what string) *Error {
	e := fromLedger(ledger.ErrTxMalformed)
	e.Message = what + "; " + e.Message
	return e
}

func hexBytes(b []byte) string { return "0x" + hex.EncodeToString(b) }

type hashInput struct {
	Hash string `path:"hash" doc:"The transaction id, 0x and 64 hex digits."`
}

// getTx returns a committed transaction's result, or that it is pending.
// The mempool is asked before the store: the node keeps a transaction in
// its mempool index until the block holding it has committed, so in this
// order a transaction on its way into a block is always seen in one place
// or the other.
func (s *server) getTx(_ context.Context, in *hashInput) (*out[TxStatus], error) {
	h, perr := parseTxHash(in.Hash)
	if perr != nil {
		return nil, perr
	}
	pending := s.node.Pending(h)
	r, ok, err := s.node.TxResult(h)
	switch {
	case err != nil:
		return nil, internalError(err)
	case ok:
		return &out[TxStatus]{Body: TxStatus{Status: "committed", TxResult: &r}}, nil
	case pending:
		return &out[TxStatus]{Body: TxStatus{Status: "pending"}}, nil
	}
	return nil, apiError(NameTxNotFound, "no transaction %s is pending or committed; if it was "+
		"refused at intake, fix it and submit it again", in.Hash)
}

type addressInput struct {
	Address string `path:"address" doc:"An address, 0x and 40 hex digits."`
}

// nonce returns the nonce to sign an account's next transaction with.
func (s *server) nonce(_ context.Context, in *addressInput) (*out[Nonce], error) {
	a, perr := parseAddress("address", in.Address)
	if perr != nil {
		return nil, perr
	}
	return &out[Nonce]{Body: Nonce{Address: a.String(), Nonce: s.node.NextNonce(a)}}, nil
}

type heightInput struct {
	Height string `path:"height" doc:"A block height, decimal."`
}

// latestBlock returns the last committed block.
func (s *server) latestBlock(context.Context, *struct{}) (*out[BlockResponse], error) {
	var h uint64
	s.read(func(a *app.App) { h = a.Height() })
	return s.block(h)
}

// getBlock returns a committed block by height.
func (s *server) getBlock(_ context.Context, in *heightInput) (*out[BlockResponse], error) {
	h, perr := parseHeight(in.Height)
	if perr != nil {
		return nil, perr
	}
	return s.block(h)
}

func (s *server) block(h uint64) (*out[BlockResponse], error) {
	b, ok, err := s.node.Store().Block(h)
	if err != nil {
		return nil, internalError(err)
	}
	res, rok, err := s.node.Store().Results(h)
	if err != nil {
		return nil, internalError(err)
	}
	if !ok || !rok {
		var latest uint64
		s.read(func(a *app.App) { latest = a.Height() })
		return nil, apiError(NameBlockNotFound, "no block %d; the latest is %d", h, latest)
	}
	body := BlockResponse{Height: b.Height, Time: b.Time, AppHash: res.AppHash,
		Txs: make([]string, len(b.Txs)), Results: res}
	for i, raw := range b.Txs {
		th := app.TxHash(raw)
		body.Txs[i] = hexBytes(th[:])
	}
	return &out[BlockResponse]{Body: body}, nil
}
