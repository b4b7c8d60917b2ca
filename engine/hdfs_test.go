package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// The exactly-once suite again, with checkpoints on a real HDFS
// (MiniDFSCluster): a panicking operator with in-process failover, whole
// processes killed (also inside uploads and before _metadata) and resumed
// from the latest complete checkpoint found on HDFS, and the layout of
// what we wrote there.
func TestExactlyOnceOnHDFS(t *testing.T) {
	h := peers.HDFS(t)
	base := h.BaseURI(t)

	t.Run("panicking operator", func(t *testing.T) {
		exactlyOnceAcrossFailover(t, storage.Join(base, "panic"), failover{records: 12000, keys: 40, failAfter: 2000, rate: 30000, interval: "100ms"})
	})

	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("SIGKILL seed=%d", seed), func(t *testing.T) {
			tmp := t.TempDir()
			crashScenario(t, seed, storage.Join(base, fmt.Sprintf("kill-%d", seed)), tmp)
		})
	}

	t.Run("savepoint moved from local disk to HDFS", func(t *testing.T) {
		const records = 12000
		tmp := t.TempDir()
		out := filepath.Join(tmp, "out")
		job := submitCounts(t, out, records, 2, "")
		time.Sleep(200 * time.Millisecond)
		local, err := job.StopWithSavepoint(context.Background(), filepath.Join(tmp, "sp"), snapshot.FormatCanonical, false)
		if err != nil {
			t.Fatal(err)
		}
		remote := storage.Join(base, "moved", filepath.Base(local))
		copyTree(t, local, remote)
		if err := os.RemoveAll(local); err != nil {
			t.Fatal(err)
		}
		resumed := submitCounts(t, out, records, 3, remote)
		if st, err := resumed.Wait(); st != Finished {
			t.Fatalf("%s %v", st, err)
		}
		if got, want := committed(t, out), reference(records, 53); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatal(diff(got, want))
		}
	})

	t.Run("savepoint on HDFS, rescaled resume", func(t *testing.T) {
		const records = 12000
		tmp := t.TempDir()
		out := filepath.Join(tmp, "out")
		job := submitCounts(t, out, records, 2, "")
		time.Sleep(200 * time.Millisecond)
		sp, err := job.StopWithSavepoint(context.Background(), storage.Join(base, "sp"), snapshot.FormatNative, false)
		if err != nil {
			t.Fatal(err)
		}
		resumed := submitCounts(t, out, records, 1, sp)
		if st, err := resumed.Wait(); st != Finished {
			t.Fatalf("%s %v", st, err)
		}
		if got, want := committed(t, out), reference(records, 53); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatal(diff(got, want))
		}
	})

	t.Run("retained checkpoint layout", func(t *testing.T) {
		dir := storage.Join(base, "retained")
		job, chk := runUntilCheckpoints(t, dir, 2)
		if !strings.HasPrefix(chk, "hdfs://") {
			t.Fatalf("latest checkpoint %s is not on HDFS", chk)
		}
		m, err := checkpoint.LoadMetadata(context.Background(), storage.Default(), chk)
		if err != nil {
			t.Fatal(err)
		}
		var sharedFiles int
		for _, op := range m.Operators {
			for _, st := range op.Subtasks {
				if ih, ok := st.ManagedKeyedState.(*snapshot.IncrementalHandle); ok {
					for _, f := range ih.Shared {
						uri, _, _ := m.FileURI(f.Handle)
						if !storage.Within(storage.Join(job.CheckpointDir(), "shared"), uri) {
							t.Errorf("shared file %s not under the job's shared/ on HDFS", uri)
						}
						if _, err := storage.Default().Stat(context.Background(), uri); err != nil {
							t.Errorf("shared file missing: %v", err)
						}
						sharedFiles++
					}
				}
			}
		}
		if sharedFiles == 0 {
			t.Fatal("no shared SST files referenced")
		}
	})
}

// copyTree copies a snapshot directory between filesystems (local ↔ HDFS).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	ctx := context.Background()
	fsys := storage.Default()
	err := fsys.Walk(ctx, from, func(fi storage.FileInfo) error {
		rel := strings.TrimPrefix(strings.TrimPrefix(fi.URI, from), "/")
		dst := to
		if rel != "" {
			dst = storage.Join(to, rel)
		}
		if fi.IsDir {
			return fsys.MkdirAll(ctx, dst)
		}
		data, err := storage.ReadAll(ctx, fsys, fi.URI)
		if err != nil {
			return err
		}
		return storage.WriteFile(ctx, fsys, dst, data, storage.CreateOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
}
