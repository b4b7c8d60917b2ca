package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cli"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// cpSST is the size of one synthetic shared file: about what RocksDB's
// compaction leaves in a Flink incremental checkpoint (target 64 MiB).
const cpSST = 32 << 20

// incrementalCheckpoint writes a Flink-style RocksDB incremental retained
// checkpoint of about mb MiB below job: chk-7/_metadata referencing, for
// each of 4 operators × 2 subtasks, its shared SSTs in job/shared and
// its private MANIFEST and meta file in chk-7. Random bytes (nothing
// compresses them on the way).
func incrementalCheckpoint(b *testing.B, job string, mb int64) (chk string, files int, size int64) {
	chk = filepath.Join(job, "chk-7")
	for _, d := range []string{chk, filepath.Join(job, "shared")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	write := func(p string, n int) snapshot.StreamHandle {
		buf := make([]byte, n)
		rand.Read(buf)
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		files++
		size += int64(n)
		return snapshot.NewFileHandle("file:"+p, int64(n))
	}
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 7}
	if err := m.SetProperties(snapshot.CheckpointProperties()); err != nil {
		b.Fatal(err)
	}
	const ops, subtasks = 4, 2
	perSubtask := max(1, int(mb<<20/cpSST)/(ops*subtasks))
	for o := range ops {
		uid := fmt.Sprintf("op-%d", o)
		op := snapshot.NewOperatorState(uid, uid, subtasks, 128)
		for s := range subtasks {
			var shared []snapshot.NamedHandle
			for i := range perSubtask {
				name := fmt.Sprintf("%06d.sst", 10+i)
				shared = append(shared, snapshot.NamedHandle{LocalName: name,
					Handle: write(filepath.Join(job, "shared", fmt.Sprintf("%s-%d-%s", uid, s, name)), cpSST)})
			}
			private := []snapshot.NamedHandle{{LocalName: "MANIFEST-000004",
				Handle: write(filepath.Join(chk, fmt.Sprintf("%s-%d-manifest", uid, s)), 4<<10)}}
			r := snapshot.KeyGroupRange{Start: int32(s * 64), Count: 64}
			op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{ManagedKeyedState: snapshot.NewIncrementalHandle(7,
				fmt.Sprintf("backend-%s-%d", uid, s), r, size, write(filepath.Join(chk, fmt.Sprintf("%s-%d-meta", uid, s)), 2<<10),
				shared, private, "")})
		}
		m.Operators = append(m.Operators, op)
	}
	if err := snapshot.Write(context.Background(), storage.NewLocal(), filepath.Join(chk, snapshot.MetadataFileName), m); err != nil {
		b.Fatal(err)
	}
	return chk, files + 1, size
}

// hadoopPut is the storage's own copy: `hdfs dfs -put -t N` of the same
// files (the checkpoint directory and the shared files it references),
// through the HDFS peer's Hadoop classpath, as a whole process.
func hadoopPut(ctx context.Context, h *peers.HDFSPeer, threads int, dst string, srcs ...string) error {
	cp, err := os.ReadFile(filepath.Join(peers.Dir(), "hdfs", "cp.txt"))
	if err != nil {
		return fmt.Errorf("the HDFS peer's classpath: %v", err)
	}
	// The hdfs script puts the configuration directory first on the classpath.
	args := []string{"-cp", h.ConfDir + ":" + strings.TrimSpace(string(cp)), "org.apache.hadoop.fs.FsShell",
		"-mkdir", "-p", dst}
	mk := exec.CommandContext(ctx, "java", args...)
	mk.Env = append(os.Environ(), h.Env()...)
	if out, err := mk.CombinedOutput(); err != nil {
		return fmt.Errorf("hdfs dfs -mkdir: %v\n%s", err, out)
	}
	args = append(args[:3], append([]string{"-put", "-t", strconv.Itoa(threads)}, append(srcs, dst)...)...)
	cmd := exec.CommandContext(ctx, "java", args...)
	cmd.Env = append(os.Environ(), h.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("hdfs dfs -put: %v\n%s", err, out)
	}
	return nil
}

