// Package cluster is what an operator can do to a running stream-processing
// system, as one Go interface shaped after Flink's REST resources: overview,
// jobs, job detail, checkpoint statistics and configuration, manual
// checkpoints, savepoints, stop-with-savepoint, cancel, savepoint disposal,
// submission (upload an artifact, run it, possibly resuming from a snapshot)
// and exceptions.
//
// Two adapters implement it: cluster/flinkrest talks to a real Flink
// JobManager over its REST API, cluster/embedded runs jobs on ckpt's own
// engine in this process. cluster/restserver puts Flink's REST API in front
// of any Cluster (`ckpt serve`), so the CLI, the TUI and scripts reach an
// embedded engine exactly as they reach Flink.
//
// Everything here is plain Go: times are time.Time (zero = not set, where
// Flink writes -1 or 0), durations are time.Duration, sizes are bytes. The
// JSON encodings, with Flink's mixed kebab/snake/camel casing, live only in
// cluster/flinkrest.
//
// Asynchronous operations (checkpoint, savepoint, stop, disposal) return a
// Trigger, as Flink returns a request id; Poll or Wait on it.
package cluster

import (
	"context"
	"io"
	"time"
)

// Cluster is one running system: a Flink JobManager or ckpt's embedded
// engine. Methods naming a job return an error matching ErrNotFound when
// the job is unknown.
type Cluster interface {
	// Overview is the cluster summary (GET /overview).
	Overview(ctx context.Context) (*Overview, error)
	// Info is the dashboard configuration (GET /config): version and
	// refresh interval.
	Info(ctx context.Context) (*Info, error)
	// Configuration is the cluster's configuration as key/value pairs
	// (GET /jobmanager/config), e.g. the default savepoint directory.
	Configuration(ctx context.Context) (map[string]string, error)

	// Jobs lists every job the cluster knows, running and finished
	// (GET /jobs/overview).
	Jobs(ctx context.Context) ([]JobSummary, error)
	// Job is one job in detail (GET /jobs/:jobid).
	Job(ctx context.Context, jobID string) (*Job, error)
	// Exceptions are the job's failures, newest first (GET /jobs/:jobid/exceptions).
	Exceptions(ctx context.Context, jobID string) (*Exceptions, error)

	// Checkpoints are the job's checkpoint statistics
	// (GET /jobs/:jobid/checkpoints).
	Checkpoints(ctx context.Context, jobID string) (*CheckpointStats, error)
	// CheckpointConfig is how the job checkpoints
	// (GET /jobs/:jobid/checkpoints/config); ErrNotFound when checkpointing
	// is disabled, as in Flink.
	CheckpointConfig(ctx context.Context, jobID string) (*CheckpointConfig, error)
	// CheckpointDetail is one checkpoint of the history with its per-vertex
	// figures (GET /jobs/:jobid/checkpoints/details/:checkpointid).
	CheckpointDetail(ctx context.Context, jobID string, checkpointID int64) (*Checkpoint, error)
	// CheckpointSubtasks is one vertex of one checkpoint, subtask by subtask
	// (GET /jobs/:jobid/checkpoints/details/:checkpointid/subtasks/:vertexid).
	CheckpointSubtasks(ctx context.Context, jobID string, checkpointID int64, vertexID string) (*VertexCheckpoint, error)

	// TriggerCheckpoint starts a checkpoint now (POST /jobs/:jobid/checkpoints).
	TriggerCheckpoint(ctx context.Context, jobID string, req CheckpointRequest) (Trigger, error)
	// TriggerSavepoint starts a savepoint (POST /jobs/:jobid/savepoints).
	TriggerSavepoint(ctx context.Context, jobID string, req SavepointRequest) (Trigger, error)
	// StopWithSavepoint takes a synchronous savepoint and stops the job
	// (POST /jobs/:jobid/stop). Poll it like a savepoint.
	StopWithSavepoint(ctx context.Context, jobID string, req StopRequest) (Trigger, error)
	// DisposeSavepoint deletes a savepoint (POST /savepoint-disposal).
	DisposeSavepoint(ctx context.Context, path string) (Trigger, error)
	// Poll reports the state of an asynchronous operation (GET
	// .../checkpoints/:triggerid, .../savepoints/:triggerid,
	// /savepoint-disposal/:triggerid). An unknown trigger is ErrNotFound,
	// not a failure.
	Poll(ctx context.Context, t Trigger) (*Operation, error)
	// Cancel cancels a job without a savepoint (PATCH /jobs/:jobid?mode=cancel).
	// It returns once cancellation started; the job ends CANCELED.
	Cancel(ctx context.Context, jobID string) error

	// UploadArtifact stores a program to run later (POST /jars/upload): a
	// jar for Flink, a job spec (YAML) for the embedded engine.
	UploadArtifact(ctx context.Context, filename string, content io.Reader) (*Artifact, error)
	// Artifacts lists the uploaded programs (GET /jars).
	Artifacts(ctx context.Context) ([]Artifact, error)
	// RunArtifact submits a job from an uploaded program, possibly resuming
	// from a snapshot (POST /jars/:jarid/run); it returns the new job's ID.
	RunArtifact(ctx context.Context, artifactID string, req RunRequest) (string, error)
	// DeleteArtifact removes an uploaded program (DELETE /jars/:jarid).
	DeleteArtifact(ctx context.Context, artifactID string) error
}

