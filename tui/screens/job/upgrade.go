package job

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster/history"
	"github.com/ckpt-dev/ckpt/cluster/upgrade"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// The upgrade action (U): `ckpt upgrade` from the job screen — a form
// (the new program and the watch), a confirmation, then the upgrade runs
// as a shell task whose label follows its steps, and the pane tabs' line
// shows the latest one. It is cluster/upgrade's state machine with the
// same journal as the CLI's, so `ckpt upgrade --resume JOBID` finishes an
// upgrade the TUI started (and the reverse).

// Fields of the upgrade form.
const (
	upProgram = iota
	upParallelism
	upCheckpoints
	upTimeout
	upAllowNR
	upEntryClass
	upArgs
	upRollbackJar
)

// upgradeRun is the upgrade in flight.
type upgradeRun struct {
	task   shell.TaskID
	label  string
	events chan upgrade.Event
	result chan upgradeResult
	last   upgrade.Event
}

type upgradeResult struct {
	rep *upgrade.Report
	err error
}

// upgradeEventMsg is one step of the upgrade in flight (its end is a
// shell.TaskDoneMsg).
type upgradeEventMsg struct {
	sid   int
	task  shell.TaskID
	event upgrade.Event
}

// askUpgrade opens the upgrade form.
func (s *jobActions) askUpgrade() tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast("read-only mode: upgrade is disabled", true)
	}
	if s.upgrading != nil {
		return shell.Toast("an upgrade of this job is already running", true)
	}
	if s.job != nil && s.job.Status.Terminal() {
		return shell.Toast("job already "+string(s.job.Status), true)
	}
	program := ""
	if s.job != nil && s.job.Program != nil {
		program = s.ctx.SpecOf(s.jobID)
	}
	f := form.New("UPGRADE "+s.jobName()+" to a new program",
		"enter asks to confirm: stop with a savepoint, dry run, submit, watch — roll back to the running program on failure").
		Text("new program", program, "job spec (YAML) or jar on this machine").
		Text("parallelism", "", "the program's").
		Text("checkpoints", strconv.Itoa(upgrade.DefaultCheckpoints), "completed checkpoints that make it a success").
		Text("timeout", upgrade.DefaultTimeout.String(), "wait for them at most (then roll back)").
		Choice("allow non-restored state", "no", "yes (-n: state with no operator is dropped)").
		Text("entry class (jar)", "", "the jar manifest's").
		Text("arguments (jar)", "", "program arguments, space-separated").
		Text("rollback jar (Flink)", "", "the jar the job runs now, when ckpt did not start it")
	f.Danger = true
	return s.ask("upgrade", f)
}

// upgradeRequest reads the filled form: what is wrong is said before the
// confirmation.
func upgradeRequest(f *form.Model) (p upgrade.Request, parallelism int, err error) {
	if f.Value(upProgram) == "" {
		return p, 0, fmt.Errorf("upgrade: give the new program (a job spec or a jar)")
	}
	if v := f.Value(upParallelism); v != "" {
		if parallelism, err = strconv.Atoi(v); err != nil || parallelism < 1 {
			return p, 0, fmt.Errorf("upgrade: parallelism %q is not a positive number", v)
		}
	}
	if p.Checkpoints, err = strconv.Atoi(f.Value(upCheckpoints)); err != nil || p.Checkpoints < 1 {
		return p, 0, fmt.Errorf("upgrade: checkpoints %q: at least 1", f.Value(upCheckpoints))
	}
	if p.Timeout, err = time.ParseDuration(f.Value(upTimeout)); err != nil || p.Timeout <= 0 {
		return p, 0, fmt.Errorf("upgrade: timeout %q is not a duration (5m, 90s)", f.Value(upTimeout))
	}
	p.AllowNonRestored = f.Value(upAllowNR) != "no"
	return p, parallelism, nil
}

