// Package sst reads the block-based table files (SST) that Flink's RocksDB
// state backend writes into native savepoints and checkpoints: the footer,
// the metaindex and properties blocks, the index block and the data blocks
// with their restart arrays, every block's checksum verified (CRC32c, the
// default of FRocksDB 6.20 in Flink 1.14–1.20; XXH3, the default of
// FRocksDB 8.10 in Flink 2.x; XXH64), uncompressed or compressed with any
// compression Flink's RocksDB can be configured with on Linux
// (state.backend.rocksdb.compression.per.level): Snappy (the default),
// LZ4, LZ4HC, ZSTD, Zlib and BZip2 (see compress.go).
//
// Pebble's sstable reader accepts RocksDB tables only at format_version 2;
// Flink writes format_version 5, hence this reader. It reads, never
// writes; a table it cannot read for certain (Xpress, Windows-only; a
// compression dictionary; a partitioned index, a hash-indexed data block) is an error naming the
// file, and so is any byte a checksum or a bound refutes: never a guess.
package sst

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/cespare/xxhash/v2"
	"github.com/zeebo/xxh3"
)

// Errors wrapped by this package's errors.
var (
	// ErrCorrupt: the bytes contradict the format or a checksum.
	ErrCorrupt = errors.New("corrupt table")
	// ErrUnsupported: a valid table using a feature this reader leaves out.
	ErrUnsupported = errors.New("unsupported table feature")
)

