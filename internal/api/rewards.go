package api

import (
	"context"
	"strconv"
	"sync"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/node"
	"github.com/restake/restake/internal/rewardtree"
)

// rewardsCache keeps the rewards Merkle tree of one height. Building it
// reads every account, so it is built at most once per height however
// many clients ask.
type rewardsCache struct {
	// mu is held while a tree is built, so that concurrent requests for a
	// new height wait for one build instead of each running their own. It
	// is taken before the node's read lock, never inside it.
	mu    sync.Mutex
	valid bool
	tree  rewardsTree
}

// rewardsTree is the rewards tree of one height.
type rewardsTree struct {
	dist   *rewardtree.Distribution
	height uint64
	names  map[rewardtree.Address]string // token leaf address -> token name
}

// distribution returns the rewards tree of the last committed height.
func (s *server) distribution() (rewardsTree, error) {
	c := &s.rewards
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	s.read(func(a *app.App) {
		if c.valid && c.tree.height == a.Height() {
			return
		}
		l := a.Ledger()
		d, derr := l.RewardsDistribution()
		if derr != nil {
			err = derr
			return
		}
		names := map[rewardtree.Address]string{}
		for _, t := range l.Tokens() {
			names[rewardtree.Address(ledger.TokenAddress(t.Name))] = t.Name
		}
		c.valid, c.tree = true, rewardsTree{dist: d, height: a.Height(), names: names}
	})
	if err != nil {
		return rewardsTree{}, err
	}
	return c.tree, nil
}

// submissions lists the rewards submissions still streaming.
func (s *server) submissions(_ context.Context, in *listInput) (
	*out[Page[ledger.SubmissionView]], error) {
	after, has, perr := parseCursor(in.After, submissionCursorKey)
	if perr != nil {
		return nil, perr
	}
	var p Page[ledger.SubmissionView]
	s.read(func(a *app.App) {
		p = paginate(a.Ledger().Submissions(),
			func(v ledger.SubmissionView) string { return submissionSortKey(v.ID) }, after, has, in.Limit,
			func(v ledger.SubmissionView) string { return strconv.FormatUint(v.ID, 10) })
	})
	for i := range p.Items {
		// Multipliers marshal as null when a submission has none; the
		// schema says array.
		if p.Items[i].Multipliers == nil {
			p.Items[i].Multipliers = []ledger.Amount{}
		}
	}
	return &out[Page[ledger.SubmissionView]]{Body: p}, nil
}

// claimable returns what an earner can claim now and has claimed, per
// token.
func (s *server) claimable(_ context.Context, in *addressInput) (*out[Claimable], error) {
	addr, perr := parseAddress("address", in.Address)
	if perr != nil {
		return nil, perr
	}
	body := Claimable{Address: addr.String(), Tokens: []ClaimableAmount{}}
	s.read(func(a *app.App) {
		l := a.Ledger()
		for _, t := range l.Tokens() {
			c, d := l.Claimable(addr, t.Name), l.Claimed(addr, t.Name)
			if !c.IsZero() || !d.IsZero() {
				body.Tokens = append(body.Tokens,
					ClaimableAmount{Token: t.Name, Claimable: c.Dec(), Claimed: d.Dec()})
			}
		}
	})
	return &out[Claimable]{Body: body}, nil
}

// rewardsRoot returns the root of the cumulative earnings tree.
func (s *server) rewardsRoot(context.Context, *struct{}) (*out[RewardsRoot], error) {
	rt, err := s.distribution()
	if err != nil {
		return nil, internalError(err)
	}
	root := rt.dist.Root()
	body := RewardsRoot{Root: hexBytes(root[:]), Height: rt.height, Earners: rt.dist.Earners()}
	return &out[RewardsRoot]{Body: body}, nil
}

// rewardsProof returns an earner's claim with its proofs.
func (s *server) rewardsProof(_ context.Context, in *addressInput) (*out[RewardsClaim], error) {
	addr, perr := parseAddress("address", in.Address)
	if perr != nil {
		return nil, perr
	}
	rt, err := s.distribution()
	if err != nil {
		return nil, internalError(err)
	}
	c, err := rt.dist.Claim(rewardtree.Address(addr))
	if err != nil {
		return nil, apiError(NameEarnerNotFound, "%s has earned no rewards at height %d, so the tree "+
			"has no leaf for it; see /v1/rewards/claimable/%s", addr, rt.height, addr)
	}
	return &out[RewardsClaim]{Body: claimJSON(c, rt)}, nil
}

// claimJSON renders a claim with 0x hex hashes and proofs.
func claimJSON(c rewardtree.Claim, rt rewardsTree) RewardsClaim {
	out := RewardsClaim{Height: rt.height, Root: hexBytes(c.Root[:]), EarnerIndex: c.EarnerIndex,
		EarnerTreeProof: hexBytes(c.EarnerTreeProof),
		EarnerLeaf: RewardsEarner{Earner: ledger.Address(c.EarnerLeaf.Earner).String(),
			EarnerTokenRoot: hexBytes(c.EarnerLeaf.EarnerTokenRoot[:])},
		TokenIndices: append([]uint32{}, c.TokenIndices...), TokenTreeProofs: []string{},
		TokenLeaves: []RewardsTokenLeaf{}}
	for _, p := range c.TokenTreeProofs {
		out.TokenTreeProofs = append(out.TokenTreeProofs, hexBytes(p))
	}
	for _, t := range c.TokenLeaves {
		out.TokenLeaves = append(out.TokenLeaves, RewardsTokenLeaf{
			Token: ledger.Address(t.Token).String(), Name: rt.names[t.Token],
			CumulativeEarnings: t.CumulativeEarnings.Dec()})
	}
	return out
}

// PublishedRoots is the list of published rewards roots.
type PublishedRoots struct {
	Roots []node.PublishedRoot `json:"roots"`
}

// publishedRoots lists the roots the node published, one per calculation
// interval, oldest first.
func (s *server) publishedRoots(context.Context, *struct{}) (*out[PublishedRoots], error) {
	roots := s.node.PublishedRoots()
	if roots == nil {
		roots = []node.PublishedRoot{}
	}
	return &out[PublishedRoots]{Body: PublishedRoots{Roots: roots}}, nil
}
