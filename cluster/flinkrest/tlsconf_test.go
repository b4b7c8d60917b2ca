package flinkrest

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/internal/testpki"
)

// server answers /overview over TLS with the PKI's server certificate;
// mutual requires a client certificate the CA signed.
func server(t *testing.T, p *testpki.PKI, mutual bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"taskmanagers":1,"slots-total":4,"slots-available":4,"jobs-running":0,"jobs-finished":0,"jobs-cancelled":0,"jobs-failed":0,"flink-version":"2.3.0"}`))
	}))
	srv.TLS = p.ServerTLS(mutual)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func overviewWith(t *testing.T, url string, files TLSFiles) error {
	t.Helper()
	cfg, err := files.Config()
	if err != nil {
		return err
	}
	c, err := New(url, Options{TLS: cfg, NoToken: true, Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	_, err = c.Overview(context.Background())
	return err
}

func TestTLSTrustAndMutual(t *testing.T) {
	p := testpki.New(t, "127.0.0.1")
	plain := server(t, p, false)
	mutual := server(t, p, true)
	sum := sha1.Sum(p.Server.Leaf.Raw)
	fp := hex.EncodeToString(sum[:])
	colon := colonHex(sum[:])

	cases := []struct {
		name    string
		url     string
		files   TLSFiles
		wantErr string // "" = the call succeeds
	}{
		{"system roots do not know the CA", plain.URL, TLSFiles{}, "unknown authority"},
		{"the CA file", plain.URL, TLSFiles{CAFile: p.CAFile}, ""},
		{"another CA", plain.URL, TLSFiles{CAFile: p.OtherCAFile}, "unknown authority"},
		{"pinned SHA-1, colons", plain.URL, TLSFiles{Fingerprints: []string{colon}}, ""},
		{"pinned SHA-1, plain hex", plain.URL, TLSFiles{Fingerprints: []string{"00" + fp[2:], fp}}, ""},
		{"pinned, wrong", plain.URL, TLSFiles{Fingerprints: []string{strings.Repeat("ab", 20)}}, "matches no fingerprint"},
		{"mutual without a client certificate", mutual.URL, TLSFiles{CAFile: p.CAFile}, "client certificate"},
		{"mutual with the client certificate", mutual.URL, TLSFiles{CAFile: p.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile}, ""},
		{"certificate without key", mutual.URL, TLSFiles{CAFile: p.CAFile, CertFile: p.CertFile}, "give both"},
		{"CA file that is not PEM", plain.URL, TLSFiles{CAFile: p.KeyFile + ".missing"}, "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := overviewWith(t, tc.url, tc.files)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want an error with %q, got %v", tc.wantErr, err)
			}
		})
	}
	// A handshake failure is a refusal, not an unreachable target.
	err := overviewWith(t, plain.URL, TLSFiles{})
	if !errors.Is(err, cluster.ErrDenied) || !strings.Contains(err.Error(), strings.TrimPrefix(plain.URL, "https://")) {
		t.Errorf("unknown authority: %v, want ErrDenied naming the target", err)
	}
}

// security.ssl.verify-hostname: false keeps the chain check, drops the
// name check.
func TestTLSVerifyHostname(t *testing.T) {
	p := testpki.New(t, "jm.example.org") // not the address the test dials
	srv := server(t, p, false)
	if err := overviewWith(t, srv.URL, TLSFiles{CAFile: p.CAFile}); err == nil || !strings.Contains(err.Error(), "another name") {
		t.Fatalf("host name check: %v", err)
	}
	if err := overviewWith(t, srv.URL, TLSFiles{CAFile: p.CAFile, NoVerifyHostname: true}); err != nil {
		t.Fatalf("verify-hostname false: %v", err)
	}
	if err := overviewWith(t, srv.URL, TLSFiles{CAFile: p.OtherCAFile, NoVerifyHostname: true}); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("verify-hostname false still checks the chain: %v", err)
	}
	if err := overviewWith(t, srv.URL, TLSFiles{CAFile: p.CAFile, ServerName: "jm.example.org"}); err != nil {
		t.Fatalf("server name override: %v", err)
	}
}

func TestTLSFromFlinkConf(t *testing.T) {
	files, enabled, err := TLSFromFlinkConf(map[string]string{
		KeySSLRestEnabled: "true", KeySSLRestTruststore: "/t.jks", KeySSLRestTruststorePassword: "tp",
		KeySSLRestKeystore: "/k.jks", KeySSLRestKeystorePassword: "kp",
		KeySSLRestCertFingerprint: "AA:BB, CC", KeySSLVerifyHostname: "false",
	})
	if err != nil || !enabled {
		t.Fatal(enabled, err)
	}
	if files.Truststore != "/t.jks" || files.TruststorePassword != "tp" || !files.NoVerifyHostname || len(files.Fingerprints) != 2 {
		t.Errorf("files %+v", files)
	}
	if files.Keystore != "" {
		t.Errorf("the keystore is used only with authentication-enabled, as in Flink: %+v", files)
	}
	files, _, err = TLSFromFlinkConf(map[string]string{KeySSLRestAuthentication: "true", KeySSLRestKeystore: "/k.p12", KeySSLRestKeystorePassword: "kp"})
	if err != nil || files.Keystore != "/k.p12" || files.KeystorePassword != "kp" {
		t.Errorf("mutual: %+v %v", files, err)
	}
	for _, bad := range []map[string]string{
		{KeySSLRestEnabled: "yes please"},
		{KeySSLRestAuthentication: "true"},
		{KeySSLVerifyHostname: "maybe"},
	} {
		if _, _, err := TLSFromFlinkConf(bad); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

// Java's own keytool writes the keystores Flink reads: ckpt reads the same
// files (JKS and PKCS12), as trust store and as client key store.
func TestJavaKeystores(t *testing.T) {
	keytool, err := exec.LookPath("keytool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("keytool (the JDK's) is needed under CI=true")
		}
		t.Skip("SKIP: no keytool (a JDK) on PATH")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(keytool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("keytool %v: %v\n%s", args, err, out)
		}
	}
	for _, typ := range []string{"JKS", "PKCS12"} {
		t.Run(typ, func(t *testing.T) {
			ks := filepath.Join(dir, "server-"+typ)
			run("-genkeypair", "-keystore", ks, "-storetype", typ, "-storepass", "store-secret", "-keypass", "store-secret",
				"-alias", "jm", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=jobmanager", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2")
			pemFile := filepath.Join(dir, "server-"+typ+".pem")
			run("-exportcert", "-rfc", "-keystore", ks, "-storepass", "store-secret", "-alias", "jm", "-file", pemFile)
			ts := filepath.Join(dir, "trust-"+typ)
			run("-importcert", "-noprompt", "-keystore", ts, "-storetype", typ, "-storepass", "trust-secret", "-alias", "jm", "-file", pemFile)

			// The key store is read back as a client certificate, with its
			// chain, and serves as the test server's certificate too.
			cert, err := readKeystore(ks, "store-secret", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readKeystore(ks, "wrong", ""); err == nil || strings.Contains(err.Error(), "wrong\"") || strings.Contains(err.Error(), "store-secret") {
				t.Errorf("wrong password: %v", err)
			}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"flink-version":"2.3.0"}`))
			}))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			srv.StartTLS()
			defer srv.Close()
			// Trusted through the trust store keytool wrote; through the key
			// store used as its own trust store (Java trusts key entries' certs).
			for _, trust := range []struct{ file, pass string }{{ts, "trust-secret"}, {ks, "store-secret"}} {
				if err := overviewWith(t, srv.URL, TLSFiles{Truststore: trust.file, TruststorePassword: trust.pass}); err != nil {
					t.Errorf("trust store %s: %v", filepath.Base(trust.file), err)
				}
			}
			if err := overviewWith(t, srv.URL, TLSFiles{Truststore: ts, TruststorePassword: "nope"}); err == nil {
				t.Error("a wrong trust store password must fail")
			}
		})
	}
}
