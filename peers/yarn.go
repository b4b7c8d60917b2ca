package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// YARNPeer is a running real YARN (Hadoop's MiniYARNCluster: one
// ResourceManager with its web proxy, one NodeManager) with a real Flink
// session on it, deployed by Flink's YarnClusterDescriptor (flink-yarn),
// running one unbounded streaming job (peers/yarn).
type YARNPeer struct {
	// ConfDir holds the cluster's yarn-site.xml: use it as HADOOP_CONF_DIR.
	ConfDir string
	// AppID is the Flink session's YARN application ID.
	AppID string
	// JobID is the job running in the session.
	JobID string
	// RM is the ResourceManager's web address, host:port.
	RM string
	// JobManager is the session's REST URL as Flink's client reports it.
	JobManager string
	// Work is the peer's work folder (yarn.log; the containers' logs under data/).
	Work string
	// Flink is the Flink version the session runs (YARNFlinkVersions).
	Flink string
}

// The Flink lines the YARN peer is built for (peers/yarn/prepare.sh), newest
// first. 1.20 is 1.20.1: the newest flink-yarn 1.20 the registry the peer
// builds from serves.
const (
	YARNFlinkVersion2   = FlinkVersion2
	YARNFlinkVersion120 = "1.20.1"
)

// YARNFlinkVersions lists every Flink version YARN can run a session of.
var YARNFlinkVersions = []string{YARNFlinkVersion2, YARNFlinkVersion120}

var (
	yarnPeers     = map[string]*oncePeer[YARNPeer]{YARNFlinkVersion2: {}, YARNFlinkVersion120: {}}
	yarnMu        sync.Mutex
	yarnLifelines []*os.File
)

// YARN returns the real YARN with a session of Flink version flink
// (YARNFlinkVersions; "" is YARNFlinkVersion2) for this test binary,
// started on first use, one per version (about 40-90 s each on a busy
// 2-core machine; its JVM and containers end when the binary does, however
// it ends, and at once from RunTests). Without Java/Maven it skips loudly,
// or fails under CI=true / CKPT_REQUIRE_PEERS=1; in -short it skips.
func YARN(t testing.TB, flink string) *YARNPeer {
	t.Helper()
	if flink == "" {
		flink = YARNFlinkVersion2
	}
	once, ok := yarnPeers[flink]
	if !ok {
		t.Fatalf("yarn peer: no build for Flink %q (have %v)", flink, YARNFlinkVersions)
	}
	return once.get(t, "YARN with a Flink "+flink+" session", "", func() (*YARNPeer, string, error) {
		return startYARN(flink)
	})
}

func startYARN(flink string) (*YARNPeer, string, error) {
	if missing := Tools(); missing != "" {
		return nil, missing, nil
	}
	root := WorkDir()
	// One work folder per version: start.sh stops whatever peer its folder held.
	prefix := "yarn-" + flink + "-"
	pruneStaleWork(root, prefix, "yarn.pid")
	pruneStaleWork(root, "yarn-", "yarn.pid") // folders of builds before the version was in the name
	work, err := makeWork(root, prefix)
	if err != nil {
		return nil, "", err
	}
	script := filepath.Join(Dir(), "yarn")
	if err := runLogged(10*time.Minute, filepath.Join(work, "prepare.log"), nil, "bash", filepath.Join(script, "prepare.sh"), flink); err != nil {
		return nil, fmt.Sprintf("building the YARN peer from Maven Central failed (%v); see %s", err, filepath.Join(work, "prepare.log")), nil
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	yarnMu.Lock()
	yarnLifelines = append(yarnLifelines, lifeW) // kept open (and referenced) while the binary runs
	yarnMu.Unlock()
	startLog := filepath.Join(work, "start.log")
	err = runLogged(5*time.Minute, startLog, lifeR, "bash", filepath.Join(script, "start.sh"), work, "--flink", flink, "--lifeline")
	lifeR.Close()
	AtExit(func() {
		runLogged(time.Minute, filepath.Join(work, "stop.log"), nil, "bash", filepath.Join(script, "stop.sh"), work)
		lifeW.Close()
	})
	if err != nil {
		return nil, "", fmt.Errorf("peers/yarn/start.sh: %v\n%s", err, tail(startLog, 40))
	}
	env, err := readYARNEnv(filepath.Join(work, "yarn.env"))
	if err != nil {
		return nil, "", err
	}
	if env["CKPT_YARN_FLINK"] != flink {
		return nil, "", fmt.Errorf("yarn peer: asked for Flink %s, its classpath has %q", flink, env["CKPT_YARN_FLINK"])
	}
	return &YARNPeer{ConfDir: env["CKPT_YARN_CONF_DIR"], AppID: env["CKPT_YARN_APP_ID"], JobID: env["CKPT_YARN_JOB_ID"],
		RM: env["CKPT_YARN_RM"], JobManager: env["CKPT_YARN_JM"], Work: work, Flink: flink}, "", nil
}

func readYARNEnv(p string) (map[string]string, error) {
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
	for _, k := range []string{"CKPT_YARN_CONF_DIR", "CKPT_YARN_APP_ID", "CKPT_YARN_JOB_ID", "CKPT_YARN_RM", "CKPT_YARN_FLINK"} {
		if env[k] == "" {
			return nil, fmt.Errorf("%s lacks %s", p, k)
		}
	}
	return env, nil
}
