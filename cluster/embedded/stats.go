package embedded

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/graph"
)

// The checkpoint statistics of one job, built from the engine's events the
// way Flink's CheckpointStatsTracker builds them from acknowledgements:
// counts over the job's life, the latest completed/savepoint/failed
// checkpoint, a bounded history with in-progress entries, and per-vertex
// and per-subtask figures. Vertices are the engine's operator chains (one
// task each), so the numbers line up with Flink's, where a chain is one
// JobVertex and num_subtasks counts tasks, not operators.

// historySize is web.checkpoints.history's default.
const historySize = 10

// summaryWindow bounds the samples percentiles are computed from.
const summaryWindow = 1000

type chain struct {
	id          string // head operator ID = vertex ID
	name        string
	ops         []*graph.Vertex
	parallelism int
	maxP        int
}

// chainsOf groups the graph's operators into vertices as the runtime
// chains them.
func chainsOf(g *graph.Graph) []chain {
	var out []chain
	for _, idx := range g.Chains() {
		c := chain{id: g.Vertices[idx[0]].ID.String()}
		for i, vi := range idx {
			v := g.Vertices[vi]
			c.ops = append(c.ops, v)
			if i > 0 {
				c.name += " -> "
			}
			name := v.Name
			if i == 0 && v.IsSource() {
				name = "Source: " + name
			}
			c.name += name
		}
		c.parallelism = c.ops[0].Parallelism
		c.maxP = c.ops[0].MaxParallelism
		out = append(out, c)
	}
	return out
}

type subAck struct {
	ops          int
	ackTime      time.Time
	stateSize    int64
	checkpointed int64
	sync, async  time.Duration
	alignment    time.Duration
	startDelay   time.Duration
}

type cpStats struct {
	id           int64
	status       cluster.CheckpointStatus
	savepoint    bool
	format       string
	typ          string
	trigger      time.Time
	latestAck    time.Time
	stateSize    int64
	checkpointed int64
	endToEnd     time.Duration
	path         string
	discarded    bool
	failTime     time.Time
	failure      string
	subs         map[[2]int]*subAck // (chain, subtask)
	// triggered: its CheckpointTriggered event has arrived. The engine
	// emits events from several goroutines, so a checkpoint can fail
	// (subsumed, expired) before its trigger is reported.
	triggered bool
	inHistory bool
}

type summary struct {
	count         int64
	min, max, sum int64
	window        []int64
}

func (s *summary) add(v int64) {
	if s.count == 0 || v < s.min {
		s.min = v
	}
	if s.count == 0 || v > s.max {
		s.max = v
	}
	s.count++
	s.sum += v
	s.window = append(s.window, v)
	if len(s.window) > summaryWindow {
		s.window = s.window[len(s.window)-summaryWindow:]
	}
}

// percentile estimates like Flink's histogram statistics (Apache Commons
// Math's default): position p·(n+1), interpolated, clamped to the sample.
func percentile(sorted []int64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := p * float64(n+1)
	switch {
	case pos < 1:
		return float64(sorted[0])
	case pos >= float64(n):
		return float64(sorted[n-1])
	}
	lo := int(pos)
	frac := pos - float64(lo)
	return float64(sorted[lo-1]) + frac*float64(sorted[lo]-sorted[lo-1])
}

func (s *summary) stat() cluster.Stat {
	if s.count == 0 {
		return cluster.Stat{P50: math.NaN(), P90: math.NaN(), P95: math.NaN(), P99: math.NaN(), P999: math.NaN()}
	}
	w := append([]int64(nil), s.window...)
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	return cluster.Stat{Min: s.min, Max: s.max, Avg: s.sum / s.count, HasPercentiles: true,
		P50: percentile(w, .50), P90: percentile(w, .90), P95: percentile(w, .95), P99: percentile(w, .99), P999: percentile(w, .999)}
}

// expected is what the adapter asked of the next savepoint to start: the
// engine's events say only that it is a savepoint.
type expected struct{ format, typ string }

