package tui

import (
	"context"
	"fmt"
	"io"
	"os"

	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/term"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/themes"
	"github.com/ckpt-dev/ckpt/tui/components/actions"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Options start the TUI.
type Options struct {
	// Screen and Args name the first screen ("browse", []string{uri}).
	// Empty Screen opens the browser at the configured start path.
	Screen string
	Args   []string
	// Readonly drops every mutating action (also set by the config file).
	Readonly bool
	// Theme overrides the config's theme ("" keeps it).
	Theme string
	// FS is the storage to browse; nil means storage.Default().
	FS storage.FS
	// SpecTarget turns a job spec into a dry-run target (see Context).
	SpecTarget func(path string) (inspector.Target, error)
	// Cluster is the target of the job screens and TargetName what the
	// header calls it (see Context); nil: no job screens.
	Cluster    cluster.Cluster
	TargetName string
	// InProcess says Cluster runs in this process (its jobs end with
	// the UI: quitting asks first).
	InProcess bool
	// Targets lists and reaches the config's contexts (:ctx); nil: none.
	Targets *shell.Targets
	// SpecDirs hold the job specs the launcher offers; SubmitConfig is
	// added to every job the TUI launches.
	SpecDirs     []string
	SubmitConfig map[string]string
	// Launch lists job specs Run submits before the UI starts (the demo).
	Launch []string
	// StartPath overrides the config's paths.start (where the browser
	// opens without a path).
	StartPath string
	// JobOutput is where jobs in this process print (shown on the jobs
	// screen).
	JobOutput string
	// Getenv reads the environment (nil: os.Getenv); tests pass their own.
	Getenv func(string) string
	// In and Out are the terminal (nil: stdin/stdout).
	In  io.Reader
	Out io.Writer
	// Program options for tests (window size, colour profile, …).
	ProgramOptions []tea.ProgramOption
}

// newAppFor builds the shell with its first screen from options.
func newAppFor(opts Options) (*shell.App, error) {
	ctx, choice, err := newContext(opts)
	if err != nil {
		return nil, err
	}
	name := opts.Screen
	if name == "" {
		name = "browse"
	}
	first, err := declaredScreens.Open(ctx, name, opts.Args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Config.ValidateKeys(shell.KnownActionNames(declaredScreens.Actions(ctx))); err != nil {
		return nil, err
	}
	return shell.NewApp(ctx, first, choice), nil
}

// Run opens the TUI and blocks until the user quits.
func Run(ctx context.Context, opts Options) error {
	app, err := newAppFor(opts)
	if err != nil {
		return err
	}
	// Jobs to launch at start (before the UI: no I/O in Update).
	for _, spec := range opts.Launch {
		id, err := actions.LaunchSpec(ctx, app.Context(), spec)
		if err != nil {
			return fmt.Errorf("launching %s: %w", spec, err)
		}
		app.Context().LaunchedFrom(id, spec)
	}
	po := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.In != nil {
		po = append(po, tea.WithInput(opts.In))
	}
	out := opts.Out
	if out != nil {
		po = append(po, tea.WithOutput(out))
	} else {
		out = os.Stdout
	}
	if f, ok := out.(*os.File); ok && term.IsTerminal(f.Fd()) {
		// The colours TERM declares (themes.Profile says why not the
		// renderer's own guess inside tmux).
		po = append(po, tea.WithColorProfile(themes.Profile(os.Environ())))
	}
	po = append(po, opts.ProgramOptions...)
	_, err = tea.NewProgram(app, po...).Run()
	if err == tea.ErrInterrupted {
		return nil
	}
	return err
}

// newContext builds the shared context from options without touching the
// terminal.
func newContext(opts Options) (*shell.Context, themes.Choice, error) {
	return shell.NewContext(shell.Setup{Screens: declaredScreens, Readonly: opts.Readonly, Theme: opts.Theme, FS: opts.FS,
		SpecTarget: opts.SpecTarget, Cluster: opts.Cluster, TargetName: opts.TargetName, InProcess: opts.InProcess, Targets: opts.Targets, SpecDirs: opts.SpecDirs,
		SubmitConfig: opts.SubmitConfig, StartPath: opts.StartPath, JobOutput: opts.JobOutput, Getenv: opts.Getenv})
}
