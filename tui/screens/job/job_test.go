package job_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/runner"
	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens
	"github.com/ckpt-dev/ckpt/tui/screens/job"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/jobs"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
)

func TestJobScreensGolden(t *testing.T) {
	tests := []struct {
		name     string
		screen   string
		args     []string
		keys     []string
		down     bool
		readonly bool
		version  string
		exc      []cluster.Exception
		conf     map[string]string
	}{
		{name: "job-overview", screen: "job", args: []string{tuitest.FakeJobID}},
		{name: "job-overview-ckpt", screen: "job", args: []string{tuitest.FakeJobID}, version: "ckpt-dev"},
		{name: "job-checkpoints", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"2"}},
		{name: "job-snapshots", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"3"}},
		{name: "job-config", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"4"}},
		{name: "job-savepoint-form", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"s"}},
		{name: "job-stop-form", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"S"}},
		{name: "job-stop-form-no-dir", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"S"}, conf: map[string]string{}},
		{name: "job-cancel-confirm", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"x"}},
		{name: "job-cancel-savepoint-form", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"X"}},
		{name: "job-cancel-savepoint-confirm", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"X", "enter"}},
		{name: "job-help-readonly", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"?"}, readonly: true},
		{name: "job-unreachable", screen: "job", args: []string{tuitest.FakeJobID}, down: true},
		{name: "resume", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"r", "s", "enter"}},
		{name: "resume-allow-confirm", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"r", "s", "enter", "n"}},
		{name: "resume-submit-confirm", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"r", "s", "enter", "n", "y", "enter"}},
		{name: "resume-pick-snapshot", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"3", "r", "p"}},
		{name: "restart-latest", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"L", "s", "enter"}},
		{name: "job-restore-refused", screen: "job", args: []string{tuitest.FakeJobID}, exc: []cluster.Exception{{Name: "JobInitializationException",
			Time: tuitest.Now.Add(-time.Minute), StackTrace: flinkRefusal(tuitest.FakeJobDir+"/chk-47", "d5c8b168c6cbfe8c507a10f88b325243")}}},
		{name: "resume-restore-refused", screen: "job", args: []string{tuitest.FakeJobID}, keys: []string{"r", "s", "enter"}, exc: []cluster.Exception{{Name: "JobInitializationException",
			Time: tuitest.Now.Add(-time.Minute), StackTrace: flinkRefusal(tuitest.FakeJobDir+"/chk-47", "d5c8b168c6cbfe8c507a10f88b325243")}}},
	}
	for _, tc := range tests {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				fc := &tuitest.FakeCluster{Version: tc.version, JobExceptions: tc.exc, Conf: tc.conf}
				if tc.down {
					fc.Down = &cluster.Error{Kind: cluster.ErrUnreachable, Op: "GET http://jm.example:8081/jobs/" + tuitest.FakeJobID, Message: "dial tcp 10.0.0.7:8081: connect: connection refused"}
				}
				a := tuitest.OpenJob(t, sz.W, sz.H, fc, tc.readonly, tc.screen, tc.args...)
				tuitest.Press(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}

// The live checkpoint names what an operator looks for: age against the
// timeout, acknowledged subtasks, and which subtasks of which vertex are
// still pending.
func TestJobOverviewShowsPendingSubtasks(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
	f := tuitest.FrameText(a)
	for _, want := range []string{
		"#48 checkpoint · 4.0s of 10m00s timeout", "5/8 subtasks acknowledged (62%)",
		"Sink: committed-files", "waiting for subtasks 0, 1",
		"enrich -> count-per-key", "waiting for subtasks 2",
		"#45 at 15:08:46 (40s ago) · 0 in a row (tolerable 3) · Checkpoint expired before completing.",
		"#12 from savepoint " + tuitest.FakeSPFrom,
		"#40 canonical",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("overview lacks %q:\n%s", want, f)
		}
	}
}

