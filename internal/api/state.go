package api

import (
	"context"
	"net/http"
	"time"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
)

type healthOut struct {
	Status int
	Body   Health
}

// healthz answers 200 while the node produces blocks and 503 once it has
// halted, so that a load balancer or supervisor can act on the status
// alone.
func (s *server) healthz(context.Context, *struct{}) (*healthOut, error) {
	var h uint64
	s.read(func(a *app.App) { h = a.Height() })
	if err := s.node.Halted(); err != nil {
		return &healthOut{Status: http.StatusServiceUnavailable,
			Body: Health{Status: "halted", Height: h, Error: err.Error()}}, nil
	}
	return &healthOut{Status: http.StatusOK, Body: Health{Status: "ok", Height: h}}, nil
}

// status reports the chain's head.
func (s *server) status(context.Context, *struct{}) (*out[Status], error) {
	st := Status{ChainID: s.node.ChainID(), Version: s.opts.Version, Mempool: s.node.MempoolSize()}
	s.read(func(a *app.App) {
		h := a.AppHash()
		st.Height, st.Time, st.AppHash = a.Height(), a.Time(), hexBytes(h[:])
		st.Accounts = a.Ledger().AccountCount()
	})
	if err := s.node.Halted(); err != nil {
		st.Halted = err.Error()
	}
	return &out[Status]{Body: st}, nil
}

// record reads one state record, and its proof when prove is set. The
// caller holds the node's read lock, so the value, the proof and the app
// hash all belong to the committed height, and the tree's hashes are up to
// date (the app computes the root before it commits), which keeps Prove
// from writing.
func record(a *app.App, key []byte, prove bool) (*StateRecord, error) {
	root := a.AppHash()
	rec := &StateRecord{Key: hexBytes(key), Height: a.Height(), AppHash: hexBytes(root[:])}
	if v, ok := a.Tree().Get(key); ok {
		s := hexBytes(v)
		rec.Value = &s
	}
	if prove {
		p, err := a.Tree().Prove(key)
		if err != nil {
			return nil, err
		}
		rec.Proof = &p
	}
	return rec, nil
}

// proofIf is record for entity endpoints: nil without ?prove=true.
func proofIf(a *app.App, key []byte, prove bool) (*StateRecord, error) {
	if !prove {
		return nil, nil
	}
	return record(a, key, true)
}

// unlocksIn is how many blocks a withdrawal unlocking at unlock still
// waits after height: 0 when the next block can complete it.
func unlocksIn(unlock, height uint64) uint64 {
	if unlock > height+1 {
		return unlock - (height + 1)
	}
	return 0
}

func withdrawalOf(v ledger.QueuedWithdrawalView, height uint64) Withdrawal {
	return Withdrawal{ID: v.ID, Staker: v.Staker, Operator: v.Operator, StartBlock: v.StartBlock,
		UnlockBlock: v.UnlockBlock, UnlocksInBlocks: unlocksIn(v.UnlockBlock, height),
		Strategies: v.Strategies, Shares: v.SharesDec}
}

func accountOf(v ledger.AccountView, height uint64) Account {
	out := Account{Address: v.Address, Nonce: v.Nonce, DelegatedTo: v.DelegatedTo,
		IsOperator: v.IsOperator, Balances: v.Balances, Positions: v.Positions, Pod: v.Pod,
		Withdrawals: make([]Withdrawal, 0, len(v.Withdrawals)), Claimable: v.Claimable,
		Claimed: v.Claimed}
	for _, w := range v.Withdrawals {
		out.Withdrawals = append(out.Withdrawals, withdrawalOf(w, height))
	}
	return out
}

// listInput is the input of every list endpoint.
type listInput struct {
	PageParams
}

