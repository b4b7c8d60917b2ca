package browse_test

import (
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// The status bar says how many rows the "/" filter keeps of how many.
func TestBrowseFilterCount(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.DemoFS(t)}, "browse", "/demo/checkpoints/"+demo.JobID)
	tuitest.Press(t, a, "/")
	tuitest.Type(t, a, "chk-18")
	tuitest.Press(t, a, "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "filter: chk-18 (1 of 5)") {
		t.Errorf("no filtered count in the status bar:\n%s", f)
	}
}
