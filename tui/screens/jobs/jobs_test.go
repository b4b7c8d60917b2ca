package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

func TestJobsGolden(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{name: "jobs"},
		{name: "jobs-cancel-confirm", keys: []string{"x"}},
		{name: "jobs-launch", keys: []string{"n"}},
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				a := tuitest.OpenJob(t, sz.W, sz.H, &tuitest.FakeCluster{}, false, "jobs")
				tuitest.Press(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}

// oneJob is the fake cluster with one job, in the longest state name.
type oneJob struct{ *tuitest.FakeCluster }

func (oneJob) Jobs(context.Context) ([]cluster.JobSummary, error) {
	return []cluster.JobSummary{{ID: tuitest.FakeJobID, Name: "orders", Status: cluster.JobInitializing, Start: tuitest.Now,
		Tasks: map[string]int{cluster.TaskInitializing: 2, "TOTAL": 2}}}, nil
}

// Words: the state name is never cut, and one job is "1 job".
func TestJobsWords(t *testing.T) {
	for _, sz := range tuitest.Sizes {
		a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: tuitest.FakeStorage(t), Cluster: oneJob{&tuitest.FakeCluster{}}, Target: "jm.example:8081"}, "jobs")
		f := tuitest.FrameText(a)
		if !strings.Contains(f, " INITIALIZING ") {
			t.Errorf("%dx%d: state cut:\n%s", sz.W, sz.H, f)
		}
		if !strings.Contains(f, " 1 job ") || strings.Contains(f, "1 jobs") {
			t.Errorf("%dx%d: no \"1 job\" in the status:\n%s", sz.W, sz.H, f)
		}
	}
}
