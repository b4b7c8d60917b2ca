package shell

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
	// Paths says the ":" command's arguments are paths (local or
	// hdfs://): the command line completes them.
	Paths bool
	// Mutating screens exist to change a job or storage (resume submits a
	// job); read-only screens only show, with dangerous actions marked as
	// such in their keymaps.
	Mutating bool
}

// Registry is the declared screens, in the order the README lists them:
// the shell opens screens by name from it (Context.Screens).
type Registry []ScreenDecl

// Find finds a screen's declaration.
func (r Registry) Find(name string) (ScreenDecl, bool) {
	for _, d := range r {
		if d.Name == name {
			return d, true
		}
	}
	return ScreenDecl{}, false
}

// Commands are the declarations of the ":" commands, sorted by name.
func (r Registry) Commands() []ScreenDecl {
	var out []ScreenDecl
	for _, d := range r {
		if d.Usage != "" && d.Open != nil {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names lists the screens ":" opens, sorted.
func (r Registry) Names() []string {
	var out []string
	for _, d := range r.Commands() {
		out = append(out, d.Name)
	}
	return out
}

// Available lists the screens ":" opens in this mode, sorted: read-only
// mode has no mutating screens.
func (r Registry) Available(readonly bool) []string {
	var out []string
	for _, d := range r.Commands() {
		if !(readonly && d.Mutating) {
			out = append(out, d.Name)
		}
	}
	return out
}

// ReadonlyError is what read-only mode answers a key or command that
// would change a job or storage.
func ReadonlyError(what string) error {
	return fmt.Errorf("read-only: %s is not available (ckpt runs with --readonly)", what)
}

// Open builds the screen declared as name from command-line style
// arguments: a ":" command or the CLI.
func (r Registry) Open(ctx *Context, name string, args []string) (Screen, error) {
	if d, ok := r.Find(name); !ok || d.Usage == "" {
		return nil, fmt.Errorf("unknown screen %q (known: %s)", name, strings.Join(r.Names(), ", "))
	}
	return r.OpenRequest(ctx, name, Request{Args: args})
}

// OpenRequest builds any declared screen another screen asked for.
func (r Registry) OpenRequest(ctx *Context, name string, req Request) (Screen, error) {
	d, ok := r.Find(name)
	if !ok || d.Open == nil {
		return nil, fmt.Errorf("no screen %q can be opened by name", name)
	}
	if d.Mutating && ctx.Readonly {
		return nil, ReadonlyError("the " + d.Name + " screen (it exists to change a job or storage)")
	}
	return d.Open(ctx, req)
}

// Actions is every action of the shell and of every declared screen:
// what the config may rebind.
func (r Registry) Actions(ctx *Context) Keymap {
	out := append(Keymap(nil), ctx.Global.Keymap()...)
	for _, d := range r {
		if d.Keys != nil {
			out = append(out, d.Keys(ctx)...)
		}
	}
	return out
}
