// Package restserver serves Flink's REST API (the JobManager's dispatcher
// endpoints an operator uses) in front of any cluster.Cluster, with Flink's
// paths, JSON shapes (cluster/flinkrest), status codes and asynchronous
// trigger semantics. `ckpt serve` wraps the embedded engine with it, so
// the Flink CLI's REST calls, ckpt's own CLI and TUI, and scripts written
// for Flink all reach an embedded engine the way they reach a JobManager.
//
// Served (with or without the /v1 prefix):
//
//	GET    /overview, /config, /jobmanager/config
//	GET    /jobs, /jobs/overview, /jobs/:jobid, /jobs/:jobid/exceptions
//	PATCH  /jobs/:jobid?mode=cancel
//	GET    /jobs/:jobid/checkpoints, .../checkpoints/config,
//	       .../checkpoints/details/:checkpointid,
//	       .../checkpoints/details/:checkpointid/subtasks/:vertexid
//	POST   /jobs/:jobid/checkpoints       GET /jobs/:jobid/checkpoints/:triggerid
//	POST   /jobs/:jobid/savepoints        GET /jobs/:jobid/savepoints/:triggerid
//	POST   /jobs/:jobid/stop              (polled as a savepoint)
//	POST   /savepoint-disposal            GET /savepoint-disposal/:triggerid
//	POST   /jars/upload (multipart, part "jarfile")
//	GET    /jars   DELETE /jars/:jarid   POST /jars/:jarid/run
package restserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
)

// Options tune the server.
type Options struct {
	// MaxUpload bounds a /jars/upload body (default 64 MB).
	MaxUpload int64
	// Log, when set, receives one line per request.
	Log func(format string, a ...any)
}

// Server is an http.Handler serving Flink's REST API over a cluster.
type Server struct {
	c    cluster.Cluster
	opts Options
	mux  *http.ServeMux
}

// New returns the REST API of c.
func New(c cluster.Cluster, opts Options) *Server {
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = 64 << 20
	}
	s := &Server{c: c, opts: opts, mux: http.NewServeMux()}
	s.routes()
	return s
}

func (s *Server) routes() {
	h := func(pattern string, f func(w http.ResponseWriter, r *http.Request) (int, any, error)) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			code, body, err := f(w, r)
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, code, body)
		})
	}
	h("GET /overview", s.overview)
	h("GET /config", s.config)
	h("GET /jobmanager/config", s.jmConfig)
	h("GET /jobs", s.jobIDs)
	h("GET /jobs/overview", s.jobsOverview)
	h("GET /jobs/{jobid}", jobView(s.c.Job, flinkrest.EncodeJob))
	h("PATCH /jobs/{jobid}", s.cancel)
	h("GET /jobs/{jobid}/exceptions", jobView(s.c.Exceptions, flinkrest.EncodeExceptions))
	h("GET /jobs/{jobid}/checkpoints", jobView(s.c.Checkpoints, flinkrest.EncodeCheckpointStats))
	h("POST /jobs/{jobid}/checkpoints", s.triggerCheckpoint)
	h("GET /jobs/{jobid}/checkpoints/config", jobView(s.c.CheckpointConfig, flinkrest.EncodeCheckpointConfig))
	h("GET /jobs/{jobid}/checkpoints/details/{checkpointid}", s.checkpointDetail)
	h("GET /jobs/{jobid}/checkpoints/details/{checkpointid}/subtasks/{vertexid}", s.checkpointSubtasks)
	h("GET /jobs/{jobid}/checkpoints/{triggerid}", s.pollOf(cluster.CheckpointTrigger))
	h("POST /jobs/{jobid}/savepoints", s.triggerSavepoint)
	h("GET /jobs/{jobid}/savepoints/{triggerid}", s.pollOf(cluster.SavepointTrigger))
	h("POST /jobs/{jobid}/stop", s.stop)
	h("POST /savepoint-disposal", s.dispose)
	h("GET /savepoint-disposal/{triggerid}", s.pollOf(cluster.DisposalTrigger))
	h("POST /jars/upload", s.upload)
	h("GET /jars", s.jars)
	h("DELETE /jars/{jarid}", s.deleteJar)
	h("POST /jars/{jarid}/run", s.runJar)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A path served for another method is Flink's 405 with an errors
		// body, not a 404.
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := s.mux.Handler(probe); pattern != "/" && m != r.Method {
				writeJSON(w, http.StatusMethodNotAllowed, flinkrest.ErrorsDTO{Errors: []string{
					fmt.Sprintf("Method %s is not allowed for %s", r.Method, r.URL.Path)}})
				return
			}
		}
		writeJSON(w, http.StatusNotFound, flinkrest.ErrorsDTO{Errors: []string{"Not found: " + r.URL.Path}})
	})
}

