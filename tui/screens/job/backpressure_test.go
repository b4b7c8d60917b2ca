package job_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// jobAs is the fake target with its job's status and vertex metrics
// changed as a test says.
type jobAs struct {
	*tuitest.FakeCluster
	edit func(*cluster.Job)
}

func (f jobAs) Job(ctx context.Context, jobID string) (*cluster.Job, error) {
	j, err := f.FakeCluster.Job(ctx, jobID)
	if err == nil {
		f.edit(j)
	}
	return j, err
}

func openAs(t *testing.T, c cluster.Cluster) string {
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.FakeStorage(t), Cluster: c, Target: "jm.example:8081"}, "job", tuitest.FakeJobID)
	return tuitest.FrameText(a)
}

// Finding 9: backpressure is Flink's ratio and level now — from the job
// detail where the target puts it (ckpt's engine), else from Flink's
// per-vertex endpoint — never the cumulative time, and nothing at all on
// an ended job.
func TestJobBackpressureRatioAndLevel(t *testing.T) {
	// REST: GET /jobs/:jobid/vertices/:vertexid/backpressure.
	f := openAs(t, &tuitest.FakeCluster{})
	if !strings.Contains(f, "low 23%") || !strings.Contains(f, "ok 0%") || strings.Contains(f, "350ms") {
		t.Errorf("REST backpressure:\n%s", f)
	}
	// The engine reports it in the job detail.
	f = openAs(t, jobAs{&tuitest.FakeCluster{}, func(j *cluster.Job) {
		for i := range j.Vertices {
			j.Vertices[i].Metrics.BackpressureLevel, j.Vertices[i].Metrics.BackpressureRatio = cluster.BackpressureHigh, 0.87
		}
	}})
	if strings.Count(f, "high 87%") != 3 || strings.Contains(f, "low 23%") {
		t.Errorf("engine backpressure:\n%s", f)
	}
	for _, st := range []cluster.JobStatus{cluster.JobFinished, cluster.JobCanceled} {
		f = openAs(t, jobAs{&tuitest.FakeCluster{}, func(j *cluster.Job) {
			j.Status = st
			j.Vertices[0].Metrics.BackpressureLevel, j.Vertices[0].Metrics.BackpressureRatio = cluster.BackpressureHigh, 0.87
		}})
		if strings.Contains(f, "87%") || strings.Contains(f, "23%") {
			t.Errorf("%s job shows backpressure:\n%s", st, f)
		}
	}
}

// cancelling is the fake target whose job, once cancelled, is CANCELLING
// for one poll and then CANCELED.
type cancelling struct {
	*tuitest.FakeCluster
	polls int
}

func (f *cancelling) Cancel(ctx context.Context, jobID string) error {
	f.polls = 1
	return f.FakeCluster.Cancel(ctx, jobID)
}

func (f *cancelling) Job(ctx context.Context, jobID string) (*cluster.Job, error) {
	j, err := f.FakeCluster.Job(ctx, jobID)
	switch {
	case err != nil || f.polls == 0:
	case f.polls == 1:
		j.Status = cluster.JobCancelling
		f.polls++
	default:
		j.Status = cluster.JobCanceled
	}
	return j, err
}

// Finding 9: "cancelling" is said while the job is CANCELLING, and not
// once it is CANCELED.
func TestJobCancellingEndsWithTheJob(t *testing.T) {
	fc := &cancelling{FakeCluster: &tuitest.FakeCluster{}}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.FakeStorage(t), Cluster: fc, Target: "jm.example:8081"}, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "x", "y")
	if f := tuitest.FrameText(a); !strings.Contains(f, "CANCELLING") || !strings.Contains(f, "cancelling (asked") {
		t.Fatalf("while CANCELLING:\n%s", f)
	}
	tuitest.Press(t, a, "ctrl+r")
	if f := tuitest.FrameText(a); !strings.Contains(f, "CANCELED") || strings.Contains(strings.ToLower(f), "cancelling") {
		t.Errorf("after CANCELED:\n%s", f)
	}
}

// countingBP counts the backpressure calls.
type countingBP struct {
	*tuitest.FakeCluster
	calls int
}

func (f *countingBP) Backpressure(ctx context.Context, jobID, vertexID string) (*cluster.Backpressure, error) {
	f.calls++
	return f.FakeCluster.Backpressure(ctx, jobID, vertexID)
}

// The per-vertex backpressure is asked for every few seconds, not on
// every one-second poll (Flink's figures change every 10 s).
func TestJobBackpressureNotEveryPoll(t *testing.T) {
	fc := &countingBP{FakeCluster: &tuitest.FakeCluster{}}
	now := tuitest.Now
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.FakeStorage(t), Cluster: fc, Target: "jm.example:8081"}, "job", tuitest.FakeJobID)
	a.Context().Now = func() time.Time { return now }
	if fc.calls != 3 {
		t.Fatalf("%d calls for 3 vertices", fc.calls)
	}
	now = now.Add(time.Second)
	tuitest.Press(t, a, "ctrl+r")
	if fc.calls != 3 {
		t.Errorf("asked again after a second: %d calls", fc.calls)
	}
	now = now.Add(5 * time.Second)
	tuitest.Press(t, a, "ctrl+r")
	if fc.calls != 6 {
		t.Errorf("not asked again after 6 s: %d calls", fc.calls)
	}
}
