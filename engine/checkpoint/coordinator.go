// Package checkpoint is the checkpoint coordinator and the snapshot I/O of
// the embedded engine: periodic triggering (interval, timeout, min pause, max
// concurrent, tolerable failures), acknowledgements from subtasks, the
// asynchronous upload of keyed state (SSTs once into <job>/shared/, private
// files into chk-N/), the _metadata file written last and atomically in
// Flink's format, retention with reference-counted shared files, and
// cleanup on cancel per the externalized-checkpoint retention policy.
package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Runtime is what the coordinator needs from the running tasks.
type Runtime interface {
	// InjectBarrier starts checkpoint (or savepoint) id at every source
	// subtask. An error means the job cannot take one now (not running).
	InjectBarrier(id int64, o BarrierOptions) error
	// ResumeSources undoes StopSources after a failed stop/cancel with
	// savepoint: the job goes on.
	ResumeSources()
	// NotifyComplete tells every task that checkpoint id is complete.
	NotifyComplete(id int64)
	// NotifyAborted tells every task that checkpoint id was aborted.
	NotifyAborted(id int64)
}

// TaskAck is one task's acknowledgement: the state of each operator
// subtask in its chain and its timings.
type TaskAck struct {
	CheckpointID int64
	Results      []SubtaskResult
	Sync, Async  time.Duration
	Alignment    time.Duration
	// StartDelay is the time from the barrier's injection at the sources
	// to the task seeing its first barrier.
	StartDelay time.Duration
	// Err declines the checkpoint (snapshot or upload failed).
	Err error
	// Stopping: the task's attempt is ending; the ack only releases the
	// files it uploaded and does not count towards tolerable failures.
	Stopping bool
}

// Completed is a completed, retained checkpoint.
type Completed struct {
	ID       int64
	Dir      string // chk-N directory ("" when not persisted)
	Metadata *snapshot.Metadata
	Shared   []string
	Time     time.Time
	// Restored marks a checkpoint this job was restored from rather than
	// one it took (it is not deleted unless claimed).
	Restored bool
}

// Stats describes one checkpoint for display (history, live progress).
type Stats struct {
	ID           int64
	Status       string // IN_PROGRESS, COMPLETED, FAILED
	Savepoint    bool
	TriggerTime  time.Time
	LatestAck    time.Time
	EndTime      time.Time
	NumSubtasks  int
	NumAcked     int
	StateSize    int64
	Checkpointed int64
	Path         string
	FailureCause string
	Discarded    bool
	MaxSync      time.Duration
	MaxAsync     time.Duration
	MaxAlignment time.Duration
	OperatorsAck map[string]int // operator ID → subtasks acknowledged
	// Full marks a forced FULL checkpoint (nothing earlier referenced).
	Full bool
}

type pending struct {
	id      int64
	final   bool
	full    bool
	sp      *SavepointTarget
	stop    bool
	trigger time.Time
	acked   map[[2]int]SubtaskResult
	pinned  []string
	timer   *time.Timer
	stats   *Stats
	done    chan error
}

// Coordinator runs the checkpoints of one job (across restarts).
type Coordinator struct {
	opts   config.Checkpointing
	layout Layout
	reg    *Registry
	g      *graph.Graph
	jobID  string
	emit   func(event.Event)
	fail   func(error) // tolerable failures exceeded: fail over the job

	mu          sync.Mutex
	rt          Runtime
	nextID      int64
	pend        map[int64]*pending
	completed   []*Completed
	history     []*Stats
	consecutive int
	lastTrigger time.Time
	lastDone    time.Time
	expected    int
	stopped     bool
	ownedMu     sync.Mutex
	ownedShared []string // shared/ dirs of claimed snapshots
	completeMu  sync.Mutex
}

// HistorySize is how many checkpoints Stats keeps (web.checkpoints.history).
const HistorySize = 10

// New makes a coordinator. emit receives events; fail is called when more
// consecutive checkpoints failed than tolerated.
func New(opts config.Checkpointing, layout Layout, g *graph.Graph, jobID string, emit func(event.Event), fail func(error)) *Coordinator {
	n := 0
	for _, v := range g.Vertices {
		n += v.Parallelism
	}
	return &Coordinator{opts: opts, layout: layout, reg: NewRegistry(), g: g, jobID: jobID, emit: emit, fail: fail,
		nextID: 1, pend: map[int64]*pending{}, expected: n}
}

