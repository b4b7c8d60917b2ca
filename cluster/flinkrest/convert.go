package flinkrest

import (
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

// Conversions between the wire shapes and cluster's Go types. Decode*
// functions read what Flink (or ckpt serve) sent; Encode* functions write
// what Flink would send. Timestamps: Flink writes -1 (end-time, duration)
// or 0 (state timestamps) for "not set"; Go uses the zero time.

func fromMillis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func toMillis(t time.Time, unset int64) int64 {
	if t.IsZero() {
		return unset
	}
	return t.UnixMilli()
}

func fromDur(ms int64) time.Duration {
	if ms < 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

func toDur(d time.Duration) int64 { return d.Milliseconds() }

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// DecodeOverview converts GET /overview.
func DecodeOverview(d *OverviewDTO) *cluster.Overview {
	return &cluster.Overview{Version: d.FlinkVersion, Commit: d.FlinkCommit, TaskManagers: d.TaskManagers,
		TaskManagersBlocked: deref(d.TaskManagersBlocked), SlotsTotal: d.SlotsTotal, SlotsAvailable: d.SlotsAvailable,
		SlotsFreeAndBlocked: deref(d.SlotsFreeAndBlocked), JobsRunning: d.JobsRunning, JobsFinished: d.JobsFinished,
		JobsCancelled: d.JobsCancelled, JobsFailed: d.JobsFailed}
}

// EncodeOverview is the inverse of DecodeOverview.
func EncodeOverview(o *cluster.Overview) *OverviewDTO {
	return &OverviewDTO{TaskManagers: o.TaskManagers, TaskManagersBlocked: ptr(o.TaskManagersBlocked), SlotsTotal: o.SlotsTotal,
		SlotsAvailable: o.SlotsAvailable, SlotsFreeAndBlocked: ptr(o.SlotsFreeAndBlocked), JobsRunning: o.JobsRunning,
		JobsFinished: o.JobsFinished, JobsCancelled: o.JobsCancelled, JobsFailed: o.JobsFailed,
		FlinkVersion: o.Version, FlinkCommit: o.Commit}
}

// DecodeInfo converts GET /config.
func DecodeInfo(d *ConfigDTO) *cluster.Info {
	return &cluster.Info{RefreshInterval: fromDur(d.RefreshInterval), TimezoneName: d.TimezoneName,
		TimezoneOffset: fromDur(d.TimezoneOffset), Version: d.FlinkVersion, Revision: d.FlinkRevision, Features: d.Features}
}

// EncodeInfo is the inverse of DecodeInfo.
func EncodeInfo(i *cluster.Info) *ConfigDTO {
	f := i.Features
	if f == nil {
		f = map[string]bool{}
	}
	return &ConfigDTO{RefreshInterval: toDur(i.RefreshInterval), TimezoneName: i.TimezoneName,
		TimezoneOffset: toDur(i.TimezoneOffset), FlinkVersion: i.Version, FlinkRevision: i.Revision, Features: f}
}

// overviewTaskKeys are the lower-case task counters of /jobs/overview.
var overviewTaskKeys = []string{"running", "canceling", "canceled", "total", "created", "scheduled", "deploying",
	"reconciling", "finished", "initializing", "failed"}

// DecodeJobOverview converts one job of GET /jobs/overview.
func DecodeJobOverview(d *JobOverviewDTO) cluster.JobSummary {
	tasks := make(map[string]int, len(d.Tasks))
	for k, v := range d.Tasks {
		tasks[strings.ToUpper(k)] = v
	}
	return cluster.JobSummary{ID: d.JID, Name: d.Name, Status: cluster.JobStatus(d.State), Start: fromMillis(d.StartTime),
		End: fromMillis(d.EndTime), Duration: fromDur(d.Duration), LastModification: fromMillis(d.LastModification), Tasks: tasks}
}

// EncodeJobOverview is the inverse of DecodeJobOverview.
func EncodeJobOverview(j *cluster.JobSummary) JobOverviewDTO {
	tasks := make(map[string]int, len(overviewTaskKeys))
	for _, k := range overviewTaskKeys {
		tasks[k] = j.Tasks[strings.ToUpper(k)]
	}
	return JobOverviewDTO{JID: j.ID, Name: j.Name, JobType: "STREAMING", StartTime: toMillis(j.Start, -1),
		EndTime: toMillis(j.End, -1), Duration: toDur(j.Duration), State: string(j.Status),
		LastModification: toMillis(j.LastModification, 0), Tasks: tasks}
}

func stateCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(cluster.TaskStates))
	for _, s := range cluster.TaskStates {
		out[s] = m[s]
	}
	return out
}

