package snapshot_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// copyOf reads src and copies it to dst with fsys.
func copyOf(t *testing.T, fsys storage.FS, src, dst string, opts snapshot.CopyOptions) (*snapshot.CopyResult, error) {
	t.Helper()
	m, err := snapshot.Read(context.Background(), storage.NewLocal(), src)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot.Copy(context.Background(), fsys, m, dst, opts)
}

// TestCopy: a savepoint and a retained checkpoint (shared files outside
// its directory) are copied; the copy reads every byte after the original
// is gone; a rerun finds everything present; a dry run writes nothing; a
// file beside DST is never touched.
func TestCopy(t *testing.T) {
	const precious = "precious: not ckpt's"
	fsys := storage.NewLocal()
	for _, tc := range []struct {
		name string
		// setup writes the source below root and returns it.
		setup func(t *testing.T, root string) string
		want  []string
	}{
		{"savepoint", func(t *testing.T, root string) string {
			src := filepath.Join(root, "sp")
			surgerySavepoint(t, src, snapshot.Version6)
			return src
		}, []string{"_metadata", "count-0", "count-1", "src-0", "sum-0", "sum-1"}},
		{"v2-savepoint", func(t *testing.T, root string) string {
			src := filepath.Join(root, "sp")
			surgerySavepoint(t, src, snapshot.Version2)
			return src
		}, []string{"_metadata", "count-0", "count-1", "src-0", "sum-0", "sum-1"}},
		{"checkpoint", func(t *testing.T, root string) string {
			return surgeryCheckpoint(t, filepath.Join(root, "job"))
		}, []string{"_metadata", "count-manifest", "count-meta", "shared", "shared/count-sst", "shared/sum-sst", "sum-manifest", "sum-meta"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			src := tc.setup(t, root)
			orig, err := snapshot.Read(context.Background(), fsys, src)
			if err != nil {
				t.Fatal(err)
			}
			want := referenced(t, orig)
			out := filepath.Join(root, "out")
			writeFile(t, filepath.Join(out, "precious"), precious)
			dst := filepath.Join(out, "copy")

			dry, err := copyOf(t, fsys, src, dst, snapshot.CopyOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if dry.Copied != len(tc.want)-1-countDirs(tc.want) || dry.Present != 0 {
				t.Errorf("dry run %+v", dry)
			}
			if got := tree(t, out); !slices.Equal(got, []string{"precious"}) {
				t.Fatalf("a dry run wrote %v", got)
			}

			var calls int
			res, err := copyOf(t, fsys, src, dst, snapshot.CopyOptions{Progress: func(p snapshot.CopyProgress) { calls++ }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Copied != dry.Copied || res.CopiedBytes != dry.CopiedBytes || calls != res.Copied {
				t.Errorf("copy %+v, %d progress calls; dry run said %d files", res, calls, dry.Copied)
			}
			if got := tree(t, dst); !slices.Equal(got, tc.want) {
				t.Errorf("DST holds %v, want %v", got, tc.want)
			}
			// The copy stands alone: move the original away.
			if err := os.Rename(root+"/"+strings.Split(strings.TrimPrefix(src, root+"/"), "/")[0], root+"/gone"); err != nil {
				t.Fatal(err)
			}
			m, err := snapshot.Read(context.Background(), fsys, dst)
			if err != nil {
				t.Fatal(err)
			}
			got := referenced(t, m)
			if len(got) != len(want) {
				t.Errorf("copy references %d files, original %d", len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %q, want %q", k, got[k], v)
				}
			}
			if b, _ := os.ReadFile(filepath.Join(out, "precious")); string(b) != precious {
				t.Error("the file beside DST changed")
			}
			// Back in place, a rerun copies nothing.
			os.Rename(root+"/gone", root+"/"+strings.Split(strings.TrimPrefix(src, root+"/"), "/")[0])
			again, err := copyOf(t, fsys, src, dst, snapshot.CopyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !again.AlreadyComplete || again.Copied != 0 || again.Present != res.Copied {
				t.Errorf("rerun %+v", again)
			}
		})
	}
}

func countDirs(entries []string) int {
	n := 0
	for _, e := range entries {
		if !strings.Contains(e, "-") && e != "_metadata" {
			n++
		}
	}
	return n
}

// TestCopyResumes: a copy that fails half-way keeps what it copied and
// writes no _metadata; the rerun copies only what is missing. A file in
// DST that is not the source's bytes, or another snapshot's _metadata, is
// refused and left as it is.
func TestCopyResumes(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "sp")
	surgerySavepoint(t, src, snapshot.Version6)
	dst := filepath.Join(root, "copy")
	_, err := copyOf(t, failingFS{storage.NewLocal(), "src-0"}, src, dst, snapshot.CopyOptions{Parallel: 1})
	if err == nil || !strings.Contains(err.Error(), "stay for a rerun") {
		t.Fatalf("err %v", err)
	}
	if got := tree(t, dst); slices.Contains(got, "_metadata") || !slices.Contains(got, "count-0") {
		t.Fatalf("after the failure DST holds %v", got)
	}
	res, err := copyOf(t, storage.NewLocal(), src, dst, snapshot.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Copied != 1 || res.Files[len(res.Files)-3].Action != snapshot.CopyActionCopied || res.Present != 4 {
		t.Errorf("rerun %+v", res)
	}
	if _, err := snapshot.Read(context.Background(), storage.NewLocal(), dst); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, file, content, wantErr string
	}{
		{"other size", "count-0", "x", "not a copy of"},
		{"same size, other bytes", "count-0", strings.Repeat("x", len("bytes of count-0")), "other bytes"},
		{"other snapshot", "_metadata", "not this snapshot", "another snapshot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "copy")
			writeFile(t, filepath.Join(dst, tc.file), tc.content)
			_, err := copyOf(t, storage.NewLocal(), src, dst, snapshot.CopyOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if b, _ := os.ReadFile(filepath.Join(dst, tc.file)); string(b) != tc.content {
				t.Error("the foreign file changed")
			}
			if got := tree(t, dst); slices.Contains(got, "_metadata") && tc.file != "_metadata" {
				t.Error("a refused copy wrote _metadata")
			}
		})
	}
}

// TestCopyVersion: a copy keeps the source's format version unless asked
// for another; V6 → V4 writes a V4 _metadata that reports the uids and
// names it left out and still references every copied file; a refused
// conversion copies nothing. The same for a job directory's chk-N.
func TestCopyVersion(t *testing.T) {
	fsys := storage.NewLocal()
	ctx := context.Background()
	root := t.TempDir()
	src := filepath.Join(root, "sp")
	surgerySavepoint(t, src, snapshot.Version6)

	for _, tc := range []struct {
		version, want int
		notKept       int
	}{{0, snapshot.Version6, 0}, {snapshot.Version4, snapshot.Version4, 3}, {snapshot.Version6, snapshot.Version6, 0}} {
		dst := filepath.Join(root, "copy-"+string(rune('0'+tc.version)))
		res, err := copyOf(t, fsys, src, dst, snapshot.CopyOptions{Version: tc.version})
		if err != nil {
			t.Fatal(err)
		}
		got, err := snapshot.Read(ctx, fsys, dst)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != tc.want {
			t.Errorf("--version %d: copy is V%d, want V%d", tc.version, got.Version, tc.want)
		}
		if n := 0; res.Conversion != nil {
			n = len(res.Conversion.NotKept)
			if n != tc.notKept {
				t.Errorf("--version %d: %d labels reported not kept (%q), want %d", tc.version, n, res.Conversion.NotKept, tc.notKept)
			}
		} else if tc.version != 0 {
			t.Errorf("--version %d: no conversion reported", tc.version)
		}
		if len(referenced(t, got)) != 5 {
			t.Errorf("--version %d: the copy references %d files, want 5", tc.version, len(referenced(t, got)))
		}
		// A rerun into the same DST with the same version is complete.
		if again, err := copyOf(t, fsys, src, dst, snapshot.CopyOptions{Version: tc.version}); err != nil || !again.AlreadyComplete {
			t.Errorf("--version %d rerun: %v, complete %v", tc.version, err, again != nil && again.AlreadyComplete)
		}
	}

	// A V3 source has no trailer: converting it is refused before anything is written.
	v3 := filepath.Join(root, "sp3")
	surgerySavepoint(t, v3, snapshot.Version3)
	dst := filepath.Join(root, "copy-v3")
	if _, err := copyOf(t, fsys, v3, dst, snapshot.CopyOptions{Version: snapshot.Version6}); err == nil || !strings.Contains(err.Error(), "nothing was copied") {
		t.Fatalf("V3 → V6 copy: error %v", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("a refused conversion created %s", dst)
	}

	// A job directory: every chk-N is written in the version asked for.
	job := filepath.Dir(surgeryCheckpoint(t, filepath.Join(root, "job")))
	jdst := filepath.Join(root, "job-copy")
	res, err := snapshot.CopyJobDir(ctx, fsys, job, jdst, snapshot.CopyOptions{Version: snapshot.Version4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Conversion == nil || res.Conversion.To != snapshot.Version4 {
		t.Fatalf("job dir copy: conversion %+v", res.Conversion)
	}
	for _, c := range res.Checkpoints {
		m, err := snapshot.Read(ctx, fsys, c)
		if err != nil || m.Version != snapshot.Version4 {
			t.Fatalf("%s: %v, version %d", c, err, m.Version)
		}
	}
}