// accounts lists addresses with a summary of each.
func (s *server) accounts(_ context.Context, in *listInput) (*out[Page[AccountSummary]], error) {
	var after *ledger.Address
	if in.After != "" {
		a, err := ledger.ParseAddress(in.After)
		if err != nil {
			return nil, apiError(NameInvalidParameter, "query.after: the cursor must be an address (0x "+
				"and 40 hex digits); pass the previous page's next unchanged")
		}
		after = &a
	}
	p := Page[AccountSummary]{Items: []AccountSummary{}}
	s.read(func(a *app.App) {
		l := a.Ledger()
		addrs := l.Accounts(after, in.Limit+1)
		if len(addrs) > in.Limit {
			addrs = addrs[:in.Limit]
			p.Next = addrs[len(addrs)-1].String()
		}
		for _, addr := range addrs {
			v := l.Account(addr)
			p.Items = append(p.Items, AccountSummary{Address: v.Address, Nonce: v.Nonce,
				DelegatedTo: v.DelegatedTo, IsOperator: v.IsOperator, Positions: len(v.Positions),
				QueuedWithdrawals: len(v.Withdrawals)})
		}
	})
	return &out[Page[AccountSummary]]{Body: p}, nil
}

type addressProveInput struct {
	Address string `path:"address" doc:"An address, 0x and 40 hex digits."`
	ProveParam
}

// account returns an account's full view.
func (s *server) account(_ context.Context, in *addressProveInput) (*out[Account], error) {
	addr, perr := parseAddress("address", in.Address)
	if perr != nil {
		return nil, perr
	}
	var body Account
	var found bool
	var err error
	s.read(func(a *app.App) {
		key := accountKey(addr)
		if _, found = a.Tree().Get(key); !found {
			return
		}
		body = accountOf(a.Ledger().Account(addr), a.Height())
		body.Proof, err = proofIf(a, key, in.Prove)
	})
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, apiError(NameAccountNotFound, "no account %s: it has never received tokens or sent "+
			"a transaction (its nonce is at /v1/nonce/%s)", addr, addr)
	}
	return &out[Account]{Body: body}, nil
}

// operators lists operators with their full views.
func (s *server) operators(_ context.Context, in *listInput) (*out[Page[Operator]], error) {
	after, has, perr := parseCursor(in.After, addrCursorKey)
	if perr != nil {
		return nil, perr
	}
	p := Page[Operator]{Items: []Operator{}}
	s.read(func(a *app.App) {
		l := a.Ledger()
		page := paginate(l.OperatorAddresses(), addrSortKey, after, has, in.Limit, addrCursor)
		p.Next = page.Next
		for _, addr := range page.Items {
			v, _ := l.Operator(addr)
			p.Items = append(p.Items, Operator{OperatorView: v})
		}
	})
	return &out[Page[Operator]]{Body: p}, nil
}

// operator returns one operator.
func (s *server) operator(_ context.Context, in *addressProveInput) (*out[Operator], error) {
	addr, perr := parseAddress("address", in.Address)
	if perr != nil {
		return nil, perr
	}
	var body Operator
	var found bool
	var err error
	s.read(func(a *app.App) {
		if body.OperatorView, found = a.Ledger().Operator(addr); found {
			body.Proof, err = proofIf(a, operatorKey(addr), in.Prove)
		}
	})
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, apiError(NameOperatorNotFound, "%s is not a registered operator; list them at "+
			"/v1/operators", addr)
	}
	return &out[Operator]{Body: body}, nil
}

// avss lists services with their sets.
func (s *server) avss(_ context.Context, in *listInput) (*out[Page[AVS]], error) {
	after, has, perr := parseCursor(in.After, addrCursorKey)
	if perr != nil {
		return nil, perr
	}
	p := Page[AVS]{Items: []AVS{}}
	s.read(func(a *app.App) {
		l := a.Ledger()
		page := paginate(l.AVSAddresses(), addrSortKey, after, has, in.Limit, addrCursor)
		p.Next = page.Next
		for _, addr := range page.Items {
			v, _ := l.AVS(addr)
			p.Items = append(p.Items, AVS{AVSView: v})
		}
	})
	return &out[Page[AVS]]{Body: p}, nil
}

// avs returns one service.
func (s *server) avs(_ context.Context, in *addressProveInput) (*out[AVS], error) {
	addr, perr := parseAddress("address", in.Address)
	if perr != nil {
		return nil, perr
	}
	var body AVS
	var found bool
	var err error
	s.read(func(a *app.App) {
		if body.AVSView, found = a.Ledger().AVS(addr); found {
			body.Proof, err = proofIf(a, avsKey(addr), in.Prove)
		}
	})
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, apiError(NameAVSNotFound, "%s is not a registered AVS; list them at /v1/avss", addr)
	}
	return &out[AVS]{Body: body}, nil
}

