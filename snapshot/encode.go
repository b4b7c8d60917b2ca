package snapshot

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"reflect"
)

// EncodeError names the part of a Metadata that cannot be written.
type EncodeError struct {
	Where string // e.g. "operator 69f3…/subtask 2/managed keyed state"
	Err   error
}

func (e *EncodeError) Error() string { return fmt.Sprintf("encode _metadata: %s: %v", e.Where, e.Err) }
func (e *EncodeError) Unwrap() error { return e.Err }

// Marshal encodes m in its Version.
func Marshal(m *Metadata) ([]byte, error) {
	var buf bytes.Buffer
	if err := Encode(&buf, m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Encode writes m to w in m.Version, exactly as Flink's serializer of that
// version would. Things the version cannot hold (a uid in V4, channel state
// in V2, ...) are errors rather than silently dropped.
func Encode(w io.Writer, m *Metadata) error {
	e := &encoder{w: bufio.NewWriterSize(w, 64<<10), v: m.Version}
	if err := e.metadata(m); err != nil {
		return err
	}
	return e.w.Flush()
}

type encoder struct {
	w     *bufio.Writer
	v     int
	where []string
	tmp   [8]byte
	depth int
}

func (e *encoder) fail(format string, a ...any) error {
	where := "metadata"
	if len(e.where) > 0 {
		where = ""
		for i, s := range e.where {
			if i > 0 {
				where += "/"
			}
			where += s
		}
	}
	return &EncodeError{Where: where, Err: fmt.Errorf(format, a...)}
}

func (e *encoder) push(s string) { e.where = append(e.where, s) }
func (e *encoder) pop()          { e.where = e.where[:len(e.where)-1] }

func (e *encoder) u8(b byte) { e.w.WriteByte(b) }
func (e *encoder) i32(v int32) {
	binary.BigEndian.PutUint32(e.tmp[:4], uint32(v))
	e.w.Write(e.tmp[:4])
}
func (e *encoder) i64(v int64) {
	binary.BigEndian.PutUint64(e.tmp[:8], uint64(v))
	e.w.Write(e.tmp[:8])
}

func (e *encoder) utf(s, what string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= 0x80 {
			b, ok := appendMUTF8(nil, s)
			if !ok {
				return e.fail("%s %q is not valid UTF-8", what, s)
			}
			if len(b) > 0xFFFF {
				return e.fail("%s is %d bytes in modified UTF-8; Java strings in _metadata hold at most 65535", what, len(b))
			}
			e.w.WriteByte(byte(len(b) >> 8))
			e.w.WriteByte(byte(len(b)))
			e.w.Write(b)
			return nil
		}
	}
	if len(s) > 0xFFFF {
		return e.fail("%s is %d bytes; Java strings in _metadata hold at most 65535", what, len(s))
	}
	e.w.WriteByte(byte(len(s) >> 8))
	e.w.WriteByte(byte(len(s)))
	e.w.WriteString(s)
	return nil
}

func (e *encoder) length(n int, what string) error {
	if n > 1<<31-1 {
		return e.fail("%s: %d elements do not fit a Java int", what, n)
	}
	e.i32(int32(n))
	return nil
}

func (e *encoder) metadata(m *Metadata) error {
	if m.Version < VersionMin || m.Version > VersionMax {
		return e.fail("cannot write format version %d (supported: %d..%d)", m.Version, VersionMin, VersionMax)
	}
	if m.CheckpointID < 0 {
		return e.fail("negative checkpoint id %d", m.CheckpointID)
	}
	if m.Version >= Version4 {
		if len(m.Trailer) == 0 {
			return e.fail("version %d needs the checkpoint properties trailer (use SetProperties)", m.Version)
		}
		if _, err := parseJavaObject(m.Trailer); err != nil {
			return e.fail("trailer: %v", err)
		}
	} else if len(m.Trailer) > 0 {
		return e.fail("version %d has no trailer; %d trailer bytes would be lost", m.Version, len(m.Trailer))
	}
	e.i32(int32(Magic))
	e.i32(int32(m.Version))
	e.i64(m.CheckpointID)
	e.length(len(m.MasterStates), "master states")
	for i := range m.MasterStates {
		if err := e.masterState(&m.MasterStates[i]); err != nil {
			return err
		}
	}
	if err := e.length(len(m.Operators), "operator states"); err != nil {
		return err
	}
	for _, op := range m.Operators {
		if op == nil {
			return e.fail("nil operator state")
		}
		e.push("operator " + op.ID.String())
		if err := e.operator(op); err != nil {
			return err
		}
		e.pop()
	}
	if m.Version >= Version4 {
		e.w.Write(m.Trailer)
	}
	return nil
}

func (e *encoder) masterState(ms *MasterState) error {
	var block bytes.Buffer
	sub := &encoder{w: bufio.NewWriter(&block), v: e.v, where: append(e.where, "master state "+ms.Name)}
	sub.i32(ms.Version)
	if err := sub.utf(ms.Name, "master state name"); err != nil {
		return err
	}
	sub.i32(int32(len(ms.Payload)))
	sub.w.Write(ms.Payload)
	sub.w.Flush()
	e.i32(masterStateMagic)
	e.i32(int32(block.Len()))
	e.w.Write(block.Bytes())
	return nil
}

func (e *encoder) operator(op *OperatorState) error {
	v := e.v
	if v >= Version5 {
		if err := e.utf(op.Name, "operator name"); err != nil {
			return err
		}
		if err := e.utf(op.UID, "operator uid"); err != nil {
			return err
		}
	} else if op.Name != "" || op.UID != "" {
		return e.fail("format version %d cannot store the operator name/uid (%q/%q); use version 5 or later", v, op.Name, op.UID)
	}
	if op.Parallelism < 0 || op.MaxParallelism < 1 || op.Parallelism > op.MaxParallelism {
		return e.fail("parallelism %d, max parallelism %d: Flink needs 0 ≤ parallelism ≤ max parallelism, max ≥ 1", op.Parallelism, op.MaxParallelism)
	}
	for _, st := range op.Subtasks {
		if st != nil && (st.Index < 0 || st.Index >= op.Parallelism) {
			return e.fail("subtask index %d outside 0..%d (parallelism %d)", st.Index, op.Parallelism-1, op.Parallelism)
		}
	}
	e.i64(op.ID.LowerPart())
	e.i64(op.ID.UpperPart())
	e.i32(op.Parallelism)
	e.i32(op.MaxParallelism)
	if v == Version2 {
		if op.CoordinatorState != nil || op.FullyFinished {
			return e.fail("format version 2 cannot store coordinator state or finished operators")
		}
		e.i32(op.LegacyChainLength)
		e.length(len(op.Subtasks), "subtask states")
		for _, st := range op.Subtasks {
			if st.Finished {
				return e.fail("format version 2 cannot store finished subtasks")
			}
			e.i32(st.Index)
			if err := e.subtask(st); err != nil {
				return err
			}
		}
		return nil
	}
	if op.CoordinatorState != nil {
		e.push("coordinator state")
		if err := e.stream(op.CoordinatorState); err != nil {
			return err
		}
		e.pop()
	} else {
		e.u8(byte(TagNull))
	}
	if op.FullyFinished {
		if op.CoordinatorState != nil || len(op.Subtasks) > 0 {
			return e.fail("a fully finished operator has neither coordinator state nor subtask states")
		}
		e.i32(-1)
		return nil
	}
	e.length(len(op.Subtasks), "subtask states")
	for _, st := range op.Subtasks {
		if st == nil {
			return e.fail("nil subtask state")
		}
		if st.Index < 0 {
			return e.fail("negative subtask index %d", st.Index)
		}
		if st.Finished {
			if st.HasState() {
				return e.fail("subtask %d is marked finished but holds state", st.Index)
			}
			e.i32(-st.Index - 1)
			continue
		}
		e.i32(st.Index)
		if err := e.subtask(st); err != nil {
			return err
		}
	}
	return nil
}

func (e *encoder) subtask(st *SubtaskState) error {
	e.push(fmt.Sprintf("subtask %d", st.Index))
	defer e.pop()
	v := e.v
	if v == Version2 {
		e.i64(st.LegacyDuration)
		e.i32(0)
	}
	for _, slot := range []struct {
		what string
		h    OperatorHandle
	}{{"managed operator state", st.ManagedOperatorState}, {"raw operator state", st.RawOperatorState}} {
		if slot.h == nil {
			e.i32(0)
			continue
		}
		e.i32(1)
		e.push(slot.what)
		if err := e.operatorHandle(slot.h); err != nil {
			return err
		}
		e.pop()
	}
	e.push("managed keyed state")
	if err := e.keyed(st.ManagedKeyedState); err != nil {
		return err
	}
	e.pop()
	e.push("raw keyed state")
	if err := e.keyed(st.RawKeyedState); err != nil {
		return err
	}
	e.pop()
	if v >= Version3 {
		if err := e.channels(st.InputChannels, true); err != nil {
			return err
		}
		if err := e.channels(st.OutputChannels, false); err != nil {
			return err
		}
	} else if len(st.InputChannels)+len(st.OutputChannels) > 0 {
		return e.fail("format version 2 cannot store channel state")
	}
	if v >= Version7 {
		if st.HasRefCheckpointID {
			e.u8(1)
			e.i64(st.RefCheckpointID)
		} else {
			e.u8(0)
		}
	} else if st.HasRefCheckpointID {
		return e.fail("format version %d cannot store a refCheckpointId (version 7 only)", v)
	}
	return nil
}

func (e *encoder) operatorHandle(h OperatorHandle) error {
	osh, ok := h.(*OperatorStreamHandle)
	if !ok || isNilPointer(h) {
		return e.fail("unsupported operator state handle %T", h)
	}
	e.u8(byte(osh.Tag()))
	e.length(len(osh.States), "named operator states")
	for _, s := range osh.States {
		if err := e.utf(s.Name, "operator state name"); err != nil {
			return err
		}
		if s.Mode > Broadcast {
			return e.fail("state %q: unknown distribution mode %d", s.Name, s.Mode)
		}
		e.u8(byte(s.Mode))
		e.length(len(s.Offsets), "offsets")
		for _, o := range s.Offsets {
			e.i64(o)
		}
	}
	if fm := osh.FileMerging; fm != nil {
		if err := e.utf(fm.TaskOwnedDir, "task-owned directory"); err != nil {
			return err
		}
		if err := e.utf(fm.SharedDir, "shared directory"); err != nil {
			return err
		}
		if fm.Empty {
			e.u8(1)
		} else {
			e.u8(0)
		}
		switch osh.Delegate.(type) {
		case *SegmentFileHandle, *EmptySegmentFileHandle:
		default:
			return e.fail("a file-merging operator handle needs a segment file handle, not %s", tagOf(osh.Delegate))
		}
	}
	return e.required(osh.Delegate, "operator state data")
}

// required writes a stream handle where Flink refuses a null one.
func (e *encoder) required(h StreamHandle, what string) error {
	if h == nil {
		return e.fail("%s: missing stream handle (Flink refuses a null one here)", what)
	}
	return e.stream(h)
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > maxHandleDepth {
		return e.fail("handles nested deeper than %d", maxHandleDepth)
	}
	return nil
}

func (e *encoder) keyGroupsBody(h *KeyGroupsHandle) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer func() { e.depth-- }()
	if h.Range.Count < 0 || int(h.Range.Count) != len(h.Offsets) {
		return e.fail("key-groups handle over %v has %d offsets; want one per key group", h.Range, len(h.Offsets))
	}
	e.u8(byte(h.Variant))
	e.i32(h.Range.Start)
	e.i32(h.Range.Count)
	for _, o := range h.Offsets {
		e.i64(o)
	}
	if err := e.required(h.Delegate, "key-groups data"); err != nil {
		return err
	}
	if h.Variant == TagKeyGroupsV2 {
		return e.utf(h.HandleID, "state handle id")
	}
	return nil
}

