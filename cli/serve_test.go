package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
)

// TestServeToken: with --require-token serve creates its token in a
// user-only file and refuses requests without it (401); ckpt's commands
// find it there and send it; the token is never in serve's output.
func TestServeToken(t *testing.T) {
	cfgHome := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	t.Setenv(flinkrest.TokenEnv, "")
	t.Setenv(flinkrest.TokenFileEnv, "")
	url, log := launchServe(t, serveOptions{cfg: configOf(t, nil), requireToken: true})

	file := filepath.Join(cfgHome, "ckpt", "serve-token")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatalf("no token file: %v\n%s", err, log.String())
	}
	di, _ := os.Stat(filepath.Dir(file))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("token file mode %04o in a directory of mode %04o; want 0600 in 0700", fi.Mode().Perm(), di.Mode().Perm())
	}
	b, _ := os.ReadFile(file)
	token := strings.TrimSpace(string(b))
	if len(token) < 32 {
		t.Fatalf("token %d characters", len(token))
	}
	if !strings.Contains(log.String(), file) || strings.Contains(log.String(), token) {
		t.Errorf("serve's output should name the file, never the token:\n%s", log.String())
	}

	get := func(auth string) int {
		req, _ := http.NewRequest(http.MethodGet, url+"/jobs/overview", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := get(""); c != http.StatusUnauthorized {
		t.Errorf("without the token: HTTP %d, want 401", c)
	}
	if c := get("Bearer " + token); c != http.StatusOK {
		t.Errorf("with the token: HTTP %d, want 200", c)
	}
	code, out, errOut := runCkpt(t, "list", "-m", url)
	if code != ExitOK || !strings.Contains(out, "No running jobs.") {
		t.Errorf("ckpt list with the token file: exit %d\n%s%s", code, out, errOut)
	}
	// Elsewhere (no file here), $CKPT_TOKEN carries it.
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	if code, out, errOut := runCkpt(t, "list", "-m", url); code == ExitOK || !strings.Contains(out+errOut, "401") {
		t.Errorf("ckpt list without a token: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv(flinkrest.TokenEnv, token)
	if code, out, errOut := runCkpt(t, "list", "-m", url); code != ExitOK {
		t.Errorf("ckpt list with $CKPT_TOKEN: exit %d\n%s%s", code, out, errOut)
	}

	// A restarted serve keeps the token.
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	t.Setenv(flinkrest.TokenEnv, "")
	_, log2 := launchServe(t, serveOptions{cfg: configOf(t, nil), requireToken: true})
	if b2, _ := os.ReadFile(file); strings.TrimSpace(string(b2)) != token || !strings.Contains(log2.String(), "kept in "+file) {
		t.Errorf("second serve: token changed or not reused\n%s", log2.String())
	}
}

// TestServeTokenBeyondLoopback: an address beyond loopback always needs the
// token; loopback needs it only when asked; a token file others can read
// is refused.
func TestServeTokenBeyondLoopback(t *testing.T) {
	t.Setenv(flinkrest.TokenEnv, "")
	t.Setenv(flinkrest.TokenFileEnv, "")
	for _, tc := range []struct {
		address string
		require bool
		want    bool
	}{
		{"127.0.0.1", false, false},
		{"localhost", false, false},
		{"127.0.0.1", true, true},
		{"0.0.0.0", false, true},
		{"192.0.2.10", false, true},
		{"::", false, true},
	} {
		t.Setenv("XDG_CONFIG_HOME", t.TempDir())
		var log strings.Builder
		ro, err := serverOptions(serveOptions{cfg: configOf(t, nil), address: tc.address, requireToken: tc.require}, &log)
		if err != nil {
			t.Fatalf("%s: %v", tc.address, err)
		}
		if (ro.Token != "") != tc.want {
			t.Errorf("%s require=%v: token required %v, want %v", tc.address, tc.require, ro.Token != "", tc.want)
		}
		if ro.Token != "" && strings.Contains(log.String(), ro.Token) {
			t.Errorf("%s: the token is in the output: %s", tc.address, log.String())
		}
	}
	file := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(file, []byte("0123456789abcdef0123456789abcdef\n"), 0o644)
	if _, err := serverOptions(serveOptions{cfg: configOf(t, nil), address: "127.0.0.1", requireToken: true, tokenFile: file},
		io.Discard); err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Errorf("world-readable token file: %v", err)
	}
}

// TestServeTLS: with --tls-cert/--tls-key serve answers HTTPS only.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)

	url, _ := launchServe(t, serveOptions{cfg: configOf(t, nil), tlsCert: certFile, tlsKey: keyFile})
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("URL %s", url)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(url + "/overview")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HTTPS: %d", resp.StatusCode)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get("http://" + strings.TrimPrefix(url, "https://") + "/overview"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("plain HTTP answered 200 on the TLS port")
		}
	}
}
