// Package statedir is where ckpt keeps what it remembers between runs on
// this machine — the engine's catalog, the gc journal, the checkpoint
// history of REST targets, the savepoint scheduler's journal: one rule,
// $CKPT_STATE_DIR, else $XDG_STATE_HOME/ckpt, else ~/.local/state/ckpt.
package statedir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dir is ckpt's state directory, given an environment lookup (nil: the
// process's environment, and its user's home directory when HOME is
// unset; a lookup given is the whole environment, as in tests). A relative
// XDG_STATE_HOME is ignored, as the XDG spec says.
func Dir(getenv func(string) string) (string, error) {
	process := getenv == nil
	if process {
		getenv = os.Getenv
	}
	if d := getenv("CKPT_STATE_DIR"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "ckpt"), nil
	}
	home := getenv("HOME")
	if home == "" && !process {
		return "", fmt.Errorf("no home directory for ckpt's state (set CKPT_STATE_DIR)")
	}
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil || home == "" {
			return "", fmt.Errorf("no home directory for ckpt's state (set CKPT_STATE_DIR): %v", err)
		}
	}
	return filepath.Join(home, ".local", "state", "ckpt"), nil
}

// Path is name inside the state directory.
func Path(getenv func(string) string, name ...string) (string, error) {
	d, err := Dir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{d}, name...)...), nil
}

// SafeName turns a target's name (a URL, host:port) into one path segment:
// letters, digits, '.', '-' and '_' stay, everything else becomes '_'.
func SafeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
