package peers

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

// HDFSPeer is a running real HDFS (NameNode + DataNode, Hadoop's
// MiniDFSCluster) on loopback.
type HDFSPeer struct {
	// Addr is the NameNode RPC address, 127.0.0.1:port.
	Addr string
	// ConfDir holds core-site.xml with the cluster's whole configuration
	// (fs.defaultFS = this NameNode); use it as HADOOP_CONF_DIR.
	ConfDir string
	// Work is the peer's work folder (hdfs.log, hdfs.pid); empty when the
	// peer was given by the environment without one.
	Work string
	// Superuser is the HDFS superuser: the OS user that started the NameNode.
	Superuser string
}

// Environment variables a caller (make test) sets to share one running HDFS
// with every test binary instead of each starting its own.
const (
	EnvHDFSAddr    = "CKPT_HDFS_ADDR"     // host:port of the NameNode
	EnvHDFSConfDir = "CKPT_HDFS_CONF_DIR" // directory with its core-site.xml
	EnvHDFSWork    = "CKPT_HDFS_WORK"     // its work folder (logs), optional
)

var (
	hdfsPeer    oncePeer[HDFSPeer]
	hdfsStarted string // work dir of the JVM this binary started, "" if none
	// hdfsLifeline is the write end of the started JVM's stdin. Only this
	// process holds it (os.Pipe sets close-on-exec, so no other child
	// inherits it): when the test binary ends — however, SIGKILL of it or
	// of its process group included — the kernel closes it and the JVM,
	// seeing EOF, exits (peers/hdfs/src/dev/ckpt/peer/Lifeline.java).
	hdfsLifeline *os.File
)

// HDFS returns the real HDFS for this test binary: the one named by
// CKPT_HDFS_ADDR/CKPT_HDFS_CONF_DIR if set, else one started on first use
// (once per test binary; its JVM exits when the binary does, however it
// ends, and StopHDFS stops it at once). Without Java/Maven it skips loudly, or fails
// under CI=true / CKPT_REQUIRE_PEERS=1. A peer that should start but does
// not fails the test, with the log's tail.
func HDFS(t testing.TB) *HDFSPeer {
	t.Helper()
	return hdfsPeer.get(t, "HDFS", EnvHDFSAddr, startHDFS)
}

func startHDFS() (*HDFSPeer, string, error) {
	if addr := os.Getenv(EnvHDFSAddr); addr != "" {
		conf := os.Getenv(EnvHDFSConfDir)
		if conf == "" {
			return nil, "", fmt.Errorf("%s=%s is set but %s is not", EnvHDFSAddr, addr, EnvHDFSConfDir)
		}
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return nil, "", fmt.Errorf("%s=%s is set but the NameNode does not answer: %v", EnvHDFSAddr, addr, err)
		}
		c.Close()
		return &HDFSPeer{Addr: addr, ConfDir: conf, Work: os.Getenv(EnvHDFSWork), Superuser: superuserOf(conf)}, "", nil
	}
	if missing := Tools(); missing != "" {
		return nil, missing, nil
	}
	root := WorkDir()
	pruneStaleWork(root, "hdfs-", "hdfs.pid")
	work, err := makeWork(root, "hdfs-")
	if err != nil {
		return nil, "", err
	}
	script := filepath.Join(Dir(), "hdfs")
	// Resolving the classpath needs Maven Central (once; cached in ~/.m2).
	// Failing that is "unavailable", like a missing Maven.
	if err := runLogged(10*time.Minute, filepath.Join(work, "prepare.log"), nil, "bash", filepath.Join(script, "prepare.sh")); err != nil {
		return nil, fmt.Sprintf("resolving the Maven classpath failed (%v); see %s", err, filepath.Join(work, "prepare.log")), nil
	}
	startLog := filepath.Join(work, "start.log")
	// The lifeline exists before the JVM does, so there is no moment in
	// which the binary can die and leave the JVM behind.
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	hdfsLifeline = lifeW
	err = runLogged(5*time.Minute, startLog, lifeR, "bash", filepath.Join(script, "start.sh"), work, "--lifeline")
	lifeR.Close() // the JVM holds its own copy
	hdfsStarted = work
	if err != nil {
		return nil, "", fmt.Errorf("peers/hdfs/start.sh: %v\n%s", err, tail(startLog, 40))
	}
	env, err := readEnvFile(filepath.Join(work, "hdfs.env"))
	if err != nil {
		return nil, "", err
	}
	conf := env[EnvHDFSConfDir]
	return &HDFSPeer{Addr: env[EnvHDFSAddr], ConfDir: conf, Work: work, Superuser: superuserOf(conf)}, "", nil
}

