package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"

	"github.com/golang/snappy"
)

// Entry is one keyed state entry.
type Entry struct {
	State     string `json:"state"`
	KeyGroup  int    `json:"key_group"`
	Key       Value  `json:"key"`
	Namespace Value  `json:"namespace"`
	// UserKey is a MapState entry's map key.
	UserKey Value `json:"user_key,omitempty"`
	Value   Value `json:"value"`
	// Size is the bytes the entry takes in the state files: its key and
	// value as serialized, before any compression (a heap checkpoint's map
	// state counts its whole map on its first entry), summed into a
	// state's bytes.
	Size int64 `json:"-"`
}

// endOfKeyGroup ends a key group's region in the unified format.
const endOfKeyGroup = 0xFFFF

// maxRegion bounds a decompressed key-group region (a corrupt stream must
// not become an unbounded allocation).
const maxRegion = 1 << 30

func decompress(region []byte, file string, base int64) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(snappy.NewReader(bytes.NewReader(region)), maxRegion+1))
	if err != nil {
		return nil, &Error{File: file, Offset: base, Want: "a Snappy framed stream", Err: err}
	}
	if len(out) > maxRegion {
		return nil, &Error{File: file, Offset: base, Want: "a Snappy framed stream", Err: fmt.Errorf("decompresses beyond %d bytes", maxRegion)}
	}
	return out, nil
}

// ReadUnified reads one key group's region of the unified full-snapshot
// format (canonical savepoints of every backend, RocksDB full snapshots):
// region holds the bytes from the key group's offset to the next one's
// (or the end of the file), base is that offset. maxParallelism is the
// operator's, which fixes the key-group prefix width. Entries go to fn in
// file order.
func ReadUnified(p *KeyedProxy, maxParallelism int, kg int, region []byte, file string, base int64, fn func(Entry) error) error {
	return readUnified(p, maxParallelism, kg, region, file, base, nil, "", nil, byValue(fn))
}

// readUnified is ReadUnified giving each entry by pointer: the same Entry,
// rewritten for every entry. a is where the values go: nil, a fresh
// keeping arena for this key group (values stay valid); a reusing arena
// is reset after each entry (ScanKeyed: values valid during fn only).
// only, if set, names the one state whose entries are decoded (the
// others' are skipped undecoded); keep, if set, sees each entry's state
// and key bytes (prefix included) first, and only the entries it keeps
// are decoded and go to fn.
func readUnified(p *KeyedProxy, maxParallelism int, kg int, region []byte, file string, base int64, a *arena, only string, keep func(pl *entryPlan, prefix int, key []byte) bool, fn func(*Entry) error) error {
	b := region
	if p.Compression {
		var err error
		if b, err = decompress(region, file, base); err != nil {
			return err
		}
		base = -1 // offsets inside a decompressed stream are not file offsets
	}
	d := newDecoder(b, file, max(base, 0))
	prefix := 1
	if maxParallelism > 128 {
		prefix = 2
	}
	sid, err := d.u16(fmt.Sprintf("key group %d: state id", kg))
	if err != nil {
		return err
	}
	plans := make([]*entryPlan, len(p.States))
	if a == nil {
		a = new(arena)
	}
	var e Entry
	for {
		if int(sid) >= len(p.States) {
			return d.errf(d.pos-2, "state id", "%d, but the proxy has %d states", sid, len(p.States))
		}
		pl := plans[sid]
		if pl == nil {
			pl = newEntryPlan(p, p.States[sid])
			pl.a = a
			pl.skip = only != "" && pl.m.Name != only
			plans[sid] = pl
		}
		// An entry: i32 key length, key, i32 value length, value. Read
		// inline: this loop runs once per entry of a full scan.
		kat := d.pos
		if d.left() < 4 {
			return d.errf(d.pos, "key length", "%w: 4 bytes needed, %d left", ErrTruncated, d.left())
		}
		kl := int(int32(binary.BigEndian.Uint32(d.b[d.pos:])))
		if kl < 0 || kl > d.left()-4 {
			if _, err = d.count("key length", 1); err == nil {
				err = d.errf(d.pos, "key", "%w: %d bytes", ErrTruncated, kl)
			}
			return err
		}
		d.pos += 4
		key := d.b[d.pos : d.pos+kl : d.pos+kl]
		d.pos += kl
		if d.left() < 4 {
			return d.errf(d.pos, "value length", "%w: 4 bytes needed, %d left", ErrTruncated, d.left())
		}
		vl := int(int32(binary.BigEndian.Uint32(d.b[d.pos:])))
		if vl < 0 || vl > d.left()-4 {
			if vl, err = d.count("value length", 0); err == nil {
				if _, err = d.take(vl, "value"); err == nil {
					err = d.errf(d.pos, "value", "%w: %d bytes", ErrTruncated, vl)
				}
			}
			return err
		}
		d.pos += 4
		vat := d.offset()
		val := d.b[d.pos : d.pos+vl : d.pos+vl]
		d.pos += vl
		if kl == 0 {
			return d.errf(kat+4, "key", "empty key")
		}
		// The first key byte's top bit marks the state's last entry in
		// this key group; the prefix is read without it (the region's
		// bytes stay as they are).
		last := key[0]&0x80 != 0
		if !pl.skip && (keep == nil || keep(pl, prefix, key)) {
			if err := planEntry(pl, prefix, key, val, file, d.base+int64(kat)+4, vat, &e); err != nil {
				return err
			}
			if e.KeyGroup != kg {
				return d.errf(kat, "key", "key group prefix %d in key group %d's region", e.KeyGroup, kg)
			}
			err := fn(&e)
			if a.reuse {
				a.reset()
			}
			if err != nil {
				return err
			}
		}
		if !last {
			continue
		}
		if sid, err = d.u16("next state id"); err != nil {
			return err
		}
		if sid == endOfKeyGroup {
			return nil
		}
	}
}

