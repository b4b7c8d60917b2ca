package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/themes"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// keysScreen stands for a declared screen in the help test: its declared
// keymap and the list's, nothing else.
type keysScreen struct {
	name string
	keys shell.Keymap
}

func (s *keysScreen) Init() tea.Cmd                          { return nil }
func (s *keysScreen) Update(tea.Msg) (shell.Screen, tea.Cmd) { return s, nil }
func (s *keysScreen) View() string                           { return "" }
func (s *keysScreen) SetSize(int, int)                       {}
func (s *keysScreen) Title() string                          { return s.name }
func (s *keysScreen) Location() string                       { return "/" }
func (s *keysScreen) Keys() shell.Keymap                     { return s.keys }

// TestHelpOfEveryScreen: the "?" help of every declared screen fits
// 80×24 (and 160×48) in every frame, scrolls to show every key the screen
// binds, and hides the mutating ones in read-only mode. The first frame of
// each is a golden file.
func TestHelpOfEveryScreen(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		for _, readonly := range []bool{false, true} {
			for _, d := range declaredScreens {
				name := fmt.Sprintf("help-%s-%dx%d", d.Name, size[0], size[1])
				if readonly {
					name = fmt.Sprintf("help-%s-readonly-%dx%d", d.Name, size[0], size[1])
				}
				t.Run(name, func(t *testing.T) {
					ctx := &shell.Context{Width: size[0], Height: size[1], Screens: declaredScreens, Theme: themes.Mono(),
						Global: shell.DefaultGlobalKeys(), Readonly: readonly, Now: func() time.Time { return tuitest.Now },
						Tasks: shell.NewTasks(func() time.Time { return tuitest.Now })}
					ctx.Global.Keymap().Apply(nil, readonly)
					var keys shell.Keymap
					if d.Keys != nil {
						keys = d.Keys(ctx)
					}
					keys = append(keys, shell.ListKeymap(list.DefaultKeyMap())...)
					keys.Apply(nil, readonly)
					a := shell.NewApp(ctx, &keysScreen{name: d.Name, keys: keys}, themes.Choice{NoColor: true})
					a.StopClock()
					a.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
					a.Update(tuitest.Key("?"))
					tuitest.Golden(t, a, name)
					seen := ""
					for i := 0; i < 100; i++ {
						frame := ansi.Strip(a.Render())
						for _, l := range strings.Split(frame, "\n") {
							if w := ansi.StringWidth(l); w > size[0] {
								t.Fatalf("a help line is %d cells wide: %q", w, l)
							}
						}
						if i > 0 && strings.Contains(seen, frame) {
							break // the last frame again: scrolled to the end
						}
						seen += frame + "\n"
						a.Update(tuitest.Key("j"))
					}
					flat := " " + strings.Join(strings.Fields(seen), " ") + " "
					for _, act := range keys {
						h := act.Binding.Help()
						words := strings.Fields(strings.TrimSuffix(h.Desc, " (!)"))
						shown := strings.Contains(flat, " "+h.Key+" ") && strings.Contains(flat, words[len(words)-1])
						if readonly && act.Dangerous {
							if strings.Contains(flat, " "+h.Key+" "+words[0]) {
								t.Errorf("read-only help shows the removed %q %q", h.Key, h.Desc)
							}
							continue
						}
						if !shown {
							t.Errorf("help never shows %q %q in full", h.Key, h.Desc)
						}
					}
				})
			}
		}
	}
}
