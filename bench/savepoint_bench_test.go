package bench

import (
	"context"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
)

// spTimes are one engine's savepoint and restore figures. Restore times
// run from submitting the resumed job until every task runs with its
// state: ckpt's engine.Submit until RUNNING (in process), Flink's job
// submission (REST, job graph, scheduling, deployment) until every task is
// RUNNING, which Flink reports after the task restored its state.
type spTimes struct {
	fill                                  time.Duration
	savepoint, restore, scaleOut, scaleIn time.Duration
	size                                  int64
}

// ckptSavepointTimes: fill keyed state at parallelism 2, stop with a
// savepoint, resume at 2 (restore), resume at 4 from the same savepoint
// (scale-out), stop with a savepoint, resume at 2 (scale-in).
func ckptSavepointTimes(b *testing.B, keys int64, dir string) spTimes {
	var out spTimes
	run := func(p int, restore string) (*engine.Job, time.Duration) {
		c := config.New()
		c.Set(config.Parallelism, strconv.Itoa(p), "bench")
		if restore != "" {
			c.Set(config.RestorePath, restore, "bench")
			settle()
		}
		start := time.Now()
		job, err := engine.Submit(context.Background(), payloadJob(keys), c, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for job.Status() != engine.Running {
			if st := job.Status(); st.Terminal() {
				_, err := job.Wait()
				b.Fatalf("ckpt job ended %s: %v", st, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		return job, time.Since(start)
	}
	stop := func(job *engine.Job) string {
		t0 := time.Now()
		sp, err := job.StopWithSavepoint(context.Background(), dir, snapshot.FormatCanonical, false)
		if err != nil {
			b.Fatal(err)
		}
		if out.savepoint == 0 {
			out.savepoint = time.Since(t0)
		}
		job.Wait()
		return sp
	}
	job, _ := run(2, "")
	t0 := time.Now()
	for job.Metrics()[1].RecordsIn < keys*21/20 {
		time.Sleep(50 * time.Millisecond)
	}
	out.fill = time.Since(t0)
	sp := stop(job)
	// Each restore starts without the ended job's heap (its value caches:
	// a million objects the garbage collector would otherwise mark while
	// the restore allocates), as a restore in a fresh process — ckpt run
	// -s — does.
	job = nil
	out.size = dirSize(sp)
	job, out.restore = run(2, sp)
	job.Cancel()
	job.Wait()
	job = nil
	job, out.scaleOut = run(4, sp)
	sp2 := stop(job)
	job = nil
	job, out.scaleIn = run(2, sp2)
	job.Cancel()
	job.Wait()
	return out
}

// settle writes dirty pages back before a timed restore, so neither
// engine's restore pays for the writeback of what the previous step wrote
// (a gigabyte of savepoint and state: it made restore times vary 2× here).
func settle() {
	goruntime.GC()
	syscall.Sync()
	time.Sleep(time.Second)
}

func flinkSavepointTimes(b *testing.B, keys int64, dir string) spTimes {
	var out spTimes
	p := peers.StartFlink(b, flinkPayloadOptions())
	job := flinkPayloadJob("savepoint-bench", keys, 2)
	run, err := p.Submit(job)
	if err != nil {
		b.Fatal(err)
	}
	out.fill = waitFlinkRecords(b, p, run.ID(), keys*21/20)
	t0 := time.Now()
	sp, err := run.StopWithSavepointFormat(dir, false, "CANONICAL")
	if err != nil {
		b.Fatal(err)
	}
	out.savepoint = time.Since(t0)
	out.size = dirSize(peers.LocalPath(sp))
	resume := func(par int, from string) (*peers.FlinkRun, time.Duration) {
		j := job
		j.Parallelism = par
		settle()
		t := time.Now()
		o := p.Resume(from, false, j)
		if !o.OK {
			b.Fatalf("flink resume at %d: %+v", par, o.Error)
		}
		return o.Run, time.Since(t)
	}
	r2, d := resume(2, sp)
	out.restore = d
	r2.Cancel()
	r4, d := resume(4, sp)
	out.scaleOut = d
	sp2, err := r4.StopWithSavepointFormat(dir, false, "CANONICAL")
	if err != nil {
		b.Fatal(err)
	}
	r2, d = resume(2, sp2)
	out.scaleIn = d
	r2.Cancel()
	return out
}

// BenchmarkSavepointRescaleVsFlink (issue 5): keyed state of
// CKPT_BENCH_PAYLOAD_KEYS keys (default 1M) × 1 KiB — about 1 GiB — at
// parallelism 2; stop with a canonical savepoint, restore at 2, restore
// with scale-out 2→4 and scale-in 4→2; on ckpt and on real Flink with
// RocksDB, same job, same state size. Targets: restore and scale-out at
// least as fast as Flink; scale-in ≥ 3×.
func BenchmarkSavepointRescaleVsFlink(b *testing.B) {
	keys := payloadKeys()
	load0 := loadAvg()
	ours := ckptSavepointTimes(b, keys, filepath.Join(b.TempDir(), "sp"))
	b.ReportMetric(float64(ours.size)/(1<<20), "ckpt-savepoint-MiB")
	b.ReportMetric(ours.savepoint.Seconds(), "ckpt-savepoint-s")
	b.ReportMetric(ours.restore.Seconds(), "ckpt-restore-s")
	b.ReportMetric(ours.scaleOut.Seconds(), "ckpt-restore-2to4-s")
	b.ReportMetric(ours.scaleIn.Seconds(), "ckpt-restore-4to2-s")
	b.Logf("ckpt: filled %d keys × %d B in %s; savepoint %d MiB in %s; restore at 2 %s, 2→4 %s, 4→2 %s; load average %.1f → %.1f",
		keys, valueBytes, ours.fill, ours.size>>20, ours.savepoint, ours.restore, ours.scaleOut, ours.scaleIn, load0, loadAvg())
	if why := flinkMissing(); why != "" {
		b.Logf("SKIPPING the Flink side: %s", why)
		return
	}
	load1 := loadAvg()
	fl := flinkSavepointTimes(b, keys, filepath.Join(b.TempDir(), "flink-sp"))
	b.Logf("flink rocksdb: filled in %s; savepoint %d MiB in %s; restore at 2 %s, 2→4 %s, 4→2 %s; load average %.1f → %.1f",
		fl.fill, fl.size>>20, fl.savepoint, fl.restore, fl.scaleOut, fl.scaleIn, load1, loadAvg())
	b.ReportMetric(float64(fl.size)/(1<<20), "flink-savepoint-MiB")
	b.ReportMetric(fl.savepoint.Seconds()/ours.savepoint.Seconds(), "savepoint-speedup")
	b.ReportMetric(fl.restore.Seconds()/ours.restore.Seconds(), "restore-speedup")
	b.ReportMetric(fl.scaleOut.Seconds()/ours.scaleOut.Seconds(), "scale-out-speedup")
	b.ReportMetric(fl.scaleIn.Seconds()/ours.scaleIn.Seconds(), "scale-in-speedup")
}
