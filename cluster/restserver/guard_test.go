package restserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/engine/config"
)

// fake is a cluster whose operations under test are functions; the rest
// comes from an embedded engine with no jobs.
type fake struct {
	*embedded.Cluster
	upload    func(name string, content io.Reader) (*cluster.Artifact, error)
	run       func(ctx context.Context, id string, req cluster.RunRequest) (string, error)
	savepoint func(req cluster.SavepointRequest) (cluster.Trigger, error)
	dispose   func(p string) (cluster.Trigger, error)
	poll      func(t cluster.Trigger) (*cluster.Operation, error)
}

func newFake(t *testing.T, cfg map[string]string) *fake {
	t.Helper()
	c := config.New()
	for k, v := range cfg {
		if err := c.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	e := embedded.New(embedded.Options{Config: c, Version: "ckpt-test"})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.Close(ctx)
	})
	return &fake{Cluster: e}
}

func (f *fake) UploadArtifact(ctx context.Context, name string, content io.Reader) (*cluster.Artifact, error) {
	if f.upload != nil {
		return f.upload(name, content)
	}
	return f.Cluster.UploadArtifact(ctx, name, content)
}

func (f *fake) RunArtifact(ctx context.Context, id string, req cluster.RunRequest) (string, error) {
	if f.run != nil {
		return f.run(ctx, id, req)
	}
	return f.Cluster.RunArtifact(ctx, id, req)
}

func (f *fake) TriggerSavepoint(ctx context.Context, jobID string, req cluster.SavepointRequest) (cluster.Trigger, error) {
	if f.savepoint != nil {
		return f.savepoint(req)
	}
	return f.Cluster.TriggerSavepoint(ctx, jobID, req)
}

func (f *fake) StopWithSavepoint(ctx context.Context, jobID string, req cluster.StopRequest) (cluster.Trigger, error) {
	if f.savepoint != nil {
		return f.savepoint(cluster.SavepointRequest{TargetDir: req.TargetDir, Format: req.Format, TriggerID: req.TriggerID})
	}
	return f.Cluster.StopWithSavepoint(ctx, jobID, req)
}

func (f *fake) DisposeSavepoint(ctx context.Context, p string) (cluster.Trigger, error) {
	if f.dispose != nil {
		return f.dispose(p)
	}
	return f.Cluster.DisposeSavepoint(ctx, p)
}

func (f *fake) Poll(ctx context.Context, t cluster.Trigger) (*cluster.Operation, error) {
	if f.poll != nil {
		return f.poll(t)
	}
	return f.Cluster.Poll(ctx, t)
}

type request struct {
	method, path, host, origin, contentType, token, body string
}

