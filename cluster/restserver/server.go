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
//	GET    /jobs, /jobs/overview, /jobs/:jobid, /jobs/:jobid/exceptions,
//	       /jobs/:jobid/vertices/:vertexid/backpressure
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
//
// Every request first passes the guard (guard.go: Host, Origin, token,
// media type), bodies are bounded, and operations that may block run in
// bounded worker pools (limits.go); paths from clients are resolved and
// reported as paths.go says.
package restserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/storage"
)

// Options tune the server.
type Options struct {
	// MaxUpload bounds a /jars/upload body (default 64 MB); a larger one is a 413.
	MaxUpload int64
	// MaxSpool bounds the bytes of uploads spooled to disk at once (default
	// 4 × MaxUpload): uploads past it wait, then get a 503.
	MaxSpool int64
	// SpoolDir is where uploads are spooled; "" = a directory the server
	// creates under the system's temporary directory and Close removes.
	SpoolDir string
	// MaxBody bounds any other request body (default 1 MB); a larger one is a 413.
	MaxBody int64
	// Token, when set, must come with every request as
	// "Authorization: Bearer <token>"; else it is a 401.
	Token string
	// Hosts are the names (besides loopback names and IP addresses) the
	// server answers to in the Host header; others are a 421, which is what
	// a DNS-rebound name gets.
	Hosts []string
	// SavepointDir resolves relative target directories and savepoint paths
	// ("" = the cluster's execution.checkpointing.savepoint-dir).
	SavepointDir string
	// Workers bounds each kind of operation that may block (job runs,
	// savepoints, disposals) running at once (default 4).
	Workers int
	// QueueWait is how long a request waits for a free worker before a 503
	// (default 2 s).
	QueueWait time.Duration
	// CallTimeout bounds how long a request waits for its operation (a job
	// run) before a 504 (default 2 min).
	CallTimeout time.Duration
	// Log, when set, receives one line per request.
	Log func(format string, a ...any)
}

// Server is an http.Handler serving Flink's REST API over a cluster.
type Server struct {
	c    cluster.Cluster
	opts Options
	mux  *http.ServeMux

	runs, savepoints, disposals, uploads *pool
	closed                               chan struct{}
	closeOnce                            sync.Once

	disposed disposalPaths

	spoolMu      sync.Mutex
	spoolDir     string
	spoolCreated bool
	spooled      map[string]bool // the files spooled and not yet removed
}

// New returns the REST API of c.
func New(c cluster.Cluster, opts Options) *Server {
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = 64 << 20
	}
	if opts.MaxSpool <= 0 {
		opts.MaxSpool = 4 * opts.MaxUpload
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = 1 << 20
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.QueueWait <= 0 {
		opts.QueueWait = 2 * time.Second
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 2 * time.Minute
	}
	s := &Server{c: c, opts: opts, mux: http.NewServeMux(), closed: make(chan struct{}),
		runs: newPool("job run", opts.Workers), savepoints: newPool("savepoint", opts.Workers),
		disposals: newPool("disposal", opts.Workers),
		uploads:   newPool("upload", int(max(1, opts.MaxSpool/opts.MaxUpload))),
		spoolDir:  opts.SpoolDir}
	s.routes()
	return s
}

// Close removes the spool directory the server created and stops watching
// background operations.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	s.spoolMu.Lock()
	defer s.spoolMu.Unlock()
	if s.spoolCreated {
		dir := s.spoolDir
		s.spoolCreated, s.spoolDir = false, s.opts.SpoolDir
		// Only the files the server spooled, then the directory if that
		// emptied it: never a recursive delete, even of its own temp dir.
		for f := range s.spooled {
			os.Remove(f)
		}
		s.spooled = nil
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("upload spool directory %s left in place: %w", dir, err)
		}
	}
	return nil
}

