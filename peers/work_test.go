package peers

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPruneStaleWork: only marked folders of binaries that are gone go;
// an unmarked folder of the same name shape, with a precious file, stays,
// as do this binary's folder and anything else in the root.
func TestPruneStaleWork(t *testing.T) {
	root := t.TempDir()
	const gone = "s3-2147483000" // no such process
	mk := func(name string, marked bool) string {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if marked {
			os.WriteFile(filepath.Join(d, workMarker), nil, 0o644)
		}
		os.WriteFile(filepath.Join(d, "data"), []byte("x"), 0o644)
		return d
	}
	stale := mk(gone, true)
	foreign := mk("s3-2147483001", false)
	os.WriteFile(filepath.Join(foreign, "precious"), []byte("mine"), 0o644)
	venv := mk("s3-venv", false)
	own, err := makeWork(root, "s3-")
	if err != nil {
		t.Fatal(err)
	}
	pruneStaleWork(root, "s3-", "s3.pid")
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale marked folder stayed: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(foreign, "precious")); err != nil || string(b) != "mine" {
		t.Errorf("an unmarked folder was touched: %v", err)
	}
	for _, d := range []string{venv, own} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s was removed", d)
		}
	}
}
