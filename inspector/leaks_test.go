package inspector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

// writeIncremental writes <job>/chk-<id>/_metadata referencing files (by
// absolute file: URI, as Flink writes shared SSTs).
func writeIncremental(t *testing.T, job string, id int64, files ...string) {
	t.Helper()
	sptest.WriteCheckpoint(t, storage.NewLocal(), job, id, time.Time{}, files...)
}

func TestFindLeaks(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	root := t.TempDir()
	job := filepath.Join(root, "a1b2c3d4e5f60718293a4b5c6d7e8f90")
	old := filepath.Join(root, "0000000000000000000000000000000a")  // restored from with CLAIM: files reused
	old2 := filepath.Join(root, "0000000000000000000000000000000b") // restored from, no longer used
	put := func(p string, n int) string {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, make([]byte, n), 0o644)
		return p
	}
	reused := put(filepath.Join(old, "shared", "base.sst"), 700)
	writeIncremental(t, old, 3, reused)
	writeIncremental(t, old2, 9)
	a := put(filepath.Join(job, "shared", "a.sst"), 100)
	b := put(filepath.Join(job, "shared", "b.sst"), 200)
	put(filepath.Join(job, "shared", "leaked.sst"), 50)
	put(filepath.Join(job, "chk-4", "partial-upload"), 30) // failed, left behind
	writeIncremental(t, job, 5, a, reused)
	writeIncremental(t, job, 6, a, b)
	os.MkdirAll(filepath.Join(job, "chk-7"), 0o755) // in progress

	r, err := FindLeaks(ctx, fsys, job, LeakOptions{Retained: 1, RestoredFrom: "file:" + filepath.Join(old2, "chk-9")})
	if err != nil {
		t.Fatal(err)
	}
	states := ""
	for _, c := range r.Checkpoints {
		states += fmt.Sprintf("chk-%d:%s ", c.ID, c.State)
	}
	if states != "chk-4:stale chk-5:left-behind chk-6:latest chk-7:in-progress " {
		t.Errorf("states %s", states)
	}
	if r.StaleDirs != 2 || r.StaleBytes < 30 {
		t.Errorf("stale %d dirs, %d bytes", r.StaleDirs, r.StaleBytes)
	}
	// Needed: chk-6 (latest) and the shared files retained checkpoints
	// reference in this job dir (a, b); chk-5 is beyond num-retained 1.
	var chk6 int64
	for _, c := range r.Checkpoints {
		if c.ID == 6 {
			chk6 = c.Bytes
		}
	}
	if r.NeededBytes != chk6+300 || r.DiskBytes < r.NeededBytes+50+30 {
		t.Errorf("disk %d needed %d (chk-6 %d)", r.DiskBytes, r.NeededBytes, chk6)
	}
	if r.Orphans.OrphanFiles != 1 || r.Orphans.OrphanBytes != 50 {
		t.Errorf("orphans %d (%d bytes)", r.Orphans.OrphanFiles, r.Orphans.OrphanBytes)
	}
	if len(r.Restored) != 2 {
		t.Fatalf("restored %+v", r.Restored)
	}
	used, left := r.Restored[0], r.Restored[1]
	if used.Source != "references" || filepath.Base(filepath.Dir(used.URI)) != filepath.Base(old) || fmt.Sprint(used.ReferencedBy) != "[5]" || used.Leftover || !used.Exists {
		t.Errorf("reused folder %+v", used)
	}
	if left.Source != "cluster" || !left.Leftover || !left.Exists || left.Bytes == 0 {
		t.Errorf("leftover folder %+v", left)
	}
	// Without num-retained, chk-5 is retained; a restore path that is gone
	// is reported as such, not as a leftover.
	os.RemoveAll(filepath.Join(old2, "chk-9"))
	r, err = FindLeaks(ctx, fsys, job, LeakOptions{RestoredFrom: filepath.Join(old2, "chk-9", "_metadata")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Checkpoints[1].State != ChkRetained || r.StaleDirs != 1 {
		t.Errorf("without num-retained: %+v", r.Checkpoints)
	}
	for _, f := range r.Restored {
		if f.Source == "cluster" && (f.Exists || f.Leftover) {
			t.Errorf("a gone restore folder: %+v", f)
		}
	}
	// Bad input: not a directory holding a job.
	if _, err := FindLeaks(ctx, fsys, filepath.Join(root, "nope"), LeakOptions{}); err == nil {
		t.Error("a missing job dir gave no error")
	}
}
