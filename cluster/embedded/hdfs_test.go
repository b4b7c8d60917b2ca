package embedded

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

func TestMain(m *testing.M) { peers.RunTests(m) }

// TestHDFS: the control plane with snapshots on a real HDFS — checkpoints
// reported with their hdfs:// paths, a resume from a retained checkpoint on
// HDFS, and a savepoint on HDFS disposed (a checkpoint there refused).
func TestHDFS(t *testing.T) {
	h := peers.HDFS(t)
	base := h.BaseURI(t)
	ctx := context.Background()
	cfg := config.New()
	for k, v := range map[string]string{
		config.CheckpointDir: storage.Join(base, "checkpoints"),
		config.Retention:     "RETAIN_ON_CANCELLATION",
	} {
		if err := cfg.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Options{Config: cfg})
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		c.Close(cctx)
	}()
	id := submit(t, c, countsSpec, cluster.RunRequest{})
	waitFor(t, "a checkpoint on HDFS", func() bool {
		st, err := c.Checkpoints(ctx, id)
		return err == nil && st.Counts.Completed >= 1
	})
	if err := c.Cancel(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "CANCELED", func() bool { j, _ := c.Job(ctx, id); return j.Status == cluster.JobCanceled })
	st, _ := c.Checkpoints(ctx, id)
	chk := st.LatestCompleted.ExternalPath
	if !strings.HasPrefix(chk, "hdfs://") || !strings.Contains(chk, "/"+id+"/chk-") {
		t.Fatalf("latest completed checkpoint %q is not on HDFS", chk)
	}
	id2 := submit(t, c, countsSpec, cluster.RunRequest{SavepointPath: chk})
	waitFor(t, "a checkpoint after resuming from HDFS", func() bool {
		st, err := c.Checkpoints(ctx, id2)
		return err == nil && st.Counts.Completed >= 1
	})
	st2, _ := c.Checkpoints(ctx, id2)
	if st2.LatestRestored == nil || st2.LatestRestored.ID != st.LatestCompleted.ID {
		t.Errorf("restored %+v, want checkpoint %d", st2.LatestRestored, st.LatestCompleted.ID)
	}

	meta, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink",
		"new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	fs := storage.Default()
	sp := storage.Join(base, "savepoints", "savepoint-a1b2c3-0123456789ab")
	if err := fs.MkdirAll(ctx, sp); err != nil {
		t.Fatal(err)
	}
	if err := storage.WriteFile(ctx, fs, storage.Join(sp, "_metadata"), meta, storage.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		ok   bool
	}{{chk, false}, {sp, true}} {
		tr, err := c.DisposeSavepoint(ctx, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = cluster.Wait(wctx, c, tr)
		cancel()
		if tc.ok != (err == nil) {
			t.Errorf("dispose %s: %v", tc.path, err)
		}
		_, serr := fs.Stat(ctx, storage.Join(tc.path, "_metadata"))
		if tc.ok != storage.IsNotExist(serr) {
			t.Errorf("after disposing %s: stat _metadata: %v", tc.path, serr)
		}
	}
}
