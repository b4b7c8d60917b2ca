// Package embedded is the cluster.Cluster of ckpt's own engine running in
// this process: a small job manager that holds several engine jobs,
// submits them from job specs (the "jars" of this cluster), tracks their
// checkpoint statistics from the engine's events, and runs manual
// checkpoints, savepoints, stop-with-savepoint and disposals as
// asynchronous operations with trigger ids, as Flink's JobManager does. `ckpt serve` puts Flink's REST API in front
// of it (cluster/restserver).
package embedded

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector/savepoints"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Options configure an embedded cluster.
type Options struct {
	// Config is the cluster-wide configuration (Flink keys, e.g. from
	// `ckpt serve -D`): every job starts from it; a job spec's own config
	// section and the submission's configuration override it.
	Config *config.Config
	// FS is the storage for checkpoints, savepoints and restores (nil =
	// storage.Default()).
	FS storage.FS
	// Version is reported as flink-version (default "ckpt").
	Version string
	// Commit is reported as flink-commit.
	Commit string
	// Slots is the number of task slots reported (default: the number of CPUs).
	Slots int
	// MaxArtifactSize bounds an uploaded job spec (default 1 MB).
	MaxArtifactSize int64
	// OperationRetention is how long finished operations can be polled
	// (Flink's rest.async.store-duration, default 5 min).
	OperationRetention time.Duration
	// Catalog, when set, records every job (engine.Options.Catalog) and
	// makes the jobs of earlier processes visible, read-only.
	Catalog *catalog.Catalog
	// JobLog, when set, receives every job's own lines (engine.Options.Log:
	// checkpoints, restores, skipped state, failures, restarts), each
	// prefixed with "job <first 8 hex of its ID>: ". The jobs' sinks may
	// print to the same file.
	JobLog io.Writer
}

// Cluster is the embedded engine as a cluster.Cluster.
type Cluster struct {
	opts Options
	fs   storage.FS

	mu        sync.Mutex
	jobs      map[string]*job
	order     []string // job IDs, oldest first
	artifacts map[string]*artifact
	disposals map[string]*operation
	closed    bool
	// remembered are the catalog's jobs when the cluster started.
	remembered map[string]catalog.Job
	logMu      sync.Mutex // one job-log line at a time
}

var _ cluster.Cluster = (*Cluster)(nil)

type artifact struct {
	cluster.Artifact
	data []byte
}

// operation is an asynchronous operation's state.
type operation struct {
	mu   sync.Mutex
	op   cluster.Operation
	done time.Time
}

func (o *operation) get() *cluster.Operation {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.op
	return &c
}

func (o *operation) finish(loc string, id int64, failure *cluster.Failure) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.op = cluster.Operation{Status: cluster.Completed, Location: loc, CheckpointID: id, Failure: failure}
	o.done = time.Now()
}

func (o *operation) expired(now time.Time, keep time.Duration) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return !o.done.IsZero() && now.Sub(o.done) > keep
}

type job struct {
	eng     *engine.Job
	tracker *tracker
	name    string
	program *cluster.Program // the spec it was submitted from

	mu         sync.Mutex
	timestamps map[cluster.JobStatus]time.Time
	lastMod    time.Time
	exceptions []cluster.Exception
	ops        map[string]*operation // trigger id → checkpoint/savepoint operation
	ended      chan struct{}
}

// New returns an embedded cluster with no jobs.
func New(opts Options) *Cluster {
	if opts.Config == nil {
		opts.Config = config.New()
	}
	if opts.Version == "" {
		opts.Version = "ckpt"
	}
	if opts.Slots <= 0 {
		opts.Slots = runtime.NumCPU()
	}
	if opts.MaxArtifactSize <= 0 {
		opts.MaxArtifactSize = 1 << 20
	}
	if opts.OperationRetention <= 0 {
		opts.OperationRetention = 5 * time.Minute
	}
	fs := opts.FS
	if fs == nil {
		fs = storage.Default()
	}
	c := &Cluster{opts: opts, fs: fs, jobs: map[string]*job{}, artifacts: map[string]*artifact{},
		disposals: map[string]*operation{}, remembered: map[string]catalog.Job{}}
	if opts.Catalog != nil {
		// Unreadable records only cost the history; the cluster works.
		c.loadRemembered()
	}
	return c
}

// Remembered is the number of jobs of earlier processes the catalog holds.
func (c *Cluster) Remembered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.remembered)
}

