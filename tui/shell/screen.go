// Package shell is the frame of ckpt's terminal UI: the header,
// breadcrumbs, status bar, toasts, help overlay, "/" filter and ":"
// command line around a stack of screens, the tasks that report slow work,
// the keymaps and the user's config. Screens share one contract (Screen)
// and one Context (size, theme, keymap, storage, readonly, tasks), and are
// opened by name from the Registry the tui package declares.
//
// No I/O happens in Update or View: every storage or network call runs in a
// tea.Cmd that reports its start and finish through Tasks, so a stalled
// NameNode shows up as a spinner and later an error, never a frozen screen.
package shell

import (
	tea "charm.land/bubbletea/v2"
)

// Screen is the contract every page of the cockpit implements (after
// soft-serve's component contract).
type Screen interface {
	// Init starts the screen's loading work (as commands).
	Init() tea.Cmd
	// Update handles a message; keys the shell does not consume arrive here.
	Update(msg tea.Msg) (Screen, tea.Cmd)
	// View draws the body: at most the size given by SetSize.
	View() string
	// SetSize gives the body's size in cells.
	SetSize(width, height int)
	// Title is the screen's breadcrumb segment.
	Title() string
	// Location is what the header names as the current target (a URI).
	Location() string
	// Keys are the screen's own actions, for dispatch and help.
	Keys() Keymap
}

// Filterable screens narrow their rows by the "/" filter.
type Filterable interface {
	SetFilter(text string)
}

// FilterLoader screens read to filter (a virtualised state's entries,
// never all in memory): the shell runs FilterCmd after each SetFilter.
type FilterLoader interface {
	FilterCmd() tea.Cmd
}

// Copier screens say what "y" copies (usually the selected path).
type Copier interface {
	CopyText() string
}

// Capturer screens temporarily take every key (an input prompt or a
// confirmation): while Capturing is true the shell passes keys through,
// except ctrl+c.
type Capturer interface {
	Capturing() bool
}

// Statuser screens put a summary in the status bar ("1,204 entries").
type Statuser interface {
	Status() string
}

// Counter screens say how many rows the "/" filter shows of how many:
// the status bar prints "filter: x (3 of 40)".
type Counter interface {
	Count() (shown, total int)
}

// Closer screens release resources (cancel their tasks) when popped.
type Closer interface {
	Close()
}

// Refresher screens reload their data on ctrl+r.
type Refresher interface {
	Refresh() tea.Cmd
}

// Targeted screens talk to ctx.Cluster: the header names the target.
type Targeted interface{ UsesTarget() }

// Opener builds a screen from a Request. It must not do I/O: loading
// belongs in the screen's Init.
type Opener func(ctx *Context, req Request) (Screen, error)

// Request is what a screen is opened with: the words of a ":" command (or
// the CLI's arguments), and, when another screen opens it, what that
// screen hands over (one of the types in routes.go).
type Request struct {
	Args []string
	Data any
}

// Messages screens send to the shell, as commands (Push(s) etc.).
type (
	pushMsg    struct{ s Screen }
	replaceMsg struct{ s Screen }
	popMsg     struct{}
	openMsg    struct {
		name    string
		req     Request
		replace bool
	}
	// TaskDoneMsg ends a task started by a screen that may be gone by
	// the time its work finishes (cancel, a savepoint): the shell records
	// it, so Tasks is only ever touched from Update.
	TaskDoneMsg struct {
		Task  TaskID
		Err   error
		Toast string // shown on success
		// JobID and Savepoint: a savepoint the work took, remembered for
		// resume.
		JobID, Savepoint string
	}
	// ToastMsg shows a short message that fades after a few seconds.
	ToastMsg struct {
		Text  string
		Error bool
	}
)

// Push opens s on top of the current screen.
func Push(s Screen) tea.Cmd { return func() tea.Msg { return pushMsg{s} } }

// Replace swaps the current screen for s.
func Replace(s Screen) tea.Cmd { return func() tea.Msg { return replaceMsg{s} } }

// Pop closes the current screen.
func Pop() tea.Cmd { return func() tea.Msg { return popMsg{} } }

// OpenScreen opens a declared screen by name on top of the current one:
// screens reach each other only this way, never by building one another.
func OpenScreen(name string, args ...string) tea.Cmd {
	return func() tea.Msg { return openMsg{name: name, req: Request{Args: args}} }
}

// OpenScreenWith is OpenScreen handing data over to the new screen.
func OpenScreenWith(name string, data any, args ...string) tea.Cmd {
	return func() tea.Msg { return openMsg{name: name, req: Request{Args: args, Data: data}} }
}

// ReplaceScreen opens a declared screen in place of the current one (a
// launched job's screen replaces the launcher).
func ReplaceScreen(name string, args ...string) tea.Cmd {
	return func() tea.Msg { return openMsg{name: name, req: Request{Args: args}, replace: true} }
}

// Toast shows text briefly; errors are drawn as such.
func Toast(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return ToastMsg{Text: text, Error: isErr} }
}
