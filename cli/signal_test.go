package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// watchSignals: the first signal cancels the command's context; the
// process ends after the grace period if the command does not return, or
// at once on a second signal — a signal is never swallowed for good.
func TestWatchSignals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		signals   []os.Signal
		returns   bool // the command returns once cancelled
		wantExit  int  // -1: no exit
		wantInErr string
	}{
		{"command returns", []os.Signal{syscall.SIGTERM}, true, -1, ""},
		{"command stuck past grace", []os.Signal{syscall.SIGTERM}, false, 143, "still busy 50ms after terminated: exiting"},
		{"second signal", []os.Signal{os.Interrupt, os.Interrupt}, false, 130, "interrupt again: exiting at once"},
		{"no signal", nil, true, -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exited := make(chan int, 1)
			exitNow = func(code int) { exited <- code }
			t.Cleanup(func() { exitNow = os.Exit })
			sigs := make(chan os.Signal, 2)
			done := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr bytes.Buffer
			finished := make(chan struct{})
			grace := 50 * time.Millisecond
			if len(tc.signals) > 1 {
				grace = time.Hour // the second signal must not wait for it
			}
			go func() { watchSignals(sigs, cancel, done, &stderr, grace); close(finished) }()
			for _, s := range tc.signals {
				sigs <- s
			}
			if len(tc.signals) > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("context not cancelled by the signal")
				}
			}
			if tc.returns {
				close(done)
			}
			select {
			case code := <-exited:
				if code != tc.wantExit || !strings.Contains(stderr.String(), tc.wantInErr) {
					t.Fatalf("exit %d (stderr %q), want %d with %q", code, stderr.String(), tc.wantExit, tc.wantInErr)
				}
			case <-finished:
				select {
				case code := <-exited:
					if code != tc.wantExit || !strings.Contains(stderr.String(), tc.wantInErr) {
						t.Fatalf("exit %d (stderr %q), want %d with %q", code, stderr.String(), tc.wantExit, tc.wantInErr)
					}
					return
				default:
				}
				if tc.wantExit != -1 {
					t.Fatalf("watchSignals returned without exiting, want exit %d", tc.wantExit)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("watchSignals neither exited nor returned")
			}
			if !tc.returns {
				close(done)
			}
		})
	}
}

// The real binary, blocked where no context reaches, still ends promptly on
// SIGTERM; and a command waiting on the network returns as soon as the
// signal cancels its context.
func TestBinaryStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "ckpt")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// start runs ckpt, sends SIGTERM once it is blocked, and returns the
	// exit code, stderr and how long ckpt took after the signal.
	start := func(t *testing.T, blockedAfter time.Duration, stdoutUnread bool, args ...string) (int, string, time.Duration) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), JobManagerEnv+"=", StopGraceEnv+"=")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if stdoutUnread {
			// A pipe nobody reads: ckpt's writes block once it is full.
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmd.Stdout = w
			defer w.Close()
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(blockedAfter)
		sent := time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err := <-waited:
			var ee *exec.ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			return code, stderr.String(), time.Since(sent)
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("ckpt %v still running 20s after SIGTERM\n%s", args, stderr.String())
		}
		return 0, "", 0
	}

	t.Run("blocked writing a listing nobody reads", func(t *testing.T) {
		dir := filepath.Join(tmp, "many")
		os.Mkdir(dir, 0o755)
		for i := range 3000 {
			os.WriteFile(filepath.Join(dir, fmt.Sprintf("chk-%06d-a-rather-long-file-name-to-fill-the-pipe-buffer", i)), nil, 0o644)
		}
		code, stderr, took := start(t, 1500*time.Millisecond, true, "ls", "-U", dir)
		if code != 128+int(syscall.SIGTERM) || !strings.Contains(stderr, "still busy 2s after terminated") || took > 10*time.Second {
			t.Fatalf("exit %d after %v, stderr %q; want %d within the 2s grace of a read-only command", code, took, stderr, 128+int(syscall.SIGTERM))
		}
	})
	t.Run("waiting on a NameNode that never answers", func(t *testing.T) {
		uri := "hdfs://" + silentListener(t) + "/flink/checkpoints/chk-1"
		code, stderr, took := start(t, time.Second, false, "inspect", "--hdfs-timeout", "60s", uri)
		if code != ExitError || took > 3*time.Second || !strings.Contains(stderr, "canceled") {
			t.Fatalf("exit %d after %v, stderr %q; want exit %d at once, naming the cancellation", code, took, stderr, ExitError)
		}
	})
}
