package form

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/themes"

	tea "charm.land/bubbletea/v2"
)

func key(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
}

func TestFormKeys(t *testing.T) {
	tests := []struct {
		keys   []string
		want   Result
		values []string
	}{
		{[]string{"x", "enter"}, Submitted, []string{"/spx", "canonical"}},
		{[]string{"tab", "space", "enter"}, Submitted, []string{"/sp", "native"}},
		{[]string{"tab", "space", "space", "enter"}, Submitted, []string{"/sp", "canonical"}},
		{[]string{"tab", "tab", "y", "esc"}, Cancelled, []string{"/spy", "canonical"}},
	}
	for _, tc := range tests {
		f := New("Savepoint", "enter takes it").Text("dir", "/sp", "").Choice("format", "canonical", "native")
		f.FocusCmd()
		res := Editing
		for _, k := range tc.keys {
			res, _ = f.Update(key(k))
		}
		if res != tc.want {
			t.Errorf("%v: result %v, want %v", tc.keys, res, tc.want)
		}
		for i, v := range tc.values {
			if got := f.Value(i); got != v {
				t.Errorf("%v: field %d = %q, want %q", tc.keys, i, got, v)
			}
		}
	}
}

func TestOverlayBottom(t *testing.T) {
	if got := OverlayBottom("a\nb\nc", []string{"X"}, 4); got != "a\nb\nc\nX" {
		t.Errorf("got %q", got)
	}
	if got := OverlayBottom("a\nb\nc\nd\ne", []string{"X", "Y"}, 3); got != "a\nX\nY" {
		t.Errorf("got %q", got)
	}
}

// A long confirmation wraps; nothing of it is cut.
func TestConfirmRowsWrap(t *testing.T) {
	th := themes.Dark()
	q := " DELETE hdfs://namenode:8020/flink/checkpoints/5f2c0194b6e2a8d3c1e07a9b4d6f8e21/chk-18 (232 KiB)? y = delete, any other key = cancel "
	rows := ConfirmRows(th, q, 40)
	var words []string
	for _, r := range rows {
		if w := ansi.StringWidth(r); w != 40 {
			t.Errorf("row %q is %d wide, want 40", r, w)
		}
		words = append(words, strings.Fields(ansi.Strip(r))...)
	}
	// A path longer than a line is broken inside: compare without spaces.
	if got := strings.Join(words, ""); got != strings.Join(strings.Fields(q), "") {
		t.Errorf("rows say %q, want all of %q", got, q)
	}
}
