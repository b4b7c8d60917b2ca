package upgrade

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

// stop stops the job with a savepoint. The trigger ID is journaled before
// the request, so a rerun polls the same operation (Flink's and the
// engine's triggers are idempotent by ID) instead of taking another.
func (u *Upgrade) stop(ctx context.Context) error {
	st := u.st
	timeout := u.StopTimeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	trig := cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: u.JobID, ID: st.stopTrigger}
	var op *cluster.Operation
	if trig.ID != "" {
		u.event(StepStop, Running, "the stop of job %s was requested before (trigger %s): waiting for it", u.JobID, trig.ID)
		var err error
		op, err = u.C.Poll(sctx, trig)
		switch {
		case errors.Is(err, cluster.ErrNotFound):
			// The cluster forgot the trigger (restarted, or its cache
			// expired): the job's state tells what happened.
			sp, running, jerr := u.stoppedAlready(sctx)
			if jerr != nil {
				return jerr
			}
			if sp != "" {
				return u.stopped(sp)
			}
			if !running {
				return fmt.Errorf("job %s is no longer running and its stop-with-savepoint trigger %s is unknown to the cluster: find its savepoint (ckpt savepoints) and resume by hand", u.JobID, trig.ID)
			}
			op = nil // re-send with the same trigger ID
		case err != nil:
			return err
		}
	} else {
		trig.ID = u.newID()
		if err := u.journal(Record{Step: recStopRequested, Trigger: trig.ID}); err != nil {
			return err
		}
	}
	if op == nil {
		u.event(StepStop, Running, "stopping job %s with a savepoint into %s", u.JobID, dirOrDefault(u.Request.SavepointDir))
		t, err := u.C.StopWithSavepoint(sctx, u.JobID, cluster.StopRequest{TargetDir: u.Request.SavepointDir,
			Format: cluster.SavepointFormat(u.Request.Format), TriggerID: trig.ID})
		if err != nil {
			if !refused(err) {
				// No answer: the stop may have been accepted. A rerun
				// polls the journaled trigger, or sends it again.
				return err
			}
			return u.stopFailed(ctx, err)
		}
		trig = t
	}
	op, err := cluster.Wait(sctx, u.C, trig)
	if err != nil {
		var f *cluster.Failure
		if errors.As(err, &f) {
			if sp := f.SavepointLocation(); sp != "" {
				// The savepoint completed, the job failed while stopping:
				// a valid savepoint, to upgrade from.
				u.event(StepStop, Warning, "the savepoint completed but the job failed while stopping: %v", f)
				return u.stopped(sp)
			}
			return u.stopFailed(ctx, err)
		}
		return err // still in progress, or the cluster did not answer: rerun to continue
	}
	if err := cluster.WaitTerminal(sctx, u.C, u.JobID); err != nil {
		return err
	}
	return u.stopped(op.Location)
}

// refused says the cluster answered no (as opposed to not answering).
func refused(err error) bool {
	for _, k := range []error{cluster.ErrBadRequest, cluster.ErrConflict, cluster.ErrNotFound, cluster.ErrNotSupported, cluster.ErrDenied} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

func dirOrDefault(d string) string {
	if d == "" {
		return "the cluster's savepoint directory"
	}
	return d
}

// stopFailed: the stop was refused or the savepoint failed. Flink keeps
// the job running then; the upgrade ends with nothing changed.
func (u *Upgrade) stopFailed(ctx context.Context, cause error) error {
	j, err := u.C.Job(ctx, u.JobID)
	if err == nil && j.Status == cluster.JobRunning {
		u.event(StepStop, Failure, "%v; job %s still runs the old program", cause, u.JobID)
		u.rep.Outcome, u.rep.Reason = Refused, fmt.Sprintf("the stop with a savepoint failed (%v); the job still runs", cause)
		return u.journal(Record{Step: recEnd, Outcome: Refused, Reason: u.rep.Reason})
	}
	return fmt.Errorf("stop with a savepoint of job %s failed: %w", u.JobID, cause)
}

// stoppedAlready looks at the job when its stop trigger is unknown: the
// savepoint of a job that finished by it, or whether it still runs.
func (u *Upgrade) stoppedAlready(ctx context.Context) (string, bool, error) {
	j, err := u.C.Job(ctx, u.JobID)
	if err != nil {
		return "", false, err
	}
	if !j.Status.Terminal() {
		return "", j.Status == cluster.JobRunning, nil
	}
	if j.Status != cluster.JobFinished {
		return "", false, nil
	}
	st, err := u.C.Checkpoints(ctx, u.JobID)
	if err != nil {
		return "", false, err
	}
	if sp := st.LatestSavepoint; sp != nil && sp.Status == cluster.CheckpointCompleted && sp.ExternalPath != "" {
		return sp.ExternalPath, false, nil
	}
	return "", false, nil
}

func (u *Upgrade) stopped(sp string) error {
	if err := u.journal(Record{Step: recStopped, Savepoint: sp}); err != nil {
		return err
	}
	u.event(StepStop, Done, "job %s stopped; savepoint %s", u.JobID, sp)
	return nil
}
