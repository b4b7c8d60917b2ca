package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/cluster/restserver"
	"github.com/ckpt-dev/ckpt/cluster/schedule"
	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector/savepoints"
	"github.com/ckpt-dev/ckpt/internal/statedir"
	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newServeCmd) }

// DefaultRESTPort is Flink's rest.port default, which ckpt serve shares.
const DefaultRESTPort = 8081

type serveOptions struct {
	address string
	port    int
	cfg     *config.Config
	specs   []string
	verbose bool
	fs      storage.FS // nil = storage.Default()
	// catalogDir, when set, is the engine's job catalog: jobs are recorded
	// there and those of earlier runs are listed (read-only).
	catalogDir string
	// ready, when set, is told the URL once the server listens (tests).
	ready func(url string)

	// requireToken asks for the token on a loopback address too (beyond
	// loopback it is always required); tokenFile is where it is kept
	// ("" = flinkrest.TokenFile()).
	requireToken bool
	tokenFile    string
	// hosts are further names clients reach the server by (Host header).
	hosts []string
	// tlsCert and tlsKey, both set, serve HTTPS.
	tlsCert, tlsKey string
	limits          restserver.Limits
	// Periodic savepoints of the served jobs (cluster/schedule): every
	// spEvery into spDir with spPolicy; spJournal records them.
	spEvery   time.Duration
	spDir     string
	spPolicy  savepoints.Policy
	spJournal string
}

