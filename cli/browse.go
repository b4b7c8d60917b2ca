package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newBrowseCmd) }

func newBrowseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "browse [URI]",
		Short: "Browse snapshot storage (local disk or hdfs://) in the TUI",
		Long: `Opens the terminal UI on a directory of local disk or HDFS and lets you walk
Flink-style snapshot trees: job directories, chk-N (complete or not), shared/,
taskowned/ and savepoint directories. Enter on a snapshot inspects its _metadata.

Without URI it opens paths.start from the config file, else the current directory.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTUI(cmd, "browse", args)
		},
	}
}
