package cli

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui"
)

func demoFixtures(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "shared", "fixtures", "flink-metadata")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("Flink fixtures not found at %s: %v", d, err)
	}
	return d
}

// runDemo runs `ckpt demo --no-tui ARGS…` and returns its exit code and stderr.
func runDemo(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"demo", "--no-tui", "--job", ""}, args...), &out, &errb)
	return code, errb.String()
}

// treeState is every entry under dir with its kind, size, time and
// content: what must not change when the demo refuses or fails.
func treeState(t *testing.T, dir string) map[string]string {
	t.Helper()
	st := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		s := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s += " " + string(b)
		}
		st[p] = s
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return st
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func sameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for p, s := range before {
		if after[p] != s {
			t.Errorf("%s: %s changed or went away", what, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: %s appeared", what, p)
		}
	}
}

// A second `make run` keeps what the first run's jobs and the user left
// in the demo's directory — savepoints, retained chk-N, shared files,
// anything else — and only rewrites the demo's own fixture files.
func TestDemoRerunKeepsSnapshots(t *testing.T) {
	fx := demoFixtures(t)
	dir := filepath.Join(t.TempDir(), "demo")
	if code, errs := runDemo(t, "--fixtures", fx, dir); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	tree, err := tui.LoadDemoTree(fx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(tree.Files(), demoMarker) {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			t.Errorf("first run: %v", err)
		}
	}
	// What the previous run's job and its user made.
	job := "0123456789abcdef0123456789abcdef"
	precious := []string{
		"savepoints/savepoint-012345-0123456789ab/_metadata",
		"savepoints/savepoint-012345-0123456789ab/op-state",
		"checkpoints/" + job + "/chk-42/_metadata",
		"checkpoints/" + job + "/shared/a1b2c3-000007.sst",
		"checkpoints/" + tui.DemoJobID + "/chk-20/_metadata", // beside the fixtures' chk-17…19
		"notes.txt",
	}
	for _, p := range precious {
		writeFile(t, filepath.Join(dir, p), "precious "+p)
	}
	before := treeState(t, dir)
	// A fixture file spoiled since: the re-run writes it again.
	spoiled := filepath.Join(dir, "checkpoints", tui.DemoJobID, "chk-18", "_metadata")
	writeFile(t, spoiled, "spoiled")

	if code, errs := runDemo(t, "--fixtures", fx, dir); code != 0 {
		t.Fatalf("re-run: exit %d: %s", code, errs)
	}
	after := treeState(t, dir)
	for _, p := range precious {
		p = filepath.Join(dir, p)
		if after[p] != before[p] {
			t.Errorf("re-run changed or removed %s", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("re-run made %s", p)
		}
	}
	if b, _ := os.ReadFile(spoiled); string(b) == "spoiled" {
		t.Error("re-run did not rewrite its own fixture file")
	}
}

// Nothing is written before everything is checked: missing fixtures fail
// the demo without creating DIR, or touching a demo DIR that exists.
func TestDemoBadFixturesTouchesNothing(t *testing.T) {
	fx := demoFixtures(t)
	base := t.TempDir()
	fresh := filepath.Join(base, "fresh")
	code, errs := runDemo(t, "--fixtures", "/nonexistent", fresh)
	if code == 0 || !strings.Contains(errs, "/nonexistent") {
		t.Errorf("exit %d, stderr %q: want a failure naming the fixtures", code, errs)
	}
	if _, err := os.Lstat(fresh); !os.IsNotExist(err) {
		t.Errorf("DIR made by a demo that failed: %v", err)
	}

	own := filepath.Join(base, "own")
	if code, errs := runDemo(t, "--fixtures", fx, own); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	writeFile(t, filepath.Join(own, "savepoints", "savepoint-012345-0123456789ab", "_metadata"), "precious")
	before := treeState(t, own)
	if code, _ := runDemo(t, "--fixtures", "/nonexistent", own); code == 0 {
		t.Error("demo with missing fixtures succeeded")
	}
	// Fixtures with one file missing: nothing written either.
	partial := filepath.Join(base, "partial")
	writeFile(t, filepath.Join(partial, "apache-flink", "README"), "no _metadata here")
	if code, _ := runDemo(t, "--fixtures", partial, own); code == 0 {
		t.Error("demo with incomplete fixtures succeeded")
	}
	sameTree(t, "failed re-run", before, treeState(t, own))
}

// A directory the demo did not make — a real snapshot tree, a file — is
// refused with a reason and left as it was.
func TestDemoRefusesForeignDir(t *testing.T) {
	fx := demoFixtures(t)
	meta, err := os.ReadFile(filepath.Join(fx, "apache-flink", "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "flink")
	job := "0123456789abcdef0123456789abcdef"
	writeFile(t, filepath.Join(root, "checkpoints", job, "chk-7", "_metadata"), string(meta))
	writeFile(t, filepath.Join(root, "savepoints", "savepoint-012345-0123456789ab", "_metadata"), string(meta))
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "precious")
	for _, tc := range []struct{ dir, want string }{
		{root, "ckpt demo did not make"},
		{filepath.Join(root, "checkpoints"), "ckpt demo did not make"},
		{file, "not a directory"},
	} {
		before := treeState(t, tc.dir)
		code, errs := runDemo(t, "--fixtures", fx, tc.dir)
		if code == 0 || !strings.Contains(errs, tc.dir) || !strings.Contains(errs, tc.want) {
			t.Errorf("demo %s: exit %d, stderr %q: want a refusal naming it (%s)", tc.dir, code, errs, tc.want)
		}
		sameTree(t, "refused "+tc.dir, before, treeState(t, tc.dir))
	}
	// An empty directory is taken, and marked.
	empty := t.TempDir()
	if code, errs := runDemo(t, "--fixtures", fx, empty); code != 0 {
		t.Fatalf("empty DIR: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(empty, demoMarker)); err != nil {
		t.Errorf("empty DIR not marked: %v", err)
	}
}

// The demo tree is local: a remote or unknown URI is refused, and no local
// directory named after its scheme appears.
func TestDemoRefusesRemote(t *testing.T) {
	fx := demoFixtures(t)
	t.Chdir(t.TempDir())
	for _, dir := range []string{"hdfs://x/y", "hdfs:///y", "hdfs:/y", "ftp://x/y"} {
		code, errs := runDemo(t, "--fixtures", fx, dir)
		if code == 0 || !strings.Contains(errs, dir) {
			t.Errorf("demo %s: exit %d, stderr %q: want a refusal naming it", dir, code, errs)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("working directory now holds %v", entries)
	}
	// file:// is local.
	dir := filepath.Join(t.TempDir(), "demo")
	if code, errs := runDemo(t, "--fixtures", fx, "file://"+filepath.ToSlash(dir)); code != 0 {
		t.Fatalf("file:// DIR: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
		t.Error(err)
	}
}

// A demo tree an earlier ckpt made (no marker) is refused too, with the
// way to adopt it; once marked, the demo writes into it and keeps the
// rest.
func TestDemoUnmarkedOldTree(t *testing.T) {
	fx := demoFixtures(t)
	dir := filepath.Join(t.TempDir(), "demo")
	if err := tui.BuildDemoTree(dir, fx, time.Now()); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "savepoints", "savepoint-012345-0123456789ab", "_metadata")
	writeFile(t, keep, "precious")
	before := treeState(t, dir)
	code, errs := runDemo(t, "--fixtures", fx, dir)
	if code == 0 || !strings.Contains(errs, "touch "+filepath.Join(dir, demoMarker)) {
		t.Fatalf("exit %d, stderr %q: want a refusal saying how to mark the tree", code, errs)
	}
	sameTree(t, "refused old tree", before, treeState(t, dir))
	writeFile(t, filepath.Join(dir, demoMarker), "")
	if code, errs := runDemo(t, "--fixtures", fx, dir); code != 0 {
		t.Fatalf("marked old tree: exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(keep); string(b) != "precious" {
		t.Error("the savepoint in the old tree was lost")
	}
}