// Overview is the cluster summary.
type Overview struct {
	// Version is the Flink version (or ckpt's, for the embedded engine).
	Version string
	Commit  string
	// TaskManagers and slots; the embedded engine is one "task manager"
	// with a slot per running subtask.
	TaskManagers        int
	TaskManagersBlocked int
	SlotsTotal          int
	SlotsAvailable      int
	SlotsFreeAndBlocked int
	JobsRunning         int
	JobsFinished        int
	JobsCancelled       int
	JobsFailed          int
}

// Info is what Flink's web dashboard reads first (GET /config).
type Info struct {
	RefreshInterval time.Duration
	TimezoneName    string
	TimezoneOffset  time.Duration
	Version         string
	Revision        string
	// Features: web-submit, web-cancel, web-rescale, web-history.
	Features map[string]bool
}

// JobStatus is a job's state, spelled as Flink's JobStatus.
type JobStatus string

const (
	JobInitializing JobStatus = "INITIALIZING"
	JobCreated      JobStatus = "CREATED"
	JobRunning      JobStatus = "RUNNING"
	JobFailing      JobStatus = "FAILING"
	JobFailed       JobStatus = "FAILED"
	JobCancelling   JobStatus = "CANCELLING"
	JobCanceled     JobStatus = "CANCELED"
	JobFinished     JobStatus = "FINISHED"
	JobRestarting   JobStatus = "RESTARTING"
	JobSuspended    JobStatus = "SUSPENDED"
	JobReconciling  JobStatus = "RECONCILING"
)

// JobStatuses lists every job status in Flink's order.
var JobStatuses = []JobStatus{JobInitializing, JobCreated, JobRunning, JobFailing, JobFailed, JobCancelling,
	JobCanceled, JobFinished, JobRestarting, JobSuspended, JobReconciling}

// Terminal reports whether the job will not change state again (Flink's
// "globally terminal": FINISHED, CANCELED, FAILED).
func (s JobStatus) Terminal() bool { return s == JobFinished || s == JobCanceled || s == JobFailed }

// Scheduled reports whether the job is waiting to run (Flink's `list -s`).
func (s JobStatus) Scheduled() bool { return s == JobCreated || s == JobInitializing }

// Task (execution) states, spelled as Flink's ExecutionState. Note CANCELING
// with one L, where the job status has two.
const (
	TaskCreated      = "CREATED"
	TaskScheduled    = "SCHEDULED"
	TaskDeploying    = "DEPLOYING"
	TaskRunning      = "RUNNING"
	TaskFinished     = "FINISHED"
	TaskCanceling    = "CANCELING"
	TaskCanceled     = "CANCELED"
	TaskFailed       = "FAILED"
	TaskReconciling  = "RECONCILING"
	TaskInitializing = "INITIALIZING"
)

// TaskStates lists every execution state.
var TaskStates = []string{TaskCreated, TaskScheduled, TaskDeploying, TaskRunning, TaskFinished, TaskCanceling,
	TaskCanceled, TaskFailed, TaskReconciling, TaskInitializing}

// JobSummary is one job of the list.
type JobSummary struct {
	ID     string
	Name   string
	Status JobStatus
	Start  time.Time
	End    time.Time // zero while running
	// Duration is end (or now) minus start.
	Duration         time.Duration
	LastModification time.Time
	// Tasks counts the job's subtasks by execution state; Tasks["TOTAL"]
	// is their number.
	Tasks map[string]int
}

