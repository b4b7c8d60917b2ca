package browse_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/progress"
	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/browse"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// sp is the savepoint the copy tests copy: state in files
// (tuitest.FileSavepoint), alone in /demo/files.
const sp = "/demo/files/savepoint-0a0b0c-0d0e0f0a0b0c"

// filesFS is the demo tree with sp; it returns how many state files sp has.
func filesFS(t *testing.T) (tuitest.PrefixFS, int) {
	fsys := tuitest.DemoFS(t).(tuitest.PrefixFS)
	dir := fsys.In(sp)
	n := tuitest.FileSavepoint(t, dir)
	at := tuitest.Now.Add(-time.Hour)
	if err := os.Chtimes(dir, at, at); err != nil {
		t.Fatal(err)
	}
	return fsys, n
}

func TestBrowseCopyGolden(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{name: "browse-copy-prompt", keys: []string{"c", "/demo/copy"}},
		{name: "browse-copy-confirm", keys: []string{"c", "/demo/copy", "enter"}},
		{name: "browse-copy-done", keys: []string{"c", "/demo/copy", "enter", "y"}},
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				fsys, _ := filesFS(t)
				a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: fsys}, "browse", "/demo/files")
				pressTyping(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}

// pressTyping presses keys, typing the ones longer than a key name.
func pressTyping(t *testing.T, app *shell.App, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if len(k) > 1 && k != "enter" && k != "esc" {
			tuitest.Type(t, app, k)
			continue
		}
		tuitest.Press(t, app, k)
	}
}

// c copies the selected savepoint as ckpt cp does: confirmed after a dry
// run, the copy reads back with the same operators, and a rerun to the
// same place finds it complete. Cancelling at the prompt or the
// confirmation writes nothing.
func TestBrowseCopy(t *testing.T) {
	fsys, files := filesFS(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "browse", "/demo/files")
	pressTyping(t, a, "c", "/demo/copy", "esc")
	pressTyping(t, a, "c", "/demo/copy", "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, fmt.Sprintf("COPY snapshot %s → /demo/copy: %d files", sp, files)) || !strings.Contains(f, "y = copy") {
		t.Fatalf("no confirmation of the dry run's plan:\n%s", f)
	}
	pressTyping(t, a, "n")
	if _, err := fsys.Stat(t.Context(), "/demo/copy"); err == nil {
		t.Fatal("a cancelled copy wrote its destination")
	}
	pressTyping(t, a, "c", "/demo/copy", "enter", "y")
	f := tuitest.FrameText(a)
	if !strings.Contains(f, fmt.Sprintf("copied %d files", files)) || !strings.Contains(f, "to /demo/copy") {
		t.Fatalf("no result line:\n%s", f)
	}
	src, err := snapshot.Read(t.Context(), fsys, sp)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := snapshot.Read(t.Context(), fsys, "/demo/copy")
	if err != nil {
		t.Fatalf("the copy does not read back: %v", err)
	}
	if len(dst.Operators) != len(src.Operators) || dst.CheckpointID != src.CheckpointID {
		t.Fatalf("the copy has %d operators (checkpoint %d), the source %d (%d)", len(dst.Operators), dst.CheckpointID, len(src.Operators), src.CheckpointID)
	}
	rep, err := inspector.Examine(t.Context(), fsys, dst, inspector.Options{CheckFiles: true})
	if err != nil || rep.Totals.Missing != 0 || rep.Totals.Files != files {
		t.Fatalf("the copy's files: %+v, %v; want %d, none missing", rep.Totals, err, files)
	}
	// A rerun to the same place: nothing left to copy.
	pressTyping(t, a, "c", "/demo/copy", "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "already holds this copy, complete") {
		t.Fatalf("a rerun should find the copy complete:\n%s", f)
	}
}

// A job dir is copied whole, every complete chk-N (CopyJobDir).
func TestBrowseCopyJobDir(t *testing.T) {
	fsys, _ := filesFS(t)
	// A job dir whose checkpoints' files are all there: chk-1 and chk-2
	// (copies of the demo savepoint), chk-3 without _metadata.
	job := "/demo/jobs/" + demo.JobID
	m, err := snapshot.Read(t.Context(), fsys, sp)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"chk-1", "chk-2"} {
		if err := fsys.MkdirAll(t.Context(), job); err != nil {
			t.Fatal(err)
		}
		if _, err := snapshot.Copy(t.Context(), fsys, m, job+"/"+c, snapshot.CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		if m, err = snapshot.Read(t.Context(), fsys, sp); err != nil {
			t.Fatal(err)
		}
	}
	if err := fsys.MkdirAll(t.Context(), job+"/chk-3"); err != nil {
		t.Fatal(err)
	}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "browse", "/demo/jobs")
	pressTyping(t, a, "c", "/demo/job-copy", "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "COPY job dir (2 complete checkpoints)") {
		t.Fatalf("no job dir confirmation:\n%s", f)
	}
	pressTyping(t, a, "y")
	if f := tuitest.FrameText(a); !strings.Contains(f, "2 checkpoints, 1 without _metadata not copied") {
		t.Fatalf("job dir copy result:\n%s", f)
	}
	for _, c := range []string{"chk-1", "chk-2"} {
		if _, err := snapshot.Read(t.Context(), fsys, "/demo/job-copy/"+c); err != nil {
			t.Errorf("%s does not read back: %v", c, err)
		}
	}
}

