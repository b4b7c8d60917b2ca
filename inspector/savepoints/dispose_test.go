package savepoints_test

// An external test: it disposes through the embedded cluster, which itself
// uses the savepoints package's safety check.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/inspector/savepoints"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

func writeSavepoint(t testing.TB, fsys storage.FS, dir string, format snapshot.SavepointFormat, id int64, age time.Duration, external string) string {
	return sptest.Write(t, fsys, dir, format, id, time.Now().Add(-age), external)
}

// downCluster is a JobManager whose disposal fails, as Flink's does when
// the savepoint's classes cannot be loaded or the request times out.
type downCluster struct{ cluster.Cluster }

func (downCluster) DisposeSavepoint(context.Context, string) (cluster.Trigger, error) {
	return cluster.Trigger{}, errors.New("connection refused")
}

func TestDispose(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	root := t.TempDir()
	outside := filepath.Join(root, "elsewhere", "state")
	os.MkdirAll(filepath.Dir(outside), 0o755)
	os.WriteFile(outside, make([]byte, 400), 0o644)
	chk := filepath.Join(root, "a1b2c3d4e5f60718293a4b5c6d7e8f90", "chk-4")
	writeSavepoint(t, fsys, chk, snapshot.FormatCanonical, 4, 0, "") // savepoint bytes, checkpoint place
	plain := filepath.Join(root, "notes")
	os.MkdirAll(plain, 0o755)
	os.WriteFile(filepath.Join(plain, "todo.txt"), []byte("x"), 0o644)
	fake := filepath.Join(root, "savepoint-dddddd-000000000001")
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 3}
	m.SetProperties(snapshot.CheckpointProperties())
	snapshot.Write(ctx, fsys, filepath.Join(fake, "_metadata"), m)
	garbage := filepath.Join(root, "savepoint-ffffff-000000000001")
	os.MkdirAll(garbage, 0o755)
	os.WriteFile(filepath.Join(garbage, "_metadata"), []byte("not a snapshot"), 0o644)

	tests := []struct {
		name    string
		path    string
		c       cluster.Cluster
		via     string
		err     string
		deleted bool
	}{
		{"self-contained, no cluster", writeSavepoint(t, fsys, filepath.Join(root, "savepoint-aaaaaa-000000000001"), snapshot.FormatCanonical, 1, 0, ""), nil, "storage", "", true},
		{"given as _metadata", filepath.Join(writeSavepoint(t, fsys, filepath.Join(root, "savepoint-aaaaaa-000000000002"), snapshot.FormatNative, 2, 0, ""), "_metadata"), nil, "storage", "", true},
		{"through the cluster", writeSavepoint(t, fsys, filepath.Join(root, "savepoint-aaaaaa-000000000003"), snapshot.FormatCanonical, 3, 0, ""), embedded.New(embedded.Options{FS: fsys}), "cluster", "", true},
		{"cluster down: fallback", writeSavepoint(t, fsys, filepath.Join(root, "savepoint-aaaaaa-000000000004"), snapshot.FormatCanonical, 4, 0, ""), downCluster{}, "storage", "", true},
		{"external files, no cluster", writeSavepoint(t, fsys, filepath.Join(root, "savepoint-bbbbbb-000000000001"), snapshot.FormatNative, 1, 0, outside), nil, "", "outside its directory", false},
		{"external files, cluster down", writeSavepoint(t, fsys, filepath.Join(root, "savepoint-bbbbbb-000000000002"), snapshot.FormatNative, 1, 0, outside), downCluster{}, "", "connection refused", false},
		{"chk-N", chk, nil, "", "checkpoint (chk-N)", false},
		{"chk-N via cluster", chk, embedded.New(embedded.Options{FS: fsys}), "", "checkpoint (chk-N)", false},
		{"checkpoint header", fake, nil, "", "header says checkpoint", false},
		{"not a snapshot", plain, nil, "", "no _metadata", false},
		{"corrupt _metadata", garbage, nil, "", "not a savepoint", false},
		{"missing", filepath.Join(root, "savepoint-999999-000000000000"), nil, "", "no such file", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := savepoints.Dispose(ctx, fsys, cluster.SavepointDisposal(tt.c), tt.path)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
			if d.Via != tt.via {
				t.Errorf("via %q, want %q", d.Via, tt.via)
			}
			dir := tt.path
			if filepath.Base(dir) == "_metadata" {
				dir = filepath.Dir(dir)
			}
			_, serr := os.Stat(dir)
			if gone := os.IsNotExist(serr); gone != tt.deleted && tt.name != "missing" {
				t.Errorf("deleted %v, want %v", gone, tt.deleted)
			}
			if tt.c == (downCluster{}) && tt.deleted && d.ClusterError == "" {
				t.Errorf("fallback without the cluster's error recorded")
			}
		})
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a file outside the savepoint went: %v", err)
	}
	if _, err := os.Stat(filepath.Join(plain, "todo.txt")); err != nil {
		t.Errorf("a non-snapshot went: %v", err)
	}
}

