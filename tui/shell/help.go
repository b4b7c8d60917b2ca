package shell

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// The "?" help: every key of the shell and of the screen on top, then the
// ":" commands, in a box that always fits the body — as many columns as
// the width holds, long descriptions wrapped, and scrolled with j/k when
// it is taller than the terminal, so no key is ever cut off at 80×24.

// helpSection is a titled list of keys.
type helpSection struct {
	title string
	keys  []key.Binding
}

// helpSections are what help lists, in order.
func (a *App) helpSections() []helpSection {
	out := []helpSection{{"global", a.ctx.Global.Keymap().Bindings()}}
	if top := a.Top(); top != nil {
		if ks := top.Keys().Bindings(); len(ks) > 0 {
			out = append(out, helpSection{text.Sanitize(top.Title()), ks})
		}
	}
	return out
}

// helpLines lays the help out for an inner width w (inside the box),
// unstyled widths but styled text.
func (a *App) helpLines(w int) []string {
	th := a.ctx.Theme
	var lines []string
	for i, sec := range a.helpSections() {
		if i > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, th.Title.Render(sec.title))
		lines = append(lines, a.keyColumns(sec.keys, w)...)
	}
	lines = append(lines, "")
	for _, l := range text.Wrap("Commands: "+a.commandHelp(), w, 100) {
		lines = append(lines, th.Muted.Render(l))
	}
	return lines
}

// keyColumns flows bindings into as many columns as fit w: entries go down
// the first column, then the next. A description too long for one column
// wraps under itself.
func (a *App) keyColumns(keys []key.Binding, w int) []string {
	th := a.ctx.Theme
	kw, dw := 0, 0
	for _, b := range keys {
		kw = max(kw, text.Width(b.Help().Key))
		dw = max(dw, text.Width(b.Help().Desc))
	}
	const gap = 3
	colW := kw + 2 + dw
	ncol := max(1, (w+gap)/(colW+gap))
	if ncol == 1 {
		colW = w
	}
	descW := max(colW-kw-2, 8)
	// Each entry's rows (a wrapped description takes more than one).
	entries := make([][]string, len(keys))
	for i, b := range keys {
		h := b.Help()
		desc := text.Wrap(h.Desc, descW, 100)
		for j, d := range desc {
			k := strings.Repeat(" ", kw)
			if j == 0 {
				k = text.Fit(h.Key, kw)
			}
			entries[i] = append(entries[i], th.HelpKey.Render(k)+"  "+th.HelpDesc.Render(text.Fit(d, descW)))
		}
	}
	per := (len(entries) + ncol - 1) / ncol
	var cols [][]string
	for c := 0; c < ncol; c++ {
		var col []string
		for i := c * per; i < min((c+1)*per, len(entries)); i++ {
			col = append(col, entries[i]...)
		}
		cols = append(cols, col)
	}
	rows := 0
	for _, c := range cols {
		rows = max(rows, len(c))
	}
	out := make([]string, rows)
	for r := range out {
		var b strings.Builder
		for c, col := range cols {
			if c > 0 {
				b.WriteString(strings.Repeat(" ", gap))
			}
			cell := ""
			if r < len(col) {
				cell = col[r]
			}
			b.WriteString(text.Fit(cell, min(colW, w)))
		}
		out[r] = b.String()
	}
	return out
}

// helpView is the help box for a body of w×h: the lines that fit, from
// the scroll offset, with a title saying where it is.
func (a *App) helpView(w, h int) string {
	th := a.ctx.Theme
	frameW := th.Overlay.GetHorizontalFrameSize()
	frameH := th.Overlay.GetVerticalFrameSize()
	inner := max(min(w-frameW, 100), 10)
	lines := a.helpLines(inner)
	room := max(h-frameH-1, 1) // the title takes a row
	maxOff := max(len(lines)-room, 0)
	a.helpOff = min(max(a.helpOff, 0), maxOff)
	a.helpMax = maxOff
	title := th.Title.Render("Keys")
	note := "(!) changes storage or jobs"
	if a.ctx.Readonly {
		note = "read-only: mutating actions removed"
	}
	if maxOff > 0 {
		note += fmt.Sprintf(" · %d–%d of %d · j/k scroll", a.helpOff+1, min(a.helpOff+room, len(lines)), len(lines))
	}
	title += "  " + th.Muted.Render(text.Fit(note, max(inner-6, 1)))
	shown := lines[a.helpOff:min(a.helpOff+room, len(lines))]
	width := 0
	for _, l := range shown {
		width = max(width, text.Width(l))
	}
	body := make([]string, 0, len(shown)+1)
	body = append(body, text.Fit(title, max(width, text.Width(title))))
	for _, l := range shown {
		body = append(body, text.Fit(l, max(width, text.Width(title))))
	}
	return th.Overlay.Render(strings.Join(body, "\n"))
}

// helpKey handles a key while help is open: scrolling keys scroll, any
// other key closes it; quit says it was q (quit as everywhere else).
func (a *App) helpKey(msg tea.KeyPressMsg) (quit bool) {
	switch msg.String() {
	case "j", "down":
		a.helpOff = min(a.helpOff+1, a.helpMax)
		return false
	case "k", "up":
		a.helpOff = max(a.helpOff-1, 0)
		return false
	case "pgdown", "space", " ", "ctrl+d":
		a.helpOff = a.helpMax
		return false
	case "pgup", "ctrl+u", "g", "home":
		a.helpOff = 0
		return false
	}
	a.showHelp = false
	a.helpOff = 0
	return key.Matches(msg, a.ctx.Global.Quit.Binding)
}

func (a *App) commandHelp() string {
	parts := []string{":q"}
	for _, d := range a.ctx.Screens.Commands() {
		if a.ctx.Readonly && d.Mutating {
			continue
		}
		parts = append(parts, ":"+d.Usage)
	}
	parts = append(parts, ":theme NAME")
	return strings.Join(parts, "  ")
}
