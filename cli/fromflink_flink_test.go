package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// fromFlinkCountsSpec is jobs/exactly-once-counts.yaml with a test-local
// output and checkpoint directory, fewer records and keys, and the given
// parallelism and rate (0: as fast as possible). The uids are the
// example's, so the operator IDs are too.
func fromFlinkCountsSpec(t *testing.T, parallelism, rate, limit, keys int, out, chk string) string {
	t.Helper()
	return fromFlinkCountsSpecWith(t, parallelism, rate, limit, keys, out, chk, "")
}

// fromFlinkCountsSpecWith is fromFlinkCountsSpec with more configuration lines.
func fromFlinkCountsSpecWith(t *testing.T, parallelism, rate, limit, keys int, out, chk, config string) string {
	t.Helper()
	rateLine := ""
	if rate > 0 {
		rateLine = fmt.Sprintf("    rate: %d\n", rate)
	}
	return writeSpec(t, fmt.Sprintf(`name: exactly-once-counts
parallelism: %d
config:
  execution.checkpointing.interval: 200 ms
  execution.checkpointing.dir: %s
%spipeline:
  - op: generator
    uid: source
    keys: %d
%s    limit: %d
  - op: keyBy
  - op: count
    uid: count-per-key
  - op: file-sink
    uid: sink
    path: %s
`, parallelism, peers.URI(chk), config, keys, rateLine, limit, out))
}

// fromFlinkStop stops a Flink job with a savepoint into dir (ckpt
// stop) and returns the savepoint's path.
func fromFlinkStop(t *testing.T, url, id, dir string) string {
	t.Helper()
	code, out, errOut := runCkpt(t, "stop", "-m", url, "-p", dir, id)
	m := regexp.MustCompile(`Savepoint completed\. Path: (\S+)`).FindStringSubmatch(out)
	if code != ExitOK || m == nil {
		t.Fatalf("ckpt stop: exit %d\n%s\n%s", code, out, errOut)
	}
	return m[1]
}

// fromFlinkWindowsSpec is jobs/windowed-counts.yaml (uids events, per-second)
// with its stdout sink replaced by the exactly-once file sink, so the
// windows' output can be compared exactly: limit records over keys keys,
// one per ms of event time, in tumbling 1 s windows.
func fromFlinkWindowsSpec(t *testing.T, parallelism, rate, limit, keys int, out, chk string) string {
	t.Helper()
	rateLine := ""
	if rate > 0 {
		rateLine = fmt.Sprintf("    rate: %d\n", rate)
	}
	return writeSpec(t, fmt.Sprintf(`name: windowed-counts
parallelism: %d
config:
  execution.checkpointing.interval: 200 ms
  execution.checkpointing.dir: %s
pipeline:
  - op: generator
    uid: events
    keys: %d
%s    limit: %d
    timeStep: 1 ms
  - op: keyBy
  - op: window-count
    uid: per-second
    size: 1 s
  - op: file-sink
    uid: sink
    path: %s
`, parallelism, peers.URI(chk), keys, rateLine, limit, out))
}

// bridgeTestdata, when set (CKPT_UPDATE_BRIDGE_TESTDATA=1), is where the
// test copies the Flink savepoints it takes, as engine/bridge's
// fixtures.
func fromFlinkSaveFixture(t *testing.T, sp, name string) {
	t.Helper()
	if os.Getenv("CKPT_UPDATE_BRIDGE_TESTDATA") != "1" {
		return
	}
	dst := filepath.Join("..", "engine", "bridge", "testdata", name)
	if err := os.RemoveAll(dst); err != nil { // the fixture's own directory, rewritten
		t.Fatal(err)
	}
	if err := os.CopyFS(dst, os.DirFS(peers.LocalPath(sp))); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s as %s", sp, dst)
}

