package storage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
)

func azureRouter(p *peers.AzurePeer, key string) *Router {
	return NewRouter(Options{Timeout: 30 * time.Second, Conf: p.Conf(key)})
}

// azureBase makes a fresh, empty directory on the Azure peer for t.
func azureBase(t *testing.T, p *peers.AzurePeer, fsys FS) string {
	t.Helper()
	base := p.BaseURI(t)
	if err := fsys.MkdirAll(context.Background(), base); err != nil {
		t.Fatalf("Azure peer: mkdir %s: %v", base, err)
	}
	return base
}

// The storage contract against a real Azurite: about 40 s.
func TestContractAzure(t *testing.T) {
	p := peers.Azure(t)
	fsys := azureRouter(p, p.Key)
	confDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(p.FlinkConf()), 0o600); err != nil {
		t.Fatal(err)
	}
	runContract(t, contractBackend{
		name:    "azure",
		fsys:    fsys,
		newBase: func(t *testing.T) string { return azureBase(t, p, fsys) },
		strangerProbe: func(t *testing.T, dir string, probes []probe) []probeResult {
			// A key the account does not have: every request is refused.
			return runProbes(azureRouter(p, p.StrangerKey), probes)
		},
		childEnv:    []string{"FLINK_CONF_DIR=" + confDir},
		noDirRename: true,
		listCount:   1500,
	})
}
