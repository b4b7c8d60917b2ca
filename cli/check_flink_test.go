package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/peers"
)

// ckpt check against real Flink: a healthy job is OK (exit 0); a job whose
// checkpoints are made to fail (each snapshot slower than the checkpoint
// timeout, failures tolerated so the job keeps running) is CRITICAL (exit 2) with the
// consecutive failures and the age of its last checkpoint named, in
// Nagios and in Prometheus form; --all reports the worst.
func TestCheckAgainstFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer: not in -short")
	}
	for _, v := range peers.FlinkVersions {
		t.Run(v, func(t *testing.T) {
			p := peers.StartFlink(t, peers.FlinkOptions{Version: v})
			url := p.RESTURL()
			t.Setenv("XDG_STATE_HOME", t.TempDir()) // ckpt's history of this run only
			t.Setenv("CKPT_CONFIG", filepath.Join(t.TempDir(), "none.yaml"))
			healthy, err := p.Submit(peers.FlinkJob{Name: "healthy", CheckpointInterval: 200 * time.Millisecond, Rate: 100})
			if err != nil {
				t.Fatal(err)
			}
			// Each snapshot sleeps 300 ms against a 10 ms timeout (Flink's least).
			failing, err := p.Submit(peers.FlinkJob{Name: "failing", CheckpointInterval: 200 * time.Millisecond, Rate: 100,
				Operators: []peers.FlinkOp{{Kind: "source", UID: "src"}, {Kind: "slowsnapshot", UID: "slow", SleepMs: 300}, {Kind: "sink", UID: "sink"}},
				Config:    map[string]string{"execution.checkpointing.timeout": "10 ms", "execution.checkpointing.tolerable-failed-checkpoints": "100000"}})
			if err != nil {
				t.Fatal(err)
			}
			waitCheckpoints(t, url, healthy.ID(), 1)
			c, _ := flinkrest.New(url, flinkrest.Options{})
			deadline := time.Now().Add(90 * time.Second)
			for {
				st, err := c.Checkpoints(context.Background(), failing.ID())
				if err == nil && st.Counts.Failed >= 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the failing job's checkpoints did not fail: %+v %v", st, err)
				}
				time.Sleep(100 * time.Millisecond)
			}

			code, out, errOut := runCkpt(t, "check", "-m", url, healthy.ID())
			if code != 0 || !strings.HasPrefix(out, "OK - healthy ("+healthy.ID()[:8]+"): last completed checkpoint") || !strings.Contains(out, "| last_checkpoint=") {
				t.Errorf("healthy: exit %d\n%s%s", code, out, errOut)
			}
			code, out, errOut = runCkpt(t, "check", "-m", url, "--max-age", "1ms", failing.ID()[:10])
			if code != 2 || !strings.HasPrefix(out, "CRITICAL - failing (") || !strings.Contains(out, "consecutive failed checkpoints") ||
				!strings.Contains(out, "no completed checkpoint since the job started") {
				t.Errorf("failing: exit %d\n%s%s", code, out, errOut)
			}
			code, out, _ = runCkpt(t, "check", "-m", url, "--all", "--prometheus")
			if code != 2 || !strings.Contains(out, `ckpt_check_status{job_id="`+failing.ID()+`",job_name="failing",check="failures"} 2`) ||
				!strings.Contains(out, `ckpt_check_status{job_id="`+healthy.ID()+`",job_name="healthy",check="job"} 0`) {
				t.Errorf("--all --prometheus: exit %d\n%s", code, out)
			}
			// ckpt remembered what it saw, for trends across JobManager restarts.
			files, _ := filepath.Glob(filepath.Join(os.Getenv("XDG_STATE_HOME"), "ckpt", "history", "*", failing.ID()+".jsonl"))
			if len(files) != 1 {
				t.Errorf("history of the failing job: %v", files)
			}
			// Unknown job and a bad flag are UNKNOWN (3), as Nagios wants.
			if code, _, errOut := runCkpt(t, "check", "-m", url, "00000000000000000000000000000000"); code != 3 {
				t.Errorf("unknown job: exit %d %s", code, errOut)
			}
			if code, _, _ := runCkpt(t, "check", "-m", url, "--no-such-flag"); code != 3 {
				t.Errorf("bad flag: exit %d", code)
			}
		})
	}
}
