package state

import (
	"fmt"
	"strings"
)

// Kind is what a serializer (de)serializes, as far as its snapshot tells.
type Kind string

const (
	KindLong          Kind = "Long"
	KindInt           Kind = "Integer"
	KindShort         Kind = "Short"
	KindByte          Kind = "Byte"
	KindBoolean       Kind = "Boolean"
	KindDouble        Kind = "Double"
	KindFloat         Kind = "Float"
	KindChar          Kind = "Character"
	KindString        Kind = "String"
	KindBytes         Kind = "byte[]"
	KindStringArray   Kind = "String[]"
	KindPrimArray     Kind = "primitive[]"
	KindDate          Kind = "Date"
	KindInstant       Kind = "Instant"
	KindBigInt        Kind = "BigInteger"
	KindBigDec        Kind = "BigDecimal"
	KindVoidNamespace Kind = "VoidNamespace"
	KindTimeWindow    Kind = "TimeWindow"
	KindGlobalWindow  Kind = "GlobalWindow"
	KindTuple         Kind = "Tuple"
	KindRow           Kind = "Row"
	KindPojo          Kind = "POJO"
	KindList          Kind = "List"
	KindMap           Kind = "Map"
	KindGenericArray  Kind = "Array"
	KindEnum          Kind = "Enum"
	KindNullable      Kind = "Nullable"
	KindTTL           Kind = "TTL"
	KindTimer         Kind = "Timer"
	KindKryo          Kind = "Kryo"
	KindAvro          Kind = "Avro"
	KindJava          Kind = "Java serialization"
)

// Field is a named member of a Tuple, Row or POJO.
type Field struct {
	Name string `json:"name"`
	Type *Type  `json:"type"`
	// Gone: the POJO field no longer existed when the snapshot was taken.
	Gone bool `json:"gone,omitempty"`
}

// Type is a serializer as its snapshot describes it: enough to print the
// state's type and to decode its bytes where the serializer's encoding is
// known.
type Type struct {
	Kind Kind `json:"kind"`
	// Snapshot is the serializer snapshot's class (Java binary name) and
	// Version its snapshot version.
	Snapshot string `json:"snapshot"`
	Version  int32  `json:"version"`
	// Class is the user class a Tuple, POJO, Enum, Kryo, array or Avro
	// serializer handles.
	Class string `json:"class,omitempty"`
	// Fields of a Tuple, Row or POJO (POJO fields in binary order).
	Fields []Field `json:"fields,omitempty"`
	// Elem is the element of List, arrays; the inner type of Nullable and
	// TTL; Key and Value the two of a Map, Key and Namespace of a Timer.
	Elem      *Type `json:"elem,omitempty"`
	Key       *Type `json:"key,omitempty"`
	Value     *Type `json:"value,omitempty"`
	Namespace *Type `json:"namespace,omitempty"`
	// Constants of an Enum, in ordinal order (the wire index).
	Constants []string `json:"constants,omitempty"`
	// RowKind: the Row mask carries the row kind (default since 1.11).
	RowKind bool `json:"row_kind,omitempty"`
	// Padding of a padded Nullable serializer.
	Padding int32 `json:"padding,omitempty"`
	// Schema is an Avro writer schema (JSON).
	Schema string `json:"schema,omitempty"`
	// Prim is the element kind of a primitive array.
	Prim Kind `json:"prim,omitempty"`
}

// String is a Java-like type name: Tuple2<Long, String>, Map<String, Long>,
// TTL<Long>, Kryo(com.acme.Event).
func (t *Type) String() string {
	if t == nil {
		return "?"
	}
	args := func(ts ...*Type) string {
		var s []string
		for _, x := range ts {
			s = append(s, x.String())
		}
		return "<" + strings.Join(s, ", ") + ">"
	}
	switch t.Kind {
	case KindTuple:
		var ts []*Type
		for _, f := range t.Fields {
			ts = append(ts, f.Type)
		}
		return shortClass(t.Class) + args(ts...)
	case KindRow:
		var s []string
		for _, f := range t.Fields {
			s = append(s, f.Type.String())
		}
		return "Row(" + strings.Join(s, ", ") + ")"
	case KindPojo, KindEnum, KindAvro:
		return shortClass(t.Class)
	case KindKryo:
		return "Kryo(" + t.Class + ")"
	case KindList:
		return "List" + args(t.Elem)
	case KindMap:
		return "Map" + args(t.Key, t.Value)
	case KindGenericArray:
		return t.Elem.String() + "[]"
	case KindPrimArray:
		return strings.ToLower(string(t.Prim)) + "[]"
	case KindNullable:
		return "Nullable" + args(t.Elem)
	case KindTTL:
		return "TTL" + args(t.Elem)
	case KindTimer:
		return "Timer" + args(t.Key, t.Namespace)
	}
	return string(t.Kind)
}

