package state

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/golang/snappy"
)

// enc builds Java DataOutput bytes for the tests; the byte sequences are
// the ones flink-state-format.md records from real Flink 1.20 files.
type enc struct{ b []byte }

func (e *enc) i32(v int32) *enc  { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)); return e }
func (e *enc) i64(v int64) *enc  { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)); return e }
func (e *enc) u16(v uint16) *enc { e.b = binary.BigEndian.AppendUint16(e.b, v); return e }
func (e *enc) u8(v byte) *enc    { e.b = append(e.b, v); return e }
func (e *enc) utf(s string) *enc { e.u16(uint16(len(s))); e.b = append(e.b, s...); return e }
func (e *enc) raw(h string) *enc {
	b, err := hex.DecodeString(strings.Join(strings.Fields(h), ""))
	if err != nil {
		panic(err)
	}
	e.b = append(e.b, b...)
	return e
}

const (
	longSnap  = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot"
	strSnap   = "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot"
	voidSnap  = "org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot"
	tupleSnap = "org.apache.flink.api.java.typeutils.runtime.TupleSerializerSnapshot"
	timerSnap = "org.apache.flink.streaming.api.operators.TimerSerializerSnapshot"
)

func (e *enc) simple(class string) *enc { return e.utf(class).i32(3) }

// tuple1Long is the nested (vsnap) snapshot of a Tuple1<Long> serializer.
func (e *enc) tuple1Long() *enc {
	e.simple(tupleSnap).i32(0x000DE704).i32(2).utf("org.apache.flink.api.java.tuple.Tuple1")
	return e.i32(0x001457FD).i32(1).i32(1).simple(longSnap)
}

func (e *enc) meta(name string, typ int32, opts [][2]string, sers ...func(*enc)) *enc {
	e.utf(name).i32(typ).i32(int32(len(opts)))
	for _, o := range opts {
		e.utf(o[0]).utf(o[1])
	}
	e.i32(int32(len(sers)))
	for _, s := range sers {
		s(e)
	}
	return e
}

func role(r string, body func(*enc)) func(*enc) {
	return func(e *enc) { e.utf(r).i32(2); body(e) }
}

// savepointProxy is the head of a real 1.20 hashmap canonical savepoint:
// key Tuple1<Long>, one ValueState<Long> "state-name".
func savepointProxy() []byte {
	e := (&enc{}).i32(6).u8(0).i32(2).tuple1Long().u16(1)
	e.meta("state-name", 0, [][2]string{{"KEYED_STATE_TYPE", "VALUE"}},
		role("VALUE_SERIALIZER", func(e *enc) { e.simple(longSnap) }),
		role("NAMESPACE_SERIALIZER", func(e *enc) { e.simple(voidSnap) }))
	return e.b
}