type setInput struct {
	Address string `path:"address" doc:"The AVS address, 0x and 40 hex digits."`
	Set     string `path:"set" doc:"The operator set id, decimal (0 to 4294967295)."`
	ProveParam
}

// set returns one operator set.
func (s *server) set(_ context.Context, in *setInput) (*out[Set], error) {
	addr, perr := parseAddress("address", in.Address)
	if perr != nil {
		return nil, perr
	}
	id, perr := parseSetID(in.Set)
	if perr != nil {
		return nil, perr
	}
	key := ledger.OperatorSet{AVS: addr, ID: id}
	var body Set
	var found bool
	var err error
	s.read(func(a *app.App) {
		if body.SetView, found = a.Ledger().Set(key); found {
			body.Proof, err = proofIf(a, setKey(key), in.Prove)
		}
	})
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, apiError(NameSetNotFound, "%s has no operator set %d; its sets are listed at "+
			"/v1/avss/%s", addr, id, addr)
	}
	return &out[Set]{Body: body}, nil
}

// strategies lists the whitelisted strategies, native ETH first.
func (s *server) strategies(_ context.Context, in *listInput) (*out[Page[Strategy]], error) {
	after, has, perr := parseCursor(in.After, strategyCursorKey)
	if perr != nil {
		return nil, perr
	}
	var p Page[Strategy]
	s.read(func(a *app.App) {
		views := a.Ledger().Strategies()
		list := make([]Strategy, len(views))
		for i, v := range views {
			list[i] = Strategy{StrategyView: v}
		}
		p = paginate(list, func(v Strategy) string { return strategySortKey(v.Name) }, after, has,
			in.Limit, func(v Strategy) string { return v.Name })
	})
	return &out[Page[Strategy]]{Body: p}, nil
}

type nameProveInput struct {
	Name string `path:"name" doc:"A strategy or token name (1-32 letters, digits, '.', '-', '_')."`
	ProveParam
}

// strategy returns one strategy.
func (s *server) strategy(_ context.Context, in *nameProveInput) (*out[Strategy], error) {
	name, perr := parseName(in.Name)
	if perr != nil {
		return nil, perr
	}
	var body Strategy
	var found bool
	var err error
	s.read(func(a *app.App) {
		for _, v := range a.Ledger().Strategies() {
			if v.Name == name {
				body.StrategyView, found = v, true
				body.Proof, err = proofIf(a, strategyKey(name), in.Prove)
				return
			}
		}
	})
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, apiError(NameStrategyNotFound, "no strategy %q is whitelisted; list them at "+
			"/v1/strategies", name)
	}
	return &out[Strategy]{Body: body}, nil
}

// tokens lists the tokens with their supply.
func (s *server) tokens(_ context.Context, in *listInput) (*out[Page[Token]], error) {
	after, has, perr := parseCursor(in.After, nameCursorKey)
	if perr != nil {
		return nil, perr
	}
	var p Page[Token]
	s.read(func(a *app.App) {
		views := a.Ledger().Tokens()
		list := make([]Token, len(views))
		for i, v := range views {
			list[i] = Token{TokenView: v}
		}
		p = paginate(list, func(v Token) string { return nameSortKey(v.Name) }, after, has, in.Limit,
			func(v Token) string { return v.Name })
	})
	return &out[Page[Token]]{Body: p}, nil
}

// token returns one token.
func (s *server) token(_ context.Context, in *nameProveInput) (*out[Token], error) {
	name, perr := parseName(in.Name)
	if perr != nil {
		return nil, perr
	}
	var body Token
	var found bool
	var err error
	s.read(func(a *app.App) {
		for _, v := range a.Ledger().Tokens() {
			if v.Name == name {
				body.TokenView, found = v, true
				body.Proof, err = proofIf(a, tokenKey(name), in.Prove)
				return
			}
		}
	})
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, apiError(NameTokenNotFound, "no token %q exists; list them at /v1/tokens", name)
	}
	return &out[Token]{Body: body}, nil
}

