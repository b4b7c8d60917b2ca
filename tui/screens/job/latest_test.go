package job_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui/screens/job"

	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// #2: L picks the newest complete snapshot whose _metadata header decodes —
// a retained chk-N or a savepoint, whichever was written last — and opens
// the resume screen (dry run first) on it, saying what it compared.
func TestJobRestartFromLatestGoodSnapshot(t *testing.T) {
	root := func(a *shell.App) string { return a.Context().FS.(tuitest.PrefixFS).Root }
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		want    string
		note    []string
	}{
		{name: "newest checkpoint", want: tuitest.FakeJobDir + "/chk-47",
			note: []string{"latest good snapshot: chk-47, written 8s ago", "newer than savepoint savepoint-3f2a1b-0c9d8e7f6a5b (1m ago)"}},
		{name: "corrupt newest checkpoint is passed over", want: tuitest.FakeJobDir + "/chk-46",
			prepare: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "flink", "checkpoints", tuitest.FakeJobID, "chk-47", "_metadata")
				if err := os.WriteFile(p, []byte("not a snapshot"), 0o644); err != nil {
					t.Fatal(err)
				}
				os.Chtimes(p, tuitest.Now.Add(-8*time.Second), tuitest.Now.Add(-8*time.Second))
			},
			note: []string{"latest good snapshot: chk-46", "passed over: chk-47 ("}},
		{name: "savepoint newer than every checkpoint", want: tuitest.FakeSP40,
			prepare: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "flink", "savepoints", "savepoint-3f2a1b-0c9d8e7f6a5b", "_metadata")
				os.Chtimes(p, tuitest.Now.Add(-time.Second), tuitest.Now.Add(-time.Second))
			},
			note: []string{"latest good snapshot: savepoint savepoint-3f2a1b-0c9d8e7f6a5b, written 1s ago", "newer than chk-47 (8s ago)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
			if tc.prepare != nil {
				tc.prepare(t, root(a))
				tuitest.Press(t, a, "ctrl+r")
			}
			tuitest.Press(t, a, "L")
			r, ok := a.Top().(*resume.Resume)
			if !ok {
				t.Fatalf("L opened %T:\n%s", a.Top(), tuitest.FrameText(a))
			}
			if r.Selection().Snapshot != tc.want {
				t.Errorf("resume from %q, want %q", r.Selection().Snapshot, tc.want)
			}
			f := tuitest.FrameText(a)
			for _, w := range tc.note {
				if !strings.Contains(f, w) {
					t.Errorf("resume screen lacks %q:\n%s", w, f)
				}
			}
		})
	}
}

// Nothing restorable: a clear message, no resume screen; read-only mode
// has no such key.
func TestJobRestartFromLatestRefusals(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
	j := a.Top().(*job.Screen)
	for i := range job.Snapshots(j) {
		job.Snapshots(j)[i].Complete = format.No
	}
	tuitest.Press(t, a, "L")
	if _, ok := a.Top().(*job.Screen); !ok || !strings.Contains(tuitest.FrameText(a), "no complete snapshot of this job on storage") {
		t.Errorf("L without a complete snapshot:\n%s", tuitest.FrameText(a))
	}
	a = tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, true, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "L")
	if _, ok := a.Top().(*job.Screen); !ok {
		t.Errorf("read-only L opened %T", a.Top())
	}
}