// ckptCp runs `ckpt cp SRC DST` in process, as a user runs it.
func ckptCp(ctx context.Context, parallel int, src, dst string) error {
	var out, errb bytes.Buffer
	root := cli.NewRoot()
	root.SetArgs([]string{"cp", "--json", "--parallel", strconv.Itoa(parallel), src, dst})
	root.SetOut(&out)
	root.SetErr(&errb)
	if err := root.ExecuteContext(ctx); err != nil {
		return fmt.Errorf("ckpt cp %s %s: %v\n%s", src, dst, err, errb.String())
	}
	return nil
}

// BenchmarkCpHDFS: `ckpt cp` of a RocksDB-style incremental retained
// checkpoint (CKPT_BENCH_CP_MB, default 1024 MiB, in 32 MiB shared files)
// from local disk to the real HDFS peer, side by side with Hadoop's own
// `hdfs dfs -put -t N` of the same files, in turns (put, cp, put, cp …),
// the same parallelism on both sides (CKPT_BENCH_CP_PARALLEL, default 4:
// ckpt cp's default). ratio = cp time / put time (at most 1.5 is the
// target); medians of the rounds and the load average are printed. The
// put pays a JVM start (about a second), as `hdfs dfs` does for a user.
//
//	peers/with-hdfs.sh go test -run '^$' -bench BenchmarkCpHDFS -benchtime 3x ./bench/
//
// Measured 2026-12-08 (2 cores, load 5): 1 GiB in 49 files, ckpt cp 8.3 s,
// hdfs dfs -put 7.4 s (medians of 3), ratio 1.13.
func BenchmarkCpHDFS(b *testing.B) {
	h := peers.HDFS(b)
	mb := int64(1024)
	if v, err := strconv.ParseInt(os.Getenv("CKPT_BENCH_CP_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	parallel := 4
	if v, err := strconv.Atoi(os.Getenv("CKPT_BENCH_CP_PARALLEL")); err == nil && v > 0 {
		parallel = v
	}
	job := filepath.Join(b.TempDir(), "job")
	chk, files, size := incrementalCheckpoint(b, job, mb)
	b.Logf("source: %d files, %d MiB (%s)", files, size>>20, chk)
	base := h.BaseURI(b)
	ctx := context.Background()
	hdfs := storage.Default()
	var cpTimes, putTimes []float64
	b.ResetTimer()
	for i := range b.N {
		putDst := storage.Join(base, fmt.Sprintf("put-%d", i))
		t0 := time.Now()
		if err := hadoopPut(ctx, h, parallel, putDst, chk, filepath.Join(job, "shared")); err != nil {
			b.Fatal(err)
		}
		putTimes = append(putTimes, time.Since(t0).Seconds())

		cpDst := storage.Join(base, fmt.Sprintf("cp-%d", i), "chk-7")
		if err := hdfs.MkdirAll(ctx, storage.Dir(cpDst)); err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		if err := ckptCp(ctx, parallel, chk, cpDst); err != nil {
			b.Fatal(err)
		}
		cpTimes = append(cpTimes, time.Since(t0).Seconds())

		for _, d := range []string{putDst, storage.Join(base, fmt.Sprintf("cp-%d", i))} {
			u, err := storage.Summarize(ctx, hdfs, d)
			if err != nil {
				b.Fatal(err)
			}
			if u.Files != int64(files) || u.Bytes < size {
				b.Fatalf("%s holds %d files, %d B; want %d files, at least %d B", d, u.Files, u.Bytes, files, size)
			}
		}
	}
	b.StopTimer()
	cp, put := median(cpTimes), median(putTimes)
	mib := float64(size) / (1 << 20)
	b.ReportMetric(mib/cp, "ckpt-cp-MiB/s")
	b.ReportMetric(mib/put, "hdfs-put-MiB/s")
	b.ReportMetric(cp/put, "ratio")
	b.ReportMetric(loadAvg(), "load1")
	b.Logf("%d MiB local → HDFS, %d at once: ckpt cp %.1fs, hdfs dfs -put %.1fs (medians of %d), ratio %.2f, load %.1f",
		size>>20, parallel, cp, put, b.N, cp/put, loadAvg())
}
