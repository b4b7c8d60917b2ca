package list

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func press(m *Model, k string) bool {
	msg := tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
	switch k {
	case "pgdown":
		msg = tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "end":
		msg = tea.KeyPressMsg{Code: tea.KeyEnd}
	}
	return m.Update(msg)
}

func TestMovementAndWindow(t *testing.T) {
	m := New()
	m.SetHeight(5)
	m.SetLen(100)
	tests := []struct {
		key         string
		cursor, off int
	}{
		{"j", 1, 0}, {"j", 2, 0}, {"pgdown", 7, 3}, {"G", 99, 95}, {"k", 98, 95}, {"g", 0, 0}, {"k", 0, 0}, {"end", 99, 95},
	}
	for _, tc := range tests {
		if !press(&m, tc.key) {
			t.Fatalf("%s not handled", tc.key)
		}
		if m.Cursor() != tc.cursor || m.offset != tc.off {
			t.Errorf("after %s: cursor %d offset %d, want %d %d", tc.key, m.Cursor(), m.offset, tc.cursor, tc.off)
		}
	}
	if press(&m, "x") {
		t.Error("x is not a movement key")
	}
}

// View draws only the rows in the window, whatever the length.
func TestViewDrawsOnlyVisibleRows(t *testing.T) {
	m := New()
	m.SetHeight(3)
	m.SetLen(1_000_000)
	m.Select(500_000)
	calls := 0
	v := m.View(func(i int, sel bool) string {
		calls++
		return fmt.Sprintf("%d%v", i, sel)
	})
	if calls != 3 {
		t.Fatalf("drew %d rows for a height of 3", calls)
	}
	if !strings.Contains(v, "500000true") {
		t.Errorf("selected row not drawn: %q", v)
	}
}

func TestFilterKeepsSourceIndices(t *testing.T) {
	m := New()
	m.SetHeight(10)
	m.SetLen(30)
	m.SetFilter(func(i int) bool { return i%10 == 3 })
	if m.Len() != 3 || m.Total() != 30 || !m.Filtered() {
		t.Fatalf("len %d total %d", m.Len(), m.Total())
	}
	press(&m, "j")
	if i, _ := m.Selected(); i != 13 {
		t.Errorf("selected source %d, want 13", i)
	}
	m.SetFilter(func(int) bool { return false })
	if _, ok := m.Selected(); ok {
		t.Error("empty filter result has a selection")
	}
	m.SetFilter(nil)
	if m.Len() != 30 {
		t.Errorf("clearing the filter shows %d rows", m.Len())
	}
}
