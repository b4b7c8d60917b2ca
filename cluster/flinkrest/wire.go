// Package flinkrest is Flink's REST API on the wire: the JSON shapes of the
// JobManager's responses and requests (Flink 1.15 to 2.x) with their
// conversions to and from cluster's Go types, and a Client that implements
// cluster.Cluster against a real JobManager. cluster/restserver encodes with
// the same types, so what ckpt serves and what it reads from Flink are one
// definition.
//
// Field names follow Flink exactly, mixed casing included: kebab-case in
// job listings and async results (start-time, request-id, failure-cause,
// target-directory, cancel-job), snake_case in checkpoint statistics
// (trigger_timestamp, num_subtasks), camelCase elsewhere (targetDirectory,
// formatType, checkpointId, failureCause, savepointPath). Decoding is
// lenient: unknown keys are ignored and percentiles may be numbers or the
// string "NaN", as Flink writes them.
package flinkrest

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// OverviewDTO is GET /overview.
type OverviewDTO struct {
	TaskManagers        int    `json:"taskmanagers"`
	TaskManagersBlocked *int   `json:"taskmanagers-blocked,omitempty"`
	SlotsTotal          int    `json:"slots-total"`
	SlotsAvailable      int    `json:"slots-available"`
	SlotsFreeAndBlocked *int   `json:"slots-free-and-blocked,omitempty"`
	JobsRunning         int    `json:"jobs-running"`
	JobsFinished        int    `json:"jobs-finished"`
	JobsCancelled       int    `json:"jobs-cancelled"`
	JobsFailed          int    `json:"jobs-failed"`
	FlinkVersion        string `json:"flink-version"`
	FlinkCommit         string `json:"flink-commit"`
}

// ConfigDTO is GET /config (the dashboard configuration).
type ConfigDTO struct {
	RefreshInterval int64           `json:"refresh-interval"`
	TimezoneName    string          `json:"timezone-name"`
	TimezoneOffset  int64           `json:"timezone-offset"`
	FlinkVersion    string          `json:"flink-version"`
	FlinkRevision   string          `json:"flink-revision"`
	Features        map[string]bool `json:"features"`
}

// KeyValueDTO is one entry of GET /jobmanager/config.
type KeyValueDTO struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// JobIDsDTO is GET /jobs.
type JobIDsDTO struct {
	Jobs []JobIDStatusDTO `json:"jobs"`
}

// JobIDStatusDTO is one job of GET /jobs.
type JobIDStatusDTO struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// JobsOverviewDTO is GET /jobs/overview.
type JobsOverviewDTO struct {
	Jobs []JobOverviewDTO `json:"jobs"`
}

// JobOverviewDTO is one job of GET /jobs/overview.
type JobOverviewDTO struct {
	JID              string         `json:"jid"`
	Name             string         `json:"name"`
	JobType          string         `json:"jobType,omitempty"`
	StartTime        int64          `json:"start-time"`
	EndTime          int64          `json:"end-time"`
	Duration         int64          `json:"duration"`
	State            string         `json:"state"`
	LastModification int64          `json:"last-modification"`
	Tasks            map[string]int `json:"tasks"`
}

// JobDetailDTO is GET /jobs/:jobid.
type JobDetailDTO struct {
	JID            string           `json:"jid"`
	Name           string           `json:"name"`
	IsStoppable    bool             `json:"isStoppable"`
	State          string           `json:"state"`
	JobType        string           `json:"job-type,omitempty"`
	StartTime      int64            `json:"start-time"`
	EndTime        int64            `json:"end-time"`
	Duration       int64            `json:"duration"`
	MaxParallelism int              `json:"maxParallelism"`
	Now            int64            `json:"now"`
	Timestamps     map[string]int64 `json:"timestamps"`
	Vertices       []VertexDTO      `json:"vertices"`
	StatusCounts   map[string]int   `json:"status-counts"`
	Plan           *PlanDTO         `json:"plan,omitempty"`
	// CkptProgram is a ckpt extension (absent from Flink's answers): the
	// job spec a job of `ckpt serve` was started from.
	CkptProgram *ProgramDTO `json:"ckpt_program,omitempty"`
}

