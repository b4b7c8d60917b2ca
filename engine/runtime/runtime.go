// Package runtime runs one attempt of a job: every operator subtask as a
// goroutine (chained operators share one), bounded channels carrying batches
// of records between them with credit-based flow control (backpressure, no
// unbounded queues), barriers travelling in-band with alignment for
// exactly-once, the synchronous snapshot phase on the task goroutine and the
// asynchronous upload on a per-task uploader, and a clean shutdown.
//
// Flow control: every (sender, receiver) pair has Credits slots. A sender
// takes a slot before each message and the receiver frees it only once the
// message is processed — not when it is merely set aside while the input is
// blocked for barrier alignment — so a blocked input holds at most Credits
// messages and the receiver's channel (sized to the sum of its inputs'
// credits) never blocks a sender.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	rtdebug "runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/failure"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// Defaults for Options.
const (
	DefaultBatchSize = 512
	DefaultCredits   = 4
)

// Options describe one attempt.
type Options struct {
	JobID   string
	Graph   *graph.Graph
	Attempt int
	// LocalDir is this attempt's private working directory (keyed state,
	// staging); it is removed when the attempt ends.
	LocalDir    string
	Coordinator *checkpoint.Coordinator
	// Restore is the checkpoint to start from (nil: fresh start).
	Restore *snapshot.Metadata
	// AllowNonRestored skips restored state that maps to no operator.
	AllowNonRestored bool
	// ReuseRestored lets new checkpoints reference the restored shared
	// files instead of uploading them again: true when restoring the job's
	// own checkpoint after a failover (and under CLAIM); false for a
	// NO_CLAIM restore, whose first checkpoint must be self-contained.
	ReuseRestored bool
	ExactlyOnce   bool
	Incremental   bool
	BatchSize     int
	Credits       int
	CacheEntries  int
	CacheBytes    int64
	Metrics       *Metrics
	// OnInputEnded is called (once, from a task goroutine) when every task
	// has seen the end of its input: a bounded job is ready for its final
	// checkpoint, after which Finish ends the attempt.
	OnInputEnded func()
}

const (
	kData uint8 = iota
	kWatermark
	kBarrier
	kEnd
)

type message struct {
	from int
	kind uint8
	id   int64
	wm   int64
	recs []operator.Record
}

var batchPool = sync.Pool{New: func() any { s := make([]operator.Record, 0, DefaultBatchSize); return &s }}

// inbox is a task's input side.
type inbox struct {
	ch      chan message
	credits []chan struct{} // per input channel
}

// Attempt is a running attempt.
type Attempt struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	tasks  []*task
	srcs   []*task
	wg     sync.WaitGroup

	errOnce sync.Once
	err     error

	finish     chan struct{}
	finishOnce sync.Once
	// barrier options by checkpoint id (savepoint targets, stop), and
	// when each barrier was injected at the sources: a task's start delay
	// is the time from there to the first barrier it sees (Flink's
	// checkpoint start delay).
	bmu       sync.Mutex
	bopts     map[int64]checkpoint.BarrierOptions
	injected  map[int64]time.Time
	resumeN   atomic.Int64 // bumped by ResumeSources
	drain     atomic.Bool
	ended     atomic.Int32
	completed atomic.Int64
	running   atomic.Bool
}

