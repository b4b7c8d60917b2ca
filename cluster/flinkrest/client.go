package flinkrest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

// DefaultTimeout bounds every REST call that has no earlier deadline: an
// endpoint that accepts the connection and never answers still gives an
// error in bounded time.
const DefaultTimeout = 15 * time.Second

// DefaultDialTimeout bounds connecting to the endpoint.
const DefaultDialTimeout = 3 * time.Second

// Client is a cluster.Cluster over Flink's REST API (a Flink JobManager or
// `ckpt serve`). Safe for concurrent use.
type Client struct {
	base    *url.URL
	http    *http.Client
	timeout time.Duration
	token   string
	user    string
	pass    string
	headers http.Header

	verMu   sync.Mutex
	version string
}

var _ cluster.Cluster = (*Client)(nil)

// Options tune a Client.
type Options struct {
	// Timeout bounds each call (0 = DefaultTimeout).
	Timeout time.Duration
	// DialTimeout bounds connecting (0 = DefaultDialTimeout).
	DialTimeout time.Duration
	// HTTPClient replaces the default transport (its Timeout is ignored;
	// Timeout applies).
	HTTPClient *http.Client
	// Token is sent as "Authorization: Bearer <token>" (what ckpt serve
	// and the proxies in front of Flink take). "" = LookupToken's.
	Token string
	// NoToken sends no token at all.
	NoToken bool
	// TLS configures https targets (custom CA, client certificate,
	// pinned fingerprint); nil = the system roots.
	TLS *tls.Config
	// Username and Password are sent as basic authentication (what a
	// proxy in front of Flink may require); Username "" = none. A token
	// and basic authentication are not sent together.
	Username, Password string
	// Headers are sent with every request (a proxy's routing or API key
	// headers). Authorization is refused here: use Token or Username.
	Headers http.Header
}