// Job is one job in detail.
type Job struct {
	ID        string
	Name      string
	Status    JobStatus
	Stoppable bool
	// Type is STREAMING or BATCH when the cluster says so.
	Type     string
	Start    time.Time
	End      time.Time
	Duration time.Duration
	// Now is the cluster's clock when it answered.
	Now            time.Time
	MaxParallelism int // -1 = per vertex
	// Timestamps holds when the job entered each state it reached.
	Timestamps map[JobStatus]time.Time
	Vertices   []Vertex
	// StatusCounts counts vertices by execution state.
	StatusCounts map[string]int
	// Program is what the job was started from, when the cluster keeps it:
	// ckpt's engine returns the job spec a job was submitted with (so a
	// resume can default to it); Flink does not (nil).
	Program *Program
}

// Program is the program a job runs: for ckpt's engine, the job spec.
type Program struct {
	// Name is the uploaded file's name (e.g. orders.yaml), or the path a
	// job spec was submitted from.
	Name string
	// ArtifactID is the upload it came from, as listed by Artifacts (it
	// may have been deleted since); "" when it was not uploaded.
	ArtifactID string
	// Spec is the job spec's text (YAML).
	Spec string
}

// Vertex is one job vertex: a chain of operators that run together in one
// task. Its ID is the chain head's operator ID, as in Flink.
type Vertex struct {
	ID             string
	Name           string
	Parallelism    int
	MaxParallelism int
	Status         string // execution state
	Start          time.Time
	End            time.Time
	Duration       time.Duration
	// Tasks counts the vertex's subtasks by execution state.
	Tasks   map[string]int
	Metrics VertexMetrics
	// Operators of the chain, head first, when the cluster reports them
	// (the embedded engine does; Flink's job detail does not).
	Operators []Operator
}

// Operator is one operator of a chain.
type Operator struct {
	ID   string // operator ID, 32 hex
	UID  string
	Name string
}

// VertexMetrics are a vertex's I/O figures. Records in are what the vertex
// received from upstream vertices (0 for a source), records out what it
// sent downstream (0 for a sink), as Flink counts them.
type VertexMetrics struct {
	ReadBytes    int64
	WriteBytes   int64
	ReadRecords  int64
	WriteRecords int64
	// Complete flags say whether every subtask reported the figure
	// (Flink 1.x reports them; false when unknown).
	ReadBytesComplete, WriteBytesComplete, ReadRecordsComplete, WriteRecordsComplete bool
	// Backpressured is the most time any subtask spent blocked on
	// downstream capacity over the job's life (Flink's
	// accumulated-backpressured-time); Idle and Busy likewise. Show
	// BackpressureRatio instead: a cumulative time only grows.
	Backpressured time.Duration
	Idle          time.Duration
	Busy          time.Duration
	// BackpressureRatio is the most any subtask is backpressured now
	// (Flink's backPressuredTimeMsPerSecond / 1000, 0..1) and
	// BackpressureLevel its level (BackpressureOK/Low/High); "" when the
	// cluster's job detail does not say (Flink's: ask VertexBackpressure)
	// or the job is not running.
	BackpressureRatio float64
	BackpressureLevel string
}

// Backpressure levels, spelled as Flink's REST API.
const (
	BackpressureOK   = "ok"
	BackpressureLow  = "low"
	BackpressureHigh = "high"
)

// Backpressure is one vertex's backpressure (GET
// /jobs/:jobid/vertices/:vertexid/backpressure).
type Backpressure struct {
	// Status is "ok", or "deprecated" when Flink has no figures yet.
	Status string
	// Level is the worst subtask's: ok (ratio ≤ 0.10), low (≤ 0.5), high.
	Level string
	// Ratio is the worst subtask's ratio.
	Ratio    float64
	End      time.Time
	Subtasks []SubtaskBackpressure
}

// SubtaskBackpressure is one subtask's share of time backpressured, idle
// and busy (0..1).
type SubtaskBackpressure struct {
	Subtask   int
	Level     string
	Ratio     float64
	IdleRatio float64
	BusyRatio float64
}

// BackpressureReader is a cluster that reports backpressure per vertex;
// both adapters are.
type BackpressureReader interface {
	Backpressure(ctx context.Context, jobID, vertexID string) (*Backpressure, error)
}

