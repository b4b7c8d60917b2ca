package tui

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// The real binary copies a savepoint from the browse screen (c): the
// destination typed in, the dry run's plan confirmed with y, the result
// line; the copy reads back with every file it references, and a second
// c to the same place finds it complete. About 2 s (a build is shared
// with the other end-to-end tests).
func TestE2EBrowseCopyInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := ckptBinary(t)
	root := t.TempDir()
	sp := filepath.Join(root, "savepoints", "savepoint-0a0b0c-0d0e0f0a0b0c")
	files := tuitest.FileSavepoint(t, sp)
	dst := filepath.Join(root, "copy")

	s := startTmux(t, 120, 30, nil, bin, "browse", filepath.Dir(sp))
	s.waitFor(10*time.Second, "savepoint-0a0b0c-0d0e0f0a0b0c/", "SAVEPOINT ✓")
	s.keys("c")
	s.waitFor(5*time.Second, "destination")
	s.literal(dst)
	s.keys("Enter")
	s.waitFor(10*time.Second, "COPY snapshot", "4 files", "y = copy")
	s.keys("y")
	s.waitFor(20*time.Second, "copied 4 files", "to "+dst)

	ctx := context.Background()
	m, err := snapshot.Read(ctx, storage.Default(), dst)
	if err != nil {
		t.Fatalf("the copy does not read back: %v", err)
	}
	rep, err := inspector.Examine(ctx, storage.Default(), m, inspector.Options{CheckFiles: true})
	if err != nil || rep.Totals.Missing != 0 || rep.Totals.Files != files {
		t.Fatalf("the copy's files: %+v, %v; want %d, none missing", rep.Totals, err, files)
	}
	s.keys("c")
	s.waitFor(5*time.Second, "destination")
	s.literal(dst)
	s.keys("Enter")
	s.waitFor(10*time.Second, "already holds this copy, complete")
	s.keys("q")
	s.waitFor(10*time.Second, "CKPT-EXITED-0")
}
