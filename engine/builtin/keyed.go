package builtin

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/engine/failure"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/engine/state"
)

// Count emits (key, number of records seen for key) for every record.
type Count struct {
	operator.Base
	s *state.ValueState[int64]
}

func (c *Count) Open(ctx *operator.Context) error {
	if ctx.Keyed == nil {
		return failure.Deterministic(fmt.Errorf("count needs a keyed input (put keyBy before it)"))
	}
	var err error
	c.s, err = state.Value(ctx.Keyed, "count", state.Int64{})
	return err
}

func (c *Count) Process(r operator.Record, out operator.Collector) error {
	n, _, err := c.s.Get(r.Key)
	if err != nil {
		return err
	}
	n++
	if err := c.s.Put(r.Key, n); err != nil {
		return err
	}
	out.Collect(operator.Record{Key: r.Key, Value: n, Time: r.Time})
	return nil
}

// Sum emits (key, running sum of values for key) for every record.
type Sum struct {
	operator.Base
	s *state.ValueState[int64]
}

func (c *Sum) Open(ctx *operator.Context) error {
	if ctx.Keyed == nil {
		return failure.Deterministic(fmt.Errorf("sum needs a keyed input (put keyBy before it)"))
	}
	var err error
	c.s, err = state.Value(ctx.Keyed, "sum", state.Int64{})
	return err
}

func (c *Sum) Process(r operator.Record, out operator.Collector) error {
	n, _, err := c.s.Get(r.Key)
	if err != nil {
		return err
	}
	n += r.Value
	if err := c.s.Put(r.Key, n); err != nil {
		return err
	}
	out.Collect(operator.Record{Key: r.Key, Value: n, Time: r.Time})
	return nil
}

// Dedupe passes the first record of each key and drops the rest.
type Dedupe struct {
	operator.Base
	s *state.ValueState[int64]
}

func (d *Dedupe) Open(ctx *operator.Context) error {
	if ctx.Keyed == nil {
		return failure.Deterministic(fmt.Errorf("dedupe needs a keyed input (put keyBy before it)"))
	}
	var err error
	d.s, err = state.Value(ctx.Keyed, "seen", state.Int64{})
	return err
}

func (d *Dedupe) Process(r operator.Record, out operator.Collector) error {
	_, seen, err := d.s.Get(r.Key)
	if err != nil || seen {
		return err
	}
	if err := d.s.Put(r.Key, 1); err != nil {
		return err
	}
	out.Collect(r)
	return nil
}

// WindowCount counts records per key in tumbling event-time windows of
// Size and emits (key, count) with Time = window start once the watermark
// (the minimum over all inputs) passes the window's end. Records for a
// window that already fired are late and dropped (counted in Late), as
// Flink does without allowed lateness. The open windows of each key are
// keyed state (pairs of start, count); the timers are an in-memory index
// rebuilt from that state on restore.
type WindowCount struct {
	Size time.Duration

	s      *state.ValueState[[]byte]
	size   int64
	timers map[int64]map[string]struct{} // window end → keys
	wm     int64
	Late   int64
}

func (w *WindowCount) Open(ctx *operator.Context) error {
	if ctx.Keyed == nil {
		return failure.Deterministic(fmt.Errorf("window-count needs a keyed input (put keyBy before it)"))
	}
	w.size = w.Size.Milliseconds()
	if w.size <= 0 {
		return failure.Deterministic(fmt.Errorf("window-count: size must be at least 1 ms, not %s", w.Size))
	}
	w.timers = map[int64]map[string]struct{}{}
	w.wm = math.MinInt64
	var err error
	w.s, err = state.Value[[]byte](ctx.Keyed, "windows", state.WindowCounts{})
	if err != nil {
		return err
	}
	return state.ScanValues(w.s, func(key string, v []byte) error {
		if len(v)%16 != 0 {
			return fmt.Errorf("window-count: corrupt window state for key %q", key)
		}
		for i := 0; i < len(v); i += 16 {
			w.addTimer(int64(binary.BigEndian.Uint64(v[i:]))+w.size, key)
		}
		return nil
	})
}

