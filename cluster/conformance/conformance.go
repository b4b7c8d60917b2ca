// Package conformance is one client-side test suite for Flink's REST API
// that runs unchanged against `ckpt serve` (the embedded engine behind
// cluster/restserver) and against a real Flink JobManager (2.3 and 1.20,
// via peers). It drives a job through its life — upload and run, watch,
// checkpoint statistics, manual checkpoints, savepoints in both formats,
// disposal, stop-with-savepoint, resume with allowNonRestoredState,
// cancel — with cluster/flinkrest's Client and with raw HTTP, asserting the
// same status codes, trigger semantics and JSON shapes (key paths and
// types, golden files under testdata/shapes recorded from real Flink) on
// both sides.
//
// An operation a cluster answers with 501 (cluster.ErrNotSupported) is
// skipped loudly, naming what is missing, so the same suite picks it up as
// soon as the engine offers it.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
)

// Target is a REST endpoint under test.
type Target struct {
	Name string
	URL  string
	// Program is the file to upload to /jars/upload and the run request
	// that starts the conformance job from it: a keyed job of two vertices
	// at parallelism 2 that checkpoints every few hundred milliseconds and
	// retains its checkpoints on cancellation (non-incremental, so FULL
	// checkpoints apply).
	Program func(t *testing.T) (filename string, content []byte, run cluster.RunRequest)
	// Dir is a local directory the cluster can write savepoints into.
	Dir string
	// Record, when set, collects the shapes of the responses instead of
	// checking them (recording the goldens from real Flink).
	Record *Recorder
}

// Recorder collects response shapes across targets; Write keeps what every
// target agreed on.
type Recorder struct {
	mu     sync.Mutex
	shapes map[string][]map[string]string
}

// Write stores, per response, the keys all recorded targets sent with the
// same type (null in one and a type in another counts as that type),
// without keys ckpt does not model.
func (r *Recorder) Write(dir string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, all := range r.shapes {
		out := map[string]string{}
		for k, typ := range all[0] {
			if notModelled(k) {
				continue
			}
			ok := true
			for _, other := range all[1:] {
				ot, has := other[k]
				switch {
				case !has:
					ok = false
				case ot == "null":
				case typ == "null":
					typ = ot
				case ot != typ:
					ok = false
				}
			}
			if ok {
				out[k] = typ
			}
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// notModelled are keys real Flink sends that describe its own scheduler or
// deployment rather than the job; ckpt serve does not send them.
func notModelled(k string) bool {
	for _, seg := range strings.FieldsFunc(k, func(r rune) bool { return r == '.' }) {
		switch strings.TrimSuffix(seg, "[]") {
		case "application-id", "schedulerType", "pending-operators", "slotSharingGroupId", "inputs", "jobType",
			"job-type", "execution-mode", "serialized-throwable":
			return true
		}
	}
	return k == "plan.type"
}

// ShapesDir is where the golden shapes live.
func ShapesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "shapes")
}

type suite struct {
	tg     Target
	c      *flinkrest.Client
	http   *http.Client
	broken bool

	artifact string
	run      cluster.RunRequest
	jobID    string
	vertices []string
	// restoreFrom is what the resume step restores (a savepoint from stop,
	// or the first job's retained checkpoint) and the checkpoint id in it.
	restoreFrom   string
	restoreFromID int64
	canonical     string // canonical savepoint location, disposed later
}

// Run runs the suite against tg.
func Run(t *testing.T, tg Target) {
	c, err := flinkrest.New(tg.URL, flinkrest.Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := &suite{tg: tg, c: c, http: &http.Client{Timeout: 30 * time.Second}}
	// The client rides out a JobManager's leader election (503s); the raw
	// calls below do not, so the suite starts once the target answers.
	if _, err := c.Overview(context.Background()); err != nil {
		t.Fatalf("%s does not answer: %v", tg.Name, err)
	}
	steps := []struct {
		name string
		f    func(t *testing.T)
	}{
		{"UploadAndRun", s.uploadAndRun},
		{"Overview", s.overview},
		{"Jobs", s.jobs},
		{"JobDetail", s.jobDetail},
		{"CheckpointStatistics", s.checkpointStats},
		{"CheckpointConfig", s.checkpointConfig},
		{"CheckpointDetails", s.checkpointDetails},
		{"Errors", s.errors},
		{"ManualCheckpoint", s.manualCheckpoint},
		{"Savepoints", s.savepoints},
		{"Dispose", s.dispose},
		{"StopWithSavepoint", s.stop},
		{"ResumeAndCancel", s.resumeAndCancel},
		{"CancelWithSavepoint", s.cancelWithSavepoint},
		{"Exceptions", s.exceptions},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			if s.broken {
				t.Skip("an earlier step that this one builds on failed")
			}
			st.f(t)
		})
		if !ok && (st.name == "UploadAndRun" || st.name == "CheckpointStatistics") {
			s.broken = true
		}
	}
}

// ---- raw HTTP ----

type response struct {
	status int
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, r.body)
	}
}

