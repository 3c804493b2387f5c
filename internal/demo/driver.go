package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/keys"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/tx"
)

// Driver keeps realistic traffic flowing on a node that runs a generated
// network: each Step submits one round of signed transactions (deposits,
// new stakers, withdrawals and their completions, rewards claims and
// submissions, beacon-chain balance changes, price reports and, rarely, a
// slash), signed with the network's keys.
//
// A step plans its transactions from the node's last committed state and
// skips what would obviously fail (an empty position, a withdrawal not yet
// unlocked, an account with transactions still pending), so that nearly
// every transaction it submits succeeds. Its random choices come from its
// own seed, so the same seed over the same chain makes the same choices.
// A Driver is not safe for concurrent use.
type Driver struct {
	net    *Network
	node   *node.Node
	rng    *rng
	market market

	keys    map[signer]*keys.PrivateKey // signing keys used so far (bounded, see key)
	fresh   []ledger.Address            // addresses of fresh stakers, by index - Stakers
	native  []int                       // staker indexes holding native ETH
	token   []int                       // staker indexes holding LST/LP tokens
	watch   []int                       // staker indexes that may have queued withdrawals
	watched map[int]bool

	opPick, svcPick picker
	priceTS         map[string]uint64 // the last timestamp reported per token
	lastWalk        uint64            // the block time the market last moved at
	nextFresh       int               // the next fresh staker index, minus Stakers
	stats           Stats
}

// Stats counts what a driver did.
type Stats struct {
	Steps     uint64 // Step calls
	Submitted uint64 // transactions the node accepted into its mempool
	// Rejected counts transactions the node refused at Submit (a nonce
	// race with block production, a full mempool). They are not errors of
	// the driver: the next step plans again from the committed state.
	Rejected uint64
	// Skipped counts planned bundles left out because an account they
	// touch still had transactions pending.
	Skipped uint64
}

// Limits of one step: they keep a round to tens, at most a few hundred,
// transactions.
const (
	keyCacheMax      = 50_000 // signing keys kept; past it the cache restarts
	watchChecksMax   = 64     // stakers checked for unlocked withdrawals per step
	heldClearsMax    = 8      // held slashes cleared per step
	freshTriesMax    = 16     // fresh indexes tried per new staker (after a restart)
	slashOneIn       = 20     // a slash every 20 steps on average
	rewardsOneIn     = 8      // a new rewards submission every 8 steps on average
	penaltyOneIn     = 15     // a beacon-chain penalty every 15 steps on average
	redelegateOneIn  = 3      // a redelegation every 3 steps on average
	rewardPriceOneIn = 4      // each reward token's price is reported one step in 4
)

// NewDriver returns a driver for a node running net's genesis. The
// simulated market starts from the node's last reported ETH and reward
// token prices, so a driver restarted on a chain that has run for a while
// continues its prices instead of jumping back to genesis.
func NewDriver(net *Network, n *node.Node, seed uint64) *Driver {
	d := &Driver{net: net, node: n, rng: newRNG(seed, streamDriver), market: net.market,
		keys: map[signer]*keys.PrivateKey{}, watched: map[int]bool{}, priceTS: map[string]uint64{},
		opPick: newPicker(net.opWeights)}
	d.market.rewardUSD = append([]uint256.Int(nil), net.market.rewardUSD...)
	weights := make([]uint64, net.opts.Services)
	for s := range weights {
		weights[s] = serviceWeight(s)
	}
	d.svcPick = newPicker(weights)
	lastToken := -1
	for _, h := range net.holdings {
		switch {
		case h.asset == assetNative: // at most one native holding per staker
			d.native = append(d.native, int(h.staker))
		case int(h.staker) != lastToken:
			d.token = append(d.token, int(h.staker))
			lastToken = int(h.staker)
		}
	}
	for _, w := range net.withdrawals {
		d.watchStaker(int(w.staker))
	}
	n.Read(func(a *app.App) {
		l := a.Ledger()
		if p, ok := l.PriceOf(ledger.NativeToken); ok && !p.USD.IsZero() {
			d.market.eth = p.USD
		}
		for i, t := range d.market.rewardTok {
			if p, ok := l.PriceOf(t); ok && !p.USD.IsZero() {
				d.market.rewardUSD[i] = p.USD
			}
		}
	})
	return d
}

// Stats returns what the driver has done so far.
func (d *Driver) Stats() Stats { return d.stats }

// Run calls Step every interval (one second when every is not positive)
// until ctx ends, when it returns nil. It returns Step's error, which only
// a halted node or a failure to sign causes.
func (d *Driver) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := d.Step(); err != nil {
			return err
		}
	}
}

// signer names the key a transaction is signed with.
type signer struct {
	role string
	i    int
}

// plannedTx is one transaction to sign and submit.
type plannedTx struct {
	from signer
	op   ledger.Op
}

