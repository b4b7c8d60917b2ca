//go:build unix

package spec

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A job spec that is a FIFO hung `ckpt run` forever and /dev/zero ate 6 GB
// in 10 s; both are refused at once, named. A file source naming a FIFO is
// refused when the spec is read, before the job starts.
func TestLoadRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "job.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	input := filepath.Join(dir, "words.fifo")
	if err := syscall.Mkfifo(input, 0o600); err != nil {
		t.Fatal(err)
	}
	fileSource := filepath.Join(dir, "file-source.yaml")
	src := "name: j\npipeline:\n  - op: file\n    path: " + input + "\n  - op: discard\n"
	if err := os.WriteFile(fileSource, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "job spec: open " + fifo + ": not a regular file (a named pipe)"},
		{"/dev/zero", "job spec: open /dev/zero: not a regular file (a character device)"},
		{big, "job spec: open " + big + ": file too large: larger than 1.00 MiB"},
		{fileSource, fileSource + ":3:5: step 1 (file): path " + input + ": not a regular file (a named pipe)"},
	} {
		done := make(chan error, 1)
		go func() { _, err := Load(tc.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load(%s) = %v\nwant %q", tc.path, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Load(%s) still blocked after 5s", tc.path)
		}
	}
}
