package upgrade

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

// fake is a cluster whose jobs do what their program says: a program's
// spec text names its behaviour ("good", "fail-start", "refuse-submit",
// "restart", "no-checkpoints"). It counts what matters to an upgrade —
// savepoints taken, jobs created per program — and can crash (panic) at
// its n-th call, before or after that call's effect, as ckpt dying there
// would.
type fake struct {
	cluster.Cluster // unimplemented methods panic

	mu        sync.Mutex
	jobs      map[string]*fakeJob
	artifacts map[string]string // id → content
	stops     map[string]string // trigger → savepoint
	stopFails bool
	stopLost  int               // the next n stop requests take effect, but their answer is lost
	noProgram bool              // the old job's program is unknown
	created   map[string]int    // program content → jobs created from it
	restored  map[string]string // job → savepoint it resumed from
	arts      int

	clock      time.Time
	calls      int
	crashAt    int
	crashAfter bool
}

type crash struct{}

// now is the fake's clock: 10 ms pass each time it is read, so a watch
// times out after a bounded number of polls.
func (f *fake) now() time.Time {
	f.clock = f.clock.Add(10 * time.Millisecond)
	return f.clock
}

type fakeJob struct {
	id, program string
	status      cluster.JobStatus
	completed   int
	restarted   bool
	latest      string
	savepoint   string
	// discarded: this many reads of the statistics still name the latest
	// completed checkpoint after a newer one subsumed it.
	discarded int
}

const oldJob = "0123456789abcdef0123456789abcdef"

func newFake() *fake {
	return &fake{
		jobs: map[string]*fakeJob{oldJob: {id: oldJob, program: "v1 good", status: cluster.JobRunning, completed: 5,
			latest: "/ck/" + oldJob + "/chk-5"}},
		clock:     time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC),
		artifacts: map[string]string{}, stops: map[string]string{}, created: map[string]int{}, restored: map[string]string{},
	}
}

// hit counts a call; it panics when this is the call to crash at (before
// its effect; a mutating call given after=true panics after it instead).
func (f *fake) hit() (after func()) {
	f.calls++
	if f.calls != f.crashAt {
		return func() {}
	}
	if f.crashAfter {
		return func() { panic(crash{}) }
	}
	panic(crash{})
}

func (f *fake) job(id string) (*fakeJob, error) {
	j := f.jobs[id]
	if j == nil {
		return nil, cluster.JobNotFound(id)
	}
	return j, nil
}

func (f *fake) Job(ctx context.Context, id string) (*cluster.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	j, err := f.job(id)
	if err != nil {
		return nil, err
	}
	out := &cluster.Job{ID: id, Name: "orders", Status: j.status, Timestamps: map[cluster.JobStatus]time.Time{}}
	if j.restarted {
		out.Timestamps[cluster.JobRestarting] = time.Now()
	}
	if !f.noProgram || id != oldJob {
		out.Program = &cluster.Program{Name: "/specs/orders.yaml", Spec: j.program}
	}
	return out, nil
}

func (f *fake) Exceptions(ctx context.Context, id string) (*cluster.Exceptions, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	return &cluster.Exceptions{Entries: []cluster.Exception{{StackTrace: "java.lang.RuntimeException: boom\n\tat x"}}}, nil
}

func (f *fake) Checkpoints(ctx context.Context, id string) (*cluster.CheckpointStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	j, err := f.job(id)
	if err != nil {
		return nil, err
	}
	if j.status == cluster.JobRunning && !strings.Contains(j.program, "no-checkpoints") {
		j.completed++
	}
	st := &cluster.CheckpointStats{Counts: cluster.CheckpointCounts{Completed: j.completed}}
	if j.latest != "" {
		st.LatestCompleted = &cluster.Checkpoint{ID: 5, Status: cluster.CheckpointCompleted, ExternalPath: j.latest}
		if j.discarded > 0 {
			j.discarded--
			st.LatestCompleted.Discarded = true
		}
	}
	if j.savepoint != "" {
		st.LatestSavepoint = &cluster.Checkpoint{ID: 6, Status: cluster.CheckpointCompleted, Savepoint: true, ExternalPath: j.savepoint}
	}
	return st, nil
}

