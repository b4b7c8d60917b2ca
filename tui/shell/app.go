package shell

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/themes"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// chrome is the rows the shell takes: header, breadcrumbs, status bar.
const chrome = 3

type inputMode int

const (
	modeNone inputMode = iota
	modeFilter
	modeCommand
)

type toast struct {
	text    string
	isErr   bool
	expires time.Time
}

type tickMsg struct{ gen int }

// App is the shell: the root bubbletea model.
type App struct {
	ctx      *Context
	stack    []Screen
	filters  []string // the filter text of each stacked screen
	mode     inputMode
	input    textinput.Model
	showHelp bool
	// helpOff is the help's scroll offset; helpMax its last frame's limit.
	helpOff, helpMax int
	toasts           []toast
	// themeChoice is what the config or :theme asked for; "auto" follows
	// the terminal background when it reports one.
	themeChoice themes.Choice
	ticking     bool
	tickGen     int
	quitting    bool
	// quit is where a quit that asks first stands (quit.go).
	quit     quitState
	quitJobs []cluster.JobSummary
	quitErr  error
	startErr error
	// cmdErr is the error the last ":" command left (cleared by the next).
	cmdErr error
	// complDir and complBefore are what path completion last listed.
	complDir, complBefore string
	// noTick turns the clock off (tests drive frames themselves).
	noTick bool
}

// NewApp builds the shell around a first screen. ctx must be complete
// (NewContext fills the defaults).
func NewApp(ctx *Context, first Screen, choice themes.Choice) *App {
	in := textinput.New()
	in.Prompt = ""
	in.CharLimit = 4096
	// A steady cursor: blinking costs a redraw twice a second over SSH.
	st := textinput.DefaultStyles(true)
	st.Cursor.Blink = false
	in.SetStyles(st)
	a := &App{ctx: ctx, input: in, themeChoice: choice}
	if first != nil {
		a.stack = []Screen{first}
		a.filters = []string{""}
	}
	return a
}

// StopClock turns the clock off: tests drive frames themselves.
func (a *App) StopClock() { a.noTick = true }

// Quitting reports whether the user asked to quit.
func (a *App) Quitting() bool { return a.quitting }

// Context is the shared screen context.
func (a *App) Context() *Context { return a.ctx }

// Top is the current screen (nil when none).
func (a *App) Top() Screen {
	if len(a.stack) == 0 {
		return nil
	}
	return a.stack[len(a.stack)-1]
}

// Depth is how many screens are stacked.
func (a *App) Depth() int { return len(a.stack) }

func (a *App) bodySize() (int, int) {
	return max(a.ctx.Width, 1), max(a.ctx.Height-chrome, 1)
}

// Init starts the first screen and asks the terminal for its background
// (for the "auto" theme).
func (a *App) Init() tea.Cmd {
	var cmds []tea.Cmd
	cmds = append(cmds, tea.RequestBackgroundColor)
	if s := a.Top(); s != nil {
		w, h := a.bodySize()
		s.SetSize(w, h)
		cmds = append(cmds, s.Init())
	}
	cmds = append(cmds, a.ensureTick())
	return tea.Batch(cmds...)
}

func (a *App) ensureTick() tea.Cmd {
	if a.ticking || a.noTick {
		return nil
	}
	a.ticking = true
	a.tickGen++
	gen := a.tickGen
	d := time.Second
	if a.ctx.Tasks.Busy() || len(a.toasts) > 0 {
		d = 100 * time.Millisecond
	}
	return tea.Tick(d, func(time.Time) tea.Msg { return tickMsg{gen} })
}

// Update is the shell's dispatch.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := a.update(msg)
	if a.quitting {
		return a, tea.Quit
	}
	if !a.ticking && !a.noTick && (a.ctx.Tasks.Busy() || len(a.toasts) > 0) {
		cmd = tea.Batch(cmd, a.ensureTick())
	}
	return a, cmd
}

