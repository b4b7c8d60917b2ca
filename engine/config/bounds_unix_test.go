//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A configuration file that is a FIFO, a device or too large is refused at
// once, named: reading /dev/zero took 6 GB in 10 s, a FIFO hung forever.
func TestLoadFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ckpt.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", MaxFileBytes/10+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, fifo + ": not a regular file (a named pipe)"},
		{"/dev/zero", "/dev/zero: not a regular file (a character device)"},
		{big, big + ": file too large: larger than 1.00 MiB"},
	} {
		done := make(chan error, 1)
		go func() { done <- New().LoadFile(tc.path) }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "config file: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadFile(%s) = %v, want %q", tc.path, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("LoadFile(%s) still blocked after 5s", tc.path)
		}
	}
}