func TestJobActions(t *testing.T) {
	fc := &tuitest.FakeCluster{}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)

	tuitest.Press(t, a, "c", "C")
	if len(fc.CheckpointRequests) != 2 || fc.CheckpointRequests[0].Type != cluster.CheckpointConfigured || fc.CheckpointRequests[1].Type != cluster.CheckpointFull {
		t.Errorf("checkpoints asked: %+v", fc.CheckpointRequests)
	}

	// The savepoint prompt is pre-filled with the cluster's savepoint dir.
	tuitest.Press(t, a, "s", "right", "enter") // tab past the dir? no: right moves the cursor in the dir field
	if len(fc.Savepoints) != 1 || fc.Savepoints[0].TargetDir != tuitest.FakeSPDir || fc.Savepoints[0].Format != cluster.Canonical {
		t.Fatalf("savepoint asked: %+v", fc.Savepoints)
	}
	tuitest.Press(t, a, "s", "tab", "space", "enter")
	if len(fc.Savepoints) != 2 || fc.Savepoints[1].Format != cluster.Native {
		t.Fatalf("native savepoint asked: %+v", fc.Savepoints)
	}
	if got := a.Context().Savepoints(); len(got) != 2 || got[0].Path != tuitest.FakeSPNew || got[0].JobID != tuitest.FakeJobID {
		t.Errorf("savepoints remembered: %+v", got)
	}
	if !strings.Contains(tuitest.FrameText(a), "savepoint at "+tuitest.FakeSPNew) {
		t.Errorf("no toast naming the savepoint:\n%s", tuitest.FrameText(a))
	}
	// It shows on the snapshots pane (remembered: not in the target's stats).
	tuitest.Press(t, a, "3")
	if !strings.Contains(tuitest.FrameText(a), tuitest.FakeSPNew) {
		t.Errorf("snapshots pane lacks the new savepoint:\n%s", tuitest.FrameText(a))
	}

	// Stop with a savepoint, draining.
	tuitest.Press(t, a, "S", "tab", "space", "enter")
	if len(fc.Stops) != 1 || !fc.Stops[0].Drain || fc.Stops[0].TargetDir != tuitest.FakeSPDir {
		t.Errorf("stop asked: %+v", fc.Stops)
	}
	tuitest.Press(t, a, "S", "esc")
	if len(fc.Stops) != 1 {
		t.Errorf("esc still stopped the job")
	}

	// Cancel asks first; anything but y keeps the job.
	tuitest.Press(t, a, "x", "n")
	if len(fc.Cancels) != 0 {
		t.Fatalf("cancelled without y")
	}
	tuitest.Press(t, a, "x", "y")
	if len(fc.Cancels) != 1 || fc.Cancels[0] != tuitest.FakeJobID {
		t.Errorf("cancels: %v", fc.Cancels)
	}
}

// --readonly drops every mutating action from dispatch (and help).
func TestJobReadonly(t *testing.T) {
	fc := &tuitest.FakeCluster{}
	a := tuitest.OpenJob(t, 160, 48, fc, true, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "c", "C", "s", "S", "x", "y", "r")
	if len(fc.CheckpointRequests)+len(fc.Savepoints)+len(fc.Stops)+len(fc.Cancels) != 0 {
		t.Errorf("readonly ran actions: %+v", fc)
	}
	if _, ok := a.Top().(*job.Screen); !ok {
		t.Errorf("readonly r opened %T", a.Top())
	}
	b := tuitest.OpenJob(t, 160, 48, fc, true, "jobs")
	tuitest.Press(t, b, "n", "x", "y")
	if _, ok := b.Top().(*jobs.Jobs); !ok || len(fc.Cancels) != 0 {
		t.Errorf("readonly jobs screen: top %T, cancels %v", b.Top(), fc.Cancels)
	}
}