// Registry is the job's shared-state registry.
func (c *Coordinator) Registry() *Registry { return c.reg }

// Layout of the job's checkpoints.
func (c *Coordinator) Layout() Layout { return c.layout }

// Options of the coordinator.
func (c *Coordinator) Options() config.Checkpointing { return c.opts }

// Attach sets the runtime of the current attempt (nil while restarting).
func (c *Coordinator) Attach(rt Runtime) {
	c.mu.Lock()
	c.rt = rt
	c.mu.Unlock()
}

// SetNextID makes checkpoint numbering continue after a restored one.
func (c *Coordinator) SetNextID(id int64) {
	c.mu.Lock()
	if id > c.nextID {
		c.nextID = id
	}
	c.mu.Unlock()
}

// AddRestored registers a checkpoint the job restored from, so its shared
// files are referenced (and reused) by the new checkpoints. owned says
// whether the job may delete it when subsumed (CLAIM, or its own
// checkpoint after a failover).
func (c *Coordinator) AddRestored(cp *Completed, owned bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp.Restored = !owned
	if cp.Shared == nil {
		cp.Shared = SharedURIs(cp.Metadata)
	}
	if owned && cp.Dir != "" {
		// A claimed checkpoint's shared files live in its own job's
		// shared/ directory; the job may delete them once unreferenced.
		if _, isChk := snapshot.ParseCheckpointDirName(storage.Base(cp.Dir)); isChk {
			c.ownedMu.Lock()
			c.ownedShared = append(c.ownedShared, storage.Join(storage.Dir(cp.Dir), "shared"))
			c.ownedMu.Unlock()
		}
	}
	c.reg.Ref(cp.Shared)
	c.completed = append(c.completed, cp)
	if cp.ID >= c.nextID {
		c.nextID = cp.ID + 1
	}
}

// Latest is the newest completed checkpoint, or nil.
func (c *Coordinator) Latest() *Completed {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.completed) == 0 {
		return nil
	}
	return c.completed[len(c.completed)-1]
}

// Retained lists the completed checkpoints kept, oldest first.
func (c *Coordinator) Retained() []*Completed {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Completed(nil), c.completed...)
}

// History is the recent checkpoints, newest first (copies).
func (c *Coordinator) History() []Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Stats, 0, len(c.history))
	for i := len(c.history) - 1; i >= 0; i-- {
		s := *c.history[i]
		s.OperatorsAck = make(map[string]int, len(c.history[i].OperatorsAck))
		for k, v := range c.history[i].OperatorsAck {
			s.OperatorsAck[k] = v
		}
		out = append(out, s)
	}
	return out
}

// Run triggers periodic checkpoints until ctx ends.
func (c *Coordinator) Run(ctx context.Context) {
	if c.opts.Interval <= 0 {
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(min(c.opts.Interval/4, 100*time.Millisecond))
	defer tick.Stop()
	c.mu.Lock()
	c.lastTrigger = time.Now()
	c.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			c.mu.Lock()
			due := now.Sub(c.lastTrigger) >= c.opts.Interval &&
				len(c.pend) < c.opts.MaxConcurrent &&
				(c.opts.MinPause == 0 || (len(c.pend) == 0 && now.Sub(c.lastDone) >= c.opts.MinPause)) &&
				c.rt != nil && !c.stopped
			c.mu.Unlock()
			if due {
				c.Trigger(false)
			}
		}
	}
}

// ErrNotRunning declines a checkpoint while no attempt is running.
var ErrNotRunning = errors.New("checkpoint declined: the job is not running (restarting or finishing)")

// Trigger starts a checkpoint now. The returned channel yields nil when it
// completes or the failure cause.
func (c *Coordinator) Trigger(final bool) (int64, <-chan error) {
	return c.trigger(final, BarrierOptions{})
}

// TriggerFull starts a FULL checkpoint now: every subtask uploads all its
// files afresh and the checkpoint references nothing an earlier one
// uploaded, which starts a new incremental chain (later checkpoints build
// on its files). For a job without incremental checkpoints every
// checkpoint is full anyway.
func (c *Coordinator) TriggerFull() (int64, <-chan error) {
	return c.trigger(false, BarrierOptions{Full: true})
}

