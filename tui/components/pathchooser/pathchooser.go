// Package pathchooser is a list of known paths whose last row, "another
// path …", opens a one-field prompt for a typed one.
package pathchooser

import (
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/list"
)

// Model is a list of known paths whose last row, "another path …",
// opens a one-field prompt for a typed one: what the snapshot picker and
// the job-spec picker share. Screens embed it and draw the rows
// themselves (list.View), with prompt overlaid when it is open.
type Model struct {
	List   list.Model
	Prompt *form.Model
	Paths  []string
	ask    func() *form.Model // the prompt for a typed path
}

// New builds a chooser; ask builds the prompt for a typed path.
func New(ask func() *form.Model) Model {
	return Model{List: list.New(), ask: ask}
}

// SetPaths replaces the known paths (the typed-path row stays last).
func (c *Model) SetPaths(paths []string) {
	c.Paths = paths
	c.List.SetLen(len(paths) + 1)
}

// Update handles msg: keys move the cursor, enter picks a known path or
// opens the prompt, whose submission picks what was typed. chosen is ""
// until a path is picked.
func (c *Model) Update(msg tea.Msg) (chosen string, cmd tea.Cmd) {
	if c.Prompt != nil {
		res, cmd := c.Prompt.Update(msg)
		switch res {
		case form.Cancelled:
			c.Prompt = nil
		case form.Submitted:
			p := c.Prompt.Value(0)
			c.Prompt = nil
			return p, nil
		}
		return "", cmd
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if c.List.Update(msg) {
			return "", nil
		}
		if k := msg.String(); k == "enter" || k == "l" || k == "right" {
			i, ok := c.List.Selected()
			if !ok {
				return "", nil
			}
			if i < len(c.Paths) {
				return c.Paths[i], nil
			}
			c.Prompt = c.ask()
			return "", c.Prompt.FocusCmd()
		}
	case tea.MouseWheelMsg:
		c.List.Update(msg)
	}
	return "", nil
}
