// Package contexts holds named targets, as kubectl and k9s have them: a
// REST endpoint (a Flink JobManager or `ckpt serve`) with how to reach it
// (TLS, authentication, headers) and where its snapshots live (checkpoint
// and savepoint directories, storage settings). They live in ckpt's config
// file beside the TUI's settings:
//
//	current-context: prod
//	contexts:
//	  prod:
//	    jobmanager: https://flink.prod.example.org:8443
//	    checkpoints: s3://prod-state/checkpoints
//	    savepoints: s3://prod-state/savepoints
//	    flink-conf-dir: /etc/flink/prod       # Flink's keys: s3.*, security.ssl.rest.*
//	    flink:                                # or the keys themselves (win over the dir)
//	      s3.endpoint: https://s3.eu-west-1.amazonaws.com
//	    tls:
//	      ca: ~/.ckpt/prod-ca.pem
//	      cert: ~/.ckpt/ops.pem               # mutual TLS
//	      key: ~/.ckpt/ops-key.pem
//	    auth:
//	      username: ops                       # basic authentication (a proxy)
//	      password-file: ~/.ckpt/prod-password
//	      # token-file: ... / token-env: ...  # or a bearer token
//	    headers:
//	      X-Tenant: data-platform
//
// Secrets are never written in the file: passwords and tokens come from
// files or environment variables the context names.
package contexts

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/ckpt-dev/ckpt/storage"
)

// Context is one named target.
type Context struct {
	// JobManager is the REST endpoint, as -m takes it: host:port, a URL,
	// or yarn:APPID for a Flink session on YARN (found through the
	// ResourceManager of HadoopConfDir's yarn-site.xml; cluster/yarn).
	JobManager string `yaml:"jobmanager"`
	// Checkpoints and Savepoints are where the target's snapshots live
	// (what the TUI opens; the default savepoint directory).
	Checkpoints string `yaml:"checkpoints"`
	Savepoints  string `yaml:"savepoints"`
	// FlinkConfDir is a directory with Flink's config.yaml or
	// flink-conf.yaml, read for storage (s3.*) and REST TLS
	// (security.ssl.rest.*) keys, as --flink-conf-dir.
	FlinkConfDir string `yaml:"flink-conf-dir"`
	// HadoopConfDir is --hadoop-conf-dir for this context.
	HadoopConfDir string `yaml:"hadoop-conf-dir"`
	// Flink holds Flink configuration keys, as -D (they win over the
	// conf dir's).
	Flink map[string]string `yaml:"flink"`
	TLS   TLS               `yaml:"tls"`
	Auth  Auth              `yaml:"auth"`
	// Headers are sent with every REST request.
	Headers map[string]string `yaml:"headers"`
}

// TLS names PEM files; Flink's keystores are named by its own
// security.ssl.rest.* keys (in Flink or flink-conf-dir).
type TLS struct {
	CA         string `yaml:"ca"`
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	ServerName string `yaml:"server-name"`
}

// Auth is basic authentication or a bearer token, from files or the
// environment only.
type Auth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password-file"`
	PasswordEnv  string `yaml:"password-env"`
	TokenFile    string `yaml:"token-file"`
	TokenEnv     string `yaml:"token-env"`
}

// File is the part of the config file this package reads.
type File struct {
	Current  string             `yaml:"current-context"`
	Contexts map[string]Context `yaml:"contexts"`

	// Path is where it was read from ("" when there is no file).
	Path string `yaml:"-"`
}

// maxConfigBytes bounds the config file (as the TUI's loader does).
const maxConfigBytes = 1 << 20

// ConfigPath is ckpt's config file, given an environment lookup:
// CKPT_CONFIG, else XDG_CONFIG_HOME/ckpt/config.yaml, else
// HOME/.config/ckpt/config.yaml.
func ConfigPath(getenv func(string) string) string {
	if p := getenv("CKPT_CONFIG"); p != "" {
		return p
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "ckpt", "config.yaml")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "ckpt", "config.yaml")
	}
	return ""
}

// Load reads the contexts of the config file at path; a missing file has
// none. Keys other than current-context and contexts belong to the TUI and
// are left to it; inside a context an unknown key is an error naming it
// (a misspelt "pasword-file" must not silently send no password).
func Load(path string) (*File, error) {
	f := &File{}
	if path == "" {
		return f, nil
	}
	b, err := storage.ReadRegular(path, maxConfigBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	var top map[string]yaml.Node
	if err := yaml.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("config %s: %v", path, err)
	}
	f.Path = path
	if n, ok := top["current-context"]; ok {
		if err := n.Decode(&f.Current); err != nil {
			return nil, fmt.Errorf("config %s: current-context: %v", path, err)
		}
	}
	if n, ok := top["contexts"]; ok {
		out, err := yaml.Marshal(&n)
		if err != nil {
			return nil, fmt.Errorf("config %s: contexts: %v", path, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(out))
		dec.KnownFields(true)
		if err := dec.Decode(&f.Contexts); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("config %s: contexts (line %d): %v", path, n.Line, err)
		}
	}
	for name, c := range f.Contexts {
		if err := c.check(); err != nil {
			return nil, fmt.Errorf("config %s: context %q: %v", path, name, err)
		}
	}
	if _, ok := f.Contexts[f.Current]; f.Current != "" && !ok {
		return nil, fmt.Errorf("config %s: current-context %q names no context (have %s)", path, f.Current, strings.Join(f.Names(), ", "))
	}
	return f, nil
}

func (c Context) check() error {
	a := c.Auth
	if a.Username == "" && (a.PasswordFile != "" || a.PasswordEnv != "") {
		return errors.New("auth: a password without a username")
	}
	if a.Username != "" && (a.TokenFile != "" || a.TokenEnv != "") {
		return errors.New("auth: both basic authentication and a token; name one")
	}
	if a.PasswordFile != "" && a.PasswordEnv != "" {
		return errors.New("auth: both password-file and password-env; name one")
	}
	if a.TokenFile != "" && a.TokenEnv != "" {
		return errors.New("auth: both token-file and token-env; name one")
	}
	for k := range c.Headers {
		if strings.EqualFold(k, "Authorization") {
			return errors.New("headers: Authorization comes from auth (a file or the environment), not from the config")
		}
	}
	return nil
}

// Names lists the contexts, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Contexts))
	for n := range f.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Get returns the named context, or an error naming the known ones.
func (f *File) Get(name string) (Context, error) {
	c, ok := f.Contexts[name]
	if !ok {
		if len(f.Contexts) == 0 {
			where := f.Path
			if where == "" {
				where = "the config file"
			}
			return c, fmt.Errorf("no context %q: %s defines no contexts (see README: Contexts)", name, where)
		}
		return c, fmt.Errorf("no context %q (have %s)", name, strings.Join(f.Names(), ", "))
	}
	return c, nil
}

// Expand resolves a leading "~/" in a path from the config file.
func Expand(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

// maxSecretBytes bounds a password or token file.
const maxSecretBytes = 64 << 10

// Secret reads a password or token from the file or the environment
// variable named (one of them). Errors name the file or variable, never
// the value.
func Secret(file, env string, getenv func(string) string) (string, error) {
	switch {
	case file != "":
		p := Expand(file)
		b, err := storage.ReadRegular(p, maxSecretBytes)
		if err != nil {
			return "", fmt.Errorf("secret file: %w", err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", fmt.Errorf("secret file %s is empty", p)
		}
		return s, nil
	case env != "":
		s := getenv(env)
		if s == "" {
			return "", fmt.Errorf("$%s is not set (the context reads its secret from it)", env)
		}
		return s, nil
	}
	return "", nil
}