// Start opens every operator (restoring state when asked) and starts the
// tasks. Errors opening or restoring are returned before anything runs.
func Start(parent context.Context, o Options) (*Attempt, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Credits <= 0 {
		o.Credits = DefaultCredits
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	ctx, cancel := context.WithCancel(parent)
	a := &Attempt{opts: o, ctx: ctx, cancel: cancel, finish: make(chan struct{}), bopts: map[int64]checkpoint.BarrierOptions{},
		injected: map[int64]time.Time{}}
	if err := a.build(); err != nil {
		a.closeAll()
		cancel()
		os.RemoveAll(o.LocalDir)
		return nil, err
	}
	a.running.Store(true)
	for _, t := range a.tasks {
		a.wg.Add(2)
		go t.run()
		go t.uploader()
	}
	return a, nil
}

func (a *Attempt) build() error {
	g := a.opts.Graph
	if a.opts.Restore != nil {
		if err := CheckRestore(g, a.opts.Restore, a.opts.AllowNonRestored); err != nil {
			return err
		}
	}
	chains := g.Chains()
	// One inbox per (chain head vertex, subtask).
	inboxes := map[[2]int]*inbox{}
	for _, ch := range chains {
		head := g.Vertices[ch[0]]
		if head.IsSource() {
			continue
		}
		in := head.Inputs[0]
		up := g.Vertices[in.From]
		nIn := up.Parallelism
		if in.Partitioning == graph.Forward {
			nIn = 1
		}
		for i := 0; i < head.Parallelism; i++ {
			ib := &inbox{ch: make(chan message, nIn*a.opts.Credits), credits: make([]chan struct{}, nIn)}
			for j := range ib.credits {
				ib.credits[j] = make(chan struct{}, a.opts.Credits)
			}
			inboxes[[2]int{head.Index, i}] = ib
		}
	}
	metrics := map[int][]*SubtaskMetrics{}
	for _, v := range g.Vertices {
		metrics[v.Index] = a.opts.Metrics.reset(v.Index, v.Parallelism)
	}
	for _, ch := range chains {
		head := g.Vertices[ch[0]]
		tail := g.Vertices[ch[len(ch)-1]]
		for i := 0; i < head.Parallelism; i++ {
			t := &task{a: a, subtask: i, poke: make(chan struct{}, 1), uploads: make(chan uploadJob, 8), bp: metrics[tail.Index][i]}
			t.name = fmt.Sprintf("%s (%d/%d)", head.Name, i+1, head.Parallelism)
			if !head.IsSource() {
				t.in = inboxes[[2]int{head.Index, i}]
				t.nInputs = len(t.in.credits)
				t.blocked = make([]bool, t.nInputs)
				t.arrived = make([]bool, t.nInputs)
				t.ended = make([]bool, t.nInputs)
				t.stash = make([][]message, t.nInputs)
				t.wms = make([]int64, t.nInputs)
				for j := range t.wms {
					t.wms[j] = math.MinInt64
				}
			}
			t.curWM = math.MinInt64
			// Outputs of the tail.
			t.router = &router{t: t, batch: a.opts.BatchSize}
			for _, o := range tail.Outputs {
				dv := g.Vertices[o]
				e := &outEdge{part: dv.Inputs[0].Partitioning, maxP: dv.MaxParallelism, p: dv.Parallelism}
				for j := 0; j < dv.Parallelism; j++ {
					if e.part == graph.Forward && j != i {
						continue
					}
					ib := inboxes[[2]int{dv.Index, j}]
					from := i
					if e.part == graph.Forward {
						from = 0
					}
					e.targets = append(e.targets, &target{ib: ib, from: from, credits: ib.credits[from]})
				}
				e.bufs = make([]*[]operator.Record, len(e.targets))
				t.router.edges = append(t.router.edges, e)
			}
			// Operators of the chain, tail first so each knows its next.
			var next operator.Collector = t.router
			t.ops = make([]*chainOp, len(ch))
			for k := len(ch) - 1; k >= 0; k-- {
				v := g.Vertices[ch[k]]
				c := &chainOp{v: v, next: next, m: metrics[v.Index][i]}
				c.counted = outCounter{c: c}
				t.ops[k] = c
				next = c
			}
			t.head = t.ops[0]
			a.tasks = append(a.tasks, t)
			if head.IsSource() {
				a.srcs = append(a.srcs, t)
			}
		}
	}
	return a.openAll()
}

// openAll opens every task's operators (tail first, as each needs its
// next), restoring their state; tasks open side by side, up to one per
// core, because a restore downloads and imports each subtask's state and
// the subtasks share nothing while they do. The first error in task order
// is returned once all have finished.
func (a *Attempt) openAll() error {
	errs := make([]error, len(a.tasks))
	sem := make(chan struct{}, goruntime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, t := range a.tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			defer func() {
				// An operator's Open is user code: a panic fails the start
				// with what it said instead of ending the process.
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("opening task %s panicked: %v\n%s", t.name, r, rtdebug.Stack())
					if m := a.opts.Restore; m != nil {
						// Opening on restored state repeats the same way
						// on every attempt (corrupt or foreign state).
						errs[i] = failure.Deterministic(fmt.Errorf("restoring from %s: %w", m.Location, errs[i]))
					}
				}
			}()
			for k := len(t.ops) - 1; k >= 0; k-- {
				c := t.ops[k]
				if err := t.open(c); err != nil {
					errs[i] = fmt.Errorf("opening operator %s subtask %d: %w", c.v.Label(), t.subtask, err)
					return
				}
				c.opened = true
			}
		}()
	}
	wg.Wait()
	return firstErr(errs)
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Wait blocks until the attempt ends: nil when finished, the first task
// failure, or the context's error when cancelled.
func (a *Attempt) Wait() error {
	a.wg.Wait()
	a.running.Store(false)
	a.closeAll()
	os.RemoveAll(a.opts.LocalDir)
	if a.err != nil {
		return a.err
	}
	select {
	case <-a.finish:
		return nil
	default:
	}
	if err := a.ctx.Err(); err != nil {
		return err
	}
	return nil
}

// Cancel stops every task.
func (a *Attempt) Cancel() { a.cancel() }

