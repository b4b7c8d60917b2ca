// Package flinkrecorded reads the REST responses recorded from the real
// Flink peers (peers.Flink, Flink 2.3.0 and 1.20.5). They are kept once, in
// cluster/flinkrest/testdata/flink-<version>/<name>.json, where the REST
// client's own tests decode every one of them; tests of other packages that
// stand in for a Flink REST endpoint serve the same bytes through this
// package instead of copies.
package flinkrecorded

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the directory of the responses recorded from Flink version.
func Dir(version string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "cluster", "flinkrest", "testdata", "flink-"+version)
}

// Read is the recorded response name (without .json) of Flink version. A
// missing one fails the test with t.Error (so Read may be called from an
// HTTP handler's goroutine) and reads as nil.
func Read(t testing.TB, version, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(version), name+".json"))
	if err != nil {
		t.Errorf("recorded Flink %s response: %v", version, err)
	}
	return b
}

// JarPlanName is the recorded answer of Flink's POST /jars/:jarid/plan for
// the peers' job (PeerJob: source "gen-source" → map "my map" | keyBy →
// count "count-per-key" → operator-state "list" without uid → sink "sink",
// parallelism 2): with operators chained, or with chaining turned off in
// the request's flinkConfiguration.
func JarPlanName(chained bool) string {
	if chained {
		return "jar-plan"
	}
	return "jar-plan-unchained"
}