// Close cancels every running job and waits (up to ctx) until they ended.
// Retained checkpoints follow each job's retention policy.
func (c *Cluster) Close(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	var all []*job
	for _, j := range c.jobs {
		all = append(all, j)
	}
	c.mu.Unlock()
	for _, j := range all {
		j.eng.Cancel()
	}
	for _, j := range all {
		select {
		case <-j.ended:
		case <-ctx.Done():
			return fmt.Errorf("jobs still stopping: %w", ctx.Err())
		}
	}
	return nil
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *Cluster) job(jobID string) (*job, error) {
	if !cluster.IsJobID(jobID) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "Cannot resolve path parameter (jobid) from value %q: not a 32-hex-digit job ID", jobID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	j := c.jobs[strings.ToLower(jobID)]
	if j == nil {
		return nil, cluster.JobNotFound(jobID)
	}
	return j, nil
}

func status(j *job) cluster.JobStatus { return cluster.JobStatus(j.eng.Status()) }

// Overview implements cluster.Cluster.
func (c *Cluster) Overview(ctx context.Context) (*cluster.Overview, error) {
	o := &cluster.Overview{Version: c.opts.Version, Commit: c.opts.Commit, TaskManagers: 1, SlotsTotal: c.opts.Slots}
	used := 0
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, j := range c.jobs {
		switch s := status(j); s {
		case cluster.JobFinished:
			o.JobsFinished++
		case cluster.JobCanceled:
			o.JobsCancelled++
		case cluster.JobFailed:
			o.JobsFailed++
		default:
			o.JobsRunning++
			// A job takes as many slots as its widest vertex (Flink's slot sharing).
			w := 0
			for _, ch := range j.tracker.chains {
				w = max(w, ch.parallelism)
			}
			used += w
		}
	}
	for id, r := range c.remembered {
		if c.jobs[id] != nil {
			continue
		}
		switch rememberedStatus(r) {
		case cluster.JobFinished:
			o.JobsFinished++
		case cluster.JobCanceled:
			o.JobsCancelled++
		case cluster.JobFailed:
			o.JobsFailed++
		}
	}
	o.SlotsAvailable = max(0, o.SlotsTotal-used)
	return o, nil
}

// Info implements cluster.Cluster.
func (c *Cluster) Info(ctx context.Context) (*cluster.Info, error) {
	name, off := time.Now().Zone()
	return &cluster.Info{RefreshInterval: 3 * time.Second, TimezoneName: name, TimezoneOffset: time.Duration(off) * time.Second,
		Version: c.opts.Version, Revision: c.opts.Commit,
		Features: map[string]bool{"web-submit": true, "web-cancel": true, "web-rescale": false, "web-history": false}}, nil
}

// Configuration implements cluster.Cluster: the cluster-wide settings.
func (c *Cluster) Configuration(ctx context.Context) (map[string]string, error) {
	return c.opts.Config.Map(), nil
}

// Jobs implements cluster.Cluster, oldest submission first.
func (c *Cluster) Jobs(ctx context.Context) ([]cluster.JobSummary, error) {
	c.mu.Lock()
	ids := append([]string(nil), c.order...)
	c.mu.Unlock()
	out := c.rememberedSummaries()
	now := time.Now()
	for _, id := range ids {
		j, err := c.job(id)
		if err != nil {
			continue
		}
		d := c.detail(j, now)
		s := cluster.JobSummary{ID: d.ID, Name: d.Name, Status: d.Status, Start: d.Start, End: d.End, Duration: d.Duration,
			LastModification: j.lastModification(), Tasks: map[string]int{}}
		for _, v := range d.Vertices {
			for k, n := range v.Tasks {
				s.Tasks[k] += n
			}
			s.Tasks["TOTAL"] += v.Parallelism
		}
		out = append(out, s)
	}
	return out, nil
}

func (j *job) lastModification() time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lastMod
}

// Job implements cluster.Cluster.
func (c *Cluster) Job(ctx context.Context, jobID string) (*cluster.Job, error) {
	j, err := c.job(jobID)
	if r, ok := c.rememberedFor(jobID, err); ok {
		return rememberedDetail(r), nil
	}
	if err != nil {
		return nil, err
	}
	return c.detail(j, time.Now()), nil
}

// taskState is the execution state of a job's tasks.
func taskState(s cluster.JobStatus) string {
	switch s {
	case cluster.JobRunning:
		return cluster.TaskRunning
	case cluster.JobFinished:
		return cluster.TaskFinished
	case cluster.JobCanceled:
		return cluster.TaskCanceled
	case cluster.JobFailed:
		return cluster.TaskFailed
	case cluster.JobCancelling:
		return cluster.TaskCanceling
	case cluster.JobRestarting:
		return cluster.TaskCanceled // the failed attempt's tasks, until redeployed
	}
	return cluster.TaskInitializing
}

