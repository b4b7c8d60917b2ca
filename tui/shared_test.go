package tui

import (
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// A checkpoint written the way Flink writes incremental RocksDB state
// (shared SSTs as absolute file: handles under <job>/shared, private files
// relative) reports exactly the shared bytes it references, once per file.
func TestSharedBytesCountsReferencedSharedFiles(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, DemoJobID)
	shared := filepath.Join(job, "shared")
	sst := func(name string, size int64) snapshot.NamedHandle {
		return snapshot.NamedHandle{LocalName: name, Handle: snapshot.NewFileHandle("file:"+filepath.Join(shared, name), size)}
	}
	op := snapshot.NewOperatorState("window", "window", 2, 128)
	for i := int32(0); i < 2; i++ {
		h := snapshot.NewIncrementalHandle(5, "backend", snapshot.KeyGroupRangeFor(128, 2, i), 100,
			snapshot.NewRelativeFileHandle("meta", 10),
			[]snapshot.NamedHandle{sst("000010.sst", 1000), sst("000011.sst", 2000)},
			[]snapshot.NamedHandle{{LocalName: "MANIFEST-000004", Handle: snapshot.NewRelativeFileHandle("priv", 50)}}, "id")
		if i == 1 { // both subtasks reference 000010.sst: count it once
			h.Shared = h.Shared[:1]
		}
		op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{Index: i, ManagedKeyedState: h})
	}
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 5, Operators: []*snapshot.OperatorState{op}}
	if err := m.SetProperties(snapshot.CheckpointProperties()); err != nil {
		t.Fatal(err)
	}
	b, err := snapshot.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	fsys := storage.NewLocal()
	meta := filepath.Join(job, "chk-5", "_metadata")
	if err := fsys.MkdirAll(t.Context(), filepath.Dir(meta)); err != nil {
		t.Fatal(err)
	}
	if err := storage.WriteFile(t.Context(), fsys, meta, b, storage.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	n, err := sharedBytes(t.Context(), fsys, meta, shared)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3000 {
		t.Fatalf("shared bytes %d, want 3000 (000010.sst once + 000011.sst)", n)
	}
}
