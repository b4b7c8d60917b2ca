package flinkrest

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
)

// A proxy in front of Flink asking for basic authentication: the right
// credentials pass, wrong or missing ones are ErrDenied naming the target
// and the user — never the password.
func TestBasicAuthAndHeaders(t *testing.T) {
	var gotHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		gotHeader = r.Header.Get("X-Tenant")
		if !ok || u != "ops" || p != "s3cr3t-pa55" {
			w.Header().Set("WWW-Authenticate", `Basic realm="flink"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"flink-version":"2.3.0"}`))
	}))
	defer srv.Close()
	h := http.Header{}
	h.Set("X-Tenant", "data")
	cases := []struct {
		name       string
		opts       Options
		wantDenied bool
	}{
		{"right", Options{Username: "ops", Password: "s3cr3t-pa55", Headers: h}, false},
		{"wrong password", Options{Username: "ops", Password: "s3cr3t-wrong"}, true},
		{"none", Options{NoToken: true}, true},
		{"a token instead", Options{Token: "tok-value"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(srv.URL, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Overview(context.Background())
			if !tc.wantDenied {
				if err != nil {
					t.Fatal(err)
				}
				if gotHeader != "data" {
					t.Errorf("header X-Tenant = %q", gotHeader)
				}
				return
			}
			if !errors.Is(err, cluster.ErrDenied) {
				t.Fatalf("want ErrDenied, got %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, strings.TrimPrefix(srv.URL, "http://")) || !strings.Contains(msg, "Basic") {
				t.Errorf("message should name the target and the scheme asked for: %s", msg)
			}
			for _, secret := range []string{"s3cr3t", "tok-value"} {
				if strings.Contains(msg, secret) {
					t.Errorf("message leaks a secret: %s", msg)
				}
			}
		})
	}
}

func TestNewRefusesUnsafeSettings(t *testing.T) {
	for _, tc := range []struct {
		target string
		opts   Options
		want   string
	}{
		{"http://ops:pw@jm:8081", Options{}, "no user or password in the target"},
		{"jm:8081", Options{Username: "a", Token: "b"}, "name one"},
		{"jm:8081", Options{Headers: http.Header{"Authorization": {"x"}}}, "Authorization"},
		{"http://jm:8081", Options{TLS: (&TLSFiles{}).mustConfig(t)}, "plain http"},
	} {
		_, err := New(tc.target, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s): %v, want %q", tc.target, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), ":pw@") {
			t.Errorf("password printed: %v", err)
		}
	}
}

func (f *TLSFiles) mustConfig(t *testing.T) *tls.Config {
	cfg, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
