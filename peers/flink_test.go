package peers

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
			job := FlinkJob{Version: tc.version, Backend: tc.backend, Incremental: tc.incremental,
				// Enough retained checkpoints that chk-N outlives the loader call below.
				Parallelism: tc.parallelism, NumRetained: 20}
			if tc.incremental {
				// No state inlined into _metadata: RocksDB's SST files land in shared/.
				job.Config = map[string]string{"execution.checkpointing.data-inline-threshold": "0"}
			}
			p := Flink(t, job)
			chk, err := p.WaitCheckpoints(2)
			if err != nil {
				t.Fatal(err)
			}
			m := chkDir.FindStringSubmatch(chk)
			if m == nil || !strings.HasPrefix(LocalPath(chk), p.CheckpointsDir()+"/") {
				t.Fatalf("latest checkpoint %s is not <checkpoint dir>/<job id>/chk-N under %s", chk, p.CheckpointsDir())
			}
			requireMetadata(t, "checkpoint", chk)
			if tc.incremental {
				if es, err := os.ReadDir(filepath.Join(p.CheckpointsDir(), "shared")); err != nil || len(es) == 0 {
					t.Errorf("incremental RocksDB: no files in %s/shared (%v)", p.CheckpointsDir(), err)
				}
			}
			// A manual full checkpoint (POST /jobs/:id/checkpoints) gets a later id.
			n, _ := strconv.ParseInt(m[1], 10, 64)
			if id, err := p.Job().TriggerCheckpoint(true); err != nil || id <= n {
				t.Errorf("TriggerCheckpoint: id %d, %v; want an id after %d", id, err, n)
			}
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

// resumeOps is the job the resume tests snapshot: keyed state (count-per-key),
// non-keyed operator state (op-state) and the source's split state.
func resumeOps() []FlinkOp {
	return []FlinkOp{
		{Kind: "source", UID: "gen-source", Name: "gen-source"},
		{Kind: "count", UID: "count-per-key", Name: "count-per-key"},
		{Kind: "opstate", UID: "op-state", Name: "op-state"},
		{Kind: "sink", UID: "sink", Name: "sink"},
	}
}

// withOps returns ops changed by f (on a copy).
func withOps(f func([]FlinkOp) []FlinkOp) []FlinkOp { return f(resumeOps()) }

var notMappable = regexp.MustCompile(`Cannot map checkpoint/savepoint state for operator ([0-9a-f]{32}) to the new program`)

