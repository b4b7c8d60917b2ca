package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// sharedNames lists the shared files of the count operator's keyed state
// in the checkpoint at dir.
func sharedNames(t *testing.T, dir string) []string {
	t.Helper()
	m, err := snapshot.Read(context.Background(), storage.Default(), dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, op := range m.Operators {
		if op.UID != "count" {
			continue
		}
		for _, st := range op.Subtasks {
			if ih, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle); ok {
				for _, f := range ih.Shared {
					names = append(names, f.LocalName)
				}
			}
		}
	}
	return names
}

// A job resumed from a checkpoint whose keyed state fits in the value
// caches preloads it when the operators open, so its own checkpoints
// write change logs (not sorted tables) as a fresh job's do: the state
// was restored before the operators registered it.
func TestResumedJobCheckpointsChangeLogs(t *testing.T) {
	dir, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	first, err := Submit(context.Background(), countsJob(out, 0, 500, 20000, 2, nil), cfg(t,
		"execution.checkpointing.interval=100ms",
		"execution.checkpointing.dir="+dir,
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 checkpoints", func() bool { r := first.Retained(); return len(r) > 0 && r[len(r)-1].ID >= 3 })
	first.Cancel()
	first.Wait()
	chk := first.Retained()[len(first.Retained())-1].Dir
	restored := map[string]bool{}
	for _, n := range sharedNames(t, chk) {
		restored[n] = true
	}
	if !hasSuffix(sharedNames(t, chk), ".clog") {
		t.Fatalf("fresh job's checkpoint: shared %v, want change logs", sharedNames(t, chk))
	}
	resumed := filepath.Join(t.TempDir(), "resumed")
	// The same output directory: the sink's pending files belong to it.
	job, err := Submit(context.Background(), countsJob(out, 0, 500, 20000, 2, nil), cfg(t,
		"execution.checkpointing.interval=100ms",
		"execution.checkpointing.dir="+resumed,
		"execution.state-recovery.path="+chk,
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { job.Cancel(); job.Wait() }()
	events, stop := job.Subscribe()
	defer stop()
	var cause string
	go func() {
		for e := range events {
			if e.Kind == "TASK_FAILED" && cause == "" {
				cause = e.Cause
			}
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r := job.Retained(); len(r) > 0 && r[len(r)-1].ID >= 3 {
			// Its own deltas (not the restored ones it references).
			var own []string
			for _, n := range sharedNames(t, r[len(r)-1].Dir) {
				if !restored[n] {
					own = append(own, n)
				}
			}
			if len(own) == 0 {
				continue
			}
			for _, n := range own {
				if !strings.HasSuffix(n, ".clog") {
					t.Fatalf("resumed job's checkpoint %d wrote %v, want only change logs", r[len(r)-1].ID, own)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint with its own deltas after the resume (status %s, attempts %d, first failure %q): %+v", job.Status(), job.Attempts(), cause, job.Checkpoints())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hasSuffix(names []string, suffix string) bool {
	for _, n := range names {
		if strings.HasSuffix(n, suffix) {
			return true
		}
	}
	return false
}
