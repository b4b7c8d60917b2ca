package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/cluster/restserver"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

// savepointsTarget is a REST target: the embedded engine behind Flink's
// API (real /savepoint-disposal), whose /jobs/overview knows two jobs
// owning the tree's savepoints.
func savepointsTarget(t *testing.T) string {
	c := embedded.New(embedded.Options{FS: storage.NewLocal()})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jobs/overview", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"jobs":[{"jid":"aaaaaa0123456789abcdef0123456789","name":"orders","state":"RUNNING","start-time":1,"end-time":-1,"duration":5,"last-modification":1,"tasks":{}},
{"jid":"bbbbbb0123456789abcdef0123456789","name":"payments","state":"FINISHED","start-time":1,"end-time":2,"duration":1,"last-modification":2,"tasks":{}}]}`))
	})
	mux.Handle("/", restserver.New(c, restserver.Options{}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return srv.URL
}

func TestSavepoints(t *testing.T) {
	now := fixedTime
	savepointsNow = func() time.Time { return now }
	t.Cleanup(func() { savepointsNow = time.Now })
	t.Setenv(JobManagerEnv, "")
	root := filepath.Join(t.TempDir(), "savepoints")
	sptest.Tree(t, storage.NewLocal(), root, now)
	target := savepointsTarget(t)
	clean := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, root, "ROOT"), target, "TARGET")
	}

	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"savepoints.golden", []string{"savepoints", "--bytes", root}},
		{"savepoints-names.golden", []string{"savepoints", "-m", target, root}},
		{"savepoints-preview.golden", []string{"savepoints", "--keep", "1", "--older-than", "7d", root}},
		{"savepoints-json.golden", []string{"savepoints", "--json", "--keep", "2", root}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errb := runCkpt(t, tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			golden(t, tc.golden, clean(out))
		})
	}
	// A preview deletes nothing.
	if _, err := os.Stat(filepath.Join(root, "savepoint-aaaaaa-000000000001", "_metadata")); err != nil {
		t.Fatalf("the preview deleted something: %v", err)
	}
	// Usage errors name what is wrong.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"savepoints", "--keep", "1", "--dispose", root}, "--yes"},
		{[]string{"savepoints", "--dispose", "--yes", root}, "needs a policy"},
		{[]string{"savepoints", "--older-than", "soon", root}, `"soon"`},
	} {
		if code, _, errb := runCkpt(t, tc.args...); code != 2 || !strings.Contains(errb, tc.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", tc.args, code, errb, tc.want)
		}
	}
	if code, _, errb := runCkpt(t, "savepoints", filepath.Join(root, "nope")); code != 1 || !strings.Contains(errb, "nope") {
		t.Errorf("missing dir: exit %d %q", code, errb)
	}

	// Dispose through the cluster: job aaaaaa keeps its newest; the other
	// two go via /savepoint-disposal; bbbbbb keeps its only one.
	code, out, errb := runCkpt(t, "savepoints", "--keep", "1", "--dispose", "--yes", "-m", target, root)
	if code != 0 {
		t.Fatalf("dispose: exit %d: %s %s", code, out, errb)
	}
	golden(t, "savepoints-dispose.golden", clean(out))
	_, out, _ = runCkpt(t, "savepoints", "--json", root)
	var after savepointsJSON
	if err := json.Unmarshal([]byte(out), &after); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, s := range after.Savepoints {
		left = append(left, s.Name)
	}
	if got := strings.Join(left, " "); got != "savepoint-aaaaaa-000000000003 savepoint-cccccc-000000000009 savepoint-bbbbbb-000000000001 savepoint-dddddd-000000000001" {
		t.Errorf("after dispose: %s", got)
	}
}
