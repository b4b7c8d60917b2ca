package savepoints_test

import (
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// The status bar says how many rows the "/" filter keeps of how many.
func TestSavepointsFilterCount(t *testing.T) {
	fsys, _ := tuitest.SavepointTree(t)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "savepoints", "/sp")
	tuitest.Press(t, a, "/")
	tuitest.Type(t, a, "team")
	tuitest.Press(t, a, "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "filter: team (2 of 7)") {
		t.Errorf("no filtered count in the status bar:\n%s", f)
	}
}
