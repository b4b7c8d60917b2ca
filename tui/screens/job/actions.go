package job

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// jobActions are the job's actions in flight: a form being filled, a
// confirmation awaited, operations triggered and abandoned.
type jobActions struct {
	*jobModel
	form     *form.Model
	formKind string
	confirm  string // an action awaiting "y"
	// confirmed is the filled form the confirmation is about (cancel with
	// a savepoint asks twice: where to, then whether to end the job).
	confirmed *form.Model
	// cancelling: a cancel was accepted and the job has not ended yet —
	// the tabs line says so, and stops saying so once the job is CANCELED
	// (a toast would outlive it).
	cancelling  bool
	cancelTask  shell.TaskID
	cancelAsked time.Time
	ops         []inflightOp
	abandoned   []abandonedOp
	// upgrading is the upgrade in flight (upgrade.go).
	upgrading *upgradeRun
}

// startOp runs an asynchronous action: trigger, then wait for it to
// complete, in a task the status bar shows; the job screen lists it while
// it runs, with its trigger id, elapsed time against its bound, and A to
// abandon the wait (opTriggeredMsg, then waitOp).
func (s *jobActions) startOp(label string, trigger func(context.Context, cluster.Cluster) (cluster.Trigger, error), done func(*cluster.Operation) (toast, savepoint string)) tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast("read-only mode: "+label+" is disabled", true)
	}
	timeout := s.opTimeout()
	id, tctx := s.ctx.Tasks.Start(label, timeout)
	s.ops = append(s.ops, inflightOp{task: id, label: label, started: s.ctx.Now(), timeout: timeout, ctx: tctx, done: done})
	c, rtimeout, sid := s.ctx.Cluster, s.ctx.Timeout, s.id
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, rtimeout)
		t, err := trigger(cctx, c)
		cancel()
		if err != nil {
			return shell.TaskDoneMsg{Task: id, Err: fmt.Errorf("%s: %w", label, err)}
		}
		return opTriggeredMsg{sid: sid, task: id, trigger: t}
	}
}

func (s *jobActions) checkpoint(typ cluster.CheckpointType) tea.Cmd {
	label := "checkpoint of " + s.jobName()
	if typ == cluster.CheckpointFull {
		label = "full " + label
	}
	jobID := s.jobID
	return s.startOp(label, func(ctx context.Context, c cluster.Cluster) (cluster.Trigger, error) {
		return c.TriggerCheckpoint(ctx, jobID, cluster.CheckpointRequest{Type: typ})
	}, func(op *cluster.Operation) (string, string) {
		return fmt.Sprintf("checkpoint %d completed", op.CheckpointID), ""
	})
}

// checkSavepointDir refuses a savepoint form without a target dir when
// the cluster configures no default (Flink would refuse it).
func (s *jobActions) checkSavepointDir(kind string, f *form.Model) tea.Cmd {
	if strings.TrimSpace(f.Value(0)) == "" && s.defaultSavepointDir() == "" {
		if kind == "cancel-savepoint" {
			kind = "cancel with savepoint"
		}
		return shell.Toast(kind+" not sent: no target dir, and the cluster configures no default savepoint dir "+
			"(execution.checkpointing.savepoint-dir / state.savepoints.dir) — type one", true)
	}
	return nil
}

func (s *jobActions) submitForm(kind string, f *form.Model) tea.Cmd {
	jobID := s.jobID
	if cmd := s.checkSavepointDir(kind, f); cmd != nil {
		return cmd
	}
	switch kind {
	case "savepoint":
		req := cluster.SavepointRequest{TargetDir: f.Value(0), Format: cluster.SavepointFormat(f.Value(1))}
		return s.startOp("savepoint of "+s.jobName(), func(ctx context.Context, c cluster.Cluster) (cluster.Trigger, error) {
			return c.TriggerSavepoint(ctx, jobID, req)
		}, func(op *cluster.Operation) (string, string) {
			return "savepoint at " + op.Location, op.Location
		})
	case "stop":
		req := cluster.StopRequest{TargetDir: f.Value(0), Drain: f.Value(1) != "no", Format: cluster.SavepointFormat(f.Value(2))}
		return s.startOp("stop with savepoint of "+s.jobName(), func(ctx context.Context, c cluster.Cluster) (cluster.Trigger, error) {
			return c.StopWithSavepoint(ctx, jobID, req)
		}, func(op *cluster.Operation) (string, string) {
			return "stopped; savepoint at " + op.Location, op.Location
		})
	case "cancel-savepoint":
		req := cluster.SavepointRequest{TargetDir: f.Value(0), Format: cluster.SavepointFormat(f.Value(1))}
		cmd := s.startOp("cancel with savepoint of "+s.jobName(), func(ctx context.Context, c cluster.Cluster) (cluster.Trigger, error) {
			return cluster.CancelWithSavepoint(ctx, c, jobID, req)
		}, func(op *cluster.Operation) (string, string) {
			return "cancelled; savepoint at " + op.Location, op.Location
		})
		if n := len(s.ops); n > 0 {
			// Flink cancels only after the savepoint completed.
			s.ops[n-1].failNote = "the savepoint failed, so the job was NOT cancelled: it is still running"
		}
		return cmd
	}
	return nil
}