// New returns a client for target: "host:port", "host" (port 8081) or an
// http(s):// URL, optionally with a path prefix (a proxy) or /v1.
func New(target string, opts Options) (*Client, error) {
	u, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	c := &Client{base: u, timeout: opts.Timeout, token: opts.Token, user: opts.Username, pass: opts.Password}
	if opts.Username != "" && opts.Token != "" {
		return nil, fmt.Errorf("REST target %s: both a token and basic authentication given; name one", u.Redacted())
	}
	if c.token == "" && c.user == "" && !opts.NoToken {
		c.token = LookupToken(u.Hostname())
	}
	for k := range opts.Headers {
		if strings.EqualFold(k, "Authorization") {
			return nil, fmt.Errorf("REST target %s: an Authorization header is set by the token or basic authentication, not as a custom header", u.Redacted())
		}
	}
	c.headers = opts.Headers.Clone()
	if opts.TLS != nil && u.Scheme != "https" {
		return nil, fmt.Errorf("REST target %s: TLS settings given for a plain http:// target (use https://)", u.Redacted())
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	c.http = opts.HTTPClient
	if c.http == nil {
		dial := opts.DialTimeout
		if dial <= 0 {
			dial = DefaultDialTimeout
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext
		tr.ResponseHeaderTimeout = c.timeout
		if opts.TLS != nil {
			tr.TLSClientConfig = opts.TLS.Clone()
		}
		c.http = &http.Client{Transport: tr}
	}
	return c, nil
}

// ParseTarget turns a -m/--jobmanager value into the REST base URL.
func ParseTarget(target string) (*url.URL, error) {
	t := strings.TrimSpace(target)
	if t == "" {
		return nil, fmt.Errorf("empty REST target: want host:port or http://host:port")
	}
	if !strings.Contains(t, "://") {
		t = "http://" + t
	}
	u, err := url.Parse(t)
	if err != nil {
		return nil, fmt.Errorf("REST target %q: %v", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("REST target %q: scheme %q is not http or https", target, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("REST target %q: no host", target)
	}
	if u.User != nil {
		// A password in the target would be printed with every error
		// naming the URL; credentials come from files or the environment.
		return nil, fmt.Errorf("REST target %s: no user or password in the target; use --rest-user with --rest-password-file or $%s (or a context's auth)", u.Redacted(), PasswordEnv)
	}
	if u.Port() == "" {
		if _, err := strconv.Atoi(u.Host); err == nil || strings.HasSuffix(u.Host, ":") {
			return nil, fmt.Errorf("REST target %q: bad host", target)
		}
		u.Host = net.JoinHostPort(u.Hostname(), "8081")
	} else if p, err := strconv.Atoi(u.Port()); err != nil || p <= 0 || p > 65535 {
		return nil, fmt.Errorf("REST target %q: bad port %q", target, u.Port())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// TokenEnv names the environment variable holding the token to send.
const TokenEnv = "CKPT_TOKEN"

// PasswordEnv names the environment variable holding the password for
// basic authentication (--rest-user); --rest-password-file is the other way.
const PasswordEnv = "CKPT_REST_PASSWORD"

// TokenFileEnv names the environment variable naming the token file.
const TokenFileEnv = "CKPT_TOKEN_FILE"

// TokenFile is where `ckpt serve` keeps its token and ckpt's commands
// find it: $CKPT_TOKEN_FILE, else $XDG_CONFIG_HOME/ckpt/serve-token, else
// ~/.config/ckpt/serve-token.
func TokenFile() (string, error) {
	if f := os.Getenv(TokenFileEnv); f != "" {
		return f, nil
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "ckpt", "serve-token"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for the token file (set %s or XDG_CONFIG_HOME): %w", TokenFileEnv, err)
	}
	return filepath.Join(home, ".config", "ckpt", "serve-token"), nil
}

// LookupToken is the token to send to host: $CKPT_TOKEN; else the token
// file's, when $CKPT_TOKEN_FILE names it or host is this machine (the
// default file belongs to a ckpt serve here, and its token is not sent
// to other servers); else none.
func LookupToken(host string) string {
	if t := strings.TrimSpace(os.Getenv(TokenEnv)); t != "" {
		return t
	}
	if os.Getenv(TokenFileEnv) == "" && !IsLocalHost(host) {
		return ""
	}
	f, err := TokenFile()
	if err != nil {
		return ""
	}
	b, err := readSmall(f, 4096)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// readSmall reads a regular file of at most n bytes.
func readSmall(name string, n int64) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > n {
		return nil, fmt.Errorf("%s: not a token file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// IsLocalHost: host names this machine (a loopback name or address, its
// host name, an address of one of its interfaces).
func IsLocalHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		if ip.IsLoopback() {
			return true
		}
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
				return true
			}
		}
		return false
	}
	name, err := os.Hostname()
	if err != nil {
		return false
	}
	name = strings.ToLower(name)
	short, _, _ := strings.Cut(name, ".")
	return h == name || h == short
}

// URL is the REST base URL.
func (c *Client) URL() string { return c.base.String() }

// ---- the calls ----

// Overview implements cluster.Cluster.
func (c *Client) Overview(ctx context.Context) (*cluster.Overview, error) {
	var d OverviewDTO
	if err := c.do(ctx, http.MethodGet, "/overview", nil, &d); err != nil {
		return nil, err
	}
	c.verMu.Lock()
	c.version = d.FlinkVersion
	c.verMu.Unlock()
	return DecodeOverview(&d), nil
}

// Info implements cluster.Cluster.
func (c *Client) Info(ctx context.Context) (*cluster.Info, error) {
	var d ConfigDTO
	if err := c.do(ctx, http.MethodGet, "/config", nil, &d); err != nil {
		return nil, err
	}
	return DecodeInfo(&d), nil
}

// Configuration implements cluster.Cluster.
func (c *Client) Configuration(ctx context.Context) (map[string]string, error) {
	var d []KeyValueDTO
	if err := c.do(ctx, http.MethodGet, "/jobmanager/config", nil, &d); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(d))
	for _, kv := range d {
		m[kv.Key] = kv.Value
	}
	return m, nil
}

// Jobs implements cluster.Cluster.
func (c *Client) Jobs(ctx context.Context) ([]cluster.JobSummary, error) {
	var d JobsOverviewDTO
	if err := c.do(ctx, http.MethodGet, "/jobs/overview", nil, &d); err != nil {
		return nil, err
	}
	out := make([]cluster.JobSummary, 0, len(d.Jobs))
	for i := range d.Jobs {
		out = append(out, DecodeJobOverview(&d.Jobs[i]))
	}
	return out, nil
}

func jobPath(jobID string, rest ...string) string {
	p := "/jobs/" + url.PathEscape(jobID)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// Job implements cluster.Cluster.
func (c *Client) Job(ctx context.Context, jobID string) (*cluster.Job, error) {
	var d JobDetailDTO
	if err := c.do(ctx, http.MethodGet, jobPath(jobID), nil, &d); err != nil {
		return nil, err
	}
	return DecodeJob(&d), nil
}

// Exceptions implements cluster.Cluster.
func (c *Client) Exceptions(ctx context.Context, jobID string) (*cluster.Exceptions, error) {
	var d ExceptionsDTO
	if err := c.do(ctx, http.MethodGet, jobPath(jobID, "exceptions"), nil, &d); err != nil {
		return nil, err
	}
	return DecodeExceptions(&d), nil
}

// Checkpoints implements cluster.Cluster.
func (c *Client) Checkpoints(ctx context.Context, jobID string) (*cluster.CheckpointStats, error) {
	var d CheckpointingStatisticsDTO
	if err := c.do(ctx, http.MethodGet, jobPath(jobID, "checkpoints"), nil, &d); err != nil {
		return nil, err
	}
	return DecodeCheckpointStats(&d), nil
}

// CheckpointConfig implements cluster.Cluster.
func (c *Client) CheckpointConfig(ctx context.Context, jobID string) (*cluster.CheckpointConfig, error) {
	var d CheckpointConfigDTO
	if err := c.do(ctx, http.MethodGet, jobPath(jobID, "checkpoints", "config"), nil, &d); err != nil {
		return nil, err
	}
	return DecodeCheckpointConfig(&d), nil
}

// CheckpointDetail implements cluster.Cluster.
func (c *Client) CheckpointDetail(ctx context.Context, jobID string, checkpointID int64) (*cluster.Checkpoint, error) {
	var d CheckpointDTO
	if err := c.do(ctx, http.MethodGet, jobPath(jobID, "checkpoints", "details", strconv.FormatInt(checkpointID, 10)), nil, &d); err != nil {
		return nil, err
	}
	return DecodeCheckpoint(&d), nil
}

// CheckpointSubtasks implements cluster.Cluster.
func (c *Client) CheckpointSubtasks(ctx context.Context, jobID string, checkpointID int64, vertexID string) (*cluster.VertexCheckpoint, error) {
	var d VertexCheckpointDTO
	p := jobPath(jobID, "checkpoints", "details", strconv.FormatInt(checkpointID, 10), "subtasks", vertexID)
	if err := c.do(ctx, http.MethodGet, p, nil, &d); err != nil {
		return nil, err
	}
	return DecodeVertexCheckpoint(&d), nil
}

// TriggerCheckpoint implements cluster.Cluster.
func (c *Client) TriggerCheckpoint(ctx context.Context, jobID string, req cluster.CheckpointRequest) (cluster.Trigger, error) {
	var r TriggerResponseDTO
	body := CheckpointTriggerDTO{CheckpointType: string(req.Type), TriggerID: req.TriggerID}
	if err := c.do(ctx, http.MethodPost, jobPath(jobID, "checkpoints"), body, &r); err != nil {
		return cluster.Trigger{}, err
	}
	return cluster.Trigger{Kind: cluster.CheckpointTrigger, JobID: jobID, ID: r.RequestID}, nil
}

// TriggerSavepoint implements cluster.Cluster.
func (c *Client) TriggerSavepoint(ctx context.Context, jobID string, req cluster.SavepointRequest) (cluster.Trigger, error) {
	var r TriggerResponseDTO
	body := SavepointTriggerDTO{TargetDirectory: req.TargetDir, CancelJob: req.CancelJob, FormatType: string(req.Format),
		TriggerID: req.TriggerID}
	if err := c.do(ctx, http.MethodPost, jobPath(jobID, "savepoints"), body, &r); err != nil {
		return cluster.Trigger{}, err
	}
	return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: r.RequestID}, nil
}

// StopWithSavepoint implements cluster.Cluster.
func (c *Client) StopWithSavepoint(ctx context.Context, jobID string, req cluster.StopRequest) (cluster.Trigger, error) {
	var r TriggerResponseDTO
	body := StopDTO{TargetDirectory: req.TargetDir, Drain: req.Drain, FormatType: string(req.Format), TriggerID: req.TriggerID}
	if err := c.do(ctx, http.MethodPost, jobPath(jobID, "stop"), body, &r); err != nil {
		return cluster.Trigger{}, err
	}
	return cluster.Trigger{Kind: cluster.SavepointTrigger, JobID: jobID, ID: r.RequestID}, nil
}

// DisposeSavepoint implements cluster.Cluster.
func (c *Client) DisposeSavepoint(ctx context.Context, p string) (cluster.Trigger, error) {
	var r TriggerResponseDTO
	if err := c.do(ctx, http.MethodPost, "/savepoint-disposal", DisposalDTO{SavepointPath: p}, &r); err != nil {
		return cluster.Trigger{}, err
	}
	return cluster.Trigger{Kind: cluster.DisposalTrigger, ID: r.RequestID}, nil
}

// Poll implements cluster.Cluster.
func (c *Client) Poll(ctx context.Context, t cluster.Trigger) (*cluster.Operation, error) {
	var p string
	switch t.Kind {
	case cluster.CheckpointTrigger:
		p = jobPath(t.JobID, "checkpoints", t.ID)
	case cluster.SavepointTrigger:
		p = jobPath(t.JobID, "savepoints", t.ID)
	case cluster.DisposalTrigger:
		p = "/savepoint-disposal/" + url.PathEscape(t.ID)
	default:
		return nil, fmt.Errorf("poll: unknown trigger kind %q", t.Kind)
	}
	var d AsyncStatusDTO
	if err := c.do(ctx, http.MethodGet, p, nil, &d); err != nil {
		return nil, err
	}
	op := &cluster.Operation{Status: cluster.OperationStatus(d.Status.ID)}
	if op.Status != cluster.Completed {
		op.Status = cluster.InProgress
		return op, nil
	}
	raw := d.Operation
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	bad := func(err error) error {
		return &cluster.Error{Op: "GET " + c.url(p), Message: fmt.Sprintf("decoding operation %s: %v", raw, err)}
	}
	switch t.Kind {
	case cluster.CheckpointTrigger:
		var o CheckpointOperationDTO
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, bad(err)
		}
		op.CheckpointID, op.Failure = deref(o.CheckpointID), DecodeFailure(o.FailureCause)
	case cluster.SavepointTrigger:
		var o SavepointOperationDTO
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, bad(err)
		}
		op.Location, op.Failure = o.Location, DecodeFailure(o.FailureCause)
	default:
		var o DisposalOperationDTO
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, bad(err)
		}
		op.Failure = DecodeFailure(o.FailureCause)
	}
	return op, nil
}

// Cancel implements cluster.Cluster.
func (c *Client) Cancel(ctx context.Context, jobID string) error {
	return c.do(ctx, http.MethodPatch, jobPath(jobID)+"?mode=cancel", nil, nil)
}

// UploadArtifact implements cluster.Cluster: multipart part "jarfile".
func (c *Client) UploadArtifact(ctx context.Context, filename string, content io.Reader) (*cluster.Artifact, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="jarfile"; filename=%q`, path.Base(filename)))
	ct := "application/x-java-archive"
	if !strings.HasSuffix(filename, ".jar") {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	part, err := mw.CreatePart(h)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(part, content); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filename, err)
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var r JarUploadDTO
	if err := c.send(ctx, http.MethodPost, "/jars/upload", mw.FormDataContentType(), body.Bytes(), &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, &cluster.Error{Op: "POST " + c.url("/jars/upload"), Message: fmt.Sprintf("upload status %q", r.Status)}
	}
	return &cluster.Artifact{ID: path.Base(r.Filename), Name: path.Base(filename), Uploaded: time.Now()}, nil
}

// Artifacts implements cluster.Cluster.
func (c *Client) Artifacts(ctx context.Context) ([]cluster.Artifact, error) {
	var d JarListDTO
	if err := c.do(ctx, http.MethodGet, "/jars", nil, &d); err != nil {
		return nil, err
	}
	out := make([]cluster.Artifact, 0, len(d.Files))
	for i := range d.Files {
		out = append(out, DecodeArtifact(&d.Files[i]))
	}
	return out, nil
}

// RunArtifact implements cluster.Cluster. The claim mode goes out as
// claimMode to Flink 2.x and as restoreMode to 1.x (from /overview's
// flink-version); ckpt serve accepts both.
func (c *Client) RunArtifact(ctx context.Context, id string, req cluster.RunRequest) (string, error) {
	body := JarRunDTO{EntryClass: req.EntryClass, ProgramArgsList: req.ProgramArgs, JobID: req.JobID,
		SavepointPath: req.SavepointPath, FlinkConfiguration: req.Config}
	if req.Parallelism > 0 {
		body.Parallelism = ptr(req.Parallelism)
	}
	if req.SavepointPath != "" || req.AllowNonRestoredState {
		body.AllowNonRestoredState = ptr(req.AllowNonRestoredState)
	}
	if req.ClaimMode != "" {
		v, err := c.Version(ctx)
		if err != nil {
			return "", err
		}
		if major(v) >= 2 {
			body.ClaimMode = req.ClaimMode
		} else {
			body.RestoreMode = req.ClaimMode
		}
	}
	var r JarRunResponseDTO
	if err := c.do(ctx, http.MethodPost, "/jars/"+url.PathEscape(id)+"/run", body, &r); err != nil {
		return "", err
	}
	return r.JobID, nil
}

// DeleteArtifact implements cluster.Cluster.
func (c *Client) DeleteArtifact(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/jars/"+url.PathEscape(id), nil, nil)
}

// Version is the cluster's flink-version (GET /overview, cached).
func (c *Client) Version(ctx context.Context) (string, error) {
	c.verMu.Lock()
	v := c.version
	c.verMu.Unlock()
	if v != "" {
		return v, nil
	}
	o, err := c.Overview(ctx)
	if err != nil {
		return "", err
	}
	return o.Version, nil
}

// major is the major version of "2.3.0" or "1.20.5" (0 when unparseable).
func major(v string) int {
	s, _, _ := strings.Cut(v, ".")
	n, _ := strconv.Atoi(s)
	return n
}

// ---- transport ----

func (c *Client) url(p string) string {
	u := *c.base
	q := ""
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p, q = p[:i], p[i+1:]
	}
	u.Path = c.base.Path + p
	u.RawPath = ""
	u.RawQuery = q
	return u.String()
}

func (c *Client) do(ctx context.Context, method, p string, body, out any) error {
	var b []byte
	ct := ""
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
		ct = "application/json"
	}
	return c.send(ctx, method, p, ct, b, out)
}

// maxResponse bounds what a reply may hold (a checkpoint history of a job
// with thousands of vertices is a few MB).
const maxResponse = 64 << 20

func (c *Client) send(ctx context.Context, method, p, contentType string, body []byte, out any) error {
	full := c.url(p)
	op := method + " " + full
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var (
		resp  *http.Response
		data  []byte
		delay = 50 * time.Millisecond
	)
	for {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, full, rd)
		if err != nil {
			return &cluster.Error{Kind: cluster.ErrBadRequest, Op: op, Message: err.Error()}
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("Accept", "application/json")
		for k, vs := range c.headers {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		switch {
		case c.user != "":
			req.SetBasicAuth(c.user, c.pass)
		case c.token != "":
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err = c.http.Do(req)
		if err != nil {
			return c.transportError(op, err)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
		resp.Body.Close()
		if err != nil {
			return c.transportError(op, err)
		}
		// 503 is Flink's answer while the dispatcher's leader is being
		// elected (a JobManager starting or failing over): the request was
		// not handled, so it is retried within the call's bound.
		if resp.StatusCode != http.StatusServiceUnavailable {
			break
		}
		select {
		case <-ctx.Done():
			return &cluster.Error{Kind: cluster.ErrUnreachable, Op: op, Status: resp.StatusCode,
				Message: errorMessage(data) + fmt.Sprintf(" (still after %v)", c.timeout)}
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
	if len(data) > maxResponse {
		return &cluster.Error{Op: op, Message: fmt.Sprintf("response larger than %d MB", maxResponse>>20)}
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return &cluster.Error{Kind: cluster.ErrDenied, Op: op, Status: resp.StatusCode, Message: c.deniedMessage(resp, data)}
	}
	if resp.StatusCode/100 != 2 {
		return &cluster.Error{Kind: kindOfStatus(resp.StatusCode), Op: op, Status: resp.StatusCode, Message: errorMessage(data)}
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return &cluster.Error{Op: op, Message: fmt.Sprintf("not the JSON Flink sends (%v): %s", err, abbreviate(string(data), 300))}
		}
	}
	return nil
}

func (c *Client) transportError(op string, err error) error {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		msg = fmt.Sprintf("no answer from %s within %v (is it a Flink REST endpoint?)", c.base.Host, c.timeout)
	case errors.Is(err, context.Canceled):
		return &cluster.Error{Op: op, Message: "cancelled"}
	case isTLSError(err):
		return &cluster.Error{Kind: cluster.ErrDenied, Op: op, Message: tlsMessage(c.base, err)}
	default:
		msg = fmt.Sprintf("cannot reach the REST endpoint %s: %s", c.base.Host, msg)
	}
	return &cluster.Error{Kind: cluster.ErrUnreachable, Op: op, Message: msg}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// kindOfStatus maps Flink's status codes to error kinds.
func kindOfStatus(code int) error {
	switch code {
	case http.StatusNotFound:
		return cluster.ErrNotFound
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge:
		return cluster.ErrBadRequest
	case http.StatusConflict:
		return cluster.ErrConflict
	case http.StatusNotImplemented:
		return cluster.ErrNotSupported
	}
	return nil
}

// javaPrefix matches a leading exception class: "org.apache.flink.X: ".
var javaPrefix = regexp.MustCompile(`^(?:[a-z][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable): `)

// errorMessage is the gist of an error body {"errors": [...]}: each
// message's first line without Java class names; stack traces and
// "Internal server error." dropped.
func errorMessage(data []byte) string {
	var e ErrorsDTO
	if err := json.Unmarshal(data, &e); err != nil || len(e.Errors) == 0 {
		return abbreviate(strings.TrimSpace(string(data)), 500)
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range e.Errors {
		m = strings.TrimPrefix(strings.TrimSpace(m), "<Exception on server side:")
		line := ""
		for _, l := range strings.Split(m, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "at ") || l == "Internal server error." {
				continue
			}
			line = l
			break
		}
		for {
			s := javaPrefix.ReplaceAllString(line, "")
			if s == line {
				break
			}
			line = s
		}
		if line != "" && !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return "Internal server error."
	}
	return abbreviate(strings.Join(out, "; "), 1000)
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Backpressure implements cluster.BackpressureReader (GET
// /jobs/:jobid/vertices/:vertexid/backpressure).
func (c *Client) Backpressure(ctx context.Context, jobID, vertexID string) (*cluster.Backpressure, error) {
	var d BackpressureDTO
	if err := c.do(ctx, http.MethodGet, jobPath(jobID, "vertices", vertexID, "backpressure"), nil, &d); err != nil {
		return nil, err
	}
	return DecodeBackpressure(&d), nil
}

// UploadOnce makes sure the cluster has the jar named name (a name that
// carries the jar's checksum, so equal names mean equal bytes): it reuses
// an uploaded jar of that name (GET /jars) or uploads data. uploaded says
// which.
func (c *Client) UploadOnce(ctx context.Context, name string, data []byte) (a *cluster.Artifact, uploaded bool, err error) {
	have, err := c.Artifacts(ctx)
	if err != nil {
		return nil, false, err
	}
	for i := range have {
		if have[i].Name == name {
			return &have[i], false, nil
		}
	}
	a, err = c.UploadArtifact(ctx, name, bytes.NewReader(data))
	return a, err == nil, err
}