// StopHDFS stops the HDFS this test binary started, if any (a shared one
// given by the environment is left alone). Call it from TestMain after
// m.Run; without it the JVM exits on its own once the binary has (its
// lifeline closes).
func StopHDFS() {
	if hdfsStarted == "" {
		return
	}
	runLogged(time.Minute, filepath.Join(hdfsStarted, "stop.log"), nil, "bash", filepath.Join(Dir(), "hdfs", "stop.sh"), hdfsStarted)
	hdfsStarted = ""
	if hdfsLifeline != nil {
		hdfsLifeline.Close()
		hdfsLifeline = nil
	}
}

// RunTests is a TestMain body for packages that use real peers: it runs the
// tests, stops the peers this binary started, and exits with the result.
func RunTests(m *testing.M) {
	code := m.Run()
	StopHDFS()
	stopMu.Lock()
	stops := stopHooks
	stopHooks = nil
	stopMu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	os.Exit(code)
}

var (
	stopMu    sync.Mutex
	stopHooks []func()
)

// AtExit registers f to run when RunTests ends the test binary: how a peer
// other than HDFS stops what it started. Hooks run last-registered first.
func AtExit(f func()) {
	stopMu.Lock()
	stopHooks = append(stopHooks, f)
	stopMu.Unlock()
}

// URI is the hdfs:// URI of path (absolute, slash-separated) on this peer.
func (p *HDFSPeer) URI(path string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return "hdfs://" + p.Addr + path
}

// Env is the environment that points Hadoop-configured tools (and ckpt's
// hdfs:/// URIs) at this peer: HADOOP_CONF_DIR plus the CKPT_HDFS_* vars.
func (p *HDFSPeer) Env() []string {
	return []string{
		"HADOOP_CONF_DIR=" + p.ConfDir,
		EnvHDFSAddr + "=" + p.Addr,
		EnvHDFSConfDir + "=" + p.ConfDir,
		EnvHDFSWork + "=" + p.Work,
	}
}

// Client connects to the peer as user ("" = the superuser). For test set-up
// that must not go through ckpt's own storage code.
func (p *HDFSPeer) Client(user string) (*hdfs.Client, error) {
	if user == "" {
		user = p.Superuser
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	return hdfs.NewClient(hdfs.ClientOptions{Addresses: []string{p.Addr}, User: user, NamenodeDialFunc: d.DialContext, DatanodeDialFunc: d.DialContext})
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// BaseURI creates a fresh, empty, world-writable directory for t,
// hdfs://127.0.0.1:port/test-<name>-<random>, and removes it when t ends
// (it is kept, and its URI logged, when t failed).
func (p *HDFSPeer) BaseURI(t testing.TB) string {
	t.Helper()
	dir := "/" + testPrefix(t)
	c, err := p.Client("")
	if err != nil {
		t.Fatalf("HDFS peer %s: %v", p.Addr, err)
	}
	defer c.Close()
	if err := c.MkdirAll(dir, 0o777); err != nil {
		t.Fatalf("HDFS peer: mkdir %s: %v", dir, err)
	}
	// The NameNode applies its umask (022) to mkdir; open it up explicitly
	// so tests can act as other HDFS users inside.
	if err := c.Chmod(dir, 0o777); err != nil {
		t.Fatalf("HDFS peer: chmod %s: %v", dir, err)
	}
	uri := p.URI(dir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kept %s for inspection (logs: %s)", uri, filepath.Join(p.Work, "hdfs.log"))
			return
		}
		c, err := p.Client("")
		if err != nil {
			t.Logf("HDFS peer: cleanup of %s: %v", uri, err)
			return
		}
		defer c.Close()
		if err := c.RemoveAll(dir); err != nil {
			t.Logf("HDFS peer: cleanup of %s: %v", uri, err)
		}
	})
	return uri
}

// superuserOf is the OS user that started the NameNode: HDFS makes it the
// superuser. MiniDFSCluster runs as the user running the tests, so the
// current user; a shared peer's conf dir is owned by whoever started it.
func superuserOf(confDir string) string {
	if fi, err := os.Stat(confDir); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if u, err := user.LookupId(strconv.Itoa(int(st.Uid))); err == nil {
				return u.Username
			}
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}

// runLogged runs a command with its output in a log file (never a pipe: the
// JVMs the scripts start in the background must not hold a pipe of ours, or
// `go test` would wait for them), bounded in time. stdin, when not nil, is
// the command's standard input (nil = /dev/null).
func runLogged(limit time.Duration, logPath string, stdin *os.File, name string, args ...string) error {
	f, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if stdin != nil {
		cmd.Stdin = stdin // an *os.File is handed over as is, no copying goroutine
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s did not finish within %s", filepath.Base(args[0]), limit)
		}
		return err
	}
	return nil
}

func readEnvFile(p string) (map[string]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	if env[EnvHDFSAddr] == "" || env[EnvHDFSConfDir] == "" {
		return nil, fmt.Errorf("%s lacks %s or %s", p, EnvHDFSAddr, EnvHDFSConfDir)
	}
	return env, sc.Err()
}

func tail(p string, n int) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
