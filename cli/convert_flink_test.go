package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// movingCountsSpec is jobs/exactly-once-counts.yaml made small and
// bounded: limit records over keys keys, rate-limited so that the engine
// is stopped half way, its output and checkpoints under dir.
func movingCountsSpec(t *testing.T, dir string, keys, limit, rate int) string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("..", "jobs", "exactly-once-counts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(text)
	for old, new := range map[string]string{
		"keys: 1000":                    fmt.Sprintf("keys: %d", keys),
		"rate: 5000":                    fmt.Sprintf("rate: %d", rate),
		"limit: 1000000":                fmt.Sprintf("limit: %d", limit),
		"interval: 1 s":                 "interval: 300 ms",
		"file:///tmp/ckpt/checkpoints":  peers.URI(filepath.Join(dir, "chk")),
		"path: out/exactly-once-counts": "path: " + filepath.Join(dir, "out"),
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("jobs/exactly-once-counts.yaml has no %q any more", old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	p := filepath.Join(dir, "exactly-once-counts.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// countsReference is what the exactly-once counts job commits for limit
// records over keys keys: every key's counts 1..N once.
func countsReference(keys, limit int) []string {
	var out []string
	for k := range keys {
		n := limit / keys
		if k < limit%keys {
			n++
		}
		for c := 1; c <= n; c++ {
			out = append(out, fmt.Sprintf("key-%d,%d", k, c))
		}
	}
	sort.Strings(out)
	return out
}

// TestMoveEngineToFlink is the proof of moving a job's state from ckpt's
// engine to a REAL Flink 2.3 (one cluster for both subtests):
//
//   - the exactly-once example runs on the engine at parallelism 2 and
//     stops with a canonical savepoint; ckpt submit -s of that savepoint at
//     parallelism 3 (rescaled) converts it beside the original and resumes
//     the runner's job from it, with every operator's state (no -n); the
//     job finishes and the committed output equals the reference exactly:
//     every key's counts 1..N once, nothing lost, nothing twice;
//   - a window-count job (event-time windows, fired by timers) moves the
//     same way from a native savepoint: the windows open at the savepoint
//     fire on Flink by the timers the conversion wrote, and every window's
//     count is committed once, as the reference says.
//
// The original savepoints are left as they were. Cost: about 26 s (one
// Flink start, two 1.5 s engine runs, two short Flink jobs).
func TestMoveEngineToFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer: skipped with -short")
	}
	needRunnerJar(t)
	t.Setenv(JobManagerEnv, "")
	p := peers.StartFlink(t, peers.FlinkOptions{})
	t.Run("exactly-once counts", func(t *testing.T) {
		const keys, limit, rate = 200, 40000, 10000
		dir := t.TempDir()
		specPath := movingCountsSpec(t, dir, keys, limit, rate)
		moveToFlink(t, p.RESTURL(), specPath, dir, snapshot.FormatCanonical, limit, countsReference(keys, limit))
	})
	t.Run("windowed counts", func(t *testing.T) {
		const keys, limit, rate = 50, 30000, 10000
		dir := t.TempDir()
		specPath := movingWindowsSpec(t, dir, keys, limit, rate)
		moveToFlink(t, p.RESTURL(), specPath, dir, snapshot.FormatNative, 0, windowsReference(keys, limit, 1000))
	})
}

// TestMoveEngineToFlink120 moves the exactly-once example from the engine
// to a REAL Flink 1.20, which reads _metadata up to V4: ckpt submit -s
// converts for the target's flink-version. Cost: about 24 s (one Flink
// 1.20 start, a 1.5 s engine run, a short Flink job).
func TestMoveEngineToFlink120(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer: skipped with -short")
	}
	needRunnerJar(t)
	t.Setenv(JobManagerEnv, "")
	p := peers.StartFlink(t, peers.FlinkOptions{Version: peers.FlinkVersion120})
	const keys, limit, rate = 100, 30000, 10000
	dir := t.TempDir()
	specPath := movingCountsSpec(t, dir, keys, limit, rate)
	converted := moveToFlink(t, p.RESTURL(), specPath, dir, snapshot.FormatCanonical, limit, countsReference(keys, limit))
	m, err := snapshot.Read(context.Background(), storage.Default(), converted)
	if err != nil || m.Version != snapshot.Version4 {
		t.Errorf("converted for Flink 1.20: %v %v, want _metadata V4", m, err)
	}
}

// moveToFlink runs specPath on the engine, stops it with a savepoint of
// format, resumes it on the Flink at url at parallelism 3 through ckpt
// submit -s (which converts), waits for the job to finish and compares
// the committed output of dir/out with want. lines > 0 is the output's
// length, of which the engine must have committed a part. It returns the
// converted savepoint.
func moveToFlink(t *testing.T, url, specPath, dir string, format snapshot.SavepointFormat, lines int, want []string) string {
	t.Helper()
	c, err := flinkrest.New(url, flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp := stopEngineWithSavepoint(t, specPath, filepath.Join(dir, "sp"), format, 1500*time.Millisecond)
	before := dirSums(t, sp)
	// The engine committed part of the output before it stopped: the rest
	// must come from Flink, resumed where the engine stopped.
	onEngine := committedSoFar(t, filepath.Join(dir, "out"))
	if onEngine == 0 || (lines > 0 && onEngine >= lines) {
		t.Fatalf("the engine committed %d of %d lines before the savepoint: no move to test", onEngine, lines)
	}

	code, out, errOut := runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", "-p", "3", "-s", sp, specPath)
	if code != ExitOK {
		t.Fatalf("ckpt submit -s ENGINE_SAVEPOINT: exit %d\n%s\n%s", code, out, errOut)
	}
	converted := sp + "-flink"
	if !strings.Contains(out, "converted for Flink") || !strings.Contains(out, converted) {
		t.Errorf("submit does not say where it converted the savepoint:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(converted, "_metadata")); err != nil {
		t.Fatalf("no converted savepoint beside the engine's: %v", err)
	}
	id := submittedID(t, out)
	waitJob(t, c, id, cluster.JobFinished, 90*time.Second)
	st, err := c.Checkpoints(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.LatestRestored == nil || !strings.Contains(st.LatestRestored.ExternalPath, filepath.Base(converted)) {
		t.Errorf("the Flink job restored %+v, want %s", st.LatestRestored, converted)
	}
	got := committedLines(t, filepath.Join(dir, "out"))
	if !slices.Equal(got, want) {
		t.Fatalf("committed output: %d lines, the reference %d (%s)", len(got), len(want), firstDiff(got, want))
	}
	t.Logf("%d committed lines (%d on the engine, the rest on Flink) equal the reference across the move", len(got), onEngine)
	if after := dirSums(t, sp); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("the engine's savepoint changed")
	}
	return converted
}

// movingWindowsSpec is jobs/windowed-counts.yaml's window-count with its
// windows committed by the exactly-once file sink (so the output can be
// compared exactly): limit records over keys keys, one per ms of event
// time, rate-limited.
func movingWindowsSpec(t *testing.T, dir string, keys, limit, rate int) string {
	t.Helper()
	text := fmt.Sprintf(`name: windowed-counts
parallelism: 2
config:
  execution.checkpointing.interval: 300 ms
  execution.checkpointing.dir: %s
pipeline:
  - op: generator
    uid: events
    keys: %d
    rate: %d
    limit: %d
    timeStep: 1 ms
  - op: keyBy
  - op: window-count
    uid: per-second
    size: 1 s
  - op: file-sink
    uid: windows-out
    path: %s
`, peers.URI(filepath.Join(dir, "chk")), keys, rate, limit, filepath.Join(dir, "out"))
	p := filepath.Join(dir, "windowed-counts.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// windowsReference is what the windowed job commits: for every window of
// size ms of event time and every key, the key's records in it.
func windowsReference(keys, limit, size int) []string {
	counts := map[[2]int]int{}
	for n := range limit {
		counts[[2]int{n % keys, n / size}]++
	}
	var out []string
	for k, c := range counts {
		out = append(out, fmt.Sprintf("key-%d,%d", k[0], c))
	}
	sort.Strings(out)
	return out
}

// stopEngineWithSavepoint runs a spec on ckpt's engine for run, then stops
// it with a savepoint of format under spDir.
func stopEngineWithSavepoint(t *testing.T, specPath, spDir string, format snapshot.SavepointFormat, run time.Duration) string {
	t.Helper()
	s, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	job, err := engine.SubmitSpec(ctx, s, nil, nil, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); job.Status() != engine.Running && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(run)
	sp, err := job.StopWithSavepoint(ctx, spDir, format, false)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := job.Wait(); st != engine.Finished {
		t.Fatalf("engine job after stop with savepoint: %s %v", st, err)
	}
	m, err := snapshot.Read(ctx, storage.Default(), sp)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range m.Operators {
		if op.FullyFinished {
			t.Fatalf("the engine's source finished before the savepoint (raise the limit): operator %s", op.ID)
		}
	}
	return sp
}

// committedSoFar counts the lines of the committed files (part-*) in dir.
func committedSoFar(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(b), "\n")
	}
	return n
}

func dirSums(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var h int64
		for _, c := range b {
			h = h*131 + int64(c)
		}
		out[e.Name()] = h
	}
	return out
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("first difference at line %d: %q vs %q", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}
