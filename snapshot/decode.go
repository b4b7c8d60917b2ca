package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

const (
	masterStateMagic int32 = -915728746 // 0xC96B1696
	maxHandleDepth         = 16         // nested handles (changelog, legacy key groups)
	maxTrailer             = 1 << 20    // the trailer is ~600 bytes; more is corruption
)

// Header is what precedes the operator list: enough to show a snapshot
// before its operators are decoded.
type Header struct {
	Version      int
	CheckpointID int64
	MasterStates []MasterState
	NumOperators int
}

// DecodeOptions tune a Decoder.
type DecodeOptions struct {
	// Name is the file's URI, used in error messages.
	Name string
	// Size is the input's total size in bytes when known (0 = unknown). With
	// it, a count or length larger than the rest of the file is rejected
	// before anything is allocated.
	Size int64
}

// Decoder reads a `_metadata` stream incrementally: Header first, then the
// operators one at a time with Next, so a large file can be shown while it
// is still being read. Reads are buffered; the source needs no Seek.
type Decoder struct {
	r       *reader
	closer  io.Closer
	hdr     Header
	hdrRead bool
	left    int // operators not yet returned
	done    bool
	trailer []byte
	err     error

	// Location and ExclusiveDir are copied into the Metadata Decode returns
	// (set by OpenDecoder; empty for plain readers).
	Location     string
	ExclusiveDir string
}

// NewDecoder decodes from src.
func NewDecoder(src io.Reader, opts DecodeOptions) *Decoder {
	return &Decoder{r: newReader(src, opts.Name, opts.Size)}
}

// Unmarshal decodes a whole `_metadata` file held in memory.
func Unmarshal(b []byte) (*Metadata, error) {
	return NewDecoder(bytes.NewReader(b), DecodeOptions{Size: int64(len(b))}).Decode()
}

// Close closes the underlying file when the decoder owns one (OpenDecoder).
func (d *Decoder) Close() error {
	if d.closer == nil {
		return nil
	}
	err := d.closer.Close()
	d.closer = nil
	return err
}

// Offset is how many bytes have been consumed so far (for progress).
func (d *Decoder) Offset() int64 { return d.r.offset() }

// Header reads (once) and returns the file header.
func (d *Decoder) Header() (*Header, error) {
	if d.hdrRead {
		return &d.hdr, nil
	}
	if d.err != nil {
		return nil, d.err
	}
	if err := d.readHeader(); err != nil {
		d.err = err
		return nil, err
	}
	d.hdrRead = true
	d.left = d.hdr.NumOperators
	return &d.hdr, nil
}

