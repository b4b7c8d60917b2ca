package cli

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/internal/testpki"
)

// secureProxy puts a TLS (mutual) reverse proxy that asks for basic
// authentication and a tenant header in front of target, as operators
// put one in front of Flink's REST endpoint.
func secureProxy(t *testing.T, p *testpki.PKI, target string) (string, *atomic.Int64) {
	t.Helper()
	return secureProxyTo(t, p, target, nil)
}

// secureProxyTo is secureProxy reaching target through transport (nil =
// the default).
func secureProxyTo(t *testing.T, p *testpki.PKI, target string, transport http.RoundTripper) (string, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var passed atomic.Int64
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Header.Del("Authorization")
	}, Transport: transport}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "ops" || pass != "pr0xy-pa55" || r.Header.Get("X-Tenant") != "data" {
			w.Header().Set("WWW-Authenticate", `Basic realm="flink"`)
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		passed.Add(1)
		rp.ServeHTTP(w, r)
	}))
	srv.TLS = p.ServerTLS(true)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, &passed
}

// Contexts reach a target behind TLS, mutual TLS, basic authentication
// and a header; -m names another endpoint ad hoc, and a context's
// credentials are not sent there; nothing prints a secret.
func TestContextsReachSecureTarget(t *testing.T) {
	serveURL, _ := startServe(t, nil)
	p := testpki.New(t, "127.0.0.1")
	proxy, passed := secureProxy(t, p, serveURL)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("pr0xy-pa55\n"), 0o600)
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte(`theme: mono
current-context: secure
contexts:
  secure:
    jobmanager: `+proxy+`
    checkpoints: /data/checkpoints
    tls:
      ca: `+p.CAFile+`
      cert: `+p.CertFile+`
      key: `+p.KeyFile+`
    auth:
      username: ops
      password-file: `+pw+`
    headers:
      X-Tenant: data
  direct:
    jobmanager: `+serveURL+`
`), 0o600)
	t.Setenv("CKPT_CONFIG", cfg)
	t.Setenv(ContextEnv, "")
	t.Setenv(JobManagerEnv, "")
	t.Setenv(flinkrest.PasswordEnv, "")

	ok := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCkpt(t, args...)
		if code != ExitOK || !strings.Contains(out, "No running jobs.") {
			t.Fatalf("ckpt %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	denied := func(want string, args ...string) {
		t.Helper()
		code, out, errOut := runCkpt(t, args...)
		if code != ExitError || !strings.Contains(errOut, want) {
			t.Fatalf("ckpt %v: exit %d, want 1 and %q\n%s%s", args, code, want, out, errOut)
		}
		if strings.Contains(out+errOut, "pr0xy-pa55") || strings.Contains(out+errOut, "wr0ng") {
			t.Fatalf("a secret was printed:\n%s%s", out, errOut)
		}
	}

	before := passed.Load()
	ok("list")                        // the current context
	ok("list", "--context", "secure") // named
	ok("list", "--context", "direct") // another context, plain http
	if passed.Load() != before+2 {
		t.Errorf("the proxy let %d requests through, want 2", passed.Load()-before)
	}
	// -m is ad hoc: the context's CA, certificate and password stay home.
	denied("unknown authority", "list", "-m", proxy)
	host := strings.TrimPrefix(proxy, "https://")
	denied("requires a client certificate", "list", "-m", proxy, "--rest-ca", p.CAFile)
	denied("refused the credentials", "list", "-m", proxy, "--rest-ca", p.CAFile, "--rest-cert", p.CertFile, "--rest-key", p.KeyFile)
	t.Setenv(flinkrest.PasswordEnv, "wr0ng")
	denied(host+" refused the credentials (ckpt sent basic authentication as \"ops\")", "list", "-m", proxy, "--rest-ca", p.CAFile,
		"--rest-cert", p.CertFile, "--rest-key", p.KeyFile, "--rest-user", "ops", "--rest-header", "X-Tenant: data")
	ok("list", "-m", proxy, "--rest-ca", p.CAFile, "--rest-cert", p.CertFile, "--rest-key", p.KeyFile,
		"--rest-user", "ops", "--rest-password-file", pw, "--rest-header", "X-Tenant: data")
	// $CKPT_CONTEXT picks one too; an unknown one is a usage error.
	t.Setenv(ContextEnv, "direct")
	ok("list")
	t.Setenv(ContextEnv, "")
	if code, _, errOut := runCkpt(t, "list", "--context", "nope"); code != ExitUsage || !strings.Contains(errOut, "direct, secure") {
		t.Errorf("unknown context: %d %s", code, errOut)
	}

	// ckpt context: list, show, use.
	code, out, _ := runCkpt(t, "context", "list")
	if code != ExitOK || !regexp.MustCompile(`(?m)^\*\s+secure\s`).MatchString(out) || !strings.Contains(out, "basic ops (password from "+pw+")") {
		t.Errorf("context list:\n%s", out)
	}
	code, out, _ = runCkpt(t, "context", "show")
	if code != ExitOK || !strings.Contains(out, "name:         secure") || !strings.Contains(out, "headers:      X-Tenant") {
		t.Errorf("context show:\n%s", out)
	}
	if strings.Contains(out, "pr0xy") {
		t.Errorf("show printed the password:\n%s", out)
	}
	if code, _, errOut := runCkpt(t, "context", "use", "direct"); code != ExitOK {
		t.Fatalf("context use: %s", errOut)
	}
	b, _ := os.ReadFile(cfg)
	if !strings.Contains(string(b), "current-context: direct") || !strings.Contains(string(b), "theme: mono") {
		t.Errorf("config after use:\n%s", b)
	}
	before = passed.Load()
	ok("list")
	if passed.Load() != before {
		t.Error("after `context use direct`, list still went through the proxy")
	}
}
