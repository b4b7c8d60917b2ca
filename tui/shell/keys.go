package shell

import (
	"strings"

	"charm.land/bubbles/v2/key"
)

// Action is one thing a user can do with a key. Keys are declared once, as
// Actions, and used for both dispatch (key.Matches on Binding) and the
// generated help, so help can never drift from behaviour. Name is the stable
// identifier config files use to rebind it ("quit", "browse.delete").
type Action struct {
	Name    string
	Binding key.Binding
	// Dangerous marks actions that change or delete something (on storage or
	// on a job). --readonly disables them, which removes them from dispatch
	// and from help alike.
	Dangerous bool
}

// NewAction declares an action with its default keys and help text.
func NewAction(name, help, desc string, keys ...string) *Action {
	return &Action{Name: name, Binding: key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))}
}

// Danger marks the action as mutating and returns it.
func (a *Action) Danger() *Action {
	a.Dangerous = true
	h := a.Binding.Help()
	a.Binding.SetHelp(h.Key, h.Desc+" (!)")
	return a
}

// Keymap is a named set of actions: the global one, and one per screen.
type Keymap []*Action

// Bindings returns the enabled bindings for help.
func (k Keymap) Bindings() []key.Binding {
	out := make([]key.Binding, 0, len(k))
	for _, a := range k {
		if a.Binding.Enabled() {
			out = append(out, a.Binding)
		}
	}
	return out
}

// Apply rebinds actions from overrides (action name → keys; names of other
// keymaps are ignored here — Config.validateKeys reports real typos) and,
// when readonly, disables every dangerous action.
func (k Keymap) Apply(overrides map[string][]string, readonly bool) {
	byName := map[string]*Action{}
	for _, a := range k {
		byName[a.Name] = a
	}
	for name, keys := range overrides {
		a, ok := byName[name]
		if !ok {
			continue
		}
		if len(keys) == 0 {
			a.Binding.SetEnabled(false)
			continue
		}
		a.Binding.SetKeys(keys...)
		a.Binding.SetHelp(strings.Join(keys, "/"), a.Binding.Help().Desc)
	}
	for _, a := range k {
		if readonly && a.Dangerous {
			a.Binding.SetEnabled(false)
		}
	}
}

// GlobalKeys are handled by the shell around every screen.
type GlobalKeys struct {
	Quit, ForceQuit, Help, Filter, Command, Back, NextPane, Copy, Refresh *Action
}

// DefaultGlobalKeys are the shell's keys.
func DefaultGlobalKeys() *GlobalKeys {
	return &GlobalKeys{
		Quit:      NewAction("quit", "q", "quit", "q"),
		ForceQuit: NewAction("force-quit", "ctrl+c", "quit now", "ctrl+c"),
		Help:      NewAction("help", "?", "help", "?"),
		Filter:    NewAction("filter", "/", "filter", "/"),
		Command:   NewAction("command", ":", "command", ":"),
		Back:      NewAction("back", "esc", "back", "esc"),
		NextPane:  NewAction("next-pane", "tab", "next pane", "tab"),
		Copy:      NewAction("copy", "y", "copy path (OSC 52)", "y"),
		Refresh:   NewAction("refresh", "ctrl+r", "reload", "ctrl+r"),
	}
}

// Keymap lists the global actions (help order).
func (g *GlobalKeys) Keymap() Keymap {
	return Keymap{g.Help, g.Filter, g.Command, g.Back, g.NextPane, g.Copy, g.Refresh, g.Quit, g.ForceQuit}
}

// KnownActionNames lists every action name screens have registered, for
// validating config files.
func KnownActionNames(maps ...Keymap) map[string]bool {
	out := map[string]bool{}
	for _, m := range maps {
		for _, a := range m {
			out[a.Name] = true
		}
	}
	return out
}
