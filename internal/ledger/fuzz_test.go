package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/ledger"
)

// The fuzz targets below feed arbitrary arguments to one operation each,
// on a populated ledger (the property tests' world at a fixed seed), and
// check what must hold whatever the input: no panic, a rejection is a
// *ledger.Error that changes nothing, and an accepted operation keeps every
// invariant. Seeds are committed under testdata/fuzz/<target>/.

func fuzzWorld(t *testing.T) *world { return newWorld(t, 42) }

func fuzzApply(t *testing.T, w *world, sender ledger.Address, op ledger.Op) {
	t.Helper()
	before := w.l.StateHash()
	_, err := w.l.Apply(sender, op)
	if err != nil {
		var lerr *ledger.Error
		if !errors.As(err, &lerr) {
			t.Fatalf("%T: rejection %v is not a *ledger.Error", op, err)
		}
		if w.l.StateHash() != before {
			t.Fatalf("%T rejected with %s but changed the state", op, lerr.Name)
		}
		return
	}
	if err := w.l.CheckInvariants(); err != nil {
		t.Fatalf("%T %+v: %v", op, op, err)
	}
}

// amountFrom reads up to 32 big-endian bytes as a uint256.
func amountFrom(b []byte) uint256.Int {
	if len(b) > 32 {
		b = b[:32]
	}
	var z uint256.Int
	z.SetBytes(b)
	return z
}

func amountsFrom(b []byte) []uint256.Int {
	var out []uint256.Int
	for len(b) > 0 && len(out) < 70 {
		n := min(len(b), 1+int(b[0])%32)
		out = append(out, amountFrom(b[1:n]))
		b = b[n:]
	}
	return out
}

func nameFrom(w *world, i uint8, raw string) string {
	if i < 200 {
		return w.strategies[int(i)%len(w.strategies)]
	}
	return raw
}

func FuzzDeposit(f *testing.F) {
	f.Add(uint8(0), uint8(0), "", []byte{0x0d, 0xe0, 0xb6, 0xb3, 0xa7, 0x64, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, staker, strategy uint8, raw string, amount []byte) {
		w := fuzzWorld(t)
		fuzzApply(t, w, w.stakers[int(staker)%len(w.stakers)],
			ledger.Deposit{Strategy: nameFrom(w, strategy, raw), Amount: amountFrom(amount)})
	})
}

func FuzzQueueWithdrawal(f *testing.F) {
	f.Add(uint8(0), "s0,s1", []byte{8, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, staker uint8, strategies string, shares []byte) {
		w := fuzzWorld(t)
		st := w.stakers[int(staker)%len(w.stakers)]
		names := strings.Split(strategies, ",")
		if len(names) > 70 {
			names = names[:70]
		}
		fuzzApply(t, w, st, ledger.QueueWithdrawal{Strategies: names, DepositShares: amountsFrom(shares)})
	})
}

func FuzzCompleteWithdrawal(f *testing.F) {
	f.Add(uint8(0), uint8(0), true, uint8(9))
	f.Fuzz(func(t *testing.T, staker, strategy uint8, asTokens bool, roll uint8) {
		w := fuzzWorld(t)
		st := w.stakers[int(staker)%len(w.stakers)]
		s := nameFrom(w, strategy, "")
		shares := w.l.DepositShares(st, s)
		res, err := w.l.Apply(st, ledger.QueueWithdrawal{Strategies: []string{s}, DepositShares: []uint256.Int{shares}})
		var id ledger.WithdrawalID
		if err == nil {
			id = res.(ledger.QueueWithdrawalResult).Withdrawal
		}
		if roll > 0 {
			w.height += uint64(roll)
			w.l.BeginBlock(w.height, 1_700_000_000+w.height*12)
		}
		fuzzApply(t, w, st, ledger.CompleteWithdrawal{Withdrawal: id, AsTokens: asTokens})
	})
}

func FuzzModifyAllocations(f *testing.F) {
	f.Add(uint8(0), uint8(0), "s0", uint64(5e17), uint64(0))
	f.Fuzz(func(t *testing.T, op, set uint8, strategy string, m1, m2 uint64) {
		w := fuzzWorld(t)
		o := w.operators[int(op)%len(w.operators)]
		fuzzApply(t, w, o, ledger.ModifyAllocations{Set: w.sets[int(set)%len(w.sets)],
			Strategies: []string{strategy, "s1"}[:1+int(m2%2)], Magnitudes: []uint64{m1, m2}[:1+int(m2%2)]})
	})
}

