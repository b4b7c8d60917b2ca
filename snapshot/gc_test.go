package snapshot_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func TestIsStateFileName(t *testing.T) {
	for name, want := range map[string]bool{
		"3f2a1b0c-9d8e-4f6a-8b5c-0123456789ab":                true,
		"3f2a1b0c-9d8e-4f6a-8b5c-0123456789ab.canonical":      true,
		"3f2a1b0c-9d8e-4f6a-8b5c-0123456789ab-sum-0a0b0c0d":   true,
		"3F2A1B0C-9D8E-4F6A-8B5C-0123456789AB":                false,
		"3f2a1b0c-9d8e-4f6a-8b5c-0123456789a":                 false,
		"3f2a1b0c_9d8e_4f6a_8b5c_0123456789ab":                false,
		"notes.txt":                                           false,
		"_metadata":                                           false,
		"":                                                    false,
		"3f2a1b0c-9d8e-4f6a-8b5c-0123456789ab/../../precious": false,
	} {
		if got := snapshot.IsStateFileName(name); got != want {
			t.Errorf("IsStateFileName(%q) = %v, want %v", name, got, want)
		}
	}
}

// The trash variants of the disposal rule move exactly what the deleting
// ones would remove, each to its own path below the trash, and leave the
// same things: a foreign file beside, a link (never followed), a file
// outside the directory.
func TestDisposeIntoTrash(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	root := t.TempDir()
	trash := filepath.Join(root, "trash")
	dir := filepath.Join(root, "sp")
	writeSavepoint(t, dir, "a", "op/b")
	writeFile(t, filepath.Join(dir, "notes.txt"), "precious")
	writeFile(t, filepath.Join(root, "precious"), "precious")
	d, err := snapshot.DisposeInto(ctx, fsys, dir, filepath.Join(trash, "sp"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tree(t, root), ","); got != "precious,sp,sp/notes.txt,trash,trash/sp,trash/sp/_metadata,trash/sp/a,trash/sp/op,trash/sp/op/b" {
		t.Fatalf("after DisposeInto: %s (%s)", got, d.Summary())
	}
	if d.DirRemoved || len(d.Left) != 1 || len(d.Removed) != 3 {
		t.Fatalf("%+v", d)
	}
	// The moved snapshot is whole again in the trash.
	if _, err := snapshot.Read(ctx, fsys, filepath.Join(trash, "sp")); err != nil {
		t.Fatalf("the trashed snapshot: %v", err)
	}

	// MoveFiles: a link stays, a file outside stays, nothing is overwritten.
	shared := filepath.Join(root, "job", "shared")
	writeFile(t, filepath.Join(shared, "x"), "state")
	writeFile(t, filepath.Join(shared, "y"), "state")
	writeFile(t, filepath.Join(root, "target"), "precious")
	os.Symlink(filepath.Join(root, "target"), filepath.Join(shared, "l"))
	writeFile(t, filepath.Join(trash, "job", "shared", "y"), "already in the trash")
	d, err = snapshot.MoveFiles(ctx, fsys, shared, []string{filepath.Join(shared, "x"), filepath.Join(shared, "y"),
		filepath.Join(shared, "l"), filepath.Join(root, "precious")}, filepath.Join(trash, "job", "shared"), snapshot.Disposal{})
	if err == nil {
		t.Fatal("moving onto a file already in the trash: no error")
	}
	if len(d.Removed) != 1 || len(d.Left) != 2 {
		t.Fatalf("%+v", d)
	}
	for p, want := range map[string]string{filepath.Join(shared, "y"): "state", filepath.Join(trash, "job", "shared", "y"): "already in the trash",
		filepath.Join(root, "target"): "precious", filepath.Join(root, "precious"): "precious", filepath.Join(trash, "job", "shared", "x"): "state"} {
		if b, err := os.ReadFile(p); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", p, b, err, want)
		}
	}
	if fi, err := os.Lstat(filepath.Join(shared, "l")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was moved or followed: %v", err)
	}

	// MoveOwned takes the directory once it is empty.
	stale := filepath.Join(root, "job", "chk-3")
	writeFile(t, filepath.Join(stale, "s"), "state")
	d, err = snapshot.MoveOwned(ctx, fsys, stale, []string{filepath.Join(stale, "s")}, filepath.Join(trash, "job", "chk-3"), snapshot.Disposal{})
	if err != nil || !d.DirRemoved {
		t.Fatalf("%+v, %v", d, err)
	}
}