// TriggerSavepoint starts a savepoint into sp.Dir (which it creates). With
// stop, sources emit nothing after the savepoint's barrier; if the
// savepoint fails they resume. Savepoints do not count towards tolerable
// checkpoint failures and are never retained or subsumed: they belong to
// the user.
func (c *Coordinator) TriggerSavepoint(sp *SavepointTarget, stop bool) (int64, <-chan error) {
	return c.trigger(false, BarrierOptions{Savepoint: sp, StopSources: stop})
}

func (c *Coordinator) trigger(final bool, bo BarrierOptions) (int64, <-chan error) {
	done := make(chan error, 1)
	c.mu.Lock()
	if c.stopped || c.rt == nil {
		c.mu.Unlock()
		done <- ErrNotRunning
		return 0, done
	}
	id := c.nextID
	c.nextID++
	now := time.Now()
	c.lastTrigger = now
	full := bo.Full && bo.Savepoint == nil
	p := &pending{id: id, final: final, full: full, sp: bo.Savepoint, stop: bo.StopSources, trigger: now, acked: map[[2]int]SubtaskResult{}, done: done,
		stats: &Stats{ID: id, Status: "IN_PROGRESS", TriggerTime: now, NumSubtasks: c.expected, OperatorsAck: map[string]int{},
			Savepoint: bo.Savepoint != nil, Full: full}}
	c.pend[id] = p
	if full {
		c.reg.SetFull(id, true)
	}
	c.pushHistory(p.stats)
	rt := c.rt
	p.timer = time.AfterFunc(c.opts.Timeout, func() {
		c.abort(id, fmt.Errorf("Checkpoint expired before completing (timeout %s).", config.FormatDuration(c.opts.Timeout)), true)
	})
	c.mu.Unlock()
	c.emit(event.Event{Kind: event.CheckpointTriggered, CheckpointID: id, NumSubtasks: c.expected, Savepoint: bo.Savepoint != nil})
	if bo.Savepoint != nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
		err := c.layout.FS.MkdirAll(ctx, bo.Savepoint.Dir)
		cancel()
		if err != nil {
			c.abort(id, fmt.Errorf("cannot create savepoint directory: %w", err), false)
			return id, done
		}
	} else if c.layout.Enabled() {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
		err := c.layout.FS.MkdirAll(ctx, c.layout.ChkDir(id))
		if err == nil {
			err = c.layout.FS.MkdirAll(ctx, c.layout.SharedDir())
		}
		if err == nil {
			err = c.layout.FS.MkdirAll(ctx, c.layout.TaskOwnedDir())
		}
		cancel()
		if err != nil {
			c.abort(id, fmt.Errorf("cannot create checkpoint directory: %w", err), true)
			return id, done
		}
	}
	if err := rt.InjectBarrier(id, bo); err != nil {
		c.abort(id, err, false)
	}
	return id, done
}

func (c *Coordinator) pushHistory(s *Stats) {
	c.history = append(c.history, s)
	if len(c.history) > HistorySize {
		c.history = c.history[len(c.history)-HistorySize:]
	}
}

