package job_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// Finding 2 on ckpt's own engine: X, enter, y takes a savepoint into the
// typed dir and the job ends CANCELED; the savepoint is complete.
func TestJobCancelWithSavepointOnTheEngine(t *testing.T) {
	dir := t.TempDir()
	c := embedded.New(embedded.Options{})
	defer c.Close(context.Background())
	spec := "name: counts\nparallelism: 2\nconfig:\n  execution.checkpointing.interval: 200 ms\n  execution.checkpointing.dir: file://" +
		filepath.Join(dir, "checkpoints") + "\npipeline:\n  - op: generator\n    uid: orders\n    keys: 100\n  - op: keyBy\n  - op: count\n    uid: count-per-key\n  - op: discard\n    uid: sink\n"
	ctx := context.Background()
	id := runUntilCheckpoint(t, c, spec)
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: storage.NewLocal(), Cluster: c, Target: "embedded"}, "job", id)
	// The engine's job detail carries the backpressure level and ratio.
	bp := regexp.MustCompile(`(ok|low|high) \d+%`)
	if f := tuitest.FrameText(a); !bp.MatchString(f) {
		t.Errorf("no backpressure level on the engine's job:\n%s", f)
	}
	tuitest.Press(t, a, "X")
	for range 200 { // clear the pre-filled dir
		tuitest.Press(t, a, "backspace")
	}
	sps := filepath.Join(dir, "sp")
	tuitest.Type(t, a, sps)
	tuitest.Press(t, a, "enter", "y") // the wait runs to the end in the harness
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := c.Job(ctx, id)
		if err == nil && j.Status == cluster.JobCanceled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not CANCELED: %+v %v\n%s", j, err, tuitest.FrameText(a))
		}
		time.Sleep(50 * time.Millisecond)
	}
	tuitest.Press(t, a, "ctrl+r")
	if f := tuitest.FrameText(a); bp.MatchString(f) || !strings.Contains(f, "CANCELED") || strings.Contains(strings.ToLower(f), "cancelling") {
		t.Errorf("the CANCELED job:\n%s", f)
	}
	got := a.Context().Savepoints()
	if len(got) != 1 || !strings.HasPrefix(strings.TrimPrefix(got[0].Path, "file:"), sps) {
		t.Fatalf("savepoint remembered: %+v (err %v)", got, a.Context().Tasks.LastErr)
	}
	if _, err := os.Stat(filepath.Join(strings.TrimPrefix(strings.TrimPrefix(got[0].Path, "file://"), "file:"), "_metadata")); err != nil {
		t.Errorf("savepoint incomplete: %v", err)
	}
}

// runUntilCheckpoint runs spec on c (ckpt's engine) and waits for the
// job's first completed checkpoint; it returns the job's ID.
func runUntilCheckpoint(t *testing.T, c cluster.Cluster, spec string) string {
	t.Helper()
	ctx := context.Background()
	art, err := c.UploadArtifact(ctx, "counts.yaml", strings.NewReader(spec))
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.RunArtifact(ctx, art.ID, cluster.RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		st, err := c.Checkpoints(ctx, id)
		if err == nil && st.Counts.Completed >= 1 {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of the job: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
