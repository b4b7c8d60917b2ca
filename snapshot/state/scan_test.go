package state

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
	"unsafe"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// genProxy is a keyed proxy with Long keys, VoidNamespace and one state of
// each shape a scan decodes: value state of Long, String, a POJO and a
// Tuple2, list state of Long, map state String → Long.
func genProxy() *KeyedProxy {
	long, str, integer, double := &Type{Kind: KindLong}, &Type{Kind: KindString}, &Type{Kind: KindInt}, &Type{Kind: KindDouble}
	void := &Type{Kind: KindVoidNamespace}
	state := func(name, kind string, v *Type) *Meta {
		return &Meta{Name: name, Type: KeyValue, Options: map[string]string{OptionKeyedStateType: kind},
			Serializers: map[string]*Type{RoleValue: v, RoleNamespace: void}}
	}
	pojo := &Type{Kind: KindPojo, Class: "com.acme.P", Fields: []Field{{Name: "count", Type: integer},
		{Name: "name", Type: str}, {Name: "score", Type: double}, {Name: "id", Type: long}, {Name: "note", Type: str}}}
	tuple := &Type{Kind: KindTuple, Class: "org.apache.flink.api.java.tuple.Tuple2", Fields: []Field{{Name: "f0", Type: long}, {Name: "f1", Type: str}}}
	return &KeyedProxy{Version: 6, Key: long, States: []*Meta{
		state("long", "VALUE", long), state("string", "VALUE", str), state("pojo", "VALUE", pojo),
		state("tuple", "VALUE", tuple), state("list", "LIST", &Type{Kind: KindList, Elem: long}),
		state("map", "MAP", &Type{Kind: KindMap, Key: str, Value: long}),
	}}
}

// genString is Flink's StringValue encoding of s (UTF-16 units as LEB128).
func genString(b []byte, s string) []byte {
	u := utf16.Encode([]rune(s))
	b = binary.AppendUvarint(b, uint64(len(u)+1))
	for _, c := range u {
		b = binary.AppendUvarint(b, uint64(c))
	}
	return b
}

func genText(r *rand.Rand) string {
	alpha := []rune("abcdefghijklmnopqrstuvwxyz0123456789-é€😀")
	n := r.IntN(60)
	out := make([]rune, n)
	for i := range out {
		if r.IntN(10) == 0 {
			out[i] = alpha[r.IntN(len(alpha))]
		} else {
			out[i] = alpha[r.IntN(36)]
		}
	}
	return string(out)
}