// idleReq requires that an account has no transaction pending: its next
// nonce is still the committed one the plan was made from.
type idleReq struct {
	addr  ledger.Address
	nonce uint64
}

// bundle is transactions that go together (a mint and the deposit it
// funds), submitted in order, the rest dropped when one is refused.
type bundle struct {
	idle []idleReq
	txs  []plannedTx
}

// stepView is the committed state a step plans from, and the accounts the
// step has already given something to do (one bundle per account and step,
// so that no two planned transactions race for the same state).
type stepView struct {
	l            *ledger.Ledger
	height, time uint64
	touched      map[ledger.Address]bool
	bundles      []bundle
}

func (v *stepView) add(b bundle) { v.bundles = append(v.bundles, b) }

// claim marks an account as used by this step; it reports false when it
// already was.
func (v *stepView) claim(a ledger.Address) bool {
	if v.touched[a] {
		return false
	}
	v.touched[a] = true
	return true
}

func (v *stepView) idle(a ledger.Address) idleReq { return idleReq{addr: a, nonce: v.l.TxNonce(a)} }

// Step plans one round of transactions from the last committed block and
// submits them. A refused transaction is counted in Stats, not returned:
// Step fails only when the node has halted or a transaction cannot be
// signed.
func (d *Driver) Step() error {
	if err := d.node.Halted(); err != nil {
		return fmt.Errorf("demo: node halted: %w", err)
	}
	d.stats.Steps++
	v := &stepView{touched: map[ledger.Address]bool{}}
	d.node.Read(func(a *app.App) {
		v.l, v.height, v.time = a.Ledger(), a.Height(), a.Time()
		for _, plan := range []func(*stepView){
			d.planSlash, d.planClearHeld, d.planPrices, d.planBeacon, d.planCompletions, d.planClaims,
			d.planDeposits, d.planNewStakers, d.planWithdrawals, d.planRewards,
		} {
			plan(v)
		}
		v.l = nil // the ledger may only be read under the lock
	})
	for _, b := range v.bundles {
		if err := d.submit(b); err != nil {
			return err
		}
	}
	return nil
}

// submit sends a bundle's transactions in order, each with the sender's
// next nonce.
func (d *Driver) submit(b bundle) error {
	for _, r := range b.idle {
		if d.node.NextNonce(r.addr) != r.nonce {
			d.stats.Skipped++
			return nil
		}
	}
	for _, t := range b.txs {
		k := d.key(t.from)
		nonce := d.node.NextNonce(ledger.Address(k.Address()))
		body := tx.Tx{ChainID: d.node.ChainID(), Nonce: nonce, Op: t.op}
		h, err := body.SigningHash()
		if err != nil {
			return fmt.Errorf("demo: encode %s: %w", t.op.OpName(), err)
		}
		sig, err := k.Sign(h)
		if err != nil {
			return fmt.Errorf("demo: sign %s: %w", t.op.OpName(), err)
		}
		raw, err := tx.Signed{Tx: body, Sig: sig}.Encode()
		if err != nil {
			return fmt.Errorf("demo: encode %s: %w", t.op.OpName(), err)
		}
		if _, lerr := d.node.Submit(raw); lerr != nil {
			d.stats.Rejected++
			return nil
		}
		d.stats.Submitted++
	}
	return nil
}

// key returns a signer's private key. Deriving one costs a scalar
// multiplication, so keys are cached, up to keyCacheMax of them.
func (d *Driver) key(s signer) *keys.PrivateKey {
	if k := d.keys[s]; k != nil {
		return k
	}
	if len(d.keys) >= keyCacheMax {
		clear(d.keys)
	}
	k := d.net.Key(s.role, s.i)
	d.keys[s] = k
	return k
}

// staker returns the address of staker i (a fresh one past the network's
// stakers).
func (d *Driver) staker(i int) ledger.Address {
	if i < len(d.net.stakers) {
		return d.net.stakers[i]
	}
	for len(d.fresh) <= i-len(d.net.stakers) {
		k := d.key(stakerSigner(len(d.net.stakers) + len(d.fresh)))
		d.fresh = append(d.fresh, ledger.Address(k.Address()))
	}
	return d.fresh[i-len(d.net.stakers)]
}

// anyStaker draws a staker of the network or one the driver added.
func (d *Driver) anyStaker() int { return d.rng.intn(len(d.net.stakers) + d.nextFresh) }

func (d *Driver) watchStaker(i int) {
	if !d.watched[i] {
		d.watched[i] = true
		d.watch = append(d.watch, i)
	}
}

func (d *Driver) admin() signer  { return signer{"admin", 0} }
func (d *Driver) oracle() signer { return signer{"oracle", 0} }

func stakerSigner(i int) signer { return signer{"staker", i} }
