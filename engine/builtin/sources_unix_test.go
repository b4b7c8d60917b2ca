//go:build unix

package builtin

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/operator"
)

// The file source opens only regular files: a FIFO without a writer used
// to block the task in open(2) — beyond the reach of cancellation — and
// /dev/zero never ends. Both are refused at Open, naming the path.
func TestFileLinesOpensRegularFilesOnly(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "words.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	words := filepath.Join(dir, "words.txt")
	if err := os.WriteFile(words, []byte("a\nb\nc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := func() *operator.Context {
		return &operator.Context{Ctx: context.Background(), Parallelism: 1, MaxParallelism: 128}
	}
	for _, tc := range []struct{ path, want string }{
		{fifo, "file source: open " + fifo + ": not a regular file (a named pipe)"},
		{"/dev/zero", "file source: open /dev/zero: not a regular file (a character device)"},
		{dir, "not a regular file (a directory)"},
	} {
		src := &FileLines{Path: tc.path}
		done := make(chan error, 1)
		go func() { done <- src.Open(ctx()) }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%s) = %v, want %q", tc.path, err, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) still blocked after 5s", tc.path)
		}
		src.Close()
	}
	src := &FileLines{Path: words}
	if err := src.Open(ctx()); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var got []string
	if _, err := src.Emit(operator.CollectorFunc(func(r operator.Record) { got = append(got, r.Key) }), 10); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("lines %v", got)
	}
}
