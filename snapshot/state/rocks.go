package state

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state/sst"
	"github.com/ckpt-dev/ckpt/storage"
)

// ReadAt serves the stream as an io.ReaderAt (SST tables are read block
// by block).
func (s *stream) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.size {
		return 0, fmt.Errorf("%s: read at %d outside its %d bytes", s.name, off, s.size)
	}
	n := min(int64(len(p)), s.size-off)
	if s.f == nil {
		copy(p, s.data[off:off+n])
	} else if _, err := s.f.ReadAt(p[:n], s.off+off); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// rocksTable is one SST file of a RocksDB snapshot.
type rocksTable struct {
	name string
	s    *stream
	t    *sst.Table
}

// sstErr makes an SST reader's "unsupported" an ErrUnsupported of this package.
func sstErr(err error) error {
	if errors.Is(err, sst.ErrUnsupported) && !errors.Is(err, ErrUnsupported) {
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return err
}

// readIncremental reads the entries of a RocksDB native savepoint or
// checkpoint (full or incremental): the proxy from the meta stream, then
// per state the SST files of its column family (the table property
// names it), merged in key order with RocksDB's rules — the newest
// version of a key wins, a delete hides older ones, list state's merge
// operands join the base value with ',' oldest first. Keys of key groups
// outside the handle's range (left behind by a rescale) are skipped.
func readIncremental(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, h *snapshot.IncrementalHandle, state string, only int, fn func(Entry) error) error {
	ms, err := openStream(ctx, fsys, m, h.Meta)
	if err != nil {
		return err
	}
	b, err := ms.head(proxyBound)
	ms.Close()
	if err != nil {
		return err
	}
	p, err := ReadKeyedProxy(b, ms.name)
	if err != nil {
		return err
	}
	byCF := map[string][]*rocksTable{}
	var open []*rocksTable
	defer func() {
		for _, t := range open {
			t.s.Close()
		}
	}()
	for _, list := range [][]snapshot.NamedHandle{h.Shared, h.Private} {
		for _, nh := range list {
			if !strings.HasSuffix(nh.LocalName, ".sst") {
				continue
			}
			s, err := openStream(ctx, fsys, m, nh.Handle)
			if err != nil {
				return err
			}
			name := nh.LocalName + " (" + s.name + ")"
			rt := &rocksTable{name: name, s: s}
			open = append(open, rt)
			if rt.t, err = sst.Open(s, s.size, name); err != nil {
				return sstErr(err)
			}
			tombs, err := rt.t.RangeDeletions()
			if err != nil {
				return sstErr(err)
			}
			for _, tb := range tombs {
				if overlapsKeyGroups(tb.Start, tb.End, h.Range, op.MaxParallelism) {
					return fmt.Errorf("%w: %s deletes the key range %x..%x inside the key groups %s it holds; ckpt does not apply such range deletions", ErrUnsupported, name, tb.Start, tb.End, h.Range)
				}
			}
			cf := rt.t.ColumnFamily()
			byCF[cf] = append(byCF[cf], rt)
		}
	}
	prefix := 1
	if op.MaxParallelism > 128 {
		prefix = 2
	}
	for _, meta := range p.States {
		if state != "" && meta.Name != state {
			continue
		}
		tables := byCF[meta.Name]
		err := mergeTables(ctx, tables, func(key, val []byte, file string) error {
			if len(key) < prefix {
				return &Error{File: file, Want: "a key with a key-group prefix", Err: fmt.Errorf("%d bytes", len(key))}
			}
			kg := int(key[0])
			if prefix == 2 {
				kg = kg<<8 | int(key[1])
			}
			if !h.Range.Contains(int32(kg)) || only >= 0 && kg != only {
				return nil
			}
			e, err := unifiedEntry(p, meta, prefix, key, val, file, 0, 0)
			if err != nil {
				return err
			}
			return fn(e)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// overlapsKeyGroups reports whether the user keys [start, end) reach into
// the key groups r. Flink deletes ranges only to clip a restored RocksDB
// to its key groups (after a rescale): those tombstones cover other key
// groups, whose keys the reader skips anyway, so they can be ignored;
// any other tombstone is refused rather than guessed at.
func overlapsKeyGroups(start, end []byte, r snapshot.KeyGroupRange, maxParallelism int32) bool {
	width := 1
	if maxParallelism > 128 {
		width = 2
	}
	enc := func(kg int) []byte {
		if width == 1 {
			return []byte{byte(kg)}
		}
		return []byte{byte(kg >> 8), byte(kg)}
	}
	lo := enc(int(r.Start))
	var hi []byte // nil: no upper bound
	if r.Count <= 0 {
		return false
	}
	if next := int(r.End()) + 1; next < 1<<(8*width) {
		hi = enc(next)
	}
	return bytes.Compare(start, end) < 0 && (hi == nil || bytes.Compare(start, hi) < 0) && bytes.Compare(lo, end) < 0
}

type versioned struct {
	key, value []byte
	seq        uint64
	kind       sst.Kind
	file       string
}

// mergeTables merges the tables of one column family and calls fn for
// every live key with its resolved value, in key order.
func mergeTables(ctx context.Context, tables []*rocksTable, fn func(key, val []byte, file string) error) error {
	var cs []*cursor
	defer func() {
		for _, c := range cs {
			c.stop()
		}
	}()
	for _, t := range tables {
		var scanErr error
		seq := iter.Seq[versioned](func(yield func(versioned) bool) {
			stop := errors.New("stop")
			err := t.t.Scan(func(e sst.Entry) error {
				if !yield(versioned{bytes.Clone(e.UserKey), bytes.Clone(e.Value), e.Seq, e.Kind, t.name}) {
					return stop
				}
				return nil
			})
			if err != nil && err != stop {
				scanErr = sstErr(err)
			}
		})
		next, stop := iter.Pull(seq)
		c := &cursor{next: next, stop: stop, err: &scanErr}
		cs = append(cs, c)
	}
	// live: the cursors with a current entry, a heap on (key asc, seq desc).
	live := &cursorHeap{}
	advance := func(c *cursor) error {
		v, ok := c.next()
		if *c.err != nil {
			return *c.err
		}
		if ok {
			c.cur = v
			heap.Push(live, c)
		}
		return nil
	}
	for _, c := range cs {
		if err := advance(c); err != nil {
			return err
		}
	}
	for live.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		// All versions of the smallest key, newest first.
		key := (*live)[0].cur.key
		var versions []versioned
		for live.Len() > 0 && bytes.Equal((*live)[0].cur.key, key) {
			c := heap.Pop(live).(*cursor)
			versions = append(versions, c.cur)
			if err := advance(c); err != nil {
				return err
			}
		}
		val, ok := resolve(versions)
		if !ok {
			continue
		}
		if err := fn(key, val, versions[0].file); err != nil {
			return err
		}
	}
	return nil
}

type cursor struct {
	next func() (versioned, bool)
	stop func()
	cur  versioned
	err  *error
}

type cursorHeap []*cursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].cur.key, h[j].cur.key); c != 0 {
		return c < 0
	}
	return h[i].cur.seq > h[j].cur.seq
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// resolve applies RocksDB's read rules to a key's versions (newest
// first): a put is the base, a delete ends the history, merge operands
// (list state) are appended to the base, oldest first, joined with ','
// (Flink's StringAppendTESTOperator). ok is false for a deleted key.
func resolve(versions []versioned) ([]byte, bool) {
	var operands [][]byte
	var base []byte
	hasBase := false
history:
	for _, v := range versions {
		switch v.kind {
		case sst.KindMerge:
			operands = append(operands, v.value)
			continue
		case sst.KindPut:
			base, hasBase = v.value, true
		}
		break history // a put or a delete: older versions do not count
	}
	if !hasBase && len(operands) == 0 {
		return nil, false
	}
	parts := [][]byte{}
	if hasBase {
		parts = append(parts, base)
	}
	for i := len(operands) - 1; i >= 0; i-- {
		parts = append(parts, operands[i])
	}
	return bytes.Join(parts, []byte{','}), true
}
