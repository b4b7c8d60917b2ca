package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/leaks"
	"github.com/ckpt-dev/ckpt/tui/screens/savepoints"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// leakyJob builds, seen at /ck, a job dir with every kind of leak: an
// orphaned shared file, a fresh upload while chk-7 runs, a stale chk-4, a
// missing referenced file, and files reused from the job it was restored
// from (/ck/<old job>). Metadata names files by their /ck paths, as the
// cockpit sees them.
func leakyJob(t testing.TB) (storage.FS, string, string) {
	dir := t.TempDir()
	fsys := tuitest.PrefixFS{FS: storage.NewLocal(), Prefix: "/ck", Root: dir}
	job := "/ck/" + DemoJobID
	old := "/ck/0000000000000000000000000000000a"
	at := func(d time.Duration) time.Time { return tuitest.Now.Add(-d) }
	put := func(p string, n int, mod time.Time) string {
		real := fsys.In(p)
		os.MkdirAll(filepath.Dir(real), 0o755)
		os.WriteFile(real, make([]byte, n), 0o644)
		os.Chtimes(real, mod, mod)
		return p
	}
	chk := func(jobDir string, id int64, mod time.Time, files ...string) {
		sptest.WriteCheckpoint(t, storage.NewLocal(), fsys.In(jobDir), id, mod, files...)
	}
	reused := put(old+"/shared/base.sst", 700, at(48*time.Hour))
	chk(old, 3, at(48*time.Hour), reused)
	a := put(job+"/shared/a.sst", 100, at(time.Hour))
	b := put(job+"/shared/b.sst", 200, at(30*time.Minute))
	put(job+"/shared/leaked-by-chk-4.sst", 50, at(50*time.Minute))
	put(job+"/shared/uploading-for-chk-7.sst", 70, at(time.Minute))
	put(job+"/chk-4/partial-upload", 30, at(50*time.Minute))
	chk(job, 5, at(40*time.Minute), a, reused)
	chk(job, 6, at(20*time.Minute), a, b, job+"/shared/deleted-too-early.sst")
	put(job+"/chk-7/x", 0, at(time.Minute))
	for d, mod := range map[string]time.Time{"/chk-4": at(50 * time.Minute), "/chk-7": at(time.Minute)} {
		os.Chtimes(fsys.In(job+d), mod, mod)
	}
	return fsys, job, dir
}

func TestLeaksGolden(t *testing.T) {
	for _, sz := range tuitest.Sizes {
		t.Run(fmt.Sprintf("leaks-%dx%d", sz.W, sz.H), func(t *testing.T) {
			fsys, job, _ := leakyJob(t)
			a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: fsys}, "leaks", job)
			tuitest.Golden(t, a, fmt.Sprintf("leaks-%dx%d", sz.W, sz.H))
		})
	}
}

// The report finds every kind of leak, and is only a report: nothing on
// storage changes, and no key of the screen is dangerous.
func TestLeaksReportsAndDeletesNothing(t *testing.T) {
	fsys, job, dir := leakyJob(t)
	before := treeOf(t, dir)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "leaks", job)
	s := a.Top()
	// Every finding, as the report draws it: KIND then PATH.
	frame := tuitest.FrameText(a)
	want := map[string]string{
		"shared/leaked-by-chk-4.sst":     "ORPHAN",
		"shared/uploading-for-chk-7.sst": "ORPHAN?",
		"shared/deleted-too-early.sst":   "MISSING",
		"chk-4/":                         "STALE", "chk-5/": "RETAINED", "chk-6/": "LATEST", "chk-7/": "RUNNING?",
		"/ck/0000000000000000000000000000000a/shared": "RESTORED",
	}
	for p, k := range want {
		if !regexp.MustCompile(`(?m)^[ >] ` + regexp.QuoteMeta(k) + ` +` + regexp.QuoteMeta(p) + ` `).MatchString(frame) {
			t.Errorf("%s: no %s row:\n%s", p, k, frame)
		}
	}
	// Its one dangerous key is X (gc, confirmed: see TestLeaksGC).
	for _, k := range a.Top().Keys() {
		if k.Dangerous && k.Name != "leaks.gc" {
			t.Errorf("the leak report has a dangerous key: %s", k.Name)
		}
	}
	tuitest.Press(t, a, "j", "j", "D", "y", "X", "y", "enter")
	if after := treeOf(t, dir); after != before {
		t.Errorf("storage changed:\n%s\n---\n%s", before, after)
	}
	if !strings.Contains(s.(shell.Statuser).Status(), "X plans a gc") {
		t.Errorf("status %q", s.(shell.Statuser).Status())
	}
}

func treeOf(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			fmt.Fprintf(&b, "%s %d\n", strings.TrimPrefix(p, dir), fi.Size())
		}
		return nil
	})
	return b.String()
}

func TestLeaksBadInput(t *testing.T) {
	fsys, _, _ := leakyJob(t)
	a := tuitest.Open(t, tuitest.Opts{W: 80, H: 24, FS: fsys}, "leaks", "/ck/nope")
	if f := tuitest.FrameText(a); !strings.Contains(f, "✗") || !strings.Contains(f, "/ck/nope") {
		t.Errorf("no error naming the path:\n%s", f)
	}
	if _, err := declaredScreens.Open(a.Context(), "leaks", nil); err == nil {
		t.Error("leaks without a job dir opened")
	}
}

// From the browser: L opens the leak report of the job dir (or of the
// selected job dir in a checkpoint root), S the savepoints under the
// directory.
func TestBrowseOpensStorageReports(t *testing.T) {
	fsys, job, _ := leakyJob(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "browse", job)
	tuitest.Press(t, a, "L")
	if l, ok := a.Top().(*leaks.Screen); !ok || l.Location() != job || !strings.Contains(tuitest.FrameText(a), "retained checkpoints need") {
		t.Fatalf("L opened %T on %s:\n%s", a.Top(), a.Top().Location(), tuitest.FrameText(a))
	}
	tuitest.Press(t, a, "esc", "S")
	if s, ok := a.Top().(*savepoints.Savepoints); !ok || s.Location() != job {
		t.Fatalf("S opened %T", a.Top())
	}
	root := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "browse", "/ck")
	tuitest.Press(t, root, "j", "L") // the second job dir: ours
	if l, ok := root.Top().(*leaks.Screen); !ok || l.Location() != job {
		t.Fatalf("L on a selected job dir opened %T %v", root.Top(), root.Top().Location())
	}
}
