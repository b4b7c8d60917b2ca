package sst

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func openFile(t *testing.T, name string) ([]byte, *Table) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tb, err := Open(bytes.NewReader(b), int64(len(b)), name)
	if err != nil {
		t.Fatal(err)
	}
	return b, tb
}

type scanned struct {
	key, value string
	seq        uint64
	kind       Kind
}

func scanAll(tb *Table) ([]scanned, error) {
	var out []scanned
	err := tb.Scan(func(e Entry) error {
		out = append(out, scanned{string(e.UserKey), string(e.Value), e.Seq, e.Kind})
		return nil
	})
	return out, err
}

// Real tables from Flink 1.20 (CRC32c) and 2.3 (XXH3): every block
// verifies, the entries found are as many as the table's own properties
// count, in RocksDB's order, shaped as Flink's composite keys (2-byte
// key-group prefix at max parallelism 200, Long key, VoidNamespace byte).
func TestRealFlinkTables(t *testing.T) {
	for _, c := range []struct {
		file     string
		checksum byte
		cf       string
		valueLen int // -1: varies (lists)
		mapState bool
	}{
		{"flink-1.20-l-long-merges.sst", checksumCRC32c, "l-long", 8, false},
		{"flink-1.20-l-long-raw-block.sst", checksumCRC32c, "l-long", 8, false},
		{"flink-1.20-l-string-ttl-two-blocks.sst", checksumCRC32c, "l-string-ttl", -1, false},
		{"flink-2.3-l-long.sst", checksumXXH3, "l-long", -1, false},
		{"flink-2.3-v-long.sst", checksumXXH3, "v-long", 8, false},
		{"flink-2.3-m-string-long.sst", checksumXXH3, "m-string-long", 9, true},
	} {
		t.Run(c.file, func(t *testing.T) {
			_, tb := openFile(t, c.file)
			if tb.FormatVersion != 5 || tb.checksum != c.checksum || tb.ColumnFamily() != c.cf {
				t.Fatalf("format_version %d, checksum %d, column family %q", tb.FormatVersion, tb.checksum, tb.ColumnFamily())
			}
			es, err := scanAll(tb)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := tb.uintProp("rocksdb.num.entries")
			merges, _ := tb.uintProp("rocksdb.merge.operands")
			var gotMerges uint64
			for i, e := range es {
				if e.kind == KindMerge {
					gotMerges++
				}
				if i > 0 {
					p := es[i-1]
					if c := strings.Compare(p.key, e.key); c > 0 || c == 0 && p.seq <= e.seq {
						t.Errorf("entry %d out of order", i)
					}
				}
				if !c.mapState && (len(e.key) != 11 || e.key[10] != 0) {
					t.Errorf("entry %d: key %x is not KG(2) + Long + VoidNamespace", i, e.key)
				}
				if c.valueLen >= 0 && e.kind == KindPut && len(e.value) != c.valueLen {
					t.Errorf("entry %d: value %x, want %d bytes", i, e.value, c.valueLen)
				}
				if c.mapState && e.value[0] != 0 {
					t.Errorf("entry %d: map value %x has its null flag set", i, e.value)
				}
			}
			if uint64(len(es)) != n || gotMerges != merges || n == 0 {
				t.Errorf("%d entries (%d merges), the properties say %d (%d)", len(es), gotMerges, n, merges)
			}
		})
	}
}

// A corrupt byte anywhere is an error or changes nothing (footer padding,
// bytes past what a handle covers): never different entries.
func TestEveryByteFlip(t *testing.T) {
	for _, name := range []string{"flink-1.20-l-long-merges.sst", "flink-2.3-v-long.sst"} {
		b, tb := openFile(t, name)
		want, err := scanAll(tb)
		if err != nil {
			t.Fatal(err)
		}
		errs := 0
		for i := range b {
			c := bytes.Clone(b)
			c[i] ^= 0x10
			tb, err := Open(bytes.NewReader(c), int64(len(c)), name)
			var got []scanned
			if err == nil {
				got, err = scanAll(tb)
			}
			if err != nil {
				errs++
				if !strings.Contains(err.Error(), name+": byte offset") {
					t.Fatalf("flip at %d: error does not name the file and offset: %v", i, err)
				}
				continue
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: a flipped byte at %d reads as different entries", name, i)
			}
		}
		if errs < len(b)*9/10 {
			t.Errorf("%s: only %d of %d flips detected", name, errs, len(b))
		}
	}
}

// Every truncation is an error, never a panic.
func TestTruncated(t *testing.T) {
	b, _ := openFile(t, "flink-2.3-m-string-long.sst")
	for n := 0; n < len(b); n++ {
		tb, err := Open(bytes.NewReader(b[:n]), int64(n), "cut.sst")
		if err == nil {
			_, err = scanAll(tb)
		}
		if err == nil || !strings.Contains(err.Error(), "cut.sst") {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
}

// A block compressed with something this reader does not decode (Xpress,
// Windows-only; an unknown type) is refused, naming the compression, why,
// and the file.
func TestUnknownCompressionRefused(t *testing.T) {
	b, tb := openFile(t, "flink-1.20-l-long-raw-block.sst")
	blocks, err := tb.dataBlocks()
	if err != nil || len(blocks) != 1 {
		t.Fatal(blocks, err)
	}
	h := blocks[0]
	if b[h.off+h.size] != 0 {
		t.Fatalf("the fixture's data block is compressed (%d)", b[h.off+h.size])
	}
	for _, c := range []struct {
		typ  byte
		want string
	}{{compressionXpress, "Xpress, which RocksDB builds only on Windows"}, {9, "type 9"}, {0x40, "ZSTDNotFinal"}} {
		// With a checksum that matches, so only the compression is wrong.
		c2 := bytes.Clone(b)
		c2[h.off+h.size] = c.typ
		binary.LittleEndian.PutUint32(c2[h.off+h.size+1:], blockChecksum(tb.checksum, c2[h.off:h.off+h.size], c.typ))
		tb, err := Open(bytes.NewReader(c2), int64(len(c2)), "odd.sst")
		if err != nil {
			t.Fatal(err)
		}
		_, err = scanAll(tb)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), fmt.Sprintf("odd.sst: byte offset %d", h.off)) {
			t.Errorf("type %d: got %v", c.typ, err)
		}
	}
}

func TestNotATable(t *testing.T) {
	b := bytes.Repeat([]byte("OPTIONS "), 20)
	if _, err := Open(bytes.NewReader(b), int64(len(b)), "OPTIONS-000009"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("got %v", err)
	}
}

func FuzzTable(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.sst")
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := Open(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err == nil {
			scanAll(tb)
		}
	})
}