func (c *Cluster) detail(j *job, now time.Time) *cluster.Job {
	st := status(j)
	j.mu.Lock()
	if _, ok := j.timestamps[st]; !ok {
		// Reached before the subscription saw its event (the engine may
		// start running before Submit returns): first seen now.
		j.timestamps[st] = now
	}
	ts := make(map[cluster.JobStatus]time.Time, len(j.timestamps))
	for k, v := range j.timestamps {
		ts[k] = v
	}
	j.mu.Unlock()
	d := &cluster.Job{ID: j.eng.ID(), Name: j.name, Status: st, Type: "STREAMING", Now: now, MaxParallelism: -1,
		Timestamps: ts, StatusCounts: map[string]int{}}
	if j.program != nil {
		p := *j.program
		d.Program = &p
	}
	d.Start = ts[cluster.JobInitializing]
	end := now
	if st.Terminal() {
		d.End = ts[st]
		end = d.End
	}
	d.Duration = end.Sub(d.Start)
	mets := j.eng.Metrics()
	byOp := map[string]engine.OperatorMetrics{}
	for _, m := range mets {
		byOp[m.OperatorID] = m
	}
	tstate := taskState(st)
	for _, ch := range j.tracker.chains {
		v := cluster.Vertex{ID: ch.id, Name: ch.name, Parallelism: ch.parallelism, MaxParallelism: ch.maxP,
			Status: tstate, Start: ts[cluster.JobRunning], End: d.End, Tasks: map[string]int{tstate: ch.parallelism}}
		if v.Start.IsZero() {
			v.Start = d.Start
		}
		v.Duration = end.Sub(v.Start)
		head, tail := byOp[ch.ops[0].ID.String()], byOp[ch.ops[len(ch.ops)-1].ID.String()]
		// Records crossing the vertex boundary, as Flink counts them: what
		// the head received from upstream and what the tail sent on.
		if !ch.ops[0].IsSource() {
			v.Metrics.ReadRecords = head.RecordsIn
		}
		if len(ch.ops[len(ch.ops)-1].Outputs) > 0 {
			v.Metrics.WriteRecords = tail.RecordsOut
		}
		v.Metrics.ReadRecordsComplete, v.Metrics.WriteRecordsComplete = true, true
		for _, op := range ch.ops {
			m := byOp[op.ID.String()]
			for _, s := range m.Subtasks {
				v.Metrics.Backpressured = max(v.Metrics.Backpressured, s.Backpressured)
			}
			v.Metrics.BackpressureRatio = max(v.Metrics.BackpressureRatio, m.BackpressureRatio)
			v.Operators = append(v.Operators, cluster.Operator{ID: op.ID.String(), UID: op.UID, Name: op.Name})
		}
		if st == cluster.JobRunning {
			v.Metrics.BackpressureLevel = engine.BackpressureLevel(v.Metrics.BackpressureRatio)
		} else {
			v.Metrics.BackpressureRatio = 0
		}
		d.Vertices = append(d.Vertices, v)
		d.StatusCounts[tstate]++
	}
	return d
}

// Exceptions implements cluster.Cluster.
func (c *Cluster) Exceptions(ctx context.Context, jobID string) (*cluster.Exceptions, error) {
	j, err := c.job(jobID)
	if r, ok := c.rememberedFor(jobID, err); ok {
		return rememberedExceptions(r), nil
	}
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	out := &cluster.Exceptions{}
	for i := len(j.exceptions) - 1; i >= 0; i-- {
		out.Entries = append(out.Entries, j.exceptions[i])
	}
	return out, nil
}

// Checkpoints implements cluster.Cluster.
func (c *Cluster) Checkpoints(ctx context.Context, jobID string) (*cluster.CheckpointStats, error) {
	j, err := c.job(jobID)
	if r, ok := c.rememberedFor(jobID, err); ok {
		return rememberedStats(r), nil
	}
	if err != nil {
		return nil, err
	}
	return j.tracker.stats(time.Now()), nil
}

// CheckpointConfig implements cluster.Cluster.
func (c *Cluster) CheckpointConfig(ctx context.Context, jobID string) (*cluster.CheckpointConfig, error) {
	j, err := c.job(jobID)
	if _, ok := c.rememberedFor(jobID, err); ok {
		return nil, cluster.Errorf(cluster.ErrNotFound, "job %s ran in an earlier ckpt process: its checkpoint configuration is not kept", jobID)
	}
	if err != nil {
		return nil, err
	}
	o := j.eng.Options().Checkpointing
	if o.Interval <= 0 {
		return nil, cluster.Errorf(cluster.ErrNotFound, "Checkpointing is not enabled for job %s (execution.checkpointing.interval is not set)", jobID)
	}
	mode := "AT_LEAST_ONCE"
	if o.ExactlyOnce {
		mode = "EXACTLY_ONCE"
	}
	storageName := "JobManagerCheckpointStorage"
	if o.Dir != "" {
		storageName = "FileSystemCheckpointStorage"
	}
	return &cluster.CheckpointConfig{Mode: mode, Interval: o.Interval, Timeout: o.Timeout, MinPause: o.MinPause,
		MaxConcurrent: o.MaxConcurrent, Retention: string(o.Retention), StateBackend: "PebbleStateBackend",
		CheckpointStorage: storageName, NumRetained: o.NumRetained, CheckpointDir: j.eng.CheckpointDir(),
		TolerableFailures: o.Tolerable, AfterTasksFinish: true, ChangelogStorage: "memory"}, nil
}

