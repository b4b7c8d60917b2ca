package job_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// U on ckpt's own engine: the form takes the new spec, enter asks to
// confirm, y runs the upgrade as a task — the job is stopped with a
// savepoint and the new spec runs from it. Read-only mode offers no U.
func TestJobUpgradeOnTheEngine(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CKPT_STATE_DIR", filepath.Join(dir, "state"))
	c := embedded.New(embedded.Options{})
	defer c.Close(context.Background())
	v1 := "name: counts\nparallelism: 2\nconfig:\n  execution.checkpointing.interval: 100 ms\n  execution.checkpointing.dir: file://" +
		filepath.Join(dir, "checkpoints") + "\n  execution.checkpointing.savepoint-dir: file://" + filepath.Join(dir, "sp") +
		"\npipeline:\n  - op: generator\n    uid: orders\n    keys: 100\n  - op: keyBy\n  - op: count\n    uid: count-per-key\n  - op: discard\n    uid: sink\n"
	v2 := strings.Replace(v1, "  - op: discard\n", "  - op: map\n    fn: value-one\n    uid: ones\n  - op: discard\n", 1)
	v2path := filepath.Join(dir, "counts-v2.yaml")
	if err := os.WriteFile(v2path, []byte(v2), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := runUntilCheckpoint(t, c, v1)

	ro := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: storage.NewLocal(), Cluster: c, Target: "embedded", Readonly: true}, "job", id)
	tuitest.Press(t, ro, "U", "enter", "y")
	if j, _ := c.Job(ctx, id); j.Status != cluster.JobRunning || strings.Contains(tuitest.FrameText(ro), "UPGRADE") {
		t.Fatalf("read-only U: job %s\n%s", j.Status, tuitest.FrameText(ro))
	}

	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: storage.NewLocal(), Cluster: c, Target: "embedded"}, "job", id)
	tuitest.Press(t, a, "U")
	if f := tuitest.FrameText(a); !strings.Contains(f, "UPGRADE counts") {
		t.Fatalf("no upgrade form:\n%s", f)
	}
	tuitest.Type(t, a, v2path)
	tuitest.Press(t, a, "enter")
	if f := tuitest.FrameText(a); !strings.Contains(f, "stopped with a savepoint") || !strings.Contains(f, "any other key = keep it") {
		t.Fatalf("no confirmation:\n%s", f)
	}
	tuitest.Press(t, a, "y") // the upgrade's steps run to the end in the harness
	if j, err := c.Job(ctx, id); err != nil || j.Status != cluster.JobFinished {
		t.Fatalf("the upgraded job: %+v %v (err %v)", j, err, a.Context().Tasks.LastErr)
	}
	jobs, _ := c.Jobs(ctx)
	found := false
	for _, js := range jobs {
		if js.Status != cluster.JobRunning {
			continue
		}
		j, _ := c.Job(ctx, js.ID)
		found = found || (j.Program != nil && j.Program.Spec == v2)
	}
	if !found {
		t.Fatalf("no job runs v2: %+v (err %v)", jobs, a.Context().Tasks.LastErr)
	}
	if a.Context().Tasks.LastErr != nil {
		t.Errorf("task error: %v", a.Context().Tasks.LastErr)
	}
}
