package contexts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `# my ckpt config
theme: dark   # keep this comment
current-context: dev
contexts:
  dev:
    jobmanager: localhost:8081
  prod:
    jobmanager: https://flink.prod:8443
    checkpoints: s3://prod/checkpoints
    tls:
      ca: ~/prod-ca.pem
    auth:
      username: ops
      password-file: /etc/ckpt/prod-pw
    headers:
      X-Tenant: data
keys:
  quit: [q]
`

func write(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(s), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	f, err := Load(write(t, sample))
	if err != nil {
		t.Fatal(err)
	}
	if f.Current != "dev" || len(f.Contexts) != 2 || f.Contexts["prod"].Auth.Username != "ops" || f.Contexts["prod"].Headers["X-Tenant"] != "data" {
		t.Fatalf("%+v", f)
	}
	if got := strings.Join(f.Names(), ","); got != "dev,prod" {
		t.Errorf("names %s", got)
	}
	if _, err := f.Get("staging"); err == nil || !strings.Contains(err.Error(), "dev, prod") {
		t.Errorf("unknown context: %v", err)
	}
	missing, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err != nil || len(missing.Contexts) != 0 {
		t.Errorf("a missing file has no contexts: %v", err)
	}
}

func TestLoadRefuses(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"misspelt key", "contexts:\n  p:\n    auth:\n      pasword-file: /x\n", "pasword-file"},
		{"inline password", "contexts:\n  p:\n    auth:\n      username: a\n      password: hunter2\n", "password"},
		{"current names nothing", "current-context: q\ncontexts:\n  p:\n    jobmanager: a\n", `"q"`},
		{"password without user", "contexts:\n  p:\n    auth:\n      password-env: X\n", "without a username"},
		{"basic and token", "contexts:\n  p:\n    auth:\n      username: a\n      token-env: T\n", "name one"},
		{"authorization header", "contexts:\n  p:\n    headers:\n      authorization: Bearer x\n", "Authorization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
			if strings.Contains(tc.body, "hunter2") && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

// use changes current-context only: comments, order and other keys stay,
// and the file keeps its mode.
func TestUse(t *testing.T) {
	p := write(t, sample)
	if err := Use(p, "prod"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	s := string(b)
	for _, keep := range []string{"# my ckpt config", "theme: dark", "# keep this comment", "quit: [q]", "password-file: /etc/ckpt/prod-pw"} {
		if !strings.Contains(s, keep) {
			t.Errorf("lost %q:\n%s", keep, s)
		}
	}
	f, err := Load(p)
	if err != nil || f.Current != "prod" {
		t.Fatalf("current %q %v", f.Current, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	if err := Use(p, "nope"); err == nil {
		t.Error("an unknown context must be refused")
	}
	// No current-context line yet: one is added.
	p2 := write(t, "contexts:\n  a:\n    jobmanager: x:1\n")
	if err := Use(p2, "a"); err != nil {
		t.Fatal(err)
	}
	if f, _ := Load(p2); f.Current != "a" {
		t.Errorf("current %q", f.Current)
	}
	// Nothing but the config is left in its directory.
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("pa55\n"), 0o600)
	env := map[string]string{"PW": "from-env"}
	getenv := func(k string) string { return env[k] }
	if s, err := Secret(pw, "", getenv); err != nil || s != "pa55" {
		t.Errorf("file: %q %v", s, err)
	}
	if s, err := Secret("", "PW", getenv); err != nil || s != "from-env" {
		t.Errorf("env: %q %v", s, err)
	}
	if _, err := Secret("", "UNSET", getenv); err == nil || !strings.Contains(err.Error(), "UNSET") {
		t.Errorf("unset env: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	if _, err := Secret(empty, "", getenv); err == nil {
		t.Error("an empty secret file must be refused")
	}
	if _, err := Secret(dir, "", getenv); err == nil {
		t.Error("a directory is not a secret file")
	}
}
