package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"sort"

	"github.com/holiman/uint256"
)

// The ledger's state is committed to as key/value records, one per entity,
// each encoded canonically (integers big-endian, strings and lists
// length-prefixed, lists in the ledger's own order where that order has
// meaning and sorted where it has none). docs/state-format.md lists the keys
// and values. Records are what a node stores, hashes into its state tree
// and proves; FromRecords rebuilds a ledger from them. A change of this
// encoding changes the golden state hash in the tests, so it is always
// deliberate.

type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)     { e.b = append(e.b, v) }
func (e *encoder) u32(v uint32)   { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)   { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) addr(a Address) { e.b = append(e.b, a[:]...) }
func (e *encoder) str(s string) {
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) amount(v uint256.Int) {
	b := v.Bytes32()
	e.b = append(e.b, b[:]...)
}
func (e *encoder) boolean(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}
func (e *encoder) set(s OperatorSet) {
	e.addr(s.AVS)
	e.u32(s.ID)
}

// Record is one committed entity. A nil Value in Changes means the record
// was deleted.
type Record struct {
	Key   []byte
	Value []byte
}

// Record keys. Each prefix is one kind of entity.
func globalKey() []byte                    { return []byte("g") }
func tokenKey(name string) []byte          { return key("t/", []byte(name)) }
func strategyKey(name string) []byte       { return key("s/", []byte(name)) }
func priceKey(name string) []byte          { return key("p/", []byte(name)) }
func accountKey(a Address) []byte          { return key("a/", a[:]) }
func operatorKey(a Address) []byte         { return key("o/", a[:]) }
func avsKey(a Address) []byte              { return key("v/", a[:]) }
func setRecordKey(s OperatorSet) []byte    { return key("e/", setKey(s)) }
func withdrawalKey(id WithdrawalID) []byte { return key("w/", id[:]) }
func slashRecordKey(k slashKey) []byte {
	return key("x/", setKey(k.set), binary.BigEndian.AppendUint64(nil, k.id))
}
func submissionKey(id uint64) []byte { return key("r/", binary.BigEndian.AppendUint64(nil, id)) }
func approvalRecordKey(k approvalKey) []byte {
	return key("d/", k.approver[:], k.staker[:], k.operator[:])
}
func opStrategyKey(a Address, name string) []byte {
	return key("o/", a[:], []byte("/s/"), []byte(name))
}
func allocationKey(a Address, k allocKey) []byte {
	return key("o/", a[:], []byte("/a/"), setKey(k.set), []byte(k.strategy))
}
func registrationKey(a Address, s OperatorSet) []byte {
	return key("o/", a[:], []byte("/r/"), setKey(s))
}

// Records returns the whole state as records sorted by key.
func (l *Ledger) Records() []Record {
	var recs []Record
	add := func(k, v []byte) { recs = append(recs, Record{Key: k, Value: v}) }
	add(globalKey(), l.globalValue())
	for _, name := range sortedNames(l.tokens) {
		add(tokenKey(name), tokenValue(l.tokens[name]))
	}
	for _, name := range sortedNames(l.strategies) {
		add(strategyKey(name), strategyValue(l.strategies[name]))
	}
	for _, name := range sortedNames(l.prices) {
		add(priceKey(name), priceValue(l.prices[name]))
	}
	for _, a := range sortedAddrs(l.accounts) {
		acct := l.accounts[a]
		add(accountKey(a), accountValue(acct))
		if op := acct.operator; op != nil {
			add(operatorKey(a), operatorValue(op))
			for _, name := range sortedNames(op.strategies) {
				add(opStrategyKey(a, name), opStrategyValue(op.strategies[name]))
			}
			for k, al := range op.allocations {
				add(allocationKey(a, k), allocationValue(*al))
			}
			for s, r := range op.registrations {
				add(registrationKey(a, s), registrationValue(r))
			}
		}
	}
	for _, a := range sortedAddrs(l.avss) {
		add(avsKey(a), avsValue(l.avss[a]))
	}
	for _, k := range sortedSets(l.sets) {
		add(setRecordKey(k), setValue(l.sets[k]))
	}
	for _, id := range sortedIDs(l.withdrawals) {
		add(withdrawalKey(id), withdrawalValue(l.withdrawals[id]))
	}
	for _, k := range sortedSlashes(l.slashes) {
		add(slashRecordKey(k), slashValue(l.slashes[k]))
	}
	for _, s := range l.submissions {
		add(submissionKey(s.id), submissionValue(s))
	}
	for k, expiry := range l.approvals {
		add(approvalRecordKey(k), binary.BigEndian.AppendUint64(nil, expiry))
	}
	sortRecords(recs)
	return recs
}