// Finish ends a bounded attempt after its final checkpoint.
func (a *Attempt) Finish() { a.finishOnce.Do(func() { close(a.finish) }) }

func (a *Attempt) failWith(err error) {
	a.errOnce.Do(func() {
		a.err = err
		a.cancel()
	})
}

func (a *Attempt) closeAll() {
	for _, t := range a.tasks {
		for _, c := range t.ops {
			if c == nil || c.closed {
				continue
			}
			c.closed = true
			if !c.opened {
				// Its Open failed or never ran; only the backend may be open.
			} else if c.src != nil {
				c.src.Close()
			} else if c.op != nil {
				c.op.Close()
			}
			if c.backend != nil {
				c.backend.Close()
			}
		}
	}
}

// InjectBarrier starts checkpoint (or savepoint) id at every source subtask.
func (a *Attempt) InjectBarrier(id int64, o checkpoint.BarrierOptions) error {
	if !a.running.Load() || a.ctx.Err() != nil {
		return checkpoint.ErrNotRunning
	}
	a.bmu.Lock()
	a.bopts[id] = o
	a.injected[id] = time.Now()
	// Barriers 64 checkpoints older are long past every task: forget
	// when they started.
	for old := range a.injected {
		if old < id-64 {
			delete(a.injected, old)
		}
	}
	a.bmu.Unlock()
	for _, t := range a.srcs {
		t.mu.Lock()
		t.barriers = append(t.barriers, id)
		t.mu.Unlock()
		t.wake()
	}
	return nil
}

// NotifyComplete tells every task that checkpoint id completed; tasks see
// the latest id (notifications coalesce, as in Flink).
func (a *Attempt) NotifyComplete(id int64) {
	for {
		cur := a.completed.Load()
		if id <= cur || a.completed.CompareAndSwap(cur, id) {
			break
		}
	}
	for _, t := range a.tasks {
		t.wake()
	}
}

// NotifyAborted forgets the barrier's options; staging of aborted
// checkpoints is removed by the uploader, and uploads are unpinned by the
// coordinator.
func (a *Attempt) NotifyAborted(id int64) {}

func (a *Attempt) barrierOptions(id int64) checkpoint.BarrierOptions {
	a.bmu.Lock()
	defer a.bmu.Unlock()
	return a.bopts[id]
}

// startDelay is how long barrier id took from its injection at the
// sources to a task that sees it at seen.
func (a *Attempt) startDelay(id int64, seen time.Time) time.Duration {
	a.bmu.Lock()
	at, ok := a.injected[id]
	a.bmu.Unlock()
	if !ok || seen.Before(at) {
		return 0
	}
	return seen.Sub(at)
}

// ResumeSources lets sources stopped for a stop/cancel-with-savepoint emit
// again (the savepoint failed; the job goes on).
func (a *Attempt) ResumeSources() {
	a.resumeN.Add(1)
	for _, t := range a.srcs {
		t.wake()
	}
}

// DrainSources ends the input of every source now, as stop --drain does:
// operators see the end of input (windows fire) and the job becomes ready
// for its final snapshot (OnInputEnded).
func (a *Attempt) DrainSources() {
	a.drain.Store(true)
	for _, t := range a.srcs {
		t.wake()
	}
}

func (a *Attempt) taskEnded() {
	if int(a.ended.Add(1)) == len(a.tasks) && a.opts.OnInputEnded != nil {
		go a.opts.OnInputEnded()
	}
}

// chainOp is one operator inside a task.
type chainOp struct {
	v       *graph.Vertex
	op      operator.Operator
	src     operator.Source
	backend *state.Backend
	backID  string
	next    operator.Collector
	counted outCounter
	m       *SubtaskMetrics
	in, out int64
	opened  bool // Open succeeded (so Close is owed)
	closed  bool
}

func (c *chainOp) Collect(r operator.Record) {
	c.in++
	if err := c.op.Process(r, c.counted); err != nil {
		panic(opError{c.v, err})
	}
}

type outCounter struct{ c *chainOp }

func (o outCounter) Collect(r operator.Record) { o.c.out++; o.c.next.Collect(r) }

type opError struct {
	v   *graph.Vertex
	err error
}

func (c *chainOp) publish() {
	c.m.RecordsIn.Store(c.in)
	c.m.RecordsOut.Store(c.out)
}

type target struct {
	ib      *inbox
	from    int
	credits chan struct{}
}

type outEdge struct {
	part    graph.Partitioning
	maxP, p int
	targets []*target
	bufs    []*[]operator.Record
	rr      int
}

type router struct {
	t     *task
	edges []*outEdge
	batch int
}

