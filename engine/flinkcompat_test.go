package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// runUntilCheckpoints runs the exactly-once job (unbounded) until n
// checkpoints completed, then cancels it with RETAIN_ON_CANCELLATION and
// returns the newest retained chk-N directory.
func runUntilCheckpoints(t *testing.T, checkpointDir string, n int64) (*Job, string) {
	t.Helper()
	job, err := Submit(context.Background(), countsJob(filepath.Join(t.TempDir(), "out"), 0, 500, 20000, 2, nil), cfg(t,
		"execution.checkpointing.interval=100ms",
		"execution.checkpointing.dir="+checkpointDir,
		"execution.checkpointing.num-retained=2",
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
		"parallelism.default=2",
	), Options{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := job.Retained()
		if len(r) > 0 && r[len(r)-1].ID >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d checkpoints in time: %+v", n, job.Checkpoints())
		}
		time.Sleep(20 * time.Millisecond)
	}
	job.Cancel()
	if st, err := job.Wait(); st != Canceled {
		t.Fatalf("job ended %s: %v", st, err)
	}
	found, ok, err := checkpoint.FindLatest(context.Background(), storage.Default(), checkpointDir)
	if err != nil || !ok {
		t.Fatalf("no retained checkpoint after cancel with RETAIN_ON_CANCELLATION: %v", err)
	}
	return job, found.Dir
}

// Our _metadata has the shape real Flink 2.x writes for an incremental
// RocksDB checkpoint: format version 6, uid and name on every operator,
// keyed state as incremental handles (shared SSTs absolute under shared/,
// private files relative in chk-N), source offsets as operator state.
func TestOurMetadataShape(t *testing.T) {
	dir := t.TempDir()
	job, chk := runUntilCheckpoints(t, dir, 3)
	m, err := snapshot.Read(context.Background(), storage.Default(), chk)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != snapshot.VersionWrite {
		t.Errorf("version %d, want %d", m.Version, snapshot.VersionWrite)
	}
	props, ok, err := m.Properties()
	if err != nil || !ok || props.Kind != snapshot.KindCheckpoint || props.DiscardCancelled {
		t.Errorf("properties %+v ok=%v err=%v; want a checkpoint retained on cancellation", props, ok, err)
	}
	uids := map[string]*snapshot.OperatorState{}
	for _, op := range m.Operators {
		uids[op.UID] = op
		if op.ID != snapshot.OperatorIDFromUID(op.UID) {
			t.Errorf("operator %q: ID %s is not murmur3 of its uid", op.UID, op.ID)
		}
	}
	for _, uid := range []string{"source", "count", "sink"} {
		if uids[uid] == nil {
			t.Fatalf("operator uid %q missing from _metadata (have %v)", uid, m.Operators)
		}
	}
	count := uids["count"]
	if count.Name != "count" || count.Parallelism != 2 || count.MaxParallelism != 128 || len(count.Subtasks) != 2 {
		t.Fatalf("count operator %+v", count)
	}
	shared := storage.Join(job.CheckpointDir(), "shared")
	for _, st := range count.Subtasks {
		ih, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle)
		if !ok {
			t.Fatalf("subtask %d keyed state %T, want *IncrementalHandle", st.Index, st.ManagedKeyedState)
		}
		want := snapshot.KeyGroupRangeFor(128, 2, st.Index)
		if ih.Range != want || ih.BackendID == "" || ih.HandleID == "" {
			t.Errorf("subtask %d: range %v (want %v) backend %q handle %q", st.Index, ih.Range, want, ih.BackendID, ih.HandleID)
		}
		if len(ih.Shared) == 0 || len(ih.Private) == 0 {
			t.Fatalf("subtask %d: %d shared, %d private files", st.Index, len(ih.Shared), len(ih.Private))
		}
		for _, f := range ih.Shared {
			fh, ok := f.Handle.(*snapshot.FileHandle)
			if !ok || !(strings.HasSuffix(f.LocalName, ".sst") || strings.HasSuffix(f.LocalName, ".clog")) || !storage.Within(checkpoint.FlinkPath(shared), fh.Path) {
				t.Errorf("shared file %s -> %#v, want an absolute handle under %s", f.LocalName, f.Handle, shared)
			}
		}
		for _, f := range ih.Private {
			if _, ok := f.Handle.(*snapshot.RelativeFileHandle); !ok {
				t.Errorf("private file %s -> %T, want a relative handle in chk-N", f.LocalName, f.Handle)
			}
			if uri, _, err := m.FileURI(f.Handle); err != nil || !storage.Within(chk, uri) {
				t.Errorf("private file %s resolves to %s (%v), outside %s", f.LocalName, uri, err, chk)
			}
		}
	}
	src := uids["source"]
	for _, st := range src.Subtasks {
		oh, ok := st.ManagedOperatorState.(*snapshot.OperatorStreamHandle)
		if !ok || len(oh.States) != 1 || oh.States[0].Name != "splits" || oh.States[0].Mode != snapshot.SplitDistribute {
			t.Errorf("source subtask %d operator state %#v", st.Index, st.ManagedOperatorState)
		}
	}
}

