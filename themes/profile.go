package themes

import (
	"strings"

	"github.com/charmbracelet/colorprofile"
)

// Profile is how many colours the terminal declares it draws, read from
// the environment only (TERM, COLORTERM, NO_COLOR, CLICOLOR…).
//
// It differs from the renderer's own detection in one place, on purpose:
// inside tmux the renderer asks tmux itself and gets at least 256 colours
// even when the terminal tmux declares is TERM=screen or TERM=tmux (8 or 16
// colours) — the classic tmux/screen setup over SSH — and draws colours
// the terminal shows as something else. ckpt believes TERM: a screen or
// tmux terminal without "256color" in its name gets 16-colour output, as
// an xterm without it does.
func Profile(environ []string) colorprofile.Profile {
	p := colorprofile.Env(environ)
	term := ""
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "TERM="); ok {
			term = v
		}
	}
	if (strings.HasPrefix(term, "screen") || strings.HasPrefix(term, "tmux")) &&
		!strings.HasSuffix(term, "256color") && p > colorprofile.ANSI {
		p = colorprofile.ANSI
	}
	return p
}
