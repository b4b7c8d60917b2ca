package snapshot

import (
	"encoding/binary"
	"fmt"
	"math"
)

// A small reader and writer for the part of the Java Object Serialization
// Stream Protocol that Flink's metadata trailer uses: serializable classes
// without custom writeObject, primitive and object fields, strings, enums,
// null and back-references. Anything else is reported, never guessed.

const (
	jMagic          = 0xACED
	jVersion        = 5
	tcNull          = 0x70
	tcReference     = 0x71
	tcClassDesc     = 0x72
	tcObject        = 0x73
	tcString        = 0x74
	tcEndBlockData  = 0x78
	tcLongString    = 0x7C
	tcEnum          = 0x7E
	baseWireHandle  = 0x7E0000
	scWriteMethod   = 0x01
	scSerializable  = 0x02
	scExternalizble = 0x04
	scEnum          = 0x10
	maxJavaDepth    = 32
)

type javaField struct {
	typ  byte   // B C D F I J S Z, or L / [
	name string //
	sig  string // class signature for L and [
}

type javaClass struct {
	name   string
	suid   int64
	flags  byte
	fields []javaField
	super  *javaClass
}

type javaObject struct {
	class  string
	fields map[string]any // bool, int64, float64, string, javaEnum, *javaObject, nil
}

type javaEnum struct {
	class    string
	constant string
}

type javaReader struct {
	b       []byte
	pos     int
	handles []any
	depth   int
}

func parseJavaObject(b []byte) (*javaObject, error) {
	r := &javaReader{b: b}
	if len(b) < 4 || binary.BigEndian.Uint16(b) != jMagic || binary.BigEndian.Uint16(b[2:]) != jVersion {
		return nil, fmt.Errorf("not a Java serialization stream (want AC ED 00 05 at offset 0)")
	}
	r.pos = 4
	v, err := r.content()
	if err != nil {
		return nil, err
	}
	obj, ok := v.(*javaObject)
	if !ok {
		return nil, fmt.Errorf("stream holds %T, want an object", v)
	}
	if r.pos != len(b) {
		return nil, fmt.Errorf("%d bytes left after the object at offset %d", len(b)-r.pos, r.pos)
	}
	return obj, nil
}

func (r *javaReader) errf(format string, a ...any) error {
	return fmt.Errorf("java serialization at offset %d: %s", r.pos, fmt.Sprintf(format, a...))
}

func (r *javaReader) u8() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.errf("truncated")
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *javaReader) n(k int) ([]byte, error) {
	if k < 0 || len(r.b)-r.pos < k {
		return nil, r.errf("truncated: want %d bytes, %d left", k, len(r.b)-r.pos)
	}
	s := r.b[r.pos : r.pos+k]
	r.pos += k
	return s, nil
}

func (r *javaReader) utf() (string, error) {
	l, err := r.n(2)
	if err != nil {
		return "", err
	}
	s, err := r.n(int(binary.BigEndian.Uint16(l)))
	if err != nil {
		return "", err
	}
	str, ok := decodeMUTF8(s)
	if !ok {
		return "", r.errf("malformed modified UTF-8 string")
	}
	return str, nil
}

func (r *javaReader) ref() (any, error) {
	b, err := r.n(4)
	if err != nil {
		return nil, err
	}
	h := int64(binary.BigEndian.Uint32(b)) - baseWireHandle
	if h < 0 || h >= int64(len(r.handles)) {
		return nil, r.errf("reference to unknown handle %#x", h+baseWireHandle)
	}
	return r.handles[h], nil
}

func (r *javaReader) content() (any, error) {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxJavaDepth {
		return nil, r.errf("objects nested deeper than %d", maxJavaDepth)
	}
	tc, err := r.u8()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		return r.ref()
	case tcString:
		s, err := r.utf()
		if err != nil {
			return nil, err
		}
		r.handles = append(r.handles, s)
		return s, nil
	case tcObject:
		cd, err := r.classDesc()
		if err != nil {
			return nil, err
		}
		if cd == nil {
			return nil, r.errf("object with null class")
		}
		obj := &javaObject{class: cd.name, fields: map[string]any{}}
		r.handles = append(r.handles, obj)
		var chain []*javaClass
		for c := cd; c != nil; c = c.super {
			chain = append(chain, c)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			c := chain[i]
			if c.flags&scSerializable == 0 || c.flags&(scWriteMethod|scExternalizble) != 0 {
				return nil, r.errf("class %s uses custom serialization (flags %#x); unsupported", c.name, c.flags)
			}
			for _, f := range c.fields {
				v, err := r.value(f)
				if err != nil {
					return nil, err
				}
				obj.fields[f.name] = v
			}
		}
		return obj, nil
	case tcEnum:
		cd, err := r.classDesc()
		if err != nil {
			return nil, err
		}
		if cd == nil {
			return nil, r.errf("enum with null class")
		}
		idx := len(r.handles)
		r.handles = append(r.handles, nil)
		v, err := r.content()
		if err != nil {
			return nil, err
		}
		name, ok := v.(string)
		if !ok {
			return nil, r.errf("enum constant of %s is %T, want a string", cd.name, v)
		}
		e := javaEnum{class: cd.name, constant: name}
		r.handles[idx] = e
		return e, nil
	case tcClassDesc:
		r.pos--
		return r.classDesc()
	}
	return nil, r.errf("unsupported Java serialization element %#x", tc)
}

