// Package upgrade upgrades a running job to a new program without losing
// its state, the way the Flink Kubernetes operator's savepoint upgrade
// does, with ckpt's resume dry run in front of it and a rollback behind:
//
//  1. identify the old program (a rollback must be possible before
//     anything is stopped) and dry-run the new one against the job's
//     latest completed checkpoint (preflight: refuses before stopping);
//  2. stop the job with a savepoint;
//  3. dry-run the new program against that savepoint;
//  4. submit the new program resuming from it (NO_CLAIM: the savepoint
//     stays the user's);
//  5. watch the new job until N checkpoints complete, or a timeout;
//  6. on any failure after the stop — dry run refuses, submission fails,
//     the job fails or restarts, no checkpoints in time — cancel the new
//     job and resubmit the OLD program from the same savepoint (rollback).
//
// Every step is journaled (journal.go) so that running the upgrade again
// after a crash of ckpt continues from the last completed step: it never
// takes a second savepoint and never submits twice.
//
// The orchestration talks to a cluster.Cluster only, so it is tested
// against a fake cluster; the dry run is a function the caller gives
// (the CLI's is `ckpt submit -s`'s).
package upgrade

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/internal/statedir"
)

// Kinds of program.
const (
	SpecProgram = "spec" // a job spec (YAML) for ckpt's engine
	JarProgram  = "jar"  // a jar for Flink
)

// Program is what a job runs, enough to submit it again.
type Program struct {
	Kind string `json:"kind"`
	// Name is the file name it is uploaded as (orders.yaml, job.jar).
	Name string `json:"name"`
	// Spec is a job spec's text.
	Spec string `json:"spec,omitempty"`
	// JarPath is a local jar to upload; JarID a jar already uploaded to
	// the target (as GET /jars lists it), used when it is still there.
	JarPath    string   `json:"jar_path,omitempty"`
	JarID      string   `json:"jar_id,omitempty"`
	EntryClass string   `json:"entry_class,omitempty"`
	Args       []string `json:"args,omitempty"`
	// Parallelism is the job's default parallelism (0 = the program's).
	Parallelism int `json:"parallelism,omitempty"`
}

// String names the program for humans.
func (p *Program) String() string {
	if p == nil {
		return "unknown program"
	}
	s := p.Name
	if s == "" {
		s = p.JarID
	}
	if p.Kind == JarProgram && p.JarID != "" && p.JarID != s {
		s += " (jar " + p.JarID + ")"
	}
	if p.EntryClass != "" {
		s += " " + p.EntryClass
	}
	if len(p.Args) > 0 {
		s += fmt.Sprintf(" with %d argument(s)", len(p.Args))
	}
	if p.Parallelism > 0 {
		s += fmt.Sprintf(" at parallelism %d", p.Parallelism)
	}
	return s
}

// Verdict is what a dry run says.
type Verdict string

const (
	// Pass: every piece of state finds its operator.
	Pass Verdict = "pass"
	// Warn: the dry run could not decide (a jar, an unreadable snapshot)
	// or found something to say; the upgrade goes on.
	Warn Verdict = "warn"
	// Refuse: the restore would fail or lose state.
	Refuse Verdict = "refuse"
)

// DryRun is the outcome of a dry run of a program against a snapshot.
type DryRun struct {
	Verdict Verdict `json:"verdict"`
	Summary string  `json:"summary"`
	// ExitCode of a refusal: inspector.ExitResumeDropState or
	// ExitResumeFails.
	ExitCode int `json:"exit_code,omitempty"`
	// Unreadable: the snapshot could not be read from here (gone, or
	// unreachable); the verdict is a warning.
	Unreadable bool `json:"unreadable,omitempty"`
}

// DryRunFunc dry-runs program p against the snapshot at path.
type DryRunFunc func(ctx context.Context, snapshotPath string, p *Program) DryRun

// JarDryRun is the dry run of a jar on a cluster that cannot plan it (not
// a JarPlanner: ckpt cannot build a Java program's job graph itself),
// which is a warning, not a pass.
func JarDryRun(ctx context.Context, snapshotPath string, p *Program) DryRun {
	return DryRun{Verdict: Warn, Summary: "dry run not available for jars: Flink checks the restore itself"}
}

// Outcome is how an upgrade ended.
type Outcome string

