package cli

import (
	"bytes"
	"strings"
	"testing"
)

// A planned command without an implementation answers "not implemented yet"
// with exit code 2. Registered commands are never run here (serve would
// block), only the placeholders.
func TestPlannedCommandsExitTwo(t *testing.T) {
	for _, p := range plannedCommands {
		if hasRegistered(p.use) {
			continue
		}
		var out, errb bytes.Buffer
		if code := run([]string{p.use}, &out, &errb); code != ExitUsage {
			t.Errorf("ckpt %s: exit %d, want %d (stderr %q)", p.use, code, ExitUsage, errb.String())
		}
	}
	cmd := notImplemented("later", "A command for later")
	err := cmd.RunE(cmd, nil)
	var ee *exitError
	if !asExit(err, &ee) || ee.code != ExitUsage || !strings.Contains(err.Error(), "not implemented yet") {
		t.Fatalf("placeholder returned %v, want exit %d 'not implemented yet'", err, ExitUsage)
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

func asExit(err error, target **exitError) bool {
	e, ok := err.(*exitError)
	if ok {
		*target = e
	}
	return ok
}
