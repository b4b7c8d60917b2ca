package job_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui/screens/job"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// settleUntilWait runs cmd like drain does, but keeps the wait of an
// accepted trigger (which polls until its operation completes) instead of
// running it; it returns those waits.
func settleUntilWait(t *testing.T, a *shell.App, cmd tea.Cmd) []tea.Cmd {
	t.Helper()
	var waits []tea.Cmd
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		m := c()
		switch b, isBatch := m.(tea.BatchMsg); {
		case m == nil:
		case isBatch:
			queue = append(queue, b...)
		case job.IsTriggered(m):
			_, next := a.Update(m)
			waits = append(waits, next)
		default:
			_, next := a.Update(m)
			queue = append(queue, next)
		}
	}
	return waits
}

// #16/#18: stop goes through /stop (StopWithSavepoint); while its trigger
// is pending the job screen shows the trigger id and the elapsed time
// against the bound (the checkpoint timeout plus a minute); A abandons the
// wait without an error, the trigger id staying on screen.
func TestJobStopInFlightAndAbandon(t *testing.T) {
	fc := &tuitest.FakeCluster{Pending: true}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "S")
	_, cmd := a.Update(tuitest.Key("enter"))
	waits := settleUntilWait(t, a, cmd)
	if len(waits) != 1 || len(fc.Stops) != 1 || fc.Stops[0].TargetDir != tuitest.FakeSPDir {
		t.Fatalf("stop: %d waits, stops %+v", len(waits), fc.Stops)
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, "stop with savepoint of orders-enrichment stop-1 0ms of 11m00s (A abandons)") {
		t.Errorf("the in-flight stop is not shown with its trigger and bound:\n%s", f)
	}
	tuitest.Press(t, a, "A")
	done := make(chan tea.Msg, 1)
	go func() { done <- waits[0]() }()
	select {
	case m := <-done:
		if m != nil {
			t.Errorf("an abandoned wait reported %#v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the abandoned wait goes on polling")
	}
	f := tuitest.FrameText(a)
	if !strings.Contains(f, "abandoned stop with savepoint of orders-enrichment stop-1") || strings.Contains(f, "(A abandons)") {
		t.Errorf("after A:\n%s", f)
	}
	if a.Context().Tasks.LastErr != nil {
		t.Errorf("abandoning left an error: %v", a.Context().Tasks.LastErr)
	}
	tuitest.Press(t, a, "A")
	if !strings.Contains(tuitest.FrameText(a), "nothing in flight to abandon") {
		t.Errorf("A with nothing in flight:\n%s", tuitest.FrameText(a))
	}
}

// #17: a stop whose savepoint completed but whose job then failed reports
// the failure and keeps the savepoint (remembered for resume, listed on
// the snapshots pane).
func TestJobStopFailureKeepsSavepoint(t *testing.T) {
	const sp = "file:/data/flink/savepoints/savepoint-3f2a1b-5e5e5e5e5e5e"
	fc := &tuitest.FakeCluster{StopFailure: &cluster.Failure{Class: "org.apache.flink.runtime.scheduler.stopwithsavepoint.StopWithSavepointStoppingException",
		StackTrace: "org.apache.flink.runtime.scheduler.stopwithsavepoint.StopWithSavepointStoppingException: A savepoint has been created at: " + sp +
			", but the corresponding job " + tuitest.FakeJobID + " failed during stopping. The savepoint is consistent, but might have uncommitted transactions. " +
			"If you want to commit the transaction please restart a job from this savepoint.\n\tat org.apache.flink.runtime.scheduler.stopwithsavepoint.StopWithSavepointTerminationHandlerImpl.terminateExceptionallyWithGlobalFailover(StopWithSavepointTerminationHandlerImpl.java:199)"}}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "S", "enter")
	if got := a.Context().Savepoints(); len(got) != 1 || got[0].Path != sp || got[0].JobID != tuitest.FakeJobID {
		t.Fatalf("savepoints remembered: %+v", got)
	}
	if err := a.Context().Tasks.LastErr; err == nil || !strings.Contains(err.Error(), "failed, but the savepoint was written and is kept: "+sp) {
		t.Errorf("error %v", err)
	}
	if _, ok := job.SavepointPaths(a.Top().(*job.Screen))[sp]; !ok {
		t.Errorf("the kept savepoint is not among the job's snapshots")
	}
	// A failure without a savepoint keeps nothing.
	if (&cluster.Failure{StackTrace: "java.util.concurrent.TimeoutException: Checkpoint expired before completing."}).SavepointLocation() != "" {
		t.Error("a savepoint from a failure without one")
	}
}

