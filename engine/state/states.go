package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

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

type vEntry[T any] struct {
	v       T
	present bool
}

// ValueState holds one value per key, behind the write-back cache. Every
// write also lands in the dirty map, which a checkpoint's synchronous phase
// takes over whole (an O(1) swap) and the asynchronous phase writes to
// Pebble; the task never touches a taken-over map again, so the two phases
// share nothing.
type ValueState[T any] struct {
	b     *Backend
	name  string
	id    uint16
	codec Codec[T]
	cache map[string]vEntry[T]
	dirty map[string]vEntry[T]
	// spare is a dirty map the asynchronous phase has written and cleared;
	// reusing it spares the task regrowing a map of a million entries
	// after every checkpoint.
	spare atomic.Pointer[map[string]vEntry[T]]
	kbuf  []byte
}

// Value registers (or reopens) the value state name.
func Value[T any](b *Backend, name string, codec Codec[T]) (*ValueState[T], error) {
	id, err := b.stateID(name)
	if err != nil {
		return nil, err
	}
	s := &ValueState[T]{b: b, name: name, id: id, codec: codec, cache: make(map[string]vEntry[T]), dirty: make(map[string]vEntry[T])}
	b.flush = append(b.flush, s)
	return s, nil
}

// Get returns the value for key and whether there is one.
func (s *ValueState[T]) Get(key string) (T, bool, error) {
	if e, ok := s.cache[key]; ok {
		return e.v, e.present, nil
	}
	var zero T
	s.kbuf = s.b.encodeKey(s.kbuf[:0], s.id, key)
	raw, closer, err := s.b.batch.Get(s.kbuf)
	if errors.Is(err, pebble.ErrNotFound) {
		return zero, false, s.fill(key, vEntry[T]{})
	}
	if err != nil {
		return zero, false, fmt.Errorf("state %s: get: %w", s.name, err)
	}
	v, err := s.codec.Decode(raw)
	closer.Close()
	if err != nil {
		return zero, false, fmt.Errorf("state %s: %w", s.name, err)
	}
	return v, true, s.fill(key, vEntry[T]{v: v, present: true})
}

// fill caches a value read from Pebble (clean).
func (s *ValueState[T]) fill(key string, e vEntry[T]) error {
	if len(s.cache) >= s.b.opts.CacheEntries {
		if err := s.evict(); err != nil {
			return err
		}
	}
	s.cache[key] = e
	return nil
}

// Put sets the value for key.
func (s *ValueState[T]) Put(key string, v T) error {
	return s.put(key, vEntry[T]{v: v, present: true})
}

// Delete removes the value for key.
func (s *ValueState[T]) Delete(key string) error {
	return s.put(key, vEntry[T]{})
}

func (s *ValueState[T]) put(key string, e vEntry[T]) error {
	if _, ok := s.cache[key]; !ok && len(s.cache) >= s.b.opts.CacheEntries {
		if err := s.evict(); err != nil {
			return err
		}
	}
	s.cache[key] = e
	s.dirty[key] = e
	return nil
}

// evict writes the dirty entries back (after a checkpoint still applying
// its own writes) and empties the cache.
func (s *ValueState[T]) evict() error {
	if err := s.b.waitInflight(); err != nil {
		return err
	}
	var w kvs
	s.freeze().collect(&w)
	if err := s.b.applyKVs(&w); err != nil {
		return err
	}
	clear(s.cache)
	return nil
}

type frozenValues[T any] struct {
	s       *ValueState[T]
	entries map[string]vEntry[T]
}

// freeze takes over the dirty map: O(1).
func (s *ValueState[T]) freeze() frozenWrites {
	f := &frozenValues[T]{s: s, entries: s.dirty}
	if m := s.spare.Swap(nil); m != nil {
		s.dirty = *m
	} else {
		// Not pre-sized: allocating a big map here would make the
		// synchronous phase grow with the dirty set again.
		s.dirty = make(map[string]vEntry[T])
	}
	return f
}

// collect encodes the frozen entries (asynchronous phase; it touches only
// the taken-over map, never the live cache).
func (f *frozenValues[T]) collect(w *kvs) {
	if w.items == nil {
		w.items = make([]kv, 0, len(f.entries))
		w.arena = make([]byte, 0, len(f.entries)*32)
	}
	for k, e := range f.entries {
		x := kv{k0: len(w.arena)}
		w.arena = f.s.b.encodeKey(w.arena, f.s.id, k)
		x.k1 = len(w.arena)
		if e.present {
			w.arena = f.s.codec.Encode(w.arena, e.v)
			x.set = true
		}
		x.v1 = len(w.arena)
		w.items = append(w.items, x)
	}
	clear(f.entries) // keeps its tables: handed back for reuse
	m := f.entries
	f.entries = nil
	f.s.spare.Store(&m)
}

// commit writes the pending list/map batch into the database.
func (b *Backend) commit() error {
	if b.batch.Empty() {
		return nil
	}
	if err := b.waitInflight(); err != nil {
		return err
	}
	if err := b.batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("state: commit: %w", err)
	}
	b.batch.Close()
	b.batch = b.db.NewIndexedBatch()
	return nil
}

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
	return &ListState{b: b, name: name, id: id}, nil
}

// Add appends v to key's list.
func (s *ListState) Add(key string, v []byte) error {
	s.kbuf = s.b.encodeKey(s.kbuf[:0], s.id, key)
	op := binary.AppendUvarint(make([]byte, 0, len(v)+4), uint64(len(v)))
	op = append(op, v...)
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
	var out [][]byte
	for len(raw) > 0 {
		n, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < n {
			return nil, fmt.Errorf("state %s: corrupt list entry", s.name)
		}
		out = append(out, append([]byte(nil), raw[k:k+int(n)]...))
		raw = raw[k+int(n):]
	}
	return out, nil
}

// Clear empties key's list.
func (s *ListState) Clear(key string) error {
	s.kbuf = s.b.encodeKey(s.kbuf[:0], s.id, key)
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
	return &MapState{b: b, name: name, id: id}, nil
}

func (s *MapState) prefix(dst []byte, key string) []byte {
	kg := s.b.KeyGroup(key)
	dst = binary.BigEndian.AppendUint16(dst, uint16(kg))
	dst = binary.BigEndian.AppendUint16(dst, s.id)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	return append(dst, key...)
}

// Put sets key's entry mk to v.
func (s *MapState) Put(key string, mk, v []byte) error {
	s.kbuf = append(s.prefix(s.kbuf[:0], key), mk...)
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
	if err := s.evict(); err != nil {
		return err
	}
	it, err := s.b.batch.NewIter(nil)
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

func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
