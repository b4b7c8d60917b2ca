package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
)

// panicOnOpen is an operator whose Open panics (user code gone wrong).
type panicOnOpen struct{ builtin.Discard }

func (panicOnOpen) Open(*operator.Context) error { panic("boom in Open") }

// Tasks open side by side on their own goroutines; an operator's panic
// there fails the job with its message instead of ending the process.
func TestOpenPanicFailsTheJob(t *testing.T) {
	g := graph.New("open-panic")
	g.Source("generator", func() operator.Source { return &builtin.Generator{Keys: 10, Limit: 100} }).UID("source").Parallelism(2).
		KeyBy().Process("boom", func() operator.Operator { return panicOnOpen{} }).UID("boom").Parallelism(2).
		Sink("discard", func() operator.Operator { return builtin.Discard{} }).UID("sink")
	job, err := Submit(context.Background(), g, cfg(t, "restart-strategy.type=none"), Options{})
	if err == nil {
		done := make(chan struct{})
		go func() { defer close(done); _, err = job.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			job.Cancel()
			t.Fatal("job with a panicking Open did not end")
		}
		if st := job.Status(); st != Failed {
			t.Fatalf("job ended %s, want FAILED", st)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "boom in Open") || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("error %v, want the panic's message", err)
	}
}