func (a *App) update(msg tea.Msg) tea.Cmd {
	if cmd, ok := a.quitUpdate(msg); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.ctx.Width, a.ctx.Height = msg.Width, msg.Height
		w, h := a.bodySize()
		for _, s := range a.stack {
			s.SetSize(w, h)
		}
		a.input.SetWidth(max(w-3, 1))
		return nil
	case tea.BackgroundColorMsg:
		a.themeChoice.DarkBG = msg.IsDark()
		if n := strings.ToLower(a.themeChoice.Name); n == "" || n == themes.Auto {
			if th, err := themes.Pick(a.themeChoice); err == nil {
				a.ctx.Theme = th
			}
		}
		return nil
	case tickMsg:
		if msg.gen != a.tickGen {
			return nil
		}
		a.ticking = false
		a.ctx.Frame++
		now := a.ctx.Now()
		kept := a.toasts[:0]
		for _, t := range a.toasts {
			if now.Before(t.expires) {
				kept = append(kept, t)
			}
		}
		a.toasts = kept
		return a.ensureTick()
	case pushMsg:
		return a.push(msg.s)
	case SwitchTargetMsg:
		a.ctx.Cluster, a.ctx.TargetName, a.ctx.InProcess = msg.Cluster, msg.Header, msg.InProcess
		for len(a.stack) > 0 {
			a.closeTop()
		}
		s, err := a.ctx.Screens.OpenRequest(a.ctx, "jobs", Request{})
		if err != nil {
			a.ctx.Tasks.LastErr = err
			return nil
		}
		return tea.Batch(a.push(s), Toast("now operating "+msg.Header, false))
	case replaceMsg:
		if len(a.stack) > 0 {
			a.closeTop()
		}
		return a.push(msg.s)
	case popMsg:
		a.pop()
		return nil
	case openMsg:
		s, err := a.ctx.Screens.OpenRequest(a.ctx, msg.name, msg.req)
		if err != nil {
			a.ctx.Tasks.LastErr = err
			return nil
		}
		if msg.replace && len(a.stack) > 0 {
			a.closeTop()
		}
		return a.push(s)
	case ToastMsg:
		a.toasts = append(a.toasts, toast{text: msg.Text, isErr: msg.Error, expires: a.ctx.Now().Add(4 * time.Second)})
		return nil
	case TaskDoneMsg:
		a.ctx.Tasks.Done(msg.Task, msg.Err)
		if msg.Savepoint != "" { // also a failed stop's savepoint, which is complete
			a.ctx.TookSavepoint(msg.JobID, msg.Savepoint)
		}
		if msg.Err == nil && msg.Toast != "" {
			a.toasts = append(a.toasts, toast{text: msg.Toast, expires: a.ctx.Now().Add(4 * time.Second)})
		}
		// Screens may want to know too (a job screen refreshes at once).
		return a.broadcast(msg)
	case tea.KeyPressMsg:
		return a.key(msg)
	case completionMsg:
		a.onCompletion(msg)
		return nil
	case tea.PasteMsg:
		if a.mode != modeNone {
			var cmd tea.Cmd
			a.input, cmd = a.input.Update(msg)
			return tea.Batch(cmd, a.afterInput())
		}
	}
	// Results of commands go to every screen in the stack: the screen that
	// started a listing may no longer be on top when it finishes.
	return a.broadcast(msg)
}