func (r *javaReader) classDesc() (*javaClass, error) {
	tc, err := r.u8()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		v, err := r.ref()
		if err != nil {
			return nil, err
		}
		c, ok := v.(*javaClass)
		if !ok {
			return nil, r.errf("class reference points at %T", v)
		}
		return c, nil
	case tcClassDesc:
	default:
		return nil, r.errf("want a class descriptor, got %#x", tc)
	}
	c := &javaClass{}
	if c.name, err = r.utf(); err != nil {
		return nil, err
	}
	b, err := r.n(8)
	if err != nil {
		return nil, err
	}
	c.suid = int64(binary.BigEndian.Uint64(b))
	r.handles = append(r.handles, c)
	if c.flags, err = r.u8(); err != nil {
		return nil, err
	}
	b, err = r.n(2)
	if err != nil {
		return nil, err
	}
	nf := int(binary.BigEndian.Uint16(b))
	if nf > (len(r.b)-r.pos)/4 {
		return nil, r.errf("class %s claims %d fields", c.name, nf)
	}
	for i := 0; i < nf; i++ {
		var f javaField
		if f.typ, err = r.u8(); err != nil {
			return nil, err
		}
		if f.name, err = r.utf(); err != nil {
			return nil, err
		}
		switch f.typ {
		case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
		case 'L', '[':
			v, err := r.content()
			if err != nil {
				return nil, err
			}
			s, ok := v.(string)
			if !ok {
				return nil, r.errf("field %s.%s: type signature is %T", c.name, f.name, v)
			}
			f.sig = s
		default:
			return nil, r.errf("field %s.%s: unknown type code %q", c.name, f.name, f.typ)
		}
		c.fields = append(c.fields, f)
	}
	if tc, err = r.u8(); err != nil {
		return nil, err
	}
	if tc != tcEndBlockData {
		return nil, r.errf("class %s has annotations (%#x); unsupported", c.name, tc)
	}
	if c.super, err = r.classDesc(); err != nil {
		return nil, err
	}
	return c, nil
}

func (r *javaReader) value(f javaField) (any, error) {
	size := map[byte]int{'B': 1, 'Z': 1, 'C': 2, 'S': 2, 'I': 4, 'F': 4, 'J': 8, 'D': 8}[f.typ]
	if size == 0 {
		return r.content()
	}
	b, err := r.n(size)
	if err != nil {
		return nil, err
	}
	switch f.typ {
	case 'Z':
		return b[0] != 0, nil
	case 'B':
		return int64(int8(b[0])), nil
	case 'C':
		return int64(binary.BigEndian.Uint16(b)), nil
	case 'S':
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case 'I':
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case 'J':
		return int64(binary.BigEndian.Uint64(b)), nil
	case 'F':
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	default:
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	}
}

// javaWriter emits the same bytes ObjectOutputStream would for the classes
// above: class descriptors and type signatures are written once and then
// referenced (signatures are interned strings in the JVM), while string
// values and enum constant names always get a fresh handle.
type javaWriter struct {
	b       []byte
	next    uint32
	classes map[string]uint32
	sigs    map[string]uint32
}

func newJavaWriter() *javaWriter {
	return &javaWriter{b: []byte{0xAC, 0xED, 0x00, 0x05}, next: baseWireHandle,
		classes: map[string]uint32{}, sigs: map[string]uint32{}}
}

func (w *javaWriter) handle() uint32 { h := w.next; w.next++; return h }

func (w *javaWriter) utf(s string) {
	enc, _ := appendMUTF8(nil, s) // only ASCII class, field and constant names reach here
	w.b = binary.BigEndian.AppendUint16(w.b, uint16(len(enc)))
	w.b = append(w.b, enc...)
}

func (w *javaWriter) ref(h uint32) {
	w.b = append(w.b, tcReference)
	w.b = binary.BigEndian.AppendUint32(w.b, h)
}

func (w *javaWriter) classDesc(c *javaClass) {
	if c == nil {
		w.b = append(w.b, tcNull)
		return
	}
	if h, ok := w.classes[c.name]; ok {
		w.ref(h)
		return
	}
	w.b = append(w.b, tcClassDesc)
	w.utf(c.name)
	w.b = binary.BigEndian.AppendUint64(w.b, uint64(c.suid))
	w.classes[c.name] = w.handle()
	w.b = append(w.b, c.flags)
	w.b = binary.BigEndian.AppendUint16(w.b, uint16(len(c.fields)))
	for _, f := range c.fields {
		w.b = append(w.b, f.typ)
		w.utf(f.name)
		if f.typ == 'L' || f.typ == '[' {
			if h, ok := w.sigs[f.sig]; ok {
				w.ref(h)
			} else {
				w.b = append(w.b, tcString)
				w.sigs[f.sig] = w.handle()
				w.utf(f.sig)
			}
		}
	}
	w.b = append(w.b, tcEndBlockData)
	w.classDesc(c.super)
}

// beginObject writes the object header; the caller writes the field values
// in descriptor order.
func (w *javaWriter) beginObject(c *javaClass) {
	w.b = append(w.b, tcObject)
	w.classDesc(c)
	w.handle()
}

func (w *javaWriter) boolean(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

func (w *javaWriter) string(s string) {
	w.b = append(w.b, tcString)
	w.handle()
	w.utf(s)
}

var javaEnumBase = &javaClass{name: "java.lang.Enum", suid: 0, flags: scSerializable | scEnum}

func (w *javaWriter) enum(class, constant string) {
	w.b = append(w.b, tcEnum)
	w.classDesc(&javaClass{name: class, suid: 0, flags: scSerializable | scEnum, super: javaEnumBase})
	w.handle()
	w.string(constant)
}

func (w *javaWriter) bytes() []byte { return w.b }
