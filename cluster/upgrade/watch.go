package upgrade

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

// watch follows job id until n checkpoints completed (ok), or it fails,
// restarts, ends, or the timeout passes without them (not ok, why).
func (u *Upgrade) watch(ctx context.Context, step, id string, n int) (bool, string, error) {
	poll := u.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	timeout := u.Request.Timeout
	u.event(step, Running, "job %s: waiting for %d completed checkpoint(s), at most %v", id, n, timeout)
	deadline := u.now().Add(timeout)
	noCheckpoints := false
	if _, err := u.C.CheckpointConfig(ctx, id); errors.Is(err, cluster.ErrNotFound) {
		noCheckpoints = true
		u.event(step, Warning, "job %s does not checkpoint: watching it for failures for %v instead", id, timeout)
	}
	last := -1
	for {
		j, err := u.C.Job(ctx, id)
		if err != nil && !errors.Is(err, cluster.ErrNotFound) {
			return false, "", err
		}
		if err == nil {
			if why := unhealthy(ctx, u.C, j); why != "" {
				u.event(step, Failure, "%s", why)
				return false, why, nil
			}
			if j.Status == cluster.JobRunning && !noCheckpoints {
				cs, err := u.C.Checkpoints(ctx, id)
				if err != nil && !errors.Is(err, cluster.ErrNotFound) {
					return false, "", err
				}
				done := 0
				if cs != nil {
					done = cs.Counts.Completed
				}
				if done != last && done > 0 {
					u.event(step, Progress, "job %s: %d of %d checkpoint(s) completed", id, min(done, n), n)
				}
				last = done
				if done >= n {
					why := fmt.Sprintf("job %s RUNNING, %d checkpoint(s) completed", id, done)
					u.event(step, Done, "%s", why)
					return true, why, nil
				}
			}
		}
		if !u.now().Before(deadline) {
			if noCheckpoints && err == nil && j.Status == cluster.JobRunning {
				why := fmt.Sprintf("job %s RUNNING for %v without a failure (it does not checkpoint)", id, timeout)
				u.event(step, Done, "%s", why)
				return true, why, nil
			}
			why := fmt.Sprintf("job %s: fewer than %d checkpoint(s) completed within %v", id, n, timeout)
			if last >= 0 {
				why = fmt.Sprintf("job %s: %d of %d checkpoint(s) completed within %v", id, max(last, 0), n, timeout)
			}
			u.event(step, Failure, "%s", why)
			return false, why, nil
		}
		select {
		case <-ctx.Done():
			return false, "", ctx.Err()
		case <-time.After(poll):
		}
	}
}

// unhealthy is why a watched job is failing ("" = fine so far): it ended,
// fails, or restarted (a restart strategy hides a failing program behind
// RUNNING: the timestamps keep that it restarted).
func unhealthy(ctx context.Context, c cluster.Cluster, j *cluster.Job) string {
	bad := ""
	switch {
	case j.Status.Terminal() || j.Status == cluster.JobSuspended:
		bad = fmt.Sprintf("job %s is %s", j.ID, j.Status)
	case j.Status == cluster.JobFailing || j.Status == cluster.JobRestarting:
		bad = fmt.Sprintf("job %s is %s", j.ID, j.Status)
	case !j.Timestamps[cluster.JobRestarting].IsZero() || !j.Timestamps[cluster.JobFailing].IsZero():
		bad = fmt.Sprintf("job %s restarted", j.ID)
	}
	if bad == "" {
		return ""
	}
	if x, err := c.Exceptions(ctx, j.ID); err == nil && len(x.Entries) > 0 {
		// The outermost cause and the root one: "Recovery is suppressed"
		// alone says nothing of why.
		e := x.Entries[0]
		if e.StackTrace != "" {
			bad += ": " + (&cluster.Failure{Class: e.Name, StackTrace: e.StackTrace}).Error()
		} else {
			bad += ": " + e.Message()
		}
	}
	return bad
}
