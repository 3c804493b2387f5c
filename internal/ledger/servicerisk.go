package ledger

import "github.com/holiman/uint256"

// DeclareServiceRisk is an AVS's statement, for one of its operator sets,
// of what the risk engine needs to price the set's security: what
// corrupting the service would gain an attacker, in USD (1e18 = $1; for
// example the value the service secures), and the fraction of the set's
// slashable stake an attacker must control to corrupt it
// (ThresholdNum/ThresholdDen, in (0, 1]). The sender is the set's AVS; it
// may restate both at any time. Nothing else in the ledger reads them.
type DeclareServiceRisk struct {
	Set          uint32
	ProfitUSD    uint256.Int
	ThresholdNum uint64
	ThresholdDen uint64
}

// OpName implements Op.
func (DeclareServiceRisk) OpName() string { return "declare_service_risk" }

// ServiceRisk is an operator set's declared profit from corruption and
// corruption threshold. Declared is false until its AVS declares them.
type ServiceRisk struct {
	Declared     bool
	ProfitUSD    uint256.Int // 1e18 = $1
	ThresholdNum uint64
	ThresholdDen uint64
}

func (l *Ledger) declareServiceRisk(sender Address, op DeclareServiceRisk) *Error {
	set := l.sets[OperatorSet{AVS: sender, ID: op.Set}]
	if set == nil {
		return ErrInvalidOperatorSet
	}
	if op.ProfitUSD.IsZero() || op.ThresholdNum == 0 || op.ThresholdDen == 0 || op.ThresholdNum > op.ThresholdDen {
		return ErrInvalidServiceRisk
	}
	// After this point the operation must succeed.
	set.risk = ServiceRisk{Declared: true, ProfitUSD: op.ProfitUSD, ThresholdNum: op.ThresholdNum,
		ThresholdDen: op.ThresholdDen}
	l.dirty.set(set.key)
	l.emit(Event{Kind: EvServiceRiskDeclared, Account: sender, Set: set.key, Amount: op.ProfitUSD,
		N: op.ThresholdNum, Amount2: *uint256.NewInt(op.ThresholdDen)})
	return nil
}

// ServiceRiskOf returns what set's AVS declared about its risk.
func (l *Ledger) ServiceRiskOf(set OperatorSet) ServiceRisk {
	if s := l.sets[set]; s != nil {
		return s.risk
	}
	return ServiceRisk{}
}
