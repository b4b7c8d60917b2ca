package state

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"time"
	"unicode/utf8"
)

// Value is a decoded value, ready for JSON: int64, int32, int16, int8,
// bool, float64, float32, string (a Java char too), nil (null), []byte,
// []any (lists, arrays, tuples), *Record (POJO, Row, Tuple fields by
// name), []MapEntry, *TTLValue, Window, Timer, Raw.
type Value = any

// Record is a value with named fields (Tuple, Row, POJO).
type Record struct {
	Class  string      `json:"class,omitempty"`
	Kind   string      `json:"row_kind,omitempty"`
	Fields []NamedItem `json:"fields"`
}

// NamedItem is one field of a Record.
type NamedItem struct {
	Name  string `json:"name"`
	Value Value  `json:"value"`
}

// MapEntry is one entry of a Map value.
type MapEntry struct {
	Key   Value `json:"key"`
	Value Value `json:"value"`
}

// TTLValue is a value with its last access time (TtlSerializer).
type TTLValue struct {
	LastAccess time.Time `json:"last_access"`
	Value      Value     `json:"value"`
}

// Window is a TimeWindow namespace [Start, End) or the GlobalWindow.
type Window struct {
	Global bool  `json:"global,omitempty"`
	Start  int64 `json:"start,omitempty"`
	End    int64 `json:"end,omitempty"`
}

// Timer is one registered timer.
type Timer struct {
	Timestamp int64 `json:"timestamp"`
	Key       Value `json:"key"`
	Namespace Value `json:"namespace"`
}

// Raw is bytes ckpt cannot decode (Kryo, Java serialization, Avro until
// supported): the serializer's class and the bytes, never a guess.
type Raw struct {
	Serializer string `json:"serializer"`
	Hex        string `json:"hex"`
	Text       string `json:"text"`
}

func rawOf(t *Type, b []byte) Raw {
	txt := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x20 && c < 0x7F {
			txt[i] = c
		} else {
			txt[i] = '.'
		}
	}
	name := "no serializer"
	switch {
	case t == nil:
	case t.Class != "":
		name = t.Class + " (" + string(t.Kind) + ")"
	default:
		name = t.Snapshot
	}
	return Raw{Serializer: name, Hex: hex.EncodeToString(b), Text: string(txt)}
}

// Decodable reports whether ckpt knows t's encoding well enough to find
// where a value ends (Kryo and Avro values are not).
func (t *Type) Decodable() bool {
	if t == nil {
		return false
	}
	switch t.Kind {
	case KindKryo, KindAvro, KindJava, "":
		return false
	}
	for _, f := range t.Fields {
		if f.Type == nil || !f.Type.Decodable() {
			return false
		}
	}
	for _, x := range []*Type{t.Elem, t.Key, t.Value, t.Namespace} {
		if x != nil && !x.Decodable() {
			return false
		}
	}
	return true
}

const maxValueDepth = 64

// slowOnly turns fast off (tests compare the two paths).
var slowOnly = false

