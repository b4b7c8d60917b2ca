package checkpoint

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// fakeRuntime acknowledges every barrier after ackAfter, recording how
// many checkpoints were in flight at once and when each was triggered.
type fakeRuntime struct {
	c        *Coordinator
	ackAfter time.Duration
	decline  bool

	mu          sync.Mutex
	triggers    []time.Time
	completions []time.Time
	inFlight    int
	maxInFlight int
}

func (f *fakeRuntime) ResumeSources() {}

func (f *fakeRuntime) InjectBarrier(id int64, _ BarrierOptions) error {
	f.mu.Lock()
	f.triggers = append(f.triggers, time.Now())
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	go func() {
		time.Sleep(f.ackAfter)
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
		ack := TaskAck{CheckpointID: id, Results: []SubtaskResult{{Vertex: 0, Subtask: 0, State: &snapshot.SubtaskState{}}}}
		if f.decline {
			ack.Err = context.DeadlineExceeded
		}
		f.c.Ack(ack)
	}()
	return nil
}
func (f *fakeRuntime) NotifyComplete(id int64) {
	f.mu.Lock()
	f.completions = append(f.completions, time.Now())
	f.mu.Unlock()
}
func (f *fakeRuntime) NotifyAborted(int64) {}

func newTestCoordinator(t *testing.T, opts config.Checkpointing, rt *fakeRuntime, events chan event.Event, fail func(error)) *Coordinator {
	g := graph.New("t")
	g.Source("s", func() operator.Source { return nil }).UID("s")
	if err := g.Finalize(1, 0); err != nil {
		t.Fatal(err)
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	if opts.NumRetained == 0 {
		opts.NumRetained = 1
	}
	if opts.MaxConcurrent == 0 {
		opts.MaxConcurrent = 1
	}
	l := NewLayout(storage.Default(), t.TempDir(), "0123456789abcdef0123456789abcdef", true)
	c := New(opts, l, g, "job", func(e event.Event) {
		select {
		case events <- e:
		default:
		}
	}, fail)
	rt.c = c
	c.Attach(rt)
	return c
}

// Periodic triggering honours max concurrent checkpoints and the min pause
// between the end of one checkpoint and the start of the next.
func TestTriggerPacing(t *testing.T) {
	tests := []struct {
		name        string
		opts        config.Checkpointing
		ackAfter    time.Duration
		wantMaxPar  int
		minGapAfter time.Duration // between a completion and the next trigger
	}{
		{"one at a time", config.Checkpointing{Interval: 20 * time.Millisecond, MaxConcurrent: 1}, 60 * time.Millisecond, 1, 0},
		{"three concurrent", config.Checkpointing{Interval: 20 * time.Millisecond, MaxConcurrent: 3}, 100 * time.Millisecond, 3, 0},
		{"min pause", config.Checkpointing{Interval: 20 * time.Millisecond, MaxConcurrent: 3, MinPause: 80 * time.Millisecond}, 10 * time.Millisecond, 1, 80 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &fakeRuntime{ackAfter: tt.ackAfter}
			c := newTestCoordinator(t, tt.opts, rt, make(chan event.Event, 1000), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
			c.Run(ctx)
			cancel()
			c.Shutdown("CANCELED")
			rt.mu.Lock()
			defer rt.mu.Unlock()
			if len(rt.triggers) < 3 {
				t.Fatalf("only %d checkpoints triggered", len(rt.triggers))
			}
			// Never more than allowed; with room for three, at least two
			// overlap even on a loaded machine.
			if rt.maxInFlight > tt.wantMaxPar || (tt.wantMaxPar > 1 && rt.maxInFlight < 2) {
				t.Errorf("max in flight %d, want %d", rt.maxInFlight, tt.wantMaxPar)
			}
			if tt.minGapAfter > 0 {
				for _, done := range rt.completions {
					for _, trig := range rt.triggers {
						if trig.After(done) && trig.Sub(done) < tt.minGapAfter-5*time.Millisecond {
							t.Fatalf("checkpoint triggered %s after the previous completed (min pause %s)", trig.Sub(done), tt.minGapAfter)
						}
					}
				}
			}
		})
	}
}

// Declined checkpoints are reported with their cause; more consecutive
// failures than tolerated fail the job over, fewer do not.
func TestTolerableFailures(t *testing.T) {
	for _, tolerable := range []int{0, 2} {
		rt := &fakeRuntime{decline: true}
		events := make(chan event.Event, 100)
		var failed []error
		var mu sync.Mutex
		c := newTestCoordinator(t, config.Checkpointing{Tolerable: tolerable}, rt, events, func(err error) {
			mu.Lock()
			failed = append(failed, err)
			mu.Unlock()
		})
		for i := 0; i <= tolerable; i++ {
			_, done := c.Trigger(false)
			if err := <-done; err == nil {
				t.Fatal("declined checkpoint completed")
			}
			mu.Lock()
			n := len(failed)
			mu.Unlock()
			if want := i == tolerable; (n > 0) != want {
				t.Fatalf("tolerable=%d: after %d failures, job failed over: %v", tolerable, i+1, n > 0)
			}
		}
		var sawCause bool
		for len(events) > 0 {
			e := <-events
			if e.Kind == event.CheckpointFailed && strings.Contains(e.Cause, "deadline exceeded") {
				sawCause = true
			}
		}
		if !sawCause {
			t.Errorf("no CHECKPOINT_FAILED event carrying the cause")
		}
	}
}
