package storage

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
)

func gcsConf(p *peers.GCSPeer) map[string]string {
	m := p.Conf()
	m["gs.retry.max-attempt"] = "3"
	return m
}

func gcsRouter(p *peers.GCSPeer) *Router {
	return NewRouter(Options{Timeout: 30 * time.Second, Conf: gcsConf(p)})
}

func gcsBase(t *testing.T, p *peers.GCSPeer, fsys FS) string {
	t.Helper()
	base := p.BaseURI(t)
	if err := fsys.MkdirAll(context.Background(), base); err != nil {
		t.Fatalf("GCS peer: mkdir %s: %v", base, err)
	}
	return base
}

// deniedGCS is an endpoint answering every request the way GCS answers a
// principal without IAM grants on the bucket: 403 with its JSON error.
// fake-gcs-server checks no credentials, so this is how the stranger's
// view is had.
func deniedGCS(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"error":{"code":403,"message":"stranger@example.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object.","errors":[{"reason":"forbidden","domain":"global","message":"denied"}]}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// The storage contract against a real fake-gcs-server: about 30 s.
func TestContractGCS(t *testing.T) {
	p := peers.GCS(t)
	fsys := gcsRouter(p)
	confDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(p.FlinkConf()), 0o600); err != nil {
		t.Fatal(err)
	}
	runContract(t, contractBackend{
		name:    "gcs",
		fsys:    fsys,
		newBase: func(t *testing.T) string { return gcsBase(t, p, fsys) },
		strangerProbe: func(t *testing.T, dir string, probes []probe) []probeResult {
			conf := gcsConf(p)
			conf["gs.storage.root.url"] = deniedGCS(t)
			return runProbes(NewRouter(Options{Timeout: 30 * time.Second, Conf: conf}), probes)
		},
		childEnv:    []string{"FLINK_CONF_DIR=" + confDir},
		noDirRename: true,
		listCount:   1500,
	})
}
