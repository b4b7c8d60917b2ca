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
	"strings"
	"syscall"
	"time"

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
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name() < subs[j].Name() })
	root.AddCommand(subs...)
	return root
}

// Main runs ckpt with args and returns the process exit code.
func Main(args []string) int {
	return run(args, os.Stdout, os.Stderr)
}

func run(args []string, stdout, stderr io.Writer) int {
	root := NewRoot()
	for _, rw := range argRewriters {
		args = rw(args)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go watchSignals(sigs, cancel, done, stderr, stopGrace(root, args))
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

// Stopping on SIGINT/SIGTERM. The first signal cancels the command's
// context: every command passes it down (storage, REST, the engine) and
// winds down — `ckpt run` cancels its job and applies the retention
// policy. Should the command still be running after its grace period
// (something blocked beyond the context's reach: a stalled disk, a
// terminal not reading ckpt's output), ckpt exits anyway, with 128+signal
// as a shell reports a killed process; a second signal exits at once.
// Waiting is never indefinite: no signal is ever swallowed for good.
const (
	// readGrace is the grace period of commands that only read: nothing
	// is lost by leaving them at once.
	readGrace = 2 * time.Second
	// defaultGrace is that of commands that change something (a running
	// job, savepoints being disposed, `ckpt serve`): long enough to finish
	// cleanly, as short as a container runtime's (30 s) before SIGKILL.
	defaultGrace = 30 * time.Second
	// StopGraceEnv overrides every command's grace period (a duration).
	StopGraceEnv = "CKPT_STOP_GRACE"
)

// readOnlyCommands only read storage or a cluster.
var readOnlyCommands = map[string]bool{"inspect": true, "ls": true, "du": true, "diff": true, "list": true}

// exitNow ends the process (replaced in tests).
var exitNow = os.Exit

// stopGrace is the grace period of the command args select.
func stopGrace(root *cobra.Command, args []string) time.Duration {
	if v := os.Getenv(StopGraceEnv); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d >= 0 {
			return d
		}
	}
	if c, _, err := root.Find(args); err == nil && readOnlyCommands[c.Name()] && !tuiRequestedArgs(args) {
		return readGrace
	}
	return defaultGrace
}

// tuiRequestedArgs reports whether args ask a command for its TUI (-i,
// --tui): the terminal must be restored, so it gets the default grace.
func tuiRequestedArgs(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-i" || a == "--tui" || strings.HasPrefix(a, "--tui=") {
			return true
		}
	}
	return false
}

// watchSignals cancels the command on the first signal and ends the
// process when the command outlives grace, or on a second signal. It
// returns when done closes (the command returned).
func watchSignals(sigs <-chan os.Signal, cancel context.CancelFunc, done <-chan struct{}, stderr io.Writer, grace time.Duration) {
	var first os.Signal
	select {
	case first = <-sigs:
		cancel()
	case <-done:
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case s := <-sigs:
		fmt.Fprintf(stderr, "ckpt: %v again: exiting at once\n", s)
		exitNow(exitCodeOf(s))
	case <-t.C:
		fmt.Fprintf(stderr, "ckpt: still busy %s after %v: exiting\n", grace, first)
		exitNow(exitCodeOf(first))
	}
}

// exitCodeOf is 128+signal number, what a shell reports for a process a
// signal ended.
func exitCodeOf(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 128 + int(syscall.SIGTERM)
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
