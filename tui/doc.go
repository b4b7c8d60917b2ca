// Package tui is ckpt's terminal UI, assembled: the one declaration of its
// screens (screens.go), from which the shell's registry, the ":" commands
// and their completion, config key validation, the "?" help and the
// README's key tables are derived, and Run, which the CLI calls.
//
// Layout: tui/shell is the frame (app, stack, header, status, help,
// command line, tasks, keymap, config, registry, context setup);
// tui/components/<name> are reusable pieces (list, text, table, form,
// pathchooser) and the helpers screens share (layout: snapshot-tree
// kinds; poll: the poller; format: times, durations, states; target: the
// dry run's new job; actions: cancel and submit); tui/screens/<name> are
// the screens (jobs, job, checkpoint, resume, browse, inspect, diff,
// savepoints, leaks; the job screen composes its panes and its actions as
// types of their own, one file each), and
// tui/screens/routes holds what screens hand each other. Screens reach
// each other only by name (shell.OpenScreen); none imports another.
// Dependencies flow one way: tui → screens → components and shell.
//
// Tests: tui/internal/tuitest is the harness (open a declared screen by
// name, press keys, compare golden frames) with a fake target; a screen
// package's tests are external (package <name>_test) and import tui for
// its declaration (tui/internal/screenlist hands it over).
package tui