func (f *fake) CheckpointConfig(ctx context.Context, id string) (*cluster.CheckpointConfig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	return &cluster.CheckpointConfig{Interval: time.Second}, nil
}

func (f *fake) StopWithSavepoint(ctx context.Context, id string, req cluster.StopRequest) (cluster.Trigger, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	j, err := f.job(id)
	if err != nil {
		return cluster.Trigger{}, err
	}
	t := cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: id, ID: req.TriggerID}
	if _, ok := f.stops[req.TriggerID]; ok {
		return t, nil // idempotent by trigger ID, as Flink's
	}
	if j.status != cluster.JobRunning {
		return cluster.Trigger{}, cluster.Errorf(cluster.ErrConflict, "job %s is %s", id, j.status)
	}
	if f.stopFails {
		f.stops[req.TriggerID] = ""
		return t, nil
	}
	sp := fmt.Sprintf("/sp/savepoint-%d", len(f.stops)+1)
	f.stops[req.TriggerID] = sp
	if f.stopLost > 0 {
		// Accepted, still in progress (the job runs until the
		// savepoint completes), and the answer never arrives.
		f.stopLost--
		return cluster.Trigger{}, cluster.Errorf(cluster.ErrUnreachable, "no answer from the JobManager within 15s")
	}
	j.status, j.savepoint = cluster.JobFinished, sp
	return t, nil
}

func (f *fake) Poll(ctx context.Context, t cluster.Trigger) (*cluster.Operation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	sp, ok := f.stops[t.ID]
	if !ok {
		return nil, cluster.Errorf(cluster.ErrNotFound, "unknown trigger %s", t.ID)
	}
	if j := f.jobs[t.JobID]; sp != "" && j != nil && j.status == cluster.JobRunning {
		j.status, j.savepoint = cluster.JobFinished, sp // the stop in progress completes
	}
	if sp == "" {
		return &cluster.Operation{Status: cluster.Completed, Failure: &cluster.Failure{Class: "CheckpointException",
			StackTrace: "org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint expired before completing."}}, nil
	}
	return &cluster.Operation{Status: cluster.Completed, Location: sp}, nil
}

func (f *fake) Cancel(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	j, err := f.job(id)
	if err != nil {
		return err
	}
	if !j.status.Terminal() {
		j.status = cluster.JobCanceled
	}
	return nil
}

func (f *fake) UploadArtifact(ctx context.Context, name string, r io.Reader) (*cluster.Artifact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	b, _ := io.ReadAll(r)
	f.arts++
	id := fmt.Sprintf("art-%d_%s", f.arts, name)
	f.artifacts[id] = string(b)
	return &cluster.Artifact{ID: id, Name: name}, nil
}

func (f *fake) Artifacts(ctx context.Context) ([]cluster.Artifact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	var out []cluster.Artifact
	for id := range f.artifacts {
		out = append(out, cluster.Artifact{ID: id})
	}
	return out, nil
}

func (f *fake) RunArtifact(ctx context.Context, art string, req cluster.RunRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.hit()()
	prog, ok := f.artifacts[art]
	if !ok {
		return "", cluster.Errorf(cluster.ErrNotFound, "jar %s", art)
	}
	if f.jobs[req.JobID] != nil {
		return "", cluster.Errorf(cluster.ErrConflict, "Job %s already exists", req.JobID)
	}
	if req.ClaimMode != cluster.NoClaim {
		return "", fmt.Errorf("claim mode %q: an upgrade must leave the savepoint to the user", req.ClaimMode)
	}
	if strings.Contains(prog, "refuse-submit") {
		return "", cluster.Errorf(cluster.ErrBadRequest, "Failed to rollback to savepoint %s: cannot map state", req.SavepointPath)
	}
	j := &fakeJob{id: req.JobID, program: prog, status: cluster.JobRunning}
	switch {
	case strings.Contains(prog, "fail-start"):
		j.status = cluster.JobFailed
	case strings.Contains(prog, "restart"):
		j.restarted = true
	}
	f.jobs[req.JobID] = j
	f.created[prog]++
	f.restored[req.JobID] = req.SavepointPath
	return req.JobID, nil
}

