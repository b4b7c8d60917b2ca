package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ckpt-dev/ckpt/cluster"
)

func init() { register(newCancelCmd) }

func newCancelCmd() *cobra.Command {
	var (
		wait          time.Duration
		savepointPath string
		typ           string
	)
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "cancel [-s [DIR]] [--type canonical|native] JOBID",
		Short: "Cancel a job, optionally with a savepoint",
		Long: `Cancels a running job without a savepoint (PATCH /jobs/:jobid?mode=cancel) and
waits until it is CANCELED. Whether its retained checkpoints survive depends
on the job's execution.checkpointing.externalized-checkpoint-retention
(RETAIN_ON_CANCELLATION keeps them). To keep the state, use
ckpt stop -p instead (stop with a savepoint).

-s/--withSavepoint cancels with a savepoint, as flink cancel -s does (POST
/jobs/:jobid/savepoints with cancel-job: true): the savepoint goes to DIR
(-s DIR JOBID, or -s=DIR) or to the cluster's
execution.checkpointing.savepoint-dir, and the job is cancelled only once
it completed. If the savepoint fails, the job keeps running. Flink
deprecates it in favour of stop, which also commits the sinks' output.`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			withSavepoint := cmd.Flags().Changed("withSavepoint")
			dir, id, err := dirThenJobID(args, withSavepoint, savepointPath, "cancel -s DIR JOBID")
			if err != nil {
				return err
			}
			format, err := formatFlag(typ)
			if err != nil {
				return err
			}
			c, err := tf.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if withSavepoint {
				return cancelWithSavepoint(cmd, c, id, cluster.SavepointRequest{TargetDir: dir, Format: format}, wait)
			}
			fmt.Fprintf(out, "Cancelling job %s.\n", id)
			if err := c.Cancel(cmd.Context(), id); err != nil {
				return fmt.Errorf("could not cancel job %s: %w", id, err)
			}
			st, err := waitTerminal(cmd.Context(), c, id, wait)
			if err != nil {
				return err
			}
			if st != cluster.JobCanceled {
				return fmt.Errorf("job %s ended %s, not CANCELED", id, st)
			}
			fmt.Fprintf(out, "Cancelled job %s.\n", id)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&savepointPath, "withSavepoint", "s", "", "take a savepoint (into this directory: optional argument) and cancel once it completed")
	optionalArgument(f, "withSavepoint")
	f.StringVar(&typ, "type", "canonical", "savepoint format with -s: canonical or native (Flink's -type)")
	f.DurationVar(&wait, "wait", time.Minute, "how long to wait for the job to reach CANCELED (with -s: for the savepoint too; default then 10m, or the job's checkpoint timeout plus a minute when longer)")
	tf = addTargetFlags(cmd)
	return cmd
}

// cancelWithSavepoint is Flink's `cancel -s`: the savepoint trigger with
// cancel-job, then the wait for the savepoint and for CANCELED.
func cancelWithSavepoint(cmd *cobra.Command, c cluster.Cluster, id string, req cluster.SavepointRequest, wait time.Duration) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if !cmd.Flags().Changed("wait") {
		wait = 10 * time.Minute
		if cc, err := c.CheckpointConfig(cmd.Context(), id); err == nil && cc.Timeout+time.Minute > wait {
			wait = cc.Timeout + time.Minute
		}
	}
	fmt.Fprintln(errOut, `DEPRECATION WARNING: Cancelling a job with savepoint is deprecated. Use "stop" instead.`)
	if req.TargetDir != "" {
		fmt.Fprintf(out, "Cancelling job %s with %s savepoint to %s.\n", id, req.Format, req.TargetDir)
	} else {
		fmt.Fprintf(out, "Cancelling job %s with %s savepoint to default savepoint directory.\n", id, req.Format)
	}
	t, err := cluster.CancelWithSavepoint(cmd.Context(), c, id, req)
	if err != nil {
		return fmt.Errorf("could not cancel job %s with a savepoint: %w", id, err)
	}
	fmt.Fprintf(errOut, "Waiting up to %v for trigger %s.\n", wait, t.ID)
	start := time.Now()
	op, err := waitOp(cmd.Context(), c, t, wait)
	if err != nil {
		return fmt.Errorf("could not cancel job %s with a savepoint (the job was not cancelled): %w", id, err)
	}
	st, err := waitTerminal(cmd.Context(), c, id, max(wait-time.Since(start), time.Minute))
	if err != nil {
		return fmt.Errorf("savepoint %s completed, but job %s: %w", op.Location, id, err)
	}
	if st != cluster.JobCanceled {
		return fmt.Errorf("savepoint %s completed, but job %s ended %s, not CANCELED", op.Location, id, st)
	}
	fmt.Fprintf(out, "Cancelled job %s. Savepoint stored in %s.\n", id, op.Location)
	return nil
}

// noValue is what a flag with an optional argument holds when given bare
// (help shows it: the configured savepoint directory is used then):
// pflag then takes no value from the next argument, so "-s DIR JOBID"
// leaves both positional and "-s JOBID" means no directory, as Flink parses.
const noValue = "(configured)"

// optionalArgument makes flag name take an optional argument (-s, -s=DIR,
// or -s DIR before the job ID).
func optionalArgument(f *pflag.FlagSet, name string) { f.Lookup(name).NoOptDefVal = noValue }

// dirThenJobID reads the positional arguments of a command whose flag
// (given says whether it was) takes an optional directory: "-s DIR JOBID"
// leaves DIR as the first positional argument (Flink's parsing), so two
// arguments are DIR and JOBID only after a bare flag. usage shows the form.
func dirThenJobID(args []string, given bool, flagValue, usage string) (dir, id string, err error) {
	dir = optionalValue(flagValue)
	if len(args) == 2 {
		if !given || dir != "" {
			return "", "", usagef("one JOBID expected (a target directory goes with the flag: %s)", usage)
		}
		dir, args = args[0], args[1:]
	}
	id, err = jobIDArg(args[0])
	return dir, id, err
}

// optionalValue is the value of such a flag: "" when given bare.
func optionalValue(v string) string {
	if v == noValue {
		return ""
	}
	return v
}