// Ack records a task's acknowledgement (or decline) of a checkpoint.
func (c *Coordinator) Ack(a TaskAck) {
	c.mu.Lock()
	p, ok := c.pend[a.CheckpointID]
	if !ok || a.Stopping {
		c.mu.Unlock()
		// Late ack of an aborted checkpoint, or of a stopping attempt:
		// release what it pinned.
		var pins []string
		for _, r := range a.Results {
			pins = append(pins, r.Pinned...)
		}
		c.deleteShared(c.reg.Unpin(pins))
		return
	}
	if a.Err != nil {
		c.mu.Unlock()
		var pins []string
		for _, r := range a.Results {
			pins = append(pins, r.Pinned...)
		}
		c.deleteShared(c.reg.Unpin(pins))
		c.abort(a.CheckpointID, a.Err, true)
		return
	}
	now := time.Now()
	for _, r := range a.Results {
		p.acked[[2]int{r.Vertex, r.Subtask}] = r
		p.pinned = append(p.pinned, r.Pinned...)
		v := c.g.Vertices[r.Vertex]
		p.stats.NumAcked++
		p.stats.StateSize += r.StateSize
		p.stats.Checkpointed += r.Checkpointed
		p.stats.OperatorsAck[v.ID.String()]++
		p.stats.LatestAck = now
		p.stats.MaxSync = max(p.stats.MaxSync, a.Sync)
		p.stats.MaxAsync = max(p.stats.MaxAsync, a.Async)
		p.stats.MaxAlignment = max(p.stats.MaxAlignment, a.Alignment)
	}
	complete := len(p.acked) == c.expected
	acked := p.stats.NumAcked
	c.mu.Unlock()
	for _, r := range a.Results {
		v := c.g.Vertices[r.Vertex]
		c.emit(event.Event{Kind: event.SubtaskAcknowledged, CheckpointID: a.CheckpointID, OperatorID: v.ID.String(),
			OperatorUID: v.UID, OperatorName: v.Name, Subtask: r.Subtask, NumSubtasks: c.expected, NumAcked: acked,
			StateSize: r.StateSize, Checkpointed: r.Checkpointed, SyncDuration: a.Sync, AsyncDuration: a.Async, Alignment: a.Alignment,
			StartDelay: a.StartDelay})
	}
	if complete {
		c.complete(p)
	}
}

// completeSavepoint writes a savepoint's _metadata (relative handles, so the
// directory can be moved) and reports it. Savepoints take no place among
// the retained checkpoints and their files are never shared.
func (c *Coordinator) completeSavepoint(p *pending) {
	m := BuildMetadata(c.g, p.id, p.acked)
	err := m.SetProperties(snapshot.SavepointProperties(p.sp.Format, p.sp.Action))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
		err = snapshot.Write(ctx, c.layout.FS, storage.Join(p.sp.Dir, MetadataName), m)
		cancel()
	}
	if err != nil {
		c.abort(p.id, fmt.Errorf("writing savepoint _metadata: %w", err), false)
		return
	}
	c.mu.Lock()
	if _, still := c.pend[p.id]; !still {
		c.mu.Unlock()
		return
	}
	p.timer.Stop()
	delete(c.pend, p.id)
	now := time.Now()
	p.stats.Status, p.stats.EndTime, p.stats.Path = "COMPLETED", now, p.sp.Dir
	rt := c.rt
	c.mu.Unlock()
	c.emit(event.Event{Kind: event.CheckpointCompleted, CheckpointID: p.id, Savepoint: true, Path: p.sp.Dir,
		NumSubtasks: c.expected, NumAcked: c.expected, StateSize: p.stats.StateSize, Checkpointed: p.stats.Checkpointed,
		Duration: now.Sub(p.trigger), SyncDuration: p.stats.MaxSync, AsyncDuration: p.stats.MaxAsync, Alignment: p.stats.MaxAlignment})
	if rt != nil && p.sp.Notify {
		rt.NotifyComplete(p.id)
	}
	p.done <- nil
}

// Savepoint returns the target of pending savepoint id, or nil for a
// checkpoint (the runtime asks when it uploads).
func (c *Coordinator) Savepoint(id int64) *SavepointTarget {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pend[id]; ok {
		return p.sp
	}
	return nil
}

// retentionFlags are the discard flags Flink writes for a checkpoint under
// each retention policy.
func (c *Coordinator) properties() snapshot.Properties {
	p := snapshot.CheckpointProperties()
	switch c.opts.Retention {
	case config.NoExternalized:
		p.DiscardCancelled, p.DiscardFailed, p.DiscardSuspended = true, true, true
	case config.DeleteOnCancellation:
		p.DiscardCancelled = true
	}
	return p
}

// BuildMetadata assembles the _metadata of a checkpoint from the operator
// subtask results: every operator of the graph, with its uid and name
// (format version 6, as Flink 2.1+ writes).
func BuildMetadata(g *graph.Graph, id int64, results map[[2]int]SubtaskResult) *snapshot.Metadata {
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: id}
	for _, v := range g.Vertices {
		op := &snapshot.OperatorState{Name: v.Name, UID: v.UID, ID: v.ID,
			Parallelism: int32(v.Parallelism), MaxParallelism: int32(v.MaxParallelism)}
		var keys [][2]int
		for k := range results {
			if k[0] == v.Index {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i][1] < keys[j][1] })
		for _, k := range keys {
			if st := results[k].State; st != nil && st.HasState() {
				op.Subtasks = append(op.Subtasks, st)
			}
		}
		m.Operators = append(m.Operators, op)
	}
	return m
}

