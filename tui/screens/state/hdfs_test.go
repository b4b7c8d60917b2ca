package state_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdfslib "github.com/colinmarc/hdfs/v2"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

func TestMain(m *testing.M) { peers.RunTests(m) }

// The state screen on a real HDFS: a real Flink 1.20 canonical savepoint
// (its state inline in _metadata) is put on the HDFS peer and opened by
// its hdfs:// URI through storage's router, as the TUI does — the states,
// the counts and the first page of entries all come through storage.FS.
// Cost: the HDFS peer's start (shared with the binary's other tests,
// 85 s measured on a loaded 2-core machine) plus under a second; skips
// loudly without Java.
func TestStateScreenOnHDFS(t *testing.T) {
	if testing.Short() {
		t.Skip("real HDFS peer")
	}
	p := peers.HDFS(t)
	base := p.BaseURI(t)
	c, err := p.Client("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := os.ReadFile(filepath.Join(tuitest.Fixtures(t), "apache-flink", "operatorstate_complexKeyed-flink1.20", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimPrefix(base, "hdfs://"+p.Addr) + "/savepoint-c0ffee-0123456789ab"
	if err := c.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := c.Create(dir + "/_metadata")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	err = w.Close()
	for wait := 50 * time.Millisecond; hdfslib.IsErrReplicating(err) && wait < 10*time.Second; wait *= 2 {
		time.Sleep(wait)
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	fsys := storage.NewRouter(storage.Options{User: p.Superuser})
	defer fsys.Close()
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "state", base+"/savepoint-c0ffee-0123456789ab", windowOp)
	f := tuitest.FrameText(a)
	if !strings.Contains(f, "values") || !strings.Contains(f, "List<Integer>") || !strings.Contains(f, "hdfs://") {
		t.Fatalf("state screen on HDFS:\n%s", f)
	}
	tuitest.Press(t, a, "enter")
	f = tuitest.FrameText(a)
	if !strings.Contains(f, "entries 1–10") || !strings.Contains(f, "[4]") {
		t.Fatalf("entries on HDFS:\n%s", f)
	}
}
