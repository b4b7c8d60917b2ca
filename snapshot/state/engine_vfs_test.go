package state

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ckpt-dev/ckpt/storage"
)

// Pebble removes what it thinks it owns (obsolete tables after a
// compaction, a renamed or linked table's old name) through the file
// system it was opened on. On remoteFS those are the snapshot's own tables
// in storage: every way Pebble can let go of one forgets the alias and
// leaves the file, and the precious file beside it, byte for byte.
func TestRemoteFSNeverDeletesStorage(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "000007.sst")
	precious := filepath.Join(dir, "precious.sst")
	want := map[string][]byte{table: []byte("table bytes"), precious: []byte("not ckpt's")}
	for p, b := range want {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		drop func(r *remoteFS) error
	}{
		{"remove", func(r *remoteFS) error { return r.Remove("db/000007.sst") }},
		{"rename then remove", func(r *remoteFS) error {
			if err := r.Rename("db/000007.sst", "db/000008.sst"); err != nil {
				return err
			}
			return r.Remove("db/000008.sst")
		}},
		{"link then remove both", func(r *remoteFS) error {
			if err := r.Link("db/000007.sst", "db/000009.sst"); err != nil {
				return err
			}
			if err := r.Remove("db/000007.sst"); err != nil {
				return err
			}
			return r.Remove("db/000009.sst")
		}},
		{"remove all", func(r *remoteFS) error { return r.RemoveAll("db") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRemoteFS(ctx, storage.NewLocal())
			if err := r.MkdirAll("db", 0o755); err != nil {
				t.Fatal(err)
			}
			r.add("db/000007.sst", remoteFile{uri: table, size: int64(len(want[table]))})
			r.add("db/precious.sst", remoteFile{uri: precious, size: int64(len(want[precious]))})
			if err := tc.drop(r); err != nil {
				t.Fatal(err)
			}
			for p, b := range want {
				got, err := os.ReadFile(p)
				if err != nil || !bytes.Equal(got, b) {
					t.Fatalf("%s after %s: %q, %v", p, tc.name, got, err)
				}
			}
			// The alias is gone where Pebble dropped it; the other stays.
			if _, ok := r.lookup("db/000007.sst"); ok && tc.name != "remove all" {
				t.Fatalf("alias db/000007.sst still known after %s", tc.name)
			}
			if _, ok := r.lookup("db/precious.sst"); !ok && tc.name != "remove all" {
				t.Fatal("the untouched alias was forgotten")
			}
		})
	}
}
