package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// ckpt convert --to flink writes a new Flink canonical savepoint (V6, or
// V4 with --target-version), says what each operator carried, and refuses
// an existing destination, a missing --to and a Flink savepoint.
func TestConvertToFlinkCommand(t *testing.T) {
	dir := t.TempDir()
	specPath := movingCountsSpec(t, dir, 100, 200000, 20000)
	sp := stopEngineWithSavepoint(t, specPath, filepath.Join(dir, "sp"), snapshot.FormatNative, 500*time.Millisecond)

	dst := filepath.Join(dir, "for-flink")
	code, out, errOut := runCkpt(t, "convert", sp, dst, "--to", "flink", "--spec", specPath)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"to " + dst, "_metadata V6", "count-per-key", "100 keys", "source", "SourceReaderState", "pending (union)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	m, err := snapshot.Read(context.Background(), storage.Default(), dst)
	if err != nil || m.Version != snapshot.Version6 {
		t.Fatalf("%v %v", m, err)
	}

	dst4 := filepath.Join(dir, "for-flink-1.20")
	if code, out, errOut = runCkpt(t, "convert", "--to", "flink", "--target-version", "V4", "--spec", specPath, sp, dst4); code != ExitOK {
		t.Fatalf("V4: exit %d\n%s\n%s", code, out, errOut)
	}
	if m, err := snapshot.Read(context.Background(), storage.Default(), dst4); err != nil || m.Version != snapshot.Version4 {
		t.Fatalf("V4: %v %v", m, err)
	}

	if code, _, errOut = runCkpt(t, "convert", sp, dst, "--to", "flink"); code == ExitOK || !strings.Contains(errOut, "exists") {
		t.Errorf("existing destination: exit %d %s", code, errOut)
	}
	if code, _, errOut = runCkpt(t, "convert", sp, filepath.Join(dir, "y")); code != ExitUsage || !strings.Contains(errOut, "--to") {
		t.Errorf("no --to: exit %d %s", code, errOut)
	}
	if code, _, errOut = runCkpt(t, "convert", dst, filepath.Join(dir, "z"), "--to", "flink"); code == ExitOK || !strings.Contains(errOut, "not a snapshot of ckpt's engine") {
		t.Errorf("a Flink savepoint: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "z")); !os.IsNotExist(err) {
		t.Errorf("a refused conversion made its destination: %v", err)
	}
}
