package peers

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// server is an emulator process (Azurite, fake-gcs-server) this test
// binary started: in a process group of its own, under lifeline.sh so it
// dies with the binary, its output in a log.
type server struct {
	name     string
	proc     *os.Process
	lifeline *os.File
	log      string
	exited   chan error
}

const (
	serverStartLimit = 60 * time.Second
	serverStopLimit  = 3 * time.Second
)

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts argv in work with env added, its output in
// <work>/<name>.log and its pid in <work>/<name>.pid.
func startServer(name, work string, env []string, argv ...string) (*server, error) {
	logPath := filepath.Join(work, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("bash", append([]string{filepath.Join(Dir(), "lifeline.sh")}, argv...)...)
	cmd.Dir = work
	cmd.Env = append(append(os.Environ(), env...), "CKPT_PEER_PIDFILE="+filepath.Join(work, name+".pid"))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = lifeR, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	lifeR.Close()
	if err != nil {
		lifeW.Close()
		return nil, fmt.Errorf("starting the %s peer: %v", name, err)
	}
	s := &server{name: name, proc: cmd.Process, lifeline: lifeW, log: logPath, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait() }()
	return s, nil
}

// waitHTTP waits until url answers at all (any status), the server exits,
// or the start limit passes.
func (s *server) waitHTTP(url string) error {
	deadline := time.Now().Add(serverStartLimit)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-s.exited:
			return fmt.Errorf("the %s peer exited before it was ready (%v); %s:\n%s", s.name, err, s.log, tail(s.log, 30))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("the %s peer was not ready within %s; %s:\n%s", s.name, serverStartLimit, s.log, tail(s.log, 30))
		}
	}
}

// stop ends the server's process group: SIGTERM, then SIGKILL to whatever
// of the group is still there after a while (Azurite may ignore SIGTERM
// after its lifeline shell is gone).
func (s *server) stop() {
	if s == nil || s.proc == nil {
		return
	}
	pid := s.proc.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(serverStopLimit)
	for time.Now().Before(deadline) && syscall.Kill(-pid, 0) == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if syscall.Kill(-pid, 0) == nil {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	s.proc = nil
	if s.lifeline != nil {
		s.lifeline.Close()
		s.lifeline = nil
	}
}

// install is how a server peer is made ready: the tool it needs on PATH,
// a fresh work dir, and its peers/<name>/prepare.sh installing it (once:
// the script returns at once when it is there).
type install struct {
	name       string // "s3": work dir prefix, pid file, peers/<name>/prepare.sh
	title      string // "S3", as messages name the peer
	needs      string // the program it needs on PATH
	what       string // what the peer is, for a missing tool: "moto's server, from PyPI"
	envDir     string // the variable overriding where it is installed
	defaultDir string // else this, in the work root
	action     string // for a failure: "installing moto from PyPI"
	limit      time.Duration
}

// prepare returns the work dir and the installation; skip says why the
// peer cannot run here (a missing tool, a failed install).
func (in install) prepare() (work, dir, skip string, err error) {
	if _, err := exec.LookPath(in.needs); err != nil {
		return "", "", fmt.Sprintf("%s not found on PATH (the %s peer is %s)", in.needs, in.title, in.what), nil
	}
	root := WorkDir()
	pruneStaleWork(root, in.name+"-", in.name+".pid")
	if work, err = makeWork(root, in.name+"-"); err != nil {
		return "", "", "", err
	}
	if dir = os.Getenv(in.envDir); dir == "" {
		dir = filepath.Join(root, in.defaultDir)
	}
	prepLog := filepath.Join(work, "prepare.log")
	if err := runLogged(in.limit, prepLog, nil, "bash", filepath.Join(Dir(), in.name, "prepare.sh"), dir); err != nil {
		return "", "", fmt.Sprintf("%s failed (%v); see %s:\n%s", in.action, err, prepLog, tail(prepLog, 10)), nil
	}
	return work, dir, "", nil
}
