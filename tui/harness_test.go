package tui

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
	"github.com/ckpt-dev/ckpt/themes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// testNow is the fixed clock of every golden test.
var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// fixturesDir is ../shared/fixtures/flink-metadata relative to the repo.
func fixturesDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "shared", "fixtures", "flink-metadata")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("Flink fixtures not found at %s: %v", d, err)
	}
	return d
}

// prefixFS shows a real local directory under a fixed URI prefix, so golden
// frames do not depend on where t.TempDir() happens to be. Every call goes
// to the real local filesystem.
type prefixFS struct {
	storage.FS
	prefix, root string
}

func (p prefixFS) in(uri string) string {
	if strings.HasPrefix(uri, p.prefix) {
		return p.root + strings.TrimPrefix(uri, p.prefix)
	}
	return uri
}

func (p prefixFS) out(fi storage.FileInfo) storage.FileInfo {
	if strings.HasPrefix(fi.URI, p.root) {
		fi.URI = p.prefix + strings.TrimPrefix(fi.URI, p.root)
	}
	return fi
}

// err shows errors with the prefixed URI, as a real backend would.
func (p prefixFS) err(err error) error {
	var se *storage.Error
	if errors.As(err, &se) {
		c := *se
		c.URI = strings.Replace(c.URI, p.root, p.prefix, 1)
		return &c
	}
	return err
}

func (p prefixFS) Stat(ctx context.Context, uri string) (storage.FileInfo, error) {
	fi, err := p.FS.Stat(ctx, p.in(uri))
	return p.out(fi), p.err(err)
}

type prefixLister struct {
	storage.Lister
	p prefixFS
}

func (l prefixLister) Next(ctx context.Context) ([]storage.FileInfo, error) {
	page, err := l.Lister.Next(ctx)
	for i := range page {
		page[i] = l.p.out(page[i])
	}
	return page, err
}

func (p prefixFS) List(ctx context.Context, uri string) (storage.Lister, error) {
	l, err := p.FS.List(ctx, p.in(uri))
	if err != nil {
		return nil, p.err(err)
	}
	return prefixLister{l, p}, nil
}

func (p prefixFS) Open(ctx context.Context, uri string) (storage.File, error) {
	return p.FS.Open(ctx, p.in(uri))
}

func (p prefixFS) Lstat(ctx context.Context, uri string) (storage.FileInfo, error) {
	fi, err := p.FS.Lstat(ctx, p.in(uri))
	return p.out(fi), p.err(err)
}

func (p prefixFS) Rename(ctx context.Context, from, to string) error {
	return p.err(p.FS.Rename(ctx, p.in(from), p.in(to)))
}

func (p prefixFS) Remove(ctx context.Context, uri string) error {
	return p.err(p.FS.Remove(ctx, p.in(uri)))
}

func (p prefixFS) Walk(ctx context.Context, uri string, fn storage.WalkFunc) error {
	return p.FS.Walk(ctx, p.in(uri), func(fi storage.FileInfo) error { return fn(p.out(fi)) })
}

// demoFS builds the demo tree in a temp dir and serves it as /demo.
func demoFS(t testing.TB) storage.FS {
	dir := t.TempDir()
	if err := BuildDemoTree(dir, fixturesDir(t), testNow); err != nil {
		t.Fatal(err)
	}
	return prefixFS{FS: storage.NewLocal(), prefix: "/demo", root: dir}
}

type testOpts struct {
	w, h     int
	readonly bool
	fs       storage.FS
	theme    string
	cluster  cluster.Cluster
	target   string
	specDirs []string
	specs    func(string) (inspector.Target, error)
}

// newTestApp opens screen with args and runs its loading to completion.
func newTestApp(t testing.TB, o testOpts, screen string, args ...string) *shell.App {
	t.Helper()
	env := map[string]string{"CKPT_CONFIG": "", "HOME": t.TempDir()}
	ctx, choice, err := newContext(Options{Readonly: o.readonly, FS: o.fs, Theme: o.theme, Getenv: func(k string) string { return env[k] },
		Cluster: o.cluster, TargetName: o.target, SpecDirs: o.specDirs, SpecTarget: o.specs})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Now = func() time.Time { return testNow }
	ctx.ManualPoll = true // tests poll by hand (pollNow)
	first, err := declaredScreens.Open(ctx, screen, args)
	if err != nil {
		t.Fatal(err)
	}
	a := shell.NewApp(ctx, first, choice)
	a.StopClock()
	a.Update(tea.WindowSizeMsg{Width: o.w, Height: o.h})
	drain(t, a, a.Init())
	return a
}

// drain runs commands and feeds their messages back until nothing is left
// (ticks are off in tests, so this terminates).
func drain(t testing.TB, a *shell.App, cmd tea.Cmd) {
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

// press sends keys ("j", "enter", "ctrl+c", or text to type) and settles.
func press(t testing.TB, a *shell.App, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, cmd := a.Update(keyMsg(k))
		drain(t, a, cmd)
	}
}

func keyMsg(k string) tea.KeyPressMsg {
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
		panic("keyMsg: " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// typeText types s one rune at a time.
func typeText(t testing.TB, a *shell.App, s string) {
	for _, r := range s {
		press(t, a, string(r))
	}
}

// golden compares the frame (colours stripped: fixed, readable) with
// testdata/<name>.golden, checking it is exactly w×h cells.
func golden(t *testing.T, a *shell.App, name string) {
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
	compareGolden(t, name+".golden", plain)
}

func compareGolden(t *testing.T, file, got string) {
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

var _ = themes.Names

type time0 = time.Time

func sizeMsg(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
