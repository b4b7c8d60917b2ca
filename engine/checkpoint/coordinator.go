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
	completeMu  sync.Mutex

	// flights are the directories pending checkpoints write into.
	flights *flights
	// made are the job's directories (JobDir, shared/, taskowned/) this
	// coordinator created; only those it may remove, once empty.
	dirMu     sync.Mutex
	dirsReady bool
	made      map[string]bool
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
	fl := newFlights(layout.JobDir)
	if layout.FS != nil {
		layout.FS = guardFS{FS: layout.FS, f: fl}
	}
	return &Coordinator{opts: opts, layout: layout, reg: NewRegistry(), g: g, jobID: jobID, emit: emit, fail: fail,
		nextID: 1, pend: map[int64]*pending{}, expected: n, flights: fl, made: map[string]bool{}}
}

// Registry is the job's shared-state registry.
func (c *Coordinator) Registry() *Registry { return c.reg }

// Layout of the job's checkpoints. Its FS refuses writes into the
// directory of a checkpoint or savepoint that is no longer pending, and
// tracks the files written into pending ones so that an aborted
// checkpoint's files are removed once its last upload ended.
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
			c.reg.Claim(storage.Join(storage.Dir(cp.Dir), "shared"))
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
	// The flight opens with the checkpoint, so an abort at any moment
	// from now on closes it: the directory is then never (re)created.
	if bo.Savepoint != nil {
		c.flights.start(id, bo.Savepoint.Dir)
	} else if c.layout.Enabled() {
		c.flights.start(id, c.layout.ChkDir(id))
	}
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
	if bo.Savepoint != nil || c.layout.Enabled() {
		if cause, counted := c.makeDirs(id, bo.Savepoint); cause != nil {
			c.abort(id, cause, counted)
			return id, done
		}
	}
	if err := rt.InjectBarrier(id, bo); err != nil {
		c.abort(id, err, false)
	}
	return id, done
}

// makeDirs creates the directory checkpoint id (or the savepoint sp)
// writes into, and for a checkpoint the job's shared/ and taskowned/,
// remembering which of them it made: the job removes only directories it
// made, and only once empty. A chk-N that already exists (another job's,
// with create-subdir off, or one left by an earlier run) is never written
// into: that checkpoint fails, without counting towards tolerable failures.
func (c *Coordinator) makeDirs(id int64, sp *SavepointTarget) (cause error, counted bool) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	fsys := c.layout.FS
	absent := func(dir string) (bool, error) {
		_, err := fsys.Lstat(ctx, dir)
		if storage.IsNotExist(err) {
			return true, nil
		}
		return false, err
	}
	// Like an upload, the creation counts as a write into the flight: an
	// abort meanwhile cleans up only after it.
	fl := c.flights.enter(id)
	if fl == nil {
		return fmt.Errorf("checkpoint %d: %w", id, ErrNotPending), false // aborted already (expired)
	}
	defer c.flights.end(fl, "", false)
	if sp != nil {
		made, err := absent(sp.Dir)
		if err == nil {
			c.flights.made(fl, made)
			err = fsys.MkdirAll(ctx, sp.Dir)
		}
		if err != nil {
			return fmt.Errorf("cannot create savepoint directory: %w", err), false
		}
		return nil, false
	}
	if err := c.makeJobDirs(ctx); err != nil {
		return fmt.Errorf("cannot create checkpoint directory: %w", err), true
	}
	chk := c.layout.ChkDir(id)
	made, err := absent(chk)
	if err == nil && !made {
		return fmt.Errorf("%s already exists and this job did not create it (another job's checkpoint, or one left by an earlier run): "+
			"ckpt never writes into a checkpoint directory it did not create; give each job its own directory "+
			"(execution.checkpointing.create-subdir=true)", chk), false
	}
	if err == nil {
		c.flights.made(fl, true)
		err = fsys.MkdirAll(ctx, chk)
	}
	if err != nil {
		return fmt.Errorf("cannot create checkpoint directory: %w", err), true
	}
	return nil, false
}

