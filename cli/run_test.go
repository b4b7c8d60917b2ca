package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/config"
)

func writeSpec(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func boundedSpec(out string) string {
	return `name: bounded
parallelism: 2
pipeline:
  - op: generator
    uid: source
    keys: 10
    limit: 2000
  - op: keyBy
  - op: count
    uid: count
  - op: file-sink
    uid: sink
    path: ` + out + "\n"
}

func TestRunExitCodes(t *testing.T) {
	tmp := t.TempDir()
	good := writeSpec(t, boundedSpec(filepath.Join(tmp, "out")))
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"finished", []string{"run", good, "-Dexecution.checkpointing.interval=50ms", "-Dexecution.checkpointing.dir=" + filepath.Join(tmp, "ckpt")}, ExitOK, "FINISHED"},
		{"spec typo", []string{"run", writeSpec(t, "name: x\npipeline:\n  - op: generator\n    kyes: 3\n")}, ExitError, `job.yaml:4:5: step 1 (generator): unknown field "kyes" — did you mean "keys"?`},
		{"missing spec", []string{"run", filepath.Join(tmp, "nope.yaml")}, ExitError, "no such file"},
		{"-D without =", []string{"run", good, "-Dexecution.checkpointing.interval"}, ExitUsage, "expected key=value"},
		{"-D bad value", []string{"run", good, "-Dstate.checkpoints.num-retained=zero"}, ExitUsage, "state.checkpoints.num-retained"},
		{"interval without dir", []string{"run", good, "-Dexecution.checkpointing.interval=1s"}, ExitError, "execution.checkpointing.dir"},
		{"incomplete checkpoint", []string{"run", good, "-s", tmp}, ExitError, "not a complete checkpoint"},
		{"no args", []string{"run"}, ExitUsage, "accepts 1 arg"},
		{"failing job", []string{"run", writeSpec(t, `name: f
pipeline:
  - op: generator
    limit: 100
  - op: fail
    after: 10
  - op: discard
`), "-Drestart-strategy.type=none"}, ExitJobFailed, "injected failure after 10 records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.wantErr) {
				t.Fatalf("exit %d (want %d), stderr:\n%s\nwant it to contain %q", code, tt.code, errb.String(), tt.wantErr)
			}
		})
	}
}

// Cancelling (what SIGINT/SIGTERM do through the command's context) ends
// with exit code 4 and, with RETAIN_ON_CANCELLATION, keeps the checkpoints.
func TestRunCancelKeepsRetained(t *testing.T) {
	tmp := t.TempDir()
	spec := writeSpec(t, strings.Replace(boundedSpec(filepath.Join(tmp, "out")), "limit: 2000", "rate: 2000", 1))
	over := config.New()
	for _, d := range []string{"execution.checkpointing.interval=50ms", "execution.checkpointing.dir=" + filepath.Join(tmp, "ckpt"),
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION"} {
		if err := over.SetDynamic(d); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(600*time.Millisecond, cancel)
	var log bytes.Buffer
	err := runJob(ctx, spec, over, &log, 0)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != ExitJobCanceled {
		t.Fatalf("runJob = %v, want exit %d\n%s", err, ExitJobCanceled, log.String())
	}
	if !strings.Contains(log.String(), "COMPLETED") || !strings.Contains(log.String(), "retained checkpoints kept") {
		t.Fatalf("log:\n%s", log.String())
	}
	jobs, _ := filepath.Glob(filepath.Join(tmp, "ckpt", "*", "chk-*", "_metadata"))
	if len(jobs) != 1 {
		t.Fatalf("want 1 retained checkpoint (num-retained 1), found %v", jobs)
	}
}

// The real binary: SIGTERM cancels the job and the exit code says so.
func TestRunBinarySIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "ckpt")
	build := exec.Command("go", "build", "-o", bin, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	spec := writeSpec(t, strings.Replace(boundedSpec(filepath.Join(tmp, "out")), "limit: 2000", "rate: 2000", 1))
	cmd := exec.Command(bin, "run", spec, "-Dexecution.checkpointing.interval=50ms", "-Dexecution.checkpointing.dir="+filepath.Join(tmp, "ckpt"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitJobCanceled {
		t.Fatalf("exit %v, want %d\n%s", err, ExitJobCanceled, stderr.String())
	}
	if !strings.Contains(stderr.String(), "checkpoints deleted (NO_EXTERNALIZED_CHECKPOINTS") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "ckpt", "*", "chk-*")); len(left) != 0 {
		t.Fatalf("checkpoints left after cancel without retention: %v", left)
	}
}

// A failure no restart cures exits 1 at once with the message, whatever
// the restart strategy allows: a resumed checkpoint with a flipped byte in
// a state file (named in storage, under shared/), an operator
// configuration Open refuses.
func TestRunDeterministicFailureExits1(t *testing.T) {
	tmp := t.TempDir()
	spec := writeSpec(t, strings.Replace(boundedSpec(filepath.Join(tmp, "out")), "limit: 2000", "rate: 2000", 1))
	over := config.New()
	for _, d := range []string{"execution.checkpointing.interval=50ms", "execution.checkpointing.dir=" + filepath.Join(tmp, "ckpt"),
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION"} {
		if err := over.SetDynamic(d); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(600*time.Millisecond, cancel)
	var log bytes.Buffer
	runJob(ctx, spec, over, &log, 0)
	chks, _ := filepath.Glob(filepath.Join(tmp, "ckpt", "*", "chk-*"))
	shared, _ := filepath.Glob(filepath.Join(tmp, "ckpt", "*", "shared", "*"))
	if len(chks) != 1 || len(shared) == 0 {
		t.Fatalf("want a retained checkpoint with shared files, found %v, %v\n%s", chks, shared, log.String())
	}
	bad := shared[0]
	data, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(bad, data, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, "a-file")
	os.WriteFile(file, nil, 0o644)
	window := writeSpec(t, "name: w\npipeline:\n  - op: generator\n    limit: 100\n  - op: keyBy\n  - op: window-count\n    size: 0s\n  - op: discard\n")
	sinkOnFile := writeSpec(t, strings.Replace(boundedSpec(file), "limit: 2000", "limit: 10", 1))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"corrupt checkpoint", []string{"run", "-s", chks[0], spec}, "shared/" + filepath.Base(bad) + " is corrupt"},
		{"window-count size 0", []string{"run", window}, "(window-count): size: 0s is below the minimum of 1 ms"},
		{"file sink on a file", []string{"run", sinkOnFile}, "is a file, not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			start := time.Now()
			code := run(append(tc.args, "-Drestart-strategy.fixed-delay.attempts=50", "-Drestart-strategy.fixed-delay.delay=1s"), &out, &errb)
			if code != ExitError || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d (want %d), stderr:\n%s\nwant it to contain %q", code, ExitError, errb.String(), tc.want)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Fatalf("took %s: restarted instead of failing at once", d)
			}
		})
	}
}
