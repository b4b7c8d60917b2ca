// Package engine is ckpt's embedded stream engine, shaped like the actions
// an operator takes: Submit a job (a graph plus Flink-style configuration),
// watch its Status, Events and Metrics, TriggerCheckpoint, Cancel, Wait.
// The control plane (REST `ckpt serve`, CLI, TUI) wraps exactly this.
//
// A job runs as attempts: the runtime starts every subtask; a failing task
// ends the attempt and the job restarts from its latest completed
// checkpoint (fixed-delay restart strategy with a limit). Checkpoints are
// driven by the coordinator (engine/checkpoint) and written in Flink's
// layout and _metadata format.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ckpt-dev/ckpt/engine/bridge"
	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/failure"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/runtime"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Status is a job status, spelled as Flink's JobStatus.
type Status string

const (
	Initializing Status = "INITIALIZING"
	Running      Status = "RUNNING"
	Restarting   Status = "RESTARTING"
	Cancelling   Status = "CANCELLING"
	Canceled     Status = "CANCELED"
	Finished     Status = "FINISHED"
	Failed       Status = "FAILED"
)

// Terminal reports whether s is final.
func (s Status) Terminal() bool { return s == Canceled || s == Finished || s == Failed }

// Event re-exports the event type.
type Event = event.Event

// Options tune a submission beyond the configuration.
type Options struct {
	// JobID pins the job ID (32 hex); empty = random.
	JobID string
	// FS is the storage for checkpoints; nil = storage.Default().
	FS storage.FS
	// BatchSize and Credits tune the runtime (0 = defaults).
	BatchSize, Credits int
	// CacheEntries and CacheBytes bound each value state's write-back
	// cache (0 = the state package's defaults).
	CacheEntries int
	CacheBytes   int64
	// Catalog, when set, remembers the job (status, checkpoints,
	// savepoints, restore source) across ckpt restarts.
	Catalog *catalog.Catalog
	// Spec is the job spec's text, kept in the catalog.
	Spec string
	// Log, when set, receives the job's own lines (LogLine): where it
	// checkpoints, what it was restored from and which state it skipped,
	// checkpoints and savepoints, failures, restarts and status changes.
	// Each line is one Write, so jobs may share a writer safe for
	// concurrent use (an *os.File).
	Log io.Writer
}

// Job is a submitted job.
type Job struct {
	id    string
	g     *graph.Graph
	opts  config.Options
	eopts Options
	fs    storage.FS
	coord *checkpoint.Coordinator
	mets  *runtime.Metrics
	local string

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	status   Status
	attempt  *runtime.Attempt
	attempts int
	err      error
	subs     map[chan Event]struct{}
	restored *snapshot.Metadata
	bp       bpSampler
	// skipped is restored state no operator takes (allowed with -n).
	skipped       []runtime.UnmatchedOperator
	reuseRestored bool
	failOver      chan error
	// drainTo is the savepoint a stop --drain ends with (the attempt's
	// final snapshot); drainDone reports it.
	drainTo   *checkpoint.SavepointTarget
	drainDone chan error
	started   time.Time
	ended     time.Time
	// ran: an attempt started (opened and restored every operator).
	ran bool
}

