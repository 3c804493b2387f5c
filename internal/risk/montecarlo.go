package risk

// A Monte Carlo of service failures: where Analyze asks what a rational
// attacker could gain, MonteCarlo asks what ordinary failures (bugs,
// operator faults, slashing incidents) cost when they strike at random,
// and how badly the tail of that loss is fattened by restaking: services
// that share operators slash the same stake, so their failures compound.
//
// One trial, given a FailureModel:
//
//   - each service s fails independently with probability p_s;
//   - a failing service slashes every validator v allocated to it by
//     slash_s * w_vs;
//   - validator v's loss L_v is the sum of its slashes, capped at its
//     stake sigma_v: stake can be lost only once;
//   - afterwards v has r_v = sigma_v - L_v left, and each of its
//     allocations shrinks to min(w_vs, r_v) (the elastic rule of Bar-Zur
//     and Eyal, "Elastic restaking networks", 2025: what a validator
//     allocates can never exceed what it still has);
//   - the security service s lost is W_s - sum_v min(w_vs, r_v), the
//     stake that no longer secures it, whether s failed or not;
//   - a group (a liquid restaking token, a custodian, a fund) holding a
//     share h_gv of validator v's stake loses sum_v h_gv * L_v;
//   - the total loss is sum_v L_v.
//
// Every amount is exact: the graph, the slash fractions and the group
// shares are scaled to one common integer unit (uint256 arithmetic in
// the trials) and turned back into rationals only for the result.

import (
	"fmt"
	"maps"
	"math/big"
	"math/bits"
	"slices"
	"sync"

	"github.com/holiman/uint256"
)

// FailureModel says how each service fails: how often, and how hard it
// slashes the stake allocated to it. Both slices are indexed by service
// position in the graph.
type FailureModel struct {
	// Probability[s] is service s's failure probability per trial, in
	// [0, 1] (exact rational). Its numerator and denominator must fit in
	// 64 bits: a draw compares them with one uniform 64-bit word.
	Probability []*big.Rat
	// Slash[s] is the fraction of every allocation to s that is slashed
	// when s fails, in [0, 1].
	Slash []*big.Rat
}

// Group is a holder of validator stake whose loss is reported on its
// own, such as a liquid restaking token whose backing is spread over
// operators.
type Group struct {
	// ID names the group in errors; it must be unique and non-empty.
	ID string
	// Share[v] is the fraction of validator v's stake (v a position in the
	// graph) that the group holds, in [0, 1]. The shares of one validator
	// summed over all groups may not exceed 1.
	Share map[int]*big.Rat
}

// MonteCarloOptions size a run. They are explicit because a run is
// expensive and must be reproducible: the same graph, model, groups,
// Trials and Seed give the same result whatever Workers is.
type MonteCarloOptions struct {
	// Trials is the number of independent trials, at least 1.
	Trials int
	// Seed selects the random streams: trial t draws from a stream
	// derived from (Seed, t) alone.
	Seed uint64
	// Workers is the number of goroutines sharing the trials (0: 2; at
	// most maxWorkers and Trials are used, each with scratch space the
	// size of the graph). It changes the running time, never the result.
	Workers int
}

// Tail summarizes one loss over the trials, in the graph's unit. With the
// N trial losses sorted ascending x_0 <= ... <= x_{N-1} and, for q in
// {0.95, 0.99}, i_q = ceil(q*N) - 1:
//
//   - VaR_q = x_{i_q}, the q-quantile: the loss not exceeded in a
//     fraction q of the trials;
//   - ES_q = (x_{i_q} + ... + x_{N-1}) / (N - i_q), the mean of the worst
//     N - ceil(q*N) + 1 losses, VaR_q included (so ES_q >= VaR_q, and
//     ES_q = VaR_q = Max when ceil(q*N) = N);
//   - Mean = (x_0 + ... + x_{N-1}) / N and Max = x_{N-1}.
type Tail struct {
	VaR95, ES95, VaR99, ES99, Mean, Max *big.Rat
}