func (e *encoder) stream(h StreamHandle) error {
	if isNilPointer(h) {
		return e.fail("a nil %T in a stream slot (use a nil interface for no handle)", h)
	}
	switch h := h.(type) {
	case nil:
		e.u8(byte(TagNull))
	case *ByteStreamHandle:
		e.u8(byte(TagByteStream))
		if err := e.utf(h.Name, "inline handle name"); err != nil {
			return err
		}
		if err := e.length(len(h.Data), "inline bytes"); err != nil {
			return err
		}
		e.w.Write(h.Data)
	case *FileHandle:
		e.u8(byte(TagFile))
		e.i64(h.Size)
		return e.utf(h.Path, "file path")
	case *RelativeFileHandle:
		e.u8(byte(TagRelativeFile))
		if err := e.utf(h.RelativePath, "relative file path"); err != nil {
			return err
		}
		e.i64(h.Size)
	case *KeyGroupsHandle:
		if h.Variant != TagKeyGroups {
			return e.fail("only a tag-3 key-groups handle may stand in a stream slot, not tag %d", h.Variant)
		}
		return e.keyGroupsBody(h)
	case *SegmentFileHandle:
		if h.Scope != ScopeExclusive && h.Scope != ScopeShared {
			return e.fail("segment scope %d", h.Scope)
		}
		e.u8(byte(TagSegmentFile))
		e.i64(h.StartPos)
		e.i64(h.Size)
		e.i32(int32(h.Scope))
		if err := e.utf(h.PhysicalPath, "physical file path"); err != nil {
			return err
		}
		return e.utf(h.LogicalFileID, "logical file id")
	case *EmptySegmentFileHandle:
		e.u8(byte(TagEmptySegmentFile))
	default:
		return e.fail("unsupported stream handle %T", h)
	}
	return nil
}

