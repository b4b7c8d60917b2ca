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
		version  string
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
else is in it. Anything else there stays and is listed.

--target-version V4|V5|V6 (ckpt's engine only: ckpt serve, or the embedded
target) writes the savepoint's _metadata in that format version once the
savepoint completes — V4 for Flink 1.16–1.20, which refuse the V6 the engine
writes. Only the _metadata envelope changes (operator names and uids, which V4
cannot hold, are left out and listed); the state files stay as written. A
Flink target writes its own version: use ckpt cp --target-version for a copy.`,
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
			targetV := 0
			if version != "" && detached {
				return usagef("--target-version converts the savepoint once it completes: it cannot be --detached")
			}
			if version != "" {
				if targetV, err = snapshot.ParseTargetVersion(version); err != nil {
					return usagef("--target-version: %v", err)
				}
				info, err := c.Info(ctx)
				if err != nil {
					return err
				}
				if !strings.HasPrefix(info.Version, "ckpt") {
					return usagef("--target-version: %s runs Flink %s, which writes its own _metadata version; make a copy in V%d with: ckpt cp --target-version V%d SAVEPOINT DST", tf.target(), info.Version, targetV, targetV)
				}
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
			if targetV != 0 {
				if err := convertSavepoint(cmd, op.Location, targetV); err != nil {
					return fmt.Errorf("the savepoint %s is complete, but its _metadata was not converted to V%d (it is as the engine wrote it): %w", op.Location, targetV, err)
				}
			}
			fmt.Fprintf(out, "Resume from it with: ckpt submit -s %s <JOBSPEC or jar>\n", op.Location)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&dispose, "dispose", "d", "", "dispose the savepoint at PATH")
	f.StringVar(&typ, "type", "canonical", "savepoint format: canonical or native (Flink's -type)")
	f.BoolVar(&detached, "detached", false, "print the trigger id and return (Flink's -dcp)")
	f.DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the savepoint (or disposal)")
	f.StringVar(&version, "target-version", "", "ckpt's engine: write the savepoint's _metadata as V4 (Flink 1.16–1.20), V5 (2.0) or V6 (2.1–2.3)")
	tf = addTargetFlags(cmd)
	return cmd
}

// convertSavepoint rewrites the _metadata of the savepoint the engine just
// wrote at loc in format version v (atomically: a reader sees the old
// file or the new one). The state files are not touched.
func convertSavepoint(cmd *cobra.Command, loc string, v int) error {
	fsys := openStorage(cmd)
	defer fsys.Close()
	ctx := cmd.Context()
	m, err := snapshot.Read(ctx, fsys, loc)
	if err != nil {
		return err
	}
	c, err := m.ConvertTo(v)
	if err != nil {
		return err
	}
	if c.From == c.To {
		return nil
	}
	b, err := snapshot.Marshal(m)
	if err != nil {
		return err
	}
	// Nothing is visible until the writer closes: the old bytes or the new.
	if err := storage.WriteFile(ctx, fsys, m.Location, b, storage.CreateOptions{Sync: true, Overwrite: true}); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "Savepoint _metadata converted: v%d → %s.\n", c.From, snapshot.FormatLabel(c.To))
	if len(c.NotKept) > 0 {
		fmt.Fprintf(out, "Not kept (v%d has no field for them; operator IDs stay): the names/uids of %d operators.\n", c.To, len(c.NotKept))
	}
	return nil
}