func (a *App) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for i, s := range a.stack {
		ns, cmd := s.Update(msg)
		a.stack[i] = ns
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (a *App) push(s Screen) tea.Cmd {
	w, h := a.bodySize()
	s.SetSize(w, h)
	a.stack = append(a.stack, s)
	a.filters = append(a.filters, "")
	a.showHelp = false
	return s.Init()
}

func (a *App) closeTop() {
	top := a.Top()
	if c, ok := top.(Closer); ok {
		c.Close()
	}
	a.stack = a.stack[:len(a.stack)-1]
	a.filters = a.filters[:len(a.filters)-1]
}

func (a *App) pop() {
	if len(a.stack) <= 1 {
		return
	}
	a.closeTop()
}

func (a *App) key(msg tea.KeyPressMsg) tea.Cmd {
	g := a.ctx.Global
	if a.quit == quitAsking || a.quit == quitStopping {
		return a.quitKey(msg)
	}
	if key.Matches(msg, g.ForceQuit.Binding) {
		return a.askQuit()
	}
	if a.mode != modeNone {
		return a.inputKey(msg)
	}
	if a.showHelp {
		if a.helpKey(msg) {
			return a.askQuit()
		}
		return nil
	}
	top := a.Top()
	if c, ok := top.(Capturer); ok && c.Capturing() {
		ns, cmd := top.Update(msg)
		a.stack[len(a.stack)-1] = ns
		return cmd
	}
	switch {
	case key.Matches(msg, g.Quit.Binding):
		return a.askQuit()
	case key.Matches(msg, g.Help.Binding):
		a.showHelp = true
		return nil
	case key.Matches(msg, g.Filter.Binding):
		if _, ok := top.(Filterable); ok {
			a.mode = modeFilter
			a.input.SetValue(a.filters[len(a.filters)-1])
			a.input.CursorEnd()
			return a.input.Focus()
		}
		return nil
	case key.Matches(msg, g.Command.Binding):
		a.mode = modeCommand
		a.complDir, a.complBefore = "\x00", ""
		a.input.SetValue("")
		a.input.SetSuggestions(a.commandSuggestions())
		a.input.ShowSuggestions = true
		return a.input.Focus()
	case key.Matches(msg, g.Back.Binding):
		if i := len(a.filters) - 1; i >= 0 && a.filters[i] != "" {
			return a.applyFilter("")
		}
		if a.ctx.Tasks.LastErr != nil {
			a.ctx.Tasks.LastErr = nil
			return nil
		}
		a.pop()
		return nil
	case key.Matches(msg, g.Copy.Binding):
		if c, ok := top.(Copier); ok {
			if t := c.CopyText(); t != "" {
				return tea.Batch(tea.SetClipboard(t), Toast("copied "+text.Sanitize(t), false))
			}
		}
		return nil
	case key.Matches(msg, g.Refresh.Binding):
		if r, ok := top.(Refresher); ok {
			return r.Refresh()
		}
		return nil
	}
	if top == nil {
		return nil
	}
	if a.ctx.Readonly {
		if act := removedAction(msg, top.Keys()); act != nil {
			return Toast(ReadonlyError(strings.TrimSuffix(act.Binding.Help().Desc, " (!)")).Error(), true)
		}
	}
	ns, cmd := top.Update(msg)
	a.stack[len(a.stack)-1] = ns
	return cmd
}

// removedAction is the dangerous action read-only mode took msg's key
// from, if any: pressing it says so instead of doing nothing.
func removedAction(msg tea.KeyPressMsg, km Keymap) *Action {
	k := msg.String()
	for _, act := range km {
		if key.Matches(msg, act.Binding) {
			return nil // the key still does something else here
		}
	}
	for _, act := range km {
		if !act.Dangerous || act.Binding.Enabled() {
			continue
		}
		for _, b := range act.Binding.Keys() {
			if b == k {
				return act
			}
		}
	}
	return nil
}

func (a *App) commandSuggestions() []string {
	out := []string{"quit", "help"}
	for _, n := range themes.Names() {
		out = append(out, "theme "+n)
	}
	for _, n := range a.ctx.Screens.Available(a.ctx.Readonly) {
		out = append(out, n+" ")
	}
	for _, b := range a.ctx.Config.Paths.Bookmarks {
		out = append(out, "browse "+b)
	}
	return out
}

func (a *App) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		var cmd tea.Cmd
		if a.mode == modeFilter {
			cmd = a.applyFilter("")
		}
		a.mode = modeNone
		a.input.Blur()
		return cmd
	case "enter":
		mode := a.mode
		a.mode = modeNone
		a.input.Blur()
		if mode == modeCommand {
			return a.runCommand(a.input.Value())
		}
		return nil
	}
	var cmd tea.Cmd
	a.input, cmd = a.input.Update(msg)
	return tea.Batch(cmd, a.afterInput())
}

// afterInput applies the filter as the user types, and completes paths
// on the command line.
func (a *App) afterInput() tea.Cmd {
	switch a.mode {
	case modeFilter:
		return a.applyFilter(a.input.Value())
	case modeCommand:
		return a.complete()
	}
	return nil
}

func (a *App) applyFilter(s string) tea.Cmd {
	if len(a.stack) == 0 {
		return nil
	}
	a.filters[len(a.filters)-1] = s
	if f, ok := a.Top().(Filterable); ok {
		f.SetFilter(s)
	}
	if l, ok := a.Top().(FilterLoader); ok {
		return l.FilterCmd()
	}
	return nil
}