// genRegion is one key group's region of the unified format: every state
// of genProxy with 1..n entries, random keys and values.
func genRegion(r *rand.Rand, kg, n int) []byte {
	var b []byte
	for sid := range 6 {
		b = binary.BigEndian.AppendUint16(b, uint16(sid))
		count := 1 + r.IntN(n)
		for i := range count {
			key := []byte{byte(kg)}
			if i == count-1 {
				key[0] |= 0x80
			}
			key = binary.BigEndian.AppendUint64(key, r.Uint64())
			key = append(key, 0) // VoidNamespace
			var val []byte
			switch sid {
			case 0:
				val = binary.BigEndian.AppendUint64(nil, r.Uint64())
			case 1:
				val = genString(nil, genText(r))
			case 2:
				val = []byte{2}
				val = binary.BigEndian.AppendUint32(append(val, 0), r.Uint32())
				val = genString(append(val, 0), genText(r))
				val = binary.BigEndian.AppendUint64(append(val, 0), math.Float64bits(r.NormFloat64()))
				if r.IntN(3) == 0 {
					val = append(val, 1) // a null id
				} else {
					val = binary.BigEndian.AppendUint64(append(val, 0), r.Uint64())
				}
				val = genString(append(val, 0), genText(r))
			case 3:
				val = genString(binary.BigEndian.AppendUint64(nil, r.Uint64()), genText(r))
			case 4:
				for j := range 1 + r.IntN(4) {
					if j > 0 {
						val = append(val, ',')
					}
					val = binary.BigEndian.AppendUint64(val, r.Uint64())
				}
			case 5:
				key = genString(key, genText(r))
				val = binary.BigEndian.AppendUint64([]byte{0}, r.Uint64())
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
			b = append(b, key...)
			b = binary.BigEndian.AppendUint32(b, uint32(len(val)))
			b = append(b, val...)
		}
	}
	return binary.BigEndian.AppendUint16(b, endOfKeyGroup)
}

// Generated streams: the scan's entries, cloned, are ReadUnified's — the
// same states, keys, namespaces, map keys and values, of the same Go
// types — and they are built in reused memory: the same *Entry every
// call, a POJO value in the same Record slot, strings pointing into the
// region's bytes. What a callback keeps without Clone changes under it.
func TestScanEntriesEqualKeptOnes(t *testing.T) {
	p := genProxy()
	r := rand.New(rand.NewPCG(13, 42))
	for round := range 30 {
		kg := r.IntN(128)
		region := genRegion(r, kg, 1+round*3)
		var want []Entry
		if err := ReadUnified(p, 128, kg, region, "gen", 0, func(e Entry) error { want = append(want, e); return nil }); err != nil {
			t.Fatalf("round %d: ReadUnified: %v", round, err)
		}
		var got []Entry
		var entryPtr *Entry
		var pojos []*Record
		var kept []Value // values kept without Clone
		a := newReusingArena()
		err := readUnified(p, 128, kg, region, "gen", 0, a, "", nil, func(e *Entry) error {
			if entryPtr == nil {
				entryPtr = e
			} else if e != entryPtr {
				t.Fatalf("round %d: a new *Entry for entry %d", round, len(got))
			}
			if rec, ok := e.Value.(*Record); ok && e.State == "pojo" {
				pojos = append(pojos, rec)
			}
			if s, ok := e.Value.(string); ok && len(s) > 0 && e.State == "string" && isASCII(s) {
				// An ASCII string is the region's bytes, not a copy.
				at := uintptr(unsafe.Pointer(unsafe.StringData(s)))
				lo := uintptr(unsafe.Pointer(&region[0]))
				if at < lo || at >= lo+uintptr(len(region)) {
					t.Fatalf("round %d: string %q copied out of the region", round, s)
				}
			}
			kept = append(kept, e.Value)
			got = append(got, e.Clone())
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: scan: %v", round, err)
		}
		if len(got) != len(want) {
			t.Fatalf("round %d: %d entries, ReadUnified %d", round, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("round %d entry %d:\nscan %#v\nread %#v", round, i, got[i], want[i])
			}
			if jsonOf(t, got[i]) != jsonOf(t, want[i]) {
				t.Fatalf("round %d entry %d: JSON %s, read %s", round, i, jsonOf(t, got[i]), jsonOf(t, want[i]))
			}
		}
		for _, rec := range pojos[1:] {
			if rec != pojos[0] {
				t.Fatalf("round %d: POJO values in new Records, not the reused slot", round)
			}
		}
		// The kept (uncloned) values of the Long state all read alike:
		// one slot, rewritten by every entry after theirs.
		var longs []int
		for i, e := range want {
			if e.State == "long" {
				longs = append(longs, i)
			}
		}
		for _, i := range longs {
			if kept[i] != kept[longs[0]] {
				t.Fatalf("round %d: kept Longs %v and %v: not one reused slot", round, kept[i], kept[longs[0]])
			}
		}
		if len(longs) > 1 && want[longs[0]].Value == want[longs[1]].Value {
			t.Fatalf("round %d: the generator repeats Longs", round)
		}
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// On savepoint files — the Flink fixtures, a canonical savepoint written
// here — ScanKeyed gives ReadKeyed's entries, one state at a time and all
// at once.
func TestScanKeyedEqualsReadKeyed(t *testing.T) {
	type snap struct {
		name string
		m    func(t *testing.T) (*snapshot.Metadata, *snapshot.OperatorState)
	}
	snaps := []snap{{"canonical", func(t *testing.T) (*snapshot.Metadata, *snapshot.OperatorState) {
		m := writeCanonical(t, filepath.Join(t.TempDir(), "sp"))
		return m, m.Operators[0]
	}}}
	for _, name := range []string{
		"new-stateful-udf-migration-itcase-flink1.9-rocksdb-savepoint",
		"new-stateful-udf-migration-itcase-flink1.10-savepoint",
		"new-stateful-udf-migration-itcase-flink1.11-rocksdb-savepoint",
	} {
		snaps = append(snaps, snap{name, func(t *testing.T) (*snapshot.Metadata, *snapshot.OperatorState) {
			m := fixture(t, name)
			return m, operator(t, m, "d5c8b168c6cbfe8c507a10f88b325243")
		}})
	}
	ctx, fsys := context.Background(), storage.NewLocal()
	for _, s := range snaps {
		t.Run(s.name, func(t *testing.T) {
			m, op := s.m(t)
			for _, name := range []string{"", "state-name", "absent"} {
				var want, got []string
				if err := ReadKeyed(ctx, fsys, m, op, name, func(e Entry) error {
					want = append(want, jsonOf(t, e))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if err := ScanKeyed(ctx, fsys, m, op, name, func(e *Entry) error {
					got = append(got, jsonOf(t, e.Clone()))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) || (name != "absent" && len(want) == 0) {
					t.Fatalf("state %q: ScanKeyed %q, ReadKeyed %q", name, got, want)
				}
			}
		})
	}
}

// A broken entry frame is an error naming the file, the offset and what
// was expected there — from both readers, never a panic.
func TestScanFrameErrors(t *testing.T) {
	p := genProxy()
	good := func() []byte {
		b := binary.BigEndian.AppendUint16(nil, 0)
		b = binary.BigEndian.AppendUint32(b, 10)
		b = append(b, 0x80|5, 0, 0, 0, 0, 0, 0, 0, 7, 0)
		b = binary.BigEndian.AppendUint32(b, 8)
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint64(b, 9), endOfKeyGroup)
	}
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
		want string
	}{
		{"intact", func(b []byte) []byte { return b }, ""},
		{"key length cut", func(b []byte) []byte { return b[:4] }, "byte offset 2: expected key length"},
		{"negative key length", func(b []byte) []byte { b[2] = 0xFF; return b }, "byte offset 2: expected key length: negative count"},
		{"key beyond the region", func(b []byte) []byte { b[4] = 0x7F; return b }, "byte offset 2: expected key length"},
		{"empty key", func(b []byte) []byte {
			return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint16(nil, 0), 0), 0)
		}, "byte offset 6: expected key: empty key"},
		{"value length cut", func(b []byte) []byte { return b[:17] }, "byte offset 16: expected value length"},
		{"value beyond the region", func(b []byte) []byte { return b[:24] }, "byte offset 20: expected value: truncated"},
		{"negative value length", func(b []byte) []byte { b[16] = 0x80; return b }, "byte offset 16: expected value length: negative count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, a := range []*arena{nil, newReusingArena()} {
				n := 0
				err := readUnified(p, 128, 5, tc.edit(good()), "op-0", 0, a, "", nil, func(*Entry) error { n++; return nil })
				switch {
				case tc.want == "" && (err != nil || n != 1):
					t.Fatalf("%d entries, %v", n, err)
				case tc.want != "" && (err == nil || !strings.Contains(err.Error(), "op-0: "+tc.want)):
					t.Fatalf("error %v, want %q", err, tc.want)
				}
			}
		})
	}
}
