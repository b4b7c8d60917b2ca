package shell

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// TestLongErrorWraps: an error longer than the status line is shown in
// full over several rows (the body gives them up), never cut.
func TestLongErrorWraps(t *testing.T) {
	a := testApp(t, 80, 24, false, manyKeys(2))
	long := "submitting job 3f2a: the snapshot /data/checkpoints/3f2a9c1d/chk-4711 references 82 files that are missing, so it cannot be restored; pick a newer retained checkpoint or a savepoint THE-END"
	a.ctx.Tasks.LastErr = errors.New(long)
	frame := ansi.Strip(a.Render())
	lines := strings.Split(frame, "\n")
	if len(lines) != 24 {
		t.Fatalf("%d lines, want 24", len(lines))
	}
	for _, l := range lines {
		if text.Width(l) > 80 {
			t.Fatalf("line wider than 80: %q", l)
		}
	}
	flat := strings.Join(strings.Fields(frame), " ")
	if !strings.Contains(flat, "THE-END (esc clears)") || !strings.Contains(flat, "82 files that are missing") {
		t.Errorf("the error is not shown in full:\n%s", frame)
	}
}

// TestLongToastWraps: a toast longer than the width wraps (up to three
// rows) instead of being cut.
func TestLongToastWraps(t *testing.T) {
	a := testApp(t, 80, 24, false, manyKeys(2))
	a.Update(ToastMsg{Text: "savepoint of job 3f2a9c1d written to hdfs://namenode:8020/flink/savepoints/savepoint-3f2a9c-0123456789ab and the job keeps running THE-END"})
	frame := ansi.Strip(a.Render())
	flat := strings.Join(strings.Fields(frame), " ")
	if !strings.Contains(flat, "THE-END") {
		t.Errorf("toast cut:\n%s", frame)
	}
}

// TestCommandReplacesStack: a ":" command replaces every screen above the
// first, so esc returns home at once.
func TestCommandReplacesStack(t *testing.T) {
	a := testApp(t, 80, 24, false, manyKeys(2))
	for i := 0; i < 5; i++ {
		press(a, ":")
		for _, r := range "fake x" {
			press(a, string(r))
		}
		press(a, "enter")
		if a.Depth() != 2 {
			t.Fatalf("after %d commands depth %d, want 2", i+1, a.Depth())
		}
	}
	press(a, "esc")
	if a.Depth() != 1 {
		t.Fatalf("esc after a command: depth %d, want 1", a.Depth())
	}
}

type countingScreen struct{ fakeScreen }

func (*countingScreen) SetFilter(string)  {}
func (*countingScreen) Count() (int, int) { return 3, 40 }

// TestFilterCount: the status bar says how many rows the filter shows.
func TestFilterCount(t *testing.T) {
	a := testApp(t, 80, 24, false, manyKeys(2))
	a.stack[0] = &countingScreen{}
	press(a, "/", "c", "k", "enter")
	if st := ansi.Strip(a.Render()); !strings.Contains(st, "filter: ck (3 of 40)") {
		t.Errorf("status lacks the filtered count:\n%s", st)
	}
}

// TestErrorsEndWithWhatTheyReport: a failed task's error goes when the
// same work succeeds (the NameNode is back), not when other work does; a
// mistyped command's error goes with the next command.
func TestErrorsEndWithWhatTheyReport(t *testing.T) {
	a := testApp(t, 80, 24, false, manyKeys(2))
	a.themeChoice.NoColor = false // NO_COLOR takes any theme name
	tasks := a.ctx.Tasks
	id, _ := tasks.Start("listing hdfs://nn/flink", 0)
	tasks.Relabel(id, "listing hdfs://nn/flink: 10 entries")
	tasks.Done(id, errors.New("connection refused"))
	other, _ := tasks.Start("polling jm:8081", 0)
	tasks.Done(other, nil)
	if tasks.LastErr == nil {
		t.Fatal("other work's success cleared the listing's error")
	}
	again, _ := tasks.Start("listing hdfs://nn/flink", 0)
	tasks.Done(again, nil)
	if tasks.LastErr != nil {
		t.Fatalf("the listing succeeded again, error stays: %v", tasks.LastErr)
	}

	press(a, ":")
	for _, r := range "theme nosuch" {
		press(a, string(r))
	}
	press(a, "enter")
	if tasks.LastErr == nil {
		t.Fatal(":theme nosuch gave no error")
	}
	press(a, ":")
	for _, r := range "theme mono" {
		press(a, string(r))
	}
	press(a, "enter")
	if tasks.LastErr != nil {
		t.Fatalf("a good :theme leaves the last one's error: %v", tasks.LastErr)
	}

	// A standing task error survives a command.
	id, _ = tasks.Start("listing /x", 0)
	tasks.Done(id, errors.New("permission denied"))
	press(a, ":")
	for _, r := range "theme mono" {
		press(a, string(r))
	}
	press(a, "enter")
	if tasks.LastErr == nil {
		t.Fatal("a command cleared a task's standing error")
	}
}

// TestPathCompletion: ":browse" and ":inspect" complete the path being
// typed from its directory's listing; tab accepts.
func TestPathCompletion(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"chk-17/", "chk-18/", "savepoints/", "notes.txt"} {
		if strings.HasSuffix(p, "/") {
			if err := os.Mkdir(filepath.Join(dir, p), 0o755); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(filepath.Join(dir, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := testApp(t, 80, 24, false, manyKeys(2))
	a.ctx.Screens[0].Paths = true // :fake PATH
	a.ctx.FS = storage.Default()
	a.ctx.Timeout = 5 * time.Second
	typeRun := func(s string) {
		for _, r := range s {
			_, cmd := a.Update(keyMsg(string(r)))
			run(a, cmd)
		}
	}
	_, cmd := a.Update(keyMsg(":"))
	run(a, cmd)
	typeRun("fake " + dir + "/sa")
	_, cmd = a.Update(tea.KeyPressMsg{Code: tea.KeyTab})
	run(a, cmd)
	if got, want := a.input.Value(), "fake "+dir+"/savepoints/"; got != want {
		t.Errorf("after tab: %q, want %q (suggestions %v)", got, want, a.input.AvailableSuggestions())
	}
	// The line of a command without paths is not completed.
	a.input.SetValue("")
	a.complDir = "\x00"
	typeRun("theme " + dir + "/sa")
	if n := len(a.input.MatchedSuggestions()); n != 0 {
		t.Errorf(":theme got path suggestions: %v", a.input.MatchedSuggestions())
	}
}
