package api

import (
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/holiman/uint256"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
	"github.com/restake/restake/internal/statetree"
)

// Page is one page of a list. Lists are in a fixed order (addresses
// bytewise, names alphabetically, ids numerically); Next is the key of the
// page's last item when more follow, to pass back as ?after=.
type Page[T any] struct {
	Items []T    `json:"items" doc:"The items of this page, in the list's order."`
	Next  string `json:"next" doc:"The cursor of the next page (pass it as ?after=); empty on the last page."`
}

// StateRecord is one raw state record with, when asked for, its proof. The
// value, proof, height and app hash are read under one lock, so they
// describe the same committed state: a client that trusts the app hash of
// that height can check the value with statetree.Verify.
type StateRecord struct {
	Key     string           `json:"key" doc:"The record key, 0x hex."`
	Value   *string          `json:"value" doc:"The record value, 0x hex; null when the record is absent."`
	Proof   *statetree.Proof `json:"proof,omitempty" doc:"A membership (or, for a null value, non-membership) proof against app_hash."`
	Height  uint64           `json:"height" doc:"The height of the state the record was read at."`
	AppHash string           `json:"app_hash" doc:"The app hash of that height, 0x hex."`
}

// Status is the chain's head and the node's load.
type Status struct {
	ChainID  string `json:"chain_id"`
	Version  string `json:"version,omitempty" doc:"The node software's version."`
	Height   uint64 `json:"height" doc:"The last committed height."`
	Time     uint64 `json:"time" doc:"The last committed block's time, unix seconds."`
	AppHash  string `json:"app_hash" doc:"The last committed app hash, 0x hex."`
	Mempool  int    `json:"mempool" doc:"Transactions waiting for a block."`
	Accounts int    `json:"accounts" doc:"Accounts in the state."`
	Halted   string `json:"halted,omitempty" doc:"Why block production stopped; absent while it runs."`
}

// Health is the body of /healthz.
type Health struct {
	Status string `json:"status" enum:"ok,halted"`
	Height uint64 `json:"height"`
	Error  string `json:"error,omitempty" doc:"Why the node halted."`
}

// SubmitRequest carries one transaction or a batch: exactly one of tx and
// txs. Each transaction is its signed encoding (package tx) in 0x hex.
type SubmitRequest struct {
	Tx  string   `json:"tx,omitempty" doc:"One signed transaction, 0x hex." example:"0x01..."`
	Txs []string `json:"txs,omitempty" maxItems:"1000" doc:"A batch of signed transactions, 0x hex each, submitted in order."`
}

// SubmitResult is what happened to one submitted transaction.
type SubmitResult struct {
	Hash    string        `json:"hash,omitempty" doc:"The transaction id, keccak256 of its bytes, 0x hex."`
	Status  string        `json:"status" enum:"pending,committed,rejected" doc:"pending: in the mempool; committed: in a block (see error for the operation's outcome); rejected: refused at intake, nothing changed."`
	Error   string        `json:"error,omitempty" doc:"The stable error name of a rejection, or of the committed operation's failure."`
	Message string        `json:"message,omitempty" doc:"What to do about the error, or why the result is still pending."`
	Result  *app.TxResult `json:"result,omitempty" doc:"The committed result (with ?wait=true)."`
}

// SubmitResponse lists the results in request order.
type SubmitResponse struct {
	Results []SubmitResult `json:"results"`
}

// TxStatus is a transaction's state: pending, or committed with its result.
type TxStatus struct {
	Status string `json:"status" enum:"pending,committed"`
	*app.TxResult
}

// TransformSchema marks only status as required in the document: a
// pending transaction has no result fields.
func (TxStatus) TransformSchema(_ huma.Registry, s *huma.Schema) *huma.Schema {
	s.Required = []string{"status"}
	return s
}

// BlockResponse is a committed block: its header, transaction ids and
// results.
type BlockResponse struct {
	Height  uint64           `json:"height"`
	Time    uint64           `json:"time"`
	AppHash string           `json:"app_hash"`
	Txs     []string         `json:"txs" doc:"The transaction ids in block order, 0x hex."`
	Results *app.BlockResult `json:"results"`
}