func (e *encoder) keyed(h KeyedHandle) error {
	if isNilPointer(h) {
		return e.fail("a nil %T in a keyed slot (use a nil interface for no handle)", h)
	}
	switch h := h.(type) {
	case nil:
		e.u8(byte(TagNull))
	case *KeyGroupsHandle:
		switch h.Variant {
		case TagKeyGroups, TagKeyGroupsV2, TagSavepointKeyGroups:
		default:
			return e.fail("key-groups handle variant %d (want 3, 7 or 12)", h.Variant)
		}
		return e.keyGroupsBody(h)
	case *IncrementalHandle:
		e.u8(byte(h.Tag()))
		e.i64(h.CheckpointID)
		if err := e.utf(h.BackendID, "backend identifier"); err != nil {
			return err
		}
		e.i32(h.Range.Start)
		e.i32(h.Range.Count)
		if !h.V1 {
			e.i64(h.CheckpointedSize)
		}
		if err := e.stream(h.Meta); err != nil {
			return err
		}
		for _, list := range [][]NamedHandle{h.Shared, h.Private} {
			e.length(len(list), "files")
			for _, f := range list {
				if err := e.utf(f.LocalName, "local file name"); err != nil {
					return err
				}
				if err := e.required(f.Handle, "file "+f.LocalName); err != nil {
					return err
				}
			}
		}
		if !h.V1 {
			return e.utf(h.HandleID, "state handle id")
		}
	case *ChangelogHandle:
		if err := e.enter(); err != nil {
			return err
		}
		defer func() { e.depth-- }()
		e.u8(byte(h.Tag()))
		e.i32(h.Range.Start)
		e.i32(h.Range.Count)
		e.i64(h.CheckpointedSize)
		for li, list := range [][]KeyedHandle{h.Materialized, h.NonMaterialized} {
			e.length(len(list), "nested handles")
			for _, k := range list {
				if k == nil && li == 1 {
					return e.fail("a nil non-materialized changelog handle (Flink refuses it)")
				}
				if err := e.keyed(k); err != nil {
					return err
				}
			}
		}
		e.i64(h.MaterializationID)
		if !h.V1 {
			e.i64(h.CheckpointID)
		}
		return e.utf(h.HandleID, "state handle id")
	case *InMemoryChangelogHandle:
		e.u8(byte(TagInMemoryChangelog))
		e.i32(h.Range.Start)
		e.i32(h.Range.Count)
		e.i64(h.FromSeq)
		e.i64(h.ToSeq)
		e.length(len(h.Changes), "state changes")
		for _, c := range h.Changes {
			e.i32(c.KeyGroup)
			e.length(len(c.Data), "change bytes")
			e.w.Write(c.Data)
		}
		return e.utf(h.HandleID, "state handle id")
	case *ChangelogFileHandle:
		e.u8(byte(h.Tag()))
		e.i32(h.Range.Start)
		e.i32(h.Range.Count)
		e.length(len(h.Parts), "changelog parts")
		for _, p := range h.Parts {
			e.i64(p.Offset)
			if err := e.stream(p.Handle); err != nil {
				return err
			}
		}
		e.i64(h.Size)
		e.i64(h.CheckpointedSize)
		if err := e.utf(h.HandleID, "state handle id"); err != nil {
			return err
		}
		if !h.V1 {
			return e.utf(h.StorageID, "changelog storage identifier")
		}
	default:
		return e.fail("unsupported keyed state handle %T", h)
	}
	return nil
}

