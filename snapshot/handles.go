package snapshot

import (
	"fmt"

	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// Tag is the one-byte type code in front of every state handle. All handle
// kinds share one code space; which kinds may appear depends on the slot
// (stream, keyed, operator).
type Tag uint8

const (
	TagNull                Tag = 0  // no handle, any slot
	TagByteStream          Tag = 1  // stream: bytes inline in _metadata
	TagFile                Tag = 2  // stream: absolute file path
	TagKeyGroups           Tag = 3  // keyed (and legacy stream): key-groups handle v1, no id
	TagOperatorStream      Tag = 4  // operator: partitionable operator state
	TagIncrementalV1       Tag = 5  // keyed: incremental (RocksDB) handle v1
	TagRelativeFile        Tag = 6  // stream: file relative to the snapshot's dir
	TagSavepointKeyGroups  Tag = 7  // keyed: key-groups handle of a canonical savepoint
	TagChangelogV1         Tag = 8  // keyed: changelog backend handle v1
	TagInMemoryChangelog   Tag = 9  // keyed: changelog increment held inline
	TagChangelogFileV1     Tag = 10 // keyed: changelog increment in files, v1
	TagIncrementalV2       Tag = 11 // keyed: incremental handle v2 (with checkpointed size and id)
	TagKeyGroupsV2         Tag = 12 // keyed: key-groups handle v2 (with id)
	TagChangelogFileV2     Tag = 13 // keyed: changelog increment in files, v2
	TagChangelogV2         Tag = 14 // keyed: changelog backend handle v2
	TagSegmentFile         Tag = 15 // stream: a segment of a merged file (file merging, 1.20+)
	TagEmptySegmentFile    Tag = 16 // stream: empty placeholder segment
	TagFileMergingOperator Tag = 17 // operator: partitionable state in merged files
	tagCount                   = 18
)

var tagNames = [tagCount]string{
	"null", "ByteStreamStateHandle", "FileStateHandle", "KeyGroupsStateHandle",
	"OperatorStreamStateHandle", "IncrementalRemoteKeyedStateHandle(v1)", "RelativeFileStateHandle",
	"KeyGroupsSavepointStateHandle", "ChangelogStateBackendHandle(v1)", "InMemoryChangelogStateHandle",
	"ChangelogStateHandleStreamImpl(v1)", "IncrementalRemoteKeyedStateHandle", "KeyGroupsStateHandle(v2)",
	"ChangelogStateHandleStreamImpl", "ChangelogStateBackendHandle", "SegmentFileStateHandle",
	"EmptySegmentFileStateHandle", "FileMergingOperatorStreamStateHandle",
}

// String is Flink's class name for the tag.
func (t Tag) String() string {
	if int(t) < len(tagNames) {
		return tagNames[t]
	}
	return fmt.Sprintf("unknown(%d)", uint8(t))
}

// KeyGroupRange is a range of key groups as Flink stores it: first key
// group and how many (Count 0 = the empty range).
type KeyGroupRange struct {
	Start int32
	Count int32
}

// End is the last key group (inclusive); Start-1 for the empty range.
func (r KeyGroupRange) End() int32 { return r.Start + r.Count - 1 }

// Contains reports whether key group g is in the range.
func (r KeyGroupRange) Contains(g int32) bool { return g >= r.Start && g < r.Start+r.Count }

func (r KeyGroupRange) String() string {
	if r.Count == 0 {
		return "[]"
	}
	return fmt.Sprintf("[%d..%d]", r.Start, r.End())
}

// KeyGroupRangeFor is the key-group range subtask owns at the given
// parallelism and max parallelism, with Flink's formula.
func KeyGroupRangeFor(maxParallelism, parallelism, subtask int32) KeyGroupRange {
	r := keygroup.RangeFor(int(maxParallelism), int(parallelism), int(subtask))
	return KeyGroupRange{Start: int32(r.Start), Count: int32(r.Len())}
}

// Handle is any state handle.
type Handle interface {
	// Tag is the type code the handle is written with.
	Tag() Tag
	// StateSize is Flink's getStateSize(): the full size of the state the
	// handle refers to (files plus inline bytes).
	StateSize() int64
}

// StreamHandle is a handle in a "stream" slot: a sequence of bytes, inline
// or in a file. Implementations: *ByteStreamHandle, *FileHandle,
// *RelativeFileHandle, *SegmentFileHandle, *EmptySegmentFileHandle and, for
// legacy files, *KeyGroupsHandle.
type StreamHandle interface {
	Handle
	streamHandle()
}

// KeyedHandle is a handle in a keyed-state slot. Implementations:
// *KeyGroupsHandle, *IncrementalHandle, *ChangelogHandle,
// *InMemoryChangelogHandle, *ChangelogFileHandle.
type KeyedHandle interface {
	Handle
	KeyGroups() KeyGroupRange
	keyedHandle()
}

// OperatorHandle is a handle in an operator-state slot:
// *OperatorStreamHandle.
type OperatorHandle interface {
	Handle
	operatorHandle()
}

// ---- stream handles -------------------------------------------------------

// ByteStreamHandle (tag 1) holds its bytes inline in `_metadata` (state
// smaller than Flink's memory threshold, 20 KB by default).
type ByteStreamHandle struct {
	Name string
	Data []byte
}

func (*ByteStreamHandle) Tag() Tag           { return TagByteStream }
func (h *ByteStreamHandle) StateSize() int64 { return int64(len(h.Data)) }
func (*ByteStreamHandle) streamHandle()      {}

// FileHandle (tag 2) is a file at an absolute URI (file:/…, hdfs://…, s3://…).
type FileHandle struct {
	Path string
	Size int64
}

// NewFileHandle is a handle for an absolute file URI.
func NewFileHandle(path string, size int64) *FileHandle { return &FileHandle{Path: path, Size: size} }

func (*FileHandle) Tag() Tag           { return TagFile }
func (h *FileHandle) StateSize() int64 { return h.Size }
func (*FileHandle) streamHandle()      {}

// RelativeFileHandle (tag 6) names a file inside the snapshot's own
// (exclusive) directory; it is what makes savepoints relocatable. The path
// stays symbolic: Resolve joins it with the directory `_metadata` was read
// from.
type RelativeFileHandle struct {
	RelativePath string
	Size         int64
}

// NewRelativeFileHandle is a handle for a file in the snapshot's directory.
func NewRelativeFileHandle(relativePath string, size int64) *RelativeFileHandle {
	return &RelativeFileHandle{RelativePath: relativePath, Size: size}
}

func (*RelativeFileHandle) Tag() Tag           { return TagRelativeFile }
func (h *RelativeFileHandle) StateSize() int64 { return h.Size }
func (*RelativeFileHandle) streamHandle()      {}

// SegmentScope says who owns a merged file segment (file merging, 1.20+).
type SegmentScope int32

const (
	ScopeExclusive SegmentScope = 0
	ScopeShared    SegmentScope = 1
)

func (s SegmentScope) String() string {
	switch s {
	case ScopeExclusive:
		return "EXCLUSIVE"
	case ScopeShared:
		return "SHARED"
	}
	return fmt.Sprintf("SegmentScope(%d)", int32(s))
}

// SegmentFileHandle (tag 15) is a byte range of a physical file that holds
// several logical state files (checkpoint file merging).
type SegmentFileHandle struct {
	StartPos      int64
	Size          int64
	Scope         SegmentScope
	PhysicalPath  string
	LogicalFileID string
}

func (*SegmentFileHandle) Tag() Tag           { return TagSegmentFile }
func (h *SegmentFileHandle) StateSize() int64 { return h.Size }
func (*SegmentFileHandle) streamHandle()      {}

// EmptySegmentFileHandle (tag 16) is the placeholder file merging writes for
// empty state; it has no fields.
type EmptySegmentFileHandle struct{}

func (*EmptySegmentFileHandle) Tag() Tag         { return TagEmptySegmentFile }
func (*EmptySegmentFileHandle) StateSize() int64 { return 0 }
func (*EmptySegmentFileHandle) streamHandle()    {}

// ---- keyed handles --------------------------------------------------------

// KeyGroupsHandle is keyed state written as one stream with the offset of
// each key group in it. Variant is the tag: TagKeyGroups (3, legacy, no id),
// TagKeyGroupsV2 (12, with HandleID; full checkpoints) or
// TagSavepointKeyGroups (7, canonical savepoints, no id). A tag-3 handle can
// also sit in a stream slot (legacy files).
type KeyGroupsHandle struct {
	Variant  Tag
	Range    KeyGroupRange
	Offsets  []int64 // one per key group in Range
	Delegate StreamHandle
	HandleID string // tag 12 only
}

// NewKeyGroupsHandle is the tag-12 handle of a full checkpoint.
func NewKeyGroupsHandle(r KeyGroupRange, offsets []int64, data StreamHandle, handleID string) *KeyGroupsHandle {
	return &KeyGroupsHandle{Variant: TagKeyGroupsV2, Range: r, Offsets: offsets, Delegate: data, HandleID: handleID}
}

// NewSavepointKeyGroupsHandle is the tag-7 handle of a canonical savepoint.
func NewSavepointKeyGroupsHandle(r KeyGroupRange, offsets []int64, data StreamHandle) *KeyGroupsHandle {
	return &KeyGroupsHandle{Variant: TagSavepointKeyGroups, Range: r, Offsets: offsets, Delegate: data}
}

func (h *KeyGroupsHandle) Tag() Tag                 { return h.Variant }
func (h *KeyGroupsHandle) KeyGroups() KeyGroupRange { return h.Range }
func (h *KeyGroupsHandle) StateSize() int64         { return streamSize(h.Delegate) }
func (*KeyGroupsHandle) keyedHandle()               {}
func (*KeyGroupsHandle) streamHandle()              {}

// NamedHandle is one file of an incremental snapshot: the backend's local
// file name (000010.sst, MANIFEST-000004, OPTIONS-000009, CURRENT) and where
// its bytes are.
type NamedHandle struct {
	LocalName string
	Handle    StreamHandle
}

// IncrementalHandle (tag 11; tag 5 = V1) is the RocksDB/ForSt incremental
// snapshot of one subtask: a meta-data stream, shared files (SSTs, usually
// under <job>/shared/, reused across checkpoints) and private files (chk-N/).
type IncrementalHandle struct {
	V1               bool // tag 5: no CheckpointedSize, no HandleID
	CheckpointID     int64
	BackendID        string // a UUID naming the backend instance
	Range            KeyGroupRange
	CheckpointedSize int64 // tag 11: bytes this checkpoint uploaded
	Meta             StreamHandle
	Shared           []NamedHandle
	Private          []NamedHandle
	HandleID         string // tag 11
}

// NewIncrementalHandle is the tag-11 handle real Flink 2.x writes for
// incremental RocksDB/ForSt checkpoints and native savepoints.
func NewIncrementalHandle(checkpointID int64, backendID string, r KeyGroupRange, checkpointedSize int64,
	meta StreamHandle, shared, private []NamedHandle, handleID string) *IncrementalHandle {
	return &IncrementalHandle{CheckpointID: checkpointID, BackendID: backendID, Range: r,
		CheckpointedSize: checkpointedSize, Meta: meta, Shared: shared, Private: private, HandleID: handleID}
}

func (h *IncrementalHandle) Tag() Tag {
	if h.V1 {
		return TagIncrementalV1
	}
	return TagIncrementalV2
}
func (h *IncrementalHandle) KeyGroups() KeyGroupRange { return h.Range }

// StateSize is the meta stream plus every shared and private file.
func (h *IncrementalHandle) StateSize() int64 {
	n := streamSize(h.Meta)
	for _, f := range h.Shared {
		n += streamSize(f.Handle)
	}
	for _, f := range h.Private {
		n += streamSize(f.Handle)
	}
	return n
}
func (*IncrementalHandle) keyedHandle() {}

// ChangelogHandle (tag 14; tag 8 = V1) is the changelog state backend's
// handle: materialized keyed state plus the changelog written since.
type ChangelogHandle struct {
	V1                bool
	Range             KeyGroupRange
	CheckpointedSize  int64
	Materialized      []KeyedHandle
	NonMaterialized   []KeyedHandle
	MaterializationID int64
	CheckpointID      int64 // tag 14 only; tag 8 implies MaterializationID
	HandleID          string
}

func (h *ChangelogHandle) Tag() Tag {
	if h.V1 {
		return TagChangelogV1
	}
	return TagChangelogV2
}
func (h *ChangelogHandle) KeyGroups() KeyGroupRange { return h.Range }
func (h *ChangelogHandle) StateSize() int64 {
	var n int64
	for _, k := range h.Materialized {
		n += handleSize(k)
	}
	for _, k := range h.NonMaterialized {
		n += handleSize(k)
	}
	return n
}
func (*ChangelogHandle) keyedHandle() {}

// StateChange is one inline changelog entry; KeyGroup -1 marks a metadata
// change.
type StateChange struct {
	KeyGroup int32
	Data     []byte
}

// InMemoryChangelogHandle (tag 9) is a changelog increment held inline.
type InMemoryChangelogHandle struct {
	Range    KeyGroupRange
	FromSeq  int64
	ToSeq    int64
	Changes  []StateChange
	HandleID string
}

func (*InMemoryChangelogHandle) Tag() Tag                   { return TagInMemoryChangelog }
func (h *InMemoryChangelogHandle) KeyGroups() KeyGroupRange { return h.Range }
func (h *InMemoryChangelogHandle) StateSize() int64 {
	var n int64
	for _, c := range h.Changes {
		n += int64(len(c.Data))
	}
	return n
}
func (*InMemoryChangelogHandle) keyedHandle() {}

// OffsetHandle is one part of a changelog file increment: a stream and the
// offset in it where this increment's changes start.
type OffsetHandle struct {
	Offset int64
	Handle StreamHandle
}

// ChangelogFileHandle (tag 13; tag 10 = V1) is a changelog increment stored
// in files (DFS changelog storage).
type ChangelogFileHandle struct {
	V1               bool
	Range            KeyGroupRange
	Parts            []OffsetHandle
	Size             int64
	CheckpointedSize int64
	HandleID         string
	StorageID        string // tag 13 only; tag 10 implies "filesystem"
}

func (h *ChangelogFileHandle) Tag() Tag {
	if h.V1 {
		return TagChangelogFileV1
	}
	return TagChangelogFileV2
}
func (h *ChangelogFileHandle) KeyGroups() KeyGroupRange { return h.Range }
func (h *ChangelogFileHandle) StateSize() int64         { return h.Size }
func (*ChangelogFileHandle) keyedHandle()               {}

// ---- operator handles -----------------------------------------------------

// DistributionMode is how operator (non-keyed) state is redistributed on
// rescale (Flink's OperatorStateHandle.Mode ordinal).
type DistributionMode uint8

const (
	SplitDistribute DistributionMode = 0 // ListState: split the list
	Union           DistributionMode = 1 // UnionListState: everyone gets all
	Broadcast       DistributionMode = 2 // BroadcastState: everyone gets a copy
)

func (m DistributionMode) String() string {
	switch m {
	case SplitDistribute:
		return "SPLIT_DISTRIBUTE"
	case Union:
		return "UNION"
	case Broadcast:
		return "BROADCAST"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// NamedOperatorState is one named state in an operator-state stream and the
// offsets of its entries.
type NamedOperatorState struct {
	Name    string
	Mode    DistributionMode
	Offsets []int64
}

// FileMergingDirs are the extra fields of a tag-17 handle.
type FileMergingDirs struct {
	TaskOwnedDir string
	SharedDir    string
	Empty        bool
}

// OperatorStreamHandle (tag 4, or tag 17 when FileMerging is set) is the
// partitionable operator state of one subtask: named states at offsets in
// one stream.
type OperatorStreamHandle struct {
	States      []NamedOperatorState
	Delegate    StreamHandle
	FileMerging *FileMergingDirs // tag 17; Delegate must then be a segment handle (15/16)
}

// NewOperatorStreamHandle is a tag-4 handle.
func NewOperatorStreamHandle(data StreamHandle, states ...NamedOperatorState) *OperatorStreamHandle {
	return &OperatorStreamHandle{States: states, Delegate: data}
}

func (h *OperatorStreamHandle) Tag() Tag {
	if h.FileMerging != nil {
		return TagFileMergingOperator
	}
	return TagOperatorStream
}
func (h *OperatorStreamHandle) StateSize() int64 { return streamSize(h.Delegate) }
func (*OperatorStreamHandle) operatorHandle()    {}

// ---- helpers --------------------------------------------------------------

func streamSize(h StreamHandle) int64 {
	if h == nil {
		return 0
	}
	return h.StateSize()
}

func handleSize(h Handle) int64 {
	if h == nil {
		return 0
	}
	return h.StateSize()
}
