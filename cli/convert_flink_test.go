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
// engine to a REAL Flink: the exactly-once example runs on the engine at
// parallelism 2 and stops with a canonical savepoint; ckpt submit -s of
// that savepoint to Flink 2.3 at parallelism 3 (rescaled) converts it
// beside the original and resumes the runner's job from it, with every
// operator's state (no -n); the job finishes and the committed output
// equals the reference exactly: every key's counts 1..N once, nothing
// lost, nothing twice. The original savepoint is left as it was. Cost:
// about 30 s (one Flink start, a 4 s engine run, a 5 s Flink job).
func TestMoveEngineToFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer: skipped with -short")
	}
	needRunnerJar(t)
	t.Setenv(JobManagerEnv, "")
	p := peers.StartFlink(t, peers.FlinkOptions{})
	url := p.RESTURL()
	c, err := flinkrest.New(url, flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const keys, limit, rate = 200, 40000, 10000
	dir := t.TempDir()
	specPath := movingCountsSpec(t, dir, keys, limit, rate)
	sp := stopEngineWithSavepoint(t, specPath, filepath.Join(dir, "sp"), snapshot.FormatCanonical, 1500*time.Millisecond)
	before := dirSums(t, sp)
	// The engine committed part of the output before it stopped: the rest
	// must come from Flink, resumed where the engine stopped.
	onEngine := committedSoFar(t, filepath.Join(dir, "out"))
	if onEngine == 0 || onEngine >= limit {
		t.Fatalf("the engine committed %d of %d lines before the savepoint: no move to test", onEngine, limit)
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
	want := countsReference(keys, limit)
	if !slices.Equal(got, want) {
		t.Fatalf("committed output: %d lines, the reference %d (%s)", len(got), len(want), firstDiff(got, want))
	}
	t.Logf("%d committed lines (%d on the engine, the rest on Flink) equal the reference across the move", len(got), onEngine)
	if after := dirSums(t, sp); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("the engine's savepoint changed")
	}
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
