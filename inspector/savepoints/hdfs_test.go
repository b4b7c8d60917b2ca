package savepoints

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

func TestMain(m *testing.M) { peers.RunTests(m) }

// TestHDFSSavepoints: the same savepoint tree on the real HDFS lists,
// describes, previews and disposes as on local disk (HDFS sizes come from
// the NameNode's content summary, mtimes from HDFS itself).
func TestHDFSSavepoints(t *testing.T) {
	h := peers.HDFS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	router := storage.NewRouter(storage.Options{})
	defer router.Close()
	base := h.BaseURI(t)
	root := storage.Join(base, "savepoints")
	sptest.Tree(t, router, root, time.Time{})
	localRoot := t.TempDir()
	sptest.Tree(t, storage.NewLocal(), localRoot, now)

	onHDFS, err := Find(ctx, router, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := Find(ctx, storage.NewLocal(), localRoot, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byName := func(sps []Savepoint) map[string]Savepoint {
		m := map[string]Savepoint{}
		for _, s := range sps {
			m[s.Name] = s
		}
		return m
	}
	hm, lm := byName(onHDFS), byName(onDisk)
	if len(hm) != 6 || len(hm) != len(lm) {
		t.Fatalf("HDFS lists %d, local disk %d", len(hm), len(lm))
	}
	for name, l := range lm {
		s, ok := hm[name]
		if !ok {
			t.Errorf("%s missing on HDFS", name)
			continue
		}
		if !strings.HasPrefix(s.URI, "hdfs://") || s.Bytes != l.Bytes || s.Files != l.Files || s.Format != l.Format ||
			s.CheckpointID != l.CheckpointID || s.Complete != l.Complete || s.Kind != l.Kind || s.SelfContained != l.SelfContained ||
			(s.Error == "") != (l.Error == "") || s.JobPrefix != l.JobPrefix {
			t.Errorf("%s:\n hdfs  %+v\n local %+v", name, s, l)
		}
		if s.Complete && (s.ModTime.IsZero() || time.Since(s.ModTime) > time.Hour) {
			t.Errorf("%s: HDFS mtime %v", name, s.ModTime)
		}
	}
	// Newest first by the HDFS mtimes: the tree writes team/…aaaaaa-3 after
	// …aaaaaa-1 and -2.
	pos := map[string]int{}
	for i, s := range onHDFS {
		pos[s.Name] = i
	}
	if !(pos["savepoint-aaaaaa-000000000003"] < pos["savepoint-aaaaaa-000000000002"] && pos["savepoint-aaaaaa-000000000002"] < pos["savepoint-aaaaaa-000000000001"]) {
		t.Errorf("not newest first: %v", names(onHDFS))
	}

	// Keep the newest per job; dispose what goes (self-contained: from
	// storage, no cluster); only those vanish.
	plan := Preview(onHDFS, Policy{KeepNewest: 1}, time.Now())
	if plan.Remove != 2 {
		t.Fatalf("plan removes %d: %+v", plan.Remove, plan)
	}
	for _, d := range plan.Decisions {
		if !d.Remove {
			continue
		}
		if res, err := Dispose(ctx, router, nil, d.URI); err != nil || res.Via != "storage" {
			t.Fatalf("dispose %s: %+v %v", d.URI, res, err)
		}
	}
	after, err := Find(ctx, router, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(after); strings.Contains(got, "aaaaaa-000000000001") || strings.Contains(got, "aaaaaa-000000000002") || len(after) != 4 {
		t.Errorf("after dispose: %s", got)
	}
	// Never a chk-N, never an incomplete directory.
	if _, err := Dispose(ctx, router, nil, storage.Join(root, "ckpts/a1b2c3d4e5f60718293a4b5c6d7e8f90/chk-3")); err == nil {
		t.Error("a chk-N on HDFS was disposed")
	}
	if _, err := Dispose(ctx, router, nil, storage.Join(root, "savepoint-cccccc-000000000009")); err == nil {
		t.Error("an incomplete savepoint dir on HDFS was disposed")
	}
}
