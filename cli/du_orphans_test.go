package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// orphanJob lays out a job dir: chk-5 and chk-6 share SSTs, chk-4 failed
// and leaked a file, chk-7 is in progress with a fresh upload.
func orphanJob(t *testing.T, root string) string {
	t.Helper()
	job := filepath.Join(root, "a1b2c3d4e5f60718293a4b5c6d7e8f90")
	shared := filepath.Join(job, "shared")
	os.MkdirAll(shared, 0o755)
	put := func(name string, n int, mod time.Time) string {
		p := filepath.Join(shared, name)
		os.WriteFile(p, make([]byte, n), 0o644)
		os.Chtimes(p, mod, mod)
		return p
	}
	a := put("0a1b-sst", 1000, fixedTime)
	b := put("1c2d-sst", 2000, fixedTime)
	put("2e3f-leaked-by-chk-4", 500, fixedTime)
	for id, ssts := range map[int64][]string{5: {a, b}, 6: {b}} {
		m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: id}
		m.SetProperties(snapshot.CheckpointProperties())
		op := snapshot.NewOperatorState("count", "count", 1, 128)
		var files []snapshot.NamedHandle
		for _, s := range ssts {
			files = append(files, snapshot.NamedHandle{LocalName: "000001.sst", Handle: snapshot.NewFileHandle("file:"+s, 1)})
		}
		op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewIncrementalHandle(id, "b",
			snapshot.KeyGroupRange{Start: 0, Count: 128}, 1, &snapshot.ByteStreamHandle{Name: "m", Data: []byte{1}}, files, nil, "h")}}
		m.Operators = []*snapshot.OperatorState{op}
		p := filepath.Join(job, snapshot.CheckpointDirName(id), "_metadata")
		if err := snapshot.Write(context.Background(), storage.NewLocal(), p, m); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, fixedTime, fixedTime)
	}
	os.MkdirAll(filepath.Join(job, "chk-4"), 0o755)
	os.MkdirAll(filepath.Join(job, "chk-7"), 0o755)
	put("3a4b-uploading-for-chk-7", 700, fixedTime.Add(time.Minute))
	return job
}

func TestDuOrphans(t *testing.T) {
	root := filepath.Join(t.TempDir(), "checkpoints")
	job := orphanJob(t, root)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"du-orphans.golden", []string{"du", "--orphans", job}},
		{"du-orphans-root.golden", []string{"du", "--orphans", "--bytes", root}},
		{"du-orphans-json.golden", []string{"du", "--orphans", "--json", job}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errb := runCkpt(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			golden(t, tc.golden, strings.ReplaceAll(out, root, "ROOT"))
		})
	}
	if code, _, errb := runCkpt(t, "du", "--orphans", filepath.Join(job, "chk-5", "_metadata")); code != 2 || !strings.Contains(errb, "is a file") {
		t.Errorf("a file: exit %d %s", code, errb)
	}
}
