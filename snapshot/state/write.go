package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"unicode/utf16"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// Writing Flink's canonical (unified binary) savepoint format: the inverse
// of the reader in this package, for the serializers whose encodings are
// public and that ckpt's job specs use (String keys, Long and byte[]
// values, VoidNamespace, timers of String keys). What it writes reads back
// through ReadKeyedProxy, ReadUnified, ReadOperatorProxy and
// ReadOperatorState, and Flink restores it (the proof is in the tests
// against the real peer, in engine/bridge).

// Serializer snapshot classes the writer emits, as Flink 1.20 and 2.x name
// them (package included: Flink loads the class by this name).
const (
	ClassStringSnapshot    = "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot"
	ClassLongSnapshot      = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot"
	ClassBytesSnapshot     = "org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer$BytePrimitiveArraySerializerSnapshot"
	ClassVoidNsSnapshot    = "org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot"
	ClassTimerSnapshot     = "org.apache.flink.streaming.api.operators.TimerSerializerSnapshot"
	simpleSnapshotVersion  = 3 // SimpleTypeSerializerSnapshot
	compositeVersion       = 3 // CompositeTypeSerializerSnapshot
	timerOuterVersion      = 2 // TimerSerializerSnapshot's own (outer) version
	keyedProxyVersion      = 6
	operatorProxyVersion   = 6
	serializerWrapperV2    = 2 // TypeSerializerSnapshotSerializationUtil
	nestedSerializersVer   = 1
	endOfKeyGroupMark      = 0xFFFF
	firstBitInByte         = 0x80
	maxParallelismOneByte  = 128
	timestampSignFlip      = uint64(1) << 63
	simpleVersionedVersion = 1
)

// StringType, LongType, BytesType and VoidNamespaceType are the serializers
// of a String key, a Long value, a byte[] value and the void namespace.
func StringType() *Type {
	return &Type{Kind: KindString, Snapshot: ClassStringSnapshot, Version: simpleSnapshotVersion}
}
func LongType() *Type {
	return &Type{Kind: KindLong, Snapshot: ClassLongSnapshot, Version: simpleSnapshotVersion}
}
func BytesType() *Type {
	return &Type{Kind: KindBytes, Snapshot: ClassBytesSnapshot, Version: simpleSnapshotVersion}
}
func VoidNamespaceType() *Type {
	return &Type{Kind: KindVoidNamespace, Snapshot: ClassVoidNsSnapshot, Version: simpleSnapshotVersion}
}

// TimerType is the serializer of the timers of a keyed process function
// (TimerSerializer over the key and namespace serializers).
func TimerType(key, namespace *Type) *Type {
	return &Type{Kind: KindTimer, Snapshot: ClassTimerSnapshot, Version: compositeVersion, Key: key, Namespace: namespace}
}

// errNotWritable is a serializer this writer does not emit.
var errNotWritable = errors.New("ckpt writes serializer snapshots of String, Long, byte[], VoidNamespace and timers only")

// appendUTF appends DataOutput.writeUTF (modified UTF-8).
func appendUTF(dst []byte, s string) ([]byte, error) {
	b := modifiedUTF8(s)
	if len(b) > 0xFFFF {
		return nil, fmt.Errorf("string of %d bytes is longer than writeUTF allows", len(b))
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(b)))
	return append(dst, b...), nil
}

// modifiedUTF8 is s in Java's modified UTF-8 (NUL as C0 80, characters
// above U+FFFF as two 3-byte surrogates).
func modifiedUTF8(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		switch {
		case u >= 0x01 && u < 0x80:
			b = append(b, byte(u))
		case u < 0x800:
			b = append(b, 0xC0|byte(u>>6), 0x80|byte(u&0x3F))
		default:
			b = append(b, 0xE0|byte(u>>12), 0x80|byte((u>>6)&0x3F), 0x80|byte(u&0x3F))
		}
	}
	return b
}

func appendI32(dst []byte, v int32) []byte { return binary.BigEndian.AppendUint32(dst, uint32(v)) }

// AppendSnapshot appends t's serializer snapshot as a top-level one
// (wrapper version 2, then the versioned snapshot).
func AppendSnapshot(dst []byte, t *Type) ([]byte, error) {
	return appendVersioned(appendI32(dst, serializerWrapperV2), t)
}

