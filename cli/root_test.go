package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestPlannedCommandsExitTwo(t *testing.T) {
	for _, name := range []string{"serve", "submit"} {
		var out, errb bytes.Buffer
		code := run([]string{name}, &out, &errb)
		if !hasRegistered(name) && code != ExitUsage {
			t.Errorf("ckpt %s: exit %d, want %d (stderr %q)", name, code, ExitUsage, errb.String())
		}
	}
}

func TestUnknownFlagIsUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--no-such-flag"}, &out, &errb); code != ExitUsage {
		t.Fatalf("exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(errb.String(), "no-such-flag") {
		t.Fatalf("stderr does not name the flag: %q", errb.String())
	}
}

func hasRegistered(name string) bool {
	for _, c := range commands {
		if c().Name() == name {
			return true
		}
	}
	return false
}
