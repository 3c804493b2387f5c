package ledger

import (
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/wad"
)

// authorizeAdmin checks that sender may run an admin operation.
func (l *Ledger) authorizeAdmin(sender Address) *Error {
	if l.open || l.admins[sender] {
		return nil
	}
	return ErrCallerNotAdmin
}

// addStrategy whitelists a strategy over a token (StrategyFactory +
// addStrategiesToDepositWhitelist). Admin only.
func (l *Ledger) addStrategy(sender Address, op AddStrategy) *Error {
	if err := l.authorizeAdmin(sender); err != nil {
		return err
	}
	if !ValidName(op.Strategy) || !ValidName(op.Token) {
		return ErrInvalidName
	}
	if op.Strategy == BeaconStrategy {
		return ErrInvalidStrategy
	}
	if l.strategies[op.Strategy] != nil {
		return ErrStrategyAlreadyWhitelisted
	}
	if len(l.strategies) >= StrategiesMax {
		return ErrTooManyStrategies
	}
	// After this point the operation must succeed.
	s := &strategy{name: op.Strategy, token: l.tokenOrNew(op.Token)}
	l.strategies[op.Strategy] = s
	l.dirty.strategy(s)
	l.dirty.token(s.token)
	l.emit(Event{Kind: EvStrategyAdded, Strategy: op.Strategy, Token: op.Token})
	return nil
}

// mint credits new tokens to an account: test tokens in scenario mode, a
// faucet for admins on a devnet.
func (l *Ledger) mint(sender Address, op Mint) *Error {
	if !l.open && !l.admins[sender] {
		return ErrMintDisabled
	}
	if !ValidName(op.Token) {
		return ErrInvalidName
	}
	var supply uint256.Int
	if t := l.tokens[op.Token]; t != nil {
		supply = t.supply
	}
	if _, ok := wad.Add(supply, op.Amount); !ok {
		return ErrArithmeticOverflow
	}
	// After this point the operation must succeed.
	t := l.tokenOrNew(op.Token)
	t.supply.Add(&t.supply, &op.Amount)
	acct := l.accountOrNew(op.Account)
	acct.credit(t, op.Amount)
	l.dirty.token(t)
	l.dirty.account(acct)
	l.emit(Event{Kind: EvMinted, Account: op.Account, Token: op.Token, Amount: op.Amount})
	return nil
}

// rebase adds yield to a strategy's balance without minting shares, which
// raises the value of every share. Admin only (an oracle of the yield).
func (l *Ledger) rebase(sender Address, op Rebase) *Error {
	if err := l.authorizeAdmin(sender); err != nil {
		return err
	}
	if op.Strategy == BeaconStrategy {
		return ErrInvalidStrategy
	}
	s := l.strategies[op.Strategy]
	if s == nil {
		return ErrStrategyNotWhitelisted
	}
	if _, ok := wad.Add(s.token.supply, op.Amount); !ok {
		return ErrArithmeticOverflow
	}
	// After this point the operation must succeed.
	s.token.supply.Add(&s.token.supply, &op.Amount)
	s.balance.Add(&s.balance, &op.Amount)
	l.dirty.token(s.token)
	l.dirty.strategy(s)
	l.emit(Event{Kind: EvRebased, Strategy: s.name, Amount: op.Amount})
	return nil
}
