package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/bridge"
	"github.com/ckpt-dev/ckpt/engine/catalog"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/failure"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newRunCmd) }

// Exit codes of `ckpt run` beyond the shared ones: how the job ended.
const (
	ExitJobFailed   = 3 // the job FAILED (restarts exhausted); a deterministic failure at start is ExitError
	ExitJobCanceled = 4 // the job was CANCELED (SIGINT/SIGTERM)
)

func newRunCmd() *cobra.Command {
	var (
		dyn        []string
		configFile string
		fromPath   string
		allowNR    bool
		claimMode  string
		catalogDir string
		parallel   int
		statsEvery time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run JOBSPEC [-D key=value]...",
		Short: "Run a job spec on the embedded engine in the foreground",
		Long: `Runs a job spec (YAML, see jobs/) on ckpt's embedded engine, headless, with a
compact live log of checkpoints on stderr. Configuration uses Flink's keys, in
both the 1.x and the 1.20+/2.x spelling, layered: the spec's config section, then
--config FILE, then each -D key=value, e.g.

  ckpt run jobs/exactly-once-counts.yaml \
    -Dexecution.checkpointing.interval=1s \
    -Dexecution.checkpointing.dir=file:///data/ckpt \
    -Dstate.checkpoints.num-retained=3 \
    -Dexecution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION

SIGINT/SIGTERM cancel the job; retained checkpoints are then kept or deleted
as the retention policy says (kept only with RETAIN_ON_CANCELLATION). A second
signal, or the job still cancelling after 30 s ($CKPT_STOP_GRACE), ends ckpt
at once.

Limits of the embedded engine: parallelism at most 1024 per operator and 4096
subtasks per job; max parallelism at most 32768 and at least the parallelism
(Flink's rule); checkpoint interval and timeout at least 10 ms (Flink's). The
spec and --config must be regular files of at most 1 MiB.

Built-in ops for pipeline steps: ` + strings.Join(spec.OpNames(), ", ") + `
(see README.md, "Job specs").

Exit codes: 0 job FINISHED; 1 the job could not start (bad spec, config or
snapshot); 2 usage; 3 job FAILED; 4 job CANCELED.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			over := config.New()
			if configFile != "" {
				if err := over.LoadFile(configFile); err != nil {
					return err
				}
			}
			for _, d := range dyn {
				if err := over.SetDynamic(d); err != nil {
					return usagef("%v", err)
				}
			}
			if fromPath != "" {
				over.Set(config.RestorePath, fromPath, "-s")
			}
			if allowNR {
				over.Set(config.IgnoreUnclaimedState, "true", "-n")
			}
			if claimMode != "" {
				if err := over.Set(config.ClaimMode, claimMode, "--claimMode"); err != nil {
					return usagef("%v", err)
				}
			}
			if cmd.Flags().Changed("parallelism") {
				if err := over.Set(config.Parallelism, fmt.Sprint(parallel), "-p"); err != nil {
					return usagef("%v", err)
				}
			}
			if catalogDir == "" && os.Getenv("CKPT_STATE_DIR") != "" {
				catalogDir, _ = catalog.DefaultDir()
			}
			return runJobWith(cmd.Context(), args[0], over, cmd.ErrOrStderr(), statsEvery, catalogDir, storageOptions(cmd))
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&dyn, "define", "D", nil, "configuration key=value (Flink key names, repeatable)")
	f.StringVar(&configFile, "config", "", "ckpt configuration file (YAML, Flink keys flat or nested)")
	f.StringVarP(&fromPath, "fromSavepoint", "s", "", "restore from a checkpoint/savepoint dir or its _metadata (local, hdfs://, s3://)")
	f.BoolVarP(&allowNR, "allowNonRestoredState", "n", false, "skip snapshot state that maps to no operator")
	f.StringVar(&claimMode, "claimMode", "", "who owns the restored snapshot: NO_CLAIM (default), CLAIM or LEGACY")
	f.StringVar(&claimMode, "restoreMode", "", "deprecated alias of --claimMode (Flink 1.15–1.20)")
	f.IntVarP(&parallel, "parallelism", "p", 0, "default parallelism (parallelism.default)")
	f.StringVar(&catalogDir, "catalog", "", "remember the job in this catalog directory (default: $CKPT_STATE_DIR/catalog when set)")
	f.DurationVar(&statsEvery, "stats", 10*time.Second, "print throughput every interval (0 = never)")
	return cmd
}

func runJob(ctx context.Context, path string, over *config.Config, log io.Writer, statsEvery time.Duration) error {
	return runJobWith(ctx, path, over, log, statsEvery, "", storage.Options{})
}

// runJobWith runs the spec at path. Its checkpoints and savepoints go to
// storage configured by sopts (the storage flags), with the filesystem
// keys (s3.endpoint, fs.s3a.access.key, ...) of the spec's config section
// and then of -D/--config layered over it, as Flink reads them from its
// configuration: `ckpt run -D s3.endpoint=… -D
// execution.checkpointing.dir=s3://…` needs nothing else.
func runJobWith(ctx context.Context, path string, over *config.Config, log io.Writer, statsEvery time.Duration, catalogDir string, sopts storage.Options) error {
	s, err := spec.Load(path)
	if err != nil {
		return err
	}
	fsConf := map[string]string{}
	for _, c := range []*config.Config{s.Config, over} {
		for k, v := range c.Map() {
			if storage.IsFilesystemKey(k) {
				fsConf[k] = v
			}
		}
	}
	for k, v := range sopts.Conf {
		fsConf[k] = v // the same -D, seen by the storage flags
	}
	sopts.Conf = fsConf
	fsys := storage.NewRouter(sopts)
	defer fsys.Close()
	eo := engine.Options{FS: fsys}
	if catalogDir != "" {
		cat, err := catalog.Open(catalogDir)
		if err != nil {
			// Another ckpt holds it, or it is unreadable: run anyway.
			fmt.Fprintf(log, "ckpt run: warning: job not recorded: %v\n", err)
		} else {
			defer cat.Close()
			eo.Catalog = cat
			eo.Spec = s.Text
		}
	}
	for _, k := range append(s.Config.Unknown(), over.Unknown()...) {
		if storage.IsFilesystemKey(k) {
			continue // storage's, above
		}
		fmt.Fprintf(log, "ckpt run: warning: unknown configuration key %q (ignored)\n", k)
	}
	if err := convertFlinkRestore(ctx, s, over, fsys, log); err != nil {
		return err
	}
	// Prepared as every spec job is (spec.Prepare), so an error names the
	// spec file and step rather than an operator.
	job, err := engine.SubmitSpec(ctx, s, nil, over, eo)
	if err != nil {
		return err
	}
	events, _ := job.Subscribe()
	o := job.Options()
	where := "checkpoints off (set execution.checkpointing.interval and execution.checkpointing.dir)"
	if o.Checkpointing.Interval > 0 {
		where = fmt.Sprintf("checkpoints every %s into %s (retain %d, %s)", config.FormatDuration(o.Checkpointing.Interval),
			job.CheckpointDir(), o.Checkpointing.NumRetained, o.Checkpointing.Retention)
	}
	fmt.Fprintf(log, "job %s %q: %s\n", job.ID(), job.Name(), where)
	if o.RestorePath != "" {
		fmt.Fprintf(log, "restored from %s (checkpoint %d, %s); checkpoints continue at %d\n", o.RestorePath,
			job.Restored().CheckpointID, o.ClaimMode, job.Restored().CheckpointID+1)
		for _, u := range job.Skipped() {
			fmt.Fprintf(log, "skipped state of operator %s: no operator of this job maps to it (--allowNonRestoredState)\n", u)
		}
	}
	var tick <-chan time.Time
	if statsEvery > 0 {
		t := time.NewTicker(statsEvery)
		defer t.Stop()
		tick = t.C
	}
	var lastOut int64
	lastT := time.Now()
	cancelled := false
	ctxDone := ctx.Done()
	for {
		select {
		case <-ctxDone:
			ctxDone = nil
			cancelled = true
			fmt.Fprintf(log, "%s cancelling job %s\n", stamp(time.Now()), job.ID())
			job.Cancel()
		case now := <-tick:
			var out int64
			for _, m := range job.Metrics() {
				if m.OperatorID == job.Graph().Vertices[0].ID.String() {
					out = m.RecordsOut
				}
			}
			rate := float64(out-lastOut) / now.Sub(lastT).Seconds()
			if out < lastOut { // a restart reset the counters
				rate = 0
			}
			lastOut, lastT = out, now
			fmt.Fprintf(log, "%s source emitted %d records (%.0f/s)\n", stamp(now), out, rate)
		case e, ok := <-events:
			if !ok {
				st, err := job.Wait()
				return jobExit(st, err, cancelled, job, log)
			}
			if line := engine.LogLine(e); line != "" {
				fmt.Fprintln(log, line)
			}
		}
	}
}

func jobExit(st engine.Status, err error, cancelled bool, job *engine.Job, log io.Writer) error {
	o := job.Options()
	switch st {
	case engine.Finished:
		fmt.Fprintf(log, "job %s FINISHED\n", job.ID())
		return nil
	case engine.Canceled:
		if o.Checkpointing.Interval > 0 {
			if o.Checkpointing.Retention == config.RetainOnCancellation {
				fmt.Fprintf(log, "job %s CANCELED; retained checkpoints kept in %s (RETAIN_ON_CANCELLATION)\n", job.ID(), job.CheckpointDir())
			} else {
				fmt.Fprintf(log, "job %s CANCELED; checkpoints deleted (%s; use RETAIN_ON_CANCELLATION to keep them)\n", job.ID(), o.Checkpointing.Retention)
			}
		} else {
			fmt.Fprintf(log, "job %s CANCELED\n", job.ID())
		}
		return WithExitCode(ExitJobCanceled, nil)
	default:
		if job.StartFailed() && failure.IsDeterministic(err) {
			// A snapshot file that fails verification or is missing, an
			// operator configuration Open refuses: the job could not start.
			return WithExitCode(ExitError, fmt.Errorf("job %s FAILED at start: %v", job.ID(), err))
		}
		return WithExitCode(ExitJobFailed, fmt.Errorf("job %s FAILED: %v", job.ID(), err))
	}
}

func stamp(t time.Time) string { return t.Format("15:04:05") }

// convertFlinkRestore: when the snapshot to restore from is a Flink one
// (a savepoint of a job that ran on ckpt's runner), it is converted into a
// ckpt canonical savepoint in a new directory beside it (engine/bridge),
// which the job then restores from. The spec is checked against the Flink
// snapshot first by the engine's restore rules (the dry run's), so a
// mismatch is refused before anything is written.
func convertFlinkRestore(ctx context.Context, s *spec.Spec, over *config.Config, fsys storage.FS, log io.Writer) error {
	cfg, g, err := s.Prepare(nil, over)
	if err != nil {
		return err
	}
	o, err := cfg.Resolve()
	if err != nil || o.RestorePath == "" {
		return err
	}
	if err := g.Finalize(o.Parallelism, o.MaxParallelism); err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	res, err := bridge.ConvertFromFlink(lctx, fsys, o.RestorePath, "", bridge.FromFlinkOptions{Graph: g, AllowNonRestored: o.AllowNonRestored, Log: log})
	if err != nil {
		return err
	}
	if res == nil {
		return nil // ckpt's own snapshot
	}
	for _, u := range res.Dropped {
		fmt.Fprintf(log, "skipped state of operator %s: no operator of this job maps to it (--allowNonRestoredState)\n", u)
	}
	return over.Set(config.RestorePath, res.Dir, "-s (converted from Flink)")
}