// Resume: the dry run comes first; dropping state needs -n and a y; the
// submission carries the snapshot, -n and the claim mode; the new job
// replaces the resume screen.
func TestResumeFlow(t *testing.T) {
	fc := &tuitest.FakeCluster{Version: "ckpt-dev"}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "r")
	r, ok := a.Top().(*resume.Resume)
	if !ok {
		t.Fatalf("r opened %T", a.Top())
	}
	if r.Selection().Snapshot != tuitest.FakeJobDir+"/chk-47" {
		t.Errorf("default snapshot %q, want the newest complete one (chk-47)", r.Selection().Snapshot)
	}
	tuitest.Press(t, a, "enter")
	if len(fc.Runs) != 0 || !strings.Contains(tuitest.FrameText(a), "pick the job spec first") {
		t.Fatalf("submitted without a spec:\n%s", tuitest.FrameText(a))
	}
	tuitest.Press(t, a, "s", "enter") // testdata/specs/orders-enrichment-v2.yaml
	if r.Selection().Spec != "testdata/specs/orders-enrichment-v2.yaml" || r.Selection().Plan == nil {
		t.Fatalf("spec %q plan %v err %v", r.Selection().Spec, r.Selection().Plan, r.Selection().PlanErr)
	}
	if len(r.Selection().Plan.Dropped) == 0 {
		t.Fatal("the fixture's state should be partly unclaimed")
	}
	tuitest.Press(t, a, "enter")
	if len(fc.Runs) != 0 || r.Capturing() {
		t.Fatalf("submitted with dropped state and no -n")
	}
	tuitest.Press(t, a, "n", "x") // anything but y: keep refusing
	if r.Selection().AllowNonRestored {
		t.Fatal("-n set without y")
	}
	tuitest.Press(t, a, "n", "y", "m", "enter", "n") // n at the final question: not now
	if len(fc.Runs) != 0 {
		t.Fatal("submitted without the final y")
	}
	tuitest.Press(t, a, "enter", "y")
	if len(fc.Runs) != 1 {
		t.Fatalf("runs: %+v", fc.Runs)
	}
	run := fc.Runs[0]
	if run.SavepointPath != tuitest.FakeJobDir+"/chk-47" || !run.AllowNonRestoredState || run.ClaimMode != cluster.Claim {
		t.Errorf("run request %+v", run)
	}
	if fc.Uploads[0] != "orders-enrichment-v2.yaml" {
		t.Errorf("uploaded %v", fc.Uploads)
	}
	j, ok := a.Top().(*job.Screen)
	if !ok || job.JobID(j) != tuitest.FakeNewJobID {
		t.Fatalf("after submit the top is %T", a.Top())
	}
	if a.Context().SpecOf(tuitest.FakeNewJobID) != "testdata/specs/orders-enrichment-v2.yaml" {
		t.Errorf("the new job's spec is not remembered")
	}
}

// A failure the resume cannot survive (max parallelism) blocks it even
// with -n; a dry run that cannot read the spec says so.
func TestResumeRefusals(t *testing.T) {
	fc := &tuitest.FakeCluster{}
	a := tuitest.OpenJob(t, 160, 48, fc, false, "resume", tuitest.FakeSP40, "testdata/specs/missing.yaml")
	if r := a.Top().(*resume.Resume); r.Selection().PlanErr == nil || !strings.Contains(tuitest.FrameText(a), "missing.yaml: no such file") {
		t.Errorf("dry run error not shown: %v\n%s", r.Selection().PlanErr, tuitest.FrameText(a))
	}
	a.Context().SpecTarget = func(string) (inspector.Target, error) {
		return inspector.Target{Source: "spec", Complete: true, Operators: []inspector.TargetOperator{
			{UID: "CheckpointingSource1", Parallelism: 8, MaxParallelism: 8, MaxParallelismConfigured: true}}}, nil
	}
	tuitest.Press(t, a, "ctrl+r")
	r := a.Top().(*resume.Resume)
	if r.Selection().Plan == nil || len(r.Selection().Plan.Failures) != 1 {
		t.Fatalf("plan %+v err %v", r.Selection().Plan, r.Selection().PlanErr)
	}
	tuitest.Press(t, a, "n", "y", "enter")
	if r.Capturing() || len(fc.Runs) != 0 || !strings.Contains(tuitest.FrameText(a), "FAILS") {
		t.Errorf("a resume Flink refuses was offered:\n%s", tuitest.FrameText(a))
	}
}

// An unreachable target shows its error in place; keys keep working, and
// the screen recovers when the target answers again.
func TestJobUnreachableKeepsKeys(t *testing.T) {
	fc := &tuitest.FakeCluster{Down: &cluster.Error{Kind: cluster.ErrUnreachable, Op: "GET http://jm.example:8081/jobs/overview", Message: "connection refused"}}
	a := tuitest.OpenJob(t, 120, 30, fc, false, "jobs")
	if f := tuitest.FrameText(a); !strings.Contains(f, "connection refused") || !strings.Contains(f, "target unreachable") {
		t.Errorf("error not in place:\n%s", f)
	}
	if a.Context().Tasks.LastErr != nil {
		t.Errorf("a poll failure took the status bar's error slot: %v", a.Context().Tasks.LastErr)
	}
	tuitest.Press(t, a, "?")
	if !strings.Contains(tuitest.FrameText(a), "launch a job") {
		t.Errorf("help does not open while the target is down:\n%s", tuitest.FrameText(a))
	}
	tuitest.Press(t, a, "esc")
	fc.Mu.Lock()
	fc.Down = nil
	fc.Mu.Unlock()
	tuitest.Press(t, a, "ctrl+r")
	if f := tuitest.FrameText(a); !strings.Contains(f, "orders-enrichment") || strings.Contains(f, "connection refused") {
		t.Errorf("no recovery after the target came back:\n%s", f)
	}
	if !errors.Is(&cluster.Error{Kind: cluster.ErrUnreachable}, cluster.ErrUnreachable) {
		t.Fatal("error kinds")
	}
}

