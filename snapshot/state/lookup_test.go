package state

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// ReadKey finds exactly the entries a full scan holds for that key, in
// canonical savepoints (keys compared before decoding) and elsewhere
// (key group decoded and filtered), and nothing for a key not there.
func TestReadKeyMatchesScan(t *testing.T) {
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
			byKey := map[string][]string{}
			var keys []Value
			err := ReadKeyed(ctx, fsys, m, op, "", func(e Entry) error {
				k := jsonOf(t, e.Key)
				if _, ok := byKey[k]; !ok {
					keys = append(keys, e.Key)
				}
				byKey[k] = append(byKey[k], jsonOf(t, e))
				return nil
			})
			if err != nil || len(keys) == 0 {
				t.Fatalf("scan: %d keys, %v", len(keys), err)
			}
			for _, k := range keys {
				var got []string
				if err := ReadKey(ctx, fsys, m, op, "", k, func(e Entry) error {
					got = append(got, jsonOf(t, e))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if want := byKey[jsonOf(t, k)]; !slices.Equal(got, want) {
					t.Errorf("key %v: ReadKey %q, scan %q", k, got, want)
				}
			}
			// A key of the same type that is not there.
			absent := keys[0]
			switch k := absent.(type) {
			case int64:
				absent = k + 1_000_003
			case *Record:
				absent = &Record{Class: k.Class, Fields: []NamedItem{{k.Fields[0].Name, int64(1_000_003)}}}
			}
			n := 0
			if err := ReadKey(ctx, fsys, m, op, "", absent, func(Entry) error { n++; return nil }); err != nil || n != 0 {
				t.Errorf("absent key %v: %d entries, %v", absent, n, err)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