func (r *router) Collect(rec operator.Record) {
	for _, e := range r.edges {
		var i int
		switch e.part {
		case graph.Forward:
			i = 0
		case graph.Hash:
			i = keygroup.OperatorIndex(e.maxP, e.p, state.KeyGroupOf(rec.Key, e.maxP))
		default:
			i = e.rr
			e.rr++
			if e.rr == len(e.targets) {
				e.rr = 0
			}
		}
		b := e.bufs[i]
		if b == nil {
			b = batchPool.Get().(*[]operator.Record)
			*b = (*b)[:0]
			e.bufs[i] = b
		}
		*b = append(*b, rec)
		if len(*b) >= r.batch {
			e.bufs[i] = nil
			// The receiver owns the batch now and returns it to the pool.
			r.t.send(e.targets[i], message{kind: kData, recs: *b})
		}
	}
}

func (r *router) flush() {
	for _, e := range r.edges {
		for i, b := range e.bufs {
			if b != nil && len(*b) > 0 {
				e.bufs[i] = nil
				r.t.send(e.targets[i], message{kind: kData, recs: *b})
			}
		}
	}
}

func (r *router) broadcast(m message) {
	r.flush()
	for _, e := range r.edges {
		for _, tg := range e.targets {
			r.t.send(tg, m)
		}
	}
}

type uploadJob struct {
	id    int64
	snaps []checkpoint.OperatorSnapshot
	// pending keyed snapshots, finished by the uploader, for backends (in
	// the same order).
	pending    []*state.Pending
	backends   []*chainOp
	sync       time.Duration
	alignment  time.Duration
	startDelay time.Duration
}

// task runs one chain of operators for one subtask index.
type task struct {
	a       *Attempt
	name    string
	subtask int
	ops     []*chainOp
	head    *chainOp
	router  *router
	in      *inbox
	nInputs int
	bp      *SubtaskMetrics

	mu       sync.Mutex
	barriers []int64
	poke     chan struct{}
	uploads  chan uploadJob
	notified int64

	// alignment
	aligning   int64
	alignStart time.Time
	blocked    []bool
	arrived    []bool
	nArrived   int
	stash      [][]message
	replay     []message
	ended      []bool
	nEnded     int
	wms        []int64
	curWM      int64
	srcWM      int64
	stopped    bool
	resumeSeen int64
}

func (t *task) wake() {
	select {
	case t.poke <- struct{}{}:
	default:
	}
}

// restoreFailed names the snapshot (its _metadata) and the operator in a
// restore error, whatever file it is about: a path corrupted inside
// _metadata reads as a missing file, which only makes sense next to the
// _metadata that named it. The error's class (deterministic or not) is
// kept.
func restoreFailed(m *snapshot.Metadata, v *graph.Vertex, err error) error {
	where := m.Location
	if where == "" {
		where = m.ExclusiveDir
	}
	op := v.Name
	if v.UID != "" {
		op = v.UID
	}
	return fmt.Errorf("restoring operator %s from %s: %w", op, where, err)
}

// open creates the operator (restoring its state) for chain position c.
func (t *task) open(c *chainOp) error {
	a := t.a
	v := c.v
	ctx := &operator.Context{Ctx: a.ctx, JobID: a.opts.JobID, OperatorID: v.ID, UID: v.UID, Name: v.Name,
		Subtask: t.subtask, Parallelism: v.Parallelism, MaxParallelism: v.MaxParallelism, Attempt: a.opts.Attempt,
		KeyGroups: keygroup.RangeFor(v.MaxParallelism, v.Parallelism, t.subtask)}
	var restored *snapshot.OperatorState
	if m := a.opts.Restore; m != nil {
		restored = m.Operator(v.ID)
		ctx.RestoredCheckpoint = m.CheckpointID
	}
	if restored != nil {
		st, err := restoreOperatorState(a.ctx, a.opts.Coordinator, restored, a.opts.Restore.ExclusiveDir, t.subtask, v.Parallelism)
		if err != nil {
			return restoreFailed(a.opts.Restore, v, err)
		}
		ctx.Restored = st
	}
	if v.Keyed {
		base := filepath.Join(a.opts.LocalDir, fmt.Sprintf("op%d-%d", v.Index, t.subtask))
		dir := filepath.Join(base, "db")
		c.backID = checkpoint.NewHandleID()
		var imports []keyedImport
		if restored != nil {
			var err error
			imports, err = restoreKeyed(a.ctx, a.opts.Coordinator, restored, a.opts.Restore.ExclusiveDir, t.subtask, v, ctx.KeyGroups, base, c.backID, a.opts.ReuseRestored)
			if err != nil {
				return restoreFailed(a.opts.Restore, v, err)
			}
		}
		b, err := state.Open(dir, state.Options{MaxParallelism: v.MaxParallelism, KeyGroups: ctx.KeyGroups, CacheEntries: a.opts.CacheEntries, CacheBytes: a.opts.CacheBytes})
		if err != nil {
			return err
		}
		c.backend = b
		ctx.Keyed = b
		for _, imp := range imports {
			var err error
			if imp.canon != nil {
				err = checkpoint.RestoreCanonical(a.ctx, a.opts.Coordinator.Layout().FS, imp.canon, a.opts.Restore.ExclusiveDir, b, [2]int{imp.r.Start, imp.r.End})
			} else {
				err = b.Import(imp.dir, imp.r)
				os.RemoveAll(imp.dir)
			}
			if err != nil {
				return restoreFailed(a.opts.Restore, v, fmt.Errorf("redistributing keyed state: %w", err))
			}
		}
	}
	if v.IsSource() {
		c.src = v.NewSource()
		return c.src.Open(ctx)
	}
	c.op = v.NewOp()
	return c.op.Open(ctx)
}