// MonteCarloResult is what MonteCarlo measured, every figure exact.
type MonteCarloResult struct {
	// Trials and Seed are the options the result was drawn with: with the
	// same graph and model they reproduce it.
	Trials int
	Seed   uint64
	// Services[s] is the security service s lost: W_s - sum_v min(w_vs, r_v).
	Services []Tail
	// Groups[g] is the stake group g lost: sum_v Share_gv * L_v.
	Groups []Tail
	// Total is all stake lost: sum_v L_v.
	Total Tail
	// FailuresMean is the mean number of failing services per trial.
	FailuresMean *big.Rat
}

// maxWorkers bounds the goroutines of one run: more would only add
// scratch memory, as the trials are CPU-bound.
const maxWorkers = 256

// The tail quantiles, as exact fractions.
const (
	q95Num, q95Den = 95, 100
	q99Num, q99Den = 99, 100
)

// mcModel is a graph and failure model prepared for the trials: flat
// index lists so that a trial reaches only the services that failed and
// the validators they hit. Amounts are in units of 1/(q*D), q the graph's
// scale and D the least common multiple of the slash denominators; group
// losses are in units of 1/(q*D*G_g), G_g that of the group's shares.
type mcModel struct {
	nV, nS, nG int
	pNum, pDen []uint64      // failure probability of each service
	sigma      []uint256.Int // stake of each validator

	// Service s slashes hitCut[i] from validator hitV[i] for i in
	// [hitStart[s], hitStart[s+1]); empty when slash_s is 0.
	hitStart []int
	hitV     []int32
	hitCut   []uint256.Int

	// Validator v allocates allocW[i] to allocS[i], i in
	// [allocStart[v], allocStart[v+1]).
	allocStart []int
	allocS     []int32
	allocW     []uint256.Int

	// Group shareG[i] holds shareN[i] / G_g of validator v, i in
	// [shareStart[v], shareStart[v+1]).
	shareStart []int
	shareG     []int32
	shareN     []uint256.Int

	unit    *big.Int   // q*D: one unit of a service or total loss
	unitGrp []*big.Int // q*D*G_g: one unit of group g's loss
}

// MonteCarlo runs o.Trials seeded trials of independent service failures
// on g (see the top of montecarlo.go for what one trial computes) and
// reports the tail of each service's security loss, of each group's
// stake loss and of the total stake loss. Trials are split over
// o.Workers goroutines; each trial draws from its own stream, derived
// from (o.Seed, trial index), so the result depends on the seed and
// never on the split.
//
// Service s fails in a trial when u * den < num * 2^64, u the trial's
// next uniform 64-bit draw and num/den its probability: an exact test,
// whose chance of success is num/den rounded up to a multiple of 2^-64.
// Each trial draws once for every service, in order, whatever its
// probability.
//
// An input outside the rules (a probability or slash outside [0, 1],
// slices of the wrong length, a share outside [0, 1] or naming no
// validator, a validator whose shares sum above 1, Trials < 1, Workers
// < 0) gives an *InputError naming the entry.
func MonteCarlo(g *Graph, fm FailureModel, groups []Group, o MonteCarloOptions,
) (*MonteCarloResult, error) {
	if o.Trials < 1 {
		return nil, inputErr("trials", "%d; need at least 1", o.Trials)
	}
	if o.Workers < 0 {
		return nil, inputErr("workers", "%d is negative", o.Workers)
	}
	mc, err := newMCModel(g, fm, groups, o.Trials)
	if err != nil {
		return nil, err
	}
	workers := o.Workers
	if workers == 0 {
		workers = 2
	}
	workers = min(workers, o.Trials, maxWorkers)
	k := tailSize(o.Trials, q95Num, q95Den) // the most values any quantile reads
	ws := make([]*mcWorker, workers)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = mc.worker(k)
		from, to := i*o.Trials/workers, (i+1)*o.Trials/workers
		wg.Go(func() {
			for t := from; t < to; t++ {
				ws[i].trial(t, o.Seed)
			}
		})
	}
	wg.Wait()
	return mc.result(ws, o), nil
}

