package browse_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/browse"
)

// A checkpoint written the way Flink writes incremental RocksDB state
// (shared SSTs as absolute file: handles under <job>/shared, private files
// relative) shows its three sizes in the job-dir view: the delta it
// uploaded, the full logical size, and what storage holds for it — its own
// directory plus the shared files it references, each once.
func TestBrowseJobDirThreeSizes(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, demo.JobID)
	shared := filepath.Join(job, "shared")
	chk := filepath.Join(job, "chk-5")
	os.MkdirAll(shared, 0o755)
	os.MkdirAll(chk, 0o755)
	for name, n := range map[string]int{"000010.sst": 1000, "000011.sst": 2000, "unreferenced.sst": 9000} {
		os.WriteFile(filepath.Join(shared, name), make([]byte, n), 0o644)
	}
	os.WriteFile(filepath.Join(chk, "meta"), make([]byte, 10), 0o644)
	os.WriteFile(filepath.Join(chk, "priv"), make([]byte, 50), 0o644)
	sst := func(name string, size int64) snapshot.NamedHandle {
		return snapshot.NamedHandle{LocalName: name, Handle: snapshot.NewFileHandle("file:"+filepath.Join(shared, name), size)}
	}
	op := snapshot.NewOperatorState("window", "window", 2, 128)
	for i := int32(0); i < 2; i++ {
		h := snapshot.NewIncrementalHandle(5, "backend", snapshot.KeyGroupRangeFor(128, 2, i), 100,
			snapshot.NewRelativeFileHandle("meta", 10),
			[]snapshot.NamedHandle{sst("000010.sst", 1000), sst("000011.sst", 2000)},
			[]snapshot.NamedHandle{{LocalName: "MANIFEST-000004", Handle: snapshot.NewRelativeFileHandle("priv", 50)}}, "id")
		if i == 1 { // both subtasks reference 000010.sst: on disk it counts once
			h.Shared = h.Shared[:1]
		}
		op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{Index: i, ManagedKeyedState: h})
	}
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 5, Operators: []*snapshot.OperatorState{op}}
	if err := m.SetProperties(snapshot.CheckpointProperties()); err != nil {
		t.Fatal(err)
	}
	fsys := storage.NewLocal()
	meta := filepath.Join(chk, "_metadata")
	if err := snapshot.Write(t.Context(), fsys, meta, m); err != nil {
		t.Fatal(err)
	}
	mfi, _ := os.Stat(meta)

	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "browse", job)
	b := a.Top().(*browse.Browse)
	e := browse.Find(b, chk)
	if e == nil || e.Sizes == nil {
		t.Fatalf("chk-5 has no sizes: %+v", e)
	}
	want := inspector.Sizes{Checkpointed: 200, Full: 2*(10+50) + 1000 + 2000 + 1000,
		OnDiskOwn: 60 + mfi.Size(), OnDiskReferenced: 3000}
	want.OnDisk = want.OnDiskOwn + want.OnDiskReferenced
	if *e.Sizes != want {
		t.Errorf("sizes %+v, want %+v", *e.Sizes, want)
	}
	frame := tuitest.FrameText(a)
	for _, s := range []string{"CHECKPTD", "FULL", "ON DISK", "200 B", "4.02 KiB"} {
		if !strings.Contains(frame, s) {
			t.Errorf("the job-dir view lacks %q:\n%s", s, frame)
		}
	}
}
