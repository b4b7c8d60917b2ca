package state

import (
	"context"
	"fmt"
	"testing"

	"github.com/ckpt-dev/ckpt/storage"
)

// ReadKeyedFrom gives exactly the entries of ReadKeyed whose key group is
// from or later, in key-group order, on real Flink bytes: a 1.20
// canonical savepoint (unified format, max parallelism 128, 4 subtasks)
// and a 1.10 savepoint (key-group format, max parallelism 4).
func TestReadKeyedFrom(t *testing.T) {
	cases := []struct {
		fixture, op, state string
	}{
		{"operatorstate_complexKeyed-flink1.20", "01203aa9a12dc1ec725e03853dd7c8f2", "values"},
		{"new-stateful-udf-migration-itcase-flink1.10-savepoint", "d5c8b168c6cbfe8c507a10f88b325243", "state-name"},
	}
	ctx, fsys := context.Background(), storage.NewLocal()
	for _, tc := range cases {
		t.Run(tc.fixture+"/"+tc.state, func(t *testing.T) {
			m := fixture(t, tc.fixture)
			op := operator(t, m, tc.op)
			var all []Entry
			if err := ReadKeyed(ctx, fsys, m, op, tc.state, func(e Entry) error { all = append(all, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(all) < 2 {
				t.Fatalf("fixture has %d entries", len(all))
			}
			for i := 1; i < len(all); i++ {
				if all[i].KeyGroup < all[i-1].KeyGroup {
					t.Fatalf("ReadKeyed not in key-group order at %d: %d after %d", i, all[i].KeyGroup, all[i-1].KeyGroup)
				}
			}
			for _, from := range []int{0, all[0].KeyGroup + 1, all[len(all)/2].KeyGroup, all[len(all)-1].KeyGroup, int(op.MaxParallelism)} {
				var want, got []string
				for _, e := range all {
					if e.KeyGroup >= from {
						want = append(want, jsonOf(t, e))
					}
				}
				err := ReadKeyedFrom(ctx, fsys, m, op, tc.state, from, func(e Entry) error {
					got = append(got, jsonOf(t, e))
					return nil
				})
				if err != nil {
					t.Fatalf("from %d: %v", from, err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("from %d:\n got %v\nwant %v", from, got, want)
				}
			}
			n := 0
			err := ReadKeyedFrom(ctx, fsys, m, op, tc.state, 0, func(e Entry) error {
				n++
				return ErrStop
			})
			if err != nil || n != 1 {
				t.Errorf("ErrStop: %d entries, error %v; want 1 and nil", n, err)
			}
		})
	}
	m := fixture(t, "new-stateful-udf-migration-itcase-flink1.10-savepoint")
	if err := ReadKeyedFrom(ctx, fsys, m, operator(t, m, "d5c8b168c6cbfe8c507a10f88b325243"), "", 0, func(Entry) error { return nil }); err == nil {
		t.Error("no state named: no error")
	}
}