func restoreOperatorState(ctx context.Context, co *checkpoint.Coordinator, op *snapshot.OperatorState, exDir string, subtask, parallelism int) (operator.State, error) {
	out := operator.State{}
	fsys := co.Layout().FS
	same := int(op.Parallelism) == parallelism
	// Entries of split-distributed states, over all old subtasks in order,
	// are dealt round-robin on rescale; union states go to everyone.
	dealt := map[string]int{}
	for _, s := range op.Subtasks {
		h, ok := s.ManagedOperatorState.(*snapshot.OperatorStreamHandle)
		if !ok || h == nil {
			continue
		}
		data, err := checkpoint.ReadStreamVerified(ctx, fsys, h.Delegate, exDir)
		if err != nil {
			return nil, err
		}
		all := operator.State{}
		if err := checkpoint.DecodeOperatorState(data, h.States, all); err != nil {
			return nil, failure.Deterministic(err)
		}
		for _, ns := range h.States {
			entries := all[ns.Name]
			if _, ok := out[ns.Name]; !ok {
				out[ns.Name] = nil
			}
			switch {
			case ns.Mode == snapshot.Union || ns.Mode == snapshot.Broadcast:
				out[ns.Name] = append(out[ns.Name], entries...)
			case same:
				if int(s.Index) == subtask {
					out[ns.Name] = append(out[ns.Name], entries...)
				}
			default:
				for _, e := range entries {
					if dealt[ns.Name]%parallelism == subtask {
						out[ns.Name] = append(out[ns.Name], e)
					}
					dealt[ns.Name]++
				}
			}
		}
	}
	return out, nil
}

// keyedImport is another subtask's restored database to take key groups
// from (rescaling).
type keyedImport struct {
	dir   string
	r     keygroup.Range
	canon *snapshot.KeyGroupsHandle // a canonical savepoint's stream instead of dir
}

// restoreKeyed brings back a keyed operator subtask's state. When the
// snapshot's subtask owned exactly this subtask's key groups, its files are
// downloaded into base/db, which then opens as that state (and, when
// reuse, its shared files are registered for the next checkpoints). After a
// parallelism change, every old subtask whose key groups overlap is
// downloaded aside and returned for Import of the overlap.
func restoreKeyed(ctx context.Context, co *checkpoint.Coordinator, op *snapshot.OperatorState, exDir string, subtask int, v *graph.Vertex, r keygroup.Range, base, backendID string, reuse bool) ([]keyedImport, error) {
	var imports []keyedImport
	for _, s := range op.Subtasks {
		if s.ManagedKeyedState == nil {
			continue
		}
		if kh, ok := s.ManagedKeyedState.(*snapshot.KeyGroupsHandle); ok && kh.Variant == snapshot.TagSavepointKeyGroups {
			old := keygroup.Range{Start: int(kh.Range.Start), End: int(kh.Range.Start + kh.Range.Count - 1)}
			if overlap := old.Intersect(r); overlap.Len() > 0 {
				imports = append(imports, keyedImport{r: overlap, canon: kh})
			}
			continue
		}
		h, ok := s.ManagedKeyedState.(*snapshot.IncrementalHandle)
		if !ok {
			return nil, failure.Deterministic(fmt.Errorf("keyed state handle %v of subtask %d is not one the ckpt engine restores (incremental Pebble handles and ckpt's canonical savepoints)", s.ManagedKeyedState.Tag(), s.Index))
		}
		old := keygroup.Range{Start: int(h.Range.Start), End: int(h.Range.Start + h.Range.Count - 1)}
		if old == r && int(op.Parallelism) == v.Parallelism {
			shared, err := checkpoint.RestoreKeyed(ctx, co.Layout().FS, h, exDir, filepath.Join(base, "db"))
			if err == nil {
				err = checkpoint.VerifyKeyed(h, exDir, filepath.Join(base, "db"))
			}
			if err != nil {
				return nil, fmt.Errorf("restoring keyed state of subtask %d: %w", subtask, checkpoint.RestoreError(err))
			}
			if reuse {
				co.Registry().Seed(backendID, shared)
			}
			return nil, nil
		}
		overlap := old.Intersect(r)
		if overlap.Len() == 0 {
			continue
		}
		dir := filepath.Join(base, fmt.Sprintf("import-%d", s.Index))
		_, err := checkpoint.RestoreKeyed(ctx, co.Layout().FS, h, exDir, dir)
		if err == nil {
			err = checkpoint.VerifyKeyed(h, exDir, dir)
		}
		if err != nil {
			return nil, fmt.Errorf("restoring keyed state of old subtask %d: %w", s.Index, checkpoint.RestoreError(err))
		}
		imports = append(imports, keyedImport{dir: dir, r: overlap})
	}
	return imports, nil
}