// DecodeJob converts GET /jobs/:jobid.
func DecodeJob(d *JobDetailDTO) *cluster.Job {
	j := &cluster.Job{ID: d.JID, Name: d.Name, Status: cluster.JobStatus(d.State), Stoppable: d.IsStoppable, Type: d.JobType,
		Start: fromMillis(d.StartTime), End: fromMillis(d.EndTime), Duration: fromDur(d.Duration), Now: fromMillis(d.Now),
		MaxParallelism: d.MaxParallelism, Timestamps: map[cluster.JobStatus]time.Time{}, StatusCounts: d.StatusCounts}
	if p := d.CkptProgram; p != nil {
		j.Program = &cluster.Program{Name: p.Name, ArtifactID: p.JarID, Spec: p.Spec}
	}
	for k, v := range d.Timestamps {
		if v > 0 {
			j.Timestamps[cluster.JobStatus(k)] = time.UnixMilli(v)
		}
	}
	for _, v := range d.Vertices {
		m := v.Metrics
		j.Vertices = append(j.Vertices, cluster.Vertex{ID: v.ID, Name: v.Name, Parallelism: v.Parallelism,
			MaxParallelism: v.MaxParallelism, Status: v.Status, Start: fromMillis(v.StartTime), End: fromMillis(v.EndTime),
			Duration: fromDur(v.Duration), Tasks: v.Tasks, Metrics: cluster.VertexMetrics{
				ReadBytes: m.ReadBytes, WriteBytes: m.WriteBytes, ReadRecords: m.ReadRecords, WriteRecords: m.WriteRecords,
				ReadBytesComplete: m.ReadBytesComplete, WriteBytesComplete: m.WriteBytesComplete,
				ReadRecordsComplete: m.ReadRecordsComplete, WriteRecordsComplete: m.WriteRecordsComplete,
				Backpressured: fromDur(m.AccumulatedBackpressuredTime), Idle: fromDur(m.AccumulatedIdleTime),
				Busy: busy(m.AccumulatedBusyTime)}, Operators: decodeOperators(v.CkptOperators)})
	}
	return j
}

