package shell

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// Quitting with jobs running in this process. The embedded engine runs
// inside ckpt: when the UI exits its jobs end (cancelled; their retained
// checkpoints then follow each job's retention). So q and ctrl+c first ask,
// naming the running jobs, and offer what an operator wants: stop each
// with a savepoint (resumable later with `ckpt run -s`), cancel them, or
// stay. Keeping them running after the UI exits is not offered: they live
// in this process (run them under `ckpt serve` and attach with `ckpt -m`
// for that), and the dialog says so.

// quitState is where a quit stands.
type quitState int

const (
	quitNone     quitState = iota
	quitChecking           // listing the jobs that would end
	quitAsking             // the dialog is open
	quitStopping           // stopping the jobs with savepoints
)

type quitJobsMsg struct {
	jobs []cluster.JobSummary
	err  error
}

type quitStoppedMsg struct{ err error }

// askQuit starts a quit: at once unless jobs of this process would end.
func (a *App) askQuit() tea.Cmd {
	if a.ctx.Home == nil {
		a.quitting = true
		return nil
	}
	if a.quit != quitNone {
		return nil
	}
	a.quit = quitChecking
	c, timeout := a.ctx.Home, a.ctx.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		running, err := cluster.Running(ctx, c)
		return quitJobsMsg{jobs: running, err: err}
	}
}

// quitUpdate handles the quit's messages; ok says msg was one of them.
func (a *App) quitUpdate(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case quitJobsMsg:
		if a.quit != quitChecking {
			return nil, true
		}
		if msg.err == nil && len(msg.jobs) == 0 {
			a.quitting = true
			return nil, true
		}
		// A failed listing asks too: jobs may be running.
		a.quit, a.quitJobs, a.quitErr = quitAsking, msg.jobs, msg.err
		return nil, true
	case quitStoppedMsg:
		if msg.err != nil {
			// A stop that failed leaves its job running (as in Flink):
			// say so and stay, so nothing ends unsaved.
			a.quit = quitNone
			a.ctx.Tasks.LastErr = fmt.Errorf("not quitting: %w", msg.err)
			return nil, true
		}
		a.quitting = true
		return nil, true
	}
	return nil, false
}

// quitKey handles a key while the dialog is open.
func (a *App) quitKey(msg tea.KeyPressMsg) tea.Cmd {
	if a.quit == quitStopping {
		if key.Matches(msg, a.ctx.Global.ForceQuit.Binding) {
			a.quitting = true // a second ctrl+c: now
		}
		return nil
	}
	switch {
	case msg.String() == "s" && !a.ctx.Readonly:
		return a.stopAll()
	case msg.String() == "c", key.Matches(msg, a.ctx.Global.ForceQuit.Binding):
		// Exiting cancels them (cli closes the engine); ctrl+c again is
		// "quit now".
		a.quitting = true
	case msg.String() == "esc", msg.String() == "n":
		a.quit = quitNone
	}
	return nil
}

// stopAll stops every running job with a savepoint into the cluster's
// default savepoint directory, then quits.
func (a *App) stopAll() tea.Cmd {
	a.quit = quitStopping
	c := a.ctx.Home
	id, ctx := a.ctx.Tasks.Start(fmt.Sprintf("stopping %s with a savepoint", text.Plural(len(a.quitJobs), "job")), 10*time.Minute)
	return func() tea.Msg {
		outcomes, err := cluster.StopAll(ctx, c, "")
		var errs []error
		if err != nil {
			errs = append(errs, err)
		}
		for _, o := range outcomes {
			if o.Err != nil {
				errs = append(errs, fmt.Errorf("stopping %s (%s): %w", o.Name, o.JobID, o.Err))
			}
		}
		return tea.BatchMsg{
			func() tea.Msg { return TaskDoneMsg{Task: id} },
			func() tea.Msg { return quitStoppedMsg{err: errors.Join(errs...)} },
		}
	}
}

// quitView is the dialog.
func (a *App) quitView(w int) string {
	th := a.ctx.Theme
	inner := max(min(w-4, 76), 20)
	var lines []string
	n := len(a.quitJobs)
	if a.quitErr != nil {
		lines = append(lines, th.Warn.Render(text.Fit("could not list the jobs: "+text.Sanitize(a.quitErr.Error()), inner)))
	}
	head := text.Plural(n, "job runs in this process; it ends when ckpt exits:", "jobs run in this process; they end when ckpt exits:")
	if n == 0 {
		head = "jobs may be running in this process; they end when ckpt exits."
	}
	lines = append(lines, th.Title.Render(text.Fit(head, inner)))
	for i, j := range a.quitJobs {
		if i == 8 {
			lines = append(lines, th.Muted.Render(fmt.Sprintf("  … and %d more", n-i)))
			break
		}
		lines = append(lines, text.Fit(fmt.Sprintf("  %s  %s  %s", j.ID[:min(8, len(j.ID))], text.Sanitize(j.Name), j.Status), inner))
	}
	lines = append(lines, "")
	if a.quit == quitStopping {
		lines = append(lines, th.Muted.Render("stopping with savepoints… (ctrl+c quits now)"))
	} else {
		if !a.ctx.Readonly {
			lines = append(lines, th.HelpKey.Render("s")+"    stop each with a savepoint, then quit (resume with ckpt run -s)")
		}
		lines = append(lines, th.HelpKey.Render("c")+"    cancel them and quit (retained checkpoints follow retention)")
		lines = append(lines, th.HelpKey.Render("esc")+"  stay")
		for _, l := range text.Wrap("To keep jobs running without the UI, run them under `ckpt serve` and attach with `ckpt -m`: jobs of the embedded engine live in this process.", inner, 4) {
			lines = append(lines, th.Muted.Render(l))
		}
	}
	for i, l := range lines {
		lines[i] = text.Fit(l, inner)
	}
	return th.Overlay.Render(strings.Join(lines, "\n"))
}
