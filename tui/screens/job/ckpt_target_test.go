package job_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/tui/screens/job"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
)

// Against ckpt serve (or the embedded engine) the job screen takes what the
// target reports of the job itself: its own num-retained and checkpoint
// directory on the config pane (not the cluster's), the directory whose
// chk-N it lists, and — when this session did not launch the job — the
// spec the target started it from as the resume's default spec, written
// to a file for the dry run and the upload.
func TestJobUsesWhatCkptReportsOfTheJob(t *testing.T) {
	spec, err := os.ReadFile("testdata/specs/orders-enrichment-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := "/data/ckpt-engine/" + tuitest.FakeJobID
	fc := &tuitest.FakeCluster{Version: "ckpt-dev", NumRetained: 5, CkptDir: dir,
		Program: &cluster.Program{Name: "orders-enrichment-v2.yaml", ArtifactID: "a1_orders-enrichment-v2.yaml", Spec: string(spec)}}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	j := a.Top().(*job.Screen)
	if got := job.CheckpointDir(j); got != dir {
		t.Errorf("checkpoint dir %q, want the job's %q", got, dir)
	}
	tuitest.Press(t, a, "4")
	f := tuitest.FrameText(a)
	for _, want := range []string{"num-retained              5 (this job's)", "checkpoint dir            " + dir} {
		if !strings.Contains(f, want) {
			t.Errorf("config pane lacks %q:\n%s", want, f)
		}
	}
	tuitest.Press(t, a, "r")
	r, ok := a.Top().(*resume.Resume)
	if !ok {
		t.Fatalf("r opened %T", a.Top())
	}
	if !r.Selection().SpecFromTarget || !strings.HasSuffix(r.Selection().Spec, "/"+tuitest.FakeJobID+"/orders-enrichment-v2.yaml") || r.Selection().Plan == nil {
		t.Fatalf("resume spec %q (from target %v), plan %v, err %v", r.Selection().Spec, r.Selection().SpecFromTarget, r.Selection().Plan, r.Selection().PlanErr)
	}
	if b, err := os.ReadFile(r.Selection().Spec); err != nil || string(b) != string(spec) {
		t.Fatalf("the written spec %s: %v", r.Selection().Spec, err)
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, "(the spec jm.example:8081 started the job from)") {
		t.Errorf("the resume screen does not say where the spec came from:\n%s", f)
	}
	tuitest.Press(t, a, "n", "y", "enter", "y")
	if len(fc.Uploads) != 1 || fc.Uploads[0] != "orders-enrichment-v2.yaml" {
		t.Errorf("uploaded %v, want the job's own spec under its name", fc.Uploads)
	}
	// A spec picked by hand replaces it.
	fc2 := &tuitest.FakeCluster{Version: "ckpt-dev", Program: fc.Program}
	a = tuitest.OpenJob(t, 160, 48, fc2, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "r", "s", "enter")
	if r := a.Top().(*resume.Resume); r.Selection().SpecFromTarget || r.Selection().Spec != "testdata/specs/orders-enrichment-v2.yaml" {
		t.Errorf("picked spec %q (from target %v)", r.Selection().Spec, r.Selection().SpecFromTarget)
	}
}

// Against Flink nothing of that is reported: the cluster's num-retained is
// named as such, the directory is derived from completed checkpoints, and
// the resume has no default spec.
func TestJobWithoutCkptExtensions(t *testing.T) {
	fc := &tuitest.FakeCluster{}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "4")
	if f := tuitest.FrameText(a); !strings.Contains(f, "num-retained              3 (the cluster's)") ||
		!strings.Contains(f, "checkpoint dir            "+tuitest.FakeJobDir+" (from the completed checkpoints") {
		t.Errorf("config pane:\n%s", f)
	}
	tuitest.Press(t, a, "r")
	if r := a.Top().(*resume.Resume); r.Selection().Spec != "" || r.Selection().SpecFromTarget {
		t.Errorf("resume spec %q without one from the target or this session", r.Selection().Spec)
	}
}
