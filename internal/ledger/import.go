package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/history"
)

// decoder reads the canonical encoding of export.go. The first error sticks;
// later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return make([]byte, n)
	}
	if n < 0 || len(d.b) < n {
		d.err = errors.New("truncated")
		return make([]byte, max(n, 0))
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) u8() uint8   { return d.take(1)[0] }
func (d *decoder) u32() uint32 { return binary.BigEndian.Uint32(d.take(4)) }
func (d *decoder) u64() uint64 { return binary.BigEndian.Uint64(d.take(8)) }
func (d *decoder) addr() (a Address) {
	copy(a[:], d.take(20))
	return a
}
func (d *decoder) str() string {
	n := d.u32()
	if n > 1<<20 {
		d.err = errors.New("string too long")
		return ""
	}
	return string(d.take(int(n)))
}
func (d *decoder) amount() (v uint256.Int) {
	v.SetBytes32(d.take(32))
	return v
}
func (d *decoder) boolean() bool {
	switch d.u8() {
	case 0:
		return false
	case 1:
		return true
	}
	d.err = errors.New("bad boolean")
	return false
}
func (d *decoder) set() OperatorSet {
	a := d.addr()
	return OperatorSet{AVS: a, ID: d.u32()}
}

// count reads a list length, refusing lengths the remaining bytes cannot
// hold (each element takes at least min bytes).
func (d *decoder) count(min int) int {
	n := int(d.u32())
	if d.err == nil && n*min > len(d.b) {
		d.err = errors.New("list longer than the record")
		return 0
	}
	return n
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	return d.err
}

// importer rebuilds a ledger from records in two passes: entities that
// others point to (tokens, strategies, accounts) first, references after.
type importer struct {
	l         *Ledger
	delegates map[*account]Address
}