// ProgramDTO is the ckpt_program extension of GET /jobs/:jobid.
type ProgramDTO struct {
	Name  string `json:"name"`
	JarID string `json:"jar_id,omitempty"`
	Spec  string `json:"spec"`
}

// VertexDTO is one vertex of GET /jobs/:jobid.
type VertexDTO struct {
	ID             string           `json:"id"`
	Name           string           `json:"name"`
	MaxParallelism int              `json:"maxParallelism"`
	Parallelism    int              `json:"parallelism"`
	Status         string           `json:"status"`
	StartTime      int64            `json:"start-time"`
	EndTime        int64            `json:"end-time"`
	Duration       int64            `json:"duration"`
	Tasks          map[string]int   `json:"tasks"`
	Metrics        VertexMetricsDTO `json:"metrics"`
	// CkptOperators is a ckpt extension (absent from Flink's answers): the
	// operators of the vertex's chain, head first, with their uids — what
	// an operator needs to read an operator ID in a restore error.
	CkptOperators []OperatorDTO `json:"ckpt_operators,omitempty"`
}

// OperatorDTO is one operator of the ckpt_operators extension.
type OperatorDTO struct {
	ID   string `json:"id"`
	UID  string `json:"uid,omitempty"`
	Name string `json:"name"`
}

// VertexMetricsDTO are a vertex's I/O metrics.
type VertexMetricsDTO struct {
	ReadBytes                    int64     `json:"read-bytes"`
	ReadBytesComplete            bool      `json:"read-bytes-complete"`
	WriteBytes                   int64     `json:"write-bytes"`
	WriteBytesComplete           bool      `json:"write-bytes-complete"`
	ReadRecords                  int64     `json:"read-records"`
	ReadRecordsComplete          bool      `json:"read-records-complete"`
	WriteRecords                 int64     `json:"write-records"`
	WriteRecordsComplete         bool      `json:"write-records-complete"`
	AccumulatedBackpressuredTime int64     `json:"accumulated-backpressured-time"`
	AccumulatedIdleTime          int64     `json:"accumulated-idle-time"`
	AccumulatedBusyTime          FlexFloat `json:"accumulated-busy-time"` // "NaN" while unknown
}

// PlanDTO is the job plan of GET /jobs/:jobid.
type PlanDTO struct {
	JID   string        `json:"jid"`
	Name  string        `json:"name"`
	Type  string        `json:"type,omitempty"`
	Nodes []PlanNodeDTO `json:"nodes"`
}

// PlanNodeDTO is one vertex of the plan.
type PlanNodeDTO struct {
	ID                  string         `json:"id"`
	Operator            string         `json:"operator"`
	Parallelism         int            `json:"parallelism"`
	OperatorStrategy    string         `json:"operator_strategy"`
	Description         string         `json:"description"`
	OptimizerProperties map[string]any `json:"optimizer_properties"`
	Inputs              []PlanInputDTO `json:"inputs,omitempty"`
}

// PlanInputDTO is one input edge of a plan node.
type PlanInputDTO struct {
	ID           string `json:"id"`
	Num          int    `json:"num"`
	Exchange     string `json:"exchange"`
	ShipStrategy string `json:"ship_strategy"`
}

// ExceptionsDTO is GET /jobs/:jobid/exceptions (the exception history of
// Flink 1.13+; 1.x also sent root-exception/all-exceptions, removed in 2.0).
type ExceptionsDTO struct {
	ExceptionHistory ExceptionHistoryDTO `json:"exceptionHistory"`
}

