package flinkrest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/internal/flinkrecorded"
)

// The fixtures under testdata/flink-<version>/ are responses recorded from
// the real Flink 2.3.0 and 1.20.5 peers (peers.Flink) — a running job with
// RocksDB incremental checkpoints, a manual checkpoint, a native savepoint,
// disposals, stop-with-savepoint and error answers — so decoding is tested
// on Flink's own bytes. The live conformance suite (cluster/conformance)
// runs the same client against the running peers.

var versions = []string{"2.3.0", "1.20.5"}

// recordedJobID is the job the recordings of version were taken of.
func recordedJobID(t *testing.T, version string) string {
	var d JobsOverviewDTO
	if err := json.Unmarshal(flinkrecorded.Read(t, version, "jobs-overview"), &d); err != nil || len(d.Jobs) != 1 {
		t.Fatalf("jobs-overview fixture: %v", err)
	}
	return d.Jobs[0].JID
}

// replay serves recorded responses: path → (status, fixture).
func replay(t *testing.T, version string, routes map[string]struct {
	status  int
	fixture string
}) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		if r.URL.RawQuery != "" {
			key += "?" + r.URL.RawQuery
		}
		rt, ok := routes[key]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":["Not found: ` + key + `"]}`))
			return
		}
		b := flinkrecorded.Read(t, version, rt.fixture)
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(rt.status)
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type route = struct {
	status  int
	fixture string
}

