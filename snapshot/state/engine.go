package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/ckpt-dev/ckpt/storage"
)

// ckpt's embedded engine writes its keyed state in its own format
// (snapshot/enginefmt): a native snapshot is a chain of Pebble tables and
// change logs under an incremental handle whose meta stream is
// "ckpt-pebble-…"; a canonical savepoint is one key-group stream per
// subtask ("….kg"). Both record the state names; snapshots written since
// the engine records schemas also say each state's kind and types.

// Keyed formats of the engine's state.
const (
	FormatEngineNative    = "ckpt engine: Pebble tables and change logs (native savepoint or incremental checkpoint)"
	FormatEngineCanonical = "ckpt engine: key-group stream (canonical savepoint)"
)

// IsEngineFormat reports whether a keyed format (OperatorSchema.KeyedFormat)
// is ckpt's engine's: its keys are placed by the engine's hash
// (EngineKeyGroup), not Java's hashCode.
func IsEngineFormat(format string) bool { return strings.HasPrefix(format, "ckpt engine") }

// KindEngineWindows is the engine's window-count state: the open windows
// of a key, each its start (ms) and count.
const KindEngineWindows Kind = "Windows(start, count)"

// EngineWindow is one open window of the engine's window-count state.
type EngineWindow struct {
	Start int64 `json:"start"`
	Count int64 `json:"count"`
}

// typesNotRecorded names the type of a state whose snapshot predates the
// engine's schemas: its values are shown raw.
const typesNotRecorded = "types not recorded"

// StateStats are a state's entries and bytes (keys and values as stored).
type StateStats struct {
	Name    string `json:"name"`
	Entries int64  `json:"entries"`
	Bytes   int64  `json:"bytes"`
}

// EngineKeyGroup is the key group the engine puts a key in.
func EngineKeyGroup(key string, maxParallelism int) (int, error) {
	if maxParallelism <= 0 {
		return 0, fmt.Errorf("max parallelism %d", maxParallelism)
	}
	return enginefmt.KeyGroupOf(key, maxParallelism), nil
}

// KeyGroupIn is the key group of key in a keyed state of format: the
// engine's hash for ckpt's engine, Flink's otherwise.
func KeyGroupIn(format string, key Value, maxParallelism int) (int, error) {
	if IsEngineFormat(format) {
		s, ok := key.(string)
		if !ok {
			return 0, fmt.Errorf("the engine's keys are strings, not %T", key)
		}
		return EngineKeyGroup(s, maxParallelism)
	}
	return KeyGroup(key, maxParallelism)
}

// engineType is the Type of an engine schema's type name ("" : not
// recorded).
func engineType(name string) *Type {
	t := &Type{Snapshot: "ckpt engine " + name}
	switch name {
	case enginefmt.TypeInt64:
		t.Kind = KindLong
	case enginefmt.TypeString:
		t.Kind = KindString
	case enginefmt.TypeBytes:
		t.Kind = KindBytes
	case enginefmt.TypeWindowCounts:
		t.Kind = KindEngineWindows
	case "":
		t.Kind, t.Snapshot = Kind(typesNotRecorded), typesNotRecorded
	default:
		t.Kind = Kind(name + " (unknown to this ckpt)")
	}
	return t
}

// engineMeta is one engine state as a Meta: its kind and types (or "types
// not recorded").
func engineMeta(name string, enc []byte) *Meta {
	m := &Meta{Name: name, Type: KeyValue, Options: map[string]string{}, Serializers: map[string]*Type{}}
	if enc == nil {
		m.Options[OptionKeyedStateType] = "? (" + typesNotRecorded + ")"
		m.Serializers[RoleValue] = engineType("")
		return m
	}
	s, err := enginefmt.DecodeSchema(enc)
	if err != nil {
		m.Options[OptionKeyedStateType] = "? (" + err.Error() + ")"
		m.Serializers[RoleValue] = engineType("")
		return m
	}
	m.Options[OptionKeyedStateType] = s.Kind
	switch s.Kind {
	case enginefmt.KindList:
		m.Serializers[RoleValue] = &Type{Kind: KindList, Snapshot: "ckpt engine list", Elem: engineType(s.Value)}
	case enginefmt.KindMap:
		m.Serializers[RoleValue] = &Type{Kind: KindMap, Snapshot: "ckpt engine map", Key: engineType(s.MapKey), Value: engineType(s.Value)}
	default:
		m.Serializers[RoleValue] = engineType(s.Value)
	}
	return m
}