// ServeHTTP strips the optional /v1 prefix and dispatches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if p := r.URL.Path; p == "/v1" || strings.HasPrefix(p, "/v1/") {
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(p, "/v1")
		r2.URL.RawPath = ""
		r = r2
	}
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	if s.opts.Log != nil {
		s.opts.Log("%s %s %d %s", r.Method, r.URL.RequestURI(), rec.code, time.Since(start).Round(time.Millisecond))
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, code int, body any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<br/>" in plan descriptions, as Flink writes it
	err := enc.Encode(body)
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(flinkrest.ErrorsDTO{Errors: []string{"Internal server error.", err.Error()}})
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	w.Write(b)
}

// statusOf maps error kinds to Flink's status codes.
func statusOf(err error) int {
	switch {
	case errors.Is(err, cluster.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, cluster.ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, cluster.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, cluster.ErrNotSupported):
		return http.StatusNotImplemented
	case errors.Is(err, cluster.ErrUnreachable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, err error) {
	msg := err.Error()
	var ce *cluster.Error
	if errors.As(err, &ce) && ce.Message != "" && ce.Status == 0 {
		msg = ce.Message // the adapter's own words, without an Op prefix
	}
	code := statusOf(err)
	errs := []string{msg}
	if code == http.StatusInternalServerError {
		errs = []string{"Internal server error.", msg}
	}
	writeJSON(w, code, flinkrest.ErrorsDTO{Errors: errs})
}

func badRequest(format string, a ...any) error {
	return cluster.Errorf(cluster.ErrBadRequest, format, a...)
}

// Path parameters are checked as Flink checks them, so a malformed id is a
// 400 whatever the adapter.
func hexParam(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !cluster.IsJobID(v) {
		return "", badRequest("Bad request, could not parse parameters: Cannot resolve path parameter (%s) from value %q.", name, v)
	}
	return strings.ToLower(v), nil
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) (int, any, error) {
	o, err := s.c.Overview(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, flinkrest.EncodeOverview(o), nil
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) (int, any, error) {
	i, err := s.c.Info(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, flinkrest.EncodeInfo(i), nil
}

func (s *Server) jmConfig(w http.ResponseWriter, r *http.Request) (int, any, error) {
	m, err := s.c.Configuration(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, flinkrest.EncodeConfiguration(m), nil
}

func (s *Server) jobIDs(w http.ResponseWriter, r *http.Request) (int, any, error) {
	jobs, err := s.c.Jobs(r.Context())
	if err != nil {
		return 0, nil, err
	}
	d := flinkrest.JobIDsDTO{Jobs: []flinkrest.JobIDStatusDTO{}}
	for _, j := range jobs {
		d.Jobs = append(d.Jobs, flinkrest.JobIDStatusDTO{ID: j.ID, Status: string(j.Status)})
	}
	return http.StatusOK, d, nil
}

func (s *Server) jobsOverview(w http.ResponseWriter, r *http.Request) (int, any, error) {
	jobs, err := s.c.Jobs(r.Context())
	if err != nil {
		return 0, nil, err
	}
	d := flinkrest.JobsOverviewDTO{Jobs: []flinkrest.JobOverviewDTO{}}
	for i := range jobs {
		d.Jobs = append(d.Jobs, flinkrest.EncodeJobOverview(&jobs[i]))
	}
	return http.StatusOK, d, nil
}

// jobView serves one job's facts: the job ID from the path, get asks the
// cluster, encode puts the answer in Flink's shape.
func jobView[T, D any](get func(context.Context, string) (T, error), encode func(T) D) func(http.ResponseWriter, *http.Request) (int, any, error) {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		id, err := hexParam(r, "jobid")
		if err != nil {
			return 0, nil, err
		}
		v, err := get(r.Context(), id)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, encode(v), nil
	}
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := hexParam(r, "jobid")
	if err != nil {
		return 0, nil, err
	}
	switch mode := r.URL.Query().Get("mode"); strings.ToLower(mode) {
	case "", "cancel":
	case "stop":
		return 0, nil, badRequest("mode=stop is not supported: stop with a savepoint through POST /jobs/%s/stop", id)
	default:
		return 0, nil, badRequest("Bad request, could not parse parameters: Cannot resolve query parameter (mode) from value %q.", mode)
	}
	if err := s.c.Cancel(r.Context(), id); err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, struct{}{}, nil
}

func checkpointParam(r *http.Request) (int64, error) {
	v := r.PathValue("checkpointid")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("Bad request, could not parse parameters: Cannot resolve path parameter (checkpointid) from value %q.", v)
	}
	return n, nil
}

func (s *Server) checkpointDetail(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := hexParam(r, "jobid")
	if err != nil {
		return 0, nil, err
	}
	cp, err := checkpointParam(r)
	if err != nil {
		return 0, nil, err
	}
	c, err := s.c.CheckpointDetail(r.Context(), id, cp)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, flinkrest.EncodeCheckpoint(c), nil
}

func (s *Server) checkpointSubtasks(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := hexParam(r, "jobid")
	if err != nil {
		return 0, nil, err
	}
	cp, err := checkpointParam(r)
	if err != nil {
		return 0, nil, err
	}
	vid, err := hexParam(r, "vertexid")
	if err != nil {
		return 0, nil, err
	}
	v, err := s.c.CheckpointSubtasks(r.Context(), id, cp, vid)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, flinkrest.EncodeVertexCheckpoint(v), nil
}

// decodeBody reads an optional JSON request body into v; name is Flink's
// request type, for the error.
func decodeBody(r *http.Request, v any, name string) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return badRequest("reading the request body: %v", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("Request did not match expected format %s: %v", name, err)
	}
	return nil
}

func triggerIDOf(v string) error {
	if v != "" && !cluster.IsJobID(v) {
		return badRequest("triggerId %q is not 32 hex digits", v)
	}
	return nil
}

func format(v, name string) (cluster.SavepointFormat, error) {
	switch f := cluster.SavepointFormat(strings.ToUpper(v)); f {
	case "", cluster.Canonical, cluster.Native:
		return f, nil
	}
	return "", badRequest("Request did not match expected format %s: formatType %q is not CANONICAL or NATIVE", name, v)
}

func (s *Server) triggerCheckpoint(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := hexParam(r, "jobid")
	if err != nil {
		return 0, nil, err
	}
	var d flinkrest.CheckpointTriggerDTO
	if err := decodeBody(r, &d, "CheckpointTriggerRequestBody"); err != nil {
		return 0, nil, err
	}
	kind := cluster.CheckpointType(strings.ToUpper(d.CheckpointType))
	switch kind {
	case "", cluster.CheckpointConfigured, cluster.CheckpointFull, cluster.CheckpointIncremental:
	default:
		return 0, nil, badRequest("Request did not match expected format CheckpointTriggerRequestBody: checkpointType %q is not CONFIGURED, FULL or INCREMENTAL", d.CheckpointType)
	}
	if err := triggerIDOf(d.TriggerID); err != nil {
		return 0, nil, err
	}
	t, err := s.c.TriggerCheckpoint(r.Context(), id, cluster.CheckpointRequest{Type: kind, TriggerID: d.TriggerID})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, flinkrest.TriggerResponseDTO{RequestID: t.ID}, nil
}

func (s *Server) triggerSavepoint(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := hexParam(r, "jobid")
	if err != nil {
		return 0, nil, err
	}
	var d flinkrest.SavepointTriggerDTO
	if err := decodeBody(r, &d, "SavepointTriggerRequestBody"); err != nil {
		return 0, nil, err
	}
	f, err := format(d.FormatType, "SavepointTriggerRequestBody")
	if err != nil {
		return 0, nil, err
	}
	if err := triggerIDOf(d.TriggerID); err != nil {
		return 0, nil, err
	}
	t, err := s.c.TriggerSavepoint(r.Context(), id, cluster.SavepointRequest{TargetDir: d.TargetDirectory, Format: f,
		CancelJob: d.CancelJob, TriggerID: d.TriggerID})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, flinkrest.TriggerResponseDTO{RequestID: t.ID}, nil
}

func (s *Server) stop(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := hexParam(r, "jobid")
	if err != nil {
		return 0, nil, err
	}
	var d flinkrest.StopDTO
	if err := decodeBody(r, &d, "StopWithSavepointRequestBody"); err != nil {
		return 0, nil, err
	}
	f, err := format(d.FormatType, "StopWithSavepointRequestBody")
	if err != nil {
		return 0, nil, err
	}
	if err := triggerIDOf(d.TriggerID); err != nil {
		return 0, nil, err
	}
	t, err := s.c.StopWithSavepoint(r.Context(), id, cluster.StopRequest{TargetDir: d.TargetDirectory, Drain: d.Drain,
		Format: f, TriggerID: d.TriggerID})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, flinkrest.TriggerResponseDTO{RequestID: t.ID}, nil
}

func (s *Server) dispose(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var d flinkrest.DisposalDTO
	if err := decodeBody(r, &d, "SavepointDisposalRequest"); err != nil {
		return 0, nil, err
	}
	if d.SavepointPath == "" {
		return 0, nil, badRequest("Request did not match expected format SavepointDisposalRequest: savepoint-path is missing")
	}
	t, err := s.c.DisposeSavepoint(r.Context(), d.SavepointPath)
	if err != nil {
		return 0, nil, err
	}
	// 200, not 202: Flink answers disposals so.
	return http.StatusOK, flinkrest.TriggerResponseDTO{RequestID: t.ID}, nil
}

// pollOf answers GET .../:triggerid for one kind of operation.
func (s *Server) pollOf(kind cluster.TriggerKind) func(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		t := cluster.Trigger{Kind: kind}
		if kind != cluster.DisposalTrigger {
			id, err := hexParam(r, "jobid")
			if err != nil {
				return 0, nil, err
			}
			t.JobID = id
		}
		tid, err := hexParam(r, "triggerid")
		if err != nil {
			return 0, nil, err
		}
		t.ID = tid
		op, err := s.c.Poll(r.Context(), t)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, EncodeOperation(kind, op), nil
	}
}

// asyncStatus is the answer to a poll.
type asyncStatus struct {
	Status struct {
		ID string `json:"id"`
	} `json:"status"`
	Operation any `json:"operation"`
}

// EncodeOperation is the poll answer for op, in the shape of its kind:
// {"location"} or {"failure-cause"} for savepoints, {"checkpointId"} or
// {"failureCause"} for checkpoints, {} or {"failure-cause"} for disposals;
// "operation": null while in progress.
func EncodeOperation(kind cluster.TriggerKind, op *cluster.Operation) any {
	var a asyncStatus
	a.Status.ID = string(op.Status)
	if op.Status != cluster.Completed {
		a.Status.ID = string(cluster.InProgress)
		return a
	}
	switch kind {
	case cluster.CheckpointTrigger:
		o := flinkrest.CheckpointOperationDTO{FailureCause: flinkrest.EncodeFailure(op.Failure)}
		if op.Failure == nil {
			o.CheckpointID = &op.CheckpointID
		}
		a.Operation = o
	case cluster.SavepointTrigger:
		a.Operation = flinkrest.SavepointOperationDTO{Location: op.Location, FailureCause: flinkrest.EncodeFailure(op.Failure)}
	default:
		a.Operation = flinkrest.DisposalOperationDTO{FailureCause: flinkrest.EncodeFailure(op.Failure)}
	}
	return a
}

// upload takes the multipart part "jarfile" (Flink's name; ckpt's engine
// takes a job spec there).
func (s *Server) upload(w http.ResponseWriter, r *http.Request) (int, any, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return 0, nil, badRequest("Request is not a multipart/form-data upload (send the file as the part \"jarfile\")")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxUpload)
	mr, err := r.MultipartReader()
	if err != nil {
		return 0, nil, badRequest("reading the upload: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return 0, nil, badRequest("Exactly 1 file must be sent, received 0 (the part must be named \"jarfile\").")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return 0, nil, cluster.Errorf(cluster.ErrBadRequest, "upload larger than %d bytes", s.opts.MaxUpload)
			}
			return 0, nil, badRequest("reading the upload: %v", err)
		}
		if part.FormName() != "jarfile" || part.FileName() == "" {
			part.Close()
			continue
		}
		a, err := s.c.UploadArtifact(r.Context(), part.FileName(), part)
		part.Close()
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, flinkrest.JarUploadDTO{Filename: "/ckpt-web-upload/" + a.ID, Status: "success"}, nil
	}
}