// TestFlinkLoadsOurMetadata: real Flink 2.x's own metadata loader (in the
// real-peer harness) reads the _metadata our engine writes without error
// and sees our operators with their uids and names.
func TestFlinkLoadsOurMetadata(t *testing.T) {
	if why := peers.Tools(); why != "" {
		peers.Unavailable(t, "%s", why)
	}
	_, chk := runUntilCheckpoints(t, t.TempDir(), 2)
	fm, err := peers.FlinkLoadMetadata(t, peers.FlinkVersion2, chk, 1)
	if err != nil {
		t.Fatalf("Flink %s could not load our %s/_metadata: %v", peers.FlinkVersion2, chk, err)
	}
	m, err := snapshot.Read(context.Background(), storage.Default(), chk)
	if err != nil {
		t.Fatal(err)
	}
	if fm.CheckpointID != m.CheckpointID || fm.Savepoint || len(fm.Operators) != len(m.Operators) {
		t.Fatalf("Flink sees checkpoint %d savepoint=%v with %d operators; we wrote %d with %d",
			fm.CheckpointID, fm.Savepoint, len(fm.Operators), m.CheckpointID, len(m.Operators))
	}
	for i, op := range fm.Operators {
		want := m.Operators[i]
		if op.ID != want.ID.String() || op.UID != want.UID || op.Name != want.Name ||
			op.Parallelism != int(want.Parallelism) || op.MaxParallelism != int(want.MaxParallelism) {
			t.Errorf("Flink sees operator %+v, we wrote id=%s uid=%q name=%q p=%d maxP=%d",
				op, want.ID, want.UID, want.Name, want.Parallelism, want.MaxParallelism)
		}
		if want.UID == "count" && op.StateSize == 0 {
			t.Errorf("Flink sees no state size for the keyed count operator")
		}
	}
}

// Real Flink's loader also reads our savepoints, canonical and native, and
// sees them as savepoints of that format.
func TestFlinkLoadsOurSavepoints(t *testing.T) {
	if why := peers.Tools(); why != "" {
		peers.Unavailable(t, "%s", why)
	}
	tmp := t.TempDir()
	job, err := Submit(context.Background(), countsJob(filepath.Join(tmp, "out"), 0, 500, 20000, 2, nil), cfg(t, "parallelism.default=2"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { job.Cancel(); job.Wait() }()
	time.Sleep(300 * time.Millisecond)
	for _, format := range []snapshot.SavepointFormat{snapshot.FormatCanonical, snapshot.FormatNative} {
		sp, err := job.Savepoint(context.Background(), filepath.Join(tmp, "sp"), format)
		if err != nil {
			t.Fatal(err)
		}
		fm, err := peers.FlinkLoadMetadata(t, peers.FlinkVersion2, sp, 1)
		if err != nil {
			t.Fatalf("Flink %s could not load our %s savepoint %s: %v", peers.FlinkVersion2, format, sp, err)
		}
		if !fm.Savepoint || !strings.Contains(strings.ToUpper(fm.CheckpointType), "SAVEPOINT") {
			t.Errorf("%s: Flink sees type %q savepoint=%v", format, fm.CheckpointType, fm.Savepoint)
		}
		for _, op := range fm.Operators {
			if op.UID == "count" && op.StateSize == 0 {
				t.Errorf("%s: Flink sees no keyed state size", format)
			}
		}
	}
}