// engineValue decodes a stored value of type t (an engine type).
func engineValue(t *Type, b []byte) Value {
	switch t.Kind {
	case KindLong:
		if len(b) == 8 {
			return int64(binary.BigEndian.Uint64(b))
		}
	case KindString:
		return string(b)
	case KindEngineWindows:
		if len(b)%16 == 0 {
			ws := make([]EngineWindow, 0, len(b)/16)
			for i := 0; i < len(b); i += 16 {
				ws = append(ws, EngineWindow{Start: int64(binary.BigEndian.Uint64(b[i:])), Count: int64(binary.BigEndian.Uint64(b[i+8:]))})
			}
			return ws
		}
	}
	return rawOf(t, b)
}

// engineDecoder turns stored entries of one subtask into Entries.
type engineDecoder struct {
	metas map[string]*Meta
}

func (d *engineDecoder) meta(name string) *Meta {
	m, ok := d.metas[name]
	if !ok {
		m = engineMeta(name, nil)
		d.metas[name] = m
	}
	return m
}

// entry decodes one stored entry: user is the key after key group and
// state id.
func (d *engineDecoder) entry(name string, kg int, user, value []byte) Entry {
	m := d.meta(name)
	vt := m.Serializers[RoleValue]
	// Size as StateStats counts it: key and value as stored.
	e := Entry{State: name, KeyGroup: kg, Key: string(user), Size: int64(len(user) + len(value))}
	switch m.Kind() {
	case enginefmt.KindList:
		elems, err := enginefmt.SplitList(value)
		if err != nil {
			e.Value = rawOf(vt, value)
			break
		}
		vs := make([]Value, len(elems))
		for i, el := range elems {
			vs[i] = engineValue(vt.Elem, el)
		}
		e.Value = vs
	case enginefmt.KindMap:
		k, mk, ok := enginefmt.SplitMapKey(user)
		if !ok {
			e.Value = rawOf(vt, value)
			break
		}
		e.Key, e.UserKey, e.Value = string(k), engineValue(vt.Key, mk), engineValue(vt.Value, value)
	default:
		e.Value = engineValue(vt, value)
	}
	return e
}

// isEngineKeyed reports whether a keyed handle holds the engine's state,
// reading at most a meta stream (inline in _metadata).
func isEngineKeyed(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, h snapshot.KeyedHandle) bool {
	switch h := h.(type) {
	case *snapshot.IncrementalHandle:
		b, ok := h.Meta.(*snapshot.ByteStreamHandle)
		return ok && enginefmt.IsMeta(b.Data)
	case *snapshot.KeyGroupsHandle:
		if h.Variant != snapshot.TagSavepointKeyGroups {
			return false
		}
		uri, ok, _ := m.FileURI(h.Delegate)
		return ok && strings.HasSuffix(uri, enginefmt.CanonicalSuffix)
	}
	return false
}

// engineSubtask is one subtask's keyed state in the engine's format.
type engineSubtask interface {
	// schemas: every state the subtask registered, its encoded schema (nil:
	// not recorded).
	schemas() map[string][]byte
	// scan calls fn for the stored entries of key group kg (-1: all), in
	// key order within each key group.
	scan(ctx context.Context, kg int, fn func(state string, kg int, user, value []byte) error) error
	Close() error
}

