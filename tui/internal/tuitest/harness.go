// Package tuitest is the test harness of the TUI's screens: it opens a
// declared screen by name in a real shell at a fixed size and clock,
// presses keys, runs the commands they return until nothing is left, and
// compares frames with golden files; a fake target and the storage trees
// the screens are tested on come with it.
package tuitest

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/screenlist"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// Now is the fixed clock of every golden test.
var Now = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// Fixtures is ../shared/fixtures/flink-metadata relative to the repo.
func Fixtures(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "fixtures", "flink-metadata")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("Flink fixtures not found at %s: %v", d, err)
	}
	return d
}

// PrefixFS shows a real local directory under a fixed URI prefix, so golden
// frames do not depend on where t.TempDir() happens to be. Every call goes
// to the real local filesystem.
type PrefixFS struct {
	storage.FS
	Prefix, Root string
}

// In is the real path of a URI under the prefix.
func (p PrefixFS) In(uri string) string {
	if strings.HasPrefix(uri, p.Prefix) {
		return p.Root + strings.TrimPrefix(uri, p.Prefix)
	}
	return uri
}

func (p PrefixFS) out(fi storage.FileInfo) storage.FileInfo {
	if strings.HasPrefix(fi.URI, p.Root) {
		fi.URI = p.Prefix + strings.TrimPrefix(fi.URI, p.Root)
	}
	return fi
}

// err shows errors with the prefixed URI, as a real backend would.
func (p PrefixFS) err(err error) error {
	var se *storage.Error
	if errors.As(err, &se) {
		c := *se
		c.URI = strings.Replace(c.URI, p.Root, p.Prefix, 1)
		return &c
	}
	return err
}

func (p PrefixFS) Stat(ctx context.Context, uri string) (storage.FileInfo, error) {
	fi, err := p.FS.Stat(ctx, p.In(uri))
	return p.out(fi), p.err(err)
}

type prefixLister struct {
	storage.Lister
	p PrefixFS
}

func (l prefixLister) Next(ctx context.Context) ([]storage.FileInfo, error) {
	page, err := l.Lister.Next(ctx)
	for i := range page {
		page[i] = l.p.out(page[i])
	}
	return page, err
}

func (p PrefixFS) List(ctx context.Context, uri string) (storage.Lister, error) {
	l, err := p.FS.List(ctx, p.In(uri))
	if err != nil {
		return nil, p.err(err)
	}
	return prefixLister{l, p}, nil
}

func (p PrefixFS) Open(ctx context.Context, uri string) (storage.File, error) {
	f, err := p.FS.Open(ctx, p.In(uri))
	return f, p.err(err)
}

func (p PrefixFS) Lstat(ctx context.Context, uri string) (storage.FileInfo, error) {
	fi, err := p.FS.Lstat(ctx, p.In(uri))
	return p.out(fi), p.err(err)
}

func (p PrefixFS) Create(ctx context.Context, uri string, opts storage.CreateOptions) (storage.Writer, error) {
	w, err := p.FS.Create(ctx, p.In(uri), opts)
	return w, p.err(err)
}

func (p PrefixFS) MkdirAll(ctx context.Context, uri string) error {
	return p.err(p.FS.MkdirAll(ctx, p.In(uri)))
}

func (p PrefixFS) Rename(ctx context.Context, from, to string) error {
	return p.err(p.FS.Rename(ctx, p.In(from), p.In(to)))
}

func (p PrefixFS) Remove(ctx context.Context, uri string) error {
	return p.err(p.FS.Remove(ctx, p.In(uri)))
}

func (p PrefixFS) Walk(ctx context.Context, uri string, fn storage.WalkFunc) error {
	return p.FS.Walk(ctx, p.In(uri), func(fi storage.FileInfo) error { return fn(p.out(fi)) })
}

// DemoFS builds the demo tree in a temp dir and serves it as /demo.
func DemoFS(t testing.TB) storage.FS {
	dir := t.TempDir()
	if err := demo.Build(dir, Fixtures(t), Now); err != nil {
		t.Fatal(err)
	}
	return PrefixFS{FS: storage.NewLocal(), Prefix: "/demo", Root: dir}
}

