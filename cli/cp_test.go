package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

var spaceRuns = regexp.MustCompile(`  +`)

// TestCpCmd: dry run, copy, rerun and JSON of a local → local copy; a
// file beside DST stays as it was.
func TestCpCmd(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "savepoint-aaaaaa-000000000001")
	rewriteSavepoint(t, src)
	out := filepath.Join(root, "backup")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "precious"), []byte("mine"), 0o644)
	dst := filepath.Join(out, "copy")
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"cp-dry-run.golden", []string{"cp", "--dry-run", src, dst}},
		{"cp.golden", []string{"cp", src, dst}},
		{"cp-rerun.golden", []string{"cp", "--bytes", src, dst}},
		{"cp-json.golden", []string{"cp", "--json", src, dst}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, stdout, stderr := runCkpt(t, tc.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d: %s%s", code, stdout, stderr)
			}
			// Columns are padded to the real paths' widths, which depend
			// on where the test's temp dir is: compare with runs of spaces
			// made one width.
			golden(t, tc.golden, spaceRuns.ReplaceAllString(strings.ReplaceAll(stdout, root, "ROOT"), "  "))
			if _, err := os.Stat(dst); (err == nil) != (tc.golden != "cp-dry-run.golden") {
				t.Errorf("DST exists: %v", err == nil)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(out, "precious")); string(b) != "mine" {
		t.Error("the file beside DST changed")
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("DST's parent holds %d entries, want precious and copy", len(entries))
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"cp", "--parallel", "0", src, dst}, 2, "--parallel"},
		{[]string{"cp", filepath.Join(root, "absent"), dst}, 1, "absent"},
		{[]string{"cp", src, filepath.Join(root, "no", "dst")}, 1, "parent"},
		{[]string{"cp", src, filepath.Join(src, "inside")}, 1, "overlap"},
		{[]string{"cp", src}, 2, "accepts 2 arg"},
	} {
		code, _, errb := runCkpt(t, tc.args...)
		if code != tc.code || !strings.Contains(errb, tc.want) {
			t.Errorf("%v: exit %d %q, want %d %q", tc.args, code, errb, tc.code, tc.want)
		}
	}
}

// TestCpHDFS: a retained checkpoint (shared files outside its directory)
// copied local → real HDFS is self-contained there; a rerun copies
// nothing; copied back HDFS → local after the original job dir is gone,
// every byte is the original's. A file in DST's parent on HDFS stays.
func TestCpHDFS(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real HDFS not started in -short mode")
	}
	p := peers.HDFS(t)
	base := p.BaseURI(t)
	ctx := context.Background()
	fsys := storage.NewRouter(storage.Options{})
	defer fsys.Close()
	root := t.TempDir()
	job := filepath.Join(root, "job")
	chk := rewriteCheckpoint(t, job)
	orig, err := snapshot.Read(ctx, fsys, chk)
	if err != nil {
		t.Fatal(err)
	}
	want := fileContents(t, fsys, orig)
	if err := storage.WriteFile(ctx, fsys, storage.Join(base, "precious"), []byte("mine"), storage.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	remote := storage.Join(base, "chk-3-copy")
	code, stdout, stderr := runCkpt(t, "cp", chk, remote)
	if code != 0 || !strings.Contains(stdout, "5 copied") || !strings.Contains(stdout, "2 from outside SRC") {
		t.Fatalf("cp to HDFS: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCkpt(t, "cp", chk, remote)
	if code != 0 || !strings.Contains(stdout, "0 copied") || !strings.Contains(stdout, "5 already there") {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
	if err := os.Rename(job, job+".gone"); err != nil {
		t.Fatal(err)
	}
	onHDFS, err := snapshot.Read(ctx, fsys, remote)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileContents(t, fsys, onHDFS); !equalContents(got, want) {
		t.Errorf("on HDFS: %v, want %v", got, want)
	}
	back := filepath.Join(root, "back")
	if code, stdout, stderr := runCkpt(t, "cp", remote, back); code != 0 {
		t.Fatalf("cp back: exit %d\n%s%s", code, stdout, stderr)
	}
	local, err := snapshot.Read(ctx, fsys, back)
	if err != nil {
		t.Fatal(err)
	}
	if got := fileContents(t, fsys, local); !equalContents(got, want) {
		t.Errorf("back: %v, want %v", got, want)
	}
	if b, err := storage.ReadAll(ctx, fsys, storage.Join(base, "precious")); err != nil || string(b) != "mine" {
		t.Errorf("the file beside DST on HDFS: %q %v", b, err)
	}
}

// rewriteCheckpoint writes job/chk-3 of an incremental job: private files
// in chk-3, shared SSTs in job/shared, all absolute as Flink writes them.
func rewriteCheckpoint(t *testing.T, job string) string {
	t.Helper()
	chk := filepath.Join(job, "chk-3")
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 3}
	if err := m.SetProperties(snapshot.CheckpointProperties()); err != nil {
		t.Fatal(err)
	}
	abs := func(p string) snapshot.StreamHandle {
		os.MkdirAll(filepath.Dir(p), 0o755)
		content := "bytes of " + filepath.Base(p)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return snapshot.NewFileHandle("file:"+p, int64(len(content)))
	}
	op := snapshot.NewOperatorState("count", "count", 1, 128)
	shared := []snapshot.NamedHandle{{LocalName: "000009.sst", Handle: abs(filepath.Join(job, "shared", "a-sst"))},
		{LocalName: "000010.sst", Handle: abs(filepath.Join(job, "shared", "b-sst"))}}
	private := []snapshot.NamedHandle{{LocalName: "MANIFEST-000004", Handle: abs(filepath.Join(chk, "manifest"))},
		{LocalName: "CURRENT", Handle: abs(filepath.Join(chk, "current"))}}
	op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewIncrementalHandle(3, "backend",
		snapshot.KeyGroupRange{Start: 0, Count: 128}, 10, abs(filepath.Join(chk, "meta")), shared, private, "h")}}
	m.Operators = []*snapshot.OperatorState{op}
	if err := snapshot.Write(context.Background(), storage.NewLocal(), filepath.Join(chk, snapshot.MetadataFileName), m); err != nil {
		t.Fatal(err)
	}
	return chk
}

