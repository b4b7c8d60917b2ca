//go:build unix

package snapshot

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/storage"
)

// A `_metadata` that is a named pipe (no writer) used to block Read
// forever; it is refused at once, named, whether given as the file or
// through its directory — and so `ckpt inspect`, `ckpt savepoints`, the
// TUI and a restore (-s, POST /jars/:id/run savepointPath) all refuse it.
func TestReadRefusesNonRegularMetadata(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "savepoint-0a1b2c-0123456789ab")
	fsys := storage.NewLocal()
	if err := fsys.MkdirAll(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	meta := filepath.Join(dir, MetadataFileName)
	if err := syscall.Mkfifo(meta, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, uri := range []string{meta, dir, "file://" + meta} {
		done := make(chan error, 1)
		go func() { _, err := Read(context.Background(), fsys, uri); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, storage.ErrNotRegular) || !strings.Contains(err.Error(), "_metadata: not a regular file (a named pipe)") {
				t.Errorf("Read(%s) = %v, want not a regular file naming _metadata", uri, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Read(%s) still blocked after 5s", uri)
		}
	}
	if _, err := Read(context.Background(), fsys, "/dev/zero"); !errors.Is(err, storage.ErrNotRegular) || !strings.Contains(err.Error(), "/dev/zero: not a regular file (a character device)") {
		t.Errorf("Read(/dev/zero) = %v", err)
	}
}
