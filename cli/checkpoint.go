package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
)

func init() { register(newCheckpointCmd) }

func newCheckpointCmd() *cobra.Command {
	var (
		full, incremental bool
		wait              time.Duration
	)
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "checkpoint JOBID [--full]",
		Short: "Trigger a checkpoint now",
		Long: `Triggers a checkpoint of a running job now (POST /jobs/:jobid/checkpoints,
Flink 1.17+) and waits for its id, as flink checkpoint does. --full forces a
full (non-incremental) checkpoint, which starts a new incremental chain. A
manual checkpoint is an ordinary one: it counts towards num-retained.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := jobIDArg(args[0])
			if err != nil {
				return err
			}
			if full && incremental {
				return usagef("--full and --incremental exclude each other")
			}
			kind := cluster.CheckpointConfigured
			switch {
			case full:
				kind = cluster.CheckpointFull
			case incremental:
				kind = cluster.CheckpointIncremental
			}
			c, err := tf.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Triggering checkpoint for job %s.\n", id)
			t, err := c.TriggerCheckpoint(cmd.Context(), id, cluster.CheckpointRequest{Type: kind})
			if err != nil {
				return err
			}
			op, err := waitOp(cmd.Context(), c, t, wait)
			if err != nil {
				return fmt.Errorf("failed to trigger a checkpoint for the job %s: %w", id, err)
			}
			fmt.Fprintf(out, "Checkpoint %d for job %s completed.\n", op.CheckpointID, id)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&full, "full", false, "a full checkpoint (Flink's -full)")
	f.BoolVar(&incremental, "incremental", false, "an incremental checkpoint if the job can take one")
	f.DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the checkpoint")
	tf = addTargetFlags(cmd)
	return cmd
}