// tracker folds the engine's events into the statistics. Every event
// about a checkpoint it has not seen yet counts that checkpoint as
// triggered, whatever order the events arrive in; a checkpoint leaves the
// in-progress count exactly once, when it completes or fails. Entries are
// kept (in all) while they are in the bounded history, in progress or
// still awaiting their trigger event, so a late event finds its entry
// instead of counting the checkpoint again or being lost.
type tracker struct {
	mu      sync.Mutex
	expect  []expected
	chains  []chain
	opChain map[string]int // operator ID → chain index
	total   int            // subtasks (tasks) of the job
	counts  cluster.CheckpointCounts
	history []*cpStats // by checkpoint ID, oldest first, bounded
	all     map[int64]*cpStats
	gone    spans // IDs of the entries dropped from all
	// spDone holds what savepointDone learnt of a savepoint whose
	// completion event has not arrived yet, by directory.
	spDone   map[string]expected
	latestC  *cpStats
	latestS  *cpStats
	latestF  *cpStats
	restored *cluster.RestoredCheckpoint
	sumCkpt  summary
	sumState summary
	sumE2E   summary
}

func newTracker(g *graph.Graph) *tracker {
	t := &tracker{chains: chainsOf(g), opChain: map[string]int{}, all: map[int64]*cpStats{}, spDone: map[string]expected{}}
	for ci, c := range t.chains {
		for _, op := range c.ops {
			t.opChain[op.ID.String()] = ci
		}
		t.total += c.parallelism
	}
	return t
}

// expectSavepoint records the format and type (SAVEPOINT, SYNC_SAVEPOINT)
// of a savepoint about to be triggered.
func (t *tracker) expectSavepoint(format, typ string) {
	t.mu.Lock()
	t.expect = append(t.expect, expected{format, typ})
	t.mu.Unlock()
}

// savepointDone sets the format and type of the savepoint written to dir,
// as asked for: the expectations are handed out in trigger order, which
// concurrent savepoints (or one that failed before its trigger) can upset.
func (t *tracker) savepointDone(dir, format, typ string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	x := expected{format, typ}
	found := false
	for _, cp := range t.all {
		if cp.savepoint && cp.path == dir {
			cp.format, cp.typ, found = x.format, x.typ, true
		}
	}
	if cp := t.latestS; cp != nil && cp.path == dir { // may have left all
		cp.format, cp.typ, found = x.format, x.typ, true
	}
	if found {
		return
	}
	t.spDone[dir] = x
}

func (t *tracker) setRestored(r *cluster.RestoredCheckpoint) {
	t.mu.Lock()
	t.restored = r
	t.counts.Restored++
	t.mu.Unlock()
}

// spans is a set of checkpoint IDs as sorted, disjoint, non-adjacent
// closed ranges: IDs come nearly consecutive, so a job's whole life takes
// a range or two.
type spans [][2]int64

func (s spans) has(id int64) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i][1] >= id })
	return i < len(s) && s[i][0] <= id
}

func (s *spans) add(id int64) {
	r := *s
	i := sort.Search(len(r), func(i int) bool { return r[i][1] >= id-1 })
	switch {
	case i < len(r) && r[i][0] <= id && id <= r[i][1]:
		return
	case i < len(r) && r[i][1] == id-1:
		r[i][1] = id
		if i+1 < len(r) && r[i+1][0] == id+1 { // joins the next range
			r[i][1] = r[i+1][1]
			r = append(r[:i+1], r[i+2:]...)
		}
	case i < len(r) && r[i][0] == id+1:
		r[i][0] = id
	default:
		r = append(r, [2]int64{})
		copy(r[i+1:], r[i:])
		r[i] = [2]int64{id, id}
	}
	*s = r
}

