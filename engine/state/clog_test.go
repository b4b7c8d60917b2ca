package state

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChangeLogRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		writes [][3]string // key, value, "del" to delete
	}{
		{"empty", nil},
		{"one", [][3]string{{"\x00\x01\x00\x01a", "1", ""}}},
		{"deletes and empty values", [][3]string{
			{"\x00\x07\x00\x01zz", "", ""}, {"\x00\x02\x00\x01b", "", "del"}, {"\x00\x02\x00\x01a", strings.Repeat("v", 300), ""}}},
		{"a key twice: the last write wins once sorted", [][3]string{
			{"\x00\x03\x00\x01k", "old", ""}, {"\x00\x03\x00\x01k", "new", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w kvs
			for _, x := range tt.writes {
				w.add([]byte(x[0]), []byte(x[1]), x[2] != "del")
			}
			path := filepath.Join(t.TempDir(), deltaName(7, true))
			size, err := w.writeLog(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi, _ := os.Stat(path); fi == nil || fi.Size() != size {
				t.Fatalf("writeLog reported %d bytes, file has %v", size, fi)
			}
			var r kvs
			if err := readLog(path, &r); err != nil {
				t.Fatal(err)
			}
			if len(r.items) != len(tt.writes) {
				t.Fatalf("read %d writes, want %d", len(r.items), len(tt.writes))
			}
			for i, x := range r.items {
				want := tt.writes[i]
				if string(r.key(x)) != want[0] || string(r.value(x)) != want[1] && x.set || x.set != (want[2] != "del") {
					t.Errorf("write %d = %q %q set=%v, want %q", i, r.key(x), r.value(x), x.set, want)
				}
			}
			if tt.name == "a key twice: the last write wins once sorted" {
				r.sort()
				if len(r.items) != 1 || string(r.value(r.items[0])) != "new" {
					t.Errorf("sorted: %d items, first %q", len(r.items), r.value(r.items[0]))
				}
			}
		})
	}
}

// Every truncation and every flipped byte of a change log is an error
// that names the file; none panics or reads as a shorter log.
func TestChangeLogCorruption(t *testing.T) {
	var w kvs
	for i := 0; i < 20; i++ {
		w.add([]byte(fmt.Sprintf("\x00\x01\x00\x01key-%d", i)), []byte(fmt.Sprintf("value %d", i)), i%5 != 0)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, deltaName(1, true))
	if _, err := w.writeLog(good); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	bad := filepath.Join(dir, deltaName(2, true))
	check := func(what string, data []byte) {
		t.Helper()
		os.WriteFile(bad, data, 0o644)
		var r kvs
		err := readLog(bad, &r)
		if err == nil {
			t.Fatalf("%s: read without error", what)
		}
		if !strings.Contains(err.Error(), bad) {
			t.Fatalf("%s: error does not name the file: %v", what, err)
		}
	}
	for n := 0; n < len(raw); n++ {
		check(fmt.Sprintf("truncated to %d bytes", n), raw[:n])
	}
	for i := range raw {
		flipped := bytes.Clone(raw)
		flipped[i] ^= 0x40
		check(fmt.Sprintf("byte %d flipped", i), flipped)
	}
	var r kvs
	if err := readLog(filepath.Join(dir, "missing.clog"), &r); err == nil || !strings.Contains(err.Error(), "missing.clog") {
		t.Fatalf("missing file: %v", err)
	}
}

// writeLog (tests) writes w's writes, in their order, as a change log at path and
// returns its size. A key written twice keeps its last write (sort does
// that when the log is read).
func (w *kvs) writeLog(path string) (int64, error) {
	lw, err := createLog(path)
	if err != nil {
		return 0, err
	}
	for _, x := range w.items {
		lw.add(nil, w.key(x), w.value(x), x.set)
	}
	return lw.finish()
}
