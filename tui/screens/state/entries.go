package state

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	fstate "github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Entries is the second level: one state's entries, a page at a time.
// Only the page on screen is in memory; starts[i] is where page i begins,
// so scrolling back re-reads a page from its key group instead of keeping
// it. A key lookup opens another Entries holding just that key's entries.
type Entries struct {
	ctx   *shell.Context
	id    int
	src   source
	row   *stateRow
	where string // the snapshot, for Location

	rows   []entryRow
	page   int   // index of the page shown
	starts []pos // starts[i]: where page i begins (known up to page+1)
	more   bool  // a page follows the one shown

	lookupKey string // set: the entries of this key only
	lookupKG  int
	lookupCut bool // more than lookupMax entries

	filter  string
	gen     int // bumped when the filter changes: older pages are stale
	loading bool
	landAt  int // where the cursor goes when the page arrives: 0 first, -1 last
	err     error
	task    shell.TaskID
	list    list.Model
	keys    entryKeys
	details bool
	prompt  *textinput.Model
	w, h    int
}

type entryKeys struct{ Value, Lookup *shell.Action }

func (k entryKeys) keymap() shell.Keymap { return shell.Keymap{k.Value, k.Lookup} }

func newEntryKeys(ctx *shell.Context) entryKeys {
	k := entryKeys{
		Value:  shell.NewAction("state-entries.value", "enter", "whole key and value (y copies the value)", "enter"),
		Lookup: shell.NewAction("state-entries.lookup", "f", "find a key: reads only the key group Flink puts it in", "f"),
	}
	ctx.ApplyKeys(k.keymap())
	return k
}

// EntriesKeymap is the second level's actions, for the declaration.
func EntriesKeymap(ctx *shell.Context) shell.Keymap { return newEntryKeys(ctx).keymap() }

func newEntries(ctx *shell.Context, parent *Screen, r *stateRow) *Entries {
	src := source{fsys: ctx.FS, m: parent.meta, op: r.op.op, name: r.meta.Name, keyed: r.keyed, proxy: r.op.schema.Keyed, format: r.op.schema.KeyedFormat}
	return entriesOf(ctx, src, r, parent.Location())
}

func entriesOf(ctx *shell.Context, src source, r *stateRow, where string) *Entries {
	return &Entries{ctx: ctx, id: shell.NewScreenID(), src: src, row: r, where: where,
		starts: []pos{{}}, list: list.New(), keys: newEntryKeys(ctx)}
}

func (s *Entries) Title() string {
	if s.lookupKey != "" {
		return "key " + text.Sanitize(s.lookupKey)
	}
	return text.Sanitize(s.src.name)
}

func (s *Entries) Location() string {
	return s.where + " › " + s.row.op.schema.ID + " › " + s.src.name
}

func (s *Entries) Keys() shell.Keymap {
	return append(s.keys.keymap(), shell.ListKeymap(s.list.Keys)...)
}

func (s *Entries) SetSize(w, h int) {
	s.w, s.h = w, h
	chrome := 3
	if s.details {
		chrome += valueRows
	}
	s.list.SetHeight(max(h-chrome, 1))
}

// valueRows is the height of the pane showing a whole entry.
const valueRows = 8

func (s *Entries) Close()              { s.ctx.Tasks.Cancel(s.task) }
func (s *Entries) Capturing() bool     { return s.prompt != nil }
func (s *Entries) Refresh() tea.Cmd    { return s.reload() }
func (s *Entries) Init() tea.Cmd       { return s.load(0, 0) }
func (s *Entries) FilterCmd() tea.Cmd  { return s.reload() }
func (s *Entries) SetFilter(f string)  { s.filter = f }
func (s *Entries) selected() *entryRow { return s.at(s.list.Selected()) }

func (s *Entries) at(i int, ok bool) *entryRow {
	if !ok || i >= len(s.rows) {
		return nil
	}
	return &s.rows[i]
}

// CopyText is the selected entry's value, as shown (state.Compact).
func (s *Entries) CopyText() string {
	if r := s.selected(); r != nil {
		return r.value
	}
	return ""
}

