package peers

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// S3Peer is a running real S3-compatible server (moto's server mode, from
// PyPI) on loopback, with IAM enforced: requests must be signed with a
// known key, and each user may do what its policy allows.
type S3Peer struct {
	// Endpoint is http://127.0.0.1:port.
	Endpoint string
	Region   string
	// Bucket exists and is empty but for what tests put there.
	Bucket string
	// AccessKey/SecretKey belong to a user allowed everything.
	AccessKey, SecretKey string
	// StrangerAccessKey/StrangerSecretKey belong to a user with no policy:
	// every S3 call it makes is denied.
	StrangerAccessKey, StrangerSecretKey string
	// Work holds s3.log and s3.pid; empty for a peer given by the environment.
	Work string
}

// EnvS3Endpoint and the other CKPT_S3_* variables name a running S3 peer to
// share (all of them must be set); peers/s3/server.py writes them to s3.env.
const (
	EnvS3Endpoint       = "CKPT_S3_ENDPOINT"
	EnvS3Region         = "CKPT_S3_REGION"
	EnvS3Bucket         = "CKPT_S3_BUCKET"
	EnvS3AccessKey      = "CKPT_S3_ACCESS_KEY"
	EnvS3SecretKey      = "CKPT_S3_SECRET_KEY"
	EnvS3StrangerAccess = "CKPT_S3_STRANGER_ACCESS_KEY"
	EnvS3StrangerSecret = "CKPT_S3_STRANGER_SECRET_KEY"
	// EnvS3Venv overrides where moto is installed (default: the work
	// dir's s3-venv).
	EnvS3Venv            = "CKPT_S3_VENV"
	s3StartLimit         = 90 * time.Second
	s3PrepareLimit       = 10 * time.Minute
	s3StopLimit          = 10 * time.Second
	s3ServerScriptInPeer = "server.py"
)

var (
	s3Peer     oncePeer[S3Peer]
	s3Proc     *os.Process
	s3Lifeline *os.File
)

// S3 returns the real S3 server for this test binary: the one named by the
// CKPT_S3_* variables if set, else one started on first use (once per
// binary; it exits when the binary does, however it ends, and RunTests
// stops it at once). Without python3, or when moto cannot be installed,
// it skips loudly, or fails under CI=true / CKPT_REQUIRE_PEERS=1. A server
// that should start but does not fails the test, with its log's tail.
func S3(t testing.TB) *S3Peer {
	t.Helper()
	return s3Peer.get(t, "S3", EnvS3Endpoint, startS3)
}

func s3FromEnv(env func(string) string) (*S3Peer, error) {
	p := &S3Peer{
		Endpoint: env(EnvS3Endpoint), Region: env(EnvS3Region), Bucket: env(EnvS3Bucket),
		AccessKey: env(EnvS3AccessKey), SecretKey: env(EnvS3SecretKey),
		StrangerAccessKey: env(EnvS3StrangerAccess), StrangerSecretKey: env(EnvS3StrangerSecret),
	}
	if p.Endpoint == "" || p.Region == "" || p.Bucket == "" || p.AccessKey == "" || p.SecretKey == "" || p.StrangerAccessKey == "" || p.StrangerSecretKey == "" {
		return nil, fmt.Errorf("incomplete S3 peer description: need all of %s", strings.Join([]string{EnvS3Endpoint, EnvS3Region, EnvS3Bucket, EnvS3AccessKey, EnvS3SecretKey, EnvS3StrangerAccess, EnvS3StrangerSecret}, ", "))
	}
	return p, nil
}

