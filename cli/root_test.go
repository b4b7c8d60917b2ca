package cli

import (
	"bytes"
	"strings"
	"testing"
)

// Every command the guide and README promise is a registered command
// with an implementation: help never lists a placeholder.
func TestPromisedCommandsAreRegistered(t *testing.T) {
	for _, name := range []string{"browse", "inspect", "diff", "ls", "du", "run", "serve", "submit",
		"savepoint", "checkpoint", "cancel", "stop", "list"} {
		if !hasRegistered(name) {
			t.Errorf("ckpt %s is not registered", name)
		}
	}
	for _, c := range NewRoot().Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.RunE == nil && c.Run == nil && !c.HasSubCommands() {
			t.Errorf("ckpt %s has no implementation", c.Name())
		}
		if strings.Contains(c.Short, "not implemented") {
			t.Errorf("ckpt %s is listed as %q", c.Name(), c.Short)
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

func asExit(err error, target **exitError) bool {
	e, ok := err.(*exitError)
	if ok {
		*target = e
	}
	return ok
}
