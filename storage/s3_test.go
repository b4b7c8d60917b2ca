package storage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
)

// s3Conf is the -D configuration that reaches the S3 peer with keys.
func s3Conf(p *peers.S3Peer, access, secret string) map[string]string {
	return map[string]string{
		"s3.endpoint":          p.Endpoint,
		"s3.path.style.access": "true",
		"s3.access-key":        access,
		"s3.secret-key":        secret,
		"s3.endpoint.region":   p.Region,
	}
}

func s3Router(p *peers.S3Peer) *Router {
	return NewRouter(Options{Timeout: 30 * time.Second, Conf: s3Conf(p, p.AccessKey, p.SecretKey)})
}

// s3Base makes a fresh, empty directory on the S3 peer for t.
func s3Base(t *testing.T, p *peers.S3Peer, fsys FS) string {
	t.Helper()
	base := p.BaseURI(t)
	if err := fsys.MkdirAll(context.Background(), base); err != nil {
		t.Fatalf("S3 peer: mkdir %s: %v", base, err)
	}
	return base
}

func TestContractS3(t *testing.T) {
	p := peers.S3(t)
	fsys := s3Router(p)
	// The killed-writer child finds the peer the way an operator's ckpt
	// does: through Flink's configuration file.
	confDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(p.FlinkConf()), 0o600); err != nil {
		t.Fatal(err)
	}
	runContract(t, contractBackend{
		name:    "s3",
		fsys:    fsys,
		newBase: func(t *testing.T) string { return s3Base(t, p, fsys) },
		strangerProbe: func(t *testing.T, dir string, probes []probe) []probeResult {
			// The stranger's keys are valid but its user has no policy.
			stranger := NewRouter(Options{Timeout: 30 * time.Second, Conf: s3Conf(p, p.StrangerAccessKey, p.StrangerSecretKey)})
			return runProbes(stranger, probes)
		},
		childEnv:    []string{"FLINK_CONF_DIR=" + confDir},
		noDirRename: true,
	})
}
