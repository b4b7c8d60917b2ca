// Package themes holds ckpt's terminal styles: dark, light and high-contrast
// palettes, a monochrome variant for NO_COLOR, and the choice between them.
// It holds styles only — no I/O, no widgets — and imports nothing of ckpt's
// own, so every screen (and later the job screens) draws with the same words.
//
// Meaning is never carried by colour alone: the screens always print a word
// or glyph next to a coloured cell (COMPLETE, DROPPED, …); colour is a second
// channel that helps scanning, and NO_COLOR or a monochrome terminal loses
// nothing that matters.
package themes

import (
	"fmt"
	"image/color"
	"sort"
	"strings"

	"charm.land/lipgloss/v2"
)

// Theme is the set of styles screens draw with. Field names say what a style
// is for, not what it looks like, so a palette can change freely.
type Theme struct {
	Name string

	Header    lipgloss.Style // top bar: app name and target
	Crumb     lipgloss.Style // a breadcrumb segment
	CrumbLast lipgloss.Style // the current breadcrumb
	CrumbSep  lipgloss.Style

	Status      lipgloss.Style // bottom bar background text
	StatusBusy  lipgloss.Style // "listing …" with a spinner
	StatusError lipgloss.Style // an error shown in place
	Toast       lipgloss.Style
	ToastError  lipgloss.Style

	Title    lipgloss.Style // a pane or table title
	Column   lipgloss.Style // table column headings
	Selected lipgloss.Style // the cursor row; must be visible without colour (reverse)
	Muted    lipgloss.Style // secondary text: sizes, ages, hints
	Border   lipgloss.Style // pane borders (foreground colour)

	Dir       lipgloss.Style
	File      lipgloss.Style
	Job       lipgloss.Style // a 32-hex job directory
	Complete  lipgloss.Style // chk-N with _metadata, a savepoint, an existing file
	Partial   lipgloss.Style // chk-N without _metadata, a missing file
	Shared    lipgloss.Style // shared/ and taskowned/
	Savepoint lipgloss.Style

	Restored lipgloss.Style // dry-run: state that maps to an operator
	Dropped  lipgloss.Style // dry-run: state nobody claims (needs allow-non-restored-state)
	New      lipgloss.Style // dry-run: operators that start empty

	Warn  lipgloss.Style
	Error lipgloss.Style
	OK    lipgloss.Style

	HelpKey   lipgloss.Style
	HelpDesc  lipgloss.Style
	HelpSep   lipgloss.Style
	Dangerous lipgloss.Style // help entries of mutating actions
	Prompt    lipgloss.Style // ":" and "/" prompts
	Overlay   lipgloss.Style // the help overlay box
}

// palette is the handful of colours a theme is built from.
type palette struct {
	fg, muted, accent, accent2, bg2                            color.Color
	ok, warn, err, info, shared, savepoint, job, headerBG, hdr color.Color
}

func build(name string, p palette) *Theme {
	s := lipgloss.NewStyle
	return &Theme{
		Name:      name,
		Header:    s().Bold(true).Foreground(p.hdr).Background(p.headerBG),
		Crumb:     s().Foreground(p.muted),
		CrumbLast: s().Bold(true).Foreground(p.accent),
		CrumbSep:  s().Foreground(p.muted),

		Status:      s().Foreground(p.fg).Background(p.bg2),
		StatusBusy:  s().Foreground(p.info).Background(p.bg2),
		StatusError: s().Bold(true).Foreground(p.err).Background(p.bg2),
		Toast:       s().Foreground(p.fg).Background(p.bg2).Bold(true),
		ToastError:  s().Foreground(p.err).Background(p.bg2).Bold(true),

		Title:    s().Bold(true).Foreground(p.accent),
		Column:   s().Bold(true).Foreground(p.muted).Underline(true),
		Selected: s().Reverse(true).Bold(true),
		Muted:    s().Foreground(p.muted),
		Border:   s().Foreground(p.muted),

		Dir:       s().Bold(true).Foreground(p.accent2),
		File:      s().Foreground(p.fg),
		Job:       s().Bold(true).Foreground(p.job),
		Complete:  s().Foreground(p.ok),
		Partial:   s().Bold(true).Foreground(p.warn),
		Shared:    s().Foreground(p.shared),
		Savepoint: s().Bold(true).Foreground(p.savepoint),

		Restored: s().Foreground(p.ok),
		Dropped:  s().Bold(true).Foreground(p.err),
		New:      s().Foreground(p.info),

		Warn:  s().Foreground(p.warn),
		Error: s().Bold(true).Foreground(p.err),
		OK:    s().Foreground(p.ok),

		HelpKey:   s().Bold(true).Foreground(p.accent),
		HelpDesc:  s().Foreground(p.muted),
		HelpSep:   s().Foreground(p.muted),
		Dangerous: s().Foreground(p.err),
		Prompt:    s().Bold(true).Foreground(p.accent),
		Overlay:   s().Border(lipgloss.RoundedBorder()).BorderForeground(p.accent).Padding(0, 1),
	}
}

var c = lipgloss.Color

