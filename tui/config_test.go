package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

func TestConfigPath(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"CKPT_CONFIG": "/etc/ckpt.yaml", "XDG_CONFIG_HOME": "/x"}, "/etc/ckpt.yaml"},
		{map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/ckpt/config.yaml"},
		{map[string]string{"XDG_CONFIG_HOME": "relative", "HOME": "/h"}, "/h/.config/ckpt/config.yaml"},
		{map[string]string{"HOME": "/h"}, "/h/.config/ckpt/config.yaml"},
		{map[string]string{}, ""},
	}
	for _, tc := range tests {
		if got := shell.ConfigPath(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("shell.ConfigPath(%v) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

func writeConfig(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigAppliesThemeKeysReadonlyAndStartPath(t *testing.T) {
	p := writeConfig(t, `
theme: high-contrast
readonly: true
paths:
  start: /demo/savepoints
keys:
  quit: [x]
  browse.du: [S]
`)
	env := map[string]string{"CKPT_CONFIG": p}
	ctx, _, err := newContext(Options{FS: tuitest.DemoFS(t), Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Theme.Name != "high-contrast" || !ctx.Readonly {
		t.Fatalf("theme %s readonly %v", ctx.Theme.Name, ctx.Readonly)
	}
	a, err := newAppFor(Options{FS: ctx.FS, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	a.StopClock()
	ctx = a.Context()
	ctx.Now = func() time.Time { return tuitest.Now }
	a.Update(tuitest.SizeMsg(100, 30))
	tuitest.Drain(t, a, a.Init())
	if got := a.Top().Location(); got != "/demo/savepoints" {
		t.Errorf("start path: %s", got)
	}
	tuitest.Press(t, a, "q")
	if a.Quitting() {
		t.Error("q still quits after quit was rebound to x")
	}
	tuitest.Press(t, a, "S")
	if !strings.Contains(tuitest.FrameText(a), "2.56 KiB") {
		t.Errorf("S (rebound du) did not size the savepoint:\n%s", tuitest.FrameText(a))
	}
	tuitest.Press(t, a, "?")
	h := tuitest.FrameText(a)
	if !strings.Contains(h, "S ") || strings.Contains(h, "delete") || !strings.Contains(h, "READONLY") {
		t.Errorf("help does not reflect the config (S for du, no delete, READONLY):\n%s", h)
	}
	tuitest.Press(t, a, "esc", "x")
	if !a.Quitting() {
		t.Error("x did not quit")
	}
}

func TestConfigErrorsNameFileAndProblem(t *testing.T) {
	tests := []struct {
		body, want string
	}{
		{"theme: [unclosed", "line"},
		{"colour: dark\n", "colour"},
		{"theme: solarized\n", "unknown theme"},
		{"keys:\n  brwose.du: [S]\n", "brwose.du"},
	}
	for _, tc := range tests {
		p := writeConfig(t, tc.body)
		env := map[string]string{"CKPT_CONFIG": p}
		_, err := newAppFor(Options{FS: tuitest.DemoFS(t), Args: []string{"/demo"}, Getenv: func(k string) string { return env[k] }})
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: error %v, want one naming %s and %q", tc.body, err, p, tc.want)
		}
	}
	env := map[string]string{"CKPT_CONFIG": "/no/such/ckpt.yaml"}
	if _, _, err := newContext(Options{Getenv: func(k string) string { return env[k] }}); err == nil {
		t.Error("an explicit CKPT_CONFIG that does not exist must be an error")
	}
	env = map[string]string{"HOME": t.TempDir()}
	if _, _, err := newContext(Options{Getenv: func(k string) string { return env[k] }}); err != nil {
		t.Errorf("no config file at the default place is fine: %v", err)
	}
}

func TestNoColorDrawsWithoutColour(t *testing.T) {
	env := map[string]string{"NO_COLOR": "1", "HOME": t.TempDir()}
	a, err := newAppFor(Options{FS: tuitest.DemoFS(t), Args: []string{"/demo/checkpoints/" + DemoJobID}, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	a.StopClock()
	a.Context().Now = func() time.Time { return tuitest.Now }
	a.Update(tuitest.SizeMsg(100, 30))
	tuitest.Drain(t, a, a.Init())
	raw := a.Render()
	if strings.Contains(raw, "38;") || strings.Contains(raw, "48;") {
		t.Errorf("NO_COLOR frame contains colour sequences: %q", raw)
	}
	if !strings.Contains(raw, "\x1b[7") && !strings.Contains(raw, ";7m") {
		t.Errorf("NO_COLOR frame should still mark the cursor row with reverse video")
	}
	if !strings.Contains(tuitest.FrameText(a), "CHK ✗ partial") {
		t.Errorf("states must be words, not colours:\n%s", tuitest.FrameText(a))
	}
}

// Every action of every screen can be rebound from the config whichever
// screen ckpt starts on: the config is validated against the one
// declaration of screens, not against the screens that happen to be open.
func TestConfigAcceptsEveryScreensActions(t *testing.T) {
	for _, name := range []string{"savepoints.dispose", "savepoints.apply", "operator.open", "checkpoint.open", "browse.leaks", "job.abandon"} {
		p := writeConfig(t, "keys:\n  "+name+": [ctrl+x]\n")
		env := map[string]string{"CKPT_CONFIG": p}
		if _, err := newAppFor(Options{FS: tuitest.DemoFS(t), Screen: "browse", Args: []string{"/demo"}, Getenv: func(k string) string { return env[k] }}); err != nil {
			t.Errorf("keys: {%s: [ctrl+x]} with ckpt browse: %v", name, err)
		}
	}
}