// VertexBackpressure is GET /jobs/:jobid/vertices/:vertexid/backpressure
// on c, ErrNotSupported when c cannot say.
func VertexBackpressure(ctx context.Context, c Cluster, jobID, vertexID string) (*Backpressure, error) {
	if r, ok := c.(BackpressureReader); ok {
		return r.Backpressure(ctx, jobID, vertexID)
	}
	return nil, Errorf(ErrNotSupported, "backpressure is not reported by this cluster")
}

// Exceptions are a job's failures.
type Exceptions struct {
	// Entries, newest first.
	Entries   []Exception
	Truncated bool
}

// Exception is one failure of a job (a failover or its final failure).
type Exception struct {
	Name       string // exception class or summary
	StackTrace string
	Time       time.Time
	TaskName   string
	Endpoint   string
	Labels     map[string]string
	Concurrent []Exception
}

// Message is the first line of the stack trace: "class: message".
func (e Exception) Message() string {
	for i := 0; i < len(e.StackTrace); i++ {
		if e.StackTrace[i] == '\n' {
			return e.StackTrace[:i]
		}
	}
	if e.StackTrace == "" {
		return e.Name
	}
	return e.StackTrace
}

// CheckpointStatus is a checkpoint's state: IN_PROGRESS, COMPLETED, FAILED.
type CheckpointStatus string

const (
	CheckpointInProgress CheckpointStatus = "IN_PROGRESS"
	CheckpointCompleted  CheckpointStatus = "COMPLETED"
	CheckpointFailed     CheckpointStatus = "FAILED"
)

// Checkpoint types as Flink reports them (checkpoint_type).
const (
	TypeCheckpoint          = "CHECKPOINT"
	TypeUnalignedCheckpoint = "UNALIGNED_CHECKPOINT"
	TypeSavepoint           = "SAVEPOINT"
	TypeSyncSavepoint       = "SYNC_SAVEPOINT" // stop-with-savepoint
)

// CheckpointStats are a job's checkpoint statistics.
type CheckpointStats struct {
	Counts  CheckpointCounts
	Summary CheckpointSummary
	// Latest completed checkpoint, savepoint, failure and restore; nil
	// when there is none.
	LatestCompleted *Checkpoint
	LatestSavepoint *Checkpoint
	LatestFailed    *Checkpoint
	LatestRestored  *RestoredCheckpoint
	// History, newest first, in-progress checkpoints included; bounded as
	// in Flink (web.checkpoints.history, 10).
	History []Checkpoint
}

// CheckpointCounts count a job's checkpoints over its life.
type CheckpointCounts struct {
	Restored, Total, InProgress, Completed, Failed int
}

// CheckpointSummary are statistics over the completed checkpoints.
type CheckpointSummary struct {
	CheckpointedSize  Stat
	StateSize         Stat
	EndToEndDuration  Stat // milliseconds
	AlignmentBuffered Stat
	ProcessedData     Stat
	PersistedData     Stat
}

// Stat is Flink's StatsSummaryDto: min/max/avg and percentiles (NaN when
// unknown, as Flink reports percentiles of small samples).
type Stat struct {
	Min, Max, Avg            int64
	P50, P90, P95, P99, P999 float64
	HasPercentiles           bool
}

// Checkpoint is one checkpoint (or savepoint) of the statistics.
type Checkpoint struct {
	ID     int64
	Status CheckpointStatus
	// Savepoint and its format (CANONICAL, NATIVE; "" for checkpoints).
	Savepoint       bool
	SavepointFormat string
	// Type: CHECKPOINT, UNALIGNED_CHECKPOINT, SAVEPOINT, SYNC_SAVEPOINT.
	Type             string
	TriggerTime      time.Time
	LatestAck        time.Time
	CheckpointedSize int64 // bytes uploaded by this checkpoint
	StateSize        int64 // full size of the state it refers to
	EndToEnd         time.Duration
	// In-flight data (unaligned checkpoints); zero when aligned.
	AlignmentBuffered int64
	ProcessedData     int64
	PersistedData     int64
	NumSubtasks       int
	NumAcked          int
	// Tasks are the per-vertex figures, keyed by vertex ID; filled in only
	// by CheckpointDetail.
	Tasks map[string]TaskCheckpoint
	// ExternalPath is where a completed checkpoint lives; Discarded says it
	// was subsumed or deleted since.
	ExternalPath string
	Discarded    bool
	// FailureTime and FailureMessage of a failed checkpoint.
	FailureTime    time.Time
	FailureMessage string
}

