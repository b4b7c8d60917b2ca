package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// ErrNoSavepointDir is returned when no target directory is given and
// none is configured (Flink's wording names the key).
var ErrNoSavepointDir = errors.New("Config key [" + config.SavepointDir + "] is not set. Property [target-directory] must be provided.")

// savepointTarget is a fresh savepoint-<6 hex of job id>-<12 hex> directory
// under dir (or the configured savepoint directory).
func (j *Job) savepointTarget(dir string, format snapshot.SavepointFormat, action snapshot.PostCheckpointAction, notify bool) (*checkpoint.SavepointTarget, error) {
	if dir == "" {
		dir = j.opts.Checkpointing.SavepointDir
	}
	if dir == "" {
		return nil, ErrNoSavepointDir
	}
	if _, err := storage.Parse(dir); err != nil {
		return nil, err
	}
	switch f := snapshot.SavepointFormat(strings.ToUpper(string(format))); f {
	case "", snapshot.FormatCanonical:
		format = snapshot.FormatCanonical
	case snapshot.FormatNative:
		format = f
	default:
		return nil, fmt.Errorf("savepoint format %q: want CANONICAL or NATIVE", format)
	}
	name, err := snapshot.NewSavepointDirName(j.id)
	if err != nil {
		return nil, err
	}
	return &checkpoint.SavepointTarget{Dir: storage.Join(dir, name), Format: format, Action: action, Notify: notify}, nil
}

func wait(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Savepoint takes a savepoint of the running job into dir ("" = the
// configured execution.checkpointing.savepoint-dir) and returns its
// directory, savepoint-<6 hex of job id>-<12 hex>. The savepoint is
// self-contained and relocatable (relative paths): CANONICAL (default) is
// ckpt's backend-independent key-group stream, NATIVE copies Pebble's
// files. The job goes on; nothing is committed by the savepoint.
func (j *Job) Savepoint(ctx context.Context, dir string, format snapshot.SavepointFormat) (string, error) {
	sp, err := j.savepointTarget(dir, format, snapshot.ActionNone, false)
	if err != nil {
		return "", err
	}
	_, done := j.coord.TriggerSavepoint(sp, false)
	if err := wait(ctx, done); err != nil {
		return "", err
	}
	return sp.Dir, nil
}

// StopWithSavepoint stops the job with a savepoint, the way to upgrade: the
// sources emit nothing after the savepoint's barrier, exactly-once sinks
// commit what the savepoint covers, and the job ends FINISHED. With drain,
// the sources first end their input (event-time windows fire, as Flink's
// MAX_WATERMARK does) and the savepoint is the job's final state. If the
// savepoint fails, the job keeps running and the error is returned.
func (j *Job) StopWithSavepoint(ctx context.Context, dir string, format snapshot.SavepointFormat, drain bool) (string, error) {
	action := snapshot.ActionSuspend
	if drain {
		action = snapshot.ActionTerminate
	}
	sp, err := j.savepointTarget(dir, format, action, true)
	if err != nil {
		return "", err
	}
	j.mu.Lock()
	a := j.attempt
	if a == nil || j.status != Running {
		j.mu.Unlock()
		return "", fmt.Errorf("job %s is %s, not RUNNING", j.id, j.status)
	}
	if drain {
		j.drainTo = sp
		j.drainDone = make(chan error, 1)
	}
	j.mu.Unlock()
	var done <-chan error
	if drain {
		a.DrainSources()
		done = j.drainDone
	} else {
		_, done = j.coord.TriggerSavepoint(sp, true)
	}
	if err := wait(ctx, done); err != nil {
		return "", err
	}
	if !drain {
		a.Finish()
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return sp.Dir, ctx.Err()
	}
	return sp.Dir, nil
}

// CancelWithSavepoint takes a savepoint and cancels the job atomically: the
// sources emit nothing after the savepoint's barrier, so the savepoint is
// the job's final state and nothing after it reaches an exactly-once sink.
// Retained checkpoints then follow the retention policy for CANCELED.
func (j *Job) CancelWithSavepoint(ctx context.Context, dir string, format snapshot.SavepointFormat) (string, error) {
	sp, err := j.savepointTarget(dir, format, snapshot.ActionNone, true)
	if err != nil {
		return "", err
	}
	_, done := j.coord.TriggerSavepoint(sp, true)
	if err := wait(ctx, done); err != nil {
		return "", err
	}
	j.Cancel()
	select {
	case <-j.done:
	case <-ctx.Done():
		return sp.Dir, ctx.Err()
	}
	return sp.Dir, nil
}
