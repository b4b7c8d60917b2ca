package health

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func completed(id int64, ago, took time.Duration, size int64) cluster.Checkpoint {
	return cluster.Checkpoint{ID: id, Status: cluster.CheckpointCompleted, TriggerTime: now.Add(-ago - took),
		LatestAck: now.Add(-ago), EndToEnd: took, StateSize: size}
}

func failed(id int64, ago time.Duration, msg string) cluster.Checkpoint {
	return cluster.Checkpoint{ID: id, Status: cluster.CheckpointFailed, TriggerTime: now.Add(-ago), FailureMessage: msg}
}

func input(status cluster.JobStatus, hist []cluster.Checkpoint, remembered ...cluster.Checkpoint) Input {
	st := &cluster.CheckpointStats{History: hist}
	for i := range hist {
		if hist[i].Status == cluster.CheckpointCompleted {
			st.LatestCompleted = &hist[i]
			break
		}
	}
	if st.LatestCompleted == nil {
		for i := range remembered {
			if remembered[i].Status == cluster.CheckpointCompleted {
				st.LatestCompleted = &remembered[i]
				break
			}
		}
	}
	return Input{
		Job:        &cluster.Job{ID: "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c", Name: "orders", Status: status, Start: now.Add(-2 * time.Hour)},
		Stats:      st,
		Config:     &cluster.CheckpointConfig{Interval: 10 * time.Second, Timeout: 10 * time.Minute},
		Exceptions: &cluster.Exceptions{},
		Remembered: remembered,
		Now:        now,
	}
}

func TestJudge(t *testing.T) {
	cases := []struct {
		name  string
		in    Input
		th    Thresholds
		want  Status
		check string // the finding that must carry want
		text  string // in the one-line summary
	}{
		{"healthy", input(cluster.JobRunning, []cluster.Checkpoint{completed(9, 5*time.Second, time.Second, 100)}), Thresholds{},
			OK, "last_checkpoint", "OK - orders (3f2a1b0c): last completed checkpoint 9 5s ago"},
		{"stale: default max age is 3 intervals, at least 1m", input(cluster.JobRunning, []cluster.Checkpoint{completed(9, 5*time.Minute, time.Second, 100)}), Thresholds{},
			Critical, "last_checkpoint", "last completed checkpoint 9 5m0s ago (max 1m0s)"},
		{"never completed", input(cluster.JobRunning, nil), Thresholds{MaxAge: time.Hour},
			Critical, "last_checkpoint", "no completed checkpoint since the job started, 2h0m0s ago (max 1h0m0s)"},
		{"one failure warns", input(cluster.JobRunning, []cluster.Checkpoint{failed(10, time.Second, "Checkpoint expired before completing."), completed(9, 20*time.Second, time.Second, 1)}), Thresholds{},
			Warning, "failures", "1 consecutive failed checkpoint: Checkpoint expired before completing."},
		{"three failures page", input(cluster.JobRunning, []cluster.Checkpoint{
			{ID: 13, Status: cluster.CheckpointInProgress}, failed(12, time.Second, "x"), failed(11, 2*time.Second, "x"), failed(10, 3*time.Second, "x"), completed(9, 30*time.Second, time.Second, 1)}), Thresholds{},
			Critical, "failures", "3 consecutive failed checkpoints"},
		{"failures remembered by ckpt count (JobManager restarted)", input(cluster.JobRunning, []cluster.Checkpoint{failed(12, time.Second, "x")},
			failed(11, 2*time.Second, "x"), failed(10, 3*time.Second, "x"), completed(9, 30*time.Second, time.Second, 1)), Thresholds{},
			Critical, "failures", "3 consecutive"},
		{"a savepoint between does not reset failures", input(cluster.JobRunning, []cluster.Checkpoint{failed(12, time.Second, "x"),
			{ID: 11, Status: cluster.CheckpointCompleted, Savepoint: true, LatestAck: now}, failed(10, 3*time.Second, "x"), completed(9, 30*time.Second, time.Second, 1)}), Thresholds{MaxFailures: 2},
			Critical, "failures", "2 consecutive"},
		{"slow checkpoints", input(cluster.JobRunning, []cluster.Checkpoint{completed(9, time.Second, 6*time.Minute, 1), completed(8, 10*time.Second, 6*time.Minute, 1), completed(7, 20*time.Second, time.Second, 1)}), Thresholds{},
			Warning, "duration", "checkpoints take 6m0s (median of 3), 60% of the 10m0s timeout"},
		{"near the timeout", input(cluster.JobRunning, []cluster.Checkpoint{completed(9, time.Second, 9*time.Minute+30*time.Second, 1)}), Thresholds{},
			Critical, "duration", "95% of the 10m0s timeout"},
		{"state grows too fast", input(cluster.JobRunning, []cluster.Checkpoint{completed(9, time.Second, time.Second, 3<<30)},
			completed(2, 2*time.Hour, time.Second, 1<<30)), Thresholds{MaxGrowth: 512 << 20},
			Warning, "growth", "state grows +1.00 GiB/h over 2h0m0s (max 512 MiB/h)"},
		{"restarting", input(cluster.JobRestarting, []cluster.Checkpoint{completed(9, time.Second, time.Second, 1)}), Thresholds{},
			Critical, "state", "job is RESTARTING"},
		{"cancelled", input(cluster.JobCanceled, nil), Thresholds{},
			Critical, "state", "job is CANCELED, not running"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Judge(tc.in, tc.th)
			if r.Status != tc.want {
				t.Errorf("status %s, want %s: %s", r.Status, tc.want, r.Line())
			}
			found := false
			for _, f := range r.Findings {
				if f.Check == tc.check {
					found = true
					if f.Status != tc.want {
						t.Errorf("finding %s: %s, want %s (%s)", f.Check, f.Status, tc.want, f.Reason)
					}
				}
			}
			if !found {
				t.Errorf("no %s finding: %+v", tc.check, r.Findings)
			}
			if !strings.Contains(r.Line(), tc.text) {
				t.Errorf("line %q lacks %q", r.Line(), tc.text)
			}
		})
	}
}

