// Package screenlist hands the declared screens (tui/screens.go) to the
// test harness (tui/internal/tuitest), which opens screens by name the way
// the shell does but cannot reach tui's unexported declaration. tui sets
// Declared at init; nothing else writes it.
package screenlist

import "github.com/ckpt-dev/ckpt/tui/shell"

// Declared is tui's declaration of its screens.
var Declared shell.Registry
