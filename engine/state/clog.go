package state

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// A change log is a delta in the order the changes were logged, not
// sorted: what a checkpoint writes while its delta is deferred (see
// Deferred ingestion). Sorting a million changes and building a table of
// them cost a checkpoint ~200 ms of CPU; writing them as they are costs a
// few, and the sort moves to where the delta is ingested — a spill, a
// restore, a base image — which for state that fits in memory is rare.
// The file is uploaded and referenced like any delta table.
//
// Layout:
//
//	"ckpt-clog 1\n"
//	uvarint n
//	n × (uvarint len(key), uvarint len(value)+1, or 0 for a delete)
//	the n keys and values, each key followed by its value
//	u32 big-endian CRC-32C of everything before it
//	"END\n"
const (
	clogSuffix  = ".clog"
	clogMagic   = "ckpt-clog 1\n"
	clogTrailer = "END\n"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func isLog(name string) bool { return filepath.Ext(name) == clogSuffix }

// writeLog writes w's writes, in their order, as a change log at path and
// returns its size. A key written twice keeps its last write (sort does
// that when the log is read).
func (w *kvs) writeLog(path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	var n int64
	put := func(p []byte) {
		if err == nil {
			var k int
			k, err = bw.Write(p)
			n += int64(k)
		}
	}
	put([]byte(clogMagic))
	var buf []byte
	buf = binary.AppendUvarint(buf, uint64(len(w.items)))
	for _, x := range w.items {
		buf = binary.AppendUvarint(buf, uint64(x.k1-x.k0))
		if x.set {
			buf = binary.AppendUvarint(buf, uint64(x.v1-x.k1)+1)
		} else {
			buf = binary.AppendUvarint(buf, 0)
		}
		if len(buf) > 64<<10 {
			put(buf)
			buf = buf[:0]
		}
	}
	put(buf)
	for _, x := range w.items {
		put(w.arena[x.k0:x.v1])
	}
	if err == nil {
		err = bw.Flush()
	}
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	if err == nil {
		_, err = f.Write(append(tail[:], clogTrailer...))
		n += int64(len(tail) + len(clogTrailer))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return 0, fmt.Errorf("state: write %s: %w", path, err)
	}
	return n, nil
}

// readLog appends the writes of the change log at path to w, in their
// order. A truncated or corrupt file is an error naming it.
func readLog(path string, w *kvs) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	bad := func(why string) error {
		return fmt.Errorf("state: change log %s is corrupt: %s", path, why)
	}
	end := len(raw) - 4 - len(clogTrailer)
	if len(raw) < len(clogMagic) || !bytes.Equal(raw[:len(clogMagic)], []byte(clogMagic)) {
		return bad("no ckpt-clog header")
	}
	if end < len(clogMagic) || string(raw[end+4:]) != clogTrailer {
		return bad("truncated (no trailer)")
	}
	if crc32.Checksum(raw[:end], castagnoli) != binary.BigEndian.Uint32(raw[end:]) {
		return bad("checksum mismatch")
	}
	p := raw[len(clogMagic):end]
	count, k := binary.Uvarint(p)
	if k <= 0 || count > uint64(len(p)) {
		return bad("bad entry count")
	}
	p = p[k:]
	type lens struct {
		k, v uint64
		set  bool
	}
	ls := make([]lens, count)
	var total uint64
	for i := range ls {
		kl, a := binary.Uvarint(p)
		if a <= 0 {
			return bad(fmt.Sprintf("entry %d: bad key length", i))
		}
		vl, c := binary.Uvarint(p[a:])
		if c <= 0 {
			return bad(fmt.Sprintf("entry %d: bad value length", i))
		}
		p = p[a+c:]
		ls[i] = lens{k: kl, set: vl > 0}
		if vl > 0 {
			ls[i].v = vl - 1
		}
		total += ls[i].k + ls[i].v
		if total > uint64(len(p)) {
			return bad(fmt.Sprintf("entry %d runs past the end", i))
		}
	}
	if total != uint64(len(p)) {
		return bad(fmt.Sprintf("%d bytes of entries, %d expected", len(p), total))
	}
	for _, l := range ls {
		w.add(p[:l.k], p[l.k:l.k+l.v], l.set)
		p = p[l.k+l.v:]
	}
	return nil
}

// ingestDelta ingests delta d of the chain in dir into db. A table is
// hard-linked first (Pebble moves what it ingests; the chain keeps its
// file); a change log is read, sorted and written as a temporary table.
// w is scratch space.
func ingestDelta(db *pebble.DB, wopts sstable.WriterOptions, dbDir, dir string, d deltaFile, w *kvs) error {
	tmp := filepath.Join(dbDir, fmt.Sprintf("ingest-%d.sst.tmp", d.seq))
	os.Remove(tmp)
	src := filepath.Join(dir, d.name)
	var err error
	if isLog(d.name) {
		w.reset()
		if err = readLog(src, w); err != nil {
			return err
		}
		w.sort()
		// Uncompressed: this is on a restore's or a spill's critical
		// path, and Pebble's compactions compress it later.
		wopts.Compression = sstable.NoCompression
		_, err = w.writeSST(tmp, wopts)
	} else {
		err = os.Link(src, tmp)
	}
	if err == nil {
		err = db.Ingest(context.Background(), []string{tmp})
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("state: ingest %s: %w", src, err)
	}
	return nil
}