func FuzzSlash(f *testing.F) {
	f.Add(uint8(0), uint8(0), "beaconETH,s0", []byte{8, 0, 0, 0, 0, 0, 0, 1, 0, 8, 0x0d, 0xe0, 0xb6, 0xb3, 0xa7, 0x64, 0, 0})
	f.Fuzz(func(t *testing.T, op, set uint8, strategies string, wads []byte) {
		w := fuzzWorld(t)
		s := w.sets[int(set)%len(w.sets)]
		names := strings.Split(strategies, ",")
		if len(names) > 70 {
			names = names[:70]
		}
		fuzzApply(t, w, s.AVS, ledger.Slash{Operator: w.operators[int(op)%len(w.operators)], Set: s,
			Strategies: names, Wads: amountsFrom(wads)})
	})
}

func FuzzBeaconBalanceUpdate(f *testing.F) {
	f.Add(uint8(0), []byte{0x01, 0xbc, 0x16, 0xd6, 0x74, 0xec, 0x80, 0x00, 0x00}, []byte{0x3b, 0x9a, 0xca, 0x00}, true)
	f.Fuzz(func(t *testing.T, staker uint8, prev, delta []byte, decrease bool) {
		w := fuzzWorld(t)
		st := w.stakers[int(staker)%len(w.stakers)]
		fuzzApply(t, w, st, ledger.BeaconBalanceUpdate{Staker: st, PrevRestakedWei: amountFrom(prev),
			DeltaWei: amountFrom(delta), Decrease: decrease})
	})
}

func FuzzRegistration(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte{1, 2}, false)
	f.Fuzz(func(t *testing.T, op, avs uint8, ids []byte, deregister bool) {
		w := fuzzWorld(t)
		o, v := w.operators[int(op)%len(w.operators)], w.avss[int(avs)%len(w.avss)]
		var sets []uint32
		for _, b := range ids {
			sets = append(sets, uint32(b%4))
		}
		if deregister {
			fuzzApply(t, w, o, ledger.DeregisterFromSets{Operator: o, AVS: v, Sets: sets})
			return
		}
		fuzzApply(t, w, o, ledger.RegisterForSets{AVS: v, Sets: sets})
	})
}

func FuzzOperatorSetAdmin(f *testing.F) {
	f.Add(uint8(0), uint32(3), "s0,beaconETH", uint8(1), []byte{0xaa})
	f.Fuzz(func(t *testing.T, avs uint8, id uint32, strategies string, kind uint8, recipient []byte) {
		w := fuzzWorld(t)
		v := w.avss[int(avs)%len(w.avss)]
		names := strings.Split(strategies, ",")
		if len(names) > 70 {
			names = names[:70]
		}
		var r ledger.Address
		copy(r[:], recipient)
		switch kind % 4 {
		case 0:
			fuzzApply(t, w, v, ledger.CreateOperatorSet{ID: id, Strategies: names, Redistributing: len(recipient) > 0,
				Recipient: r})
		case 1:
			fuzzApply(t, w, v, ledger.AddStrategies{Set: id % 4, Strategies: names})
		case 2:
			fuzzApply(t, w, v, ledger.RemoveStrategies{Set: id % 4, Strategies: names})
		default:
			fuzzApply(t, w, v, ledger.UpdateSlasher{Set: id % 4, Slasher: r})
		}
	})
}

func FuzzDelegation(f *testing.F) {
	f.Add(uint8(5), uint8(0), uint8(0), uint8(1))
	f.Fuzz(func(t *testing.T, staker, op, caller, kind uint8) {
		w := fuzzWorld(t)
		st := w.stakers[int(staker)%len(w.stakers)]
		o := w.operators[int(op)%len(w.operators)]
		switch kind % 4 {
		case 0:
			fuzzApply(t, w, st, ledger.Delegate{Operator: o})
		case 1:
			fuzzApply(t, w, w.anyoneAt(caller), ledger.Undelegate{Staker: st})
		case 2:
			fuzzApply(t, w, st, ledger.Redelegate{Operator: o})
		default:
			fuzzApply(t, w, w.anyoneAt(caller), ledger.ApproveDelegation{Operator: o, Staker: st, Expiry: uint64(kind)})
		}
	})
}

func (w *world) anyoneAt(i uint8) ledger.Address {
	all := append(append(append([]ledger.Address{}, w.stakers...), w.operators...), w.avss...)
	return all[int(i)%len(all)]
}