// ReadKey calls fn for the entries of one key of operator op's keyed
// state named state ("" = every state) — ckpt state --key. Only the key
// group Flink assigns the key to is read; in a canonical savepoint only
// the entries of that key are decoded (the others' keys are compared and
// skipped), elsewhere the key group's entries are decoded and filtered.
func ReadKey(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, state string, key Value, fn func(Entry) error) error {
	kg, err := KeyGroup(key, int(op.MaxParallelism))
	if err != nil {
		return err
	}
	want := func(e Entry) error {
		if !SameKey(e.Key, key) {
			return nil
		}
		return fn(e)
	}
	for _, st := range op.Subtasks {
		h, ok := st.ManagedKeyedState.(*snapshot.KeyGroupsHandle)
		if !ok || h.Variant != snapshot.TagSavepointKeyGroups || !h.Range.Contains(int32(kg)) {
			continue
		}
		// A canonical savepoint: the unified format, one region per key group.
		i := kg - int(h.Range.Start)
		if i < 0 || i >= len(h.Offsets) {
			break
		}
		o := h.Offsets[i]
		if o == 0 {
			return nil // the key group is empty
		}
		s, err := openStream(ctx, fsys, m, h.Delegate)
		if err != nil {
			return err
		}
		defer s.Close()
		p, err := keyGroupsProxy(s, h)
		if err != nil {
			return err
		}
		end := s.size
		for _, x := range h.Offsets {
			if x > o && x < end {
				end = x
			}
		}
		region, err := s.read(o, end)
		if err != nil {
			return err
		}
		keep := func(pl *entryPlan, prefix int, k []byte) bool {
			if state != "" && pl.m.Name != state {
				return false
			}
			if !pl.keyNSDec || pl.m.Type == PriorityQueue {
				return true // decoded whole, then compared
			}
			kd := decoder{b: k[prefix:], file: s.name}
			v, ok := kd.fast(p.Key, 0)
			return !ok || sameKey(v, key) // an unreadable key: decoded whole, naming the error
		}
		return readUnified(p, int(op.MaxParallelism), kg, region, s.name, o, nil, state, keep, func(e *Entry) error {
			if state != "" && e.State != state {
				return nil
			}
			return want(*e)
		})
	}
	return ReadKeyGroup(ctx, fsys, m, op, state, kg, want)
}

// sameKey is SameKey, quick for the usual key types.
func sameKey(a, b Value) bool {
	switch x := a.(type) {
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int32:
		y, ok := b.(int32)
		return ok && x == y
	}
	return SameKey(a, b)
}

// entryPlan is what every entry of one state needs, worked out once per
// key group: the serializers, whether they decode, the state's kind.
type entryPlan struct {
	p         *KeyedProxy
	m         *Meta
	kind      string
	ns, vs    *Type
	keyNSDec  bool // key and namespace both decodable
	ambiguous bool // both of variable length: each carries a length suffix
	valDec    bool
	skip      bool   // another state than the one asked for: not decoded
	a         *arena // where the entries' values go (nil: plain boxing)
}