// result merges the workers' accumulators. Losses are integers, so their
// sums and largest values do not depend on which worker saw which trial.
func (mc *mcModel) result(ws []*mcWorker, o MonteCarloOptions) *MonteCarloResult {
	series := func(i int) []*tailAcc {
		out := make([]*tailAcc, len(ws))
		for w := range ws {
			out[w] = &ws[w].acc[i]
		}
		return out
	}
	res := &MonteCarloResult{Trials: o.Trials, Seed: o.Seed,
		Services: make([]Tail, mc.nS), Groups: make([]Tail, mc.nG)}
	for s := range mc.nS {
		res.Services[s] = mergeTail(series(s), o.Trials, mc.unit)
	}
	for g := range mc.nG {
		res.Groups[g] = mergeTail(series(mc.nS+g), o.Trials, mc.unitGrp[g])
	}
	res.Total = mergeTail(series(mc.nS+mc.nG), o.Trials, mc.unit)
	failures := new(big.Int)
	for _, w := range ws {
		failures.Add(failures, new(big.Int).SetUint64(w.failures))
	}
	res.FailuresMean = new(big.Rat).SetFrac(failures, big.NewInt(int64(o.Trials)))
	return res
}

// newMCModel checks the failure model and the groups against g and lays
// them out for the trials.
func newMCModel(g *Graph, fm FailureModel, groups []Group, trials int) (*mcModel, error) {
	m, err := newModel(g)
	if err != nil {
		return nil, err
	}
	for v := range m.nV {
		for _, s := range m.vs[v] {
			if m.w[v][s].Gt(&m.sigma[v]) {
				return nil, inputErr(fmt.Sprintf("validators[%d] (%s).allocations.%s", v,
					g.Validators[v].ID, g.Services[s].ID), "above the validator's stake")
			}
		}
	}
	mc := &mcModel{nV: m.nV, nS: m.nS, nG: len(groups)}
	D, err := mc.setFailures(g, fm)
	if err != nil {
		return nil, err
	}
	grpScale, err := checkGroups(g, groups)
	if err != nil {
		return nil, err
	}
	// Every loss is at most the total stake times D times a group scale;
	// its sum over the trials (and a validator's uncapped slashes, at most
	// one per service) must stay within 256 bits.
	bound := new(big.Int).Mul(m.total.ToBig(), D)
	maxScale := big.NewInt(1)
	for _, G := range grpScale {
		if G.Cmp(maxScale) > 0 {
			maxScale = G
		}
	}
	bound.Mul(bound, maxScale)
	if bound.BitLen()+bits.Len(uint(max(trials, m.nS))) > 256 {
		return nil, inputErr("failure_model", "stakes, slash fractions and group shares are too large "+
			"or too finely divided to compute with in 256 bits over %d trials", trials)
	}
	mc.unit = new(big.Int).Mul(m.q, D)
	for _, G := range grpScale {
		mc.unitGrp = append(mc.unitGrp, new(big.Int).Mul(mc.unit, G))
	}
	mc.layOut(m, fm, groups, D, grpScale)
	return mc, nil
}

// setFailures checks fm, keeps the probabilities as 64-bit fractions and
// returns D, the least common multiple of the slash denominators.
func (mc *mcModel) setFailures(g *Graph, fm FailureModel) (*big.Int, error) {
	if len(fm.Probability) != mc.nS {
		return nil, inputErr("failure_model.probability", "has %d entries for %d services",
			len(fm.Probability), mc.nS)
	}
	if len(fm.Slash) != mc.nS {
		return nil, inputErr("failure_model.slash", "has %d entries for %d services",
			len(fm.Slash), mc.nS)
	}
	mc.pNum, mc.pDen = make([]uint64, mc.nS), make([]uint64, mc.nS)
	D := big.NewInt(1)
	for s := range mc.nS {
		entry := fmt.Sprintf("failure_model.probability[%d] (%s)", s, g.Services[s].ID)
		p := fm.Probability[s]
		if err := unitInterval(entry, p); err != nil {
			return nil, err
		}
		if p.Num().BitLen() > 64 || p.Denom().BitLen() > 64 {
			return nil, inputErr(entry, "%s needs more than 64 bits of numerator or denominator",
				p.RatString())
		}
		mc.pNum[s], mc.pDen[s] = p.Num().Uint64(), p.Denom().Uint64()
		entry = fmt.Sprintf("failure_model.slash[%d] (%s)", s, g.Services[s].ID)
		if err := unitInterval(entry, fm.Slash[s]); err != nil {
			return nil, err
		}
		D = lcm(D, fm.Slash[s].Denom())
	}
	return D, nil
}

