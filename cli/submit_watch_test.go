package cli

import (
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
)

// A new job has started once every subtask runs or already finished (a
// source subtask without a split after a scale-out finishes at once), and
// at least one runs.
func TestAllRunning(t *testing.T) {
	vertex := func(p int, tasks map[string]int) cluster.Vertex {
		return cluster.Vertex{Parallelism: p, Tasks: tasks}
	}
	for _, tc := range []struct {
		name string
		vs   []cluster.Vertex
		want bool
	}{
		{"all running", []cluster.Vertex{vertex(2, map[string]int{cluster.TaskRunning: 2}), vertex(1, map[string]int{cluster.TaskRunning: 1})}, true},
		{"one source subtask finished at once", []cluster.Vertex{vertex(3, map[string]int{cluster.TaskRunning: 2, cluster.TaskFinished: 1}), vertex(3, map[string]int{cluster.TaskRunning: 3})}, true},
		{"one still deploying", []cluster.Vertex{vertex(3, map[string]int{cluster.TaskRunning: 2, cluster.TaskDeploying: 1})}, false},
		{"every task finished", []cluster.Vertex{vertex(2, map[string]int{cluster.TaskFinished: 2})}, false},
		{"nothing scheduled yet", []cluster.Vertex{vertex(2, map[string]int{cluster.TaskCreated: 2})}, false},
	} {
		if got := allRunning(&cluster.Job{Vertices: tc.vs}); got != tc.want {
			t.Errorf("%s: allRunning = %v, want %v", tc.name, got, tc.want)
		}
	}
}
