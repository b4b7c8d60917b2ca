package peers

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The Flink peer's end-to-end proofs (issue 2, item 5): real Flink 2.x and 1.20
// run a stateful keyed job; checkpoints, savepoints, stop-with-savepoint and
// resumes go through Flink's REST API and its own restore path, and Flink's own
// loader reads what was written. One JVM per Flink version and backend keeps the
// peer time small (start-up is logged by StartFlink).

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
}

// requireMetadata fails unless dir (a snapshot path as Flink reports it) holds a
// non-empty _metadata, and returns the local directory.
func requireMetadata(t *testing.T, what, path string) string {
	t.Helper()
	dir := LocalPath(path)
	fi, err := os.Stat(filepath.Join(dir, "_metadata"))
	if err != nil || fi.Size() == 0 {
		t.Fatalf("%s %s: no _metadata (%v)", what, path, err)
	}
	return dir
}

var chkDir = regexp.MustCompile(`/chk-(\d+)$`)

// TestFlinkEndToEnd: for each Flink line and state backend, start the job, wait
// for two completed checkpoints via REST, take a savepoint, stop with a
// savepoint, and check that every _metadata exists where Flink's layout says and
// that Flink's own loader reads it back with the job's operators.
func TestFlinkEndToEnd(t *testing.T) {
	skipShort(t)
	cases := []struct {
		version     string
		backend     string
		incremental bool
		format      string
		parallelism int
	}{
		{FlinkVersion2, "hashmap", false, SavepointCanonical, 2},
		{FlinkVersion2, "rocksdb", true, SavepointNative, 1},
		{FlinkVersion120, "hashmap", false, SavepointCanonical, 1},
		{FlinkVersion120, "rocksdb", true, SavepointNative, 2},
	}
	for _, tc := range cases {
		t.Run(tc.version+"-"+tc.backend, func(t *testing.T) {
			p := Flink(t, FlinkJob{Version: tc.version, Backend: tc.backend, Incremental: tc.incremental,
				// Enough retained checkpoints that chk-N outlives the loader call below.
				Parallelism: tc.parallelism, NumRetained: 20})
			chk, err := p.WaitCheckpoints(2)
			if err != nil {
				t.Fatal(err)
			}
			m := chkDir.FindStringSubmatch(chk)
			if m == nil || !strings.HasPrefix(LocalPath(chk), p.CheckpointsDir()+"/") {
				t.Fatalf("latest checkpoint %s is not <checkpoint dir>/<job id>/chk-N under %s", chk, p.CheckpointsDir())
			}
			requireMetadata(t, "checkpoint", chk)
			// Flink deletes a FINISHED job's checkpoints (whatever the retention), so
			// read this one before stopping.
			chkMeta, err := p.LoadMetadata(chk, 1)
			if err != nil {
				t.Fatalf("Flink's loader on %s: %v", chk, err)
			}

			sp, err := p.TriggerSavepoint("", tc.format)
			if err != nil {
				t.Fatal(err)
			}
			spDir := requireMetadata(t, "savepoint", sp)
			if want := "savepoint-" + p.JobID()[:6] + "-"; !strings.HasPrefix(filepath.Base(spDir), want) {
				t.Errorf("savepoint dir %s: want name %s<12 hex>", spDir, want)
			}

			stopped, err := p.StopWithSavepoint("", false)
			if err != nil {
				t.Fatal(err)
			}
			requireMetadata(t, "stop-with-savepoint", stopped)

			for _, snap := range []struct {
				path      string
				savepoint bool
			}{{chk, false}, {sp, true}, {stopped, true}} {
				md := chkMeta
				if snap.savepoint {
					if md, err = p.LoadMetadata(snap.path, 1); err != nil {
						t.Fatalf("Flink's loader on %s: %v", snap.path, err)
					}
				}
				if md.Savepoint != snap.savepoint || len(md.Operators) != 3 || md.CheckpointID <= 0 {
					t.Errorf("%s: savepoint=%v operators=%d id=%d, want savepoint=%v and 3 operators",
						snap.path, md.Savepoint, len(md.Operators), md.CheckpointID, snap.savepoint)
				}
				counter := md.Operator("count-per-key")
				if tc.version == FlinkVersion120 {
					// 1.20 metadata (format v4) records no uids.
					if counter != nil {
						t.Errorf("%s: 1.20 metadata unexpectedly names uid count-per-key", snap.path)
					}
					continue
				}
				if counter == nil {
					t.Fatalf("%s: no operator with uid count-per-key in %+v", snap.path, md.Operators)
				}
				if counter.StateSize == 0 || counter.Parallelism != tc.parallelism {
					t.Errorf("%s: count-per-key state size %d, parallelism %d (want >0, %d)",
						snap.path, counter.StateSize, counter.Parallelism, tc.parallelism)
				}
			}
			t.Logf("Flink %s %s: start-up %v", tc.version, tc.backend, p.StartupTime().Round(time.Millisecond))
		})
	}
}
