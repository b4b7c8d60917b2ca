package restserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/config"
)

// TestRelativePaths: a relative target directory, savepoint path or
// disposal path resolves under the configured savepoint directory, never
// against serve's working directory; without one, or climbing out of it,
// it is refused.
func TestRelativePaths(t *testing.T) {
	for _, tc := range []struct {
		name, spDir, path, body string
		want                    string // what reaches the cluster; "" = refused with 400
	}{
		{"target-directory", "/data/savepoints", "/jobs/" + jobID + "/savepoints", `{"target-directory":"nightly"}`, "/data/savepoints/nightly"},
		{"target-directory URI dir", "hdfs://nn:8020/sp", "/jobs/" + jobID + "/savepoints", `{"target-directory":"a/b"}`, "hdfs://nn:8020/sp/a/b"},
		{"target-directory absolute", "/data/savepoints", "/jobs/" + jobID + "/savepoints", `{"target-directory":"/elsewhere"}`, "/elsewhere"},
		{"target-directory URI", "", "/jobs/" + jobID + "/savepoints", `{"target-directory":"file:///elsewhere"}`, "file:///elsewhere"},
		{"target-directory no dir configured", "", "/jobs/" + jobID + "/savepoints", `{"target-directory":"nightly"}`, ""},
		{"target-directory climbing out", "/data/savepoints", "/jobs/" + jobID + "/savepoints", `{"target-directory":"../../etc"}`, ""},
		{"stop targetDirectory", "/data/savepoints", "/jobs/" + jobID + "/stop", `{"targetDirectory":"final"}`, "/data/savepoints/final"},
		{"stop no dir configured", "", "/jobs/" + jobID + "/stop", `{"targetDirectory":"final"}`, ""},
		{"savepointPath", "/data/savepoints", "/jars/x.yaml/run", `{"savepointPath":"savepoint-5f2c01-0123456789ab"}`,
			"/data/savepoints/savepoint-5f2c01-0123456789ab"},
		{"savepointPath no dir configured", "", "/jars/x.yaml/run", `{"savepointPath":"savepoint-5f2c01-0123456789ab"}`, ""},
		{"savepointPath query", "/data/savepoints", "/jars/x.yaml/run?savepointPath=sp1", ``, "/data/savepoints/sp1"},
		{"restore path in flinkConfiguration", "/data/savepoints", "/jars/x.yaml/run",
			`{"flinkConfiguration":{"execution.savepoint.path":"sp2"}}`, "/data/savepoints/sp2"},
		{"relative checkpoint dir in flinkConfiguration", "/data/savepoints", "/jars/x.yaml/run",
			`{"flinkConfiguration":{"execution.checkpointing.dir":"ckpts"}}`, ""},
		{"relative savepoint dir in flinkConfiguration", "/data/savepoints", "/jars/x.yaml/run",
			`{"flinkConfiguration":{"state.savepoints.dir":"sp"}}`, ""},
		{"disposal", "/data/savepoints", "/savepoint-disposal", `{"savepoint-path":"savepoint-5f2c01-0123456789ab"}`,
			"/data/savepoints/savepoint-5f2c01-0123456789ab"},
		{"disposal no dir configured", "", "/savepoint-disposal", `{"savepoint-path":"savepoint-5f2c01-0123456789ab"}`, ""},
		{"disposal climbing out", "/data/savepoints", "/savepoint-disposal", `{"savepoint-path":"a/../../x"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{}
			if tc.spDir != "" {
				cfg[config.SavepointDir] = tc.spDir
			}
			f := newFake(t, cfg)
			got := "<not reached>"
			f.savepoint = func(req cluster.SavepointRequest) (cluster.Trigger, error) {
				got = req.TargetDir
				return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: jobID}, nil
			}
			f.dispose = func(p string) (cluster.Trigger, error) {
				got = p
				return cluster.Trigger{Kind: cluster.DisposalTrigger, ID: jobID}, nil
			}
			f.poll = func(cluster.Trigger) (*cluster.Operation, error) {
				return &cluster.Operation{Status: cluster.Completed}, nil
			}
			f.run = func(_ context.Context, _ string, req cluster.RunRequest) (string, error) {
				got = req.SavepointPath
				if v := req.Config["execution.savepoint.path"]; v != "" {
					got = v
				}
				return jobID, nil
			}
			srv := httptest.NewServer(New(f, Options{}))
			defer srv.Close()
			code, body := send(t, srv.URL, request{method: "POST", path: tc.path, contentType: "application/json", body: tc.body})
			if tc.want == "" {
				if code != http.StatusBadRequest || got != "<not reached>" {
					t.Fatalf("HTTP %d %s, cluster got %q; want 400 and nothing passed on", code, body, got)
				}
				return
			}
			if code/100 != 2 || got != tc.want {
				t.Fatalf("HTTP %d %s, cluster got %q; want %q", code, body, got, tc.want)
			}
		})
	}
}

// TestNoFileContentsInErrors: a restore or disposal path naming a file
// that is not a snapshot gets an error without its bytes; one that is
// missing and one the server user cannot read get the same words.
func TestNoFileContentsInErrors(t *testing.T) {
	f := newFixture(t)
	jar := f.upload(t, "orders.yaml", spec)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("SECRET-CONTENTS line one\nline two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dir, "sp")
	os.Mkdir(sp, 0o755)
	if err := os.WriteFile(filepath.Join(sp, "_metadata"), []byte("SECRET-CONTENTS"), 0o600); err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(dir, "tiny")
	os.WriteFile(tiny, []byte("SE"), 0o600)
	leaks := []string{"SECRET", "0x5345", "5345435", "line one", "ends after"}
	check := func(t *testing.T, what, msg string) {
		t.Helper()
		for _, l := range leaks {
			if strings.Contains(msg, l) {
				t.Errorf("%s: the answer shows the file (%q): %s", what, l, msg)
			}
		}
	}
	for _, p := range []string{secret, sp, filepath.Join(sp, "_metadata"), tiny} {
		code, b := f.do(t, http.MethodPost, "/jars/"+jar+"/run", "application/json", []byte(`{"savepointPath":"`+p+`"}`))
		if code != http.StatusBadRequest {
			t.Errorf("run from %s: HTTP %d %s, want 400", p, code, b)
		}
		check(t, "run from "+p, string(b))
		code, b = f.do(t, http.MethodPost, "/savepoint-disposal", "application/json", []byte(`{"savepoint-path":"`+p+`"}`))
		var tr struct {
			ID string `json:"request-id"`
		}
		if json.Unmarshal(b, &tr); code != 200 || tr.ID == "" {
			t.Fatalf("dispose %s: HTTP %d %s", p, code, b)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, b = f.do(t, http.MethodGet, "/savepoint-disposal/"+tr.ID, "", nil)
			if !strings.Contains(string(b), "IN_PROGRESS") || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(string(b), "failure-cause") {
			t.Errorf("dispose %s: %s, want a failure", p, b)
		}
		check(t, "dispose "+p, string(b))
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("dispose %s removed it: %v", p, err)
		}
	}

	// Missing and unreadable: the same answer but for the path. As root
	// every file is readable, so the unreadable one is what the engine
	// answers for it, from a cluster that answers so.
	missing := filepath.Join(dir, "missing")
	code, b := f.do(t, http.MethodPost, "/jars/"+jar+"/run", "application/json", []byte(`{"savepointPath":"`+missing+`"}`))
	if code != http.StatusBadRequest {
		t.Fatalf("run from a missing path: HTTP %d %s", code, b)
	}
	fk := newFake(t, nil)
	unreadable := filepath.Join(dir, "unreadable")
	fk.run = func(_ context.Context, _ string, req cluster.RunRequest) (string, error) {
		p := req.SavepointPath
		return "", cluster.Errorf(cluster.ErrBadRequest, "snapshot %s: open %s: permission denied", p, p)
	}
	srv := httptest.NewServer(New(fk, Options{}))
	defer srv.Close()
	code2, b2 := send(t, srv.URL, request{method: "POST", path: "/jars/x.yaml/run", contentType: "application/json",
		body: `{"savepointPath":"` + unreadable + `"}`})
	if code2 != code || strings.ReplaceAll(b2, unreadable, "P") != strings.ReplaceAll(string(b), missing, "P") {
		t.Errorf("missing and unreadable answered differently:\n missing:    %d %s\n unreadable: %d %s", code, b, code2, b2)
	}
	if os.Geteuid() != 0 {
		// A real unreadable file, when the test runs as another user.
		os.Chmod(secret, 0)
		code3, b3 := f.do(t, http.MethodPost, "/jars/"+jar+"/run", "application/json", []byte(`{"savepointPath":"`+secret+`"}`))
		if code3 != code || strings.ReplaceAll(string(b3), secret, "P") != strings.ReplaceAll(string(b), missing, "P") {
			t.Errorf("missing and unreadable answered differently:\n missing:    %d %s\n unreadable: %d %s", code, b, code3, b3)
		}
	}
}

// TestScrub: the error words that would tell a client about a file it
// cannot read are replaced, whatever request they come from.
func TestScrub(t *testing.T) {
	same := "does not exist or is not readable by the ckpt serve user"
	for _, tc := range []struct{ in, want string }{
		{"path /root/x: stat /root/x: permission denied", "path /root/x: /root/x: " + same},
		{"path /nope/x: stat /nope/x: no such file or directory", "path /nope/x: /nope/x: " + same},
		{"stat /etc/passwd/x: not a directory", "/etc/passwd/x: " + same},
		{"open /h/f: file does not exist", "/h/f: " + same},
		{"expected the _metadata magic number 0x4960672D: found 0x726f6f74: not a Flink _metadata file",
			"expected the _metadata magic number 0x4960672D: other bytes: not a Flink _metadata file"},
		{"truncated file: needs 4 bytes, the file ends after 2", "other bytes"},
		{"job 5f2c: unknown operator", "job 5f2c: unknown operator"},
	} {
		if got := scrub(tc.in); got != tc.want {
			t.Errorf("scrub(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
	if a, b := pathError(errors.New("snapshot /x: open /x: permission denied"), "savepointPath", "/x"),
		pathError(errors.New("snapshot /x: stat /x: no such file or directory"), "savepointPath", "/x"); a.Error() != b.Error() {
		t.Errorf("unreadable %q and missing %q differ", a, b)
	}
}