// startUpgrade runs the confirmed upgrade as a task: reading the programs
// and the journal happens in the task, never in Update.
func (s *jobActions) startUpgrade(f *form.Model) tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast("read-only mode: upgrade is disabled", true)
	}
	req, par, err := upgradeRequest(f)
	if err != nil {
		return shell.Toast(err.Error(), true)
	}
	path, class, args, rollbackJar := f.Value(upProgram), f.Value(upEntryClass), strings.Fields(f.Value(upArgs)), f.Value(upRollbackJar)
	label := "upgrade of " + s.jobName()
	id, tctx := s.ctx.Tasks.Start(label, 0)
	run := &upgradeRun{task: id, label: label, events: make(chan upgrade.Event, 64), result: make(chan upgradeResult, 1)}
	s.upgrading = run
	c, fsys, jobID, sid := s.ctx.Cluster, s.ctx.FS, s.jobID, s.id
	go func() {
		rep, err := func() (*upgrade.Report, error) {
			p, err := upgrade.ReadProgramFile(path)
			if err != nil {
				return nil, err
			}
			p.Parallelism = par
			if p.Kind == upgrade.JarProgram {
				p.EntryClass, p.Args = class, args
			}
			var old *upgrade.Program
			if rollbackJar != "" {
				if old, err = upgrade.ReadProgramFile(rollbackJar); err != nil {
					return nil, fmt.Errorf("rollback jar: %w", err)
				}
			}
			target := history.Target(c)
			journal, err := upgrade.JournalPath(target, jobID)
			if err != nil {
				return nil, err
			}
			dir := filepath.Dir(journal)
			u := &upgrade.Upgrade{C: c, JobID: jobID, New: p, Old: old, Request: req, Journal: journal, Target: target,
				DryRun: upgrade.DryRuns(c, fsys, req.AllowNonRestored, nil, nil),
				Known:  func(id string) *upgrade.Program { return upgrade.Known(dir, id) },
				OnEvent: func(e upgrade.Event) {
					select {
					case run.events <- e:
					default: // the screen stopped reading (closed): the upgrade goes on regardless
					}
				}}
			return u.Run(tctx)
		}()
		close(run.events)
		run.result <- upgradeResult{rep, err}
	}()
	return waitUpgrade(sid, run)
}

// waitUpgrade delivers the upgrade's next step, or its end.
func waitUpgrade(sid int, run *upgradeRun) tea.Cmd {
	return func() tea.Msg {
		if e, ok := <-run.events; ok {
			return upgradeEventMsg{sid: sid, task: run.task, event: e}
		}
		r := <-run.result
		return upgradeDone(run, r)
	}
}

// upgradeDone is the task's end: a toast saying which job runs now.
func upgradeDone(run *upgradeRun, r upgradeResult) shell.TaskDoneMsg {
	m := shell.TaskDoneMsg{Task: run.task}
	switch {
	case r.err != nil:
		m.Err = fmt.Errorf("%s interrupted: %w (U again, or ckpt upgrade --resume, continues from the journal)", run.label, r.err)
	case r.rep.Outcome == upgrade.Upgraded:
		m.Toast = fmt.Sprintf("upgraded: job %s runs %s from %s", r.rep.NewJobID, r.rep.New, r.rep.Savepoint)
		m.JobID, m.Savepoint = r.rep.JobID, r.rep.Savepoint
	case r.rep.Outcome == upgrade.RolledBack:
		m.Err = fmt.Errorf("ROLLED BACK: %s — job %s runs the old program again from %s", r.rep.Reason, r.rep.RollbackJobID, r.rep.Savepoint)
		m.JobID, m.Savepoint = r.rep.JobID, r.rep.Savepoint
	case r.rep.Outcome == upgrade.Refused:
		m.Err = fmt.Errorf("not upgraded, nothing stopped: %s", r.rep.Reason)
	default:
		m.Err = fmt.Errorf("upgrade FAILED: %s", r.rep.Reason)
	}
	return m
}

// onUpgradeEvent shows the step and waits for the next.
func (s *jobActions) onUpgradeEvent(m upgradeEventMsg) tea.Cmd {
	run := s.upgrading
	if run == nil || run.task != m.task {
		return nil
	}
	run.last = m.event
	s.ctx.Tasks.Relabel(run.task, run.label+": "+m.event.Step+" "+m.event.Status)
	return waitUpgrade(s.id, run)
}

// upgradeLine is the upgrade's latest step, for the pane tabs' line.
func (s *jobActions) upgradeLine() string {
	run := s.upgrading
	if run == nil {
		return ""
	}
	e := run.last
	if e.Step == "" {
		return s.ctx.Spinner() + " upgrade starting"
	}
	return fmt.Sprintf("%s upgrade: %s %s — %s", s.ctx.Spinner(), e.Step, e.Status, text.Sanitize(e.Detail))
}

// upgradeConfirmRows is the confirmation of the filled form.
func (s *jobActions) upgradeConfirmRows(f *form.Model) []string {
	req, _, _ := upgradeRequest(f)
	q := fmt.Sprintf("UPGRADE %s to %s? It is stopped with a savepoint; the new program is dry-run against it, submitted from it and "+
		"watched for %d checkpoint(s) (at most %v); on failure it is cancelled and the running program resubmitted from the same savepoint. "+
		"y = upgrade, any other key = keep it", s.jobName(), text.Sanitize(f.Value(upProgram)), req.Checkpoints, req.Timeout)
	return form.ConfirmRows(s.ctx.Theme, q, s.w)
}