func shortClass(c string) string {
	if i := strings.LastIndexAny(c, ".$"); i >= 0 {
		return c[i+1:]
	}
	return c
}

// FixedLength is the serializer's getLength(): bytes per value, or -1
// when values vary in length. Composite keys carry length suffixes only
// when both the key's and the namespace's are -1.
func (t *Type) FixedLength() int {
	switch t.Kind {
	case KindLong, KindDouble:
		return 8
	case KindInt, KindFloat, KindEnum:
		return 4
	case KindShort, KindChar:
		return 2
	case KindByte, KindBoolean:
		return 1
	case KindVoidNamespace, KindGlobalWindow:
		return 0
	case KindTimeWindow:
		return 16
	case KindTuple:
		n := 0
		for _, f := range t.Fields {
			l := f.Type.FixedLength()
			if l <= 0 {
				return -1
			}
			n += l
		}
		return n
	}
	return -1
}

// Serializer snapshot classes (package prefixes shortened when matching:
// only the part after the last '.' is compared, so shaded or relocated
// packages still match).
var simpleKinds = map[string]Kind{
	"LongSerializer$LongSerializerSnapshot":                             KindLong,
	"IntSerializer$IntSerializerSnapshot":                               KindInt,
	"ShortSerializer$ShortSerializerSnapshot":                           KindShort,
	"ByteSerializer$ByteSerializerSnapshot":                             KindByte,
	"BooleanSerializer$BooleanSerializerSnapshot":                       KindBoolean,
	"DoubleSerializer$DoubleSerializerSnapshot":                         KindDouble,
	"FloatSerializer$FloatSerializerSnapshot":                           KindFloat,
	"CharSerializer$CharSerializerSnapshot":                             KindChar,
	"StringSerializer$StringSerializerSnapshot":                         KindString,
	"DateSerializer$DateSerializerSnapshot":                             KindDate,
	"InstantSerializer$InstantSerializerSnapshot":                       KindInstant,
	"BigIntSerializer$BigIntSerializerSnapshot":                         KindBigInt,
	"BigDecSerializer$BigDecSerializerSnapshot":                         KindBigDec,
	"BytePrimitiveArraySerializer$BytePrimitiveArraySerializerSnapshot": KindBytes,
	"StringArraySerializer$StringArraySerializerSnapshot":               KindStringArray,
	"VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot":           KindVoidNamespace,
	"TimeWindow$Serializer$TimeWindowSerializerSnapshot":                KindTimeWindow,
	"GlobalWindow$Serializer$GlobalWindowSerializerSnapshot":            KindGlobalWindow,
	"JavaSerializer$JavaSerializerSnapshot":                             KindJava,
}

var primArrays = map[string]Kind{
	"LongPrimitiveArraySerializer$LongPrimitiveArraySerializerSnapshot":       KindLong,
	"IntPrimitiveArraySerializer$IntPrimitiveArraySerializerSnapshot":         KindInt,
	"ShortPrimitiveArraySerializer$ShortPrimitiveArraySerializerSnapshot":     KindShort,
	"DoublePrimitiveArraySerializer$DoublePrimitiveArraySerializerSnapshot":   KindDouble,
	"FloatPrimitiveArraySerializer$FloatPrimitiveArraySerializerSnapshot":     KindFloat,
	"CharPrimitiveArraySerializer$CharPrimitiveArraySerializerSnapshot":       KindChar,
	"BooleanPrimitiveArraySerializer$BooleanPrimitiveArraySerializerSnapshot": KindBoolean,
}

// Magic numbers of CompositeTypeSerializerSnapshot and its nested
// serializers delegate.
const (
	compositeMagic = 0x000DE704
	nestedMagic    = 0x001457FD
	optMapMagic    = 0x000004F2C69A3D70
	legacyConfig   = 0x7A53C4F0 // TypeSerializerConfigSnapshot (≤ 1.16)
)

func simpleName(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}

// readSnapshot reads a top-level serializer snapshot: i32 2, then the
// versioned snapshot.
func (d *decoder) readSnapshot(want string) (*Type, error) {
	at := d.pos
	v, err := d.i32(want + " (snapshot wrapper version)")
	if err != nil {
		return nil, err
	}
	switch v {
	case 2:
	case 1:
		return nil, d.errf(at, want, "%w: serializer snapshot wrapper version 1 (Flink 1.3–1.6; Flink 1.17+ cannot read it either)", ErrUnsupported)
	default:
		return nil, d.errf(at, want, "serializer snapshot wrapper version %d, want 2", v)
	}
	return d.readVersioned(want, 0)
}

const maxTypeDepth = 64