func (e *encoder) channels(hs []*ChannelHandle, input bool) error {
	e.length(len(hs), "channel state handles")
	for i, h := range hs {
		if h == nil {
			return e.fail("nil channel state handle %d", i)
		}
		if h.Kind.Input() != input || h.Kind < InputChannel || h.Kind > MergedResultSubpartition {
			return e.fail("channel handle %d: kind %s in the %s list", i, h.Kind, map[bool]string{true: "input", false: "output"}[input])
		}
		if e.v >= Version6 {
			e.u8(byte(h.Kind))
		} else if h.Kind.Merged() {
			return e.fail("format version %d cannot store merged channel handles (version 6+)", e.v)
		}
		e.i32(h.Subtask)
		if h.Kind.Merged() {
			e.i64(h.Size)
			if err := e.required(h.Delegate, "channel state"); err != nil {
				return err
			}
			e.length(len(h.MergedOffsets), "merged offsets")
			e.w.Write(h.MergedOffsets)
			continue
		}
		e.i32(h.Gate)
		e.i32(h.Channel)
		e.length(len(h.Offsets), "buffer offsets")
		for _, o := range h.Offsets {
			e.i64(o)
		}
		e.i64(h.Size)
		if err := e.required(h.Delegate, "channel state"); err != nil {
			return err
		}
	}
	return nil
}

// isNilPointer reports a non-nil interface holding a nil pointer.
func isNilPointer(h any) bool {
	if h == nil {
		return false
	}
	v := reflect.ValueOf(h)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