func TestClientDecodesRecordedFlink(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			jobID := recordedJobID(t, v)
			j := "/jobs/" + jobID
			c := replay(t, v, map[string]route{
				"GET /overview":                              {200, "overview"},
				"GET /config":                                {200, "config"},
				"GET /jobs/overview":                         {200, "jobs-overview"},
				"GET " + j:                                   {200, "job"},
				"GET " + j + "/checkpoints":                  {200, "checkpoints-running"},
				"GET " + j + "/checkpoints/config":           {200, "checkpoints-config"},
				"GET " + j + "/checkpoints/details/2":        {200, "checkpoint-details"},
				"GET " + j + "/exceptions":                   {200, "exceptions"},
				"GET " + j + "/checkpoints/t1":               {200, "checkpoint-trigger-completed"},
				"GET " + j + "/checkpoints/t0":               {200, "checkpoint-trigger-in-progress"},
				"GET " + j + "/savepoints/t2":                {200, "savepoint-completed"},
				"GET /savepoint-disposal/t3":                 {200, "disposal-failed"},
				"GET /savepoint-disposal/t4":                 {200, "disposal-completed"},
				"GET /jobs/00000000000000000000000000000000": {404, "error-job-not-found"},
				"POST /jars/abc.jar/run":                     {500, "error-jar-run"},
				"PATCH " + j + "?mode=cancel":                {409, "error-cancel-finished"},
				"POST " + j + "/savepoints":                  {400, "error-savepoint-no-dir"},
			})
			o, err := c.Overview(ctx)
			if err != nil || o.Version != v || o.TaskManagers != 1 || o.SlotsTotal != 8 || o.JobsRunning != 1 {
				t.Fatalf("overview %+v %v", o, err)
			}
			info, err := c.Info(ctx)
			if err != nil || info.Version != v || info.RefreshInterval != 100*time.Millisecond || !info.Features["web-submit"] {
				t.Fatalf("info %+v %v", info, err)
			}
			jobs, err := c.Jobs(ctx)
			if err != nil || len(jobs) != 1 || jobs[0].Status != cluster.JobRunning || jobs[0].Name != "peer-job" ||
				jobs[0].Tasks["TOTAL"] != 4 || jobs[0].Tasks["RUNNING"] != 4 || !jobs[0].End.IsZero() || jobs[0].Start.IsZero() {
				t.Fatalf("jobs %+v %v", jobs, err)
			}
			job, err := c.Job(ctx, jobs[0].ID)
			if err != nil || len(job.Vertices) != 2 || job.Vertices[0].Parallelism != 2 || job.Vertices[0].MaxParallelism != 128 ||
				job.Vertices[1].Name != "count-per-key -> sink: Writer" || job.Vertices[0].Tasks["RUNNING"] != 2 ||
				job.Timestamps[cluster.JobRunning].IsZero() || !job.Timestamps[cluster.JobFinished].IsZero() || job.Now.IsZero() {
				t.Fatalf("job %+v %v", job, err)
			}
			st, err := c.Checkpoints(ctx, jobID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Counts.Completed != 2 || st.LatestCompleted == nil || st.LatestCompleted.ID != 2 ||
				!strings.HasSuffix(st.LatestCompleted.ExternalPath, "/chk-2") || st.LatestSavepoint != nil {
				t.Fatalf("stats %+v", st)
			}
			if !st.Summary.StateSize.HasPercentiles || st.Summary.EndToEndDuration.Max == 0 {
				t.Errorf("summary %+v", st.Summary)
			}
			var inProgress, discarded bool
			for _, h := range st.History {
				inProgress = inProgress || h.Status == cluster.CheckpointInProgress
				discarded = discarded || h.Discarded
				if h.Type != cluster.TypeCheckpoint || h.NumSubtasks != 4 || h.TriggerTime.IsZero() {
					t.Errorf("history entry %+v", h)
				}
			}
			if !discarded {
				t.Errorf("no discarded (subsumed) checkpoint in the history: %+v", st.History)
			}
			_ = inProgress // the 1.20 recording caught no checkpoint in flight
			cfg, err := c.CheckpointConfig(ctx, jobID)
			if err != nil || cfg.Mode != "EXACTLY_ONCE" || cfg.Interval != 300*time.Millisecond || cfg.Timeout != 10*time.Minute ||
				cfg.Retention != cluster.RetainOnCancellation || cfg.StateBackend != "EmbeddedRocksDBStateBackend" {
				t.Fatalf("config %+v %v", cfg, err)
			}
			det, err := c.CheckpointDetail(ctx, jobID, 2)
			if err != nil || len(det.Tasks) != 2 || det.Status != cluster.CheckpointCompleted {
				t.Fatalf("detail %+v %v", det, err)
			}
			for id, tk := range det.Tasks {
				if len(id) != 32 || tk.NumSubtasks != 2 || tk.NumAcked != 2 || tk.StateSize == 0 {
					t.Errorf("task %s %+v", id, tk)
				}
			}
			ex, err := c.Exceptions(ctx, jobID)
			if err != nil || len(ex.Entries) != 0 {
				t.Fatalf("exceptions %+v %v", ex, err)
			}

			op, err := c.Poll(ctx, cluster.Trigger{Kind: cluster.CheckpointTrigger, JobID: jobID, ID: "t1"})
			if err != nil || !op.Done() || op.CheckpointID == 0 || op.Err() != nil {
				t.Fatalf("checkpoint poll %+v %v", op, err)
			}
			op, err = c.Poll(ctx, cluster.Trigger{Kind: cluster.CheckpointTrigger, JobID: jobID, ID: "t0"})
			if err != nil || op.Done() {
				t.Fatalf("in-progress poll %+v %v", op, err)
			}
			op, err = c.Poll(ctx, cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: "t2"})
			if err != nil || !op.Done() || !strings.Contains(op.Location, "/savepoint-") {
				t.Fatalf("savepoint poll %+v %v", op, err)
			}
			op, err = c.Poll(ctx, cluster.Trigger{Kind: cluster.DisposalTrigger, ID: "t3"})
			if err != nil || !op.Done() || op.Err() == nil ||
				op.Err().Error() != "org.apache.flink.util.FlinkException: Could not dispose savepoint file:///nonexistent/savepoint-abc. "+
					"(caused by java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory 'file:///nonexistent/savepoint-abc' on file system 'file'.)" {
				t.Fatalf("disposal failure %+v %v", op, op.Err())
			}
			op, err = c.Poll(ctx, cluster.Trigger{Kind: cluster.DisposalTrigger, ID: "t4"})
			if err != nil || !op.Done() || op.Err() != nil {
				t.Fatalf("disposal success %+v %v", op, err)
			}

			// Errors: the kind from the status, the message without Java class names and stack traces.
			for _, tc := range []struct {
				name string
				call func() error
				kind error
				msg  string
			}{
				{"unknown job", func() error { _, err := c.Job(ctx, "00000000000000000000000000000000"); return err },
					cluster.ErrNotFound, "HTTP 404: Job 00000000000000000000000000000000 not found"},
				{"jar run", func() error { _, err := c.RunArtifact(ctx, "abc.jar", cluster.RunRequest{}); return err },
					nil, "does not exist"},
				{"cancel finished", func() error { return c.Cancel(ctx, jobID) },
					cluster.ErrConflict, "HTTP 409: Job cancellation failed because the job has already reached another terminal state (FINISHED)."},
				{"savepoint without dir", func() error { _, err := c.TriggerSavepoint(ctx, jobID, cluster.SavepointRequest{}); return err },
					cluster.ErrBadRequest, "Property [target-directory] must be provided."},
				{"route missing", func() error { _, err := c.CheckpointDetail(ctx, jobID, 99); return err },
					cluster.ErrNotFound, "Not found"},
			} {
				err := tc.call()
				if err == nil || !strings.Contains(err.Error(), tc.msg) || strings.Contains(err.Error(), "\tat ") {
					t.Errorf("%s: error %v, want it to contain %q without stack frames", tc.name, err, tc.msg)
				}
				if tc.kind != nil && !errors.Is(err, tc.kind) {
					t.Errorf("%s: error %v is not %v", tc.name, err, tc.kind)
				}
				if !strings.Contains(err.Error(), c.URL()) {
					t.Errorf("%s: error %v does not name the endpoint", tc.name, err)
				}
			}
		})
	}
}