// priceOf renders a price, stale when observed more than the staleness
// window before the last block's time.
func (s *server) priceOf(token string, p ledger.Price, blockTime uint64) Price {
	window := uint64(s.opts.PriceStaleAfter / time.Second)
	return Price{Token: token, PriceUSD: p.USD.Dec(), Timestamp: p.Timestamp, Oracle: p.Oracle,
		Stale: p.Timestamp+window < blockTime}
}

// prices lists the last reported prices.
func (s *server) prices(_ context.Context, in *listInput) (*out[Page[Price]], error) {
	after, has, perr := parseCursor(in.After, nameCursorKey)
	if perr != nil {
		return nil, perr
	}
	var p Page[Price]
	s.read(func(a *app.App) {
		names, prices := a.Ledger().Prices()
		list := make([]Price, len(names))
		for i := range names {
			list[i] = s.priceOf(names[i], prices[i], a.Time())
		}
		p = paginate(list, func(v Price) string { return nameSortKey(v.Token) }, after, has, in.Limit,
			func(v Price) string { return v.Token })
	})
	return &out[Page[Price]]{Body: p}, nil
}

type priceInput struct {
	Token string `path:"token" doc:"A token name."`
	ProveParam
}

// price returns one token's price.
func (s *server) price(_ context.Context, in *priceInput) (*out[Price], error) {
	name, perr := parseName(in.Token)
	if perr != nil {
		return nil, perr
	}
	var body Price
	var found bool
	var err error
	s.read(func(a *app.App) {
		var p ledger.Price
		if p, found = a.Ledger().PriceOf(name); found {
			body = s.priceOf(name, p, a.Time())
			body.Proof, err = proofIf(a, priceKey(name), in.Prove)
		}
	})
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, apiError(NamePriceNotFound, "no price of %q has been reported; list prices at "+
			"/v1/prices", name)
	}
	return &out[Price]{Body: body}, nil
}

type withdrawalInput struct {
	ID string `path:"id" doc:"The withdrawal id, 0x and 64 hex digits."`
	ProveParam
}

// withdrawal returns a queued withdrawal.
func (s *server) withdrawal(_ context.Context, in *withdrawalInput) (*out[Withdrawal], error) {
	id, perr := parseWithdrawalID(in.ID)
	if perr != nil {
		return nil, perr
	}
	var body Withdrawal
	var found bool
	var err error
	s.read(func(a *app.App) {
		key := withdrawalKey(id)
		if _, found = a.Tree().Get(key); !found {
			return
		}
		body = withdrawalOf(a.Ledger().QueuedWithdrawal(id), a.Height())
		body.Proof, err = proofIf(a, key, in.Prove)
	})
	switch {
	case err != nil:
		return nil, internalError(err)
	case !found:
		return nil, apiError(NameWithdrawalNotFound, "no withdrawal %s is queued: it was never queued "+
			"or is already completed", in.ID)
	}
	return &out[Withdrawal]{Body: body}, nil
}

// slashes lists the slashes waiting for clear_slashed.
func (s *server) slashes(_ context.Context, in *listInput) (
	*out[Page[ledger.HeldSlashView]], error) {
	after, has, perr := parseCursor(in.After, slashCursorKey)
	if perr != nil {
		return nil, perr
	}
	var p Page[ledger.HeldSlashView]
	s.read(func(a *app.App) {
		p = paginate(a.Ledger().HeldSlashes(), slashSortKey, after, has, in.Limit, slashCursor)
	})
	return &out[Page[ledger.HeldSlashView]]{Body: p}, nil
}

type stateInput struct {
	Key string `path:"key" doc:"A raw record key, 0x hex (docs/state-format.md)."`
	ProveParam
}

// state returns any raw record, with a membership or non-membership proof
// when asked.
func (s *server) state(_ context.Context, in *stateInput) (*out[StateRecord], error) {
	key, perr := parseStateKey(in.Key)
	if perr != nil {
		return nil, perr
	}
	var rec *StateRecord
	var err error
	s.read(func(a *app.App) { rec, err = record(a, key, in.Prove) })
	if err != nil {
		return nil, internalError(err)
	}
	return &out[StateRecord]{Body: *rec}, nil
}
