package peers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// TestAzurePeerServes: Azurite is on loopback, the container exists, and
// it checks signatures — the owner's key is served, a stranger's refused.
func TestAzurePeerServes(t *testing.T) {
	p := Azure(t)
	if !strings.HasPrefix(p.Endpoint, "127.0.0.1:") {
		t.Fatalf("endpoint %s is not on loopback", p.Endpoint)
	}
	ctx := context.Background()
	list := func(key string) error {
		cred, err := azblob.NewSharedKeyCredential(p.Account, key)
		if err != nil {
			return err
		}
		c, err := azblob.NewClientWithSharedKeyCredential(p.ServiceURL(), cred, nil)
		if err != nil {
			return err
		}
		_, err = c.NewListBlobsFlatPager(p.Container, nil).NextPage(ctx)
		return err
	}
	if err := list(p.Key); err != nil {
		t.Fatalf("owner list: %v", err)
	}
	var re *azcore.ResponseError
	if err := list(p.StrangerKey); !errors.As(err, &re) || re.StatusCode != 403 {
		t.Fatalf("stranger list: %v, want 403", err)
	}
}

// TestGCSPeerServes: fake-gcs-server is on loopback with its bucket.
func TestGCSPeerServes(t *testing.T) {
	p := GCS(t)
	if !strings.HasPrefix(p.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %s is not on loopback", p.Endpoint)
	}
	resp, err := http.Get(p.Endpoint + "storage/v1/b/" + p.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("bucket %s: HTTP %d", p.Bucket, resp.StatusCode)
	}
}

// The emulators a test binary starts never outlive it: the binary is
// killed with SIGKILL together with its process group, and the server (in
// a group of its own) must be gone shortly after, through its lifeline.
func TestObjectStorePeersDieWithTheirTestBinary(t *testing.T) {
	if os.Getenv("CKPT_OBJ_LIFELINE_CHILD") != "" {
		t.Skip("parent test only")
	}
	for _, tc := range []struct {
		name, child, cmdline string
		start                func(t testing.TB)
		env                  string
	}{
		{"azure", "azure", "azurite", func(t testing.TB) { Azure(t) }, EnvAzuriteDir + "=" + filepath.Join(WorkDir(), "azurite")},
		{"gcs", "gcs", "fake-gcs-server", func(t testing.TB) { GCS(t) }, EnvGCSBin + "=" + filepath.Join(WorkDir(), "gcs-bin")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.start(t) // installed and starting here, or this skips
			work := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestObjectStoreLifelineChild$", "-test.v", "-test.count=1", "-test.timeout=5m")
			cmd.Env = append(os.Environ(), "CKPT_OBJ_LIFELINE_CHILD="+tc.child, "CKPT_PEERS_WORK="+work, tc.env)
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
			pidFile := filepath.Join(work, fmt.Sprintf("%s-%d", tc.child, pgid), tc.child+".pid")
			server := 0
			deadline := time.Now().Add(2 * time.Minute)
			for server == 0 || !strings.Contains(out.String(), "OBJ-LIFELINE-CHILD-READY") {
				select {
				case <-exited:
					t.Fatalf("child ended before it was killed:\n%s", out.String())
				case <-time.After(50 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("child not serving after 2 min:\n%s", out.String())
				}
				if b, err := os.ReadFile(pidFile); err == nil && server == 0 {
					server, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				}
			}
			if !isLiveProcess(server, tc.cmdline) {
				t.Fatalf("pid %d from %s is not %s", server, pidFile, tc.cmdline)
			}
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-exited
			gone := time.Now().Add(20 * time.Second)
			for isLiveProcess(server, tc.cmdline) {
				if time.Now().After(gone) {
					syscall.Kill(server, syscall.SIGKILL)
					t.Fatalf("%s (pid %d) outlived its test binary by 20 s", tc.cmdline, server)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}

func isLiveProcess(pid int, cmdline string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(b), cmdline) {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(st), ") Z ")
}

// TestObjectStoreLifelineChild is the child of
// TestObjectStorePeersDieWithTheirTestBinary.
func TestObjectStoreLifelineChild(t *testing.T) {
	switch os.Getenv("CKPT_OBJ_LIFELINE_CHILD") {
	case "azure":
		Azure(t)
	case "gcs":
		GCS(t)
	default:
		t.Skip("only run as TestObjectStorePeersDieWithTheirTestBinary's child")
	}
	fmt.Println("OBJ-LIFELINE-CHILD-READY")
	time.Sleep(time.Hour)
}
