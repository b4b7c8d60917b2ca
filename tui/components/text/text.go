// Package text makes untrusted strings safe to draw and fits them into
// terminal cells. Names and paths come from storage listings and from
// `_metadata` files written by anyone; drawn raw, an ESC byte in a file name
// could move the cursor, change colours or set the clipboard of the person
// looking at it. Widths are measured in terminal cells (East Asian wide
// characters and emoji take two), never in bytes or runes.
package text

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/internal/units"
)

// Sanitize returns s with everything that could control the terminal made
// visible instead: C0/C1 control characters (ESC, BEL, CR, …) and DEL become
// \xNN, invalid UTF-8 becomes U+FFFD, and bidirectional overrides (which can
// make "exe.txt" display as "txt.exe") become \u{NNNN}. Tabs become a space.
// Plain text comes back unchanged and without allocation.
func Sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isBidiControl(r) || r == '\u200b' || r == '\ufeff':
			fmt.Fprintf(&b, `\u{%04x}`, r)
		case !unicode.IsPrint(r) && !unicode.IsSpace(r) && unicode.Is(unicode.Cc, r):
			fmt.Fprintf(&b, `\u{%04x}`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// Width is the number of terminal cells s occupies (ANSI sequences count 0).
func Width(s string) int { return ansi.StringWidth(s) }

// Fit truncates s to w cells (ending in "…" when cut) and pads it with
// spaces to exactly w cells. s may contain styling.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		s = ansi.Truncate(s, w, "…")
		n = ansi.StringWidth(s)
	}
	if n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// FitRight is Fit with the text aligned to the right edge (numbers).
func FitRight(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-n) + s
}

// FitLeft keeps the end of s (the interesting part of a long path) and cuts
// the start, marking it with "…"; pads to w cells.
func FitLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		// A wide rune straddling the cut stays whole, so cut more until it fits.
		orig := s
		for cut := n - w + 1; cut <= n; cut++ {
			s = ansi.TruncateLeft(orig, cut, "…")
			if n = ansi.StringWidth(s); n <= w {
				break
			}
		}
	}
	if n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// Bytes formats a byte count as every ckpt screen and command does
// (units.Bytes): "512 B", "1.50 KiB", "98.3 MiB"; negative is "—".
func Bytes(n int64) string { return units.Bytes(n) }

// Age formats how long ago t was relative to now, compactly ("4s", "12m",
// "3h", "5d", "2y"). A zero t is unknown: "—".
func Age(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	default:
		return fmt.Sprintf("%dy", int(d/(365*24*time.Hour)))
	}
}

// Plural is n with the noun in the form n takes: Plural(1, "job") is
// "1 job", Plural(3, "job") "3 jobs"; irregular plurals pass both forms,
// Plural(2, "job runs", "jobs run"). The count has thousands separators.
func Plural(n int, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return Count(n) + " " + many[0]
	}
	return Count(n) + " " + one + "s"
}

// Count formats an integer with thousands separators (100000 → "100,000").
func Count(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + Count(-n)
	}
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Clip cuts s to w cells without a marker and pads it to exactly w cells
// (for widgets that pad themselves, like text inputs).
func Clip(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// Wrap breaks plain s into lines of at most w cells (at spaces where it
// can, anywhere when a word is longer), keeping at most maxLines; the last
// kept line ends in "…" when text was left out.
func Wrap(s string, w, maxLines int) []string {
	if w <= 0 || maxLines <= 0 {
		return nil
	}
	var lines []string
	rest := s
	for rest != "" && len(lines) < maxLines {
		if ansi.StringWidth(rest) <= w {
			lines = append(lines, rest)
			rest = ""
			break
		}
		cut := ansi.Truncate(rest, w, "")
		if i := strings.LastIndexByte(cut, ' '); i > w/2 {
			cut = cut[:i]
		}
		lines = append(lines, cut)
		rest = strings.TrimLeft(rest[len(cut):], " ")
	}
	if rest != "" && len(lines) > 0 {
		lines[len(lines)-1] = ansi.Truncate(lines[len(lines)-1], w-1, "") + "…"
	}
	return lines
}