func (s *jobActions) onTriggered(m opTriggeredMsg) tea.Cmd {
	for i := range s.ops {
		o := &s.ops[i]
		if o.task != m.task {
			continue
		}
		o.trigger = m.trigger
		return waitOp(s.ctx.Cluster, *o, s.jobID)
	}
	return nil
}

// abandon stops waiting for the newest action in flight. Flink cannot
// cancel a savepoint once triggered (it completes or expires at the
// checkpoint timeout); abandoning frees the operator to act meanwhile —
// e.g. cancel the job to force an upgrade — while the trigger id stays on
// screen.
func (s *jobActions) abandon() tea.Cmd {
	if len(s.ops) == 0 {
		return shell.Toast("nothing in flight to abandon", true)
	}
	o := s.ops[len(s.ops)-1]
	s.ops = s.ops[:len(s.ops)-1]
	s.ctx.Tasks.Cancel(o.task)
	s.abandoned = append(s.abandoned, abandonedOp{label: o.label, trigger: o.trigger, at: s.ctx.Now()})
	if len(s.abandoned) > 3 {
		s.abandoned = s.abandoned[len(s.abandoned)-3:]
	}
	id := o.trigger.ID
	if id == "" {
		id = "not yet accepted"
	}
	return shell.Toast(fmt.Sprintf("stopped waiting for %s (trigger %s): it may still complete on the cluster — Flink cannot cancel it; x cancels the job without one", o.label, id), false)
}

// opsLine describes the actions in flight and the abandoned ones, for the
// pane tabs' line.
func (s *jobActions) opsLine() []string {
	now := s.ctx.Now()
	var out []string
	if s.cancelling {
		out = append(out, fmt.Sprintf("%s cancelling (asked %s ago)", s.ctx.Spinner(), format.Dur(now.Sub(s.cancelAsked))))
	}
	for _, o := range s.ops {
		id := ""
		if o.trigger.ID != "" {
			id = " " + o.trigger.ID
		}
		out = append(out, fmt.Sprintf("%s %s%s %s of %s (A abandons)", s.ctx.Spinner(), o.label, id, format.Dur(now.Sub(o.started)), format.Dur(o.timeout)))
	}
	if l := s.upgradeLine(); l != "" {
		out = append(out, l)
	}
	for _, a := range s.abandoned {
		out = append(out, fmt.Sprintf("abandoned %s %s %s ago", a.label, a.trigger.ID, format.Dur(now.Sub(a.at))))
	}
	return out
}

// finished forgets the operation of a task that ended, if it was one of
// ours.
func (s *jobActions) finished(m shell.TaskDoneMsg) bool {
	if s.cancelling && m.Task == s.cancelTask {
		if m.Err != nil {
			s.cancelling = false // the error says why; the job runs on
		}
		return true
	}
	if s.upgrading != nil && m.Task == s.upgrading.task {
		s.upgrading = nil
		return true
	}
	for i, o := range s.ops {
		if o.task == m.Task {
			s.ops = append(s.ops[:i], s.ops[i+1:]...)
			return true
		}
	}
	return false
}

// cancel cancels the job without a savepoint (Flink's cancel): the target
// accepts it and the job goes CANCELLING, then CANCELED.
func (s *jobActions) cancel() tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast("read-only mode: cancel is disabled", true)
	}
	id, tctx := s.ctx.Tasks.Start("cancelling job "+s.jobName(), 0)
	s.cancelling, s.cancelTask, s.cancelAsked = true, id, s.ctx.Now()
	c, timeout, jobID := s.ctx.Cluster, s.ctx.Timeout, s.jobID
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		return shell.TaskDoneMsg{Task: id, Err: c.Cancel(cctx, jobID)}
	}
}

// polled takes what a poll says of the job: once it ended, nothing of
// ours is cancelling it any more.
func (s *jobActions) polled(j *cluster.Job) {
	if j != nil && j.Status.Terminal() {
		s.cancelling = false
	}
}

// capturing: a form or a confirmation takes every key.
func (s *jobActions) capturing() bool { return s.form != nil || s.confirm != "" }

// askSavepoint opens the savepoint prompt.
func (s *jobActions) askSavepoint() tea.Cmd {
	return s.ask("savepoint", form.New("Savepoint of "+s.jobName(), s.savepointFormHint("enter takes the savepoint")).
		Text("target dir", s.suggestedSavepointDir(), s.savepointDirHint()).
		Choice("format", string(cluster.Canonical), string(cluster.Native)))
}