// entry returns checkpoint e.CheckpointID's statistics, counting it as
// triggered and in progress the first time any event names it; nil for a
// checkpoint already done with and dropped (a repeated event).
func (t *tracker) entry(e event.Event) *cpStats {
	if cp := t.all[e.CheckpointID]; cp != nil {
		return cp
	}
	if t.gone.has(e.CheckpointID) {
		return nil
	}
	// Until its trigger event says when: completion and failure events
	// carry the duration since the trigger.
	cp := &cpStats{id: e.CheckpointID, status: cluster.CheckpointInProgress, trigger: e.Time.Add(-e.Duration),
		subs: map[[2]int]*subAck{}, typ: cluster.TypeCheckpoint, inHistory: true}
	t.all[cp.id] = cp
	t.counts.Total++
	t.counts.InProgress++
	i := sort.Search(len(t.history), func(i int) bool { return t.history[i].id > cp.id })
	t.history = append(t.history, nil)
	copy(t.history[i+1:], t.history[i:])
	t.history[i] = cp
	for len(t.history) > historySize {
		old := t.history[0]
		t.history = t.history[1:]
		old.inHistory = false
		t.forget(old)
	}
	return cp
}

// forget drops an entry that left the history once nothing more can
// change its counts: it has finished and its trigger event has come.
func (t *tracker) forget(cp *cpStats) {
	if !cp.inHistory && cp.triggered && cp.status != cluster.CheckpointInProgress {
		delete(t.all, cp.id)
		t.gone.add(cp.id)
	}
}

// markSavepoint makes cp a savepoint with the format and type asked for.
func (t *tracker) markSavepoint(cp *cpStats) {
	if cp.savepoint {
		return
	}
	cp.savepoint = true
	cp.typ, cp.format = cluster.TypeSavepoint, string(cluster.Canonical)
	if len(t.expect) > 0 {
		cp.format, cp.typ = t.expect[0].format, t.expect[0].typ
		t.expect = t.expect[1:]
	}
}

// finish moves cp out of progress into status; false if it had already
// finished (a repeated or late event).
func (t *tracker) finish(cp *cpStats, status cluster.CheckpointStatus) bool {
	if cp.status != cluster.CheckpointInProgress {
		return false
	}
	cp.status = status
	t.counts.InProgress--
	if status == cluster.CheckpointCompleted {
		t.counts.Completed++
	} else {
		t.counts.Failed++
	}
	return true
}

// newer is the later of the latest so far and cp, by checkpoint ID (as
// Flink's history keeps its latest entries).
func newer(latest, cp *cpStats) *cpStats {
	if latest == nil || cp.id > latest.id {
		return cp
	}
	return latest
}

