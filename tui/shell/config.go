package shell

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"go.yaml.in/yaml/v3"

	"github.com/ckpt-dev/ckpt/internal/contexts"
	"github.com/ckpt-dev/ckpt/storage"
)

// Config is the user's TUI configuration. It lives in
// $XDG_CONFIG_HOME/ckpt/config.yaml (~/.config/ckpt/config.yaml when
// XDG_CONFIG_HOME is unset); CKPT_CONFIG names another file. Every field is
// optional.
//
//	theme: auto            # auto | dark | light | high-contrast | mono
//	readonly: false        # true drops every mutating action (as --readonly)
//	mouse: false           # true enables mouse wheel/clicks (breaks terminal selection)
//	paths:
//	  start: hdfs://nn:8020/flink/checkpoints   # what `ckpt` opens with no arguments
//	  bookmarks: [/data/savepoints]            # offered by :browse completion
//	keys:                  # action name → keys; [] unbinds
//	  quit: [q, ctrl+q]
//	  browse.du: [u]
type Config struct {
	Theme    string              `yaml:"theme"`
	Readonly bool                `yaml:"readonly"`
	Mouse    bool                `yaml:"mouse"`
	Paths    PathsConfig         `yaml:"paths"`
	Keys     map[string][]string `yaml:"keys"`

	// The contexts (package contexts reads and checks them; the TUI's
	// loader only accepts their keys).
	CurrentContext string                      `yaml:"current-context"`
	Contexts       map[string]contexts.Context `yaml:"contexts"`

	// File is where the config was read from ("" when none exists).
	File string `yaml:"-"`
}

// PathsConfig holds default locations.
type PathsConfig struct {
	Start     string   `yaml:"start"`
	Bookmarks []string `yaml:"bookmarks"`
}

// ConfigPath is where the config file is looked for (contexts.ConfigPath:
// CKPT_CONFIG, else XDG_CONFIG_HOME/ckpt/config.yaml, else
// HOME/.config/ckpt/config.yaml).
func ConfigPath(getenv func(string) string) string { return contexts.ConfigPath(getenv) }

// LoadConfig reads the config at path. A missing file is not an error (the
// defaults apply) unless it was named explicitly with CKPT_CONFIG (explicit
// says so). A malformed file is an error naming the file and line.
// maxConfigBytes bounds the config file (a regular file; a FIFO or
// /dev/zero is refused, not read forever).
const maxConfigBytes = 1 << 20

func LoadConfig(path string, explicit bool) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	b, err := storage.ReadRegular(path, maxConfigBytes)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("config %s: %v", path, err)
	}
	c.File = path
	return c, nil
}

// validateKeys reports key overrides naming no known action.
func (c Config) ValidateKeys(known map[string]bool) error {
	var bad []string
	for name := range c.Keys {
		if !known[name] {
			bad = append(bad, name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("config %s: unknown key action(s) %v (see README: TUI key bindings)", c.File, bad)
}