// NewJobID returns a random 32-hex-digit job ID.
func NewJobID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Submit validates g against cfg, restores from the configured snapshot
// (execution.state-recovery.path) if any, and starts the job. Errors in
// the graph, configuration or snapshot are returned before anything runs.
func Submit(ctx context.Context, g *graph.Graph, cfg *config.Config, eo Options) (*Job, error) {
	if cfg == nil {
		cfg = config.New()
	}
	o, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	if err := g.Finalize(o.Parallelism, o.MaxParallelism); err != nil {
		return nil, err
	}
	j := &Job{id: eo.JobID, g: g, opts: o, eopts: eo, fs: eo.FS, mets: runtime.NewMetrics(),
		done: make(chan struct{}), subs: map[chan Event]struct{}{}, status: Initializing, failOver: make(chan error, 1)}
	if j.id == "" {
		j.id = NewJobID()
	}
	if j.fs == nil {
		j.fs = storage.Default()
	}
	layout := checkpoint.NewLayout(j.fs, o.Checkpointing.Dir, j.id, o.Checkpointing.CreateSubdir)
	j.coord = checkpoint.New(o.Checkpointing, layout, g, j.id, j.emit, j.failJob)
	if o.RestorePath != "" {
		lctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		m, err := checkpoint.LoadMetadata(lctx, j.fs, o.RestorePath)
		if err != nil {
			return nil, err
		}
		if flink, err := bridge.IsFlink(lctx, j.fs, m); err != nil || flink {
			if err == nil {
				err = errors.New("it is a Flink snapshot, which the engine restores once converted into a ckpt savepoint (ckpt run -s converts it)")
			}
			return nil, fmt.Errorf("restoring from %s: %w", o.RestorePath, err)
		}
		if err := runtime.CheckRestore(g, m, o.AllowNonRestored); err != nil {
			return nil, fmt.Errorf("restoring from %s: %w", o.RestorePath, err)
		}
		j.skipped, _ = runtime.Unmatched(g, m)
		j.restored = m
		j.coord.SetNextID(m.CheckpointID + 1)
		switch o.ClaimMode {
		case "CLAIM", "LEGACY":
			// The job takes the snapshot in as one of its checkpoints: new
			// checkpoints reference its files; under CLAIM the job owns it
			// and deletes it once subsumed, under LEGACY never.
			j.coord.AddRestored(&checkpoint.Completed{ID: m.CheckpointID, Dir: m.ExclusiveDir, Metadata: m, Time: time.Now()}, o.ClaimMode == "CLAIM")
			j.reuseRestored = true
		}
	}
	if o.LocalDir != "" {
		j.local = filepath.Join(o.LocalDir, "job-"+j.id)
	} else {
		d, err := os.MkdirTemp("", "ckpt-job-"+j.id[:8]+"-")
		if err != nil {
			return nil, err
		}
		j.local = d
	}
	j.ctx, j.cancel = context.WithCancel(context.Background())
	j.started = time.Now()
	if eo.Catalog != nil {
		err := eo.Catalog.Put(catalog.Job{ID: j.id, Name: g.Name, Spec: eo.Spec, Config: cfg.Map(), Status: string(Initializing),
			Start: j.started, CheckpointDir: j.coord.Layout().JobDir, RestoredFrom: o.RestorePath})
		if err != nil {
			return nil, fmt.Errorf("recording the job in the catalog: %w", err)
		}
	}
	if eo.Log != nil {
		j.startLog(eo.Log)
	}
	go j.loop()
	return j, nil
}

// Skipped lists the snapshot state that was not restored because no
// operator of the job maps to it (non-restored state allowed).
func (j *Job) Skipped() []runtime.UnmatchedOperator { return j.skipped }

// Restored is the snapshot the job started from (nil for a fresh start).
func (j *Job) Restored() *snapshot.Metadata { return j.restored }

// ID is the job ID (32 hex).
func (j *Job) ID() string { return j.id }

// Name is the job's name.
func (j *Job) Name() string { return j.g.Name }

// Graph is the job's graph (finalized; do not modify).
func (j *Job) Graph() *graph.Graph { return j.g }

// Options are the job's resolved configuration.
func (j *Job) Options() config.Options { return j.opts }

// CheckpointDir is <checkpoints-dir>/<job-id> ("" without checkpoints).
func (j *Job) CheckpointDir() string { return j.coord.Layout().JobDir }

// Status is the current status.
func (j *Job) Status() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status
}

// Attempts is the number of restarts so far.
func (j *Job) Attempts() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.attempts
}

// Subscribe returns a channel of events from now on and a function that
// ends the subscription. A subscriber that falls more than 4096 events
// behind loses events rather than slowing the job down.
func (j *Job) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 4096)
	j.mu.Lock()
	if j.ended.IsZero() {
		j.subs[ch] = struct{}{}
	} else {
		close(ch) // the job has ended: nothing more will come
	}
	j.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			j.mu.Lock()
			if _, ok := j.subs[ch]; ok {
				delete(j.subs, ch)
				close(ch)
			}
			j.mu.Unlock()
		})
	}
}

// Events is Subscribe without the way to stop: for the lifetime of the job
// (the channel closes when the job ends).
func (j *Job) Events() <-chan Event {
	ch, _ := j.Subscribe()
	return ch
}