// send takes a credit (waiting = backpressure) and hands m to the target.
func (t *task) send(tg *target, m message) {
	m.from = tg.from
	select {
	case tg.credits <- struct{}{}:
	default:
		start := time.Now()
		select {
		case tg.credits <- struct{}{}:
		case <-t.a.ctx.Done():
			panic(errStopped)
		}
		t.bp.BackpressuredNanos.Add(int64(time.Since(start)))
	}
	select {
	case tg.ib.ch <- m:
	case <-t.a.ctx.Done():
		panic(errStopped)
	}
}

var errStopped = errors.New("task stopped")

func (t *task) run() {
	defer t.a.wg.Done()
	defer close(t.uploads)
	defer func() {
		if r := recover(); r != nil {
			if r == errStopped {
				return
			}
			if oe, ok := r.(opError); ok {
				t.a.failWith(fmt.Errorf("operator %s subtask %d failed: %w", oe.v.Label(), t.subtask, oe.err))
				return
			}
			t.a.failWith(fmt.Errorf("task %s panicked: %v\n%s", t.name, r, rtdebug.Stack()))
		}
	}()
	if t.ops[0].src != nil {
		t.runSource()
	} else {
		t.runOperator()
	}
	for _, c := range t.ops {
		c.publish()
	}
}

// WatermarkInterval is how often sources emit watermarks.
var WatermarkInterval = 50 * time.Millisecond

func (t *task) runSource() {
	src := t.ops[0]
	t.srcWM = math.MinInt64
	var lastWM time.Time
	var ctxDone = t.a.ctx.Done()
	for {
		select {
		case <-ctxDone:
			return
		default:
		}
		t.control()
		if t.stopped {
			// Stopped at a savepoint barrier: emit nothing until resumed.
			if !t.waitResumed() {
				return
			}
			continue
		}
		if t.a.drain.Load() {
			break
		}
		before := src.out
		done, err := src.src.Emit(sourceCollector{src}, t.a.opts.BatchSize)
		if err != nil {
			panic(opError{src.v, err})
		}
		t.router.flush()
		// Watermarks go out at most every WatermarkInterval (Flink's
		// pipeline.auto-watermark-interval), not after every batch.
		if now := time.Now(); now.Sub(lastWM) >= WatermarkInterval {
			if wm := src.src.Watermark(); wm > t.srcWM {
				t.srcWM = wm
				lastWM = now
				t.watermark(wm, 0)
			}
		}
		if src.out != before {
			t.publish()
		}
		if done {
			if wm := src.src.Watermark(); wm > t.srcWM {
				t.srcWM = wm
				t.watermark(wm, 0)
			}
			break
		}
	}
	t.endInput(0)
	t.idle()
}

type sourceCollector struct{ c *chainOp }

func (s sourceCollector) Collect(r operator.Record) { s.c.out++; s.c.next.Collect(r) }

// waitResumed blocks a stopped source until ResumeSources (true) or the end
// of the attempt (false), still taking part in checkpoints.
func (t *task) waitResumed() bool {
	for {
		if t.a.resumeN.Load() != t.resumeSeen {
			t.resumeSeen = t.a.resumeN.Load()
			t.stopped = false
			return true
		}
		if t.a.drain.Load() {
			t.stopped = false
			return true
		}
		select {
		case <-t.a.ctx.Done():
			return false
		case <-t.a.finish:
			t.control()
			return false
		case <-t.poke:
			t.control()
		}
	}
}

// idle waits, still taking part in checkpoints, until the attempt finishes.
func (t *task) idle() {
	for {
		select {
		case <-t.a.ctx.Done():
			return
		case <-t.a.finish:
			t.control()
			return
		case <-t.poke:
			t.control()
		}
	}
}

func (t *task) publish() {
	for _, c := range t.ops {
		c.publish()
	}
}