// appendVersioned appends a snapshot class, its version and its payload.
func appendVersioned(dst []byte, t *Type) ([]byte, error) {
	var err error
	if dst, err = appendUTF(dst, t.Snapshot); err != nil {
		return nil, err
	}
	dst = appendI32(dst, t.Version)
	switch t.Kind {
	case KindString, KindLong, KindBytes, KindVoidNamespace:
		if t.Version != simpleSnapshotVersion {
			return nil, fmt.Errorf("%s version %d: %w", t.Snapshot, t.Version, errNotWritable)
		}
		return dst, nil // SimpleTypeSerializerSnapshot: no payload
	case KindTimer:
		if t.Key == nil || t.Namespace == nil {
			return nil, fmt.Errorf("%s: timer without key or namespace serializer", t.Snapshot)
		}
		dst = appendI32(dst, compositeMagic)
		dst = appendI32(dst, timerOuterVersion)
		dst = appendI32(dst, nestedMagic)
		dst = appendI32(dst, nestedSerializersVer)
		dst = appendI32(dst, 2)
		for _, n := range []*Type{t.Key, t.Namespace} {
			if dst, err = appendVersioned(dst, n); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%s (%s): %w", t.Snapshot, t.Kind, errNotWritable)
}

// NewValueStateMeta is the meta info of a keyed ValueState with the void
// namespace.
func NewValueStateMeta(name string, value *Type) *Meta {
	return &Meta{Name: name, Type: KeyValue, Options: map[string]string{OptionKeyedStateType: "VALUE"},
		Serializers: map[string]*Type{RoleValue: value, RoleNamespace: VoidNamespaceType()}}
}

// NewTimersMeta is the meta info of a timer service's priority queue
// (name "_timer_state/event_<service>" or "…/processing_<service>").
func NewTimersMeta(name string, key *Type) *Meta {
	return &Meta{Name: name, Type: PriorityQueue, Options: map[string]string{},
		Serializers: map[string]*Type{RoleValue: TimerType(key, VoidNamespaceType())}}
}

// NewListStateMeta is the meta info of an operator list state of byte[]
// elements: union or split-distributed.
func NewListStateMeta(name string, mode snapshot.DistributionMode) *Meta {
	return &Meta{Name: name, Type: Operator, Options: map[string]string{OptionDistributionMode: mode.String()},
		Serializers: map[string]*Type{RoleValue: BytesType()}}
}

// appendMeta appends one StateMetaInfoSnapshot (format 6). Flink reads
// options and serializers into maps; they are written in the order Flink
// writes them, so that a proxy is byte for byte the one Flink writes.
func appendMeta(dst []byte, m *Meta) ([]byte, error) {
	var err error
	if dst, err = appendUTF(dst, m.Name); err != nil {
		return nil, err
	}
	ord := -1
	for i, t := range backendTypes {
		if t == m.Type {
			ord = i
		}
	}
	if ord < 0 {
		return nil, fmt.Errorf("state %q: backend type %q", m.Name, m.Type)
	}
	dst = appendI32(dst, int32(ord))
	dst = appendI32(dst, int32(len(m.Options)))
	for _, k := range sortedKeys(m.Options) {
		if dst, err = appendUTF(dst, k); err != nil {
			return nil, err
		}
		if dst, err = appendUTF(dst, m.Options[k]); err != nil {
			return nil, err
		}
	}
	dst = appendI32(dst, int32(len(m.Serializers)))
	for _, role := range roleOrder(m.Serializers) {
		if dst, err = appendUTF(dst, role); err != nil {
			return nil, err
		}
		if dst, err = AppendSnapshot(dst, m.Serializers[role]); err != nil {
			return nil, fmt.Errorf("state %q %s: %w", m.Name, role, err)
		}
	}
	return dst, nil
}

// roleOrder is the order Flink 1.20 and 2.x write serializer roles in
// (their HashMap's), then any other role by name.
func roleOrder(m map[string]*Type) []string {
	var out []string
	for _, r := range []string{RoleValue, RoleNamespace, RoleKey} {
		if _, ok := m[r]; ok {
			out = append(out, r)
		}
	}
	for _, r := range sortedKeys(m) {
		if r != RoleValue && r != RoleNamespace && r != RoleKey {
			out = append(out, r)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// AppendKeyedProxy appends a keyed backend serialization proxy (version 6,
// no compression): key's serializer and the states, whose index in states
// is their id in the key groups.
func AppendKeyedProxy(dst []byte, key *Type, states []*Meta) ([]byte, error) {
	if len(states) > 0x7FFF {
		return nil, fmt.Errorf("%d keyed states", len(states))
	}
	dst = appendI32(dst, keyedProxyVersion)
	dst = append(dst, 0) // no key-group compression
	var err error
	if dst, err = AppendSnapshot(dst, key); err != nil {
		return nil, fmt.Errorf("key serializer: %w", err)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(states)))
	for _, m := range states {
		if dst, err = appendMeta(dst, m); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

// AppendOperatorProxy appends an operator backend serialization proxy
// (version 6, no compression, no broadcast states).
func AppendOperatorProxy(dst []byte, states []*Meta) ([]byte, error) {
	dst = appendI32(dst, operatorProxyVersion)
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(states)))
	var err error
	for _, m := range states {
		if dst, err = appendMeta(dst, m); err != nil {
			return nil, err
		}
	}
	return binary.BigEndian.AppendUint16(dst, 0), nil // broadcast states
}

// AppendStringValue appends s in Flink's StringValue encoding (what
// StringSerializer writes): LEB128 of UTF-16 units + 1, then each unit as
// LEB128.
func AppendStringValue(dst []byte, s string) []byte {
	units := utf16.Encode([]rune(s))
	dst = appendLEB(dst, uint32(len(units)+1))
	for _, u := range units {
		dst = appendLEB(dst, uint32(u))
	}
	return dst
}

func appendLEB(dst []byte, v uint32) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// AppendBytesValue appends a byte[] as BytePrimitiveArraySerializer writes
// it: i32 length, then the bytes.
func AppendBytesValue(dst, b []byte) []byte {
	return append(appendI32(dst, int32(len(b))), b...)
}

// AppendLongValue appends a Long as LongSerializer writes it.
func AppendLongValue(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v))
}

// appendKeyGroupPrefix appends the key-group prefix of a composite key: one
// byte up to max parallelism 128, two above.
func appendKeyGroupPrefix(dst []byte, kg, maxParallelism int) []byte {
	if maxParallelism <= maxParallelismOneByte {
		return append(dst, byte(kg))
	}
	return binary.BigEndian.AppendUint16(dst, uint16(kg))
}

// AppendStringKeyVoidNamespace appends the composite key of a String key
// in the void namespace (neither is ambiguous with a fixed-length void
// namespace, so no length suffixes), key group prefix first.
func AppendStringKeyVoidNamespace(dst []byte, kg, maxParallelism int, key string) []byte {
	dst = appendKeyGroupPrefix(dst, kg, maxParallelism)
	dst = AppendStringValue(dst, key)
	return append(dst, 0) // VoidNamespace writes one byte
}

// AppendStringTimer appends the unified-format key of an event- or
// processing-time timer of a String key in the void namespace: key group
// prefix, then TimerSerializer's bytes (timestamp with its sign bit
// flipped, key, namespace).
func AppendStringTimer(dst []byte, kg, maxParallelism int, ts int64, key string) []byte {
	dst = appendKeyGroupPrefix(dst, kg, maxParallelism)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts)^timestampSignFlip)
	dst = AppendStringValue(dst, key)
	return append(dst, 0)
}

