package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// snapshotDir writes a small snapshot with a base image, a delta table and
// a change log, as a checkpoint stages it, and returns its directory.
func snapshotDir(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	b, err := Open(filepath.Join(tmp, "db"), Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}, ChainDeltas: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v, err := Value(b, "v", Int64{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := List(b, "l")
	if err != nil {
		t.Fatal(err)
	}
	var dir string
	for i := 0; i < 4; i++ {
		for k := 0; k < 20; k++ {
			v.Put(fmt.Sprint("k", k*(i+1)), int64(i))
		}
		if i == 2 {
			l.Add("x", []byte("list entry")) // a sorted delta table
		}
		dir = filepath.Join(tmp, fmt.Sprint("chk-", i))
		files, err := b.Checkpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Prefetch != nil {
				f.Prefetch.Start()
				f.Prefetch.Finish(nil, nil)
			}
		}
	}
	return dir
}

// Every byte of every file of a staged snapshot is covered: flipping any
// one fails VerifySnapshot naming that file; so does a missing file or one
// the checksums do not list. A snapshot without a checksum file (written
// before there was one) passes.
func TestVerifySnapshot(t *testing.T) {
	dir := snapshotDir(t)
	if err := VerifySnapshot(dir); err != nil {
		t.Fatalf("intact snapshot: %v", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range ents {
		n := e.Name()
		path := filepath.Join(dir, n)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		kinds[kindOf(n)] = true
		step := 1 // every byte; with -short, about 64 spread over the file
		if testing.Short() {
			step = max(1, len(data)/64)
		}
		for i := 0; i < len(data); i += step {
			data[i] ^= 0x01
			os.WriteFile(path, data, 0o644)
			err := VerifySnapshot(dir)
			var ce *CorruptFileError
			if !errors.As(err, &ce) || ce.File != n {
				t.Fatalf("%s with byte %d flipped: %v, want a CorruptFileError naming it", n, i, err)
			}
			data[i] ^= 0x01
		}
		os.WriteFile(path, data, 0o644)
		if n != SumsFile {
			os.Remove(path)
			var ce *CorruptFileError
			if err := VerifySnapshot(dir); !errors.As(err, &ce) || ce.File != n {
				t.Fatalf("%s missing: %v", n, err)
			}
			os.WriteFile(path, data, 0o644)
		}
	}
	for _, k := range []string{"table", "change-log", "MANIFEST", "OPTIONS", "chain", "sums"} {
		if !kinds[k] {
			t.Errorf("the snapshot has no %s (kinds %v): not covered", k, kinds)
		}
	}
	os.WriteFile(filepath.Join(dir, "stray"), []byte("x"), 0o644)
	var ce *CorruptFileError
	if err := VerifySnapshot(dir); !errors.As(err, &ce) || ce.File != "stray" {
		t.Fatalf("unlisted file: %v", err)
	}
	os.Remove(filepath.Join(dir, "stray"))
	os.Remove(filepath.Join(dir, SumsFile))
	if err := VerifySnapshot(dir); err != nil {
		t.Fatalf("snapshot without checksums: %v", err)
	}
	// And it opens (Open drops a checksum file it finds).
	b, err := Open(dir, Options{MaxParallelism: 128, KeyGroups: keygroup.Range{Start: 0, End: 127}})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func kindOf(name string) string {
	switch {
	case filepath.Ext(name) == ".sst":
		return "table"
	case isLog(name):
		return "change-log"
	case name == ChainFile:
		return "chain"
	case name == SumsFile:
		return "sums"
	case len(name) > 9 && name[:9] == "MANIFEST-":
		return "MANIFEST"
	case len(name) > 8 && name[:8] == "OPTIONS-":
		return "OPTIONS"
	}
	return name
}

// The key-group checksums after a canonical stream: each key group's
// CRC-32C, and any flipped byte of the trailer itself refused.
func TestGroupSums(t *testing.T) {
	crcs := []uint32{1, 0xdeadbeef, 7}
	stream := int64(1000)
	tr := AppendGroupSums(nil, crcs, stream)
	if len(tr) != GroupSumsLen(len(crcs)) {
		t.Fatalf("trailer %d bytes, GroupSumsLen %d", len(tr), GroupSumsLen(len(crcs)))
	}
	got, n, err := ParseGroupSums(tr, len(crcs), stream+int64(len(tr)))
	if err != nil || n != stream || fmt.Sprint(got) != fmt.Sprint(crcs) {
		t.Fatalf("parse: %v %d %v", got, n, err)
	}
	for i := range tr {
		tr[i] ^= 0x80
		if _, _, err := ParseGroupSums(tr, len(crcs), stream+int64(len(tr))); err == nil {
			t.Fatalf("byte %d of the trailer flipped: accepted", i)
		}
		tr[i] ^= 0x80
	}
	for _, tc := range []struct {
		name string
		n    int
		size int64
	}{{"other key-group count", 2, stream + int64(len(tr))}, {"file grown", 3, stream + int64(len(tr)) + 1}} {
		if _, _, err := ParseGroupSums(tr[len(tr)-GroupSumsLen(tc.n):], tc.n, tc.size); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
