package snapshot

// Magic is the first 4 bytes of every `_metadata` file.
const Magic uint32 = 0x4960672D

// Metadata format versions (the int after the magic).
const (
	// VersionLegacyMax: versions 0 and 1 were written by Flink ≤ 1.2; current
	// Flink refuses them and so does ckpt.
	VersionLegacyMax = 1
	// Version2: Flink 1.3–1.10.
	Version2 = 2
	// Version3: Flink 1.11–1.15; adds coordinator state, channel state and
	// finished-subtask markers.
	Version3 = 3
	// Version4: Flink 1.16–1.20; V3 plus the CheckpointProperties trailer.
	Version4 = 4
	// Version5: Flink 2.0; V4 plus operator name and uid.
	Version5 = 5
	// Version6: Flink 2.1–2.3; V5 plus a kind byte on channel-state handles
	// (merged channel handles).
	Version6 = 6
	// Version7: apache/flink master only (not in a release up to 2.3): V6
	// plus an optional regional-checkpoint reference id per subtask.
	Version7 = 7

	// VersionMin and VersionMax bound what this package reads and writes.
	VersionMin = Version2
	VersionMax = Version7
	// VersionWrite is what a writer targeting released Flink 2.x should emit
	// (the version Flink 2.1–2.3 write).
	VersionWrite = Version6
)

// Metadata is one decoded `_metadata` file.
type Metadata struct {
	// Version is the format version (2..7).
	Version int
	// CheckpointID is the checkpoint (or savepoint) number; never negative.
	CheckpointID int64
	// MasterStates are the states of master hooks (rare).
	MasterStates []MasterState
	// Operators in file order.
	Operators []*OperatorState
	// Trailer is the raw V4+ trailer: one Java-serialized
	// org.apache.flink.runtime.checkpoint.CheckpointProperties object. Nil
	// for V2/V3. Properties() parses it; SetProperties replaces it.
	Trailer []byte

	// Location is where the file was read from (the `_metadata` URI) and
	// ExclusiveDir is the directory relative handles resolve against (the
	// directory holding `_metadata`). Both are empty for bytes decoded
	// without a location. They are not part of the encoded form.
	Location     string
	ExclusiveDir string
}

// Properties parses the trailer. ok is false for V2/V3 files (no trailer).
func (m *Metadata) Properties() (p Properties, ok bool, err error) {
	if len(m.Trailer) == 0 {
		return Properties{}, false, nil
	}
	p, err = ParseProperties(m.Trailer)
	return p, err == nil, err
}

// SetProperties encodes p as the V4+ trailer.
func (m *Metadata) SetProperties(p Properties) error {
	b, err := p.Encode()
	if err != nil {
		return err
	}
	m.Trailer = b
	return nil
}

// Operator returns the operator state with the given ID, or nil.
func (m *Metadata) Operator(id OperatorID) *OperatorState {
	for _, op := range m.Operators {
		if op.ID == id {
			return op
		}
	}
	return nil
}

// MasterState is the state of one master hook. Flink frames it as a block
// (magic 0xC96B1696, length, then version, name, payload).
type MasterState struct {
	Version int32
	Name    string
	Payload []byte
}

// OperatorState is the state of one operator across its subtasks.
type OperatorState struct {
	// Name and UID are stored from V5 (Flink 2.x) on; "" means not set.
	// For older files the uid must be supplied by the user (see
	// OperatorIDFromUID).
	Name string
	UID  string
	// ID is the operator ID: OperatorIDFromUID(uid) when a uid was set,
	// otherwise generated from the topology.
	ID             OperatorID
	Parallelism    int32
	MaxParallelism int32
	// CoordinatorState is the operator coordinator's state (V3+, e.g. a
	// FLIP-27 source's split enumerator); nil when absent.
	CoordinatorState *ByteStreamHandle
	// FullyFinished marks an operator whose every subtask had finished when
	// the checkpoint was taken (V3+). It then has no subtasks and no
	// coordinator state.
	FullyFinished bool
	// Subtasks in file order. Finished subtasks (V3+) are entries with
	// Finished set and no handles.
	Subtasks []*SubtaskState

	// LegacyChainLength is the V2-only int after maxParallelism (Flink
	// writes 1 and ignores it on read); kept as read so bytes round-trip.
	LegacyChainLength int32
}

// Subtask returns the state of subtask index, or nil.
func (o *OperatorState) Subtask(index int32) *SubtaskState {
	for _, s := range o.Subtasks {
		if s.Index == index {
			return s
		}
	}
	return nil
}

// NewOperatorState starts an operator state for a user uid (ID derived from
// it) with the given parallelism and max parallelism.
func NewOperatorState(uid, name string, parallelism, maxParallelism int32) *OperatorState {
	return &OperatorState{
		Name: name, UID: uid, ID: OperatorIDFromUID(uid),
		Parallelism: parallelism, MaxParallelism: maxParallelism,
	}
}

// SubtaskState is the state one subtask acknowledged. Each slot holds at most
// one handle; nil means none.
type SubtaskState struct {
	Index int32
	// Finished: the subtask had finished (V3+); it has no state.
	Finished bool

	ManagedOperatorState OperatorHandle
	RawOperatorState     OperatorHandle
	ManagedKeyedState    KeyedHandle
	RawKeyedState        KeyedHandle

	// InputChannels and OutputChannels are in-flight data of unaligned
	// checkpoints (V3+): input-channel and result-subpartition handles.
	InputChannels  []*ChannelHandle
	OutputChannels []*ChannelHandle

	// HasRefCheckpointID and RefCheckpointID: V7 regional checkpoints,
	// the checkpoint this subtask's state was reused from.
	HasRefCheckpointID bool
	RefCheckpointID    int64

	// LegacyDuration is the V2-only long in front of each subtask state
	// (ignored by Flink on read); kept as read so bytes round-trip.
	LegacyDuration int64
}

// HasState reports whether the subtask holds any handle.
func (s *SubtaskState) HasState() bool {
	return s.ManagedOperatorState != nil || s.RawOperatorState != nil ||
		s.ManagedKeyedState != nil || s.RawKeyedState != nil ||
		len(s.InputChannels) > 0 || len(s.OutputChannels) > 0
}
