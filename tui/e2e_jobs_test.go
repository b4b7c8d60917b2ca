package tui

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
)

// e2eSpec is a small stateful job for the end-to-end tests: generator →
// keyed count → discard, checkpointing every 300 ms into dir.
func e2eSpec(dir string) string {
	return `name: e2e-counts
parallelism: 2
config:
  execution.checkpointing.interval: 300 ms
  execution.checkpointing.dir: file://` + filepath.ToSlash(filepath.Join(dir, "checkpoints")) + `
  execution.checkpointing.num-retained: 2
pipeline:
  - op: generator
    uid: source
    keys: 50
    rate: 500
  - op: keyBy
  - op: count
    uid: count-per-key
  - op: discard
    uid: sink
`
}

// savepointsIn lists savepoint dirs with a _metadata under dir.
func savepointsIn(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "savepoint-*", "_metadata"))
	return m
}

// The real binary on its embedded engine, as an operator on upgrade day:
// launch a job from the picker, watch a checkpoint complete, take a
// savepoint, stop the job with a savepoint, resume from it after the dry
// run, see the new job restored from it, quit.
func TestE2EEmbeddedJobLifecycleInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := ckptBinary(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jobs", "e2e-counts.yaml"), []byte(e2eSpec(dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startTmux(t, 160, 45, nil, "sh", "-c", "cd "+shellQuote(dir)+" && exec "+shellQuote(bin))
	s.waitFor(20*time.Second, "⎈ embedded engine", "no jobs yet")

	s.keys("n")
	s.waitFor(10*time.Second, "jobs/e2e-counts.yaml")
	s.keys("Enter")
	s.waitFor(30*time.Second, "e2e-counts RUNNING", "✓ completed  #")

	// A savepoint into the pre-filled dir (next to the checkpoint root).
	s.keys("s")
	s.waitFor(5*time.Second, "Savepoint of e2e-counts", filepath.Join(dir, "savepoints"))
	s.keys("Enter")
	if screen := s.waitForAny(60*time.Second, "savepoint at ", "not supported by this engine yet"); strings.Contains(screen, "not supported by this engine yet") {
		t.Skip("SKIPPED: the embedded engine does not take savepoints yet (issue 5); the rest of this test needs them")
	}
	if sp := savepointsIn(t, filepath.Join(dir, "savepoints")); len(sp) != 1 {
		t.Fatalf("savepoints on disk after s: %v", sp)
	}

	// Stop with a savepoint (no drain): the job ends FINISHED.
	s.keys("S")
	s.waitFor(5*time.Second, "STOP e2e-counts with a savepoint")
	s.keys("Enter")
	s.waitFor(60*time.Second, "stopped; savepoint at ")
	s.waitFor(20*time.Second, "e2e-counts FINISHED")
	if sp := savepointsIn(t, filepath.Join(dir, "savepoints")); len(sp) != 2 {
		t.Fatalf("savepoints on disk after S: %v", sp)
	}

	// Resume from the stop's savepoint: newest first on the snapshots pane.
	s.keys("3")
	s.waitFor(20*time.Second, "latest savepoint")
	s.keys("r")
	s.waitFor(20*time.Second, "Resume a job from a snapshot", "jobs/e2e-counts.yaml", "dry run: 3 RESTORED", "nothing dropped", "enter submits · ready")
	s.keys("Enter")
	s.waitFor(5*time.Second, "SUBMIT jobs/e2e-counts.yaml resuming from")
	s.keys("y")
	s.waitFor(30*time.Second, "e2e-counts RUNNING", "↺ restored   #", "from savepoint")
	// Quitting with a job running in this process asks first, naming it.
	s.keys("q")
	s.waitFor(10*time.Second, "1 job runs in this process", "e2e-counts", "stop each with a savepoint")
	s.keys("c")
	s.waitFor(30*time.Second, "CKPT-EXITED-0")
}

