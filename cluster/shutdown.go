package cluster

import (
	"context"
	"fmt"
	"path"
	"sync"
	"time"
)

// What an operator can do with the jobs still running when a UI that runs
// them in its own process (the embedded engine) quits: stop them with a
// savepoint, cancel them, or move them to another cluster (a background
// `ckpt serve`) so they go on after the UI is gone.
//
// Moving is a stop-with-savepoint here and a resume there, under the same
// job ID: the embedded engine's jobs are goroutines of this process, with
// their keyed state in Pebble instances this process opened, records in
// flight in its memory and exactly-once sinks' open transactions bound to
// it. None of that can be handed to another process while it runs — the
// one consistent, transferable form of a running job is a savepoint. The
// job pauses for the savepoint and the restore (seconds for small state);
// nothing is lost or duplicated (stop-with-savepoint commits the sinks'
// output up to the savepoint, the resumed job goes on from it).

// Running lists the jobs of c that are not terminal (running, restarting,
// being created or cancelled), oldest first as c lists them.
func Running(ctx context.Context, c Cluster) ([]JobSummary, error) {
	jobs, err := c.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	var out []JobSummary
	for _, j := range jobs {
		if !j.Status.Terminal() {
			out = append(out, j)
		}
	}
	return out, nil
}

// JobOutcome is what happened to one job of StopAll, CancelAll or MoveAll.
type JobOutcome struct {
	JobID string
	Name  string
	// Savepoint is where its state went (stop, move); "" otherwise.
	Savepoint string
	// MovedTo is the job's ID on the other cluster (move): the same ID.
	MovedTo string
	// Err is why it failed; the job then still runs where it ran, unless
	// the message says otherwise.
	Err error
}

// StopAll stops every running job of c with a savepoint into dir ("" = the
// cluster's default), in parallel, and waits for each (bounded by ctx).
// A job whose savepoint fails keeps running and its outcome says why.
func StopAll(ctx context.Context, c Cluster, dir string) ([]JobOutcome, error) {
	return each(ctx, c, func(ctx context.Context, j JobSummary) JobOutcome {
		o := JobOutcome{JobID: j.ID, Name: j.Name}
		o.Savepoint, o.Err = stopOne(ctx, c, j.ID, dir)
		return o
	})
}

// CancelAll cancels every running job of c and waits until each is
// terminal (bounded by ctx). Retained checkpoints then follow each job's
// retention policy.
func CancelAll(ctx context.Context, c Cluster) ([]JobOutcome, error) {
	return each(ctx, c, func(ctx context.Context, j JobSummary) JobOutcome {
		o := JobOutcome{JobID: j.ID, Name: j.Name}
		if err := c.Cancel(ctx, j.ID); err != nil {
			o.Err = err
			return o
		}
		o.Err = WaitTerminal(ctx, c, j.ID)
		return o
	})
}

// MoveAll moves every running job of from to to: a stop with a savepoint
// into dir ("" = from's default) and, once it completed, the job's program
// (Job.Program: the embedded engine keeps each job's spec) submitted to to
// from that savepoint under the same job ID, so its checkpoints go on in
// the same <checkpoint-dir>/<job-id> and `ckpt -m` finds it by its ID. A
// job without a program cannot be moved (it is left running). If the
// resume fails, the job is stopped and its outcome names the savepoint to
// resume from by hand.
func MoveAll(ctx context.Context, from, to Cluster, dir string) ([]JobOutcome, error) {
	return each(ctx, from, func(ctx context.Context, j JobSummary) JobOutcome {
		o := JobOutcome{JobID: j.ID, Name: j.Name}
		d, err := from.Job(ctx, j.ID)
		if err != nil {
			o.Err = err
			return o
		}
		if d.Program == nil || d.Program.Spec == "" {
			o.Err = fmt.Errorf("job %s: its program is not known, so it cannot be resubmitted elsewhere (left running)", j.ID)
			return o
		}
		if o.Savepoint, o.Err = stopOne(ctx, from, j.ID, dir); o.Err != nil {
			return o
		}
		name := path.Base(d.Program.Name)
		if name == "." || name == "/" || name == "" {
			name = "job.yaml"
		}
		o.MovedTo, o.Err = Submit(ctx, to, name, []byte(d.Program.Spec), RunRequest{JobID: j.ID, SavepointPath: o.Savepoint})
		if o.Err != nil {
			o.Err = fmt.Errorf("job %s stopped with savepoint %s, but resuming it on the other cluster failed (resume from the savepoint by hand): %w",
				j.ID, o.Savepoint, o.Err)
		}
		return o
	})
}

func each(ctx context.Context, c Cluster, f func(context.Context, JobSummary) JobOutcome) ([]JobOutcome, error) {
	jobs, err := Running(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]JobOutcome, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = f(ctx, j)
		}()
	}
	wg.Wait()
	return out, nil
}

func stopOne(ctx context.Context, c Cluster, jobID, dir string) (string, error) {
	t, err := c.StopWithSavepoint(ctx, jobID, StopRequest{TargetDir: dir})
	if err != nil {
		return "", err
	}
	op, err := Wait(ctx, c, t)
	if err != nil {
		return "", err
	}
	return op.Location, WaitTerminal(ctx, c, jobID)
}

// WaitTerminal polls the job (backing off to 500 ms) until it is in a
// terminal state, or ctx ends.
func WaitTerminal(ctx context.Context, c Cluster, jobID string) error {
	delay := 20 * time.Millisecond
	for {
		j, err := c.Job(ctx, jobID)
		if err != nil {
			return err
		}
		if j.Status.Terminal() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("job %s still %s: %w", jobID, j.Status, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}