// control handles barriers to inject (sources) and completion notices.
func (t *task) control() {
	t.mu.Lock()
	bs := t.barriers
	t.barriers = nil
	t.mu.Unlock()
	for _, id := range bs {
		// A source sees the barrier when it takes it up here.
		t.snapshot(id, 0, t.a.startDelay(id, time.Now()))
		if t.a.barrierOptions(id).StopSources {
			t.stopped = true
			t.resumeSeen = t.a.resumeN.Load()
		}
	}
	if done := t.a.completed.Load(); done > t.notified {
		t.notified = done
		for _, c := range t.ops {
			var err error
			if c.src != nil {
				err = c.src.CheckpointComplete(done)
			} else {
				err = c.op.CheckpointComplete(done)
			}
			if err != nil {
				panic(opError{c.v, fmt.Errorf("on completion of checkpoint %d: %w", done, err)})
			}
		}
	}
}

func (t *task) runOperator() {
	ctxDone := t.a.ctx.Done()
	for {
		if len(t.replay) > 0 {
			m := t.replay[0]
			t.replay = t.replay[1:]
			t.handle(m)
			continue
		}
		select {
		case m := <-t.in.ch:
			t.handle(m)
			// Drain what is queued before looking at control messages.
		drain:
			for n := 0; n < 64 && len(t.replay) == 0; n++ {
				select {
				case m := <-t.in.ch:
					t.handle(m)
				default:
					break drain
				}
			}
			t.router.flush()
			t.publish()
		case <-t.poke:
			t.control()
		case <-t.a.finish:
			t.control()
			return
		case <-ctxDone:
			return
		}
	}
}

func (t *task) release(from int) { <-t.in.credits[from] }

func (t *task) handle(m message) {
	if t.blocked[m.from] {
		t.stash[m.from] = append(t.stash[m.from], m)
		return
	}
	t.release(m.from)
	switch m.kind {
	case kData:
		h := t.head
		for _, r := range m.recs {
			h.Collect(r)
		}
		recs := m.recs[:0]
		batchPool.Put(&recs)
	case kWatermark:
		t.wms[m.from] = m.wm
		low := int64(math.MaxInt64)
		for _, w := range t.wms {
			low = min(low, w)
		}
		if low > t.curWM {
			t.watermark(low, 0)
		}
	case kBarrier:
		t.onBarrier(m.from, m.id)
	case kEnd:
		if !t.ended[m.from] {
			t.ended[m.from] = true
			t.nEnded++
			if t.nEnded == t.nInputs {
				t.endInput(0)
			}
		}
	}
}

// watermark advances event time through the chain from position k.
func (t *task) watermark(wm int64, k int) {
	t.curWM = wm
	for _, c := range t.ops[k:] {
		if h, ok := c.op.(operator.WatermarkHandler); ok {
			if err := h.Watermark(wm, c.counted); err != nil {
				panic(opError{c.v, err})
			}
		}
	}
	t.router.broadcast(message{kind: kWatermark, wm: wm})
}

func (t *task) endInput(k int) {
	for _, c := range t.ops[k:] {
		if c.op == nil {
			continue
		}
		if h, ok := c.op.(operator.InputEnder); ok {
			if err := h.EndInput(c.counted); err != nil {
				panic(opError{c.v, err})
			}
		}
	}
	t.router.broadcast(message{kind: kEnd})
	t.publish()
	t.a.taskEnded()
}

func (t *task) onBarrier(from int, id int64) {
	if t.aligning != 0 && id > t.aligning {
		// A newer barrier overtook an alignment that can no longer finish
		// (its checkpoint was declined upstream): drop the old one.
		t.unblock()
	}
	if t.aligning == 0 {
		t.aligning = id
		t.alignStart = time.Now()
		t.nArrived = 0
		clear(t.arrived)
	}
	if id < t.aligning {
		return // stale barrier of an abandoned alignment
	}
	if !t.arrived[from] {
		t.arrived[from] = true
		t.nArrived++
		if t.a.opts.ExactlyOnce && t.nInputs > 1 {
			t.blocked[from] = true
		}
	}
	if t.nArrived == t.nInputs {
		// Alignment: from the first of the barriers to the last; the start
		// delay: from the injection to the first.
		alignment := time.Since(t.alignStart)
		t.aligning = 0
		t.snapshot(id, alignment, t.a.startDelay(id, t.alignStart))
		t.unblock()
	}
}

func (t *task) unblock() {
	t.aligning = 0
	for i := range t.blocked {
		t.blocked[i] = false
		if len(t.stash[i]) > 0 {
			t.replay = append(t.replay, t.stash[i]...)
			t.stash[i] = nil
		}
	}
}

