package peers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
}

var (
	yarnPeer     oncePeer[YARNPeer]
	yarnLifeline *os.File
)

// YARN returns the real YARN with its Flink session for this test binary,
// started on first use (about 60-90 s on a busy 2-core machine; its JVM and
// containers end when the binary does, however it ends, and at once from
// RunTests). Without Java/Maven it skips loudly, or fails under CI=true /
// CKPT_REQUIRE_PEERS=1; in -short it skips.
func YARN(t testing.TB) *YARNPeer {
	t.Helper()
	return yarnPeer.get(t, "YARN with a Flink session", "", startYARN)
}

func startYARN() (*YARNPeer, string, error) {
	if missing := Tools(); missing != "" {
		return nil, missing, nil
	}
	root := WorkDir()
	pruneStaleWork(root, "yarn-", "yarn.pid")
	work, err := makeWork(root, "yarn-")
	if err != nil {
		return nil, "", err
	}
	script := filepath.Join(Dir(), "yarn")
	if err := runLogged(10*time.Minute, filepath.Join(work, "prepare.log"), nil, "bash", filepath.Join(script, "prepare.sh")); err != nil {
		return nil, fmt.Sprintf("building the YARN peer from Maven Central failed (%v); see %s", err, filepath.Join(work, "prepare.log")), nil
	}
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	yarnLifeline = lifeW
	startLog := filepath.Join(work, "start.log")
	err = runLogged(5*time.Minute, startLog, lifeR, "bash", filepath.Join(script, "start.sh"), work, "--lifeline")
	lifeR.Close()
	AtExit(func() {
		runLogged(time.Minute, filepath.Join(work, "stop.log"), nil, "bash", filepath.Join(script, "stop.sh"), work)
		if yarnLifeline != nil {
			yarnLifeline.Close()
			yarnLifeline = nil
		}
	})
	if err != nil {
		return nil, "", fmt.Errorf("peers/yarn/start.sh: %v\n%s", err, tail(startLog, 40))
	}
	env, err := readYARNEnv(filepath.Join(work, "yarn.env"))
	if err != nil {
		return nil, "", err
	}
	return &YARNPeer{ConfDir: env["CKPT_YARN_CONF_DIR"], AppID: env["CKPT_YARN_APP_ID"], JobID: env["CKPT_YARN_JOB_ID"],
		RM: env["CKPT_YARN_RM"], JobManager: env["CKPT_YARN_JM"], Work: work}, "", nil
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
	for _, k := range []string{"CKPT_YARN_CONF_DIR", "CKPT_YARN_APP_ID", "CKPT_YARN_JOB_ID", "CKPT_YARN_RM"} {
		if env[k] == "" {
			return nil, fmt.Errorf("%s lacks %s", p, k)
		}
	}
	return env, nil
}
