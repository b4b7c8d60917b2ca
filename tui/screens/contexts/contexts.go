// Package contexts is the :ctx screen: the named targets of the config
// file (and this process's embedded engine), and switching the job
// screens to one — as k9s switches Kubernetes contexts.
package contexts

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Open lists the contexts (no arguments).
func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	if len(req.Args) != 0 {
		return nil, fmt.Errorf("ctx takes no arguments (pick a context from the list)")
	}
	if ctx.Targets == nil {
		return nil, fmt.Errorf("no contexts here (this TUI was started without the config's contexts)")
	}
	return New(ctx), nil
}

type keys struct{ Use, Browse *shell.Action }

func newKeys(ctx *shell.Context) keys {
	k := keys{
		Use:    shell.NewAction("ctx.use", "enter", "operate this target", "enter"),
		Browse: shell.NewAction("ctx.browse", "b", "browse its checkpoints", "b"),
	}
	ctx.ApplyKeys(shell.Keymap{k.Use, k.Browse})
	return k
}

// Keymap is the screen's actions, for the declaration.
func Keymap(ctx *shell.Context) shell.Keymap {
	k := newKeys(ctx)
	return shell.Keymap{k.Use, k.Browse}
}

// Screen lists the targets.
type Screen struct {
	ctx     *shell.Context
	id      int
	keys    keys
	list    list.Model
	w, h    int
	entries []shell.TargetEntry
	err     error
	loading bool
	filter  string
	task    shell.TaskID
}

// New makes the screen (no I/O until Init).
func New(ctx *shell.Context) *Screen {
	return &Screen{ctx: ctx, id: shell.NewScreenID(), keys: newKeys(ctx), list: list.New()}
}

func (s *Screen) Title() string    { return "contexts" }
func (s *Screen) Location() string { return "contexts" }
func (s *Screen) Keys() shell.Keymap {
	return append(shell.Keymap{s.keys.Use, s.keys.Browse}, shell.ListKeymap(s.list.Keys)...)
}
func (s *Screen) SetSize(w, h int) { s.w, s.h = w, h; s.list.SetHeight(max(h-2, 1)) }
func (s *Screen) Refresh() tea.Cmd { return s.Init() }

type listMsg struct {
	sid     int
	entries []shell.TargetEntry
	err     error
}

type connectedMsg struct {
	sid int
	sw  shell.SwitchTargetMsg
	err error
}

func (s *Screen) Init() tea.Cmd {
	s.loading = true
	sid, targets := s.id, s.ctx.Targets
	return func() tea.Msg {
		e, err := targets.List()
		return listMsg{sid: sid, entries: e, err: err}
	}
}

func (s *Screen) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case listMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.loading, s.err, s.entries = false, msg.err, msg.entries
		s.list.SetLen(len(s.entries))
		for i, e := range s.entries {
			if e.Current {
				s.list.Select(i)
			}
		}
		s.applyFilter()
	case connectedMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.ctx.Tasks.Done(s.task, msg.err)
		if msg.err != nil {
			return s, nil
		}
		sw := msg.sw
		return s, func() tea.Msg { return sw }
	case tea.KeyPressMsg:
		i, ok := s.list.Selected()
		switch {
		case key.Matches(msg, s.keys.Use.Binding) && ok:
			return s, s.connect(s.entries[i].Name)
		case key.Matches(msg, s.keys.Browse.Binding) && ok:
			if cp := s.ctx.Targets.Checkpoints(s.entries[i].Name); cp != "" {
				return s, shell.OpenScreen("browse", cp)
			}
			return s, shell.Toast("context "+s.entries[i].Name+" names no checkpoints directory", true)
		}
		s.list.Update(msg)
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

// connect reaches the target in a command (it reads certificate and
// password files, and the engine may be started).
func (s *Screen) connect(name string) tea.Cmd {
	id, _ := s.ctx.Tasks.Start("connecting to "+name, 0)
	s.task = id
	sid, targets := s.id, s.ctx.Targets
	return func() tea.Msg {
		c, header, inProc, err := targets.Connect(name)
		return connectedMsg{sid: sid, sw: shell.SwitchTargetMsg{Name: name, Cluster: c, Header: header, InProcess: inProc}, err: err}
	}
}

func (s *Screen) SetFilter(f string) { s.filter = strings.ToLower(f); s.applyFilter() }

func (s *Screen) applyFilter() {
	s.list.FilterText(s.filter, func(i int) string {
		e := s.entries[i]
		return strings.ToLower(e.Name + " " + e.Endpoint + " " + e.Storage)
	})
}

// Count is what the "/" filter shows of the rows.
func (s *Screen) Count() (shown, total int) { return s.list.Len(), s.list.Total() }

func (s *Screen) CopyText() string {
	if i, ok := s.list.Selected(); ok {
		return s.entries[i].Endpoint
	}
	return ""
}

func (s *Screen) View() string {
	th := s.ctx.Theme
	switch {
	case s.err != nil:
		return th.Error.Render(text.Fit(" ✗ "+text.Sanitize(s.err.Error()), s.w))
	case s.loading && s.entries == nil:
		return th.Muted.Render(" " + s.ctx.Spinner() + " reading the contexts …")
	case len(s.entries) == 0:
		return th.Muted.Render(text.Fit(" no contexts: define them under contexts: in the config file (README: Contexts)", s.w))
	}
	nameW := max(min(s.w/5, 20), 8)
	endW := max(min(s.w/3, 50), 12)
	secW := max(min(s.w/4, 36), 8)
	stoW := max(s.w-4-nameW-endW-secW-3, 6)
	out := []string{
		th.Muted.Render(text.Fit(" enter operates it · b browses its checkpoints · `ckpt context use` sets the default", s.w)),
		th.Column.Render(text.Fit("    "+text.Fit("NAME", nameW)+" "+text.Fit("ENDPOINT", endW)+" "+text.Fit("SECURITY", secW)+" "+"CHECKPOINTS", s.w)),
	}
	out = append(out, s.list.View(func(i int, sel bool) string {
		e := s.entries[i]
		mark := "  "
		if e.Current {
			mark = "● "
		}
		endpoint := e.Endpoint
		if endpoint == "" {
			endpoint = "in this process"
		}
		cells := mark + text.Fit(text.Sanitize(e.Name), nameW) + " " + text.FitLeft(text.Sanitize(endpoint), endW) + " " +
			text.Fit(text.Sanitize(e.Security), secW) + " " + text.FitLeft(text.Sanitize(e.Storage), stoW)
		if sel {
			return th.Selected.Render(text.Fit("> "+cells, s.w))
		}
		return "  " + text.Fit(cells, s.w-2)
	}))
	return strings.Join(out, "\n")
}
