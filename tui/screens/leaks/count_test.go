package leaks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// The status bar says how many rows the "/" filter keeps of how many.
func TestLeaksFilterCount(t *testing.T) {
	job := filepath.Join(t.TempDir(), "5f2c0194b6e2a8d3c1e07a9b4d6f8e21")
	sptest.WriteCheckpoint(t, storage.NewLocal(), job, 5, tuitest.Now.Add(-time.Hour))
	sptest.WriteCheckpoint(t, storage.NewLocal(), job, 6, tuitest.Now)
	if err := os.MkdirAll(filepath.Join(job, "chk-4"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: storage.NewLocal()}, "leaks", job)
	tuitest.Press(t, a, "/")
	tuitest.Type(t, a, "chk-4")
	tuitest.Press(t, a, "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "filter: chk-4 (1 of 3)") {
		t.Errorf("no filtered count in the status bar:\n%s", f)
	}
}
