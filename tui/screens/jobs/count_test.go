package jobs_test

import (
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// The status bar says how many rows the "/" filter keeps of how many.
func TestJobsFilterCount(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "jobs")
	tuitest.Press(t, a, "/")
	tuitest.Type(t, a, "orders")
	tuitest.Press(t, a, "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "filter: orders (2 of 3)") {
		t.Errorf("no filtered count in the status bar:\n%s", f)
	}
}
