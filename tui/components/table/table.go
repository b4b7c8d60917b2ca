// Package table lays out rows of cells in columns of fixed or flexible
// width, measured in terminal cells.
package table

import (
	"strings"

	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// Col is one table column: a fixed width, or flex (takes what is left).
type Col struct {
	Title string
	Width int
	Right bool
	Flex  bool
	Tail  bool // cut from the left, keeping the end (paths)
}

// Layout gives flex columns the width left over (split evenly).
func Layout(cols []Col, total int) []Col {
	out := append([]Col(nil), cols...)
	fixed, flex := 0, 0
	for _, c := range out {
		if c.Flex {
			flex++
		} else {
			fixed += c.Width
		}
	}
	fixed += len(out) + 1 // separators and the cursor mark
	if flex > 0 {
		each := max((total-fixed)/flex, 6)
		for i := range out {
			if out[i].Flex {
				out[i].Width = each
			}
		}
	}
	return out
}

// Cells fits values into columns, joined by one space.
func Cells(cols []Col, vals ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		v := ""
		if i < len(vals) {
			v = vals[i]
		}
		if c.Right {
			parts[i] = text.FitRight(v, c.Width)
		} else if c.Tail {
			parts[i] = text.FitLeft(v, c.Width)
		} else {
			parts[i] = text.Fit(v, c.Width)
		}
	}
	return strings.Join(parts, " ")
}

// Headings are the columns' titles.
func Headings(cols []Col) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Title
	}
	return out
}