// EncodeJob is the inverse of DecodeJob, with a plan built from the vertices.
func EncodeJob(j *cluster.Job) *JobDetailDTO {
	d := &JobDetailDTO{JID: j.ID, Name: j.Name, IsStoppable: j.Stoppable, State: string(j.Status), JobType: j.Type,
		StartTime: toMillis(j.Start, -1), EndTime: toMillis(j.End, -1), Duration: toDur(j.Duration),
		MaxParallelism: j.MaxParallelism, Now: toMillis(j.Now, 0), Timestamps: map[string]int64{},
		StatusCounts: stateCounts(j.StatusCounts), Vertices: []VertexDTO{}}
	if d.JobType == "" {
		d.JobType = "STREAMING"
	}
	for _, s := range cluster.JobStatuses {
		d.Timestamps[string(s)] = toMillis(j.Timestamps[s], 0)
	}
	plan := &PlanDTO{JID: j.ID, Name: j.Name, Type: d.JobType, Nodes: []PlanNodeDTO{}}
	for _, v := range j.Vertices {
		m := v.Metrics
		d.Vertices = append(d.Vertices, VertexDTO{ID: v.ID, Name: v.Name, MaxParallelism: v.MaxParallelism,
			Parallelism: v.Parallelism, Status: v.Status, StartTime: toMillis(v.Start, -1), EndTime: toMillis(v.End, -1),
			Duration: durOrUnset(v.Start, v.Duration), Tasks: stateCounts(v.Tasks), Metrics: VertexMetricsDTO{
				ReadBytes: m.ReadBytes, ReadBytesComplete: m.ReadBytesComplete, WriteBytes: m.WriteBytes,
				WriteBytesComplete: m.WriteBytesComplete, ReadRecords: m.ReadRecords, ReadRecordsComplete: m.ReadRecordsComplete,
				WriteRecords: m.WriteRecords, WriteRecordsComplete: m.WriteRecordsComplete,
				AccumulatedBackpressuredTime: toDur(m.Backpressured), AccumulatedIdleTime: toDur(m.Idle),
				AccumulatedBusyTime: FlexFloat(float64(m.Busy) / float64(time.Millisecond))},
			CkptOperators: encodeOperators(v.Operators)})
		desc := ""
		for _, op := range v.Operators {
			desc += op.Name + "<br/>"
		}
		plan.Nodes = append(plan.Nodes, PlanNodeDTO{ID: v.ID, Parallelism: v.Parallelism, Description: desc,
			OptimizerProperties: map[string]any{}})
	}
	d.Plan = plan
	if p := j.Program; p != nil {
		d.CkptProgram = &ProgramDTO{Name: p.Name, JarID: p.ArtifactID, Spec: p.Spec}
	}
	return d
}

func decodeOperators(ds []OperatorDTO) []cluster.Operator {
	if len(ds) == 0 {
		return nil
	}
	out := make([]cluster.Operator, len(ds))
	for i, d := range ds {
		out[i] = cluster.Operator{ID: d.ID, UID: d.UID, Name: d.Name}
	}
	return out
}

func encodeOperators(ops []cluster.Operator) []OperatorDTO {
	if len(ops) == 0 {
		return nil
	}
	out := make([]OperatorDTO, len(ops))
	for i, o := range ops {
		out[i] = OperatorDTO{ID: o.ID, UID: o.UID, Name: o.Name}
	}
	return out
}

// busy converts accumulated-busy-time, a double of milliseconds that Flink
// sends as "NaN" while a subtask has not reported it.
func busy(ms FlexFloat) time.Duration {
	if math.IsNaN(float64(ms)) || math.IsInf(float64(ms), 0) || ms < 0 {
		return 0
	}
	return time.Duration(float64(ms) * float64(time.Millisecond))
}

func durOrUnset(start time.Time, d time.Duration) int64 {
	if start.IsZero() {
		return -1
	}
	return toDur(d)
}

// DecodeExceptions converts GET /jobs/:jobid/exceptions.
func DecodeExceptions(d *ExceptionsDTO) *cluster.Exceptions {
	out := &cluster.Exceptions{Truncated: d.ExceptionHistory.Truncated}
	for _, e := range d.ExceptionHistory.Entries {
		out.Entries = append(out.Entries, decodeException(e))
	}
	return out
}

func decodeException(e ExceptionDTO) cluster.Exception {
	x := cluster.Exception{Name: e.ExceptionName, StackTrace: e.Stacktrace, Time: fromMillis(e.Timestamp),
		TaskName: deref(e.TaskName), Endpoint: deref(e.Endpoint), Labels: e.FailureLabels}
	for _, c := range e.ConcurrentExceptions {
		x.Concurrent = append(x.Concurrent, decodeException(c))
	}
	return x
}

// EncodeExceptions is the inverse of DecodeExceptions.
func EncodeExceptions(x *cluster.Exceptions) *ExceptionsDTO {
	d := &ExceptionsDTO{ExceptionHistory: ExceptionHistoryDTO{Entries: []ExceptionDTO{}, Truncated: x.Truncated}}
	for _, e := range x.Entries {
		d.ExceptionHistory.Entries = append(d.ExceptionHistory.Entries, encodeException(e, true))
	}
	return d
}

