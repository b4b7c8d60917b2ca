package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func submitCounts(t *testing.T, out string, records int64, p int, restore string, extra ...string) *Job {
	t.Helper()
	kv := append([]string{
		"execution.checkpointing.interval=50ms",
		"execution.checkpointing.dir=" + filepath.Join(filepath.Dir(out), "ckpt"),
		"parallelism.default=" + string(rune('0'+p)),
	}, extra...)
	if restore != "" {
		kv = append(kv, "execution.state-recovery.path="+restore)
	}
	job, err := Submit(context.Background(), countsJob(out, records, 53, 15000, p, nil), cfg(t, kv...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "RUNNING", func() bool { return job.Status() == Running })
	return job
}

// Upgrade day: take a savepoint while running, stop with a savepoint, move
// the savepoint elsewhere, resume it at another parallelism, finish. The
// committed output equals the reference exactly, for both formats.
func TestStopWithSavepointAndResume(t *testing.T) {
	for _, format := range []snapshot.SavepointFormat{snapshot.FormatCanonical, snapshot.FormatNative} {
		t.Run(string(format), func(t *testing.T) {
			const records = 12000
			tmp := t.TempDir()
			out := filepath.Join(tmp, "out")
			job := submitCounts(t, out, records, 2, "")
			time.Sleep(200 * time.Millisecond)
			ctx := context.Background()
			mid, err := job.Savepoint(ctx, filepath.Join(tmp, "sp"), format)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(filepath.Base(mid), "savepoint-"+job.ID()[:6]+"-") {
				t.Fatalf("savepoint dir %s", mid)
			}
			time.Sleep(150 * time.Millisecond)
			final, err := job.StopWithSavepoint(ctx, filepath.Join(tmp, "sp"), format, false)
			if err != nil {
				t.Fatal(err)
			}
			if st, err := job.Wait(); st != Finished {
				t.Fatalf("after stop with savepoint: %s %v", st, err)
			}
			for _, sp := range []string{mid, final} {
				m, err := snapshot.Read(ctx, storage.Default(), sp)
				if err != nil {
					t.Fatal(err)
				}
				p, _, _ := m.Properties()
				if p.Kind != snapshot.KindSavepoint || p.Format != format {
					t.Fatalf("%s: properties %+v", sp, p)
				}
			}
			// Relocate: savepoints are self-contained.
			moved := filepath.Join(tmp, "elsewhere", filepath.Base(final))
			os.MkdirAll(filepath.Dir(moved), 0o755)
			if err := os.Rename(final, moved); err != nil {
				t.Fatal(err)
			}
			resumed := submitCounts(t, out, records, 3, moved)
			if st, err := resumed.Wait(); st != Finished {
				t.Fatalf("resumed job: %s %v", st, err)
			}
			if got, want := committed(t, out), reference(records, 53); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatal(diff(got, want))
			}
		})
	}
}

// Cancel with savepoint is atomic: the savepoint is the final state; a
// resumed job completes the output exactly.
func TestCancelWithSavepoint(t *testing.T) {
	const records = 9000
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	job := submitCounts(t, out, records, 2, "", "execution.checkpointing.savepoint-dir="+filepath.Join(tmp, "sp"))
	time.Sleep(200 * time.Millisecond)
	sp, err := job.CancelWithSavepoint(context.Background(), "", snapshot.FormatCanonical)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := job.Wait(); st != Canceled {
		t.Fatalf("status %s", st)
	}
	resumed := submitCounts(t, out, records, 2, sp)
	if st, err := resumed.Wait(); st != Finished {
		t.Fatalf("%s %v", st, err)
	}
	if got, want := committed(t, out), reference(records, 53); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatal(diff(got, want))
	}
}

func TestSavepointNeedsADirectory(t *testing.T) {
	job := submitCounts(t, filepath.Join(t.TempDir(), "out"), 0, 1, "")
	defer func() { job.Cancel(); job.Wait() }()
	if _, err := job.Savepoint(context.Background(), "", ""); !errors.Is(err, ErrNoSavepointDir) {
		t.Fatalf("Savepoint without a directory = %v", err)
	}
}

// stop --drain ends the input first (windows fire), then the savepoint is
// the final state and the job FINISHES.
func TestStopWithSavepointDrain(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out")
	job := submitCounts(t, out, 0, 2, "")
	time.Sleep(200 * time.Millisecond)
	sp, err := job.StopWithSavepoint(context.Background(), filepath.Join(tmp, "sp"), snapshot.FormatNative, true)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := job.Wait(); st != Finished {
		t.Fatalf("%s %v", st, err)
	}
	m, err := snapshot.Read(context.Background(), storage.Default(), sp)
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := m.Properties(); p.PostCheckpointAction != snapshot.ActionTerminate {
		t.Fatalf("properties %+v", p)
	}
	if len(committed(t, out)) == 0 {
		t.Fatal("nothing committed after stop --drain")
	}
}

// With a catalog, the job is remembered with its status, latest checkpoint
// and savepoints, and the record survives reopening the catalog.
func TestCatalogRecordsJob(t *testing.T) {
	tmp := t.TempDir()
	cat, err := catalog.Open(filepath.Join(tmp, "catalog"))
	if err != nil {
		t.Fatal(err)
	}
	job, err := Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), 6000, 11, 20000, 2, nil), cfg(t,
		"execution.checkpointing.interval=40ms", "execution.checkpointing.dir="+filepath.Join(tmp, "ckpt")),
		Options{Catalog: cat, Spec: "name: counts\n"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "RUNNING", func() bool { return job.Status() == Running })
	time.Sleep(100 * time.Millisecond)
	sp, err := job.Savepoint(context.Background(), filepath.Join(tmp, "sp"), "")
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := job.Wait(); st != Finished {
		t.Fatal(st)
	}
	cat.Close()
	cat, _ = catalog.Open(filepath.Join(tmp, "catalog"))
	defer cat.Close()
	rec, ok, err := cat.Get(job.ID())
	if err != nil || !ok {
		t.Fatalf("no record: %v", err)
	}
	if rec.Status != "FINISHED" || rec.Name != "counts" || rec.Spec == "" || rec.LatestCheckpoint == "" ||
		len(rec.Savepoints) != 1 || rec.Savepoints[0] != sp || rec.End.IsZero() || rec.CheckpointDir != job.CheckpointDir() {
		t.Fatalf("record %+v", rec)
	}
}
