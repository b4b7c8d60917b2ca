package tui

import (
	"strings"

	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// col is one table column: a fixed width, or flex (takes what is left).
type col struct {
	title string
	width int
	right bool
	flex  bool
	tail  bool // cut from the left, keeping the end (paths)
}

// layout gives flex columns the width left over (split evenly).
func layout(cols []col, total int) []col {
	out := append([]col(nil), cols...)
	fixed, flex := 0, 0
	for _, c := range out {
		if c.flex {
			flex++
		} else {
			fixed += c.width
		}
	}
	fixed += len(out) + 1 // separators and the cursor mark
	if flex > 0 {
		each := max((total-fixed)/flex, 6)
		for i := range out {
			if out[i].flex {
				out[i].width = each
			}
		}
	}
	return out
}

// cells fits values into columns, joined by one space.
func cells(cols []col, vals ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		v := ""
		if i < len(vals) {
			v = vals[i]
		}
		if c.right {
			parts[i] = text.FitRight(v, c.width)
		} else if c.tail {
			parts[i] = text.FitLeft(v, c.width)
		} else {
			parts[i] = text.Fit(v, c.width)
		}
	}
	return strings.Join(parts, " ")
}

func headings(cols []col) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.title
	}
	return out
}