// TestEncodeMatchesFlink decodes each recorded response and encodes it
// again: the encoder (what ckpt serve sends) must produce every key Flink
// sent, at the same place and with the same JSON type, except the keys
// listed as not modelled.
func TestEncodeMatchesFlink(t *testing.T) {
	notModelled := map[string]bool{
		// Flink 2.x extras that describe its scheduler, not the job.
		"application-id": true, "schedulerType": true, "pending-operators": true, "vertices[].slotSharingGroupId": true,
		"plan.nodes[].inputs": true,
	}
	type codec struct {
		fixture string
		enc     func(b []byte) (any, error)
	}
	codecs := []codec{
		{"overview", func(b []byte) (any, error) {
			var d OverviewDTO
			err := json.Unmarshal(b, &d)
			return EncodeOverview(DecodeOverview(&d)), err
		}},
		{"config", func(b []byte) (any, error) {
			var d ConfigDTO
			err := json.Unmarshal(b, &d)
			return EncodeInfo(DecodeInfo(&d)), err
		}},
		{"jobs-overview", func(b []byte) (any, error) {
			var d JobsOverviewDTO
			err := json.Unmarshal(b, &d)
			out := JobsOverviewDTO{}
			for i := range d.Jobs {
				s := DecodeJobOverview(&d.Jobs[i])
				out.Jobs = append(out.Jobs, EncodeJobOverview(&s))
			}
			return out, err
		}},
		{"job", func(b []byte) (any, error) {
			var d JobDetailDTO
			err := json.Unmarshal(b, &d)
			return EncodeJob(DecodeJob(&d)), err
		}},
		{"checkpoints-running", func(b []byte) (any, error) {
			var d CheckpointingStatisticsDTO
			err := json.Unmarshal(b, &d)
			return EncodeCheckpointStats(DecodeCheckpointStats(&d)), err
		}},
		{"checkpoints-stopped", func(b []byte) (any, error) {
			var d CheckpointingStatisticsDTO
			err := json.Unmarshal(b, &d)
			return EncodeCheckpointStats(DecodeCheckpointStats(&d)), err
		}},
		{"checkpoints-config", func(b []byte) (any, error) {
			var d CheckpointConfigDTO
			err := json.Unmarshal(b, &d)
			return EncodeCheckpointConfig(DecodeCheckpointConfig(&d)), err
		}},
		{"checkpoint-details", func(b []byte) (any, error) {
			var d CheckpointDTO
			err := json.Unmarshal(b, &d)
			return EncodeCheckpoint(DecodeCheckpoint(&d)), err
		}},
		{"checkpoint-subtasks", func(b []byte) (any, error) {
			var d VertexCheckpointDTO
			err := json.Unmarshal(b, &d)
			return EncodeVertexCheckpoint(DecodeVertexCheckpoint(&d)), err
		}},
		{"exceptions", func(b []byte) (any, error) {
			var d ExceptionsDTO
			err := json.Unmarshal(b, &d)
			return EncodeExceptions(DecodeExceptions(&d)), err
		}},
	}
	for _, v := range versions {
		for _, cd := range codecs {
			t.Run(v+"/"+cd.fixture, func(t *testing.T) {
				b := flinkrecorded.Read(t, v, cd.fixture)
				enc, err := cd.enc(b)
				if err != nil {
					t.Fatalf("decoding: %v", err)
				}
				out, err := json.Marshal(enc)
				if err != nil {
					t.Fatal(err)
				}
				want, got := Shape(b), Shape(out)
				for k, typ := range want {
					if skipped(k, notModelled) {
						continue
					}
					if got[k] != typ && !(IsFlexNumber(k) && got[k] != "") {
						t.Errorf("key %s: Flink sends %s, encoder sends %q", k, typ, got[k])
					}
				}
			})
		}
	}
}

