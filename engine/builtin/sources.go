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
)

// Generator emits records n = subtask, subtask+p, subtask+2p, ... with key
// "<prefix><n mod keys>", value 1 and event time n·step. Its offset (the
// next n) is operator state, so a restored job resumes exactly where the
// checkpoint was taken.
type Generator struct {
	Keys      int64         // key space (default 1000)
	Rate      float64       // records per second over all subtasks (0 = as fast as possible)
	Limit     int64         // records in total (0 = unbounded)
	KeyPrefix string        // default "key-"
	TimeStep  time.Duration // event time between consecutive n (default 1 ms)

	ctx    *operator.Context
	next   int64 // next n to emit
	start  time.Time
	sent   int64 // emitted since start (for the rate)
	buf    []byte
	stepMs int64
	keys   []string
}

const offsetState = "offset"

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
	g.next = int64(ctx.Subtask)
	if e := ctx.Restored[offsetState]; len(e) > 0 {
		// Several entries after a scale-in: resume from the smallest so
		// nothing is skipped (dedupe downstream if that matters).
		low := int64(math.MaxInt64)
		for _, b := range e {
			if len(b) != 8 {
				return fmt.Errorf("generator: corrupt offset state (%d bytes)", len(b))
			}
			low = min(low, int64(binary.BigEndian.Uint64(b)))
		}
		g.next = low
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

func (g *Generator) Emit(out operator.Collector, max int) (bool, error) {
	p := int64(g.ctx.Parallelism)
	n := max
	if g.Rate > 0 {
		perSub := g.Rate / float64(p)
		allowed := int64(perSub*time.Since(g.start).Seconds()) - g.sent
		if allowed <= 0 {
			wait := time.Duration(float64(time.Second) / perSub)
			time.Sleep(min(wait, 20*time.Millisecond))
			return false, nil
		}
		n = int(min(int64(n), allowed))
	}
	for i := 0; i < n; i++ {
		if g.Limit > 0 && g.next >= g.Limit {
			return true, nil
		}
		out.Collect(operator.Record{Key: g.key(g.next), Value: 1, Time: g.next * g.stepMs})
		g.next += p
		g.sent++
	}
	return g.Limit > 0 && g.next >= g.Limit, nil
}

func (g *Generator) Watermark() int64 { return (g.next - int64(g.ctx.Parallelism)) * g.stepMs }

func (g *Generator) Snapshot(int64) (operator.State, error) {
	return operator.State{offsetState: {binary.BigEndian.AppendUint64(nil, uint64(g.next))}}, nil
}
func (g *Generator) CheckpointComplete(int64) error { return nil }
func (g *Generator) Close() error                   { return nil }

// FileLines emits the lines of a file: subtask i takes lines i, i+p, ...;
// key = the line, value 1, event time = line number. The line reached is
// operator state.
type FileLines struct {
	Path string

	ctx  *operator.Context
	f    *os.File
	sc   *bufio.Scanner
	line int64 // lines read so far (all subtasks' numbering)
	next int64 // next line this subtask emits
}

func (s *FileLines) Open(ctx *operator.Context) error {
	s.ctx = ctx
	f, err := os.Open(s.Path)
	if err != nil {
		return fmt.Errorf("file source: %w", err)
	}
	s.f = f
	s.sc = bufio.NewScanner(f)
	s.sc.Buffer(make([]byte, 64<<10), 16<<20)
	s.next = int64(ctx.Subtask)
	if e := ctx.Restored[offsetState]; len(e) > 0 {
		if len(e[0]) != 8 {
			return fmt.Errorf("file source: corrupt offset state")
		}
		s.next = int64(binary.BigEndian.Uint64(e[0]))
	}
	return nil
}

func (s *FileLines) Emit(out operator.Collector, max int) (bool, error) {
	p := int64(s.ctx.Parallelism)
	for emitted := 0; emitted < max; {
		if !s.sc.Scan() {
			if err := s.sc.Err(); err != nil {
				return false, fmt.Errorf("file source %s: line %d: %w", s.Path, s.line+1, err)
			}
			return true, nil
		}
		n := s.line
		s.line++
		if n < s.next {
			continue
		}
		out.Collect(operator.Record{Key: s.sc.Text(), Value: 1, Time: n})
		s.next = n + p
		emitted++
	}
	return false, nil
}

func (s *FileLines) Watermark() int64 { return s.next - int64(s.ctx.Parallelism) }
func (s *FileLines) Snapshot(int64) (operator.State, error) {
	return operator.State{offsetState: {binary.BigEndian.AppendUint64(nil, uint64(s.next))}}, nil
}
func (s *FileLines) CheckpointComplete(int64) error { return nil }
func (s *FileLines) Close() error {
	if s.f != nil {
		return s.f.Close()
	}
	return nil
}
