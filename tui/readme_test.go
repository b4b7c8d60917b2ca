package tui

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/tui/shell"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the README's key tables from the screen declarations")

// The README's key tables are the user's contract: they must say exactly
// what the declarations bind. -update-readme rewrites that section (and
// nothing else) after a keymap changes.
func TestREADMEKeyTables(t *testing.T) {
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	want, ok := replaceKeyTables(readme, keyTables())
	if !ok {
		t.Fatalf("%s has no key tables section (%q … %q)", path, keyTablesBegin, keyTablesEnd)
	}
	if want == readme {
		return
	}
	if *updateREADME {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README key tables disagree with tui/screens.go; run go test ./tui -run TestREADMEKeyTables -update-readme\n%s", firstDiff(readme, want))
}

// Every action a screen declares is in the README (a missing one fails
// even if someone edits the generated section by hand).
func TestREADMENamesEveryAction(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range declaredScreens.Actions(&shell.Context{Global: shell.DefaultGlobalKeys()}) {
		if !strings.Contains(string(b), "`"+a.Name+"`") {
			t.Errorf("README does not name action %s", a.Name)
		}
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return "line " + strconv.Itoa(i+1) + ":\n  README: " + g[i] + "\n  want:   " + w[i]
		}
	}
	return "lengths differ"
}