// TestFlinkSavepointResumesOnEngine is the proof of the way back from a
// real Flink cluster: a job spec runs on Flink through ckpt's runner at
// parallelism 3, is stopped part-way with a canonical savepoint, and
// resumes on ckpt's engine at parallelism 2 with `ckpt run -s
// FLINK_SAVEPOINT SPEC` (converted into a ckpt savepoint beside it), to
// the end. For the exactly-once example the committed output is exactly
// the reference — every key's counts 1..N once, nothing lost, nothing
// twice; for windowed counts every window of every key fires once, also
// the windows open at the savepoint (Flink's timers are not carried over:
// the engine rebuilds them from the windows' state). No in-progress file
// of Flink's subtasks is left. On Flink 2.3 the exactly-once example also
// runs with every snapshot on the real HDFS, and a retained checkpoint of
// a cancelled job (hashmap, and RocksDB incremental) resumes exactly; on
// Flink 1.20 the exactly-once example's savepoint (a V4 _metadata).
// Cost: about 70 s on an idle machine with the HDFS of
// peers/with-hdfs.sh (two Flink starts of ~15 s, six short jobs).
func TestFlinkSavepointResumesOnEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer: skipped with -short")
	}
	needRunnerJar(t)
	t.Setenv(JobManagerEnv, "")
	for _, version := range peers.FlinkVersions {
		t.Run(version, func(t *testing.T) {
			p := peers.StartFlink(t, peers.FlinkOptions{Version: version})
			url := p.RESTURL()
			c, err := flinkrest.New(url, flinkrest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name        string
				spec        func(t *testing.T, parallelism, rate, limit, keys int, out, chk string) string
				limit, keys int
				want        []string
			}{
				{"exactly-once-counts", fromFlinkCountsSpec, 40000, 100, countsReference(100, 40000)},
				{"windowed-counts", fromFlinkWindowsSpec, 40000, 50, windowsReference(50, 40000, 1000)},
			} {
				if version != peers.FlinkVersion2 && tc.name != "exactly-once-counts" {
					continue // one spec is enough to show a V4 _metadata converts
				}
				t.Run(tc.name, func(t *testing.T) {
					fromFlinkResumeOnEngine(t, c, url, version, tc.name, tc.spec, tc.limit, tc.keys, tc.want, "")
				})
			}
			if version != peers.FlinkVersion2 {
				return
			}
			// The same with every snapshot on the real HDFS: Flink's
			// checkpoints and savepoint, the converted savepoint beside it,
			// the engine's checkpoints.
			t.Run("exactly-once-counts over HDFS", func(t *testing.T) {
				remote := peers.HDFS(t).BaseURI(t)
				fromFlinkResumeOnEngine(t, c, url, version, "", fromFlinkCountsSpec, 80000, 100, countsReference(100, 80000), remote)
			})
			// A retained checkpoint of a cancelled job converts too: the
			// hashmap backend's key-groups format, and RocksDB's SST files
			// of an incremental checkpoint.
			for _, tc := range []struct {
				name, config string
				incremental  bool
			}{
				{"retained checkpoint, hashmap", "", false},
				{"retained checkpoint, RocksDB incremental", "  state.backend.type: rocksdb\n  execution.checkpointing.incremental: true\n", true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					fromFlinkCheckpointOnEngine(t, url, tc.config, tc.incremental)
				})
			}
		})
	}
}

