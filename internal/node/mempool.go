package node

import (
	"sync"

	"github.com/restake/restake/internal/app"
	"github.com/restake/restake/internal/ledger"
)

// mempool holds admitted transactions in arrival order. Each sender's
// transactions must arrive with consecutive nonces, so arrival order is
// also nonce order and a block can take them first-in first-out.
type mempool struct {
	mu      sync.Mutex
	max     int
	queue   []app.Checked
	byHash  map[[32]byte]struct{}
	pending map[ledger.Address]uint64 // transactions waiting per sender
}

func (m *mempool) init(max int) {
	m.max = max
	m.byHash = map[[32]byte]struct{}{}
	m.pending = map[ledger.Address]uint64{}
}

// add admits c if its nonce is the sender's next: committed (the ledger's
// nonce) plus what the sender has waiting.
func (m *mempool) add(c app.Checked, committed uint64) *ledger.Error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.byHash[c.Hash]; dup {
		return ledger.ErrTxAlreadyKnown
	}
	next := committed + m.pending[c.Sender]
	switch {
	case c.Tx.Tx.Nonce < next:
		return ledger.ErrNonceTooLow
	case c.Tx.Tx.Nonce > next:
		return ledger.ErrNonceTooHigh
	}
	if len(m.queue) >= m.max {
		return ledger.ErrMempoolFull
	}
	m.queue = append(m.queue, c)
	m.byHash[c.Hash] = struct{}{}
	m.pending[c.Sender]++
	return nil
}

// take removes and returns up to n transactions, oldest first. They stay
// counted (for nonces and duplicates) until done is called after their
// block commits: until then the ledger's nonce does not include them.
func (m *mempool) take(n int) []app.Checked {
	m.mu.Lock()
	defer m.mu.Unlock()
	n = min(n, len(m.queue))
	out := append([]app.Checked(nil), m.queue[:n]...)
	m.queue = append(m.queue[:0:0], m.queue[n:]...)
	return out
}

// done forgets transactions whose block committed (or failed).
func (m *mempool) done(batch []app.Checked) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range batch {
		delete(m.byHash, c.Hash)
		if m.pending[c.Sender]--; m.pending[c.Sender] == 0 {
			delete(m.pending, c.Sender)
		}
	}
}

func (m *mempool) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue)
}

func (m *mempool) has(h [32]byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.byHash[h]
	return ok
}

func (m *mempool) pendingOf(a ledger.Address) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pending[a]
}