// CheckpointDetail implements cluster.Cluster.
func (c *Cluster) CheckpointDetail(ctx context.Context, jobID string, id int64) (*cluster.Checkpoint, error) {
	j, err := c.job(jobID)
	if _, ok := c.rememberedFor(jobID, err); ok {
		return nil, cluster.Errorf(cluster.ErrNotFound, "Could not find checkpointing statistics for checkpoint %d (job %s ran in an earlier ckpt process).", id, jobID)
	}
	if err != nil {
		return nil, err
	}
	cp, ok := j.tracker.detail(id, time.Now())
	if !ok {
		return nil, cluster.Errorf(cluster.ErrNotFound, "Could not find checkpointing statistics for checkpoint %d.", id)
	}
	return cp, nil
}

// CheckpointSubtasks implements cluster.Cluster.
func (c *Cluster) CheckpointSubtasks(ctx context.Context, jobID string, id int64, vertexID string) (*cluster.VertexCheckpoint, error) {
	j, err := c.job(jobID)
	if _, ok := c.rememberedFor(jobID, err); ok {
		return nil, cluster.Errorf(cluster.ErrNotFound, "Could not find checkpointing statistics for checkpoint %d (job %s ran in an earlier ckpt process).", id, jobID)
	}
	if err != nil {
		return nil, err
	}
	v, found, vertex := j.tracker.subtasks(id, strings.ToLower(vertexID))
	switch {
	case !found:
		return nil, cluster.Errorf(cluster.ErrNotFound, "Could not find checkpointing statistics for checkpoint %d.", id)
	case !vertex:
		return nil, cluster.Errorf(cluster.ErrNotFound, "There is no vertex %s in job %s.", vertexID, jobID)
	}
	return v, nil
}

// operationFor returns the job's operation under triggerID, creating it
// (and reporting created) unless one exists: a re-posted trigger id does
// not trigger twice.
func (j *job) operationFor(kind cluster.TriggerKind, triggerID string) (string, *operation, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if triggerID == "" {
		triggerID = newID()
	}
	key := string(kind) + "/" + triggerID
	if op, ok := j.ops[key]; ok {
		return triggerID, op, false
	}
	op := &operation{op: cluster.Operation{Status: cluster.InProgress}}
	j.ops[key] = op
	return triggerID, op, true
}

// TriggerCheckpoint implements cluster.Cluster.
func (c *Cluster) TriggerCheckpoint(ctx context.Context, jobID string, req cluster.CheckpointRequest) (cluster.Trigger, error) {
	j, err := c.job(jobID)
	if r, ok := c.rememberedFor(jobID, err); ok {
		return cluster.Trigger{}, notRunningHere(r)
	}
	if err != nil {
		return cluster.Trigger{}, err
	}
	full := false
	switch req.Type {
	case "", cluster.CheckpointConfigured, cluster.CheckpointIncremental:
		// INCREMENTAL on a job that is not incremental gives a full one, as in Flink.
	case cluster.CheckpointFull:
		// Uploads everything afresh, referencing nothing earlier.
		full = true
	default:
		return cluster.Trigger{}, cluster.Errorf(cluster.ErrBadRequest, "checkpointType %q: want CONFIGURED, FULL or INCREMENTAL", req.Type)
	}
	id, op, created := j.operationFor(cluster.CheckpointTrigger, req.TriggerID)
	if created {
		go func() {
			// Bounded by the checkpoint timeout inside the engine; the
			// context only stops us waiting.
			trigger := j.eng.TriggerCheckpoint
			if full {
				trigger = j.eng.TriggerFullCheckpoint
			}
			cpID, err := trigger(context.Background())
			if err != nil {
				op.finish("", 0, failure("org.apache.flink.runtime.checkpoint.CheckpointException", err))
				return
			}
			op.finish("", cpID, nil)
		}()
	}
	return cluster.Trigger{Kind: cluster.CheckpointTrigger, JobID: jobID, ID: id}, nil
}

// failure turns an error into Flink's failure-cause shape.
func failure(class string, err error) *cluster.Failure {
	return &cluster.Failure{Class: class, StackTrace: class + ": " + err.Error()}
}

