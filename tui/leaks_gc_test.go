package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

func gcUUID(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// gcJob builds, seen at /ck, a job dir gc has work in: an old orphaned
// upload, a stale chk-4 holding an upload and a foreign notes.txt, and
// precious files beside (in shared/, in the job dir). Returns the files
// that must stay, by real path.
func gcJob(t testing.TB) (tuitest.PrefixFS, string, string, map[string]string) {
	dir := t.TempDir()
	fsys := tuitest.PrefixFS{FS: storage.NewLocal(), Prefix: "/ck", Root: dir}
	job := "/ck/" + DemoJobID
	at := func(d time.Duration) time.Time { return tuitest.Now.Add(-d) }
	stay := map[string]string{}
	put := func(p, content string, mod time.Time) string {
		real := fsys.In(p)
		os.MkdirAll(filepath.Dir(real), 0o755)
		os.WriteFile(real, []byte(content), 0o644)
		os.Chtimes(real, mod, mod)
		return p
	}
	keep := func(p, content string, mod time.Time) string {
		stay[fsys.In(p)] = content
		return put(p, content, mod)
	}
	used := keep(job+"/shared/"+gcUUID(1), "used", at(5*time.Hour))
	put(job+"/shared/"+gcUUID(2), "orphaned upload", at(4*time.Hour))
	keep(job+"/shared/notes.txt", "precious", at(4*time.Hour))
	keep(job+"/precious", "precious", at(4*time.Hour))
	put(job+"/chk-4/"+gcUUID(4), "stale", at(4*time.Hour))
	keep(job+"/chk-4/notes.txt", "precious", at(4*time.Hour))
	os.Chtimes(fsys.In(job+"/chk-4"), at(4*time.Hour), at(4*time.Hour))
	sptest.WriteCheckpoint(t, storage.NewLocal(), fsys.In(job), 5, at(3*time.Hour), used)
	return fsys, job, dir, stay
}

// X plans ckpt gc's plan and asks; y deletes it (in a task), through the
// disposal rule: precious files stay, the journal records what went.
func TestLeaksGC(t *testing.T) {
	state := t.TempDir()
	t.Setenv("CKPT_STATE_DIR", state)
	fsys, job, dir, stay := gcJob(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "leaks", job)
	before := treeOf(t, dir)
	tuitest.Press(t, a, "X")
	frame := tuitest.FrameText(a)
	if !strings.Contains(frame, "GC: DELETE 2 files") || !strings.Contains(frame, "1 orphaned shared file, 1 stale chk dir") {
		t.Fatalf("no confirmation:\n%s", frame)
	}
	tuitest.Golden(t, a, "leaks-gc-confirm-160x48")
	tuitest.Press(t, a, "n")
	if after := treeOf(t, dir); after != before {
		t.Fatalf("a cancelled gc changed storage")
	}
	tuitest.Press(t, a, "X", "y")
	for p, content := range stay {
		if b, err := os.ReadFile(p); err != nil || string(b) != content {
			t.Errorf("%s: %q, %v", p, b, err)
		}
	}
	for _, gone := range []string{job + "/shared/" + gcUUID(2), job + "/chk-4/" + gcUUID(4)} {
		if _, err := os.Lstat(fsys.In(gone)); err == nil {
			t.Errorf("%s is still there", gone)
		}
	}
	b, err := os.ReadFile(filepath.Join(state, "gc-journal.jsonl"))
	if err != nil || strings.Count(string(b), "\n") != 2 || !strings.Contains(string(b), gcUUID(2)) {
		t.Fatalf("journal %q, %v", b, err)
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, "gc: removed 2 files") {
		t.Errorf("no result toast:\n%s", f)
	}
}

// Read-only: X is gone from the keys and the help, and pressing it says so.
func TestLeaksGCReadonly(t *testing.T) {
	t.Setenv("CKPT_STATE_DIR", t.TempDir())
	fsys, job, dir, _ := gcJob(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys, Readonly: true}, "leaks", job)
	before := treeOf(t, dir)
	tuitest.Press(t, a, "X", "y")
	if after := treeOf(t, dir); after != before {
		t.Fatal("read-only mode deleted")
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, "read-only") {
		t.Errorf("X in read-only mode said nothing:\n%s", f)
	}
	for _, k := range a.Top().Keys() {
		if k.Name == "leaks.gc" && k.Binding.Enabled() {
			t.Error("leaks.gc enabled in read-only mode")
		}
	}
}
