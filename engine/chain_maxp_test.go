package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// A job whose operators chained after the keyed count set their own max
// parallelism (a stateful one and the sink) writes the chain head's for
// every operator of the chain, as Flink does, and resumes unchanged from
// its checkpoint (before, the engine recorded each operator's own value
// for the snapshot and then refused that very job); a changed head max
// parallelism is still refused. Keyed state resumed into a non-keyed
// operator is ignored, as Flink does.
func TestChainedOperatorsOwnMaxParallelism(t *testing.T) {
	dir := t.TempDir()
	build := func(headMP int) *graph.Graph {
		g := graph.New("chained")
		g.Source("generator", func() operator.Source { return &builtin.Generator{Keys: 50, Rate: 5000} }).UID("source").
			KeyBy().Process("count", func() operator.Operator { return &builtin.Count{} }).UID("count").MaxParallelism(headMP).
			Process("after", func() operator.Operator {
				return &operator.Map{Fn: func(r operator.Record) operator.Record { return r }}
			}).UID("after").MaxParallelism(64).
			Sink("sink", func() operator.Operator { return builtin.Discard{} }).UID("sink").MaxParallelism(32)
		return g
	}
	job, err := Submit(context.Background(), build(0), cfg(t,
		"execution.checkpointing.interval=50ms",
		"execution.checkpointing.dir="+dir,
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
		"parallelism.default=2",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a checkpoint", func() bool { return len(job.Retained()) > 0 })
	job.Cancel()
	job.Wait()
	r := job.Retained()
	chk := r[len(r)-1].Dir
	m, err := snapshot.Read(context.Background(), storage.Default(), chk)
	if err != nil {
		t.Fatal(err)
	}
	for _, uid := range []string{"count", "after", "sink"} {
		if op := m.Operator(snapshot.OperatorIDFromUID(uid)); op == nil || op.MaxParallelism != 128 {
			t.Errorf("%s: written with max parallelism %v, want the chain head's derived 128", uid, op)
		}
	}
	resumed, err := Submit(context.Background(), build(0), cfg(t, "execution.state-recovery.path="+chk,
		"execution.checkpointing.dir="+filepath.Join(dir, "resumed"), "parallelism.default=2"), Options{})
	if err != nil {
		t.Fatalf("resuming the unchanged job: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	resumed.Cancel()
	if st, err := resumed.Wait(); st != Canceled {
		t.Fatalf("the resumed job ended %s: %v", st, err)
	}
	// Keyed state restored into an operator that is not keyed: Flink
	// resumes and ignores it; so does the engine (it used to refuse).
	notKeyed := graph.New("not-keyed")
	notKeyed.Source("generator", func() operator.Source { return &builtin.Generator{Keys: 50, Rate: 5000} }).UID("source").
		Process("count", func() operator.Operator {
			return &operator.Map{Fn: func(r operator.Record) operator.Record { return r }}
		}).UID("count").
		Sink("sink", func() operator.Operator { return builtin.Discard{} }).UID("sink")
	nk, err := Submit(context.Background(), notKeyed, cfg(t, "execution.state-recovery.path="+chk,
		"execution.checkpointing.dir="+filepath.Join(dir, "not-keyed"), "parallelism.default=2"), Options{})
	if err != nil {
		t.Fatalf("resuming keyed state into a non-keyed operator: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	nk.Cancel()
	if st, err := nk.Wait(); st != Canceled {
		t.Fatalf("the job with a non-keyed count ended %s: %v", st, err)
	}
	if _, err := Submit(context.Background(), build(256), cfg(t, "execution.state-recovery.path="+chk,
		"execution.checkpointing.dir="+filepath.Join(dir, "changed"), "parallelism.default=2"), Options{}); err == nil {
		t.Fatal("a changed head max parallelism was accepted")
	}
}