// decodeValue reads one value of type t.
func (d *decoder) value(t *Type, want string, depth int) (Value, error) {
	if depth > maxValueDepth {
		return nil, d.errf(d.pos, want, "values nested deeper than %d", maxValueDepth)
	}
	if t == nil {
		return nil, d.errf(d.pos, want, "no serializer")
	}
	start := d.pos
	if !slowOnly {
		if v, ok := d.fast(t, depth); ok {
			return v, nil
		}
	}
	d.pos = start
	switch t.Kind {
	case KindLong:
		return d.i64(want)
	case KindInt:
		return d.i32(want)
	case KindShort:
		v, err := d.u16(want)
		return int16(v), err
	case KindByte:
		v, err := d.u8(want)
		return int8(v), err
	case KindBoolean:
		return d.boolean(want)
	case KindDouble:
		return d.f64(want)
	case KindFloat:
		return d.f32(want)
	case KindChar:
		v, err := d.u16(want)
		return utf16String([]uint16{v}), err
	case KindString:
		s, ok, err := d.stringValue(want)
		if !ok {
			return nil, err
		}
		return s, err
	case KindBytes:
		n, err := d.count(want+" length", 1)
		if err != nil {
			return nil, err
		}
		b, err := d.take(n, want)
		return append([]byte(nil), b...), err
	case KindStringArray:
		n, err := d.count(want+" length", 1)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, n)
		for range n {
			s, ok, err := d.stringValue(want)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, s)
			} else {
				out = append(out, nil)
			}
		}
		return out, nil
	case KindPrimArray:
		n, err := d.count(want+" length", (&Type{Kind: t.Prim}).FixedLength())
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, n)
		for range n {
			v, err := d.value(&Type{Kind: t.Prim}, want, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case KindDate:
		v, err := d.i64(want)
		if err != nil || v == minInt64 {
			return nil, err
		}
		return time.UnixMilli(v).UTC(), nil
	case KindInstant:
		s, err := d.i64(want + " seconds")
		if err != nil {
			return nil, err
		}
		n, err := d.i32(want + " nanos")
		if err != nil {
			return nil, err
		}
		if s == minInt64 && n == -1<<31 { // InstantSerializer: NULL_SECONDS, NULL_NANOS
			return nil, nil
		}
		return time.Unix(s, int64(n)).UTC(), nil
	case KindBigInt, KindBigDec:
		at := d.pos
		l, err := d.i32(want + " length")
		if err != nil {
			return nil, err
		}
		var v *big.Int
		switch {
		case l == 0:
			return nil, nil
		case l >= 1 && l <= 3:
			v = big.NewInt([]int64{0, 0, 1, 10}[l])
		case l >= 4:
			b, err := d.take(int(l-4), want)
			if err != nil {
				return nil, err
			}
			v = new(big.Int).SetBytes(b)
			if len(b) > 0 && b[0]&0x80 != 0 { // two's complement
				v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
		default:
			return nil, d.errf(at, want, "length %d", l)
		}
		if t.Kind == KindBigInt {
			return v.String(), nil
		}
		scale, err := d.i32(want + " scale")
		if err != nil {
			return nil, err
		}
		return fmt.Sprintf("%sE%d", v.String(), -scale), nil
	case KindVoidNamespace, KindGlobalWindow:
		at := d.pos
		b, err := d.u8(want)
		if err != nil {
			return nil, err
		}
		if b != 0 {
			return nil, d.errf(at, want, "byte %#02x, want 0", b)
		}
		if t.Kind == KindGlobalWindow {
			return Window{Global: true}, nil
		}
		return nil, nil
	case KindTimeWindow:
		s, err := d.i64(want + " window start")
		if err != nil {
			return nil, err
		}
		e, err := d.i64(want + " window end")
		return Window{Start: s, End: e}, err
	case KindTuple:
		r := &Record{Class: t.Class}
		for _, f := range t.Fields {
			v, err := d.value(f.Type, want+"."+f.Name, depth+1)
			if err != nil {
				return nil, err
			}
			r.Fields = append(r.Fields, NamedItem{f.Name, v})
		}
		return r, nil
	case KindRow:
		return d.row(t, want, depth)
	case KindPojo:
		return d.pojoValue(t, want, depth)
	case KindList:
		// Elements take at least a byte each, but for zero-width types
		// (a Tuple0, VoidNamespace-like fields): those lists are capped,
		// so a corrupt count never becomes a billion empty elements.
		minElem := 1
		if t.Elem != nil && t.Elem.FixedLength() == 0 {
			minElem = 0
		}
		at := d.pos
		n, err := d.count(want+" size", minElem)
		if err != nil {
			return nil, err
		}
		if minElem == 0 && n > 1<<16 {
			return nil, d.errf(at, want+" size", "%d zero-width elements", n)
		}
		out := make([]any, 0, min(n, d.left()))
		for range n {
			v, err := d.value(t.Elem, want+" element", depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case KindMap:
		n, err := d.count(want+" size", 1)
		if err != nil {
			return nil, err
		}
		out := make([]MapEntry, 0, n)
		for range n {
			k, err := d.value(t.Key, want+" key", depth+1)
			if err != nil {
				return nil, err
			}
			null, err := d.boolean(want + " null flag")
			if err != nil {
				return nil, err
			}
			var v Value
			if !null {
				if v, err = d.value(t.Value, want+" value", depth+1); err != nil {
					return nil, err
				}
			}
			out = append(out, MapEntry{k, v})
		}
		return out, nil
	case KindGenericArray:
		n, err := d.count(want+" length", 1)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, n)
		for range n {
			present, err := d.boolean(want + " present flag")
			if err != nil {
				return nil, err
			}
			var v Value
			if present {
				if v, err = d.value(t.Elem, want+" element", depth+1); err != nil {
					return nil, err
				}
			}
			out = append(out, v)
		}
		return out, nil
	case KindEnum:
		at := d.pos
		i, err := d.i32(want)
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(t.Constants) {
			return nil, d.errf(at, want, "enum index %d of %d constants", i, len(t.Constants))
		}
		return t.Constants[i], nil
	case KindNullable:
		null, err := d.boolean(want + " null flag")
		if err != nil {
			return nil, err
		}
		if null {
			_, err := d.take(int(t.Padding), want+" padding")
			return nil, err
		}
		return d.value(t.Elem, want, depth+1)
	case KindTTL:
		ts, err := d.i64(want + " last access")
		if err != nil {
			return nil, err
		}
		v, err := d.value(t.Elem, want, depth+1)
		if err != nil {
			return nil, err
		}
		return &TTLValue{LastAccess: time.UnixMilli(ts).UTC(), Value: v}, nil
	case KindTimer:
		ts, err := d.i64(want + " timer timestamp")
		if err != nil {
			return nil, err
		}
		k, err := d.value(t.Key, want+" timer key", depth+1)
		if err != nil {
			return nil, err
		}
		ns, err := d.value(t.Namespace, want+" timer namespace", depth+1)
		if err != nil {
			return nil, err
		}
		return Timer{Timestamp: ts ^ minInt64, Key: k, Namespace: ns}, nil
	}
	return nil, d.errf(d.pos, want, "%w: values of %s (%s) have no known length", ErrUnsupported, t, t.Snapshot)
}

const minInt64 = -1 << 63

var rowKinds = []string{"+I", "-U", "+U", "-D"}

func (d *decoder) row(t *Type, want string, depth int) (Value, error) {
	n := len(t.Fields)
	bits := n
	if t.RowKind {
		bits += 2
	}
	mask, err := d.take((bits+7)/8, want+" row mask")
	if err != nil {
		return nil, err
	}
	bit := func(i int) bool { return mask[i/8]&(0x80>>(i%8)) != 0 }
	r := &Record{}
	off := 0
	if t.RowKind {
		k := 0
		if bit(0) {
			k |= 1
		}
		if bit(1) {
			k |= 2
		}
		r.Kind, off = rowKinds[k], 2
	}
	for i, f := range t.Fields {
		var v Value
		if !bit(off + i) {
			if v, err = d.value(f.Type, want+"."+f.Name, depth+1); err != nil {
				return nil, err
			}
		}
		r.Fields = append(r.Fields, NamedItem{f.Name, v})
	}
	return r, nil
}

func (d *decoder) pojoValue(t *Type, want string, depth int) (Value, error) {
	at := d.pos
	flags, err := d.u8(want + " POJO flags")
	if err != nil {
		return nil, err
	}
	switch flags {
	case 1:
		return nil, nil
	case 2:
	default:
		return nil, d.errf(at, want, "%w: POJO flag %#x (a subclass instance)", ErrUnsupported, flags)
	}
	r := &Record{Class: t.Class}
	for _, f := range t.Fields {
		if f.Gone || f.Type == nil {
			continue
		}
		null, err := d.boolean(want + "." + f.Name + " null flag")
		if err != nil {
			return nil, err
		}
		var v Value
		if !null {
			if v, err = d.value(f.Type, want+"."+f.Name, depth+1); err != nil {
				return nil, err
			}
		}
		r.Fields = append(r.Fields, NamedItem{f.Name, v})
	}
	return r, nil
}

// DecodeValue decodes b as exactly one value of t: bytes left over are an
// error (the value was not what the serializer says). Types whose values
// have no known encoding come back as Raw.
func DecodeValue(t *Type, b []byte, file string, offset int64) (Value, error) {
	if !t.Decodable() {
		return rawOf(t, b), nil
	}
	d := newDecoder(b, file, offset)
	v, err := d.value(t, "value", 0)
	if err != nil {
		return nil, err
	}
	if d.left() != 0 {
		return nil, d.errf(d.pos, "end of value", "%d bytes left after a %s", d.left(), t)
	}
	return v, nil
}

// fast decodes one value of t the way value does, without building error
// descriptions, for the kinds that make up most state (primitives,
// String, VoidNamespace, windows, Tuple, Row, POJO, Nullable, TTL). ok is
// false when it cannot: a kind it leaves to value, or bytes that do not
// parse; the caller then decodes from the same position with value's
// careful path, which names the error. Both paths give the same values.
func (d *decoder) fast(t *Type, depth int) (Value, bool) {
	if t == nil || depth > maxValueDepth {
		return nil, false
	}
	b := d.b[d.pos:]
	switch t.Kind {
	case KindLong:
		if len(b) < 8 {
			return nil, false
		}
		d.pos += 8
		return d.a.int64(int64(binary.BigEndian.Uint64(b))), true
	case KindInt:
		if len(b) < 4 {
			return nil, false
		}
		d.pos += 4
		return d.a.int32(int32(binary.BigEndian.Uint32(b))), true
	case KindShort:
		if len(b) < 2 {
			return nil, false
		}
		d.pos += 2
		return int16(binary.BigEndian.Uint16(b)), true
	case KindByte:
		if len(b) < 1 {
			return nil, false
		}
		d.pos++
		return int8(b[0]), true
	case KindBoolean:
		if len(b) < 1 || b[0] > 1 {
			return nil, false
		}
		d.pos++
		return b[0] == 1, true
	case KindDouble:
		if len(b) < 8 {
			return nil, false
		}
		d.pos += 8
		return d.a.float64(math.Float64frombits(binary.BigEndian.Uint64(b))), true
	case KindFloat:
		if len(b) < 4 {
			return nil, false
		}
		d.pos += 4
		return math.Float32frombits(binary.BigEndian.Uint32(b)), true
	case KindString:
		return d.fastString()
	case KindVoidNamespace, KindGlobalWindow:
		if len(b) < 1 || b[0] != 0 {
			return nil, false
		}
		d.pos++
		if t.Kind == KindGlobalWindow {
			return Window{Global: true}, true
		}
		return nil, true
	case KindTimeWindow:
		if len(b) < 16 {
			return nil, false
		}
		d.pos += 16
		return Window{Start: int64(binary.BigEndian.Uint64(b)), End: int64(binary.BigEndian.Uint64(b[8:]))}, true
	case KindTuple:
		r := d.a.record(t.Class, len(t.Fields))
		for _, f := range t.Fields {
			v, ok := d.fast(f.Type, depth+1)
			if !ok {
				return nil, false
			}
			r.Fields = append(r.Fields, NamedItem{f.Name, v})
		}
		return r, true
	case KindRow:
		return d.fastRow(t, depth)
	case KindPojo:
		if len(b) < 1 {
			return nil, false
		}
		switch b[0] {
		case 1:
			d.pos++
			return nil, true
		case 2:
		default:
			return nil, false
		}
		d.pos++
		live := 0 // fields the snapshot still has: each is written
		for _, f := range t.Fields {
			if !f.Gone && f.Type != nil {
				live++
			}
		}
		r := d.a.record(t.Class, live)
		for _, f := range t.Fields {
			if f.Gone || f.Type == nil {
				continue
			}
			if d.pos >= len(d.b) || d.b[d.pos] > 1 {
				return nil, false
			}
			null := d.b[d.pos] == 1
			d.pos++
			var v Value
			if !null {
				var ok bool
				if v, ok = d.fast(f.Type, depth+1); !ok {
					return nil, false
				}
			}
			r.Fields = append(r.Fields, NamedItem{f.Name, v})
		}
		return r, true
	case KindNullable:
		if len(b) < 1 || b[0] > 1 {
			return nil, false
		}
		d.pos++
		if b[0] == 1 {
			if t.Padding < 0 || int(t.Padding) > d.left() {
				return nil, false
			}
			d.pos += int(t.Padding)
			return nil, true
		}
		return d.fast(t.Elem, depth+1)
	case KindTTL:
		if len(b) < 8 {
			return nil, false
		}
		d.pos += 8
		v, ok := d.fast(t.Elem, depth+1)
		if !ok {
			return nil, false
		}
		return &TTLValue{LastAccess: time.UnixMilli(int64(binary.BigEndian.Uint64(b))).UTC(), Value: v}, true
	}
	return nil, false
}

// A Record and room for its first fields, in one allocation.
type record4 struct {
	r Record
	f [4]NamedItem
}

// newRecord returns a Record of class whose Fields (nil for n = 0) have
// room for n.
func newRecord(class string, n int) *Record {
	if n > 4 {
		r := &Record{Class: class}
		r.Fields = make([]NamedItem, 0, n)
		return r
	}
	x := &record4{r: Record{Class: class}}
	if n > 0 {
		x.r.Fields = x.f[:0:n]
	}
	return &x.r
}

func (d *decoder) fastRow(t *Type, depth int) (Value, bool) {
	n := len(t.Fields)
	bits := n
	if t.RowKind {
		bits += 2
	}
	mb := (bits + 7) / 8
	if d.left() < mb {
		return nil, false
	}
	mask := d.b[d.pos : d.pos+mb]
	d.pos += mb
	bit := func(i int) bool { return mask[i/8]&(0x80>>(i%8)) != 0 }
	r := d.a.record("", n)
	off := 0
	if t.RowKind {
		k := 0
		if bit(0) {
			k |= 1
		}
		if bit(1) {
			k |= 2
		}
		r.Kind, off = rowKinds[k], 2
	}
	for i, f := range t.Fields {
		var v Value
		if !bit(off + i) {
			var ok bool
			if v, ok = d.fast(f.Type, depth+1); !ok {
				return nil, false
			}
		}
		r.Fields = append(r.Fields, NamedItem{f.Name, v})
	}
	return r, true
}

// fastString is stringValue without error descriptions: a null string is
// nil; ok is false where stringValue fails. An ASCII string (every UTF-16
// unit one byte below 0x80) is its bytes.
func (d *decoder) fastString() (s Value, ok bool) {
	l, ok := d.fastLeb()
	if !ok {
		return nil, false
	}
	if l == 0 {
		return nil, true
	}
	n := int(l - 1)
	b := d.b[d.pos:]
	if n > len(b) {
		return nil, false
	}
	i := 0
	for i+8 <= n && binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 == 0 {
		i += 8 // eight ASCII units at a time
	}
	for i < n && b[i] < 0x80 {
		i++
	}
	if i == n {
		d.pos += n
		return d.a.bytesString(b[:n]), true
	}
	// Units beyond ASCII: to UTF-8 as utf16String does (pairs joined, a
	// lone surrogate becomes U+FFFD).
	out := make([]byte, 0, n+n/2)
	var hi rune = -1 // a high surrogate waiting for its pair
	for range n {
		u, ok := d.fastLeb()
		if !ok || u > 0xFFFF {
			return nil, false
		}
		r := rune(u)
		if hi >= 0 {
			if r >= 0xDC00 && r < 0xE000 {
				out = utf8.AppendRune(out, 0x10000+(hi-0xD800)<<10+(r-0xDC00))
				hi = -1
				continue
			}
			out = utf8.AppendRune(out, hi)
			hi = -1
		}
		if r >= 0xD800 && r < 0xDC00 {
			hi = r
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	if hi >= 0 {
		out = utf8.AppendRune(out, hi)
	}
	return d.a.string(string(out)), true
}

// fastLeb is leb without error descriptions.
func (d *decoder) fastLeb() (uint32, bool) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		if d.pos >= len(d.b) {
			return 0, false
		}
		c := d.b[d.pos]
		d.pos++
		v |= uint32(c&0x7F) << shift
		if c < 0x80 {
			return v, true
		}
	}
	return 0, false
}
