package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
)

// Asynchronous actions of the job screen after their trigger was accepted:
// waiting for them (backing off, bounded by the job's checkpoint timeout
// rather than a fixed short timeout that gives up on large state),
// abandoning the wait, and keeping a savepoint that a failed stop still
// wrote.

// opTriggeredMsg: the cluster accepted the trigger; now wait for it.
type opTriggeredMsg struct {
	sid     int
	task    TaskID
	trigger cluster.Trigger
}

// abandonedOp is a trigger this screen stopped waiting for: it may still
// complete on the cluster.
type abandonedOp struct {
	label   string
	trigger cluster.Trigger
	at      time.Time
}

func (s *Job) onTriggered(m opTriggeredMsg) tea.Cmd {
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

// waitOp polls the trigger until it completes or the op's task ends.
func waitOp(c cluster.Cluster, o inflightOp, jobID string) tea.Cmd {
	return func() tea.Msg {
		op, err := cluster.Wait(o.ctx, c, o.trigger)
		switch {
		case errors.Is(o.ctx.Err(), context.Canceled):
			return nil // abandoned (or the app quit): nothing to report
		case errors.Is(err, context.DeadlineExceeded):
			return taskDoneMsg{task: o.task, err: fmt.Errorf("%s (trigger %s): still in progress after %s — the job's checkpoint timeout plus a minute; it may yet complete on the cluster",
				o.label, o.trigger.ID, dur(o.timeout))}
		case err != nil:
			m := taskDoneMsg{task: o.task, jobID: jobID, err: fmt.Errorf("%s (trigger %s): %w", o.label, o.trigger.ID, err)}
			var f *cluster.Failure
			if errors.As(err, &f) {
				if loc := savepointInFailure(f); loc != "" {
					// The savepoint is complete and consistent even though
					// the job failed while stopping: keep it for resume.
					m.savepoint = loc
					m.err = fmt.Errorf("%s (trigger %s) failed, but the savepoint was written and is kept: %s — %w", o.label, o.trigger.ID, loc, err)
				}
			}
			return m
		}
		toast, sp := o.done(op)
		return taskDoneMsg{task: o.task, toast: toast, jobID: jobID, savepoint: sp}
	}
}

// savepointInFailure is the savepoint a failed stop-with-savepoint still
// wrote, from its failure cause ("" when there is none).
func savepointInFailure(f *cluster.Failure) string { return f.SavepointLocation() }

// abandon stops waiting for the newest action in flight. Flink cannot
// cancel a savepoint once triggered (it completes or expires at the
// checkpoint timeout); abandoning frees the operator to act meanwhile —
// e.g. cancel the job to force an upgrade — while the trigger id stays on
// screen.
func (s *Job) abandon() tea.Cmd {
	if len(s.ops) == 0 {
		return Toast("nothing in flight to abandon", true)
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
	return Toast(fmt.Sprintf("stopped waiting for %s (trigger %s): it may still complete on the cluster — Flink cannot cancel it; x cancels the job without one", o.label, id), false)
}

// opsLine describes the actions in flight and the abandoned ones, for the
// pane tabs' line.
func (s *Job) opsLine() []string {
	now := s.ctx.Now()
	var out []string
	for _, o := range s.ops {
		id := ""
		if o.trigger.ID != "" {
			id = " " + o.trigger.ID
		}
		out = append(out, fmt.Sprintf("%s %s%s %s of %s (A abandons)", s.ctx.Spinner(), o.label, id, dur(now.Sub(o.started)), dur(o.timeout)))
	}
	for _, a := range s.abandoned {
		out = append(out, fmt.Sprintf("abandoned %s %s %s ago", a.label, a.trigger.ID, dur(now.Sub(a.at))))
	}
	return out
}
