package ledger

// dirtySet remembers which records changed since the last Changes call, so
// that a node commits (and re-hashes) only those. Operations mark what they
// mutate, in their mutation phase; a test compares the incremental records
// with a full export after random operation sequences, which catches a
// forgotten mark.
type dirtySet struct {
	all           bool // everything: a fresh or imported ledger
	accounts      map[*account]struct{}
	operators     map[*account]struct{} // operator headers
	opStrategies  map[*opStrategy]struct{}
	allocations   map[allocRef]struct{}
	registrations map[regRef]struct{}
	tokens        map[*token]struct{}
	strategies    map[*strategy]struct{}
	prices        map[string]struct{}
	avss          map[Address]struct{}
	sets          map[OperatorSet]struct{}
	withdrawals   map[WithdrawalID]struct{}
	slashes       map[slashKey]struct{}
	submissions   map[uint64]struct{}
	approvals     map[approvalKey]struct{}
}

type allocRef struct {
	op  *account
	key allocKey
}

type regRef struct {
	op  *account
	set OperatorSet
}

// reset forgets every mark but keeps the maps' memory: the next block
// marks about as much again, and regrowing maps every block costs more
// than the marks themselves.
func (d *dirtySet) reset() {
	d.all = false
	reuse(&d.accounts)
	reuse(&d.operators)
	reuse(&d.opStrategies)
	reuse(&d.allocations)
	reuse(&d.registrations)
	reuse(&d.tokens)
	reuse(&d.strategies)
	reuse(&d.prices)
	reuse(&d.avss)
	reuse(&d.sets)
	reuse(&d.withdrawals)
	reuse(&d.slashes)
	reuse(&d.submissions)
	reuse(&d.approvals)
}

// reuse empties a map for the next block, dropping it instead when an
// unusual block (a genesis, a migration) made it large: clearing walks its
// whole capacity every block.
func reuse[K comparable](m *map[K]struct{}) {
	if len(*m) > 1<<16 {
		*m = nil
		return
	}
	clear(*m)
}

func mark[K comparable](m *map[K]struct{}, k K) {
	if *m == nil {
		*m = map[K]struct{}{}
	}
	(*m)[k] = struct{}{}
}

func (d *dirtySet) account(a *account)                 { mark(&d.accounts, a) }
func (d *dirtySet) operator(a *account)                { mark(&d.operators, a) }
func (d *dirtySet) opStrategy(os *opStrategy)          { mark(&d.opStrategies, os) }
func (d *dirtySet) allocation(op *account, k allocKey) { mark(&d.allocations, allocRef{op, k}) }
func (d *dirtySet) registration(op *account, s OperatorSet) {
	mark(&d.registrations, regRef{op, s})
}
func (d *dirtySet) token(t *token)             { mark(&d.tokens, t) }
func (d *dirtySet) strategy(s *strategy)       { mark(&d.strategies, s) }
func (d *dirtySet) price(name string)          { mark(&d.prices, name) }
func (d *dirtySet) avs(a Address)              { mark(&d.avss, a) }
func (d *dirtySet) set(s OperatorSet)          { mark(&d.sets, s) }
func (d *dirtySet) withdrawal(id WithdrawalID) { mark(&d.withdrawals, id) }
func (d *dirtySet) slash(k slashKey)           { mark(&d.slashes, k) }
func (d *dirtySet) submission(id uint64)       { mark(&d.submissions, id) }
func (d *dirtySet) approval(k approvalKey)     { mark(&d.approvals, k) }

// opAccount marks an operator's opStrategy and its account's operator data.
func (d *dirtySet) opStrategyOf(op *operator, name string) {
	if os := op.strategies[name]; os != nil {
		d.opStrategy(os)
	}
}
