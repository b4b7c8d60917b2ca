package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/health"
	"github.com/ckpt-dev/ckpt/cluster/history"
	"github.com/ckpt-dev/ckpt/internal/units"
)

func init() { register(newCheckCmd) }

func newCheckCmd() *cobra.Command {
	var (
		all, prom bool
		th        health.Thresholds
		growth    string
	)
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "check (JOBID | --all) [--prometheus]",
		Short: "Health checks of jobs' checkpointing, for monitoring (Nagios exit codes)",
		Long: `Judges a running job's checkpointing as a monitoring check does and prints one
line (Nagios plugin style: "STATUS - job (id): reasons | performance data"):

  last_checkpoint  CRITICAL when no checkpoint completed within --max-age
                   (default 3 × the checkpoint interval, at least 1m)
  failures         consecutive failed checkpoints: WARNING from 1, CRITICAL
                   from --max-failures (default 3)
  duration         median of recent checkpoint durations against the timeout:
                   WARNING from --duration-warn (0.5), CRITICAL from
                   --duration-crit (0.9)
  growth           full state size growth per hour over ckpt's history of the
                   job: WARNING beyond --max-growth (e.g. 1GiB; off by default)
  restarts         failures within --restart-window (1h): WARNING from 1,
                   CRITICAL from --max-restarts (3)
  state            a job RESTARTING or FAILING is CRITICAL; one that ended is too

ckpt remembers every finished checkpoint it observes of a REST target (as the
TUI does), so a check run from cron builds the history trends need and
counts failures a restarted JobManager forgot. --all checks every running
job (the worst status wins; one line per job). --prometheus prints the same
as Prometheus text (for a textfile collector).

Exit codes (Nagios'): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the target
unreachable, a bad flag, an unknown job).`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) == 1) {
				return WithExitCode(int(health.Unknown), usagef("give a JOBID or --all"))
			}
			if growth != "" {
				n, err := units.ParseBytes(growth)
				if err != nil {
					return WithExitCode(int(health.Unknown), usagef("--max-growth: %v", err))
				}
				th.MaxGrowth = n
			}
			c, err := tf.client()
			if err != nil {
				return WithExitCode(int(health.Unknown), err)
			}
			var ids []string
			if all {
				jobs, err := c.Jobs(cmd.Context())
				if err != nil {
					return WithExitCode(int(health.Unknown), err)
				}
				for _, j := range jobs {
					if !j.Status.Terminal() {
						ids = append(ids, j.ID)
					}
				}
			} else {
				id, err := resolveJobArg(cmd.Context(), c, args[0])
				if err != nil {
					return WithExitCode(int(health.Unknown), err)
				}
				ids = []string{id}
			}
			dir := history.DefaultDir(os.Getenv)
			target := history.Target(c)
			var reports []health.Report
			worst := health.OK
			for _, id := range ids {
				var remembered []cluster.Checkpoint
				file := ""
				if dir != "" && target != "" {
					file = history.File(dir, target, id)
					remembered, _ = history.Read(file) // a damaged history only loses trends
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
				r := health.Assess(ctx, c, id, th, remembered, time.Now())
				if file != "" {
					remember(ctx, c, id, file, remembered)
				}
				cancel()
				reports = append(reports, r)
				worst = health.Worse(worst, r.Status)
			}
			out := cmd.OutOrStdout()
			if prom {
				if err := health.WritePrometheus(out, reports); err != nil {
					return err
				}
			} else if len(reports) == 0 {
				fmt.Fprintln(out, "OK - no running jobs")
			} else {
				for _, r := range reports {
					fmt.Fprintf(out, "%s | %s\n", r.Line(), r.PerfData())
				}
			}
			if worst != health.OK {
				return WithExitCode(int(worst), nil)
			}
			return nil
		},
	}
	// A Nagios plugin answers a bad invocation with UNKNOWN (3), not 2
	// (which monitoring reads as CRITICAL).
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return WithExitCode(int(health.Unknown), usagef("%v", err))
	})
	f := cmd.Flags()
	f.BoolVar(&all, "all", false, "check every running job")
	f.BoolVar(&prom, "prometheus", false, "print Prometheus text instead of Nagios lines")
	f.DurationVar(&th.MaxAge, "max-age", 0, "CRITICAL when no checkpoint completed within this (default 3 × interval, at least 1m)")
	f.IntVar(&th.MaxFailures, "max-failures", 0, "consecutive failed checkpoints that are CRITICAL (default 3)")
	f.Float64Var(&th.DurationWarn, "duration-warn", 0, "fraction of the checkpoint timeout that warns (default 0.5)")
	f.Float64Var(&th.DurationCrit, "duration-crit", 0, "fraction of the checkpoint timeout that is CRITICAL (default 0.9)")
	f.StringVar(&growth, "max-growth", "", "state growth per hour that warns, e.g. 1GiB (default: not checked)")
	f.DurationVar(&th.RestartWindow, "restart-window", 0, "how far back failures count (default 1h)")
	f.IntVar(&th.MaxRestarts, "max-restarts", 0, "failures within the window that are CRITICAL (default 3)")
	tf = addTargetFlags(cmd)
	return cmd
}

// remember appends the finished checkpoints the target reports and the
// history file lacks, so trends outlive Flink's 10-entry memory.
func remember(ctx context.Context, c cluster.Cluster, jobID, file string, known []cluster.Checkpoint) {
	st, err := c.Checkpoints(ctx, jobID)
	if err != nil {
		return
	}
	seen := map[int64]bool{}
	for _, k := range known {
		seen[k.ID] = true
	}
	var fresh []cluster.Checkpoint
	for i := len(st.History) - 1; i >= 0; i-- {
		cp := st.History[i]
		if cp.Status == cluster.CheckpointInProgress || seen[cp.ID] {
			continue
		}
		cp.Tasks, cp.Discarded = nil, false
		fresh = append(fresh, cp)
	}
	if len(fresh) > 0 {
		_ = history.Append(file, fresh) // best effort: a check must not fail on its notes
	}
}

// resolveJobArg accepts a full job ID or a unique prefix of a job's.
func resolveJobArg(ctx context.Context, c cluster.Cluster, arg string) (string, error) {
	if cluster.IsJobID(arg) {
		return strings.ToLower(arg), nil
	}
	id, err := cluster.ResolveJobID(ctx, c, arg)
	if err != nil {
		var ce *cluster.Error
		if errors.As(err, &ce) {
			return "", err
		}
		return "", usagef("%v", err)
	}
	return id, nil
}