// dryRun refuses a program saying "refuse-preflight" against anything,
// and one saying "refuse-savepoint" against the savepoint only.
func dryRun(ctx context.Context, snap string, p *Program) DryRun {
	switch {
	case strings.Contains(p.Spec, "refuse-preflight"), strings.Contains(p.Spec, "refuse-savepoint") && strings.HasPrefix(snap, "/sp/"):
		return DryRun{Verdict: Refuse, Summary: "2 operators' state (1 KiB) has no operator in the new job", ExitCode: 3}
	}
	return DryRun{Verdict: Pass, Summary: "every operator's state is restored"}
}

var ids atomic.Int64

func newUpgrade(f *fake, journal, program string) *Upgrade {
	return &Upgrade{C: f, JobID: oldJob, New: &Program{Kind: SpecProgram, Name: "orders-v2.yaml", Spec: program},
		Request: Request{Checkpoints: 2, Timeout: 200 * time.Millisecond}, DryRun: dryRun, Journal: journal,
		Poll: time.Millisecond, Now: f.now, NewID: func() string { return fmt.Sprintf("%032x", ids.Add(1)) }}
}

// run runs u, turning a crash of the fake into crashed.
func run(u *Upgrade) (rep *Report, err error, crashed bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crash); !ok {
				panic(r)
			}
			crashed = true
		}
	}()
	rep, err = u.Run(context.Background())
	return rep, err, false
}

type scenario struct {
	name    string
	program string
	setup   func(*fake)
	want    Outcome
	// stops: savepoints taken; newJobs: jobs of the new program;
	// rollbacks: jobs of the old program after the stop.
	stops, newJobs, rollbacks int
	reason                    string
}

var scenarios = []scenario{
	{name: "works", program: "v2 good", want: Upgraded, stops: 1, newJobs: 1},
	{name: "dry run against the savepoint refuses", program: "v2 refuse-savepoint", want: RolledBack, stops: 1, rollbacks: 1,
		reason: "dry run against the savepoint refuses"},
	{name: "submission refused", program: "v2 refuse-submit", want: RolledBack, stops: 1, rollbacks: 1,
		reason: "submitting the new program failed"},
	{name: "fails at start", program: "v2 fail-start", want: RolledBack, stops: 1, newJobs: 1, rollbacks: 1,
		reason: "is FAILED: java.lang.RuntimeException: boom"},
	{name: "restarts", program: "v2 restart", want: RolledBack, stops: 1, newJobs: 1, rollbacks: 1, reason: "restarted"},
	{name: "no checkpoints in time", program: "v2 no-checkpoints", want: RolledBack, stops: 1, newJobs: 1, rollbacks: 1,
		reason: "0 of 2 checkpoint(s) completed within"},
	{name: "preflight refuses", program: "v2 refuse-preflight", want: Refused, reason: "latest checkpoint refuses"},
	{name: "old program unknown", program: "v2 good", setup: func(f *fake) { f.noProgram = true }, want: Refused,
		reason: "rollback impossible"},
	{name: "stop fails", program: "v2 good", setup: func(f *fake) { f.stopFails = true }, want: Refused,
		reason: "stop with a savepoint failed"},
	{name: "rollback fails too", program: "v2 fail-start", setup: func(f *fake) { f.jobs[oldJob].program = "v1 fail-start" },
		want: Failed, stops: 1, newJobs: 1, rollbacks: 1, reason: "resume by hand from the savepoint /sp/savepoint-1"},
}