// TriggerSavepoint implements cluster.Cluster: a savepoint of the running
// job (engine.Job.Savepoint), or with CancelJob Flink's cancel-with-savepoint
// (engine.Job.CancelWithSavepoint, atomic here: nothing after the
// savepoint's barrier is emitted).
func (c *Cluster) TriggerSavepoint(ctx context.Context, jobID string, req cluster.SavepointRequest) (cluster.Trigger, error) {
	return c.savepointOp(jobID, req.TriggerID, req.Format, req.TargetDir, "target-directory", cluster.TypeSavepoint,
		func(j *job, dir string, format snapshot.SavepointFormat) (string, error) {
			if req.CancelJob {
				return j.eng.CancelWithSavepoint(context.Background(), dir, format)
			}
			return j.eng.Savepoint(context.Background(), dir, format)
		})
}

// StopWithSavepoint implements cluster.Cluster (engine.Job.StopWithSavepoint):
// the operation completes when the savepoint is written and the job FINISHED.
func (c *Cluster) StopWithSavepoint(ctx context.Context, jobID string, req cluster.StopRequest) (cluster.Trigger, error) {
	return c.savepointOp(jobID, req.TriggerID, req.Format, req.TargetDir, "targetDirectory", cluster.TypeSyncSavepoint,
		func(j *job, dir string, format snapshot.SavepointFormat) (string, error) {
			return j.eng.StopWithSavepoint(context.Background(), dir, format, req.Drain)
		})
}

// savepointOp is what every savepoint action shares: the job must run
// here, the format be known and a directory be given or configured (field
// names the request's key in errors); a trigger id seen before returns its
// operation instead of starting another; take runs in the background and
// its outcome completes the operation.
func (c *Cluster) savepointOp(jobID, triggerID string, reqFormat cluster.SavepointFormat, targetDir, field, typ string,
	take func(j *job, dir string, format snapshot.SavepointFormat) (string, error)) (cluster.Trigger, error) {
	j, err := c.job(jobID)
	if r, ok := c.rememberedFor(jobID, err); ok {
		return cluster.Trigger{}, notRunningHere(r)
	}
	if err != nil {
		return cluster.Trigger{}, err
	}
	if err := checkFormat(reqFormat); err != nil {
		return cluster.Trigger{}, err
	}
	dir, err := j.savepointDir(targetDir, field)
	if err != nil {
		return cluster.Trigger{}, err
	}
	id, op, created := j.operationFor(cluster.SavepointTrigger, triggerID)
	if created {
		format := formatOf(reqFormat)
		j.tracker.expectSavepoint(string(format), typ)
		go func() {
			loc, err := take(j, dir, format)
			if err == nil {
				j.tracker.savepointDone(loc, string(format), typ)
			}
			finishSavepoint(op, loc, err)
		}()
	}
	return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: id}, nil
}

func formatOf(f cluster.SavepointFormat) snapshot.SavepointFormat {
	if f == cluster.Native {
		return snapshot.FormatNative
	}
	return snapshot.FormatCanonical
}

func finishSavepoint(op *operation, loc string, err error) {
	if err != nil {
		op.finish("", 0, failure("org.apache.flink.runtime.checkpoint.CheckpointException", err))
		return
	}
	op.finish(loc, 0, nil)
}

// savepointDir is the target directory of a savepoint: the request's, else
// the job's execution.checkpointing.savepoint-dir (from the cluster, the
// spec or the submission), else Flink's error naming both.
func (j *job) savepointDir(target, property string) (string, error) {
	if target != "" {
		return target, nil
	}
	if d := j.eng.Options().Checkpointing.SavepointDir; d != "" {
		return d, nil
	}
	return "", cluster.Errorf(cluster.ErrBadRequest, "Config key [%s] is not set. Property [%s] must be provided.", config.SavepointDir, property)
}

func checkFormat(f cluster.SavepointFormat) error {
	switch f {
	case "", cluster.Canonical, cluster.Native:
		return nil
	}
	return cluster.Errorf(cluster.ErrBadRequest, "formatType %q: want CANONICAL or NATIVE", f)
}

// DisposeSavepoint implements cluster.Cluster: it disposes of a savepoint
// (given as the directory or its _metadata) after checking that it is one
// — a readable _metadata of a savepoint — deleting exactly the files that
// _metadata references inside the directory. Retained checkpoints (chk-N)
// are refused: their shared/ files may belong to other checkpoints.
func (c *Cluster) DisposeSavepoint(ctx context.Context, p string) (cluster.Trigger, error) {
	if strings.TrimSpace(p) == "" {
		return cluster.Trigger{}, cluster.Errorf(cluster.ErrBadRequest, "savepoint-path is empty")
	}
	id := newID()
	op := &operation{op: cluster.Operation{Status: cluster.InProgress}}
	c.mu.Lock()
	c.disposals[id] = op
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := c.dispose(ctx, p); err != nil {
			op.finish("", 0, failure("org.apache.flink.util.FlinkException",
				fmt.Errorf("Could not dispose savepoint %s.\nCaused by: %w", p, err)))
			return
		}
		op.finish("", 0, nil)
	}()
	return cluster.Trigger{Kind: cluster.DisposalTrigger, ID: id}, nil
}

