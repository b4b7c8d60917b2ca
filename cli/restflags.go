package cli

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/cluster/yarn"
	"github.com/ckpt-dev/ckpt/internal/contexts"
	"github.com/ckpt-dev/ckpt/storage"
)

// How a command reaches its REST target, in one place for every command
// with -m and for the TUI:
//
//  1. the endpoint: -m; else the context named by --context or
//     $CKPT_CONTEXT; else $CKPT_JOBMANAGER; else the config file's
//     current-context; else the command's default;
//  2. TLS: Flink's own security.ssl.rest.* keys (from --flink-conf-dir /
//     $FLINK_CONF_DIR, the context's flink-conf-dir and flink: keys, -D),
//     then PEM files (the context's tls:, --rest-ca/--rest-cert/--rest-key,
//     which win). With security.ssl.rest.enabled a target without a scheme
//     is reached over https, as Flink's CLI does;
//  3. credentials: --rest-user with --rest-password-file or
//     $CKPT_REST_PASSWORD, or --rest-token-file; else the context's auth:;
//     else the token ckpt serve keeps (flinkrest.LookupToken);
//  4. headers: the context's headers:, then --rest-header.
//
// A target "yarn:APPID" (-m yarn:APPID, or Flink's -yid APPID /
// --yarnapplicationId, alone or with -m yarn-cluster; a context's
// jobmanager: may say the same) is a Flink session on YARN: the
// ResourceManager named by yarn-site.xml (--hadoop-conf-dir, the context's
// hadoop-conf-dir, $YARN_CONF_DIR, $HADOOP_CONF_DIR, $HADOOP_HOME/etc/hadoop)
// gives its JobManager's REST address, or its web proxy (cluster/yarn).
//
// A context's TLS, credentials and headers go only to the context's own
// endpoint: with -m or $CKPT_JOBMANAGER naming another one, they are not
// sent there.

// ContextEnv names the environment variable that picks a context.
const ContextEnv = "CKPT_CONTEXT"

func init() {
	rootSetup = append(rootSetup, func(root *cobra.Command) {
		root.PersistentFlags().String("context", "", "named target from the config file (default $"+ContextEnv+", else its current-context; see `ckpt context`)")
	})
	// Flink's CLI spells the YARN application -yid.
	argRewriters = append(argRewriters, func(args []string) []string {
		out := append([]string(nil), args...)
		for i, a := range out {
			if a == "--" {
				break
			}
			if a == "-yid" || strings.HasPrefix(a, "-yid=") {
				out[i] = "--yarnapplicationId" + strings.TrimPrefix(a, "-yid")
			}
		}
		return out
	})
}

// yarnIDFlag is Flink's --yarnapplicationId (-yid).
const yarnIDFlag = "yarnapplicationId"

// yarnCluster is Flink's -m value that goes with -yid.
const yarnCluster = "yarn-cluster"

// restFlags are the REST security flags of a command with -m.
type restFlags struct {
	ca, cert, key  string
	user, passFile string
	tokenFile      string
	headers        []string
}

func addRESTFlags(cmd *cobra.Command) *restFlags {
	f := &restFlags{}
	fl := cmd.Flags()
	fl.StringVar(&f.ca, "rest-ca", "", "PEM file with the CA that signs the REST endpoint's certificate (https targets)")
	fl.StringVar(&f.cert, "rest-cert", "", "PEM client certificate for mutual TLS (with --rest-key)")
	fl.StringVar(&f.key, "rest-key", "", "PEM private key of --rest-cert")
	fl.StringVar(&f.user, "rest-user", "", "basic authentication user (a proxy in front of Flink); the password comes from --rest-password-file or $"+flinkrest.PasswordEnv)
	fl.StringVar(&f.passFile, "rest-password-file", "", "file holding the basic authentication password")
	fl.StringVar(&f.tokenFile, "rest-token-file", "", "file holding a bearer token to send (default $"+flinkrest.TokenEnv+", else ckpt serve's token on this machine)")
	fl.StringArrayVar(&f.headers, "rest-header", nil, "`Name: value` header sent with every REST request (repeatable)")
	fl.String(yarnIDFlag, "", "(-yid) the Flink session on YARN with this application ID, found through the ResourceManager of yarn-site.xml; same as -m yarn:APPID")
	return f
}

