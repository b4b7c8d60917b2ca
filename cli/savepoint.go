package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func init() { register(newSavepointCmd) }

// formatFlag parses --type canonical|native.
func formatFlag(v string) (cluster.SavepointFormat, error) {
	switch f := cluster.SavepointFormat(strings.ToUpper(v)); f {
	case cluster.Canonical, cluster.Native:
		return f, nil
	}
	return "", usagef("--type %q: want canonical or native", v)
}

func newSavepointCmd() *cobra.Command {
	var (
		typ      string
		detached bool
		dispose  string
		wait     time.Duration
	)
	var tf *targetFlags
	cmd := &cobra.Command{
		Use:   "savepoint JOBID [DIR] | savepoint -d PATH",
		Short: "Trigger or dispose a savepoint",
		Long: `Triggers a savepoint of a running job, as flink savepoint does, and waits for
its path (savepoint-<job6>-<random12>/ in DIR, or in the cluster's
execution.checkpointing.savepoint-dir when DIR is omitted). --type picks the
format: canonical (default, backend independent) or native. --detached only
prints the trigger id.

-d/--dispose PATH deletes a savepoint through the cluster (POST
/savepoint-disposal) and waits until it is gone: exactly the files its
_metadata references inside its directory, then the directory if nothing
else is in it. Anything else there stays and is listed.`,
		Args: rangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			c, err := tf.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if dispose != "" {
				if len(args) > 0 {
					return usagef("-d/--dispose takes the savepoint path only (got extra %q)", args)
				}
				fmt.Fprintf(out, "Disposing savepoint '%s'.\n", dispose)
				t, err := c.DisposeSavepoint(ctx, dispose)
				if err != nil {
					return err
				}
				if _, err := waitOp(ctx, c, t, wait); err != nil {
					return fmt.Errorf("failed to dispose the savepoint '%s': %w", dispose, err)
				}
				fmt.Fprintf(out, "Savepoint '%s' disposed.\n", dispose)
				// Whatever else was in the directory stays (ckpt's and Flink's
				// disposals delete only the savepoint's own files): name it.
				fsys := openStorage(cmd)
				defer fsys.Close()
				dir := dispose
				if storage.Base(dir) == snapshot.MetadataFileName {
					dir = storage.Dir(dir)
				}
				printLeft(out, snapshot.Remains(ctx, fsys, dir))
				return nil
			}
			if len(args) == 0 {
				return usagef("missing JOBID: specify a job ID to trigger a savepoint (or -d PATH to dispose one)")
			}
			id, err := jobIDArg(args[0])
			if err != nil {
				return err
			}
			format, err := formatFlag(typ)
			if err != nil {
				return err
			}
			dir := ""
			if len(args) == 2 {
				dir = args[1]
			}
			fmt.Fprintf(out, "Triggering savepoint for job %s.\n", id)
			t, err := c.TriggerSavepoint(ctx, id, cluster.SavepointRequest{TargetDir: dir, Format: format})
			if err != nil {
				return err
			}
			if detached {
				fmt.Fprintf(out, "Savepoint triggered in detached mode; trigger id: %s\n", t.ID)
				return nil
			}
			op, err := waitOp(ctx, c, t, wait)
			if err != nil {
				return fmt.Errorf("failed to trigger a savepoint for the job %s: %w", id, err)
			}
			fmt.Fprintf(out, "Savepoint completed. Path: %s\n", op.Location)
			fmt.Fprintf(out, "Resume from it with: ckpt submit -s %s <JOBSPEC or jar>\n", op.Location)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&dispose, "dispose", "d", "", "dispose the savepoint at PATH")
	f.StringVar(&typ, "type", "canonical", "savepoint format: canonical or native (Flink's -type)")
	f.BoolVar(&detached, "detached", false, "print the trigger id and return (Flink's -dcp)")
	f.DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the savepoint (or disposal)")
	tf = addTargetFlags(cmd)
	return cmd
}