func startS3() (*S3Peer, string, error) {
	if os.Getenv(EnvS3Endpoint) != "" {
		p, err := s3FromEnv(os.Getenv)
		if err != nil {
			return nil, "", err
		}
		u, err := url.Parse(p.Endpoint)
		if err != nil {
			return nil, "", fmt.Errorf("%s=%s: %v", EnvS3Endpoint, p.Endpoint, err)
		}
		c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			return nil, "", fmt.Errorf("%s=%s is set but nothing answers there: %v", EnvS3Endpoint, p.Endpoint, err)
		}
		c.Close()
		return p, "", nil
	}
	work, venv, skip, err := install{name: "s3", title: "S3", needs: "python3", what: "moto's server, from PyPI",
		envDir: EnvS3Venv, defaultDir: "s3-venv", action: "installing moto from PyPI", limit: s3PrepareLimit}.prepare()
	if skip != "" || err != nil {
		return nil, skip, err
	}
	logPath := filepath.Join(work, "s3.log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	defer log.Close()
	// The lifeline: the server reads its stdin and exits at EOF, which comes
	// when this process ends, however it ends (only we hold the write end;
	// os.Pipe sets close-on-exec).
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(filepath.Join(venv, "bin", "python"), filepath.Join(Dir(), "s3", s3ServerScriptInPeer), work)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = lifeR, log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	lifeR.Close()
	if err != nil {
		lifeW.Close()
		return nil, "", fmt.Errorf("starting the S3 peer: %v", err)
	}
	s3Proc, s3Lifeline = cmd.Process, lifeW
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	AtExit(StopS3)
	envFile := filepath.Join(work, "s3.env")
	deadline := time.Now().Add(s3StartLimit)
	for {
		if env, err := readKV(envFile); err == nil {
			p, err := s3FromEnv(func(k string) string { return env[k] })
			if err != nil {
				return nil, "", err
			}
			p.Work = work
			return p, "", nil
		}
		select {
		case err := <-exited:
			return nil, "", fmt.Errorf("the S3 peer exited before it was ready (%v); %s:\n%s", err, logPath, tail(logPath, 30))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			StopS3()
			return nil, "", fmt.Errorf("the S3 peer was not ready within %s; %s:\n%s", s3StartLimit, logPath, tail(logPath, 30))
		}
	}
}

// StopS3 stops the S3 server this test binary started, if any: SIGTERM to
// its process group, then SIGKILL if it is still there after a while.
func StopS3() {
	if s3Proc == nil {
		return
	}
	pid := s3Proc.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(s3StopLimit)
	for time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil {
		time.Sleep(50 * time.Millisecond)
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(st), ") Z ") {
			break // exited, not yet reaped
		}
	}
	if syscall.Kill(pid, 0) == nil {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	s3Proc = nil
	if s3Lifeline != nil {
		s3Lifeline.Close()
		s3Lifeline = nil
	}
}

// Env is the environment that points the AWS SDK (and so ckpt's s3://) at
// this peer as its owner, plus the CKPT_S3_* variables that let another
// test binary share it.
func (p *S3Peer) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + p.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + p.SecretKey,
		"AWS_REGION=" + p.Region,
		"AWS_ENDPOINT_URL_S3=" + p.Endpoint,
		EnvS3Endpoint + "=" + p.Endpoint,
		EnvS3Region + "=" + p.Region,
		EnvS3Bucket + "=" + p.Bucket,
		EnvS3AccessKey + "=" + p.AccessKey,
		EnvS3SecretKey + "=" + p.SecretKey,
		EnvS3StrangerAccess + "=" + p.StrangerAccessKey,
		EnvS3StrangerSecret + "=" + p.StrangerSecretKey,
	}
}

// FlinkConf is the Flink configuration (key: value lines) that points
// Flink's S3 filesystems, and ckpt's, at this peer as its owner.
func (p *S3Peer) FlinkConf() string {
	return fmt.Sprintf("s3.endpoint: %s\ns3.path.style.access: true\ns3.access-key: %s\ns3.secret-key: %s\ns3.endpoint.region: %s\n",
		p.Endpoint, p.AccessKey, p.SecretKey, p.Region)
}

// BaseURI is a fresh prefix for t, s3://<bucket>/test-<name>-<random>,
// made a directory (a marker object). The peer lives only as long as the
// test binary, so nothing is cleaned up.
func (p *S3Peer) BaseURI(t testing.TB) string {
	t.Helper()
	return "s3://" + p.Bucket + "/" + testPrefix(t)
}

func readKV(p string) (map[string]string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	if len(env) == 0 {
		return nil, errors.New(p + " is empty")
	}
	return env, nil
}
