package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
)

func init() { register(newStopCmd) }

func newStopCmd() *cobra.Command {
	var (
		savepointPath string
		drain         bool
		typ           string
		wait          time.Duration
	)
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "stop [-p [DIR]] [-d|--drain] [--type canonical|native] JOBID",
		Short: "Stop a job with a savepoint",
		Long: `Stops a job gracefully with a savepoint (POST /jobs/:jobid/stop), as flink stop
does: sources stop at the savepoint's barrier, the job ends FINISHED and the
savepoint path is printed. It goes to DIR (-p DIR JOBID, or -p=DIR) or to the
cluster's execution.checkpointing.savepoint-dir. -d/--drain first emits
MAX_WATERMARK so every event-time timer and window fires — only for a job
retired for good, since its state is then "end of time".`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, id, err := dirThenJobID(args, cmd.Flags().Changed("savepointPath"), savepointPath, "stop -p DIR JOBID")
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
			verb := "Suspending"
			if drain {
				verb = "Draining"
			}
			if !cmd.Flags().Changed("wait") {
				// A large state's savepoint takes as long as its checkpoints
				// may: wait up to the job's checkpoint timeout plus a minute.
				if cc, err := c.CheckpointConfig(cmd.Context(), id); err == nil && cc.Timeout+time.Minute > wait {
					wait = cc.Timeout + time.Minute
				}
			}
			fmt.Fprintf(out, "%s job \"%s\" with a %s savepoint.\n", verb, id, format)
			t, err := c.StopWithSavepoint(cmd.Context(), id, cluster.StopRequest{TargetDir: dir, Drain: drain, Format: format})
			if err != nil {
				return fmt.Errorf("could not stop with a savepoint job \"%s\": %w", id, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Waiting up to %v for trigger %s.\n", wait, t.ID)
			op, err := waitOp(cmd.Context(), c, t, wait)
			var f *cluster.Failure
			if err != nil && errors.As(err, &f) && f.SavepointLocation() != "" {
				// The savepoint is complete; the job failed after it.
				fmt.Fprintf(out, "Savepoint completed, but the job failed while stopping. Path: %s\n", f.SavepointLocation())
				return fmt.Errorf("job \"%s\" failed while stopping, after its savepoint %s completed (resume from it): %w", id, f.SavepointLocation(), err)
			}
			if err != nil {
				return fmt.Errorf("could not stop with a savepoint job \"%s\": %w", id, err)
			}
			fmt.Fprintf(out, "Savepoint completed. Path: %s\n", op.Location)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&savepointPath, "savepointPath", "p", "", "take the savepoint into this directory (optional argument)")
	optionalArgument(f, "savepointPath")
	f.BoolVarP(&drain, "drain", "d", false, "emit MAX_WATERMARK before stopping (fires all event-time timers)")
	f.StringVar(&typ, "type", "canonical", "savepoint format: canonical or native (Flink's -type)")
	f.DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the savepoint (default: 10m, or the job's checkpoint timeout plus a minute when longer)")
	tf = addTargetFlags(cmd)
	return cmd
}
