package restserver

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/engine/config"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const jobID = "5f2c0194b6e2a8d3c1e07a9b4d6f8e21"

const spec = `name: orders
parallelism: 2
config:
  execution.checkpointing.interval: 5 s
  execution.checkpointing.externalized-checkpoint-retention: DELETE_ON_CANCELLATION
  execution.checkpointing.num-retained: 3
pipeline:
  - op: generator
    uid: orders-source
    keys: 10
    rate: 100
  - op: map
    fn: upper
  - op: keyBy
  - op: count
    uid: orders-per-key
  - op: discard
    uid: sink
`

type fixture struct {
	srv *httptest.Server
	c   *embedded.Cluster
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := config.New()
	for k, v := range map[string]string{
		config.CheckpointDir: "file://" + filepath.Join(t.TempDir(), "checkpoints"),
		config.Timeout:       "1 min",
	} {
		if err := cfg.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	c := embedded.New(embedded.Options{Config: cfg, Version: "ckpt-test", Commit: "abc1234", Slots: 4})
	srv := httptest.NewServer(New(c, Options{}))
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return &fixture{srv: srv, c: c}
}

func (f *fixture) do(t *testing.T, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return resp.StatusCode, b
}

func (f *fixture) upload(t *testing.T, name, content string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("jarfile", name)
	w.Write([]byte(content))
	mw.Close()
	code, b := f.do(t, http.MethodPost, "/jars/upload", mw.FormDataContentType(), body.Bytes())
	if code != http.StatusOK {
		t.Fatalf("upload: HTTP %d %s", code, b)
	}
	var up struct{ Filename, Status string }
	json.Unmarshal(b, &up)
	return filepath.Base(up.Filename)
}

// volatile are values that change from run to run: times, durations,
// counters, the temporary checkpoint directory.
var volatile = map[string]bool{"start-time": true, "end-time": true, "duration": true, "now": true, "last-modification": true,
	"read-records": true, "write-records": true, "accumulated-backpressured-time": true, "accumulated-idle-time": true,
	"accumulated-busy-time": true, "uploaded": true, "timezone-name": true, "timezone-offset": true,
	"jar_id": true} // jar_id: the ckpt_program extension names a random upload id

// normalize replaces volatile values (a positive time becomes 1, a
// path under the test's temporary directory its base name) so the rest
// can be compared with a golden file.
func normalize(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if key == "timestamps" {
				if n, ok := e.(float64); ok && n > 0 {
					x[k] = 1.0
				}
				continue
			}
			x[k] = normalize(e, k)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e, key)
		}
	case float64:
		if volatile[key] && x >= 0 {
			return 1.0 // counters and times: present, value varies
		}
	case string:
		if volatile[key] {
			return "<volatile>"
		}
		if i := strings.Index(x, "/checkpoints"); i >= 0 && strings.Contains(x, os.TempDir()) {
			return "<tmp>" + x[i:]
		}
	}
	return v
}

func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: not JSON: %s", name, body)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(normalize(v, ""))
	got := buf.Bytes()
	p := filepath.Join("testdata", name+".golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, p, got)
	}
}

