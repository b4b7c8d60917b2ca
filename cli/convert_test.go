package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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

// ckpt convert --to ckpt turns a real Flink 2.3 savepoint of a runner job
// into a ckpt canonical savepoint at DST (checked against the spec when one
// is given), which ckpt run -s restores to the end; an engine savepoint is
// not converted, and the flags of the other direction are refused.
func TestConvertToCkptCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	sp := fromFlinkRunnerSavepoint(t, out)
	specPath := fixtureSpec(t, "file-sink", "sink", out)
	dst := filepath.Join(t.TempDir(), "from-flink")
	code, stdout, errOut := runCkpt(t, "convert", sp, dst, "--to", "ckpt", "--spec", specPath)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, errOut)
	}
	for _, want := range []string{"to " + dst + " (ckpt canonical savepoint)", "keyed state count", "100 keys", "source splits       3"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, errOut = runCkpt(t, "run", "--stats", "0", "-s", dst, specPath)
	if code != ExitOK || strings.Contains(errOut, "is a Flink snapshot") || !strings.Contains(errOut, "restored from "+dst) {
		t.Fatalf("run -s DST: exit %d\n%s\n%s", code, stdout, errOut)
	}
	lines := slices.DeleteFunc(committedLines(t, out), func(l string) bool { return l == "" })
	if !slices.Contains(lines, "key-0,400") || !slices.Contains(lines, "key-99,400") || len(slices.Compact(slices.Clone(lines))) != len(lines) {
		t.Errorf("committed %d lines: not every key to its last count (400) once", len(lines))
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"convert", dst, filepath.Join(t.TempDir(), "again"), "--to", "ckpt"}, ExitError, "not Flink's: nothing to convert"},
		{[]string{"convert", sp, filepath.Join(t.TempDir(), "v4"), "--to", "ckpt", "--target-version", "V4"}, ExitUsage, "are for --to flink"},
		{[]string{"convert", sp, filepath.Join(t.TempDir(), "n"), "--to", "ckpt", "-n"}, ExitUsage, "-n needs --spec"},
		{[]string{"convert", sp, dst, "--to", "ckpt"}, ExitError, "exists"},
		{[]string{"convert", sp, dst, "--to", "spark"}, ExitUsage, "flink or ckpt"},
	} {
		code, _, errOut := runCkpt(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("ckpt %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}
