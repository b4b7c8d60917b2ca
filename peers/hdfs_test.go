package peers

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

func TestMain(m *testing.M) { RunTests(m) }

// TestHDFSPeerServes proves the harness end to end: the peer is up, its
// conf dir names it, and a file spanning several blocks round-trips through
// a client that is not ckpt's own storage code.
func TestHDFSPeerServes(t *testing.T) {
	p := HDFS(t)
	conf, err := os.ReadFile(filepath.Join(p.ConfDir, "core-site.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(conf, []byte("fs.defaultFS")) {
		t.Fatalf("%s/core-site.xml has no fs.defaultFS", p.ConfDir)
	}
	base := p.BaseURI(t)
	dir := strings.TrimPrefix(base, "hdfs://"+p.Addr)
	c, err := p.Client("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fi, err := c.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Fatalf("base dir %s: %v %v", dir, fi, err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16+7) // > 3 blocks of 1 MiB
	w, err := c.Create(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	// The NameNode says "replication in progress" until the last block's
	// replicas have reported; like the Java client, retry with backoff.
	err = w.Close()
	for wait := 50 * time.Millisecond; hdfs.IsErrReplicating(err) && wait < 10*time.Second; wait *= 2 {
		time.Sleep(wait)
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Open(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (want %d), err %v", len(got), len(data), err)
	}
	if bs := r.Stat().Sys().(*hdfs.FileStatus).GetBlocksize(); bs != 1<<20 {
		t.Errorf("block size %d, want 1 MiB (start.sh sets it small so multi-block files are cheap)", bs)
	}
}

// TestPolicyMissingJava runs this test binary again with java and mvn
// hidden from PATH: by default the peer test skips loudly; with
// CKPT_REQUIRE_PEERS=1 (or CI=true) the same test fails.
func TestPolicyMissingJava(t *testing.T) {
	if os.Getenv("CKPT_POLICY_CHILD") == "1" {
		return
	}
	bin := t.TempDir()
	// Keep a shell available (scripts would need it) but nothing else.
	if sh, err := exec.LookPath("bash"); err == nil {
		os.Symlink(sh, filepath.Join(bin, "bash"))
	}
	cases := []struct {
		name     string
		env      []string
		wantFail bool
		wantText string
	}{
		{"default skips", nil, false, "SKIPPING: real peer unavailable"},
		{"required fails", []string{"CKPT_REQUIRE_PEERS=1"}, true, "REAL PEER REQUIRED"},
		{"CI fails", []string{"CI=true"}, true, "REAL PEER REQUIRED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPolicyChild$", "-test.v", "-test.count=1")
			cmd.Env = append(cleanEnv(), "PATH="+bin, "CKPT_POLICY_CHILD=1", "CKPT_PEERS_WORK="+t.TempDir())
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.wantFail {
				t.Fatalf("child failed=%v, want %v; output:\n%s", failed, tc.wantFail, out)
			}
			if !strings.Contains(string(out), tc.wantText) || !strings.Contains(string(out), "java and mvn not found") {
				t.Fatalf("child output lacks %q and the missing tools; got:\n%s", tc.wantText, out)
			}
		})
	}
}

// TestPolicyChild is the child of TestPolicyMissingJava.
func TestPolicyChild(t *testing.T) {
	if os.Getenv("CKPT_POLICY_CHILD") != "1" {
		t.Skip("only run as TestPolicyMissingJava's child")
	}
	HDFS(t)
	t.Fatal("HDFS returned without java on PATH")
}

// cleanEnv is the environment without anything that names a running peer or
// the peer policy, so the child decides from PATH alone.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "CI", "CKPT_REQUIRE_PEERS", EnvHDFSAddr, EnvHDFSConfDir, EnvHDFSWork, "CKPT_PEERS_WORK":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// The HDFS JVM a test binary starts never outlives it: the binary is killed
// with SIGKILL together with its whole process group (what a CI timeout or
// `kill -- -PGID` does; it used to take the watchdog along and leave the
// JVM, which runs in its own session, behind), once while the peer is still
// starting and once when it serves. The JVM must be gone shortly after.
func TestHDFSJVMDiesWithItsTestBinary(t *testing.T) {
	if os.Getenv("CKPT_LIFELINE_CHILD") == "1" {
		t.Skip("parent test only")
	}
	if testing.Short() {
		t.Skip("SKIPPING: starts real HDFS peers; not in -short mode")
	}
	if missing := Tools(); missing != "" {
		Unavailable(t, "HDFS: %s", missing)
	}
	for _, tc := range []struct {
		name  string
		ready bool // kill once the peer serves, else as soon as the JVM exists
	}{
		{"killed while starting", false},
		{"killed while serving", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestHDFSLifelineChild$", "-test.v", "-test.count=1", "-test.timeout=10m")
			cmd.Env = append(cleanEnv(), "PATH="+os.Getenv("PATH"), "CKPT_LIFELINE_CHILD=1", "CKPT_PEERS_WORK="+work)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var out lockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pgid := cmd.Process.Pid
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			defer func() { syscall.Kill(-pgid, syscall.SIGKILL); <-exited }()

			pidFile := filepath.Join(work, fmt.Sprintf("hdfs-%d", pgid), "hdfs.pid")
			jvm := 0
			deadline := time.Now().Add(4 * time.Minute)
			for jvm == 0 || (tc.ready && !strings.Contains(out.String(), "LIFELINE-CHILD-READY")) {
				select {
				case <-exited:
					t.Fatalf("child ended before it was killed:\n%s", out.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("child not where it should be killed after 4 min:\n%s", out.String())
				}
				if jvm == 0 {
					if b, err := os.ReadFile(pidFile); err == nil {
						if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && isHDFSJVM(p) {
							jvm = p
						}
					}
				}
			}
			if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-exited
			gone := time.Now().Add(30 * time.Second)
			for isHDFSJVM(jvm) {
				if time.Now().After(gone) {
					syscall.Kill(jvm, syscall.SIGKILL) // do not leak it from this test either
					t.Fatalf("the HDFS JVM (pid %d) outlived its test binary by 30 s; child output:\n%s", jvm, out.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("JVM %d gone %v after its test binary was killed", jvm, time.Since(gone.Add(-30*time.Second)).Round(10*time.Millisecond))
		})
	}
}

// isHDFSJVM: pid is a live MiniDFSCluster JVM (a zombie or a reused pid is not).
func isHDFSJVM(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(b, []byte("MiniDFSClusterManager"))
}

// TestHDFSLifelineChild is the child of TestHDFSJVMDiesWithItsTestBinary:
// it starts its own peer and waits to be killed.
func TestHDFSLifelineChild(t *testing.T) {
	if os.Getenv("CKPT_LIFELINE_CHILD") != "1" {
		t.Skip("only run as TestHDFSJVMDiesWithItsTestBinary's child")
	}
	HDFS(t)
	fmt.Println("LIFELINE-CHILD-READY")
	time.Sleep(time.Hour)
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
