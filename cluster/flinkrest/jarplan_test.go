package flinkrest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/internal/flinkrecorded"
	"github.com/ckpt-dev/ckpt/snapshot"
)

// planServer answers /jars/:jarid/plan with the plans recorded from the
// real peers (flinkrecorded.JarPlanName), the chaining-disabled one when
// the body turns chaining off, Flink's error for an unknown entry class;
// and records what it was sent.
type planServer struct {
	mu      sync.Mutex
	bodies  []JarPlanDTO
	paths   []string
	deleted []string
}

func (s *planServer) start(t *testing.T, version string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.paths = append(s.paths, r.Method+" "+r.URL.Path)
		fixture, status := "", http.StatusOK
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/jars/upload":
			w.Write([]byte(`{"filename":"/tmp/flink-web-x/flink-web-upload/1f2e-peer.jar","status":"success"}`))
			return
		case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/jars/"):
			s.deleted = append(s.deleted, strings.TrimPrefix(r.URL.Path, "/jars/"))
			w.Write([]byte(`{}`))
			return
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/plan"):
			var b JarPlanDTO
			if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
				t.Errorf("plan body: %v", err)
			}
			s.bodies = append(s.bodies, b)
			fixture = flinkrecorded.JarPlanName(b.FlinkConfiguration[ChainingKey] != "false")
			if b.EntryClass == "no.such.Class" {
				fixture, status = "jar-plan-error", http.StatusInternalServerError
			}
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":["Not found: ` + r.URL.Path + `"]}`))
			return
		}
		data := flinkrecorded.Read(t, version, fixture)
		w.WriteHeader(status)
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, Options{Timeout: 5 * time.Second, NoToken: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestJarPlanDecodesRecordedFlink(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			s := &planServer{}
			c := s.start(t, version)
			req := cluster.RunRequest{EntryClass: "dev.ckpt.peer.PeerJob", ProgramArgs: []string{"--job", `{"a": 1}`},
				Parallelism: 2, SavepointPath: "/sp", Config: map[string]string{"pipeline.max-parallelism": "64"}}
			plan, err := c.JarPlan(t.Context(), "abc_peer.jar", req)
			if err != nil {
				t.Fatal(err)
			}
			// Sent: the program's settings, no savepoint; the second time
			// with chaining off on top of the submission's configuration.
			if len(s.bodies) != 2 {
				t.Fatalf("%d plan requests, want 2", len(s.bodies))
			}
			first, second := s.bodies[0], s.bodies[1]
			if first.EntryClass != req.EntryClass || !reflect.DeepEqual(first.ProgramArgsList, req.ProgramArgs) ||
				first.Parallelism == nil || *first.Parallelism != 2 || first.FlinkConfiguration["pipeline.max-parallelism"] != "64" ||
				first.FlinkConfiguration[ChainingKey] != "" {
				t.Errorf("first plan request %+v", first)
			}
			if second.FlinkConfiguration[ChainingKey] != "false" || second.FlinkConfiguration["pipeline.max-parallelism"] != "64" {
				t.Errorf("second plan request's configuration %v", second.FlinkConfiguration)
			}
			if s.paths[0] != "POST /jars/abc_peer.jar/plan" {
				t.Errorf("path %s", s.paths[0])
			}
			if plan.JobName != "peer-job" || len(plan.Vertices) != 2 || len(plan.Unchained) != 5 {
				t.Fatalf("plan %+v", plan)
			}
			byName := map[string]int{}
			for i, v := range plan.Vertices {
				byName[v.Operators[0]] = i
			}
			src, cnt := plan.Vertices[byName["Source: gen-source"]], plan.Vertices[byName["count-per-key"]]
			// A vertex ID is its chain head's operator ID: the uid's hash.
			if src.ID != snapshot.OperatorIDFromUID("gen-source") || cnt.ID != snapshot.OperatorIDFromUID("count-per-key") {
				t.Errorf("vertex IDs %s %s: not the heads' uid hashes", src.ID, cnt.ID)
			}
			if !reflect.DeepEqual(cnt.Operators, []string{"count-per-key", "list", "sink: Writer"}) || !cnt.Chained() {
				t.Errorf("count vertex operators %q", cnt.Operators)
			}
			if src.Parallelism != 2 || cnt.Parallelism != 2 || src.MaxParallelism != 0 || cnt.MaxParallelism != 0 {
				t.Errorf("parallelism %d/%d, max %d/%d (Flink sends no max parallelism)", src.Parallelism, cnt.Parallelism,
					src.MaxParallelism, cnt.MaxParallelism)
			}
			if len(cnt.Inputs) != 1 || cnt.Inputs[0].ShipStrategy != "HASH" || cnt.Inputs[0].ID != src.ID.String() || len(src.Inputs) != 0 {
				t.Errorf("inputs %+v / %+v", cnt.Inputs, src.Inputs)
			}
			found := false
			for _, u := range plan.Unchained {
				found = found || u.ID == snapshot.OperatorIDFromUID("sink: Writer") || u.Operators[0] == "sink: Writer"
				if u.Chained() {
					t.Errorf("unchained vertex %+v holds several operators", u)
				}
			}
			if !found {
				t.Error("the chaining-disabled plan lacks the sink")
			}

			// Flink's error, in words.
			_, err = c.JarPlan(t.Context(), "abc_peer.jar", cluster.RunRequest{EntryClass: "no.such.Class"})
			if err == nil || !strings.Contains(err.Error(), "entry point class 'no.such.Class' was not found") || strings.Contains(err.Error(), "\tat ") {
				t.Errorf("error %v", err)
			}
		})
	}
}

// PlanJar uploads a local jar for the plan and removes it afterwards; a
// jar ID is used as it is and left alone.
func TestPlanJarUploadsOrReuses(t *testing.T) {
	s := &planServer{}
	c := s.start(t, versions[0])
	jar := filepath.Join(t.TempDir(), "peer.jar")
	if err := os.WriteFile(jar, []byte("PK\x03\x04 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PlanJar(t.Context(), c, jar, cluster.RunRequest{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"POST /jars/upload", "POST /jars/1f2e-peer.jar/plan", "POST /jars/1f2e-peer.jar/plan", "DELETE /jars/1f2e-peer.jar"}
	if !reflect.DeepEqual(s.paths, want) {
		t.Errorf("requests %q, want %q", s.paths, want)
	}
	s.paths = nil
	if _, err := PlanJar(t.Context(), c, "77aa_orders.jar", cluster.RunRequest{}); err != nil {
		t.Fatal(err)
	}
	if len(s.paths) != 2 || s.paths[0] != "POST /jars/77aa_orders.jar/plan" || len(s.deleted) != 1 {
		t.Errorf("with a jar ID: requests %q, deleted %q", s.paths, s.deleted)
	}
	if _, err := PlanJar(t.Context(), c, filepath.Join(t.TempDir(), "missing.jar"), cluster.RunRequest{}); err == nil ||
		!strings.Contains(err.Error(), "no such jar file") {
		t.Errorf("a missing local jar: %v", err)
	}
}