// fileContents maps each file handle of m (by local name) to its bytes,
// and fails when one points outside m's directory.
func fileContents(t *testing.T, fsys storage.FS, m *snapshot.Metadata) map[string]string {
	t.Helper()
	out := map[string]string{}
	m.Walk(func(v snapshot.Visit) {
		h, ok := v.Handle.(snapshot.StreamHandle)
		if !ok {
			return
		}
		uri, ok, err := m.FileURI(h)
		if err != nil || !ok {
			return
		}
		if m.ExclusiveDir != "" && !strings.Contains(m.ExclusiveDir, "/job/") && !storage.Within(m.ExclusiveDir, uri) {
			t.Errorf("%s points outside %s", uri, m.ExclusiveDir)
		}
		b, err := storage.ReadAll(context.Background(), fsys, uri)
		if err != nil {
			t.Fatal(err)
		}
		out[string(v.Role)+":"+v.LocalName] = string(b)
	})
	return out
}

func equalContents(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal([]byte(v), []byte(w)) {
			return false
		}
	}
	return true
}

// TestCpProgressLine: the terminal status line shows files, bytes, rate
// and ETA, redraws in place and is cleared at the end.
func TestCpProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := &progressLine{w: &buf, start: time.Now().Add(-2 * time.Second)}
	p.update(snapshot.CopyProgress{Files: 10, FilesDone: 3, Bytes: 4 << 20, BytesDone: 1 << 20})
	line := buf.String()
	for _, want := range []string{"\r3/10 files", "1.00 MiB/4.00 MiB", "KiB/s", "ETA 6s", "\x1b[K"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
	p.done()
	if !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Errorf("not cleared: %q", buf.String())
	}
	var none *progressLine
	none.done() // no terminal: nothing to clear
}

// ckpt cp between any two storages: a checkpoint with shared files goes
// local → S3 → Azure → GCS → local, each hop self-contained (the source of
// each hop is deleted before the next reads), the bytes unchanged, and a
// foreign object beside each copy stays.
func TestCpBetweenObjectStores(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: real object stores not started in -short mode")
	}
	s3p, az, gcs := peers.S3(t), peers.Azure(t), peers.GCS(t)
	confDir := t.TempDir()
	conf := s3p.FlinkConf() + "\n" + az.FlinkConf() + "\n" + gcs.FlinkConf() + "\n"
	if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLINK_CONF_DIR", confDir)
	ctx := context.Background()
	fsys := storage.NewRouter(storage.Options{FlinkConfDir: confDir})
	defer fsys.Close()
	root := t.TempDir()
	job := filepath.Join(root, "job")
	src := rewriteCheckpoint(t, job)
	orig, err := snapshot.Read(ctx, fsys, src)
	if err != nil {
		t.Fatal(err)
	}
	want := fileContents(t, fsys, orig)
	hops := []string{storage.Join(s3p.BaseURI(t), "chk-3"), storage.Join(az.BaseURI(t), "chk-3"), storage.Join(gcs.BaseURI(t), "chk-3"), filepath.Join(root, "back")}
	for i, dst := range hops {
		if i < len(hops)-1 {
			if err := fsys.MkdirAll(ctx, storage.Dir(dst)); err != nil {
				t.Fatal(err)
			}
			if err := storage.WriteFile(ctx, fsys, storage.Join(storage.Dir(dst), "precious"), []byte("mine"), storage.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		code, stdout, stderr := runCkpt(t, "cp", src, dst)
		if code != 0 {
			t.Fatalf("cp %s %s: exit %d\n%s%s", src, dst, code, stdout, stderr)
		}
		if i == 0 {
			// The local original goes: the copy must not depend on it.
			if err := os.Rename(job, job+".gone"); err != nil {
				t.Fatal(err)
			}
		}
		m, err := snapshot.Read(ctx, fsys, dst)
		if err != nil {
			t.Fatalf("%s: %v", dst, err)
		}
		if got := fileContents(t, fsys, m); !equalContents(got, want) {
			t.Errorf("%s: %v, want %v", dst, got, want)
		}
		src = dst
	}
	for _, dst := range hops[:len(hops)-1] {
		if b, err := storage.ReadAll(ctx, fsys, storage.Join(storage.Dir(dst), "precious")); err != nil || string(b) != "mine" {
			t.Errorf("the object beside %s: %q %v", dst, b, err)
		}
	}
}
