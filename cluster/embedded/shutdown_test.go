package embedded

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

// What quitting the UI offers for running jobs, on the embedded engine:
// move them to another cluster (same job IDs, resumed from a stop
// savepoint), stop them all with a savepoint, or cancel them all.
func TestShutdownChoices(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Run("move", func(t *testing.T) {
		from, dir := newCluster(t)
		to, _ := newCluster(t)
		a := submit(t, from, countsSpec, cluster.RunRequest{})
		b := submit(t, from, countsSpec, cluster.RunRequest{})
		for _, id := range []string{a, b} {
			waitFor(t, "RUNNING", func() bool { j, _ := from.Job(ctx, id); return j.Status == cluster.JobRunning })
		}
		out, err := cluster.MoveAll(ctx, from, to, filepath.Join(dir, "handover"))
		if err != nil || len(out) != 2 {
			t.Fatalf("MoveAll: %+v %v", out, err)
		}
		for _, o := range out {
			if o.Err != nil || o.MovedTo != o.JobID || o.Savepoint == "" {
				t.Fatalf("outcome %+v", o)
			}
			if j, _ := from.Job(ctx, o.JobID); j.Status != cluster.JobFinished {
				t.Errorf("job %s here: %s, want FINISHED (stopped with a savepoint)", o.JobID, j.Status)
			}
			waitFor(t, "RUNNING there", func() bool { j, err := to.Job(ctx, o.JobID); return err == nil && j.Status == cluster.JobRunning })
			st, err := to.Checkpoints(ctx, o.JobID)
			if err != nil || st.LatestRestored == nil || st.LatestRestored.ExternalPath == "" {
				t.Errorf("job %s there: not restored: %+v %v", o.JobID, st, err)
			}
			if _, err := os.Stat(filepath.Join(o.Savepoint, "_metadata")); err != nil {
				t.Errorf("savepoint: %v", err)
			}
		}
		if r, _ := cluster.Running(ctx, from); len(r) != 0 {
			t.Errorf("still running here: %+v", r)
		}
	})
	t.Run("stop", func(t *testing.T) {
		c, dir := newCluster(t)
		id := submit(t, c, countsSpec, cluster.RunRequest{})
		waitFor(t, "RUNNING", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobRunning })
		out, err := cluster.StopAll(ctx, c, filepath.Join(dir, "sp"))
		if err != nil || len(out) != 1 || out[0].Err != nil || out[0].Savepoint == "" {
			t.Fatalf("StopAll: %+v %v", out, err)
		}
		if j, _ := c.Job(ctx, id); j.Status != cluster.JobFinished {
			t.Errorf("after StopAll: %s", j.Status)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		c, _ := newCluster(t)
		id := submit(t, c, countsSpec, cluster.RunRequest{})
		waitFor(t, "RUNNING", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobRunning })
		out, err := cluster.CancelAll(ctx, c)
		if err != nil || len(out) != 1 || out[0].Err != nil {
			t.Fatalf("CancelAll: %+v %v", out, err)
		}
		if j, _ := c.Job(ctx, id); j.Status != cluster.JobCanceled {
			t.Errorf("after CancelAll: %s", j.Status)
		}
	})
}
