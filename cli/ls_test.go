package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/storage"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// runCkpt runs ckpt in-process and returns exit code, stdout and stderr.
func runCkpt(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./cli -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Fatalf("output differs from %s:\n--- got ---\n%s--- want ---\n%s", p, got, want)
	}
}

var fixedTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// snapshotTree lays out a small Flink-style job directory with known sizes
// and times: what ls and du are for.
func snapshotTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "job")
	files := map[string]int{
		"chk-17/_metadata":         1536,
		"chk-18/_metadata":         1600,
		"chk-18/op-state":          3 << 20,
		"shared/7c1f-sst":          5<<20 + 123,
		"shared/9a0e-sst":          700,
		"taskowned/.keep":          0,
		"chk-18/.x.ckpt-tmp-00aa1": 10,
	}
	for p, n := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error {
		os.Chtimes(p, fixedTime, fixedTime)
		return nil
	})
	return root
}

// fieldsRe normalises owner/group in JSON (they depend on who runs the test).
var ownerRe = regexp.MustCompile(`"(owner|group)":"[^"]*"`)

func TestLsLocal(t *testing.T) {
	root := snapshotTree(t)
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC

	code, out, errb := runCkpt(t, "ls", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	golden(t, "ls-short.golden", out)

	code, out, _ = runCkpt(t, "ls", "-a", filepath.Join(root, "chk-18"))
	if code != 0 || out != ".x.ckpt-tmp-00aa1\n_metadata\nop-state\n" {
		t.Fatalf("ls -a: exit %d\n%s", code, out)
	}

	code, out, _ = runCkpt(t, "ls", "--json", "-a", filepath.Join(root, "chk-18"))
	if code != 0 {
		t.Fatalf("ls --json: exit %d", code)
	}
	var ents []lsEntry
	if err := json.Unmarshal([]byte(out), &ents); err != nil {
		t.Fatalf("ls --json is not one JSON array: %v\n%s", err, out)
	}
	for _, e := range ents {
		if e.Owner == "" || e.Group == "" {
			t.Errorf("%s: owner/group missing", e.Name)
		}
	}
	golden(t, "ls-json.golden", strings.ReplaceAll(ownerRe.ReplaceAllString(out, `"$1":"X"`), root, "ROOT"))

	// Long format: every column lines up; sizes are human unless --bytes.
	for _, tc := range []struct {
		args  []string
		sizes []string
	}{
		{[]string{"ls", "-l", filepath.Join(root, "chk-18")}, []string{"1.56 KiB", "3.00 MiB"}},
		{[]string{"ls", "-l", "--bytes", filepath.Join(root, "chk-18")}, []string{"1600", "3145728"}},
		{[]string{"ls", "-l", root}, []string{"-", "-", "-", "-"}},
	} {
		code, out, _ = runCkpt(t, tc.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", tc.args, code)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		rows, footer := lines[:len(lines)-1], lines[len(lines)-1]
		if len(rows) != len(tc.sizes) {
			t.Fatalf("%v: %d rows, want %d:\n%s", tc.args, len(rows), len(tc.sizes), out)
		}
		sizeEnd, nameStart := -1, -1
		for i, r := range rows {
			f := strings.Fields(r)
			// mode owner group size... (human sizes have a space: "1.56 KiB")
			size := f[3]
			if strings.HasSuffix(f[4], "iB") || f[4] == "B" {
				size += " " + f[4]
			}
			if size != tc.sizes[i] {
				t.Errorf("%v row %d: size %q, want %q", tc.args, i, size, tc.sizes[i])
			}
			if !strings.Contains(r, "2026-03-04 05:06:07") {
				t.Errorf("%v row %d lacks the mtime: %q", tc.args, i, r)
			}
			end := strings.Index(r, tc.sizes[i]) + len(tc.sizes[i])
			start := strings.Index(r, "2026-03-04 05:06:07") + len("2026-03-04 05:06:07  ")
			if sizeEnd == -1 {
				sizeEnd, nameStart = end, start
			}
			if end != sizeEnd || start != nameStart {
				t.Errorf("%v: columns not aligned:\n%s", tc.args, out)
			}
		}
		if !strings.Contains(footer, "in files") {
			t.Errorf("%v: no totals line: %q", tc.args, footer)
		}
	}

	// One file: shown itself; -d shows a directory itself.
	code, out, _ = runCkpt(t, "ls", filepath.Join(root, "chk-17", "_metadata"))
	if code != 0 || out != "_metadata\n" {
		t.Fatalf("ls of a file: %d %q", code, out)
	}
	code, out, _ = runCkpt(t, "ls", "-d", root)
	if code != 0 || out != "job/\n" {
		t.Fatalf("ls -d: %d %q", code, out)
	}
}

func TestLsUnsortedStreams(t *testing.T) {
	dir := t.TempDir()
	for i := range 2500 { // more than two pages
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), nil, 0o644)
	}
	code, out, _ := runCkpt(t, "ls", "-U", "--json", dir)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var ents []lsEntry
	if err := json.Unmarshal([]byte(out), &ents); err != nil || len(ents) != 2500 {
		t.Fatalf("ls -U --json over pages: %d entries, %v", len(ents), err)
	}
	code, out, _ = runCkpt(t, "ls", "-U", "-l", dir)
	if code != 0 || strings.Count(out, "\n") != 2501 {
		t.Fatalf("ls -U -l: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
}

func TestLsDuErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	cases := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"ls", missing}, ExitError, missing},
		{[]string{"du", missing}, ExitError, missing},
		{[]string{"ls"}, ExitUsage, "arg"},
		{[]string{"du", "a", "b"}, ExitUsage, "arg"},
		{[]string{"du", "--sort", "age", "."}, ExitUsage, "--sort"},
		{[]string{"du", "-d", "-2", "."}, ExitUsage, "--depth"},
		{[]string{"ls", "--bogus", "."}, ExitUsage, "bogus"},
		{[]string{"ls", "gcs://bucket/x"}, ExitError, `unsupported scheme "gcs"`},
		{[]string{"ls", "hdfs:///x", "--hadoop-conf-dir", t.TempDir()}, ExitError, "fs.defaultFS"},
	}
	for _, tc := range cases {
		code, out, errb := runCkpt(t, tc.args...)
		if code != tc.code || !strings.Contains(errb, tc.inStderr) {
			t.Errorf("ckpt %s: exit %d, stderr %q; want exit %d naming %q (stdout %q)", strings.Join(tc.args, " "), code, errb, tc.code, tc.inStderr, out)
		}
	}
}

