package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/history"
	"github.com/ckpt-dev/ckpt/cluster/schedule"
	"github.com/ckpt-dev/ckpt/inspector/savepoints"
	"github.com/ckpt-dev/ckpt/internal/statedir"
)

func init() { register(newScheduleCmd) }

func newScheduleCmd() *cobra.Command {
	var (
		all, once       bool
		every, wait     time.Duration
		dir, typ, older string
		keep            int
		journal         string
	)
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "schedule (JOBID... | --all) --every INTERVAL [DIR] [--keep N] [--older-than AGE] [--once]",
		Short: "Take savepoints periodically and keep only what a retention policy says",
		Long: `Takes a savepoint of each job (or every running job with --all) every INTERVAL
into DIR (default: the cluster's savepoint directory, or the context's
savepoints:), then applies the retention policy of "ckpt savepoints": --keep N
keeps each job's newest N, --older-than AGE removes older ones (with both, a
savepoint goes only when it is outside the newest N and older than AGE). What
goes is disposed through the cluster (Flink's /savepoint-disposal), with ckpt's
own rule as the fallback for self-contained savepoints.

Only savepoints this scheduler took are ever removed: each is recorded in a
journal (--journal, default schedule/<target>.jsonl in ckpt's state
directory), and only journaled savepoints are candidates. Savepoints you take
yourself into DIR, and anything else there, stay.

--once runs one round and exits (for cron); exit code 1 when a savepoint or a
disposal failed. Without it, ckpt schedule runs until interrupted.`,
		Example: `  ckpt schedule --all --every 1h --keep 24 s3://state/savepoints -m jobmanager:8081
  ckpt schedule 3f2a1b0c --once --keep 7 --older-than 7d /data/savepoints     # from cron`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var jobArgs []string
			for _, a := range args {
				if cluster.IsJobID(a) || (len(a) >= 4 && len(a) < 32 && isHex(a)) {
					jobArgs = append(jobArgs, a)
				} else if dir == "" {
					dir = a
				} else {
					return usagef("%q is neither a job ID nor the only directory", a)
				}
			}
			if all == (len(jobArgs) > 0) {
				return usagef("give job IDs or --all")
			}
			if !once && every <= 0 {
				return usagef("--every INTERVAL (or --once for one round)")
			}
			age, err := savepoints.ParseAge(older)
			if err != nil {
				return usagef("--older-than: %v", err)
			}
			format, err := formatFlag(typ)
			if err != nil {
				return err
			}
			c, err := tf.client()
			if err != nil {
				return err
			}
			if dir == "" {
				if t, err := tf.resolve(); err == nil && t.Context != "" {
					if f, err := loadContexts(); err == nil {
						dir = f.Contexts[t.Context].Savepoints
					}
				}
			}
			var ids []string
			for _, a := range jobArgs {
				id, err := resolveJobArg(cmd.Context(), c, a)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			if journal == "" {
				name := history.Target(c)
				if name == "" {
					name = "target"
				}
				journal, err = statedir.Path(nil, "schedule", statedir.SafeName(name)+".jsonl")
				if err != nil {
					return err
				}
			}
			fsys := openStorage(cmd)
			defer fsys.Close()
			s := &schedule.Scheduler{C: c, FS: fsys, Jobs: ids, Dir: dir, Format: format,
				Policy: savepoints.Policy{KeepNewest: keep, OlderThan: age}, Journal: journal, Wait: wait, Log: cmd.OutOrStdout()}
			fmt.Fprintf(cmd.OutOrStdout(), "scheduling savepoints of %s on %s into %s; retention: %s; journal %s\n",
				jobsWhat(ids), tf.target(), dirWhat(dir), s.Policy, journal)
			if once {
				res := s.Round(cmd.Context())
				if len(res.Errors) > 0 {
					return WithExitCode(ExitError, fmt.Errorf("%d failure(s) in this round: %v", len(res.Errors), res.Errors[0]))
				}
				return nil
			}
			err = s.Run(cmd.Context(), every)
			if cmd.Context().Err() != nil {
				return nil // interrupted: the way a loop ends
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&all, "all", false, "every running job")
	f.BoolVar(&once, "once", false, "one round, then exit (for cron)")
	f.DurationVar(&every, "every", 0, "interval between rounds, e.g. 1h")
	f.DurationVar(&wait, "wait", 10*time.Minute, "bound on each savepoint")
	f.StringVar(&typ, "type", "canonical", "savepoint format: canonical or native")
	f.IntVar(&keep, "keep", 0, "keep the newest N savepoints the scheduler took, per job")
	f.StringVar(&older, "older-than", "", "remove the scheduler's savepoints older than AGE (7d, 2w, 36h)")
	f.StringVar(&journal, "journal", "", "journal of the savepoints taken (default schedule/<target>.jsonl in ckpt's state directory)")
	tf = addTargetFlags(cmd)
	return cmd
}

func isHex(s string) bool {
	for _, r := range strings.ToLower(s) {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

func jobsWhat(ids []string) string {
	if ids == nil {
		return "every running job"
	}
	return strings.Join(ids, ", ")
}

func dirWhat(dir string) string {
	if dir == "" {
		return "the cluster's savepoint directory"
	}
	return dir
}