// Launching picks a spec, submits it with the context's configuration and
// follows the new job, on ckpt's engine and on Flink (through the runner).
func TestLaunchFollowsNewJob(t *testing.T) {
	// A Flink target runs the spec through ckpt's runner jar, uploaded
	// once under its checksum name, with the spec as its arguments.
	jar := filepath.Join(t.TempDir(), "runner.jar")
	if err := os.WriteFile(jar, []byte("runner bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(runner.JarEnv, jar)
	flink := &tuitest.FakeCluster{}
	a := tuitest.OpenJob(t, 120, 30, flink, false, "jobs")
	tuitest.Press(t, a, "n", "j", "enter")
	if len(flink.Uploads) != 1 || !strings.HasPrefix(flink.Uploads[0], "ckpt-flink-runner-") || len(flink.Runs) != 1 ||
		flink.Runs[0].EntryClass != runner.EntryClass || len(flink.Runs[0].ProgramArgs) == 0 {
		t.Fatalf("spec on Flink: uploads %v, runs %+v, error %v", flink.Uploads, flink.Runs, a.Context().Tasks.LastErr)
	}
	if j, ok := a.Top().(*job.Screen); !ok || job.JobID(j) != tuitest.FakeNewJobID {
		t.Fatalf("top after launch on Flink: %T", a.Top())
	}

	fc := &tuitest.FakeCluster{Version: "ckpt-dev"}
	a = tuitest.OpenJob(t, 120, 30, fc, false, "jobs")
	a.Context().SubmitConfig = map[string]string{"execution.checkpointing.dir": "file:///demo/checkpoints"}
	tuitest.Press(t, a, "n", "j", "enter") // the second spec: orders-enrichment.yaml
	if len(fc.Uploads) != 1 || fc.Uploads[0] != "orders-enrichment.yaml" {
		t.Fatalf("uploads %v", fc.Uploads)
	}
	if fc.Runs[0].Config["execution.checkpointing.dir"] != "file:///demo/checkpoints" {
		t.Errorf("submit config not passed: %+v", fc.Runs[0])
	}
	if j, ok := a.Top().(*job.Screen); !ok || job.JobID(j) != tuitest.FakeNewJobID {
		t.Fatalf("top after launch: %T", a.Top())
	}
}

// New checkpoints arrive at the top of the history: a cursor on an older
// one stays on it; a cursor on the newest follows the newest.
func TestJobHistoryCursorStaysOnCheckpoint(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
	s := a.Top().(*job.Screen)
	tuitest.Press(t, a, "2", "j", "j") // #46
	shifted := *job.Stats(s)
	shifted.History = append([]cluster.Checkpoint{{ID: 49, Status: cluster.CheckpointInProgress}}, job.Stats(s).History...)
	job.Polled(s, &shifted)
	if i := job.HistoryCursor(s); shifted.History[i].ID != 46 {
		t.Errorf("cursor moved to #%d", shifted.History[i].ID)
	}
	tuitest.Press(t, a, "g")
	again := shifted
	again.History = append([]cluster.Checkpoint{{ID: 50, Status: cluster.CheckpointInProgress}}, shifted.History...)
	job.Polled(s, &again)
	if i := job.HistoryCursor(s); again.History[i].ID != 50 {
		t.Errorf("cursor on the newest did not follow: #%d", again.History[i].ID)
	}
}

// D1: the snapshots pane starts on the first row and, across refreshes
// that reorder rows (a new chk-N on top, an mtime change, a savepoint
// known under another spelling), stays on the snapshot it was on; when
// that snapshot goes away it stays at the same height.
func TestJobSnapshotCursorAnchoredOnPath(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
	s := a.Top().(*job.Screen)
	tuitest.Press(t, a, "3")
	if r := job.SelectedSnapshot(s); r == nil || storage.Base(r.Path) != "chk-48" {
		t.Fatalf("snapshots pane does not start on the first row: %+v", r)
	}
	tuitest.Press(t, a, "j", "j", "j") // the latest savepoint
	if r := job.SelectedSnapshot(s); r == nil || r.Path != tuitest.FakeSP40 {
		t.Fatalf("cursor on %+v, want %s", r, tuitest.FakeSP40)
	}
	rows := func(extra ...routes.SnapRow) []routes.SnapRow {
		out := append([]routes.SnapRow(nil), extra...)
		for _, r := range job.Snapshots(s) {
			r.Rest = ""
			out = append(out, r)
		}
		return out
	}
	// chk-49 completes on top; the savepoint comes back spelled file://.
	next := rows(routes.SnapRow{ID: 49, Path: tuitest.FakeJobDir + "/chk-49", Complete: format.Yes, ModTime: tuitest.Now})
	for i := range next {
		if next[i].Path == tuitest.FakeSP40 {
			next[i].Path = "file://" + tuitest.FakeSP40
		}
	}
	job.SetSnapshots(s, next)
	if r := job.SelectedSnapshot(s); r == nil || job.NormURI(r.Path) != tuitest.FakeSP40 {
		t.Fatalf("cursor jumped to %+v after a refresh", r)
	}
	// The same listing again draws the same pane.
	before := tuitest.FrameText(a)
	job.SetSnapshots(s, rows())
	if after := tuitest.FrameText(a); after != before {
		t.Errorf("an unchanged listing redrew differently:\n%s\n---\n%s", before, after)
	}
	// Retention deletes the selected snapshot: the cursor stays at its row.
	at := job.SnapshotCursor(s)
	var gone []routes.SnapRow
	for _, r := range job.Snapshots(s) {
		if job.NormURI(r.Path) != tuitest.FakeSP40 {
			gone = append(gone, r)
		}
	}
	job.SetSnapshots(s, gone)
	if c := job.SnapshotCursor(s); c != at {
		t.Errorf("cursor moved from row %d to %d when its snapshot went away", at, c)
	}
}

// D2: against ckpt serve the overview names each vertex's operators by
// uid (head first), flagging an operator without one; against Flink
// (no ckpt_operators) the column is not there.
func TestJobOverviewNamesOperatorUIDs(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{Version: "ckpt-dev"}, false, "job", tuitest.FakeJobID)
	f := tuitest.FrameText(a)
	for _, want := range []string{"OPERATOR UIDS", "orders-source", "(no uid 0a448493) → count-per-key", "committed-files"} {
		if !strings.Contains(f, want) {
			t.Errorf("overview lacks %q:\n%s", want, f)
		}
	}
	a = tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
	if f := tuitest.FrameText(a); strings.Contains(f, "OPERATOR UIDS") {
		t.Errorf("a uid column without operators from the target:\n%s", f)
	}
}

// Finding 3: the snapshots pane lists chk-N newest (highest N) first
// whatever their directories' mtimes say, savepoints merged in by time,
// opens on the newest, and a cursor on the newest follows the newest.
func TestJobSnapshotsNewestFirst(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
	s := a.Top().(*job.Screen)
	tuitest.Press(t, a, "3")
	chk := func(n int64, age time.Duration) routes.SnapRow {
		return routes.SnapRow{ID: n, Path: fmt.Sprintf("%s/chk-%d", tuitest.FakeJobDir, n), Complete: format.Yes, ModTime: tuitest.Now.Add(-age)}
	}
	// chk-9's directory was touched last (a late file, a retention pass):
	// it is still older than chk-10 and chk-11.
	listing := []routes.SnapRow{chk(9, time.Second), chk(10, 20*time.Second), chk(11, 10*time.Second),
		{Savepoint: true, ID: 8, Path: tuitest.FakeSP40, Complete: format.Yes, ModTime: tuitest.Now.Add(-15 * time.Second)}}
	job.SetSnapshots(s, listing)
	var got []string
	for _, r := range job.Snapshots(s) {
		got = append(got, storage.Base(r.Path))
	}
	if want := []string{"chk-11", storage.Base(tuitest.FakeSP40), "chk-10", "chk-9"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order %v, want %v", got, want)
	}
	if r := job.SelectedSnapshot(s); r == nil || storage.Base(r.Path) != "chk-11" {
		t.Errorf("cursor on %+v, want the newest", r)
	}
	// chk-12 completes, chk-9 is subsumed: the cursor moves to chk-12.
	job.SetSnapshots(s, append([]routes.SnapRow{chk(12, 0)}, listing[1:]...))
	if r := job.SelectedSnapshot(s); r == nil || storage.Base(r.Path) != "chk-12" {
		t.Errorf("cursor on %+v, want it to follow the newest", r)
	}
}