// reload starts over from the first page (a new filter, ctrl+r).
func (s *Entries) reload() tea.Cmd {
	s.gen++
	s.starts, s.page, s.more = []pos{{}}, 0, false
	s.loading = false
	return s.load(0, 0)
}

type pageMsg struct {
	sid, gen, page int
	task           shell.TaskID
	rows           []entryRow
	next           *pos
	kg             int
	cut            bool
	err            error
}

// load reads page i (its start is known) in a command; landAt puts the
// cursor on its first (0) or last (-1) row.
func (s *Entries) load(i, landAt int) tea.Cmd {
	if s.loading || i >= len(s.starts) {
		return nil
	}
	s.loading, s.landAt, s.err = true, landAt, nil
	s.ctx.Tasks.Cancel(s.task)
	what := fmt.Sprintf("reading %s, page %d", s.src.name, i+1)
	if s.lookupKey != "" {
		what = "looking up key " + s.lookupKey
	}
	id, tctx := s.ctx.Tasks.Start(what, 0)
	s.task = id
	src, start, filter, sid, gen, timeout, lk := s.src, s.starts[i], s.filter, s.id, s.gen, s.ctx.Timeout, s.lookupKey
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		msg := pageMsg{sid: sid, gen: gen, page: i, task: id}
		if lk != "" {
			msg.rows, msg.kg, msg.cut, msg.err = src.lookup(cctx, lk, filter)
			return msg
		}
		msg.rows, msg.next, msg.err = src.page(cctx, start, filter, pageSize)
		return msg
	}
}

func (s *Entries) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case pageMsg:
		if msg.sid != s.id || msg.task != s.task {
			return s, nil
		}
		s.loading = false
		s.ctx.Tasks.Done(msg.task, nil)
		if msg.gen != s.gen {
			return s, nil
		}
		if msg.err != nil {
			// The reader's message names the file and the offset.
			s.err = msg.err
			if msg.page == s.page {
				s.rows = nil
				s.list.SetLen(0)
			}
			s.SetSize(s.w, s.h)
			return s, nil
		}
		s.rows, s.page = msg.rows, msg.page
		s.lookupKG, s.lookupCut = msg.kg, msg.cut
		s.starts = s.starts[:msg.page+1]
		s.more = msg.next != nil
		if s.more {
			s.starts = append(s.starts, *msg.next)
		}
		s.list.SetFilter(nil)
		s.list.SetLen(len(s.rows))
		if s.landAt < 0 {
			s.list.Select(len(s.rows) - 1)
		} else {
			s.list.Select(0)
		}
		return s, nil
	case tea.KeyPressMsg:
		return s, s.key(msg)
	case tea.PasteMsg:
		if s.prompt != nil {
			return s, form.UpdateInput(s.prompt, msg)
		}
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *Entries) key(msg tea.KeyPressMsg) tea.Cmd {
	if s.prompt != nil {
		switch msg.String() {
		case "esc":
			s.prompt = nil
			return nil
		case "enter":
			v := strings.TrimSpace(s.prompt.Value())
			s.prompt = nil
			if v == "" {
				return nil
			}
			l := entriesOf(s.ctx, s.src, s.row, s.where)
			l.lookupKey = v
			return shell.Push(l)
		}
		return form.UpdateInput(s.prompt, msg)
	}
	// Movement past either end of the page turns the page.
	cur := s.list.Cursor()
	lk := s.list.Keys
	if s.list.Update(msg) {
		if s.list.Cursor() != cur || s.loading || s.lookupKey != "" {
			return nil
		}
		switch {
		case key.Matches(msg, lk.Down, lk.PageDown, lk.HalfDown) && s.more:
			return s.load(s.page+1, 0)
		case key.Matches(msg, lk.Up, lk.PageUp, lk.HalfUp) && s.page > 0:
			return s.load(s.page-1, -1)
		case key.Matches(msg, lk.Top) && s.page > 0:
			return s.load(0, 0)
		}
		return nil
	}
	switch {
	case shell.KeyMatches(msg, s.ctx.Global.NextPane), shell.KeyMatches(msg, s.keys.Value):
		s.details = !s.details
		s.SetSize(s.w, s.h)
	case shell.KeyMatches(msg, s.keys.Lookup):
		if !s.src.keyed {
			return shell.Toast("operator state has no keys: / filters its elements", true)
		}
		in := textinput.New()
		in.Prompt = "key: "
		in.Placeholder = "a " + typeName(s.src.proxy.Key) + " (Tuple fields separated by ',')"
		st := textinput.DefaultStyles(true)
		st.Cursor.Blink = false
		in.SetStyles(st)
		in.SetWidth(max(s.w-8, 10))
		s.prompt = &in
		return in.Focus()
	}
	return nil
}

