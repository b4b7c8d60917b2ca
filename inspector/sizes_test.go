package inspector

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// TestThreeSizes: an incremental checkpoint that uploaded 300 bytes of new
// SSTs on top of 1,000 shared ones reports 300 checkpointed, 1,300 full,
// and on disk its own directory (metadata + private file) plus the shared
// files it references — not the unreferenced one next to them, and the
// missing one not at all.
func TestThreeSizes(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	job := filepath.Join(t.TempDir(), "a1b2c3d4e5f60718293a4b5c6d7e8f90")
	shared := filepath.Join(job, "shared")
	chk := filepath.Join(job, "chk-7")
	os.MkdirAll(shared, 0o755)
	os.MkdirAll(chk, 0o755)
	put := func(p string, n int) string {
		os.WriteFile(p, make([]byte, n), 0o644)
		return p
	}
	old := put(filepath.Join(shared, "old.sst"), 1000)   // from an earlier checkpoint
	fresh := put(filepath.Join(shared, "new.sst"), 300)  // uploaded by this one
	put(filepath.Join(shared, "unreferenced.sst"), 5000) // nobody's
	gone := filepath.Join(shared, "gone.sst")            // referenced, missing
	put(filepath.Join(chk, "private-meta"), 50)          // exclusive
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 7}
	m.SetProperties(snapshot.CheckpointProperties())
	op := snapshot.NewOperatorState("count", "count", 1, 128)
	sh := []snapshot.NamedHandle{
		{LocalName: "000001.sst", Handle: snapshot.NewFileHandle("file:"+old, 1000)},
		{LocalName: "000002.sst", Handle: snapshot.NewFileHandle("file:"+fresh, 300)},
		{LocalName: "000003.sst", Handle: snapshot.NewFileHandle("file:"+gone, 0)},
	}
	op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewIncrementalHandle(7, "b", snapshot.KeyGroupRange{Start: 0, Count: 128},
		350, snapshot.NewRelativeFileHandle("private-meta", 50), sh, nil, "h")}}
	m.Operators = []*snapshot.OperatorState{op}
	if err := snapshot.Write(ctx, fsys, filepath.Join(chk, "_metadata"), m); err != nil {
		t.Fatal(err)
	}
	meta, _ := os.Stat(filepath.Join(chk, "_metadata"))

	r, err := Inspect(ctx, fsys, chk, Options{CheckFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	want := Sizes{Checkpointed: 350, Full: 1350, OnDiskOwn: 50 + meta.Size(), OnDiskReferenced: 1300}
	want.OnDisk = want.OnDiskOwn + want.OnDiskReferenced
	if r.Sizes != want {
		t.Errorf("sizes %+v, want %+v", r.Sizes, want)
	}
	// Without a check nothing is measured, and says so.
	r, _ = Inspect(ctx, fsys, chk, Options{})
	if r.Sizes.OnDisk != -1 || r.Sizes.Full != 1350 || r.Sizes.Checkpointed != 350 {
		t.Errorf("unchecked sizes %+v", r.Sizes)
	}
}

// The inline figure counts in-memory changelog increments (tag 9) as well
// as byte-stream handles: the Flink 1.17 changelog checkpoint holds its
// not-yet-materialized changes inline.
func TestInlineBytesCountsInMemoryChangelog(t *testing.T) {
	dir := fixtureDir(t, "new-stateful-udf-migration-itcase-flink1.17-hashmap-checkpoint")
	r, err := Inspect(context.Background(), storage.NewLocal(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := snapshot.Read(context.Background(), storage.NewLocal(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var changes, streams int64
	m.Walk(func(v snapshot.Visit) {
		switch h := v.Handle.(type) {
		case *snapshot.InMemoryChangelogHandle:
			for _, c := range h.Changes {
				changes += int64(len(c.Data))
			}
		case *snapshot.ByteStreamHandle:
			streams += int64(len(h.Data))
		}
	})
	if changes == 0 {
		t.Fatal("the fixture holds no in-memory changelog bytes")
	}
	if r.Totals.InlineBytes != changes+streams {
		t.Errorf("inline %d bytes, want %d (changelog) + %d (byte streams)", r.Totals.InlineBytes, changes, streams)
	}
}