const (
	// Upgraded: the new program runs and completed its checkpoints.
	Upgraded Outcome = "upgraded"
	// RolledBack: the new program failed; the old one runs again from
	// the same savepoint.
	RolledBack Outcome = "rolled-back"
	// Refused: nothing was stopped (the preflight dry run refused, or no
	// rollback is possible).
	Refused Outcome = "refused"
	// Failed: the upgrade and its rollback failed; the report names the
	// savepoint to resume from by hand.
	Failed Outcome = "failed"
)

// Step names, as printed.
const (
	StepIdentify  = "identify"
	StepPreflight = "preflight"
	StepStop      = "stop"
	StepDryRun    = "dry-run"
	StepSubmit    = "submit"
	StepWatch     = "watch"
	StepRollback  = "rollback"
	StepRollWatch = "rollback-watch"
)

// Status of a step event.
const (
	Running  = "running"
	Done     = "done"
	Warning  = "warn"
	Failure  = "failed"
	Skipped  = "skipped"
	Resumed  = "journaled" // done before, as the journal says
	Progress = "progress"
)

// Event is one line of an upgrade's progress.
type Event struct {
	Step   string    `json:"step"`
	Status string    `json:"status"`
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}

func (e Event) String() string {
	return fmt.Sprintf("%-14s %-9s %s", e.Step, e.Status, e.Detail)
}

// Report is what an upgrade did.
type Report struct {
	JobID         string    `json:"job_id"`
	Outcome       Outcome   `json:"outcome"`
	Reason        string    `json:"reason,omitempty"`
	Savepoint     string    `json:"savepoint,omitempty"`
	NewJobID      string    `json:"new_job_id,omitempty"`
	RollbackJobID string    `json:"rollback_job_id,omitempty"`
	Old           *Program  `json:"old,omitempty"`
	New           *Program  `json:"new,omitempty"`
	Preflight     *DryRun   `json:"preflight,omitempty"`
	DryRun        *DryRun   `json:"dry_run,omitempty"`
	Resumed       bool      `json:"resumed,omitempty"`
	Journal       string    `json:"journal"`
	Steps         []Event   `json:"steps"`
	Started       time.Time `json:"started"`
}

// ErrNoRollback: the old program cannot be identified, so a failed
// upgrade could not be rolled back; nothing was stopped.
var ErrNoRollback = errors.New("rollback impossible")

// ErrPending: the journal holds an unfinished upgrade of the job to a
// different program.
var ErrPending = errors.New("unfinished upgrade")

// ProgramFinder is a cluster that can tell which program a job runs
// beyond Job.Program (Flink: from its REST API).
type ProgramFinder interface {
	JobProgram(ctx context.Context, jobID string) (*Program, error)
}

// Upgrade is one upgrade of a job.
type Upgrade struct {
	C cluster.Cluster
	// JobID is the running job to upgrade.
	JobID string
	// New is the program to upgrade to (nil to resume the journaled
	// upgrade). Old is the program a rollback resubmits; nil = identify
	// it (Job.Program, or the cluster's ProgramFinder).
	New, Old *Program
	Request  Request
	// DryRun dry-runs a program against a snapshot (nil: JarDryRun for
	// jars; a spec's dry run is the caller's, as it needs storage).
	DryRun DryRunFunc
	// Journal is the journal file (JournalPath).
	Journal string
	// Target names the cluster in the journal.
	Target string
	// Known, if set, says which program a job runs when the cluster does
	// not (a previous upgrade's journal: Known).
	Known func(jobID string) *Program
	// OnEvent receives every step as it happens.
	OnEvent func(Event)
	// Poll is the watch's polling interval (default 500 ms); StopTimeout
	// bounds the stop with a savepoint (default 10 min).
	Poll        time.Duration
	StopTimeout time.Duration
	Now         func() time.Time
	// NewID makes job and trigger IDs (default: random 32 hex).
	NewID func() string

	st  *state
	rep *Report
}

// Defaults of a Request.
const (
	DefaultCheckpoints = 2
	DefaultTimeout     = 5 * time.Minute
)

func (u *Upgrade) now() time.Time {
	if u.Now != nil {
		return u.Now()
	}
	return time.Now()
}

