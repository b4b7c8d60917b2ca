package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/cluster/restserver"
	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/engine/config"
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
}

func newServeCmd() *cobra.Command {
	var (
		o          serveOptions
		dyn        []string
		configFile string
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
it listens, like --address and --port (loopback:8081 by default: anyone who
can reach the port can cancel jobs and delete savepoints).

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
			if o.catalogDir == "" && os.Getenv("CKPT_STATE_DIR") != "" {
				o.catalogDir, _ = catalog.DefaultDir()
			}
			// Checkpoints, savepoints and restores go through the same
			// storage as the other commands (local paths, hdfs:// with the
			// storage flags).
			fs := openStorage(cmd)
			defer fs.Close()
			o.fs = fs
			return serve(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.address, "address", "127.0.0.1", "address to listen on (rest.bind-address); 0.0.0.0 exposes every operation to the network")
	f.IntVar(&o.port, "port", DefaultRESTPort, "port to listen on (rest.port); 0 picks a free one")
	f.StringArrayVarP(&dyn, "define", "D", nil, "cluster configuration key=value (Flink key names, repeatable)")
	f.StringVar(&configFile, "config", "", "configuration file (YAML, Flink keys flat or nested)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log every REST request on stderr")
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

// serve runs the server until ctx ends.
func serve(ctx context.Context, o serveOptions, log io.Writer) error {
	for _, k := range o.cfg.Unknown() {
		if !strings.HasPrefix(k, "rest.") && !strings.HasPrefix(k, "web.") {
			fmt.Fprintf(log, "ckpt serve: warning: unknown configuration key %q (ignored by the engine)\n", k)
		}
	}
	opts := embedded.Options{Config: o.cfg, FS: o.fs, Version: "ckpt-" + Version, Commit: Version}
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
	var ropts restserver.Options
	if o.verbose {
		ropts.Log = func(format string, a ...any) {
			fmt.Fprintf(log, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, a...))
		}
	}
	srv := &http.Server{Handler: restserver.New(c, ropts), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(log, "ckpt serve: Flink REST API of the embedded engine on %s\n", url)
	if !isLoopback(o.address) {
		fmt.Fprintf(log, "ckpt serve: warning: listening on %s, not loopback: anyone who reaches it can submit and cancel jobs and delete savepoints\n", o.address)
	}
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		srv.Shutdown(sctx)
		cancel()
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
		data, err := os.ReadFile(p)
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
