package peers

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

func TestMain(m *testing.M) { RunTests(m) }

// TestHDFSPeerServes proves the harness end to end: the peer is up, its
// conf dir names it, and a file spanning several blocks round-trips through
// a client that is not ckpt's own storage code.
func TestHDFSPeerServes(t *testing.T) {
	p := HDFS(t)
	conf, err := os.ReadFile(filepath.Join(p.ConfDir, "core-site.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(conf, []byte("fs.defaultFS")) {
		t.Fatalf("%s/core-site.xml has no fs.defaultFS", p.ConfDir)
	}
	base := p.BaseURI(t)
	dir := strings.TrimPrefix(base, "hdfs://"+p.Addr)
	c, err := p.Client("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fi, err := c.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o777 {
		t.Fatalf("base dir %s: %v %v", dir, fi, err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16+7) // > 3 blocks of 1 MiB
	w, err := c.Create(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	// The NameNode says "replication in progress" until the last block's
	// replicas have reported; like the Java client, retry with backoff.
	err = w.Close()
	for wait := 50 * time.Millisecond; hdfs.IsErrReplicating(err) && wait < 10*time.Second; wait *= 2 {
		time.Sleep(wait)
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Open(dir + "/f")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (want %d), err %v", len(got), len(data), err)
	}
	if bs := r.Stat().Sys().(*hdfs.FileStatus).GetBlocksize(); bs != 1<<20 {
		t.Errorf("block size %d, want 1 MiB (start.sh sets it small so multi-block files are cheap)", bs)
	}
}

// TestPolicyMissingJava runs this test binary again with java and mvn
// hidden from PATH: by default the peer test skips loudly; with
// CKPT_REQUIRE_PEERS=1 (or CI=true) the same test fails.
func TestPolicyMissingJava(t *testing.T) {
	if os.Getenv("CKPT_POLICY_CHILD") == "1" {
		return
	}
	bin := t.TempDir()
	// Keep a shell available (scripts would need it) but nothing else.
	if sh, err := exec.LookPath("bash"); err == nil {
		os.Symlink(sh, filepath.Join(bin, "bash"))
	}
	cases := []struct {
		name     string
		env      []string
		wantFail bool
		wantText string
	}{
		{"default skips", nil, false, "SKIPPING: real peer unavailable"},
		{"required fails", []string{"CKPT_REQUIRE_PEERS=1"}, true, "REAL PEER REQUIRED"},
		{"CI fails", []string{"CI=true"}, true, "REAL PEER REQUIRED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestPolicyChild$", "-test.v", "-test.count=1")
			cmd.Env = append(cleanEnv(), "PATH="+bin, "CKPT_POLICY_CHILD=1", "CKPT_PEERS_WORK="+t.TempDir())
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.wantFail {
				t.Fatalf("child failed=%v, want %v; output:\n%s", failed, tc.wantFail, out)
			}
			if !strings.Contains(string(out), tc.wantText) || !strings.Contains(string(out), "java and mvn not found") {
				t.Fatalf("child output lacks %q and the missing tools; got:\n%s", tc.wantText, out)
			}
		})
	}
}

// TestPolicyChild is the child of TestPolicyMissingJava.
func TestPolicyChild(t *testing.T) {
	if os.Getenv("CKPT_POLICY_CHILD") != "1" {
		t.Skip("only run as TestPolicyMissingJava's child")
	}
	HDFS(t)
	t.Fatal("HDFS returned without java on PATH")
}

// cleanEnv is the environment without anything that names a running peer or
// the peer policy, so the child decides from PATH alone.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "CI", "CKPT_REQUIRE_PEERS", EnvHDFSAddr, EnvHDFSConfDir, EnvHDFSWork, "CKPT_PEERS_WORK":
			continue
		}
		env = append(env, kv)
	}
	return env
}