func skipped(key string, skip map[string]bool) bool {
	for s := range skip {
		if strings.HasPrefix(key, s) || strings.HasSuffix(key, "."+s) {
			return true
		}
	}
	// Flink 1.x's legacy exception fields, gone in 2.0.
	return strings.HasPrefix(key, "root-exception") || strings.HasPrefix(key, "all-exceptions") ||
		key == "timestamp" || key == "truncated"
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"localhost:8081", "http://localhost:8081", ""},
		{"jm", "http://jm:8081", ""},
		{"http://jm:9000/", "http://jm:9000", ""},
		{"https://proxy.example/flink/v1", "https://proxy.example:8081/flink/v1", ""},
		{"[::1]:8081", "http://[::1]:8081", ""},
		{"", "", "empty REST target"},
		{"ftp://jm:21", "", `scheme "ftp"`},
		{"jm:99999", "", "bad port"},
		{"jm:http", "", "invalid port"},
	} {
		u, err := ParseTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTarget(%q) = %v, %v; want error containing %q", tc.in, u, err, tc.err)
			}
			continue
		}
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseTarget(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
}

// TestUnreachableIsBounded: a refused connection and an endpoint that
// accepts but never answers both give ErrUnreachable naming the endpoint,
// in bounded time.
func TestUnreachableIsBounded(t *testing.T) {
	// A port nobody listens on: bind, note the port, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	// A listener that accepts and stays silent.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, tc := range []struct{ name, addr, msg string }{
		{"refused", refused, "cannot reach the REST endpoint " + refused},
		{"silent", silent.Addr().String(), "no answer from " + silent.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.addr, Options{Timeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = c.Jobs(context.Background())
			if el := time.Since(start); el > 3*time.Second {
				t.Errorf("took %v", el)
			}
			if !errors.Is(err, cluster.ErrUnreachable) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v; want ErrUnreachable containing %q", err, tc.msg)
			}
		})
	}
}

