package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	fstate "github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/list"
)

// What the screens read, in commands: never in Update or View. Entries are
// read a page at a time from the streaming reader and only that page is
// kept; where a page starts is remembered (pos), so going back re-reads it.

// pageSize is how many entries a page holds: a few screens' worth.
var pageSize = 200

// lookupMax bounds the entries a key lookup keeps (one key's entries in
// one state: a map state's map, a window operator's windows).
const lookupMax = 10000

// pos is where a page starts: in key group KG after its first Skip
// entries of the state (operator state: KG is -1 and Skip counts the
// state's elements).
type pos struct{ KG, Skip int }

// entryRow is one entry as the screen draws it, rendered once when read
// (as `ckpt state` prints values: state.Compact).
type entryRow struct {
	kg, subtask int
	key, ns     string
	value       string
	lower       string // what the "/" filter matches
}

// source is one state of one operator.
type source struct {
	fsys   storage.FS
	m      *snapshot.Metadata
	op     *snapshot.OperatorState
	name   string
	keyed  bool
	proxy  *fstate.KeyedProxy // keyed state: the key type, for lookups
	format string             // its keyed format (which hash places a key)
}

// matches is the "/" filter over one row: list.FilterText's rule (the
// project's one), applied row by row as entries stream by.
func matches(filter, lower string) bool {
	if filter == "" {
		return true
	}
	var m list.Model
	m.SetLen(1)
	m.FilterText(filter, func(int) string { return lower })
	return m.Len() == 1
}

func keyedRow(e fstate.Entry) entryRow {
	r := entryRow{kg: e.KeyGroup, subtask: -1, key: fstate.Compact(e.Key), ns: fstate.Compact(e.Namespace), value: fstate.Compact(e.Value)}
	if e.UserKey != nil {
		r.key += " / " + fstate.Compact(e.UserKey)
	}
	if t, ok := e.Value.(fstate.Timer); ok {
		// Key and namespace have their columns: the timer is its time.
		r.value = fmt.Sprintf("timer at %d", t.Timestamp)
	}
	r.lower = strings.ToLower(r.key + " " + r.ns + " " + r.value)
	return r
}

func operatorRow(e fstate.OperatorElement) entryRow {
	r := entryRow{kg: -1, subtask: e.Subtask, value: fstate.Compact(e.Value)}
	if k, ok := e.Value.(fstate.KafkaSplit); ok {
		r.value = "Kafka " + k.String()
		if k.Stopping != nil {
			r.value += fmt.Sprintf(" (stops at %d)", *k.Stopping)
		}
	}
	r.lower = strings.ToLower(r.value)
	return r
}

// page reads up to n entries matching filter from start on; next is
// where the page after it starts, nil at the end of the state.
func (src source) page(ctx context.Context, start pos, filter string, n int) (rows []entryRow, next *pos, err error) {
	if !src.keyed {
		i := 0
		err = fstate.ReadOperators(ctx, src.fsys, src.m, src.op, func(e fstate.OperatorElement) error {
			if e.State != src.name {
				return nil
			}
			i++
			if i <= start.Skip {
				return nil
			}
			r := operatorRow(e)
			if !matches(filter, r.lower) {
				return nil
			}
			if len(rows) == n {
				next = &pos{KG: -1, Skip: i - 1}
				return fstate.ErrStop
			}
			rows = append(rows, r)
			return nil
		})
		if errors.Is(err, fstate.ErrStop) {
			err = nil
		}
		return rows, next, err
	}
	kg, in := -1, 0
	err = fstate.ReadKeyedFrom(ctx, src.fsys, src.m, src.op, src.name, start.KG, func(e fstate.Entry) error {
		if e.KeyGroup != kg {
			kg, in = e.KeyGroup, 0
		}
		in++
		if kg == start.KG && in <= start.Skip {
			return nil
		}
		r := keyedRow(e)
		if !matches(filter, r.lower) {
			return nil
		}
		if len(rows) == n {
			next = &pos{KG: kg, Skip: in - 1}
			return fstate.ErrStop
		}
		rows = append(rows, r)
		return nil
	})
	return rows, next, err
}

// lookup reads the entries of one key: the key is parsed as the key type,
// and state.LookupKey reads only its key group (as `ckpt state --key`).
func (src source) lookup(ctx context.Context, key, filter string) (rows []entryRow, kg int, more bool, err error) {
	if !src.keyed || src.proxy == nil {
		return nil, -1, false, errors.New("operator state has no keys to look up")
	}
	k, err := fstate.ParseKey(src.proxy.Key, key)
	if err != nil {
		return nil, -1, false, err
	}
	kg, err = fstate.LookupKey(ctx, src.fsys, src.m, src.op, src.name, src.format, k, func(e fstate.Entry) error {
		r := keyedRow(e)
		if !matches(filter, r.lower) {
			return nil
		}
		if len(rows) == lookupMax {
			more = true
			return fstate.ErrStop
		}
		rows = append(rows, r)
		return nil
	})
	if errors.Is(err, fstate.ErrStop) {
		err = nil
	}
	return rows, kg, more, err
}

// counts are an operator's entries per state, as far as scanned, and
// its keyed states' bytes (entries' Size: key and value as serialized).
type counts struct {
	keyed, oper map[string]int64
	bytes       map[string]int64
	// kafka counts the elements of a state that are Kafka partitions.
	kafka map[string]int
}

func (c counts) clone() counts {
	out := newCounts()
	for k, v := range c.keyed {
		out.keyed[k] = v
	}
	for k, v := range c.bytes {
		out.bytes[k] = v
	}
	for k, v := range c.oper {
		out.oper[k] = v
	}
	for k, v := range c.kafka {
		out.kafka[k] = v
	}
	return out
}

// progressEvery is how often a running count reports what it has.
const progressEvery = 250 * time.Millisecond

func newCounts() counts {
	return counts{keyed: map[string]int64{}, oper: map[string]int64{}, bytes: map[string]int64{}, kafka: map[string]int{}}
}

// countOperator scans an operator's keyed and operator state once,
// streaming, counting entries and bytes per state; progress gets a copy
// of the counts so far every progressEvery. Keyed state whose schema came
// with stats (ckpt's engine state: ReadSchemaWithStats, as ckpt state
// prints them) is not scanned again: stats are its counts.
func countOperator(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, keyed, oper bool, stats []fstate.StateStats, progress func(counts)) (counts, error) {
	c := newCounts()
	if keyed && stats != nil {
		for _, st := range stats {
			c.keyed[st.Name], c.bytes[st.Name] = st.Entries, st.Bytes
		}
		keyed = false
	}
	last := time.Now()
	tick := func() {
		if progress != nil && time.Since(last) >= progressEvery {
			last = time.Now()
			progress(c.clone())
		}
	}
	if keyed {
		err := fstate.ScanKeyed(ctx, fsys, m, op, "", func(e *fstate.Entry) error {
			c.keyed[e.State]++
			c.bytes[e.State] += e.Size
			if c.keyed[e.State]&1023 == 0 {
				tick()
			}
			return nil
		})
		if err != nil {
			return c, err
		}
	}
	if oper {
		err := fstate.ReadOperators(ctx, fsys, m, op, func(e fstate.OperatorElement) error {
			c.oper[e.State]++
			if _, ok := e.Value.(fstate.KafkaSplit); ok {
				c.kafka[e.State]++
			}
			return nil
		})
		if err != nil {
			return c, err
		}
	}
	return c, nil
}
