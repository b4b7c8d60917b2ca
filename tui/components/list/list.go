// Package list is a virtualised cursor list: it keeps only indices, never
// rows, and draws just the rows that fit in its height. A screen with
// 100,000 entries pays for the ~20 rows on screen, not for the listing, so
// scrolling stays instant however large a directory is.
package list

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap holds the movement keys; screens show them in help.
type KeyMap struct {
	Up, Down, PageUp, PageDown, HalfUp, HalfDown, Top, Bottom key.Binding
}

// DefaultKeyMap has vim keys and arrows.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup/^b", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn/^f", "page down")),
		HalfUp:   key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("^u", "half page up")),
		HalfDown: key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("^d", "half page down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "first")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "last")),
	}
}

// Bindings lists the movement keys for help.
func (k KeyMap) Bindings() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom}
}

// Model is the list state. The zero value is an empty list; set its height.
type Model struct {
	Keys   KeyMap
	n      int   // rows in the source
	view   []int // source indices that pass the filter; nil means all
	cursor int   // position within the view
	offset int   // first visible position
	height int
}

// New returns an empty list with default keys.
func New() Model { return Model{Keys: DefaultKeyMap()} }

// SetLen tells the list how many source rows exist (rows are appended by a
// streaming listing; the cursor stays where it is).
func (m *Model) SetLen(n int) {
	m.n = n
	m.clamp()
}

// Len is the number of rows shown (after filtering).
func (m *Model) Len() int {
	if m.view != nil {
		return len(m.view)
	}
	return m.n
}

// Total is the number of source rows.
func (m *Model) Total() int { return m.n }

// Filtered reports whether a filter is narrowing the rows.
func (m *Model) Filtered() bool { return m.view != nil }

// FilterText keeps the rows whose lower-cased text (lower(i)) contains
// the lower-cased filter f; an empty f keeps every row. It is the "/"
// filter of every screen that lists rows.
func (m *Model) FilterText(f string, lower func(i int) string) {
	if f == "" {
		m.SetFilter(nil)
		return
	}
	f = strings.ToLower(f)
	m.SetFilter(func(i int) bool { return strings.Contains(lower(i), f) })
}

// SetFilter keeps only the source rows for which keep returns true; nil keep
// shows everything. The cursor moves to the first row.
func (m *Model) SetFilter(keep func(i int) bool) {
	if keep == nil {
		m.view = nil
	} else {
		v := make([]int, 0, 64)
		for i := 0; i < m.n; i++ {
			if keep(i) {
				v = append(v, i)
			}
		}
		m.view = v
	}
	m.cursor, m.offset = 0, 0
	m.clamp()
}

// SetHeight is the number of rows drawn.
func (m *Model) SetHeight(h int) {
	if h < 1 {
		h = 1
	}
	m.height = h
	m.clamp()
}

// Height is the number of rows drawn.
func (m *Model) Height() int { return m.height }

// Cursor is the cursor's position in the shown rows.
func (m *Model) Cursor() int { return m.cursor }

// Selected is the source index under the cursor; ok is false when empty.
func (m *Model) Selected() (int, bool) {
	if m.Len() == 0 {
		return 0, false
	}
	return m.source(m.cursor), true
}

// Select moves the cursor to source row i (if shown).
func (m *Model) Select(i int) {
	if m.view == nil {
		m.cursor = i
	} else {
		for p, s := range m.view {
			if s == i {
				m.cursor = p
				break
			}
		}
	}
	m.clamp()
}

func (m *Model) source(pos int) int {
	if m.view != nil {
		return m.view[pos]
	}
	return pos
}

// Move moves the cursor by delta rows.
func (m *Model) Move(delta int) {
	m.cursor += delta
	m.clamp()
}

func (m *Model) clamp() {
	n := m.Len()
	if m.cursor >= n {
		m.cursor = n - 1
	}
	if m.cursor < 0 {
		m.cursor = 0
	}
	h := m.height
	if h < 1 {
		h = 1
	}
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	if max := n - h; m.offset > max {
		m.offset = max
	}
	if m.offset < 0 {
		m.offset = 0
	}
}

// Update handles movement keys and the mouse wheel; handled says whether
// the message was a movement.
func (m *Model) Update(msg tea.Msg) (handled bool) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.Keys.Up):
			m.Move(-1)
		case key.Matches(msg, m.Keys.Down):
			m.Move(1)
		case key.Matches(msg, m.Keys.PageUp):
			m.Move(-m.height)
		case key.Matches(msg, m.Keys.PageDown):
			m.Move(m.height)
		case key.Matches(msg, m.Keys.HalfUp):
			m.Move(-max(1, m.height/2))
		case key.Matches(msg, m.Keys.HalfDown):
			m.Move(max(1, m.height/2))
		case key.Matches(msg, m.Keys.Top):
			m.cursor = 0
			m.clamp()
		case key.Matches(msg, m.Keys.Bottom):
			m.cursor = m.Len() - 1
			m.clamp()
		default:
			return false
		}
		return true
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			m.Move(-3)
		case tea.MouseWheelDown:
			m.Move(3)
		default:
			return false
		}
		return true
	}
	return false
}

// Visible calls draw for each shown row in the window, top to bottom, and
// joins the lines; rows past the end are blank. draw gets the source index.
func (m *Model) View(draw func(i int, selected bool) string) string {
	var b strings.Builder
	n := m.Len()
	for r := 0; r < m.height; r++ {
		if r > 0 {
			b.WriteByte('\n')
		}
		pos := m.offset + r
		if pos >= n {
			continue
		}
		b.WriteString(draw(m.source(pos), pos == m.cursor))
	}
	return b.String()
}

// ScrollInfo describes the window for a position indicator: first and last
// shown rows (1-based) and the count.
func (m *Model) ScrollInfo() (first, last, n int) {
	n = m.Len()
	if n == 0 {
		return 0, 0, 0
	}
	first = m.offset + 1
	last = min(m.offset+m.height, n)
	return
}
