// Package demo lays out the demo snapshot tree (make run, the golden
// tests) from the real Flink _metadata fixtures.
package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// JobID is the job id of the demo tree's job directory.
const JobID = "5f2c0194b6e2a8d3c1e07a9b4d6f8e21"

// Build lays out a Flink-style snapshot tree under dir from the real
// Flink `_metadata` fixtures in fixtures (../shared/fixtures/flink-metadata):
//
//	dir/checkpoints/<job-id>/chk-17, chk-18 (complete), chk-19 (no _metadata:
//	in progress), shared/ (SST files), taskowned/
//	dir/savepoints/savepoint-5f2c01-…, savepoint-7bd90b-3a2cda6957cb
//
// Modification times are set relative to now, so ages read naturally.
// `make run` opens the TUI on it; the golden tests draw it.
func Build(dir, fixtures string, now time.Time) error {
	tree, err := Load(fixtures)
	if err != nil {
		return err
	}
	return tree.Build(dir, now)
}

// Tree is the demo tree read from the fixtures, ready to be written:
// loading reads every fixture first, so a missing one fails before
// anything is written.
type Tree struct {
	files []demoFile
}

type demoFile struct {
	path string // relative to the tree's dir, slash-separated
	data []byte
	age  time.Duration
}

// Load reads the fixtures the demo tree is built from.
func Load(fixtures string) (*Tree, error) {
	if fi, err := os.Stat(fixtures); err != nil {
		return nil, fmt.Errorf("demo tree needs the Flink fixtures: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("demo tree needs the Flink fixtures: %s is not a directory", fixtures)
	}
	fx := func(name string) string { return filepath.Join(fixtures, "apache-flink", name, "_metadata") }
	type file struct {
		path string
		from string // fixture to copy
		size int    // else this many bytes of filler
		age  time.Duration
	}
	files := []file{
		{path: "checkpoints/" + JobID + "/chk-17/_metadata", from: fx("new-stateful-udf-migration-itcase-flink1.17-rocksdb-checkpoint"), age: 3 * time.Minute},
		{path: "checkpoints/" + JobID + "/chk-17/MANIFEST-000004", size: 1 << 10, age: 3 * time.Minute},
		{path: "checkpoints/" + JobID + "/chk-18/_metadata", from: fx("new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"), age: 2 * time.Minute},
		{path: "checkpoints/" + JobID + "/chk-18/MANIFEST-000004", size: 1 << 10, age: 2 * time.Minute},
		{path: "checkpoints/" + JobID + "/chk-19/OPTIONS-000009", size: 6 << 10, age: 40 * time.Second},
		{path: "checkpoints/" + JobID + "/shared/0b6a9c1e-000010.sst", size: 96 << 10, age: 3 * time.Minute},
		{path: "checkpoints/" + JobID + "/shared/4d1f7e22-000012.sst", size: 64 << 10, age: 2 * time.Minute},
		{path: "checkpoints/" + JobID + "/shared/c3e4a801-000015.sst", size: 32 << 10, age: 40 * time.Second},
		{path: "savepoints/savepoint-5f2c01-8e0d3b7a4c19/_metadata", from: fx("new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint"), age: 26 * time.Hour},
		{path: "savepoints/savepoint-7bd90b-3a2cda6957cb/_metadata", from: fx("unified-sink-migration-test_savepoint-7bd90b-3a2cda6957cb"), age: 9 * 24 * time.Hour},
	}
	t := &Tree{}
	for _, f := range files {
		var data []byte
		if f.from != "" {
			b, err := os.ReadFile(f.from)
			if err != nil {
				return nil, fmt.Errorf("demo tree needs the Flink fixtures: %w", err)
			}
			data = b
		} else {
			data = make([]byte, f.size)
			for i := range data {
				data[i] = byte(i * 7)
			}
		}
		t.files = append(t.files, demoFile{path: f.path, data: data, age: f.age})
	}
	return t, nil
}

// Files lists the files Build writes, relative to its dir, slash-separated.
func (t *Tree) Files() []string {
	var out []string
	for _, f := range t.files {
		out = append(out, f.path)
	}
	return out
}

// Build writes the tree's files under dir, replacing those files only:
// nothing else in dir is touched but the directories' times.
func (t *Tree) Build(dir string, now time.Time) error {
	if err := os.MkdirAll(filepath.Join(dir, "checkpoints", JobID, "taskowned"), 0o755); err != nil {
		return err
	}
	for _, f := range t.files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
		at := now.Add(-f.age)
		if err := os.Chtimes(p, at, at); err != nil {
			return err
		}
	}
	// Directory times last: writing files inside bumps them.
	dirs := map[string]time.Duration{
		"checkpoints/" + JobID + "/chk-17":         3 * time.Minute,
		"checkpoints/" + JobID + "/chk-18":         2 * time.Minute,
		"checkpoints/" + JobID + "/chk-19":         40 * time.Second,
		"checkpoints/" + JobID + "/shared":         40 * time.Second,
		"checkpoints/" + JobID + "/taskowned":      20 * time.Minute,
		"checkpoints/" + JobID:                     40 * time.Second,
		"checkpoints":                              20 * time.Minute,
		"savepoints/savepoint-5f2c01-8e0d3b7a4c19": 26 * time.Hour,
		"savepoints/savepoint-7bd90b-3a2cda6957cb": 9 * 24 * time.Hour,
		"savepoints": 26 * time.Hour,
		"":           20 * time.Minute,
	}
	for d, age := range dirs {
		at := now.Add(-age)
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(d)), at, at); err != nil {
			return err
		}
	}
	return nil
}
