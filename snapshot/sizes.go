package snapshot

// Sizes as Flink reports them (getStateSize / getCheckpointedSize), so
// ckpt's numbers match the web UI and REST statistics.

// CheckpointedSize is what a keyed handle uploaded for its checkpoint: the
// incremental delta for incremental and changelog handles, the full size
// otherwise.
func CheckpointedSize(h KeyedHandle) int64 {
	switch h := h.(type) {
	case nil:
		return 0
	case *IncrementalHandle:
		if h.V1 {
			return h.StateSize()
		}
		return h.CheckpointedSize
	case *ChangelogHandle:
		return h.CheckpointedSize
	case *ChangelogFileHandle:
		return h.CheckpointedSize
	}
	return h.StateSize()
}

// StateSize is the full size of everything the subtask's handles refer to.
func (s *SubtaskState) StateSize() int64 {
	n := handleSize(s.ManagedOperatorState) + handleSize(s.RawOperatorState) +
		handleSize(s.ManagedKeyedState) + handleSize(s.RawKeyedState)
	for _, c := range s.InputChannels {
		n += c.Size
	}
	for _, c := range s.OutputChannels {
		n += c.Size
	}
	return n
}

// CheckpointedSize is what the subtask uploaded for this checkpoint.
func (s *SubtaskState) CheckpointedSize() int64 {
	n := handleSize(s.ManagedOperatorState) + handleSize(s.RawOperatorState) +
		CheckpointedSize(s.ManagedKeyedState) + CheckpointedSize(s.RawKeyedState)
	for _, c := range s.InputChannels {
		n += c.Size
	}
	for _, c := range s.OutputChannels {
		n += c.Size
	}
	return n
}

// StateSize is the operator's full state size: every subtask plus the
// coordinator state.
func (o *OperatorState) StateSize() int64 {
	var n int64
	if o.CoordinatorState != nil {
		n += o.CoordinatorState.StateSize()
	}
	for _, s := range o.Subtasks {
		n += s.StateSize()
	}
	return n
}

// CheckpointedSize is what the operator uploaded for this checkpoint.
func (o *OperatorState) CheckpointedSize() int64 {
	var n int64
	if o.CoordinatorState != nil {
		n += o.CoordinatorState.StateSize()
	}
	for _, s := range o.Subtasks {
		n += s.CheckpointedSize()
	}
	return n
}

// StateSize is the total over all operators.
func (m *Metadata) StateSize() int64 {
	var n int64
	for _, o := range m.Operators {
		n += o.StateSize()
	}
	return n
}

// CheckpointedSize is what the snapshot uploaded: the total over all
// operators (Flink's checkpointed_size of a checkpoint).
func (m *Metadata) CheckpointedSize() int64 {
	var n int64
	for _, o := range m.Operators {
		n += o.CheckpointedSize()
	}
	return n
}

// InlineBytes is the state held inside the _metadata itself rather than in
// files: byte-stream handles (small state under the inline threshold) and
// in-memory changelog increments (tag 9, the changelog backend's state
// changes not yet in files: Flink 1.16–1.19 checkpoints carry tens of KiB
// this way).
func (m *Metadata) InlineBytes() int64 {
	var n int64
	m.Walk(func(v Visit) {
		switch h := v.Handle.(type) {
		case *ByteStreamHandle:
			n += int64(len(h.Data))
		case *InMemoryChangelogHandle:
			n += h.StateSize()
		}
	})
	return n
}