func send(t *testing.T, base string, q request) (int, string) {
	t.Helper()
	req, err := http.NewRequest(q.method, base+q.path, strings.NewReader(q.body))
	if err != nil {
		t.Fatal(err)
	}
	if q.host != "" {
		req.Host = q.host
	}
	if q.origin != "" {
		req.Header.Set("Origin", q.origin)
	}
	if q.contentType != "" {
		req.Header.Set("Content-Type", q.contentType)
	}
	if q.token != "" {
		req.Header.Set("Authorization", "Bearer "+q.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct{ Errors []string }
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(b, &e); err != nil || len(e.Errors) == 0 {
			t.Errorf("%s %s: HTTP %d answer is not Flink's error JSON: %s", q.method, q.path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, string(b)
}

// TestGuard: a web page the user visits cannot operate the server — not
// through a DNS-rebound name, a cross-origin request or a form's body
// type — and with a token configured nothing goes without it.
func TestGuard(t *testing.T) {
	const token = "s3cr3t-token-for-tests"
	plain := httptest.NewServer(New(newFake(t, nil), Options{}))
	defer plain.Close()
	guarded := httptest.NewServer(New(newFake(t, nil), Options{Token: token, Hosts: []string{"jm.example.org"}}))
	defer guarded.Close()
	own := plain.URL // http://127.0.0.1:port: the server's own origin
	for _, tc := range []struct {
		name string
		srv  *httptest.Server
		req  request
		code int
	}{
		{"loopback IP", plain, request{method: "GET", path: "/overview"}, 200},
		{"localhost name", plain, request{method: "GET", path: "/overview", host: "localhost:8081"}, 200},
		{"rebound name", plain, request{method: "GET", path: "/overview", host: "evil.example"}, 421},
		{"rebound name with port", plain, request{method: "GET", path: "/v1/jobs", host: "evil.example:8081"}, 421},
		{"rebound name POST", plain, request{method: "POST", path: "/savepoint-disposal", host: "evil.example",
			contentType: "application/json", body: `{"savepoint-path":"/x"}`}, 421},
		{"same origin", plain, request{method: "POST", path: "/savepoint-disposal", origin: own,
			contentType: "application/json", body: `{}`}, 400},
		{"cross origin", plain, request{method: "POST", path: "/savepoint-disposal", origin: "http://evil.example",
			contentType: "application/json", body: `{"savepoint-path":"/x"}`}, 403},
		{"cross origin same host other port", plain, request{method: "POST", path: "/savepoint-disposal", origin: "http://127.0.0.1:1",
			contentType: "application/json", body: `{"savepoint-path":"/x"}`}, 403},
		{"null origin", plain, request{method: "PATCH", path: "/jobs/" + jobID, origin: "null"}, 403},
		{"text/plain POST", plain, request{method: "POST", path: "/savepoint-disposal", contentType: "text/plain",
			body: `{"savepoint-path":"/x"}`}, 415},
		{"form POST", plain, request{method: "POST", path: "/jobs/" + jobID + "/savepoints",
			contentType: "application/x-www-form-urlencoded", body: `a=b`}, 415},
		{"multipart to a JSON endpoint", plain, request{method: "POST", path: "/jars/x/run", contentType: "multipart/form-data; boundary=x",
			body: "--x--"}, 415},
		{"body without type", plain, request{method: "POST", path: "/savepoint-disposal", body: `{"savepoint-path":"/x"}`}, 415},
		{"json with charset", plain, request{method: "POST", path: "/savepoint-disposal", contentType: "application/json; charset=UTF-8",
			body: `{}`}, 400},
		{"POST without body", plain, request{method: "POST", path: "/jobs/" + jobID + "/checkpoints"}, 404},
		{"no token", guarded, request{method: "GET", path: "/overview"}, 401},
		{"wrong token", guarded, request{method: "GET", path: "/overview", token: "guess"}, 401},
		{"token", guarded, request{method: "GET", path: "/overview", token: token}, 200},
		{"token, configured name", guarded, request{method: "GET", path: "/overview", token: token, host: "JM.example.org:8081"}, 200},
		{"token, rebound name", guarded, request{method: "GET", path: "/overview", token: token, host: "evil.example"}, 421},
		{"token, text/plain", guarded, request{method: "POST", path: "/savepoint-disposal", token: token, contentType: "text/plain",
			body: `{}`}, 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := send(t, tc.srv.URL, tc.req)
			if code != tc.code {
				t.Fatalf("HTTP %d, want %d: %s", code, tc.code, body)
			}
			if strings.Contains(body, token) {
				t.Errorf("the answer shows the token: %s", body)
			}
		})
	}
}

// TestTokenNeverLogged: the request log carries no token.
func TestTokenNeverLogged(t *testing.T) {
	const token = "tok-that-must-not-be-logged"
	var mu sync.Mutex
	var log bytes.Buffer
	srv := httptest.NewServer(New(newFake(t, nil), Options{Token: token, Log: func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		log.WriteString(strings.TrimSpace(strings.ReplaceAll(format, "%", "")) + "\n")
		for _, x := range a {
			b, _ := json.Marshal(x)
			log.Write(b)
		}
	}}))
	defer srv.Close()
	send(t, srv.URL, request{method: "GET", path: "/overview", token: token})
	send(t, srv.URL, request{method: "GET", path: "/overview", token: "wrong"})
	mu.Lock()
	defer mu.Unlock()
	if log.Len() == 0 || strings.Contains(log.String(), token) || strings.Contains(log.String(), "wrong") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestOversizedBody: a body over the limit is Flink's error JSON with 413,
// for JSON requests and uploads alike.
func TestOversizedBody(t *testing.T) {
	srv := httptest.NewServer(New(newFake(t, nil), Options{MaxBody: 1 << 10, MaxUpload: 4 << 10}))
	defer srv.Close()
	big := `{"target-directory":"/sp/` + strings.Repeat("x", 2<<10) + `"}`
	code, body := send(t, srv.URL, request{method: "POST", path: "/jobs/" + jobID + "/savepoints", contentType: "application/json", body: big})
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"errors"`) {
		t.Errorf("JSON body: HTTP %d %s, want 413", code, body)
	}
	ct, up := multipartBody(t, "big.yaml", strings.Repeat("# filler\n", 1<<10))
	code, body = send(t, srv.URL, request{method: "POST", path: "/jars/upload", contentType: ct, body: up})
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("upload: HTTP %d %s, want 413", code, body)
	}
}

func multipartBody(t *testing.T, name, content string) (contentType, body string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormFile("jarfile", name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(content))
	mw.Close()
	return mw.FormDataContentType(), b.String()
}

// TestUploadSpooledToDisk: the cluster reads an upload from a file in the
// spool directory, not from the request; the file is gone after the
// request and the directory the server made is gone after Close.
func TestUploadSpooledToDisk(t *testing.T) {
	f := newFake(t, nil)
	var seen struct {
		name string
		size int64
		data string
	}
	f.upload = func(name string, content io.Reader) (*cluster.Artifact, error) {
		file, ok := content.(*os.File)
		if !ok {
			return nil, fmt.Errorf("upload not spooled: the cluster got a %T, not a file", content)
		}
		fi, err := file.Stat()
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(file)
		seen.name, seen.size, seen.data = file.Name(), fi.Size(), string(b)
		return &cluster.Artifact{ID: "a_" + name, Name: name}, nil
	}
	s := New(f, Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	content := spec + strings.Repeat("# padding\n", 1000)
	ct, body := multipartBody(t, "orders.yaml", content)
	code, b := send(t, srv.URL, request{method: "POST", path: "/jars/upload", contentType: ct, body: body})
	if code != 200 {
		t.Fatalf("upload: HTTP %d %s", code, b)
	}
	dir := filepath.Dir(seen.name)
	if !strings.HasPrefix(filepath.Base(dir), "ckpt-serve-uploads-") || seen.size != int64(len(content)) || seen.data != content {
		t.Fatalf("spooled to %s (%d bytes), want a file of %d bytes in a ckpt-serve-uploads-* directory", seen.name, seen.size, len(content))
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("spool directory %s: %v, mode %v; want 0700", dir, err, fi.Mode().Perm())
	}
	if _, err := os.Stat(seen.name); !os.IsNotExist(err) {
		t.Errorf("spool file %s still there after the request (%v)", seen.name, err)
	}
	s.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("spool directory %s still there after Close (%v)", dir, err)
	}
}

// TestIdleConnectionsAndLimit: connections that send nothing, or stay
// idle after a request, are closed after the timeouts; never more than
// MaxConns are open at once; a new client is answered once the idle ones
// are gone.
func TestIdleConnectionsAndLimit(t *testing.T) {
	const maxConns = 4
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, lln := HTTPServer(New(newFake(t, nil), Options{}), ln, Limits{MaxConns: maxConns,
		ReadHeaderTimeout: 200 * time.Millisecond, IdleTimeout: 200 * time.Millisecond})
	go srv.Serve(lln)
	defer srv.Close()
	addr := ln.Addr().String()

	// Keep-alive connections left idle after one request each.
	var idle []net.Conn
	for range maxConns {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "GET /overview HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if n, err := c.Read(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
			t.Fatalf("keep-alive request: %q %v", buf[:n], err)
		}
		idle = append(idle, c)
	}
	// And connections that never send a byte, past the limit.
	for range 10 {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	// Every one of them is closed by the server in bounded time.
	for i, c := range idle {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Fatalf("connection %d not closed by the server: %v", i, err)
		}
		c.Close()
	}
	if p := lln.Peak(); p > maxConns || p < 1 {
		t.Errorf("peak %d open connections, limit %d", p, maxConns)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
	resp, err := client.Get("http://" + addr + "/overview")
	if err != nil {
		t.Fatalf("a new client after the idle ones: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("new client: HTTP %d", resp.StatusCode)
	}
}

// TestBoundedRuns: runs that block (a restore path that is a FIFO) hold at
// most Workers goroutines; their requests are answered (504) instead of
// waiting forever, later ones get a 503 until a worker is free.
func TestBoundedRuns(t *testing.T) {
	f := newFake(t, nil)
	release := make(chan struct{})
	var running, peak atomic.Int32
	f.run = func(ctx context.Context, id string, req cluster.RunRequest) (string, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release // ignores ctx, as a blocked open(2) does
		return jobID, nil
	}
	srv := httptest.NewServer(New(f, Options{Workers: 2, QueueWait: 50 * time.Millisecond, CallTimeout: 200 * time.Millisecond}))
	defer srv.Close()
	run := func() (int, string) {
		return send(t, srv.URL, request{method: "POST", path: "/jars/x.yaml/run", contentType: "application/json",
			body: `{"savepointPath":"/tmp/fifo"}`})
	}
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = run()
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusGatewayTimeout {
			t.Errorf("blocked run answered %d, want 504", c)
		}
	}
	if code, body := run(); code != http.StatusServiceUnavailable {
		t.Errorf("run with every worker blocked: HTTP %d %s, want 503", code, body)
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d runs at once, workers 2", p)
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := run()
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run after the workers were freed: HTTP %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBoundedDisposals: a disposal holds its worker until it completes,
// also after its request was answered.
func TestBoundedDisposals(t *testing.T) {
	f := newFake(t, nil)
	var done atomic.Bool
	f.dispose = func(p string) (cluster.Trigger, error) {
		return cluster.Trigger{Kind: cluster.DisposalTrigger, ID: strings.Repeat("ab", 16)}, nil
	}
	f.poll = func(t cluster.Trigger) (*cluster.Operation, error) {
		if done.Load() {
			return &cluster.Operation{Status: cluster.Completed}, nil
		}
		return &cluster.Operation{Status: cluster.InProgress}, nil
	}
	srv := httptest.NewServer(New(f, Options{Workers: 1, QueueWait: 50 * time.Millisecond}))
	defer srv.Close()
	dispose := func() (int, string) {
		return send(t, srv.URL, request{method: "POST", path: "/savepoint-disposal", contentType: "application/json",
			body: `{"savepoint-path":"/sp/savepoint-1"}`})
	}
	if code, body := dispose(); code != 200 {
		t.Fatalf("first disposal: HTTP %d %s", code, body)
	}
	if code, body := dispose(); code != http.StatusServiceUnavailable {
		t.Fatalf("second disposal while the first runs: HTTP %d %s, want 503", code, body)
	}
	done.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := dispose()
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disposal after the first completed: HTTP %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSpoolCloseKeepsForeignFiles: Close removes the files the server
// spooled (even one still open when it closes) and the directory only if
// that empties it — a file somebody else put there stays, with the
// directory.
func TestSpoolCloseKeepsForeignFiles(t *testing.T) {
	s := New(newFake(t, nil), Options{})
	f, err := s.spool(strings.NewReader("an upload still being read at shutdown"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := filepath.Dir(f.Name())
	precious := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(precious, []byte("not serve's"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Close with a foreign file in the spool dir: %v, want it to name the directory it left", err)
	}
	if _, err := os.Stat(f.Name()); !os.IsNotExist(err) {
		t.Errorf("the spooled file %s stayed: %v", f.Name(), err)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "not serve's" {
		t.Fatalf("the foreign file went: %q %v", b, err)
	}
	os.RemoveAll(dir)
}