type Opts struct {
	W, H     int
	Readonly bool
	FS       storage.FS
	Theme    string
	Cluster  cluster.Cluster
	Target   string
	SpecDirs []string
	Specs    func(string) (inspector.Target, error)
	Targets  *shell.Targets
}

// Open opens screen with args and runs its loading to completion.
func Open(t testing.TB, o Opts, screen string, args ...string) *shell.App {
	t.Helper()
	if screenlist.Declared == nil {
		t.Fatal(`no screens declared: import _ "github.com/ckpt-dev/ckpt/tui" in the test`)
	}
	env := map[string]string{"CKPT_CONFIG": "", "HOME": t.TempDir()}
	ctx, choice, err := shell.NewContext(shell.Setup{Screens: screenlist.Declared, Readonly: o.Readonly, FS: o.FS, Theme: o.Theme,
		Getenv: func(k string) string { return env[k] }, Cluster: o.Cluster, TargetName: o.Target, SpecDirs: o.SpecDirs, SpecTarget: o.Specs, Targets: o.Targets})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Now = func() time.Time { return Now }
	ctx.ManualPoll = true // tests poll by hand (pollNow)
	first, err := screenlist.Declared.Open(ctx, screen, args)
	if err != nil {
		t.Fatal(err)
	}
	a := shell.NewApp(ctx, first, choice)
	a.StopClock()
	a.Update(tea.WindowSizeMsg{Width: o.W, Height: o.H})
	Drain(t, a, a.Init())
	return a
}

// Drain runs commands and feeds their messages back until nothing is left
// (ticks are off in tests, so this terminates).
func Drain(t testing.TB, a *shell.App, cmd tea.Cmd) {
	t.Helper()
	queue := []tea.Cmd{cmd}
	for steps := 0; len(queue) > 0; steps++ {
		if steps > 100000 {
			t.Fatal("drain: commands never settle")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch m := c().(type) {
		case nil, tea.QuitMsg:
		case tea.BatchMsg:
			queue = append(queue, m...)
		default:
			_, next := a.Update(m)
			queue = append(queue, next)
		}
	}
}

// Press sends keys ("j", "enter", "ctrl+c", or text to type) and settles.
func Press(t testing.TB, a *shell.App, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, cmd := a.Update(Key(k))
		Drain(t, a, cmd)
	}
}

func Key(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+r":
		return tea.KeyPressMsg{Code: 'r', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("Key: " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// Type types s one rune at a time.
func Type(t testing.TB, a *shell.App, s string) {
	for _, r := range s {
		Press(t, a, string(r))
	}
}

// Golden compares the frame (colours stripped: fixed, readable) with
// testdata/<name>.golden, checking it is exactly w×h cells.
func Golden(t *testing.T, a *shell.App, name string) {
	t.Helper()
	frame := a.Render()
	plain := ansi.Strip(frame)
	lines := strings.Split(plain, "\n")
	if len(lines) != a.Context().Height {
		t.Errorf("%s: frame has %d lines, want %d", name, len(lines), a.Context().Height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != a.Context().Width {
			t.Errorf("%s: line %d is %d cells wide, want %d: %q", name, i, w, a.Context().Width, l)
		}
	}
	CompareGolden(t, name+".golden", plain)
}

func CompareGolden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("testdata", file)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./tui -run %s -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", file, t.Name(), got, want)
	}
}

func SizeMsg(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

// Sizes are the terminal sizes every golden frame is drawn at.
var Sizes = []struct{ W, H int }{{80, 24}, {160, 48}}

// FrameText is the frame without colours.
func FrameText(a *shell.App) string { return ansi.Strip(a.Render()) }

// Keys presses keys; a multi-character entry that is not a key name is
// typed.
func Keys(t testing.TB, a *shell.App, ks ...string) {
	t.Helper()
	for _, k := range ks {
		if len([]rune(k)) > 1 && strings.Contains(k, " ") {
			Type(t, a, k)
			continue
		}
		Press(t, a, k)
	}
}
