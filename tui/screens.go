package tui

import (
	"fmt"
	"sort"
	"strings"
)

// ScreenDecl declares one screen of the cockpit. The list of them,
// declaredScreens, is the only place screens are named: the registry that
// opens them by name, the ":" commands and their completion, the config's
// key validation, the "?" help's command list and the README's key tables
// are all derived from it, so none of them can drift from the others.
type ScreenDecl struct {
	// Name opens the screen (OpenScreen(name, …), ":name …") and prefixes
	// its actions' names in the config ("browse.du").
	Name string
	// Usage is the ":" command's synopsis ("browse URI"); "" for screens
	// only other screens open (a checkpoint from the job screen).
	Usage string
	// Help says what the screen shows, for the README.
	Help string
	// Keys builds the screen's own actions (not the list movement keys),
	// rebound by the config; nil when it has none.
	Keys func(ctx *Context) Keymap
	// Open builds the screen from its arguments (no I/O: loading belongs in
	// Init); nil when only its parent screen builds it (an operator of the
	// inspector, which shares the decoded _metadata).
	Open Opener
	// Mutating screens exist to change a job or storage (resume submits a
	// job); read-only screens only show, with dangerous actions marked as
	// such in their keymaps.
	Mutating bool
}

// declaredScreens is every screen, in the order the README lists them.
var declaredScreens = []ScreenDecl{
	{Name: "jobs", Usage: "jobs", Help: "the target's jobs (embedded engine or REST)",
		Keys: func(ctx *Context) Keymap { return newJobsKeys(ctx).keymap() }, Open: openJobs},
	{Name: "launch", Help: "launch a job from a job spec (n on the jobs screen; the resume screen's spec picker too)",
		Open: openLaunch, Mutating: true},
	{Name: "job", Usage: "job JOBID", Help: "one job: vertices, live checkpoints, snapshots, actions",
		Keys: func(ctx *Context) Keymap { return newJobKeys(ctx).keymap() }, Open: openJob},
	{Name: "checkpoint", Help: "one checkpoint of a job, vertex by vertex (enter on a checkpoint of the job screen)",
		Keys: func(ctx *Context) Keymap { return Keymap{newCheckpointOpen(ctx)} }, Open: openCheckpoint},
	{Name: "resume", Usage: "resume SNAPSHOT [SPEC]", Help: "submit a job resuming from a snapshot, after a dry run",
		Keys: func(ctx *Context) Keymap { return newResumeKeys(ctx).keymap() }, Open: openResume, Mutating: true},
	{Name: "browse", Usage: "browse URI", Help: "browse local or hdfs:// snapshot storage",
		Keys: func(ctx *Context) Keymap { return newBrowseKeys(ctx).keymap() }, Open: openBrowse},
	{Name: "inspect", Usage: "inspect PATH", Help: "show a checkpoint or savepoint _metadata",
		Keys: func(ctx *Context) Keymap { return newInspectKeys(ctx).keymap() }, Open: openInspect},
	{Name: "operator", Help: "one operator of an inspected snapshot, subtask by subtask (enter on an operator of the inspector)",
		Keys: func(ctx *Context) Keymap { return Keymap{newOperatorOpen(ctx)} }},
	{Name: "diff", Usage: "diff A B", Help: "compare the operators of two snapshots", Open: openDiff},
	{Name: "savepoints", Usage: "savepoints URI", Help: "savepoints under a directory tree (without URI: the target's savepoint dir): owner, age, size, format; retention preview; dispose",
		Keys: func(ctx *Context) Keymap { return newSavepointsKeys(ctx).keymap() }, Open: openSavepoints},
	{Name: "leaks", Usage: "leaks JOBDIR", Help: "what a job dir holds that no retained checkpoint needs: orphaned shared files, stale chk-N, restored-from folders (report only)",
		Open: openLeaks},
}

// declared finds a screen's declaration.
func declared(name string) (ScreenDecl, bool) {
	for _, d := range declaredScreens {
		if d.Name == name {
			return d, true
		}
	}
	return ScreenDecl{}, false
}

// commandScreens are the declarations of the ":" commands, sorted by name.
func commandScreens() []ScreenDecl {
	var out []ScreenDecl
	for _, d := range declaredScreens {
		if d.Usage != "" && d.Open != nil {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ScreenNames lists the screens ":" opens, sorted.
func ScreenNames() []string {
	var out []string
	for _, d := range commandScreens() {
		out = append(out, d.Name)
	}
	return out
}

// Open builds the screen declared as name from command-line style
// arguments: a ":" command or the CLI.
func Open(ctx *Context, name string, args []string) (Screen, error) {
	if d, ok := declared(name); !ok || d.Usage == "" {
		return nil, fmt.Errorf("unknown screen %q (known: %s)", name, strings.Join(ScreenNames(), ", "))
	}
	return openDeclared(ctx, name, Request{Args: args})
}

// openDeclared builds any declared screen another screen asked for.
func openDeclared(ctx *Context, name string, req Request) (Screen, error) {
	d, ok := declared(name)
	if !ok || d.Open == nil {
		return nil, fmt.Errorf("no screen %q can be opened by name", name)
	}
	return d.Open(ctx, req)
}

// declaredActions is every action of the shell and of every declared
// screen: what the config may rebind.
func declaredActions(ctx *Context) Keymap {
	out := append(Keymap(nil), ctx.Global.Keymap()...)
	for _, d := range declaredScreens {
		if d.Keys != nil {
			out = append(out, d.Keys(ctx)...)
		}
	}
	return out
}
