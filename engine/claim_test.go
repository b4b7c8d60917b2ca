package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Claim modes, as Flink defines them, for a job resumed from another job's
// retained checkpoint:
//   - NO_CLAIM: the new job never deletes the snapshot and its first
//     checkpoint is self-contained, so the old job's directory can go;
//   - CLAIM: the new job owns the snapshot and deletes it once subsumed;
//   - LEGACY: new checkpoints may reference it, nobody deletes it.
func TestClaimModes(t *testing.T) {
	for _, mode := range []string{"NO_CLAIM", "CLAIM", "LEGACY"} {
		t.Run(mode, func(t *testing.T) {
			const records = 20000
			tmp := t.TempDir()
			out := filepath.Join(tmp, "out")
			dir := filepath.Join(tmp, "ckpt")
			first, chk := runUntilCheckpointsInto(t, out, dir, records)
			oldJobDir := first.CheckpointDir()
			job, err := Submit(context.Background(), countsJob(out, records, 53, 15000, 2, nil), cfg(t,
				"execution.checkpointing.interval=40ms",
				"execution.checkpointing.dir="+dir,
				"execution.state-recovery.path="+chk,
				"execution.state-recovery.claim-mode="+mode,
				"parallelism.default=2",
			), Options{})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "two new checkpoints", func() bool {
				r := job.Retained()
				return len(r) > 0 && r[len(r)-1].ID >= job.Restored().CheckpointID+2
			})
			_, statErr := os.Stat(chk)
			switch mode {
			case "CLAIM":
				if !errors.Is(statErr, os.ErrNotExist) {
					t.Errorf("CLAIM: restored checkpoint %s still exists after being subsumed", chk)
				}
			default:
				if statErr != nil {
					t.Errorf("%s: restored checkpoint deleted: %v", mode, statErr)
				}
			}
			if mode == "NO_CLAIM" {
				// Nothing of the new job refers to the old job's files.
				if err := os.RemoveAll(oldJobDir); err != nil {
					t.Fatal(err)
				}
			}
			if st, err := job.Wait(); st != Finished {
				t.Fatalf("%s %v", st, err)
			}
			if got, want := committed(t, out), reference(records, 53); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatal(diff(got, want))
			}
		})
	}
}

// runUntilCheckpointsInto runs the bounded exactly-once job until it has a
// checkpoint, cancels it keeping checkpoints, and returns the newest one.
func runUntilCheckpointsInto(t *testing.T, out, dir string, records int64) (*Job, string) {
	t.Helper()
	job, err := Submit(context.Background(), countsJob(out, records, 53, 15000, 2, nil), cfg(t,
		"execution.checkpointing.interval=40ms",
		"execution.checkpointing.dir="+dir,
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
		"parallelism.default=2",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a checkpoint", func() bool { r := job.Retained(); return len(r) > 0 && r[len(r)-1].ID >= 2 })
	time.Sleep(50 * time.Millisecond)
	job.Cancel()
	job.Wait()
	r := job.Retained()
	if len(r) == 0 {
		t.Fatal("no retained checkpoint")
	}
	return job, r[len(r)-1].Dir
}
