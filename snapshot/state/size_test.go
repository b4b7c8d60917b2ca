package state

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// An entry's Size is what a state's bytes add up from. ckpt's engine
// state: the entries' sizes sum to the bytes ReadSchemaWithStats reports
// (ckpt state's BYTES column), so the TUI and the CLI agree.
func TestEntrySizeSumsToEngineStats(t *testing.T) {
	ctx := context.Background()
	m := engineCanonical(t, true, map[string]int64{"a": 1, "b": 22, "c": 333, "key-7": 7})
	s := ReadSchemaWithStats(ctx, storage.Default(), m)
	if len(s) != 1 || len(s[0].Stats) != 1 {
		t.Fatalf("schema %+v", s)
	}
	var sum int64
	if err := ReadKeyed(ctx, storage.Default(), m, m.Operators[0], "", func(e Entry) error { sum += e.Size; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := s[0].Stats[0].Bytes; sum != want || sum == 0 {
		t.Fatalf("entries sum to %d bytes, the stats say %d", sum, want)
	}
}

// A real Flink 1.20 canonical savepoint: every entry has a size, and
// they sum to less than the keyed state's handles (which also hold the
// proxy, state ids, lengths and key-group ends).
func TestEntrySizeFlinkUnified(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join("..", "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink", "operatorstate_complexKeyed-flink1.20")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("fixtures: %v", err)
	}
	m, err := snapshot.Read(ctx, storage.Default(), dir)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := snapshot.ParseOperatorID("01203aa9a12dc1ec725e03853dd7c8f2")
	op := m.Operator(id)
	var sum, n int64
	err = ReadKeyed(ctx, storage.Default(), m, op, "", func(e Entry) error {
		if e.Size <= 0 {
			t.Errorf("entry %v has size %d", e.Key, e.Size)
		}
		sum += e.Size
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("%d entries: %v", n, err)
	}
	if sum >= op.StateSize() {
		t.Fatalf("%d entries sum to %d bytes, the handles hold %d", n, sum, op.StateSize())
	}
}
