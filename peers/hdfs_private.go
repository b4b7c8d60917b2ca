package peers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var privateSeq atomic.Int64

// PrivateHDFS starts a real HDFS for t alone — never the shared one named
// by CKPT_HDFS_ADDR, which other test binaries use — so that t may freeze
// (SIGSTOP) or kill its JVM (PID). It is stopped, and its work folder
// removed, when t ends; its JVM also exits when the test binary does
// (lifeline). Skips like HDFS: loudly without Java/Maven, or fails under
// CI=true / CKPT_REQUIRE_PEERS=1.
func PrivateHDFS(t testing.TB) *HDFSPeer {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPING: a private real HDFS is not started in -short mode")
	}
	if missing := Tools(); missing != "" {
		Unavailable(t, "HDFS: %s", missing)
	}
	work := filepath.Join(WorkDir(), fmt.Sprintf("private-hdfs-%d-%d", os.Getpid(), privateSeq.Add(1)))
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(Dir(), "hdfs")
	if err := runLogged(10*time.Minute, filepath.Join(work, "prepare.log"), nil, "bash", filepath.Join(script, "prepare.sh")); err != nil {
		Unavailable(t, "HDFS: resolving the Maven classpath failed (%v); see %s", err, filepath.Join(work, "prepare.log"))
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	startLog := filepath.Join(work, "start.log")
	err = runLogged(5*time.Minute, startLog, lifeR, "bash", filepath.Join(script, "start.sh"), work, "--lifeline")
	lifeR.Close()
	stop := func() {
		if pid := pidOf(work); pid > 0 {
			syscall.Kill(pid, syscall.SIGCONT) // a frozen JVM cannot stop
		}
		runLogged(time.Minute, filepath.Join(work, "stop.log"), nil, "bash", filepath.Join(script, "stop.sh"), work)
		lifeW.Close()
		if !t.Failed() {
			os.RemoveAll(work)
		}
	}
	if err != nil {
		stop()
		t.Fatalf("peers/hdfs/start.sh (private): %v\n%s", err, tail(startLog, 40))
	}
	t.Cleanup(stop)
	env, err := readEnvFile(filepath.Join(work, "hdfs.env"))
	if err != nil {
		t.Fatal(err)
	}
	conf := env[EnvHDFSConfDir]
	p := &HDFSPeer{Addr: env[EnvHDFSAddr], ConfDir: conf, Work: work, Superuser: superuserOf(conf)}
	privateMu.Lock()
	privatePeers[p] = &privatePeer{lifelines: []*os.File{lifeW}}
	privateMu.Unlock()
	t.Cleanup(func() {
		privateMu.Lock()
		pp := privatePeers[p]
		delete(privatePeers, p)
		privateMu.Unlock()
		for _, l := range pp.lifelines {
			l.Close()
		}
	})
	return p
}

// privatePeer is what a private peer's owner keeps: the write ends of the
// lifelines of every JVM it started (one more per Restart).
type privatePeer struct {
	lifelines []*os.File
}

var (
	privateMu    sync.Mutex
	privatePeers = map[*HDFSPeer]*privatePeer{}
)

// Kill SIGKILLs the JVM of a private peer (NameNode and DataNode at once)
// and waits until it is gone. Its data stays for Restart.
func (p *HDFSPeer) Kill(t testing.TB) {
	t.Helper()
	pid := p.PID()
	if pid == 0 || !p.isPrivate() {
		t.Fatalf("Kill: %s is not a private HDFS peer with a known pid", p.Addr)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for i := 0; i < 500 && jvmAlive(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if jvmAlive(pid) {
		t.Fatalf("Kill: the HDFS JVM %d is still there", pid)
	}
}

// Restart starts a killed private peer again on its data, with the
// NameNode on the same address.
func (p *HDFSPeer) Restart(t testing.TB) error {
	t.Helper()
	if !p.isPrivate() {
		return fmt.Errorf("Restart: %s is not a private HDFS peer", p.Addr)
	}
	_, port, _ := strings.Cut(p.Addr, ":")
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return err
	}
	privateMu.Lock()
	if pp := privatePeers[p]; pp != nil {
		pp.lifelines = append(pp.lifelines, lifeW)
	}
	privateMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logPath := filepath.Join(p.Work, "restart.log")
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(Dir(), "hdfs", "start.sh"), p.Work, "--lifeline")
	cmd.Env = append(os.Environ(), "CKPT_HDFS_RESTART_PORT="+port)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = lifeR, f, f
	err = cmd.Run()
	lifeR.Close()
	if err != nil {
		return fmt.Errorf("restarting the HDFS peer: %v\n%s", err, tail(logPath, 30))
	}
	return nil
}

func (p *HDFSPeer) isPrivate() bool {
	privateMu.Lock()
	defer privateMu.Unlock()
	return privatePeers[p] != nil
}

// jvmAlive: pid is still a running HDFS peer JVM (not a zombie, not reused).
func jvmAlive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && strings.Contains(string(b), "MiniDFSClusterManager")
}

// PID is the process ID of the peer's JVM (from hdfs.pid in its work
// folder), 0 when unknown (a shared peer given by the environment without
// its work folder).
func (p *HDFSPeer) PID() int {
	if p.Work == "" {
		return 0
	}
	return pidOf(p.Work)
}

func pidOf(work string) int {
	b, err := os.ReadFile(filepath.Join(work, "hdfs.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}