// TaskCheckpoint is one vertex's part of a checkpoint.
type TaskCheckpoint struct {
	ID                int64
	Status            CheckpointStatus
	LatestAck         time.Time
	CheckpointedSize  int64
	StateSize         int64
	EndToEnd          time.Duration
	AlignmentBuffered int64
	ProcessedData     int64
	PersistedData     int64
	NumSubtasks       int
	NumAcked          int
}

// RestoredCheckpoint is the snapshot the job started from.
type RestoredCheckpoint struct {
	ID           int64
	RestoreTime  time.Time
	Savepoint    bool
	ExternalPath string
}

// VertexCheckpoint is one vertex of one checkpoint, subtask by subtask.
type VertexCheckpoint struct {
	TaskCheckpoint
	Summary  SubtaskSummary
	Subtasks []SubtaskCheckpoint
}

// SubtaskSummary are min/max/avg over a vertex's acknowledged subtasks
// (durations in milliseconds, sizes in bytes).
type SubtaskSummary struct {
	CheckpointedSize   Stat
	StateSize          Stat
	EndToEnd           Stat
	Sync               Stat
	Async              Stat
	AlignmentBuffered  Stat
	AlignmentProcessed Stat
	AlignmentPersisted Stat
	AlignmentDuration  Stat
	StartDelay         Stat
}

// SubtaskCheckpoint is one subtask's acknowledgement of a checkpoint.
// Acknowledged is false for a subtask that has not acknowledged (yet);
// its figures are then zero ("n/a" in Flink's UI).
type SubtaskCheckpoint struct {
	Index            int
	Acknowledged     bool
	AckTime          time.Time
	EndToEnd         time.Duration
	CheckpointedSize int64
	StateSize        int64
	// Sync is the synchronous part on the task thread, Async the upload.
	Sync  time.Duration
	Async time.Duration
	// Alignment: in-flight data and the time spent waiting for barriers
	// on every input.
	AlignmentBuffered  int64
	AlignmentProcessed int64
	AlignmentPersisted int64
	AlignmentDuration  time.Duration
	// StartDelay is how long the barrier took to reach the subtask.
	StartDelay time.Duration
	Unaligned  bool
	Aborted    bool
}

// CheckpointConfig is how a job checkpoints.
type CheckpointConfig struct {
	Mode          string // EXACTLY_ONCE or AT_LEAST_ONCE
	Interval      time.Duration
	Timeout       time.Duration
	MinPause      time.Duration
	MaxConcurrent int
	// Retention: NO_EXTERNALIZED_CHECKPOINTS, DELETE_ON_CANCELLATION or
	// RETAIN_ON_CANCELLATION (Flink's "externalization").
	Retention         string
	StateBackend      string
	CheckpointStorage string
	// NumRetained is how many completed checkpoints the job keeps
	// (execution.checkpointing.num-retained); 0 = not reported. ckpt's
	// engine takes it per job; Flink's REST API does not report it (it is
	// a cluster setting there: see the cluster's Configuration).
	NumRetained int
	// CheckpointDir is the directory the job's chk-N directories go to,
	// <execution.checkpointing.dir>/<job-id>; "" = not reported (Flink's
	// REST API does not; the parent of a completed checkpoint's
	// ExternalPath tells it there).
	CheckpointDir                    string
	Unaligned                        bool
	TolerableFailures                int
	AlignedTimeout                   time.Duration
	AfterTasksFinish                 bool
	ChangelogEnabled                 bool
	ChangelogPeriodicMaterialization time.Duration
	ChangelogStorage                 string
}

// Retention policies (execution.checkpointing.externalized-checkpoint-retention).
const (
	NoExternalizedCheckpoints = "NO_EXTERNALIZED_CHECKPOINTS"
	DeleteOnCancellation      = "DELETE_ON_CANCELLATION"
	RetainOnCancellation      = "RETAIN_ON_CANCELLATION"
)

// CheckpointType asks for a kind of manual checkpoint.
type CheckpointType string

const (
	// CheckpointConfigured is whatever the job normally does.
	CheckpointConfigured CheckpointType = "CONFIGURED"
	// CheckpointFull forces a non-incremental checkpoint.
	CheckpointFull CheckpointType = "FULL"
	// CheckpointIncremental is incremental if the job can be.
	CheckpointIncremental CheckpointType = "INCREMENTAL"
)