func TestLsDuUnreachableNameNodeIsBounded(t *testing.T) {
	ln := silentListener(t)
	uri := "hdfs://" + ln + "/flink/checkpoints"
	for _, cmd := range []string{"ls", "du"} {
		start := time.Now()
		code, _, errb := runCkpt(t, cmd, "--hdfs-timeout", "500ms", uri)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("ckpt %s took %s with --hdfs-timeout 500ms", cmd, took)
		}
		if code != ExitError || !strings.Contains(errb, uri) || !strings.Contains(errb, "no answer from NameNode") {
			t.Errorf("ckpt %s: exit %d, stderr %q", cmd, code, errb)
		}
	}
}

// TestLsDuHDFS runs both commands against the real HDFS, by explicit
// NameNode and through hdfs:/// with the peer's configuration.
func TestLsDuHDFS(t *testing.T) {
	p := peers.HDFS(t)
	base := p.BaseURI(t)
	ctx := context.Background()
	fsys := storage.NewRouter(storage.Options{})
	defer fsys.Close()
	job := storage.Join(base, "job")
	files := map[string]int{"chk-5/_metadata": 2000, "chk-5/state": 3<<20 + 5, "shared/a": 1 << 20, "shared/b": 10}
	var total int64
	for name, n := range files {
		uri := storage.Join(job, name)
		if err := fsys.MkdirAll(ctx, storage.Dir(uri)); err != nil {
			t.Fatal(err)
		}
		if err := storage.WriteFile(ctx, fsys, uri, make([]byte, n), storage.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		total += int64(n)
	}
	// An unfinished write (a writer still at work) is hidden by default.
	w, err := fsys.Create(ctx, storage.Join(job, "chk-6", "_metadata"), storage.CreateOptions{})
	if err == nil {
		t.Fatal("create in a missing chk-6 should fail")
	}
	fsys.MkdirAll(ctx, storage.Join(job, "chk-6"))
	w, err = fsys.Create(ctx, storage.Join(job, "chk-6", "_metadata"), storage.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	defer w.Abort()

	code, out, errb := runCkpt(t, "ls", job)
	if code != 0 || out != "chk-6/\nchk-5/\nshared/\n" {
		t.Fatalf("ls %s: exit %d %q %s", job, code, out, errb)
	}
	code, out, _ = runCkpt(t, "ls", "-l", storage.Join(job, "chk-6"))
	if code != 0 || !strings.HasPrefix(out, "0 dirs, 0 files") {
		t.Fatalf("ls -l chk-6 should hide the unfinished write: %q", out)
	}
	code, out, _ = runCkpt(t, "ls", "-la", storage.Join(job, "chk-6"))
	if code != 0 || !strings.Contains(out, "._metadata.ckpt-tmp-") || !strings.Contains(out, "(unfinished write)") || !strings.Contains(out, p.Superuser) {
		t.Fatalf("ls -la chk-6: %q", out)
	}

	code, out, _ = runCkpt(t, "ls", "--json", storage.Join(job, "chk-5"))
	var ents []lsEntry
	if err := json.Unmarshal([]byte(out), &ents); code != 0 || err != nil || len(ents) != 2 {
		t.Fatalf("ls --json: %d %v %q", code, err, out)
	}
	if e := ents[1]; e.Name != "state" || e.Size != 3<<20+5 || e.Type != "file" || e.URI != storage.Join(job, "chk-5", "state") || e.Owner != p.Superuser || e.Mode != "-rw-r--r--" {
		t.Fatalf("entry %+v", e)
	}

	// du: the total, then the per-child breakdown adding up to it.
	code, out, _ = runCkpt(t, "du", "--json", "-d", "1", "--bytes", job)
	var rep duReport
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil {
		t.Fatalf("du --json: %d %v %q", code, err, out)
	}
	// 7 = the partial write's bytes (an unfinished file still uses space;
	// HDFS counts what its DataNodes hold, which may be 0 until a flush).
	if rep.Files != 5 || rep.Dirs != 4 || (rep.Bytes != total && rep.Bytes != total+7) {
		t.Fatalf("du totals %+v; want 5 files, 4 dirs, %d bytes", rep, total)
	}
	var sum int64
	for _, c := range rep.Children {
		sum += c.Bytes
	}
	if len(rep.Children) != 3 || sum != rep.Bytes || rep.Children[0].Name != "chk-5" || rep.Children[0].Bytes != 3<<20+5+2000 {
		t.Fatalf("du children %+v", rep.Children)
	}
	code, out, _ = runCkpt(t, "du", "-d", "1", "--sort", "size", job)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 5 || !strings.HasSuffix(lines[1], "chk-5/") || !strings.HasSuffix(lines[4], job) || !strings.Contains(lines[1], "3.00 MiB") {
		t.Fatalf("du -d 1 --sort size:\n%s", out)
	}

	// hdfs:/// resolves the NameNode from the configuration.
	loc, _ := storage.Parse(job)
	code, out, errb = runCkpt(t, "du", "--hadoop-conf-dir", p.ConfDir, "hdfs://"+loc.Path)
	if code != 0 || !strings.Contains(out, "hdfs://"+loc.Path) {
		t.Fatalf("du hdfs:///: exit %d %q %s", code, out, errb)
	}

	// Another HDFS user is kept out of a private directory.
	c, _ := p.Client("")
	defer c.Close()
	c.Chmod(loc.Path+"/chk-5", 0o700)
	code, _, errb = runCkpt(t, "ls", "--hdfs-user", "stranger", storage.Join(job, "chk-5"))
	if code != ExitError || !strings.Contains(strings.ToLower(errb), "permission denied") || !strings.Contains(errb, "stranger") {
		t.Fatalf("ls as stranger: exit %d %q", code, errb)
	}
}

// silentListener accepts connections and never answers, like a hung NameNode.
func silentListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// chk-N directories list by N, newest first: chk-10 before chk-9.
func TestLsSortsCheckpointsNewestFirst(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"chk-9", "chk-10", "chk-2", "shared", "taskowned"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	code, out, errb := runCkpt(t, "ls", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if want := "chk-10/\nchk-9/\nchk-2/\nshared/\ntaskowned/\n"; out != want {
		t.Errorf("ls:\n%s\nwant:\n%s", out, want)
	}
}
