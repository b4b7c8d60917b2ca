package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/tui"
)

func init() { register(newDemoCmd) }

// `ckpt demo DIR` lays out a Flink-style snapshot tree built from the real
// Flink `_metadata` fixtures, then opens the TUI on the embedded engine
// with a job running that checkpoints into the same tree: what `make run`
// does, so the TUI shows something real — live checkpoints, retained chk-N
// directories, savepoints — with no setup.
func newDemoCmd() *cobra.Command {
	var fixtures, job string
	var noTUI bool
	cmd := &cobra.Command{
		Use:   "demo DIR",
		Short: "Open the TUI on the embedded engine with a demo job, over a snapshot tree built in DIR",
		Long: `Builds DIR/checkpoints/<job-id>/{chk-17,chk-18,chk-19,shared,taskowned} and
DIR/savepoints/savepoint-… from real Flink _metadata files (../shared/fixtures/flink-metadata
in the source tree), then opens the TUI on the embedded engine with --job (default
jobs/windowed-counts.yaml, if present) running. Jobs launched in the TUI checkpoint into
DIR/checkpoints and take savepoints into DIR/savepoints, next to the fixtures; b browses DIR.
An existing DIR is rebuilt.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.RemoveAll(filepath.Join(dir, "checkpoints")); err != nil {
				return err
			}
			if err := os.RemoveAll(filepath.Join(dir, "savepoints")); err != nil {
				return err
			}
			if err := tui.BuildDemoTree(dir, fixtures, time.Now()); err != nil {
				return fmt.Errorf("demo tree in %s: %w", dir, err)
			}
			if noTUI {
				fmt.Fprintln(cmd.OutOrStdout(), dir)
				return nil
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			dirs := map[string]string{
				"execution.checkpointing.dir":           "file://" + filepath.ToSlash(filepath.Join(abs, "checkpoints")),
				"execution.checkpointing.savepoint-dir": "file://" + filepath.ToSlash(filepath.Join(abs, "savepoints")),
			}
			setup := tuiSetup{config: dirs, submitConfig: dirs, start: abs}
			if job != "" {
				if _, err := os.Stat(job); err == nil {
					setup.launch = []string{job}
				} else if cmd.Flags().Changed("job") {
					return fmt.Errorf("--job %s: %w", job, err)
				}
			}
			return runTUIWith(cmd, "jobs", nil, setup)
		},
	}
	cmd.Flags().StringVar(&fixtures, "fixtures", "../shared/fixtures/flink-metadata", "directory of the real Flink _metadata fixtures")
	cmd.Flags().BoolVar(&noTUI, "no-tui", false, "only build the tree")
	cmd.Flags().StringVar(&job, "job", "jobs/windowed-counts.yaml", "job spec to launch at start (\"\" launches none)")
	return cmd
}
