package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

const (
	gcJobA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	gcJobB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// uuidName is a state file name as Flink uploads them.
func uuidName(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

const precious = "precious: not ckpt's"

// gcScene builds a checkpoint root with two jobs. Job A: chk-3 stale
// (only a state file), chk-4 stale with a foreign notes.txt beside its
// state file, chk-5 complete with a private file (beyond num-retained 1),
// chk-6 the newest, chk-7 in progress. Its shared/: files chk-5 and chk-6
// use, an old orphan, an orphan newer than chk-6, a file job B's checkpoint
// uses (B was restored from A in LEGACY mode), a foreign file, and a link
// named like a state file pointing at a precious file outside. Precious
// files lie beside everything. Returns the root and the files that must
// survive every gc with their contents.
func gcScene(t *testing.T) (root string, mustStay map[string]string) {
	t.Helper()
	root = t.TempDir()
	now := time.Now()
	at := func(d time.Duration) time.Time { return now.Add(-d) }
	mustStay = map[string]string{}
	put := func(rel string, content string, mod time.Time) string {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mod, mod)
		return p
	}
	keep := func(rel, content string, mod time.Time) string {
		mustStay[rel] = content
		return put(rel, content, mod)
	}
	a, b := gcJobA, gcJobB
	fs := storage.NewLocal()
	s1 := keep(a+"/shared/"+uuidName(1), "used by chk-5 and chk-6", at(5*time.Hour))
	s2 := keep(a+"/shared/"+uuidName(2), "used by chk-6", at(3*time.Hour))
	put(a+"/shared/"+uuidName(3), "orphan, old", at(4*time.Hour))
	keep(a+"/shared/"+uuidName(4), "orphan newer than chk-6", at(90*time.Minute))
	s5 := keep(a+"/shared/"+uuidName(5), "used by job B", at(5*time.Hour))
	keep(a+"/shared/precious.txt", precious, at(10*time.Hour))
	keep("outside/target", precious, at(10*time.Hour))
	if err := os.Symlink(filepath.Join(root, "outside/target"), filepath.Join(root, a, "shared", uuidName(6))); err != nil {
		t.Fatal(err)
	}
	keep(a+"/precious", precious, at(10*time.Hour))
	keep("precious", precious, at(10*time.Hour))
	put(a+"/chk-3/"+uuidName(30), "stale state", at(6*time.Hour))
	put(a+"/chk-4/"+uuidName(40), "stale state", at(6*time.Hour))
	keep(a+"/chk-4/notes.txt", precious, at(6*time.Hour))
	p5 := put(a+"/chk-5/"+uuidName(50), "chk-5 private", at(4*time.Hour))
	sptest.WriteCheckpoint(t, fs, filepath.Join(root, a), 5, at(4*time.Hour), s1, p5)
	sptest.WriteCheckpoint(t, fs, filepath.Join(root, a), 6, at(2*time.Hour), s1, s2)
	mustStay[a+"/chk-6/_metadata"] = ""
	keep(a+"/chk-7/"+uuidName(70), "in progress", at(6*time.Hour))
	v1 := keep(b+"/shared/"+uuidName(100), "B's own", at(3*time.Hour))
	sptest.WriteCheckpoint(t, fs, filepath.Join(root, b), 2, at(3*time.Hour), s5, v1)
	mustStay[b+"/chk-2/_metadata"] = ""
	for _, d := range []string{"chk-3", "chk-4"} {
		os.Chtimes(filepath.Join(root, a, d), at(6*time.Hour), at(6*time.Hour))
	}
	return root, mustStay
}

// treeOf lists every entry below root ("a", "a/b"), links as "name@".
func treeOf(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if fi.Mode()&os.ModeSymlink != 0 {
			rel += "@"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out
}

func checkStayed(t *testing.T, root string, mustStay map[string]string) {
	t.Helper()
	for rel, content := range mustStay {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Errorf("%s is gone: %v", rel, err)
			continue
		}
		if content != "" && string(b) != content {
			t.Errorf("%s changed: %q", rel, b)
		}
	}
}

func readJournal(t *testing.T, path string) []inspector.GCRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []inspector.GCRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r inspector.GCRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// What gc plans, deletes and keeps in a root of two jobs, by every kind
// of plan item and every guard; the dry run changes nothing.
func TestGC(t *testing.T) {
	a := gcJobA
	// Gone after --yes --retained 1: the old orphan, the stale chk-3 whole,
	// chk-4's state file (notes.txt keeps chk-4), chk-5 (beyond 1).
	gone := []string{a + "/shared/" + uuidName(3), a + "/chk-3", a + "/chk-4/" + uuidName(40), a + "/chk-5"}

	t.Run("dry run", func(t *testing.T) {
		root, _ := gcScene(t)
		before := treeOf(t, root)
		code, out, errb := runCkpt(t, "gc", "--retained", "1", root)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errb)
		}
		if got := treeOf(t, root); strings.Join(got, ",") != strings.Join(before, ",") {
			t.Fatalf("a dry run changed the tree:\n%q\n%q", before, got)
		}
		for _, want := range []string{"orphan", "stale", "beyond", "plan: 5 files", "not named like a checkpoint's upload",
			"newer than the newest complete checkpoint", "dry run"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		code, out, _ = runCkpt(t, "gc", "--json", "--retained", "1", root)
		var js gcJSON
		if code != 0 || json.Unmarshal([]byte(out), &js) != nil {
			t.Fatalf("exit %d, %s", code, out)
		}
		// 11 (orphan) + 11 (chk-3) + 11 (chk-4) + chk-5's private file and _metadata.
		meta, _ := os.Stat(filepath.Join(root, a, "chk-5", "_metadata"))
		if want := int64(11+11+11+13) + meta.Size(); js.Plan.Bytes != want || js.Plan.Files != 5 {
			t.Fatalf("plan: %d files, %d bytes; want 5, %d", js.Plan.Files, js.Plan.Bytes, want)
		}
	})

	t.Run("yes", func(t *testing.T) {
		root, mustStay := gcScene(t)
		journal := filepath.Join(t.TempDir(), "j.jsonl")
		code, out, errb := runCkpt(t, "gc", "--yes", "--retained", "1", "--journal", journal, "--json", root)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errb)
		}
		var js gcJSON
		if err := json.Unmarshal([]byte(out), &js); err != nil {
			t.Fatal(err)
		}
		checkStayed(t, root, mustStay)
		for _, g := range gone {
			if _, err := os.Lstat(filepath.Join(root, g)); err == nil {
				t.Errorf("%s is still there", g)
			}
		}
		if _, err := os.Stat(filepath.Join(root, a, "chk-4")); err != nil {
			t.Errorf("chk-4 (holding notes.txt) went: %v", err)
		}
		if _, err := os.Lstat(filepath.Join(root, a, "shared", uuidName(6))); err != nil {
			t.Errorf("the link in shared/ went: %v", err)
		}
		r := js.Result
		if r.RemovedBytes != js.Plan.Bytes || r.Removed != js.Plan.Files || len(r.Skipped) != 0 || r.Gone != 0 {
			t.Fatalf("removed %d files %d bytes (skipped %v, gone %d); the plan promised %d files %d bytes", r.Removed, r.RemovedBytes, r.Skipped, r.Gone, js.Plan.Files, js.Plan.Bytes)
		}
		recs := readJournal(t, journal)
		var jb int64
		for _, rec := range recs {
			jb += rec.Size
			if rec.Action != "removed" {
				t.Errorf("journal: %+v", rec)
			}
		}
		if len(recs) != js.Plan.Files || jb != js.Plan.Bytes {
			t.Fatalf("journal: %d records, %d bytes; want %d, %d", len(recs), jb, js.Plan.Files, js.Plan.Bytes)
		}
		// A second run finds nothing more (chk-5's shared file is chk-6's too).
		code, out, _ = runCkpt(t, "gc", "--yes", "--retained", "1", "--journal", journal, root)
		if code != 0 || !strings.Contains(out, "plan: 0 files") && !strings.Contains(out, "nothing to reclaim") {
			t.Fatalf("second run: exit %d\n%s", code, out)
		}
	})

	t.Run("trash", func(t *testing.T) {
		root, mustStay := gcScene(t)
		trash := filepath.Join(filepath.Dir(root), filepath.Base(root)+"-trash")
		journal := filepath.Join(t.TempDir(), "j.jsonl")
		code, out, errb := runCkpt(t, "gc", "--yes", "--trash", trash, "--retained", "1", "--journal", journal, root)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errb)
		}
		checkStayed(t, root, mustStay)
		for _, rec := range readJournal(t, journal) {
			if rec.Action != "moved" || rec.To == "" {
				t.Fatalf("journal: %+v", rec)
			}
			b, err := os.ReadFile(rec.To)
			if err != nil || int64(len(b)) != rec.Size {
				t.Fatalf("%s not in the trash at %s: %v", rec.URI, rec.To, err)
			}
			if _, err := os.Lstat(rec.URI); err == nil {
				t.Fatalf("%s still in place", rec.URI)
			}
		}
		// chk-5 moved whole, _metadata under its own name: moving it back restores it.
		if _, err := os.Stat(filepath.Join(inspector.TrashPath(trash, filepath.Join(root, a, "chk-5")), "_metadata")); err != nil {
			t.Fatalf("chk-5's _metadata not in the trash: %v", err)
		}
	})

	t.Run("min-age keeps everything young", func(t *testing.T) {
		root, _ := gcScene(t)
		before := treeOf(t, root)
		code, out, errb := runCkpt(t, "gc", "--yes", "--min-age", "100h", "--retained", "1", "--journal", filepath.Join(t.TempDir(), "j"), root)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errb)
		}
		if got := treeOf(t, root); strings.Join(got, ",") != strings.Join(before, ",") {
			t.Fatalf("--min-age 100h deleted:\n%q\n%q", before, got)
		}
	})

	t.Run("one job dir protects its siblings' references", func(t *testing.T) {
		root, mustStay := gcScene(t)
		code, out, errb := runCkpt(t, "gc", "--yes", "--retained", "1", "--journal", filepath.Join(t.TempDir(), "j"), filepath.Join(root, a))
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errb)
		}
		checkStayed(t, root, mustStay)
	})

	t.Run("without a retention nothing complete goes", func(t *testing.T) {
		root, _ := gcScene(t)
		code, out, _ := runCkpt(t, "gc", "--yes", "--journal", filepath.Join(t.TempDir(), "j"), root)
		if code != 0 || !strings.Contains(out, "num-retained unknown") {
			t.Fatalf("exit %d\n%s", code, out)
		}
		if _, err := os.Stat(filepath.Join(root, a, "chk-5", "_metadata")); err != nil {
			t.Fatalf("chk-5 went without a retention: %v", err)
		}
	})

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"trash without yes", []string{"--trash", "/tmp/x"}},
		{"restored without a target", []string{"--restored"}},
		{"negative min-age", []string{"--min-age", "-1h"}},
		{"trash inside the root", []string{"--yes", "--trash", "ROOT/trash"}},
		{"trash on another storage", []string{"--yes", "--trash", "hdfs://nn:8020/trash"}},
	} {
		t.Run("usage/"+tc.name, func(t *testing.T) {
			root, _ := gcScene(t)
			before := treeOf(t, root)
			args := []string{"gc"}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "ROOT", root))
			}
			code, out, errb := runCkpt(t, append(args, root)...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s%s", code, ExitUsage, out, errb)
			}
			if got := treeOf(t, root); strings.Join(got, ",") != strings.Join(before, ",") {
				t.Fatal("a refused gc changed the tree")
			}
		})
	}
}
