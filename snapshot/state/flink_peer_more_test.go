package state

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot/state/sst"
	"github.com/ckpt-dev/ckpt/storage"
)

// stateJobInput writes n random records for StateJob and returns its spec
// and the state they make at parallelism 2.
func stateJobInput(t *testing.T, n int) (peers.StateJobSpec, map[string]*wantOp) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("records from seed %d", seed)
	recs := randomRecords(rand.New(rand.NewPCG(seed, 1)), n)
	input := filepath.Join(t.TempDir(), "input.tsv")
	if err := os.WriteFile(input, recordsTSV(recs), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := peers.StateJobSpec{Input: input, OpList: []string{"split-a", "split-b"}, OpUnion: []string{"union-x"}}
	return spec, expectedState(recs, spec, 2)
}

// The RocksDB block compressions Flink can be configured with on Linux
// (state.backend.rocksdb.compression.per.level, org.rocksdb.CompressionType
// names, the same key in Flink 1.20 and 2.x; FRocksDB for Linux has no
// Xpress): real Flink 2.3 writes StateJob's state with each, and ckpt reads
// the native savepoint (SST files) back entry by entry; every SST says it
// was written with that compression. Flink 1.20 (FRocksDB 6.20) writes the
// same block format (compress_format_version 2) and runs LZ4 only.
// Cost: a Flink start per version (10–45 s, the latter on a loaded 2-core
// machine) and 7–10 s per compression; ~220 s in all when loaded.
func TestStateReaderCompressionsAgainstFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
	spec, want := stateJobInput(t, 200)
	for _, version := range peers.FlinkVersions {
		t.Run("flink-"+version, func(t *testing.T) {
			p := peers.StartFlink(t, peers.FlinkOptions{Version: version})
			for _, c := range []struct{ option, property string }{
				{"LZ4_COMPRESSION", "LZ4"}, {"LZ4HC_COMPRESSION", "LZ4HC"}, {"ZSTD_COMPRESSION", "ZSTD"},
				{"ZLIB_COMPRESSION", "Zlib"}, {"BZLIB2_COMPRESSION", "BZip2"},
			} {
				if version != peers.FlinkVersion2 && c.property != "LZ4" {
					continue
				}
				t.Run(c.property, func(t *testing.T) {
					s := spec
					s.Done = filepath.Join(t.TempDir(), "done")
					started := time.Now().Add(-time.Second)
					run, err := p.SubmitStateJob(peers.FlinkJob{Name: "state-job-" + c.property, Backend: "rocksdb",
						Parallelism: 2, MaxParallelism: 200, CheckpointInterval: time.Hour,
						Config: map[string]string{"state.backend.rocksdb.compression.per.level": c.option,
							// SST files in files of their own, none inline in _metadata.
							"state.storage.fs.memory-threshold": "0", "execution.checkpointing.data-inline-threshold": "0"}}, s)
					if err != nil {
						t.Fatal(err)
					}
					defer run.Cancel()
					var sp string
					if err := untilAllRunning(func() (err error) { sp, err = run.TriggerSavepoint("", peers.SavepointNative); return err }); err != nil {
						t.Fatal(err)
					}
					path := peers.LocalPath(sp)
					if n := sstCompressions(t, storage.NewLocal(), path, c.property); n == 0 {
						t.Fatalf("%s: no SST file", path)
					}
					compareSnapshot(t, path, want, [2]time.Time{started, time.Now()})
				})
			}
		})
	}
}

// sstCompressions checks that every SST file under dir was written with
// compression (its rocksdb.compression property) and returns how many.
func sstCompressions(t *testing.T, fsys storage.FS, dir, compression string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	err := fsys.Walk(ctx, dir, func(fi storage.FileInfo) error {
		if fi.IsDir || strings.HasSuffix(fi.URI, "_metadata") {
			return nil
		}
		f, err := fsys.Open(ctx, fi.URI)
		if err != nil {
			return err
		}
		defer f.Close()
		// Flink names a savepoint's SST files by UUID: a table is a file
		// with RocksDB's magic (MANIFEST, OPTIONS and CURRENT are not).
		tb, err := sst.Open(f, fi.Size, fi.URI)
		if errors.Is(err, sst.ErrCorrupt) && strings.Contains(err.Error(), "magic") || fi.Size < 53 && err != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if got := string(tb.Properties["rocksdb.compression"]); got != compression {
			return fmt.Errorf("%s: written with %q, want %q", fi.URI, got, compression)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The same proof over HDFS: real Flink 2.3 writes its savepoints and
// checkpoints straight to the real HDFS peer (hdfs://), and ckpt reads
// them there through storage (no local copy), entry by entry: a canonical
// savepoint (key-group streams), a native savepoint and an incremental
// checkpoint (RocksDB's SST files, the checkpoint's in shared/). Flink
// 1.20 writes the same files through the same Hadoop filesystem, so it
// adds nothing here and is left out. Cost: the HDFS peer's start if not
// yet up, one Flink start and ~25 s of snapshots: 60–250 s (loaded).
func TestStateReaderAgainstFlinkOnHDFS(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink and HDFS not started in -short mode")
	}
	h := peers.HDFS(t)
	base := h.BaseURI(t)
	router := storage.NewRouter(storage.Options{})
	defer router.Close()
	spec, want := stateJobInput(t, 200)
	spec.Done = filepath.Join(t.TempDir(), "done")
	p := peers.StartFlink(t, peers.FlinkOptions{Version: peers.FlinkVersion2})
	started := time.Now().Add(-time.Second)
	run, err := p.SubmitStateJob(peers.FlinkJob{Name: "state-job-hdfs", Backend: "rocksdb", Parallelism: 2, MaxParallelism: 200,
		Incremental: true, CheckpointInterval: time.Hour, CheckpointDir: storage.Join(base, "checkpoints"),
		SavepointDir: storage.Join(base, "savepoints"),
		// Every state file a file of its own on HDFS, none inline in _metadata.
		Config: map[string]string{"state.storage.fs.memory-threshold": "0", "execution.checkpointing.data-inline-threshold": "0"}}, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Cancel()
	for _, kind := range []string{"canonical-savepoint", "native-savepoint", "incremental-checkpoint"} {
		var path string
		switch kind {
		case "incremental-checkpoint":
			var id int64
			if err := untilAllRunning(func() (err error) { id, err = run.TriggerCheckpoint(false); return err }); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			path = storage.Join(run.CheckpointsDir(), fmt.Sprintf("chk-%d", id))
		default:
			format := peers.SavepointCanonical
			if kind == "native-savepoint" {
				format = peers.SavepointNative
			}
			if err := untilAllRunning(func() (err error) { path, err = run.TriggerSavepoint("", format); return err }); err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
		}
		if !strings.HasPrefix(path, "hdfs://") {
			t.Fatalf("%s at %s, not on HDFS", kind, path)
		}
		t.Run(kind, func(t *testing.T) {
			if kind != "canonical-savepoint" && sstCompressions(t, router, path, "Snappy") == 0 && kind == "native-savepoint" {
				t.Fatalf("%s: no SST file on HDFS", path)
			}
			compareSnapshotOn(t, router, path, want, [2]time.Time{started, time.Now()})
		})
	}
}
