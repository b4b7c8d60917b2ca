// Package builtin holds the sources, operators and sinks a job spec can
// name: a rate-limited generator and file lines; map/filter/split;
// keyed count, sum, tumbling-window count and dedupe; exactly-once file,
// stdout and discard sinks.
package builtin

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/storage"
)

// Generator emits records n = 0, 1, 2, ... with key "<prefix><n mod keys>",
// value 1 and event time n·step. The sequence is cut into splits, as
// Flink's FLIP-27 sources cut their input: split i of p holds n = i, i+p,
// i+2p, ... and subtask i starts with split i. The splits (each its next n)
// are operator state, redistributed on rescale like Flink's list state, so
// a restored job resumes exactly where the checkpoint was taken, also at
// another parallelism (a subtask may then own several splits, or none).
type Generator struct {
	Keys      int64         // key space (default 1000)
	Rate      float64       // records per second over all subtasks (0 = as fast as possible)
	Limit     int64         // records in total (0 = unbounded)
	KeyPrefix string        // default "key-"
	TimeStep  time.Duration // event time between consecutive n (default 1 ms)

	ctx    *operator.Context
	splits []split
	rr     int
	start  time.Time
	sent   int64 // emitted since start (for the rate)
	buf    []byte
	stepMs int64
	keys   []string
}

// split is an arithmetic sequence next, next+step, ... of a source.
type split struct{ next, step int64 }

const (
	splitsState = "splits"
	offsetState = "offset" // issue-4 format: one next per subtask, step = parallelism
)

func encodeSplit(s split) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(s.next)), uint64(s.step))
}

// restoreSplits reads the splits a subtask got back, or makes its initial
// one.
func restoreSplits(ctx *operator.Context, what string) ([]split, error) {
	if e, ok := ctx.Restored[splitsState]; ok {
		var out []split
		for _, b := range e {
			if len(b) != 16 {
				return nil, fmt.Errorf("%s: corrupt split state (%d bytes)", what, len(b))
			}
			out = append(out, split{int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))})
		}
		return out, nil
	}
	if e := ctx.Restored[offsetState]; len(e) > 0 {
		if len(e) != 1 || len(e[0]) != 8 {
			return nil, fmt.Errorf("%s: offset state of another parallelism cannot be split", what)
		}
		return []split{{int64(binary.BigEndian.Uint64(e[0])), int64(ctx.Parallelism)}}, nil
	}
	if ctx.RestoredCheckpoint > 0 && ctx.Restored != nil {
		return nil, nil // restored with no split for this subtask: idle
	}
	return []split{{int64(ctx.Subtask), int64(ctx.Parallelism)}}, nil
}

func (g *Generator) Open(ctx *operator.Context) error {
	g.ctx = ctx
	if g.Keys <= 0 {
		g.Keys = 1000
	}
	if g.KeyPrefix == "" {
		g.KeyPrefix = "key-"
	}
	g.stepMs = g.TimeStep.Milliseconds()
	if g.TimeStep == 0 {
		g.stepMs = 1
	}
	var err error
	if g.splits, err = restoreSplits(ctx, "generator"); err != nil {
		return err
	}
	if g.Keys <= 1<<20 {
		// Pre-built keys keep the hot path free of formatting.
		g.keys = make([]string, g.Keys)
		for i := range g.keys {
			g.keys[i] = g.KeyPrefix + strconv.FormatInt(int64(i), 10)
		}
	}
	g.start = time.Now()
	return nil
}

func (g *Generator) key(n int64) string {
	k := n % g.Keys
	if g.keys != nil {
		return g.keys[k]
	}
	g.buf = strconv.AppendInt(append(g.buf[:0], g.KeyPrefix...), k, 10)
	return string(g.buf)
}

func (g *Generator) done(s split) bool { return g.Limit > 0 && s.next >= g.Limit }