func TestRestarts(t *testing.T) {
	in := input(cluster.JobRunning, []cluster.Checkpoint{completed(9, time.Second, time.Second, 1)})
	in.Exceptions = &cluster.Exceptions{Entries: []cluster.Exception{
		{Name: "java.io.IOException: connection reset", Time: now.Add(-time.Minute)},
		{Name: "x", Time: now.Add(-10 * time.Minute)},
		{Name: "x", Time: now.Add(-3 * time.Hour)}, // outside the window
	}}
	r := Judge(in, Thresholds{})
	if r.Status != Warning || !strings.Contains(r.Line(), "2 failures in the last 1h0m0s: java.io.IOException: connection reset") {
		t.Errorf("%s", r.Line())
	}
	if r = Judge(in, Thresholds{MaxRestarts: 2}); r.Status != Critical {
		t.Errorf("%s", r.Line())
	}
}

func TestOutputs(t *testing.T) {
	r := Judge(input(cluster.JobRunning, []cluster.Checkpoint{failed(10, time.Second, "x"), completed(9, 5*time.Second, time.Second, 100)}), Thresholds{})
	if pd := r.PerfData(); !strings.Contains(pd, "last_checkpoint=5s;;60") || !strings.Contains(pd, "failures=1;1;3") {
		t.Errorf("perf data %q", pd)
	}
	var b bytes.Buffer
	if err := WritePrometheus(&b, []Report{r}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`ckpt_check_status{job_id="3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c",job_name="orders",check="job"} 1`,
		`ckpt_check_status{job_id="3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c",job_name="orders",check="failures"} 1`,
		`ckpt_last_checkpoint_age_seconds{job_id="3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c",job_name="orders"} 5`,
		"# TYPE ckpt_checkpoint_consecutive_failures gauge",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("prometheus text lacks %q:\n%s", want, b.String())
		}
	}
	if Worse(Warning, Unknown) != Unknown || Worse(Critical, Unknown) != Critical || Worse(OK, Warning) != Warning {
		t.Error("Worse")
	}
}
