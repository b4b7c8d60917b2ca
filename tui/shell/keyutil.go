package shell

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/tui/components/list"
)

func KeyMatches(msg tea.KeyPressMsg, a *Action) bool {
	return a != nil && key.Matches(msg, a.Binding)
}

// listKeymap exposes list movement keys as actions for help.
func ListKeymap(k list.KeyMap) Keymap {
	return Keymap{
		{Name: "list.up", Binding: k.Up}, {Name: "list.down", Binding: k.Down},
		{Name: "list.page-up", Binding: k.PageUp}, {Name: "list.page-down", Binding: k.PageDown},
		{Name: "list.top", Binding: k.Top}, {Name: "list.bottom", Binding: k.Bottom},
	}
}