// Next returns the next operator state, or io.EOF after the last one (when
// the trailer has been read and the end of the file verified).
func (d *Decoder) Next() (*OperatorState, error) {
	if _, err := d.Header(); err != nil {
		return nil, err
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.left == 0 {
		if !d.done {
			if err := d.finish(); err != nil {
				d.err = err
				return nil, err
			}
			d.done = true
		}
		return nil, io.EOF
	}
	op, err := d.operator()
	if err != nil {
		d.err = err
		return nil, err
	}
	d.left--
	return op, nil
}

// Trailer is the raw V4+ trailer, available once Next has returned io.EOF.
func (d *Decoder) Trailer() []byte { return d.trailer }

// Decode reads the whole file.
func (d *Decoder) Decode() (*Metadata, error) {
	h, err := d.Header()
	if err != nil {
		return nil, err
	}
	m := &Metadata{Version: h.Version, CheckpointID: h.CheckpointID, MasterStates: h.MasterStates,
		Location: d.Location, ExclusiveDir: d.ExclusiveDir}
	m.Operators = make([]*OperatorState, 0, d.r.capFor(h.NumOperators))
	for {
		op, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		m.Operators = append(m.Operators, op)
	}
	m.Trailer = d.trailer
	return m, nil
}

func (d *Decoder) readHeader() error {
	r := d.r
	at := r.offset()
	magic, err := r.i32("the _metadata magic number 0x4960672D")
	if err != nil {
		return err
	}
	if uint32(magic) != Magic {
		return r.failf(at, "the _metadata magic number 0x4960672D", "found %#08x: not a Flink _metadata file", uint32(magic))
	}
	at = r.offset()
	v, err := r.i32("the metadata format version")
	if err != nil {
		return err
	}
	switch {
	case v >= 0 && v <= VersionLegacyMax:
		return r.fail(at, "a metadata format version 2..7", fmt.Errorf("version %d: %w", v, ErrLegacyVersion))
	case v < VersionMin || v > VersionMax:
		return r.failf(at, "a metadata format version 2..7", "unknown version %d", v)
	}
	d.hdr.Version = int(v)
	at = r.offset()
	if d.hdr.CheckpointID, err = r.i64("the checkpoint id"); err != nil {
		return err
	}
	if d.hdr.CheckpointID < 0 {
		return r.failf(at, "the checkpoint id", "negative checkpoint id %d", d.hdr.CheckpointID)
	}
	nm, err := r.count("the number of master states", 18)
	if err != nil {
		return err
	}
	if nm > 0 {
		d.hdr.MasterStates = make([]MasterState, 0, r.capFor(nm))
	}
	for i := 0; i < nm; i++ {
		ms, err := d.masterState()
		if err != nil {
			return err
		}
		d.hdr.MasterStates = append(d.hdr.MasterStates, ms)
	}
	minOp := int64(29)
	if d.hdr.Version == Version2 {
		minOp = 32
	}
	n, err := r.count("the number of operator states", minOp)
	if err != nil {
		return err
	}
	d.hdr.NumOperators = n
	return nil
}

func (d *Decoder) masterState() (MasterState, error) {
	r := d.r
	at := r.offset()
	magic, err := r.i32("the master state magic number 0xC96B1696")
	if err != nil {
		return MasterState{}, err
	}
	if magic != masterStateMagic {
		return MasterState{}, r.failf(at, "the master state magic number 0xC96B1696", "found %#08x", uint32(magic))
	}
	at = r.offset()
	n, err := r.i32("the master state length")
	if err != nil {
		return MasterState{}, err
	}
	if n <= 0 {
		return MasterState{}, r.failf(at, "the master state length", "zero or negative length %d", n)
	}
	if err := r.check(at, "the master state length", int64(n), 1); err != nil {
		return MasterState{}, err
	}
	start := r.offset()
	var ms MasterState
	if ms.Version, err = r.i32("the master state version"); err != nil {
		return ms, err
	}
	if ms.Name, err = r.utf("the master state name"); err != nil {
		return ms, err
	}
	pl, err := r.i32("the master state payload length")
	if err != nil {
		return ms, err
	}
	if ms.Payload, err = r.bytes(int(pl), "the master state payload"); err != nil {
		return ms, err
	}
	if used := r.offset() - start; used != int64(n) {
		return ms, r.failf(start, "a master state block of exactly the declared length", "block declares %d bytes, its fields take %d", n, used)
	}
	return ms, nil
}

func (d *Decoder) operator() (*OperatorState, error) {
	r := d.r
	v := d.hdr.Version
	op := &OperatorState{}
	var err error
	if v >= Version5 {
		if op.Name, err = r.utf("the operator name"); err != nil {
			return nil, err
		}
		if op.UID, err = r.utf("the operator uid"); err != nil {
			return nil, err
		}
	}
	lo, err := r.i64("the operator id")
	if err != nil {
		return nil, err
	}
	hi, err := r.i64("the operator id")
	if err != nil {
		return nil, err
	}
	op.ID = OperatorIDFromParts(lo, hi)
	if op.Parallelism, err = r.i32("the operator parallelism"); err != nil {
		return nil, err
	}
	pat := r.offset()
	if op.MaxParallelism, err = r.i32("the operator max parallelism"); err != nil {
		return nil, err
	}
	// Flink's OperatorState refuses these too.
	if op.Parallelism < 0 || op.MaxParallelism < 1 || op.Parallelism > op.MaxParallelism {
		return nil, r.failf(pat-4, "a parallelism between 0 and the max parallelism (at least 1)",
			"parallelism %d, max parallelism %d", op.Parallelism, op.MaxParallelism)
	}
	if v == Version2 {
		if op.LegacyChainLength, err = r.i32("the legacy chain length"); err != nil {
			return nil, err
		}
		n, err := r.count("the number of subtask states", 4+8+4+4+4+1+1)
		if err != nil {
			return nil, err
		}
		op.Subtasks = make([]*SubtaskState, 0, r.capFor(n))
		for i := 0; i < n; i++ {
			idx, err := d.subtaskIndex(op, false)
			if err != nil {
				return nil, err
			}
			st, err := d.subtask(idx)
			if err != nil {
				return nil, err
			}
			op.Subtasks = append(op.Subtasks, st)
		}
		return op, nil
	}
	at := r.offset()
	cs, err := d.stream("the coordinator state handle")
	if err != nil {
		return nil, err
	}
	if cs != nil {
		bs, ok := cs.(*ByteStreamHandle)
		if !ok {
			return nil, r.failf(at, "the coordinator state handle", "a %s; coordinator state must be inline bytes (tag 1) or null", cs.Tag())
		}
		op.CoordinatorState = bs
	}
	at = r.offset()
	n, err := r.i32("the number of subtask states")
	if err != nil {
		return nil, err
	}
	if n < 0 {
		if n != -1 {
			return nil, r.failf(at, "the number of subtask states", "negative count %d (only -1, fully finished, is valid)", n)
		}
		if op.CoordinatorState != nil {
			return nil, r.failf(at, "the number of subtask states", "a fully finished operator (-1) with coordinator state")
		}
		op.FullyFinished = true
		return op, nil
	}
	if err := r.check(at, "the number of subtask states", int64(n), 4); err != nil {
		return nil, err
	}
	op.Subtasks = make([]*SubtaskState, 0, r.capFor(int(n)))
	for i := 0; i < int(n); i++ {
		idx, err := d.subtaskIndex(op, true)
		if err != nil {
			return nil, err
		}
		if idx < 0 {
			op.Subtasks = append(op.Subtasks, &SubtaskState{Index: -idx - 1, Finished: true})
			continue
		}
		st, err := d.subtask(idx)
		if err != nil {
			return nil, err
		}
		op.Subtasks = append(op.Subtasks, st)
	}
	return op, nil
}

// subtaskIndex reads a stored subtask index and checks it against the
// operator's parallelism (a negative value marks a finished subtask, V3+).
func (d *Decoder) subtaskIndex(op *OperatorState, finishedMarkers bool) (int32, error) {
	r := d.r
	at := r.offset()
	idx, err := r.i32("a subtask index")
	if err != nil {
		return 0, err
	}
	real := idx
	if finishedMarkers && idx < 0 {
		real = -idx - 1
	}
	if real < 0 || real >= op.Parallelism {
		return 0, r.failf(at, fmt.Sprintf("a subtask index below the parallelism %d", op.Parallelism), "stored index %d", idx)
	}
	return idx, nil
}

func (d *Decoder) subtask(index int32) (*SubtaskState, error) {
	r := d.r
	v := d.hdr.Version
	st := r.subtasks.new()
	st.Index = index
	var err error
	if v == Version2 {
		if st.LegacyDuration, err = r.i64("the legacy subtask duration"); err != nil {
			return nil, err
		}
		at := r.offset()
		n, err := r.i32("the number of legacy states")
		if err != nil {
			return nil, err
		}
		if n != 0 {
			return nil, r.failf(at, "the number of legacy states (0)", "%d legacy 'Checkpointed' states (Flink ≤ 1.1), unsupported", n)
		}
	}
	if st.ManagedOperatorState, err = d.operatorSlot("managed operator state"); err != nil {
		return nil, err
	}
	if st.RawOperatorState, err = d.operatorSlot("raw operator state"); err != nil {
		return nil, err
	}
	if st.ManagedKeyedState, err = d.keyed("the managed keyed state handle"); err != nil {
		return nil, err
	}
	if st.RawKeyedState, err = d.keyed("the raw keyed state handle"); err != nil {
		return nil, err
	}
	if v >= Version3 {
		if st.InputChannels, err = d.channels(true); err != nil {
			return nil, err
		}
		if st.OutputChannels, err = d.channels(false); err != nil {
			return nil, err
		}
	}
	if v >= Version7 {
		at := r.offset()
		m, err := r.u8("the refCheckpointId marker (0 or 1)")
		if err != nil {
			return nil, err
		}
		switch m {
		case 0:
		case 1:
			st.HasRefCheckpointID = true
			if st.RefCheckpointID, err = r.i64("the refCheckpointId"); err != nil {
				return nil, err
			}
		default:
			return nil, r.failf(at, "the refCheckpointId marker (0 or 1)", "found %d", m)
		}
	}
	return st, nil
}

// operatorSlot reads the int flag and, when set, the operator handle.
func (d *Decoder) operatorSlot(what string) (OperatorHandle, error) {
	r := d.r
	at := r.offset()
	flag, err := r.i32("the " + what + " flag (0 or 1)")
	if err != nil {
		return nil, err
	}
	switch flag {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, r.failf(at, "the "+what+" flag (0 or 1)", "found %d", flag)
	}
	at = r.offset()
	h, err := d.operatorHandle("the " + what + " handle")
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, r.failf(at, "the "+what+" handle", "a null handle after a set flag")
	}
	return h, nil
}