func (s *Entries) Status() string {
	if s.err != nil {
		return "read failed"
	}
	if s.lookupKey != "" {
		return text.Plural(len(s.rows), "entry", "entries") + " of key " + text.Sanitize(s.lookupKey)
	}
	return fmt.Sprintf("page %d · %s", s.page+1, text.Plural(len(s.rows), "entry", "entries"))
}

// hasNamespace: the namespace column is worth its room (windows, not
// VoidNamespace).
func (s *Entries) hasNamespace() bool {
	if !s.src.keyed {
		return false
	}
	ns := s.row.meta.Serializers[fstate.RoleNamespace]
	if v := s.row.meta.Serializers[fstate.RoleValue]; s.row.meta.Type == fstate.PriorityQueue && v != nil {
		ns = v.Namespace // a timer's namespace is in its serializer
	}
	return ns != nil && ns.Kind != fstate.KindVoidNamespace
}

func (s *Entries) columns() []table.Col {
	var cols []table.Col
	if s.src.keyed {
		cols = append(cols, table.Col{Title: "KG", Width: 5, Right: true}, table.Col{Title: "KEY", Flex: true})
		if s.hasNamespace() {
			cols = append(cols, table.Col{Title: "NAMESPACE", Flex: true})
		}
	} else {
		cols = append(cols, table.Col{Title: "SUBTASK", Width: 7, Right: true})
	}
	cols = append(cols, table.Col{Title: "VALUE", Flex: true})
	return table.Layout(cols, s.w)
}

func (s *Entries) cells(r *entryRow, cols []table.Col) string {
	var vals []string
	if s.src.keyed {
		vals = append(vals, fmt.Sprint(r.kg), text.Sanitize(r.key))
		if s.hasNamespace() {
			vals = append(vals, text.Sanitize(r.ns))
		}
		return table.Cells(cols, append(vals, text.Sanitize(r.value))...)
	}
	vals = append(vals, fmt.Sprint(r.subtask), text.Sanitize(r.value))
	return table.Cells(cols, vals...)
}

