package embedded

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/cluster/restserver"
)

// Backpressure is a ratio with Flink's level per vertex and subtask, the
// same through ckpt serve's REST API; a job that is no longer running has
// none (not its cumulative blocked time).
func TestBackpressureRatio(t *testing.T) {
	c, _ := newCluster(t)
	srv := httptest.NewServer(restserver.New(c, restserver.Options{}))
	defer srv.Close()
	rc, err := flinkrest.New(srv.URL, flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := submit(t, c, countsSpec, cluster.RunRequest{})
	waitFor(t, "RUNNING", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobRunning })
	j, _ := c.Job(ctx, id)
	for _, v := range j.Vertices {
		if v.Metrics.BackpressureLevel == "" || v.Metrics.BackpressureRatio < 0 || v.Metrics.BackpressureRatio > 1 {
			t.Errorf("running vertex %s: ratio %v level %q", v.Name, v.Metrics.BackpressureRatio, v.Metrics.BackpressureLevel)
		}
		for name, cl := range map[string]cluster.Cluster{"embedded": c, "serve": rc} {
			b, err := cluster.VertexBackpressure(ctx, cl, id, v.ID)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if b.Status != "ok" || len(b.Subtasks) != v.Parallelism || b.Level == "" {
				t.Errorf("%s: vertex %s backpressure %+v", name, v.Name, b)
			}
			for _, s := range b.Subtasks {
				if s.Level != map[bool]string{true: "ok", false: s.Level}[s.Ratio <= 0.10] || s.Ratio < 0 || s.Ratio > 1 {
					t.Errorf("%s: subtask %+v", name, s)
				}
			}
		}
	}
	if _, err := cluster.VertexBackpressure(ctx, c, id, "00000000000000000000000000000000"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("unknown vertex: %v", err)
	}
	if err := c.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "CANCELED", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobCanceled })
	j, _ = c.Job(ctx, id)
	for _, v := range j.Vertices {
		if v.Metrics.BackpressureRatio != 0 || v.Metrics.BackpressureLevel != "" {
			t.Errorf("CANCELED vertex %s: ratio %v level %q, want none", v.Name, v.Metrics.BackpressureRatio, v.Metrics.BackpressureLevel)
		}
		b, err := cluster.VertexBackpressure(ctx, c, id, v.ID)
		if err != nil || len(b.Subtasks) != 0 || b.Ratio != 0 {
			t.Errorf("CANCELED vertex %s: %+v %v", v.Name, b, err)
		}
	}
}
