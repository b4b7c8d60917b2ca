package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// The README's key tables sit between these markers; keyTables writes
// what goes between them, from the screen declarations (readme_test.go
// compares, and rewrites them with -update-readme).
const (
	keyTablesBegin = "<!-- BEGIN key tables: generated from tui/screens.go; `go test ./tui -run TestREADMEKeyTables -update-readme` rewrites them -->"
	keyTablesEnd   = "<!-- END key tables -->"
)

// keyTables is the markdown of every key: the shell's, the lists', then
// each declared screen's actions with the names the config rebinds them
// by, and the ":" commands.
func keyTables() string {
	ctx := &shell.Context{Global: shell.DefaultGlobalKeys()}
	var b strings.Builder
	b.WriteString("**Everywhere**\n\n")
	actionTable(&b, ctx.Global.Keymap())
	b.WriteString("\n**Lists** (every screen with rows)\n\n| key | action |\n|---|---|\n")
	for _, k := range list.DefaultKeyMap().Bindings() {
		fmt.Fprintf(&b, "| %s | %s |\n", keysOf(k), cell(k.Help().Desc))
	}
	for _, d := range declaredScreens {
		fmt.Fprintf(&b, "\n**%s**", d.Name)
		if d.Usage != "" {
			fmt.Fprintf(&b, " (`:%s`)", d.Usage)
		}
		fmt.Fprintf(&b, " — %s", d.Help)
		if d.Mutating {
			b.WriteString(" (!)")
		}
		b.WriteString("\n\n")
		if d.Keys == nil {
			b.WriteString("No keys of its own: the list's and everywhere's.\n")
			continue
		}
		actionTable(&b, d.Keys(ctx))
	}
	var cmds []string
	for _, d := range declaredScreens.Commands() {
		cmds = append(cmds, "`:"+d.Usage+"`")
	}
	cmds = append(cmds, "`:theme NAME`", "`:help`", "`:q`")
	fmt.Fprintf(&b, "\nCommands (`:`): %s.\n", strings.Join(cmds, ", "))
	return b.String()
}

func actionTable(b *strings.Builder, k shell.Keymap) {
	b.WriteString("| key | action | config name |\n|---|---|---|\n")
	for _, a := range k {
		fmt.Fprintf(b, "| %s | %s | `%s` |\n", keysOf(a.Binding), cell(a.Binding.Help().Desc), a.Name)
	}
}

// cell escapes the one character a markdown table cell cannot hold.
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// keysOf writes a binding's keys as the README shows them: `a`/`b`.
func keysOf(k key.Binding) string {
	var out []string
	for _, s := range k.Keys() {
		out = append(out, "`"+cell(s)+"`")
	}
	return strings.Join(out, "/")
}

// replaceKeyTables puts tables between the markers of readme; ok is false
// when the markers are missing.
func replaceKeyTables(readme, tables string) (string, bool) {
	i := strings.Index(readme, keyTablesBegin)
	j := strings.Index(readme, keyTablesEnd)
	if i < 0 || j < i {
		return readme, false
	}
	return readme[:i+len(keyTablesBegin)] + "\n" + tables + readme[j:], true
}
