package runtime

import (
	"sync"
	"sync/atomic"
	"time"
)

// Metrics are a job's live counters, kept per operator subtask and shared
// across restarts (counters restart at zero with each attempt, as Flink's
// task metrics do).
type Metrics struct {
	mu  sync.Mutex
	ops map[int][]*SubtaskMetrics // vertex → subtasks
}

// SubtaskMetrics are one operator subtask's counters.
type SubtaskMetrics struct {
	RecordsIn  atomic.Int64
	RecordsOut atomic.Int64
	// BackpressuredNanos is time spent waiting for downstream credit.
	BackpressuredNanos atomic.Int64
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics { return &Metrics{ops: map[int][]*SubtaskMetrics{}} }

func (m *Metrics) reset(vertex, parallelism int) []*SubtaskMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := make([]*SubtaskMetrics, parallelism)
	for i := range s {
		s[i] = &SubtaskMetrics{}
	}
	m.ops[vertex] = s
	return s
}

// OperatorMetrics is a summary of one operator.
type OperatorMetrics struct {
	Vertex        int
	RecordsIn     int64
	RecordsOut    int64
	Backpressured time.Duration
	Subtasks      []SubtaskSnapshot
}

// SubtaskSnapshot is a copy of one subtask's counters.
type SubtaskSnapshot struct {
	RecordsIn, RecordsOut int64
	Backpressured         time.Duration
}

// Snapshot copies the counters of vertex.
func (m *Metrics) Snapshot(vertex int) OperatorMetrics {
	m.mu.Lock()
	subs := m.ops[vertex]
	m.mu.Unlock()
	out := OperatorMetrics{Vertex: vertex}
	for _, s := range subs {
		ss := SubtaskSnapshot{RecordsIn: s.RecordsIn.Load(), RecordsOut: s.RecordsOut.Load(),
			Backpressured: time.Duration(s.BackpressuredNanos.Load())}
		out.RecordsIn += ss.RecordsIn
		out.RecordsOut += ss.RecordsOut
		out.Backpressured += ss.Backpressured
		out.Subtasks = append(out.Subtasks, ss)
	}
	return out
}