func (u *Upgrade) newID() string {
	if u.NewID != nil {
		return u.NewID()
	}
	var b [16]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (u *Upgrade) event(step, status, format string, a ...any) {
	e := Event{Step: step, Status: status, Detail: fmt.Sprintf(format, a...), At: u.now()}
	u.rep.Steps = append(u.rep.Steps, e)
	if u.OnEvent != nil {
		u.OnEvent(e)
	}
}

// journal appends r; an upgrade that cannot journal stops at once (a
// crash afterwards could otherwise repeat a step).
func (u *Upgrade) journal(r Record) error {
	r.At = u.now()
	if err := statedir.AppendJSONL(u.Journal, r); err != nil {
		return fmt.Errorf("upgrade journal %s: %w", u.Journal, err)
	}
	recs := []Record{r}
	if u.st == nil || r.Step == recBegin {
		u.st = fold(recs)
		return nil
	}
	// Fold the one line into the current state.
	applied := fold(append([]Record{*u.st.begin}, r))
	mergeState(u.st, applied)
	return nil
}

// mergeState copies what one folded line set into st.
func mergeState(st, one *state) {
	if one.preflight != nil {
		st.preflight = one.preflight
	}
	if one.stopTrigger != "" {
		st.stopTrigger = one.stopTrigger
	}
	if one.savepoint != "" {
		st.savepoint = one.savepoint
	}
	if one.dryRun != nil {
		st.dryRun = one.dryRun
	}
	for k, v := range one.artifact {
		st.artifact[k] = v
	}
	for k, v := range one.requested {
		st.requested[k] = v
	}
	for k, v := range one.submitted {
		st.submitted[k] = v
	}
	if one.watched != nil {
		st.watched = one.watched
	}
	if one.rollback != nil {
		st.rollback = one.rollback
	}
	if one.cancelAsked != "" {
		st.cancelAsked = one.cancelAsked
	}
	if one.end != nil {
		st.end = one.end
	}
}

// Run carries out the upgrade, or continues the journaled one. The error
// is for what stopped the upgrade before it could end (the cluster
// unreachable, the journal unwritable): run it again to continue. An
// upgrade that ended — upgraded, rolled back, refused or failed — returns
// its report and a nil error.
func (u *Upgrade) Run(ctx context.Context) (*Report, error) {
	if u.Journal == "" {
		return nil, errors.New("upgrade: no journal file")
	}
	if u.Request.Checkpoints <= 0 {
		u.Request.Checkpoints = DefaultCheckpoints
	}
	if u.Request.Timeout <= 0 {
		u.Request.Timeout = DefaultTimeout
	}
	u.rep = &Report{JobID: u.JobID, Journal: u.Journal, Started: u.now()}
	recs, err := ReadJournal(u.Journal)
	if err != nil {
		return u.rep, err
	}
	u.st = fold(recs)
	if u.st != nil && u.st.end == nil {
		if err := u.resume(); err != nil {
			return u.rep, err
		}
	} else {
		u.st = nil
		if u.New == nil {
			return u.rep, fmt.Errorf("no unfinished upgrade of job %s in %s: give the new program", u.JobID, u.Journal)
		}
		if done, err := u.begin(ctx); err != nil || done {
			return u.rep, err
		}
	}
	return u.rep, u.proceed(ctx)
}

// resume takes the journaled attempt's programs and request.
func (u *Upgrade) resume() error {
	b := u.st.begin
	if u.New != nil && !sameProgram(u.New, b.New) {
		return fmt.Errorf("%w of job %s to %s is in %s (started %s): rerun it as it was, or with --resume, to finish it first",
			ErrPending, u.JobID, b.New, u.Journal, b.At.Format(time.RFC3339))
	}
	u.New, u.Old = b.New, b.Old
	if b.Request != nil {
		u.Request = *b.Request
	}
	u.rep.Resumed, u.rep.Old, u.rep.New = true, u.Old, u.New
	u.event(StepIdentify, Resumed, "continuing the upgrade of %s started %s (journal %s)", u.JobID, b.At.Format(time.RFC3339), u.Journal)
	return nil
}

// sameProgram says whether a rerun names the journaled program.
func sameProgram(a, b *Program) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Kind == b.Kind && a.Spec == b.Spec && a.JarPath == b.JarPath && a.JarID == b.JarID &&
		a.EntryClass == b.EntryClass && strings.Join(a.Args, "\x00") == strings.Join(b.Args, "\x00") && a.Parallelism == b.Parallelism
}