func encodeException(e cluster.Exception, root bool) ExceptionDTO {
	d := ExceptionDTO{ExceptionName: e.Name, Stacktrace: e.StackTrace, Timestamp: toMillis(e.Time, 0),
		FailureLabels: e.Labels}
	if d.FailureLabels == nil {
		d.FailureLabels = map[string]string{}
	}
	if e.TaskName != "" {
		d.TaskName = ptr(e.TaskName)
	}
	if e.Endpoint != "" {
		d.Endpoint = ptr(e.Endpoint)
	}
	if root {
		d.ConcurrentExceptions = []ExceptionDTO{}
		for _, c := range e.Concurrent {
			d.ConcurrentExceptions = append(d.ConcurrentExceptions, encodeException(c, false))
		}
	}
	return d
}

func decodeStat(s StatDTO) cluster.Stat {
	st := cluster.Stat{Min: s.Min, Max: s.Max, Avg: s.Avg, P50: float64(s.P50), P90: float64(s.P90), P95: float64(s.P95),
		P99: float64(s.P99), P999: float64(s.P999)}
	st.HasPercentiles = !math.IsNaN(st.P50)
	return st
}

func encodeStat(s cluster.Stat) StatDTO {
	d := StatDTO{Min: s.Min, Max: s.Max, Avg: s.Avg}
	if s.HasPercentiles {
		d.P50, d.P90, d.P95, d.P99, d.P999 = FlexFloat(s.P50), FlexFloat(s.P90), FlexFloat(s.P95), FlexFloat(s.P99), FlexFloat(s.P999)
	} else {
		nan := FlexFloat(math.NaN())
		d.P50, d.P90, d.P95, d.P99, d.P999 = nan, nan, nan, nan, nan
	}
	return d
}

// DecodeCheckpoint converts one checkpoint of the statistics.
func DecodeCheckpoint(d *CheckpointDTO) *cluster.Checkpoint {
	if d == nil {
		return nil
	}
	c := &cluster.Checkpoint{ID: d.ID, Status: cluster.CheckpointStatus(d.Status), Savepoint: d.IsSavepoint,
		SavepointFormat: deref(d.SavepointFormat), Type: d.CheckpointType, TriggerTime: fromMillis(d.TriggerTimestamp),
		LatestAck: fromMillis(d.LatestAckTimestamp), CheckpointedSize: d.CheckpointedSize, StateSize: d.StateSize,
		EndToEnd: fromDur(d.EndToEndDuration), AlignmentBuffered: d.AlignmentBuffered, ProcessedData: d.ProcessedData,
		PersistedData: d.PersistedData, NumSubtasks: d.NumSubtasks, NumAcked: d.NumAcknowledgedSubtask,
		ExternalPath: deref(d.ExternalPath), Discarded: deref(d.Discarded),
		FailureTime: fromMillis(deref(d.FailureTimestamp)), FailureMessage: deref(d.FailureMessage)}
	if len(d.Tasks) > 0 {
		c.Tasks = make(map[string]cluster.TaskCheckpoint, len(d.Tasks))
		for k, t := range d.Tasks {
			c.Tasks[k] = decodeTask(t)
		}
	}
	return c
}

func decodeTask(t TaskCheckpointDTO) cluster.TaskCheckpoint {
	return cluster.TaskCheckpoint{ID: t.ID, Status: cluster.CheckpointStatus(t.Status), LatestAck: fromMillis(t.LatestAckTimestamp),
		CheckpointedSize: t.CheckpointedSize, StateSize: t.StateSize, EndToEnd: fromDur(t.EndToEndDuration),
		AlignmentBuffered: t.AlignmentBuffered, ProcessedData: t.ProcessedData, PersistedData: t.PersistedData,
		NumSubtasks: t.NumSubtasks, NumAcked: t.NumAcknowledgedSubtask}
}

func encodeTask(t cluster.TaskCheckpoint) TaskCheckpointDTO {
	return TaskCheckpointDTO{ID: t.ID, Status: string(t.Status), LatestAckTimestamp: toMillis(t.LatestAck, -1),
		CheckpointedSize: t.CheckpointedSize, StateSize: t.StateSize, EndToEndDuration: toDur(t.EndToEnd),
		AlignmentBuffered: t.AlignmentBuffered, ProcessedData: t.ProcessedData, PersistedData: t.PersistedData,
		NumSubtasks: t.NumSubtasks, NumAcknowledgedSubtask: t.NumAcked}
}