func sortRecords(recs []Record) {
	sort.Slice(recs, func(i, j int) bool { return bytes.Compare(recs[i].Key, recs[j].Key) < 0 })
}

// Changes returns the records that changed since the previous call (all of
// them after New or FromRecords), sorted by key, with a nil Value for each
// deleted record, and starts tracking afresh. The global record is always
// included: it holds the block height.
func (l *Ledger) Changes() []Record {
	d := &l.dirty
	defer d.reset()
	if d.all {
		return l.Records()
	}
	var recs []Record
	add := func(k, v []byte) { recs = append(recs, Record{Key: k, Value: v}) }
	add(globalKey(), l.globalValue())
	for t := range d.tokens {
		add(tokenKey(t.name), tokenValue(t))
	}
	for s := range d.strategies {
		add(strategyKey(s.name), strategyValue(s))
	}
	for name := range d.prices {
		add(priceKey(name), priceValue(l.prices[name]))
	}
	for acct := range d.accounts {
		add(accountKey(acct.addr), accountValue(acct))
	}
	for acct := range d.operators {
		add(operatorKey(acct.addr), operatorValue(acct.operator))
	}
	for os := range d.opStrategies {
		add(opStrategyKey(os.owner.addr, os.name), opStrategyValue(os))
	}
	for r := range d.allocations {
		if al := r.op.operator.allocations[r.key]; al != nil {
			add(allocationKey(r.op.addr, r.key), allocationValue(*al))
		} else {
			add(allocationKey(r.op.addr, r.key), nil)
		}
	}
	for r := range d.registrations {
		add(registrationKey(r.op.addr, r.set), registrationValue(r.op.operator.registrations[r.set]))
	}
	for a := range d.avss {
		add(avsKey(a), avsValue(l.avss[a]))
	}
	for k := range d.sets {
		add(setRecordKey(k), setValue(l.sets[k]))
	}
	for id := range d.withdrawals {
		var v []byte
		if w := l.withdrawals[id]; w != nil {
			v = withdrawalValue(w)
		}
		add(withdrawalKey(id), v)
	}
	for k := range d.slashes {
		var v []byte
		if p := l.slashes[k]; p != nil {
			v = slashValue(p)
		}
		add(slashRecordKey(k), v)
	}
	live := map[uint64]*submission{}
	for _, s := range l.submissions {
		live[s.id] = s
	}
	for id := range d.submissions {
		var v []byte
		if s := live[id]; s != nil {
			v = submissionValue(s)
		}
		add(submissionKey(id), v)
	}
	for k := range d.approvals {
		var v []byte
		if expiry, ok := l.approvals[k]; ok {
			v = binary.BigEndian.AppendUint64(nil, expiry)
		}
		add(approvalRecordKey(k), v)
	}
	sortRecords(recs)
	return recs
}

