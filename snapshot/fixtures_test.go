package snapshot

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// fixtureRoot is ../shared/fixtures/flink-metadata relative to the
// repository root: real Flink files are read in place, never copied in.
func fixtureRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "fixtures", "flink-metadata")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("real Flink fixtures not found at %s (expected next to the repository, see DEVELOPERS.md): %v", dir, err)
	}
	return dir
}

type fixture struct {
	name string // fixture dir under apache-flink/
	path string // its _metadata
}

// fixtures lists every real Flink `_metadata` file.
func fixtures(t testing.TB) []fixture {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(fixtureRoot(t), "apache-flink", "*", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) < 26 {
		t.Fatalf("found %d fixtures, want at least 26", len(matches))
	}
	sort.Strings(matches)
	var out []fixture
	for _, m := range matches {
		out = append(out, fixture{name: filepath.Base(filepath.Dir(m)), path: m})
	}
	return out
}

func readFixture(t testing.TB, f fixture) []byte {
	t.Helper()
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
