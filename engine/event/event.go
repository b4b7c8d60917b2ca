// Package event is what a running job reports: checkpoint progress and job
// status changes, the stream the TUI and the REST API draw from.
package event

import "time"

// Kind of event.
type Kind string

const (
	CheckpointTriggered Kind = "CHECKPOINT_TRIGGERED"
	SubtaskAcknowledged Kind = "SUBTASK_ACKNOWLEDGED"
	CheckpointCompleted Kind = "CHECKPOINT_COMPLETED"
	CheckpointFailed    Kind = "CHECKPOINT_FAILED"
	CheckpointDiscarded Kind = "CHECKPOINT_DISCARDED" // subsumed or cleaned up
	JobStatusChanged    Kind = "JOB_STATUS_CHANGED"
	TaskFailed          Kind = "TASK_FAILED"
)

// Event is one report. Fields beyond Kind/Time/JobID are set per kind.
type Event struct {
	Kind  Kind
	Time  time.Time
	JobID string

	// Checkpoint events.
	CheckpointID int64
	Savepoint    bool
	// Path is the checkpoint's directory (completed, discarded).
	Path string
	// Subtask acknowledgement: which operator subtask and its figures.
	OperatorID    string
	OperatorUID   string
	OperatorName  string
	Subtask       int
	NumSubtasks   int // operator subtasks acknowledged so far / total (completion: total)
	NumAcked      int
	StateSize     int64 // full size referenced
	Checkpointed  int64 // bytes uploaded by this checkpoint
	SyncDuration  time.Duration
	AsyncDuration time.Duration
	// Alignment is the time from a task's first barrier to its last (0 for
	// a task with one input); StartDelay the time from the checkpoint's
	// trigger to the task's first barrier (Flink's start delay).
	Alignment  time.Duration
	StartDelay time.Duration
	Duration   time.Duration // end to end (completed / failed)
	// Cause of a failure (checkpoint failed, task failed).
	Cause string

	// Job status change.
	Status     string
	PrevStatus string
}