// ClassName is the className discriminator Flink gives a checkpoint of
// status s.
func ClassName(s cluster.CheckpointStatus) string {
	switch s {
	case cluster.CheckpointCompleted:
		return "completed"
	case cluster.CheckpointFailed:
		return "failed"
	}
	return "in_progress"
}

// EncodeCheckpoint is the inverse of DecodeCheckpoint.
func EncodeCheckpoint(c *cluster.Checkpoint) *CheckpointDTO {
	if c == nil {
		return nil
	}
	d := &CheckpointDTO{ClassName: ClassName(c.Status), ID: c.ID, Status: string(c.Status), IsSavepoint: c.Savepoint,
		TriggerTimestamp: toMillis(c.TriggerTime, -1), LatestAckTimestamp: toMillis(c.LatestAck, -1),
		CheckpointedSize: c.CheckpointedSize, StateSize: c.StateSize, EndToEndDuration: toDur(c.EndToEnd),
		AlignmentBuffered: c.AlignmentBuffered, ProcessedData: c.ProcessedData, PersistedData: c.PersistedData,
		NumSubtasks: c.NumSubtasks, NumAcknowledgedSubtask: c.NumAcked, CheckpointType: c.Type,
		Tasks: map[string]TaskCheckpointDTO{}}
	if c.Savepoint && c.SavepointFormat != "" {
		d.SavepointFormat = ptr(c.SavepointFormat)
	}
	for k, t := range c.Tasks {
		d.Tasks[k] = encodeTask(t)
	}
	switch c.Status {
	case cluster.CheckpointCompleted:
		d.ExternalPath, d.Discarded = ptr(c.ExternalPath), ptr(c.Discarded)
	case cluster.CheckpointFailed:
		d.FailureTimestamp = ptr(toMillis(c.FailureTime, -1))
		if c.FailureMessage != "" {
			d.FailureMessage = ptr(c.FailureMessage)
		}
	}
	return d
}

// DecodeCheckpointStats converts GET /jobs/:jobid/checkpoints.
func DecodeCheckpointStats(d *CheckpointingStatisticsDTO) *cluster.CheckpointStats {
	s := &cluster.CheckpointStats{
		Counts: cluster.CheckpointCounts{Restored: d.Counts.Restored, Total: d.Counts.Total,
			InProgress: d.Counts.InProgress, Completed: d.Counts.Completed, Failed: d.Counts.Failed},
		Summary: cluster.CheckpointSummary{CheckpointedSize: decodeStat(d.Summary.CheckpointedSize),
			StateSize: decodeStat(d.Summary.StateSize), EndToEndDuration: decodeStat(d.Summary.EndToEndDuration),
			AlignmentBuffered: decodeStat(d.Summary.AlignmentBuffered), ProcessedData: decodeStat(d.Summary.ProcessedData),
			PersistedData: decodeStat(d.Summary.PersistedData)},
		LatestCompleted: DecodeCheckpoint(d.Latest.Completed), LatestSavepoint: DecodeCheckpoint(d.Latest.Savepoint),
		LatestFailed: DecodeCheckpoint(d.Latest.Failed),
	}
	if r := d.Latest.Restored; r != nil {
		s.LatestRestored = &cluster.RestoredCheckpoint{ID: r.ID, RestoreTime: fromMillis(r.RestoreTimestamp),
			Savepoint: r.IsSavepoint, ExternalPath: r.ExternalPath}
	}
	for i := range d.History {
		s.History = append(s.History, *DecodeCheckpoint(&d.History[i]))
	}
	return s
}

