package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newCancelCmd) }

func newCancelCmd() *cobra.Command {
	var wait time.Duration
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "cancel JOBID",
		Short: "Cancel a job",
		Long: `Cancels a running job without a savepoint (PATCH /jobs/:jobid?mode=cancel) and
waits until it is CANCELED. Whether its retained checkpoints survive depends
on the job's execution.checkpointing.externalized-checkpoint-retention
(RETAIN_ON_CANCELLATION keeps them). To keep the state, use
ckpt stop -p instead (stop with a savepoint).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobIDArg(args[0])
			if err != nil {
				return err
			}
			c, err := tf.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Cancelling job %s.\n", id)
			if err := c.Cancel(cmd.Context(), id); err != nil {
				return fmt.Errorf("could not cancel job %s: %w", id, err)
			}
			st, err := waitTerminal(cmd.Context(), c, id, wait)
			if err != nil {
				return err
			}
			if st != "CANCELED" {
				return fmt.Errorf("job %s ended %s, not CANCELED", id, st)
			}
			fmt.Fprintf(out, "Cancelled job %s.\n", id)
			return nil
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for the job to reach CANCELED")
	tf = addTargetFlags(cmd)
	return cmd
}
