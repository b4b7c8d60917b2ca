package state

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// AppendJSON writes what encoding/json writes, byte for byte: for every
// kind of decoded value, the escapes and number forms at their edges, and
// the generated streams' entries (as json.Encoder prints them, newline
// aside).
func TestAppendJSONIsEncodingJSON(t *testing.T) {
	values := []Value{nil, int64(0), int64(-1 << 63), int32(-7), int16(300), int8(-128), true, false,
		"", "plain text", `quote " backslash \ slash /`, "<html> & co", "tab\tnl\ncr\r\x00\x1f\x7f", "é€😀",
		"\u2028\u2029", "bad \xff utf-8 \xc3", float64(0), math.Copysign(0, -1), 1.5, -2.25e-7, 1e-6, 9.99e-7, 1e20, 1e21,
		123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, float32(0.1), float32(1e-7), float32(3.4e38), float32(-1e21),
		&Record{Class: "c", Fields: []NamedItem{{"a", int64(1)}, {"b", nil}, {"c", "x<y"}}}, &Record{Kind: "+I", Fields: []NamedItem{}},
		&Record{}, (*Record)(nil), []any{}, []any(nil), []any{int64(1), "two", []any{3.5}}, []MapEntry{{"k", int64(1)}, {nil, nil}},
		[]MapEntry(nil), Window{}, Window{Global: true}, Window{Start: -5, End: 10}, Window{End: 3},
		Timer{Timestamp: 7, Key: "k", Namespace: Window{Start: 1, End: 2}},
		&TTLValue{LastAccess: time.UnixMilli(1700000000123).UTC(), Value: "v"}, Raw{Serializer: "kryo", Hex: "00ff", Text: ".."},
		[]byte{1, 2, 3}, KafkaSplit{},
	}
	// Every byte value at every position of a string longer than the
	// eight bytes checked at a time.
	for c := range 256 {
		for at := range 21 {
			s := []byte("abcdefghijklmnopqrstu")
			s[at] = byte(c)
			values = append(values, string(s))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		values = append(values, math.Float64frombits(r.Uint64()), float32(r.NormFloat64()*math.Pow(10, float64(r.IntN(60)-30))))
	}
	for _, v := range values {
		want, werr := json.Marshal(v)
		got, gerr := AppendJSON([]byte("prefix"), v)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%#v: error %v, encoding/json %v", v, gerr, werr)
		}
		if werr == nil && string(got) != "prefix"+string(want) {
			t.Fatalf("%#v:\n got %s\nwant %s", v, got[len("prefix"):], want)
		}
	}
	p := genProxy()
	for round := range 10 {
		kg := r.IntN(128)
		err := ReadUnified(p, 128, kg, genRegion(r, kg, 20), "gen", 0, func(e Entry) error {
			var want bytes.Buffer
			if err := json.NewEncoder(&want).Encode(e); err != nil {
				return err
			}
			got, err := e.AppendJSON(nil)
			if err != nil || string(got)+"\n" != want.String() {
				t.Fatalf("round %d: %s (%v), encoding/json %s", round, got, err, want.Bytes())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	e := Entry{State: "s", Key: int64(1), Value: math.NaN()}
	if _, err := e.AppendJSON(nil); err == nil {
		t.Fatal("a NaN value encoded")
	}
}