func (s *Server) jars(w http.ResponseWriter, r *http.Request) (int, any, error) {
	as, err := s.c.Artifacts(r.Context())
	if err != nil {
		return 0, nil, err
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	d := flinkrest.JarListDTO{Address: scheme + "://" + r.Host, Files: []flinkrest.JarFileDTO{}}
	for i := range as {
		d.Files = append(d.Files, flinkrest.EncodeArtifact(&as[i]))
	}
	return http.StatusOK, d, nil
}

func (s *Server) deleteJar(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if err := s.c.DeleteArtifact(r.Context(), r.PathValue("jarid")); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, struct{}{}, nil
}

// runJar takes the JSON body (JarRunRequestBody) and, as Flink does, the
// older query parameters for the fields they cover; the body wins.
func (s *Server) runJar(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var d flinkrest.JarRunDTO
	if err := decodeBody(r, &d, "JarRunRequestBody"); err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	req := cluster.RunRequest{EntryClass: d.EntryClass, ProgramArgs: d.ProgramArgsList, JobID: d.JobID,
		SavepointPath: d.SavepointPath, Config: d.FlinkConfiguration}
	if req.EntryClass == "" {
		req.EntryClass = q.Get("entry-class")
	}
	if req.SavepointPath == "" {
		req.SavepointPath = q.Get("savepointPath")
	}
	if d.Parallelism != nil {
		req.Parallelism = *d.Parallelism
	} else if p := q.Get("parallelism"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, nil, badRequest("Cannot resolve query parameter (parallelism) from value %q.", p)
		}
		req.Parallelism = n
	}
	if req.Parallelism < 0 {
		return 0, nil, badRequest("parallelism %d must be positive", req.Parallelism)
	}
	if d.AllowNonRestoredState != nil {
		req.AllowNonRestoredState = *d.AllowNonRestoredState
	} else if v := q.Get("allowNonRestoredState"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return 0, nil, badRequest("Cannot resolve query parameter (allowNonRestoredState) from value %q.", v)
		}
		req.AllowNonRestoredState = b
	}
	// claimMode (2.x) and its deprecated alias restoreMode (1.15–1.20).
	claim, restore := strings.ToUpper(d.ClaimMode), strings.ToUpper(d.RestoreMode)
	if claim != "" && restore != "" && claim != restore {
		return 0, nil, badRequest("claimMode %q and restoreMode %q disagree; send only one", d.ClaimMode, d.RestoreMode)
	}
	req.ClaimMode = claim
	if req.ClaimMode == "" {
		req.ClaimMode = restore
	}
	switch req.ClaimMode {
	case "", cluster.Claim, cluster.NoClaim, cluster.Legacy:
	default:
		return 0, nil, badRequest("Request did not match expected format JarRunRequestBody: claimMode %q is not CLAIM, NO_CLAIM or LEGACY", req.ClaimMode)
	}
	id, err := s.c.RunArtifact(r.Context(), r.PathValue("jarid"), req)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, flinkrest.JarRunResponseDTO{JobID: id}, nil
}