func (w *WindowCount) addTimer(end int64, key string) {
	m := w.timers[end]
	if m == nil {
		m = map[string]struct{}{}
		w.timers[end] = m
	}
	m[key] = struct{}{}
}

func (w *WindowCount) Process(r operator.Record, out operator.Collector) error {
	start := r.Time - ((r.Time%w.size)+w.size)%w.size
	if start+w.size-1 <= w.wm {
		w.Late++
		return nil
	}
	v, _, err := w.s.Get(r.Key)
	if err != nil {
		return err
	}
	nv := make([]byte, 0, len(v)+16)
	found := false
	for i := 0; i < len(v); i += 16 {
		st, n := int64(binary.BigEndian.Uint64(v[i:])), int64(binary.BigEndian.Uint64(v[i+8:]))
		if st == start {
			n++
			found = true
		}
		nv = binary.BigEndian.AppendUint64(nv, uint64(st))
		nv = binary.BigEndian.AppendUint64(nv, uint64(n))
	}
	if !found {
		nv = binary.BigEndian.AppendUint64(nv, uint64(start))
		nv = binary.BigEndian.AppendUint64(nv, 1)
		w.addTimer(start+w.size, r.Key)
	}
	return w.s.Put(r.Key, nv)
}

func (w *WindowCount) Watermark(t int64, out operator.Collector) error {
	w.wm = t
	var ends []int64
	for end := range w.timers {
		if end-1 <= t {
			ends = append(ends, end)
		}
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i] < ends[j] })
	for _, end := range ends {
		keys := make([]string, 0, len(w.timers[end]))
		for k := range w.timers[end] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _, err := w.s.Get(k)
			if err != nil {
				return err
			}
			var rest []byte
			for i := 0; i < len(v); i += 16 {
				st, n := int64(binary.BigEndian.Uint64(v[i:])), int64(binary.BigEndian.Uint64(v[i+8:]))
				if st+w.size == end {
					out.Collect(operator.Record{Key: k, Value: n, Time: st})
					continue
				}
				rest = append(rest, v[i:i+16]...)
			}
			if len(rest) == 0 {
				err = w.s.Delete(k)
			} else {
				err = w.s.Put(k, rest)
			}
			if err != nil {
				return err
			}
		}
		delete(w.timers, end)
	}
	return nil
}

// EndInput fires every open window: a bounded input's watermark reaches
// the end of time.
func (w *WindowCount) EndInput(out operator.Collector) error {
	return w.Watermark(math.MaxInt64, out)
}

func (w *WindowCount) Snapshot(int64) (operator.State, error) { return nil, nil }
func (w *WindowCount) CheckpointComplete(int64) error         { return nil }
func (w *WindowCount) Close() error                           { return nil }

// Stateless built-ins.

// MapFunc returns a built-in map function by name.
func MapFunc(name string) (func(operator.Record) operator.Record, error) {
	switch name {
	case "upper":
		return func(r operator.Record) operator.Record { r.Key = strings.ToUpper(r.Key); return r }, nil
	case "lower":
		return func(r operator.Record) operator.Record { r.Key = strings.ToLower(r.Key); return r }, nil
	case "length":
		return func(r operator.Record) operator.Record { r.Value = int64(len(r.Key)); return r }, nil
	case "value-one":
		return func(r operator.Record) operator.Record { r.Value = 1; return r }, nil
	}
	return nil, fmt.Errorf("unknown map function %q (have: upper, lower, length, value-one)", name)
}

// Split emits one record per whitespace-separated word of the key,
// lower-cased and stripped of punctuation, with value 1.
func Split(r operator.Record, out operator.Collector) {
	for _, w := range strings.Fields(r.Key) {
		w = strings.ToLower(strings.TrimFunc(w, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c > 127)
		}))
		if w != "" {
			out.Collect(operator.Record{Key: w, Value: 1, Time: r.Time})
		}
	}
}