// dispose deletes the savepoint at p once savepoints.Check (the one safety
// check the CLI and the TUI use too) says it is a complete savepoint and not
// a checkpoint, whose shared files other checkpoints may reference.
func (c *Cluster) dispose(ctx context.Context, p string) error {
	sp, err := savepoints.Check(ctx, c.fs, p)
	if err != nil {
		return err
	}
	// The one disposal rule (snapshot.Dispose): only what _metadata
	// references inside the directory; a file beside it stays, and the
	// directory with it (the CLI reports what was left).
	_, err = snapshot.Dispose(ctx, c.fs, sp.URI)
	return err
}

// Poll implements cluster.Cluster.
func (c *Cluster) Poll(ctx context.Context, t cluster.Trigger) (*cluster.Operation, error) {
	now := time.Now()
	var op *operation
	switch t.Kind {
	case cluster.DisposalTrigger:
		c.mu.Lock()
		op = c.disposals[t.ID]
		if op != nil && op.expired(now, c.opts.OperationRetention) {
			delete(c.disposals, t.ID)
			op = nil
		}
		c.mu.Unlock()
	case cluster.CheckpointTrigger, cluster.SavepointTrigger:
		j, err := c.job(t.JobID)
		if err != nil {
			return nil, err
		}
		key := string(t.Kind) + "/" + t.ID
		j.mu.Lock()
		op = j.ops[key]
		if op != nil && op.expired(now, c.opts.OperationRetention) {
			delete(j.ops, key)
			op = nil
		}
		j.mu.Unlock()
	default:
		return nil, cluster.Errorf(cluster.ErrBadRequest, "unknown trigger kind %q", t.Kind)
	}
	if op == nil {
		what := "operation"
		switch t.Kind {
		case cluster.CheckpointTrigger:
			what = "checkpoint operation"
		case cluster.SavepointTrigger:
			what = "savepoint operation"
		case cluster.DisposalTrigger:
			return nil, cluster.Errorf(cluster.ErrNotFound, "There is no savepoint disposal operation with triggerId=%s.", t.ID)
		}
		return nil, cluster.Errorf(cluster.ErrNotFound, "There is no %s with triggerId=%s for job %s.", what, t.ID, t.JobID)
	}
	return op.get(), nil
}

// Cancel implements cluster.Cluster.
func (c *Cluster) Cancel(ctx context.Context, jobID string) error {
	j, err := c.job(jobID)
	if r, ok := c.rememberedFor(jobID, err); ok {
		if rememberedStatus(r) == cluster.JobCanceled {
			return nil
		}
		return notRunningHere(r)
	}
	if err != nil {
		return err
	}
	// As Flink: cancelling a cancelled job succeeds, one that ended
	// otherwise is a conflict.
	if s := status(j); s == cluster.JobCanceled {
		return nil
	} else if s.Terminal() {
		return cluster.Errorf(cluster.ErrConflict, "Job cancellation failed because the job has already reached another terminal state (%s).", s)
	}
	j.eng.Cancel()
	return nil
}

// UploadArtifact implements cluster.Cluster: the artifact is a job spec
// (YAML), checked at once so a typo is reported at upload with its line.
func (c *Cluster) UploadArtifact(ctx context.Context, filename string, content io.Reader) (*cluster.Artifact, error) {
	data, err := io.ReadAll(io.LimitReader(content, c.opts.MaxArtifactSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.opts.MaxArtifactSize {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "%s is larger than %d bytes: not a job spec", filename, c.opts.MaxArtifactSize)
	}
	name := path.Base(filename)
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "%s is a jar: ckpt's embedded engine runs job specs (YAML), not Java programs", name)
	}
	if _, err := spec.Parse(name, data); err != nil {
		return nil, cluster.Errorf(cluster.ErrBadRequest, "%v", err)
	}
	a := &artifact{Artifact: cluster.Artifact{ID: newID() + "_" + name, Name: name, Uploaded: time.Now()}, data: data}
	c.mu.Lock()
	c.artifacts[a.ID] = a
	c.mu.Unlock()
	out := a.Artifact
	return &out, nil
}