// fromFlinkResumeOnEngine runs one spec on Flink (parallelism 3), stops it with a
// savepoint part-way, resumes that on the engine (parallelism 2) with ckpt
// run -s to the end and compares the committed output with want. Snapshots
// go under remote when set (an hdfs:// base), else to local disk.
func fromFlinkResumeOnEngine(t *testing.T, c *flinkrest.Client, url, version, name string, specFn func(t *testing.T, parallelism, rate, limit, keys int, out, chk string) string, limit, keys int, want []string, remote string) {
	start := time.Now()
	step := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	snaps := tmp
	if remote != "" {
		snaps = remote
	}
	flinkSpec := specFn(t, 3, 4000, limit, keys, out, storage.Join(snaps, "flink-chk"))
	engineSpec := specFn(t, 2, 0, limit, keys, out, storage.Join(snaps, "engine-chk"))

	code, stdout, errOut := runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", flinkSpec)
	if code != ExitOK {
		t.Fatalf("ckpt submit: exit %d\n%s\n%s", code, stdout, errOut)
	}
	id := submittedID(t, stdout)
	step("submitted")
	waitCheckpoints(t, url, id, 1)
	step("a checkpoint")
	sp := fromFlinkStop(t, url, id, storage.Join(snaps, "sp"))
	step("stopped")
	waitJob(t, c, id, cluster.JobFinished, 60*time.Second)
	before := committedSoFar(t, out)
	if before >= len(want) {
		t.Fatalf("Flink committed %d of %d lines before the savepoint: want part of them", before, len(want))
	}
	if version == peers.FlinkVersion2 && remote == "" {
		fromFlinkSaveFixture(t, sp, name)
	}

	code, stdout, errOut = runCkpt(t, "run", "--stats", "0", "-s", sp, engineSpec)
	if code != ExitOK || !strings.Contains(errOut, "FINISHED") {
		t.Fatalf("ckpt run -s %s: exit %d\n%s\n%s", sp, code, stdout, errOut)
	}
	step("resumed on the engine, to the end")
	if !strings.Contains(errOut, sp+" is a Flink snapshot: converting it into a ckpt savepoint in ") {
		t.Errorf("ckpt run -s did not say it converts the Flink savepoint:\n%s", errOut)
	}
	got := committedLines(t, out)
	t.Logf("Flink %s committed %d lines before its savepoint; %d committed in all", version, before, len(got))
	if !slices.Equal(got, want) {
		t.Fatalf("committed output differs from the reference: %d lines, want %d (%s)", len(got), len(want), firstDiff(got, want))
	}
	// The Flink savepoint is left as it was: the conversion wrote beside it.
	fsys := storage.NewRouter(storage.Options{})
	defer fsys.Close()
	if _, err := fsys.Stat(context.Background(), storage.Join(sp, "_metadata")); err != nil {
		t.Errorf("the Flink savepoint's _metadata: %v", err)
	}
	if remote != "" {
		ents, err := storage.ListAll(context.Background(), fsys, storage.Join(remote, "sp"))
		if err != nil || len(ents) != 2 {
			t.Errorf("beside the Flink savepoint on HDFS: %v %v, want it and the converted one", ents, err)
		}
	}
}

// fromFlinkCheckpointOnEngine runs the exactly-once example on Flink (parallelism
// 3) with config, cancels it after two checkpoints (retained on
// cancellation) and resumes its latest checkpoint on the engine
// (parallelism 2) to the end: the committed output is the reference.
func fromFlinkCheckpointOnEngine(t *testing.T, url, config string, incremental bool) {
	const limit, keys = 40000, 100
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	flinkSpec := fromFlinkCountsSpecWith(t, 3, 4000, limit, keys, out, filepath.Join(tmp, "flink-chk"),
		"  execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION\n"+config)
	engineSpec := fromFlinkCountsSpec(t, 2, 0, limit, keys, out, filepath.Join(tmp, "engine-chk"))
	code, stdout, errOut := runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", flinkSpec)
	if code != ExitOK {
		t.Fatalf("ckpt submit: exit %d\n%s\n%s", code, stdout, errOut)
	}
	id := submittedID(t, stdout)
	waitCheckpoints(t, url, id, 2)
	if code, stdout, errOut = runCkpt(t, "cancel", "-m", url, id); code != ExitOK {
		t.Fatalf("ckpt cancel: exit %d\n%s\n%s", code, stdout, errOut)
	}
	c, err := flinkrest.New(url, flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, id, cluster.JobCanceled, 60*time.Second)
	chks, _ := filepath.Glob(filepath.Join(tmp, "flink-chk", id, "chk-*"))
	if len(chks) != 1 {
		t.Fatalf("retained checkpoints of job %s: %v, want one", id, chks)
	}
	m, err := snapshot.Read(context.Background(), storage.NewLocal(), chks[0])
	if err != nil {
		t.Fatal(err)
	}
	h := m.Operator(snapshot.OperatorIDFromUID("count-per-key")).Subtasks[0].ManagedKeyedState
	if _, isIncr := h.(*snapshot.IncrementalHandle); isIncr != incremental {
		t.Fatalf("the checkpoint's keyed state is a %T (incremental wanted: %v)", h, incremental)
	}
	code, stdout, errOut = runCkpt(t, "run", "--stats", "0", "-s", chks[0], engineSpec)
	if code != ExitOK || !strings.Contains(errOut, "FINISHED") || !strings.Contains(errOut, "is a Flink snapshot: converting it") {
		t.Fatalf("ckpt run -s %s: exit %d\n%s\n%s", chks[0], code, stdout, errOut)
	}
	got, want := committedLines(t, out), countsReference(keys, limit)
	if !slices.Equal(got, want) {
		t.Fatalf("committed output differs from the reference: %d lines, want %d (%s)", len(got), len(want), firstDiff(got, want))
	}
}
