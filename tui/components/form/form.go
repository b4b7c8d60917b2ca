// Package form is a small prompt drawn at the bottom of a screen: text
// fields and choices, tab between fields, enter submits, esc cancels.
package form

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/themes"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// Model is a small prompt drawn at the bottom of a screen: text fields and
// choices (space or ←/→ cycles them), tab between fields, enter submits,
// esc cancels. Screens hold one while it is open and are Capturing then,
// so every key goes to it. Used for the savepoint, stop and resume
// actions.
type Model struct {
	title string
	hint  string // what enter does, e.g. "enter takes the savepoint"
	// Danger draws the prompt error-coloured (the action changes a job
	// or storage).
	Danger bool
	fields []*formField
	focus  int
}

type formField struct {
	label   string
	input   *textinput.Model // a text field, or
	options []string         // a choice
	choice  int
}

// New starts a form; what enter does is said by hint.
func New(title, hint string) *Model { return &Model{title: title, hint: hint} }

// Text adds a text field with an initial value.
func (f *Model) Text(label, value, placeholder string) *Model {
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = placeholder
	in.CharLimit = 4096
	st := textinput.DefaultStyles(true)
	st.Cursor.Blink = false
	in.SetStyles(st)
	in.SetValue(value)
	in.CursorEnd()
	f.fields = append(f.fields, &formField{label: label, input: &in})
	return f
}

// Choice adds a field cycling through options.
func (f *Model) Choice(label string, options ...string) *Model {
	f.fields = append(f.fields, &formField{label: label, options: options})
	return f
}

// FocusCmd focuses the current field (text fields show a cursor).
func (f *Model) FocusCmd() tea.Cmd {
	var cmd tea.Cmd
	for i, fl := range f.fields {
		if fl.input == nil {
			continue
		}
		if i == f.focus {
			cmd = fl.input.Focus()
		} else {
			fl.input.Blur()
		}
	}
	return cmd
}

// value is field i's text or chosen option.
func (f *Model) Value(i int) string {
	fl := f.fields[i]
	if fl.input != nil {
		return strings.TrimSpace(fl.input.Value())
	}
	return fl.options[fl.choice]
}

// Result says what a key did to the form.
type Result int

const (
	Editing Result = iota
	Submitted
	Cancelled
)

// Update takes a key or a paste.
func (f *Model) Update(msg tea.Msg) (Result, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		if fl := f.fields[f.focus]; fl.input != nil {
			return Editing, UpdateInput(fl.input, msg)
		}
	case tea.KeyPressMsg:
		fl := f.fields[f.focus]
		switch msg.String() {
		case "esc":
			return Cancelled, nil
		case "enter":
			return Submitted, nil
		case "tab", "down":
			f.focus = (f.focus + 1) % len(f.fields)
			return Editing, f.FocusCmd()
		case "shift+tab", "up":
			f.focus = (f.focus + len(f.fields) - 1) % len(f.fields)
			return Editing, f.FocusCmd()
		}
		if fl.options != nil {
			switch msg.String() {
			case "space", " ", "right", "l":
				fl.choice = (fl.choice + 1) % len(fl.options)
			case "left", "h":
				fl.choice = (fl.choice + len(fl.options) - 1) % len(fl.options)
			}
			return Editing, nil
		}
		return Editing, UpdateInput(fl.input, msg)
	}
	return Editing, nil
}

// UpdateInput passes msg (a key or a paste) to the text input in place.
func UpdateInput(in *textinput.Model, msg tea.Msg) tea.Cmd {
	m, cmd := in.Update(msg)
	*in = m
	return cmd
}

// Rows draws the form: a rule with the title, one line a field, the hint.
func (f *Model) Rows(th *themes.Theme, w int) []string {
	title := th.Title
	if f.Danger {
		title = th.Error
	}
	out := []string{th.Border.Render(text.Fit("── ", 3)) + title.Render(text.Fit(f.title+" ", max(w-3, 0)))}
	lw := 0
	for _, fl := range f.fields {
		lw = max(lw, text.Width(fl.label))
	}
	for i, fl := range f.fields {
		mark := "  "
		if i == f.focus {
			mark = th.Prompt.Render("› ")
		}
		label := th.Muted.Render(text.Fit(fl.label, lw) + " ")
		var val string
		if fl.input != nil {
			fl.input.SetWidth(max(w-lw-5, 10))
			val = fl.input.View()
		} else {
			parts := make([]string, len(fl.options))
			for j, o := range fl.options {
				if j == fl.choice {
					parts[j] = th.Selected.Render(" " + o + " ")
				} else {
					parts[j] = th.Muted.Render(" " + o + " ")
				}
			}
			val = strings.Join(parts, " ")
		}
		out = append(out, text.Clip(mark+label+val, w))
	}
	out = append(out, th.Muted.Render(text.Fit(" "+f.hint+" · tab next field · space/←→ change a choice · esc cancels", w)))
	return out
}

// OverlayBottom replaces the last len(rows) lines of a body of height h.
func OverlayBottom(view string, rows []string, h int) string {
	lines := strings.Split(view, "\n")
	for len(lines) < h {
		lines = append(lines, "")
	}
	lines = lines[:h]
	start := max(h-len(rows), 0)
	for i, r := range rows {
		if start+i < h {
			lines[start+i] = r
		}
	}
	return strings.Join(lines, "\n")
}

// ConfirmRows are a confirmation question wrapped to w (at most 4 lines,
// in the error style): what an operator confirms is never cut. Put them
// at the bottom with OverlayBottom.
func ConfirmRows(th *themes.Theme, q string, w int) []string {
	var out []string
	for _, l := range text.Wrap(strings.TrimSpace(q), max(w-2, 10), 4) {
		out = append(out, th.StatusError.Render(text.Fit(" "+l, w)))
	}
	return out
}