// Artifacts implements cluster.Cluster, newest first.
func (c *Cluster) Artifacts(ctx context.Context) ([]cluster.Artifact, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]cluster.Artifact, 0, len(c.artifacts))
	for _, a := range c.artifacts {
		out = append(out, a.Artifact)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Uploaded.After(out[j].Uploaded) })
	return out, nil
}

// DeleteArtifact implements cluster.Cluster.
func (c *Cluster) DeleteArtifact(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.artifacts[id]; !ok {
		return cluster.Errorf(cluster.ErrNotFound, "File %s does not exist.", id)
	}
	delete(c.artifacts, id)
	return nil
}

// RunArtifact implements cluster.Cluster.
func (c *Cluster) RunArtifact(ctx context.Context, id string, req cluster.RunRequest) (string, error) {
	c.mu.Lock()
	a := c.artifacts[id]
	c.mu.Unlock()
	if a == nil {
		return "", cluster.Errorf(cluster.ErrNotFound, "Jar file %s does not exist (upload it first: POST /jars/upload)", id)
	}
	return c.submitSpec(ctx, a.Name, a.ID, a.data, req)
}

// SubmitSpec runs a job spec (YAML bytes; name labels errors) with the
// submission's settings: configuration layered cluster config < the spec's
// config section < req.Config < the explicit fields (parallelism, restore
// path, allow-non-restored-state, claim mode).
func (c *Cluster) SubmitSpec(ctx context.Context, name string, data []byte, req cluster.RunRequest) (string, error) {
	return c.submitSpec(ctx, name, "", data, req)
}

// submitSpec is SubmitSpec of an upload (artifactID) or of a spec given
// directly (artifactID "").
func (c *Cluster) submitSpec(ctx context.Context, name, artifactID string, data []byte, req cluster.RunRequest) (string, error) {
	if len(req.ProgramArgs) > 0 {
		return "", cluster.Errorf(cluster.ErrBadRequest, "job specs take no program arguments (got %q); pass settings as flinkConfiguration", req.ProgramArgs)
	}
	if req.JobID != "" && !cluster.IsJobID(req.JobID) {
		return "", cluster.Errorf(cluster.ErrBadRequest, "jobId %q is not 32 hex digits", req.JobID)
	}
	s, err := spec.Parse(name, data)
	if err != nil {
		return "", cluster.Errorf(cluster.ErrBadRequest, "%v", err)
	}
	// The request's settings override the spec's, which override the
	// cluster's own configuration (spec.Prepare layers them).
	over := config.New()
	set := func(k, v, origin string) error {
		if err := over.Set(k, v, origin); err != nil {
			return cluster.Errorf(cluster.ErrBadRequest, "%v", err)
		}
		return nil
	}
	keys := make([]string, 0, len(req.Config))
	for k := range req.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := set(k, req.Config[k], "flinkConfiguration "+k); err != nil {
			return "", err
		}
	}
	if req.Parallelism > 0 {
		if err := set(config.Parallelism, strconv.Itoa(req.Parallelism), "parallelism"); err != nil {
			return "", err
		}
	}
	if req.SavepointPath != "" {
		if err := set(config.RestorePath, req.SavepointPath, "savepointPath"); err != nil {
			return "", err
		}
	}
	if req.AllowNonRestoredState {
		if err := set(config.IgnoreUnclaimedState, "true", "allowNonRestoredState"); err != nil {
			return "", err
		}
	}
	if req.ClaimMode != "" {
		if err := set(config.ClaimMode, req.ClaimMode, "claimMode"); err != nil {
			return "", err
		}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return "", cluster.Errorf(cluster.ErrConflict, "the cluster is shutting down")
	}
	if _, old := c.remembered[strings.ToLower(req.JobID)]; req.JobID != "" && (c.jobs[strings.ToLower(req.JobID)] != nil || old) {
		c.mu.Unlock()
		return "", cluster.Errorf(cluster.ErrConflict, "Job %s already exists", req.JobID)
	}
	c.mu.Unlock()
	submitted := time.Now()
	jobID := strings.ToLower(req.JobID)
	if jobID == "" {
		jobID = engine.NewJobID()
	}
	eo := engine.Options{JobID: jobID, FS: c.opts.FS, Catalog: c.opts.Catalog, Spec: string(data)}
	if c.opts.JobLog != nil {
		short := jobID
		if len(short) > 8 {
			short = short[:8]
		}
		eo.Log = &prefixWriter{mu: &c.logMu, w: c.opts.JobLog, prefix: "job " + short + ": "}
	}
	eng, err := engine.SubmitSpec(ctx, s, c.opts.Config, over, eo)
	if err != nil {
		return "", cluster.Errorf(cluster.ErrBadRequest, "%v", err)
	}
	j := &job{eng: eng, tracker: newTracker(eng.Graph()), name: eng.Name(), ops: map[string]*operation{},
		program:    &cluster.Program{Name: name, ArtifactID: artifactID, Spec: string(data)},
		timestamps: map[cluster.JobStatus]time.Time{cluster.JobInitializing: submitted}, lastMod: submitted,
		ended: make(chan struct{})}
	events, _ := eng.Subscribe()
	if rp := eng.Options().RestorePath; rp != "" {
		j.tracker.setRestored(restored(eng, rp, submitted))
	}
	c.mu.Lock()
	c.jobs[eng.ID()] = j
	c.order = append(c.order, eng.ID())
	c.mu.Unlock()
	go j.watch(events)
	return eng.ID(), nil
}