// checkGroups checks the groups against g and returns each group's scale
// G_g, the least common multiple of its share denominators. Shares are
// read in validator order, so that the error reported for a bad input
// does not depend on map iteration.
func checkGroups(g *Graph, groups []Group) ([]*big.Int, error) {
	scales := make([]*big.Int, len(groups))
	held := make([]*big.Rat, len(g.Validators))
	ids := map[string]bool{}
	for i, gr := range groups {
		entry := fmt.Sprintf("groups[%d]", i)
		if gr.ID == "" {
			return nil, inputErr(entry, "missing id")
		}
		entry += " (" + gr.ID + ")"
		if ids[gr.ID] {
			return nil, inputErr(entry, "duplicate group id %q", gr.ID)
		}
		ids[gr.ID] = true
		scales[i] = big.NewInt(1)
		for _, v := range slices.Sorted(maps.Keys(gr.Share)) {
			e := fmt.Sprintf("%s.share[%d]", entry, v)
			if v < 0 || v >= len(g.Validators) {
				return nil, inputErr(e, "no such validator (the graph has %d)", len(g.Validators))
			}
			if err := unitInterval(e, gr.Share[v]); err != nil {
				return nil, err
			}
			if held[v] == nil {
				held[v] = new(big.Rat)
			}
			held[v].Add(held[v], gr.Share[v])
			scales[i] = lcm(scales[i], gr.Share[v].Denom())
		}
	}
	for v, h := range held {
		if h != nil && h.Cmp(rat(1, 1)) > 0 {
			return nil, inputErr(fmt.Sprintf("validators[%d] (%s)", v, g.Validators[v].ID),
				"group shares sum to %s, above 1", FormatNumber(h))
		}
	}
	return scales, nil
}

// unitInterval refuses a missing number or one outside [0, 1].
func unitInterval(entry string, r *big.Rat) error {
	if r == nil {
		return inputErr(entry, "missing")
	}
	if r.Sign() < 0 || r.Cmp(rat(1, 1)) > 0 {
		return inputErr(entry, "%s is outside [0, 1]", FormatNumber(r))
	}
	return nil
}

func lcm(a, b *big.Int) *big.Int {
	gcd := new(big.Int).GCD(nil, nil, a, b)
	return new(big.Int).Mul(a, new(big.Int).Quo(b, gcd))
}

// layOut fills the flat lists the trials walk, in units of 1/(q*D).
func (mc *mcModel) layOut(m *model, fm FailureModel, groups []Group, D *big.Int,
	grpScale []*big.Int,
) {
	scaled := func(x *uint256.Int, num, den *big.Int) uint256.Int {
		b := new(big.Int).Mul(x.ToBig(), D)
		b.Mul(b, num).Quo(b, den) // exact: den divides D
		var out uint256.Int
		out.SetFromBig(b)
		return out
	}
	one := big.NewInt(1)
	mc.sigma = make([]uint256.Int, mc.nV)
	mc.allocStart = make([]int, 0, mc.nV+1)
	for v := range mc.nV {
		mc.sigma[v] = scaled(&m.sigma[v], one, one)
		mc.allocStart = append(mc.allocStart, len(mc.allocS))
		for _, s := range m.vs[v] {
			mc.allocS = append(mc.allocS, int32(s))
			mc.allocW = append(mc.allocW, scaled(&m.w[v][s], one, one))
		}
	}
	mc.allocStart = append(mc.allocStart, len(mc.allocS))
	mc.hitStart = make([]int, 0, mc.nS+1)
	for s := range mc.nS {
		mc.hitStart = append(mc.hitStart, len(mc.hitV))
		if fm.Slash[s].Sign() == 0 {
			continue
		}
		for _, v := range m.sv[s] {
			mc.hitV = append(mc.hitV, int32(v))
			mc.hitCut = append(mc.hitCut, scaled(&m.w[v][s], fm.Slash[s].Num(), fm.Slash[s].Denom()))
		}
	}
	mc.hitStart = append(mc.hitStart, len(mc.hitV))
	mc.layOutShares(groups, grpScale)
}

