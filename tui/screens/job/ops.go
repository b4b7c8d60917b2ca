package job

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// inflightOp is an action still running (a savepoint waits for its
// trigger to complete).
type inflightOp struct {
	task    shell.TaskID
	label   string
	started time.Time
	// timeout bounds the wait: the job's checkpoint timeout plus a minute.
	timeout time.Duration
	// trigger is the cluster's request id, once the trigger was accepted.
	trigger cluster.Trigger
	ctx     context.Context
	done    func(*cluster.Operation) (toast, savepoint string)
	// failNote says what a failure means for the job ("" when nothing
	// more than the error).
	failNote string
}

// Asynchronous actions of the job screen after their trigger was accepted:
// waiting for them (backing off, bounded by the job's checkpoint timeout
// rather than a fixed short timeout that gives up on large state),
// abandoning the wait, and keeping a savepoint that a failed stop still
// wrote.

// opTriggeredMsg: the cluster accepted the trigger; now wait for it.
type opTriggeredMsg struct {
	sid     int
	task    shell.TaskID
	trigger cluster.Trigger
}

// abandonedOp is a trigger this screen stopped waiting for: it may still
// complete on the cluster.
type abandonedOp struct {
	label   string
	trigger cluster.Trigger
	at      time.Time
}

// waitOp polls the trigger until it completes or the op's task ends.
func waitOp(c cluster.Cluster, o inflightOp, jobID string) tea.Cmd {
	return func() tea.Msg {
		op, err := cluster.Wait(o.ctx, c, o.trigger)
		switch {
		case errors.Is(o.ctx.Err(), context.Canceled):
			return nil // abandoned (or the app quit): nothing to report
		case errors.Is(err, context.DeadlineExceeded):
			return shell.TaskDoneMsg{Task: o.task, Err: fmt.Errorf("%s (trigger %s): still in progress after %s — the job's checkpoint timeout plus a minute; it may yet complete on the cluster",
				o.label, o.trigger.ID, format.Dur(o.timeout))}
		case err != nil:
			m := shell.TaskDoneMsg{Task: o.task, JobID: jobID, Err: fmt.Errorf("%s (trigger %s): %w", o.label, o.trigger.ID, err)}
			if o.failNote != "" {
				m.Err = fmt.Errorf("%s (trigger %s): %s — %w", o.label, o.trigger.ID, o.failNote, err)
			}
			var f *cluster.Failure
			if errors.As(err, &f) {
				if loc := savepointInFailure(f); loc != "" {
					// The savepoint is complete and consistent even though
					// the job failed while stopping: keep it for resume.
					m.Savepoint = loc
					m.Err = fmt.Errorf("%s (trigger %s) failed, but the savepoint was written and is kept: %s — %w", o.label, o.trigger.ID, loc, err)
				}
			}
			return m
		}
		toast, sp := o.done(op)
		return shell.TaskDoneMsg{Task: o.task, Toast: toast, JobID: jobID, Savepoint: sp}
	}
}

// savepointInFailure is the savepoint a failed stop-with-savepoint still
// wrote, from its failure cause ("" when there is none).
func savepointInFailure(f *cluster.Failure) string { return f.SavepointLocation() }
