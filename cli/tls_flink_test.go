package cli

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/internal/testpki"
	"github.com/ckpt-dev/ckpt/peers"
)

// Real Flink with REST TLS and mutual authentication, set up as Flink's
// documentation does it (one keytool keystore and a truststore with its
// certificate, on both sides): ckpt reaches it from the same Flink
// configuration file Flink's CLI reads, lists and savepoints its job; a
// client without the keystore is refused with a clear error; and behind a
// reverse proxy asking for basic authentication (over its own TLS), a
// context reaches it.
func TestSecureRESTAgainstFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer: not in -short")
	}
	keytool, err := exec.LookPath("keytool")
	if err != nil {
		peers.Unavailable(t, "keytool (a JDK) not on PATH")
	}
	for _, v := range peers.FlinkVersions {
		t.Run(v, func(t *testing.T) {
			dir := t.TempDir()
			ks, ts := filepath.Join(dir, "rest.keystore"), filepath.Join(dir, "rest.truststore")
			typ := "PKCS12"
			if v == peers.FlinkVersion120 {
				typ = "JKS" // the format older setups have
			}
			for _, args := range [][]string{
				{"-genkeypair", "-keystore", ks, "-storetype", typ, "-storepass", "ks-pass", "-keypass", "ks-pass", "-alias", "flink.rest",
					"-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=flink.rest", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2"},
				{"-exportcert", "-keystore", ks, "-storepass", "ks-pass", "-alias", "flink.rest", "-rfc", "-file", filepath.Join(dir, "rest.pem")},
				{"-importcert", "-noprompt", "-keystore", ts, "-storetype", typ, "-storepass", "ts-pass", "-alias", "flink.rest", "-file", filepath.Join(dir, "rest.pem")},
			} {
				if out, err := exec.Command(keytool, args...).CombinedOutput(); err != nil {
					t.Fatalf("keytool %v: %v\n%s", args, err, out)
				}
			}
			conf := map[string]string{
				flinkrest.KeySSLRestEnabled: "true", flinkrest.KeySSLRestAuthentication: "true",
				flinkrest.KeySSLRestKeystore: ks, flinkrest.KeySSLRestKeystorePassword: "ks-pass", flinkrest.KeySSLRestKeyPassword: "ks-pass",
				flinkrest.KeySSLRestTruststore: ts, flinkrest.KeySSLRestTruststorePassword: "ts-pass",
				flinkrest.KeySSLRestKeystoreType: typ, flinkrest.KeySSLRestTruststoreType: typ,
			}
			p := peers.StartFlink(t, peers.FlinkOptions{Version: v, Config: conf})
			if !strings.HasPrefix(p.RESTURL(), "https://") {
				t.Fatalf("Flink's REST endpoint is %s, want https", p.RESTURL())
			}
			submitStart := time.Now()
			run, err := p.Submit(peers.FlinkJob{Parallelism: 1, CheckpointInterval: 300 * time.Millisecond, Rate: 100})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("submitted in %v", time.Since(submitStart).Round(time.Millisecond))
			// Flink's own configuration file, as Flink's CLI reads it.
			confDir := filepath.Join(dir, "conf")
			os.MkdirAll(confDir, 0o755)
			var yml strings.Builder
			for k, val := range conf {
				yml.WriteString(k + ": " + val + "\n")
			}
			os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(yml.String()), 0o600)
			hostPort := strings.TrimPrefix(p.RESTURL(), "https://")
			t.Setenv("FLINK_CONF_DIR", "")
			t.Setenv("CKPT_CONFIG", filepath.Join(dir, "none.yaml"))

			// Without a scheme: security.ssl.rest.enabled makes it https.
			code, out, errOut := runCkptLogged(t, "list", "-m", hostPort, "--flink-conf-dir", confDir)
			if code != ExitOK || !strings.Contains(out, run.ID()) {
				t.Fatalf("list over mutual TLS: exit %d\n%s%s", code, out, errOut)
			}
			code, out, errOut = runCkptLogged(t, "savepoint", "-m", hostPort, "--flink-conf-dir", confDir, run.ID(), filepath.Join(dir, "sp"))
			if code != ExitOK || !regexp.MustCompile(`Savepoint completed\. Path: \S+`).MatchString(out) {
				t.Fatalf("savepoint over mutual TLS: exit %d\n%s%s", code, out, errOut)
			}
			// Trusting the server but holding no client key: refused, named.
			code, _, errOut = runCkptLogged(t, "list", "-m", p.RESTURL(), "-D", flinkrest.KeySSLRestTruststore+"="+ts,
				"-D", flinkrest.KeySSLRestTruststorePassword+"=ts-pass")
			if code != ExitError || !strings.Contains(errOut, hostPort) || !strings.Contains(errOut, "TLS") {
				t.Errorf("no client certificate: exit %d %s", code, errOut)
			}
			if strings.Contains(errOut, "ts-pass") || strings.Contains(errOut, "ks-pass") {
				t.Errorf("a password was printed: %s", errOut)
			}
			// Not trusting it: refused, named.
			code, _, errOut = runCkptLogged(t, "list", "-m", p.RESTURL())
			if code != ExitError || !strings.Contains(errOut, "unknown authority") {
				t.Errorf("untrusted: exit %d %s", code, errOut)
			}

			// Behind a proxy (its own TLS, basic authentication), which
			// reaches Flink with the REST keystore: a context gets through.
			files, _, err := flinkrest.TLSFromFlinkConf(conf)
			if err != nil {
				t.Fatal(err)
			}
			upstream, err := files.Config()
			if err != nil {
				t.Fatal(err)
			}
			pki := testpki.New(t, "127.0.0.1")
			proxy, passed := secureProxyTo(t, pki, p.RESTURL(), &http.Transport{TLSClientConfig: upstream})
			pw := filepath.Join(dir, "pw")
			os.WriteFile(pw, []byte("pr0xy-pa55"), 0o600)
			cfg := filepath.Join(dir, "config.yaml")
			os.WriteFile(cfg, []byte("contexts:\n  flink:\n    jobmanager: "+proxy+"\n    tls:\n      ca: "+pki.CAFile+
				"\n      cert: "+pki.CertFile+"\n      key: "+pki.KeyFile+"\n    auth:\n      username: ops\n      password-file: "+pw+
				"\n    headers:\n      X-Tenant: data\n"), 0o600)
			t.Setenv("CKPT_CONFIG", cfg)
			code, out, errOut = runCkptLogged(t, "list", "--context", "flink")
			if code != ExitOK || !strings.Contains(out, run.ID()) || passed.Load() == 0 {
				t.Fatalf("list through the proxy: exit %d\n%s%s", code, out, errOut)
			}
			os.WriteFile(pw, []byte("wr0ng"), 0o600)
			code, _, errOut = runCkptLogged(t, "list", "--context", "flink")
			if code != ExitError || !strings.Contains(errOut, "refused the credentials") || strings.Contains(errOut, "wr0ng") {
				t.Errorf("wrong password through the proxy: exit %d %s", code, errOut)
			}
		})
	}
}


// runCkptLogged is runCkpt, logging how long each command took.
func runCkptLogged(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	start := time.Now()
	code, out, errOut := runCkpt(t, args...)
	t.Logf("ckpt %s: exit %d in %v", args[0], code, time.Since(start).Round(time.Millisecond))
	return code, out, errOut
}