func openEngine(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, h snapshot.KeyedHandle) (engineSubtask, string, error) {
	switch h := h.(type) {
	case *snapshot.IncrementalHandle:
		n, err := openNative(ctx, fsys, m, h)
		return n, FormatEngineNative, err
	case *snapshot.KeyGroupsHandle:
		c, err := openCanonical(ctx, fsys, m, h)
		return c, FormatEngineCanonical, err
	}
	return nil, "", fmt.Errorf("%w: engine keyed handle %T", ErrUnsupported, h)
}

// readEngineSchema reads the engine state of op: every subtask's states
// (a state may be registered by some subtasks only) and, with stats, every
// state's entries and bytes (a full scan, streaming).
func readEngineSchema(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, op *snapshot.OperatorState, withStats bool) (_ *KeyedProxy, _ string, _ []StateStats, err error) {
	defer recoverPebble(&err)
	schemas := map[string][]byte{}
	stats := map[string]*StateStats{}
	var format string
	for _, st := range op.Subtasks {
		if st.ManagedKeyedState == nil {
			continue
		}
		sub, f, err := openEngine(ctx, fsys, m, st.ManagedKeyedState)
		if err != nil {
			return nil, f, nil, err
		}
		format = f
		for n, enc := range sub.schemas() {
			if schemas[n] == nil {
				schemas[n] = enc
			}
			if stats[n] == nil {
				stats[n] = &StateStats{Name: n}
			}
		}
		if withStats {
			err = sub.scan(ctx, -1, func(state string, _ int, user, value []byte) error {
				s := stats[state]
				if s == nil {
					s = &StateStats{Name: state}
					stats[state] = s
					if _, ok := schemas[state]; !ok {
						schemas[state] = nil
					}
				}
				s.Entries++
				s.Bytes += int64(len(user) + len(value))
				return nil
			})
		}
		sub.Close()
		if err != nil {
			return nil, format, nil, err
		}
	}
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	p := &KeyedProxy{Key: engineType(enginefmt.TypeString)}
	var out []StateStats
	for _, n := range names {
		p.States = append(p.States, engineMeta(n, schemas[n]))
		if withStats {
			out = append(out, *stats[n])
		}
	}
	return p, format, out, nil
}

// readEngineKeyed calls fn for the entries of state ("" : all) of one
// engine subtask, key group only (-1: all).
func readEngineKeyed(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, h snapshot.KeyedHandle, state string, only int, fn func(Entry) error) (err error) {
	defer recoverPebble(&err)
	sub, _, err := openEngine(ctx, fsys, m, h)
	if err != nil {
		return err
	}
	defer sub.Close()
	d := &engineDecoder{metas: map[string]*Meta{}}
	for n, enc := range sub.schemas() {
		d.metas[n] = engineMeta(n, enc)
	}
	return sub.scan(ctx, only, func(name string, kg int, user, value []byte) error {
		if state != "" && name != state {
			return nil
		}
		return fn(d.entry(name, kg, user, value))
	})
}

// Canonical savepoint streams.

type canonicalSubtask struct {
	s      *stream
	h      *snapshot.KeyGroupsHandle
	end    int64    // where the key groups end (the checksums follow)
	crcs   []uint32 // per key group; nil: the stream records none
	header map[string][]byte
	names  map[string]bool
}

