package resume_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens

	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
)

// Pain #3: a resume offered from a chk-N that has no _metadata (the newest,
// still running or failed) or whose _metadata is not a readable header is
// refused before anything is submitted: the dry run reads the header (and
// the whole file) first.
func TestResumeValidatesTheSnapshotFirst(t *testing.T) {
	fsys := tuitest.DemoFS(t).(tuitest.PrefixFS)
	job := "/demo/checkpoints/" + demo.JobID
	bad := job + "/chk-20"
	os.MkdirAll(fsys.In(bad), 0o755)
	os.WriteFile(filepath.Join(fsys.In(bad), "_metadata"), []byte("\x00\x00\x00\x07truncated"), 0o644)
	for _, tc := range []struct{ snap, want string }{
		{job + "/chk-19", "no _metadata"},
		{bad, "chk-20/_metadata"},
	} {
		t.Run(filepath.Base(tc.snap), func(t *testing.T) {
			fc := &tuitest.FakeCluster{}
			a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys, Cluster: fc, Target: "jm.example:8081",
				SpecDirs: []string{"testdata/specs"}, Specs: tuitest.FakeSpecTarget}, "resume", tc.snap, "testdata/specs/orders-enrichment-v2.yaml")
			r := a.Top().(*resume.Resume)
			if r.Selection().PlanErr == nil || !strings.Contains(r.Selection().PlanErr.Error(), tc.want) {
				t.Fatalf("dry run error %v, want one naming %q", r.Selection().PlanErr, tc.want)
			}
			tuitest.Press(t, a, "enter", "y")
			if len(fc.Runs) != 0 || len(fc.Uploads) != 0 {
				t.Errorf("submitted from %s: runs %v", tc.snap, fc.Runs)
			}
			if !strings.Contains(tuitest.FrameText(a), "dry run") {
				t.Errorf("the refusal is not shown:\n%s", tuitest.FrameText(a))
			}
		})
	}
}