func newServeCmd() *cobra.Command {
	var (
		o          serveOptions
		dyn        []string
		configFile string
		spKeep     int
		spOlder    string
	)
	cmd := &cobra.Command{
		Use:   "serve [JOBSPEC]... [-D key=value]...",
		Short: "Run the embedded engine behind Flink's REST API",
		Long: `Runs ckpt's embedded engine as a daemon behind Flink's REST API (the paths,
JSON and status codes of a JobManager's dispatcher), so ckpt's CLI and TUI,
Flink's REST clients and scripts operate it as they operate Flink:

  ckpt serve -Dexecution.checkpointing.dir=file:///data/ckpt jobs/word-count.yaml
  ckpt list                      # -m localhost:8081 is the default target
  ckpt checkpoint <job-id>
  ckpt submit -s /data/ckpt/<job-id>/chk-12 jobs/word-count.yaml

Jobs are submitted as job specs (YAML) through POST /jars/upload and
/jars/:jarid/run (ckpt submit does both); JOBSPEC arguments are submitted at
start. -D settings (Flink keys, both spellings) are the cluster configuration
every job starts from; a spec's config section and the submission override
them. rest.address/rest.bind-address and rest.port/rest.bind-port set where
it listens, like --address and --port (loopback:8081 by default).

Only its own user operates it: requests must name it in their Host header
(loopback names, IP addresses, --allow-host names), come from no other web
origin and carry JSON (multipart for /jars/upload), so a web page cannot
drive it; beyond loopback (and with --require-token on loopback) every
request needs the token kept in --token-file (default
$XDG_CONFIG_HOME/ckpt/serve-token, created 0600 in a 0700 directory; or
$CKPT_TOKEN) as "Authorization: Bearer <token>"; ckpt's commands send it.

SIGINT/SIGTERM stop the server and cancel running jobs; their retained
checkpoints are kept or deleted per each job's retention policy. With
--catalog (or $CKPT_STATE_DIR) jobs are recorded in the engine's catalog, and
a restarted serve lists those of earlier runs with their latest checkpoint
and savepoints (read-only; a job that was running when its process died shows
as SUSPENDED), so ckpt submit -s can resume them.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.cfg = config.New()
			if configFile != "" {
				if err := o.cfg.LoadFile(configFile); err != nil {
					return err
				}
			}
			for _, d := range dyn {
				if err := o.cfg.SetDynamic(d); err != nil {
					return usagef("%v", err)
				}
			}
			if !cmd.Flags().Changed("address") {
				o.address = firstSet(o.cfg, "rest.bind-address", "rest.address")
			}
			if !cmd.Flags().Changed("port") {
				if p := firstSet(o.cfg, "rest.bind-port", "rest.port"); p != "" {
					n, err := strconv.Atoi(p)
					if err != nil || n < 0 || n > 65535 {
						return usagef("rest.port %q: not a port number (a port range is not supported)", p)
					}
					o.port = n
				}
			}
			if o.address == "" {
				o.address = "127.0.0.1"
			}
			o.specs = args
			o.requireToken = o.requireToken || cmd.Flags().Changed("token-file")
			if (o.tlsCert == "") != (o.tlsKey == "") {
				return usagef("--tls-cert and --tls-key go together")
			}
			if o.catalogDir == "" && os.Getenv("CKPT_STATE_DIR") != "" {
				o.catalogDir, _ = catalog.DefaultDir()
			}
			// Checkpoints, savepoints and restores go through the same
			// storage as the other commands (local paths, hdfs:// with the
			// storage flags).
			fs := openStorage(cmd)
			defer fs.Close()
			o.fs = fs
			if o.spEvery > 0 {
				age, err := savepoints.ParseAge(spOlder)
				if err != nil {
					return usagef("--savepoint-older-than: %v", err)
				}
				o.spPolicy = savepoints.Policy{KeepNewest: spKeep, OlderThan: age}
				if o.spJournal, err = statedir.Path(nil, "schedule", "serve-"+strconv.Itoa(o.port)+".jsonl"); err != nil {
					return err
				}
			} else if spKeep > 0 || spOlder != "" || o.spDir != "" {
				return usagef("--savepoint-keep, --savepoint-older-than and --savepoint-dir go with --savepoint-every")
			}
			return serve(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.address, "address", "127.0.0.1", "address to listen on (rest.bind-address); 0.0.0.0 exposes every operation to the network")
	f.IntVar(&o.port, "port", DefaultRESTPort, "port to listen on (rest.port); 0 picks a free one")
	f.StringArrayVarP(&dyn, "define", "D", nil, "cluster configuration key=value (Flink key names, repeatable)")
	f.StringVar(&configFile, "config", "", "configuration file (YAML, Flink keys flat or nested)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log every REST request on stderr")
	f.BoolVar(&o.requireToken, "require-token", false, "require the token on a loopback address too (always required beyond loopback)")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the token, created (0600) when missing; implies --require-token (default $"+
		flinkrest.TokenFileEnv+", else $XDG_CONFIG_HOME/ckpt/serve-token; $"+flinkrest.TokenEnv+" gives the token itself)")
	f.StringArrayVar(&o.hosts, "allow-host", nil, "a further host name clients use to reach the server (repeatable; rest.address is one)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "private key of --tls-cert (PEM)")
	f.IntVar(&o.limits.MaxConns, "max-connections", 128, "most client connections open at once")
	f.DurationVar(&o.limits.IdleTimeout, "idle-timeout", 30*time.Second, "close a keep-alive connection idle this long")
	f.DurationVar(&o.spEvery, "savepoint-every", 0, "take a savepoint of every running job this often (ckpt schedule's rounds, in the server)")
	f.StringVar(&o.spDir, "savepoint-dir", "", "where periodic savepoints go (default the engine's state.savepoints.dir)")
	f.IntVar(&spKeep, "savepoint-keep", 0, "keep the newest N periodic savepoints per job (only those the server took)")
	f.StringVar(&spOlder, "savepoint-older-than", "", "remove periodic savepoints older than AGE (7d, 2w, 36h)")
	f.StringVar(&o.catalogDir, "catalog", "", "remember jobs in this catalog directory and list those of earlier runs (default: $CKPT_STATE_DIR/catalog when set)")
	return cmd
}

func firstSet(c *config.Config, keys ...string) string {
	for _, k := range keys {
		if c.IsSet(k) {
			return c.Get(k)
		}
	}
	return ""
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serverOptions are the REST server's: the token when one is required
// (said where it is, never printed) and the names the server answers to.
func serverOptions(o serveOptions, log io.Writer) (restserver.Options, error) {
	var ro restserver.Options
	ro.Hosts = append(ro.Hosts, o.hosts...)
	if a := strings.TrimSpace(o.cfg.Get("rest.address")); a != "" && o.cfg.IsSet("rest.address") {
		ro.Hosts = append(ro.Hosts, a)
	}
	if o.address != "" && net.ParseIP(o.address) == nil {
		ro.Hosts = append(ro.Hosts, o.address) // --address by name
	}
	loopback := isLoopback(o.address)
	if !loopback {
		if h, err := os.Hostname(); err == nil {
			short, _, _ := strings.Cut(h, ".")
			ro.Hosts = append(ro.Hosts, h, short)
		}
	}
	if loopback && !o.requireToken {
		return ro, nil
	}
	if t := strings.TrimSpace(os.Getenv(flinkrest.TokenEnv)); t != "" {
		if len(t) < 16 {
			return ro, fmt.Errorf("ckpt serve: $%s is too short for a token (16 characters at least)", flinkrest.TokenEnv)
		}
		ro.Token = t
		fmt.Fprintf(log, "ckpt serve: requests need the token of $%s (Authorization: Bearer)\n", flinkrest.TokenEnv)
		return ro, nil
	}
	file := o.tokenFile
	if file == "" {
		var err error
		if file, err = flinkrest.TokenFile(); err != nil {
			return ro, fmt.Errorf("ckpt serve: %w", err)
		}
	}
	t, created, err := loadOrCreateToken(file)
	if err != nil {
		return ro, fmt.Errorf("ckpt serve: %w", err)
	}
	ro.Token = t
	how := "kept in"
	if created {
		how = "created in"
	}
	fmt.Fprintf(log, "ckpt serve: requests need the token %s %s (Authorization: Bearer; ckpt's commands on this machine send it, elsewhere set $%s)\n",
		how, file, flinkrest.TokenEnv)
	return ro, nil
}

// loadOrCreateToken reads the token kept in file, or creates it (32
// random bytes, hex) readable by this user only, in a directory only this
// user can enter. A file or directory others can read or change is
// refused: the token would not be the user's alone.
func loadOrCreateToken(file string) (token string, created bool, err error) {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("token directory: %w", err)
	}
	di, err := os.Stat(dir)
	if err != nil {
		return "", false, fmt.Errorf("token directory: %w", err)
	}
	if di.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, di.Mode().Perm()&0o700); err != nil {
			return "", false, fmt.Errorf("token directory %s is open to other users (mode %04o) and cannot be restricted: %w", dir, di.Mode().Perm(), err)
		}
	}
	for range 2 {
		fi, err := os.Lstat(file)
		if err == nil {
			if !fi.Mode().IsRegular() {
				return "", false, fmt.Errorf("token file %s is not a regular file", file)
			}
			if fi.Mode().Perm()&0o077 != 0 {
				return "", false, fmt.Errorf("token file %s is open to other users (mode %04o): chmod 600 it, or remove it for a new token", file, fi.Mode().Perm())
			}
			if fi.Size() > 4096 {
				return "", false, fmt.Errorf("token file %s is larger than a token", file)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				return "", false, fmt.Errorf("token file: %w", err)
			}
			t := strings.TrimSpace(string(b))
			if len(t) < 16 {
				return "", false, fmt.Errorf("token file %s holds no token of 16 characters or more: remove it for a new one", file)
			}
			return t, false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", false, fmt.Errorf("token file: %w", err)
		}
		var raw [32]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", false, err
		}
		t := hex.EncodeToString(raw[:])
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // another serve made it first: use that one
		}
		if err != nil {
			return "", false, fmt.Errorf("token file: %w", err)
		}
		_, err = f.WriteString(t + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			// Left in place (ckpt deletes nothing on a guess): the next
			// start refuses the short file and says to remove it.
			return "", false, fmt.Errorf("token file %s could not be written (remove it before the next start): %w", file, err)
		}
		return t, true, nil
	}
	return "", false, fmt.Errorf("token file %s: created and removed while reading it", file)
}

// serve runs the server until ctx ends.
func serve(ctx context.Context, o serveOptions, log io.Writer) error {
	for _, k := range o.cfg.Unknown() {
		if !strings.HasPrefix(k, "rest.") && !strings.HasPrefix(k, "web.") {
			fmt.Fprintf(log, "ckpt serve: warning: unknown configuration key %q (ignored by the engine)\n", k)
		}
	}
	ropts, err := serverOptions(o, log)
	if err != nil {
		return err
	}
	var cert *tls.Certificate
	if o.tlsCert != "" {
		c, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("ckpt serve: --tls-cert/--tls-key: %w", err)
		}
		cert = &c
	}
	// The log gets the jobs' own lines too, as a JobManager's log does.
	opts := embedded.Options{Config: o.cfg, FS: o.fs, Version: "ckpt-" + Version, Commit: Version, JobLog: log}
	if o.catalogDir != "" {
		cat, err := catalog.Open(o.catalogDir)
		if err != nil {
			// Another ckpt holds it, or it is unreadable: serve anyway.
			fmt.Fprintf(log, "ckpt serve: warning: jobs not recorded: %v\n", err)
		} else {
			defer cat.Close()
			opts.Catalog = cat
		}
	}
	c := embedded.New(opts)
	if opts.Catalog != nil {
		fmt.Fprintf(log, "ckpt serve: recording jobs in %s (%d from earlier runs)\n", o.catalogDir, c.Remembered())
	}
	addr := net.JoinHostPort(o.address, strconv.Itoa(o.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ckpt serve: cannot listen on %s: %w", addr, err)
	}
	if o.verbose {
		ropts.Log = func(format string, a ...any) {
			fmt.Fprintf(log, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
		}
	}
	rs := restserver.New(c, ropts)
	srv, lln := restserver.HTTPServer(rs, ln, o.limits)
	served := make(chan error, 1)
	scheme := "http"
	if cert != nil {
		scheme = "https"
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
		go func() { served <- srv.ServeTLS(lln, "", "") }()
	} else {
		go func() { served <- srv.Serve(lln) }()
	}
	url := scheme + "://" + ln.Addr().String()
	fmt.Fprintf(log, "ckpt serve: Flink REST API of the embedded engine on %s\n", url)
	if !isLoopback(o.address) && o.tlsCert == "" {
		fmt.Fprintf(log, "ckpt serve: warning: listening on %s, not loopback, without TLS: the token and every request cross the network in clear text (--tls-cert/--tls-key)\n", o.address)
	}
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(sctx)
		cancel()
		rs.Close()
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		jobs, _ := c.Jobs(cctx)
		err := c.Close(cctx)
		for _, j := range jobs {
			if !j.Status.Terminal() {
				fmt.Fprintf(log, "ckpt serve: cancelled job %s %q\n", j.ID, j.Name)
			}
		}
		return err
	}
	for _, p := range o.specs {
		data, err := storage.ReadRegular(p, spec.MaxFileBytes)
		if err == nil {
			var id string
			id, err = c.SubmitSpec(ctx, p, data, cluster.RunRequest{})
			if err == nil {
				fmt.Fprintf(log, "ckpt serve: job %s submitted from %s\n", id, p)
				continue
			}
		}
		stop()
		var ce *cluster.Error
		if errors.As(err, &ce) {
			err = errors.New(ce.Message)
		}
		return fmt.Errorf("ckpt serve: %s: %w", p, err)
	}
	if o.spEvery > 0 {
		sched := &schedule.Scheduler{C: c, FS: o.fs, Dir: o.spDir, Policy: o.spPolicy, Journal: o.spJournal, Log: log}
		if sched.FS == nil {
			sched.FS = storage.Default()
		}
		fmt.Fprintf(log, "ckpt serve: a savepoint of every running job every %v into %s; retention: %s; journal %s\n",
			o.spEvery, dirWhat(o.spDir), o.spPolicy, o.spJournal)
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			// The first round after one interval: jobs submitted at start
			// are just starting.
			select {
			case <-sctx.Done():
				return
			case <-time.After(o.spEvery):
			}
			sched.Run(sctx, o.spEvery)
		}()
		prev := stop
		stop = func() error { cancel(); <-done; return prev() }
	}
	if o.ready != nil {
		o.ready(url)
	}
	select {
	case <-ctx.Done():
		fmt.Fprintln(log, "ckpt serve: stopping")
		return stop()
	case err := <-served:
		stop()
		return fmt.Errorf("ckpt serve: %w", err)
	}
}
