package shell

import (
	"fmt"
	"os"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/history"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/themes"
)

// Setup is what a Context is built from: the CLI's options (tui.Options)
// and the declared screens.
type Setup struct {
	Screens      Registry
	Readonly     bool
	Theme        string
	FS           storage.FS
	SpecTarget   func(path string) (inspector.Target, error)
	Cluster      cluster.Cluster
	TargetName   string
	InProcess    bool
	Targets      *Targets
	SpecDirs     []string
	SubmitConfig map[string]string
	StartPath    string
	JobOutput    string
	Getenv       func(string) string
}

// NewContext builds the shared context from the setup and the user's
// config without touching the terminal: the pieces Run and the tests
// share.
func NewContext(opts Setup) (*Context, themes.Choice, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	explicit := getenv("CKPT_CONFIG") != ""
	cfg, err := LoadConfig(ConfigPath(getenv), explicit)
	if err != nil {
		return nil, themes.Choice{}, err
	}
	choice := themes.Choice{Name: cfg.Theme, DarkBG: true, NoColor: themes.NoColorSet(getenv)}
	if opts.Theme != "" {
		choice.Name = opts.Theme
	}
	th, err := themes.Pick(choice)
	if err != nil {
		return nil, choice, fmt.Errorf("config %s: %w", cfg.File, err)
	}
	fsys := opts.FS
	if fsys == nil {
		fsys = storage.Default()
	}
	ctx := &Context{
		Theme:    th,
		Screens:  opts.Screens,
		Global:   DefaultGlobalKeys(),
		Config:   cfg,
		Readonly: opts.Readonly || cfg.Readonly,
		FS:       fsys,
		Timeout:  storageTimeout(getenv),
		Now:      time.Now,

		SpecTarget: opts.SpecTarget,

		Cluster:      opts.Cluster,
		TargetName:   opts.TargetName,
		InProcess:    opts.InProcess,
		Targets:      opts.Targets,
		HistoryDir:   history.DefaultDir(getenv),
		SpecDirs:     opts.SpecDirs,
		SubmitConfig: opts.SubmitConfig,
		JobOutput:    opts.JobOutput,
	}
	if opts.InProcess {
		ctx.Home = opts.Cluster
	}
	if opts.StartPath != "" {
		ctx.Config.Paths.Start = opts.StartPath
	}
	ctx.Tasks = NewTasks(func() time.Time { return ctx.Now() })
	ctx.ApplyKeys(ctx.Global.Keymap())
	return ctx, choice, nil
}

// storageTimeout bounds each storage call the UI makes. CKPT_HDFS_TIMEOUT
// (as for the CLI) overrides the default of 15 s: long enough for a busy
// NameNode, short enough that a dead one is reported while you wait.
func storageTimeout(getenv func(string) string) time.Duration {
	if v := getenv("CKPT_HDFS_TIMEOUT"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return 15 * time.Second
}