// observe folds one engine event into the statistics.
func (t *tracker) observe(e event.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch e.Kind {
	case event.CheckpointTriggered:
		cp := t.entry(e)
		if cp == nil || cp.triggered {
			return
		}
		cp.triggered, cp.trigger = true, e.Time
		if e.Savepoint {
			t.markSavepoint(cp)
		}
		t.forget(cp)
	case event.SubtaskAcknowledged:
		cp := t.all[e.CheckpointID]
		ci, ok := t.opChain[e.OperatorID]
		if cp == nil || !ok || cp.status != cluster.CheckpointInProgress {
			return
		}
		k := [2]int{ci, e.Subtask}
		s := cp.subs[k]
		if s == nil {
			s = &subAck{}
			cp.subs[k] = s
		}
		s.ops++
		s.ackTime = e.Time
		s.stateSize += e.StateSize
		s.checkpointed += e.Checkpointed
		s.sync, s.async, s.alignment = max(s.sync, e.SyncDuration), max(s.async, e.AsyncDuration), max(s.alignment, e.Alignment)
		s.startDelay = max(s.startDelay, e.StartDelay)
		cp.latestAck = e.Time
		cp.stateSize += e.StateSize
		cp.checkpointed += e.Checkpointed
	case event.CheckpointCompleted:
		cp := t.entry(e)
		if cp == nil {
			return
		}
		if e.Savepoint {
			t.markSavepoint(cp)
		}
		if !t.finish(cp, cluster.CheckpointCompleted) {
			return
		}
		cp.path, cp.endToEnd = e.Path, e.Duration
		if cp.latestAck.IsZero() {
			cp.latestAck = e.Time
		}
		cp.stateSize, cp.checkpointed = e.StateSize, e.Checkpointed
		if x, ok := t.spDone[cp.path]; ok && cp.savepoint {
			cp.format, cp.typ = x.format, x.typ
			delete(t.spDone, cp.path)
		}
		if cp.savepoint {
			t.latestS = newer(t.latestS, cp)
		} else {
			t.latestC = newer(t.latestC, cp)
		}
		t.sumCkpt.add(cp.checkpointed)
		t.sumState.add(cp.stateSize)
		t.sumE2E.add(cp.endToEnd.Milliseconds())
		t.forget(cp)
	case event.CheckpointFailed:
		cp := t.entry(e)
		if cp == nil {
			return
		}
		if e.Savepoint {
			t.markSavepoint(cp)
		}
		if !t.finish(cp, cluster.CheckpointFailed) {
			return
		}
		cp.failTime, cp.failure, cp.endToEnd = e.Time, e.Cause, e.Duration
		t.latestF = newer(t.latestF, cp)
		t.forget(cp)
	case event.CheckpointDiscarded:
		if cp := t.all[e.CheckpointID]; cp != nil {
			cp.discarded = true
		}
		if t.latestC != nil && t.latestC.id == e.CheckpointID {
			t.latestC.discarded = true
		}
	case event.JobStatusChanged:
		if e.Status == string(engine.Running) && e.PrevStatus == string(engine.Restarting) {
			t.restart(e.Time)
		}
	}
}

// restart records the restore of a job restarting after a failure, from
// what the engine restores: its latest completed checkpoint if that was
// persisted, else (none completed yet) the snapshot it was started from,
// else nothing. Flink counts every such restore.
func (t *tracker) restart(at time.Time) {
	switch {
	case t.latestC != nil && t.latestC.path != "":
		t.restored = &cluster.RestoredCheckpoint{ID: t.latestC.id, RestoreTime: at, ExternalPath: t.latestC.path}
	case t.latestC == nil && t.restored != nil:
		r := *t.restored
		r.RestoreTime = at
		t.restored = &r
	default:
		return
	}
	t.counts.Restored++
}

// acked is the number of tasks that acknowledged every operator of their chain.
func (t *tracker) acked(cp *cpStats) int {
	n := 0
	for k, s := range cp.subs {
		if s.ops >= len(t.chains[k[0]].ops) {
			n++
		}
	}
	return n
}

func (t *tracker) render(cp *cpStats, now time.Time, withTasks bool) *cluster.Checkpoint {
	if cp == nil {
		return nil
	}
	c := &cluster.Checkpoint{ID: cp.id, Status: cp.status, Savepoint: cp.savepoint, SavepointFormat: cp.format,
		Type: cp.typ, TriggerTime: cp.trigger, LatestAck: cp.latestAck, CheckpointedSize: cp.checkpointed,
		StateSize: cp.stateSize, EndToEnd: cp.endToEnd, NumSubtasks: t.total, NumAcked: t.acked(cp),
		ExternalPath: cp.path, Discarded: cp.discarded, FailureTime: cp.failTime, FailureMessage: cp.failure}
	if cp.status == cluster.CheckpointInProgress {
		// As Flink: the duration so far, up to the latest acknowledgement.
		if !cp.latestAck.IsZero() {
			c.EndToEnd = cp.latestAck.Sub(cp.trigger)
		}
	}
	if c.LatestAck.IsZero() {
		c.LatestAck = cp.trigger
	}
	if withTasks {
		c.Tasks = map[string]cluster.TaskCheckpoint{}
		for ci := range t.chains {
			c.Tasks[t.chains[ci].id] = t.task(cp, ci).TaskCheckpoint
		}
	}
	_ = now
	return c
}

