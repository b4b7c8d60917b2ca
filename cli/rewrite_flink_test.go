package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// TestRewriteResumesInFlink: issue 14's proof on real Flink 2.3 and 1.20,
// heap (canonical savepoint) and RocksDB incremental (native savepoint,
// shared SSTs). A job source → count → sum → sink is stopped with a
// savepoint. Its next version renames count's uid and removes sum: Flink
// refuses the savepoint without -n. `ckpt rewrite --rename --drop
// --against` makes one it resumes from without -n, and the renamed
// operator's state is really there: with a single source subtask emitting
// 0, 1, 2, … and key v mod K, the count per key read (snapshot/state) from
// the next savepoint is exactly that of ALL records 0..S-1 — restored
// history, not only what came after the resume. A third version that
// still has sum resumes from the same rewrite without -n and its sum per
// key is exactly that of the records after the resume: the dropped
// operator started empty. On each cluster, checkpointCopiesResume proves
// ckpt cp and ckpt rewrite of a retained incremental checkpoint. Across
// versions (flinkV6ToV4): Flink 2.3's heap savepoint (V6), kept with ckpt
// cp, is refused by Flink 1.20 as it is; `ckpt rewrite --rename --drop -m
// <the 1.20 cluster>` writes it as V4, and 1.20 resumes the renamed job
// from it without -n with the renamed operator's full count history. On
// 1.20 each real V4 savepoint also goes V4 → V6 → V4 through ckpt cp to
// its own bytes (v4V6V4). Cost here (2 shared cores, load ~22): the 2.3
// part 334 s (HDFS start included), the 1.20 part 205 s, of which the
// retained-checkpoint copy 101 s and the 2.3 savepoint on 1.20 8 s.
func TestRewriteResumesInFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
	const keys = 8
	// A Flink 2.3 savepoint for the 1.20 cluster (FlinkVersions is newest first).
	var fromV2 *v2Savepoint
	keep := t.TempDir()
	for _, version := range peers.FlinkVersions {
		t.Run("flink-"+version, func(t *testing.T) {
			p := peers.StartFlink(t, peers.FlinkOptions{Version: version})
			t.Run("rocksdb-checkpoint-cp-hdfs", func(t *testing.T) { checkpointCopiesResume(t, p) })
			if version == peers.FlinkVersion120 {
				t.Run("flink-2.3-savepoint-as-v4", func(t *testing.T) { flinkV6ToV4(t, p, fromV2) })
			}
			for _, c := range []struct {
				backend string
				format  string
			}{{"hashmap", peers.SavepointCanonical}, {"rocksdb", peers.SavepointNative}} {
				t.Run(c.backend, func(t *testing.T) {
					var b [3]byte
					rand.Read(b[:])
					sfx := hex.EncodeToString(b[:])
					gen, count, count2, sum := "gen-"+sfx, "count-"+sfx, "count2-"+sfx, "sum-"+sfx
					op := func(kind, uid string) peers.FlinkOp {
						o := peers.FlinkOp{Kind: kind, UID: uid, Name: kind}
						if kind == "source" {
							o.Parallelism = 1 // records 0, 1, 2, … in order
						}
						return o
					}
					dir := t.TempDir()
					job := func(name string, ops ...peers.FlinkOp) peers.FlinkJob {
						return peers.FlinkJob{Name: name, Backend: c.backend, Incremental: c.backend == "rocksdb",
							Parallelism: 2, Keys: keys, Rate: 400, CheckpointInterval: time.Hour,
							SavepointDir: filepath.Join(dir, "savepoints"), Operators: ops,
							// Every piece of state in a file, so rewrite has files to move.
							Config: map[string]string{"state.storage.fs.memory-threshold": "0", "execution.checkpointing.data-inline-threshold": "0"}}
					}
					v1 := job("v1", op("source", gen), op("count", count), op("sum", sum), op("sink", "sink-"+sfx))
					v2 := job("v2", op("source", gen), op("count", count2), op("sink", "sink-"+sfx))
					v3 := job("v3", op("source", gen), op("count", count2), op("sum", sum), op("sink", "sink-"+sfx))

					run, err := p.Submit(v1)
					if err != nil {
						t.Fatal(err)
					}
					time.Sleep(700 * time.Millisecond)
					sp1 := stopWithSavepoint(t, run, c.format)
					n := total(readLongState(t, sp1, count, "count"))
					if n == 0 {
						t.Fatal("the first savepoint holds no counts")
					}
					if version == peers.FlinkVersion120 {
						// Real V4: to V6 and back with ckpt cp is the identity.
						v4V6V4(t, sp1, filepath.Join(dir, "as-v6"), filepath.Join(dir, "back-v4"))
					}
					if version == peers.FlinkVersion2 && c.backend == "hashmap" {
						// Kept (ckpt cp, its V6 as it is) for the 1.20 cluster.
						kept := filepath.Join(keep, "savepoint-2.3")
						if code, stdout, stderr := runCkpt(t, "cp", sp1, kept); code != 0 {
							t.Fatalf("ckpt cp: exit %d\n%s%s", code, stdout, stderr)
						}
						fromV2 = &v2Savepoint{dir: kept, n: n, gen: gen, count: count, count2: count2, sum: sum, sink: "sink-" + sfx,
							v2: v2, format: c.format}
					}

					// The renamed job cannot resume from the original without -n.
					if out := p.Resume(sp1, false, v2); out.OK {
						out.Run.Cancel()
						t.Fatal("Flink resumed the renamed job from the original savepoint without -n")
					}

					rewritten := filepath.Join(dir, "rewritten")
					code, stdout, stderr := runCkpt(t, "rewrite", "--rename", count+"="+count2, "--drop", sum,
						"--against", gen+","+count2+",sink-"+sfx, sp1, rewritten)
					if code != 0 {
						t.Fatalf("ckpt rewrite: exit %d\n%s%s", code, stdout, stderr)
					}
					t.Logf("ckpt rewrite:\n%s", stdout)

					// Renamed uid, sum gone: resumes without -n, count's history kept.
					out := p.Resume(rewritten, false, v2)
					if !out.OK {
						t.Fatalf("Flink did not resume the renamed job from the rewrite: %v", out.Error)
					}
					time.Sleep(300 * time.Millisecond)
					sp2 := stopWithSavepoint(t, out.Run, c.format)
					counts := readLongState(t, sp2, count2, "count")
					s := total(counts)
					if s < n {
						t.Fatalf("the renamed operator counted %d records, fewer than the %d before the resume: its state was not restored", s, n)
					}
					for k := int64(0); k < keys; k++ {
						if want := countBelow(s, k, keys); counts[k] != want {
							t.Errorf("renamed operator, key %d: count %d, want %d (every record 0..%d; restored state)", k, counts[k], want, s-1)
						}
					}

					// Sum still in the job: it starts empty.
					out = p.Resume(rewritten, false, v3)
					if !out.OK {
						t.Fatalf("Flink did not resume the job with the dropped operator from the rewrite: %v", out.Error)
					}
					time.Sleep(300 * time.Millisecond)
					sp3 := stopWithSavepoint(t, out.Run, c.format)
					s3 := total(readLongState(t, sp3, count2, "count"))
					if s3 <= n {
						t.Fatalf("no record went through after the resume (%d, %d): nothing to tell", s3, n)
					}
					sums := readLongState(t, sp3, sum, "sum")
					for k := int64(0); k < keys; k++ {
						want := sumBetween(n, s3, k, keys)
						if sums[k] != want {
							t.Errorf("dropped operator, key %d: sum %d, want %d (records %d..%d only: it started empty)", k, sums[k], want, n, s3-1)
						}
					}
				})
			}
		})
	}
}

