package state

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// kvs are encoded writes, their bytes in one arena (one allocation instead
// of two per key, which matters at a million keys per checkpoint). The
// arena and item slices are reused from one checkpoint to the next.
type kvs struct {
	arena []byte
	items []kv
	order []sortItem
	// scratch is radixSort's second buffer.
	scratch []sortItem
	// sorted and sortedItems are sort's buckets.
	sorted      []byte
	sortedItems []kv
}

// kv is one encoded write: key arena[k0:k1], value arena[k1:v1].
type kv struct {
	k0, k1, v1 int
	set        bool // false: delete
}

// sortItem orders one write of a key group: the 16 key bytes after the
// key group as two integers (most comparisons end there), then the index.
type sortItem struct {
	p0, p1 uint64
	i      int32
}

func (w *kvs) key(x kv) []byte   { return w.arena[x.k0:x.k1] }
func (w *kvs) value(x kv) []byte { return w.arena[x.k1:x.v1] }

func (w *kvs) reset() {
	w.arena = w.arena[:0]
	w.items = w.items[:0]
	w.order = w.order[:0]
	w.sorted = w.sorted[:0]
	w.sortedItems = w.sortedItems[:0]
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

// sort orders the writes by key, in three passes that stay out of the
// way of main memory's latency, because the writes arrive in change order
// (random in key order) and a million of them far exceed the CPU caches:
//
//  1. count entries and bytes per key group (the 2-byte key prefix);
//  2. copy every entry into its key group's bucket of a second arena:
//     sequential reads, as many sequential write streams as key groups;
//  3. per key group (a few thousand entries, cache-resident): sort by two
//     integer words of key prefix (radixSort), falling back to bytes on
//     ties, and copy
//     the entries back into the first arena in that order, keeping only
//     the last write of a key (equal keys keep their insertion order).
//
// Afterwards sortedItems index arena in key order (see writeSST).
func (w *kvs) sort() {
	var counts, sizes [1<<16 + 1]int
	for _, x := range w.items {
		g := int(w.arena[x.k0])<<8 | int(w.arena[x.k0+1])
		counts[g+1]++
		sizes[g+1] += x.v1 - x.k0
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
		sizes[i] += sizes[i-1]
	}
	// Pass 2: bucket by key group into sorted/bucketItems.
	w.sorted = slices.Grow(w.sorted[:0], len(w.arena))[:len(w.arena)]
	w.sortedItems = slices.Grow(w.sortedItems[:0], len(w.items))[:len(w.items)]
	nextItem, nextByte := counts, sizes
	for _, x := range w.items {
		g := int(w.arena[x.k0])<<8 | int(w.arena[x.k0+1])
		b0 := nextByte[g]
		n := copy(w.sorted[b0:], w.arena[x.k0:x.v1])
		nextByte[g] += n
		w.sortedItems[nextItem[g]] = kv{k0: b0, k1: b0 + x.k1 - x.k0, v1: b0 + n, set: x.set}
		nextItem[g]++
	}
	bucket := w.sortedItems
	// Pass 3: sort each key group and copy it back in order.
	w.arena = w.arena[:0]
	w.items = w.items[:0]
	for g := 0; g < 1<<16; g++ {
		lo, hi := counts[g], counts[g+1]
		if lo == hi {
			continue
		}
		w.order = w.order[:0]
		for i := lo; i < hi; i++ {
			k := w.sorted[bucket[i].k0:bucket[i].k1]
			w.order = append(w.order, sortItem{p0: word(k, 2), p1: word(k, 10), i: int32(i)})
		}
		w.sortGroup(bucket)
		for j := range w.order {
			o := &w.order[j]
			x := bucket[o.i]
			if j+1 < len(w.order) {
				if n := &w.order[j+1]; n.p0 == o.p0 && n.p1 == o.p1 &&
					bytes.Equal(w.sorted[x.k0:x.k1], w.sorted[bucket[n.i].k0:bucket[n.i].k1]) {
					continue // a later write of the same key follows
				}
			}
			k0 := len(w.arena)
			w.arena = append(w.arena, w.sorted[x.k0:x.v1]...)
			w.items = append(w.items, kv{k0: k0, k1: k0 + x.k1 - x.k0, v1: len(w.arena), set: x.set})
		}
	}
	w.sortedItems = w.sortedItems[:0]
}

// radixMin is the smallest key group radixSort sorts; below it the
// counting passes cost more than a comparison sort.
const radixMin = 256

// sortGroup orders w.order (one key group's entries, in insertion order)
// by key, equal keys in insertion order.
func (w *kvs) sortGroup(bucket []kv) {
	if len(w.order) >= radixMin {
		w.radixSort()
	} else {
		slices.SortStableFunc(w.order, cmpWords)
	}
	// Entries whose two words tie may still differ beyond them (keys
	// longer than 18 bytes, or shorter ones that differ only in trailing
	// zero bytes): order each such run by the whole key. Stable, so equal
	// keys keep their insertion order, which dedup relies on.
	for lo := 0; lo < len(w.order); {
		hi := lo + 1
		for hi < len(w.order) && w.order[hi].p0 == w.order[lo].p0 && w.order[hi].p1 == w.order[lo].p1 {
			hi++
		}
		if hi-lo > 1 {
			slices.SortStableFunc(w.order[lo:hi], func(a, c sortItem) int {
				xa, xc := bucket[a.i], bucket[c.i]
				return bytes.Compare(w.sorted[xa.k0+2:xa.k1], w.sorted[xc.k0+2:xc.k1])
			})
		}
		lo = hi
	}
}

func cmpWords(a, c sortItem) int {
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
	return 0
}

// radixSort orders w.order by (p0, p1), stably, with one counting pass
// per byte that varies within the group, least significant first. Keys
// of one state share their state id and usually much of their prefix (the
// sum job's 1M decimal keys vary in 6 of the 16 bytes), so most bytes are
// skipped; the passes are sequential scans of a cache-resident group,
// where the comparison sort they replace (about 13 data-dependent
// branches per entry) cost 150 ms per million keys.
func (w *kvs) radixSort() {
	var diff0, diff1 uint64
	f := w.order[0]
	for _, o := range w.order {
		diff0 |= o.p0 ^ f.p0
		diff1 |= o.p1 ^ f.p1
	}
	w.scratch = slices.Grow(w.scratch[:0], len(w.order))[:len(w.order)]
	src, dst := w.order, w.scratch
	for pass := 0; pass < 16; pass++ {
		// Passes 0..7: the bytes of p1, least significant first; 8..15: p0.
		shift, diff := uint(pass%8)*8, diff1
		if pass >= 8 {
			diff = diff0
		}
		if (diff>>shift)&0xFF == 0 {
			continue
		}
		radixPass(src, dst, shift, pass >= 8)
		src, dst = dst, src
	}
	if &src[0] != &w.order[0] {
		copy(w.order, src)
	}
}

// radixPass moves src into dst, stably ordered by one byte of p0 (hi) or
// p1.
func radixPass(src, dst []sortItem, shift uint, hi bool) {
	var counts [256]int
	if hi {
		for i := range src {
			counts[byte(src[i].p0>>shift)]++
		}
	} else {
		for i := range src {
			counts[byte(src[i].p1>>shift)]++
		}
	}
	sum := 0
	for d, c := range counts {
		counts[d] = sum
		sum += c
	}
	if hi {
		for i := range src {
			d := byte(src[i].p0 >> shift)
			dst[counts[d]] = src[i]
			counts[d]++
		}
	} else {
		for i := range src {
			d := byte(src[i].p1 >> shift)
			dst[counts[d]] = src[i]
			counts[d]++
		}
	}
}

// writeSST writes the writes, sorted (see sort), into a new sstable at
// path and returns its size.
func (w *kvs) writeSST(path string, opts sstable.WriterOptions) (int64, error) {
	f, err := createTable(path)
	if err != nil {
		return 0, err
	}
	sw := sstable.NewWriter(f, opts)
	fail := func(err error) (int64, error) {
		sw.Close()
		os.Remove(path)
		return 0, fmt.Errorf("state: write %s: %w", path, err)
	}
	for _, x := range w.items {
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

// inOrder reports whether the writes are in strictly increasing key order
// already (restored key groups usually are), so sort can be skipped.
func (w *kvs) inOrder() bool {
	for i := 1; i < len(w.items); i++ {
		if bytes.Compare(w.key(w.items[i-1]), w.key(w.items[i])) >= 0 {
			return false
		}
	}
	return true
}

// tableWriter writes one delta table from entries in key order.
type tableWriter struct {
	seq  uint64
	path string
	sw   *sstable.Writer
}

func (t *tableWriter) add(key, value []byte, set bool) error {
	if set {
		return t.sw.Set(key, value)
	}
	return t.sw.Delete(key)
}

func (t *tableWriter) abort() {
	t.sw.Close()
	os.Remove(t.path)
}

// unsyncedTable is where a delta table is written: like Pebble's own file
// writable but without the fsync at the end. Local state is disposable —
// durability comes from checkpoints, a process that dies starts over from
// one in a fresh directory, and a table is uploaded from the page cache —
// so waiting for the disk (half a second per gigabyte restored here) buys
// nothing.
type unsyncedTable struct {
	f  *os.File
	bw *bufio.Writer
}

func createTable(path string) (*unsyncedTable, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	// Small buffer: data blocks (tens of KiB) go straight to the file,
	// the small writes between them (trailers, index) are gathered.
	return &unsyncedTable{f: f, bw: bufio.NewWriterSize(f, 4<<10)}, nil
}

func (t *unsyncedTable) Write(p []byte) error {
	_, err := t.bw.Write(p)
	return err
}

func (t *unsyncedTable) Finish() error {
	err := t.bw.Flush()
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (t *unsyncedTable) Abort() { t.f.Close() }
