package savepoints

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// TestRealFlinkSavepoints: savepoints real Flink wrote (canonical and
// native, RocksDB) are listed with the job's id prefix and — asked through
// its REST API — its name, their format and checkpoint id from the header,
// newest first; one is disposed through Flink's own /savepoint-disposal
// (confirmed gone), the other by ckpt from storage.
func TestRealFlinkSavepoints(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
	var b [3]byte
	rand.Read(b[:])
	name := "orders-" + hex.EncodeToString(b[:])
	p := peers.Flink(t, peers.FlinkJob{Version: peers.FlinkVersion2, Name: name, Backend: "rocksdb", Parallelism: 1})
	if _, err := p.WaitCheckpoints(1); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "savepoints")
	canonical, err := p.TriggerSavepoint(dir, peers.SavepointCanonical)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // distinct _metadata mtimes
	native, err := p.TriggerSavepoint(dir, peers.SavepointNative)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fsys := storage.NewLocal()
	sps, err := Find(ctx, fsys, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := flinkrest.New(p.RESTURL(), flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := c.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var js []Job
	for _, j := range jobs {
		js = append(js, Job{ID: j.ID, Name: j.Name})
	}
	MatchJobs(sps, js)
	if len(sps) != 2 {
		t.Fatalf("found %d savepoints: %+v", len(sps), sps)
	}
	want := []struct{ path, format string }{{native, "NATIVE"}, {canonical, "CANONICAL"}}
	for i, w := range want {
		s := sps[i]
		if filepath.Base(peers.LocalPath(w.path)) != s.Name || s.Format != w.format || s.JobPrefix != p.JobID()[:6] ||
			s.Owner() != name || !s.Complete || s.Error != "" || s.CheckpointID <= 0 || s.Bytes <= 0 || !s.SelfContained {
			t.Errorf("#%d: %+v, want %s %s of job %s", i, s, w.format, w.path, p.JobID())
		}
	}
	d, err := Dispose(ctx, fsys, cluster.SavepointDisposal(c), sps[0].URI)
	if err != nil || d.Via != "cluster" {
		t.Fatalf("dispose through Flink: %+v %v", d, err)
	}
	d, err = Dispose(ctx, fsys, nil, sps[1].URI)
	if err != nil || d.Via != "storage" {
		t.Fatalf("dispose from storage: %+v %v", d, err)
	}
	for _, s := range sps {
		if _, err := os.Stat(filepath.Join(s.URI, "_metadata")); !os.IsNotExist(err) {
			t.Errorf("%s still has _metadata: %v", s.URI, err)
		}
	}
}
