package upgrade

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

// rollback cancels the new job (if it runs) and resubmits the old program
// from the same savepoint.
func (u *Upgrade) rollback(ctx context.Context) error {
	st := u.st
	u.event(StepRollback, Running, "rolling back: %s", st.rollback.Reason)
	if id := st.submitted[roleNew]; id != "" || st.requested[roleNew] != "" {
		if id == "" {
			id = st.requested[roleNew]
		}
		j, err := u.C.Job(ctx, id)
		switch {
		case errors.Is(err, cluster.ErrNotFound):
		case err != nil:
			return err
		case !j.Status.Terminal():
			if st.cancelAsked != id {
				if err := u.journal(Record{Step: recCancelRequested, Job: id}); err != nil {
					return err
				}
			}
			u.event(StepRollback, Running, "cancelling the new job %s (%s)", id, j.Status)
			if err := u.C.Cancel(ctx, id); err != nil && !errors.Is(err, cluster.ErrConflict) {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			err := cluster.WaitTerminal(wctx, u.C, id)
			cancel()
			if err != nil {
				return err
			}
			u.event(StepRollback, Done, "new job %s cancelled", id)
		}
	}
	id, err := u.submit(ctx, roleOld, u.Old, false)
	if err != nil {
		var sf *submitFailure
		if errors.As(err, &sf) {
			return u.failed(fmt.Sprintf("%s; then resubmitting the old program failed: %v", st.rollback.Reason, sf.err))
		}
		return err
	}
	u.rep.RollbackJobID = id
	ok, why, err := u.watch(ctx, StepRollWatch, id, 1)
	if err != nil {
		return err
	}
	if !ok {
		return u.failed(fmt.Sprintf("%s; then the rolled-back job failed too: %s", st.rollback.Reason, why))
	}
	u.rep.Outcome = RolledBack
	return u.journal(Record{Step: recEnd, Outcome: RolledBack, Reason: st.rollback.Reason, Job: id})
}

func (u *Upgrade) failed(reason string) error {
	reason += fmt.Sprintf("; resume by hand from the savepoint %s", u.st.savepoint)
	u.rep.Outcome, u.rep.Reason = Failed, reason
	u.event(StepRollback, Failure, "%s", reason)
	return u.journal(Record{Step: recEnd, Outcome: Failed, Reason: reason})
}