func (s *suite) raw(t *testing.T, method, p string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimRight(s.tg.URL, "/")+p, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, p, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, p, ct)
	}
	return response{status: resp.StatusCode, body: b}
}

// expect checks the status; a 501 skips the test (the cluster lacks the
// operation), anything else unexpected fails it.
func (s *suite) expect(t *testing.T, r response, status int, what string) {
	t.Helper()
	if r.status == http.StatusNotImplemented && status != http.StatusNotImplemented {
		t.Skipf("NOT SUPPORTED by %s: %s: %s", s.tg.Name, what, r.body)
	}
	if r.status != status {
		t.Fatalf("%s: HTTP %d, want %d: %s", what, r.status, status, abbreviate(string(r.body)))
	}
}

func abbreviate(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// shape checks a response body against the golden shape name (or records it).
func (s *suite) shape(t *testing.T, name string, body []byte) {
	t.Helper()
	got := flinkrest.Shape(body)
	if r := s.tg.Record; r != nil {
		r.mu.Lock()
		if r.shapes == nil {
			r.shapes = map[string][]map[string]string{}
		}
		r.shapes[name] = append(r.shapes[name], got)
		r.mu.Unlock()
		return
	}
	b, err := os.ReadFile(filepath.Join(ShapesDir(), name+".json"))
	if err != nil {
		t.Fatalf("golden shape %s: %v (record with CKPT_CONFORMANCE_RECORD=1 against real Flink)", name, err)
	}
	var want map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("golden shape %s: %v", name, err)
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		typ := want[k]
		if typ == "null" || !present(got, parentOf(k)) {
			continue // optional object absent here (e.g. no failed checkpoint yet)
		}
		if got[k] != typ && !(flinkrest.IsFlexNumber(k) && (got[k] == "number" || got[k] == "string")) {
			t.Errorf("%s: key %q: Flink sends %s, %s sends %q", name, k, typ, s.tg.Name, got[k])
		}
	}
}

// parentOf is the enclosing key: "a.b" → "a", "a[]" → "a", "a[].b" → "a[]".
func parentOf(k string) string {
	if strings.HasSuffix(k, "[]") {
		return strings.TrimSuffix(k, "[]")
	}
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		return k[:i]
	}
	return ""
}

// present: the parent exists with children (an empty array or object, or
// null, has none to check).
func present(got map[string]string, parent string) bool {
	if parent == "" {
		return true
	}
	if t, ok := got[parent]; !ok || t == "null" {
		return false
	}
	for k := range got {
		if strings.HasPrefix(k, parent+".") || strings.HasPrefix(k, parent+"[]") {
			return true
		}
	}
	return false
}

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func (s *suite) ctx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond (which may return an error to stop) for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not within %v (last error: %v)", what, d, last)
}

func (s *suite) waitState(t *testing.T, jobID string, want cluster.JobStatus) {
	t.Helper()
	waitFor(t, 90*time.Second, fmt.Sprintf("job %s %s", jobID, want), func() (bool, error) {
		j, err := s.c.Job(context.Background(), jobID)
		if err != nil {
			return false, err
		}
		if j.Status.Terminal() && j.Status != want {
			t.Fatalf("job %s ended %s while waiting for %s", jobID, j.Status, want)
		}
		return j.Status == want, fmt.Errorf("state %s", j.Status)
	})
}

// waitRunning waits until the job and all its tasks run.
func (s *suite) waitRunning(t *testing.T, jobID string) {
	t.Helper()
	waitFor(t, 90*time.Second, "all tasks of "+jobID+" RUNNING", func() (bool, error) {
		j, err := s.c.Job(context.Background(), jobID)
		if err != nil {
			return false, err
		}
		if j.Status.Terminal() {
			t.Fatalf("job %s ended %s before running", jobID, j.Status)
		}
		for _, v := range j.Vertices {
			if v.Tasks[cluster.TaskRunning] != v.Parallelism {
				return false, fmt.Errorf("vertex %s: %v", v.Name, v.Tasks)
			}
		}
		return j.Status == cluster.JobRunning && len(j.Vertices) > 0, fmt.Errorf("state %s", j.Status)
	})
}

func (s *suite) waitCompleted(t *testing.T, jobID string, n int) *cluster.CheckpointStats {
	t.Helper()
	var st *cluster.CheckpointStats
	waitFor(t, 90*time.Second, fmt.Sprintf("%d completed checkpoints of %s", n, jobID), func() (bool, error) {
		var err error
		st, err = s.c.Checkpoints(context.Background(), jobID)
		return err == nil && st.Counts.Completed >= n && st.LatestCompleted != nil, err
	})
	return st
}

// ---- the steps ----