// askStop opens the stop-with-savepoint prompt.
func (s *jobActions) askStop() tea.Cmd {
	f := form.New("STOP "+s.jobName()+" with a savepoint", s.savepointFormHint("enter stops the job")).
		Text("target dir", s.suggestedSavepointDir(), s.savepointDirHint()).
		Choice("drain", "no", "yes (MAX_WATERMARK first: every event-time timer fires — for jobs retired for good)").
		Choice("format", string(cluster.Canonical), string(cluster.Native))
	f.Danger = true
	return s.ask("stop", f)
}

// askCancelWithSavepoint opens Flink's cancel -s prompt: where the
// savepoint goes; enter then asks for a y before anything is sent.
func (s *jobActions) askCancelWithSavepoint() tea.Cmd {
	if s.job != nil && s.job.Status.Terminal() {
		return shell.Toast("job already "+string(s.job.Status), true)
	}
	f := form.New("CANCEL "+s.jobName()+" with a savepoint", s.savepointFormHint("enter asks to confirm: savepoint, then cancel"))
	f.Text("target dir", s.suggestedSavepointDir(), s.savepointDirHint()).
		Choice("format", string(cluster.Canonical), string(cluster.Native))
	f.Danger = true
	return s.ask("cancel-savepoint", f)
}

// askCancel asks to cancel the job without a savepoint.
func (s *jobActions) askCancel() tea.Cmd {
	if s.job != nil && s.job.Status.Terminal() {
		return shell.Toast("job already "+string(s.job.Status), true)
	}
	s.confirm = "cancel"
	return nil
}

// ask opens form for the action kind ("savepoint", "stop", "cancel-savepoint").
func (s *jobActions) ask(kind string, f *form.Model) tea.Cmd {
	s.form, s.formKind = f, kind
	return f.FocusCmd()
}

// key feeds the open form or answers the confirmation.
func (s *jobActions) key(msg tea.Msg) tea.Cmd {
	if s.form != nil {
		res, cmd := s.form.Update(msg)
		switch res {
		case form.Cancelled:
			s.form = nil
			return nil
		case form.Submitted:
			f, kind := s.form, s.formKind
			s.form = nil
			if kind == "cancel-savepoint" {
				if cmd := s.checkSavepointDir(kind, f); cmd != nil {
					return cmd
				}
				s.confirm, s.confirmed = kind, f
				return nil
			}
			if kind == "upgrade" {
				if _, _, err := upgradeRequest(f); err != nil {
					return shell.Toast(err.Error(), true)
				}
				s.confirm, s.confirmed = kind, f
				return nil
			}
			return s.submitForm(kind, f)
		}
		return cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok || s.confirm == "" {
		return nil
	}
	what, f := s.confirm, s.confirmed
	s.confirm, s.confirmed = "", nil
	if k.String() == "y" || k.String() == "Y" {
		switch what {
		case "cancel":
			return s.cancel()
		case "cancel-savepoint":
			return s.submitForm(what, f)
		case "upgrade":
			return s.startUpgrade(f)
		}
	}
	if what == "cancel-savepoint" {
		what = "cancel with savepoint"
	}
	return shell.Toast(what+" aborted", false)
}

// overlay draws the open form or the confirmation over the pane.
func (s *jobActions) overlay(view string) string {
	th := s.ctx.Theme
	switch {
	case s.form != nil:
		return form.OverlayBottom(view, s.form.Rows(s.ctx.Theme, s.w), s.h)
	case s.confirm == "cancel":
		q := fmt.Sprintf(" CANCEL %s without a savepoint? Retained checkpoints follow its retention policy. y = cancel, any other key = keep it ", s.jobName())
		return form.OverlayBottom(view, []string{th.StatusError.Render(text.Fit(q, s.w))}, s.h)
	case s.confirm == "upgrade" && s.confirmed != nil:
		return form.OverlayBottom(view, s.upgradeConfirmRows(s.confirmed), s.h)
	case s.confirm == "cancel-savepoint" && s.confirmed != nil:
		dir := strings.TrimSpace(s.confirmed.Value(0))
		if dir == "" {
			dir = s.defaultSavepointDir()
		}
		q := fmt.Sprintf("CANCEL %s after a %s savepoint to %s? If the savepoint fails the job keeps running. y = savepoint and cancel, any other key = keep it",
			s.jobName(), strings.ToLower(s.confirmed.Value(1)), text.Sanitize(dir))
		var rows []string
		for _, l := range text.Wrap(q, s.w-2, 4) {
			rows = append(rows, th.StatusError.Render(text.Fit(" "+l+" ", s.w)))
		}
		return form.OverlayBottom(view, rows, s.h)
	}
	return view
}
