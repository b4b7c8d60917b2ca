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

// copyTree copies a local tree to dst (an object-store URI),
// directories as the markers MkdirAll makes (so an empty chk-N is seen).
func copyTree(t *testing.T, fsys storage.FS, local, dst string) {
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

// objectStores are the real object-store servers the TUI is browsed on:
// each gives the Flink configuration that reaches it and a fresh base URI.
var objectStores = []struct {
	name  string
	reach func(t *testing.T) (flinkConf, base string)
}{
	{"s3", func(t *testing.T) (string, string) { p := peers.S3(t); return p.FlinkConf(), p.BaseURI(t) }},
	{"azure", func(t *testing.T) (string, string) { p := peers.Azure(t); return p.FlinkConf(), p.BaseURI(t) }},
	{"gcs", func(t *testing.T) (string, string) { p := peers.GCS(t); return p.FlinkConf(), p.BaseURI(t) }},
}

// The real binary browses each real object-store server (moto's S3,
// Azurite, fake-gcs-server), found through Flink's configuration file as
// an operator's ckpt finds it: the checkpoint root lists the job
// directory, the job its chk-N (a partial one told apart by its missing
// _metadata), and enter on the complete one inspects it from the store.
//
// Cost: under a minute per store on a busy machine, most of it building
// the binary (once) and starting the servers (shared with the package's
// other tests).
func TestE2EBrowseObjectStoresInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	local := t.TempDir()
	if err := BuildDemoTree(local, tuitest.Fixtures(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	bin := ckptBinary(t)
	for _, st := range objectStores {
		t.Run(st.name, func(t *testing.T) {
			conf, base := st.reach(t)
			confDir := t.TempDir()
			if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			copyTree(t, storage.NewRouter(storage.Options{FlinkConfDir: confDir}), local, base)
			s := startTmux(t, 160, 40, []string{"FLINK_CONF_DIR=" + confDir}, bin, "browse", base+"/checkpoints")
			s.waitFor(30*time.Second, DemoJobID, "JOB")
			s.keys("Enter") // into the job dir
			s.waitFor(30*time.Second, "chk-17/", "chk-18/", "CHK ✗ partial", "latest complete chk-18", "SHARED")
			s.keys("j", "Enter") // chk-18 is complete: enter inspects it
			screen := s.waitFor(30*time.Second, "format v4", "checkpoint id 2", "d5c8b168c6cbfe8c507a10f88b325243")
			// A long URI (Azure's) is cut at the front to fit the header.
			if !strings.Contains(screen, "/checkpoints/"+DemoJobID+"/chk-18/_metadata") || !strings.Contains(screen, base[len(base)-12:]) {
				t.Errorf("header does not name the store's _metadata:\n%s", screen)
			}
			s.keys("q")
			s.waitFor(10*time.Second, "CKPT-EXITED-0")
		})
	}
}