// TestGoldenResponses pins what ckpt serve answers for a known job where
// the answer is stable: job detail (vertices are operator chains with IDs
// from the uids), listings, checkpoint configuration, configuration, and
// the error bodies.
func TestGoldenResponses(t *testing.T) {
	f := newFixture(t)
	jar := f.upload(t, "orders.yaml", spec)
	code, b := f.do(t, http.MethodPost, "/jars/"+jar+"/run", "application/json", []byte(`{"jobId":"`+jobID+`","parallelism":2}`))
	if code != http.StatusOK || !strings.Contains(string(b), jobID) {
		t.Fatalf("run: HTTP %d %s", code, b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, b := f.do(t, http.MethodGet, "/jobs/"+jobID, "", nil)
		if strings.Contains(string(b), `"state":"RUNNING"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not RUNNING: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
	}{
		{"job", "GET", "/jobs/" + jobID, "", 200},
		{"jobs", "GET", "/jobs", "", 200},
		{"jobs-overview", "GET", "/v1/jobs/overview", "", 200},
		{"overview", "GET", "/overview", "", 200},
		{"config", "GET", "/config", "", 200},
		{"jobmanager-config", "GET", "/jobmanager/config", "", 200},
		{"checkpoints-config", "GET", "/jobs/" + jobID + "/checkpoints/config", "", 200},
		{"exceptions", "GET", "/jobs/" + jobID + "/exceptions", "", 200},
		{"error-unknown-job", "GET", "/jobs/00000000000000000000000000000000", "", 404},
		{"error-bad-job-id", "GET", "/jobs/orders", "", 400},
		{"error-bad-checkpoint-id", "GET", "/jobs/" + jobID + "/checkpoints/details/x", "", 400},
		{"error-unknown-checkpoint", "GET", "/jobs/" + jobID + "/checkpoints/details/424242", "", 404},
		{"error-unknown-trigger", "GET", "/jobs/" + jobID + "/savepoints/ffffffffffffffffffffffffffffffff", "", 404},
		{"error-bad-checkpoint-type", "POST", "/jobs/" + jobID + "/checkpoints", `{"checkpointType":"PARTIAL"}`, 400},
		{"error-bad-body", "POST", "/jobs/" + jobID + "/savepoints", `{"target-directory": 5}`, 400},
		{"error-savepoint-no-dir", "POST", "/jobs/" + jobID + "/savepoints", `{}`, 400},
		{"error-stop-no-dir", "POST", "/jobs/" + jobID + "/stop", `{"drain":true}`, 400},
		{"error-cancel-mode-stop", "PATCH", "/jobs/" + jobID + "?mode=stop", "", 400},
		{"error-method", "DELETE", "/overview", "", 405},
		{"error-unknown-path", "GET", "/taskmanagers/x/logs", "", 404},
		{"error-unknown-jar", "POST", "/jars/nope.yaml/run", `{}`, 404},
		{"error-claim-restore-disagree", "POST", "/jars/" + jar + "/run", `{"claimMode":"CLAIM","restoreMode":"NO_CLAIM"}`, 400},
		{"error-upload-not-multipart", "POST", "/jars/upload", `{}`, 415},
		{"error-disposal-no-path", "POST", "/savepoint-disposal", `{}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := ""
			if tc.body != "" {
				ct = "application/json"
			}
			code, b := f.do(t, tc.method, tc.path, ct, []byte(tc.body))
			if code != tc.code {
				t.Fatalf("HTTP %d, want %d: %s", code, tc.code, b)
			}
			golden(t, tc.name, b)
		})
	}
}

// TestOperationEncoding: the poll answers of each kind, in progress,
// succeeded and failed, exactly as Flink writes them.
func TestOperationEncoding(t *testing.T) {
	fail := &cluster.Failure{Class: "java.io.IOException", StackTrace: "java.io.IOException: disk full"}
	for _, tc := range []struct {
		kind cluster.TriggerKind
		op   cluster.Operation
		want string
	}{
		{cluster.SavepointTrigger, cluster.Operation{Status: cluster.InProgress}, `{"status":{"id":"IN_PROGRESS"},"operation":null}`},
		{cluster.SavepointTrigger, cluster.Operation{Status: cluster.Completed, Location: "file:/sp/savepoint-5f2c01-0123456789ab"},
			`{"status":{"id":"COMPLETED"},"operation":{"location":"file:/sp/savepoint-5f2c01-0123456789ab"}}`},
		{cluster.SavepointTrigger, cluster.Operation{Status: cluster.Completed, Failure: fail},
			`{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":"java.io.IOException","stack-trace":"java.io.IOException: disk full"}}}`},
		{cluster.CheckpointTrigger, cluster.Operation{Status: cluster.Completed, CheckpointID: 58},
			`{"status":{"id":"COMPLETED"},"operation":{"checkpointId":58}}`},
		{cluster.CheckpointTrigger, cluster.Operation{Status: cluster.Completed, Failure: fail},
			`{"status":{"id":"COMPLETED"},"operation":{"failureCause":{"class":"java.io.IOException","stack-trace":"java.io.IOException: disk full"}}}`},
		{cluster.DisposalTrigger, cluster.Operation{Status: cluster.Completed}, `{"status":{"id":"COMPLETED"},"operation":{}}`},
		{cluster.DisposalTrigger, cluster.Operation{Status: cluster.Completed, Failure: fail},
			`{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":"java.io.IOException","stack-trace":"java.io.IOException: disk full"}}}`},
	} {
		op := tc.op
		b, _ := json.Marshal(EncodeOperation(tc.kind, &op))
		if string(b) != tc.want {
			t.Errorf("%s %+v:\n got %s\nwant %s", tc.kind, tc.op, b, tc.want)
		}
	}
}

