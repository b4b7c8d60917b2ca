package job_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui/screens/job"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
)

// Against real Flink (2.x and 1.20): a resume whose snapshot has state for
// an operator the new job lacks fails with Flink's own "Cannot map
// checkpoint/savepoint state" text in the job's exceptions, which the job
// screen recognises (snapshot and operator) and turns into the explicit -n
// resume (#7); and the savepoint prompt is pre-filled from the cluster's
// /jobmanager/config under the key that version's operators set — the new
// execution.checkpointing.savepoint-dir on 2.x, the old
// state.savepoints.dir on 1.20 (#19).
func TestJobAgainstRealFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer")
	}
	for _, tc := range []struct{ version, key string }{
		{peers.FlinkVersion2, "execution.checkpointing.savepoint-dir"},
		{peers.FlinkVersion120, "state.savepoints.dir"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			spDir := peers.URI(t.TempDir())
			p := peers.StartFlink(t, peers.FlinkOptions{Version: tc.version, Config: map[string]string{tc.key: spDir}})
			run, err := p.Submit(peers.FlinkJob{Name: "refusal"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := run.WaitCheckpoints(1); err != nil {
				t.Fatal(err)
			}
			sp, err := run.TriggerSavepoint("", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := run.Cancel(); err != nil {
				t.Fatal(err)
			}
			// The count operator's uid changed: its state maps to nothing.
			renamed := peers.DefaultFlinkOperators()
			renamed[1].UID = "count-per-key-v2"
			out := p.Resume(sp, false, peers.FlinkJob{Name: "refusal-v2", Operators: renamed})
			if out.OK {
				t.Fatalf("resume without -n ran: %+v", out)
			}
			c, err := flinkrest.New(p.RESTURL(), flinkrest.Options{Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			// The refused job is listed FAILED (its JobMaster never started).
			jobs, err := c.Jobs(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				if j.Name == "refusal-v2" && j.Status == cluster.JobFailed {
					out.JobID = j.ID
				}
			}
			if out.JobID == "" {
				t.Fatalf("no FAILED refusal-v2 among %+v (submit error %v)", jobs, out.Error)
			}
			a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: nil, Cluster: c, Target: strings.TrimPrefix(p.RESTURL(), "http://"),
				SpecDirs: []string{"testdata/specs"}, Specs: tuitest.FakeSpecTarget}, "job", out.JobID)
			j := a.Top().(*job.Screen)
			deadline := time.Now().Add(60 * time.Second)
			for job.RefusedOperator(j) == "" && time.Now().Before(deadline) {
				time.Sleep(500 * time.Millisecond)
				tuitest.Press(t, a, "ctrl+r")
			}
			if job.RefusedOperator(j) == "" {
				t.Fatalf("no restore refusal recognised in the exceptions of %s: %+v\n%s", out.JobID, job.Exceptions(j), tuitest.FrameText(a))
			}
			if job.NormURI(job.RefusedSnapshot(j)) != job.NormURI(sp) || !hex32(job.RefusedOperator(j)) {
				t.Errorf("refusal of %s, want snapshot %s", job.RefusedSnapshot(j), sp)
			}
			if f := tuitest.FrameText(a); !strings.Contains(f, "✗ restore refused (r: resume with -n, dry run first): operator "+job.RefusedOperator(j)) {
				t.Errorf("overview:\n%s", f)
			}
			if got := job.DefaultSavepointDir(j); got != spDir {
				t.Errorf("savepoint dir from /jobmanager/config: %q, want %q (%s)", got, spDir, tc.key)
			}
			tuitest.Press(t, a, "r")
			if r, ok := a.Top().(*resume.Resume); !ok || job.NormURI(r.Selection().Snapshot) != job.NormURI(sp) || !strings.Contains(r.Selection().Note, "explicit -s <snapshot> -n path") {
				t.Errorf("r after the refusal opened %T %+v", a.Top(), a.Top())
			}
		})
	}
}

func hex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
