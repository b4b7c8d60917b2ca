package inspector

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// A job's snapshot listing gives each retained chk-N and savepoint the
// same checkpointed and full sizes inspect reports for it — not the
// directory's own bytes — newest first, incomplete ones included.
func TestListJobSnapshotsSizes(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	root := t.TempDir()
	job := filepath.Join(root, "a1b2c3d4e5f60718293a4b5c6d7e8f90")
	copyMeta := func(fixture, dir string) {
		b, err := os.ReadFile(filepath.Join(fixtureDir(t, fixture), "_metadata"))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "_metadata"), b, 0o644)
	}
	copyMeta("new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", filepath.Join(job, "chk-10"))
	copyMeta("new-stateful-udf-migration-itcase-flink1.17-hashmap-checkpoint", filepath.Join(job, "chk-9"))
	os.MkdirAll(filepath.Join(job, "chk-11"), 0o755) // in progress
	os.MkdirAll(filepath.Join(job, "shared"), 0o755)
	sp := filepath.Join(root, "savepoints", "savepoint-a1b2c3-0123456789ab")
	copyMeta("new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint", sp)

	got, err := ListJobSnapshots(ctx, fsys, job, []string{sp})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range got {
		order = append(order, filepath.Base(e.URI))
	}
	if want := "chk-11 chk-10 chk-9 savepoint-a1b2c3-0123456789ab"; strings.Join(order, " ") != want {
		t.Fatalf("order %v, want %s", order, want)
	}
	if got[0].Complete || got[0].Sizes != (SnapshotSizes{}) {
		t.Errorf("in-progress chk-11: %+v", got[0])
	}
	for _, e := range got[1:] {
		r, err := Inspect(ctx, fsys, e.URI, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !e.Complete || e.Error != "" || e.Sizes.Full == 0 || e.Sizes.Full != r.Sizes.Full || e.Sizes.Checkpointed != r.Sizes.Checkpointed {
			t.Errorf("%s: listing %+v, inspect %+v", e.URI, e, r.Sizes)
		}
		if e.Sizes.Full <= e.MetadataBytes && e.Kind == "checkpoint" && filepath.Base(e.URI) == "chk-10" {
			t.Errorf("%s: full size %d is not above the _metadata's %d bytes", e.URI, e.Sizes.Full, e.MetadataBytes)
		}
	}
	if sp := got[3]; sp.Kind != "savepoint" || sp.ID == 0 {
		t.Errorf("savepoint entry %+v", sp)
	}
}
