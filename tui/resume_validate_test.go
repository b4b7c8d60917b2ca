package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Pain #3: a resume offered from a chk-N that has no _metadata (the newest,
// still running or failed) or whose _metadata is not a readable header is
// refused before anything is submitted: the dry run reads the header (and
// the whole file) first.
func TestResumeValidatesTheSnapshotFirst(t *testing.T) {
	fsys := demoFS(t).(prefixFS)
	job := "/demo/checkpoints/" + DemoJobID
	bad := job + "/chk-20"
	os.MkdirAll(fsys.in(bad), 0o755)
	os.WriteFile(filepath.Join(fsys.in(bad), "_metadata"), []byte("\x00\x00\x00\x07truncated"), 0o644)
	for _, tc := range []struct{ snap, want string }{
		{job + "/chk-19", "no _metadata"},
		{bad, "chk-20/_metadata"},
	} {
		t.Run(filepath.Base(tc.snap), func(t *testing.T) {
			fc := &fakeCluster{}
			a := newTestApp(t, testOpts{w: 160, h: 48, fs: fsys, cluster: fc, target: "jm.example:8081",
				specDirs: []string{"testdata/specs"}, specs: fakeSpecTarget}, "resume", tc.snap, "testdata/specs/orders-enrichment-v2.yaml")
			r := a.Top().(*Resume)
			if r.planErr == nil || !strings.Contains(r.planErr.Error(), tc.want) {
				t.Fatalf("dry run error %v, want one naming %q", r.planErr, tc.want)
			}
			press(t, a, "enter", "y")
			if len(fc.runs) != 0 || len(fc.uploads) != 0 {
				t.Errorf("submitted from %s: runs %v", tc.snap, fc.runs)
			}
			if !strings.Contains(frameText(a), "dry run") {
				t.Errorf("the refusal is not shown:\n%s", frameText(a))
			}
		})
	}
}
