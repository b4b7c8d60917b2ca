package inspect_test

import (
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// The status bar says how many rows the "/" filter keeps of how many.
func TestInspectFilterCount(t *testing.T) {
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.DemoFS(t)}, "inspect", "/demo/checkpoints/"+demo.JobID+"/chk-18")
	tuitest.Press(t, a, "/")
	tuitest.Type(t, a, "1f2b5df5")
	tuitest.Press(t, a, "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "filter: 1f2b5df5 (1 of 8)") {
		t.Errorf("no filtered count in the status bar:\n%s", f)
	}
}
