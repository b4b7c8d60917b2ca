// Package tui is ckpt's terminal UI, assembled: the one declaration of its
// screens (screens.go), from which the shell's registry, the ":" commands
// and their completion, config key validation, the "?" help and the
// README's key tables are derived, and Run, which the CLI calls.
//
// Layout: tui/shell is the frame (app, stack, header, status, help,
// command line, tasks, keymap, config, registry); tui/components/<name>
// are reusable pieces (list, text, table, form); tui/screens/<name> are
// screens in their own packages (leaks so far — the others still live
// here and move the same way). Screens reach each other only by name
// (shell.OpenScreen); what one hands another is a type of routes.go.
// Dependencies flow one way: tui → screens → components and shell.
package tui