func openCanonical(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, h *snapshot.KeyGroupsHandle) (*canonicalSubtask, error) {
	if len(h.Offsets) != int(h.Range.Count) {
		return nil, fmt.Errorf("canonical engine savepoint handle: %d offsets for %d key groups", len(h.Offsets), h.Range.Count)
	}
	s, err := openStream(ctx, fsys, m, h.Delegate)
	if err != nil {
		return nil, err
	}
	c := &canonicalSubtask{s: s, h: h, end: s.size, header: map[string][]byte{}}
	fail := func(err error) (*canonicalSubtask, error) {
		s.Close()
		return nil, err
	}
	if strings.HasSuffix(s.name, enginefmt.CanonicalSuffix) {
		n := int64(enginefmt.GroupSumsLen(len(h.Offsets)))
		tail, err := s.read(max(0, s.size-n), s.size)
		if err != nil {
			return fail(err)
		}
		crcs, streamLen, err := enginefmt.ParseGroupSums(tail, len(h.Offsets), s.size)
		if err != nil {
			return fail(&Error{File: s.name, Offset: max(0, s.size-n), Want: "the key groups' checksums", Err: err})
		}
		c.crcs, c.end = crcs, streamLen
	}
	for i, o := range h.Offsets {
		if o < 0 || o > c.end || (i > 0 && o < h.Offsets[i-1]) {
			return fail(&Error{File: s.name, Offset: o, Want: fmt.Sprintf("key group %d", int(h.Range.Start)+i), Err: fmt.Errorf("%w: offset outside the %d-byte stream or out of order", ErrTruncated, c.end)})
		}
	}
	// The schemas lead the first key group.
	if len(h.Offsets) > 0 {
		err := c.group(0, func(name, key, value []byte) error {
			if string(name) == enginefmt.SchemaState {
				c.header[string(key)] = append([]byte(nil), value...)
			}
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	return c, nil
}

func (c *canonicalSubtask) Close() error { return c.s.Close() }

// schemas are those leading the first key group; states without one (older savepoints)
// are found by scanning.
func (c *canonicalSubtask) schemas() map[string][]byte { return c.header }

func (c *canonicalSubtask) scan(ctx context.Context, only int, fn func(state string, kg int, user, value []byte) error) error {
	for i := range c.h.Offsets {
		kg := int(c.h.Range.Start) + i
		if only >= 0 && kg != only {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := c.group(i, func(name, key, value []byte) error {
			if string(name) == enginefmt.SchemaState {
				return nil
			}
			return fn(string(name), kg, key, value)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// group reads the i-th key group of the handle, verifies its checksum and
// calls fn for its entries.
func (c *canonicalSubtask) group(i int, fn func(name, key, value []byte) error) error {
	o, kg := c.h.Offsets[i], int(c.h.Range.Start)+i
	end := c.end
	if i+1 < len(c.h.Offsets) {
		end = c.h.Offsets[i+1]
	}
	region, err := c.s.read(o, end)
	if err != nil {
		return err
	}
	if c.crcs != nil {
		if got := enginefmt.Checksum(region); got != c.crcs[i] {
			return &Error{File: c.s.name, Offset: o, Want: fmt.Sprintf("key group %d (bytes %d to %d)", kg, o, end),
				Err: fmt.Errorf("corrupt: CRC-32C %08x, the stream records %08x", got, c.crcs[i])}
		}
	}
	_, err = enginefmt.DecodeGroup(region, fn)
	var ge *enginefmt.GroupError
	if errors.As(err, &ge) {
		return &Error{File: c.s.name, Offset: o + ge.Offset, Want: fmt.Sprintf("an entry of key group %d", kg), Err: errors.New(ge.Why)}
	}
	return err
}

// Native snapshots: a chain of Pebble tables and change logs.

type nativeSubtask struct {
	db    *pebble.DB
	names map[uint16]string
	enc   map[string][]byte
	// tables: Pebble's file number of every table → the file in storage,
	// so an error Pebble reports about a table names the snapshot's file.
	tables map[string]string
}

// maxSmallFile bounds the private files read whole (MANIFEST, OPTIONS,
// markers, chain and checksum files: kilobytes in practice).
const maxSmallFile = 64 << 20

// maxChangeLog bounds a change log, which is read whole to sort it.
const maxChangeLog = 4 << 30

const nativeDir, ingestDir = "/db", "/in"

func openNative(ctx context.Context, fsys storage.FS, m *snapshot.Metadata, h *snapshot.IncrementalHandle) (n *nativeSubtask, err error) {
	rfs := newRemoteFS(ctx, fsys)
	for _, d := range []string{nativeDir, ingestDir} {
		if err := rfs.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	files := map[string]remoteFile{}
	var chain []byte
	base := false
	for _, group := range [][]snapshot.NamedHandle{h.Shared, h.Private} {
		for _, f := range group {
			local := path.Base(f.LocalName)
			if local != f.LocalName || local == "." || local == "/" {
				return nil, fmt.Errorf("engine snapshot file named %q: not a plain file name", f.LocalName)
			}
			uri, ok, err := m.FileURI(f.Handle)
			if err != nil {
				return nil, err
			}
			if !ok {
				// Inline bytes (small files may live in _metadata).
				s, err := openStream(ctx, fsys, m, f.Handle)
				if err != nil {
					return nil, err
				}
				b, err := s.head(0)
				s.Close()
				if err != nil {
					return nil, err
				}
				if err := writeMem(rfs, path.Join(nativeDir, local), b); err != nil {
					return nil, err
				}
				continue
			}
			size := f.Handle.StateSize()
			files[local] = remoteFile{uri: uri, size: size}
			switch {
			case local == enginefmt.ChainFile:
				if chain, err = readSmall(ctx, fsys, uri); err != nil {
					return nil, err
				}
			case strings.HasPrefix(local, "delta-"):
				rfs.add(path.Join(ingestDir, local), remoteFile{uri: uri, size: size})
			case strings.HasSuffix(local, ".sst") || strings.HasSuffix(local, ".blob"):
				rfs.add(path.Join(nativeDir, local), remoteFile{uri: uri, size: size})
			case local == enginefmt.SumsFile, local == "LOCK", strings.HasSuffix(local, ".log"):
			default:
				b, err := readSmall(ctx, fsys, uri)
				if err != nil {
					return nil, err
				}
				if err := writeMem(rfs, path.Join(nativeDir, local), b); err != nil {
					return nil, err
				}
				if strings.HasPrefix(local, "MANIFEST-") {
					base = true
				}
			}
		}
	}
	var deltas []enginefmt.Delta
	if chain != nil {
		if deltas, err = enginefmt.ParseChain(chain); err != nil {
			return nil, fmt.Errorf("%s (%s): %w", files[enginefmt.ChainFile].uri, enginefmt.ChainFile, err)
		}
	}
	n = &nativeSubtask{names: map[uint16]string{}, enc: map[string][]byte{}, tables: map[string]string{}}
	for local, f := range files {
		if strings.HasSuffix(local, ".sst") && !strings.HasPrefix(local, "delta-") {
			n.tables[strings.TrimSuffix(local, ".sst")] = f.uri
		}
	}
	o := &pebble.Options{
		FS:                          rfs,
		DisableWAL:                  true,
		Merger:                      pebble.DefaultMerger,
		DisableAutomaticCompactions: true,
		Logger:                      quietLogger{},
	}
	cache := pebble.NewCache(8 << 20)
	defer cache.Unref()
	o.Cache = cache
	o.EnsureDefaults()
	_ = base
	db, err := pebble.Open(nativeDir, o)
	if err != nil {
		return nil, n.named(fmt.Errorf("open the engine snapshot's base: %w", err))
	}
	n.db = db
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	wopts := o.MakeWriterOptions(0, db.FormatMajorVersion().MaxTableFormat())
	wopts.Compression = sstable.NoCompression
	for _, d := range deltas {
		f, ok := files[d.Name]
		if !ok {
			return nil, fmt.Errorf("%s names %s, which the snapshot's handle does not list", files[enginefmt.ChainFile].uri, d.Name)
		}
		src := path.Join(ingestDir, d.Name)
		if enginefmt.IsLog(d.Name) {
			src += ".sst"
			if err := logTable(ctx, fsys, rfs, f, src, wopts); err != nil {
				return nil, err
			}
		}
		before := n.tableNums()
		if err := db.Ingest(ctx, []string{src}); err != nil {
			return nil, fmt.Errorf("%s: ingesting the engine's delta %s (Pebble names a block by byte offset/length): %w", f.uri, d.Name, err)
		}
		for num := range n.tableNums() {
			if !before[num] {
				n.tables[num] = f.uri
			}
		}
	}
	if err := n.loadRegistry(); err != nil {
		return nil, n.named(err)
	}
	return n, nil
}

func writeMem(rfs *remoteFS, name string, b []byte) error {
	f, err := rfs.FS.Create(name, "")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readSmall(ctx context.Context, fsys storage.FS, uri string) ([]byte, error) {
	f, err := fsys.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Size() > maxSmallFile {
		return nil, &Error{File: uri, Want: "a small private file of an engine snapshot", Err: fmt.Errorf("%d bytes, more than ckpt reads whole (%d)", f.Size(), maxSmallFile)}
	}
	b := make([]byte, f.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{File: uri, Want: "file bytes", Err: err}
	}
	return b, nil
}

// logTable reads a change log, sorts its writes (the last write of a key
// wins) and writes them as a table at dst in the in-memory file system:
// a change log is unsorted, so it is the one file read whole.
func logTable(ctx context.Context, fsys storage.FS, rfs *remoteFS, f remoteFile, dst string, wopts sstable.WriterOptions) error {
	sf, err := fsys.Open(ctx, f.uri)
	if err != nil {
		return err
	}
	size := sf.Size()
	if size > maxChangeLog {
		sf.Close()
		return &Error{File: f.uri, Want: "a ckpt change log", Err: fmt.Errorf("%d bytes, more than ckpt reads whole (%d)", size, int64(maxChangeLog))}
	}
	raw := make([]byte, size)
	_, err = sf.ReadAt(raw, 0)
	sf.Close()
	if err != nil && !errors.Is(err, io.EOF) {
		return &Error{File: f.uri, Want: "a ckpt change log", Err: err}
	}
	type write struct {
		k, v []byte
		set  bool
	}
	var ws []write
	err = enginefmt.DecodeLog(raw, func(k, v []byte, set bool) { ws = append(ws, write{k, v, set}) })
	var le *enginefmt.LogError
	if errors.As(err, &le) {
		return &Error{File: f.uri, Offset: le.Offset, Want: "a ckpt change log", Err: errors.New(le.Why)}
	}
	if err != nil {
		return err
	}
	sort.SliceStable(ws, func(i, j int) bool { return bytes.Compare(ws[i].k, ws[j].k) < 0 })
	out, err := rfs.FS.Create(dst, "")
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(out), wopts)
	for i, x := range ws {
		if i+1 < len(ws) && bytes.Equal(x.k, ws[i+1].k) {
			continue // a later write of the key follows
		}
		if x.set {
			err = w.Set(x.k, x.v)
		} else {
			err = w.Delete(x.k)
		}
		if err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

func (n *nativeSubtask) tableNums() map[string]bool {
	out := map[string]bool{}
	levels, err := n.db.SSTables()
	if err != nil {
		return out
	}
	for _, l := range levels {
		for _, t := range l {
			out[fmt.Sprintf("%06d", t.FileNum)] = true
		}
	}
	return out
}

var tableNum = regexp.MustCompile(`\b\d{6,}\b`)

// named adds to an error from Pebble which snapshot file the tables it
// names are.
func (n *nativeSubtask) named(err error) error {
	if err == nil {
		return nil
	}
	var where []string
	seen := map[string]bool{}
	for _, num := range tableNum.FindAllString(err.Error(), -1) {
		if uri, ok := n.tables[num]; ok && !seen[num] {
			seen[num] = true
			where = append(where, fmt.Sprintf("table %s is %s", num, uri))
		}
	}
	if len(where) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(where, "; "))
}

func (n *nativeSubtask) loadRegistry() error {
	lo, hi := enginefmt.RegistrySpan()
	it, err := n.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		name := enginefmt.RegistryName(it.Key())
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		id, ok := enginefmt.DecodeID(v)
		if !ok {
			it.Close()
			return fmt.Errorf("the engine's registry entry of state %q is corrupt (%d bytes)", name, len(v))
		}
		n.names[id] = name
		n.enc[name] = nil
	}
	if err := it.Close(); err != nil {
		return err
	}
	lo, hi = enginefmt.SchemaSpan()
	if it, err = n.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi}); err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		n.enc[enginefmt.RegistryName(it.Key())] = append([]byte(nil), v...)
	}
	return it.Close()
}

func (n *nativeSubtask) schemas() map[string][]byte { return n.enc }

func (n *nativeSubtask) scan(ctx context.Context, only int, fn func(state string, kg int, user, value []byte) error) error {
	lo, hi := []byte{}, []byte{0xFF, 0xFF}
	if only >= 0 {
		lo, hi = enginefmt.KeyGroupSpan(only)
	}
	it, err := n.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return n.named(err)
	}
	count := 0
	for it.First(); it.Valid(); it.Next() {
		if count++; count%4096 == 0 {
			if err := ctx.Err(); err != nil {
				it.Close()
				return err
			}
		}
		kg, id, user, ok := enginefmt.SplitKey(it.Key())
		if !ok {
			continue
		}
		name, ok := n.names[id]
		if !ok {
			it.Close()
			return fmt.Errorf("the engine snapshot holds keys of state id %d, which its registry does not name", id)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return n.named(err)
		}
		if err := fn(name, kg, user, v); err != nil {
			it.Close()
			return err
		}
	}
	return n.named(it.Close())
}

func (n *nativeSubtask) Close() error {
	if n.db == nil {
		return nil
	}
	err := n.db.Close()
	n.db = nil
	return err
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}

// Fatalf is what Pebble calls on a state it cannot go on from (a table
// the MANIFEST lists is missing): it must not return, so it panics with a
// pebbleFatal, which recoverPebble turns into an error.
func (quietLogger) Fatalf(format string, args ...any) {
	panic(pebbleFatal(fmt.Sprintf(format, args...)))
}

type pebbleFatal string

// recoverPebble turns a pebbleFatal raised on this goroutine into *err.
func recoverPebble(err *error) {
	if r := recover(); r != nil {
		f, ok := r.(pebbleFatal)
		if !ok {
			panic(r)
		}
		*err = fmt.Errorf("engine snapshot: %s", string(f))
	}
}

// The engine's operator state: per state name (the handle's), elements
// framed as uvarint length and bytes at the handle's offsets. The bytes
// are each operator's own (a source's position, a sink's pending files):
// shown raw.

func engineOperatorProxy(h *snapshot.OperatorStreamHandle) *OperatorProxy {
	p := &OperatorProxy{}
	for _, ns := range h.States {
		p.States = append(p.States, &Meta{Name: ns.Name, Type: Operator,
			Options:     map[string]string{OptionDistributionMode: ns.Mode.String()},
			Serializers: map[string]*Type{RoleValue: {Kind: KindBytes, Snapshot: "ckpt engine operator bytes"}}})
	}
	return p
}

func readEngineOperator(h *snapshot.OperatorStreamHandle, b []byte, file string, subtask int, fn func(OperatorElement) error) error {
	t := &Type{Kind: KindBytes, Snapshot: "ckpt engine operator bytes"}
	for _, ns := range h.States {
		for _, off := range ns.Offsets {
			if off < 0 || off >= int64(len(b)) {
				return &Error{File: file, Offset: off, Want: "an element of operator state " + ns.Name, Err: fmt.Errorf("%w: the stream has %d bytes", ErrTruncated, len(b))}
			}
			n, k := binary.Uvarint(b[off:])
			if k <= 0 || uint64(int64(len(b))-off-int64(k)) < n {
				return &Error{File: file, Offset: off, Want: "an element of operator state " + ns.Name, Err: fmt.Errorf("%w: its length runs past the stream", ErrTruncated)}
			}
			v := b[off+int64(k) : off+int64(k)+int64(n)]
			if err := fn(OperatorElement{Subtask: subtask, State: ns.Name, Mode: ns.Mode.String(), Value: rawOf(t, v)}); err != nil {
				return err
			}
		}
	}
	return nil
}