// TestFlinkResume resumes real Flink from a savepoint, a retained chk-N and a
// _metadata file, against jobs whose operators changed, with and without
// allow-non-restored-state, and checks Flink's outcome: running with the state
// restored (REST counts.restored and latest.restored name the path), or failed
// with Flink's own error. These outcomes are what the inspector's resume
// dry-run must predict.
func TestFlinkResume(t *testing.T) {
	skipShort(t)
	for _, version := range FlinkVersions {
		t.Run(version, func(t *testing.T) {
			p := Flink(t, FlinkJob{Version: version, Operators: resumeOps(), NumRetained: 20})
			chk, err := p.WaitCheckpoints(2)
			if err != nil {
				t.Fatal(err)
			}
			sp, err := p.TriggerSavepoint("", SavepointCanonical)
			if err != nil {
				t.Fatal(err)
			}
			// Cancel keeps retained checkpoints (RETAIN_ON_CANCELLATION).
			if err := p.Cancel(); err != nil {
				t.Fatal(err)
			}
			requireMetadata(t, "retained checkpoint after cancel", chk)
			md, err := p.LoadMetadata(sp, 1)
			if err != nil {
				t.Fatal(err)
			}
			stateful := map[string]bool{}
			for _, op := range md.Operators {
				stateful[op.ID] = op.StateSize > 0
			}
			countID := ""
			if c := md.Operator("count-per-key"); c != nil {
				countID = c.ID
			} else if version != FlinkVersion120 {
				t.Fatalf("savepoint of Flink %s names no uid count-per-key", version)
			}
			emptyDir := t.TempDir()

			cases := []struct {
				name  string
				path  string
				ops   []FlinkOp
				maxP  int
				par   int
				allow bool
				claim string
				// wantOK, or the root cause class and a check of Flink's message.
				wantOK    bool
				wantClass string
				check     func(t *testing.T, e *FlinkError)
			}{
				{name: "same-job-savepoint", path: sp, ops: resumeOps(), wantOK: true},
				{name: "same-job-retained-chk", path: chk, ops: resumeOps(), wantOK: true},
				{name: "same-job-metadata-file", path: LocalPath(chk) + "/_metadata", ops: resumeOps(), wantOK: true},
				// The last case to use chk: under CLAIM, Flink may delete it once subsumed.
				{name: "claim-mode-claim-retained-chk", path: chk, ops: resumeOps(), claim: "CLAIM", wantOK: true},
				{name: "rescale-1-to-2", path: sp, ops: resumeOps(), par: 2, wantOK: true},
				{name: "operator-added", path: sp, wantOK: true, ops: withOps(func(o []FlinkOp) []FlinkOp {
					return append(o[:3], FlinkOp{Kind: "sum", UID: "new-sum"}, o[3])
				})},
				{name: "uid-changed", path: sp, wantClass: "IllegalStateException", ops: withOps(func(o []FlinkOp) []FlinkOp {
					o[1].UID = "count-v2"
					return o
				}), check: func(t *testing.T, e *FlinkError) {
					m := notMappable.FindStringSubmatch(e.Message)
					if m == nil || !stateful[m[1]] {
						t.Fatalf("want Flink's 'Cannot map ... state for operator <id>' naming a stateful operator of the savepoint, got %v", e)
					}
					if countID != "" && m[1] != countID {
						t.Errorf("Flink names operator %s, want count-per-key's %s", m[1], countID)
					}
					if !strings.Contains(e.Message, "allowNonRestoredState") {
						t.Errorf("message does not mention allowNonRestoredState: %s", e.Message)
					}
				}},
				{name: "uid-changed-allow-non-restored", path: sp, allow: true, wantOK: true, ops: withOps(func(o []FlinkOp) []FlinkOp {
					o[1].UID = "count-v2"
					return o
				})},
				{name: "operator-removed", path: sp, wantClass: "IllegalStateException", ops: withOps(func(o []FlinkOp) []FlinkOp {
					return append(o[:2], o[3])
				}), check: func(t *testing.T, e *FlinkError) {
					if m := notMappable.FindStringSubmatch(e.Message); m == nil || !stateful[m[1]] {
						t.Fatalf("want 'Cannot map ...' naming op-state's stateful operator, got %v", e)
					}
				}},
				{name: "operator-removed-allow-non-restored", path: sp, allow: true, wantOK: true, ops: withOps(func(o []FlinkOp) []FlinkOp {
					return append(o[:2], o[3])
				})},
				{name: "max-parallelism-changed-allow-non-restored", path: sp, allow: true, maxP: 64, ops: resumeOps(),
					wantClass: "IllegalStateException", check: func(t *testing.T, e *FlinkError) {
						if !e.Contains("Max parallelism mismatch") {
							t.Fatalf("want Flink's max parallelism mismatch, got %v", e)
						}
					}},
				{name: "no-metadata", path: emptyDir, ops: resumeOps(), wantClass: "FileNotFoundException",
					check: func(t *testing.T, e *FlinkError) {
						if !e.Contains("_metadata") {
							t.Fatalf("want Flink's missing _metadata error, got %v", e)
						}
					}},
			}
			// What a REST client does (flink run -s … -n through the JobManager's REST API).
			t.Run("jar-upload-run-allow-non-restored", func(t *testing.T) {
				changed := FlinkJob{Operators: withOps(func(o []FlinkOp) []FlinkOp { o[1].UID = "count-v2"; return o })}
				run := jarRun(t, p, changed, sp, true)
				c, err := run.Checkpoints()
				if err != nil {
					t.Fatal(err)
				}
				if c.Counts.Restored != 1 {
					t.Errorf("job run from the jar: restored=%d, want 1", c.Counts.Restored)
				}
				if err := run.Cancel(); err != nil {
					t.Fatal(err)
				}
			})
			if version == FlinkVersion2 {
				// The standalone mode (a cluster of its own per resume): exit code + JSON line.
				t.Run("standalone-resume-mode", func(t *testing.T) {
					changed := FlinkJob{Operators: withOps(func(o []FlinkOp) []FlinkOp { o[1].UID = "count-v2"; return o })}
					for _, allow := range []bool{false, true} {
						code, out := standaloneResume(t, p, changed, FlinkRestore{Path: sp, AllowNonRestoredState: allow})
						if wantCode := map[bool]int{false: 1, true: 0}[allow]; code != wantCode || out.OK != allow {
							t.Errorf("allow=%v: exit %d ok=%v error=%v, want exit %d", allow, code, out.OK, out.Error, wantCode)
						}
						if !allow && (out.Error == nil || notMappable.FindStringSubmatch(out.Error.Message) == nil) {
							t.Errorf("want Flink's 'Cannot map' error, got %v", out.Error)
						}
					}
				})
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					out := p.ResumeWith(FlinkJob{Operators: tc.ops, MaxParallelism: tc.maxP, Parallelism: tc.par},
						FlinkRestore{Path: tc.path, AllowNonRestoredState: tc.allow, ClaimMode: tc.claim})
					if out.OK != tc.wantOK {
						t.Fatalf("Flink's outcome: ok=%v state=%s error=%v; want ok=%v", out.OK, out.State, out.Error, tc.wantOK)
					}
					if out.OK {
						c, err := out.Run.Checkpoints()
						if err != nil {
							t.Fatal(err)
						}
						if c.Counts.Restored != 1 || c.Latest.Restored == nil ||
							strings.TrimSuffix(LocalPath(c.Latest.Restored.ExternalPath), "/_metadata") !=
								strings.TrimSuffix(LocalPath(tc.path), "/_metadata") {
							t.Errorf("REST says restored=%d from %+v, want 1 from %s", c.Counts.Restored, c.Latest.Restored, tc.path)
						}
						if err := out.Run.Cancel(); err != nil {
							t.Fatal(err)
						}
						return
					}
					if out.Error == nil || out.Error.Find(tc.wantClass) == nil {
						t.Fatalf("want a %s from Flink, got %v", tc.wantClass, out.Error)
					}
					tc.check(t, out.Error)
					t.Logf("Flink says: %s: %s", out.Error.Class, out.Error.Message)
				})
			}
		})
	}
}