// EncodeCheckpointStats is the inverse of DecodeCheckpointStats.
func EncodeCheckpointStats(s *cluster.CheckpointStats) *CheckpointingStatisticsDTO {
	d := &CheckpointingStatisticsDTO{
		Counts: CheckpointCountsDTO{Restored: s.Counts.Restored, Total: s.Counts.Total, InProgress: s.Counts.InProgress,
			Completed: s.Counts.Completed, Failed: s.Counts.Failed},
		Summary: CheckpointSummaryDTO{CheckpointedSize: encodeStat(s.Summary.CheckpointedSize),
			StateSize: encodeStat(s.Summary.StateSize), EndToEndDuration: encodeStat(s.Summary.EndToEndDuration),
			AlignmentBuffered: encodeStat(s.Summary.AlignmentBuffered), ProcessedData: encodeStat(s.Summary.ProcessedData),
			PersistedData: encodeStat(s.Summary.PersistedData)},
		Latest: LatestCheckpointsDTO{Completed: EncodeCheckpoint(s.LatestCompleted),
			Savepoint: EncodeCheckpoint(s.LatestSavepoint), Failed: EncodeCheckpoint(s.LatestFailed)},
		History: []CheckpointDTO{},
	}
	if r := s.LatestRestored; r != nil {
		d.Latest.Restored = &RestoredCheckpointDTO{ID: r.ID, RestoreTimestamp: toMillis(r.RestoreTime, -1),
			IsSavepoint: r.Savepoint, ExternalPath: r.ExternalPath}
	}
	for i := range s.History {
		d.History = append(d.History, *EncodeCheckpoint(&s.History[i]))
	}
	return d
}

// DecodeVertexCheckpoint converts GET .../details/:id/subtasks/:vertexid.
func DecodeVertexCheckpoint(d *VertexCheckpointDTO) *cluster.VertexCheckpoint {
	v := &cluster.VertexCheckpoint{TaskCheckpoint: decodeTask(d.TaskCheckpointDTO)}
	s := &d.Summary
	v.Summary = cluster.SubtaskSummary{CheckpointedSize: decodeStat(s.CheckpointedSize), StateSize: decodeStat(s.StateSize),
		EndToEnd: decodeStat(s.EndToEndDuration), Sync: decodeStat(s.CheckpointDuration.Sync),
		Async: decodeStat(s.CheckpointDuration.Async), AlignmentBuffered: decodeStat(s.Alignment.Buffered),
		AlignmentProcessed: decodeStat(s.Alignment.Processed), AlignmentPersisted: decodeStat(s.Alignment.Persisted),
		AlignmentDuration: decodeStat(s.Alignment.Duration), StartDelay: decodeStat(s.StartDelay)}
	for _, st := range d.Subtasks {
		sc := cluster.SubtaskCheckpoint{Index: st.Index, Acknowledged: st.ClassName == "completed"}
		if sc.Acknowledged {
			sc.AckTime = fromMillis(deref(st.AckTimestamp))
			sc.EndToEnd = fromDur(deref(st.EndToEndDuration))
			sc.CheckpointedSize, sc.StateSize = deref(st.CheckpointedSize), deref(st.StateSize)
			if st.Checkpoint != nil {
				sc.Sync, sc.Async = fromDur(st.Checkpoint.Sync), fromDur(st.Checkpoint.Async)
			}
			if a := st.Alignment; a != nil {
				sc.AlignmentBuffered, sc.AlignmentProcessed, sc.AlignmentPersisted = a.Buffered, a.Processed, a.Persisted
				sc.AlignmentDuration = fromDur(a.Duration)
			}
			sc.StartDelay = fromDur(deref(st.StartDelay))
			sc.Unaligned, sc.Aborted = deref(st.Unaligned), deref(st.Aborted)
		}
		v.Subtasks = append(v.Subtasks, sc)
	}
	return v
}

