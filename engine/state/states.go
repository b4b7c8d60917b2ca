package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/cockroachdb/pebble/v2"
)

// Codec turns state values into bytes and back.
type Codec[T any] interface {
	Encode(dst []byte, v T) []byte
	Decode(b []byte) (T, error)
}

// Int64 stores int64 values as 8 bytes big-endian.
type Int64 struct{}

func (Int64) Encode(dst []byte, v int64) []byte { return binary.BigEndian.AppendUint64(dst, uint64(v)) }
func (Int64) Decode(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("int64 state value has %d bytes, want 8", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// Bytes stores raw bytes.
type Bytes struct{}

func (Bytes) Encode(dst []byte, v []byte) []byte { return append(dst, v...) }
func (Bytes) Decode(b []byte) ([]byte, error)    { return append([]byte(nil), b...), nil }

// WindowCounts stores the open tumbling windows of a key as Bytes does:
// pairs of int64 big-endian (window start, count). Its own type only so
// that snapshots record what the bytes are.
type WindowCounts struct{ Bytes }

// StateType names what a codec's values are (enginefmt.Type*), recorded
// in the state's schema; a codec without one records bytes.
func (Int64) StateType() string        { return enginefmt.TypeInt64 }
func (Bytes) StateType() string        { return enginefmt.TypeBytes }
func (WindowCounts) StateType() string { return enginefmt.TypeWindowCounts }

// stateTyper is a codec that names its values' type.
type stateTyper interface{ StateType() string }

func typeOf(codec any) string {
	if t, ok := codec.(stateTyper); ok {
		return t.StateType()
	}
	return enginefmt.TypeBytes
}

// ValueState holds one value per key behind a write-back cache with a
// memory budget (Options.CacheBytes, Options.CacheEntries). Cache entries
// live in a slot slice indexed by a map; every change is also recorded in
// the change log, once per key per snapshot (later changes of the key
// update its log entry in place). A snapshot's synchronous phase takes the
// log over whole (an O(1) swap) and the asynchronous phase encodes it; the
// task never touches a taken-over log again, so the two phases share
// nothing. Entries changed since the newest delta Pebble has ingested are
// pinned in the cache; the others are evicted by a CLOCK sweep when the
// budget is exceeded, and read back from Pebble when needed.
type ValueState[T any] struct {
	b     *Backend
	name  string
	id    uint16
	codec Codec[T]
	// sizeOf measures a value's bytes for the budget (nil: fixed size).
	sizeOf   func(T) int
	overhead int64
	index    map[string]int32
	slots    []vslot[T]
	free     []int32
	hand     int
	bytes    int64
	live     int // cached keys with a value
	log      []vchange[T]
	// spare is a log the asynchronous phase has encoded and cleared;
	// reusing it spares the task regrowing a log of a million entries
	// after every checkpoint.
	spare atomic.Pointer[[]vchange[T]]
	// last remembers the slot of the last key read, because operators
	// read a key and then write it.
	last    string
	lastIdx int32
	kbuf    []byte
}

type vslot[T any] struct {
	key string
	v   T
	// epoch is the delta sequence of the key's newest change (0: unchanged
	// since read from Pebble); logPos its entry in the current log.
	epoch   uint64
	logPos  int32
	size    int32
	kg      uint16
	present bool
	ref     bool // CLOCK: read or written since the last sweep
	used    bool
}

type vchange[T any] struct {
	key     string
	v       T
	kg      uint16
	present bool
}

// sizer is implemented by codecs of variable-size values.
type sizer[T any] interface{ Size(T) int }

// Size of a byte value for the cache budget.
func (Bytes) Size(v []byte) int { return len(v) }

// Value registers (or reopens) the value state name.
func Value[T any](b *Backend, name string, codec Codec[T]) (*ValueState[T], error) {
	// One cache per state: a second registration gets the first's (two
	// caches of one state would each miss the other's writes).
	if prev, ok := b.values[name]; ok {
		s, ok := prev.(*ValueState[T])
		if !ok {
			return nil, fmt.Errorf("state %s: registered before with another value type (%T)", name, prev)
		}
		return s, nil
	}
	id, err := b.stateID(name)
	if err != nil {
		return nil, err
	}
	if err := b.recordSchema(name, enginefmt.Schema{Kind: enginefmt.KindValue, Key: enginefmt.TypeString, Value: typeOf(codec)}); err != nil {
		return nil, err
	}
	s := &ValueState[T]{b: b, name: name, id: id, codec: codec, index: make(map[string]int32), lastIdx: -1}
	var zero T
	// A slot, its index map entry (key header, value, hash table slack)
	// and, for fixed-size values, the value itself.
	s.overhead = int64(unsafe.Sizeof(vslot[T]{})) + 48
	if sz, ok := codec.(sizer[T]); ok {
		s.sizeOf = sz.Size
	} else {
		s.overhead += int64(unsafe.Sizeof(zero))
	}
	b.flush = append(b.flush, s)
	b.values[name] = s
	if b.restored {
		if err := s.preload(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// preload reads the state's restored entries from Pebble into its cache,
// when they fit in its budget, so that a restored job does not pay a
// Pebble read for the first touch of every key, and so that its value
// state can be complete again (see Deferred ingestion): checkpoints then
// skip Pebble as a fresh job's do. When the entries do not fit, what was
// read stays cached (clean) and the backend stays incomplete.
func (s *ValueState[T]) preload() error {
	b := s.b
	// Try only when everything Pebble holds would fit (an estimate from
	// the tables' properties, as if all of it were this state's): a load
	// that gives up half-way costs a restore time and buys little.
	entries, raw, err := b.tableFootprint()
	if err != nil {
		return err
	}
	fits := entries <= uint64(b.opts.CacheEntries) &&
		int64(entries)*s.overhead+int64(raw) <= b.opts.CacheBytes
	if fits {
		var err error
		if fits, err = s.load(); err != nil {
			return err
		}
	}
	if !fits {
		b.dropped = true // never complete
		return nil
	}
	b.accounted[s.id] = true
	return nil
}

// complete reports whether every value-state entry Pebble holds is also
// cached, so that the caches alone are the value state: a fresh backend
// whose caches never evicted, or a restored one whose every registered
// state is accounted for (a restored state nobody opened keeps it
// incomplete: its values are in Pebble only).
func (b *Backend) complete() bool {
	if b.dropped {
		return false
	}
	if b.restored {
		for _, id := range b.ids {
			if !b.accounted[id] {
				return false
			}
		}
	}
	return true
}

// listOrMap registers list or map state id: in a restored backend its
// entries are in Pebble, so no delta may rebase the chain (a rebase drops
// everything but value state), and it does not stand in the way of the
// value states being complete.
func (b *Backend) listOrMap(id uint16) {
	if b.restored {
		b.batchUsed = true
		b.accounted[id] = true
	}
}

// load caches every entry of the state Pebble holds; false when they do
// not fit.
func (s *ValueState[T]) load() (bool, error) {
	b := s.b
	maxN, maxB := b.opts.CacheEntries, b.opts.CacheBytes
	it, err := b.db.NewIter(nil)
	if err != nil {
		return false, err
	}
	defer it.Close()
	r := b.opts.KeyGroups
	for kg := r.Start; kg <= r.End; kg++ {
		lo := appendKey(nil, kg, s.id, "")
		hi := appendKey(nil, kg, s.id+1, "")
		it.SetBounds(lo, hi)
		for it.First(); it.Valid(); it.Next() {
			k := it.Key()
			raw, err := it.ValueAndErr()
			if err != nil {
				return false, fmt.Errorf("state %s: preload: %w", s.name, err)
			}
			v, err := s.codec.Decode(raw)
			if err != nil {
				return false, fmt.Errorf("state %s: preload: %w", s.name, err)
			}
			size := 0
			if s.sizeOf != nil {
				size = s.sizeOf(v)
			}
			key := string(k[4:])
			if len(s.index)+1 > maxN || s.bytes+s.overhead+int64(len(key))+int64(size) > maxB {
				return false, nil
			}
			if _, err := s.insert(key, uint16(kg), v, true); err != nil {
				return false, err
			}
		}
		if err := it.Error(); err != nil {
			return false, fmt.Errorf("state %s: preload: %w", s.name, err)
		}
	}
	return true, nil
}

// CacheBytes is the memory the state's cache accounts for now.
func (s *ValueState[T]) CacheBytes() int64 { return s.bytes }

// CacheLen is the number of cached keys.
func (s *ValueState[T]) CacheLen() int { return len(s.index) }

// Get returns the value for key and whether there is one.
func (s *ValueState[T]) Get(key string) (T, bool, error) {
	if i, ok := s.index[key]; ok {
		sl := &s.slots[i]
		sl.ref = true
		s.last, s.lastIdx = key, i
		return sl.v, sl.present, nil
	}
	var zero T
	kg := s.b.KeyGroup(key)
	s.kbuf = appendKey(s.kbuf[:0], kg, s.id, key)
	// Not cached, so not pinned: Pebble has its newest value.
	raw, closer, err := s.b.db.Get(s.kbuf)
	v, present := zero, false
	switch {
	case errors.Is(err, pebble.ErrNotFound):
	case err != nil:
		return zero, false, fmt.Errorf("state %s: get: %w", s.name, err)
	default:
		v, err = s.codec.Decode(raw)
		closer.Close()
		if err != nil {
			return zero, false, fmt.Errorf("state %s: %w", s.name, err)
		}
		present = true
	}
	i, err := s.insert(key, uint16(kg), v, present)
	if err != nil {
		return zero, false, err
	}
	s.last, s.lastIdx = key, i
	return v, present, nil
}

// Put sets the value for key.
func (s *ValueState[T]) Put(key string, v T) error {
	return s.put(key, v, true)
}

// Delete removes the value for key.
func (s *ValueState[T]) Delete(key string) error {
	var zero T
	return s.put(key, zero, false)
}

func (s *ValueState[T]) put(key string, v T, present bool) error {
	i := int32(-1)
	if s.lastIdx >= 0 && key == s.last {
		i = s.lastIdx
	} else if j, ok := s.index[key]; ok {
		i = j
	} else {
		var zero T
		var err error
		if i, err = s.insert(key, uint16(s.b.KeyGroup(key)), zero, false); err != nil {
			return err
		}
	}
	sl := &s.slots[i]
	if sl.present != present {
		if present {
			s.live++
		} else {
			s.live--
		}
	}
	sl.v, sl.present, sl.ref = v, present, true
	if s.sizeOf != nil {
		n := 0
		if present {
			n = s.sizeOf(v)
		}
		s.bytes += int64(n) - int64(sl.size)
		sl.size = int32(n)
	}
	if seq := s.b.seq; sl.epoch != seq {
		sl.epoch = seq
		sl.logPos = int32(len(s.log))
		s.log = append(s.log, vchange[T]{key: sl.key, v: v, kg: sl.kg, present: present})
	} else {
		c := &s.log[sl.logPos]
		c.v, c.present = v, present
	}
	s.last, s.lastIdx = key, i
	if s.bytes > s.b.opts.CacheBytes {
		// A value grew: the entry is pinned now, others make room.
		return s.evict(0)
	}
	return nil
}

// insert caches key (clean: as read from Pebble), evicting first when the
// cache is full.
func (s *ValueState[T]) insert(key string, kg uint16, v T, present bool) (int32, error) {
	size := 0
	if present && s.sizeOf != nil {
		size = s.sizeOf(v)
	}
	need := s.overhead + int64(len(key)) + int64(size)
	if len(s.index) >= s.b.opts.CacheEntries || s.bytes+need > s.b.opts.CacheBytes {
		if err := s.evict(need); err != nil {
			return -1, err
		}
	}
	var i int32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		s.slots = append(s.slots, vslot[T]{})
		i = int32(len(s.slots) - 1)
	}
	s.slots[i] = vslot[T]{key: key, v: v, kg: kg, present: present, used: true, ref: true, size: int32(size)}
	s.index[key] = i
	s.bytes += need
	if present {
		s.live++
	}
	return i, nil
}

// evict sweeps the cache (CLOCK: an entry used since the last sweep gets
// a second chance) until it is 1/8 below its bounds (and need bytes fit), dropping only
// unpinned entries. When pinned entries alone fill the cache, the changes
// are spilled into Pebble first (a delta of the chain, uploaded with the
// next checkpoint), which unpins them.
func (s *ValueState[T]) evict(need int64) error {
	maxN := s.b.opts.CacheEntries - s.b.opts.CacheEntries/8 - 1
	maxB := min(s.b.opts.CacheBytes-s.b.opts.CacheBytes/8, s.b.opts.CacheBytes-need)
	over := func() bool { return len(s.index) > maxN || s.bytes > maxB }
	for pass := 0; over(); pass++ {
		applied := s.b.applied.Load()
		for n := 0; n < 2*len(s.slots) && over(); n++ {
			h := s.hand
			if s.hand++; s.hand >= len(s.slots) {
				s.hand = 0
			}
			sl := &s.slots[h]
			if !sl.used || sl.epoch > applied {
				continue
			}
			if sl.ref {
				sl.ref = false
				continue
			}
			s.drop(int32(h))
		}
		if !over() || pass > 0 {
			break
		}
		if err := s.b.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func (s *ValueState[T]) drop(i int32) {
	sl := &s.slots[i]
	if sl.present {
		s.live--
	}
	// The key lives on in Pebble only now.
	s.b.dropped = true
	delete(s.index, sl.key)
	s.bytes -= s.overhead + int64(len(sl.key)) + int64(sl.size)
	if s.lastIdx == i {
		s.lastIdx, s.last = -1, ""
	}
	s.slots[i] = vslot[T]{}
	s.free = append(s.free, i)
}

type frozenValues[T any] struct {
	s       *ValueState[T]
	changes []vchange[T]
	live    int
}

// freeze takes over the change log: O(1).
func (s *ValueState[T]) freeze() frozenWrites {
	f := &frozenValues[T]{s: s, changes: s.log, live: s.live}
	if m := s.spare.Swap(nil); m != nil {
		s.log = *m
	} else {
		// Not pre-sized: allocating a big log here would make the
		// synchronous phase grow with the changes again.
		s.log = nil
	}
	return f
}

// collect encodes the frozen changes (asynchronous phase; it touches only
// the taken-over log, never the live cache).
func (f *frozenValues[T]) collect(w *kvs) {
	id := f.s.id
	for i := range f.changes {
		c := &f.changes[i]
		x := kv{k0: len(w.arena)}
		w.arena = append(w.arena, byte(c.kg>>8), byte(c.kg), byte(id>>8), byte(id))
		w.arena = append(w.arena, c.key...)
		x.k1 = len(w.arena)
		if c.present {
			w.arena = f.s.codec.Encode(w.arena, c.v)
			x.set = true
		}
		x.v1 = len(w.arena)
		w.items = append(w.items, x)
	}
	f.release()
}

// release hands the encoded log back to the task for reuse.
func (f *frozenValues[T]) release() {
	clear(f.changes) // drop the keys and values for the collector
	log := f.changes[:0]
	f.changes = nil
	f.s.spare.Store(&log)
}

func (f *frozenValues[T]) len() int { return len(f.changes) }

// writeLog is collect straight into a change log: no arena, no second
// copy (a deferred delta is written in log order anyway).
func (f *frozenValues[T]) writeLog(lw *logWriter) bool {
	id := f.s.id
	prefix := [4]byte{2: byte(id >> 8), 3: byte(id)}
	set := 0
	for i := range f.changes {
		c := &f.changes[i]
		prefix[0], prefix[1] = byte(c.kg>>8), byte(c.kg)
		var v []byte
		if c.present {
			lw.val = f.s.codec.Encode(lw.val[:0], c.v)
			v = lw.val
			set++
		}
		// The key's bytes are only read: no copy.
		lw.add(prefix[:], unsafe.Slice(unsafe.StringData(c.key), len(c.key)), v, c.present)
	}
	f.release()
	// Each key is in the log once, so as many values as live keys means
	// every live key.
	return set == f.live
}

// touch records a key list or map state writes, so that the snapshot
// writes its resulting value into its delta.
func (b *Backend) touch(key []byte) { b.batchKeys.add(key, nil, false) }

// ListState holds a list of byte entries per key. Appends are Pebble merge
// operands (the concatenating merger), so adding never reads.
type ListState struct {
	b    *Backend
	name string
	id   uint16
	kbuf []byte
}

// List registers (or reopens) the list state name.
func List(b *Backend, name string) (*ListState, error) {
	id, err := b.stateID(name)
	if err != nil {
		return nil, err
	}
	if err := b.recordSchema(name, enginefmt.Schema{Kind: enginefmt.KindList, Key: enginefmt.TypeString, Value: enginefmt.TypeBytes}); err != nil {
		return nil, err
	}
	b.listOrMap(id)
	return &ListState{b: b, name: name, id: id}, nil
}

// Add appends v to key's list.
func (s *ListState) Add(key string, v []byte) error {
	s.kbuf = s.b.encodeKey(s.kbuf[:0], s.id, key)
	op := enginefmt.AppendListElement(make([]byte, 0, len(v)+4), v)
	s.b.touch(s.kbuf)
	return s.b.batch.Merge(s.kbuf, op, nil)
}

// Get returns key's list (nil when empty).
func (s *ListState) Get(key string) ([][]byte, error) {
	s.kbuf = s.b.encodeKey(s.kbuf[:0], s.id, key)
	raw, closer, err := s.b.batch.Get(s.kbuf)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	elems, err := enginefmt.SplitList(raw)
	if err != nil {
		return nil, fmt.Errorf("state %s: corrupt list entry: %w", s.name, err)
	}
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = append([]byte(nil), e...)
	}
	return out, nil
}

// Clear empties key's list.
func (s *ListState) Clear(key string) error {
	s.kbuf = s.b.encodeKey(s.kbuf[:0], s.id, key)
	s.b.touch(s.kbuf)
	return s.b.batch.Delete(s.kbuf, nil)
}

// MapState holds a map of byte keys to byte values per key.
type MapState struct {
	b    *Backend
	name string
	id   uint16
	kbuf []byte
}

// Map registers (or reopens) the map state name.
func Map(b *Backend, name string) (*MapState, error) {
	id, err := b.stateID(name)
	if err != nil {
		return nil, err
	}
	if err := b.recordSchema(name, enginefmt.Schema{Kind: enginefmt.KindMap, Key: enginefmt.TypeString, Value: enginefmt.TypeBytes, MapKey: enginefmt.TypeBytes}); err != nil {
		return nil, err
	}
	b.listOrMap(id)
	return &MapState{b: b, name: name, id: id}, nil
}

func (s *MapState) prefix(dst []byte, key string) []byte {
	return enginefmt.AppendMapPrefix(dst, s.b.KeyGroup(key), s.id, key)
}

// Put sets key's entry mk to v.
func (s *MapState) Put(key string, mk, v []byte) error {
	s.kbuf = append(s.prefix(s.kbuf[:0], key), mk...)
	s.b.touch(s.kbuf)
	return s.b.batch.Set(s.kbuf, v, nil)
}

// Get returns key's entry mk.
func (s *MapState) Get(key string, mk []byte) ([]byte, bool, error) {
	s.kbuf = append(s.prefix(s.kbuf[:0], key), mk...)
	raw, closer, err := s.b.batch.Get(s.kbuf)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return append([]byte(nil), raw...), true, nil
}

// Delete removes key's entry mk.
func (s *MapState) Delete(key string, mk []byte) error {
	s.kbuf = append(s.prefix(s.kbuf[:0], key), mk...)
	s.b.touch(s.kbuf)
	return s.b.batch.Delete(s.kbuf, nil)
}

// Range calls fn for each of key's entries in map-key order.
func (s *MapState) Range(key string, fn func(mk, v []byte) error) error {
	p := s.prefix(nil, key)
	it, err := s.b.batch.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key()[len(p):], v); err != nil {
			return err
		}
	}
	return it.Error()
}

// ScanValues calls fn for every key of the value state name in key-group
// order (used to rebuild in-memory indexes, e.g. window timers, on restore).
func ScanValues[T any](s *ValueState[T], fn func(key string, v T) error) error {
	// Everything into Pebble first: then one scan sees all of it.
	if err := s.b.Flush(); err != nil {
		return err
	}
	it, err := s.b.db.NewIter(nil)
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < 4 || binary.BigEndian.Uint16(k) == metaKeyGroup || binary.BigEndian.Uint16(k[2:]) != s.id {
			continue
		}
		raw, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		v, err := s.codec.Decode(raw)
		if err != nil {
			return err
		}
		if err := fn(string(k[4:]), v); err != nil {
			return err
		}
	}
	return it.Error()
}

func prefixEnd(p []byte) []byte { return enginefmt.PrefixEnd(p) }