// runCommand executes a ":" command line.
func (a *App) runCommand(line string) tea.Cmd {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	name, args := fields[0], fields[1:]
	// A new command supersedes the error of the last one (a mistyped
	// :theme), not the errors of work that still stands.
	if a.cmdErr != nil && a.ctx.Tasks.LastErr == a.cmdErr {
		a.ctx.Tasks.LastErr = nil
	}
	before := a.ctx.Tasks.LastErr
	defer func() {
		if a.cmdErr = nil; a.ctx.Tasks.LastErr != before {
			a.cmdErr = a.ctx.Tasks.LastErr
		}
	}()
	switch name {
	case "q", "quit", "exit":
		return a.askQuit()
	case "q!":
		// As in vi: quit without asking (jobs of this process end).
		a.quitting = true
		return nil
	case "help", "h":
		a.showHelp = true
		return nil
	case "theme":
		if len(args) != 1 {
			a.ctx.Tasks.LastErr = fmt.Errorf(":theme needs one name: %s", strings.Join(themes.Names(), ", "))
			return nil
		}
		ch := a.themeChoice
		ch.Name = args[0]
		th, err := themes.Pick(ch)
		if err != nil {
			a.ctx.Tasks.LastErr = err
			return nil
		}
		a.themeChoice, a.ctx.Theme = ch, th
		return Toast("theme "+th.Name, false)
	}
	s, err := a.ctx.Screens.Open(a.ctx, name, args)
	if err != nil {
		a.ctx.Tasks.LastErr = fmt.Errorf(":%s: %w", name, err)
		return nil
	}
	// A ":" command goes somewhere new, as in k9s: it replaces every
	// screen above the first, so esc returns home at once instead of
	// retracing a tour.
	for len(a.stack) > 1 {
		a.closeTop()
	}
	return a.push(s)
}

// View draws the shell around the top screen.
func (a *App) View() tea.View {
	v := tea.NewView(a.Render())
	v.AltScreen = true
	if a.ctx.Config.Mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "ckpt"
	if top := a.Top(); top != nil {
		v.WindowTitle = "ckpt " + text.Sanitize(top.Location())
	}
	return v
}

// Render is the frame as a string (View without terminal modes); golden
// tests compare it.
func (a *App) Render() string {
	if a.ctx.Width <= 0 || a.ctx.Height <= 0 {
		return ""
	}
	w, h := a.bodySize()
	th := a.ctx.Theme
	lines := make([]string, 0, a.ctx.Height)
	lines = append(lines, a.header(w), a.crumbs(w))

	// A long error takes more status rows (wrapped, never cut): the body
	// gives them up while the error stands.
	status := a.statusBar(w, max(h/3, 1))
	h = max(h-(len(status)-1), 1)

	var body []string
	if top := a.Top(); top != nil {
		body = strings.Split(top.View(), "\n")
	}
	if len(body) > h {
		body = body[:h]
	}
	for len(body) < h {
		body = append(body, "")
	}
	if a.showHelp {
		body = a.overlay(body, a.helpView(w, h), w)
	}
	if a.quit == quitAsking || a.quit == quitStopping {
		body = a.overlay(body, a.quitView(w), w)
	}
	if n := len(a.toasts); n > 0 {
		// The newest toast, bottom right, wrapped to three rows at most.
		t := a.toasts[n-1]
		st := th.Toast
		if t.isErr {
			st = th.ToastError
		}
		msg := text.Sanitize(t.text)
		tl := text.Wrap(msg, max(min(text.Width(msg), w-4), 1), min(3, h))
		tw := 0
		for _, l := range tl {
			tw = max(tw, text.Width(l))
		}
		for i, l := range tl {
			r := h - len(tl) + i
			cell := st.Render(" " + text.Fit(l, tw) + " ")
			body[r] = text.Fit(body[r], max(w-tw-2, 0)) + cell
		}
	}
	for _, l := range body {
		lines = append(lines, text.Fit(l, w))
	}
	lines = append(lines, status...)
	return strings.Join(lines, "\n")
}

