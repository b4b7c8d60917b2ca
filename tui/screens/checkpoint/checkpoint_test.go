package checkpoint_test

import (
	"fmt"
	"testing"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// Opened from the job screen's checkpoint history, as a user does.
func TestCheckpointGolden(t *testing.T) {
	tests := []struct {
		name string
		keys []string
	}{
		{name: "checkpoint-in-progress", keys: []string{"2", "enter"}},
		{name: "subtasks-in-progress", keys: []string{"2", "enter", "j", "enter"}},
		{name: "subtasks-completed", keys: []string{"2", "j", "enter", "j", "enter"}},
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				a := tuitest.OpenJob(t, sz.W, sz.H, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
				tuitest.Press(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}