func (sc scenario) check(t *testing.T, f *fake, rep *Report) {
	t.Helper()
	if rep.Outcome != sc.want {
		t.Fatalf("outcome %q (%s), want %q\nsteps:\n%s", rep.Outcome, rep.Reason, sc.want, steps(rep))
	}
	if !strings.Contains(rep.Reason, sc.reason) {
		t.Errorf("reason %q, want it to say %q", rep.Reason, sc.reason)
	}
	taken := 0
	for _, sp := range f.stops {
		if sp != "" {
			taken++
		}
	}
	if taken != sc.stops {
		t.Errorf("%d savepoint(s) taken, want %d", taken, sc.stops)
	}
	if got := f.created[sc.program]; got != sc.newJobs {
		t.Errorf("%d job(s) of the new program, want %d", got, sc.newJobs)
	}
	if got := f.created[f.jobs[oldJob].program]; got != sc.rollbacks {
		t.Errorf("%d rollback job(s), want %d", got, sc.rollbacks)
	}
	// Every job resumed from the one savepoint, in NO_CLAIM mode (the fake
	// refuses any other).
	for id, sp := range f.restored {
		if sp != "/sp/savepoint-1" {
			t.Errorf("job %s resumed from %q", id, sp)
		}
	}
	running := 0
	for _, j := range f.jobs {
		if j.status == cluster.JobRunning {
			running++
		}
	}
	switch sc.want {
	case Upgraded:
		if j := f.jobs[rep.NewJobID]; j == nil || j.status != cluster.JobRunning || j.program != sc.program {
			t.Errorf("new job %s: %+v", rep.NewJobID, j)
		}
	case RolledBack:
		if j := f.jobs[rep.RollbackJobID]; j == nil || j.status != cluster.JobRunning || j.program != f.jobs[oldJob].program {
			t.Errorf("rollback job %s: %+v", rep.RollbackJobID, j)
		}
	case Refused:
		if f.jobs[oldJob].status != cluster.JobRunning {
			t.Errorf("refused, but the job is %s", f.jobs[oldJob].status)
		}
	}
	if want := map[Outcome]int{Upgraded: 1, RolledBack: 1, Refused: 1}[sc.want]; running != want {
		t.Errorf("%d job(s) running after the upgrade, want %d", running, want)
	}
}

func steps(rep *Report) string {
	var b strings.Builder
	for _, e := range rep.Steps {
		b.WriteString(e.String() + "\n")
	}
	return b.String()
}

// TestUpgrade: every failure point ends rolled back (or refused before
// anything was stopped), with one savepoint, the new program submitted at
// most once and the old one resumed from that same savepoint.
func TestUpgrade(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			f := newFake()
			if sc.setup != nil {
				sc.setup(f)
			}
			journal := filepath.Join(t.TempDir(), "j.jsonl")
			rep, err, _ := run(newUpgrade(f, journal, sc.program))
			if err != nil {
				t.Fatalf("%v\n%s", err, steps(rep))
			}
			sc.check(t, f, rep)
			// The attempt ended: a rerun of the same command starts a new
			// one, which finds the job no longer running (or, refused,
			// does it all again) — never the old attempt's steps.
			if last, err := Last(journal); err != nil || (last == nil) != (sc.name == "old program unknown") {
				t.Errorf("journal end: %+v %v", last, err)
			}
		})
	}
}

// TestUpgradeCrash: ckpt dies at each call it makes to the cluster —
// before the call's effect and after it (a lost response) — then the
// same upgrade runs again from its journal: it ends as an uninterrupted
// one does, without a second savepoint or a second submission.
func TestUpgradeCrash(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			// Calls made by an uninterrupted upgrade.
			f := newFake()
			if sc.setup != nil {
				sc.setup(f)
			}
			if _, err, _ := run(newUpgrade(f, filepath.Join(t.TempDir(), "j.jsonl"), sc.program)); err != nil {
				t.Fatal(err)
			}
			total, step := f.calls, 1
			if testing.Short() {
				step = 3 // a sample of the crash points
			}
			for at := 1; at <= total; at += step {
				for _, after := range []bool{false, true} {
					f := newFake()
					if sc.setup != nil {
						sc.setup(f)
					}
					f.crashAt, f.crashAfter = at, after
					journal := filepath.Join(t.TempDir(), "j.jsonl")
					_, _, crashed := run(newUpgrade(f, journal, sc.program))
					if !crashed {
						t.Fatalf("call %d: no crash", at)
					}
					f.crashAt = 0
					rep, err, _ := run(newUpgrade(f, journal, sc.program))
					if err != nil {
						t.Fatalf("crash at call %d (after=%v), rerun: %v\n%s", at, after, err, steps(rep))
					}
					if rep == nil {
						t.Fatalf("crash at call %d: no report", at)
					}
					t.Run(fmt.Sprintf("call %d after %v", at, after), func(t *testing.T) { sc.check(t, f, rep) })
				}
			}
		})
	}
}