func (j *Job) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.JobID = j.id
	if c := j.eopts.Catalog; c != nil && (e.Kind == event.CheckpointCompleted || e.Kind == event.JobStatusChanged ||
		e.Kind == event.CheckpointDiscarded) {
		c.Update(j.id, func(r *catalog.Job) {
			switch {
			case e.Kind == event.JobStatusChanged:
				r.Status = e.Status
				if Status(e.Status).Terminal() {
					r.End = e.Time
					if j.err != nil {
						r.Failure = j.err.Error()
					}
				}
			case e.Kind == event.CheckpointDiscarded:
				if e.CheckpointID == r.LatestCheckpointID {
					r.LatestCheckpointDiscarded = true
				}
			case e.Savepoint:
				r.Savepoints = append(r.Savepoints, e.Path)
			case e.Path != "":
				r.LatestCheckpoint, r.LatestCheckpointID = e.Path, e.CheckpointID
				r.LatestCheckpointDiscarded = false
			}
		})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for ch := range j.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func (j *Job) setStatus(s Status) {
	j.mu.Lock()
	prev := j.status
	j.status = s
	j.mu.Unlock()
	if prev != s {
		j.emit(Event{Kind: event.JobStatusChanged, Status: string(s), PrevStatus: string(prev)})
	}
}

// Metrics are the per-operator counters, in graph order. Backpressure
// ratios are measured between calls (over at least a second); a job that
// is not RUNNING reports none.
func (j *Job) Metrics() []OperatorMetrics {
	out := make([]OperatorMetrics, len(j.g.Vertices))
	cum := map[[2]int]time.Duration{}
	for i, v := range j.g.Vertices {
		m := j.mets.Snapshot(i)
		out[i] = OperatorMetrics{OperatorID: v.ID.String(), UID: v.UID, Name: v.Name, Parallelism: v.Parallelism,
			RecordsIn: m.RecordsIn, RecordsOut: m.RecordsOut, Backpressured: m.Backpressured, Subtasks: m.Subtasks}
		for s, ss := range m.Subtasks {
			cum[[2]int{i, s}] = ss.Backpressured
		}
	}
	if j.Status() != Running {
		j.bp.reset()
	} else {
		j.bp.sample(time.Now(), cum)
	}
	for i := range out {
		out[i].SubtaskBackpressure = make([]float64, len(out[i].Subtasks))
		for s := range out[i].Subtasks {
			r := j.bp.ratio(i, s)
			out[i].SubtaskBackpressure[s] = r
			out[i].BackpressureRatio = max(out[i].BackpressureRatio, r)
		}
	}
	return out
}

// OperatorMetrics are one operator's counters.
type OperatorMetrics struct {
	OperatorID, UID, Name string
	Parallelism           int
	RecordsIn, RecordsOut int64
	// Backpressured is the time the operator's subtasks waited for
	// downstream credit, summed over the job's life.
	Backpressured time.Duration
	// BackpressureRatio is the most any subtask was backpressured lately
	// (Flink's backPressuredTimeMsPerSecond / 1000, 0..1); SubtaskBackpressure
	// has each subtask's. Zero when the job is not RUNNING.
	BackpressureRatio   float64
	SubtaskBackpressure []float64
	Subtasks            []runtime.SubtaskSnapshot
}

// Checkpoints is the recent checkpoint history, newest first.
func (j *Job) Checkpoints() []checkpoint.Stats { return j.coord.History() }

// Retained lists the retained completed checkpoints, oldest first.
func (j *Job) Retained() []*checkpoint.Completed { return j.coord.Retained() }

// TriggerCheckpoint takes a checkpoint now and waits for it; it returns its
// id and its failure cause, if any.
func (j *Job) TriggerCheckpoint(ctx context.Context) (int64, error) {
	id, done := j.coord.Trigger(false)
	select {
	case err := <-done:
		return id, err
	case <-ctx.Done():
		return id, ctx.Err()
	}
}

// TriggerFullCheckpoint takes a FULL checkpoint now and waits for it
// (Flink's checkpointType FULL, `ckpt checkpoint --full`): every keyed
// subtask uploads all its state files afresh and the checkpoint references
// nothing earlier checkpoints uploaded, so it stands alone and starts a new
// incremental chain; later incremental checkpoints build on its files. For
// a job without incremental checkpoints it is an ordinary checkpoint.
func (j *Job) TriggerFullCheckpoint(ctx context.Context) (int64, error) {
	id, done := j.coord.TriggerFull()
	select {
	case err := <-done:
		return id, err
	case <-ctx.Done():
		return id, ctx.Err()
	}
}

// Cancel cancels the job; retained checkpoints are kept or deleted per the
// externalized-checkpoint retention policy.
func (j *Job) Cancel() {
	j.mu.Lock()
	if j.status.Terminal() {
		j.mu.Unlock()
		return
	}
	j.mu.Unlock()
	j.setStatus(Cancelling)
	j.cancel()
}

// Done is closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// StartFailed reports whether the job failed without ever running: its
// first attempt could not open or restore its operators, for a reason no
// restart cures (failure.IsDeterministic) or after every restart failed
// the same way. `ckpt run` exits 1 for it, as for a snapshot it cannot read.
func (j *Job) StartFailed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status == Failed && !j.ran
}

// Wait blocks until the job ends and returns its final status and, for a
// failed job, the cause.
func (j *Job) Wait() (Status, error) {
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status, j.err
}

// failJob fails the running attempt over (too many failed checkpoints,
// final checkpoint impossible); without a running attempt there is
// nothing to fail.
func (j *Job) failJob(err error) {
	j.mu.Lock()
	a := j.attempt
	j.mu.Unlock()
	if a == nil {
		return
	}
	select {
	case j.failOver <- err:
	default:
	}
	a.Cancel()
}