// makeJobDirs creates the job directory, shared/ and taskowned/ once,
// noting which of them did not exist before.
func (c *Coordinator) makeJobDirs(ctx context.Context) error {
	c.dirMu.Lock()
	defer c.dirMu.Unlock()
	if c.dirsReady {
		return nil
	}
	for _, d := range []string{c.layout.JobDir, c.layout.SharedDir(), c.layout.TaskOwnedDir()} {
		_, err := c.layout.FS.Lstat(ctx, d)
		switch {
		case storage.IsNotExist(err):
			if err := c.layout.FS.MkdirAll(ctx, d); err != nil {
				return err
			}
			c.made[d] = true
		case err != nil:
			return err
		}
	}
	c.dirsReady = true
	return nil
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
	c.flights.finish(p.id, true, nil)
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
	c.flights.finish(p.id, false, nil)
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

// discard deletes a subsumed checkpoint the way snapshot.Dispose deletes
// any snapshot — exactly the files its _metadata references inside its
// chk-N (the metadata first, renamed so nothing complete-looking remains),
// then chk-N if that emptied it — and then the shared files no retained
// checkpoint references any more that the job may delete (see Registry).
// A checkpoint the job was restored from without claiming it is left
// alone. What could not go is named in the event's cause.
func (c *Coordinator) discard(cp *Completed, why string) {
	orphans := c.reg.Unref(cp.Shared)
	if cp.Restored {
		return
	}
	cause := why
	if cp.Dir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		d, err := snapshot.Dispose(ctx, c.layout.FS, cp.Dir)
		cancel()
		if note := disposalNote(d, err, cp.Shared); note != "" {
			cause += "; " + note
		}
	}
	c.deleteShared(orphans)
	c.emit(event.Event{Kind: event.CheckpointDiscarded, CheckpointID: cp.ID, Path: cp.Dir, Cause: cause})
}

// disposalNote describes what a disposal left that it should not have ("" when
// it removed everything but the checkpoint's shared files, which the
// registry deletes on its own).
func disposalNote(d snapshot.Disposal, err error, shared []string) string {
	if err != nil {
		return err.Error()
	}
	isShared := map[string]bool{}
	for _, u := range shared {
		isShared[u] = true
	}
	var left []snapshot.Leftover
	for _, l := range d.Left {
		if !isShared[l.URI] {
			left = append(left, l)
		}
	}
	if len(left) == 0 {
		return ""
	}
	d.Left = left
	return d.Summary()
}

func (c *Coordinator) deleteShared(uris []string) { removeShared(c.layout.FS, uris) }

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
	// The tasks hear first; from now on the checkpoint's directory takes
	// no more files (late uploads fail), and what was written into it is
	// removed — only that, and the directory only if the coordinator made
	// it — once the uploads still writing have ended, so none of them can
	// leave a file behind the cleanup.
	if rt != nil {
		rt.NotifyAborted(id)
	}
	c.flights.finish(id, p.sp != nil, c.removeAborted)
	c.deleteShared(c.reg.Unpin(p.pinned))
	c.emit(event.Event{Kind: event.CheckpointFailed, CheckpointID: id, Cause: cause.Error(), Duration: now.Sub(p.trigger),
		NumSubtasks: c.expected, NumAcked: p.stats.NumAcked, Savepoint: p.sp != nil})
	if rt != nil && p.stop {
		rt.ResumeSources()
	}
	if failJob && c.fail != nil {
		c.fail(fmt.Errorf("exceeded checkpoint tolerable failure threshold (%d consecutive failures, %d tolerated); last cause: %v",
			consecutive, c.opts.Tolerable, cause))
	}
	p.done <- cause
}

// removeAborted removes what the uploads of an aborted checkpoint or
// savepoint wrote into its directory (flights call it once they ended).
// Should anything stay (a file somebody else put there, a failed
// removal), a discard event says what.
func (c *Coordinator) removeAborted(fl *flight) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := removeWritten(ctx, c.layout.FS, fl)
	if note := disposalNote(d, err, nil); note != "" {
		c.emit(event.Event{Kind: event.CheckpointDiscarded, CheckpointID: fl.id, Path: fl.dir,
			Cause: "cleanup of a failed checkpoint; " + note})
	}
}

// WaitCleanup waits, at most until ctx ends, for the files of aborted
// checkpoints whose uploads were still writing to be removed.
func (c *Coordinator) WaitCleanup(ctx context.Context) error { return c.flights.wait(ctx) }

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
// SUSPENDED keeps them. Deleting removes only what the job wrote: each
// checkpoint's files (snapshot.Dispose), the shared files it uploaded, and
// shared/, taskowned/ and <dir>/<job-id> if the job created them and they
// are empty then. With create-subdir off the configured directory itself
// is never removed, nor anything in it the job did not write.
func (c *Coordinator) Shutdown(status string) {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.AbortAll(fmt.Errorf("Checkpoint Coordinator is suspending (job %s).", status))
	// Background uploads of base images end with their tasks; none may
	// add a file after the cleanup below. Nor may the removal of aborted
	// checkpoints' files still be waiting for an upload.
	c.reg.WaitBackground()
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	c.WaitCleanup(wctx)
	wcancel()
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
	for _, cp := range all {
		c.discard(cp, "job "+status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dirs := []string{c.layout.SharedDir(), c.layout.TaskOwnedDir()}
	if c.layout.Subdir {
		dirs = append(dirs, c.layout.JobDir)
	}
	c.dirMu.Lock()
	defer c.dirMu.Unlock()
	for _, d := range dirs {
		if !c.made[d] {
			continue
		}
		// Never recursive: a directory still holding anything stays.
		if fi, err := c.layout.FS.Lstat(ctx, d); err == nil && fi.IsDir && !fi.IsSymlink() {
			c.layout.FS.Remove(ctx, d)
		}
	}
}