// Dark is for terminals with a dark background (the default).
func Dark() *Theme {
	return build("dark", palette{
		fg: c("#d0d0d0"), muted: c("#8a8a8a"), accent: c("#87afff"), accent2: c("#5fafff"),
		bg2: c("#303030"),
		ok:  c("#87d787"), warn: c("#ffd75f"), err: c("#ff5f5f"), info: c("#5fd7ff"),
		shared: c("#af87ff"), savepoint: c("#ffaf5f"), job: c("#d787ff"),
		headerBG: c("#005f87"), hdr: c("#ffffff"),
	})
}

// Light is for terminals with a light background.
func Light() *Theme {
	return build("light", palette{
		fg: c("#262626"), muted: c("#6c6c6c"), accent: c("#005fd7"), accent2: c("#0050a0"),
		bg2: c("#e4e4e4"),
		ok:  c("#00796b"), warn: c("#8a5a00"), err: c("#c00000"), info: c("#005f87"),
		shared: c("#5f00af"), savepoint: c("#af5f00"), job: c("#870087"),
		headerBG: c("#005f87"), hdr: c("#ffffff"),
	})
}

// HighContrast uses the 16 basic ANSI colours at full intensity on black, for
// low-vision users and washed-out projectors.
func HighContrast() *Theme {
	ansi := func(n int) color.Color { return lipgloss.ANSIColor(n) }
	t := build("high-contrast", palette{
		fg: ansi(15), muted: ansi(15), accent: ansi(14), accent2: ansi(14),
		bg2: ansi(0),
		ok:  ansi(10), warn: ansi(11), err: ansi(9), info: ansi(14),
		shared: ansi(13), savepoint: ansi(11), job: ansi(13),
		headerBG: ansi(0), hdr: ansi(15),
	})
	// Underlines and bold make structure visible even when colours blur.
	t.Header = t.Header.Underline(true)
	t.Dir = t.Dir.Underline(true)
	t.Dropped = t.Dropped.Underline(true)
	t.Muted = t.Muted.Faint(false)
	return t
}

// Mono draws with text attributes only (bold, reverse, underline): what
// NO_COLOR asks for. Everything still reads because every state has a word.
func Mono() *Theme {
	s := lipgloss.NewStyle
	plain := s()
	return &Theme{
		Name:   "mono",
		Header: s().Bold(true).Reverse(true), Crumb: plain, CrumbLast: s().Bold(true), CrumbSep: plain,
		Status: plain, StatusBusy: plain, StatusError: s().Bold(true), Toast: s().Bold(true), ToastError: s().Bold(true),
		Title: s().Bold(true), Column: s().Underline(true), Selected: s().Reverse(true), Muted: plain, Border: plain,
		Dir: s().Bold(true), File: plain, Job: s().Bold(true), Complete: plain, Partial: s().Bold(true),
		Shared: plain, Savepoint: s().Bold(true),
		Restored: plain, Dropped: s().Bold(true).Underline(true), New: s().Underline(true),
		Warn: s().Bold(true), Error: s().Bold(true), OK: plain,
		HelpKey: s().Bold(true), HelpDesc: plain, HelpSep: plain, Dangerous: s().Underline(true), Prompt: s().Bold(true),
		Overlay: s().Border(lipgloss.NormalBorder()).Padding(0, 1),
	}
}

// Auto is the name that picks dark or light from the terminal's background.
const Auto = "auto"

var named = map[string]func() *Theme{
	"dark": Dark, "light": Light, "high-contrast": HighContrast, "mono": Mono,
}

// Names lists the selectable theme names, "auto" first.
func Names() []string {
	out := make([]string, 0, len(named)+1)
	for n := range named {
		out = append(out, n)
	}
	sort.Strings(out)
	return append([]string{Auto}, out...)
}

// Choice says which theme to use.
type Choice struct {
	Name    string // "", "auto", "dark", "light", "high-contrast", "mono"
	DarkBG  bool   // what the terminal reported (true when unknown)
	NoColor bool   // NO_COLOR is set: always Mono
}

// Pick resolves a choice to a theme. An unknown name is an error naming the
// valid ones; the caller decides whether to fall back.
func Pick(ch Choice) (*Theme, error) {
	name := strings.ToLower(strings.TrimSpace(ch.Name))
	var th *Theme
	switch f, ok := named[name]; {
	case ok:
		th = f()
	case name == "highcontrast" || name == "hc":
		th = HighContrast()
	case name == "" || name == Auto:
		th = Light()
		if ch.DarkBG {
			th = Dark()
		}
	default:
		// Unknown with or without NO_COLOR.
		return nil, fmt.Errorf("unknown theme %q (choose one of %s)", ch.Name, strings.Join(Names(), ", "))
	}
	if ch.NoColor {
		return Mono(), nil // NO_COLOR wins over any theme
	}
	return th, nil
}

// NoColorSet reports whether the NO_COLOR convention asks for no colour:
// the variable is present and not empty (https://no-color.org).
func NoColorSet(getenv func(string) string) bool {
	return getenv("NO_COLOR") != ""
}
