package job_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/job"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// twinJobs is the fake target with a second job whose ID starts with the
// same 8 hex digits as the fake job's.
type twinJobs struct{ *tuitest.FakeCluster }

const twinID = "3f2a1b0cffffffffffffffffffffffff"

func (f twinJobs) Jobs(ctx context.Context) ([]cluster.JobSummary, error) {
	js, err := f.FakeCluster.Jobs(ctx)
	return append(js, cluster.JobSummary{ID: twinID, Name: "orders-replay", Status: cluster.JobRunning, Start: tuitest.Now}), err
}

// flat is the frame's words, one space apart (wrapped lines joined).
func flat(a *shell.App) string { return strings.Join(strings.Fields(tuitest.FrameText(a)), " ") }

// Finding 11: `:job` takes the 8 hex digits the jobs list shows; a prefix
// that names no job, or several, is an error naming the candidates.
func TestJobOpensOnIDPrefix(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID[:8])
	j, ok := a.Top().(*job.Screen)
	if !ok || job.JobID(j) != tuitest.FakeJobID || !strings.Contains(tuitest.FrameText(a), "orders-enrichment RUNNING · "+tuitest.FakeJobID) {
		t.Fatalf("job %s opened %T:\n%s", tuitest.FakeJobID[:8], a.Top(), tuitest.FrameText(a))
	}
	// Typed on the command line, as the jobs list shows it.
	c := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "jobs")
	tuitest.Press(t, c, ":")
	tuitest.Type(t, c, "job "+tuitest.FakeJobID[:8])
	tuitest.Press(t, c, "enter")
	if j, ok := c.Top().(*job.Screen); !ok || job.JobID(j) != tuitest.FakeJobID {
		t.Errorf(":job %s opened %T:\n%s", tuitest.FakeJobID[:8], c.Top(), tuitest.FrameText(c))
	}
	// Upper case, as pasted from elsewhere.
	a = tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", strings.ToUpper(tuitest.FakeJobID[:8]))
	if j := a.Top().(*job.Screen); job.JobID(j) != tuitest.FakeJobID {
		t.Errorf("upper-case prefix resolved to %q", job.JobID(j))
	}

	a = tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", "deadbeef")
	if f := flat(a); !strings.Contains(f, "no job of jm.example:8081 has an ID starting with deadbeef; its 3 jobs: 9e8d7c6b nightly-backfill (FINISHED), 3f2a1b0c orders-enrichment (RUNNING), 1a2b3c4d orders-enrichment (CANCELED)") {
		t.Errorf("unknown prefix:\n%s", f)
	}
	fc := twinJobs{&tuitest.FakeCluster{}}
	b := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.FakeStorage(t), Cluster: fc, Target: "jm.example:8081"}, "job", "3f2a1b0c")
	if f := flat(b); !strings.Contains(f, "3f2a1b0c is ambiguous: 2 jobs of jm.example:8081 start with it — "+tuitest.FakeJobID+" orders-enrichment (RUNNING), "+twinID+" orders-replay (RUNNING); type more digits") {
		t.Errorf("ambiguous prefix:\n%s", f)
	}
	// Keys do nothing while there is no job.
	tuitest.Press(t, b, "x", "y")
	if len(fc.Cancels) != 0 {
		t.Errorf("cancelled with no job: %v", fc.Cancels)
	}
	b = tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.FakeStorage(t), Cluster: fc, Target: "jm.example:8081"}, "job", "3f2a1b0c9")
	if j := b.Top().(*job.Screen); job.JobID(j) != tuitest.FakeJobID {
		t.Errorf("9 digits resolved to %q", job.JobID(j))
	}
	for _, sz := range tuitest.Sizes {
		name := fmt.Sprintf("job-prefix-ambiguous-%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: tuitest.FakeStorage(t), Cluster: fc, Target: "jm.example:8081"}, "job", "3f2a")
			tuitest.Golden(t, a, name)
		})
	}
}
