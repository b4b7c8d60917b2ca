package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

// stateOnHDFSMatchesLocal runs ckpt state over a snapshot on local disk and
// over its copy on HDFS: the schema and the entries of uid's state name
// (JSON, every entry) print the same, but for the path. With no entry the
// test fails: nothing was compared.
func stateOnHDFSMatchesLocal(t *testing.T, local, remote, uid, name string) {
	t.Helper()
	for _, args := range [][]string{{}, {"--operator", uid, "--state", name, "--json", "--limit", "0"}} {
		lc, lout, lerr := runCkpt(t, append([]string{"state", local}, args...)...)
		rc, rout, rerr := runCkpt(t, append([]string{"state", remote}, args...)...)
		if lc != ExitOK || rc != ExitOK {
			t.Fatalf("ckpt state %v: exit %d locally, %d on HDFS\n%s%s\n%s%s", args, lc, rc, lout, lerr, rout, rerr)
		}
		if len(args) > 0 && strings.Count(lout, "\n") == 0 {
			t.Fatalf("ckpt state %v: no entries\n%s", args, lout)
		}
		if got := strings.ReplaceAll(rout, remote, local); got != lout {
			t.Errorf("ckpt state %v on HDFS:\n%s\nlocally:\n%s", args, rout, lout)
		}
	}
}

// ckpt state hdfs://…: a real Flink 1.20 savepoint (its keyed window state
// and Java-serialized operator state inline in _metadata) put on the real
// HDFS peer through storage reads as it does from local disk: the schema,
// the window's entries and the operator state. The entries of state files
// on HDFS (RocksDB SSTs) are compared in cp_flink_test.go
// (checkpointCopiesResume) and, entry by entry against what Flink wrote,
// in snapshot/state (TestStateReaderAgainstFlinkOnHDFS).
func TestStateCommandOnHDFS(t *testing.T) {
	h := peers.HDFS(t)
	base := h.BaseURI(t)
	ctx := context.Background()
	fsys := storage.NewRouter(storage.Options{})
	defer fsys.Close()
	dir := t.TempDir()
	sp := flinkFixture(t, "operatorstate_complexKeyed-flink1.20", dir, "savepoint-c0ffee-0123456789ab")
	b, err := os.ReadFile(filepath.Join(sp, "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	remote := storage.Join(base, "savepoint-c0ffee-0123456789ab")
	if err := fsys.MkdirAll(ctx, remote); err != nil {
		t.Fatal(err)
	}
	if err := storage.WriteFile(ctx, fsys, storage.Join(remote, "_metadata"), b, storage.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const window, first = "01203aa9a12dc1ec725e03853dd7c8f2", "adf090656b210b1609ad3203d4ee7329"
	stateOnHDFSMatchesLocal(t, sp, remote, window, "values")
	stateOnHDFSMatchesLocal(t, sp, remote, first, "_default_")
}