func newEntryPlan(p *KeyedProxy, m *Meta) *entryPlan {
	pl := &entryPlan{p: p, m: m, kind: m.Kind(), ns: m.Serializers[RoleNamespace], vs: m.Serializers[RoleValue]}
	pl.keyNSDec = p.Key.Decodable() && pl.ns.Decodable()
	pl.ambiguous = pl.keyNSDec && p.Key.FixedLength() < 0 && pl.ns.FixedLength() < 0
	pl.valDec = pl.vs.Decodable()
	return pl
}

// unifiedEntry splits a composite key and decodes the value by the
// state's kind.
func unifiedEntry(p *KeyedProxy, m *Meta, prefix int, key, val []byte, file string, koff, voff int64) (Entry, error) {
	var e Entry
	err := planEntry(newEntryPlan(p, m), prefix, key, val, file, koff, voff, &e)
	return e, err
}

// planEntry is unifiedEntry with the state's plan worked out, decoding
// into *e (every field rewritten).
func planEntry(pl *entryPlan, prefix int, key, val []byte, file string, koff, voff int64, e *Entry) error {
	m, p := pl.m, pl.p
	*e = Entry{State: m.Name, Size: int64(len(key) + len(val))}
	kd := decoder{b: key, file: file, base: koff, a: pl.a}
	g, err := kd.take(prefix, "key-group prefix")
	if err != nil {
		return err
	}
	e.KeyGroup = int(g[0] &^ 0x80)
	if prefix == 2 {
		e.KeyGroup = int(g[0]&^0x80)<<8 | int(g[1])
	}
	vs := pl.vs
	if m.Type == PriorityQueue {
		// The element is the key; the value is empty.
		if e.Value, err = rest(&kd, vs, "timer"); err != nil {
			return err
		}
		if t, ok := e.Value.(Timer); ok {
			e.Key, e.Namespace = t.Key, t.Namespace
		}
		return nil
	}
	ns := pl.ns
	if !pl.keyNSDec {
		e.Key = rawOf(p.Key, key[prefix:])
	} else {
		start := kd.pos
		var ok bool
		if e.Key, ok = kd.fast(p.Key, 0); !ok || slowOnly {
			kd.pos = start
			if e.Key, err = kd.value(p.Key, "key", 0); err != nil {
				return err
			}
		}
		if pl.ambiguous {
			if err := kd.lengthSuffix(kd.pos-start, "key length suffix"); err != nil {
				return err
			}
		}
		start = kd.pos
		if e.Namespace, ok = kd.fast(ns, 0); !ok || slowOnly {
			kd.pos = start
			if e.Namespace, err = kd.value(ns, "namespace", 0); err != nil {
				return err
			}
		}
		if pl.ambiguous {
			if err := kd.lengthSuffix(kd.pos-start, "namespace length suffix"); err != nil {
				return err
			}
		}
	}
	vd := decoder{b: val, file: file, base: voff, a: pl.a}
	switch pl.kind {
	case "MAP":
		if vs == nil || vs.Kind != KindMap {
			return vd.errf(0, "map state", "value serializer is %s, not a Map", vs)
		}
		if e.UserKey, err = rest(&kd, vs.Key, "map key"); err != nil {
			return err
		}
		null, err := vd.boolean("map value null flag")
		if err != nil {
			return err
		}
		if !null {
			e.Value, err = rest(&vd, vs.Value, "map value")
		}
		return err
	case "LIST":
		if vs == nil || vs.Kind != KindList {
			return vd.errf(0, "list state", "value serializer is %s, not a List", vs)
		}
		e.Value, err = delimitedList(&vd, vs.Elem)
		return err
	}
	if kd.left() != 0 && pl.keyNSDec {
		return kd.errf(kd.pos, "end of key", "%d bytes left", kd.left())
	}
	if vs == nil {
		return &Error{File: file, Offset: voff, Want: "value", Err: fmt.Errorf("no serializer")}
	}
	if !pl.valDec {
		e.Value = rawOf(vs, val)
		return nil
	}
	var ok bool
	if e.Value, ok = vd.fast(vs, 0); !ok || slowOnly {
		vd.pos = 0
		if e.Value, err = vd.value(vs, "value", 0); err != nil {
			return err
		}
	}
	if vd.left() != 0 {
		return vd.errf(vd.pos, "end of value", "%d bytes left after a %s", vd.left(), vs)
	}
	return nil
}