// TestLenientNumbers: Flink writes doubles it does not know yet as "NaN"
// (accumulated-busy-time of a vertex being deployed, percentiles of small
// samples); decoding must not fail on them.
func TestLenientNumbers(t *testing.T) {
	var d JobDetailDTO
	body := `{"jid":"x","vertices":[{"id":"v","metrics":{"accumulated-busy-time":"NaN","read-records":3}},
		{"id":"w","metrics":{"accumulated-busy-time":12.5}}]}`
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	j := DecodeJob(&d)
	if j.Vertices[0].Metrics.Busy != 0 || j.Vertices[0].Metrics.ReadRecords != 3 || j.Vertices[1].Metrics.Busy != 12500*time.Microsecond {
		t.Errorf("vertices %+v", j.Vertices)
	}
	var st StatDTO
	if err := json.Unmarshal([]byte(`{"min":1,"max":2,"avg":1,"p50":"NaN","p90":1.5,"p95":null,"p99":"2.0","p999":"Infinity"}`), &st); err != nil {
		t.Fatal(err)
	}
	s := decodeStat(st)
	if s.HasPercentiles || s.P90 != 1.5 || s.P99 != 2 {
		t.Errorf("stat %+v", s)
	}
	b, _ := json.Marshal(encodeStat(cluster.Stat{Min: 1, P50: 3}))
	if string(b) != `{"min":1,"max":0,"avg":0,"p50":"NaN","p90":"NaN","p95":"NaN","p99":"NaN","p999":"NaN"}` {
		t.Errorf("encoded %s", b)
	}
	b, _ = json.Marshal(encodeStat(cluster.Stat{Min: 1, P50: 3, HasPercentiles: true}))
	if string(b) != `{"min":1,"max":0,"avg":0,"p50":3.0,"p90":0.0,"p95":0.0,"p99":0.0,"p999":0.0}` {
		t.Errorf("encoded %s", b)
	}
}