func (l *Ledger) globalValue() []byte {
	var e encoder
	p := l.params
	for _, v := range []uint64{p.WithdrawalDelayBlocks, p.DeallocationDelayBlocks,
		p.AllocationConfigurationDelayBlocks, p.SlasherConfigurationDelayBlocks} {
		e.u64(v)
	}
	e.u32(p.ProtocolFeeBips)
	e.u32(p.DefaultOperatorSplitBips)
	for _, v := range []uint64{p.CalculationIntervalSeconds, p.MaxRewardsDurationSeconds,
		p.MaxRetroactiveLengthSeconds, p.MaxFutureLengthSeconds, p.GenesisRewardsTimestamp,
		p.ActivationDelaySeconds} {
		e.u64(v)
	}
	e.u64(l.height)
	e.u64(l.time)
	e.amount(l.beaconSlashedShares)
	e.addr(l.treasury)
	e.u64(l.nextSubmission)
	return e.b
}

func tokenValue(t *token) []byte {
	var e encoder
	e.amount(t.supply)
	e.amount(t.rewardsHeld)
	return e.b
}

func strategyValue(s *strategy) []byte {
	var e encoder
	e.str(s.token.name)
	e.amount(s.totalShares)
	e.amount(s.balance)
	return e.b
}

func priceValue(p Price) []byte {
	var e encoder
	e.amount(p.USD)
	e.u64(p.Timestamp)
	e.addr(p.Oracle)
	return e.b
}

func accountValue(acct *account) []byte {
	var e encoder
	e.u32(uint32(len(acct.balances)))
	for _, b := range acct.balances {
		e.str(b.token.name)
		e.amount(b.amount)
	}
	var delegate Address
	if acct.delegate != nil {
		delegate = acct.delegate.addr
	}
	e.addr(delegate)
	e.u64(acct.nonce)
	e.u64(acct.txNonce)
	e.u32(uint32(len(acct.positions)))
	for _, p := range acct.positions {
		e.str(p.strategy.name)
		e.amount(p.shares)
		e.amount(p.dsf)
		encodeSnaps(&e, p.snaps)
	}
	e.boolean(acct.pod != nil)
	if p := acct.pod; p != nil {
		e.amount(p.shares)
		e.amount(p.dsf)
		e.boolean(p.bcsfSet)
		e.u64(p.bcsf)
		e.amount(p.restakedWei)
		encodeSnaps(&e, p.snaps)
	}
	encodeTokenAmounts(&e, acct.claimables)
	encodeTokenAmounts(&e, acct.claimed)
	e.u32(uint32(len(acct.splits)))
	for _, s := range acct.splits {
		e.addr(s.avs)
		e.u32(s.oldBips)
		e.u32(s.newBips)
		e.u64(s.activatedAt)
		e.boolean(s.initialized)
	}
	return e.b
}

func operatorValue(op *operator) []byte {
	var e encoder
	e.addr(op.approver)
	e.str(op.metadata)
	e.u32(op.delay.delay)
	e.boolean(op.delay.isSet)
	e.u32(op.delay.pending)
	e.u64(op.delay.effectBlock)
	return e.b
}

func opStrategyValue(os *opStrategy) []byte {
	var e encoder
	e.amount(os.shares)
	e.u64(os.encumbered)
	e.u32(uint32(os.maxMag.Len()))
	for i := 0; i < os.maxMag.Len(); i++ {
		h, v := os.maxMag.Entry(i)
		e.u64(h)
		e.u64(v)
	}
	e.u32(uint32(len(os.queue)))
	for _, s := range os.queue {
		e.set(s)
	}
	e.u32(uint32(os.cumQueued.Len()))
	for i := 0; i < os.cumQueued.Len(); i++ {
		h, v := os.cumQueued.Entry(i)
		e.u64(h)
		e.amount(v)
	}
	e.u32(uint32(len(os.rewards)))
	for _, r := range os.rewards {
		e.str(r.token.name)
		e.amount(r.j)
	}
	return e.b
}

func allocationValue(al allocation) []byte {
	var e encoder
	e.u64(al.current)
	e.u64(uint64(al.pendingDiff))
	e.u64(al.effectBlock)
	return e.b
}

func registrationValue(r *registration) []byte {
	var e encoder
	e.boolean(r.registered)
	e.u64(r.slashableUntil)
	return e.b
}

