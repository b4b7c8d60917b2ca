package state

import (
	"context"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	"github.com/ckpt-dev/ckpt/storage"
)

// The key-group checks flink-state-format.md §9 records from running Flink.
func TestKeyGroupLikeFlink(t *testing.T) {
	long := &Type{Kind: KindLong}
	str := &Type{Kind: KindString}
	integer := &Type{Kind: KindInt}
	tuple := func(ts ...*Type) *Type {
		tt := &Type{Kind: KindTuple}
		for i, x := range ts {
			tt.Fields = append(tt.Fields, Field{Name: "f" + string(rune('0'+i)), Type: x})
		}
		return tt
	}
	if got := keygroup.MurmurMix(3); got != 847579505 {
		t.Errorf("murmurHash(3) = %d, want 847579505", got)
	}
	for _, c := range []struct {
		t    *Type
		key  string
		maxP int
		want int
	}{
		{tuple(long), "3", 4, 1},
		{str, "hello", 128, 35},
		{long, "42", 128, 29},
		{tuple(str, integer), "a,1", 128, 29},
	} {
		k, err := ParseKey(c.t, c.key)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := KeyGroup(k, c.maxP); err != nil || got != c.want {
			t.Errorf("%s %q at max parallelism %d: key group %d %v, want %d", c.t, c.key, c.maxP, got, err, c.want)
		}
	}
	if h, _ := javaHash("hello"); h != 99162322 {
		t.Errorf(`"hello".hashCode() = %d`, h)
	}
	if _, err := ParseKey(&Type{Kind: KindPojo, Class: "com.acme.K"}, "x"); err == nil {
		t.Error("a POJO key parsed")
	}
}

// A key lookup reads the one key group Flink puts the key in and finds it
// there (the real 1.10 fixture: keys 0..3 in key groups 2, 2, 3, 1).
func TestLookupFixtureKey(t *testing.T) {
	m := fixture(t, "new-stateful-udf-migration-itcase-flink1.10-savepoint")
	op := operator(t, m, "d5c8b168c6cbfe8c507a10f88b325243")
	p := ReadSchema(context.Background(), storage.NewLocal(), m)
	var key *Type
	for _, s := range p {
		if s.ID == op.ID.String() {
			key = s.Keyed.Key
		}
	}
	for _, want := range []int64{0, 1, 2, 3} {
		k, err := ParseKey(key, string(rune('0'+want)))
		if err != nil {
			t.Fatal(err)
		}
		kg, err := KeyGroup(k, int(op.MaxParallelism))
		if err != nil {
			t.Fatal(err)
		}
		var found []Value
		err = ReadKeyGroup(context.Background(), storage.NewLocal(), m, op, "", kg, func(e Entry) error {
			if e.KeyGroup != kg {
				t.Errorf("entry of key group %d read for %d", e.KeyGroup, kg)
			}
			if SameKey(e.Key, k) {
				found = append(found, e.Value)
			}
			return nil
		})
		if err != nil || len(found) != 1 || found[0] != want {
			t.Errorf("key %d (key group %d): %v %v", want, kg, found, err)
		}
	}
}
