package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKvsSortMatchesReference checks kvs.sort (bucketing by key group,
// radix or comparison sort per group, tie runs, dedup) against a plain
// sort of the same writes: every key once, in byte order, with its last
// write.
func TestKvsSortMatchesReference(t *testing.T) {
	type write struct {
		key, value []byte
		set        bool
	}
	rng := rand.New(rand.NewPCG(1, 2))
	key := func(kg int, id uint16, user string) []byte {
		return appendKey(nil, kg, id, user)
	}
	gen := func(n, groups int, user func(i int) string) []write {
		var ws []write
		for i := 0; i < n; i++ {
			u := user(rng.IntN(n))
			v := binary.BigEndian.AppendUint64(nil, uint64(i))
			ws = append(ws, write{key: key(rng.IntN(groups), uint16(1+rng.IntN(2)), u), value: v, set: rng.IntN(10) > 0})
		}
		return ws
	}
	cases := []struct {
		name   string
		writes []write
	}{
		{"empty", nil},
		{"decimal keys, radix-sized groups", gen(20000, 4, func(i int) string { return fmt.Sprint(i) })},
		{"decimal keys, small groups", gen(3000, 128, func(i int) string { return fmt.Sprint(i) })},
		{"long keys sharing 20 bytes", gen(5000, 2, func(i int) string { return "tenant-0000000000000/" + fmt.Sprint(i) })},
		{"keys differing only in trailing zero bytes", gen(2000, 1, func(i int) string { return "k" + string(make([]byte, i%5)) })},
		{"one key written many times", gen(1000, 1, func(int) string { return "same" })},
		{"random binary keys", gen(4000, 3, func(i int) string {
			b := make([]byte, 1+i%24)
			for j := range b {
				b[j] = byte(rng.IntN(256))
			}
			return string(b)
		})},
		{"one varying byte", gen(600, 1, func(i int) string { return string([]byte{byte(i)}) })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w kvs
			last := map[string]write{}
			for _, x := range tc.writes {
				w.add(x.key, x.value, x.set)
				last[string(x.key)] = x
			}
			want := make([]string, 0, len(last))
			for k := range last {
				want = append(want, k)
			}
			slices.Sort(want)
			w.sort()
			if len(w.items) != len(want) {
				t.Fatalf("%d entries after sort, want %d", len(w.items), len(want))
			}
			for i, x := range w.items {
				k := w.key(x)
				if string(k) != want[i] {
					t.Fatalf("entry %d is %x, want %x", i, k, want[i])
				}
				exp := last[want[i]]
				if x.set != exp.set || (x.set && !bytes.Equal(w.value(x), exp.value)) {
					t.Fatalf("entry %d (%x) holds set=%v %x, want the last write set=%v %x", i, k, x.set, w.value(x), exp.set, exp.value)
				}
			}
		})
	}
}