// Nonce is the nonce an account's next transaction must carry, counting its
// transactions still in the mempool.
type Nonce struct {
	Address string `json:"address"`
	Nonce   uint64 `json:"nonce"`
}

// AccountSummary is one line of the account list.
type AccountSummary struct {
	Address           ledger.Address  `json:"address"`
	Nonce             uint64          `json:"nonce"`
	DelegatedTo       *ledger.Address `json:"delegated_to,omitempty"`
	IsOperator        bool            `json:"is_operator"`
	Positions         int             `json:"positions" doc:"Strategies the account holds shares in."`
	QueuedWithdrawals int             `json:"queued_withdrawals"`
}

// Withdrawal is a queued withdrawal with how long it still waits.
type Withdrawal struct {
	ID              ledger.WithdrawalID `json:"id"`
	Staker          ledger.Address      `json:"staker"`
	Operator        ledger.Address      `json:"operator"`
	StartBlock      uint64              `json:"start_block"`
	UnlockBlock     uint64              `json:"unlock_block" doc:"The first block that can complete it."`
	UnlocksInBlocks uint64              `json:"unlocks_in_blocks" doc:"Blocks to wait before a completion can be sent; 0 when the next block can complete it."`
	Strategies      []string            `json:"strategies"`
	Shares          []string            `json:"shares" doc:"Shares it would pay now per strategy, after slashes (decimal)."`
	Proof           *StateRecord        `json:"proof,omitempty" doc:"With ?prove=true: the w/<id> record and its proof."`
}

// Account is everything about one address: balances, positions with their
// withdrawable shares after slashes, queued withdrawals and rewards.
type Account struct {
	Address     ledger.Address           `json:"address"`
	Nonce       uint64                   `json:"nonce" doc:"The committed nonce (its next transaction's, ignoring the mempool)."`
	DelegatedTo *ledger.Address          `json:"delegated_to,omitempty"`
	IsOperator  bool                     `json:"is_operator"`
	Balances    []ledger.TokenAmountView `json:"balances"`
	Positions   []ledger.PositionView    `json:"positions"`
	Pod         *ledger.PodView          `json:"pod,omitempty"`
	Withdrawals []Withdrawal             `json:"queued_withdrawals"`
	Claimable   []ledger.TokenAmountView `json:"claimable"`
	Claimed     []ledger.TokenAmountView `json:"claimed"`
	Proof       *StateRecord             `json:"proof,omitempty" doc:"With ?prove=true: the a/<address> record and its proof."`
}

// Operator is an operator's view; its proof covers the o/<address> header
// record (approver, metadata, allocation delay).
type Operator struct {
	ledger.OperatorView
	Proof *StateRecord `json:"proof,omitempty"`
}

// AVS is a service's view; its proof covers the v/<address> record.
type AVS struct {
	ledger.AVSView
	Proof *StateRecord `json:"proof,omitempty"`
}

// Set is an operator set's view; its proof covers the e/<avs><id> record.
type Set struct {
	ledger.SetView
	Proof *StateRecord `json:"proof,omitempty"`
}

// Strategy is a strategy's view; its proof covers the s/<name> record (the
// native beaconETH strategy has none, so its proof shows absence).
type Strategy struct {
	ledger.StrategyView
	Proof *StateRecord `json:"proof,omitempty"`
}

// Token is a token's view; its proof covers the t/<name> record.
type Token struct {
	ledger.TokenView
	Proof *StateRecord `json:"proof,omitempty"`
}

// Price is a token's last reported price; its proof covers the p/<token>
// record.
type Price struct {
	Token     string         `json:"token"`
	PriceUSD  string         `json:"price_usd" doc:"USD price, decimal, 1e18 = $1."`
	Timestamp uint64         `json:"timestamp" doc:"When the oracle observed it, unix seconds."`
	Oracle    ledger.Address `json:"oracle"`
	Stale     bool           `json:"stale" doc:"The observation is older than the staleness window before the last block's time."`
	Proof     *StateRecord   `json:"proof,omitempty"`
}

// Claimable is what an earner can claim now and has claimed, per token.
type Claimable struct {
	Address string            `json:"address"`
	Tokens  []ClaimableAmount `json:"tokens" doc:"Tokens with something claimable or claimed."`
}