// unspool closes and removes a spooled upload.
func (s *Server) unspool(f *os.File) {
	f.Close()
	os.Remove(f.Name())
	s.spoolMu.Lock()
	delete(s.spooled, f.Name())
	s.spoolMu.Unlock()
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
	h("GET /jobs/{jobid}/vertices/{vertexid}/backpressure", s.backpressure)
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
	if s.guard(rec, r) {
		if !isUpload(r) {
			r.Body = http.MaxBytesReader(rec, r.Body, s.opts.MaxBody)
		}
		s.mux.ServeHTTP(rec, r)
	}
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
	var se *statusError
	if errors.As(err, &se) {
		if se.code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		writeJSON(w, se.code, flinkrest.ErrorsDTO{Errors: []string{scrub(se.msg)}})
		return
	}
	msg := err.Error()
	var ce *cluster.Error
	if errors.As(err, &ce) && ce.Message != "" && ce.Status == 0 {
		msg = ce.Message // the adapter's own words, without an Op prefix
	}
	msg = scrub(msg)
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

func (s *Server) backpressure(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := hexParam(r, "jobid")
	if err != nil {
		return 0, nil, err
	}
	vid, err := hexParam(r, "vertexid")
	if err != nil {
		return 0, nil, err
	}
	b, err := cluster.VertexBackpressure(r.Context(), s.c, id, vid)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, flinkrest.EncodeBackpressure(b), nil
}

// decodeBody reads an optional JSON request body into v; name is Flink's
// request type, for the error.
func decodeBody(r *http.Request, v any, name string) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err, "reading the request body")
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("Request did not match expected format %s: %v", name, err)
	}
	return nil
}

// bodyError is a 413 for a body over its limit (the guard's
// http.MaxBytesReader), else a 400.
func bodyError(err error, doing string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &statusError{code: http.StatusRequestEntityTooLarge,
			msg: fmt.Sprintf("Request body is larger than the limit of %d bytes", mbe.Limit)}
	}
	return badRequest("%s: %v", doing, err)
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
	dir, err := s.resolvePath(r.Context(), d.TargetDirectory, "target-directory")
	if err != nil {
		return 0, nil, err
	}
	t, err := s.background(r, s.savepoints, func(ctx context.Context) (cluster.Trigger, error) {
		return s.c.TriggerSavepoint(ctx, id, cluster.SavepointRequest{TargetDir: dir, Format: f, CancelJob: d.CancelJob, TriggerID: d.TriggerID})
	})
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
	dir, err := s.resolvePath(r.Context(), d.TargetDirectory, "targetDirectory")
	if err != nil {
		return 0, nil, err
	}
	t, err := s.background(r, s.savepoints, func(ctx context.Context) (cluster.Trigger, error) {
		return s.c.StopWithSavepoint(ctx, id, cluster.StopRequest{TargetDir: dir, Drain: d.Drain, Format: f, TriggerID: d.TriggerID})
	})
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
	p, err := s.resolvePath(r.Context(), d.SavepointPath, "savepoint-path")
	if err != nil {
		return 0, nil, err
	}
	t, err := s.background(r, s.disposals, func(ctx context.Context) (cluster.Trigger, error) {
		return s.c.DisposeSavepoint(ctx, p)
	})
	if err != nil {
		return 0, nil, pathError(err, "savepoint-path", p)
	}
	s.disposed.put(t.ID, d.SavepointPath)
	// 200, not 202: Flink answers disposals so.
	return http.StatusOK, flinkrest.TriggerResponseDTO{RequestID: t.ID}, nil
}

