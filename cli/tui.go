package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/tui"
)

// `ckpt` with no subcommand opens the TUI at the configured start path
// (paths.start in the config file), else the current directory.
func init() {
	rootRun = func(cmd *cobra.Command, args []string) error {
		return runTUI(cmd, "browse", nil)
	}
	rootSetup = append(rootSetup, func(root *cobra.Command) {
		root.PersistentFlags().Bool("readonly", false, "TUI: hide and disable every mutating action (also readonly: true in the config)")
		root.PersistentFlags().String("theme", "", "TUI theme: auto, dark, light, high-contrast, mono (default from the config, else auto)")
	})
}

// runTUI opens the TUI on a registered screen with the root's TUI flags.
func runTUI(cmd *cobra.Command, screen string, args []string) error {
	readonly, _ := cmd.Flags().GetBool("readonly")
	theme, _ := cmd.Flags().GetString("theme")
	// The storage flags (--hdfs-user, --hdfs-timeout, --hadoop-conf-dir)
	// reach the TUI as they reach every other command.
	fsys := openStorage(cmd)
	defer fsys.Close()
	return tui.Run(cmd.Context(), tui.Options{
		Screen:     screen,
		Args:       args,
		Readonly:   readonly,
		Theme:      theme,
		FS:         fsys,
		SpecTarget: specTarget,
		In:         cmd.InOrStdin(),
		Out:        cmd.OutOrStdout(),
	})
}

// RunTUI lets other commands (inspect -i, diff -i) open a TUI screen.
func RunTUI(cmd *cobra.Command, screen string, args ...string) error {
	return runTUI(cmd, screen, args)
}

// AddTUIFlag gives a command -i/--tui ("show the result in the TUI").
// inspect and diff use it: in RunE,
//
//	if TUIRequested(cmd) { return RunTUI(cmd, "inspect", path) }
func AddTUIFlag(cmd *cobra.Command) {
	cmd.Flags().BoolP("tui", "i", false, "open the result in the terminal UI")
}

// TUIRequested reports whether -i/--tui was given.
func TUIRequested(cmd *cobra.Command) bool {
	v, _ := cmd.Flags().GetBool("tui")
	return v
}

// tuiTarget turns an --against value (a job spec, a uids file or a uid
// list, as targetFrom reads it) into what the TUI's inspect screen takes:
// files as @path (a spec must end in .yaml/.yml there).
func tuiTarget(against string) string {
	if fi, err := os.Stat(against); err == nil && !fi.IsDir() {
		return "@" + against
	}
	return against
}
