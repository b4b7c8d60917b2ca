package state

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// Values from the arena are what plain boxing gives — same dynamic types,
// equal with ==, the same JSON — across chunk boundaries and after
// collections, while later values are decoded into the same chunks.
func TestArenaValuesEqualPlainOnes(t *testing.T) {
	str, long, integer, double := &Type{Kind: KindString}, &Type{Kind: KindLong}, &Type{Kind: KindInt}, &Type{Kind: KindDouble}
	pojo := &Type{Kind: KindPojo, Class: "P", Fields: []Field{{Name: "count", Type: integer}, {Name: "name", Type: str},
		{Name: "score", Type: double}, {Name: "id", Type: long}}}
	tuple := &Type{Kind: KindTuple, Class: "Tuple2", Fields: []Field{{Name: "f0", Type: long}, {Name: "f1", Type: str}}}
	enc := func(i int) (*Type, []byte) {
		s := strings.Repeat("x", i%50) + "-" + string(rune('a'+i%26))
		if i%7 == 0 {
			s += "é" // beyond ASCII: the careful conversion
		}
		strBytes := func(b []byte) []byte {
			u := []rune(s)
			b = append(b, byte(len(u)+1))
			for _, r := range u {
				for r >= 0x80 {
					b = append(b, byte(r)|0x80)
					r >>= 7
				}
				b = append(b, byte(r))
			}
			return b
		}
		switch i % 5 {
		case 0:
			return long, binary.BigEndian.AppendUint64(nil, uint64(i)*0x9E3779B97F4A7C15)
		case 1:
			return str, strBytes(nil)
		case 2:
			return integer, binary.BigEndian.AppendUint32(nil, uint32(i*1000))
		case 3:
			b := []byte{2, 0}
			b = binary.BigEndian.AppendUint32(b, uint32(i))
			b = strBytes(append(b, 0))
			b = binary.BigEndian.AppendUint64(append(b, 0), uint64(i)<<40)
			return pojo, binary.BigEndian.AppendUint64(append(b, 0), uint64(i))
		default:
			return tuple, strBytes(binary.BigEndian.AppendUint64(nil, uint64(i)))
		}
	}
	a := new(arena)
	var got []Value
	const n = 20000 // many chunks of every kind
	for i := range n {
		typ, b := enc(i)
		d := decoder{b: b, a: a}
		v, ok := d.fast(typ, 0)
		if !ok || d.left() != 0 {
			t.Fatalf("value %d: fast path failed", i)
		}
		got = append(got, v)
		if i%5000 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for i, v := range got {
		typ, b := enc(i)
		want, err := DecodeValue(typ, b, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.TypeOf(v) != reflect.TypeOf(want) || !reflect.DeepEqual(v, want) {
			t.Fatalf("value %d: arena %#v, plain %#v", i, v, want)
		}
		if typ.Kind != KindPojo && typ.Kind != KindTuple && v != want {
			t.Fatalf("value %d: %#v != %#v", i, v, want)
		}
		j1, _ := json.Marshal(v)
		j2, _ := json.Marshal(want)
		if string(j1) != string(j2) {
			t.Fatalf("value %d: JSON %s, plain %s", i, j1, j2)
		}
	}
	var nilArena *arena
	if v := nilArena.int64(7); v != int64(7) {
		t.Fatalf("nil arena: %#v", v)
	}
}
