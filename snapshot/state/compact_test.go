package state

import "testing"

func TestCompact(t *testing.T) {
	for _, tc := range []struct {
		v    Value
		want string
	}{
		{nil, "null"},
		{int64(42), "42"},
		{"a\"b", `"a\"b"`},
		{&Record{Fields: []NamedItem{{"f0", int64(1)}, {"f1", "x"}}}, `(1, "x")`},
		{&Record{Kind: "+I", Fields: []NamedItem{{"a", true}}}, `+I(true)`},
		{[]any{int32(1), int32(2)}, "[1,2]"},
		{KafkaSplit{Topic: "t", Partition: 3, Offset: 7, Source: "KafkaSource"}, `{"topic":"t","partition":3,"offset":7,"source":"KafkaSource"}`},
	} {
		if got := Compact(tc.v); got != tc.want {
			t.Errorf("Compact(%#v) = %s, want %s", tc.v, got, tc.want)
		}
	}
}