// task is one vertex of a checkpoint, with its subtasks.
func (t *tracker) task(cp *cpStats, ci int) *cluster.VertexCheckpoint {
	ch := t.chains[ci]
	v := &cluster.VertexCheckpoint{TaskCheckpoint: cluster.TaskCheckpoint{ID: cp.id, Status: cp.status,
		NumSubtasks: ch.parallelism}}
	var ckpt, state, e2e, syncS, asyncS, align, delay, zero summary
	for i := 0; i < ch.parallelism; i++ {
		s := cp.subs[[2]int{ci, i}]
		if s == nil || s.ops < len(ch.ops) {
			v.Subtasks = append(v.Subtasks, cluster.SubtaskCheckpoint{Index: i})
			continue
		}
		sc := cluster.SubtaskCheckpoint{Index: i, Acknowledged: true, AckTime: s.ackTime, EndToEnd: s.ackTime.Sub(cp.trigger),
			CheckpointedSize: s.checkpointed, StateSize: s.stateSize, Sync: s.sync, Async: s.async, AlignmentDuration: s.alignment,
			StartDelay: s.startDelay}
		v.Subtasks = append(v.Subtasks, sc)
		v.NumAcked++
		v.StateSize += s.stateSize
		v.CheckpointedSize += s.checkpointed
		if s.ackTime.After(v.LatestAck) {
			v.LatestAck = s.ackTime
		}
		ckpt.add(s.checkpointed)
		state.add(s.stateSize)
		e2e.add(sc.EndToEnd.Milliseconds())
		syncS.add(s.sync.Milliseconds())
		asyncS.add(s.async.Milliseconds())
		align.add(s.alignment.Milliseconds())
		delay.add(s.startDelay.Milliseconds())
		zero.add(0)
	}
	if !v.LatestAck.IsZero() {
		v.EndToEnd = v.LatestAck.Sub(cp.trigger)
	} else {
		v.LatestAck = cp.trigger
	}
	// Subtask summaries carry min/max/avg only, as Flink's do.
	noP := func(s summary) cluster.Stat {
		st := s.stat()
		st.HasPercentiles = false
		return st
	}
	v.Summary = cluster.SubtaskSummary{CheckpointedSize: noP(ckpt), StateSize: noP(state), EndToEnd: noP(e2e),
		Sync: noP(syncS), Async: noP(asyncS), AlignmentBuffered: noP(zero), AlignmentProcessed: noP(zero),
		AlignmentPersisted: noP(zero), AlignmentDuration: noP(align), StartDelay: noP(delay)}
	return v
}

func (t *tracker) stats(now time.Time) *cluster.CheckpointStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	zero := summary{}
	zs := zero.stat()
	if t.counts.Completed > 0 {
		zs = cluster.Stat{HasPercentiles: true}
	}
	s := &cluster.CheckpointStats{Counts: t.counts,
		Summary: cluster.CheckpointSummary{CheckpointedSize: t.sumCkpt.stat(), StateSize: t.sumState.stat(),
			EndToEndDuration: t.sumE2E.stat(), AlignmentBuffered: zs, ProcessedData: zs, PersistedData: zs},
		LatestCompleted: t.render(t.latestC, now, false), LatestSavepoint: t.render(t.latestS, now, false),
		LatestFailed: t.render(t.latestF, now, false)}
	if t.restored != nil {
		r := *t.restored
		s.LatestRestored = &r
	}
	for i := len(t.history) - 1; i >= 0; i-- {
		s.History = append(s.History, *t.render(t.history[i], now, false))
	}
	return s
}

func (t *tracker) detail(id int64, now time.Time) (*cluster.Checkpoint, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cp := t.all[id]
	if cp == nil {
		return nil, false
	}
	return t.render(cp, now, true), true
}

func (t *tracker) subtasks(id int64, vertexID string) (*cluster.VertexCheckpoint, bool, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cp := t.all[id]
	if cp == nil {
		return nil, false, false
	}
	for ci := range t.chains {
		if t.chains[ci].id == vertexID {
			return t.task(cp, ci), true, true
		}
	}
	return nil, true, false
}