func (g *Generator) Emit(out operator.Collector, max int) (bool, error) {
	live := 0
	for _, s := range g.splits {
		if !g.done(s) {
			live++
		}
	}
	if live == 0 {
		if g.Limit > 0 || len(g.splits) > 0 {
			return true, nil
		}
		time.Sleep(20 * time.Millisecond) // unbounded and no split: idle
		return false, nil
	}
	n := max
	if g.Rate > 0 {
		perSub := g.Rate / float64(g.ctx.Parallelism)
		allowed := int64(perSub*time.Since(g.start).Seconds()) - g.sent
		if allowed <= 0 {
			wait := time.Duration(float64(time.Second) / perSub)
			time.Sleep(min(wait, 20*time.Millisecond))
			return false, nil
		}
		n = int(min(int64(n), allowed))
	}
	for i := 0; i < n; i++ {
		// Round-robin over the live splits keeps their event times close.
		for g.done(g.splits[g.rr]) {
			g.rr = (g.rr + 1) % len(g.splits)
		}
		s := &g.splits[g.rr]
		out.Collect(operator.Record{Key: g.key(s.next), Value: 1, Time: s.next * g.stepMs})
		s.next += s.step
		g.sent++
		g.rr = (g.rr + 1) % len(g.splits)
		if g.done(*s) {
			if live--; live == 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// Watermark is the event time every live split has passed.
func (g *Generator) Watermark() int64 {
	wm := int64(math.MaxInt64)
	for _, s := range g.splits {
		if !g.done(s) {
			wm = min(wm, (s.next-s.step)*g.stepMs)
		}
	}
	return wm
}

func (g *Generator) Snapshot(int64) (operator.State, error) {
	st := operator.State{splitsState: nil}
	for _, s := range g.splits {
		st[splitsState] = append(st[splitsState], encodeSplit(s))
	}
	return st, nil
}
func (g *Generator) CheckpointComplete(int64) error { return nil }
func (g *Generator) Close() error                   { return nil }

// FileLines emits the lines of a file: key = the line, value 1, event
// time = line number. Lines are cut into splits like the generator's
// (split i of p: lines i, i+p, ...), whose positions are operator state.
type FileLines struct {
	Path string

	ctx    *operator.Context
	f      *os.File
	sc     *bufio.Scanner
	line   int64 // lines read so far (file numbering)
	splits []split
}

func (s *FileLines) Open(ctx *operator.Context) error {
	s.ctx = ctx
	// Only a regular file: opening a named pipe would block the task
	// (and with it cancellation) until a writer appears, and a device
	// such as /dev/zero never ends.
	f, err := storage.OpenRegular(s.Path, 0)
	if err != nil {
		return fmt.Errorf("file source: %w", err)
	}
	s.f = f
	s.sc = bufio.NewScanner(f)
	s.sc.Buffer(make([]byte, 64<<10), 16<<20)
	s.splits, err = restoreSplits(ctx, "file source")
	return err
}

func (s *FileLines) Emit(out operator.Collector, max int) (bool, error) {
	if len(s.splits) == 0 {
		return true, nil
	}
	for emitted := 0; emitted < max; {
		if !s.sc.Scan() {
			if err := s.sc.Err(); err != nil {
				return false, fmt.Errorf("file source %s: line %d: %w", s.Path, s.line+1, err)
			}
			return true, nil
		}
		n := s.line
		s.line++
		for i := range s.splits {
			sp := &s.splits[i]
			if n == sp.next {
				out.Collect(operator.Record{Key: s.sc.Text(), Value: 1, Time: n})
				sp.next += sp.step
				emitted++
				break
			}
		}
	}
	return false, nil
}

func (s *FileLines) Watermark() int64 {
	wm := int64(math.MaxInt64)
	for _, sp := range s.splits {
		wm = min(wm, sp.next-sp.step)
	}
	return wm
}

func (s *FileLines) Snapshot(int64) (operator.State, error) {
	st := operator.State{splitsState: nil}
	for _, sp := range s.splits {
		st[splitsState] = append(st[splitsState], encodeSplit(sp))
	}
	return st, nil
}
func (s *FileLines) CheckpointComplete(int64) error { return nil }
func (s *FileLines) Close() error {
	if s.f != nil {
		return s.f.Close()
	}
	return nil
}