func (c *Coordinator) complete(p *pending) {
	c.completeMu.Lock()
	defer c.completeMu.Unlock()
	if p.sp != nil {
		c.completeSavepoint(p)
		return
	}
	m := BuildMetadata(c.g, p.id, p.acked)
	var err error
	if err = m.SetProperties(c.properties()); err == nil && c.layout.Enabled() {
		err = c.writeMetadata(m, p.id)
	}
	if err != nil {
		c.abort(p.id, fmt.Errorf("writing _metadata: %w", err), true)
		return
	}
	c.mu.Lock()
	if _, still := c.pend[p.id]; !still { // aborted (timeout) while writing
		c.mu.Unlock()
		return
	}
	p.timer.Stop()
	delete(c.pend, p.id)
	c.reg.SetFull(p.id, false)
	cp := &Completed{ID: p.id, Metadata: m, Shared: SharedURIs(m), Time: time.Now()}
	if c.layout.Enabled() {
		cp.Dir = c.layout.ChkDir(p.id)
		m.Location = storage.Join(cp.Dir, MetadataName)
		m.ExclusiveDir = cp.Dir
	}
	c.reg.Ref(cp.Shared)
	c.deleteShared(c.reg.Unpin(p.pinned))
	c.completed = append(c.completed, cp)
	c.consecutive = 0
	c.lastDone = cp.Time
	p.stats.Status, p.stats.EndTime, p.stats.Path = "COMPLETED", cp.Time, cp.Dir
	// Older pending checkpoints are subsumed by this one.
	var older []int64
	for id, q := range c.pend {
		if id < p.id && q.sp == nil { // savepoints are never subsumed
			older = append(older, id)
		}
	}
	var subsumed []*Completed
	for len(c.completed) > c.opts.NumRetained {
		subsumed = append(subsumed, c.completed[0])
		c.completed = c.completed[1:]
	}
	rt := c.rt
	c.mu.Unlock()
	for _, id := range older {
		c.abort(id, fmt.Errorf("Checkpoint %d was subsumed by checkpoint %d.", id, p.id), false)
	}
	c.emit(event.Event{Kind: event.CheckpointCompleted, CheckpointID: p.id, Path: cp.Dir, NumSubtasks: c.expected,
		NumAcked: c.expected, StateSize: p.stats.StateSize, Checkpointed: p.stats.Checkpointed, Duration: cp.Time.Sub(p.trigger),
		SyncDuration: p.stats.MaxSync, AsyncDuration: p.stats.MaxAsync, Alignment: p.stats.MaxAlignment})
	if rt != nil {
		rt.NotifyComplete(p.id)
	}
	for _, s := range subsumed {
		c.discard(s, "subsumed")
	}
	p.done <- nil
}

// MetadataHook, when set, is called just before a checkpoint's _metadata is
// written (fault injection: a crash here leaves a chk-N with every state
// file but no _metadata).
var MetadataHook func(checkpointID int64)

