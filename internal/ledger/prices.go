package ledger

import "github.com/holiman/uint256"

// SetPrice reports a token's price in USD (1e18 = one dollar) observed at
// Timestamp (unix seconds). The sender is a price oracle. The risk engine
// values stake with these prices and flags stale ones.
type SetPrice struct {
	Token     string
	PriceUSD  uint256.Int
	Timestamp uint64
}

// OpName implements Op.
func (SetPrice) OpName() string { return "set_price" }

// Price is a token's last reported price.
type Price struct {
	USD       uint256.Int // 1e18 = $1
	Timestamp uint64      // when the oracle observed it
	Oracle    Address     // who reported it
}

// setPrice records a price. A report may not be older than the one it
// replaces, nor later than the block.
func (l *Ledger) setPrice(sender Address, op SetPrice) *Error {
	if !l.open && !l.priceOracles[sender] {
		return ErrCallerNotPriceOracle
	}
	if !ValidName(op.Token) {
		return ErrInvalidName
	}
	if op.Timestamp > l.time {
		return ErrPriceTimestampInFuture
	}
	if p, ok := l.prices[op.Token]; ok && op.Timestamp <= p.Timestamp {
		return ErrStalePrice
	}
	// After this point the operation must succeed.
	l.prices[op.Token] = Price{USD: op.PriceUSD, Timestamp: op.Timestamp, Oracle: sender}
	l.dirty.price(op.Token)
	l.emit(Event{Kind: EvPriceSet, Account: sender, Token: op.Token, Amount: op.PriceUSD, N: op.Timestamp})
	return nil
}

// PriceOf returns a token's last reported price and whether there is one.
func (l *Ledger) PriceOf(token string) (Price, bool) {
	p, ok := l.prices[token]
	return p, ok
}

// Prices returns every reported price, by token name in order.
func (l *Ledger) Prices() (tokens []string, prices []Price) {
	for _, name := range sortedNames(l.prices) {
		tokens = append(tokens, name)
		prices = append(prices, l.prices[name])
	}
	return tokens, prices
}

// TxNonce returns the number of transactions an account has sent: the nonce
// its next transaction must carry.
func (l *Ledger) TxNonce(a Address) uint64 {
	if acct := l.accounts[a]; acct != nil {
		return acct.txNonce
	}
	return 0
}

// BumpTxNonce counts one more transaction from a. The transaction layer
// calls it for every transaction it includes in a block, whether its
// operation succeeds or is rejected, so a nonce is never reused.
func (l *Ledger) BumpTxNonce(a Address) {
	acct := l.accountOrNew(a)
	acct.txNonce++
	l.dirty.account(acct)
}
