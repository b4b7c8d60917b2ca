package engine

import (
	"context"
	"fmt"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/engine/runtime"
	"github.com/ckpt-dev/ckpt/storage"
)

type slowSink struct {
	operator.Base
	n int
}

func (s *slowSink) Process(r operator.Record, out operator.Collector) error {
	if s.n++; s.n%200 == 0 {
		time.Sleep(time.Millisecond)
	}
	return nil
}

// A slow sink backpressures the source through bounded channels: what is
// in flight between them stays within the credits, however long the job
// runs, and the waiting shows up as backpressure.
func TestBackpressureIsBounded(t *testing.T) {
	g := graph.New("bp")
	g.Source("gen", func() operator.Source { return &builtin.Generator{Keys: 100} }).UID("gen").Parallelism(2).
		KeyBy().Process("count", func() operator.Operator { return &builtin.Count{} }).UID("count").Parallelism(2).
		Sink("slow", func() operator.Operator { return &slowSink{} }).UID("slow").Parallelism(2)
	job, err := Submit(context.Background(), g, cfg(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { job.Cancel(); job.Wait() }()
	// Structurally, at most 2 senders × 2 receivers × credits batches wait
	// in channels, one batch per receiver is being processed, and each
	// sender holds a blocked batch plus partly filled ones; the counters
	// are published per batch, so allow a factor of two for the sampling.
	// An unbounded queue would instead hold most of what the source emits.
	bound := 2 * int64(2*2*(runtime.DefaultCredits+1)*runtime.DefaultBatchSize+2*3*runtime.DefaultBatchSize)
	var out, in int64
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 10 || (out < 3*bound && time.Now().Before(deadline)); i++ {
		time.Sleep(100 * time.Millisecond)
		m := job.Metrics()
		out, in = m[0].RecordsOut, m[2].RecordsIn
		if out-in > bound {
			t.Fatalf("source emitted %d, sink saw %d: %d in flight exceeds the bound %d", out, in, out-in, bound)
		}
	}
	if out < 3*bound {
		t.Fatalf("source emitted only %d records: too few to show the queue is bounded", out)
	}
	if bp := job.Metrics()[0].Backpressured; bp <= 0 {
		t.Fatalf("source backpressure %s, want > 0 behind a slow sink", bp)
	}
}

// Cancel stops every goroutine of the job: nothing leaks.
func TestCleanShutdown(t *testing.T) {
	before := goruntime.NumGoroutine()
	for i := 0; i < 3; i++ {
		tmp := t.TempDir()
		job, err := Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), 0, 100, 0, 2, nil), cfg(t,
			"execution.checkpointing.interval=20ms", "execution.checkpointing.dir="+filepath.Join(tmp, "ckpt")), Options{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		job.Cancel()
		if st, _ := job.Wait(); st != Canceled {
			t.Fatalf("status %s", st)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for goruntime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := goruntime.Stack(buf, true)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, goruntime.NumGoroutine(), buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A bounded job without any checkpoint configuration still commits its
// exactly-once output at the end (the final checkpoint is not persisted).
func TestBoundedJobWithoutCheckpointDir(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	job, err := Submit(context.Background(), countsJob(out, 3000, 7, 0, 2, nil), cfg(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := job.Wait(); st != Finished {
		t.Fatalf("%s: %v", st, err)
	}
	if got, want := committed(t, out), reference(3000, 7); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatal(diff(got, want))
	}
}

// Rescaling on restore: the exactly-once job runs at parallelism 2, is
// cancelled keeping its checkpoints, resumes at 4, again at 1 and
// finishes. Keyed state (key groups), source splits and the sink's pending
// files are redistributed; the committed output equals the reference.
func TestRescaleExactlyOnce(t *testing.T) {
	const records, keys = 30000, 101
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	dir := filepath.Join(tmp, "ckpt")
	restore := ""
	for _, p := range []int{2, 4, 1} {
		kv := []string{
			"execution.checkpointing.interval=40ms",
			"execution.checkpointing.dir=" + dir,
			"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
			fmt.Sprintf("parallelism.default=%d", p),
		}
		if restore != "" {
			kv = append(kv, "execution.state-recovery.path="+restore)
		}
		job, err := Submit(context.Background(), countsJob(out, records, keys, 20000, p, nil), cfg(t, kv...), Options{})
		if err != nil {
			t.Fatalf("parallelism %d: %v", p, err)
		}
		if p == 1 {
			if st, err := job.Wait(); st != Finished {
				t.Fatalf("%s: %v", st, err)
			}
			break
		}
		waitFor(t, "two checkpoints", func() bool {
			r := job.Retained()
			return len(r) > 0 && len(job.Checkpoints()) >= 2 && r[len(r)-1].ID >= 2
		})
		time.Sleep(150 * time.Millisecond)
		job.Cancel()
		job.Wait()
		found, ok, err := checkpoint.FindLatest(context.Background(), storage.Default(), dir)
		if err != nil || !ok {
			t.Fatalf("no checkpoint after parallelism %d: %v", p, err)
		}
		restore = found.Dir
	}
	got, want := committed(t, out), reference(records, keys)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatal(diff(got, want))
	}
}

// State of an operator missing from the new job fails the start, naming
// every unmatched operator with its uid, unless non-restored state is allowed.
func TestRestoreUnmatchedState(t *testing.T) {
	dir := t.TempDir()
	_, chk := runUntilCheckpoints(t, dir, 1)
	build := func() *graph.Graph {
		g := graph.New("changed")
		g.Source("generator", func() operator.Source { return &builtin.Generator{Keys: 500, Rate: 100} }).UID("source").Parallelism(2).
			Sink("sink", func() operator.Operator { return builtin.Discard{} }).UID("other-sink")
		return g
	}
	_, err := Submit(context.Background(), build(), cfg(t, "execution.state-recovery.path="+chk), Options{})
	if err == nil || !strings.Contains(err.Error(), `uid "count"`) || !strings.Contains(err.Error(), `uid "sink"`) {
		t.Fatalf("Submit = %v, want both unmatched operators named", err)
	}
	job, err := Submit(context.Background(), build(), cfg(t, "execution.state-recovery.path="+chk, "execution.state-recovery.ignore-unclaimed-state=true"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	job.Cancel()
	job.Wait()
}

// Subscribing after the job ended gives a closed channel, not one that
// never closes (a fast bounded job can end before its watcher subscribes).
func TestSubscribeAfterEnd(t *testing.T) {
	job, err := Submit(context.Background(), countsJob(filepath.Join(t.TempDir(), "o"), 10, 3, 0, 1, nil), cfg(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	job.Wait()
	ch, _ := job.Subscribe()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after the end")
		}
	case <-time.After(time.Second):
		t.Fatal("subscription after the end never closes")
	}
}
