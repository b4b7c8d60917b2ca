package tui

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// form is a small prompt drawn at the bottom of a screen: text fields and
// choices (space or ←/→ cycles them), tab between fields, enter submits,
// esc cancels. Screens hold one while it is open and are Capturing then,
// so every key goes to it. Used for the savepoint, stop and resume
// actions.
type form struct {
	title  string
	hint   string // what enter does, e.g. "enter takes the savepoint"
	danger bool   // drawn as an error-coloured prompt
	fields []*formField
	focus  int
}

type formField struct {
	label   string
	input   *textinput.Model // a text field, or
	options []string         // a choice
	choice  int
}

func newForm(title, hint string) *form { return &form{title: title, hint: hint} }

// text adds a text field with an initial value.
func (f *form) text(label, value, placeholder string) *form {
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

// choice adds a field cycling through options.
func (f *form) choice(label string, options ...string) *form {
	f.fields = append(f.fields, &formField{label: label, options: options})
	return f
}

// focusCmd focuses the current field (text fields show a cursor).
func (f *form) focusCmd() tea.Cmd {
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
func (f *form) value(i int) string {
	fl := f.fields[i]
	if fl.input != nil {
		return strings.TrimSpace(fl.input.Value())
	}
	return fl.options[fl.choice]
}

// formResult says what a key did to the form.
type formResult int

const (
	formEditing formResult = iota
	formSubmitted
	formCancelled
)

func (f *form) update(msg tea.Msg) (formResult, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.PasteMsg:
		if fl := f.fields[f.focus]; fl.input != nil {
			return formEditing, updateInput(fl.input, msg)
		}
	case tea.KeyPressMsg:
		fl := f.fields[f.focus]
		switch msg.String() {
		case "esc":
			return formCancelled, nil
		case "enter":
			return formSubmitted, nil
		case "tab", "down":
			f.focus = (f.focus + 1) % len(f.fields)
			return formEditing, f.focusCmd()
		case "shift+tab", "up":
			f.focus = (f.focus + len(f.fields) - 1) % len(f.fields)
			return formEditing, f.focusCmd()
		}
		if fl.options != nil {
			switch msg.String() {
			case "space", " ", "right", "l":
				fl.choice = (fl.choice + 1) % len(fl.options)
			case "left", "h":
				fl.choice = (fl.choice + len(fl.options) - 1) % len(fl.options)
			}
			return formEditing, nil
		}
		return formEditing, updateInput(fl.input, msg)
	}
	return formEditing, nil
}

// updateInput passes msg (a key or a paste) to the text input in place.
func updateInput(in *textinput.Model, msg tea.Msg) tea.Cmd {
	m, cmd := in.Update(msg)
	*in = m
	return cmd
}

// rows draws the form: a rule with the title, one line a field, the hint.
func (f *form) rows(ctx *shell.Context, w int) []string {
	th := ctx.Theme
	title := th.Title
	if f.danger {
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

// overlayBottom replaces the last len(rows) lines of a body of height h.
func overlayBottom(view string, rows []string, h int) string {
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