func TestKeyedProxyRealBytes(t *testing.T) {
	b := savepointProxy()
	p, err := ReadKeyedProxy(b, "sp/op-0")
	if err != nil {
		t.Fatal(err)
	}
	// Flink's handle puts the first key group at offset 505: the proxy's end.
	if p.End != 505 {
		t.Errorf("proxy ends at %d, want 505", p.End)
	}
	if got := p.Key.String(); got != "Tuple1<Long>" {
		t.Errorf("key %s", got)
	}
	if len(p.States) != 1 || p.States[0].Name != "state-name" || p.States[0].Kind() != "VALUE" || p.States[0].TTL() ||
		p.States[0].Serializers[RoleValue].Kind != KindLong || p.States[0].Serializers[RoleNamespace].Kind != KindVoidNamespace {
		j, _ := json.Marshal(p)
		t.Fatalf("proxy %s", j)
	}
	// Every truncation is an error naming the file, never a panic.
	for n := 0; n < len(b); n++ {
		if _, err := ReadKeyedProxy(b[:n], "sp/op-0"); err == nil || !strings.Contains(err.Error(), "sp/op-0: byte offset") {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	// Every single-byte flip is an error or a proxy; never a panic.
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0xFF
		ReadKeyedProxy(c, "x")
	}
}

func TestUnifiedKeyGroupRealBytes(t *testing.T) {
	p, _ := ReadKeyedProxy(savepointProxy(), "f")
	// Key group 2 of maxParallelism 4: Tuple1(1) -> 1, Tuple1(0) -> 0.
	region := (&enc{}).raw(`0000
		0000000A 02 0000000000000001 00   00000008 0000000000000001
		0000000A 82 0000000000000000 00   00000008 0000000000000000
		FFFF`).b
	var got []string
	err := ReadUnified(p, 4, 2, region, "f", 505, func(e Entry) error {
		j, _ := json.Marshal(e)
		got = append(got, string(j))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"state":"state-name","key_group":2,"key":{"class":"org.apache.flink.api.java.tuple.Tuple1","fields":[{"name":"f0","value":1}]},"namespace":null,"value":1}`,
		`{"state":"state-name","key_group":2,"key":{"class":"org.apache.flink.api.java.tuple.Tuple1","fields":[{"name":"f0","value":0}]},"namespace":null,"value":0}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A region cut anywhere is an error, never a panic or a short answer.
	for n := 0; n < len(region); n++ {
		if err := ReadUnified(p, 4, 2, region[:n], "f", 505, func(Entry) error { return nil }); err == nil {
			t.Fatalf("region cut at %d read without error", n)
		}
	}
}

// timerProxy: key Tuple1<Long>, "state-name" ValueState<Long> in a Long
// namespace, and the two timer queues of a process function.
func timerProxy() []byte {
	e := (&enc{}).i32(6).u8(0).i32(2).tuple1Long().u16(3)
	e.meta("state-name", 0, [][2]string{{"KEYED_STATE_TYPE", "VALUE"}},
		role("VALUE_SERIALIZER", func(e *enc) { e.simple(longSnap) }),
		role("NAMESPACE_SERIALIZER", func(e *enc) { e.simple(longSnap) }))
	timer := role("VALUE_SERIALIZER", func(e *enc) {
		e.simple(timerSnap).i32(0x000DE704).i32(2).i32(0x001457FD).i32(1).i32(2).tuple1Long().simple(longSnap)
	})
	e.meta("_timer_state/processing_timer", 3, nil, timer)
	e.meta("_timer_state/event_timer", 3, nil, timer)
	return e.b
}

func TestHeapKeyGroupRealBytes(t *testing.T) {
	p, err := ReadKeyedProxy(timerProxy(), "chk-3/heap")
	if err != nil {
		t.Fatal(err)
	}
	if k := p.States[1].Kind(); k != "TIMERS" || p.States[1].Serializers[RoleValue].String() != "Timer<Tuple1<Long>, Long>" {
		t.Fatalf("timer state: %s %s", k, p.States[1].Serializers[RoleValue])
	}
	region := (&enc{}).raw(`00000001
		0000 00000001 0000000000000003 0000000000000003 0000000000000003
		0001 00000001 80000191267A2E90 0000000000000003 0000000000000003
		0002 00000001 000000000000000A 0000000000000003 0000000000000003`).b
	var got []string
	if err := ReadHeap(p, 1, region, "chk-3/heap", 1000, func(e Entry) error {
		j, _ := json.Marshal(e)
		got = append(got, string(j))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	key := `{"class":"org.apache.flink.api.java.tuple.Tuple1","fields":[{"name":"f0","value":3}]}`
	want := []string{
		`{"state":"state-name","key_group":1,"key":` + key + `,"namespace":3,"value":3}`,
		`{"state":"_timer_state/processing_timer","key_group":1,"key":` + key + `,"namespace":3,"value":{"timestamp":1722927427216,"key":` + key + `,"namespace":3}}`,
		`{"state":"_timer_state/event_timer","key_group":1,"key":` + key + `,"namespace":3,"value":{"timestamp":-9223372036854775798,"key":` + key + `,"namespace":3}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := ReadHeap(p, 2, region, "chk-3/heap", 1000, func(Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), "chk-3/heap: byte offset 1000") {
		t.Fatalf("wrong key group: %v", err)
	}
}

// A heap checkpoint holds a map state's whole map per key; the reader
// gives one entry per map key, the shape a canonical savepoint has (a real
// 2.3 hashmap checkpoint of MapState<Integer, String> read as one entry
// per key before).
func TestHeapMapStateOneEntryPerMapKey(t *testing.T) {
	e := (&enc{}).i32(6).u8(0).i32(2).simple(strSnap).u16(1)
	e.meta("m", 0, [][2]string{{"KEYED_STATE_TYPE", "MAP"}},
		role("VALUE_SERIALIZER", func(e *enc) {
			e.utf("org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot").i32(3).
				i32(0x000DE704).i32(1).i32(0x001457FD).i32(1).i32(2).
				simple("org.apache.flink.api.common.typeutils.base.IntSerializer$IntSerializerSnapshot").simple(strSnap)
		}),
		role("NAMESPACE_SERIALIZER", func(e *enc) { e.simple(voidSnap) }))
	p, err := ReadKeyedProxy(e.b, "chk-1/heap")
	if err != nil {
		t.Fatal(err)
	}
	// Key group 5: state 0, one entry: namespace, key "k", map {7: "a", 9: null}.
	region := (&enc{}).raw(`00000005 0000 00000001 00 026B 00000002 00000007 00 0261 00000009 01`).b
	var got []string
	if err := ReadHeap(p, 5, region, "chk-1/heap", 0, func(e Entry) error {
		j, _ := json.Marshal(e)
		got = append(got, string(j))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"state":"m","key_group":5,"key":"k","namespace":null,"user_key":7,"value":"a"}`,
		`{"state":"m","key_group":5,"key":"k","namespace":null,"user_key":9,"value":null}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("entries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestUnifiedTimerRealBytes(t *testing.T) {
	p, _ := ReadKeyedProxy(timerProxy(), "f")
	// A RocksDB savepoint's timer: KG 2, ts 0x191267A259F, key Tuple1(0),
	// namespace 0, empty value; state id 1 is the processing-time queue.
	region := (&enc{}).raw(`0001 00000019 82 80000191267A259F 0000000000000000 0000000000000000 00000000 FFFF`).b
	var got []Entry
	if err := ReadUnified(p, 4, 2, region, "f", 0, func(e Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value.(Timer).Timestamp != 0x191267A259F || got[0].State != "_timer_state/processing_timer" {
		t.Fatalf("%+v", got)
	}
}

func TestOperatorStateRealBytes(t *testing.T) {
	e := (&enc{}).i32(6).u8(0).u16(1)
	e.meta("source-state", 1, [][2]string{{"OPERATOR_STATE_DISTRIBUTION_MODE", "UNION"}},
		role("VALUE_SERIALIZER", func(e *enc) { e.simple(strSnap) }))
	e.u16(0)
	p, err := ReadOperatorProxy(e.b, "sp/op")
	if err != nil {
		t.Fatal(err)
	}
	if p.End != 188 || p.States[0].Kind() != "UNION" {
		t.Fatalf("proxy ends at %d (want 188, where Flink's first offset points), kind %s", p.End, p.States[0].Kind())
	}
	offs := []int64{188}
	for _, s := range []string{"Here be dragons!", "Here be more dragons!"} {
		e.u8(byte(len(s) + 1))
		e.b = append(e.b, s...)
		offs = append(offs, int64(len(e.b)))
	}
	vals, err := ReadOperatorState(p, p.States[0], e.b, offs[:2], "sp/op")
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 2 || vals[0] != "Here be dragons!" || vals[1] != "Here be more dragons!" {
		t.Fatalf("%q", vals)
	}
}

// Compressed operator state (1.18+): one Snappy framed stream after the
// proxy, a chunk ending at every element's offset (as the real Flink 2.3
// and 1.20 compressed savepoints in the peer test have it).
func TestCompressedOperatorState(t *testing.T) {
	e := (&enc{}).i32(6).u8(1).u16(1)
	e.meta("source-state", 1, [][2]string{{"OPERATOR_STATE_DISTRIBUTION_MODE", "UNION"}},
		role("VALUE_SERIALIZER", func(e *enc) { e.simple(strSnap) }))
	e.u16(0)
	p, err := ReadOperatorProxy(e.b, "sp/op")
	if err != nil || !p.Compression {
		t.Fatal(p, err)
	}
	crc := func(b []byte) uint32 {
		c := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
		return (c>>15 | c<<17) + 0xa282ead8
	}
	chunk := func(typ byte, data []byte) {
		body := binary.LittleEndian.AppendUint32(nil, crc(data))
		if typ == 0 {
			body = append(body, snappy.Encode(nil, data)...)
		} else {
			body = append(body, data...)
		}
		e.u8(typ).u8(byte(len(body))).u8(byte(len(body) >> 8)).u8(0)
		e.b = append(e.b, body...)
	}
	e.raw("FF060000 734E61507059") // stream identifier
	var offs []int64
	for i, s := range []string{"Here be dragons!", strings.Repeat("more dragons ", 8)} {
		offs = append(offs, int64(len(e.b)))
		chunk(byte(i), append([]byte{byte(len(s) + 1)}, s...))
	}
	vals, err := ReadOperatorState(p, p.States[0], e.b, offs, "sp/op")
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 2 || vals[0] != "Here be dragons!" || vals[1] != strings.Repeat("more dragons ", 8) {
		t.Fatalf("%q", vals)
	}
	// A flipped data byte fails its chunk's checksum.
	c := bytes.Clone(e.b)
	c[offs[1]+10] ^= 1 // inside the stored (uncompressed) chunk
	if _, err := ReadOperatorState(p, p.States[0], c, offs, "sp/op"); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("flipped byte: %v", err)
	}
}

func TestValueEncodings(t *testing.T) {
	str := &Type{Kind: KindString}
	long := &Type{Kind: KindLong}
	row := &Type{Kind: KindRow, RowKind: true, Fields: []Field{{Name: "f0", Type: long}, {Name: "f1", Type: str}}}
	cases := []struct {
		t    *Type
		hex  string
		want string
	}{
		{str, "06 61 E9 01 AC 41 BD B0 03 80 BC 03", `"aé€😀"`},
		{str, "00", `null`},
		{row, "00 0000000000000005 0278", `{"row_kind":"+I","fields":[{"name":"f0","value":5},{"name":"f1","value":"x"}]}`},
		{row, "50 0000000000000005", `{"row_kind":"+U","fields":[{"name":"f0","value":5},{"name":"f1","value":null}]}`},
		{row, "F0", `{"row_kind":"-D","fields":[{"name":"f0","value":null},{"name":"f1","value":null}]}`},
		{&Type{Kind: KindDouble}, "3FF8000000000000", `1.5`},
		{&Type{Kind: KindMap, Key: str, Value: long}, "00000002 0261 00 0000000000000001 0262 01", `[{"key":"a","value":1},{"key":"b","value":null}]`},
		{&Type{Kind: KindTTL, Elem: long}, "0000000000000000 000000000000002A", `{"last_access":"1970-01-01T00:00:00Z","value":42}`},
		{&Type{Kind: KindEnum, Constants: []string{"RED", "GREEN"}}, "00000001", `"GREEN"`},
		{&Type{Kind: KindKryo, Class: "com.acme.Event", Snapshot: "KryoSerializerSnapshot"}, "0C01", `{"serializer":"com.acme.Event (Kryo)","hex":"0c01","text":".."}`},
	}
	for _, c := range cases {
		b := (&enc{}).raw(c.hex).b
		v, err := DecodeValue(c.t, b, "f", 0)
		if err != nil {
			t.Errorf("%s %s: %v", c.t, c.hex, err)
			continue
		}
		j, _ := json.Marshal(v)
		if string(j) != c.want {
			t.Errorf("%s %s = %s, want %s", c.t, c.hex, j, c.want)
		}
	}
	// Trailing bytes after a value are an error: the bytes are not what the
	// serializer says.
	if _, err := DecodeValue(long, make([]byte, 9), "f", 0); err == nil {
		t.Error("a Long with a trailing byte decoded")
	}
	if _, err := DecodeValue(&Type{Kind: KindEnum, Constants: []string{"A"}}, []byte{0, 0, 0, 5}, "f", 0); err == nil {
		t.Error("an enum index beyond the constants decoded")
	}
}

func TestUnknownSerializerStops(t *testing.T) {
	b := (&enc{}).i32(6).u8(0).i32(2).utf("com.acme.MySerializerSnapshot").i32(1).b
	_, err := ReadKeyedProxy(b, "f")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "com.acme.MySerializerSnapshot") {
		t.Fatalf("%v", err)
	}
}
