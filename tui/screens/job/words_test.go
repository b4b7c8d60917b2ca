package job_test

import (
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/job"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
)

// Finding 13: at 160 columns no state name is cut (a checkpoint
// IN_PROGRESS behind its spinner, a vertex whose subtasks are in several
// states), and counts of one are singular.
func TestJobWords(t *testing.T) {
	fc := jobAs{&tuitest.FakeCluster{}, func(j *cluster.Job) {
		v := j.Vertices[0]
		v.Parallelism, v.Tasks = 1, map[string]int{cluster.TaskRunning: 1}
		w := j.Vertices[1]
		w.Tasks = map[string]int{cluster.TaskRunning: 2, cluster.TaskDeploying: 1, cluster.TaskFailed: 1}
		j.Vertices = []cluster.Vertex{v, w}
	}}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.FakeStorage(t), Cluster: fc, Target: "jm.example:8081"}, "job", tuitest.FakeJobID)
	f := tuitest.FrameText(a)
	mixed := format.TaskCounts(map[string]int{cluster.TaskRunning: 2, cluster.TaskDeploying: 1, cluster.TaskFailed: 1})
	if !strings.Contains(f, " · 5 tasks") || !strings.Contains(f, mixed) {
		t.Errorf("overview lacks %q whole:\n%s", mixed, f)
	}
	tuitest.Press(t, a, "2")
	if f := tuitest.FrameText(a); !strings.Contains(f, "IN_PROGRESS ") || strings.Contains(f, "IN_PROGR…") {
		t.Errorf("history cuts IN_PROGRESS:\n%s", f)
	}
	tuitest.Press(t, a, "3")
	s := a.Top().(*job.Screen)
	job.SetSnapshots(s, []routes.SnapRow{{ID: 47, Path: tuitest.FakeJobDir + "/chk-47", Complete: format.Yes, ModTime: tuitest.Now},
		{Savepoint: true, ID: 40, Path: tuitest.FakeSP40, Complete: format.Yes, ModTime: tuitest.Now}})
	if f := tuitest.FrameText(a); !strings.Contains(f, "1 chk dir (1 complete) · 1 savepoint ") {
		t.Errorf("snapshots head:\n%s", f)
	}

	one := jobAs{&tuitest.FakeCluster{}, func(j *cluster.Job) {
		j.Vertices = j.Vertices[:1]
		j.Vertices[0].Parallelism = 1
	}}
	if f := openAs(t, one); !strings.Contains(f, " · 1 task ") {
		t.Errorf("headline of a one-task job:\n%s", f)
	}
}
