package restserver

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
)

// The guard answers before any handler, so that only the server's own user
// operates it. A web page the user visits can make the browser send
// requests to 127.0.0.1:8081; it gets the Host of its own (rebound) name,
// an Origin that is not the server's, or a body type a form can send
// (text/plain, application/x-www-form-urlencoded) — each refused here. A
// token, when configured, is required of every request.

// guard checks Host, Origin, the token and the body's media type, in that
// order; false means it has answered.
func (s *Server) guard(w http.ResponseWriter, r *http.Request) bool {
	if !s.hostAllowed(r.Host) {
		// 421: this server is not the one the name belongs to.
		refuse(w, http.StatusMisdirectedRequest, fmt.Sprintf("Host %q is not a name of this server (allowed: loopback names, IP addresses%s)",
			r.Host, s.namesHint()))
		return false
	}
	if !sameOrigin(r) {
		refuse(w, http.StatusForbidden, "Cross-origin requests are refused: the Origin header names another site")
		return false
	}
	if s.opts.Token != "" && !s.tokenOK(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ckpt serve"`)
		refuse(w, http.StatusUnauthorized, "Authentication required: send the token of ckpt serve as \"Authorization: Bearer <token>\" (ckpt's commands read it from "+
			"$CKPT_TOKEN or the token file)")
		return false
	}
	if hasBody(r) {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		want := "application/json"
		if isUpload(r) {
			want = "multipart/form-data"
		}
		if mt != want {
			got := r.Header.Get("Content-Type")
			if got == "" {
				got = "none"
			}
			refuse(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %s is not accepted here: send %s", got, want))
			return false
		}
	}
	return true
}

func refuse(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, flinkrest.ErrorsDTO{Errors: []string{msg}})
}

// hasBody: a request that carries (or announces) a body.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody) ||
		len(r.TransferEncoding) > 0 || r.Header.Get("Content-Type") != ""
}

func isUpload(r *http.Request) bool {
	p := strings.TrimPrefix(r.URL.Path, "/v1")
	return p == "/jars/upload"
}

// hostAllowed: loopback names and IP literals always (a browser only sends
// an IP as Host when the page's own origin is that IP, which no DNS
// rebinding can give another site), and the configured names.
func (s *Server) hostAllowed(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if h == "" {
		return false
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, n := range s.opts.Hosts {
		if strings.TrimSuffix(strings.ToLower(n), ".") == h {
			return true
		}
	}
	return false
}

func (s *Server) namesHint() string {
	if len(s.opts.Hosts) == 0 {
		return ""
	}
	return ", " + strings.Join(s.opts.Hosts, ", ")
}

// sameOrigin: no Origin header (ckpt, curl, Flink's CLI), or exactly the
// server's own origin (scheme and host:port the request came to). A
// browser's fetch metadata saying cross-site is refused too, for the
// requests that carry no Origin.
func sameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false // "null" and the like
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(u.Host, r.Host)
}

func (s *Server) tokenOK(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(a, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}
