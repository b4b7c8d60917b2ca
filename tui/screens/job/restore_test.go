package job_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui/screens/job"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
)

// flinkRefusal is Flink's restore failure as the exception history carries
// it (a JobManager failover restoring its latest checkpoint after an
// upgrade that needed -n).
func flinkRefusal(path, opID string) string {
	return "org.apache.flink.runtime.client.JobInitializationException: Could not start the JobMaster.\n" +
		"\tat org.apache.flink.runtime.jobmaster.DefaultJobMasterServiceProcess.lambda$new$0(DefaultJobMasterServiceProcess.java:97)\n" +
		"Caused by: java.util.concurrent.CompletionException: java.lang.IllegalStateException: Failed to rollback to checkpoint/savepoint " +
		path + ". Cannot map checkpoint/savepoint state for operator " + opID + " to the new program, because the operator is not " +
		"available in the new program. If you want to allow to skip this, you can set the --allowNonRestoredState option on the CLI.\n" +
		"\tat java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:273)"
}

// #7: Flink's "Cannot map checkpoint/savepoint state" is recognised
// wherever it sits in an exception (cause of a cause, a concurrent
// failure), with the snapshot and the operator it names.
func TestFindRestoreRefusal(t *testing.T) {
	const op = "6cdc5bb954874d922eaee11a8e7b5dd5"
	tests := []struct {
		name     string
		exc      *cluster.Exceptions
		snapshot string
	}{
		{name: "none", exc: nil},
		{name: "other failure", exc: &cluster.Exceptions{Entries: []cluster.Exception{{StackTrace: "java.io.IOException: Connection reset by peer"}}}},
		{name: "checkpoint on hdfs", snapshot: "hdfs://nn:8020/flink/checkpoints/" + tuitest.FakeJobID + "/chk-20305",
			exc: &cluster.Exceptions{Entries: []cluster.Exception{{StackTrace: flinkRefusal("hdfs://nn:8020/flink/checkpoints/"+tuitest.FakeJobID+"/chk-20305", op)}}}},
		{name: "savepoint, concurrent", snapshot: "file:/savepoints/savepoint-256b32-a2dc1e4c22ad",
			exc: &cluster.Exceptions{Entries: []cluster.Exception{{StackTrace: "x", Concurrent: []cluster.Exception{
				{StackTrace: flinkRefusal("file:/savepoints/savepoint-256b32-a2dc1e4c22ad", strings.ToUpper(op))}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap, opID := job.FindRestoreRefusal(tc.exc)
			switch {
			case tc.snapshot == "" && (snap != "" || opID != ""):
				t.Errorf("a refusal from nowhere: %s / %s", snap, opID)
			case tc.snapshot != "" && (snap != tc.snapshot || opID != op):
				t.Errorf("refusal %s / %s, want %s / %s", snap, opID, tc.snapshot, op)
			}
		})
	}
}

// The overview says the restore was refused, and r opens the resume on
// exactly that snapshot with -n still off (one key and a confirmation
// away) and the dry run of what it drops.
func TestJobOffersResumeAfterRestoreRefusal(t *testing.T) {
	chk := tuitest.FakeJobDir + "/chk-47"
	fc := &tuitest.FakeCluster{JobExceptions: []cluster.Exception{{Name: "org.apache.flink.runtime.client.JobInitializationException",
		Time: tuitest.Now.Add(-time.Minute), StackTrace: flinkRefusal(chk, "d5c8b168c6cbfe8c507a10f88b325243")}}}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	if f := tuitest.FrameText(a); !strings.Contains(f, "✗ restore refused (r: resume with -n, dry run first): operator d5c8b168c6cbfe8c507a10f88b325243 of chk-47 has no operator in the job") {
		t.Errorf("overview does not say the restore was refused:\n%s", f)
	}
	tuitest.Press(t, a, "r")
	r, ok := a.Top().(*resume.Resume)
	if !ok {
		t.Fatalf("r opened %T", a.Top())
	}
	if r.Selection().Snapshot != chk || r.Selection().AllowNonRestored {
		t.Errorf("resume from %q, -n %v; want %s with -n off", r.Selection().Snapshot, r.Selection().AllowNonRestored, chk)
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, "the job failed to restore chk-47 (operator d5c8b168… unmapped): this is the explicit -s <snapshot> -n path") {
		t.Errorf("resume does not say why:\n%s", f)
	}
}

// #8: the config pane names the restored snapshot, the claim mode the job
// restored with (and where that is known from) and who owns the snapshot.
func TestJobShowsClaimModeAndOwner(t *testing.T) {
	tests := []struct {
		name  string
		fc    *tuitest.FakeCluster
		claim string // the session resumed the job with it
		want  []string
	}{
		{name: "flink default", fc: &tuitest.FakeCluster{},
			want: []string{"claim mode                NO_CLAIM (Flink's default", "snapshot owner            you: Flink never deletes it"}},
		{name: "cluster configuration", fc: &tuitest.FakeCluster{Conf: map[string]string{"execution.state-recovery.claim-mode": "claim"}},
			want: []string{"claim mode                CLAIM (the cluster's execution.state-recovery.claim-mode)", "snapshot owner            Flink: it deletes the snapshot"}},
		{name: "old key", fc: &tuitest.FakeCluster{Conf: map[string]string{"execution.savepoint-restore-mode": "LEGACY"}},
			want: []string{"claim mode                LEGACY (the cluster's execution.savepoint-restore-mode)", "snapshot owner            nobody"}},
		{name: "job spec", fc: &tuitest.FakeCluster{Version: "ckpt-dev", Program: &cluster.Program{Name: "o.yaml", Spec: "name: o\nconfig:\n  execution.state-recovery.claim-mode: CLAIM\n"}},
			want: []string{"claim mode                CLAIM (from the job's spec)"}},
		{name: "this session", fc: &tuitest.FakeCluster{Conf: map[string]string{"execution.state-recovery.claim-mode": "claim"}}, claim: cluster.NoClaim,
			want: []string{"claim mode                NO_CLAIM (as this session submitted it)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := tuitest.OpenJob(t, 160, 48, tc.fc, false, "job", tuitest.FakeJobID)
			if tc.claim != "" {
				a.Context().ResumedWith(tuitest.FakeJobID, tc.claim)
			}
			tuitest.Press(t, a, "4")
			f := tuitest.FrameText(a)
			for _, w := range append(tc.want, "restored from             #12, savepoint "+tuitest.FakeSPFrom) {
				if !strings.Contains(f, w) {
					t.Errorf("config pane lacks %q:\n%s", w, f)
				}
			}
		})
	}
}
