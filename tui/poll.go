package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/tui/shell"
)

// poller is the polling state every screen that watches a target shares:
// one poll in flight at a time, in a quiet task; a generation, so the
// answer of a poll started before a Refresh (or before a finished action
// changed what the target reports) is dropped; and what the status bar
// shows — the last poll's failure and when the last good answer came.
// Screens embed it.
type poller struct {
	err     error     // the last poll's failure (shown in place; polling goes on)
	polled  time.Time // when the last good answer came
	task    shell.TaskID
	polling bool
	gen     int
	closed  bool
}

// polledMsg carries one poll's answer back to screen sid.
type polledMsg[T any] struct {
	sid, gen int
	task     shell.TaskID
	v        T
	err      error
}

// startPoll asks get, off the UI goroutine and bounded by the target's
// timeout, unless a poll is in flight or the screen closed. desc names
// the task in the status bar when the target is slow.
func startPoll[T any](ctx *shell.Context, p *poller, sid int, desc string, get func(context.Context) (T, error)) tea.Cmd {
	if p.polling || p.closed {
		return nil
	}
	p.polling = true
	id, tctx := ctx.Tasks.StartQuiet(desc, 0)
	p.task = id
	gen, timeout := p.gen, ctx.Timeout
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		v, err := get(cctx)
		return polledMsg[T]{sid: sid, gen: gen, task: id, v: v, err: err}
	}
}

// restart drops the poll in flight (its answer will not count), so the
// next startPoll asks afresh.
func (p *poller) restart(ctx *shell.Context) {
	p.gen++
	p.polling = false
	ctx.Tasks.Cancel(p.task)
}

// stopPolling is for a screen's Close: nothing is asked any more.
func (p *poller) stopPolling(ctx *shell.Context) {
	p.closed = true
	ctx.Tasks.Cancel(p.task)
}

// accept reports whether m is the answer screen sid waits for, finishing
// its task either way, and records its failure or its time.
func accept[T any](ctx *shell.Context, p *poller, sid int, m polledMsg[T]) bool {
	if m.sid != sid {
		return false
	}
	ctx.Tasks.Done(m.task, nil)
	if m.gen != p.gen {
		return false
	}
	p.polling = false
	p.err = m.err
	if m.err == nil {
		p.polled = ctx.Now()
	}
	return true
}