// KV is one serialized entry of the unified format: a composite key (key
// group prefix first) and its value bytes.
type KV struct{ Key, Value []byte }

// AppendUnifiedKeyGroup appends one key group's region of the unified
// full-snapshot format: for each state with entries (states[id], in id
// order) its id, then its entries (i32-framed key and value), the last one
// of a state flagged in its key's first byte and followed by the next
// state's id or the end-of-key-group mark. A key group with no entries
// has no region: its offset in the handle is 0 (ok is false).
func AppendUnifiedKeyGroup(dst []byte, states [][]KV) (out []byte, ok bool, err error) {
	var ids []int
	for id, es := range states {
		if len(es) > 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return dst, false, nil
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(ids[0]))
	for i, id := range ids {
		es := states[id]
		for j, e := range es {
			if len(e.Key) == 0 {
				return nil, false, fmt.Errorf("state %d: an entry without a key", id)
			}
			if e.Key[0]&firstBitInByte != 0 {
				return nil, false, fmt.Errorf("state %d: key group prefix %#x uses the flag bit", id, e.Key[0])
			}
			last := j == len(es)-1
			dst = appendI32(dst, int32(len(e.Key)))
			at := len(dst)
			dst = append(dst, e.Key...)
			if last {
				dst[at] |= firstBitInByte
			}
			dst = AppendBytesValue(dst, e.Value)
			if last {
				next := endOfKeyGroupMark
				if i+1 < len(ids) {
					next = ids[i+1]
				}
				dst = binary.BigEndian.AppendUint16(dst, uint16(next))
			}
		}
	}
	return dst, true, nil
}