// begin identifies the old program and runs the preflight: nothing is
// stopped when either says no (done = the upgrade ended here).
func (u *Upgrade) begin(ctx context.Context) (bool, error) {
	u.rep.New = u.New
	u.event(StepIdentify, Running, "job %s", u.JobID)
	j, err := u.C.Job(ctx, u.JobID)
	if err != nil {
		return false, err
	}
	if j.Status != cluster.JobRunning {
		return false, fmt.Errorf("job %s is %s: only a RUNNING job can be upgraded (nothing was done)", u.JobID, j.Status)
	}
	old := u.Old
	if old == nil {
		if old, err = u.identify(ctx, j); err != nil {
			u.event(StepIdentify, Failure, "%v", err)
			u.rep.Outcome, u.rep.Reason = Refused, err.Error()
			return true, nil
		}
	}
	u.Old = old
	u.rep.Old = old
	u.event(StepIdentify, Done, "job %s (%s) runs %s; a rollback resubmits it", u.JobID, j.Name, old)
	req := u.Request
	if err := u.journal(Record{Step: recBegin, JobID: u.JobID, Target: u.Target, New: u.New, Old: old, Request: &req}); err != nil {
		return false, err
	}
	return false, nil
}

// preflight dry-runs the new program against the job's latest completed
// snapshot, before anything is stopped (done = it refused: the upgrade
// ended there).
//
// The latest checkpoint can be subsumed and deleted between asking for it
// and reading it (a short interval with one retained): when it is gone
// and a newer one completed meanwhile, the newer one is read, five tries
// at most.
func (u *Upgrade) preflight(ctx context.Context) (bool, error) {
	poll := u.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	latest, subsumed := u.latestSnapshot(ctx)
	// The statistics can name a completed checkpoint that a newer one has
	// just subsumed before they name the newer one: ask again.
	for wait := 0; latest == "" && subsumed && wait < 4; wait++ {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(poll):
		}
		latest, subsumed = u.latestSnapshot(ctx)
	}
	if latest == "" {
		u.event(StepPreflight, Skipped, "no completed checkpoint or savepoint to dry-run against yet; the savepoint's dry run decides")
		return false, nil
	}
	var d DryRun
	for try := 1; ; try++ {
		u.event(StepPreflight, Running, "dry run of %s against %s", u.New, latest)
		d = u.dryRun(ctx, latest, u.New)
		if !d.Unreadable || try == 5 {
			break
		}
		// The cluster's statistics may still name the one that is gone:
		// ask again after a poll interval.
		next := latest
		for wait := 0; wait < 4 && next == latest; wait++ {
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(poll):
			}
			next, _ = u.latestSnapshot(ctx)
		}
		if next == "" || next == latest {
			break
		}
		latest = next
	}
	if err := u.journal(Record{Step: recPreflight, DryRun: &d, Savepoint: latest}); err != nil {
		return false, err
	}
	return u.preflightVerdict(d)
}

func (u *Upgrade) preflightVerdict(d DryRun) (bool, error) {
	u.rep.Preflight = &d
	if d.Verdict == Refuse {
		u.event(StepPreflight, Failure, "%s", d.Summary)
		u.rep.Outcome, u.rep.Reason = Refused, "the dry run against the latest checkpoint refuses: "+d.Summary
		return true, u.journal(Record{Step: recEnd, Outcome: Refused, Reason: u.rep.Reason})
	}
	u.event(StepPreflight, statusOf(d), "%s", d.Summary)
	return false, nil
}

func statusOf(d DryRun) string {
	switch d.Verdict {
	case Pass:
		return Done
	case Warn:
		return Warning
	}
	return Failure
}

func (u *Upgrade) dryRun(ctx context.Context, snap string, p *Program) DryRun {
	f := u.DryRun
	if f == nil {
		if p.Kind != JarProgram {
			return DryRun{Verdict: Warn, Summary: "no dry run configured for " + p.Kind}
		}
		f = JarDryRun
	}
	return f(ctx, snap, p)
}