func (d *Decoder) operatorHandle(want string) (OperatorHandle, error) {
	r := d.r
	at := r.offset()
	tag, err := r.u8(want)
	if err != nil {
		return nil, err
	}
	switch Tag(tag) {
	case TagNull:
		return nil, nil
	case TagOperatorStream, TagFileMergingOperator:
	default:
		return nil, r.failf(at, want, "tag %d (%s) is not an operator state handle (4 or 17)", tag, Tag(tag))
	}
	h := r.opStreams.new()
	n, err := r.count("the number of named operator states", 7)
	if err != nil {
		return nil, err
	}
	h.States = make([]NamedOperatorState, 0, r.capFor(n))
	for i := 0; i < n; i++ {
		var s NamedOperatorState
		if s.Name, err = r.utf("an operator state name"); err != nil {
			return nil, err
		}
		mat := r.offset()
		m, err := r.u8("a distribution mode (0..2)")
		if err != nil {
			return nil, err
		}
		if m > uint8(Broadcast) {
			return nil, r.failf(mat, "a distribution mode (0..2)", "found %d", m)
		}
		s.Mode = DistributionMode(m)
		if s.Offsets, err = d.offsets("the number of operator state offsets"); err != nil {
			return nil, err
		}
		h.States = append(h.States, s)
	}
	if Tag(tag) == TagFileMergingOperator {
		fm := &FileMergingDirs{}
		if fm.TaskOwnedDir, err = r.utf("the task-owned directory"); err != nil {
			return nil, err
		}
		if fm.SharedDir, err = r.utf("the shared directory"); err != nil {
			return nil, err
		}
		bat := r.offset()
		b, err := r.u8("the is-empty flag")
		if err != nil {
			return nil, err
		}
		if b > 1 {
			return nil, r.failf(bat, "the is-empty flag (0 or 1)", "found %d", b)
		}
		fm.Empty = b == 1
		h.FileMerging = fm
	}
	dat := r.offset()
	if h.Delegate, err = d.requiredStream("the operator state stream handle"); err != nil {
		return nil, err
	}
	if h.FileMerging != nil {
		switch h.Delegate.(type) {
		case *SegmentFileHandle, *EmptySegmentFileHandle:
		default:
			return nil, r.failf(dat, "a segment file handle (tag 15 or 16) under a file-merging operator handle", "%s", tagOf(h.Delegate))
		}
	}
	return h, nil
}

