package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/tui"
)

// `ckpt` with no subcommand opens the TUI on its jobs screen: the embedded
// engine in this process by default, or a REST target (a Flink JobManager,
// `ckpt serve`) with -m/--jobmanager or CKPT_JOBMANAGER, as the CLI
// actions take it.
func init() {
	rootRun = func(cmd *cobra.Command, args []string) error {
		return runTUI(cmd, "jobs", nil)
	}
	rootSetup = append(rootSetup, func(root *cobra.Command) {
		root.PersistentFlags().Bool("readonly", false, "TUI: hide and disable every mutating action (also readonly: true in the config)")
		root.PersistentFlags().String("theme", "", "TUI theme: auto, dark, light, high-contrast, mono (default from the config, else auto)")
		// Local to the root command: the actions (list, savepoint, …) have
		// their own -m, whose default is localhost:8081, not the embedded engine.
		root.Flags().StringP("jobmanager", "m", "", "TUI `target`: a REST endpoint (host:port or http(s)://host:port of a Flink JobManager or ckpt serve), "+
			"or \""+embeddedTarget+"\" (default: --context, $"+ContextEnv+", $"+JobManagerEnv+", the current context, else the embedded engine in this process)")
		tuiREST = addRESTFlags(root)
	})
}

// tuiREST are the TUI's REST security flags (the root command's).
var tuiREST *restFlags

// embeddedTarget names the in-process engine as a -m value.
const embeddedTarget = "embedded"

// tuiSetup is what a command adds to the TUI's start (ckpt demo: its dirs
// and a job to launch).
type tuiSetup struct {
	// config is the embedded cluster's configuration (nil: empty).
	config map[string]string
	// submitConfig is added to every job the TUI launches.
	submitConfig map[string]string
	// launch lists job specs to launch at start (embedded target).
	launch []string
	// start is the browser's start path (b on the jobs screen).
	start string
}

// runTUI opens the TUI on a registered screen with the root's TUI flags.
func runTUI(cmd *cobra.Command, screen string, args []string) error {
	return runTUIWith(cmd, screen, args, tuiSetup{})
}

func runTUIWith(cmd *cobra.Command, screen string, args []string, setup tuiSetup) error {
	readonly, _ := cmd.Flags().GetBool("readonly")
	theme, _ := cmd.Flags().GetString("theme")
	// The storage flags (--hdfs-user, --hdfs-timeout, --hadoop-conf-dir)
	// reach the TUI as they reach every other command.
	fsys := openStorage(cmd)
	defer fsys.Close()

	m := ""
	if f := cmd.Flags().Lookup("jobmanager"); f != nil && cmd.Flags().Changed("jobmanager") {
		m = f.Value.String()
	}
	var rt restTarget
	if m != embeddedTarget {
		var err error
		if rt, err = resolveREST(cmd, m, tuiREST, ""); err != nil {
			return err
		}
	}
	target := rt.URL
	out := cmd.OutOrStdout()
	opts := tui.Options{
		Screen:       screen,
		Args:         args,
		Readonly:     readonly,
		Theme:        theme,
		FS:           fsys,
		SpecTarget:   specTarget,
		SubmitConfig: setup.submitConfig,
		Launch:       setup.launch,
		StartPath:    setup.start,
		In:           cmd.InOrStdin(),
		Out:          out,
	}
	if fi, err := os.Stat("jobs"); err == nil && fi.IsDir() {
		opts.SpecDirs = []string{"jobs"}
	}
	if target == "" || target == embeddedTarget {
		cfg := config.New()
		for k, v := range setup.config {
			if err := cfg.Set(k, v, "ckpt"); err != nil {
				return err
			}
		}
		// Jobs in this process print (stdout sinks) and log to stdout and
		// stderr, which the full-screen UI owns: send those to a file, and
		// the engine's own lines (checkpoints, restores, skipped state,
		// failures) with them.
		var jobLog io.Writer
		if f, ok := out.(*os.File); ok && f == os.Stdout {
			restore, logFile, err := divertStdio()
			if err != nil {
				return err
			}
			defer restore()
			opts.Out = f
			opts.JobOutput, jobLog = logFile.Name(), logFile
		}
		c := embedded.New(embedded.Options{FS: fsys, Config: cfg, Version: "ckpt-" + Version, JobLog: jobLog})
		defer func() {
			// Jobs end with the TUI; their retained checkpoints follow each
			// job's retention policy. (Deferred after the log's restore, so
			// the jobs' last lines still reach the log.)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c.Close(ctx)
		}()
		opts.Cluster, opts.TargetName, opts.InProcess = c, "embedded engine", true
	} else {
		c, err := flinkrest.New(target, rt.Options)
		if err != nil {
			return usagef("-m/--jobmanager: %v", err)
		}
		opts.Cluster, opts.TargetName = c, rt.Name(c.URL())
	}
	return tui.Run(cmd.Context(), opts)
}

// divertStdio points os.Stdout and os.Stderr at a log file while the TUI
// runs (the UI keeps the terminal's own file); restore puts them back.
func divertStdio() (restore func(), log *os.File, err error) {
	f, err := os.CreateTemp("", "ckpt-tui-jobs-*.log")
	if err != nil {
		return nil, nil, fmt.Errorf("job output log: %w", err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = f, f
	return func() {
		os.Stdout, os.Stderr = stdout, stderr
		// Keep the log only when a job wrote to it.
		if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
			os.Remove(f.Name())
		}
		f.Close()
	}, f, nil
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