// background starts an asynchronous operation in one of p's slots, held
// until the operation completes.
func (s *Server) background(r *http.Request, p *pool, start func(ctx context.Context) (cluster.Trigger, error)) (cluster.Trigger, error) {
	if !p.acquire(r.Context(), s.opts.QueueWait) {
		return cluster.Trigger{}, p.busy()
	}
	t, err := start(r.Context())
	if err != nil {
		p.release()
		return t, err
	}
	s.holdUntilDone(p, t)
	return t, nil
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
		scrubbed := *op
		p := ""
		if kind == cluster.DisposalTrigger {
			p = s.disposed.get(t.ID)
		}
		scrubbed.Failure = scrubFailure(kind, op.Failure, p)
		return http.StatusOK, EncodeOperation(kind, &scrubbed), nil
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
// takes a job spec there). The part is spooled to a file first, so an
// upload holds disk, not memory: at most MaxUpload bytes each and MaxSpool
// bytes for all uploads at once.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) (int, any, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return 0, nil, badRequest("Request is not a multipart/form-data upload (send the file as the part \"jarfile\")")
	}
	if !s.uploads.acquire(r.Context(), s.opts.QueueWait) {
		return 0, nil, s.uploads.busy()
	}
	defer s.uploads.release()
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
			return 0, nil, bodyError(err, "reading the upload")
		}
		if part.FormName() != "jarfile" || part.FileName() == "" {
			part.Close()
			continue
		}
		name := part.FileName()
		f, err := s.spool(part)
		part.Close()
		if err != nil {
			return 0, nil, err
		}
		defer s.unspool(f)
		a, err := s.c.UploadArtifact(r.Context(), name, f)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, flinkrest.JarUploadDTO{Filename: "/ckpt-web-upload/" + a.ID, Status: "success"}, nil
	}
}

// spool copies an upload into a new file of the spool directory, rewound
// for reading; the caller closes and removes it.
func (s *Server) spool(part io.Reader) (*os.File, error) {
	dir, err := s.spoolDirectory()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("spooling the upload: %w", err)
	}
	s.spoolMu.Lock()
	if s.spooled == nil {
		s.spooled = map[string]bool{}
	}
	s.spooled[f.Name()] = true
	s.spoolMu.Unlock()
	_, err = io.Copy(f, part)
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.unspool(f)
		return nil, bodyError(err, "reading the upload")
	}
	return f, nil
}

// spoolDirectory is Options.SpoolDir, or a directory of the server's own
// (0700), created at the first upload and removed by Close.
func (s *Server) spoolDirectory() (string, error) {
	s.spoolMu.Lock()
	defer s.spoolMu.Unlock()
	if s.spoolDir != "" {
		return s.spoolDir, nil
	}
	d, err := os.MkdirTemp("", "ckpt-serve-uploads-")
	if err != nil {
		return "", fmt.Errorf("creating the upload spool directory: %w", err)
	}
	s.spoolDir, s.spoolCreated = d, true
	return d, nil
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
	// The restore path, given here or as a flinkConfiguration key, is the
	// client's: resolved as the savepoint paths are, and errors about it
	// are the same for a missing and an unreadable file.
	field, restore := "savepointPath", req.SavepointPath
	var err error
	if restore, err = s.resolvePath(r.Context(), restore, field); err != nil {
		return 0, nil, err
	}
	req.SavepointPath = restore
	if len(req.Config) > 0 {
		cfg := make(map[string]string, len(req.Config))
		for k, v := range req.Config {
			canon, _ := config.Canonical(k)
			switch canon {
			case config.RestorePath:
				if v, err = s.resolvePath(r.Context(), v, k); err != nil {
					return 0, nil, err
				}
				if restore == "" {
					field, restore = k, v
				}
			case config.SavepointDir, config.CheckpointDir:
				// Where the job writes: a relative one would land in
				// serve's working directory.
				if loc, err := storage.Parse(v); err == nil && loc.Scheme == "" && !filepath.IsAbs(loc.Path) {
					return 0, nil, badRequest("flinkConfiguration %s %q is a relative path: give an absolute path or a URI", k, v)
				}
			}
			cfg[k] = v
		}
		req.Config = cfg
	}
	jar := r.PathValue("jarid")
	id, err := callBounded(s, r, s.runs, func(ctx context.Context) (string, error) {
		return s.c.RunArtifact(ctx, jar, req)
	})
	if err != nil {
		return 0, nil, pathError(err, field, restore)
	}
	return http.StatusOK, flinkrest.JarRunResponseDTO{JobID: id}, nil
}