// #19: the savepoint prompt is pre-filled from either configuration key;
// with neither, it says one is required and refuses to send without one.
func TestJobSavepointDirRequired(t *testing.T) {
	fc := &tuitest.FakeCluster{Conf: map[string]string{"state.savepoints.dir": "hdfs://nn:8020/flink/savepoints"}}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "s", "enter")
	if len(fc.Savepoints) != 1 || fc.Savepoints[0].TargetDir != "hdfs://nn:8020/flink/savepoints" {
		t.Fatalf("savepoint with the old key configured: %+v", fc.Savepoints)
	}

	// None configured: the prompt suggests savepoints/ next to the
	// checkpoint root and says a dir is required.
	fc = &tuitest.FakeCluster{Conf: map[string]string{}}
	a = tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "s")
	if f := tuitest.FrameText(a); !strings.Contains(f, "no default savepoint dir on the cluster (execution.checkpointing.savepoint-dir / state.savepoints.dir): the target dir is required") {
		t.Errorf("prompt without a configured dir:\n%s", f)
	}
	tuitest.Press(t, a, "enter")
	if len(fc.Savepoints) != 1 || fc.Savepoints[0].TargetDir != tuitest.FakeSPDir {
		t.Fatalf("savepoint into the suggested dir: %+v", fc.Savepoints)
	}

	// Nothing to suggest either (no checkpoint dir known): empty and required.
	fc = &tuitest.FakeCluster{Conf: map[string]string{}}
	a = tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	j := a.Top().(*job.Screen)
	job.Stats(j).LatestCompleted, job.Stats(j).History = nil, nil
	tuitest.Press(t, a, "4")
	if f := tuitest.FrameText(a); !strings.Contains(f, "savepoint dir (default)   none configured: savepoints and stops need a target dir") {
		t.Errorf("config pane:\n%s", f)
	}
	for _, k := range []string{"s", "S"} {
		tuitest.Press(t, a, k)
		if f := tuitest.FrameText(a); !strings.Contains(f, "required: the cluster configures no default savepoint dir") {
			t.Errorf("%s prompt does not require a dir:\n%s", k, f)
		}
		tuitest.Press(t, a, "enter")
		if f := tuitest.FrameText(a); !strings.Contains(f, "not sent: no target dir, and the cluster configures no default savepoint dir") {
			t.Errorf("%s without a dir:\n%s", k, f)
		}
	}
	if len(fc.Savepoints)+len(fc.Stops) != 0 {
		t.Errorf("sent without a dir: %+v %+v", fc.Savepoints, fc.Stops)
	}
	tuitest.Press(t, a, "s")
	tuitest.Type(t, a, "/mnt/sp")
	tuitest.Press(t, a, "enter")
	if len(fc.Savepoints) != 1 || fc.Savepoints[0].TargetDir != "/mnt/sp" {
		t.Errorf("savepoint with a typed dir: %+v", fc.Savepoints)
	}
}

// failedSavepoint is the fake cluster whose savepoints fail.
type failedSavepoint struct{ *tuitest.FakeCluster }

func (f failedSavepoint) Poll(ctx context.Context, t cluster.Trigger) (*cluster.Operation, error) {
	if t.Kind == cluster.SavepointTrigger {
		return &cluster.Operation{Status: cluster.Completed, Failure: &cluster.Failure{Class: "java.util.concurrent.CompletionException",
			StackTrace: "java.util.concurrent.CompletionException: Checkpoint expired before completing."}}, nil
	}
	return f.FakeCluster.Poll(ctx, t)
}

// Finding 2: X is Flink's cancel -s — a savepoint, then the job is
// cancelled — asked in a prompt, then confirmed with y; esc or any other
// key sends nothing; a failed savepoint says the job is still running;
// read-only has no such key.
func TestJobCancelWithSavepoint(t *testing.T) {
	fc := &tuitest.FakeCluster{}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "X", "esc")
	tuitest.Press(t, a, "X", "enter", "n")
	if len(fc.Savepoints) != 0 {
		t.Fatalf("sent without y: %+v", fc.Savepoints)
	}
	if !strings.Contains(tuitest.FrameText(a), "cancel with savepoint aborted") {
		t.Errorf("no word of the abort:\n%s", tuitest.FrameText(a))
	}
	tuitest.Press(t, a, "X", "tab", "space", "enter", "y")
	if len(fc.Savepoints) != 1 || !fc.Savepoints[0].CancelJob || fc.Savepoints[0].TargetDir != tuitest.FakeSPDir || fc.Savepoints[0].Format != cluster.Native {
		t.Fatalf("cancel -s asked: %+v", fc.Savepoints)
	}
	if len(fc.Cancels) != 0 {
		t.Errorf("a plain cancel was sent too: %v", fc.Cancels)
	}
	if got := a.Context().Savepoints(); len(got) != 1 || got[0].Path != tuitest.FakeSPNew {
		t.Errorf("savepoint not remembered: %+v", got)
	}
	if f := tuitest.FrameText(a); !strings.Contains(f, "cancelled; savepoint at "+tuitest.FakeSPNew) {
		t.Errorf("no toast naming the savepoint:\n%s", f)
	}

	// The savepoint fails: Flink leaves the job running, and says so.
	ff := failedSavepoint{&tuitest.FakeCluster{}}
	b := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: tuitest.FakeStorage(t), Cluster: ff, Target: "jm.example:8081"}, "job", tuitest.FakeJobID)
	tuitest.Press(t, b, "X", "enter", "y")
	if err := b.Context().Tasks.LastErr; err == nil || !strings.Contains(err.Error(), "the savepoint failed, so the job was NOT cancelled: it is still running") {
		t.Errorf("failed cancel -s: %v", err)
	}

	// Read-only: the key is gone.
	ro := &tuitest.FakeCluster{}
	c := tuitest.OpenJob(t, 160, 48, ro, true, "job", tuitest.FakeJobID)
	tuitest.Press(t, c, "X")
	if j := c.Top().(*job.Screen); j.Capturing() {
		t.Errorf("read-only X opened a prompt:\n%s", tuitest.FrameText(c))
	}
	tuitest.Press(t, c, "y")
	if len(ro.Savepoints) != 0 {
		t.Errorf("read-only sent %+v", ro.Savepoints)
	}
}
