package state

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// writeCanonical writes a canonical savepoint whose one keyed operator has
// the real 1.20 bytes: the proxy, then key group 2 of maxParallelism 4.
func writeCanonical(t *testing.T, dir string) *snapshot.Metadata {
	t.Helper()
	data := append(savepointProxy(), (&enc{}).raw(`0000
		0000000A 02 0000000000000001 00   00000008 0000000000000007
		0000000A 82 0000000000000000 00   00000008 0000000000000009
		FFFF`).b...)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "op-0"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 1}
	if err := m.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone)); err != nil {
		t.Fatal(err)
	}
	op := snapshot.NewOperatorState("counter", "counter", 1, 4)
	op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(
		snapshot.KeyGroupRange{Start: 0, Count: 4}, []int64{0, 0, 505, 0}, snapshot.NewRelativeFileHandle("op-0", int64(len(data))))}}
	m.Operators = []*snapshot.OperatorState{op}
	if err := snapshot.Write(context.Background(), storage.NewLocal(), filepath.Join(dir, "_metadata"), m); err != nil {
		t.Fatal(err)
	}
	got, err := snapshot.Read(context.Background(), storage.NewLocal(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestReadSavepointState(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "savepoint-a1b2c3-0123456789ab")
	m := writeCanonical(t, dir)
	ctx := context.Background()
	schema := ReadSchema(ctx, storage.NewLocal(), m)
	if len(schema) != 1 || schema[0].UID != "counter" || schema[0].KeyedFormat != FormatUnified || len(schema[0].Errors) > 0 ||
		schema[0].Keyed == nil || schema[0].Keyed.States[0].Name != "state-name" {
		t.Fatalf("schema %+v", schema)
	}
	var got []string
	err := ReadKeyed(ctx, storage.NewLocal(), m, m.Operators[0], "state-name", func(e Entry) error {
		got = append(got, fmt.Sprint(e.Key.(*Record).Fields[0].Value, "=", e.Value))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "1=7,0=9" {
		t.Fatalf("entries %v", got)
	}
	// A flipped byte in the data: an error naming the snapshot's file, or
	// (a value byte) a different value — Flink's format has no checksum to
	// tell; see README. A truncated file is always an error naming it.
	os.Truncate(filepath.Join(dir, "op-0"), 530)
	err = ReadKeyed(ctx, storage.NewLocal(), m, m.Operators[0], "", func(Entry) error { return nil })
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "op-0")) {
		t.Fatalf("truncated state file: %v", err)
	}
}