// TestRunRequest: what POST /jars/:jarid/run passes on, from the JSON body
// and the older query parameters.
func TestRunRequest(t *testing.T) {
	for _, tc := range []struct {
		name, query, body string
		want              cluster.RunRequest
		err               string
	}{
		{"claimMode", "", `{"savepointPath":"/sp","allowNonRestoredState":true,"claimMode":"claim"}`,
			cluster.RunRequest{SavepointPath: "/sp", AllowNonRestoredState: true, ClaimMode: "CLAIM"}, ""},
		{"restoreMode alias", "", `{"savepointPath":"/sp","restoreMode":"NO_CLAIM"}`,
			cluster.RunRequest{SavepointPath: "/sp", ClaimMode: "NO_CLAIM"}, ""},
		{"both agree", "", `{"claimMode":"LEGACY","restoreMode":"LEGACY"}`, cluster.RunRequest{ClaimMode: "LEGACY"}, ""},
		{"query parameters", "?parallelism=3&savepointPath=/q&allowNonRestoredState=true&entry-class=a.B", ``,
			cluster.RunRequest{Parallelism: 3, SavepointPath: "/q", AllowNonRestoredState: true, EntryClass: "a.B"}, ""},
		{"body wins", "?parallelism=3", `{"parallelism":5}`, cluster.RunRequest{Parallelism: 5}, ""},
		{"config and job id", "", `{"jobId":"` + jobID + `","flinkConfiguration":{"a":"b"},"programArgsList":["x"]}`,
			cluster.RunRequest{JobID: jobID, Config: map[string]string{"a": "b"}, ProgramArgs: []string{"x"}}, ""},
		{"bad claim mode", "", `{"claimMode":"SOMETIMES"}`, cluster.RunRequest{}, "claimMode"},
		{"bad parallelism", "?parallelism=many", ``, cluster.RunRequest{}, "parallelism"},
		{"negative parallelism", "", `{"parallelism":-2}`, cluster.RunRequest{}, "parallelism"},
		{"not json", "", `{`, cluster.RunRequest{}, "JarRunRequestBody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			srv := httptest.NewServer(New(rec, Options{}))
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/jars/x.yaml/run"+tc.query, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.err != "" {
				if resp.StatusCode != 400 || !strings.Contains(string(b), tc.err) {
					t.Errorf("HTTP %d %s; want 400 naming %q", resp.StatusCode, b, tc.err)
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("HTTP %d %s", resp.StatusCode, b)
			}
			g, _ := json.Marshal(rec.run)
			w, _ := json.Marshal(tc.want)
			if string(g) != string(w) {
				t.Errorf("run request\n got %s\nwant %s", g, w)
			}
		})
	}
}

// recorder is a cluster that records RunArtifact's request (the rest of
// the interface comes from the embedded engine, unused here).
type recorder struct {
	*embedded.Cluster
	run cluster.RunRequest
}

func (r *recorder) RunArtifact(ctx context.Context, id string, req cluster.RunRequest) (string, error) {
	r.run = req
	return jobID, nil
}