// readVersioned reads a snapshot class name, its version and its payload.
// The payload carries no length, so an unknown class ends the reading.
func (d *decoder) readVersioned(want string, depth int) (*Type, error) {
	if depth > maxTypeDepth {
		return nil, d.errf(d.pos, want, "serializers nested deeper than %d", maxTypeDepth)
	}
	at := d.pos
	class, err := d.utf(want + " (serializer snapshot class)")
	if err != nil {
		return nil, err
	}
	ver, err := d.i32(want + " (" + class + " version)")
	if err != nil {
		return nil, err
	}
	t := &Type{Snapshot: class, Version: ver}
	name := simpleName(class)
	if uint32(ver) == legacyConfig {
		return nil, d.errf(at, want, "%w: %s is a legacy TypeSerializerConfigSnapshot (written before Flink 1.17, which refuses it too)", ErrUnsupported, class)
	}
	if k, ok := simpleKinds[name]; ok {
		t.Kind = k
		if ver < 3 { // version 2 held the serializer's class name
			if _, err := d.utf(want + " (legacy serializer class)"); err != nil {
				return nil, err
			}
		}
		return t, nil
	}
	if k, ok := primArrays[name]; ok {
		t.Kind, t.Prim = KindPrimArray, k
		if ver < 3 {
			if _, err := d.utf(want + " (legacy serializer class)"); err != nil {
				return nil, err
			}
		}
		return t, nil
	}
	sub := want + " > " + shortClass(strings.TrimSuffix(name, "Snapshot"))
	switch name {
	case "TupleSerializerSnapshot":
		t.Kind = KindTuple
		err = d.composite(t, sub, depth, func(outer int32) error {
			t.Class, err = d.utf(sub + " (tuple class)")
			return err
		}, func(nested []*Type) {
			for i, n := range nested {
				t.Fields = append(t.Fields, Field{Name: fmt.Sprintf("f%d", i), Type: n})
			}
		})
	case "RowSerializer$RowSerializerSnapshot":
		t.Kind = KindRow
		err = d.composite(t, sub, depth, func(outer int32) error {
			if outer >= 4 {
				t.RowKind, err = d.boolean(sub + " (supportsRowKind)")
				return err
			}
			t.RowKind = outer == 3
			return nil
		}, func(nested []*Type) {
			for i, n := range nested {
				t.Fields = append(t.Fields, Field{Name: fmt.Sprintf("f%d", i), Type: n})
			}
		})
	case "ListSerializerSnapshot":
		t.Kind = KindList
		err = d.composite(t, sub, depth, nil, func(n []*Type) { t.Elem = nth(n, 0) })
	case "MapSerializerSnapshot":
		t.Kind = KindMap
		err = d.composite(t, sub, depth, nil, func(n []*Type) { t.Key, t.Value = nth(n, 0), nth(n, 1) })
	case "GenericArraySerializerSnapshot":
		t.Kind = KindGenericArray
		err = d.composite(t, sub, depth, func(int32) error {
			t.Class, err = d.utf(sub + " (component class)")
			return err
		}, func(n []*Type) { t.Elem = nth(n, 0) })
	case "NullableSerializer$NullableSerializerSnapshot":
		t.Kind = KindNullable
		err = d.composite(t, sub, depth, func(int32) error {
			t.Padding, err = d.i32(sub + " (padding length)")
			return err
		}, func(n []*Type) { t.Elem = nth(n, 0) })
	case "TtlStateFactory$TtlSerializerSnapshot":
		t.Kind = KindTTL
		err = d.composite(t, sub, depth, nil, func(n []*Type) { t.Elem = nth(n, 1) })
	case "TimerSerializerSnapshot":
		t.Kind = KindTimer
		err = d.composite(t, sub, depth, nil, func(n []*Type) { t.Key, t.Namespace = nth(n, 0), nth(n, 1) })
	case "EnumSerializer$EnumSerializerSnapshot":
		t.Kind = KindEnum
		if t.Class, err = d.utf(sub + " (enum class)"); err != nil {
			return nil, err
		}
		n, err := d.count(sub+" (constants)", 2)
		if err != nil {
			return nil, err
		}
		for range n {
			c, err := d.utf(sub + " (constant)")
			if err != nil {
				return nil, err
			}
			t.Constants = append(t.Constants, c)
		}
	case "PojoSerializerSnapshot":
		t.Kind = KindPojo
		err = d.pojo(t, sub, depth)
	case "KryoSerializerSnapshot":
		t.Kind = KindKryo
		if t.Class, err = d.utf(sub + " (type class)"); err != nil {
			return nil, err
		}
		for _, m := range []string{"registrations", "default serializers", "default serializer classes"} {
			if err := d.skipOptMap(sub + " (" + m + ")"); err != nil {
				return nil, err
			}
		}
	case "AvroSerializerSnapshot":
		t.Kind = KindAvro
		var ok bool
		if t.Class, ok, err = d.stringValue(sub + " (runtime class)"); err != nil || !ok {
			return nil, orNull(d, err, sub+" (runtime class)")
		}
		if t.Schema, ok, err = d.stringValue(sub + " (writer schema)"); err != nil || !ok {
			return nil, orNull(d, err, sub+" (writer schema)")
		}
	default:
		return nil, d.errf(at, want, "%w: serializer snapshot class %s: its payload carries no length, so nothing after it can be read", ErrUnsupported, class)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

func orNull(d *decoder, err error, want string) error {
	if err != nil {
		return err
	}
	return d.errf(d.pos, want, "null")
}

func nth(ts []*Type, i int) *Type {
	if i < len(ts) {
		return ts[i]
	}
	return nil
}

// composite reads a CompositeTypeSerializerSnapshot payload: magic, the
// outer version and payload (outer, may be nil), the nested snapshots.
func (d *decoder) composite(t *Type, want string, depth int, outer func(int32) error, nested func([]*Type)) error {
	if t.Version < 3 {
		return d.errf(d.pos, want, "%w: composite serializer snapshot version %d (written before Flink 1.17's format)", ErrUnsupported, t.Version)
	}
	at := d.pos
	m, err := d.i32(want + " (composite magic)")
	if err != nil {
		return err
	}
	if m != compositeMagic {
		return d.errf(at, want+" (composite magic)", "%#x, want %#x", m, compositeMagic)
	}
	ov, err := d.i32(want + " (outer version)")
	if err != nil {
		return err
	}
	if outer != nil {
		if err := outer(ov); err != nil {
			return err
		}
	}
	at = d.pos
	if m, err = d.i32(want + " (nested magic)"); err != nil {
		return err
	}
	if m != nestedMagic {
		return d.errf(at, want+" (nested magic)", "%#x, want %#x", m, nestedMagic)
	}
	at = d.pos
	v, err := d.i32(want + " (nested version)")
	if err != nil {
		return err
	}
	if v != 1 {
		return d.errf(at, want+" (nested version)", "%d, want 1", v)
	}
	n, err := d.count(want+" (nested serializers)", 6)
	if err != nil {
		return err
	}
	ts := make([]*Type, 0, n)
	for range n {
		c, err := d.readVersioned(want, depth+1)
		if err != nil {
			return err
		}
		ts = append(ts, c)
	}
	nested(ts)
	return nil
}

// pojo reads PojoSerializerSnapshotData: class, fields, registered and
// non-registered subclasses (each a framed optional map).
func (d *decoder) pojo(t *Type, want string, depth int) error {
	var err error
	if t.Class, err = d.utf(want + " (class)"); err != nil {
		return err
	}
	err = d.optMap(want+" (fields)", func(name string, key, value []byte, offs [2]int64) error {
		f := Field{Name: name}
		if key == nil {
			f.Gone = true
		} else {
			kd := newDecoder(key, d.file, offs[0])
			if _, err := kd.utf(want + " (declaring class)"); err != nil {
				return err
			}
			if f.Name, err = kd.utf(want + " (field name)"); err != nil {
				return err
			}
		}
		if value != nil {
			vd := newDecoder(value, d.file, offs[1])
			if f.Type, err = vd.readVersioned(want+" > "+f.Name, depth+1); err != nil {
				return err
			}
		}
		t.Fields = append(t.Fields, f)
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range []string{"registered subclasses", "non-registered subclasses"} {
		if err := d.skipOptMap(want + " (" + m + ")"); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) skipOptMap(want string) error {
	return d.optMap(want, func(string, []byte, []byte, [2]int64) error { return nil })
}

// optMap reads a LinkedOptionalMap: magic, count, then per entry a name
// and two optional length-framed blobs. fn gets nil for an absent blob,
// and each blob's file offset.
func (d *decoder) optMap(want string, fn func(name string, key, value []byte, offs [2]int64) error) error {
	at := d.pos
	m, err := d.i64(want + " (optional map magic)")
	if err != nil {
		return err
	}
	if m != optMapMagic {
		return d.errf(at, want, "optional map magic %#x, want %#x", m, int64(optMapMagic))
	}
	n, err := d.count(want, 4)
	if err != nil {
		return err
	}
	for range n {
		name, err := d.utf(want + " (entry name)")
		if err != nil {
			return err
		}
		var blobs [2][]byte
		var offs [2]int64
		for i := range blobs {
			has, err := d.boolean(want + " (present flag)")
			if err != nil {
				return err
			}
			if !has {
				continue
			}
			l, err := d.count(want+" (frame length)", 1)
			if err != nil {
				return err
			}
			offs[i] = d.offset()
			if blobs[i], err = d.take(l, want+" (frame)"); err != nil {
				return err
			}
		}
		if err := fn(name, blobs[0], blobs[1], offs); err != nil {
			return err
		}
	}
	return nil
}
