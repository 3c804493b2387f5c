package ledger

// registerAVS is AllocationManager.updateAVSMetadataURI: it marks the sender
// as an AVS, which may then create operator sets. Calling it again updates
// the metadata.
func (l *Ledger) registerAVS(sender Address, op RegisterAVS) *Error {
	if len(op.Metadata) > MetadataLenMax {
		return ErrInvalidMetadata
	}
	// After this point the operation must succeed.
	a := l.avss[sender]
	if a == nil {
		a = &avs{}
		l.avss[sender] = a
	}
	a.metadata = op.Metadata
	l.dirty.avs(sender)
	l.emit(Event{Kind: EvAVSRegistered, Account: sender})
	return nil
}

// checkNewStrategies validates strategies being added to set (nil when
// creating it): names, duplicates, the per-set limit, and native ETH in a
// redistributing set.
func checkNewStrategies(set *operatorSet, names []string, redistributing bool) *Error {
	if len(names) > InputArrayMax {
		return ErrInputArrayLengthExceedsMax
	}
	existing := 0
	if set != nil {
		existing = len(set.strategies)
	}
	for i, name := range names {
		if !ValidName(name) {
			return ErrInvalidName
		}
		if set != nil && set.has(name) {
			return ErrStrategyAlreadyInOperatorSet
		}
		for _, prev := range names[:i] {
			if prev == name {
				return ErrStrategyAlreadyInOperatorSet
			}
		}
		if redistributing && name == BeaconStrategy {
			return ErrInvalidStrategy
		}
	}
	if existing+len(names) > SetStrategiesMax {
		return ErrTooManyStrategies
	}
	return nil
}

func (s *operatorSet) has(name string) bool {
	for _, n := range s.strategies {
		if n == name {
			return true
		}
	}
	return false
}

// createOperatorSet is AllocationManager.createOperatorSets (or
// createRedistributingOperatorSets) for one set. A set may name strategies
// that are not whitelisted yet, as in EigenLayer.
func (l *Ledger) createOperatorSet(sender Address, op CreateOperatorSet) *Error {
	if l.avss[sender] == nil {
		return ErrNonexistentAVSMetadata
	}
	key := OperatorSet{AVS: sender, ID: op.ID}
	if l.sets[key] != nil {
		return ErrInvalidOperatorSet
	}
	if op.Redistributing {
		if op.Recipient.IsZero() {
			return ErrInputAddressZero
		}
		if op.Recipient == BurnAddress {
			return ErrInvalidRedistributionRecipient
		}
	}
	if err := checkNewStrategies(nil, op.Strategies, op.Redistributing); err != nil {
		return err
	}
	// After this point the operation must succeed.
	slasher := op.Slasher
	if slasher.IsZero() {
		slasher = sender
	}
	set := &operatorSet{
		key:        key,
		strategies: append([]string(nil), op.Strategies...),
		members:    map[Address]struct{}{},
		slasher:    slasher,
	}
	if op.Redistributing {
		set.recipient = op.Recipient
	}
	l.sets[key] = set
	a := l.avss[sender]
	a.sets = append(a.sets, op.ID)
	l.dirty.avs(sender)
	l.dirty.set(key)
	l.emit(Event{Kind: EvOperatorSetCreated, Set: key, Other: slasher, Account: set.recipient})
	return nil
}

// addStrategies is addStrategiesToOperatorSet: allocations to a strategy
// become slashable the moment the set contains it.
func (l *Ledger) addStrategies(sender Address, op AddStrategies) *Error {
	set := l.sets[OperatorSet{AVS: sender, ID: op.Set}]
	if set == nil {
		return ErrInvalidOperatorSet
	}
	if err := checkNewStrategies(set, op.Strategies, !set.recipient.IsZero()); err != nil {
		return err
	}
	// After this point the operation must succeed.
	set.strategies = append(set.strategies, op.Strategies...)
	l.dirty.set(set.key)
	return nil
}

// removeStrategies is removeStrategiesFromOperatorSet. Existing allocations
// stay (and still count in view_minimum_slashable_stake, as in EigenLayer),
// but the set can no longer slash them.
func (l *Ledger) removeStrategies(sender Address, op RemoveStrategies) *Error {
	set := l.sets[OperatorSet{AVS: sender, ID: op.Set}]
	if set == nil {
		return ErrInvalidOperatorSet
	}
	if len(op.Strategies) > InputArrayMax {
		return ErrInputArrayLengthExceedsMax
	}
	for i, name := range op.Strategies {
		if !set.has(name) {
			return ErrStrategyNotInOperatorSet
		}
		for _, prev := range op.Strategies[:i] {
			if prev == name {
				return ErrStrategyNotInOperatorSet
			}
		}
	}
	// After this point the operation must succeed. EnumerableSet.remove
	// moves the last element into the removed one's place.
	l.dirty.set(set.key)
	for _, name := range op.Strategies {
		for i, n := range set.strategies {
			if n == name {
				last := len(set.strategies) - 1
				set.strategies[i] = set.strategies[last]
				set.strategies = set.strategies[:last]
				break
			}
		}
	}
	return nil
}

