package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	return &HDFSPeer{Addr: env[EnvHDFSAddr], ConfDir: conf, Work: work, Superuser: superuserOf(conf)}
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