// --readonly: c is in neither the keys nor the help, and pressing it
// writes nothing.
func TestBrowseCopyReadonly(t *testing.T) {
	fsys, _ := filesFS(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys, Readonly: true}, "browse", "/demo/files")
	pressTyping(t, a, "?")
	if f := tuitest.FrameText(a); strings.Contains(f, "copy selection") {
		t.Fatalf("readonly help offers the copy:\n%s", f)
	}
	pressTyping(t, a, "esc", "c")
	if f := tuitest.FrameText(a); strings.Contains(f, "destination") {
		t.Fatalf("readonly opened the copy prompt:\n%s", f)
	}
	pressTyping(t, a, "/demo/copy", "enter", "y")
	if _, err := fsys.Stat(t.Context(), "/demo/copy"); err == nil {
		t.Fatal("readonly copied")
	}
}

// The progress bar of a running copy: files, bytes, rate and ETA, and
// how to cancel; the status bar says a copy runs.
func TestBrowseCopyProgressGolden(t *testing.T) {
	for _, sz := range tuitest.Sizes {
		name := fmt.Sprintf("browse-copy-progress-%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			fsys, _ := filesFS(t)
			a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: fsys}, "browse", "/demo/files")
			browse.ShowCopyProgress(a.Top().(*browse.Browse), sp, "hdfs://nn:8020/backup/sp", progress.State{Files: 120, FilesDone: 45,
				Bytes: 3 << 30, BytesDone: 1200 << 20, PerSecond: 180 << 20, ETA: 11 * time.Second, RateKnown: true})
			tuitest.Golden(t, a, name)
		})
	}
}

// stallFS stalls every read of a state file until its context ends: a
// copy that is still running when x is pressed.
type stallFS struct {
	tuitest.PrefixFS
	opened chan struct{}
}

func (s stallFS) Open(ctx context.Context, uri string) (storage.File, error) {
	if strings.Contains(uri, "01203aa9-") {
		select {
		case s.opened <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.PrefixFS.Open(ctx, uri)
}

// x cancels a running copy: it stops, says so, and leaves no _metadata
// (the destination never looks complete); a rerun then copies it all.
func TestBrowseCopyCancel(t *testing.T) {
	base, files := filesFS(t)
	fsys := stallFS{PrefixFS: base, opened: make(chan struct{}, 1)}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "browse", "/demo/files")
	pressTyping(t, a, "c", "/demo/copy", "enter")
	_, cmd := a.Update(tuitest.Key("y"))
	msgs := make(chan tea.Msg, 16)
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		if c == nil {
			return
		}
		switch m := c().(type) {
		case tea.BatchMsg:
			for _, sub := range m {
				go run(sub)
			}
		case nil:
		default:
			msgs <- m
		}
	}
	go run(cmd)
	<-fsys.opened // the copy is reading a state file
	if f := tuitest.FrameText(a); !strings.Contains(f, "x cancels") {
		t.Fatalf("no progress bar while copying:\n%s", f)
	}
	tuitest.Press(t, a, "x")
	m := <-msgs
	tuitest.Drain(t, a, func() tea.Msg { return m })
	if f := tuitest.FrameText(a); !strings.Contains(f, "copy cancelled, no _metadata written") {
		t.Fatalf("no cancellation line:\n%s", f)
	}
	if _, err := base.Stat(t.Context(), "/demo/copy/_metadata"); err == nil {
		t.Fatal("a cancelled copy wrote _metadata")
	}
	// The rerun (the storage no longer stalls) completes the copy.
	b := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: base}, "browse", "/demo/files")
	pressTyping(t, b, "c", "/demo/copy", "enter", "y")
	if f := tuitest.FrameText(b); !strings.Contains(f, fmt.Sprintf("copied %d files", files)) {
		t.Fatalf("the rerun:\n%s", f)
	}
	if _, err := snapshot.Read(t.Context(), base, "/demo/copy"); err != nil {
		t.Fatalf("the rerun's copy does not read: %v", err)
	}
}
