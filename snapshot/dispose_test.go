package snapshot_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

// tree lists every entry below root ("a", "a/b"), links shown as "name@".
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if fi.Mode()&os.ModeSymlink != 0 {
			rel += "@"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeSavepoint writes a canonical savepoint into dir whose one operator
// references each of files (relative names, or absolute paths).
func writeSavepoint(t *testing.T, dir string, files ...string) {
	t.Helper()
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 7}
	if err := m.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone)); err != nil {
		t.Fatal(err)
	}
	op := snapshot.NewOperatorState("op", "op", int32(len(files)), 128)
	for i, f := range files {
		var h snapshot.StreamHandle = snapshot.NewRelativeFileHandle(f, 4)
		if filepath.IsAbs(f) {
			h = snapshot.NewFileHandle("file:"+f, 4)
		} else if !strings.HasPrefix(f, "..") {
			writeFile(t, filepath.Join(dir, f), "data")
		}
		r := snapshot.KeyGroupRangeFor(128, int32(len(files)), int32(i))
		op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(r, make([]int64, r.Count), h)})
	}
	m.Operators = []*snapshot.OperatorState{op}
	if err := snapshot.Write(context.Background(), storage.NewLocal(), filepath.Join(dir, snapshot.MetadataFileName), m); err != nil {
		t.Fatal(err)
	}
}