// restTarget is a resolved REST endpoint with how to reach it.
type restTarget struct {
	URL     string
	Context string // the context it came from ("" = ad hoc)
	Options flinkrest.Options
	// YARN is the application URL was found for ("" = not on YARN).
	YARN yarn.Endpoint
}

// Name is how the TUI header and messages name the target.
func (t restTarget) Name(url string) string {
	u := strings.TrimPrefix(url, "http://")
	if t.YARN.App.ID != "" {
		u = yarn.Scheme + t.YARN.App.ID + " (" + u + ")"
	}
	if t.Context != "" {
		return t.Context + " (" + u + ")"
	}
	return u
}

// loadContexts reads the contexts of ckpt's config file.
func loadContexts() (*contexts.File, error) {
	return contexts.Load(contexts.ConfigPath(os.Getenv))
}

// activeContext is the context in effect for cmd: --context, else
// $CKPT_CONTEXT, else the config file's current-context ("" = none).
// explicit says it was asked for by flag or environment.
func activeContext(cmd *cobra.Command) (name string, c contexts.Context, explicit bool, err error) {
	name, _ = cmd.Flags().GetString("context")
	explicit = name != ""
	if name == "" {
		name = os.Getenv(ContextEnv)
		explicit = name != ""
	}
	file, err := loadContexts()
	if err != nil {
		return "", c, explicit, err
	}
	if name == "" {
		name = file.Current
	}
	if name == "" {
		return "", c, false, nil
	}
	c, err = file.Get(name)
	if err != nil {
		return "", c, explicit, usagef("--context: %v", err)
	}
	return name, c, explicit, nil
}

// resolveREST resolves the target of cmd: m is -m's value ("" = not
// given), def the command's default endpoint ("" = none: the caller
// decides, e.g. the TUI's embedded engine).
func resolveREST(cmd *cobra.Command, m string, rf *restFlags, def string) (restTarget, error) {
	return resolveRESTFor(cmd, m, rf, def, "")
}

