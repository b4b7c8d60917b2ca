package shell

import (
	"context"
	"errors"
	"io"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Path completion on the ":" line. A command whose declaration says its
// arguments are paths (browse, inspect, diff, …) completes the word being
// typed from a listing of the directory it names, local or hdfs://, the
// way a shell does: tab accepts the suggestion. The listing runs as a
// command (no I/O in Update), once per directory typed, bounded by the
// storage timeout and to the first maxCompletions entries.

// maxCompletions bounds how many entries of a directory are offered.
const maxCompletions = 500

// completionMsg carries a directory's entries for the line being typed.
type completionMsg struct {
	dir   string   // the directory part of the word ("" = current dir)
	lines []string // whole command lines, one per entry
}

// pathWord splits a command line into what comes before the path being
// typed, the directory part of that path and the rest; ok is false when
// the line is not a path command's argument.
func (a *App) pathWord(line string) (before, dir string, ok bool) {
	fields := strings.Fields(line)
	if len(fields) == 0 || (len(fields) == 1 && !strings.HasSuffix(line, " ")) {
		return "", "", false
	}
	d, found := a.ctx.Screens.Find(fields[0])
	if !found || !d.Paths || (a.ctx.Readonly && d.Mutating) {
		return "", "", false
	}
	word := ""
	if !strings.HasSuffix(line, " ") {
		word = fields[len(fields)-1]
	}
	before = line[:len(line)-len(word)]
	if i := strings.LastIndexByte(word, '/'); i >= 0 {
		dir = word[:i+1]
	}
	return before, dir, true
}

// complete lists the directory of the word being typed when it changed.
func (a *App) complete() tea.Cmd {
	before, dir, ok := a.pathWord(a.input.Value())
	if !ok || (dir == a.complDir && before == a.complBefore) {
		return nil
	}
	a.complDir, a.complBefore = dir, before
	fsys, timeout := a.ctx.FS, a.ctx.Timeout
	if fsys == nil {
		return nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		target := dir
		if target == "" {
			target = "."
		}
		l, err := fsys.List(ctx, target)
		if err != nil {
			return nil // nothing to offer; typing goes on
		}
		defer l.Close()
		var lines []string
		for len(lines) < maxCompletions {
			page, err := l.Next(ctx)
			for _, e := range page {
				name := e.Name
				if e.IsDir {
					name += "/"
				}
				lines = append(lines, before+dir+name)
			}
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
		}
		sort.Strings(lines)
		return completionMsg{dir: dir, lines: lines}
	}
}

// onCompletion offers the entries if the line still wants them.
func (a *App) onCompletion(msg completionMsg) {
	if a.mode != modeCommand || msg.dir != a.complDir {
		return
	}
	a.input.SetSuggestions(append(a.commandSuggestions(), msg.lines...))
}