// The real binary against a REAL Flink JobManager (the peer): the job and
// its checkpoints show, and a savepoint triggered from the TUI lands on
// disk.
func TestE2EFlinkRESTTargetInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	p := peers.Flink(t, peers.FlinkJob{Name: "tui-e2e", Parallelism: 2, CheckpointInterval: 300 * time.Millisecond})
	if _, err := p.WaitCheckpoints(1); err != nil {
		t.Fatalf("flink peer: %v", err)
	}
	bin := ckptBinary(t)
	spDir := t.TempDir()
	s := startTmux(t, 160, 45, nil, bin, "-m", p.RESTURL())
	s.waitFor(30*time.Second, "version "+p.Version(), "tui-e2e", "RUNNING")
	s.keys("Enter")
	s.waitFor(30*time.Second, "tui-e2e RUNNING", "Source:", "✓ completed  #")
	s.keys("2")
	s.waitFor(20*time.Second, "COMPLETED", "/chk-")
	// A recent checkpoint vertex by vertex, then subtask by subtask (Flink
	// keeps the statistics of its 10 newest: with a 300 ms interval the
	// oldest rows are gone within seconds).
	s.keys("g", "j", "Enter")
	s.waitFor(20*time.Second, "LATEST ACK", "Source:")
	s.keys("Enter")
	s.waitFor(20*time.Second, "SYNC", "ASYNC", "START DELAY", "slowest subtask")
	s.keys("Escape")
	s.waitFor(5*time.Second, "LATEST ACK")
	s.keys("Escape")
	// A lone ESC must be told apart from alt+key: wait for the job screen
	// before typing on.
	s.waitFor(5*time.Second, "2 checkpoints]")
	// The retained chk-N read from the checkpoint dir on disk.
	s.keys("3")
	s.waitFor(20*time.Second, "✓ _metadata", "latest completed")
	s.keys("1", "s")
	s.waitFor(5*time.Second, "Savepoint of tui-e2e")
	s.keys("C-u") // clear the pre-filled dir
	s.literal(peers.URI(spDir))
	s.keys("Enter")
	s.waitFor(120*time.Second, "savepoint at ")
	sp := savepointsIn(t, spDir)
	if len(sp) != 1 {
		t.Fatalf("savepoints in %s: %v\n%s", spDir, sp, s.capture())
	}
	s.waitFor(30*time.Second, "◆ savepoint  #")
	s.keys("q")
	s.waitFor(30*time.Second, "CKPT-EXITED-0")
}

// A REST target that refuses connections, and one that accepts and never
// answers: the error shows in place, keys keep working, q quits at once.
func TestE2EUnreachableRESTTargetInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	bin := ckptBinary(t)

	// Refused: a port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	s := startTmux(t, 120, 30, nil, bin, "-m", refused)
	s.waitFor(15*time.Second, "⎈ "+refused, "connection refused", "retrying", "target unreachable")
	s.keys("?")
	s.waitFor(3*time.Second, "launch a job")
	s.keys("q")
	s.waitFor(5*time.Second, "CKPT-EXITED-0")

	// Silent: accepts and says nothing (the REST client bounds each call).
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	s = startTmux(t, 120, 30, nil, bin, "-m", silent.Addr().String())
	// After 2 s the quiet poll shows in the status bar; keys still answer.
	s.waitFor(10*time.Second, "polling "+silent.Addr().String())
	start := time.Now()
	s.keys(":")
	s.literal("theme light")
	s.keys("Enter")
	s.waitFor(3*time.Second, "theme light")
	s.keys("q")
	s.waitFor(5*time.Second, "CKPT-EXITED-0")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("keys and quit took %v with a silent target", d)
	}
}

// waitForAny polls the screen until one of wants appears, or fails after d.
func (s *tmuxSession) waitForAny(d time.Duration, wants ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		screen := s.capture()
		for _, w := range wants {
			if strings.Contains(screen, w) {
				return screen
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("after %v the screen has none of %q:\n%s", d, wants, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