// CheckpointRequest asks for a checkpoint now.
type CheckpointRequest struct {
	Type CheckpointType // "" = CONFIGURED
	// TriggerID makes the request idempotent: re-posting the same ID does
	// not trigger twice ("" = the cluster picks one).
	TriggerID string
}

// SavepointFormat is a savepoint's format type.
type SavepointFormat string

const (
	// Canonical savepoints are backend-independent.
	Canonical SavepointFormat = "CANONICAL"
	// Native savepoints use the state backend's own format.
	Native SavepointFormat = "NATIVE"
)

// SavepointRequest asks for a savepoint.
type SavepointRequest struct {
	// TargetDir is where savepoint-<job6>-<random12>/ goes; "" = the
	// cluster's default (execution.checkpointing.savepoint-dir), an error
	// when there is none.
	TargetDir string
	Format    SavepointFormat // "" = CANONICAL
	// CancelJob cancels the job after the savepoint (Flink's deprecated
	// cancel-with-savepoint; prefer StopWithSavepoint).
	CancelJob bool
	TriggerID string
}

// StopRequest asks to stop a job with a savepoint.
type StopRequest struct {
	TargetDir string
	// Drain emits MAX_WATERMARK first so every event-time timer fires: for
	// jobs retired for good.
	Drain     bool
	Format    SavepointFormat
	TriggerID string
}

// TriggerKind says which kind of asynchronous operation a trigger is.
type TriggerKind string

const (
	CheckpointTrigger TriggerKind = "checkpoint"
	SavepointTrigger  TriggerKind = "savepoint" // savepoints and stop-with-savepoint
	DisposalTrigger   TriggerKind = "savepoint-disposal"
)

// Trigger is a handle on an asynchronous operation: Flink's request id with
// what is needed to poll it.
type Trigger struct {
	Kind  TriggerKind
	JobID string // "" for disposals
	ID    string
}

// OperationStatus of an asynchronous operation. COMPLETED only means
// finished: success or failure is in the Operation.
type OperationStatus string

const (
	InProgress OperationStatus = "IN_PROGRESS"
	Completed  OperationStatus = "COMPLETED"
)

// Operation is the state of an asynchronous operation.
type Operation struct {
	Status OperationStatus
	// Location of the savepoint (savepoint, stop).
	Location string
	// CheckpointID of a manual checkpoint.
	CheckpointID int64
	// Failure, when the operation completed unsuccessfully.
	Failure *Failure
}

// Done reports whether the operation finished (successfully or not).
func (o *Operation) Done() bool { return o.Status == Completed }

// Err is the operation's failure as an error, or nil.
func (o *Operation) Err() error {
	if o.Failure == nil {
		return nil
	}
	return o.Failure
}

// RunRequest submits a job from an uploaded artifact.
type RunRequest struct {
	// EntryClass of a jar ("" = the jar manifest's); ignored by the
	// embedded engine.
	EntryClass  string
	ProgramArgs []string
	// Parallelism is the default parallelism (0 = the configured one).
	Parallelism int
	// JobID pins the new job's ID (32 hex; "" = random).
	JobID string
	// SavepointPath resumes from a savepoint, a retained chk-N directory or
	// a _metadata file.
	SavepointPath         string
	AllowNonRestoredState bool
	// ClaimMode: CLAIM, NO_CLAIM or LEGACY ("" = NO_CLAIM).
	ClaimMode string
	// Config is per-job configuration with Flink's keys (-D).
	Config map[string]string
}

// Claim modes of a restore.
const (
	Claim   = "CLAIM"
	NoClaim = "NO_CLAIM"
	Legacy  = "LEGACY"
)

// Artifact is an uploaded program.
type Artifact struct {
	ID       string
	Name     string
	Uploaded time.Time
	// EntryClasses found in a jar (Flink); empty for job specs.
	EntryClasses []string
}

// CancelWithSavepoint is Flink's `cancel -s`: a savepoint, then the job is
// cancelled (POST /jobs/:jobid/savepoints with cancel-job: true). The job
// is cancelled only once the savepoint completed; if it fails, the job keeps
// running and the operation completes with the failure. Poll the trigger
// like a savepoint; the job then ends CANCELED.
func CancelWithSavepoint(ctx context.Context, c Cluster, jobID string, req SavepointRequest) (Trigger, error) {
	req.CancelJob = true
	return c.TriggerSavepoint(ctx, jobID, req)
}