func (j *Job) loop() {
	defer close(j.done)
	defer os.RemoveAll(j.local)
	coordCtx, stopCoord := context.WithCancel(context.Background())
	go j.coord.Run(coordCtx)
	final := func(s Status, err error) {
		stopCoord()
		j.mu.Lock()
		j.err = err
		j.mu.Unlock()
		j.coord.Shutdown(string(s))
		j.setStatus(s)
		j.mu.Lock()
		j.ended = time.Now()
		for ch := range j.subs {
			close(ch)
		}
		j.subs = map[chan Event]struct{}{}
		j.mu.Unlock()
	}
	restore := j.restored
	reuse := j.reuseRestored
	for attempt := 0; ; attempt++ {
		select { // a failover request of the previous attempt is spent
		case <-j.failOver:
		default:
		}
		a, err := j.startAttempt(attempt, restore, reuse)
		if err == nil {
			j.mu.Lock()
			j.ran = true
			j.mu.Unlock()
			j.setStatus(Running)
			err = a.Wait()
			j.coord.Attach(nil)
			j.mu.Lock()
			j.attempt = nil
			j.mu.Unlock()
		}
		select {
		case ferr := <-j.failOver:
			err = ferr
		default:
		}
		if err == nil {
			final(Finished, nil)
			return
		}
		if j.ctx.Err() != nil {
			final(Canceled, nil)
			return
		}
		j.coord.AbortAll(fmt.Errorf("Checkpoint aborted: job failover (%v)", firstLine(err)))
		j.emit(Event{Kind: event.TaskFailed, Cause: err.Error()})
		// A deterministic failure (a snapshot file that fails verification
		// or is missing, an operator configuration Open refuses) would
		// fail every attempt the same way: the job fails now, with it.
		r := j.opts.Restart
		if !r.Enabled || attempt >= r.Attempts || failure.IsDeterministic(err) {
			final(Failed, err)
			return
		}
		j.setStatus(Restarting)
		select {
		case <-time.After(r.Delay):
		case <-j.ctx.Done():
			final(Canceled, nil)
			return
		}
		j.mu.Lock()
		j.attempts++
		j.mu.Unlock()
		if latest := j.coord.Latest(); latest != nil && latest.Dir != "" {
			restore, reuse = latest.Metadata, true
		} else if latest == nil {
			restore, reuse = j.restored, false
		} else {
			restore, reuse = nil, false // checkpoints not persisted: start over
		}
	}
}

func firstLine(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

func (j *Job) startAttempt(n int, restore *snapshot.Metadata, reuse bool) (*runtime.Attempt, error) {
	var a *runtime.Attempt
	var aMu sync.Mutex
	ro := runtime.Options{
		JobID: j.id, Graph: j.g, Attempt: n, LocalDir: filepath.Join(j.local, fmt.Sprintf("attempt-%d", n)),
		Coordinator: j.coord, Restore: restore, AllowNonRestored: j.opts.AllowNonRestored, ReuseRestored: reuse,
		ExactlyOnce: j.opts.Checkpointing.ExactlyOnce, Incremental: j.opts.Checkpointing.Incremental,
		BatchSize: j.eopts.BatchSize, Credits: j.eopts.Credits, CacheEntries: j.eopts.CacheEntries, CacheBytes: j.eopts.CacheBytes, Metrics: j.mets,
	}
	ro.OnInputEnded = func() {
		aMu.Lock()
		at := a
		aMu.Unlock()
		j.finishAttempt(at)
	}
	aMu.Lock()
	defer aMu.Unlock()
	var err error
	a, err = runtime.Start(j.ctx, ro)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	j.attempt = a
	j.mu.Unlock()
	j.coord.Attach(a)
	return a, nil
}

// finishAttempt takes the final checkpoint of a bounded job (so
// exactly-once sinks commit everything) and then ends the attempt. After
// stop --drain, the final snapshot is the requested savepoint instead.
func (j *Job) finishAttempt(a *runtime.Attempt) {
	j.mu.Lock()
	sp, report := j.drainTo, j.drainDone
	j.mu.Unlock()
	if sp != nil {
		_, done := j.coord.TriggerSavepoint(sp, true)
		err := <-done
		report <- err
		if err == nil {
			a.Finish()
			return
		}
		// The drained job cannot go back: fail it over to its latest
		// checkpoint, as a failed final snapshot would.
		j.failJob(fmt.Errorf("stop with savepoint (drain) failed: %w", err))
		return
	}
	for try := 0; ; try++ {
		_, done := j.coord.Trigger(true)
		err := <-done
		if err == nil {
			a.Finish()
			return
		}
		if errors.Is(err, checkpoint.ErrNotRunning) || j.ctx.Err() != nil || try >= 10 {
			if try >= 10 {
				j.failJob(fmt.Errorf("final checkpoint failed: %w", err))
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
