package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// GCSPeer is a running fake-gcs-server (a Go program from the Go module
// proxy) serving Google Cloud Storage's JSON API on loopback. It checks no
// credentials: ckpt reaches it with fs.gs.auth.type UNAUTHENTICATED.
type GCSPeer struct {
	// Endpoint is http://127.0.0.1:port/, for fs.gs.storage.root.url.
	Endpoint string
	// Bucket exists and is empty but for what tests put there.
	Bucket string
	// Work holds gcs.log and gcs.pid.
	Work string
}

// EnvGCSBin overrides where fake-gcs-server is built (default: the work
// dir's gcs-bin).
const EnvGCSBin = "CKPT_GCS_BIN"

const (
	gcsPin          = "github.com/fsouza/fake-gcs-server@v1.56.1"
	gcsPrepareLimit = 10 * time.Minute
)

var (
	gcsPeer   oncePeer[GCSPeer]
	gcsServer *server
)

// GCS returns the real fake-gcs-server for this test binary, started on
// first use (once per binary; it dies with the binary, and RunTests stops
// it). Without go, or when it cannot be built, it skips loudly, or fails
// under CI=true / CKPT_REQUIRE_PEERS=1. About 1 s to start once built.
func GCS(t testing.TB) *GCSPeer {
	t.Helper()
	return gcsPeer.get(t, "GCS", "", startGCS)
}

func startGCS() (*GCSPeer, string, error) {
	work, bin, skip, err := install{name: "gcs", title: "GCS", needs: "go", what: "fake-gcs-server, built from the Go module proxy",
		envDir: EnvGCSBin, defaultDir: "gcs-bin", action: "building " + gcsPin, limit: gcsPrepareLimit}.prepare()
	if skip != "" || err != nil {
		return nil, skip, err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	p := &GCSPeer{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port) + "/", Bucket: "ckpt-peer", Work: work}
	// Every folder in -data is a bucket the server starts with.
	seed := filepath.Join(work, "seed")
	if err := os.MkdirAll(filepath.Join(seed, p.Bucket), 0o755); err != nil {
		return nil, "", err
	}
	s, err := startServer("gcs", work, nil, filepath.Join(bin, "fake-gcs-server"),
		"-scheme", "http", "-host", "127.0.0.1", "-port", strconv.Itoa(port),
		"-public-host", "127.0.0.1:"+strconv.Itoa(port), "-external-url", "http://127.0.0.1:"+strconv.Itoa(port),
		"-backend", "memory", "-data", seed, "-log-level", "warn")
	if err != nil {
		return nil, "", err
	}
	gcsServer = s
	AtExit(StopGCS)
	if err := s.waitHTTP(p.Endpoint + "storage/v1/b/" + p.Bucket); err != nil {
		return nil, "", err
	}
	return p, "", nil
}

// StopGCS stops the fake-gcs-server this test binary started, if any.
func StopGCS() {
	gcsServer.stop()
}

// Conf is the Flink configuration that reaches the peer.
func (p *GCSPeer) Conf() map[string]string {
	return map[string]string{"gs.storage.root.url": p.Endpoint, "fs.gs.auth.type": "UNAUTHENTICATED"}
}

// FlinkConf is Conf as Flink configuration file lines.
func (p *GCSPeer) FlinkConf() string {
	return fmt.Sprintf("gs.storage.root.url: %s\nfs.gs.auth.type: UNAUTHENTICATED\n", p.Endpoint)
}

// BaseURI is a fresh prefix for t: gs://<bucket>/test-<name>-<random>.
func (p *GCSPeer) BaseURI(t testing.TB) string {
	t.Helper()
	return "gs://" + p.Bucket + "/" + testPrefix(t)
}
