package embedded

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/config"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The job log holds the engine's own lines, not only the sinks' output:
// where a job checkpoints, its checkpoints and savepoints, what it was
// restored from and which state it skipped, failures and restarts —
// each line naming its job.
func TestJobLogHasEngineLines(t *testing.T) {
	dir := t.TempDir()
	cfg := config.New()
	cfg.Set(config.CheckpointDir, "file://"+filepath.Join(dir, "checkpoints"), "test")
	log := &lockedBuffer{}
	c := New(Options{Config: cfg, JobLog: log})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Close(ctx)
	}()
	ctx := context.Background()
	id := submit(t, c, countsSpec, cluster.RunRequest{})
	waitFor(t, "a checkpoint", func() bool {
		st, err := c.Checkpoints(ctx, id)
		return err == nil && st.LatestCompleted != nil
	})
	tr, err := cluster.CancelWithSavepoint(ctx, c, id, cluster.SavepointRequest{TargetDir: filepath.Join(dir, "sp")})
	if err != nil {
		t.Fatal(err)
	}
	op, err := cluster.Wait(ctx, c, tr)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "CANCELED", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobCanceled })

	// Resume into a job whose counter has a new uid: its state is skipped.
	renamed := strings.Replace(countsSpec, "uid: counter", "uid: counter-v2", 1)
	id2 := submit(t, c, renamed, cluster.RunRequest{SavepointPath: op.Location, AllowNonRestoredState: true})
	waitFor(t, "RUNNING", func() bool { j, _ := c.Job(ctx, id2); return j.Status == cluster.JobRunning })

	// A job that fails once, restarts, and fails for good.
	id3 := submit(t, c, `name: failing
parallelism: 1
config:
  restart-strategy.type: fixed-delay
  restart-strategy.fixed-delay.attempts: 1
  restart-strategy.fixed-delay.delay: 10 ms
pipeline:
  - op: generator
    uid: source
    rate: 1000
  - op: fail
    after: 20
    attempts: 5
  - op: discard
`, cluster.RunRequest{})
	waitFor(t, "FAILED", func() bool { j, _ := c.Job(ctx, id3); return j.Status == cluster.JobFailed })
	waitFor(t, "the log lines", func() bool {
		return strings.Contains(log.String(), "job "+id3[:8]+": ") && strings.Contains(log.String(), "job FAILED")
	})

	got := log.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^job ` + id[:8] + `: \d\d:\d\d:\d\d job ` + id + ` "counts": checkpoints every 100 ms into `),
		regexp.MustCompile(`(?m)^job ` + id[:8] + `: \d\d:\d\d:\d\d chk-\d+ +COMPLETED `),
		regexp.MustCompile(`(?m)^job ` + id[:8] + `: \d\d:\d\d:\d\d savepoint \d+ COMPLETED .*` + regexp.QuoteMeta(op.Location)),
		regexp.MustCompile(`(?m)^job ` + id[:8] + `: \d\d:\d\d:\d\d job CANCELED$`),
		regexp.MustCompile(`(?m)^job ` + id2[:8] + `: \d\d:\d\d:\d\d restored from ` + regexp.QuoteMeta(op.Location) + ` \(checkpoint \d+, `),
		regexp.MustCompile(`(?m)^job ` + id2[:8] + `: \d\d:\d\d:\d\d skipped state of operator .*counter.*allow-non-restored-state`),
		regexp.MustCompile(`(?m)^job ` + id3[:8] + `: \d\d:\d\d:\d\d task failed: `),
		regexp.MustCompile(`(?m)^job ` + id3[:8] + `: \d\d:\d\d:\d\d job RESTARTING$`),
		regexp.MustCompile(`(?m)^job ` + id3[:8] + `: \d\d:\d\d:\d\d job FAILED$`),
	} {
		if !want.MatchString(got) {
			t.Errorf("job log lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("job log:\n%s", got)
	}
}