// TestRetriesLeaderElection: Flink answers 503 while its dispatcher's
// leader is being elected; the client retries within the call's bound and
// gives up with ErrUnreachable and Flink's message when it lasts.
func TestRetriesLeaderElection(t *testing.T) {
	const busy = `{"errors":["Service temporarily unavailable due to an ongoing leader election. Please refresh."]}`
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls <= 2 || r.URL.Path == "/jobs/overview" {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(busy))
			return
		}
		w.Write([]byte(`{"flink-version":"2.3.0","taskmanagers":1}`))
	}))
	defer srv.Close()
	c, _ := New(srv.URL, Options{Timeout: 700 * time.Millisecond})
	o, err := c.Overview(context.Background())
	if err != nil || o.Version != "2.3.0" || calls != 3 {
		t.Fatalf("overview after two 503s: %+v %v (%d calls)", o, err, calls)
	}
	start := time.Now()
	_, err = c.Jobs(context.Background())
	if !errors.Is(err, cluster.ErrUnreachable) || !strings.Contains(err.Error(), "leader election") || time.Since(start) > 3*time.Second {
		t.Errorf("a lasting election: %v after %v", err, time.Since(start))
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"errors":["org.apache.flink.runtime.rest.NotFoundException: Job x not found\n\tat a.b(C.java:1)"]}`, "Job x not found"},
		{`{"errors":["Internal server error.","<Exception on server side:\njava.util.concurrent.CompletionException: org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file /x.jar does not exist\n\tat x"]}`, "Jar file /x.jar does not exist"},
		{`{"errors":["Internal server error."]}`, "Internal server error."},
		{`not json`, "not json"},
		{`{"errors":["a","a","b"]}`, "a; b"},
	} {
		if got := errorMessage([]byte(tc.body)); got != tc.want {
			t.Errorf("errorMessage(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestMajor(t *testing.T) {
	keys := []string{}
	for v, want := range map[string]int{"2.3.0": 2, "1.20.5": 1, "": 0, "ckpt-dev": 0} {
		if major(v) != want {
			t.Errorf("major(%q) = %d, want %d", v, major(v), want)
		}
		keys = append(keys, v)
	}
	sort.Strings(keys)
}

// TestClaimModeByVersion: the claim mode goes out as claimMode to Flink 2.x
// and as restoreMode to 1.x (which does not know claimMode), never both;
// the version comes from /overview once.
func TestClaimModeByVersion(t *testing.T) {
	for _, tc := range []struct{ version, key, absent string }{
		{"2.3.0", "claimMode", "restoreMode"},
		{"1.20.5", "restoreMode", "claimMode"},
		{"1.15.4", "restoreMode", "claimMode"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			var body map[string]any
			overviews := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/overview":
					overviews++
					w.Write([]byte(`{"flink-version":"` + tc.version + `"}`))
				case "/jars/x.jar/run":
					json.NewDecoder(r.Body).Decode(&body)
					w.Write([]byte(`{"jobid":"0123456789abcdef0123456789abcdef"}`))
				}
			}))
			defer srv.Close()
			c, _ := New(srv.URL, Options{})
			for i := 0; i < 2; i++ {
				id, err := c.RunArtifact(context.Background(), "x.jar", cluster.RunRequest{SavepointPath: "/sp", ClaimMode: "CLAIM",
					Parallelism: 3, ProgramArgs: []string{"--a", "b"}, Config: map[string]string{"k": "v"}})
				if err != nil || id != "0123456789abcdef0123456789abcdef" {
					t.Fatal(id, err)
				}
			}
			if body[tc.key] != "CLAIM" || body[tc.absent] != nil || body["savepointPath"] != "/sp" || body["allowNonRestoredState"] != false ||
				body["parallelism"] != 3.0 || body["flinkConfiguration"].(map[string]any)["k"] != "v" {
				t.Errorf("run body %v", body)
			}
			if overviews != 1 {
				t.Errorf("/overview asked %d times, want once", overviews)
			}
		})
	}
}

// TestToken: the token goes out as a bearer token: from $CKPT_TOKEN to any
// target, from ckpt serve's token file to this machine only (unless
// $CKPT_TOKEN_FILE names the file).
func TestToken(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.Write([]byte(`{"flink-version":"ckpt-test"}`))
	}))
	defer srv.Close()
	cfg := t.TempDir()
	file := filepath.Join(cfg, "ckpt", "serve-token")
	os.MkdirAll(filepath.Dir(file), 0o700)
	if err := os.WriteFile(file, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(other, []byte("other-token"), 0o600)
	for _, tc := range []struct {
		name, env, fileEnv, host string
		opts                     Options
		want                     string
	}{
		{"file, loopback", "", "", "127.0.0.1", Options{}, "Bearer file-token"},
		{"file, localhost", "", "", "localhost", Options{}, "Bearer file-token"},
		{"file, another machine", "", "", "jm.example.org", Options{}, ""},
		{"env wins", "env-token", "", "127.0.0.1", Options{}, "Bearer env-token"},
		{"env, another machine", "env-token", "", "jm.example.org", Options{}, "Bearer env-token"},
		{"named file, another machine", "", other, "jm.example.org", Options{}, "Bearer other-token"},
		{"option", "env-token", "", "127.0.0.1", Options{Token: "opt"}, "Bearer opt"},
		{"no token", "env-token", "", "127.0.0.1", Options{NoToken: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_CONFIG_HOME", cfg)
			t.Setenv(TokenEnv, tc.env)
			t.Setenv(TokenFileEnv, tc.fileEnv)
			if tok := LookupToken(tc.host); "Bearer "+tok != tc.want && !(tok == "" && tc.want == "") && tc.opts.Token == "" && !tc.opts.NoToken {
				t.Errorf("LookupToken(%s) = %q, want %q", tc.host, tok, tc.want)
			}
			if tc.host != "127.0.0.1" {
				return
			}
			opts := tc.opts
			opts.HTTPClient = srv.Client()
			c, err := New(srv.URL, opts)
			if err != nil {
				t.Fatal(err)
			}
			got = "<none>"
			if _, err := c.Overview(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Authorization %q, want %q", got, tc.want)
			}
		})
	}
}

// cluster.CancelWithSavepoint is Flink's savepoint trigger with cancel-job.
func TestCancelWithSavepointSendsCancelJob(t *testing.T) {
	var body map[string]any
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.Method + " " + r.URL.Path
		json.NewDecoder(r.Body).Decode(&body)
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"request-id":"c0ffee"}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const id = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"
	tr, err := cluster.CancelWithSavepoint(context.Background(), c, id, cluster.SavepointRequest{TargetDir: "/sp"})
	if err != nil {
		t.Fatal(err)
	}
	if path != "POST /jobs/"+id+"/savepoints" || body["cancel-job"] != true || body["target-directory"] != "/sp" ||
		tr.ID != "c0ffee" || tr.Kind != cluster.SavepointTrigger {
		t.Errorf("sent %s %v, trigger %+v", path, body, tr)
	}
}
