package cli

import (
	"context"
	"path/filepath"
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

// TestStateMovesToFlinkAndBack is issue 16's proof in one run: the
// exactly-once example runs on ckpt's engine (parallelism 2) and stops with
// a canonical savepoint; `ckpt submit -s` resumes it on a REAL Flink 2.3
// through the runner at parallelism 3 (converted beside it), which is
// stopped with a savepoint part-way; `ckpt run -s` resumes that on the
// engine at parallelism 2 (converted back) to the end. Each leg commits
// part of the output, and the whole committed output equals the reference
// exactly — every key's counts 1..N once, nothing lost, nothing twice —
// across both moves. The same with every snapshot on the real HDFS. Cost:
// about 50 s (one Flink start, two short Flink jobs, four engine runs;
// HDFS as peers/with-hdfs.sh left it, or its own start).
func TestStateMovesToFlinkAndBack(t *testing.T) {
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
	for _, where := range []string{"local disk", "HDFS"} {
		t.Run(where, func(t *testing.T) {
			const keys, limit = 100, 60000
			tmp := t.TempDir()
			snaps := tmp
			if where == "HDFS" {
				snaps = peers.HDFS(t).BaseURI(t)
			}
			out := filepath.Join(tmp, "out")
			ctx := context.Background()
			fsys := storage.Default()

			// 1. The engine, parallelism 2, stopped with a canonical savepoint.
			onEngine := fromFlinkCountsSpec(t, 2, 10000, limit, keys, out, storage.Join(snaps, "engine-chk"))
			sp1 := stopEngineWithSavepoint(t, onEngine, storage.Join(snaps, "sp"), snapshot.FormatCanonical, 1500*time.Millisecond)
			n1 := committedSoFar(t, out)

			// 2. Flink, parallelism 3, from the engine's savepoint, slow
			// enough to be stopped part-way even when HDFS makes the first
			// checkpoints slow.
			onFlink := fromFlinkCountsSpec(t, 3, 1500, limit, keys, out, storage.Join(snaps, "flink-chk"))
			code, stdout, errOut := runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", "-s", sp1, onFlink)
			if code != ExitOK || !strings.Contains(stdout, "converted for Flink") {
				t.Fatalf("ckpt submit -s ENGINE_SAVEPOINT: exit %d\n%s\n%s", code, stdout, errOut)
			}
			id := submittedID(t, stdout)
			t.Logf("%s submitted", time.Now().Format("15:04:05.000"))
			waitCheckpoints(t, url, id, 1)
			st, err := c.Checkpoints(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if st.LatestRestored == nil || !strings.Contains(st.LatestRestored.ExternalPath, storage.Base(sp1)+"-flink") {
				t.Errorf("the Flink job restored %+v, want the conversion of %s", st.LatestRestored, sp1)
			}
			t.Logf("%s checkpointed", time.Now().Format("15:04:05.000"))
			sp2 := fromFlinkStop(t, url, id, storage.Join(snaps, "sp"))
			waitJob(t, c, id, cluster.JobFinished, 60*time.Second)
			n2 := committedSoFar(t, out)
			t.Logf("%s stopped", time.Now().Format("15:04:05.000"))

			// 3. The engine again, parallelism 2, from Flink's savepoint.
			back := fromFlinkCountsSpec(t, 2, 0, limit, keys, out, storage.Join(snaps, "engine-chk-2"))
			code, stdout, errOut = runCkpt(t, "run", "--stats", "0", "-s", sp2, back)
			if code != ExitOK || !strings.Contains(errOut, "FINISHED") || !strings.Contains(errOut, sp2+" is a Flink snapshot: converting it") {
				t.Fatalf("ckpt run -s FLINK_SAVEPOINT: exit %d\n%s\n%s", code, stdout, errOut)
			}

			got, want := committedLines(t, out), countsReference(keys, limit)
			t.Logf("committed: %d lines on the engine, %d on Flink, %d back on the engine", n1, n2-n1, len(got)-n2)
			if n1 == 0 || n2 <= n1 || len(got) <= n2 {
				t.Errorf("every leg must commit part of the output: %d, %d, %d of %d", n1, n2-n1, len(got)-n2, len(want))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("committed output across both moves: %d lines, the reference %d (%s)", len(got), len(want), firstDiff(got, want))
			}
			// Both savepoints are left as they were, the conversions beside them.
			for _, sp := range []string{sp1, sp2} {
				if _, err := fsys.Stat(ctx, storage.Join(sp, "_metadata")); err != nil {
					t.Errorf("savepoint %s: %v", sp, err)
				}
			}
		})
	}
}
