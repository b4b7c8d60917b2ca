package cli

import (
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
)

// exactlyOnceSpec is jobs/exactly-once-counts.yaml with a test-local
// output and checkpoint directory, fewer records and keys, and the given
// parallelism and rate (0: as fast as possible). The uids are the
// example's, so the operator IDs are too.
func exactlyOnceSpec(t *testing.T, parallelism, rate, limit, keys int, out, chk string) string {
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
pipeline:
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
`, parallelism, peers.URI(chk), keys, rateLine, limit, out))
}

// countsReference is what the exactly-once example commits for limit
// records over keys keys: every key's counts 1..limit/keys, once each.
func countsReference(limit, keys int) []string {
	var want []string
	for k := 0; k < keys; k++ {
		for c := 1; c <= limit/keys; c++ {
			want = append(want, fmt.Sprintf("key-%d,%d", k, c))
		}
	}
	slices.Sort(want)
	return want
}

// ckptStopWithSavepoint stops a Flink job with a savepoint into dir (ckpt
// stop) and returns the savepoint's path.
func ckptStopWithSavepoint(t *testing.T, url, id, dir string) string {
	t.Helper()
	code, out, errOut := runCkpt(t, "stop", "-m", url, "-p", dir, id)
	m := regexp.MustCompile(`Savepoint completed\. Path: (\S+)`).FindStringSubmatch(out)
	if code != ExitOK || m == nil {
		t.Fatalf("ckpt stop: exit %d\n%s\n%s", code, out, errOut)
	}
	return m[1]
}

// TestFlinkSavepointResumesOnEngine is the proof of the way back from a
// real Flink 2.x cluster: the exactly-once example runs on Flink through
// ckpt's runner at parallelism 3, is stopped part-way with a canonical
// savepoint, and resumes on ckpt's engine at parallelism 2 with `ckpt run
// -s FLINK_SAVEPOINT SPEC` (converted into a ckpt savepoint beside it),
// to the end: the committed output is exactly the reference — every
// key's counts 1..N once, nothing lost, nothing twice — and no in-progress
// file of Flink's subtasks is left. Cost: about 30 s (one Flink start, one
// short job).
func TestFlinkSavepointResumesOnEngine(t *testing.T) {
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
	const limit, keys = 40000, 100
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	flinkSpec := exactlyOnceSpec(t, 3, 4000, limit, keys, out, filepath.Join(tmp, "flink-chk"))
	engineSpec := exactlyOnceSpec(t, 2, 0, limit, keys, out, filepath.Join(tmp, "engine-chk"))

	code, stdout, errOut := runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", flinkSpec)
	if code != ExitOK {
		t.Fatalf("ckpt submit: exit %d\n%s\n%s", code, stdout, errOut)
	}
	id := submittedID(t, stdout)
	waitCheckpoints(t, url, id, 2)
	sp := ckptStopWithSavepoint(t, url, id, filepath.Join(tmp, "sp"))
	waitJob(t, c, id, cluster.JobFinished, 60*time.Second)
	before := committedCount(t, out)
	if before == 0 || before >= limit {
		t.Fatalf("Flink committed %d of %d records before the savepoint: want part of them", before, limit)
	}

	code, stdout, errOut = runCkpt(t, "run", "--stats", "0", "-s", sp, engineSpec)
	if code != ExitOK || !strings.Contains(errOut, "FINISHED") {
		t.Fatalf("ckpt run -s %s: exit %d\n%s\n%s", sp, code, stdout, errOut)
	}
	if !strings.Contains(errOut, sp+" is a Flink snapshot: converting it into a ckpt savepoint in ") {
		t.Errorf("ckpt run -s did not say it converts the Flink savepoint:\n%s", errOut)
	}
	got := committedLines(t, out)
	want := countsReference(limit, keys)
	t.Logf("Flink committed %d records before its savepoint; %d committed in all", before, len(got))
	if !slices.Equal(got, want) {
		t.Fatalf("committed output differs from the reference: %d lines, want %d (%s)", len(got), len(want), firstDiff(got, want))
	}
	// The Flink savepoint is left as it was: the conversion wrote beside it.
	if _, err := os.Stat(filepath.Join(peers.LocalPath(sp), "_metadata")); err != nil {
		t.Errorf("the Flink savepoint's _metadata: %v", err)
	}
}

// committedCount is the number of committed lines in a file sink's
// directory so far.
func committedCount(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "part-") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			n += strings.Count(string(b), "\n")
		}
	}
	return n
}

// firstDiff describes where two sorted line lists first differ.
func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}
