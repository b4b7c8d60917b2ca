package peers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

func s3Client(p *S3Peer, access, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:       p.Region,
		BaseEndpoint: aws.String(p.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(access, secret, ""),
	})
}

// TestS3PeerServes proves the harness end to end: the server is up on
// loopback, its bucket exists, and IAM is enforced — an unknown key and
// the stranger are refused, the owner is served.
func TestS3PeerServes(t *testing.T) {
	p := S3(t)
	if !strings.HasPrefix(p.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %s is not on loopback", p.Endpoint)
	}
	ctx := context.Background()
	owner := s3Client(p, p.AccessKey, p.SecretKey)
	if _, err := owner.PutObject(ctx, &s3.PutObjectInput{Bucket: &p.Bucket, Key: aws.String("peers-test/x"), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("owner put: %v", err)
	}
	if out, err := owner.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &p.Bucket, Prefix: aws.String("peers-test/")}); err != nil || len(out.Contents) != 1 {
		t.Fatalf("owner list: %v", err)
	}
	_, err := s3Client(p, "AKIANOSUCHKEY0000000", "secret").ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &p.Bucket})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAccessKeyId" {
		t.Fatalf("unknown key: %v, want InvalidAccessKeyId", err)
	}
	_, err = s3Client(p, p.StrangerAccessKey, p.StrangerSecretKey).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &p.Bucket})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("stranger list: %v, want AccessDenied", err)
	}
}

// The S3 server a test binary starts never outlives it: the binary is
// killed with SIGKILL together with its process group, and the server
// (in a group of its own) must be gone shortly after, through its lifeline.
func TestS3ServerDiesWithItsTestBinary(t *testing.T) {
	if os.Getenv("CKPT_S3_LIFELINE_CHILD") == "1" {
		t.Skip("parent test only")
	}
	p := S3(t) // the venv is installed and moto starts here, or this skips
	_ = p
	work := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestS3LifelineChild$", "-test.v", "-test.count=1", "-test.timeout=5m")
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "CKPT_S3_") && k != "CKPT_PEERS_WORK" {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "CKPT_S3_LIFELINE_CHILD=1", "CKPT_PEERS_WORK="+work, EnvS3Venv+"="+filepath.Join(WorkDir(), "s3-venv"))
	if v := os.Getenv(EnvS3Venv); v != "" {
		cmd.Env = append(cmd.Env, EnvS3Venv+"="+v)
	}
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
	pidFile := filepath.Join(work, fmt.Sprintf("s3-%d", pgid), "s3.pid")
	server := 0
	deadline := time.Now().Add(3 * time.Minute)
	for server == 0 || !strings.Contains(out.String(), "S3-LIFELINE-CHILD-READY") {
		select {
		case <-exited:
			t.Fatalf("child ended before it was killed:\n%s", out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("child not serving after 3 min:\n%s", out.String())
		}
		if b, err := os.ReadFile(pidFile); err == nil && server == 0 {
			server, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
	}
	if !isS3Server(server) {
		t.Fatalf("pid %d from %s is not the S3 server", server, pidFile)
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	gone := time.Now().Add(20 * time.Second)
	for isS3Server(server) {
		if time.Now().After(gone) {
			syscall.Kill(server, syscall.SIGKILL) // do not leak it from this test either
			t.Fatalf("the S3 server (pid %d) outlived its test binary by 20 s", server)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// isS3Server: pid is a live peers/s3/server.py (not a zombie, not a reused pid).
func isS3Server(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(b), filepath.Join("s3", "server.py")) {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(st), ") Z ")
}

// TestS3LifelineChild is the child of TestS3ServerDiesWithItsTestBinary.
func TestS3LifelineChild(t *testing.T) {
	if os.Getenv("CKPT_S3_LIFELINE_CHILD") != "1" {
		t.Skip("only run as TestS3ServerDiesWithItsTestBinary's child")
	}
	S3(t)
	fmt.Println("S3-LIFELINE-CHILD-READY")
	time.Sleep(time.Hour)
}
