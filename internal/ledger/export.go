package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"sort"

	"github.com/holiman/uint256"
)

// The ledger's state is committed to as a sorted list of key/value records,
// one per entity, each encoded canonically (fixed-width integers big-endian,
// strings and lists length-prefixed, lists in the ledger's own order where
// that order has meaning and sorted where it has none). The keys are stable:
// docs/state-format.md lists them. A change of this encoding changes the
// golden state hash in the tests, so it is always deliberate.

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

// Record is one committed entity.
type Record struct {
	Key   []byte
	Value []byte
}

// Records returns the whole state as records sorted by key.
func (l *Ledger) Records() []Record {
	var recs []Record
	add := func(key []byte, e *encoder) {
		recs = append(recs, Record{Key: key, Value: e.b})
	}
	var e encoder
	e.u64(l.params.WithdrawalDelayBlocks)
	e.u64(l.params.DeallocationDelayBlocks)
	e.u64(l.params.AllocationConfigurationDelayBlocks)
	e.u64(l.params.SlasherConfigurationDelayBlocks)
	e.u32(l.params.ProtocolFeeBips)
	e.u32(l.params.DefaultOperatorSplitBips)
	e.u64(l.height)
	e.u64(l.time)
	e.amount(l.beaconSlashedShares)
	e.u64(l.params.CalculationIntervalSeconds)
	e.u64(l.params.MaxRewardsDurationSeconds)
	e.u64(l.params.MaxRetroactiveLengthSeconds)
	e.u64(l.params.MaxFutureLengthSeconds)
	e.u64(l.params.GenesisRewardsTimestamp)
	e.u64(l.params.ActivationDelaySeconds)
	e.addr(l.treasury)
	e.u64(l.nextSubmission)
	add([]byte("g"), &e)
	for _, name := range sortedNames(l.tokens) {
		e := encoder{}
		e.amount(l.tokens[name].supply)
		e.amount(l.tokens[name].rewardsHeld)
		add(key("t/", []byte(name)), &e)
	}
	for _, s := range l.submissions {
		add(key("r/", binary.BigEndian.AppendUint64(nil, s.id)), submissionRecord(s))
	}
	for _, name := range sortedNames(l.prices) {
		p := l.prices[name]
		e := encoder{}
		e.amount(p.USD)
		e.u64(p.Timestamp)
		e.addr(p.Oracle)
		add(key("p/", []byte(name)), &e)
	}
	for _, name := range sortedNames(l.strategies) {
		s := l.strategies[name]
		e := encoder{}
		e.str(s.token.name)
		e.amount(s.totalShares)
		e.amount(s.balance)
		add(key("s/", []byte(name)), &e)
	}
	for _, a := range sortedAddrs(l.accounts) {
		recs = l.accountRecords(recs, l.accounts[a])
	}
	for _, a := range sortedAddrs(l.avss) {
		v := l.avss[a]
		e := encoder{}
		e.str(v.metadata)
		e.u32(uint32(len(v.sets)))
		for _, id := range v.sets {
			e.u32(id)
		}
		add(key("v/", a[:]), &e)
	}
	for _, k := range sortedSets(l.sets) {
		add(key("e/", setKey(k)), l.setRecord(l.sets[k]))
	}
	for _, id := range sortedIDs(l.withdrawals) {
		add(key("w/", id[:]), withdrawalRecord(l.withdrawals[id]))
	}
	for _, k := range sortedSlashes(l.slashes) {
		p := l.slashes[k]
		e := encoder{}
		e.u32(uint32(len(p.strategies)))
		for i, s := range p.strategies {
			e.str(s.name)
			e.amount(p.shares[i])
		}
		add(key("x/", setKey(k.set), binary.BigEndian.AppendUint64(nil, k.id)), &e)
	}
	sort.Slice(recs, func(i, j int) bool { return bytes.Compare(recs[i].Key, recs[j].Key) < 0 })
	return recs
}

func (l *Ledger) accountRecords(recs []Record, acct *account) []Record {
	e := encoder{}
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
	e.u32(uint32(len(acct.queued)))
	for _, id := range acct.queued {
		e.b = append(e.b, id[:]...)
	}
	e.u32(uint32(len(acct.approvals)))
	for _, ap := range acct.approvals {
		e.addr(ap.staker)
		e.addr(ap.operator)
		e.u64(ap.expiry)
	}
	recs = append(recs, Record{Key: key("a/", acct.addr[:]), Value: e.b})
	if acct.operator != nil {
		recs = operatorRecords(recs, acct.addr, acct.operator)
	}
	return recs
}

func operatorRecords(recs []Record, a Address, op *operator) []Record {
	e := encoder{}
	e.addr(op.approver)
	e.str(op.metadata)
	e.u32(op.delay.delay)
	e.boolean(op.delay.isSet)
	e.u32(op.delay.pending)
	e.u64(op.delay.effectBlock)
	recs = append(recs, Record{Key: key("o/", a[:]), Value: e.b})
	for _, name := range sortedNames(op.strategies) {
		os := op.strategies[name]
		e := encoder{}
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
		recs = append(recs, Record{Key: key("o/", a[:], []byte("/s/"), []byte(name)), Value: e.b})
	}
	keys := make([]allocKey, 0, len(op.allocations))
	for k := range op.allocations {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].set != keys[j].set {
			return keys[i].set.Less(keys[j].set)
		}
		return keys[i].strategy < keys[j].strategy
	})
	for _, k := range keys {
		al := op.allocations[k]
		e := encoder{}
		e.u64(al.current)
		e.u64(uint64(al.pendingDiff))
		e.u64(al.effectBlock)
		recs = append(recs, Record{Key: key("o/", a[:], []byte("/a/"), setKey(k.set), []byte(k.strategy)), Value: e.b})
	}
	for _, s := range sortedSets(op.registrations) {
		r := op.registrations[s]
		e := encoder{}
		e.boolean(r.registered)
		e.u64(r.slashableUntil)
		recs = append(recs, Record{Key: key("o/", a[:], []byte("/r/"), setKey(s)), Value: e.b})
	}
	return recs
}

func (l *Ledger) setRecord(s *operatorSet) *encoder {
	e := &encoder{}
	e.u32(uint32(len(s.strategies)))
	for _, n := range s.strategies {
		e.str(n)
	}
	members := sortedAddrs(s.members)
	e.u32(uint32(len(members)))
	for _, m := range members {
		e.addr(m)
	}
	e.addr(s.slasher)
	e.addr(s.pendingSlasher)
	e.u64(s.slasherEffect)
	e.addr(s.recipient)
	e.u64(s.lastSlashID)
	return e
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

func submissionRecord(s *submission) *encoder {
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
	return e
}

func withdrawalRecord(w *withdrawal) *encoder {
	e := &encoder{}
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
	return e
}

// StateHash is the SHA-256 of every record, key and value each prefixed by
// its length, in key order. Equal states hash equally on every machine.
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