// Error is an error at a place in a table file.
type Error struct {
	File   string
	Offset int64
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: byte offset %d: %v", e.File, e.Offset, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

const (
	footerLen     = 53
	blockTrailer  = 5
	rocksMagic    = 0x88E241B785F4CFF7
	maxBlock      = 256 << 20 // no block of a real table comes near this
	maxUncompress = 256 << 20
)

// Checksum types (RocksDB ChecksumType).
const (
	checksumNone   = 0
	checksumCRC32c = 1
	checksumXXH32  = 2
	checksumXXH64  = 3
	checksumXXH3   = 4
)

// Kind is an internal key's value type.
type Kind uint8

// Value types of internal keys (RocksDB ValueType).
const (
	KindDelete       Kind = 0
	KindPut          Kind = 1
	KindMerge        Kind = 2
	KindSingleDelete Kind = 7
)

// handle is a BlockHandle: where a block is and how long (without trailer).
type handle struct{ off, size uint64 }

// Table is an open SST file.
type Table struct {
	r             io.ReaderAt
	size          int64
	name          string
	checksum      byte
	FormatVersion uint32
	metaindex     handle
	index         handle
	// Properties are the table properties (rocksdb.properties block), raw.
	Properties map[string][]byte
	rangeDel   *handle
}

// Open reads the footer, the metaindex and the properties of the table
// in r (size bytes); name names it in errors.
func Open(r io.ReaderAt, size int64, name string) (*Table, error) {
	t := &Table{r: r, size: size, name: name}
	if size < footerLen {
		return nil, t.errf(0, "%w: %d bytes, shorter than a footer", ErrCorrupt, size)
	}
	f := make([]byte, footerLen)
	at := size - footerLen
	if _, err := r.ReadAt(f, at); err != nil {
		return nil, t.errf(at, "reading the footer: %w", err)
	}
	if m := binary.LittleEndian.Uint64(f[45:]); m != rocksMagic {
		return nil, t.errf(size-8, "%w: magic %#x is not a RocksDB block-based table's", ErrCorrupt, m)
	}
	t.FormatVersion = binary.LittleEndian.Uint32(f[41:45])
	if t.FormatVersion < 2 || t.FormatVersion > 5 {
		return nil, t.errf(size-12, "%w: format_version %d (this reader knows 2–5)", ErrUnsupported, t.FormatVersion)
	}
	t.checksum = f[0]
	switch t.checksum {
	case checksumCRC32c, checksumXXH64, checksumXXH3:
	default:
		return nil, t.errf(at, "%w: checksum type %d (this reader verifies CRC32c, XXH64 and XXH3)", ErrUnsupported, t.checksum)
	}
	hs := f[1:41]
	var ok bool
	if t.metaindex, hs, ok = decodeHandle(hs); !ok {
		return nil, t.errf(at+1, "%w: metaindex handle", ErrCorrupt)
	}
	if t.index, _, ok = decodeHandle(hs); !ok {
		return nil, t.errf(at+1, "%w: index handle", ErrCorrupt)
	}
	meta, err := t.block(t.metaindex, "metaindex block")
	if err != nil {
		return nil, err
	}
	var props *handle
	err = t.entries(meta, t.metaindex, false, func(k, v []byte, _ bool) error {
		h, rest, ok := decodeHandle(v)
		if !ok || len(rest) != 0 {
			return t.errf(int64(t.metaindex.off), "%w: metaindex entry %q", ErrCorrupt, k)
		}
		switch string(k) {
		case "rocksdb.properties":
			props = &h
		case "rocksdb.range_del":
			t.rangeDel = &h
		case "rocksdb.compression_dict":
			// Set only by options Flink does not use (max_dict_bytes).
			return t.errf(int64(h.off), "%w: blocks compressed with a dictionary (compression_opts.max_dict_bytes)", ErrUnsupported)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if props == nil {
		return nil, t.errf(int64(t.metaindex.off), "%w: no properties block", ErrCorrupt)
	}
	pb, err := t.block(*props, "properties block")
	if err != nil {
		return nil, err
	}
	t.Properties = map[string][]byte{}
	err = t.entries(pb, *props, false, func(k, v []byte, _ bool) error {
		t.Properties[string(k)] = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if v, ok := t.uintProp("rocksdb.block.based.table.index.type"); ok && v != 0 {
		return nil, t.errf(int64(props.off), "%w: index type %d (only the binary-search index Flink configures)", ErrUnsupported, v)
	}
	return t, nil
}

func (t *Table) errf(off int64, format string, a ...any) error {
	return &Error{File: t.name, Offset: off, Err: fmt.Errorf(format, a...)}
}

// ColumnFamily is the name of the column family the table belongs to: in
// Flink's RocksDB backend, the state's name.
func (t *Table) ColumnFamily() string { return string(t.Properties["rocksdb.column.family.name"]) }

// RangeTombstone deletes the user keys in [Start, End) older than Seq.
type RangeTombstone struct {
	Start, End []byte
	Seq        uint64
}

// RangeDeletions reads the table's range tombstones (rocksdb.range_del).
func (t *Table) RangeDeletions() ([]RangeTombstone, error) {
	if t.rangeDel == nil {
		return nil, nil
	}
	b, err := t.block(*t.rangeDel, "range deletion block")
	if err != nil {
		return nil, err
	}
	var out []RangeTombstone
	err = t.entries(b, *t.rangeDel, false, func(k, v []byte, _ bool) error {
		if len(k) < 8 {
			return t.errf(int64(t.rangeDel.off), "%w: range tombstone key of %d bytes", ErrCorrupt, len(k))
		}
		tr := binary.LittleEndian.Uint64(k[len(k)-8:])
		if tr&0xFF != 0xF { // kTypeRangeDeletion
			return t.errf(int64(t.rangeDel.off), "%w: range tombstone of value type %d", ErrCorrupt, tr&0xFF)
		}
		out = append(out, RangeTombstone{bytes.Clone(k[:len(k)-8]), bytes.Clone(v), tr >> 8})
		return nil
	})
	return out, err
}

func (t *Table) uintProp(name string) (uint64, bool) {
	v, ok := t.Properties[name]
	if !ok {
		return 0, false
	}
	n, l := binary.Uvarint(v)
	return n, l > 0
}

func decodeHandle(b []byte) (handle, []byte, bool) {
	off, n := binary.Uvarint(b)
	if n <= 0 {
		return handle{}, nil, false
	}
	size, m := binary.Uvarint(b[n:])
	if m <= 0 {
		return handle{}, nil, false
	}
	return handle{off, size}, b[n+m:], true
}

// block reads, verifies and decompresses one block.
func (t *Table) block(h handle, what string) ([]byte, error) {
	if h.size > maxBlock || h.off > uint64(t.size) || h.off+h.size+blockTrailer > uint64(t.size) {
		return nil, t.errf(int64(min(h.off, uint64(t.size))), "%w: %s at %d, %d bytes, outside the %d-byte file", ErrCorrupt, what, h.off, h.size, t.size)
	}
	b := make([]byte, h.size+blockTrailer)
	if _, err := t.r.ReadAt(b, int64(h.off)); err != nil {
		return nil, t.errf(int64(h.off), "reading the %s: %w", what, err)
	}
	data, typ := b[:h.size], b[h.size]
	want := binary.LittleEndian.Uint32(b[h.size+1:])
	if got := blockChecksum(t.checksum, data, typ); got != want {
		return nil, t.errf(int64(h.off), "%w: %s checksum %#08x, the trailer says %#08x", ErrCorrupt, what, got, want)
	}
	out, err := decompress(typ, data)
	if err != nil {
		return nil, t.errf(int64(h.off), "%s: %w", what, err)
	}
	return out, nil
}

// blockChecksum is RocksDB's checksum of a block and its trailer's type byte.
func blockChecksum(typ byte, data []byte, last byte) uint32 {
	switch typ {
	case checksumCRC32c:
		c := crc32.Update(crc32.Checksum(data, castagnoli), castagnoli, []byte{last})
		return (c>>15 | c<<17) + 0xa282ead8
	case checksumXXH64:
		d := xxhash.New()
		d.Write(data)
		d.Write([]byte{last})
		return uint32(d.Sum64())
	case checksumXXH3:
		return uint32(xxh3.Hash(data)) ^ uint32(last)*0x6b9083d9
	}
	return 0
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// entries calls fn for every entry of block b (read from h). deltaValues:
// the block is an index block whose values are delta-encoded handles:
// fn gets the value bytes as written, a full handle where the entry
// shares no key bytes (full), a signed size delta otherwise.
func (t *Table) entries(b []byte, h handle, deltaValues bool, fn func(k, v []byte, full bool) error) error {
	bad := func(what string, a ...any) error {
		return t.errf(int64(h.off), "%w: block at %d: %s", ErrCorrupt, h.off, fmt.Sprintf(what, a...))
	}
	if len(b) < 4 {
		return bad("%d bytes", len(b))
	}
	footer := binary.LittleEndian.Uint32(b[len(b)-4:])
	if footer&(1<<31) != 0 {
		return t.errf(int64(h.off), "%w: a data block with a hash index", ErrUnsupported)
	}
	n := uint64(footer)
	if n == 0 || n*4+4 > uint64(len(b)) {
		return bad("%d restart points in %d bytes", n, len(b))
	}
	end := len(b) - 4 - int(n)*4
	restarts := b[end : len(b)-4]
	isRestart := map[int]bool{}
	prev := -1
	for i := range int(n) {
		r := int(binary.LittleEndian.Uint32(restarts[4*i:]))
		if r <= prev || r >= max(end, 1) {
			return bad("restart point %d at %d (entries end at %d)", i, r, end)
		}
		isRestart[r], prev = true, r
	}
	if !isRestart[0] && end > 0 {
		return bad("first restart point is not 0")
	}
	var key []byte
	for p := 0; p < end; {
		at := p
		shared, n1 := binary.Uvarint(b[p:end])
		if n1 <= 0 {
			return bad("entry header at %d", at)
		}
		p += n1
		nonShared, n2 := binary.Uvarint(b[p:end])
		if n2 <= 0 {
			return bad("entry header at %d", at)
		}
		p += n2
		var valueLen uint64
		if !deltaValues {
			var n3 int
			valueLen, n3 = binary.Uvarint(b[p:end])
			if n3 <= 0 {
				return bad("entry header at %d", at)
			}
			p += n3
		}
		if isRestart[at] && shared != 0 || shared > uint64(len(key)) || nonShared > uint64(end-p) {
			return bad("entry at %d shares %d of %d key bytes and adds %d of the %d left", at, shared, len(key), nonShared, end-p)
		}
		key = append(key[:shared], b[p:p+int(nonShared)]...)
		p += int(nonShared)
		var v []byte
		if deltaValues {
			// A full handle where no key bytes are shared, else a size delta.
			start := p
			if shared == 0 {
				_, rest, ok := decodeHandle(b[p:end])
				if !ok {
					return bad("index value at %d", p)
				}
				p = end - len(rest)
			} else {
				_, n := binary.Varint(b[p:end])
				if n <= 0 {
					return bad("index value at %d", p)
				}
				p += n
			}
			v = b[start:p]
		} else {
			if valueLen > uint64(end-p) {
				return bad("value of %d bytes at %d, %d left", valueLen, p, end-p)
			}
			v = b[p : p+int(valueLen)]
			p += int(valueLen)
		}
		if err := fn(key, v, shared == 0); err != nil {
			return err
		}
	}
	return nil
}

// dataBlocks lists the data blocks from the index block.
func (t *Table) dataBlocks() ([]handle, error) {
	ib, err := t.block(t.index, "index block")
	if err != nil {
		return nil, err
	}
	delta, _ := t.uintProp("rocksdb.index.value.is.delta.encoded")
	var out []handle
	err = t.entries(ib, t.index, delta == 1, func(k, v []byte, full bool) error {
		if delta == 1 && !full {
			// A size delta: the block right after the previous one.
			if len(out) == 0 {
				return t.errf(int64(t.index.off), "%w: index starts with a delta", ErrCorrupt)
			}
			d, n := binary.Varint(v)
			p := out[len(out)-1]
			if n != len(v) || int64(p.size)+d < 0 {
				return t.errf(int64(t.index.off), "%w: index entry", ErrCorrupt)
			}
			out = append(out, handle{p.off + p.size + blockTrailer, uint64(int64(p.size) + d)})
			return nil
		}
		h, rest, ok := decodeHandle(v)
		if !ok || len(rest) != 0 {
			return t.errf(int64(t.index.off), "%w: index entry", ErrCorrupt)
		}
		out = append(out, h)
		return nil
	})
	return out, err
}

// Entry is one entry of a data block: an internal key and its value.
type Entry struct {
	UserKey []byte
	Seq     uint64
	Kind    Kind
	Value   []byte
}

// Scan calls fn for every entry of the table, in the table's order (user
// key ascending, newest first). The slices are valid during the call only.
func (t *Table) Scan(fn func(Entry) error) error {
	blocks, err := t.dataBlocks()
	if err != nil {
		return err
	}
	for i, h := range blocks {
		b, err := t.block(h, fmt.Sprintf("data block %d", i))
		if err != nil {
			return err
		}
		err = t.entries(b, h, false, func(k, v []byte, _ bool) error {
			if len(k) < 8 {
				return t.errf(int64(h.off), "%w: internal key of %d bytes", ErrCorrupt, len(k))
			}
			tr := binary.LittleEndian.Uint64(k[len(k)-8:])
			e := Entry{UserKey: k[:len(k)-8], Seq: tr >> 8, Kind: Kind(tr & 0xFF), Value: v}
			switch e.Kind {
			case KindDelete, KindPut, KindMerge, KindSingleDelete:
			default:
				return t.errf(int64(h.off), "%w: value type %d of a data block entry", ErrUnsupported, e.Kind)
			}
			return fn(e)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
