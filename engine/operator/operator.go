// Package operator is the contract between the runtime and the code that
// processes records: sources, operators and sinks, the records they pass,
// and the context through which they reach keyed and operator state.
package operator

import (
	"context"

	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// Record is what flows through a job: a key, a number and an event time.
// One small fixed shape keeps batches cheap to copy and built-ins simple;
// Text carries the payload of text sources and sinks.
type Record struct {
	Key   string
	Value int64
	// Time is the event time in milliseconds (0 when the source has none).
	Time int64
}

// Collector receives the records an operator emits.
type Collector interface {
	Collect(r Record)
}

// CollectorFunc adapts a function to Collector.
type CollectorFunc func(Record)

func (f CollectorFunc) Collect(r Record) { f(r) }

// State is an operator's non-keyed (operator) state: named lists of opaque
// entries, Flink's partitionable "list state". On restore with another
// parallelism the entries of each name are split between the subtasks
// (SPLIT_DISTRIBUTE); with the same parallelism each subtask gets its own
// entries back. Names starting with UnionPrefix are union list state
// (UNION): every subtask gets every subtask's entries back.
type State map[string][][]byte

// UnionPrefix marks a union list state name.
const UnionPrefix = "union:"

// Context is what the runtime hands an operator when it opens.
type Context struct {
	// Ctx is cancelled when the task stops (cancel, failover).
	Ctx            context.Context
	JobID          string
	OperatorID     [16]byte
	UID, Name      string
	Subtask        int
	Parallelism    int
	MaxParallelism int
	// Attempt counts restarts of the job (0 on the first run).
	Attempt int
	// KeyGroups is the key-group range of this subtask (keyed operators).
	KeyGroups keygroup.Range
	// Keyed is the subtask's keyed state; nil for operators not after keyBy.
	Keyed *state.Backend
	// Restored is the operator state this subtask got back from the
	// checkpoint it restores from (nil on a fresh start).
	Restored State
	// RestoredCheckpoint is the id restored from (0 on a fresh start).
	RestoredCheckpoint int64
}

// Operator processes records one at a time.
type Operator interface {
	Open(ctx *Context) error
	Process(r Record, out Collector) error
	// Snapshot runs in the checkpoint's synchronous phase, after every
	// record before the barrier was processed; it returns operator state.
	// Keyed state is snapshotted by the runtime.
	Snapshot(checkpointID int64) (State, error)
	// CheckpointComplete is called once checkpoint id is complete (its
	// _metadata is written). Exactly-once sinks commit here.
	CheckpointComplete(checkpointID int64) error
	Close() error
}

// WatermarkHandler is implemented by operators that react to event time
// (window operators). t is the minimum over all inputs.
type WatermarkHandler interface {
	Watermark(t int64, out Collector) error
}

// InputEnder is implemented by operators that do something when their input
// ends (a bounded job finishing).
type InputEnder interface {
	EndInput(out Collector) error
}

// Source produces records.
type Source interface {
	Open(ctx *Context) error
	// Emit produces up to max records into out. It returns done at the end
	// of a bounded input. It must return promptly (well under a second) so
	// barriers and cancellation are not held up; a rate-limited source
	// emits fewer records rather than sleeping long.
	Emit(out Collector, max int) (done bool, err error)
	// Watermark is the event time up to which the source has emitted
	// everything (math.MinInt64 when it has no event time).
	Watermark() int64
	Snapshot(checkpointID int64) (State, error)
	CheckpointComplete(checkpointID int64) error
	Close() error
}

// Base gives operators no-op Snapshot/CheckpointComplete/Close/Open.
type Base struct{}

func (Base) Open(*Context) error            { return nil }
func (Base) Snapshot(int64) (State, error)  { return nil, nil }
func (Base) CheckpointComplete(int64) error { return nil }
func (Base) Close() error                   { return nil }

// Map is a stateless one-to-one operator from a function.
type Map struct {
	Base
	Fn func(Record) Record
}

func (m *Map) Process(r Record, out Collector) error { out.Collect(m.Fn(r)); return nil }

// Filter keeps the records Fn accepts.
type Filter struct {
	Base
	Fn func(Record) bool
}

func (f *Filter) Process(r Record, out Collector) error {
	if f.Fn(r) {
		out.Collect(r)
	}
	return nil
}

// FlatMap emits zero or more records per input.
type FlatMap struct {
	Base
	Fn func(Record, Collector)
}

func (f *FlatMap) Process(r Record, out Collector) error { f.Fn(r, out); return nil }
