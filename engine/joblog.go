package engine

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/internal/units"
)

// The job log: the engine's own account of a job, one line per fact, for
// Options.Log (the embedded cluster's job output file, `ckpt run`'s
// stderr): where it checkpoints, what it was restored from and which state
// it skipped, every checkpoint and savepoint completed, failed or
// discarded, task failures and status changes (restarts among them).

// startLines are what the job says before it runs.
func (j *Job) startLines() []string {
	o := j.opts
	where := "checkpoints off (set execution.checkpointing.interval and execution.checkpointing.dir)"
	if o.Checkpointing.Interval > 0 {
		where = fmt.Sprintf("checkpoints every %s into %s (retain %d, %s)", config.FormatDuration(o.Checkpointing.Interval),
			j.CheckpointDir(), o.Checkpointing.NumRetained, o.Checkpointing.Retention)
	}
	lines := []string{fmt.Sprintf("job %s %q: %s", j.id, j.g.Name, where)}
	if o.RestorePath != "" && j.restored != nil {
		lines = append(lines, fmt.Sprintf("restored from %s (checkpoint %d, %s); checkpoints continue at %d", o.RestorePath,
			j.restored.CheckpointID, o.ClaimMode, j.restored.CheckpointID+1))
		for _, u := range j.skipped {
			lines = append(lines, fmt.Sprintf("skipped state of operator %s: no operator of this job maps to it (allow-non-restored-state)", u))
		}
	}
	return lines
}

// startLog writes the start lines to w and then every event as a line
// until the job ends. Called before the job runs, so nothing is missed.
func (j *Job) startLog(w io.Writer) {
	now := time.Now()
	for _, l := range j.startLines() {
		io.WriteString(w, stamp(now)+" "+l+"\n")
	}
	events, _ := j.Subscribe()
	go func() {
		for e := range events {
			if line := LogLine(e); line != "" {
				io.WriteString(w, line+"\n") // one write per line: lines of jobs sharing w stay whole
			}
		}
	}()
}

func stamp(t time.Time) string { return t.Format("15:04:05") }

// LogLine is one event as a job-log line ("" for events not logged, such
// as subtask acknowledgements).
func LogLine(e Event) string {
	ts := stamp(e.Time)
	switch e.Kind {
	case event.CheckpointCompleted:
		if e.Savepoint {
			return fmt.Sprintf("%s savepoint %d COMPLETED %6s  %s  %s", ts, e.CheckpointID, ms(e.Duration), units.Bytes(e.StateSize), e.Path)
		}
		return fmt.Sprintf("%s chk-%-4d COMPLETED %6s  full %s, uploaded %s  sync %s async %s align %s",
			ts, e.CheckpointID, ms(e.Duration), units.Bytes(e.StateSize), units.Bytes(e.Checkpointed),
			ms(e.SyncDuration), ms(e.AsyncDuration), ms(e.Alignment))
	case event.CheckpointFailed:
		if e.Savepoint {
			return fmt.Sprintf("%s savepoint %d FAILED %6s  %s", ts, e.CheckpointID, ms(e.Duration), e.Cause)
		}
		return fmt.Sprintf("%s chk-%-4d FAILED    %6s  %s", ts, e.CheckpointID, ms(e.Duration), e.Cause)
	case event.CheckpointDiscarded:
		return fmt.Sprintf("%s chk-%-4d discarded (%s)", ts, e.CheckpointID, e.Cause)
	case event.JobStatusChanged:
		return fmt.Sprintf("%s job %s", ts, e.Status)
	case event.TaskFailed:
		cause := e.Cause
		if i := strings.IndexByte(cause, '\n'); i >= 0 {
			cause = cause[:i]
		}
		return fmt.Sprintf("%s task failed: %s", ts, cause)
	}
	return ""
}

func ms(d time.Duration) string {
	if d < time.Millisecond && d > 0 {
		return "<1ms"
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}