// fixturesDir holds real _metadata files written by Flink 1.3–1.20 (../shared).
func fixturesDir(t *testing.T) string {
	t.Helper()
	d := filepath.Join(Dir(), "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("Flink metadata fixtures missing: %v", err)
	}
	return d
}

// TestFlinkLoadMetadata runs Flink's own metadata loader (2.x and 1.20): inside a
// running cluster on every fixture of ../shared, standalone (a JVM per call) on
// one fixture with repeats, and on broken input, which must give Flink's error
// rather than a hang or a harness crash.
func TestFlinkLoadMetadata(t *testing.T) {
	skipShort(t)
	fixtures := fixturesDir(t)
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(fixtures, "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint")
	raw, err := os.ReadFile(filepath.Join(known, "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	truncated := filepath.Join(broken, "truncated", "_metadata")
	garbage := filepath.Join(broken, "garbage", "_metadata")
	for f, b := range map[string][]byte{truncated: raw[:len(raw)/2], garbage: []byte("this is not a _metadata file at all")} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkKnown := func(t *testing.T, md *FlinkMetadata) {
		t.Helper()
		// The 1.20 RocksDB checkpoint of StatefulJobSnapshotMigrationITCase:
		// checkpoint 2, 8 operators, CheckpointingSource1 (uid hash 69f32d31…) at parallelism 1 of 4.
		if md.CheckpointID != 2 || len(md.Operators) != 8 || md.Savepoint {
			t.Fatalf("known fixture: id=%d operators=%d savepoint=%v, want 2, 8, false", md.CheckpointID, len(md.Operators), md.Savepoint)
		}
		found := false
		for _, op := range md.Operators {
			if op.ID == "69f32d314b97c6f7f9ed7873983167f2" {
				found = op.Parallelism == 1 && op.MaxParallelism == 4 && op.SubtaskStates == 1 && op.StateSize > 0
			}
		}
		if !found {
			t.Errorf("known fixture: operator 69f32d31… (CheckpointingSource1) not as expected in %+v", md.Operators)
		}
	}
	for _, version := range FlinkVersions {
		t.Run(version, func(t *testing.T) {
			p := StartFlink(t, FlinkOptions{Version: version})
			for _, e := range entries {
				md, err := p.LoadMetadata(filepath.Join(fixtures, e.Name()), 1)
				if err != nil {
					t.Errorf("Flink %s cannot load fixture %s: %v", version, e.Name(), err)
					continue
				}
				if md.CheckpointID <= 0 || len(md.Operators) == 0 || md.MetadataBytes <= 0 {
					t.Errorf("fixture %s: id=%d operators=%d bytes=%d", e.Name(), md.CheckpointID, len(md.Operators), md.MetadataBytes)
				}
			}
			md, err := p.LoadMetadata(filepath.Join(known, "_metadata"), 1)
			if err != nil {
				t.Fatal(err)
			}
			checkKnown(t, md)

			for _, bad := range []struct{ name, path, class string }{
				{"truncated", truncated, "EOFException"},
				{"garbage", garbage, "Exception"},
				{"missing", filepath.Join(broken, "nope"), "FileNotFoundException"},
			} {
				_, err := p.LoadMetadata(bad.path, 1)
				var fe *FlinkError
				if !errors.As(err, &fe) || fe.Kind != "LOAD_FAILED" || fe.Find(bad.class) == nil {
					t.Errorf("%s _metadata: want Flink's %s (LOAD_FAILED), got %v", bad.name, bad.class, err)
				} else {
					t.Logf("%s: Flink says %s: %s", bad.name, fe.Class, fe.Message)
				}
			}

			// The standalone mode: its own JVM, no cluster, timed repeats.
			md, err = FlinkLoadMetadata(t, version, known, 3)
			if err != nil {
				t.Fatal(err)
			}
			checkKnown(t, md)
			if len(md.LoadNanos) != 3 || md.BestNanos <= 0 || md.BestNanos > md.MedianNanos {
				t.Errorf("timings: %v best %d median %d", md.LoadNanos, md.BestNanos, md.MedianNanos)
			}
			var fe *FlinkError
			if _, err := FlinkLoadMetadata(t, version, truncated, 1); !errors.As(err, &fe) {
				t.Errorf("standalone on a truncated _metadata: want a *FlinkError, got %v", err)
			}
		})
	}
}

// TestFlinkHDFSCheckpoints points real Flink's checkpoint and savepoint
// directories at the real HDFS peer (hdfs://127.0.0.1:port/..., Flink's Hadoop
// file system over the shaded Hadoop 3.4 client): checkpoints and a savepoint
// land there with their _metadata (checked with an HDFS client that is not
// Flink's), Flink's loader reads them back over HDFS, and a job resumes from the
// HDFS savepoint.
func TestFlinkHDFSCheckpoints(t *testing.T) {
	skipShort(t)
	h := HDFS(t)
	for _, version := range FlinkVersions {
		t.Run(version, func(t *testing.T) {
			base := h.BaseURI(t)
			p := Flink(t, FlinkJob{Version: version, Backend: "rocksdb", Incremental: true, NumRetained: 20,
				CheckpointDir: base + "/checkpoints", SavepointDir: base + "/savepoints"})
			if !strings.HasPrefix(p.CheckpointsDir(), base+"/checkpoints/") {
				t.Fatalf("CheckpointsDir %s not under %s", p.CheckpointsDir(), base)
			}
			chk, err := p.WaitCheckpoints(2)
			if err != nil {
				t.Fatal(err)
			}
			sp, err := p.TriggerSavepoint("", SavepointCanonical)
			if err != nil {
				t.Fatal(err)
			}
			c, err := h.Client("")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, snap := range []string{chk, sp} {
				if !strings.HasPrefix(snap, "hdfs://") {
					t.Fatalf("Flink reports %s, want an hdfs:// path", snap)
				}
				u := strings.TrimPrefix(snap, "hdfs://"+h.Addr)
				fi, err := c.Stat(u + "/_metadata")
				if err != nil || fi.Size() == 0 {
					t.Fatalf("%s/_metadata on HDFS: %v", snap, err)
				}
				md, err := p.LoadMetadata(snap, 1)
				if err != nil {
					t.Fatalf("Flink's loader over HDFS on %s: %v", snap, err)
				}
				if len(md.Operators) != 3 {
					t.Errorf("%s: %d operators, want 3", snap, len(md.Operators))
				}
			}
			if out := p.Resume(sp, false, FlinkJob{CheckpointDir: base + "/checkpoints"}); !out.OK {
				t.Fatalf("resume from the HDFS savepoint %s: %v", sp, out.Error)
			} else if err := out.Run.Cancel(); err != nil {
				t.Fatal(err)
			}
			if _, err := p.StopWithSavepoint("", false); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestFlinkThroughput measures with the harness's meter: a rate-limited job
// must come out near its rate (so the meter counts what flows), an unlimited
// one well above it. Short windows: this proves the mode, benchmarks (bench/)
// use longer ones.
func TestFlinkThroughput(t *testing.T) {
	skipShort(t)
	p := StartFlink(t, FlinkOptions{})
	limited, err := p.Throughput(FlinkJob{Rate: 400, Keys: 1000}, time.Second, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if limited.RecordsPerSecond < 200 || limited.RecordsPerSecond > 600 {
		t.Errorf("rate-limited job at 400/s measured %.0f records/s", limited.RecordsPerSecond)
	}
	fast, err := p.Throughput(FlinkJob{Rate: UnlimitedRate, Keys: 100_000,
		Operators: []FlinkOp{{Kind: "source", UID: "gen"}, {Kind: "sum", UID: "sum"}, {Kind: "sink", UID: "sink"}}},
		time.Second, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if fast.RecordsPerSecond < 5*limited.RecordsPerSecond {
		t.Errorf("unlimited job: %.0f records/s, not clearly above the limited %.0f", fast.RecordsPerSecond, limited.RecordsPerSecond)
	}
	t.Logf("Flink %s heap, generator→keyBy→sum→discard, 100k keys: %.0f records/s (%d records in %.1fs)",
		p.Version(), fast.RecordsPerSecond, fast.Records, fast.Seconds)

	// A job description with a mistake gets an error naming it, from the Go side
	// or from the harness's job builder, and the peer stays usable.
	for _, bad := range []struct {
		name string
		job  FlinkJob
		want string
	}{
		{"unknown-kind", FlinkJob{Operators: []FlinkOp{{Kind: "source"}, {Kind: "cnt"}, {Kind: "sink"}}}, `unknown kind "cnt"`},
		{"sink-not-last", FlinkJob{Operators: []FlinkOp{{Kind: "source"}, {Kind: "sink"}, {Kind: "map"}}}, "a sink must be the last operator"},
		{"no-source", FlinkJob{Operators: []FlinkOp{{Kind: "count"}, {Kind: "sink"}}}, "the first operator must be the source"},
		{"bad-backend", FlinkJob{Backend: "rocks"}, `Backend "rocks"`},
	} {
		_, err := p.Submit(bad.job)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: want an error containing %q, got %v", bad.name, bad.want, err)
		}
	}
}

// jarRun uploads the harness jar through Flink's REST API and runs job from
// savepoint, the way a REST client resumes a job; it returns the running job.
func jarRun(t *testing.T, p *FlinkPeer, job FlinkJob, savepoint string, allowNonRestored bool) *FlinkRun {
	t.Helper()
	jar, err := os.ReadFile(p.JobJar())
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="jarfile"; filename="ckpt-flink-peer.jar"`)
	h.Set("Content-Type", "application/x-java-archive")
	part, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(jar)
	mw.Close()
	resp, err := http.Post(p.RESTURL()+"/jars/upload", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		Filename string `json:"filename"`
		Status   string `json:"status"`
	}
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if up.Status != "success" {
		t.Fatalf("POST /jars/upload: HTTP %d %+v", resp.StatusCode, up)
	}
	args, err := p.ProgramArgs(job)
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]any{"entryClass": FlinkJobEntryClass, "programArgsList": args,
		"savepointPath": URI(savepoint), "allowNonRestoredState": allowNonRestored}
	var out struct {
		JobID string `json:"jobid"`
	}
	if err := p.rest(http.MethodPost, "/jars/"+filepath.Base(up.Filename)+"/run", req, &out); err != nil {
		t.Fatal(err)
	}
	run := p.Run(out.JobID, job)
	if err := run.WaitState("RUNNING", 60*time.Second); err != nil {
		t.Fatal(err)
	}
	return run
}

// standaloneResume runs the harness's resume mode (its own JVM and cluster) and
// returns its exit code and outcome line.
func standaloneResume(t *testing.T, p *FlinkPeer, job FlinkJob, restore FlinkRestore) (int, FlinkOutcome) {
	t.Helper()
	spec, err := p.jobSpec(job, &restore)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(spec)
	jobFile := filepath.Join(t.TempDir(), "job.json")
	if err := os.WriteFile(jobFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("java", flinkJavaArgs(flinkClasspath(t, p.Version()), 1024, "resume", "--job-file", jobFile,
		"-Dio.tmp.dirs="+t.TempDir())...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := cmd.ProcessState.ExitCode()
	for _, line := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, replyPrefix); ok {
			var out FlinkOutcome
			if err := json.Unmarshal([]byte(rest), &out); err != nil {
				t.Fatal(err)
			}
			return code, out
		}
	}
	t.Fatalf("resume mode printed no outcome (%v); stderr:\n%s", err, flinkLastLines(stderr.String(), 30))
	return 0, FlinkOutcome{}
}

// TestFlinkPolicyMissingJava runs this test binary again with java and mvn
// hidden from PATH: Flink() skips loudly by default and fails under
// CKPT_REQUIRE_PEERS=1 or CI=true.
func TestFlinkPolicyMissingJava(t *testing.T) {
	if os.Getenv("CKPT_FLINK_POLICY_CHILD") == "1" {
		return
	}
	bin := t.TempDir()
	for _, tc := range []struct {
		env      []string
		wantFail bool
		wantText string
	}{
		{nil, false, "SKIPPING: real peer unavailable"},
		{[]string{"CKPT_REQUIRE_PEERS=1"}, true, "REAL PEER REQUIRED"},
		{[]string{"CI=true"}, true, "REAL PEER REQUIRED"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFlinkPolicyChild$", "-test.v", "-test.count=1")
		cmd.Env = append(cleanEnv(), "PATH="+bin, "CKPT_FLINK_POLICY_CHILD=1", "CKPT_PEERS_WORK="+t.TempDir())
		cmd.Env = append(cmd.Env, tc.env...)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Fatalf("env %v: child failed=%v, want %v; output:\n%s", tc.env, failed, tc.wantFail, out)
		}
		if !strings.Contains(string(out), tc.wantText) || !strings.Contains(string(out), "flink peer: java and mvn not found") {
			t.Fatalf("env %v: child output lacks %q and the missing tools:\n%s", tc.env, tc.wantText, out)
		}
	}
}

// TestFlinkPolicyChild is TestFlinkPolicyMissingJava's child.
func TestFlinkPolicyChild(t *testing.T) {
	if os.Getenv("CKPT_FLINK_POLICY_CHILD") != "1" {
		t.Skip("only run as TestFlinkPolicyMissingJava's child")
	}
	Flink(t, FlinkJob{})
	t.Fatal("Flink returned without java on PATH")
}

// TestFlinkPaths: what the harness hands Flink (URI) and what tests get back
// from what Flink reports (LocalPath).
func TestFlinkPaths(t *testing.T) {
	for _, tc := range []struct{ in, uri, local string }{
		{"/tmp/x", "file:///tmp/x", "/tmp/x"},
		{"file:/tmp/x", "file:/tmp/x", "/tmp/x"},
		{"file:///tmp/x", "file:///tmp/x", "/tmp/x"},
		{"hdfs://127.0.0.1:9000/ckpt", "hdfs://127.0.0.1:9000/ckpt", "hdfs://127.0.0.1:9000/ckpt"},
		{"hdfs:///ckpt", "hdfs:///ckpt", "hdfs:///ckpt"},
		{"", "", ""},
	} {
		if got := URI(tc.in); got != tc.uri {
			t.Errorf("URI(%q) = %q, want %q", tc.in, got, tc.uri)
		}
		if got := LocalPath(tc.in); got != tc.local {
			t.Errorf("LocalPath(%q) = %q, want %q", tc.in, got, tc.local)
		}
	}
	if got := URI("rel/dir"); !strings.HasPrefix(got, "file:///") || !strings.HasSuffix(got, "/rel/dir") {
		t.Errorf("URI(rel/dir) = %q, want an absolute file:/// URI", got)
	}
}
