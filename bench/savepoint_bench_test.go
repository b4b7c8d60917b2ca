package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
)

func spKeys() int64 {
	if v, err := strconv.ParseInt(os.Getenv("CKPT_BENCH_SP_KEYS"), 10, 64); err == nil && v > 0 {
		return v
	}
	return 2_000_000
}

func countJob(keys int64) *graph.Graph {
	g := graph.New("savepoint-bench")
	g.Source("generator", func() operator.Source { return &builtin.Generator{Keys: keys} }).UID("gen-source").
		KeyBy().Process("count", func() operator.Operator { return &builtin.Count{} }).UID("count-per-key").
		Sink("discard", func() operator.Operator { return builtin.Discard{} }).UID("sink")
	return g
}

type spTimes struct {
	savepoint, scaleOut, scaleIn time.Duration
	size                         int64
}

// ckptSavepointTimes: fill keyed state at parallelism 2, savepoint, resume
// at 4 (scale-out), savepoint, resume at 2 (scale-in); restore time is the
// time until every task runs with its state.
func ckptSavepointTimes(b *testing.B, keys int64, dir string) spTimes {
	var out spTimes
	run := func(p int, restore string) *engine.Job {
		c := config.New()
		c.Set(config.Parallelism, strconv.Itoa(p), "bench")
		if restore != "" {
			c.Set(config.RestorePath, restore, "bench")
		}
		start := time.Now()
		job, err := engine.Submit(context.Background(), countJob(keys), c, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for job.Status() != engine.Running {
			time.Sleep(5 * time.Millisecond)
		}
		if restore != "" {
			if p == 4 {
				out.scaleOut = time.Since(start)
			} else {
				out.scaleIn = time.Since(start)
			}
		}
		return job
	}
	job := run(2, "")
	for job.Metrics()[1].RecordsIn < keys*3/2 {
		time.Sleep(50 * time.Millisecond)
	}
	t0 := time.Now()
	sp, err := job.StopWithSavepoint(context.Background(), dir, snapshot.FormatCanonical, false)
	if err != nil {
		b.Fatal(err)
	}
	out.savepoint = time.Since(t0)
	for _, e := range job.Checkpoints() {
		if e.Savepoint {
			out.size = e.StateSize
		}
	}
	job = run(4, sp)
	sp2, err := job.StopWithSavepoint(context.Background(), dir, snapshot.FormatCanonical, false)
	if err != nil {
		b.Fatal(err)
	}
	job = run(2, sp2)
	job.Cancel()
	job.Wait()
	return out
}

func flinkSavepointTimes(b *testing.B, keys int64, dir string) spTimes {
	var out spTimes
	p := peers.StartFlink(b, peers.FlinkOptions{HeapMB: 2048})
	job := peers.FlinkJob{Name: "savepoint-bench", Keys: keys, Rate: peers.UnlimitedRate, Parallelism: 2, MaxParallelism: 128,
		Backend: "rocksdb", CheckpointInterval: -1}
	run, err := p.Submit(job)
	if err != nil {
		b.Fatal(err)
	}
	// Fill: every key seen at least once at Flink's pace on this machine.
	time.Sleep(time.Duration(float64(keys)/100000*1.5*float64(time.Second)) + 5*time.Second)
	t0 := time.Now()
	sp, err := run.StopWithSavepointFormat(dir, false, "CANONICAL")
	if err != nil {
		b.Fatal(err)
	}
	out.savepoint = time.Since(t0)
	resume := func(par int, from string) (*peers.FlinkRun, time.Duration) {
		j := job
		j.Parallelism = par
		t := time.Now()
		o := p.Resume(from, false, j)
		if !o.OK {
			b.Fatalf("flink resume at %d: %+v", par, o.Error)
		}
		return o.Run, time.Since(t)
	}
	r4, d := resume(4, sp)
	out.scaleOut = d
	sp2, err := r4.StopWithSavepointFormat(dir, false, "CANONICAL")
	if err != nil {
		b.Fatal(err)
	}
	r2, d2 := resume(2, sp2)
	out.scaleIn = d2
	r2.Cancel()
	return out
}

// BenchmarkSavepointRescaleVsFlink: savepoint (canonical) of a keyed count
// over CKPT_BENCH_SP_KEYS keys (default 2M) at parallelism 2, restore with
// scale-out 2→4 and scale-in 4→2, on ckpt and on real Flink with RocksDB.
// Targets: restore and scale-out at least as fast as Flink; scale-in ≥ 3×.
func BenchmarkSavepointRescaleVsFlink(b *testing.B) {
	keys := spKeys()
	ours := ckptSavepointTimes(b, keys, filepath.Join(b.TempDir(), "sp"))
	b.ReportMetric(ours.savepoint.Seconds(), "ckpt-savepoint-s")
	b.ReportMetric(ours.scaleOut.Seconds(), "ckpt-restore-2to4-s")
	b.ReportMetric(ours.scaleIn.Seconds(), "ckpt-restore-4to2-s")
	b.Logf("ckpt: state %d MiB, savepoint %s, restore 2→4 %s, 4→2 %s", ours.size>>20, ours.savepoint, ours.scaleOut, ours.scaleIn)
	if why := peers.Tools(); why != "" {
		b.Logf("SKIPPING the Flink side: %s", why)
		return
	}
	fl := flinkSavepointTimes(b, keys, filepath.Join(b.TempDir(), "flink-sp"))
	b.Logf("flink rocksdb: savepoint %s, restore 2→4 %s, 4→2 %s", fl.savepoint, fl.scaleOut, fl.scaleIn)
	b.ReportMetric(fl.savepoint.Seconds()/ours.savepoint.Seconds(), "savepoint-speedup")
	b.ReportMetric(fl.scaleOut.Seconds()/ours.scaleOut.Seconds(), "scale-out-speedup")
	b.ReportMetric(fl.scaleIn.Seconds()/ours.scaleIn.Seconds(), "scale-in-speedup")
}