// EncodeVertexCheckpoint is the inverse of DecodeVertexCheckpoint.
func EncodeVertexCheckpoint(v *cluster.VertexCheckpoint) *VertexCheckpointDTO {
	d := &VertexCheckpointDTO{TaskCheckpointDTO: encodeTask(v.TaskCheckpoint), Subtasks: []SubtaskCheckpointDTO{}}
	s := &v.Summary
	d.Summary.CheckpointedSize = encodeStat(s.CheckpointedSize)
	d.Summary.StateSize = encodeStat(s.StateSize)
	d.Summary.EndToEndDuration = encodeStat(s.EndToEnd)
	d.Summary.CheckpointDuration.Sync = encodeStat(s.Sync)
	d.Summary.CheckpointDuration.Async = encodeStat(s.Async)
	d.Summary.Alignment.Buffered = encodeStat(s.AlignmentBuffered)
	d.Summary.Alignment.Processed = encodeStat(s.AlignmentProcessed)
	d.Summary.Alignment.Persisted = encodeStat(s.AlignmentPersisted)
	d.Summary.Alignment.Duration = encodeStat(s.AlignmentDuration)
	d.Summary.StartDelay = encodeStat(s.StartDelay)
	for _, st := range v.Subtasks {
		if !st.Acknowledged {
			d.Subtasks = append(d.Subtasks, SubtaskCheckpointDTO{ClassName: "pending", Index: st.Index, Status: "pending_or_failed"})
			continue
		}
		d.Subtasks = append(d.Subtasks, SubtaskCheckpointDTO{ClassName: "completed", Index: st.Index,
			AckTimestamp: ptr(toMillis(st.AckTime, -1)), EndToEndDuration: ptr(toDur(st.EndToEnd)),
			CheckpointedSize: ptr(st.CheckpointedSize), StateSize: ptr(st.StateSize),
			Checkpoint: &SubtaskDurationDTO{Sync: toDur(st.Sync), Async: toDur(st.Async)},
			Alignment: &SubtaskAlignmentDTO{Buffered: st.AlignmentBuffered, Processed: st.AlignmentProcessed,
				Persisted: st.AlignmentPersisted, Duration: toDur(st.AlignmentDuration)},
			StartDelay: ptr(toDur(st.StartDelay)), Unaligned: ptr(st.Unaligned), Aborted: ptr(st.Aborted), Status: "completed"})
	}
	return d
}

// DecodeCheckpointConfig converts GET /jobs/:jobid/checkpoints/config.
func DecodeCheckpointConfig(d *CheckpointConfigDTO) *cluster.CheckpointConfig {
	c := &cluster.CheckpointConfig{Mode: strings.ToUpper(d.Mode), Interval: fromDur(d.Interval), Timeout: fromDur(d.Timeout),
		MinPause: fromDur(d.MinPause), MaxConcurrent: d.MaxConcurrent, StateBackend: d.StateBackend,
		CheckpointStorage: d.CheckpointStorage, Unaligned: d.UnalignedCheckpoints, TolerableFailures: d.TolerableFailedCheckpoints,
		AlignedTimeout: fromDur(d.AlignedCheckpointTimeout), AfterTasksFinish: d.CheckpointsAfterTasksFinish,
		ChangelogEnabled: d.StateChangelogEnabled, ChangelogPeriodicMaterialization: fromDur(d.ChangelogMaterialization),
		ChangelogStorage: d.ChangelogStorage, NumRetained: d.CkptNumRetained, CheckpointDir: d.CkptCheckpointDir}
	switch {
	case !d.Externalization.Enabled:
		c.Retention = cluster.NoExternalizedCheckpoints
	case d.Externalization.DeleteOnCancellation:
		c.Retention = cluster.DeleteOnCancellation
	default:
		c.Retention = cluster.RetainOnCancellation
	}
	return c
}