// layOutShares turns each share h_gv into the integer h_gv * G_g, listed
// by validator.
func (mc *mcModel) layOutShares(groups []Group, grpScale []*big.Int) {
	byV := make([][]int32, mc.nV)
	for g, gr := range groups {
		for v, h := range gr.Share {
			if h.Sign() > 0 {
				byV[v] = append(byV[v], int32(g))
			}
		}
	}
	mc.shareStart = make([]int, 0, mc.nV+1)
	for v := range mc.nV {
		mc.shareStart = append(mc.shareStart, len(mc.shareG))
		slices.Sort(byV[v])
		for _, g := range byV[v] {
			h := groups[g].Share[v]
			n := new(big.Int).Mul(h.Num(), grpScale[g])
			n.Quo(n, h.Denom())
			var x uint256.Int
			x.SetFromBig(n)
			mc.shareG = append(mc.shareG, g)
			mc.shareN = append(mc.shareN, x)
		}
	}
	mc.shareStart = append(mc.shareStart, len(mc.shareG))
}

// mcWorker is one goroutine's scratch space and accumulators, allocated
// once so that the trial loop allocates nothing. A validator's or a
// service's scratch entry is valid only when its stamp is the current
// trial's, which saves clearing them between trials.
type mcWorker struct {
	mc       *mcModel
	loss     []uint256.Int // L_v
	stampV   []uint64
	touchedV []int32
	secLoss  []uint256.Int // security lost by each service
	stampS   []uint64
	touchedS []int32
	grpLoss  []uint256.Int
	failed   []int32
	failures uint64
	acc      []tailAcc // services, then groups, then the total
}

func (mc *mcModel) worker(k int) *mcWorker {
	w := &mcWorker{mc: mc, loss: make([]uint256.Int, mc.nV), stampV: make([]uint64, mc.nV),
		touchedV: make([]int32, 0, mc.nV), secLoss: make([]uint256.Int, mc.nS),
		stampS: make([]uint64, mc.nS), touchedS: make([]int32, 0, mc.nS),
		grpLoss: make([]uint256.Int, mc.nG), failed: make([]int32, 0, mc.nS),
		acc: make([]tailAcc, mc.nS+mc.nG+1)}
	for i := range w.acc {
		w.acc[i].k = k
	}
	return w
}

// trialStream is trial t's random stream: SplitMix64 started from
// mix64(seed ^ mix64((t+1) * gamma)), so that streams of neighbouring
// trials and seeds are unrelated.
func trialStream(seed uint64, t int) splitmix {
	return splitmix{s: mix64(seed ^ mix64((uint64(t)+1)*splitmixGamma))}
}

// trial runs trial t and adds its losses to the accumulators.
func (w *mcWorker) trial(t int, seed uint64) {
	mc := w.mc
	r := trialStream(seed, t)
	stamp := uint64(t) + 1
	w.failed = w.failed[:0]
	for s := range mc.nS {
		// u * den < num * 2^64  <=>  hi(u * den) < num, as num < 2^64.
		if hi, _ := bits.Mul64(r.next(), mc.pDen[s]); hi < mc.pNum[s] {
			w.failed = append(w.failed, int32(s))
		}
	}
	w.failures += uint64(len(w.failed))
	w.touchedV = w.touchedV[:0]
	for _, s := range w.failed {
		for i := mc.hitStart[s]; i < mc.hitStart[s+1]; i++ {
			v := mc.hitV[i]
			if w.stampV[v] != stamp {
				w.stampV[v] = stamp
				w.loss[v].Clear()
				w.touchedV = append(w.touchedV, v)
			}
			w.loss[v].Add(&w.loss[v], &mc.hitCut[i])
		}
	}
	var total uint256.Int
	for g := range w.grpLoss {
		w.grpLoss[g].Clear()
	}
	w.touchedS = w.touchedS[:0]
	for _, v := range w.touchedV {
		total.Add(&total, w.settle(v, stamp))
	}
	for _, s := range w.touchedS {
		w.acc[s].add(&w.secLoss[s])
	}
	for g := range w.grpLoss {
		w.acc[mc.nS+g].add(&w.grpLoss[g])
	}
	w.acc[mc.nS+mc.nG].add(&total)
}