func TestDispose(t *testing.T) {
	const precious = "precious: not ckpt's"
	cases := []struct {
		name string
		// setup builds the scene under root and returns the dir to dispose.
		setup func(t *testing.T, root string) string
		// wantErr, when set, must be in the error, and nothing may change.
		wantErr string
		// after is what must remain below root; dirGone whether the dir went.
		after   []string
		dirGone bool
		left    int
	}{
		{
			name: "self-contained savepoint",
			setup: func(t *testing.T, root string) string {
				writeFile(t, filepath.Join(root, "precious.txt"), precious)
				return sptest.Write(t, storage.NewLocal(), filepath.Join(root, "sp"), snapshot.FormatCanonical, 1, time.Time{}, "")
			},
			after: []string{"precious.txt"}, dirGone: true,
		},
		{
			name: "foreign file beside the savepoint stays, and so does the directory",
			setup: func(t *testing.T, root string) string {
				dir := sptest.Write(t, storage.NewLocal(), filepath.Join(root, "sp"), snapshot.FormatCanonical, 1, time.Time{}, "")
				writeFile(t, filepath.Join(dir, "notes.txt"), precious)
				return dir
			},
			after: []string{"sp", "sp/notes.txt"}, left: 1,
		},
		{
			name: "_metadata copied into a directory of other files removes only itself",
			setup: func(t *testing.T, root string) string {
				src := sptest.Write(t, storage.NewLocal(), filepath.Join(root, "src"), snapshot.FormatCanonical, 1, time.Time{}, "")
				dir := filepath.Join(root, "home")
				writeFile(t, filepath.Join(dir, "thesis.tex"), precious)
				writeFile(t, filepath.Join(dir, "sub", "data.csv"), precious)
				b, _ := os.ReadFile(filepath.Join(src, snapshot.MetadataFileName))
				os.WriteFile(filepath.Join(dir, snapshot.MetadataFileName), b, 0o644)
				os.RemoveAll(src)
				return dir
			},
			after: []string{"home", "home/sub", "home/sub/data.csv", "home/thesis.tex"}, left: 2,
		},
		{
			name: "absolute reference outside the directory stays",
			setup: func(t *testing.T, root string) string {
				ext := filepath.Join(root, "elsewhere", "state")
				writeFile(t, ext, precious)
				dir := filepath.Join(root, "sp")
				writeSavepoint(t, dir, "a", ext)
				return dir
			},
			after: []string{"elsewhere", "elsewhere/state"}, dirGone: true, left: 1,
		},
		{
			name: "relative path escaping the directory stays",
			setup: func(t *testing.T, root string) string {
				writeFile(t, filepath.Join(root, "escaped"), precious)
				dir := filepath.Join(root, "sp")
				writeSavepoint(t, dir, "a", "../escaped")
				return dir
			},
			after: []string{"escaped"}, dirGone: true, left: 1,
		},
		{
			name: "nested referenced files and their emptied subdirectories go",
			setup: func(t *testing.T, root string) string {
				dir := filepath.Join(root, "sp")
				writeSavepoint(t, dir, "op1/a", "op1/deep/b", "c")
				return dir
			},
			dirGone: true,
		},
		{
			name: "a referenced file that is a link is not followed",
			setup: func(t *testing.T, root string) string {
				writeFile(t, filepath.Join(root, "target"), precious)
				dir := filepath.Join(root, "sp")
				writeSavepoint(t, dir, "a", "b")
				os.Remove(filepath.Join(dir, "b"))
				os.Symlink(filepath.Join(root, "target"), filepath.Join(dir, "b"))
				return dir
			},
			after: []string{"sp", "sp/b@", "target"}, left: 2,
		},
		{
			name: "a referenced subdirectory that is a link is not followed",
			setup: func(t *testing.T, root string) string {
				writeFile(t, filepath.Join(root, "real", "a"), precious)
				dir := filepath.Join(root, "sp")
				writeSavepoint(t, dir, "x", "sub/a")
				os.RemoveAll(filepath.Join(dir, "sub"))
				os.Symlink(filepath.Join(root, "real"), filepath.Join(dir, "sub"))
				return dir
			},
			after: []string{"real", "real/a", "sp", "sp/sub@"}, left: 2,
		},
		{
			name: "_metadata that is a link is refused",
			setup: func(t *testing.T, root string) string {
				src := sptest.Write(t, storage.NewLocal(), filepath.Join(root, "src"), snapshot.FormatCanonical, 1, time.Time{}, "")
				dir := filepath.Join(root, "sp")
				writeFile(t, filepath.Join(dir, "state-0"), precious)
				os.Symlink(filepath.Join(src, snapshot.MetadataFileName), filepath.Join(dir, snapshot.MetadataFileName))
				return dir
			},
			wantErr: "symbolic link",
		},
		{
			name: "a directory that is a link is refused",
			setup: func(t *testing.T, root string) string {
				src := sptest.Write(t, storage.NewLocal(), filepath.Join(root, "src"), snapshot.FormatCanonical, 1, time.Time{}, "")
				os.Symlink(src, filepath.Join(root, "sp"))
				return filepath.Join(root, "sp")
			},
			wantErr: "symbolic link",
		},
		{
			name: "a FIFO _metadata is refused without blocking",
			setup: func(t *testing.T, root string) string {
				dir := filepath.Join(root, "sp")
				writeFile(t, filepath.Join(dir, "state-0"), precious)
				if err := syscall.Mkfifo(filepath.Join(dir, snapshot.MetadataFileName), 0o644); err != nil {
					t.Skip(err)
				}
				return dir
			},
			wantErr: "not a regular file",
		},
		{
			name: "no _metadata is refused",
			setup: func(t *testing.T, root string) string {
				dir := filepath.Join(root, "sp")
				writeFile(t, filepath.Join(dir, "state-0"), precious)
				return dir
			},
			wantErr: "no _metadata",
		},
		{
			name: "an undecodable _metadata is refused",
			setup: func(t *testing.T, root string) string {
				dir := filepath.Join(root, "sp")
				writeFile(t, filepath.Join(dir, "state-0"), precious)
				writeFile(t, filepath.Join(dir, snapshot.MetadataFileName), "not a snapshot header")
				return dir
			},
			wantErr: "nothing was deleted",
		},
		{
			name: "an interrupted disposal is finished from _metadata.disposing",
			setup: func(t *testing.T, root string) string {
				dir := filepath.Join(root, "sp")
				writeSavepoint(t, dir, "a", "b")
				os.Rename(filepath.Join(dir, snapshot.MetadataFileName), filepath.Join(dir, snapshot.DisposingName))
				os.Remove(filepath.Join(dir, "a"))
				return dir
			},
			dirGone: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := tc.setup(t, root)
			before := tree(t, root)
			d, err := snapshot.Dispose(context.Background(), storage.NewLocal(), dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Dispose = %v, want error containing %q", err, tc.wantErr)
				}
				if got := tree(t, root); strings.Join(got, ",") != strings.Join(before, ",") {
					t.Fatalf("a refused disposal changed the tree:\nbefore %q\nafter  %q", before, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tree(t, root); strings.Join(got, ",") != strings.Join(tc.after, ",") {
				t.Fatalf("after disposal: %q, want %q (%s)", got, tc.after, d.Summary())
			}
			if d.DirRemoved != tc.dirGone || len(d.Left) != tc.left {
				t.Fatalf("DirRemoved %v, Left %+v; want %v, %d left", d.DirRemoved, d.Left, tc.dirGone, tc.left)
			}
			for _, f := range tree(t, root) {
				if b, err := os.ReadFile(filepath.Join(root, f)); err == nil && strings.HasPrefix(f, "sp/") && string(b) != precious {
					t.Fatalf("%s changed", f)
				}
			}
		})
	}
}

func TestRemoveOwnedRefusesOutside(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "chk-3")
	writeFile(t, filepath.Join(dir, "a"), "x")
	writeFile(t, filepath.Join(root, "shared", "s"), "precious")
	d, err := snapshot.RemoveOwned(context.Background(), storage.NewLocal(), dir,
		[]string{filepath.Join(dir, "a"), filepath.Join(root, "shared", "s"), dir, filepath.Join(dir, "..", "shared", "s")}, snapshot.Disposal{})
	if err != nil {
		t.Fatal(err)
	}
	if got := tree(t, root); strings.Join(got, ",") != "shared,shared/s" {
		t.Fatalf("tree %q", got)
	}
	if !d.DirRemoved || len(d.Left) != 3 {
		t.Fatalf("%+v", d)
	}
	if _, err := snapshot.RemoveOwned(context.Background(), storage.NewLocal(), filepath.Join(root, "gone"), []string{filepath.Join(root, "gone", "x")}, snapshot.Disposal{}); err != nil {
		t.Fatalf("a directory already gone: %v", err)
	}
}