// FromRecords rebuilds the ledger that exported recs (Records, or a node's
// store of Changes), with cfg's authorities. Params come from the records.
// It fails on any malformed or inconsistent record, and checks every
// invariant of the result.
func FromRecords(cfg Config, recs []Record) (*Ledger, error) {
	l := New(cfg)
	im := &importer{l: l, delegates: map[*account]Address{}}
	sorted := append([]Record(nil), recs...)
	sortRecords(sorted)
	// Pass 1: the global record, tokens, strategies, accounts.
	for _, r := range sorted {
		var err error
		switch {
		case bytes.Equal(r.Key, globalKey()):
			err = im.global(r.Value)
		case bytes.HasPrefix(r.Key, []byte("t/")):
			err = im.token(string(r.Key[2:]), r.Value)
		case bytes.HasPrefix(r.Key, []byte("a/")) && len(r.Key) == 22:
			err = im.account(r.Key[2:], r.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("record %q: %w", r.Key, err)
		}
	}
	for _, r := range sorted {
		if bytes.HasPrefix(r.Key, []byte("s/")) {
			if err := im.strategy(string(r.Key[2:]), r.Value); err != nil {
				return nil, fmt.Errorf("record %q: %w", r.Key, err)
			}
		}
	}
	// Pass 2: everything that refers to them.
	for _, r := range sorted {
		if err := im.record(r); err != nil {
			return nil, fmt.Errorf("record %q: %w", r.Key, err)
		}
	}
	if err := im.finish(); err != nil {
		return nil, err
	}
	if err := l.CheckInvariants(); err != nil {
		return nil, err
	}
	l.dirty = dirtySet{}
	return l, nil
}

func (im *importer) record(r Record) error {
	k, v := r.Key, r.Value
	switch {
	case len(k) == 1, bytes.HasPrefix(k, []byte("t/")), bytes.HasPrefix(k, []byte("s/")):
		return nil // pass 1
	case bytes.HasPrefix(k, []byte("a/")):
		if len(k) != 22 {
			return errors.New("bad account key")
		}
		return im.accountRefs(k[2:], v)
	case bytes.HasPrefix(k, []byte("p/")):
		return im.price(string(k[2:]), v)
	case bytes.HasPrefix(k, []byte("o/")):
		return im.operatorRecord(k[2:], v)
	case bytes.HasPrefix(k, []byte("v/")) && len(k) == 22:
		return im.avs(k[2:], v)
	case bytes.HasPrefix(k, []byte("e/")) && len(k) == 26:
		return im.set(k[2:], v)
	case bytes.HasPrefix(k, []byte("w/")) && len(k) == 34:
		return im.withdrawal(v)
	case bytes.HasPrefix(k, []byte("x/")) && len(k) == 34:
		return im.slash(k[2:], v)
	case bytes.HasPrefix(k, []byte("r/")) && len(k) == 10:
		return im.submission(binary.BigEndian.Uint64(k[2:]), v)
	case bytes.HasPrefix(k, []byte("d/")) && len(k) == 62:
		var ak approvalKey
		copy(ak.approver[:], k[2:22])
		copy(ak.staker[:], k[22:42])
		copy(ak.operator[:], k[42:62])
		d := decoder{b: v}
		im.l.approvals[ak] = d.u64()
		return d.done()
	}
	return errors.New("unknown record kind")
}

func (im *importer) global(v []byte) error {
	d := decoder{b: v}
	p := &im.l.params
	p.WithdrawalDelayBlocks, p.DeallocationDelayBlocks = d.u64(), d.u64()
	p.AllocationConfigurationDelayBlocks, p.SlasherConfigurationDelayBlocks = d.u64(), d.u64()
	p.ProtocolFeeBips, p.DefaultOperatorSplitBips = d.u32(), d.u32()
	p.CalculationIntervalSeconds, p.MaxRewardsDurationSeconds = d.u64(), d.u64()
	p.MaxRetroactiveLengthSeconds, p.MaxFutureLengthSeconds = d.u64(), d.u64()
	p.GenesisRewardsTimestamp, p.ActivationDelaySeconds = d.u64(), d.u64()
	im.l.height, im.l.time = d.u64(), d.u64()
	im.l.beaconSlashedShares = d.amount()
	im.l.treasury = d.addr()
	im.l.nextSubmission = d.u64()
	return d.done()
}

func (im *importer) token(name string, v []byte) error {
	d := decoder{b: v}
	t := im.l.tokenOrNew(name)
	t.supply, t.rewardsHeld = d.amount(), d.amount()
	return d.done()
}

func (im *importer) tokenRef(name string) (*token, error) {
	t := im.l.tokens[name]
	if t == nil {
		return nil, fmt.Errorf("unknown token %q", name)
	}
	return t, nil
}

func (im *importer) strategy(name string, v []byte) error {
	d := decoder{b: v}
	t, err := im.tokenRef(d.str())
	if err != nil {
		return err
	}
	s := &strategy{name: name, token: t}
	s.totalShares, s.balance = d.amount(), d.amount()
	im.l.strategies[name] = s
	return d.done()
}

func (im *importer) strategyRef(name string) (*strategy, error) {
	if s := im.l.strategyByName(name); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("unknown strategy %q", name)
}

func (im *importer) price(name string, v []byte) error {
	d := decoder{b: v}
	p := Price{USD: d.amount(), Timestamp: d.u64(), Oracle: d.addr()}
	im.l.prices[name] = p
	return d.done()
}

// account creates the account in pass 1 (so delegates resolve in pass 2).
func (im *importer) account(a []byte, _ []byte) error {
	var addr Address
	copy(addr[:], a)
	im.l.accountOrNew(addr)
	return nil
}

func (im *importer) accountRefs(a []byte, v []byte) error {
	var addr Address
	copy(addr[:], a)
	acct := im.l.accounts[addr]
	d := &decoder{b: v}
	n := d.count(36)
	for i := 0; i < n; i++ {
		t, err := im.tokenRef(d.str())
		if err != nil {
			return err
		}
		acct.balances = append(acct.balances, balance{token: t, amount: d.amount()})
	}
	im.delegates[acct] = d.addr()
	acct.nonce, acct.txNonce = d.u64(), d.u64()
	n = d.count(72)
	for i := 0; i < n; i++ {
		s, err := im.strategyRef(d.str())
		if err != nil {
			return err
		}
		p := position{strategy: s, shares: d.amount(), dsf: d.amount()}
		if p.snaps, err = im.snaps(d); err != nil {
			return err
		}
		acct.positions = append(acct.positions, p)
	}
	if d.boolean() {
		p := &pod{shares: d.amount(), dsf: d.amount(), bcsfSet: d.boolean(), bcsf: d.u64(), restakedWei: d.amount()}
		var err error
		if p.snaps, err = im.snaps(d); err != nil {
			return err
		}
		acct.pod = p
	}
	var err error
	if acct.claimables, err = im.tokenAmounts(d); err != nil {
		return err
	}
	if acct.claimed, err = im.tokenAmounts(d); err != nil {
		return err
	}
	n = d.count(37)
	for i := 0; i < n; i++ {
		acct.splits = append(acct.splits, operatorSplit{avs: d.addr(), oldBips: d.u32(), newBips: d.u32(),
			activatedAt: d.u64(), initialized: d.boolean()})
	}
	return d.done()
}

func (im *importer) snaps(d *decoder) ([]rewardSnap, error) {
	n := d.count(36)
	var out []rewardSnap
	for i := 0; i < n; i++ {
		t, err := im.tokenRef(d.str())
		if err != nil {
			return nil, err
		}
		out = append(out, rewardSnap{token: t, j: d.amount()})
	}
	return out, d.err
}

func (im *importer) tokenAmounts(d *decoder) ([]tokenAmount, error) {
	n := d.count(36)
	var out []tokenAmount
	for i := 0; i < n; i++ {
		t, err := im.tokenRef(d.str())
		if err != nil {
			return nil, err
		}
		out = append(out, tokenAmount{token: t, amount: d.amount()})
	}
	return out, d.err
}

// operatorRecord reads "o/<addr>" and its sub-records. The header sorts
// before its sub-records, so the operator exists when they arrive.
func (im *importer) operatorRecord(k []byte, v []byte) error {
	if len(k) < 20 {
		return errors.New("bad operator key")
	}
	var addr Address
	copy(addr[:], k[:20])
	acct := im.l.accounts[addr]
	if acct == nil {
		return errors.New("operator without account")
	}
	rest := k[20:]
	d := &decoder{b: v}
	if len(rest) == 0 {
		acct.operator = &operator{account: acct, approver: d.addr(), metadata: d.str(),
			strategies: map[string]*opStrategy{}, allocations: map[allocKey]*allocation{},
			registrations: map[OperatorSet]*registration{}}
		acct.operator.delay = allocationDelay{delay: d.u32(), isSet: d.boolean(), pending: d.u32(),
			effectBlock: d.u64()}
		return d.done()
	}
	op := acct.operator
	if op == nil {
		return errors.New("operator record before its header")
	}
	switch {
	case bytes.HasPrefix(rest, []byte("/s/")):
		return im.opStrategy(op, string(rest[3:]), d)
	case bytes.HasPrefix(rest, []byte("/a/")) && len(rest) > 27:
		set := OperatorSet{ID: binary.BigEndian.Uint32(rest[23:27])}
		copy(set.AVS[:], rest[3:23])
		al := &allocation{current: d.u64(), pendingDiff: int64(d.u64()), effectBlock: d.u64()}
		op.allocations[allocKey{set, string(rest[27:])}] = al
		return d.done()
	case bytes.HasPrefix(rest, []byte("/r/")) && len(rest) == 27:
		set := OperatorSet{ID: binary.BigEndian.Uint32(rest[23:27])}
		copy(set.AVS[:], rest[3:23])
		op.registrations[set] = &registration{registered: d.boolean(), slashableUntil: d.u64()}
		return d.done()
	}
	return errors.New("unknown operator record")
}

func (im *importer) opStrategy(op *operator, name string, d *decoder) error {
	os := &opStrategy{owner: op.account, name: name, shares: d.amount(), encumbered: d.u64()}
	n := d.count(16)
	for i := 0; i < n; i++ {
		h, m := d.u64(), d.u64()
		pushHistory(&os.maxMag, h, m)
	}
	n = d.count(24)
	for i := 0; i < n; i++ {
		os.queue = append(os.queue, d.set())
	}
	n = d.count(40)
	for i := 0; i < n; i++ {
		h, v := d.u64(), d.amount()
		pushHistory(&os.cumQueued, h, v)
	}
	n = d.count(36)
	for i := 0; i < n; i++ {
		t, err := im.tokenRef(d.str())
		if err != nil {
			return err
		}
		os.rewards = append(os.rewards, rewardIndex{token: t, j: d.amount()})
	}
	op.strategies[name] = os
	return d.done()
}

// pushHistory appends without History's panic on a backwards height: a
// malformed record is an import error found by the invariant check, not a
// crash.
func pushHistory[V any](h *history.History[V], height uint64, v V) {
	if h.Len() > 0 {
		if last, _ := h.Entry(h.Len() - 1); height <= last {
			return
		}
	}
	h.Push(height, v)
}

func (im *importer) avs(k []byte, v []byte) error {
	var addr Address
	copy(addr[:], k)
	d := &decoder{b: v}
	a := &avs{metadata: d.str()}
	n := d.count(4)
	for i := 0; i < n; i++ {
		a.sets = append(a.sets, d.u32())
	}
	im.l.avss[addr] = a
	return d.done()
}

func (im *importer) set(k []byte, v []byte) error {
	key := OperatorSet{ID: binary.BigEndian.Uint32(k[20:24])}
	copy(key.AVS[:], k[:20])
	d := &decoder{b: v}
	s := &operatorSet{key: key, members: map[Address]struct{}{}}
	n := d.count(4)
	for i := 0; i < n; i++ {
		s.strategies = append(s.strategies, d.str())
	}
	s.slasher, s.pendingSlasher, s.slasherEffect = d.addr(), d.addr(), d.u64()
	s.recipient, s.lastSlashID = d.addr(), d.u64()
	if len(d.b) > 0 {
		s.risk = ServiceRisk{Declared: true, ProfitUSD: d.amount(), ThresholdNum: d.u64(), ThresholdDen: d.u64()}
		if d.err == nil && (s.risk.ProfitUSD.IsZero() || s.risk.ThresholdNum == 0 ||
			s.risk.ThresholdNum > s.risk.ThresholdDen) {
			return errors.New("operator set: invalid declared risk")
		}
	}
	im.l.sets[key] = s
	return d.done()
}

func (im *importer) withdrawal(v []byte) error {
	d := &decoder{b: v}
	w := &withdrawal{staker: d.addr(), delegatedTo: d.addr(), withdrawer: d.addr(), nonce: d.u64(), startBlock: d.u64()}
	n := d.count(36)
	for i := 0; i < n; i++ {
		s, err := im.strategyRef(d.str())
		if err != nil {
			return err
		}
		w.strategies = append(w.strategies, s)
		w.scaled = append(w.scaled, d.amount())
	}
	if err := d.done(); err != nil {
		return err
	}
	w.id = withdrawalRoot(w)
	im.l.withdrawals[w.id] = w
	return nil
}

func (im *importer) slash(k []byte, v []byte) error {
	sk := slashKey{set: OperatorSet{ID: binary.BigEndian.Uint32(k[20:24])}, id: binary.BigEndian.Uint64(k[24:32])}
	copy(sk.set.AVS[:], k[:20])
	d := &decoder{b: v}
	p := &pendingSlash{}
	n := d.count(36)
	for i := 0; i < n; i++ {
		s, err := im.strategyRef(d.str())
		if err != nil {
			return err
		}
		p.strategies = append(p.strategies, s)
		p.shares = append(p.shares, d.amount())
	}
	im.l.slashes[sk] = p
	return d.done()
}

func (im *importer) submission(id uint64, v []byte) error {
	d := &decoder{b: v}
	s := &submission{id: id, avs: d.addr()}
	t, err := im.tokenRef(d.str())
	if err != nil {
		return err
	}
	s.token = t
	n := d.count(36)
	for i := 0; i < n; i++ {
		s.strategies = append(s.strategies, d.str())
		s.multipliers = append(s.multipliers, d.amount())
	}
	s.start, s.end = d.u64(), d.u64()
	s.escrowed, s.remaining, s.next = d.amount(), d.amount(), d.u64()
	im.l.submissions = append(im.l.submissions, s)
	return d.done()
}

// finish resolves references and rebuilds what records leave out: delegate
// pointers, set members (from registrations), staker withdrawal lists (from
// withdrawals, in queue order), submission order.
func (im *importer) finish() error {
	l := im.l
	for acct, to := range im.delegates {
		if to.IsZero() {
			continue
		}
		opAcct := l.accounts[to]
		if opAcct == nil || opAcct.operator == nil {
			return fmt.Errorf("account %s is delegated to %s, which is not an operator", acct.addr, to)
		}
		acct.delegate = opAcct
		opAcct.operator.delegators++
	}
	for _, a := range sortedAddrs(l.accounts) {
		op := l.accounts[a].operator
		if op == nil {
			continue
		}
		for set, r := range op.registrations {
			s := l.sets[set]
			if s == nil {
				return fmt.Errorf("operator %s registered for unknown set", a)
			}
			if r.registered {
				s.members[a] = struct{}{}
			}
		}
	}
	ids := sortedIDs(l.withdrawals)
	sort.SliceStable(ids, func(i, j int) bool { return l.withdrawals[ids[i]].nonce < l.withdrawals[ids[j]].nonce })
	for _, id := range ids {
		w := l.withdrawals[id]
		staker := l.accounts[w.staker]
		if staker == nil {
			return fmt.Errorf("withdrawal %s of unknown staker", id)
		}
		staker.queued = append(staker.queued, id)
	}
	sort.Slice(l.submissions, func(i, j int) bool { return l.submissions[i].id < l.submissions[j].id })
	return nil
}