func (s *Entries) View() string {
	th := s.ctx.Theme
	m := s.row.meta
	l1 := fmt.Sprintf(" %s · %s · value %s", m.Name, m.Kind(), typeName(m.Serializers[fstate.RoleValue]))
	if s.src.keyed {
		l1 = fmt.Sprintf(" %s · %s · key %s → %s", m.Name, m.Kind(), typeName(s.src.proxy.Key), typeName(m.Serializers[fstate.RoleValue]))
	}
	var l2 string
	switch {
	case s.lookupKey != "" && s.lookupKG >= 0 && !s.loading:
		l2 = fmt.Sprintf(" key %s → key group %d of %d (only it was read) · %s", s.lookupKey, s.lookupKG, s.src.op.MaxParallelism, text.Plural(len(s.rows), "entry", "entries"))
		if s.lookupCut {
			l2 += fmt.Sprintf(" (first %d)", lookupMax)
		}
	case s.lookupKey != "" && s.err != nil:
		l2 = " key " + s.lookupKey + ": the lookup failed"
	case s.lookupKey != "":
		l2 = " looking up key " + s.lookupKey + " …"
	default:
		first := s.page*pageSize + 1
		if len(s.rows) == 0 && s.err != nil {
			l2 = fmt.Sprintf(" page %d: the read failed", s.page+1)
		} else if len(s.rows) == 0 {
			l2 = fmt.Sprintf(" page %d: no entries", s.page+1)
		} else {
			l2 = fmt.Sprintf(" entries %s–%s", text.Count(first), text.Count(first+len(s.rows)-1))
			if s.filter != "" {
				l2 = fmt.Sprintf(" matches %s–%s", text.Count(first), text.Count(first+len(s.rows)-1))
			}
			if s.src.keyed {
				l2 += fmt.Sprintf(" · key groups %d–%d of %d", s.rows[0].kg, s.rows[len(s.rows)-1].kg, s.src.op.MaxParallelism)
			}
		}
		if s.more {
			l2 += " · more follow (↓)"
		} else if len(s.rows) > 0 {
			l2 += " · end"
		}
	}
	if s.filter != "" {
		l2 += " · filter " + fmt.Sprintf("%q", s.filter)
	}
	if s.loading {
		l2 = " " + s.ctx.Spinner() + strings.TrimPrefix(l2, " ") + " · reading …"
		l2 = " " + strings.TrimSpace(l2)
	}
	cols := s.columns()
	heads := table.Headings(cols)
	out := []string{th.Title.Render(text.Fit(text.Sanitize(l1), s.w)), th.Muted.Render(text.Fit(text.Sanitize(l2), s.w)),
		th.Column.Render(text.Fit("  "+table.Cells(cols, heads...), s.w))}
	if s.err != nil {
		for _, l := range text.Wrap("✗ "+text.Sanitize(s.err.Error()), s.w-2, 6) {
			out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
		}
	}
	switch {
	case len(s.rows) == 0 && s.loading:
		out = append(out, th.Muted.Render(text.Fit("  "+s.ctx.Spinner()+" reading …", s.w)))
	case len(s.rows) == 0 && s.err == nil:
		none := "  (no entries)"
		if s.filter != "" {
			none = "  (no entry matches the filter)"
		}
		out = append(out, th.Muted.Render(text.Fit(none, s.w)))
	default:
		out = append(out, s.list.View(func(i int, sel bool) string {
			line := s.cells(&s.rows[i], cols)
			if sel {
				return th.Selected.Render(text.Fit("> "+line, s.w))
			}
			return text.Fit("  "+line, s.w)
		}))
	}
	view := strings.Join(out, "\n")
	lines := strings.Split(view, "\n")
	if len(lines) > s.h {
		lines = lines[:s.h]
	}
	if s.details {
		for len(lines) < s.h-valueRows {
			lines = append(lines, "")
		}
		lines = append(lines[:s.h-valueRows], s.valuePane()...)
	}
	if s.prompt != nil {
		for len(lines) < s.h {
			lines = append(lines, "")
		}
		lines[s.h-1] = th.Prompt.Render(text.Clip(" "+s.prompt.View(), s.w))
		lines[s.h-2] = th.Muted.Render(text.Fit(" enter looks the key up (its key group: Java hashCode, murmur hash, as Flink) · esc cancels", s.w))
		lines = lines[:s.h]
	}
	return strings.Join(lines, "\n")
}

// valuePane shows the selected entry whole, wrapped.
func (s *Entries) valuePane() []string {
	th := s.ctx.Theme
	out := []string{th.Border.Render(strings.Repeat("─", max(s.w, 1)))}
	r := s.selected()
	if r == nil {
		out = append(out, th.Muted.Render(text.Fit(" no entry selected", s.w)))
	} else {
		var parts []string
		if s.src.keyed {
			parts = append(parts, "key "+r.key)
			if s.hasNamespace() {
				parts = append(parts, "namespace "+r.ns)
			}
			parts = append(parts, fmt.Sprintf("key group %d", r.kg))
		} else {
			parts = append(parts, fmt.Sprintf("subtask %d", r.subtask))
		}
		head := text.Wrap(text.Sanitize(strings.Join(parts, " · ")), s.w-2, 2)
		for _, l := range head {
			out = append(out, text.Fit(" "+l, s.w))
		}
		for _, l := range text.Wrap("value "+text.Sanitize(r.value), s.w-2, valueRows-len(out)) {
			out = append(out, text.Fit(" "+l, s.w))
		}
	}
	for len(out) < valueRows {
		out = append(out, "")
	}
	return out[:valueRows]
}