// ExceptionHistoryDTO is the exception history.
type ExceptionHistoryDTO struct {
	Entries   []ExceptionDTO `json:"entries"`
	Truncated bool           `json:"truncated"`
}

// ExceptionDTO is one entry of the exception history.
type ExceptionDTO struct {
	ExceptionName        string            `json:"exceptionName"`
	Stacktrace           string            `json:"stacktrace"`
	Timestamp            int64             `json:"timestamp"`
	TaskName             *string           `json:"taskName,omitempty"`
	Endpoint             *string           `json:"endpoint,omitempty"`
	FailureLabels        map[string]string `json:"failureLabels"`
	ConcurrentExceptions []ExceptionDTO    `json:"concurrentExceptions,omitempty"`
}

// CheckpointingStatisticsDTO is GET /jobs/:jobid/checkpoints.
type CheckpointingStatisticsDTO struct {
	Counts  CheckpointCountsDTO  `json:"counts"`
	Summary CheckpointSummaryDTO `json:"summary"`
	Latest  LatestCheckpointsDTO `json:"latest"`
	History []CheckpointDTO      `json:"history"`
}

// CheckpointCountsDTO counts checkpoints.
type CheckpointCountsDTO struct {
	Restored   int `json:"restored"`
	Total      int `json:"total"`
	InProgress int `json:"in_progress"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
}

// CheckpointSummaryDTO summarises completed checkpoints.
type CheckpointSummaryDTO struct {
	CheckpointedSize  StatDTO `json:"checkpointed_size"`
	StateSize         StatDTO `json:"state_size"`
	EndToEndDuration  StatDTO `json:"end_to_end_duration"`
	AlignmentBuffered StatDTO `json:"alignment_buffered"`
	ProcessedData     StatDTO `json:"processed_data"`
	PersistedData     StatDTO `json:"persisted_data"`
}

// StatDTO is Flink's StatsSummaryDto.
type StatDTO struct {
	Min  int64     `json:"min"`
	Max  int64     `json:"max"`
	Avg  int64     `json:"avg"`
	P50  FlexFloat `json:"p50"`
	P90  FlexFloat `json:"p90"`
	P95  FlexFloat `json:"p95"`
	P99  FlexFloat `json:"p99"`
	P999 FlexFloat `json:"p999"`
}

// LatestCheckpointsDTO is the "latest" part of the statistics.
type LatestCheckpointsDTO struct {
	Completed *CheckpointDTO         `json:"completed"`
	Savepoint *CheckpointDTO         `json:"savepoint"`
	Failed    *CheckpointDTO         `json:"failed"`
	Restored  *RestoredCheckpointDTO `json:"restored"`
}

// RestoredCheckpointDTO is latest.restored.
type RestoredCheckpointDTO struct {
	ID               int64  `json:"id"`
	RestoreTimestamp int64  `json:"restore_timestamp"`
	IsSavepoint      bool   `json:"is_savepoint"`
	ExternalPath     string `json:"external_path"`
}

// CheckpointDTO is one checkpoint of the statistics; className says which
// of its optional fields are there: "completed" (external_path, discarded),
// "failed" (failure_timestamp, failure_message) or "in_progress".
type CheckpointDTO struct {
	ClassName              string                       `json:"className"`
	ID                     int64                        `json:"id"`
	Status                 string                       `json:"status"`
	IsSavepoint            bool                         `json:"is_savepoint"`
	SavepointFormat        *string                      `json:"savepointFormat"`
	TriggerTimestamp       int64                        `json:"trigger_timestamp"`
	LatestAckTimestamp     int64                        `json:"latest_ack_timestamp"`
	CheckpointedSize       int64                        `json:"checkpointed_size"`
	StateSize              int64                        `json:"state_size"`
	EndToEndDuration       int64                        `json:"end_to_end_duration"`
	AlignmentBuffered      int64                        `json:"alignment_buffered"`
	ProcessedData          int64                        `json:"processed_data"`
	PersistedData          int64                        `json:"persisted_data"`
	NumSubtasks            int                          `json:"num_subtasks"`
	NumAcknowledgedSubtask int                          `json:"num_acknowledged_subtasks"`
	CheckpointType         string                       `json:"checkpoint_type"`
	Tasks                  map[string]TaskCheckpointDTO `json:"tasks"`
	ExternalPath           *string                      `json:"external_path,omitempty"`
	Discarded              *bool                        `json:"discarded,omitempty"`
	FailureTimestamp       *int64                       `json:"failure_timestamp,omitempty"`
	FailureMessage         *string                      `json:"failure_message,omitempty"`
}

// TaskCheckpointDTO is one vertex of a checkpoint (details' tasks map).
type TaskCheckpointDTO struct {
	ID                     int64  `json:"id"`
	Status                 string `json:"status"`
	LatestAckTimestamp     int64  `json:"latest_ack_timestamp"`
	CheckpointedSize       int64  `json:"checkpointed_size"`
	StateSize              int64  `json:"state_size"`
	EndToEndDuration       int64  `json:"end_to_end_duration"`
	AlignmentBuffered      int64  `json:"alignment_buffered"`
	ProcessedData          int64  `json:"processed_data"`
	PersistedData          int64  `json:"persisted_data"`
	NumSubtasks            int    `json:"num_subtasks"`
	NumAcknowledgedSubtask int    `json:"num_acknowledged_subtasks"`
}

// VertexCheckpointDTO is GET .../details/:checkpointid/subtasks/:vertexid.
type VertexCheckpointDTO struct {
	TaskCheckpointDTO
	Summary  SubtaskSummaryDTO      `json:"summary"`
	Subtasks []SubtaskCheckpointDTO `json:"subtasks"`
}

// SubtaskSummaryDTO summarises a vertex's subtasks.
type SubtaskSummaryDTO struct {
	CheckpointedSize   StatDTO `json:"checkpointed_size"`
	StateSize          StatDTO `json:"state_size"`
	EndToEndDuration   StatDTO `json:"end_to_end_duration"`
	CheckpointDuration struct {
		Sync  StatDTO `json:"sync"`
		Async StatDTO `json:"async"`
	} `json:"checkpoint_duration"`
	Alignment struct {
		Buffered  StatDTO `json:"buffered"`
		Processed StatDTO `json:"processed"`
		Persisted StatDTO `json:"persisted"`
		Duration  StatDTO `json:"duration"`
	} `json:"alignment"`
	StartDelay StatDTO `json:"start_delay"`
}

// SubtaskCheckpointDTO is one subtask: className "completed" with figures,
// or "pending" with status "pending_or_failed" and nothing else.
type SubtaskCheckpointDTO struct {
	ClassName        string               `json:"className"`
	Index            int                  `json:"index"`
	AckTimestamp     *int64               `json:"ack_timestamp,omitempty"`
	EndToEndDuration *int64               `json:"end_to_end_duration,omitempty"`
	CheckpointedSize *int64               `json:"checkpointed_size,omitempty"`
	StateSize        *int64               `json:"state_size,omitempty"`
	Checkpoint       *SubtaskDurationDTO  `json:"checkpoint,omitempty"`
	Alignment        *SubtaskAlignmentDTO `json:"alignment,omitempty"`
	StartDelay       *int64               `json:"start_delay,omitempty"`
	Unaligned        *bool                `json:"unaligned_checkpoint,omitempty"`
	Aborted          *bool                `json:"aborted,omitempty"`
	Status           string               `json:"status"`
}

// SubtaskDurationDTO is a subtask's sync and async time.
type SubtaskDurationDTO struct {
	Sync  int64 `json:"sync"`
	Async int64 `json:"async"`
}

// SubtaskAlignmentDTO is a subtask's alignment.
type SubtaskAlignmentDTO struct {
	Buffered  int64 `json:"buffered"`
	Processed int64 `json:"processed"`
	Persisted int64 `json:"persisted"`
	Duration  int64 `json:"duration"`
}

// CheckpointConfigDTO is GET /jobs/:jobid/checkpoints/config.
type CheckpointConfigDTO struct {
	Mode            string `json:"mode"`
	Interval        int64  `json:"interval"`
	Timeout         int64  `json:"timeout"`
	MinPause        int64  `json:"min_pause"`
	MaxConcurrent   int    `json:"max_concurrent"`
	Externalization struct {
		Enabled              bool `json:"enabled"`
		DeleteOnCancellation bool `json:"delete_on_cancellation"`
	} `json:"externalization"`
	StateBackend                string `json:"state_backend"`
	CheckpointStorage           string `json:"checkpoint_storage"`
	UnalignedCheckpoints        bool   `json:"unaligned_checkpoints"`
	TolerableFailedCheckpoints  int    `json:"tolerable_failed_checkpoints"`
	AlignedCheckpointTimeout    int64  `json:"aligned_checkpoint_timeout"`
	CheckpointsAfterTasksFinish bool   `json:"checkpoints_after_tasks_finish"`
	StateChangelogEnabled       bool   `json:"state_changelog_enabled"`
	ChangelogMaterialization    int64  `json:"changelog_periodic_materialization_interval"`
	ChangelogStorage            string `json:"changelog_storage"`
	// ckpt extensions (absent from Flink's answers, where num-retained is a
	// cluster setting and the directory follows from external paths): the
	// job's own num-retained and <checkpoint dir>/<job id>.
	CkptNumRetained   int    `json:"ckpt_num_retained,omitempty"`
	CkptCheckpointDir string `json:"ckpt_checkpoint_dir,omitempty"`
}

// TriggerResponseDTO is the answer to every trigger: {"request-id": ...}.
type TriggerResponseDTO struct {
	RequestID string `json:"request-id"`
}

// CheckpointTriggerDTO is the body of POST /jobs/:jobid/checkpoints.
type CheckpointTriggerDTO struct {
	CheckpointType string `json:"checkpointType,omitempty"`
	TriggerID      string `json:"triggerId,omitempty"`
}

// SavepointTriggerDTO is the body of POST /jobs/:jobid/savepoints (note
// the kebab-case keys).
type SavepointTriggerDTO struct {
	TargetDirectory string `json:"target-directory,omitempty"`
	CancelJob       bool   `json:"cancel-job"`
	FormatType      string `json:"formatType,omitempty"`
	TriggerID       string `json:"triggerId,omitempty"`
}

// StopDTO is the body of POST /jobs/:jobid/stop (camelCase, unlike the
// savepoint trigger).
type StopDTO struct {
	TargetDirectory string `json:"targetDirectory,omitempty"`
	Drain           bool   `json:"drain"`
	FormatType      string `json:"formatType,omitempty"`
	TriggerID       string `json:"triggerId,omitempty"`
}

// DisposalDTO is the body of POST /savepoint-disposal.
type DisposalDTO struct {
	SavepointPath string `json:"savepoint-path"`
}

// AsyncStatusDTO is {"status": {"id": "IN_PROGRESS"|"COMPLETED"}, "operation": ...}.
type AsyncStatusDTO struct {
	Status struct {
		ID string `json:"id"`
	} `json:"status"`
	Operation json.RawMessage `json:"operation"`
}

// SavepointOperationDTO is the operation of a savepoint or stop.
type SavepointOperationDTO struct {
	Location     string           `json:"location,omitempty"`
	FailureCause *FailureCauseDTO `json:"failure-cause,omitempty"`
}

// CheckpointOperationDTO is the operation of a manual checkpoint (camelCase).
type CheckpointOperationDTO struct {
	CheckpointID *int64           `json:"checkpointId,omitempty"`
	FailureCause *FailureCauseDTO `json:"failureCause,omitempty"`
}

// DisposalOperationDTO is the operation of a disposal.
type DisposalOperationDTO struct {
	FailureCause *FailureCauseDTO `json:"failure-cause,omitempty"`
}

// FailureCauseDTO is a serialized Java throwable.
type FailureCauseDTO struct {
	Class               string `json:"class"`
	StackTrace          string `json:"stack-trace"`
	SerializedThrowable string `json:"serialized-throwable,omitempty"`
}

// ErrorsDTO is the body of every error response.
type ErrorsDTO struct {
	Errors []string `json:"errors"`
}

// JarUploadDTO is the answer to POST /jars/upload.
type JarUploadDTO struct {
	Filename string `json:"filename"`
	Status   string `json:"status"`
}

// JarListDTO is GET /jars.
type JarListDTO struct {
	Address string       `json:"address"`
	Files   []JarFileDTO `json:"files"`
}

// JarFileDTO is one uploaded jar.
type JarFileDTO struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Uploaded int64         `json:"uploaded"`
	Entry    []JarEntryDTO `json:"entry"`
}

// JarEntryDTO is an entry class of a jar.
type JarEntryDTO struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

// JarRunDTO is the body of POST /jars/:jarid/run. Send restoreMode to
// Flink 1.15–1.20 and claimMode to 2.x, never both.
type JarRunDTO struct {
	EntryClass            string            `json:"entryClass,omitempty"`
	ProgramArgsList       []string          `json:"programArgsList,omitempty"`
	Parallelism           *int              `json:"parallelism,omitempty"`
	JobID                 string            `json:"jobId,omitempty"`
	SavepointPath         string            `json:"savepointPath,omitempty"`
	AllowNonRestoredState *bool             `json:"allowNonRestoredState,omitempty"`
	RestoreMode           string            `json:"restoreMode,omitempty"`
	ClaimMode             string            `json:"claimMode,omitempty"`
	FlinkConfiguration    map[string]string `json:"flinkConfiguration,omitempty"`
}

// JarRunResponseDTO is the answer to POST /jars/:jarid/run.
type JarRunResponseDTO struct {
	JobID string `json:"jobid"`
}

// FlexFloat is a float that Flink may write as a number or as the string
// "NaN" (percentiles of a sample too small to have them).
type FlexFloat float64

// MarshalJSON writes NaN and infinities as strings, as Flink does.
func (f FlexFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !bytes.ContainsAny([]byte(s), ".eE") {
		s += ".0" // Flink writes doubles with a fraction: 48357.0
	}
	return []byte(s), nil
}

// UnmarshalJSON accepts a number, null or a string ("NaN", "Infinity", "1.5").
func (f *FlexFloat) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = FlexFloat(math.NaN())
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			v = math.NaN()
		}
		*f = FlexFloat(v)
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*f = FlexFloat(v)
	return nil
}

// BackpressureDTO is GET /jobs/:jobid/vertices/:vertexid/backpressure
// (JobVertexBackPressureInfo; metric-based since Flink 1.13).
type BackpressureDTO struct {
	Status            string                   `json:"status"`
	BackpressureLevel string                   `json:"backpressureLevel,omitempty"`
	EndTimestamp      int64                    `json:"end-timestamp,omitempty"`
	Subtasks          []SubtaskBackpressureDTO `json:"subtasks,omitempty"`
}

// SubtaskBackpressureDTO is one subtask of BackpressureDTO.
type SubtaskBackpressureDTO struct {
	Subtask           int       `json:"subtask"`
	AttemptNumber     int       `json:"attempt-number"`
	BackpressureLevel string    `json:"backpressureLevel"`
	Ratio             FlexFloat `json:"ratio"`
	IdleRatio         FlexFloat `json:"idleRatio"`
	BusyRatio         FlexFloat `json:"busyRatio"`
}
