package themes

import (
	"testing"

	"github.com/charmbracelet/colorprofile"
)

func TestProfile(t *testing.T) {
	tests := []struct {
		env  []string
		want colorprofile.Profile
	}{
		{[]string{"TERM=xterm"}, colorprofile.ANSI},
		{[]string{"TERM=screen"}, colorprofile.ANSI},
		{[]string{"TERM=screen", "TMUX=/tmp/tmux-0/default,1,0"}, colorprofile.ANSI},
		{[]string{"TERM=tmux"}, colorprofile.ANSI},
		{[]string{"TERM=screen", "COLORTERM=truecolor"}, colorprofile.ANSI},
		{[]string{"TERM=xterm-256color"}, colorprofile.ANSI256},
		{[]string{"TERM=screen-256color"}, colorprofile.ANSI256},
		{[]string{"TERM=tmux-256color"}, colorprofile.ANSI256},
		{[]string{"TERM=xterm-256color", "COLORTERM=truecolor"}, colorprofile.TrueColor},
		{[]string{"TERM=xterm-kitty"}, colorprofile.TrueColor},
		{[]string{"TERM=xterm", "NO_COLOR=1"}, colorprofile.ASCII},
		{[]string{"TERM=dumb"}, colorprofile.NoTTY},
	}
	for _, tt := range tests {
		if got := Profile(tt.env); got != tt.want {
			t.Errorf("Profile(%q) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

func TestPickUnknownUnderNoColor(t *testing.T) {
	if _, err := Pick(Choice{Name: "nosuch", NoColor: true}); err == nil {
		t.Error("an unknown theme name is accepted under NO_COLOR")
	}
	if th, err := Pick(Choice{Name: "dark", NoColor: true}); err != nil || th.Name != Mono().Name {
		t.Errorf("dark under NO_COLOR = %v, %v; want mono", th, err)
	}
}
