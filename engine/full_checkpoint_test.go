package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// keyedShared lists the shared files the keyed state of a checkpoint
// references, with their sizes.
func keyedShared(t *testing.T, chk string) map[string]int64 {
	t.Helper()
	m, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), chk)
	if err != nil {
		t.Fatalf("%s: %v", chk, err)
	}
	out := map[string]int64{}
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			if ih, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle); ok {
				for _, f := range ih.Shared {
					uri, _, err := m.FileURI(f.Handle)
					if err != nil {
						t.Fatal(err)
					}
					out[uri] = f.Handle.StateSize()
				}
			}
		}
	}
	return out
}

// A FULL checkpoint of an incremental job uploads all keyed state afresh
// and references nothing earlier checkpoints uploaded, so it survives the
// deletion of every other checkpoint and restores on its own; the next
// incremental checkpoint builds on its files (sharing goes forward only).
func TestFullCheckpoint(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "ckpt")
	job, err := Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), 0, 5000, 20000, 2, nil), cfg(t,
		"execution.checkpointing.dir="+dir,
		"state.checkpoints.num-retained=4",
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
		"parallelism.default=2",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { job.Cancel(); job.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ids []int64
	for i, full := range []bool{false, false, true, false} {
		before := job.Metrics()[1].RecordsIn
		waitFor(t, "records", func() bool { return job.Metrics()[1].RecordsIn > before+4000 })
		trigger := job.TriggerCheckpoint
		if full {
			trigger = job.TriggerFullCheckpoint
		}
		id, err := trigger(ctx)
		if err != nil {
			t.Fatalf("checkpoint %d (full %v): %v", i+1, full, err)
		}
		ids = append(ids, id)
	}
	chk := func(i int) string { return filepath.Join(job.CheckpointDir(), "chk-"+strconv.FormatInt(ids[i], 10)) }
	earlier := keyedShared(t, chk(0))
	for u, n := range keyedShared(t, chk(1)) {
		earlier[u] = n
	}
	full := keyedShared(t, chk(2))
	if len(full) == 0 {
		t.Fatal("the full checkpoint references no shared files")
	}
	var fullBytes int64
	for u, n := range full {
		if _, ok := earlier[u]; ok {
			t.Errorf("the full checkpoint references %s, uploaded by an earlier checkpoint", u)
		}
		fullBytes += n
	}
	for _, s := range job.Checkpoints() {
		if s.ID == ids[2] && (!s.Full || s.Checkpointed < fullBytes) {
			t.Errorf("full checkpoint stats: full=%v, uploaded %d bytes, its shared files alone hold %d", s.Full, s.Checkpointed, fullBytes)
		}
		if s.ID == ids[3] && s.Full {
			t.Errorf("checkpoint %d after the full one is marked full", s.ID)
		}
	}
	after := keyedShared(t, chk(3))
	reused := 0
	for u := range after {
		if _, ok := full[u]; ok {
			reused++
		}
	}
	if reused == 0 {
		// Legitimate only when every key changed since the full one: the
		// delta then holds all live state and becomes the whole chain
		// (a rebase), uploading about the full state size. Under load the
		// records between two triggers can touch every key.
		for _, s := range job.Checkpoints() {
			// (Other operators' small state is counted in the full size
			// whether or not it changed: allow a tenth.)
			if s.ID == ids[3] && s.Checkpointed*10 < s.StateSize*9 {
				t.Errorf("the checkpoint after the full one reuses none of its files, yet uploaded %d of %d bytes (not a rebase)", s.Checkpointed, s.StateSize)
			}
		}
	}
	job.Cancel()
	job.Wait()

	// Only the full checkpoint and the files it references remain: it
	// must restore on its own.
	for _, i := range []int{0, 1, 3} {
		os.RemoveAll(chk(i))
	}
	shared := filepath.Join(job.CheckpointDir(), "shared")
	ents, _ := os.ReadDir(shared)
	for _, e := range ents {
		if _, ok := full[checkpoint.FlinkPath(filepath.Join(shared, e.Name()))]; !ok {
			os.Remove(filepath.Join(shared, e.Name()))
		}
	}
	resumed, err := Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), 0, 5000, 20000, 2, nil), cfg(t,
		"execution.checkpointing.dir="+filepath.Join(tmp, "ckpt2"),
		"execution.state-recovery.path="+chk(2),
		"parallelism.default=2",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { resumed.Cancel(); resumed.Wait() }()
	waitFor(t, "the resumed job to run", func() bool { return resumed.Status() == Running })
	if _, err := resumed.TriggerCheckpoint(ctx); err != nil {
		t.Fatalf("checkpoint after restoring from the full checkpoint alone: %v", err)
	}
	if st := resumed.Status(); st != Running {
		t.Fatalf("resumed job is %s", st)
	}
}