func (d *Decoder) offsets(want string) ([]int64, error) {
	r := d.r
	n, err := r.count(want, 8)
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, r.capFor(n))
	for i := 0; i < n; i++ {
		v, err := r.i64("an offset")
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (d *Decoder) keyGroupRange(want string) (KeyGroupRange, error) {
	r := d.r
	start, err := r.i32(want + " start")
	if err != nil {
		return KeyGroupRange{}, err
	}
	at := r.offset()
	n, err := r.i32(want + " size")
	if err != nil {
		return KeyGroupRange{}, err
	}
	if n < 0 || (n > 0 && (start < 0 || int64(start)+int64(n) > 1<<31)) {
		return KeyGroupRange{}, r.failf(at, want+" size", "invalid key-group range start %d, %d groups", start, n)
	}
	return KeyGroupRange{Start: start, Count: n}, nil
}

func (d *Decoder) enter(at int64, want string) error {
	d.r.depth++
	if d.r.depth > maxHandleDepth {
		return d.r.failf(at, want, "handles nested deeper than %d", maxHandleDepth)
	}
	return nil
}

func (d *Decoder) leave() { d.r.depth-- }

// keyGroupsBody reads the body of a tag 3/7/12 handle.
func (d *Decoder) keyGroupsBody(tag Tag) (*KeyGroupsHandle, error) {
	r := d.r
	h := &KeyGroupsHandle{Variant: tag}
	var err error
	if h.Range, err = d.keyGroupRange("the key-group range"); err != nil {
		return nil, err
	}
	at := r.offset()
	if err := r.check(at, "key-group offsets", int64(h.Range.Count), 8); err != nil {
		return nil, err
	}
	h.Offsets = make([]int64, 0, r.capFor(int(h.Range.Count)))
	for i := int32(0); i < h.Range.Count; i++ {
		v, err := r.i64("a key-group offset")
		if err != nil {
			return nil, err
		}
		h.Offsets = append(h.Offsets, v)
	}
	if h.Delegate, err = d.requiredStream("the key-groups data stream handle"); err != nil {
		return nil, err
	}
	if tag == TagKeyGroupsV2 {
		if h.HandleID, err = r.utf("the state handle id"); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// stream reads a handle in a stream slot; nil for the null tag.
func (d *Decoder) stream(want string) (StreamHandle, error) {
	r := d.r
	at := r.offset()
	tag, err := r.u8(want)
	if err != nil {
		return nil, err
	}
	switch Tag(tag) {
	case TagNull:
		return nil, nil
	case TagByteStream:
		h := r.inline.new()
		if h.Name, err = r.utf("the inline handle name"); err != nil {
			return nil, err
		}
		n, err := r.i32("the inline data length")
		if err != nil {
			return nil, err
		}
		if h.Data, err = r.bytes(int(n), "the inline state bytes"); err != nil {
			return nil, err
		}
		return h, nil
	case TagFile:
		h := r.files.new()
		if h.Size, err = r.i64("the file state size"); err != nil {
			return nil, err
		}
		if h.Path, err = r.utf("the file path"); err != nil {
			return nil, err
		}
		return h, nil
	case TagRelativeFile:
		h := r.relFiles.new()
		if h.RelativePath, err = r.utf("the relative file path"); err != nil {
			return nil, err
		}
		if h.Size, err = r.i64("the relative file state size"); err != nil {
			return nil, err
		}
		return h, nil
	case TagKeyGroups:
		if err := d.enter(at, want); err != nil {
			return nil, err
		}
		defer d.leave()
		h, err := d.keyGroupsBody(TagKeyGroups)
		if err != nil {
			return nil, err
		}
		return h, nil
	case TagSegmentFile:
		h := &SegmentFileHandle{}
		if h.StartPos, err = r.i64("the segment start position"); err != nil {
			return nil, err
		}
		if h.Size, err = r.i64("the segment size"); err != nil {
			return nil, err
		}
		sat := r.offset()
		sc, err := r.i32("the segment scope (0 or 1)")
		if err != nil {
			return nil, err
		}
		if sc != int32(ScopeExclusive) && sc != int32(ScopeShared) {
			return nil, r.failf(sat, "the segment scope (0 = EXCLUSIVE, 1 = SHARED)", "found %d", sc)
		}
		h.Scope = SegmentScope(sc)
		if h.PhysicalPath, err = r.utf("the physical file path"); err != nil {
			return nil, err
		}
		if h.LogicalFileID, err = r.utf("the logical file id"); err != nil {
			return nil, err
		}
		return h, nil
	case TagEmptySegmentFile:
		return &EmptySegmentFileHandle{}, nil
	}
	return nil, r.failf(at, want, "tag %d (%s) is not a stream state handle (0, 1, 2, 3, 6, 15, 16)", tag, Tag(tag))
}

// requiredStream is stream for slots where Flink refuses a null handle.
func (d *Decoder) requiredStream(want string) (StreamHandle, error) {
	at := d.r.offset()
	h, err := d.stream(want)
	if err == nil && h == nil {
		return nil, d.r.failf(at, want, "null tag (Flink requires a handle here)")
	}
	return h, err
}

// keyed reads a handle in a keyed slot; nil for the null tag.
func (d *Decoder) keyed(want string) (KeyedHandle, error) {
	r := d.r
	at := r.offset()
	tag, err := r.u8(want)
	if err != nil {
		return nil, err
	}
	t := Tag(tag)
	var h KeyedHandle
	switch t {
	case TagNull:
		return nil, nil
	case TagKeyGroups, TagKeyGroupsV2, TagSavepointKeyGroups:
		if err := d.enter(at, want); err != nil {
			return nil, err
		}
		defer d.leave()
		h, err = nonNil(d.keyGroupsBody(t))
	case TagIncrementalV1, TagIncrementalV2:
		h, err = nonNil(d.incremental(t))
	case TagChangelogV1, TagChangelogV2:
		if err := d.enter(at, want); err != nil {
			return nil, err
		}
		defer d.leave()
		h, err = nonNil(d.changelog(t))
	case TagInMemoryChangelog:
		h, err = nonNil(d.inMemoryChangelog())
	case TagChangelogFileV1, TagChangelogFileV2:
		h, err = nonNil(d.changelogFile(t))
	default:
		return nil, r.failf(at, want, "tag %d (%s) is not a keyed state handle (0, 3, 5, 7..14)", tag, t)
	}
	if err != nil {
		return nil, err
	}
	return h, nil
}

// nonNil turns a typed handle result into the interface without ever
// producing a non-nil interface around a nil pointer.
func nonNil[T KeyedHandle](h T, err error) (KeyedHandle, error) {
	if err != nil {
		return nil, err
	}
	return h, nil
}

func (d *Decoder) incremental(t Tag) (*IncrementalHandle, error) {
	r := d.r
	h := r.incs.new()
	h.V1 = t == TagIncrementalV1
	var err error
	if h.CheckpointID, err = r.i64("the incremental handle's checkpoint id"); err != nil {
		return nil, err
	}
	if h.BackendID, err = r.utf("the backend identifier"); err != nil {
		return nil, err
	}
	if h.Range, err = d.keyGroupRange("the key-group range"); err != nil {
		return nil, err
	}
	if !h.V1 {
		if h.CheckpointedSize, err = r.i64("the checkpointed size"); err != nil {
			return nil, err
		}
	}
	if h.Meta, err = d.stream("the meta-data stream handle"); err != nil {
		return nil, err
	}
	if h.Shared, err = d.namedHandles("the number of shared files"); err != nil {
		return nil, err
	}
	if h.Private, err = d.namedHandles("the number of private files"); err != nil {
		return nil, err
	}
	if !h.V1 {
		if h.HandleID, err = r.utf("the state handle id"); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (d *Decoder) namedHandles(want string) ([]NamedHandle, error) {
	r := d.r
	n, err := r.count(want, 3)
	if err != nil {
		return nil, err
	}
	out := make([]NamedHandle, 0, r.capFor(n))
	for i := 0; i < n; i++ {
		var nh NamedHandle
		if nh.LocalName, err = r.utf("a local file name"); err != nil {
			return nil, err
		}
		if nh.Handle, err = d.requiredStream("the file's stream handle"); err != nil {
			return nil, err
		}
		out = append(out, nh)
	}
	return out, nil
}

func (d *Decoder) changelog(t Tag) (*ChangelogHandle, error) {
	r := d.r
	h := &ChangelogHandle{V1: t == TagChangelogV1}
	var err error
	if h.Range, err = d.keyGroupRange("the key-group range"); err != nil {
		return nil, err
	}
	if h.CheckpointedSize, err = r.i64("the checkpointed size"); err != nil {
		return nil, err
	}
	for _, part := range []struct {
		want   string
		dst    *[]KeyedHandle
		nullOK bool
	}{{"the number of materialized handles", &h.Materialized, true}, {"the number of non-materialized handles", &h.NonMaterialized, false}} {
		n, err := r.count(part.want, 1)
		if err != nil {
			return nil, err
		}
		list := make([]KeyedHandle, 0, r.capFor(n))
		for i := 0; i < n; i++ {
			at := r.offset()
			k, err := d.keyed("a nested keyed state handle")
			if err != nil {
				return nil, err
			}
			// Flink skips a null materialized entry with a warning (kept
			// here so the bytes round-trip) but fails on a null
			// non-materialized one.
			if k == nil && !part.nullOK {
				return nil, r.failf(at, "a non-null non-materialized changelog handle", "null tag")
			}
			list = append(list, k)
		}
		*part.dst = list
	}
	if h.MaterializationID, err = r.i64("the materialization id"); err != nil {
		return nil, err
	}
	if !h.V1 {
		if h.CheckpointID, err = r.i64("the checkpoint id"); err != nil {
			return nil, err
		}
	}
	if h.HandleID, err = r.utf("the state handle id"); err != nil {
		return nil, err
	}
	return h, nil
}

func (d *Decoder) inMemoryChangelog() (*InMemoryChangelogHandle, error) {
	r := d.r
	h := &InMemoryChangelogHandle{}
	var err error
	if h.Range, err = d.keyGroupRange("the key-group range"); err != nil {
		return nil, err
	}
	if h.FromSeq, err = r.i64("the first sequence number"); err != nil {
		return nil, err
	}
	if h.ToSeq, err = r.i64("the last sequence number"); err != nil {
		return nil, err
	}
	n, err := r.count("the number of state changes", 8)
	if err != nil {
		return nil, err
	}
	h.Changes = make([]StateChange, 0, r.capFor(n))
	for i := 0; i < n; i++ {
		var c StateChange
		if c.KeyGroup, err = r.i32("a change's key group"); err != nil {
			return nil, err
		}
		l, err := r.i32("a change's length")
		if err != nil {
			return nil, err
		}
		if c.Data, err = r.bytes(int(l), "a change's bytes"); err != nil {
			return nil, err
		}
		h.Changes = append(h.Changes, c)
	}
	if h.HandleID, err = r.utf("the state handle id"); err != nil {
		return nil, err
	}
	return h, nil
}

func (d *Decoder) changelogFile(t Tag) (*ChangelogFileHandle, error) {
	r := d.r
	h := &ChangelogFileHandle{V1: t == TagChangelogFileV1}
	var err error
	if h.Range, err = d.keyGroupRange("the key-group range"); err != nil {
		return nil, err
	}
	n, err := r.count("the number of changelog parts", 9)
	if err != nil {
		return nil, err
	}
	h.Parts = make([]OffsetHandle, 0, r.capFor(n))
	for i := 0; i < n; i++ {
		var p OffsetHandle
		if p.Offset, err = r.i64("a changelog part offset"); err != nil {
			return nil, err
		}
		if p.Handle, err = d.stream("a changelog part stream handle"); err != nil {
			return nil, err
		}
		h.Parts = append(h.Parts, p)
	}
	if h.Size, err = r.i64("the state size"); err != nil {
		return nil, err
	}
	if h.CheckpointedSize, err = r.i64("the checkpointed size"); err != nil {
		return nil, err
	}
	if h.HandleID, err = r.utf("the state handle id"); err != nil {
		return nil, err
	}
	if !h.V1 {
		if h.StorageID, err = r.utf("the changelog storage identifier"); err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (d *Decoder) channels(input bool) ([]*ChannelHandle, error) {
	r := d.r
	want := "the number of result-subpartition state handles"
	if input {
		want = "the number of input-channel state handles"
	}
	n, err := r.count(want, 17)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	out := make([]*ChannelHandle, 0, r.capFor(n))
	for i := 0; i < n; i++ {
		h, err := d.channel(input)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func (d *Decoder) channel(input bool) (*ChannelHandle, error) {
	r := d.r
	h := &ChannelHandle{Kind: ResultSubpartition}
	if input {
		h.Kind = InputChannel
	}
	var err error
	if d.hdr.Version >= Version6 {
		at := r.offset()
		k, err := r.u8("a channel state handle kind")
		if err != nil {
			return nil, err
		}
		kind := ChannelKind(k)
		if (input && kind != InputChannel && kind != MergedInputChannel) ||
			(!input && kind != ResultSubpartition && kind != MergedResultSubpartition) {
			want := "a result-subpartition handle kind (2 or 4)"
			if input {
				want = "an input-channel handle kind (1 or 3)"
			}
			return nil, r.failf(at, want, "found %d", k)
		}
		h.Kind = kind
	}
	if h.Subtask, err = r.i32("the channel handle's subtask index"); err != nil {
		return nil, err
	}
	if h.Kind.Merged() {
		if h.Size, err = r.i64("the channel state size"); err != nil {
			return nil, err
		}
		if h.Delegate, err = d.requiredStream("the channel state stream handle"); err != nil {
			return nil, err
		}
		n, err := r.i32("the merged channel offsets length")
		if err != nil {
			return nil, err
		}
		if h.MergedOffsets, err = r.bytes(int(n), "the merged channel offsets"); err != nil {
			return nil, err
		}
		return h, nil
	}
	if h.Gate, err = r.i32("the gate or partition index"); err != nil {
		return nil, err
	}
	if h.Channel, err = r.i32("the channel or subpartition index"); err != nil {
		return nil, err
	}
	if h.Offsets, err = d.offsets("the number of channel buffer offsets"); err != nil {
		return nil, err
	}
	if h.Size, err = r.i64("the channel state size"); err != nil {
		return nil, err
	}
	if h.Delegate, err = d.stream("the channel state stream handle"); err != nil {
		return nil, err
	}
	return h, nil
}

// finish reads the V4+ trailer and checks that nothing follows.
func (d *Decoder) finish() error {
	r := d.r
	at := r.offset()
	if d.hdr.Version >= Version4 {
		b, err := r.rest(maxTrailer, "the checkpoint properties trailer")
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return r.fail(at, "the checkpoint properties trailer (Java serialization, AC ED 00 05)", ErrTruncated)
		}
		if _, err := parseJavaObject(b); err != nil {
			return r.fail(at, "the checkpoint properties trailer (one Java-serialized object, then end of file)", err)
		}
		d.trailer = b
		return nil
	}
	eof, err := r.atEOF()
	if err != nil {
		return err
	}
	if !eof {
		return r.failf(at, "end of file after the last operator state", "trailing bytes")
	}
	return nil
}

func tagOf(h Handle) string {
	if h == nil {
		return "null handle"
	}
	return fmt.Sprintf("tag %d (%s)", h.Tag(), h.Tag())
}

// IsDecodeError reports whether err is a *DecodeError.
func IsDecodeError(err error) bool {
	var de *DecodeError
	return errors.As(err, &de)
}
