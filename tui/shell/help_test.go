package shell

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/themes"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// fakeScreen is a screen with many keys, some with long descriptions.
type fakeScreen struct{ keys Keymap }

func (s *fakeScreen) Init() tea.Cmd                    { return nil }
func (s *fakeScreen) Update(tea.Msg) (Screen, tea.Cmd) { return s, nil }
func (s *fakeScreen) View() string                     { return "body" }
func (s *fakeScreen) SetSize(int, int)                 {}
func (s *fakeScreen) Title() string                    { return "fake" }
func (s *fakeScreen) Location() string                 { return "/tmp/fake" }
func (s *fakeScreen) Keys() Keymap                     { return s.keys }

func manyKeys(n int) Keymap {
	var k Keymap
	for i := 0; i < n; i++ {
		desc := fmt.Sprintf("action number %d", i)
		if i%4 == 0 {
			desc += " with a long explanation of what it does to the job and its retained checkpoints"
		}
		desc += fmt.Sprintf(" end%d", i) // the last word: shown only if nothing was cut
		a := NewAction(fmt.Sprintf("fake.a%d", i), fmt.Sprintf("k%d", i), desc, fmt.Sprintf("f%d", i))
		if i%5 == 0 {
			a.Danger()
		}
		k = append(k, a)
	}
	return k
}

func testApp(t *testing.T, w, h int, readonly bool, keys Keymap) *App {
	t.Helper()
	ctx := &Context{Width: w, Height: h, Theme: themes.Mono(), Global: DefaultGlobalKeys(), Readonly: readonly,
		Now: func() time.Time { return time.Unix(0, 0) }, Tasks: NewTasks(time.Now)}
	keys.Apply(nil, readonly)
	ctx.Global.Keymap().Apply(nil, readonly)
	ctx.Screens = Registry{
		{Name: "fake", Usage: "fake PATH", Help: "a fake screen"},
		{Name: "mutate", Usage: "mutate JOB", Help: "changes a job", Mutating: true},
	}
	for i := range ctx.Screens {
		ctx.Screens[i].Open = func(*Context, Request) (Screen, error) { return &fakeScreen{keys: keys}, nil }
	}
	a := NewApp(ctx, &fakeScreen{keys: keys}, themes.Choice{NoColor: true})
	a.StopClock()
	return a
}

func press(a *App, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		default:
			r := []rune(k)
			msg = tea.KeyPressMsg{Code: r[0], Text: k}
		}
		a.Update(msg)
	}
}

// TestHelpFitsAndScrolls: at 80×24 and 160×48, with a keymap far taller
// than the terminal, every frame of the help fits the terminal, and
// scrolling through it shows every key and description and every command.
func TestHelpFitsAndScrolls(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}, {60, 16}} {
		for _, readonly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d-readonly=%v", size[0], size[1], readonly), func(t *testing.T) {
				keys := manyKeys(40)
				a := testApp(t, size[0], size[1], readonly, keys)
				press(a, "?")
				seen := ""
				for i := 0; i < 200; i++ {
					frame := a.Render()
					lines := strings.Split(frame, "\n")
					if len(lines) != size[1] {
						t.Fatalf("frame has %d lines, want %d", len(lines), size[1])
					}
					for _, l := range lines {
						if w := text.Width(l); w > size[0] {
							t.Fatalf("line wider than %d: %d %q", size[0], w, l)
						}
					}
					seen += ansi.Strip(frame) + "\n"
					before := a.helpOff
					press(a, "j")
					if a.helpOff == before {
						break
					}
				}
				flat := strings.Join(strings.Fields(seen), " ")
				for _, k := range keys {
					h := k.Binding.Help()
					if readonly && k.Dangerous {
						if strings.Contains(flat, " "+h.Key+" ") {
							t.Errorf("read-only help shows the removed %q", h.Key)
						}
						continue
					}
					last := strings.Fields(strings.TrimSuffix(h.Desc, " (!)"))
					if !strings.Contains(flat, h.Key+" ") || !strings.Contains(flat, last[len(last)-1]+" ") {
						t.Errorf("help never shows %q %q in full", h.Key, h.Desc)
					}
				}
				if !strings.Contains(flat, ":fake PATH") {
					t.Errorf("help never lists the :fake command")
				}
				if got := strings.Contains(flat, ":mutate JOB"); got == readonly {
					t.Errorf("mutating command listed = %v with readonly = %v", got, readonly)
				}
				if !a.showHelp {
					t.Fatal("scrolling closed the help")
				}
				press(a, "x")
				if a.showHelp {
					t.Fatal("another key did not close the help")
				}
			})
		}
	}
}

// TestReadonlyRemoves: in read-only mode a mutating screen cannot be
// opened (":mutate" says read-only, and is not offered), and a key whose
// action was removed says read-only instead of doing nothing.
func TestReadonlyRemoves(t *testing.T) {
	for _, readonly := range []bool{false, true} {
		a := testApp(t, 80, 24, readonly, manyKeys(6))
		press(a, ":")
		for _, r := range "mutate j1" {
			press(a, string(r))
		}
		press(a, "enter")
		gotErr := a.ctx.Tasks.LastErr != nil && strings.Contains(a.ctx.Tasks.LastErr.Error(), "read-only")
		if gotErr != readonly {
			t.Errorf("readonly=%v: :mutate error = %v", readonly, a.ctx.Tasks.LastErr)
		}
		if wantDepth := map[bool]int{false: 2, true: 1}[readonly]; a.Depth() != wantDepth {
			t.Errorf("readonly=%v: depth %d after :mutate, want %d", readonly, a.Depth(), wantDepth)
		}
		offered := false
		for _, s := range a.commandSuggestions() {
			offered = offered || strings.HasPrefix(s, "mutate")
		}
		if offered == readonly {
			t.Errorf("readonly=%v: :mutate offered = %v", readonly, offered)
		}

		a = testApp(t, 80, 24, readonly, manyKeys(6))
		cmd := a.key(tea.KeyPressMsg{Code: 'f', Text: "f0"})
		_ = cmd
		msg := tea.Msg(nil)
		if cmd != nil {
			msg = cmd()
		}
		toast, ok := msg.(ToastMsg)
		if readonly != (ok && toast.Error && strings.Contains(toast.Text, "read-only: action number 0")) {
			t.Errorf("readonly=%v: pressing a removed key gave %#v", readonly, msg)
		}
	}
}
