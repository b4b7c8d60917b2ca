package tui

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	hdfslib "github.com/colinmarc/hdfs/v2"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// End-to-end tests drive the real ckpt binary in tmux: send-keys to type,
// capture-pane to read the screen, as a person at a terminal would.

func TestMain(m *testing.M) { peers.RunTests(m) }

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// ckptBinary builds ckpt once per test binary.
func ckptBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..")
		dir, err := os.MkdirTemp("", "ckpt-e2e-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "ckpt")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type tmuxSession struct {
	t    *testing.T
	name string
}

// startTmux runs argv in a detached tmux session of the given size.
func startTmux(t *testing.T, w, h int, env []string, argv ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		peers.Unavailable(t, "tmux not found on PATH (.ci/run installs it)")
	}
	name := fmt.Sprintf("ckpt-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9)
	home := t.TempDir()
	shellCmd := "env"
	for _, e := range append([]string{"HOME=" + home, "TERM=xterm-256color", "CKPT_CONFIG=", "NO_COLOR="}, env...) {
		shellCmd += " " + shellQuote(e)
	}
	for _, a := range argv {
		shellCmd += " " + shellQuote(a)
	}
	// Keep the pane after exit so the final screen can be read.
	shellCmd += "; echo CKPT-EXITED-$?; sleep 30"
	cmd := exec.Command("tmux", "new-session", "-d", "-s", name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), shellCmd)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	s := &tmuxSession{t: t, name: name}
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", name).Run() })
	return s
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func (s *tmuxSession) capture() string {
	out, err := exec.Command("tmux", "capture-pane", "-p", "-t", s.name).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return string(out)
}

// keys sends tmux key names ("j", "Enter", "Escape", "C-c") or literal text.
func (s *tmuxSession) keys(keys ...string) {
	args := append([]string{"send-keys", "-t", s.name}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

func (s *tmuxSession) literal(text string) {
	if out, err := exec.Command("tmux", "send-keys", "-t", s.name, "-l", text).CombinedOutput(); err != nil {
		s.t.Fatalf("tmux send-keys -l: %v\n%s", err, out)
	}
}

// waitFor polls the screen until every want appears, or fails after d.
func (s *tmuxSession) waitFor(d time.Duration, want ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	var screen string
	for {
		screen = s.capture()
		ok := true
		for _, w := range want {
			if !strings.Contains(screen, w) {
				ok = false
				break
			}
		}
		if ok {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("after %v the screen lacks %q:\n%s", d, want, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// copyToHDFS copies a local tree into the HDFS peer under dst (a path).
func copyToHDFS(t *testing.T, p *peers.HDFSPeer, local, dst string) {
	t.Helper()
	c, err := p.Client("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = filepath.WalkDir(local, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(local, path)
		target := dst + "/" + filepath.ToSlash(rel)
		if d.IsDir() {
			return c.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		w, err := c.Create(target)
		if err != nil {
			return err
		}
		if len(data) > 0 { // an empty write would allocate a block that never replicates
			if _, err := w.Write(data); err != nil {
				return err
			}
		}
		err = w.Close()
		// The NameNode says "replication in progress" until the DataNode has
		// reported the last block; the Java client retries too.
		for wait := 50 * time.Millisecond; hdfslib.IsErrReplicating(err) && wait < 10*time.Second; wait *= 2 {
			time.Sleep(wait)
			err = w.Close()
		}
		return err
	})
	if err != nil {
		t.Fatalf("copy %s to HDFS %s: %v", local, dst, err)
	}
}

// The real binary browses a real HDFS holding a Flink checkpoint tree, opens
// a _metadata, maps uids, runs the resume dry-run and quits.
func TestE2EBrowseHDFSInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	hdfs := peers.HDFS(t)
	base := hdfs.BaseURI(t)
	local := t.TempDir()
	if err := BuildDemoTree(local, tuitest.Fixtures(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	basePath := strings.TrimPrefix(base, "hdfs://"+hdfs.Addr)
	copyToHDFS(t, hdfs, local, basePath)
	bin := ckptBinary(t)

	job := base + "/checkpoints/" + DemoJobID
	s := startTmux(t, 140, 40, hdfs.Env(), bin, "browse", base+"/checkpoints")
	s.waitFor(20*time.Second, DemoJobID, "JOB")
	s.keys("Enter") // into the job dir
	s.waitFor(20*time.Second, "chk-17/", "chk-18/", "CHK ✗ partial", "latest complete chk-18", "SHARED")
	s.keys("j", "Enter") // chk-18 is complete: enter inspects it
	s.waitFor(20*time.Second, "format v4", "checkpoint id 2", "d5c8b168c6cbfe8c507a10f88b325243")
	s.keys("u")
	s.literal(tuitest.MigrationUIDs)
	s.keys("Enter")
	s.waitFor(10*time.Second, "CheckpointingKeyedStateFlatMap1", "CheckpointingSource1", "8 operators · 4 uids")
	s.keys("r")
	screen := s.waitFor(10*time.Second, "RESTORED", "DROPPED", "NEW (empty)", "--allow-non-restored-state")
	if !strings.Contains(screen, job+"/chk-18/_metadata") {
		t.Errorf("header does not name the HDFS _metadata:\n%s", screen)
	}
	s.keys("q")
	s.waitFor(10*time.Second, "CKPT-EXITED-0")
}

// A NameNode that accepts connections and never answers must not freeze
// the UI: keys keep working while the listing waits, and q quits at once.
func TestE2EStalledNameNodeKeepsUIResponsive(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, say nothing
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
	_ = ctx
	bin := ckptBinary(t)
	uri := "hdfs://" + ln.Addr().String() + "/flink/checkpoints"
	// A long timeout: the listing is still hanging while we type.
	s := startTmux(t, 100, 30, []string{"CKPT_HDFS_TIMEOUT=120s"}, bin, "browse", uri)
	s.waitFor(10*time.Second, "listing "+uri)
	start := time.Now()
	s.keys("?")
	s.waitFor(2*time.Second, "Keys", "copy path")
	s.keys("Escape")
	// A lone ESC must be told apart from an alt+key sequence: wait until
	// the help has closed before typing on.
	deadline := time.Now().Add(2 * time.Second)
	for strings.Contains(s.capture(), "copy path") {
		if time.Now().After(deadline) {
			t.Fatalf("esc did not close help:\n%s", s.capture())
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.keys(":")
	s.literal("theme light")
	s.keys("Enter")
	s.waitFor(2*time.Second, "theme light")
	if !strings.Contains(s.capture(), "listing "+uri) {
		t.Errorf("the listing should still be waiting on the stalled NameNode:\n%s", s.capture())
	}
	t.Logf("keys answered after %v", time.Since(start))
	s.keys("q")
	s.waitFor(3*time.Second, "CKPT-EXITED-0")
	t.Logf("quit after %v", time.Since(start))
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("UI took %v to answer keys and quit with a stalled NameNode", d)
	}
}