// EncodeCheckpointConfig is the inverse of DecodeCheckpointConfig (mode in
// lower case, as Flink 1.20 and 2.x write it).
func EncodeCheckpointConfig(c *cluster.CheckpointConfig) *CheckpointConfigDTO {
	d := &CheckpointConfigDTO{Mode: strings.ToLower(c.Mode), Interval: toDur(c.Interval), Timeout: toDur(c.Timeout),
		MinPause: toDur(c.MinPause), MaxConcurrent: c.MaxConcurrent, StateBackend: c.StateBackend,
		CheckpointStorage: c.CheckpointStorage, UnalignedCheckpoints: c.Unaligned, TolerableFailedCheckpoints: c.TolerableFailures,
		AlignedCheckpointTimeout: toDur(c.AlignedTimeout), CheckpointsAfterTasksFinish: c.AfterTasksFinish,
		StateChangelogEnabled: c.ChangelogEnabled, ChangelogMaterialization: toDur(c.ChangelogPeriodicMaterialization),
		ChangelogStorage: c.ChangelogStorage, CkptNumRetained: c.NumRetained, CkptCheckpointDir: c.CheckpointDir}
	d.Externalization.Enabled = c.Retention != cluster.NoExternalizedCheckpoints && c.Retention != ""
	d.Externalization.DeleteOnCancellation = c.Retention == cluster.DeleteOnCancellation
	return d
}

// DecodeFailure converts a failure cause.
func DecodeFailure(f *FailureCauseDTO) *cluster.Failure {
	if f == nil {
		return nil
	}
	return &cluster.Failure{Class: f.Class, StackTrace: f.StackTrace}
}

// EncodeFailure is the inverse of DecodeFailure.
func EncodeFailure(f *cluster.Failure) *FailureCauseDTO {
	if f == nil {
		return nil
	}
	return &FailureCauseDTO{Class: f.Class, StackTrace: f.StackTrace}
}

// EncodeConfiguration turns a key/value map into GET /jobmanager/config, sorted.
func EncodeConfiguration(m map[string]string) []KeyValueDTO {
	out := make([]KeyValueDTO, 0, len(m))
	for k, v := range m {
		out = append(out, KeyValueDTO{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// DecodeArtifact converts one jar of GET /jars.
func DecodeArtifact(f *JarFileDTO) cluster.Artifact {
	a := cluster.Artifact{ID: f.ID, Name: f.Name, Uploaded: fromMillis(f.Uploaded)}
	for _, e := range f.Entry {
		a.EntryClasses = append(a.EntryClasses, e.Name)
	}
	return a
}

// EncodeArtifact is the inverse of DecodeArtifact.
func EncodeArtifact(a *cluster.Artifact) JarFileDTO {
	f := JarFileDTO{ID: a.ID, Name: a.Name, Uploaded: toMillis(a.Uploaded, 0), Entry: []JarEntryDTO{}}
	for _, e := range a.EntryClasses {
		f.Entry = append(f.Entry, JarEntryDTO{Name: e})
	}
	return f
}

// DecodeBackpressure converts a vertex's backpressure; the vertex ratio is
// its worst subtask's, as Flink derives the vertex level.
func DecodeBackpressure(d *BackpressureDTO) *cluster.Backpressure {
	b := &cluster.Backpressure{Status: d.Status, Level: d.BackpressureLevel}
	if d.EndTimestamp > 0 {
		b.End = time.UnixMilli(d.EndTimestamp)
	}
	for _, s := range d.Subtasks {
		r := float64(s.Ratio)
		b.Subtasks = append(b.Subtasks, cluster.SubtaskBackpressure{Subtask: s.Subtask, Level: s.BackpressureLevel, Ratio: r,
			IdleRatio: float64(s.IdleRatio), BusyRatio: float64(s.BusyRatio)})
		b.Ratio = max(b.Ratio, r)
	}
	return b
}

// EncodeBackpressure is DecodeBackpressure's inverse (ckpt serve).
func EncodeBackpressure(b *cluster.Backpressure) *BackpressureDTO {
	d := &BackpressureDTO{Status: b.Status, BackpressureLevel: b.Level, Subtasks: []SubtaskBackpressureDTO{}}
	if !b.End.IsZero() {
		d.EndTimestamp = b.End.UnixMilli()
	}
	for _, s := range b.Subtasks {
		d.Subtasks = append(d.Subtasks, SubtaskBackpressureDTO{Subtask: s.Subtask, BackpressureLevel: s.Level, Ratio: FlexFloat(s.Ratio),
			IdleRatio: FlexFloat(s.IdleRatio), BusyRatio: FlexFloat(s.BusyRatio)})
	}
	return d
}
