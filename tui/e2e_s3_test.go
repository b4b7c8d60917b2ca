package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// copyToS3 copies a local tree to dst (an s3:// URI) on the S3 peer,
// directories as the markers MkdirAll makes (so an empty chk-N is seen).
func copyToS3(t *testing.T, fsys storage.FS, local, dst string) {
	t.Helper()
	ctx := context.Background()
	err := filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(local, p)
		uri := dst
		if rel != "." {
			uri = storage.Join(dst, filepath.ToSlash(rel))
		}
		if d.IsDir() {
			return fsys.MkdirAll(ctx, uri)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return storage.WriteFile(ctx, fsys, uri, data, storage.CreateOptions{})
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", local, dst, err)
	}
}

// The real binary browses a bucket of the real S3 server, found through
// Flink's configuration file as an operator's ckpt finds it: the
// checkpoint root lists the job directory, the job its chk-N (a partial
// one told apart by its missing _metadata), and enter on the complete one
// inspects it from S3.
//
// Cost: under a minute on a busy machine, most of it building the binary and
// starting the S3 server (shared with the package's other tests).
func TestE2EBrowseS3InTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	p := peers.S3(t)
	confDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(p.FlinkConf()), 0o600); err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	if err := BuildDemoTree(local, tuitest.Fixtures(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	base := p.BaseURI(t)
	copyToS3(t, storage.NewRouter(storage.Options{FlinkConfDir: confDir}), local, base)
	bin := ckptBinary(t)

	job := base + "/checkpoints/" + DemoJobID
	s := startTmux(t, 160, 40, []string{"FLINK_CONF_DIR=" + confDir}, bin, "browse", base+"/checkpoints")
	s.waitFor(30*time.Second, DemoJobID, "JOB")
	s.keys("Enter") // into the job dir
	s.waitFor(30*time.Second, "chk-17/", "chk-18/", "CHK ✗ partial", "latest complete chk-18", "SHARED")
	s.keys("j", "Enter") // chk-18 is complete: enter inspects it
	screen := s.waitFor(30*time.Second, "format v4", "checkpoint id 2", "d5c8b168c6cbfe8c507a10f88b325243")
	if !strings.Contains(screen, job+"/chk-18/_metadata") {
		t.Errorf("header does not name the S3 _metadata:\n%s", screen)
	}
	s.keys("q")
	s.waitFor(10*time.Second, "CKPT-EXITED-0")
}
