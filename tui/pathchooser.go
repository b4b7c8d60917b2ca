package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/list"
)

// pathChooser is a list of known paths whose last row, "another path …",
// opens a one-field prompt for a typed one: what the snapshot picker and
// the job-spec picker share. Screens embed it and draw the rows
// themselves (list.View), with prompt overlaid when it is open.
type pathChooser struct {
	list   list.Model
	prompt *form.Model
	paths  []string
	ask    func() *form.Model // the prompt for a typed path
}

func newPathChooser(ask func() *form.Model) pathChooser {
	return pathChooser{list: list.New(), ask: ask}
}

// setPaths replaces the known paths (the typed-path row stays last).
func (c *pathChooser) setPaths(paths []string) {
	c.paths = paths
	c.list.SetLen(len(paths) + 1)
}

// update handles msg: keys move the cursor, enter picks a known path or
// opens the prompt, whose submission picks what was typed. chosen is ""
// until a path is picked.
func (c *pathChooser) update(msg tea.Msg) (chosen string, cmd tea.Cmd) {
	if c.prompt != nil {
		res, cmd := c.prompt.Update(msg)
		switch res {
		case form.Cancelled:
			c.prompt = nil
		case form.Submitted:
			p := c.prompt.Value(0)
			c.prompt = nil
			return p, nil
		}
		return "", cmd
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if c.list.Update(msg) {
			return "", nil
		}
		if k := msg.String(); k == "enter" || k == "l" || k == "right" {
			i, ok := c.list.Selected()
			if !ok {
				return "", nil
			}
			if i < len(c.paths) {
				return c.paths[i], nil
			}
			c.prompt = c.ask()
			return "", c.prompt.FocusCmd()
		}
	case tea.MouseWheelMsg:
		c.list.Update(msg)
	}
	return "", nil
}
