package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// kvs are encoded writes, their bytes in one arena (one allocation instead
// of two per key, which matters at a million keys per checkpoint). The
// arena and item slices are reused from one checkpoint to the next.
type kvs struct {
	arena []byte
	items []kv
	order []sortItem
}

// kv is one encoded write: key arena[k0:k1], value arena[k1:v1].
type kv struct {
	k0, k1, v1 int
	set        bool // false: delete
}

// sortItem orders one write: its key-group prefix and the next 16 key
// bytes as two integers (most comparisons end there), then the index.
type sortItem struct {
	p0, p1 uint64
	i      int32
	kg     uint16
}

func (w *kvs) key(x kv) []byte   { return w.arena[x.k0:x.k1] }
func (w *kvs) value(x kv) []byte { return w.arena[x.k1:x.v1] }

func (w *kvs) reset() {
	w.arena = w.arena[:0]
	w.items = w.items[:0]
	w.order = w.order[:0]
}

// add appends a write of key (already encoded with its prefix).
func (w *kvs) add(key, value []byte, set bool) {
	x := kv{k0: len(w.arena), set: set}
	w.arena = append(w.arena, key...)
	x.k1 = len(w.arena)
	if set {
		w.arena = append(w.arena, value...)
	}
	x.v1 = len(w.arena)
	w.items = append(w.items, x)
}

// word reads 8 bytes of b from off as a big-endian integer, zero-padded:
// comparing the words of two keys agrees with comparing their bytes, up to
// ties, which fall back to a full comparison.
func word(b []byte, off int) uint64 {
	if off+8 <= len(b) {
		return binary.BigEndian.Uint64(b[off:])
	}
	var buf [8]byte
	if off < len(b) {
		copy(buf[:], b[off:])
	}
	return binary.BigEndian.Uint64(buf[:])
}

// sort orders the writes by key: a counting sort on the 2-byte key-group
// prefix (one pass), then each key group's entries by two integer words
// of key prefix, falling back to bytes only on ties. Equal keys keep their
// insertion order, so the later write of a key wins (see writeSST).
func (w *kvs) sort() {
	n := len(w.items)
	var counts [1<<16 + 1]int32
	for _, x := range w.items {
		counts[(int(w.arena[x.k0])<<8|int(w.arena[x.k0+1]))+1]++
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	w.order = slices.Grow(w.order[:0], n)[:n]
	next := counts
	for i, x := range w.items {
		k := w.arena[x.k0:x.k1]
		g := int(k[0])<<8 | int(k[1])
		w.order[next[g]] = sortItem{p0: word(k, 2), p1: word(k, 10), i: int32(i), kg: uint16(g)}
		next[g]++
	}
	cmp := func(a, c sortItem) int {
		if a.p0 != c.p0 {
			if a.p0 < c.p0 {
				return -1
			}
			return 1
		}
		if a.p1 != c.p1 {
			if a.p1 < c.p1 {
				return -1
			}
			return 1
		}
		xa, xc := w.items[a.i], w.items[c.i]
		if r := bytes.Compare(w.arena[xa.k0+2:xa.k1], w.arena[xc.k0+2:xc.k1]); r != 0 {
			return r
		}
		return int(a.i - c.i)
	}
	for g := 0; g < 1<<16; g++ {
		if counts[g+1]-counts[g] > 1 {
			slices.SortFunc(w.order[counts[g]:counts[g+1]], cmp)
		}
	}
}

// writeSST writes the sorted writes into a new sstable at path and returns
// its size. Of several writes of one key only the last is kept.
func (w *kvs) writeSST(path string, opts sstable.WriterOptions) (int64, error) {
	f, err := vfs.Default.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	sw := sstable.NewWriter(objstorageprovider.NewFileWritable(f), opts)
	fail := func(err error) (int64, error) {
		sw.Close()
		os.Remove(path)
		return 0, fmt.Errorf("state: write %s: %w", path, err)
	}
	for j, o := range w.order {
		x := w.items[o.i]
		if j+1 < len(w.order) {
			y := w.items[w.order[j+1].i]
			if bytes.Equal(w.key(x), w.key(y)) {
				continue // a later write of the same key follows
			}
		}
		if x.set {
			err = sw.Set(w.key(x), w.value(x))
		} else {
			err = sw.Delete(w.key(x))
		}
		if err != nil {
			return fail(err)
		}
	}
	if err := sw.Close(); err != nil {
		os.Remove(path)
		return 0, fmt.Errorf("state: write %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// writerOptions are the sstable options of delta tables: those of L0, in
// the database's newest table format.
func writerOptions(db *pebble.DB, o *pebble.Options) sstable.WriterOptions {
	return o.MakeWriterOptions(0, db.FormatMajorVersion().MaxTableFormat())
}