// settle caps validator v's loss at its stake, charges it to v's groups
// and shrinks v's allocations to what it has left, charging each service
// the security it loses. It returns the capped loss L_v.
func (w *mcWorker) settle(v int32, stamp uint64) *uint256.Int {
	mc := w.mc
	L := &w.loss[v]
	if L.Gt(&mc.sigma[v]) {
		L.Set(&mc.sigma[v])
	}
	var x uint256.Int
	for i := mc.shareStart[v]; i < mc.shareStart[v+1]; i++ {
		x.Mul(&mc.shareN[i], L)
		w.grpLoss[mc.shareG[i]].Add(&w.grpLoss[mc.shareG[i]], &x)
	}
	var left uint256.Int
	left.Sub(&mc.sigma[v], L)
	for i := mc.allocStart[v]; i < mc.allocStart[v+1]; i++ {
		if !mc.allocW[i].Gt(&left) {
			continue // min(w_vs, r_v) = w_vs: s keeps all of it
		}
		s := mc.allocS[i]
		if w.stampS[s] != stamp {
			w.stampS[s] = stamp
			w.secLoss[s].Clear()
			w.touchedS = append(w.touchedS, s)
		}
		x.Sub(&mc.allocW[i], &left)
		w.secLoss[s].Add(&w.secLoss[s], &x)
	}
	return L
}

// tailAcc accumulates one loss over a worker's trials: the sum, and the k
// largest non-zero values in a min-heap. Zero losses need no entry: the
// merge pads with zeros, which is what the missing trials lost. k is the
// size of the 95% tail, N - ceil(0.95 N) + 1, the most any measure reads.
type tailAcc struct {
	sum uint256.Int
	top []uint256.Int // min-heap: top[0] is the least kept
	k   int
}

func (a *tailAcc) add(x *uint256.Int) {
	if x.IsZero() {
		return
	}
	a.sum.Add(&a.sum, x)
	if len(a.top) < a.k {
		a.top = append(a.top, *x)
		for i := len(a.top) - 1; i > 0; { // sift up
			p := (i - 1) / 2
			if !a.top[i].Lt(&a.top[p]) {
				break
			}
			a.top[i], a.top[p] = a.top[p], a.top[i]
			i = p
		}
		return
	}
	if !x.Gt(&a.top[0]) {
		return
	}
	a.top[0] = *x
	for i := 0; ; { // sift down
		l, least := 2*i+1, i
		if l < len(a.top) && a.top[l].Lt(&a.top[least]) {
			least = l
		}
		if l+1 < len(a.top) && a.top[l+1].Lt(&a.top[least]) {
			least = l + 1
		}
		if least == i {
			break
		}
		a.top[i], a.top[least] = a.top[least], a.top[i]
		i = least
	}
}

// tailSize is N - ceil(q*N) + 1 for q = num/den: how many of the largest
// losses the q tail holds.
func tailSize(n, num, den int) int {
	return n - (num*n+den-1)/den + 1
}

// mergeTail combines the accumulators of one loss over n trials into its
// Tail, in units of 1/unit.
func mergeTail(accs []*tailAcc, n int, unit *big.Int) Tail {
	var sum uint256.Int
	var top []uint256.Int
	for _, a := range accs {
		sum.Add(&sum, &a.sum)
		top = append(top, a.top...)
	}
	slices.SortFunc(top, func(a, b uint256.Int) int { return b.Cmp(&a) }) // descending
	k95 := tailSize(n, q95Num, q95Den)
	for len(top) < k95 {
		top = append(top, uint256.Int{}) // the trials that lost nothing
	}
	val := func(x *uint256.Int, count int) *big.Rat {
		return new(big.Rat).SetFrac(x.ToBig(), new(big.Int).Mul(unit, big.NewInt(int64(count))))
	}
	es := func(k int) *big.Rat {
		var s uint256.Int
		for i := range k {
			s.Add(&s, &top[i])
		}
		return val(&s, k)
	}
	k99 := tailSize(n, q99Num, q99Den)
	return Tail{VaR95: val(&top[k95-1], 1), ES95: es(k95), VaR99: val(&top[k99-1], 1), ES99: es(k99),
		Mean: val(&sum, n), Max: val(&top[0], 1)}
}
