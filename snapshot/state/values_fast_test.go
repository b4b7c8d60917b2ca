package state

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// The fast path gives exactly what the careful path gives — the same
// value and bytes consumed, or, where the careful path fails, no value —
// for valid encodings and for random and mutated bytes.
func TestFastValueMatchesCareful(t *testing.T) {
	long, str, integer := &Type{Kind: KindLong}, &Type{Kind: KindString}, &Type{Kind: KindInt}
	types := map[string]*Type{
		"long": long, "string": str, "int": integer, "short": {Kind: KindShort}, "byte": {Kind: KindByte},
		"bool": {Kind: KindBoolean}, "double": {Kind: KindDouble}, "float": {Kind: KindFloat},
		"void": {Kind: KindVoidNamespace}, "global": {Kind: KindGlobalWindow}, "window": {Kind: KindTimeWindow},
		"tuple":     {Kind: KindTuple, Class: "Tuple2", Fields: []Field{{Name: "f0", Type: long}, {Name: "f1", Type: str}}},
		"tuple0":    {Kind: KindTuple, Class: "Tuple0"},
		"row":       {Kind: KindRow, RowKind: true, Fields: []Field{{Name: "f0", Type: long}, {Name: "f1", Type: str}, {Name: "f2", Type: integer}}},
		"row-plain": {Kind: KindRow, Fields: []Field{{Name: "a", Type: str}}},
		"pojo": {Kind: KindPojo, Class: "P", Fields: []Field{{Name: "boxed", Type: integer}, {Name: "count", Type: long},
			{Name: "gone", Gone: true}, {Name: "name", Type: str}}},
		"pojo-gone":    {Kind: KindPojo, Class: "G", Fields: []Field{{Name: "gone", Gone: true}}},
		"nullable":     {Kind: KindNullable, Elem: long, Padding: 8},
		"ttl":          {Kind: KindTTL, Elem: str},
		"ttl-pojo":     {Kind: KindTTL, Elem: &Type{Kind: KindPojo, Class: "Q", Fields: []Field{{Name: "s", Type: str}}}},
		"list-of-long": {Kind: KindList, Elem: long},
	}
	valid := [][]byte{
		{0, 0, 0, 0, 0, 0, 0, 42},
		append([]byte{6}, "héllo"...),           // 5 units: 'h', 0xE9 as two LEB bytes would differ; raw bytes here
		{4, 0xE9, 0x01, 0x41, 0xBD, 0xD0, 0x03}, // é, A, U+E83D
		{3, 0xBD, 0xB0, 0x03, 0x80, 0xB8, 0x03}, // U+D83D U+DC00: a pair
		{2, 0xBD, 0xB0, 0x03},                   // a lone high surrogate
		{0},                                     // null string
		{2, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 3, 'a', 'b'}, // POJO
		{1},
		{0x40, 0, 0, 0, 0, 0, 0, 0, 9, 3, 'x', 'y', 0, 0, 0, 5},
	}
	r := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	for _, v := range valid {
		inputs = append(inputs, v)
		for range 200 {
			m := append([]byte(nil), v...)
			switch r.IntN(3) {
			case 0:
				m[r.IntN(len(m))] ^= byte(1 << r.IntN(8))
			case 1:
				m = m[:r.IntN(len(m))]
			case 2:
				m = binary.BigEndian.AppendUint32(m, r.Uint32())
			}
			inputs = append(inputs, m)
		}
	}
	for range 3000 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			b[i] = byte(r.IntN(4)) // small bytes: flags, lengths, nulls
			if r.IntN(4) == 0 {
				b[i] = byte(r.Uint32())
			}
		}
		inputs = append(inputs, b)
	}
	for name, typ := range types {
		for _, in := range inputs {
			slowOnly = true
			ds := newDecoder(in, "f", 0)
			want, werr := ds.value(typ, "value", 0)
			slowOnly = false
			df := newDecoder(in, "f", 0)
			got, ok := df.fast(typ, 0)
			if !ok {
				continue // the careful path decides
			}
			if werr != nil {
				t.Fatalf("%s % x: fast read %#v, careful failed: %v", name, in, got, werr)
			}
			if !reflect.DeepEqual(got, want) && fmt.Sprint(got) != fmt.Sprint(want) || df.pos != ds.pos { // NaN: by its print
				t.Fatalf("%s % x: fast %#v (%d bytes), careful %#v (%d bytes)", name, in, got, df.pos, want, ds.pos)
			}
		}
	}
}
