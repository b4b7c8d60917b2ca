package sst

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Real tables Flink wrote with each compression it can be configured with
// (state.backend.rocksdb.compression.per.level; testdata/SOURCES.md): every
// block verifies and decodes, the entries are as many as the table's own
// properties count; and a compressed data block whose bytes are corrupt
// behind a checksum that matches them (a bad decompressed size, a damaged
// body) is an error naming the compression, the file and the block's
// offset, never different entries.
func TestRealFlinkCompressedTables(t *testing.T) {
	for _, c := range []struct {
		file string
		typ  byte
	}{
		{"flink-2.3-lz4.sst", compressionLZ4},
		{"flink-2.3-lz4hc.sst", compressionLZ4HC},
		{"flink-2.3-zstd.sst", compressionZSTD},
		{"flink-2.3-zlib.sst", compressionZlib},
		{"flink-2.3-bzip2.sst", compressionBZip2},
		{"flink-1.20-lz4.sst", compressionLZ4},
	} {
		t.Run(c.file, func(t *testing.T) {
			b, tb := openFile(t, c.file)
			name := CompressionName(c.typ)
			if got := string(tb.Properties["rocksdb.compression"]); got != name {
				t.Fatalf("written with %q, want %q", got, name)
			}
			es, err := scanAll(tb)
			if n, _ := tb.uintProp("rocksdb.num.entries"); err != nil || n == 0 || uint64(len(es)) != n {
				t.Fatalf("%d entries, the properties say %d: %v", len(es), n, err)
			}
			blocks, err := tb.dataBlocks()
			if err != nil {
				t.Fatal(err)
			}
			var h *handle
			for i := range blocks {
				if b[blocks[i].off+blocks[i].size] == c.typ {
					h = &blocks[i]
					break
				}
			}
			if h == nil {
				t.Fatalf("no data block compressed with %s", name)
			}
			body := b[h.off : h.off+h.size]
			size, l := binary.Uvarint(body)
			for _, k := range []struct {
				what    string
				corrupt func(block []byte)
			}{
				{"declared size one more", func(block []byte) {
					if binary.PutUvarint(block, size+1) != l {
						t.Skip("size+1 changes the varint's length")
					}
				}},
				{"body's second half zeroed", func(block []byte) { clear(block[l+(len(block)-l)/2:]) }},
			} {
				t.Run(k.what, func(t *testing.T) {
					cb := bytes.Clone(b)
					block := cb[h.off : h.off+h.size]
					k.corrupt(block)
					binary.LittleEndian.PutUint32(cb[h.off+h.size+1:], blockChecksum(tb.checksum, block, c.typ))
					tb2, err := Open(bytes.NewReader(cb), int64(len(cb)), c.file)
					if err == nil {
						_, err = scanAll(tb2)
					}
					if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), name+" ") && !strings.Contains(err.Error(), name+":") ||
						!strings.Contains(err.Error(), fmt.Sprintf("%s: byte offset %d", c.file, h.off)) {
						t.Errorf("got %v", err)
					}
				})
			}
		})
	}
}