// TestResumeWithOtherProgram: an unfinished upgrade is finished before
// another is started.
func TestResumeWithOtherProgram(t *testing.T) {
	f := newFake()
	f.crashAt = 8 // well after the stop
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	if _, _, crashed := run(newUpgrade(f, journal, "v2 good")); !crashed {
		t.Fatal("no crash")
	}
	f.crashAt = 0
	if p, err := Pending(journal); err != nil || p == nil || p.New.Spec != "v2 good" {
		t.Fatalf("pending %+v %v", p, err)
	}
	_, err, _ := run(newUpgrade(f, journal, "v3 good"))
	if err == nil || !strings.Contains(err.Error(), "unfinished upgrade") {
		t.Fatalf("another program while one is pending: %v", err)
	}
	// --resume: no program given, the journal's is used.
	u := newUpgrade(f, journal, "")
	u.New = nil
	rep, err, _ := run(u)
	if err != nil || rep.Outcome != Upgraded || !rep.Resumed || f.created["v2 good"] != 1 {
		t.Fatalf("resume: %+v %v", rep, err)
	}
	if p, err := Pending(journal); err != nil || p != nil {
		t.Fatalf("still pending after it ended: %+v %v", p, err)
	}
}

// TestJarDryRunIsAWarning: a jar upgrade goes on with a warning, never
// a pass.
func TestJarDryRunIsAWarning(t *testing.T) {
	d := JarDryRun(context.Background(), "/sp/x", &Program{Kind: JarProgram})
	if d.Verdict != Warn || !strings.Contains(d.Summary, "not available for jars") {
		t.Fatalf("%+v", d)
	}
}

// TestKnown: the jar an upgrade started is what a later upgrade of the
// new job rolls back to — with the jar id it was uploaded as, so the
// rollback does not need the file.
func TestKnown(t *testing.T) {
	dir := t.TempDir()
	jar := filepath.Join(dir, "orders-1.5.jar")
	if err := os.WriteFile(jar, []byte("PK\x03\x04 v2 good"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := ReadProgramFile(jar)
	if err != nil || p.Kind != JarProgram || p.JarPath != jar {
		t.Fatalf("%+v %v", p, err)
	}
	p.EntryClass, p.Args, p.Parallelism = "com.acme.Orders", []string{"--env", "prod"}, 2
	f := newFake()
	journal := filepath.Join(dir, "upgrade", "jm", oldJob+".jsonl")
	u := newUpgrade(f, journal, "")
	u.New = p
	rep, err, _ := run(u)
	if err != nil || rep.Outcome != Upgraded {
		t.Fatalf("%+v %v", rep, err)
	}
	got := Known(filepath.Dir(journal), rep.NewJobID)
	if got == nil || got.JarID == "" || f.artifacts[got.JarID] == "" || got.EntryClass != "com.acme.Orders" ||
		strings.Join(got.Args, " ") != "--env prod" || got.Parallelism != 2 {
		t.Fatalf("known program of %s: %+v", rep.NewJobID, got)
	}
	if Known(filepath.Dir(journal), oldJob) != nil {
		t.Errorf("the stopped job's program is not one an upgrade started")
	}
}

// TestStopAnswerLost: a stop whose answer is lost is not a refusal — the
// job may be stopping. The upgrade stops with the error; the rerun finds
// the savepoint by its trigger and goes on, with one savepoint.
func TestStopAnswerLost(t *testing.T) {
	f := newFake()
	f.stopLost = 1
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	rep, err, _ := run(newUpgrade(f, journal, "v2 good"))
	if err == nil || rep.Outcome != "" {
		t.Fatalf("a lost answer ended the upgrade: %+v %v", rep, err)
	}
	rep, err, _ = run(newUpgrade(f, journal, "v2 good"))
	if err != nil {
		t.Fatal(err)
	}
	scenarios[0].check(t, f, rep)
}
