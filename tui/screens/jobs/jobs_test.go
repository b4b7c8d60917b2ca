package jobs_test

import (
	"fmt"
	"testing"

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
