package snapshot

// Slot names where a handle sits in a subtask (or operator) state.
type Slot string

const (
	SlotCoordinator     Slot = "coordinator"
	SlotManagedOperator Slot = "managed-operator"
	SlotRawOperator     Slot = "raw-operator"
	SlotManagedKeyed    Slot = "managed-keyed"
	SlotRawKeyed        Slot = "raw-keyed"
	SlotInputChannel    Slot = "input-channel"
	SlotOutputChannel   Slot = "output-channel"
)

// Role says what a stream handle is for inside its enclosing handle.
type Role string

const (
	RoleData         Role = "data"         // the state bytes themselves
	RoleMeta         Role = "meta"         // an incremental snapshot's meta-data stream
	RoleShared       Role = "shared"       // a shared file of an incremental snapshot
	RolePrivate      Role = "private"      // a private file of an incremental snapshot
	RoleChangelog    Role = "changelog"    // a changelog file part
	RoleChannel      Role = "channel"      // in-flight data of unaligned checkpoints
	RoleCoordinator  Role = "coordinator"  // operator coordinator state
	RoleMaterialized Role = "materialized" // under a changelog handle's materialized part
)

// Visit is what Walk reports for every handle it meets.
type Visit struct {
	Operator *OperatorState
	Subtask  *SubtaskState // nil for coordinator state
	Slot     Slot
	// Handle is the handle met: a KeyedHandle, OperatorHandle or
	// StreamHandle; nil when Channel is set.
	Handle Handle
	// Channel is set for an in-flight-data handle (Handle is then nil).
	Channel *ChannelHandle
	// Role and LocalName describe a stream handle inside an enclosing one
	// (LocalName: the backend's file name for incremental files).
	Role      Role
	LocalName string
	// Depth is 0 for a slot's top-level handle and grows when nested.
	Depth int
}

// Walk calls fn for every handle in m, depth first: each top-level handle
// of a slot, then the handles nested in it (stream handles of an
// incremental handle, changelog parts, delegates).
func (m *Metadata) Walk(fn func(Visit)) {
	for _, op := range m.Operators {
		if op.CoordinatorState != nil {
			fn(Visit{Operator: op, Slot: SlotCoordinator, Handle: op.CoordinatorState, Role: RoleCoordinator})
		}
		for _, st := range op.Subtasks {
			w := walker{op: op, st: st, fn: fn}
			if st.ManagedOperatorState != nil {
				w.operator(SlotManagedOperator, st.ManagedOperatorState)
			}
			if st.RawOperatorState != nil {
				w.operator(SlotRawOperator, st.RawOperatorState)
			}
			if st.ManagedKeyedState != nil {
				w.keyed(SlotManagedKeyed, st.ManagedKeyedState, "", 0)
			}
			if st.RawKeyedState != nil {
				w.keyed(SlotRawKeyed, st.RawKeyedState, "", 0)
			}
			for _, c := range st.InputChannels {
				w.channel(SlotInputChannel, c)
			}
			for _, c := range st.OutputChannels {
				w.channel(SlotOutputChannel, c)
			}
		}
	}
}

type walker struct {
	op *OperatorState
	st *SubtaskState
	fn func(Visit)
}

func (w walker) visit(slot Slot, h Handle, role Role, name string, depth int) {
	w.fn(Visit{Operator: w.op, Subtask: w.st, Slot: slot, Handle: h, Role: role, LocalName: name, Depth: depth})
}

func (w walker) operator(slot Slot, h OperatorHandle) {
	w.visit(slot, h, "", "", 0)
	if osh, ok := h.(*OperatorStreamHandle); ok && osh.Delegate != nil {
		w.stream(slot, osh.Delegate, RoleData, "", 1)
	}
}

func (w walker) channel(slot Slot, c *ChannelHandle) {
	w.fn(Visit{Operator: w.op, Subtask: w.st, Slot: slot, Channel: c})
	if c.Delegate != nil {
		w.stream(slot, c.Delegate, RoleChannel, "", 1)
	}
}

func (w walker) stream(slot Slot, h StreamHandle, role Role, name string, depth int) {
	w.visit(slot, h, role, name, depth)
	if kg, ok := h.(*KeyGroupsHandle); ok && kg.Delegate != nil {
		w.stream(slot, kg.Delegate, RoleData, "", depth+1)
	}
}

func (w walker) keyed(slot Slot, h KeyedHandle, role Role, depth int) {
	w.visit(slot, h, role, "", depth)
	switch h := h.(type) {
	case *KeyGroupsHandle:
		if h.Delegate != nil {
			w.stream(slot, h.Delegate, RoleData, "", depth+1)
		}
	case *IncrementalHandle:
		if h.Meta != nil {
			w.stream(slot, h.Meta, RoleMeta, "", depth+1)
		}
		for _, f := range h.Shared {
			if f.Handle != nil {
				w.stream(slot, f.Handle, RoleShared, f.LocalName, depth+1)
			}
		}
		for _, f := range h.Private {
			if f.Handle != nil {
				w.stream(slot, f.Handle, RolePrivate, f.LocalName, depth+1)
			}
		}
	case *ChangelogHandle:
		for _, k := range h.Materialized {
			if k != nil {
				w.keyed(slot, k, RoleMaterialized, depth+1)
			}
		}
		for _, k := range h.NonMaterialized {
			if k != nil {
				w.keyed(slot, k, RoleChangelog, depth+1)
			}
		}
	case *ChangelogFileHandle:
		for _, p := range h.Parts {
			if p.Handle != nil {
				w.stream(slot, p.Handle, RoleChangelog, "", depth+1)
			}
		}
	}
}
