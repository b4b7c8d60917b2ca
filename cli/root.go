// Package cli holds ckpt's subcommands. Each command lives in its own file and
// registers itself with register() from an init function, so commands can be
// added without touching this file.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command. Commands with richer outcomes (for
// example inspect --against) document their own codes above ExitUsage.
const (
	ExitOK    = 0
	ExitError = 1 // the command ran and failed: bad input, unreachable storage, ...
	ExitUsage = 2 // wrong flags or arguments, or a command not implemented yet
)

// ExitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// WithExitCode makes a command end with code; err (if any) is printed.
func WithExitCode(code int, err error) error { return &exitError{code: code, err: err} }

var errNotImplemented = errors.New("not implemented yet")

var commands []func() *cobra.Command

// register adds a subcommand constructor.
func register(newCmd func() *cobra.Command) { commands = append(commands, newCmd) }

// Version is set at build time with -ldflags "-X github.com/ckpt-dev/ckpt/cli.Version=...".
var Version = "dev"

// argRewriters adjust the raw arguments before parsing (e.g. Flink's
// single-dash long options such as "-type" for the commands that mirror
// Flink's CLI).
var argRewriters []func(args []string) []string

// rootRun opens the TUI; until the TUI package provides it, it shows help.
var rootRun func(cmd *cobra.Command, args []string) error

// rootSetup adds flags to the root command (e.g. the TUI's --readonly).
var rootSetup []func(root *cobra.Command)

// NewRoot builds the command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "ckpt",
		Short: "A terminal cockpit for stream jobs, checkpoints and savepoints",
		Long: `ckpt runs stream jobs on its embedded engine or operates a Flink cluster, and
inspects checkpoints and savepoints (_metadata) on local disk and HDFS.

Without a subcommand, ckpt opens the terminal UI.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if rootRun != nil {
				return rootRun(cmd, args)
			}
			return cmd.Help()
		},
	}
	for _, f := range rootSetup {
		f(root)
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return WithExitCode(ExitUsage, fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath()))
	})
	subs := make([]*cobra.Command, 0, len(commands))
	for _, newCmd := range commands {
		subs = append(subs, newCmd())
	}
	for _, name := range plannedCommands {
		if !hasCommand(subs, name.use) {
			subs = append(subs, notImplemented(name.use, name.short))
		}
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
	root.AddCommand(subs...)
	return root
}

// plannedCommands are shown (and answer "not implemented yet", exit 2) until
// a file registers the real command.
var plannedCommands = []struct{ use, short string }{
	{"browse", "Browse snapshot storage in the TUI"},
	{"inspect", "Show what a checkpoint or savepoint holds"},
	{"diff", "Compare two snapshots"},
	{"ls", "List a directory on local disk or HDFS"},
	{"du", "Disk usage of a directory on local disk or HDFS"},
	{"run", "Run a job spec on the embedded engine in the foreground"},
	{"serve", "Run the embedded engine behind Flink's REST API"},
	{"submit", "Submit a job to a running engine or Flink cluster"},
	{"savepoint", "Trigger or dispose a savepoint"},
	{"checkpoint", "Trigger a checkpoint now"},
	{"cancel", "Cancel a job"},
	{"stop", "Stop a job with a savepoint"},
	{"list", "List jobs"},
}

func hasCommand(cmds []*cobra.Command, name string) bool {
	for _, c := range cmds {
		if c.Name() == name {
			return true
		}
	}
	return false
}

func notImplemented(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:                use,
		Short:              short + " (not implemented yet)",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return WithExitCode(ExitUsage, fmt.Errorf("ckpt %s: %w", use, errNotImplemented))
		},
	}
}

// Main runs ckpt with args and returns the process exit code.
func Main(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRoot()
	for _, rw := range argRewriters {
		args = rw(args)
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitError
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			return code
		}
	} else if isUsageError(err) {
		code = ExitUsage
	}
	fmt.Fprintln(stderr, "ckpt:", err)
	return code
}

// isUsageError recognises cobra's argument-validation errors.
func isUsageError(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

// usageError marks an error as a usage mistake (exit 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// usagef returns a usage error.
func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exactArgs is cobra.ExactArgs with exit code 2.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs with exit code 2.
func rangeArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.RangeArgs(min, max)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
