// Package progress draws how far a long transfer is: a bar, files and
// bytes done of the total, the rate and the time left. The numbers come
// from the work itself (snapshot.CopyProgress and its Rate): this package
// only draws them, so the CLI's line and the TUI's bar never disagree.
package progress

import (
	"fmt"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/themes"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// State is one moment of a transfer.
type State struct {
	Files, FilesDone int
	Bytes, BytesDone int64
	// PerSecond and ETA are the rate and the time left; RateKnown is
	// false before the first byte.
	PerSecond float64
	ETA       time.Duration
	RateKnown bool
}

// Fraction is how much is done, 0..1, by bytes (by files when there are
// no bytes to count).
func (s State) Fraction() float64 {
	switch {
	case s.Bytes > 0:
		return min(float64(s.BytesDone)/float64(s.Bytes), 1)
	case s.Files > 0:
		return min(float64(s.FilesDone)/float64(s.Files), 1)
	}
	return 0
}

// Numbers are the figures beside the bar: "12/30 files · 1.2 MiB/3.4 MiB
// · 3.1 MiB/s · ETA 4s".
func (s State) Numbers() string {
	rate, eta := "–/s", "ETA ?"
	if s.RateKnown {
		rate = text.Bytes(int64(s.PerSecond)) + "/s"
		eta = "ETA " + s.ETA.String()
	}
	return fmt.Sprintf("%d/%d files · %s/%s · %s · %s", s.FilesDone, s.Files, text.Bytes(s.BytesDone), text.Bytes(s.Bytes), rate, eta)
}

// Bar is a bar of width cells filled to f (0..1), with the percentage.
func Bar(th *themes.Theme, f float64, width int) string {
	pct := fmt.Sprintf(" %3d%%", int(f*100))
	w := max(width-len(pct), 1)
	n := min(int(f*float64(w)+0.5), w)
	return th.Complete.Render(strings.Repeat("█", n)) + th.Muted.Render(strings.Repeat("░", w-n)) + pct
}

// Rows draws a transfer in two lines of width w: what (the label and a
// hint, e.g. "x cancels") and the bar with its numbers — the bar takes
// what the numbers leave, at least 10 cells.
func Rows(th *themes.Theme, label, hint string, s State, w int) []string {
	// The hint stays whole: the label (a long path) is what gets cut.
	head := th.Title.Render(text.Fit(" "+text.Sanitize(label), w))
	if hint != "" {
		hint = " · " + text.Sanitize(hint)
		head = th.Title.Render(text.Fit(" "+text.Sanitize(label), max(w-text.Width(hint), 0))) + th.Muted.Render(text.Fit(hint, w-max(w-text.Width(hint), 0)))
	}
	nums := " " + s.Numbers()
	barW := max(w-2-text.Width(nums), 10)
	return []string{
		head,
		text.Clip(" "+Bar(th, s.Fraction(), barW)+th.Muted.Render(nums), w),
	}
}