func (a *App) header(w int) string {
	th := a.ctx.Theme
	left := " ckpt "
	loc := ""
	if top := a.Top(); top != nil {
		loc = text.Sanitize(top.Location())
	}
	right := ""
	if _, ok := a.Top().(Targeted); ok && a.ctx.TargetName != "" {
		// The target the job screens and their actions talk to (storage
		// screens leave the room to their long paths).
		right = " ⎈ " + text.Sanitize(a.ctx.TargetName) + " "
	}
	if a.ctx.Readonly {
		right += " READONLY "
	}
	room := w - text.Width(left) - text.Width(right) - 3
	s := left + "│ " + text.FitLeft(loc, max(room, 0)) + " " + right
	return th.Header.Render(text.Fit(s, w))
}

func (a *App) crumbs(w int) string {
	th := a.ctx.Theme
	sep := th.CrumbSep.Render(" › ")
	parts := make([]string, len(a.stack))
	for i, s := range a.stack {
		t := text.Sanitize(s.Title())
		if i == len(a.stack)-1 {
			parts[i] = th.CrumbLast.Render(t)
		} else {
			parts[i] = th.Crumb.Render(t)
		}
	}
	line := " " + strings.Join(parts, sep)
	// Keep the newest crumbs visible when the trail is long.
	if text.Width(line) > w {
		return text.FitLeft(line, w)
	}
	return text.Fit(line, w)
}

// statusBar is the bottom rows: the prompt while typing, else what runs,
// the standing error (wrapped over up to maxRows rows) or the screen's
// summary, with the hint on the right.
func (a *App) statusBar(w, maxRows int) []string {
	th := a.ctx.Theme
	switch a.mode {
	case modeFilter, modeCommand:
		p := "/"
		if a.mode == modeCommand {
			p = ":"
		}
		return []string{th.Prompt.Render(p) + text.Clip(a.input.View(), w-1)}
	}
	hint := " ?:help  :cmd  q:quit "
	room := w - text.Width(hint)
	if room < 10 {
		room, hint = w, ""
	}
	var left string
	st := th.Status
	switch {
	case a.ctx.Tasks.Busy():
		left = " " + a.ctx.Spinner() + " " + text.Sanitize(a.ctx.Tasks.Describe())
		st = th.StatusBusy
	case a.ctx.Tasks.LastErr != nil:
		msg := " ✗ " + strings.Join(strings.Fields(text.Sanitize(a.ctx.Tasks.LastErr.Error())), " ") + " (esc clears)"
		rows := text.Wrap(msg, room, maxRows)
		out := make([]string, len(rows))
		for i, r := range rows {
			if i == 0 && hint != "" {
				out[i] = th.StatusError.Render(text.Fit(r, room)) + th.Status.Render(hint)
				continue
			}
			out[i] = th.StatusError.Render(text.Fit(r, w))
		}
		return out
	default:
		if s, ok := a.Top().(Statuser); ok {
			left = " " + s.Status()
		}
		if f := a.filters; len(f) > 0 && f[len(f)-1] != "" {
			left += "  filter: " + text.Sanitize(f[len(f)-1])
			if c, ok := a.Top().(Counter); ok {
				shown, total := c.Count()
				left += fmt.Sprintf(" (%d of %d)", shown, total)
			}
		}
	}
	if hint == "" {
		return []string{st.Render(text.Fit(left, w))}
	}
	return []string{st.Render(text.Fit(left, room)) + th.Status.Render(hint)}
}

func FirstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// overlay draws box centred over body lines.
func (a *App) overlay(body []string, box string, w int) []string {
	bl := strings.Split(box, "\n")
	bw := 0
	for _, l := range bl {
		bw = max(bw, text.Width(l))
	}
	bw = min(bw, w)
	top := max((len(body)-len(bl))/2, 0)
	left := max((w-bw)/2, 0)
	out := append([]string(nil), body...)
	for i, l := range bl {
		r := top + i
		if r >= len(out) {
			break
		}
		out[r] = strings.Repeat(" ", left) + text.Fit(l, bw)
	}
	return out
}

// StartErr is an error met before the UI could start (shown by Run).
func (a *App) StartErr() error { return a.startErr }

var errQuit = errors.New("quit")