// v2Savepoint is a Flink 2.3 savepoint of TestRewriteResumesInFlink's
// job v1, with its uids and the renamed job v2.
type v2Savepoint struct {
	dir                           string
	n                             int64 // records counted in it
	gen, count, count2, sum, sink string
	v2                            peers.FlinkJob
	format                        string
}

// flinkV6ToV4: Flink 1.20 refuses Flink 2.3's V6 savepoint; ckpt rewrite
// with -m <this 1.20 cluster> writes it as V4 with count renamed and sum
// dropped, and 1.20 resumes the renamed job from it without -n, with
// count's whole history (every record 0..S-1 counted per key).
func flinkV6ToV4(t *testing.T, p *peers.FlinkPeer, sp *v2Savepoint) {
	const keys = 8
	if sp == nil {
		t.Fatal("no Flink 2.3 savepoint (its subtest failed or did not run)")
	}
	job := sp.v2
	job.SavepointDir = filepath.Join(t.TempDir(), "savepoints")
	if out := p.Resume(sp.dir, true, job); out.OK {
		out.Run.Cancel()
		t.Fatal("Flink 1.20 resumed from a V6 _metadata")
	} else if out.Error == nil || !strings.Contains(fmt.Sprint(out.Error), "version number: 6") {
		t.Fatalf("Flink 1.20 refused the V6 savepoint, but not for its version: %v", out.Error)
	}
	rewritten := filepath.Join(t.TempDir(), "as-v4")
	code, stdout, stderr := runCkpt(t, "rewrite", "--rename", sp.count+"="+sp.count2, "--drop", sp.sum,
		"-m", p.RESTURL(), "--against", sp.gen+","+sp.count2+","+sp.sink, sp.dir, rewritten)
	if code != 0 || !strings.Contains(stdout, "format      v6 → v4") {
		t.Fatalf("ckpt rewrite -m (Flink 1.20): exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("ckpt rewrite:\n%s", stdout)
	out := p.Resume(rewritten, false, job)
	if !out.OK {
		t.Fatalf("Flink 1.20 did not resume the renamed job from the V4 rewrite of a 2.3 savepoint: %v", out.Error)
	}
	time.Sleep(300 * time.Millisecond)
	sp2 := stopWithSavepoint(t, out.Run, sp.format)
	counts := readLongState(t, sp2, sp.count2, "count")
	s := total(counts)
	if s < sp.n {
		t.Fatalf("the renamed operator counted %d records, fewer than the %d in the 2.3 savepoint: its state was not restored", s, sp.n)
	}
	for k := int64(0); k < keys; k++ {
		if want := countBelow(s, k, keys); counts[k] != want {
			t.Errorf("key %d: count %d, want %d (every record 0..%d; state restored from Flink 2.3)", k, counts[k], want, s-1)
		}
	}
}

// v4V6V4 copies the V4 savepoint sp to v6 as V6 and that back to v4 as
// V4: the last _metadata has sp's very bytes (the files keep their names
// relative to the savepoint directory).
func v4V6V4(t *testing.T, sp, v6, v4 string) {
	t.Helper()
	for _, c := range [][3]string{{"V6", sp, v6}, {"V4", v6, v4}} {
		if code, stdout, stderr := runCkpt(t, "cp", "--target-version", c[0], c[1], c[2]); code != 0 {
			t.Fatalf("ckpt cp --target-version %s: exit %d\n%s%s", c[0], code, stdout, stderr)
		}
	}
	read := func(dir string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, snapshot.MetadataFileName))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	orig, mid, back := read(sp), read(v6), read(v4)
	if orig[7] != 4 || mid[7] != 6 || !bytes.Equal(orig, back) {
		t.Fatalf("V4 → V6 → V4: versions %d, %d, %d; last equal to the original: %v", orig[7], mid[7], back[7], bytes.Equal(orig, back))
	}
}

func stopWithSavepoint(t *testing.T, run *peers.FlinkRun, format string) string {
	t.Helper()
	sp, err := run.StopWithSavepointFormat("", false, format)
	if err != nil {
		t.Fatal(err)
	}
	return peers.LocalPath(sp)
}

// readLongState reads the Long ValueState name of operator uid: key → value.
func readLongState(t *testing.T, dir, uid, name string) map[int64]int64 {
	t.Helper()
	return readLongStateIn(t, storage.NewLocal(), dir, uid, name)
}

// readLongStateIn is readLongState for a snapshot on fsys (S3, HDFS).
func readLongStateIn(t *testing.T, fsys storage.FS, dir, uid, name string) map[int64]int64 {
	t.Helper()
	ctx := context.Background()
	m, err := snapshot.Read(ctx, fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	op := m.Operator(snapshot.OperatorIDFromUID(uid))
	if op == nil {
		t.Fatalf("%s: no operator %s", dir, uid)
	}
	out := map[int64]int64{}
	err = state.ReadKeyed(ctx, fsys, m, op, name, func(e state.Entry) error {
		k, ok1 := e.Key.(int64)
		v, ok2 := e.Value.(int64)
		if !ok1 || !ok2 {
			return fmt.Errorf("entry %+v: want Long key and value", e)
		}
		out[k] = v
		return nil
	})
	if err != nil {
		t.Fatalf("%s: reading %s of %s: %v", dir, name, uid, err)
	}
	return out
}

func total(m map[int64]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// countBelow is how many of 0..s-1 are k mod keys.
func countBelow(s, k, keys int64) int64 {
	if s <= k {
		return 0
	}
	return (s-1-k)/keys + 1
}

// sumBetween is the sum of the records from..to-1 that are k mod keys.
func sumBetween(from, to, k, keys int64) int64 {
	var n int64
	for v := from; v < to; v++ {
		if v%keys == k {
			n += v
		}
	}
	return n
}