// updateSlasher is AllocationManager.updateSlasher: the new slasher takes
// over at now + SLASHER_CONFIGURATION_DELAY + 1; proposing the pending
// slasher again changes nothing.
func (l *Ledger) updateSlasher(sender Address, op UpdateSlasher) *Error {
	set := l.sets[OperatorSet{AVS: sender, ID: op.Set}]
	if set == nil {
		return ErrInvalidOperatorSet
	}
	if op.Slasher.IsZero() {
		return ErrInputAddressZero
	}
	// After this point the operation must succeed.
	set.slasher = l.slasherOf(set)
	l.dirty.set(set.key)
	if set.pendingSlasher == op.Slasher && set.slasherEffect > l.height {
		return nil
	}
	set.pendingSlasher = op.Slasher
	set.slasherEffect = l.height + l.params.SlasherConfigurationDelayBlocks + 1
	l.emit(Event{Kind: EvSlasherUpdated, Set: set.key, Other: op.Slasher, N: set.slasherEffect})
	return nil
}

// slasherOf is getSlasher: the pending slasher once its effect block is
// reached, otherwise the current one.
func (l *Ledger) slasherOf(set *operatorSet) Address {
	if !set.pendingSlasher.IsZero() && l.height >= set.slasherEffect {
		return set.pendingSlasher
	}
	return set.slasher
}

// isSlashable is isOperatorSlashable: registered, or deregistered at most
// DEALLOCATION_DELAY blocks ago (the last block inclusive).
func (l *Ledger) isSlashable(opAcct *account, set OperatorSet) bool {
	if opAcct == nil || opAcct.operator == nil {
		return false
	}
	r := opAcct.operator.registrations[set]
	return r != nil && (r.registered || l.height <= r.slashableUntil)
}

// registerForSets is AllocationManager.registerForOperatorSets. The AVS
// registrar always accepts (scenario-format.md, "Not modelled").
func (l *Ledger) registerForSets(sender Address, op RegisterForSets) *Error {
	if !l.isOperator(sender) {
		return ErrInvalidOperator
	}
	if len(op.Sets) > InputArrayMax {
		return ErrInputArrayLengthExceedsMax
	}
	opAcct := l.accounts[sender]
	for i, id := range op.Sets {
		key := OperatorSet{AVS: op.AVS, ID: id}
		if l.sets[key] == nil {
			return ErrInvalidOperatorSet
		}
		if l.isSlashable(opAcct, key) || containsID(op.Sets[:i], id) {
			return ErrAlreadyMemberOfSet
		}
	}
	// After this point the operation must succeed.
	op2 := opAcct.operator
	for _, id := range op.Sets {
		key := OperatorSet{AVS: op.AVS, ID: id}
		r := op2.registrations[key]
		if r == nil {
			r = &registration{}
			op2.registrations[key] = r
		}
		r.registered = true
		l.sets[key].members[sender] = struct{}{}
		l.dirty.registration(opAcct, key)
		l.emit(Event{Kind: EvOperatorRegisteredToSet, Account: sender, Set: key})
	}
	return nil
}

func containsID(ids []uint32, id uint32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// deregisterFromSets is AllocationManager.deregisterFromOperatorSets: the
// operator or the AVS removes the registration; the operator stays
// slashable through now + DEALLOCATION_DELAY, and its allocations stay.
func (l *Ledger) deregisterFromSets(sender Address, op DeregisterFromSets) *Error {
	if sender != op.Operator && sender != op.AVS {
		return ErrInvalidCaller
	}
	if len(op.Sets) > InputArrayMax {
		return ErrInputArrayLengthExceedsMax
	}
	opAcct := l.accounts[op.Operator]
	for i, id := range op.Sets {
		key := OperatorSet{AVS: op.AVS, ID: id}
		if l.sets[key] == nil {
			return ErrInvalidOperatorSet
		}
		if opAcct == nil || opAcct.operator == nil || containsID(op.Sets[:i], id) {
			return ErrNotMemberOfSet
		}
		if r := opAcct.operator.registrations[key]; r == nil || !r.registered {
			return ErrNotMemberOfSet
		}
	}
	// After this point the operation must succeed.
	until := l.height + l.params.DeallocationDelayBlocks
	for _, id := range op.Sets {
		key := OperatorSet{AVS: op.AVS, ID: id}
		r := opAcct.operator.registrations[key]
		r.registered, r.slashableUntil = false, until
		delete(l.sets[key].members, op.Operator)
		l.dirty.registration(opAcct, key)
		l.emit(Event{Kind: EvOperatorDeregisteredFromSet, Account: op.Operator, Set: key, N: until})
	}
	return nil
}
