// Package peers is test equipment: it runs a REAL HDFS (Hadoop MiniDFSCluster)
// and a REAL Apache Flink (MiniCluster with its REST API), each in its own
// JVM with a classpath resolved by Maven, so tests can compare ckpt with the
// systems it claims to match. Nothing outside tests imports it.
//
// When Java or Maven is missing, tests that need a peer skip with a loud
// reason — except under CI=true or CKPT_REQUIRE_PEERS=1, where a missing peer
// fails the test.
package peers

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Required reports whether a missing peer is a failure rather than a skip.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("CKPT_REQUIRE_PEERS") == "1"
}

// Unavailable ends t because a peer cannot run: a loud skip normally, a
// failure when peers are required.
func Unavailable(t testing.TB, format string, a ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, a...)
	if Required() {
		t.Fatalf("REAL PEER REQUIRED (CI=true or CKPT_REQUIRE_PEERS=1) but unavailable: %s", msg)
	}
	t.Skipf("SKIPPING: real peer unavailable: %s (set CKPT_REQUIRE_PEERS=1 to make this a failure)", msg)
}

// Tools checks that java and mvn are on PATH; it returns a reason when not.
func Tools() (missing string) {
	var absent []string
	for _, tool := range []string{"java", "mvn"} {
		if _, err := exec.LookPath(tool); err != nil {
			absent = append(absent, tool)
		}
	}
	if len(absent) > 0 {
		return strings.Join(absent, " and ") + " not found on PATH (install OpenJDK 17 and Maven)"
	}
	return ""
}

// Dir is the peers/ directory of the source tree (where the poms and scripts live).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// WorkDir is where peers keep their data and logs: $CKPT_PEERS_WORK or
// peers/work/ in the source tree (ignored by git).
func WorkDir() string {
	if d := os.Getenv("CKPT_PEERS_WORK"); d != "" {
		return d
	}
	return filepath.Join(Dir(), "work")
}
