package peers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// AzurePeer is a running Azurite, Microsoft's Azure Storage emulator (from
// npm), serving the Blob API on loopback for one storage account with a
// random key: requests must be signed with it.
type AzurePeer struct {
	// Endpoint is host:port, for fs.azure.abfs.endpoint (the emulator serves
	// http://host:port/<account>/...).
	Endpoint string
	// Account is the storage account; Key its (base64) shared key.
	Account, Key string
	// StrangerKey is a well-formed key the account does not have.
	StrangerKey string
	// Container exists and is empty but for what tests put there.
	Container string
	// Work holds azure.log and azure.pid.
	Work string
}

// EnvAzuriteDir overrides where Azurite is installed (default: the work
// dir's azurite).
const EnvAzuriteDir = "CKPT_AZURITE_DIR"

const (
	azurePin          = "azurite@3.37.0"
	azurePrepareLimit = 10 * time.Minute
)

var (
	azurePeer   oncePeer[AzurePeer]
	azureServer *server
)

// Azure returns the real Azurite for this test binary, started on first
// use (once per binary; it dies with the binary, and RunTests stops it).
// Without npm, or when Azurite cannot be installed, it skips loudly, or
// fails under CI=true / CKPT_REQUIRE_PEERS=1. A server that should start
// but does not fails the test, with its log's tail. About 3 s to start.
func Azure(t testing.TB) *AzurePeer {
	t.Helper()
	return azurePeer.get(t, "Azure", "", startAzure)
}

func randomKey() string {
	var b [64]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func startAzure() (*AzurePeer, string, error) {
	work, dir, skip, err := install{name: "azure", title: "Azure", needs: "node", what: "Azurite, from npm",
		envDir: EnvAzuriteDir, defaultDir: "azurite", action: "installing " + azurePin + " from npm", limit: azurePrepareLimit}.prepare()
	if skip != "" || err != nil {
		return nil, skip, err
	}
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	p := &AzurePeer{Endpoint: "127.0.0.1:" + strconv.Itoa(port), Account: "ckptpeer", Key: randomKey(), StrangerKey: randomKey(), Container: "ckpt", Work: work}
	s, err := startServer("azure", work, []string{"AZURITE_ACCOUNTS=" + p.Account + ":" + p.Key},
		filepath.Join(dir, "node_modules", ".bin", "azurite-blob"),
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--inMemoryPersistence", "--skipApiVersionCheck", "--disableProductStyleUrl")
	if err != nil {
		return nil, "", err
	}
	azureServer = s
	AtExit(StopAzure)
	if err := s.waitHTTP("http://" + p.Endpoint + "/" + p.Account + "?comp=list"); err != nil {
		return nil, "", err
	}
	cred, err := azblob.NewSharedKeyCredential(p.Account, p.Key)
	if err != nil {
		return nil, "", err
	}
	c, err := azblob.NewClientWithSharedKeyCredential(p.ServiceURL(), cred, nil)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateContainer(ctx, p.Container, nil); err != nil {
		StopAzure()
		return nil, "", fmt.Errorf("creating the container on Azurite: %v; %s:\n%s", err, s.log, tail(s.log, 20))
	}
	return p, "", nil
}

// StopAzure stops the Azurite this test binary started, if any.
func StopAzure() {
	azureServer.stop()
}

// ServiceURL is the Blob service URL of the peer's account.
func (p *AzurePeer) ServiceURL() string { return "http://" + p.Endpoint + "/" + p.Account + "/" }

// Host is the account host URIs name: <account>.dfs.core.windows.net.
func (p *AzurePeer) Host() string { return p.Account + ".dfs.core.windows.net" }

// Conf is the Flink/Hadoop configuration that reaches the peer with key.
func (p *AzurePeer) Conf(key string) map[string]string {
	return map[string]string{
		"fs.azure.abfs.endpoint":           p.Endpoint,
		"fs.azure.always.use.https":        "false",
		"fs.azure.account.key." + p.Host(): key,
	}
}

// FlinkConf is Conf(Key) as Flink configuration file lines.
func (p *AzurePeer) FlinkConf() string {
	return fmt.Sprintf("fs.azure.abfs.endpoint: %s\nfs.azure.always.use.https: false\nfs.azure.account.key.%s: %s\n", p.Endpoint, p.Host(), p.Key)
}

// BaseURI is a fresh prefix for t: abfs://<container>@<account host>/test-<name>-<random>.
func (p *AzurePeer) BaseURI(t testing.TB) string {
	t.Helper()
	return "abfs://" + p.Container + "@" + p.Host() + "/" + testPrefix(t)
}
