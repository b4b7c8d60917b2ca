package state

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"

	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
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
// The layout is in snapshot/enginefmt (clog.go there).
var castagnoli = enginefmt.Castagnoli

func isLog(name string) bool { return enginefmt.IsLog(name) }

// logWriter streams writes into a change log through its own buffer
// (appends, not a bufio call per field: a million writes per checkpoint).
// Errors stick: the first one is returned by finish.
type logWriter struct {
	path  string
	f     *os.File
	crc   uint32
	buf   []byte
	n     int64
	count uint64
	val   []byte // scratch for encoding values
	err   error
}

const logBuffer = 1 << 20

func createLog(path string) (*logWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	lw := &logWriter{path: path, f: f, buf: make([]byte, 0, logBuffer+64<<10)}
	lw.buf = append(lw.buf, enginefmt.LogMagic...)
	return lw, nil
}

// flush writes the buffer out, checksummed.
func (lw *logWriter) flush() {
	if lw.err == nil && len(lw.buf) > 0 {
		lw.crc = crc32.Update(lw.crc, castagnoli, lw.buf)
		var k int
		k, lw.err = lw.f.Write(lw.buf)
		lw.n += int64(k)
	}
	lw.buf = lw.buf[:0]
}

// add appends one write of key (prefix included, or given in parts).
func (lw *logWriter) add(prefix, key, value []byte, set bool) {
	lw.buf = enginefmt.AppendLogWrite(lw.buf, prefix, key, value, set)
	lw.count++
	if len(lw.buf) >= logBuffer {
		lw.flush()
	}
}

// finish writes the trailer and closes the file, returning its size; on
// error the file is removed.
func (lw *logWriter) finish() (int64, error) {
	lw.buf = enginefmt.AppendLogCount(lw.buf, lw.count)
	lw.flush()
	if lw.err == nil {
		var k int
		k, lw.err = lw.f.Write(append(binary.BigEndian.AppendUint32(nil, lw.crc), enginefmt.LogTrailer...))
		lw.n += int64(k)
	}
	if err := lw.f.Close(); lw.err == nil {
		lw.err = err
	}
	if lw.err != nil {
		os.Remove(lw.path)
		return 0, fmt.Errorf("state: write %s: %w", lw.path, lw.err)
	}
	return lw.n, nil
}

func (lw *logWriter) abort() {
	lw.f.Close()
	os.Remove(lw.path)
}

// readLog appends the writes of the change log at path to w, in their
// order. A truncated or corrupt file is an error naming it.
func readLog(path string, w *kvs) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := enginefmt.DecodeLog(raw, w.add); err != nil {
		return fmt.Errorf("state: change log %s is corrupt: %w", path, err)
	}
	return nil
}

// ingestDelta ingests delta d of the chain in dir into db. A table is
// hard-linked first (Pebble moves what it ingests; the chain keeps its
// file); a change log is read, sorted and written as a temporary table.
// w is scratch space (nil: its own).
func ingestDelta(db *pebble.DB, wopts sstable.WriterOptions, dbDir, dir string, d deltaFile, w *kvs) error {
	tmp := filepath.Join(dbDir, fmt.Sprintf("ingest-%d.sst.tmp", d.seq))
	os.Remove(tmp)
	if isLog(d.name) {
		return ingestLogs(db, wopts, dbDir, dir, []deltaFile{d}, w)
	}
	src := filepath.Join(dir, d.name)
	err := os.Link(src, tmp)
	if err == nil {
		err = db.Ingest(context.Background(), []string{tmp})
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("state: ingest %s: %w", src, err)
	}
	return nil
}

// ingestLogs ingests the change logs ds (consecutive deltas, in order) as
// one table: read in order, sorted (the last write of a key wins).
func ingestLogs(db *pebble.DB, wopts sstable.WriterOptions, dbDir, dir string, ds []deltaFile, w *kvs) error {
	last := ds[len(ds)-1]
	tmp := filepath.Join(dbDir, fmt.Sprintf("ingest-%d.sst.tmp", last.seq))
	os.Remove(tmp)
	if w == nil {
		w = &kvs{}
	}
	w.reset()
	for _, d := range ds {
		if err := readLog(filepath.Join(dir, d.name), w); err != nil {
			return err
		}
	}
	w.sort()
	// Uncompressed: this is on a restore's or a spill's critical path,
	// and Pebble's compactions compress it later.
	wopts.Compression = sstable.NoCompression
	_, err := w.writeSST(tmp, wopts)
	if err == nil {
		err = db.Ingest(context.Background(), []string{tmp})
	}
	if err != nil {
		os.Remove(tmp)
		if len(ds) == 1 {
			return fmt.Errorf("state: ingest %s: %w", filepath.Join(dir, last.name), err)
		}
		return fmt.Errorf("state: ingest %s..%s: %w", ds[0].name, last.name, err)
	}
	return nil
}