// restored describes the snapshot a job started from (latest.restored),
// from the metadata the engine restored.
func restored(eng *engine.Job, p string, at time.Time) *cluster.RestoredCheckpoint {
	r := &cluster.RestoredCheckpoint{RestoreTime: at, ExternalPath: p}
	m := eng.Restored()
	if m == nil {
		return r
	}
	r.ID = m.CheckpointID
	if props, ok, _ := m.Properties(); ok {
		r.Savepoint = props.Kind == snapshot.KindSavepoint
	} else {
		r.Savepoint = snapshot.IsSavepointDirName(path.Base(strings.TrimSuffix(strings.TrimSuffix(p, "/_metadata"), "/")))
	}
	return r
}

// watch follows the job's events until it ends.
func (j *job) watch(events <-chan event.Event) {
	defer close(j.ended)
	for e := range events {
		j.tracker.observe(e)
		j.mu.Lock()
		j.lastMod = e.Time
		switch e.Kind {
		case event.JobStatusChanged:
			j.timestamps[cluster.JobStatus(e.Status)] = e.Time
		case event.TaskFailed:
			j.exceptions = append(j.exceptions, exception(e.Cause, e.Time))
		}
		j.mu.Unlock()
	}
	st, err := j.eng.Wait()
	now := time.Now()
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.timestamps[cluster.JobStatus(st)]; !ok {
		j.timestamps[cluster.JobStatus(st)] = now
	}
	j.lastMod = now
	if err != nil && st == engine.Failed {
		// The final failure is the newest entry, unless it repeats the last task failure.
		if n := len(j.exceptions); n == 0 || j.exceptions[n-1].StackTrace != err.Error() {
			j.exceptions = append(j.exceptions, exception(err.Error(), now))
		}
	}
}

// exception turns an engine failure cause into an exception-history entry.
func exception(cause string, at time.Time) cluster.Exception {
	name := cause
	if i := strings.IndexByte(name, '\n'); i >= 0 {
		name = name[:i]
	}
	return cluster.Exception{Name: name, StackTrace: cause, Time: at, Labels: map[string]string{}}
}

// prefixWriter writes each Write (one whole line, as the engine's job log
// writes them) behind a prefix naming the job, one job at a time.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(append([]byte(p.prefix), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Backpressure implements cluster.BackpressureReader: per subtask of the
// vertex, the most any operator of its chain was backpressured lately, as
// Flink's metric-based backpressure (a chain's subtask is one task there).
// A job that is not running has none: status "ok", no subtasks.
func (c *Cluster) Backpressure(ctx context.Context, jobID, vertexID string) (*cluster.Backpressure, error) {
	j, err := c.job(jobID)
	if r, ok := c.rememberedFor(jobID, err); ok {
		return nil, notRunningHere(r)
	}
	if err != nil {
		return nil, err
	}
	var ch *chain
	for i := range j.tracker.chains {
		if j.tracker.chains[i].id == vertexID {
			ch = &j.tracker.chains[i]
		}
	}
	if ch == nil {
		return nil, cluster.Errorf(cluster.ErrNotFound, "Vertex %s not found in job %s", vertexID, jobID)
	}
	b := &cluster.Backpressure{Status: "ok", Level: cluster.BackpressureOK, End: time.Now()}
	if status(j) != cluster.JobRunning {
		return b, nil
	}
	byOp := map[string]engine.OperatorMetrics{}
	for _, m := range j.eng.Metrics() {
		byOp[m.OperatorID] = m
	}
	for s := 0; s < ch.parallelism; s++ {
		var r float64
		for _, op := range ch.ops {
			if sb := byOp[op.ID.String()].SubtaskBackpressure; s < len(sb) {
				r = max(r, sb[s])
			}
		}
		b.Subtasks = append(b.Subtasks, cluster.SubtaskBackpressure{Subtask: s, Level: engine.BackpressureLevel(r), Ratio: r})
		b.Ratio = max(b.Ratio, r)
	}
	b.Level = engine.BackpressureLevel(b.Ratio)
	return b, nil
}
