package actions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/runner"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// flinkWithJars is a Flink target that takes jars: it records the run
// request the launch sends.
type flinkWithJars struct {
	cluster.Cluster
	req cluster.RunRequest
}

func (f *flinkWithJars) UploadOnce(ctx context.Context, name string, data []byte) (*cluster.Artifact, bool, error) {
	return &cluster.Artifact{ID: "jar-1", Name: name}, true, nil
}

func (f *flinkWithJars) RunArtifact(ctx context.Context, id string, req cluster.RunRequest) (string, error) {
	f.req = req
	return "0123456789abcdef0123456789abcdef", nil
}

// Launching a spec on a Flink target from a savepoint of ckpt's engine
// resumes it from the conversion beside it (as ckpt submit -s does); a
// Flink savepoint goes to the cluster as it is.
func TestRunOnFlinkConvertsAnEngineSavepoint(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(runner.JarEnv, filepath.Join(dir, "runner.jar"))
	if err := os.WriteFile(filepath.Join(dir, "runner.jar"), []byte("a stand-in jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "counts.yaml")
	text := fmt.Sprintf(`name: counts
parallelism: 2
config:
  execution.checkpointing.interval: 200 ms
  execution.checkpointing.dir: file://%s/chk
pipeline:
  - op: generator
    uid: source
    keys: 50
    rate: 20000
    limit: 1000000
  - op: keyBy
  - op: count
    uid: count-per-key
  - op: discard
`, dir)
	if err := os.WriteFile(specPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job, err := engine.SubmitSpec(ctx, s, nil, nil, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); job.Status() != engine.Running && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	sp, err := job.StopWithSavepoint(ctx, filepath.Join(dir, "sp"), snapshot.FormatCanonical, false)
	if err != nil {
		t.Fatal(err)
	}
	job.Wait()

	f := &flinkWithJars{}
	c := &shell.Context{Cluster: f, FS: storage.NewLocal(), TargetName: "flink"}
	if _, err := runOnFlink(ctx, c, specPath, []byte(text), "2.3.0", cluster.RunRequest{SavepointPath: sp}); err != nil {
		t.Fatal(err)
	}
	if f.req.SavepointPath != sp+"-flink" {
		t.Fatalf("the job resumes from %q, want the conversion %q", f.req.SavepointPath, sp+"-flink")
	}
	if _, err := os.Stat(filepath.Join(sp+"-flink", "_metadata")); err != nil {
		t.Fatal(err)
	}
	// The conversion is Flink's already: it goes as it is.
	if _, err := runOnFlink(ctx, c, specPath, []byte(text), "2.3.0", cluster.RunRequest{SavepointPath: sp + "-flink"}); err != nil {
		t.Fatal(err)
	}
	if f.req.SavepointPath != sp+"-flink" || strings.Contains(f.req.SavepointPath, "-flink-2") {
		t.Errorf("a Flink savepoint was converted again: %q", f.req.SavepointPath)
	}
}
