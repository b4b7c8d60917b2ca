package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func listNames(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// Retention keeps exactly num-retained complete checkpoints, and shared/
// holds exactly the files they reference (subsumed ones' files deleted,
// nothing leaked, nothing missing). On cancel the policy decides.
func TestRetention(t *testing.T) {
	tests := []struct {
		retention string
		retained  int
		keepAll   bool // job dir survives cancel
	}{
		{"RETAIN_ON_CANCELLATION", 2, true},
		{"RETAIN_ON_CANCELLATION", 1, true},
		{"DELETE_ON_CANCELLATION", 3, false},
		{"NO_EXTERNALIZED_CHECKPOINTS", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.retention+"/"+string(rune('0'+tt.retained)), func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "ckpt")
			job, err := Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), 0, 2000, 50000, 2, nil), cfg(t,
				"execution.checkpointing.interval=30ms",
				"execution.checkpointing.dir="+dir,
				"state.checkpoints.num-retained="+string(rune('0'+tt.retained)),
				"execution.checkpointing.externalized-checkpoint-retention="+tt.retention,
				"parallelism.default=2",
			), Options{})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "6 checkpoints", func() bool {
				r := job.Retained()
				return len(r) > 0 && r[len(r)-1].ID >= 6
			})
			job.Cancel()
			job.Wait()
			jobDir := job.CheckpointDir()
			if !tt.keepAll {
				if _, err := os.Stat(jobDir); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s: job dir %s still exists after cancel (%v)", tt.retention, jobDir, listNames(t, jobDir))
				}
				return
			}
			var chks []string
			for _, n := range listNames(t, jobDir) {
				if strings.HasPrefix(n, "chk-") {
					chks = append(chks, n)
				}
			}
			if len(chks) != tt.retained {
				t.Fatalf("retained %v, want %d checkpoints", chks, tt.retained)
			}
			referenced := map[string]bool{}
			for _, c := range chks {
				m, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), filepath.Join(jobDir, c))
				if err != nil {
					t.Fatalf("%s is not complete: %v", c, err)
				}
				for _, op := range m.Operators {
					for _, st := range op.Subtasks {
						if ih, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle); ok {
							for _, f := range ih.Shared {
								uri, _, _ := m.FileURI(f.Handle)
								referenced[storage.Base(uri)] = true
							}
						}
					}
				}
			}
			onDisk := listNames(t, filepath.Join(jobDir, "shared"))
			if len(onDisk) != len(referenced) {
				t.Fatalf("shared/ holds %d files, retained checkpoints reference %d", len(onDisk), len(referenced))
			}
			for _, n := range onDisk {
				if !referenced[n] {
					t.Errorf("shared/%s is referenced by no retained checkpoint (leak)", n)
				}
			}
		})
	}
}

// slowSnapshot stalls its first snapshots so those checkpoints time out.
type slowSnapshot struct {
	operator.Base
	stalls *int
}

func (s *slowSnapshot) Process(r operator.Record, out operator.Collector) error {
	out.Collect(r)
	return nil
}
func (s *slowSnapshot) Snapshot(int64) (operator.State, error) {
	if *s.stalls > 0 {
		*s.stalls--
		time.Sleep(400 * time.Millisecond)
	}
	return nil, nil
}

// A checkpoint that times out is reported with its cause and the job goes
// on (within tolerable failures); beyond them the job fails over.
func TestCheckpointTimeout(t *testing.T) {
	for _, tolerable := range []string{"1000", "0"} {
		t.Run("tolerable="+tolerable, func(t *testing.T) {
			tmp := t.TempDir()
			stalls := 2
			g := graph.New("slow")
			g.Source("gen", func() operator.Source { return &builtin.Generator{Keys: 10, Rate: 5000} }).UID("gen").
				Process("slow", func() operator.Operator { return &slowSnapshot{stalls: &stalls} }).UID("slow").
				Sink("sink", func() operator.Operator { return builtin.Discard{} }).UID("sink")
			job, err := Submit(context.Background(), g, cfg(t,
				"execution.checkpointing.interval=20ms",
				"execution.checkpointing.timeout=100ms",
				"execution.checkpointing.tolerable-failed-checkpoints="+tolerable,
				"execution.checkpointing.dir="+filepath.Join(tmp, "ckpt"),
				"restart-strategy.fixed-delay.delay=10ms",
			), Options{})
			if err != nil {
				t.Fatal(err)
			}
			events, _ := job.Subscribe()
			var failed []string
			restarted := false
			for e := range events {
				if e.Kind == "CHECKPOINT_FAILED" {
					failed = append(failed, e.Cause)
				}
				if e.Kind == "JOB_STATUS_CHANGED" && e.Status == "RESTARTING" {
					restarted = true
				}
				if e.Kind == "CHECKPOINT_COMPLETED" && len(failed) > 0 {
					break
				}
			}
			job.Cancel()
			job.Wait()
			if len(failed) == 0 || !strings.Contains(failed[0], "expired before completing") {
				t.Fatalf("failures %q, want an expiry", failed)
			}
			if restarted != (tolerable == "0") {
				t.Fatalf("restarted=%v with tolerable=%s", restarted, tolerable)
			}
		})
	}
}
