//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runCkptWithin is runCkpt failing the test when ckpt has not returned
// within d (the commands below used to block forever).
func runCkptWithin(t *testing.T, d time.Duration, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code          int
		stdout, stder string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errb := runCkpt(t, args...)
		done <- result{code, out, errb}
	}()
	select {
	case r := <-done:
		return r.code, r.stdout, r.stder
	case <-time.After(d):
		t.Fatalf("ckpt %v still running after %v", args, d)
		return 0, "", ""
	}
}

func mkfifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return path
}

// Every place a command reads a file refuses what is not a regular file
// at once, naming it: a FIFO (no writer) blocked forever, /dev/zero ate
// 6 GB in 10 s. And the spec's bounds reach the CLI with file and line.
func TestCommandsRefuseNonRegularFiles(t *testing.T) {
	t.Setenv(JobManagerEnv, "")
	dir := t.TempDir()
	fifo := mkfifo(t, filepath.Join(dir, "fifo.yaml"))
	chk := filepath.Join(dir, "chk-1")
	os.Mkdir(chk, 0o755)
	metaFIFO := mkfifo(t, filepath.Join(chk, "_metadata"))
	spRoot := filepath.Join(dir, "savepoints")
	sp := filepath.Join(spRoot, "savepoint-0a1b2c-0123456789ab")
	os.MkdirAll(sp, 0o755)
	mkfifo(t, filepath.Join(sp, "_metadata"))
	input := mkfifo(t, filepath.Join(dir, "words.fifo"))
	spec := writeSpec(t, "name: j\npipeline:\n  - op: generator\n    limit: 10\n  - op: discard\n")
	fileSpec := writeSpec(t, "name: j\npipeline:\n  - op: file\n    path: "+input+"\n  - op: discard\n")
	wide := writeSpec(t, "name: j\nparallelism: 10000\npipeline:\n  - op: generator\n  - op: discard\n")

	const notRegular = ": not a regular file (a named pipe)"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr (or stdout for listings)
	}{
		{"inspect FIFO _metadata", []string{"inspect", metaFIFO}, ExitError, metaFIFO + notRegular},
		{"inspect dir with FIFO _metadata", []string{"inspect", chk}, ExitError, metaFIFO + notRegular},
		{"savepoints listing", []string{"savepoints", spRoot}, ExitOK, "_metadata" + notRegular},
		{"run FIFO spec", []string{"run", fifo}, ExitError, "job spec: open " + fifo + notRegular},
		{"run /dev/zero", []string{"run", "/dev/zero"}, ExitError, "job spec: open /dev/zero: not a regular file (a character device)"},
		{"run --config FIFO", []string{"run", "--config", fifo, spec}, ExitError, "config file: open " + fifo + notRegular},
		{"run file source on FIFO", []string{"run", fileSpec}, ExitError, fileSpec + ":3:5: step 1 (file): path " + input + notRegular},
		{"submit FIFO", []string{"submit", fifo}, ExitError, "program: open " + fifo + notRegular},
		{"submit /dev/zero", []string{"submit", "/dev/zero"}, ExitError, "program: open /dev/zero: not a regular file (a character device)"},
		{"inspect --against FIFO", []string{"inspect", "--against", fifo, chk}, ExitError, "--against: open " + fifo + notRegular},
		{"inspect --against /dev/zero", []string{"inspect", "--against", "/dev/zero", chk}, ExitError, "--against: open /dev/zero: not a regular file"},
		{"inspect --uids-file FIFO", []string{"inspect", "--uids-file", fifo, chk}, ExitError, "uids file: open " + fifo + notRegular},
		{"inspect --job FIFO", []string{"inspect", "--job", fifo, chk}, ExitError, "job spec: open " + fifo + notRegular},
		{"inspect -i --against FIFO", []string{"inspect", "-i", "--against", fifo, chk}, ExitError, "--against: open " + fifo + notRegular},
		{"diff -i --job FIFO", []string{"diff", "-i", "--job", fifo, chk, chk}, ExitError, "--job: open " + fifo + notRegular},
		{"diff --uids-file FIFO", []string{"diff", "--uids-file", fifo, chk, chk}, ExitError, "uids file: open " + fifo + notRegular},
		{"diff FIFO _metadata", []string{"diff", chk, chk}, ExitError, metaFIFO + notRegular},
		{"run parallelism 10,000", []string{"run", wide}, ExitError, wide + ":2:14: parallelism: 10000 is above the embedded engine's limit of 1024 per operator"},
		{"run -p 2000", []string{"run", "-p", "2000", spec}, ExitUsage, "-p: parallelism.default: 2000 is above the maximum 1024"},
		{"submit -p 2000", []string{"submit", "-p", "2000", spec}, ExitUsage, "-p: parallelism.default: 2000 is above the maximum 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errb := runCkptWithin(t, 10*time.Second, tc.args...)
			if code != tc.code || !strings.Contains(errb+out, tc.want) {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s\nwant %q", code, tc.code, out, errb, tc.want)
			}
		})
	}
}

// POST /jars/:id/run with a savepointPath whose _metadata is a FIFO used
// to hang the request (and the server's job start); through ckpt submit
// to the embedded engine behind the REST API it is now refused at once,
// named, by the server's restore as well as by the local dry run.
func TestSubmitResumeFromFIFOMetadata(t *testing.T) {
	t.Setenv(JobManagerEnv, "")
	target := savepointsTarget(t)
	sp := filepath.Join(t.TempDir(), "savepoint-0a1b2c-0123456789ab")
	os.Mkdir(sp, 0o755)
	meta := mkfifo(t, filepath.Join(sp, "_metadata"))
	spec := writeSpec(t, "name: j\npipeline:\n  - op: generator\n    uid: src\n    rate: 10\n  - op: discard\n    uid: sink\n")
	for _, args := range [][]string{
		{"submit", "-m", target, "--no-dry-run", "--wait", "0", "-s", sp, spec},
		{"submit", "-m", target, "--wait", "0", "-s", meta, spec},
	} {
		code, out, errb := runCkptWithin(t, 20*time.Second, args...)
		if code != ExitError || !strings.Contains(errb, meta+": not a regular file (a named pipe)") {
			t.Errorf("ckpt %v: exit %d\nstdout %s\nstderr %s", args, code, out, errb)
		}
	}
}