// resolveRESTFor is resolveREST with the context named by force (the
// TUI's :ctx) instead of the active one.
func resolveRESTFor(cmd *cobra.Command, m string, rf *restFlags, def, force string) (restTarget, error) {
	var t restTarget
	ctxName, ctx, explicit, err := activeContext(cmd)
	if err != nil && force == "" {
		return t, err
	}
	if force != "" {
		file, err := loadContexts()
		if err != nil {
			return t, err
		}
		if ctx, err = file.Get(force); err != nil {
			return t, err
		}
		ctxName, explicit = force, true
	}
	useCtx := false
	if yid := flagString(cmd, yarnIDFlag); yid != "" && force == "" {
		if m != "" && m != yarnCluster && m != yarn.Scheme+yid {
			return t, usagef("-yid %s and -m %s name two targets; give one (-m %s -yid APPID is Flink's spelling)", yid, m, yarnCluster)
		}
		m = yarn.Scheme + yid
	} else if m == yarnCluster {
		return t, usagef("-m %s needs -yid APPID (the YARN application of the Flink session)", yarnCluster)
	}
	switch {
	case m != "":
		t.URL = m
	case explicit:
		t.URL, useCtx = ctx.JobManager, true
	case os.Getenv(JobManagerEnv) != "":
		t.URL = os.Getenv(JobManagerEnv)
	case ctxName != "":
		t.URL, useCtx = ctx.JobManager, true
	default:
		t.URL = def
	}
	if useCtx {
		t.Context = ctxName
		if t.URL == "" {
			return t, usagef("context %q names no jobmanager", ctxName)
		}
	}
	if t.URL == "" {
		return t, nil
	}
	if appID, ok := yarn.ParseTarget(t.URL); ok {
		dir := flagString(cmd, "hadoop-conf-dir")
		if dir == "" && useCtx {
			dir = contexts.Expand(ctx.HadoopConfDir)
		}
		ep, err := resolveYARN(appID, dir)
		if err != nil {
			return t, err
		}
		t.URL, t.YARN = ep.URL, ep
	}

	// Flink's keys: the conf dir (flag/env, else the context's), the
	// context's flink: keys, then -D.
	conf := map[string]string{}
	dir := storage.FlinkConfDir(flagString(cmd, "flink-conf-dir"))
	if dir == "" && useCtx {
		dir = contexts.Expand(ctx.FlinkConfDir)
	}
	if dir != "" {
		kv, _, err := storage.LoadFlinkConf(dir)
		if err != nil {
			return t, err
		}
		for k, v := range kv {
			if flinkrest.IsSecurityKey(k) {
				conf[k] = v
			}
		}
	}
	if useCtx {
		for k, v := range ctx.Flink {
			if flinkrest.IsSecurityKey(k) {
				conf[k] = v
			}
		}
	}
	if defs, err := cmd.Flags().GetStringArray("define"); err == nil {
		for _, d := range defs {
			if k, v, ok := strings.Cut(d, "="); ok && flinkrest.IsSecurityKey(strings.TrimSpace(k)) {
				conf[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	files, sslEnabled, err := flinkrest.TLSFromFlinkConf(conf)
	if err != nil {
		return t, usagef("%v", err)
	}
	var pem flinkrest.TLSFiles
	if rf != nil {
		pem = flinkrest.TLSFiles{CAFile: rf.ca, CertFile: rf.cert, KeyFile: rf.key}
	}
	if useCtx {
		pem = pem.Merge(flinkrest.TLSFiles{CAFile: contexts.Expand(ctx.TLS.CA), CertFile: contexts.Expand(ctx.TLS.Cert),
			KeyFile: contexts.Expand(ctx.TLS.Key), ServerName: ctx.TLS.ServerName})
	}
	files = pem.Merge(files)
	if !strings.Contains(t.URL, "://") && (sslEnabled || !files.Empty()) {
		t.URL = "https://" + t.URL
	}
	if !files.Empty() {
		if !strings.HasPrefix(t.URL, "https://") {
			return t, usagef("TLS settings (CA, client certificate or Flink's security.ssl.rest.*) given for the plain http target %s; use https://", t.URL)
		}
		cfg, err := files.Config()
		if err != nil {
			return t, err
		}
		t.Options.TLS = cfg
	}

	// Credentials.
	var auth contexts.Auth
	if useCtx {
		auth = ctx.Auth
	}
	if rf != nil && (rf.user != "" || rf.tokenFile != "") {
		auth = contexts.Auth{Username: rf.user, PasswordFile: rf.passFile, TokenFile: rf.tokenFile}
		if rf.user != "" && rf.passFile == "" {
			auth.PasswordEnv = flinkrest.PasswordEnv
		}
	} else if rf != nil && rf.passFile != "" {
		return t, usagef("--rest-password-file without --rest-user")
	}
	switch {
	case auth.Username != "":
		pw, err := contexts.Secret(auth.PasswordFile, auth.PasswordEnv, os.Getenv)
		if err != nil {
			return t, fmt.Errorf("basic authentication for %s: %w", t.URL, err)
		}
		t.Options.Username, t.Options.Password = auth.Username, pw
	case auth.TokenFile != "" || auth.TokenEnv != "":
		tok, err := contexts.Secret(auth.TokenFile, auth.TokenEnv, os.Getenv)
		if err != nil {
			return t, fmt.Errorf("bearer token for %s: %w", t.URL, err)
		}
		t.Options.Token = tok
	}

	// Headers.
	h := http.Header{}
	if useCtx {
		for k, v := range ctx.Headers {
			h.Add(k, v)
		}
	}
	if rf != nil {
		for _, hv := range rf.headers {
			k, v, ok := strings.Cut(hv, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return t, usagef("--rest-header %q: want \"Name: value\"", hv)
			}
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	if len(h) > 0 {
		t.Options.Headers = h
	}
	return t, nil
}

func flagString(cmd *cobra.Command, name string) string {
	v, _ := cmd.Flags().GetString(name)
	return v
}

// yarnTimeout bounds finding a YARN application's endpoint.
const yarnTimeout = 30 * time.Second

// resolveYARN finds the REST endpoint of the Flink session that is YARN
// application appID; confDir is the Hadoop configuration ("" = the
// environment's).
func resolveYARN(appID, confDir string) (yarn.Endpoint, error) {
	if err := yarn.CheckAppID(appID); err != nil {
		return yarn.Endpoint{}, usagef("%v", err)
	}
	r, err := yarn.New(confDir)
	if err != nil {
		return yarn.Endpoint{}, fmt.Errorf("%s%s: %w", yarn.Scheme, appID, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), yarnTimeout)
	defer cancel()
	return r.Resolve(ctx, appID)
}