// TestDisposeKeepsForeignFiles: the cases where a header that decodes
// used to be enough for a recursive delete.
func TestDisposeKeepsForeignFiles(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	const precious = "precious"
	for _, via := range []string{"storage", "cluster"} {
		t.Run(via, func(t *testing.T) {
			var c cluster.Cluster
			if via == "cluster" {
				c = embedded.New(embedded.Options{FS: fsys})
			}
			root := t.TempDir()
			keep := func(p string) string {
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte(precious), 0o644)
				return p
			}
			// 1. A savepoint with a file beside it: the savepoint goes, the
			// file and so the directory stay, and the result says why.
			sp := writeSavepoint(t, fsys, filepath.Join(root, "savepoint-aaaaaa-000000000001"), snapshot.FormatCanonical, 1, 0, "")
			notes := keep(filepath.Join(sp, "notes.txt"))
			d, err := savepoints.Dispose(ctx, fsys, cluster.SavepointDisposal(c), sp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(sp, "state-0")); !os.IsNotExist(err) {
				t.Errorf("the savepoint's state file stayed: %v", err)
			}
			if len(d.Left) != 1 || d.Left[0].URI != notes {
				t.Errorf("left %+v, want notes.txt", d.Left)
			}
			// 2. _metadata copied into a home directory of other files.
			home := filepath.Join(root, "home", "savepoint-bbbbbb-000000000001")
			thesis := keep(filepath.Join(home, "thesis.tex"))
			src := writeSavepoint(t, fsys, filepath.Join(root, "src", "savepoint-bbbbbb-000000000001"), snapshot.FormatCanonical, 1, 0, "")
			b, _ := os.ReadFile(filepath.Join(src, "_metadata"))
			os.WriteFile(filepath.Join(home, "_metadata"), b, 0o644)
			if _, err := savepoints.Dispose(ctx, fsys, cluster.SavepointDisposal(c), home); err != nil {
				t.Fatal(err)
			}
			// 3. _metadata is a link to a real savepoint's; 4. the directory is one.
			linked := filepath.Join(root, "savepoint-cccccc-000000000001")
			keep(filepath.Join(linked, "state-0"))
			os.Symlink(filepath.Join(src, "_metadata"), filepath.Join(linked, "_metadata"))
			if _, err := savepoints.Dispose(ctx, fsys, cluster.SavepointDisposal(c), linked); err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("a linked _metadata: %v, want a refusal", err)
			}
			dirLink := filepath.Join(root, "savepoint-dddddd-000000000001")
			os.Symlink(src, dirLink)
			if _, err := savepoints.Dispose(ctx, fsys, cluster.SavepointDisposal(c), dirLink); err == nil || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("a linked directory: %v, want a refusal", err)
			}
			for _, p := range []string{notes, thesis, filepath.Join(linked, "state-0"), filepath.Join(src, "_metadata"), filepath.Join(src, "state-0")} {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s went: %v", p, err)
				}
			}
		})
	}
}