// ClaimableAmount is one token's claimable and claimed amounts.
type ClaimableAmount struct {
	Token     string `json:"token"`
	Claimable string `json:"claimable" doc:"Decimal."`
	Claimed   string `json:"claimed" doc:"Decimal."`
}

// RewardsRoot is the Merkle root of every earner's cumulative earnings.
type RewardsRoot struct {
	Root    string `json:"root" doc:"0x hex."`
	Height  uint64 `json:"height" doc:"The height whose state the root covers."`
	Earners int    `json:"earners"`
}

// RewardsClaim is rewardtree.Claim in JSON, hashes and proofs in 0x hex:
// what a claimant sends to RewardsCoordinator.processClaim.
type RewardsClaim struct {
	Height          uint64             `json:"height" doc:"The height whose state the claim covers."`
	Root            string             `json:"root"`
	EarnerIndex     uint32             `json:"earner_index"`
	EarnerTreeProof string             `json:"earner_tree_proof" doc:"Concatenated 32-byte siblings, 0x hex."`
	EarnerLeaf      RewardsEarner      `json:"earner_leaf"`
	TokenIndices    []uint32           `json:"token_indices"`
	TokenTreeProofs []string           `json:"token_tree_proofs"`
	TokenLeaves     []RewardsTokenLeaf `json:"token_leaves"`
}

// RewardsEarner is an earner leaf.
type RewardsEarner struct {
	Earner          string `json:"earner"`
	EarnerTokenRoot string `json:"earner_token_root"`
}

// RewardsTokenLeaf is a token leaf; Name is the ledger's name of the token
// whose leaf address Token is (ledger.TokenAddress).
type RewardsTokenLeaf struct {
	Token              string `json:"token"`
	Name               string `json:"name,omitempty"`
	CumulativeEarnings string `json:"cumulative_earnings" doc:"Decimal."`
}

// eventDoc documents ledger.Event's JSON form (its MarshalJSON), which the
// Go struct does not show.
type eventDoc struct {
	Kind     string     `json:"kind" doc:"The event kind, e.g. Deposited, OperatorSlashed."`
	Account  string     `json:"account,omitempty"`
	Other    string     `json:"other,omitempty"`
	Caller   string     `json:"caller,omitempty"`
	Set      *setRefDoc `json:"set,omitempty"`
	Strategy string     `json:"strategy,omitempty"`
	Token    string     `json:"token,omitempty"`
	ID       string     `json:"id,omitempty"`
	N        string     `json:"n,omitempty" doc:"Decimal."`
	Amount   string     `json:"amount,omitempty" doc:"Decimal."`
	Amount2  string     `json:"amount2,omitempty" doc:"Decimal."`
}

// setRefDoc is an operator set as events name it.
type setRefDoc struct {
	AVS string `json:"avs"`
	ID  uint32 `json:"id"`
}

// proofDoc documents statetree.Proof's JSON form.
type proofDoc struct {
	Bucket   uint32         `json:"bucket"`
	Entries  []proofItemDoc `json:"entries"`
	Siblings []string       `json:"siblings" doc:"16 hashes, 0x hex, nearest the leaf first."`
}

// proofItemDoc is one entry of a proof's bucket.
type proofItemDoc struct {
	KeyHash   string `json:"key_hash"`
	ValueHash string `json:"value_hash"`
}

// registerAliases tells huma's schema generator what the JSON of types
// with their own MarshalJSON looks like, so that the OpenAPI document
// describes the wire format rather than the Go structs.
func registerAliases(r huma.Registry) {
	str := reflect.TypeFor[string]()
	for _, t := range []reflect.Type{
		reflect.TypeFor[ledger.Address](), reflect.TypeFor[ledger.Amount](),
		reflect.TypeFor[ledger.WithdrawalID](), reflect.TypeFor[uint256.Int](),
	} {
		r.RegisterTypeAlias(t, str)
	}
	r.RegisterTypeAlias(reflect.TypeFor[ledger.Event](), reflect.TypeFor[eventDoc]())
	r.RegisterTypeAlias(reflect.TypeFor[statetree.Proof](), reflect.TypeFor[proofDoc]())
	r.RegisterTypeAlias(reflect.TypeFor[json.RawMessage](), reflect.TypeFor[map[string]any]())
}