// identify finds the program job j runs: the spec the engine keeps, or
// what the cluster's ProgramFinder says.
func (u *Upgrade) identify(ctx context.Context, j *cluster.Job) (*Program, error) {
	if j.Program != nil && j.Program.Spec != "" {
		name := path.Base(j.Program.Name)
		if name == "." || name == "/" || name == "" {
			name = "job.yaml"
		}
		return &Program{Kind: SpecProgram, Name: name, Spec: j.Program.Spec}, nil
	}
	if u.Known != nil {
		if p := u.Known(j.ID); p != nil {
			return p, nil
		}
	}
	if f, ok := u.C.(ProgramFinder); ok {
		p, err := f.JobProgram(ctx, j.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: the program job %s runs cannot be identified (%v); give the old jar to roll back to (--rollback-jar); nothing was stopped", ErrNoRollback, j.ID, err)
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w: the target does not say which program job %s runs; give the old jar to roll back to (--rollback-jar); nothing was stopped", ErrNoRollback, j.ID)
}

// latestSnapshot is the job's newest completed checkpoint or savepoint
// still there ("" = none); subsumed says that the newest one the
// statistics name was already discarded (a newer one is on its way).
func (u *Upgrade) latestSnapshot(ctx context.Context) (latest string, subsumed bool) {
	st, err := u.C.Checkpoints(ctx, u.JobID)
	if err != nil {
		return "", false
	}
	var best *cluster.Checkpoint
	for _, c := range []*cluster.Checkpoint{st.LatestCompleted, st.LatestSavepoint} {
		if c == nil || c.ExternalPath == "" {
			continue
		}
		if c.Discarded {
			subsumed = true
			continue
		}
		if best == nil || c.ID > best.ID {
			best = c
		}
	}
	if best == nil {
		return "", subsumed
	}
	return best.ExternalPath, false
}

// proceed runs the steps after begin that the journal does not mark done.
func (u *Upgrade) proceed(ctx context.Context) error {
	st := u.st
	if st.stopTrigger == "" && st.savepoint == "" {
		var done bool
		var err error
		if st.preflight != nil {
			done, err = u.preflightVerdict(*st.preflight)
		} else {
			done, err = u.preflight(ctx)
		}
		if done || err != nil {
			return err
		}
	} else if st.preflight != nil {
		u.rep.Preflight = st.preflight
	}
	if st.savepoint == "" {
		if err := u.stop(ctx); err != nil {
			return err
		}
		if u.rep.Outcome != "" {
			return nil
		}
	} else {
		u.event(StepStop, Resumed, "stopped with savepoint %s", st.savepoint)
	}
	u.rep.Savepoint = st.savepoint
	if st.rollback == nil {
		reason, err := u.forward(ctx)
		if err != nil {
			return err
		}
		if reason == "" {
			u.rep.Outcome = Upgraded
			u.rep.NewJobID = st.submitted[roleNew]
			return u.journal(Record{Step: recEnd, Outcome: Upgraded, Job: u.rep.NewJobID})
		}
		if err := u.journal(Record{Step: recRollback, Reason: reason}); err != nil {
			return err
		}
	}
	u.rep.Reason = st.rollback.Reason
	u.rep.NewJobID = st.submitted[roleNew]
	if u.rep.NewJobID == "" {
		u.rep.NewJobID = st.requested[roleNew]
	}
	return u.rollback(ctx)
}

// forward dry-runs, submits and watches the new program; the reason to
// roll back, or "" when it works.
func (u *Upgrade) forward(ctx context.Context) (string, error) {
	st := u.st
	if st.dryRun == nil && st.requested[roleNew] == "" {
		u.event(StepDryRun, Running, "dry run of %s against %s", u.New, st.savepoint)
		d := u.dryRun(ctx, st.savepoint, u.New)
		if err := u.journal(Record{Step: recDryRun, DryRun: &d}); err != nil {
			return "", err
		}
	}
	if d := st.dryRun; d != nil {
		u.rep.DryRun = d
		if d.Verdict == Refuse {
			u.event(StepDryRun, Failure, "%s", d.Summary)
			return "the dry run against the savepoint refuses: " + d.Summary, nil
		}
		u.event(StepDryRun, statusOf(*d), "%s", d.Summary)
	}
	id, err := u.submit(ctx, roleNew, u.New, u.Request.AllowNonRestored)
	if err != nil {
		var sf *submitFailure
		if errors.As(err, &sf) {
			return "submitting the new program failed: " + sf.Error(), nil
		}
		return "", err
	}
	if st.watched != nil {
		u.event(StepWatch, Resumed, "%s", st.watched.Reason)
		if st.watched.OK {
			return "", nil
		}
		return st.watched.Reason, nil
	}
	ok, why, err := u.watch(ctx, StepWatch, id, u.Request.Checkpoints)
	if err != nil {
		return "", err
	}
	if err := u.journal(Record{Step: recWatched, Role: roleNew, Job: id, OK: ok, Reason: why}); err != nil {
		return "", err
	}
	if ok {
		return "", nil
	}
	return why, nil
}