func avsValue(v *avs) []byte {
	var e encoder
	e.str(v.metadata)
	e.u32(uint32(len(v.sets)))
	for _, id := range v.sets {
		e.u32(id)
	}
	return e.b
}

// setValue omits the members: they are the operators whose registration
// records say registered, and FromRecords rebuilds them from those.
func setValue(s *operatorSet) []byte {
	var e encoder
	e.u32(uint32(len(s.strategies)))
	for _, n := range s.strategies {
		e.str(n)
	}
	e.addr(s.slasher)
	e.addr(s.pendingSlasher)
	e.u64(s.slasherEffect)
	e.addr(s.recipient)
	e.u64(s.lastSlashID)
	// The declared risk is appended only once declared, so a set that has
	// none encodes as before (and the golden state hash stands).
	if s.risk.Declared {
		e.amount(s.risk.ProfitUSD)
		e.u64(s.risk.ThresholdNum)
		e.u64(s.risk.ThresholdDen)
	}
	return e.b
}

func withdrawalValue(w *withdrawal) []byte {
	var e encoder
	e.addr(w.staker)
	e.addr(w.delegatedTo)
	e.addr(w.withdrawer)
	e.u64(w.nonce)
	e.u64(w.startBlock)
	e.u32(uint32(len(w.strategies)))
	for i, s := range w.strategies {
		e.str(s.name)
		e.amount(w.scaled[i])
	}
	return e.b
}

func slashValue(p *pendingSlash) []byte {
	var e encoder
	e.u32(uint32(len(p.strategies)))
	for i, s := range p.strategies {
		e.str(s.name)
		e.amount(p.shares[i])
	}
	return e.b
}

func submissionValue(s *submission) []byte {
	e := &encoder{}
	e.addr(s.avs)
	e.str(s.token.name)
	e.u32(uint32(len(s.strategies)))
	for i, name := range s.strategies {
		e.str(name)
		e.amount(s.multipliers[i])
	}
	e.u64(s.start)
	e.u64(s.end)
	e.amount(s.escrowed)
	e.amount(s.remaining)
	e.u64(s.next)
	return e.b
}

func encodeSnaps(e *encoder, snaps []rewardSnap) {
	e.u32(uint32(len(snaps)))
	for _, s := range snaps {
		e.str(s.token.name)
		e.amount(s.j)
	}
}

func encodeTokenAmounts(e *encoder, list []tokenAmount) {
	e.u32(uint32(len(list)))
	for _, t := range list {
		e.str(t.token.name)
		e.amount(t.amount)
	}
}

// StateHash is the SHA-256 of every record, key and value each prefixed by
// its length, in key order. Equal states hash equally on every machine.
// (A node commits to the same records with a Merkle tree instead, which
// also proves them.)
func (l *Ledger) StateHash() [32]byte {
	h := sha256.New()
	var n [4]byte
	for _, r := range l.Records() {
		binary.BigEndian.PutUint32(n[:], uint32(len(r.Key)))
		h.Write(n[:])
		h.Write(r.Key)
		binary.BigEndian.PutUint32(n[:], uint32(len(r.Value)))
		h.Write(n[:])
		h.Write(r.Value)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func key(prefix string, parts ...[]byte) []byte {
	k := []byte(prefix)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func setKey(s OperatorSet) []byte {
	return binary.BigEndian.AppendUint32(append([]byte(nil), s.AVS[:]...), s.ID)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedAddrs[V any](m map[Address]V) []Address {
	out := make([]Address, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return compareAddr(out[i], out[j]) < 0 })
	return out
}

func sortedSets[V any](m map[OperatorSet]V) []OperatorSet {
	out := make([]OperatorSet, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

func sortedIDs[V any](m map[WithdrawalID]V) []WithdrawalID {
	out := make([]WithdrawalID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

func sortedSlashes[V any](m map[slashKey]V) []slashKey {
	out := make([]slashKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].set != out[j].set {
			return out[i].set.Less(out[j].set)
		}
		return out[i].id < out[j].id
	})
	return out
}
