package table

import (
	"strings"
	"testing"
)

func TestLayoutAndCells(t *testing.T) {
	cols := Layout([]Col{{Title: "NAME", Flex: true}, {Title: "SIZE", Width: 6, Right: true}, {Title: "PATH", Width: 8, Tail: true}}, 40)
	// 40 cells: 6 + 8 fixed, 3 separators and the cursor mark, the rest flexes.
	if cols[0].Width != 40-6-8-4 {
		t.Fatalf("flex width %d, want %d", cols[0].Width, 40-6-8-4)
	}
	tests := []struct {
		vals []string
		want string
	}{
		{[]string{"a", "1 KiB", "/x/chk-12"}, "a" + strings.Repeat(" ", 21) + "  1 KiB " + "…/chk-12"},
		{[]string{"b"}, "b" + strings.Repeat(" ", 21) + " " + strings.Repeat(" ", 6) + " " + strings.Repeat(" ", 8)},
	}
	for _, tc := range tests {
		if got := Cells(cols, tc.vals...); got != tc.want {
			t.Errorf("Cells(%q) = %q, want %q", tc.vals, got, tc.want)
		}
	}
	if h := Headings(cols); strings.Join(h, ",") != "NAME,SIZE,PATH" {
		t.Errorf("Headings = %v", h)
	}
}
