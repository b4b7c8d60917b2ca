package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

// `ckpt cp JOBDIR DST`: every complete chk-N, each file once in its place,
// every copied _metadata naming only files below DST with the source's
// bytes; an incomplete chk-N and unreferenced files are not copied; the
// source is unchanged; a rerun copies nothing.
func TestCpJobDir(t *testing.T) {
	root := t.TempDir()
	job := filepath.Join(root, gcJobA)
	put := func(p, content string) string {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	s1 := put(filepath.Join(job, "shared", uuidName(1)), "shared by both")
	s2 := put(filepath.Join(job, "shared", uuidName(2)), "chk-6 only")
	p5 := put(filepath.Join(job, "chk-5", uuidName(5)), "chk-5 private")
	ext := put(filepath.Join(root, "old-job", "shared", uuidName(9)), "from a restored job")
	put(filepath.Join(job, "shared", "notes.txt"), precious)
	put(filepath.Join(job, "chk-7", uuidName(7)), "in progress")
	fsys := storage.NewLocal()
	sptest.WriteCheckpoint(t, fsys, job, 5, time.Now(), s1, p5, ext)
	sptest.WriteCheckpoint(t, fsys, job, 6, time.Now(), s1, s2)
	before := treeOf(t, root)

	dst := filepath.Join(t.TempDir(), "copy")
	code, out, errb := runCkpt(t, "cp", "--json", job, dst)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errb)
	}
	var res snapshot.JobDirCopyResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Copied != 4 || len(res.Checkpoints) != 2 || len(res.Skipped) != 1 || res.Outside != 1 {
		t.Fatalf("copied %d files, %d checkpoints, skipped %v, outside %d", res.Copied, len(res.Checkpoints), res.Skipped, res.Outside)
	}
	if got := treeOf(t, root); strings.Join(got, ",") != strings.Join(before, ",") {
		t.Fatal("the source changed")
	}
	got := strings.Join(treeOf(t, dst), ",")
	if strings.Contains(got, "notes.txt") || strings.Contains(got, "chk-7") || !strings.Contains(got, "shared/"+uuidName(1)) {
		t.Fatalf("copy tree: %s", got)
	}
	ctx := context.Background()
	for _, id := range []string{"chk-5", "chk-6"} {
		m, err := snapshot.Read(ctx, fsys, filepath.Join(dst, id))
		if err != nil {
			t.Fatal(err)
		}
		srcM, _ := snapshot.Read(ctx, fsys, filepath.Join(job, id))
		a, b := inspector.CollectFiles(m), inspector.CollectFiles(srcM)
		if len(a) != len(b) {
			t.Fatalf("%s: %d files, source %d", id, len(a), len(b))
		}
		sums := map[[32]byte]int{}
		for i := range b {
			y, err := os.ReadFile(localOf(b[i].URI))
			if err != nil {
				t.Fatal(err)
			}
			sums[sha256.Sum256(y)]++
		}
		for i := range a {
			if !storage.Within(dst, a[i].URI) {
				t.Fatalf("%s references %s, outside the copy", id, a[i].URI)
			}
			x, err := os.ReadFile(localOf(a[i].URI))
			if err != nil || sums[sha256.Sum256(x)] == 0 {
				t.Fatalf("%s: %s is not a copy of a file the source references (%v)", id, a[i].URI, err)
			}
			sums[sha256.Sum256(x)]--
		}
	}
	code, out, _ = runCkpt(t, "cp", "--json", job, dst)
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Copied != 0 || res.Present != 4 || !res.AlreadyComplete {
		t.Fatalf("rerun: exit %d, %s", code, out)
	}
}