func (s *suite) upload(t *testing.T) string {
	t.Helper()
	name, content, run := s.tg.Program(t)
	s.run = run
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="jarfile"; filename=%q`, name))
	h.Set("Content-Type", "application/x-java-archive")
	part, _ := mw.CreatePart(h)
	part.Write(content)
	mw.Close()
	resp, err := s.http.Post(strings.TrimRight(s.tg.URL, "/")+"/jars/upload", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := response{status: resp.StatusCode, body: b}
	s.expect(t, r, http.StatusOK, "POST /jars/upload")
	s.shape(t, "jars-upload", b)
	var up flinkrest.JarUploadDTO
	r.json(t, &up)
	if up.Status != "success" || up.Filename == "" {
		t.Fatalf("upload: %s", b)
	}
	return path.Base(up.Filename)
}

func (s *suite) uploadAndRun(t *testing.T) {
	s.artifact = s.upload(t)
	r := s.raw(t, http.MethodGet, "/jars", nil)
	s.expect(t, r, http.StatusOK, "GET /jars")
	s.shape(t, "jars", r.body)
	var jars flinkrest.JarListDTO
	r.json(t, &jars)
	found := false
	for _, f := range jars.Files {
		found = found || f.ID == s.artifact
	}
	if !found {
		t.Errorf("GET /jars does not list the upload %s: %s", s.artifact, r.body)
	}
	s.jobID = s.runJob(t, s.run)
	s.waitRunning(t, s.jobID)
}

// runJob starts the uploaded program (POST /jars/:jarid/run, JSON body).
func (s *suite) runJob(t *testing.T, run cluster.RunRequest) string {
	t.Helper()
	body := flinkrest.JarRunDTO{EntryClass: run.EntryClass, ProgramArgsList: run.ProgramArgs, SavepointPath: run.SavepointPath,
		FlinkConfiguration: run.Config}
	if run.SavepointPath != "" {
		body.AllowNonRestoredState = &run.AllowNonRestoredState
	}
	r := s.raw(t, http.MethodPost, "/jars/"+s.artifact+"/run", body)
	s.expect(t, r, http.StatusOK, "POST /jars/:jarid/run")
	s.shape(t, "jar-run", r.body)
	var out flinkrest.JarRunResponseDTO
	r.json(t, &out)
	if !hex32.MatchString(out.JobID) {
		t.Fatalf("jar run: job id %q", out.JobID)
	}
	return out.JobID
}

func (s *suite) overview(t *testing.T) {
	r := s.raw(t, http.MethodGet, "/overview", nil)
	s.expect(t, r, http.StatusOK, "GET /overview")
	s.shape(t, "overview", r.body)
	o, err := s.c.Overview(s.ctx(t, time.Minute))
	if err != nil || o.Version == "" || o.JobsRunning < 1 || o.TaskManagers < 1 || o.SlotsTotal < o.SlotsAvailable {
		t.Errorf("overview %+v %v", o, err)
	}
	r = s.raw(t, http.MethodGet, "/config", nil)
	s.expect(t, r, http.StatusOK, "GET /config")
	s.shape(t, "config", r.body)
	r = s.raw(t, http.MethodGet, "/v1/config", nil)
	s.expect(t, r, http.StatusOK, "GET /v1/config")
	r = s.raw(t, http.MethodGet, "/jobmanager/config", nil)
	s.expect(t, r, http.StatusOK, "GET /jobmanager/config")
	var kv []flinkrest.KeyValueDTO
	r.json(t, &kv)
}

func (s *suite) jobs(t *testing.T) {
	r := s.raw(t, http.MethodGet, "/jobs", nil)
	s.expect(t, r, http.StatusOK, "GET /jobs")
	s.shape(t, "jobs", r.body)
	var ids flinkrest.JobIDsDTO
	r.json(t, &ids)
	found := false
	for _, j := range ids.Jobs {
		found = found || (j.ID == s.jobID && j.Status == "RUNNING")
	}
	if !found {
		t.Errorf("GET /jobs lacks %s RUNNING: %s", s.jobID, r.body)
	}
	r = s.raw(t, http.MethodGet, "/jobs/overview", nil)
	s.expect(t, r, http.StatusOK, "GET /jobs/overview")
	s.shape(t, "jobs-overview", r.body)
	jobs, err := s.c.Jobs(s.ctx(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.ID != s.jobID {
			continue
		}
		if j.Status != cluster.JobRunning || j.Tasks["TOTAL"] != 4 || j.Tasks[cluster.TaskRunning] != 4 || j.Start.IsZero() ||
			!j.End.IsZero() || j.Duration <= 0 {
			t.Errorf("job summary %+v", j)
		}
		return
	}
	t.Errorf("job %s not in /jobs/overview", s.jobID)
}

func (s *suite) jobDetail(t *testing.T) {
	r := s.raw(t, http.MethodGet, "/jobs/"+s.jobID, nil)
	s.expect(t, r, http.StatusOK, "GET /jobs/:jobid")
	s.shape(t, "job", r.body)
	j, err := s.c.Job(s.ctx(t, time.Minute), s.jobID)
	if err != nil {
		t.Fatal(err)
	}
	if j.ID != s.jobID || j.Status != cluster.JobRunning || len(j.Vertices) != 2 || j.Timestamps[cluster.JobRunning].IsZero() ||
		j.Now.Before(j.Start) {
		t.Fatalf("job %+v", j)
	}
	s.vertices = nil
	for _, v := range j.Vertices {
		if !hex32.MatchString(v.ID) || v.Parallelism != 2 || v.MaxParallelism < 2 || v.Status != cluster.TaskRunning ||
			v.Tasks[cluster.TaskRunning] != 2 || v.Name == "" {
			t.Errorf("vertex %+v", v)
		}
		s.vertices = append(s.vertices, v.ID)
	}
	if !strings.HasPrefix(j.Vertices[0].Name, "Source: ") {
		t.Errorf("the first vertex is the source, named %q", j.Vertices[0].Name)
	}
	s.vertexOperators(t, j)
}

// vertexOperators: ckpt serve sends each vertex's chain (the ckpt_operators
// extension: operator ID, uid, name, head first, the head's ID being the
// vertex's), so a client can name the operator behind an ID; Flink never
// sends it, and the client then reports none.
func (s *suite) vertexOperators(t *testing.T, j *cluster.Job) {
	o, err := s.c.Overview(s.ctx(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.Version, "ckpt") { // "ckpt-<version>", or "ckpt" in tests
		for _, v := range j.Vertices {
			if len(v.Operators) != 0 {
				t.Errorf("%s: vertex %s has operators from nowhere: %+v", s.tg.Name, v.Name, v.Operators)
			}
		}
		return
	}
	var uids []string
	for _, v := range j.Vertices {
		if len(v.Operators) == 0 || v.Operators[0].ID != v.ID {
			t.Errorf("vertex %s (%s): operators %+v, want the chain with the head's ID first", v.Name, v.ID, v.Operators)
			continue
		}
		for _, op := range v.Operators {
			if !hex32.MatchString(op.ID) || op.Name == "" || !strings.Contains(v.Name, op.Name) {
				t.Errorf("vertex %q: operator %+v", v.Name, op)
			}
			uids = append(uids, op.UID)
		}
	}
	if got := strings.Join(uids, ","); got != "gen-source,count-per-key,sink" {
		t.Errorf("operator uids across the vertices: %s, want gen-source,count-per-key,sink", got)
	}
}

func (s *suite) checkpointStats(t *testing.T) {
	st := s.waitCompleted(t, s.jobID, 2)
	r := s.raw(t, http.MethodGet, "/jobs/"+s.jobID+"/checkpoints", nil)
	s.expect(t, r, http.StatusOK, "GET /jobs/:jobid/checkpoints")
	s.shape(t, "checkpoints", r.body)
	var raw flinkrest.CheckpointingStatisticsDTO
	r.json(t, &raw)
	for _, h := range raw.History {
		if want := flinkrest.ClassName(cluster.CheckpointStatus(h.Status)); h.ClassName != want {
			t.Errorf("history checkpoint %d: className %q for status %s, want %q", h.ID, h.ClassName, h.Status, want)
		}
	}
	lc := st.LatestCompleted
	if lc.Status != cluster.CheckpointCompleted || lc.NumSubtasks != 4 || lc.NumAcked != 4 || lc.ExternalPath == "" ||
		lc.Savepoint || lc.Type != cluster.TypeCheckpoint || lc.TriggerTime.IsZero() || lc.LatestAck.Before(lc.TriggerTime) {
		t.Errorf("latest completed %+v", lc)
	}
	if st.Counts.Total < st.Counts.Completed+st.Counts.Failed || len(st.History) == 0 || len(st.History) > 10 {
		t.Errorf("counts %+v, %d history entries", st.Counts, len(st.History))
	}
	for i := 1; i < len(st.History); i++ {
		if st.History[i].ID >= st.History[i-1].ID {
			t.Errorf("history not newest first: %d before %d", st.History[i-1].ID, st.History[i].ID)
		}
	}
	if st.Summary.EndToEndDuration.Max < st.Summary.EndToEndDuration.Min || st.Summary.StateSize.Max == 0 {
		t.Errorf("summary %+v", st.Summary)
	}
}

func (s *suite) checkpointConfig(t *testing.T) {
	r := s.raw(t, http.MethodGet, "/jobs/"+s.jobID+"/checkpoints/config", nil)
	s.expect(t, r, http.StatusOK, "GET /jobs/:jobid/checkpoints/config")
	s.shape(t, "checkpoints-config", r.body)
	cfg, err := s.c.CheckpointConfig(s.ctx(t, time.Minute), s.jobID)
	if err != nil || cfg.Interval <= 0 || cfg.Interval > 5*time.Second || cfg.Timeout <= 0 || cfg.Mode != "EXACTLY_ONCE" ||
		cfg.Retention != cluster.RetainOnCancellation || cfg.MaxConcurrent < 1 {
		t.Errorf("checkpoint config %+v %v", cfg, err)
	}
}

func (s *suite) checkpointDetails(t *testing.T) {
	st, err := s.c.Checkpoints(s.ctx(t, time.Minute), s.jobID)
	if err != nil {
		t.Fatal(err)
	}
	id := st.LatestCompleted.ID
	r := s.raw(t, http.MethodGet, fmt.Sprintf("/jobs/%s/checkpoints/details/%d", s.jobID, id), nil)
	s.expect(t, r, http.StatusOK, "GET .../checkpoints/details/:checkpointid")
	s.shape(t, "checkpoint-details", r.body)
	cp, err := s.c.CheckpointDetail(s.ctx(t, time.Minute), s.jobID, id)
	if err != nil {
		t.Fatal(err)
	}
	if cp.ID != id || len(cp.Tasks) != len(s.vertices) {
		t.Fatalf("checkpoint %d: %+v", id, cp)
	}
	for _, v := range s.vertices {
		tk, ok := cp.Tasks[v]
		if !ok || tk.NumSubtasks != 2 || tk.NumAcked != 2 || tk.Status != cluster.CheckpointCompleted {
			t.Errorf("vertex %s in checkpoint %d: %+v (present %v)", v, id, tk, ok)
		}
		r := s.raw(t, http.MethodGet, fmt.Sprintf("/jobs/%s/checkpoints/details/%d/subtasks/%s", s.jobID, id, v), nil)
		s.expect(t, r, http.StatusOK, "GET .../details/:checkpointid/subtasks/:vertexid")
		s.shape(t, "checkpoint-subtasks", r.body)
		vc, err := s.c.CheckpointSubtasks(s.ctx(t, time.Minute), s.jobID, id, v)
		if err != nil {
			t.Fatal(err)
		}
		if len(vc.Subtasks) != 2 {
			t.Fatalf("subtasks %+v", vc.Subtasks)
		}
		for i, sub := range vc.Subtasks {
			if sub.Index != i || !sub.Acknowledged || sub.AckTime.IsZero() || sub.EndToEnd < 0 {
				t.Errorf("vertex %s subtask %d: %+v", v, i, sub)
			}
		}
		if vc.Summary.EndToEnd.Max < vc.Summary.EndToEnd.Min {
			t.Errorf("vertex %s summary %+v", v, vc.Summary)
		}
	}
}

func (s *suite) errors(t *testing.T) {
	zero := "00000000000000000000000000000000"
	unknownTrigger := "ffffffffffffffffffffffffffffffff"
	j := "/jobs/" + s.jobID
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{http.MethodGet, "/jobs/" + zero, nil, http.StatusNotFound},
		{http.MethodGet, "/jobs/" + zero + "/checkpoints", nil, http.StatusNotFound},
		{http.MethodPatch, "/jobs/" + zero + "?mode=cancel", nil, http.StatusNotFound},
		{http.MethodGet, "/jobs/not-a-job-id", nil, http.StatusBadRequest},
		{http.MethodGet, j + "/checkpoints/details/999999999", nil, http.StatusNotFound},
		{http.MethodGet, j + "/checkpoints/" + unknownTrigger, nil, http.StatusNotFound},
		{http.MethodGet, j + "/savepoints/" + unknownTrigger, nil, http.StatusNotFound},
		{http.MethodPost, j + "/checkpoints", map[string]any{"checkpointType": "BOGUS"}, http.StatusBadRequest},
		{http.MethodPost, j + "/savepoints", map[string]any{"target-directory": s.tg.Dir, "formatType": "BOGUS"}, http.StatusBadRequest},
		{http.MethodGet, "/no-such-endpoint", nil, http.StatusNotFound},
	} {
		r := s.raw(t, tc.method, tc.path, tc.body)
		if r.status != tc.status {
			t.Errorf("%s %s: HTTP %d, want %d: %s", tc.method, tc.path, r.status, tc.status, abbreviate(string(r.body)))
			continue
		}
		var e flinkrest.ErrorsDTO
		if err := json.Unmarshal(r.body, &e); err != nil || len(e.Errors) == 0 || e.Errors[0] == "" {
			t.Errorf("%s %s: error body %s, want {\"errors\": [\"...\"]}", tc.method, tc.path, abbreviate(string(r.body)))
		}
		s.shape(t, "error", r.body)
	}
	// The client turns them into error kinds naming the endpoint.
	_, err := s.c.Job(s.ctx(t, time.Minute), zero)
	if !errors.Is(err, cluster.ErrNotFound) || !strings.Contains(err.Error(), "/jobs/"+zero) || strings.Contains(err.Error(), "\tat ") {
		t.Errorf("client error for an unknown job: %v", err)
	}
}

// pollRaw polls an async operation's GET until COMPLETED, checking the
// in-progress and completed shapes.
func (s *suite) pollRaw(t *testing.T, p, shape string) response {
	t.Helper()
	var last response
	waitFor(t, 120*time.Second, "operation "+p, func() (bool, error) {
		last = s.raw(t, http.MethodGet, p, nil)
		if last.status != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d: %s", p, last.status, abbreviate(string(last.body)))
		}
		var a flinkrest.AsyncStatusDTO
		last.json(t, &a)
		switch a.Status.ID {
		case "IN_PROGRESS":
			return false, nil
		case "COMPLETED":
			return true, nil
		}
		t.Fatalf("GET %s: status.id %q", p, a.Status.ID)
		return false, nil
	})
	s.shape(t, shape, last.body)
	return last
}

func (s *suite) trigger(t *testing.T, p string, body any, status int, shape, what string) string {
	t.Helper()
	r := s.raw(t, http.MethodPost, p, body)
	s.expect(t, r, status, what)
	s.shape(t, shape, r.body)
	var tr flinkrest.TriggerResponseDTO
	r.json(t, &tr)
	if !hex32.MatchString(tr.RequestID) {
		t.Fatalf("%s: request-id %q", what, tr.RequestID)
	}
	return tr.RequestID
}

func (s *suite) manualCheckpoint(t *testing.T) {
	before, err := s.c.Checkpoints(s.ctx(t, time.Minute), s.jobID)
	if err != nil {
		t.Fatal(err)
	}
	j := "/jobs/" + s.jobID
	for _, kind := range []string{"CONFIGURED", "FULL"} {
		tid := s.trigger(t, j+"/checkpoints", map[string]any{"checkpointType": kind}, http.StatusAccepted,
			"checkpoint-trigger", "POST /jobs/:jobid/checkpoints "+kind)
		r := s.pollRaw(t, j+"/checkpoints/"+tid, "checkpoint-poll-completed")
		var a flinkrest.AsyncStatusDTO
		r.json(t, &a)
		var op flinkrest.CheckpointOperationDTO
		json.Unmarshal(a.Operation, &op)
		if op.FailureCause != nil || op.CheckpointID == nil || *op.CheckpointID <= before.LatestCompleted.ID {
			t.Errorf("%s checkpoint: operation %s (latest before: %d)", kind, a.Operation, before.LatestCompleted.ID)
		}
	}
	// Idempotent: the same triggerId twice is one operation with that id.
	const tid = "0123456789abcdef0123456789abcdef"
	for i := 0; i < 2; i++ {
		got := s.trigger(t, j+"/checkpoints", map[string]any{"checkpointType": "CONFIGURED", "triggerId": tid},
			http.StatusAccepted, "checkpoint-trigger", "POST /jobs/:jobid/checkpoints with triggerId")
		if got != tid {
			t.Errorf("request-id %s, want the triggerId %s", got, tid)
		}
	}
	op, err := cluster.Wait(s.ctx(t, 2*time.Minute), s.c, cluster.Trigger{Kind: cluster.CheckpointTrigger, JobID: s.jobID, ID: tid})
	if err != nil || op.CheckpointID <= before.LatestCompleted.ID {
		t.Errorf("client wait: %+v %v", op, err)
	}
}

func localPath(uri string) string {
	switch {
	case strings.HasPrefix(uri, "file://"):
		return strings.TrimPrefix(uri, "file://")
	case strings.HasPrefix(uri, "file:"):
		return strings.TrimPrefix(uri, "file:")
	}
	return uri
}

var savepointName = regexp.MustCompile(`^savepoint-[0-9a-f]{6}-[0-9a-f]{12}$`)

func (s *suite) savepoints(t *testing.T) {
	j := "/jobs/" + s.jobID
	// No target directory and no default: 400 naming the missing setting.
	r := s.raw(t, http.MethodPost, j+"/savepoints", map[string]any{"cancel-job": false})
	s.expect(t, r, http.StatusBadRequest, "POST /jobs/:jobid/savepoints without target-directory")
	if !strings.Contains(string(r.body), "target-directory") {
		t.Errorf("error should name target-directory: %s", r.body)
	}
	for _, format := range []string{"CANONICAL", "NATIVE"} {
		dir := filepath.Join(s.tg.Dir, strings.ToLower(format))
		tid := s.trigger(t, j+"/savepoints", map[string]any{"target-directory": dir, "cancel-job": false, "formatType": format},
			http.StatusAccepted, "savepoint-trigger", "POST /jobs/:jobid/savepoints "+format)
		r := s.pollRaw(t, j+"/savepoints/"+tid, "savepoint-poll-completed")
		var a flinkrest.AsyncStatusDTO
		r.json(t, &a)
		var op flinkrest.SavepointOperationDTO
		json.Unmarshal(a.Operation, &op)
		if op.FailureCause != nil || op.Location == "" {
			t.Fatalf("%s savepoint: %s", format, a.Operation)
		}
		loc := localPath(op.Location)
		if !savepointName.MatchString(filepath.Base(loc)) || !strings.HasPrefix(filepath.Base(loc), "savepoint-"+s.jobID[:6]+"-") ||
			filepath.Dir(loc) != dir {
			t.Errorf("savepoint location %s: want %s/savepoint-%s-<12 hex>", op.Location, dir, s.jobID[:6])
		}
		if _, err := os.Stat(filepath.Join(loc, "_metadata")); err != nil {
			t.Errorf("savepoint %s: %v", loc, err)
		}
		waitFor(t, 30*time.Second, "latest.savepoint "+format, func() (bool, error) {
			st, err := s.c.Checkpoints(context.Background(), s.jobID)
			if err != nil || st.LatestSavepoint == nil {
				return false, err
			}
			sp := st.LatestSavepoint
			ok := sp.Savepoint && sp.SavepointFormat == format && sp.Type == cluster.TypeSavepoint &&
				localPath(sp.ExternalPath) == loc
			return ok, fmt.Errorf("latest savepoint %+v", sp)
		})
		if format == "CANONICAL" {
			s.canonical = op.Location
		}
	}
}

func (s *suite) dispose(t *testing.T) {
	// A path that is no savepoint: the disposal completes with a failure cause.
	missing := filepath.Join(s.tg.Dir, "no-such-savepoint")
	tid := s.trigger(t, "/savepoint-disposal", map[string]any{"savepoint-path": missing}, http.StatusOK,
		"disposal-trigger", "POST /savepoint-disposal")
	r := s.pollRaw(t, "/savepoint-disposal/"+tid, "disposal-poll-failed")
	var a flinkrest.AsyncStatusDTO
	r.json(t, &a)
	var op flinkrest.DisposalOperationDTO
	json.Unmarshal(a.Operation, &op)
	if op.FailureCause == nil || op.FailureCause.Class == "" || !strings.Contains(op.FailureCause.StackTrace, "no-such-savepoint") {
		t.Errorf("disposing %s: operation %s, want a failure-cause naming the path", missing, a.Operation)
	}
	if s.canonical == "" {
		t.Skipf("NOT SUPPORTED by %s: no savepoint to dispose (savepoints unsupported)", s.tg.Name)
	}
	tid = s.trigger(t, "/savepoint-disposal", map[string]any{"savepoint-path": s.canonical}, http.StatusOK,
		"disposal-trigger", "POST /savepoint-disposal")
	r = s.pollRaw(t, "/savepoint-disposal/"+tid, "disposal-poll-completed")
	r.json(t, &a)
	op = flinkrest.DisposalOperationDTO{}
	json.Unmarshal(a.Operation, &op)
	if op.FailureCause != nil {
		t.Fatalf("disposing %s: %s", s.canonical, a.Operation)
	}
	if _, err := os.Stat(filepath.Join(localPath(s.canonical), "_metadata")); !os.IsNotExist(err) {
		t.Errorf("disposed savepoint %s still has _metadata (%v)", s.canonical, err)
	}
}

func (s *suite) stop(t *testing.T) {
	dir := filepath.Join(s.tg.Dir, "stop")
	j := "/jobs/" + s.jobID
	r := s.raw(t, http.MethodPost, j+"/stop", map[string]any{"targetDirectory": dir, "drain": false})
	if r.status == http.StatusNotImplemented {
		// Without stop-with-savepoint the job is cancelled instead and the
		// resume step restores its retained checkpoint.
		s.cancelFirstJob(t)
		t.Skipf("NOT SUPPORTED by %s: stop with savepoint: %s", s.tg.Name, r.body)
	}
	s.expect(t, r, http.StatusAccepted, "POST /jobs/:jobid/stop")
	s.shape(t, "savepoint-trigger", r.body)
	var tr flinkrest.TriggerResponseDTO
	r.json(t, &tr)
	r = s.pollRaw(t, j+"/savepoints/"+tr.RequestID, "savepoint-poll-completed")
	var a flinkrest.AsyncStatusDTO
	r.json(t, &a)
	var op flinkrest.SavepointOperationDTO
	json.Unmarshal(a.Operation, &op)
	if op.FailureCause != nil || filepath.Dir(localPath(op.Location)) != dir {
		t.Fatalf("stop: %s", a.Operation)
	}
	s.waitState(t, s.jobID, cluster.JobFinished)
	var st *cluster.CheckpointStats
	waitFor(t, 30*time.Second, "the stop savepoint in the statistics", func() (bool, error) {
		var err error
		st, err = s.c.Checkpoints(context.Background(), s.jobID)
		return err == nil && st.LatestSavepoint != nil && st.LatestSavepoint.Type == cluster.TypeSyncSavepoint, err
	})
	s.restoreFrom, s.restoreFromID = op.Location, st.LatestSavepoint.ID
	// Cancelling a finished job is a conflict. Flink's dispatcher can
	// still accept a cancel (202) for a moment after the job's details say
	// FINISHED (its job master is still shutting down): ask again then.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r = s.raw(t, http.MethodPatch, j+"?mode=cancel", nil)
		if r.status != http.StatusAccepted || time.Now().After(deadline) {
			break
		}
	}
	if r.status != http.StatusConflict {
		t.Errorf("cancel of a FINISHED job: HTTP %d, want 409: %s", r.status, abbreviate(string(r.body)))
	}
}

// cancelFirstJob cancels the first job and remembers its retained
// checkpoint for the resume step.
func (s *suite) cancelFirstJob(t *testing.T) {
	t.Helper()
	if err := s.c.Cancel(s.ctx(t, time.Minute), s.jobID); err != nil {
		t.Fatal(err)
	}
	s.waitState(t, s.jobID, cluster.JobCanceled)
	st, err := s.c.Checkpoints(s.ctx(t, time.Minute), s.jobID)
	if err != nil || st.LatestCompleted == nil {
		t.Fatalf("after cancel: %+v %v", st, err)
	}
	s.restoreFrom, s.restoreFromID = st.LatestCompleted.ExternalPath, st.LatestCompleted.ID
}

func (s *suite) resumeAndCancel(t *testing.T) {
	if s.restoreFrom == "" {
		t.Fatal("nothing to resume from: neither stop nor cancel ran")
	}
	run := s.run
	run.SavepointPath, run.AllowNonRestoredState = s.restoreFrom, true
	id := s.runJob(t, run)
	if id == s.jobID {
		t.Fatal("a resumed job has a new job ID")
	}
	s.waitRunning(t, id)
	st := s.waitCompleted(t, id, 1)
	if st.LatestRestored == nil || st.LatestRestored.ID != s.restoreFromID || st.Counts.Restored != 1 ||
		st.LatestCompleted.ID <= s.restoreFromID {
		t.Errorf("resumed from %s (checkpoint %d): restored %+v, latest %+v, counts %+v", s.restoreFrom, s.restoreFromID,
			st.LatestRestored, st.LatestCompleted, st.Counts)
	}
	r := s.raw(t, http.MethodPatch, "/jobs/"+id+"?mode=cancel", nil)
	s.expect(t, r, http.StatusAccepted, "PATCH /jobs/:jobid?mode=cancel")
	s.waitState(t, id, cluster.JobCanceled)
	// Cancelling a cancelled job succeeds again (a FINISHED one is a
	// conflict, checked in StopWithSavepoint).
	r = s.raw(t, http.MethodPatch, "/jobs/"+id+"?mode=cancel", nil)
	s.expect(t, r, http.StatusAccepted, "PATCH /jobs/:jobid?mode=cancel of a CANCELED job")
	s.shape(t, "cancel", r.body)
	j, err := s.c.Job(s.ctx(t, time.Minute), id)
	if err != nil || j.End.IsZero() || j.Timestamps[cluster.JobCanceled].IsZero() {
		t.Errorf("cancelled job %+v %v", j, err)
	}
	o, err := s.c.Overview(s.ctx(t, time.Minute))
	if err != nil || o.JobsCancelled < 1 {
		t.Errorf("overview after cancel %+v %v", o, err)
	}
}

// cancelWithSavepoint is Flink's `cancel -s` (POST /jobs/:jobid/savepoints
// with cancel-job: true) on a fresh job: a savepoint that fails leaves the
// job RUNNING; one that completes is written and the job ends CANCELED.
func (s *suite) cancelWithSavepoint(t *testing.T) {
	id := s.runJob(t, s.run)
	s.waitRunning(t, id)
	s.waitCompleted(t, id, 1)
	j := "/jobs/" + id
	// A target directory below a regular file cannot be created.
	blocker := filepath.Join(s.tg.Dir, "cancel-blocker")
	if err := os.MkdirAll(s.tg.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	tid := s.trigger(t, j+"/savepoints", map[string]any{"target-directory": filepath.Join(blocker, "sp"), "cancel-job": true},
		http.StatusAccepted, "savepoint-trigger", "POST /jobs/:jobid/savepoints cancel-job into an unwritable directory")
	r := s.pollRaw(t, j+"/savepoints/"+tid, "savepoint-poll-failed")
	var a flinkrest.AsyncStatusDTO
	r.json(t, &a)
	var op flinkrest.SavepointOperationDTO
	json.Unmarshal(a.Operation, &op)
	if op.FailureCause == nil {
		t.Fatalf("cancel with a savepoint that cannot be written: %s, want a failure-cause", a.Operation)
	}
	// The job is not cancelled when its savepoint failed.
	time.Sleep(500 * time.Millisecond)
	if jb, err := s.c.Job(s.ctx(t, time.Minute), id); err != nil || jb.Status != cluster.JobRunning {
		t.Fatalf("after a failed cancel-with-savepoint the job is %v (%v), want RUNNING", jb, err)
	}

	dir := filepath.Join(s.tg.Dir, "cancel")
	tid = s.trigger(t, j+"/savepoints", map[string]any{"target-directory": dir, "cancel-job": true},
		http.StatusAccepted, "savepoint-trigger", "POST /jobs/:jobid/savepoints cancel-job")
	r = s.pollRaw(t, j+"/savepoints/"+tid, "savepoint-poll-completed")
	r.json(t, &a)
	op = flinkrest.SavepointOperationDTO{}
	json.Unmarshal(a.Operation, &op)
	loc := localPath(op.Location)
	if op.FailureCause != nil || filepath.Dir(loc) != dir || !savepointName.MatchString(filepath.Base(loc)) {
		t.Fatalf("cancel with savepoint: %s, want a savepoint under %s", a.Operation, dir)
	}
	if _, err := os.Stat(filepath.Join(loc, "_metadata")); err != nil {
		t.Errorf("savepoint of cancel-job: %v", err)
	}
	s.waitState(t, id, cluster.JobCanceled)
}

func (s *suite) exceptions(t *testing.T) {
	r := s.raw(t, http.MethodGet, "/jobs/"+s.jobID+"/exceptions", nil)
	s.expect(t, r, http.StatusOK, "GET /jobs/:jobid/exceptions")
	s.shape(t, "exceptions", r.body)
	if _, err := s.c.Exceptions(s.ctx(t, time.Minute), s.jobID); err != nil {
		t.Error(err)
	}
}
