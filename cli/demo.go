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
// Flink `_metadata` fixtures and opens the TUI on it: what `make run` does,
// so the TUI shows something real with no setup.
func newDemoCmd() *cobra.Command {
	var fixtures string
	var noTUI bool
	cmd := &cobra.Command{
		Use:   "demo DIR",
		Short: "Build a demo checkpoint tree from the real Flink fixtures in DIR and browse it",
		Long: `Builds DIR/checkpoints/<job-id>/{chk-17,chk-18,chk-19,shared,taskowned} and
DIR/savepoints/savepoint-… from real Flink _metadata files (../shared/fixtures/flink-metadata
in the source tree) and opens the TUI on DIR. An existing DIR is rebuilt.`,
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
			return runTUI(cmd, "browse", []string{dir})
		},
	}
	cmd.Flags().StringVar(&fixtures, "fixtures", "../shared/fixtures/flink-metadata", "directory of the real Flink _metadata fixtures")
	cmd.Flags().BoolVar(&noTUI, "no-tui", false, "only build the tree")
	return cmd
}