func (c *Coordinator) writeMetadata(m *snapshot.Metadata, id int64) error {
	if MetadataHook != nil {
		MetadataHook(id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	// Atomic (temporary name, then rename): chk-N becomes complete in one step.
	return snapshot.Write(ctx, c.layout.FS, storage.Join(c.layout.ChkDir(id), MetadataName), m)
}

// discard deletes a subsumed checkpoint: its directory, then the shared
// files no retained checkpoint references. A checkpoint the job was
// restored from without claiming it is left alone.
func (c *Coordinator) discard(cp *Completed, why string) {
	orphans := c.reg.Unref(cp.Shared)
	if cp.Restored {
		return
	}
	if cp.Dir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// _metadata goes first: a crash halfway through the deletion must
		// not leave a complete-looking checkpoint with files missing.
		c.layout.FS.RemoveAll(ctx, storage.Join(cp.Dir, MetadataName))
		c.layout.FS.RemoveAll(ctx, cp.Dir)
		cancel()
	}
	c.deleteShared(orphans)
	c.emit(event.Event{Kind: event.CheckpointDiscarded, CheckpointID: cp.ID, Path: cp.Dir, Cause: why})
}

func (c *Coordinator) deleteShared(uris []string) {
	if len(uris) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.ownedMu.Lock()
	owned := append([]string{c.layout.SharedDir()}, c.ownedShared...)
	c.ownedMu.Unlock()
	for _, u := range uris {
		for _, d := range owned {
			if storage.Within(FlinkPath(d), u) || storage.Within(d, u) {
				c.layout.FS.RemoveAll(ctx, u)
				break
			}
		}
	}
}

// abort fails checkpoint id with cause. counted says whether it counts
// towards tolerable failures (expiry and task-side failures do; declines
// because the job is not running do not, as in Flink).
func (c *Coordinator) abort(id int64, cause error, counted bool) {
	c.mu.Lock()
	p, ok := c.pend[id]
	if !ok {
		c.mu.Unlock()
		return
	}
	delete(c.pend, id)
	p.timer.Stop()
	c.reg.SetFull(id, false)
	now := time.Now()
	p.stats.Status, p.stats.EndTime, p.stats.FailureCause = "FAILED", now, cause.Error()
	c.lastDone = now
	failJob := false
	if p.sp != nil {
		counted = false // a failed savepoint does not fail the job over
	}
	if counted {
		c.consecutive++
		failJob = c.consecutive > c.opts.Tolerable
	}
	consecutive := c.consecutive
	rt := c.rt
	c.mu.Unlock()
	c.deleteShared(c.reg.Unpin(p.pinned))
	if p.sp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// _metadata first, then the rest: nothing complete-looking remains.
		c.layout.FS.RemoveAll(ctx, storage.Join(p.sp.Dir, MetadataName))
		c.layout.FS.RemoveAll(ctx, p.sp.Dir)
		cancel()
	} else if c.layout.Enabled() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c.layout.FS.RemoveAll(ctx, c.layout.ChkDir(id))
		cancel()
	}
	c.emit(event.Event{Kind: event.CheckpointFailed, CheckpointID: id, Cause: cause.Error(), Duration: now.Sub(p.trigger),
		NumSubtasks: c.expected, NumAcked: p.stats.NumAcked, Savepoint: p.sp != nil})
	if rt != nil {
		rt.NotifyAborted(id)
		if p.stop {
			rt.ResumeSources()
		}
	}
	if failJob && c.fail != nil {
		c.fail(fmt.Errorf("exceeded checkpoint tolerable failure threshold (%d consecutive failures, %d tolerated); last cause: %v",
			consecutive, c.opts.Tolerable, cause))
	}
	p.done <- cause
}

// AbortAll aborts every pending checkpoint (job failover or shutdown);
// these do not count towards tolerable failures.
func (c *Coordinator) AbortAll(cause error) {
	c.mu.Lock()
	ids := make([]int64, 0, len(c.pend))
	for id := range c.pend {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.abort(id, cause, false)
	}
}

// Shutdown stops triggering and applies the retention policy for the job's
// terminal status (FINISHED, CANCELED, FAILED, SUSPENDED), as in Flink:
// FINISHED deletes retained checkpoints; CANCELED keeps them only with
// RETAIN_ON_CANCELLATION; FAILED keeps them unless not externalized;
// SUSPENDED keeps them.
func (c *Coordinator) Shutdown(status string) {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.AbortAll(fmt.Errorf("Checkpoint Coordinator is suspending (job %s).", status))
	// Background uploads of base images end with their tasks; none may
	// add a file after the cleanup below.
	c.reg.WaitBackground()
	keep := false
	switch status {
	case "SUSPENDED":
		keep = true
	case "CANCELED":
		keep = c.opts.Retention == config.RetainOnCancellation
	case "FAILED":
		keep = c.opts.Retention != config.NoExternalized
	}
	if keep || !c.layout.Enabled() {
		return
	}
	c.mu.Lock()
	all := c.completed
	c.completed = nil
	c.mu.Unlock()
	ownsAll := true
	for _, cp := range all {
		if cp.Restored {
			ownsAll = false
		}
		c.discard(cp, "job "+status)
	}
	if ownsAll {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Nothing of this job is worth keeping: remove its directory.
		c.layout.FS.RemoveAll(ctx, c.layout.JobDir)
	}
}