// snapshot is the synchronous phase: forward the barrier, snapshot every
// operator of the chain (keyed state into a Pebble checkpoint in staging),
// then queue the upload.
func (t *task) snapshot(id int64, alignment, startDelay time.Duration) {
	start := time.Now()
	t.router.broadcast(message{kind: kBarrier, id: id})
	persist := t.a.opts.Coordinator.Layout().Enabled() || t.a.barrierOptions(id).Savepoint != nil
	job := uploadJob{id: id, alignment: alignment, startDelay: startDelay}
	for _, c := range t.ops {
		var st operator.State
		var err error
		if c.src != nil {
			st, err = c.src.Snapshot(id)
		} else {
			st, err = c.op.Snapshot(id)
		}
		if err != nil {
			panic(opError{c.v, fmt.Errorf("snapshot for checkpoint %d: %w", id, err)})
		}
		snap := checkpoint.OperatorSnapshot{Vertex: c.v.Index, Subtask: t.subtask}
		if persist {
			snap.OpState = st
		}
		if c.backend != nil && persist {
			// Only the copy-out happens here; Pebble work is asynchronous.
			p, err := c.backend.Snapshot()
			if err != nil {
				// A failed local snapshot declines the checkpoint; the
				// job goes on. Snapshots already taken for operators
				// earlier in the chain are released by the uploader.
				t.enqueue(uploadJob{id: id, snaps: []checkpoint.OperatorSnapshot{{Vertex: -1}}, pending: job.pending, backends: job.backends})
				return
			}
			job.pending = append(job.pending, p)
			job.backends = append(job.backends, c)
		}
		job.snaps = append(job.snaps, snap)
	}
	job.sync = time.Since(start)
	t.enqueue(job)
}

func (t *task) enqueue(j uploadJob) {
	select {
	case t.uploads <- j:
	case <-t.a.ctx.Done():
		// Nobody will write these snapshots: release them, or closing the
		// backends would wait for them forever.
		for _, p := range j.pending {
			p.Abandon()
		}
		panic(errStopped)
	}
}

// uploader is the asynchronous phase of the task's checkpoints.
func (t *task) uploader() {
	defer t.a.wg.Done()
	co := t.a.opts.Coordinator
	for j := range t.uploads {
		start := time.Now()
		ack := checkpoint.TaskAck{CheckpointID: j.id, Sync: j.sync, Alignment: j.alignment, StartDelay: j.startDelay}
		sp := t.a.barrierOptions(j.id).Savepoint
		for _, s := range j.snaps {
			if s.Vertex < 0 {
				ack.Err = fmt.Errorf("task %s could not snapshot its state locally", t.name)
			}
		}
		for i, p := range j.pending {
			c := j.backends[i]
			dir := filepath.Join(t.a.opts.LocalDir, "staging", fmt.Sprintf("chk-%d-op%d-%d", j.id, c.v.Index, t.subtask))
			if ack.Err != nil {
				p.Abandon()
				continue
			}
			files, err := p.Write(dir)
			if err != nil {
				ack.Err = fmt.Errorf("task %s: local snapshot of checkpoint %d: %w", t.name, j.id, err)
				continue
			}
			for k := range j.snaps {
				if j.snaps[k].Vertex == c.v.Index {
					j.snaps[k].Keyed = &checkpoint.KeyedSnapshot{Staging: dir, Files: files, BackendID: c.backID, Range: c.backend.KeyGroups()}
				}
			}
		}
		for _, s := range j.snaps {
			if ack.Err != nil {
				break
			}
			if s.Vertex < 0 {
				ack.Err = fmt.Errorf("task %s could not snapshot its state locally", t.name)
				break
			}
			if t.a.ctx.Err() != nil {
				ack.Err = fmt.Errorf("task %s stopped during the upload", t.name)
				break
			}
			var res checkpoint.SubtaskResult
			var err error
			if sp != nil {
				res, err = checkpoint.UploadSavepoint(t.a.ctx, co.Layout().FS, sp, j.id, s)
			} else if co.Layout().Enabled() {
				res, err = checkpoint.Upload(t.a.ctx, co.Layout(), co.Registry(), j.id, t.a.opts.Incremental, s)
			} else {
				res = checkpoint.SubtaskResult{Vertex: s.Vertex, Subtask: s.Subtask}
			}
			if err != nil {
				ack.Err = fmt.Errorf("task %s: uploading state of checkpoint %d: %w", t.name, j.id, err)
				break
			}
			ack.Results = append(ack.Results, res)
		}
		for _, s := range j.snaps {
			if s.Keyed != nil {
				os.RemoveAll(s.Keyed.Staging)
			}
		}
		ack.Async = time.Since(start)
		// While the attempt is stopping (failover or cancel) the ack only
		// releases what it uploaded: the coordinator aborts the pending
		// checkpoints itself, and this must not count as a failure.
		ack.Stopping = t.a.ctx.Err() != nil
		co.Ack(ack)
	}
}
