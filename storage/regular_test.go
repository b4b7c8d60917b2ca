//go:build unix

package storage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Only regular files are opened, at once, whatever sits at the path: a
// FIFO without a writer blocks a plain open(2) forever, /dev/zero never
// ends, and both were read by ckpt before.
func TestOpenRegularRefuses(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2<<20+1), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		is   error
		msg  string
	}{
		{fifo, ErrNotRegular, fifo + ": not a regular file (a named pipe)"},
		{"/dev/zero", ErrNotRegular, "/dev/zero: not a regular file (a character device)"},
		{dir, ErrNotRegular, dir + ": not a regular file (a directory)"},
		{big, ErrTooLarge, big + ": file too large: larger than 1.00 MiB (2.00 MiB)"},
		{filepath.Join(dir, "missing"), os.ErrNotExist, "missing"},
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadRegular(tc.path, 1<<20); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("ReadRegular(%s) = %v; want %v with %q", tc.path, err, tc.is, tc.msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadRegular(%s) still blocked after 5s", tc.path)
		}
	}
	b, err := ReadRegular(ok, 5)
	if err != nil || string(b) != "hello" {
		t.Fatalf("ReadRegular(ok, 5) = %q, %v", b, err)
	}
	if _, err := ReadRegular(ok, 4); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "larger than 4 B") {
		t.Fatalf("ReadRegular(ok, 4) = %v, want larger than 4 B", err)
	}
}