// rest decodes the rest of d as one value of t (Raw for undecodable types).
func rest(d *decoder, t *Type, want string) (Value, error) {
	b := d.b[d.pos:]
	at := d.offset()
	d.pos = len(d.b)
	if t == nil {
		return nil, &Error{File: d.file, Offset: at, Want: want, Err: fmt.Errorf("no serializer")}
	}
	return DecodeValue(t, b, d.file, at)
}

// delimitedList reads list state in the unified format: elements joined
// by one ',' byte, no count.
func delimitedList(d *decoder, elem *Type) (Value, error) {
	if !elem.Decodable() {
		return rawOf(elem, d.b[d.pos:]), nil
	}
	var out []any
	for d.left() > 0 {
		if len(out) > 0 {
			at := d.pos
			c, err := d.u8("list delimiter")
			if err != nil {
				return nil, err
			}
			if c != ',' {
				return nil, d.errf(at, "list delimiter ','", "byte %#02x", c)
			}
		}
		v, err := d.value(elem, "list element", 0)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// lengthSuffix checks a composite key's length suffix after a field of n
// bytes: n's bytes, low first, as many as it needs (at least one).
func (d *decoder) lengthSuffix(n int, want string) error {
	v := n
	for {
		at := d.pos
		c, err := d.u8(want)
		if err != nil {
			return err
		}
		if c != byte(v) {
			return d.errf(at, want, "byte %#02x, but the field before it is %d bytes long", c, n)
		}
		if v >>= 8; v == 0 {
			return nil
		}
	}
}

// ReadHeap reads one key group of the heap backend's checkpoint format
// (also heap native savepoints and ≤ 1.12 savepoints): i32 key group, then
// per state a block of (i16 state id, i32 count, entries), namespace
// before key, values in their full serializer form. A map state's map
// comes out as one entry per map key (UserKey), as ReadUnified gives it.
func ReadHeap(p *KeyedProxy, kg int, region []byte, file string, base int64, fn func(Entry) error) error {
	d := newDecoder(region, file, base)
	at := d.pos
	g, err := d.i32("key group id")
	if err != nil {
		return err
	}
	if int(g) != kg {
		return d.errf(at, "key group id", "%d, want %d", g, kg)
	}
	if p.Compression {
		b, err := decompress(region[4:], file, base+4)
		if err != nil {
			return err
		}
		d = newDecoder(b, file, 0)
	}
	for range len(p.States) {
		at := d.pos
		sid, err := d.u16("state id")
		if err != nil {
			return err
		}
		if int(sid) >= len(p.States) {
			return d.errf(at, "state id", "%d, but the proxy has %d states", sid, len(p.States))
		}
		m := p.States[sid]
		n, err := d.count(fmt.Sprintf("state %q entry count", m.Name), 1)
		if err != nil {
			return err
		}
		for range n {
			at := d.pos
			e := Entry{State: m.Name, KeyGroup: kg}
			if m.Type == PriorityQueue {
				if e.Value, err = d.value(m.Serializers[RoleValue], "timer", 0); err != nil {
					return err
				}
				if t, ok := e.Value.(Timer); ok {
					e.Key, e.Namespace = t.Key, t.Namespace
				}
			} else {
				if e.Namespace, err = d.value(m.Serializers[RoleNamespace], "namespace", 0); err != nil {
					return err
				}
				if e.Key, err = d.value(p.Key, "key", 0); err != nil {
					return err
				}
				if e.Value, err = d.value(m.Serializers[RoleValue], "value", 0); err != nil {
					return err
				}
				// The heap format writes a map state's whole map; the unified
				// format one entry per map key. ckpt gives map state the same
				// shape from both: one entry per map key, in UserKey.
				e.Size = int64(d.pos - at)
				if es, ok := e.Value.([]MapEntry); ok && m.Kind() == "MAP" {
					for i, me := range es {
						x := e
						x.UserKey, x.Value = me.Key, me.Value
						if i > 0 {
							x.Size = 0 // the map's bytes count once
						}
						if err := fn(x); err != nil {
							return err
						}
					}
					continue
				}
			}
			e.Size = int64(d.pos - at)
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	if d.left() != 0 {
		return d.errf(d.pos, "end of key group", "%d bytes left", d.left())
	}
	return nil
}