// AppendSimpleVersioned frames b as SimpleVersionedSerialization does
// (what a FLIP-27 source's reader state elements hold): i32 version, i32
// length, the bytes.
func AppendSimpleVersioned(dst []byte, version int32, b []byte) []byte {
	return append(appendI32(appendI32(dst, version), int32(len(b))), b...)
}

// SourceCoordinatorVersion is the source coordinator serde version ckpt
// writes: 1, which Flink 1.16–1.20 and 2.x read (2.x may write a later one
// and still reads 1).
const SourceCoordinatorVersion = 1

// SourceCoordinatorState is a FLIP-27 source's coordinator state as
// SourceCoordinator checkpoints it: i32 serde version, i32 the enumerator
// checkpoint serializer's version, i32 length, the enumerator checkpoint.
func SourceCoordinatorState(enumVersion int32, enumState []byte) []byte {
	b := appendI32(nil, SourceCoordinatorVersion)
	return AppendSimpleVersioned(b, enumVersion, enumState)
}

// EncodeKeyedStream is one subtask's keyed state stream of a canonical
// savepoint: the proxy (key serializer, states), then the regions of the
// key groups of r that have entries. groups[kg][id] are key group kg's
// entries of states[id]. offsets are what the savepoint's handle records
// (0 for an empty key group).
func EncodeKeyedStream(key *Type, states []*Meta, r snapshot.KeyGroupRange, groups map[int][][]KV) (data []byte, offsets []int64, err error) {
	if data, err = AppendKeyedProxy(nil, key, states); err != nil {
		return nil, nil, err
	}
	for kg := range groups {
		if !r.Contains(int32(kg)) {
			return nil, nil, fmt.Errorf("key group %d is outside the subtask's range %s", kg, r)
		}
		if len(groups[kg]) > len(states) {
			return nil, nil, fmt.Errorf("key group %d: entries of %d states, the proxy has %d", kg, len(groups[kg]), len(states))
		}
	}
	offsets = make([]int64, r.Count)
	for i := range offsets {
		at := int64(len(data))
		var ok bool
		if data, ok, err = AppendUnifiedKeyGroup(data, groups[int(r.Start)+i]); err != nil {
			return nil, nil, fmt.Errorf("key group %d: %w", int(r.Start)+i, err)
		}
		if ok {
			offsets[i] = at
		}
	}
	return data, offsets, nil
}

// OperatorList is one operator list state of byte[] elements and how Flink
// redistributes it.
type OperatorList struct {
	Name     string
	Mode     snapshot.DistributionMode
	Elements [][]byte
}

// EncodeOperatorStream is one subtask's operator state stream: the proxy,
// then every element (BytePrimitiveArraySerializer), and the per-state
// offsets its handle records.
func EncodeOperatorStream(lists []OperatorList) ([]byte, []snapshot.NamedOperatorState, error) {
	metas := make([]*Meta, len(lists))
	for i, l := range lists {
		if l.Mode != snapshot.SplitDistribute && l.Mode != snapshot.Union {
			return nil, nil, fmt.Errorf("operator state %q: mode %s (ckpt writes list and union list states)", l.Name, l.Mode)
		}
		metas[i] = NewListStateMeta(l.Name, l.Mode)
	}
	data, err := AppendOperatorProxy(nil, metas)
	if err != nil {
		return nil, nil, err
	}
	named := make([]snapshot.NamedOperatorState, len(lists))
	for i, l := range lists {
		named[i] = snapshot.NamedOperatorState{Name: l.Name, Mode: l.Mode, Offsets: []int64{}}
		for _, e := range l.Elements {
			named[i].Offsets = append(named[i].Offsets, int64(len(data)))
			data = AppendBytesValue(data, e)
		}
	}
	return data, named, nil
}
