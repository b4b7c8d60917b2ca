package engine

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
)

// Every acknowledgement carries the task's start delay (checkpoint trigger
// to the first barrier the task sees) and alignment (first barrier to
// last), as Flink's checkpoint statistics report them. A source subtask
// that only looks at its barriers every 40 ms takes them up late (start
// delay), and the task downstream of both sources waits for that late
// barrier after the prompt one (alignment).
func TestBarrierStartDelayAndAlignment(t *testing.T) {
	p := &alignProbe{emitted: map[int64]int64{}, seen: map[int64]int64{}}
	g := graph.New("timing")
	g.Source("skewed", func() operator.Source { return &skewedSource{p: p} }).UID("src").Parallelism(2).
		Process("probe", func() operator.Operator { return &probeOp{p: p} }).UID("probe").Parallelism(1).
		Sink("discard", func() operator.Operator { return builtin.Discard{} }).UID("discard").Parallelism(1)
	job, err := Submit(context.Background(), g, cfg(t, "execution.checkpointing.interval=50ms",
		"execution.checkpointing.dir="+filepath.Join(t.TempDir(), "ckpt")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	events, stop := job.Subscribe()
	defer func() { stop(); job.Cancel(); job.Wait() }()

	type key struct {
		op  string
		sub int
	}
	acks := map[int64]map[key]event.Event{}
	took := map[int64]time.Duration{}
	deadline := time.After(30 * time.Second)
	for len(took) < 6 {
		select {
		case e := <-events:
			switch e.Kind {
			case event.SubtaskAcknowledged:
				if acks[e.CheckpointID] == nil {
					acks[e.CheckpointID] = map[key]event.Event{}
				}
				acks[e.CheckpointID][key{e.OperatorUID, e.Subtask}] = e
			case event.CheckpointCompleted:
				took[e.CheckpointID] = e.Duration
			}
		case <-deadline:
			t.Fatalf("only %d checkpoints completed in 30 s", len(took))
		}
	}
	var slowSource, aligned int
	for id, d := range took {
		a := acks[id]
		if len(a) != 4 {
			t.Fatalf("checkpoint %d: %d operator subtasks acknowledged, want 4 (2 sources, the probe and the sink chained to it)", id, len(a))
		}
		for k, e := range a {
			if e.StartDelay < 0 || e.StartDelay > d || e.Alignment < 0 || e.Alignment > d {
				t.Errorf("checkpoint %d %v: start delay %v, alignment %v, checkpoint took %v", id, k, e.StartDelay, e.Alignment, d)
			}
			if k.op == "src" && e.Alignment != 0 {
				t.Errorf("checkpoint %d: source subtask %d reports alignment %v; a source has no inputs to align", id, k.sub, e.Alignment)
			}
		}
		if a[key{"src", 1}].StartDelay >= 5*time.Millisecond {
			slowSource++
		}
		probe := a[key{"probe", 0}]
		if probe.Alignment >= 5*time.Millisecond {
			aligned++
		}
		if sink := a[key{"discard", 0}]; sink.StartDelay != probe.StartDelay || sink.Alignment != probe.Alignment {
			t.Errorf("checkpoint %d: the sink chained to the probe reports %v/%v, the probe %v/%v: one task, one barrier",
				id, sink.StartDelay, sink.Alignment, probe.StartDelay, probe.Alignment)
		}
		t.Logf("checkpoint %d (%v): source 1 start delay %v; probe start delay %v, alignment %v", id, d,
			a[key{"src", 1}].StartDelay, probe.StartDelay, probe.Alignment)
	}
	// The slow source sleeps 40 ms between looks at its barriers: on
	// average it takes a barrier up 20 ms late, and the probe waits about
	// as long for it. Most checkpoints must show it.
	if slowSource < len(took)/2 || aligned < len(took)/2 {
		t.Errorf("of %d checkpoints, %d show the slow source's start delay and %d the probe's alignment (≥ 5 ms); want most", len(took), slowSource, aligned)
	}
}
