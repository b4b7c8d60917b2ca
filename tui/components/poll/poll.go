// Package poll is the polling state every screen that watches a target
// shares: one poll in flight at a time, in a quiet task; a generation, so
// the answer of a poll started before a Refresh (or before a finished
// action changed what the target reports) is dropped; and what the status
// bar shows — the last poll's failure and when the last good answer came.
package poll

import (
	"context"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Poller is embedded by the screens that poll.
type Poller struct {
	Err     error     // the last poll's failure (shown in place; polling goes on)
	Polled  time.Time // when the last good answer came
	Gen     int       // answers of older generations are dropped
	task    shell.TaskID
	polling bool
	closed  bool
}

// Msg carries one poll's answer back to screen Sid.
type Msg[T any] struct {
	Sid, Gen int
	task     shell.TaskID
	V        T
	Err      error
}

// TickMsg asks screen Sid for its next poll (of generation Gen).
type TickMsg struct{ Sid, Gen int }

// Start asks get, off the UI goroutine and bounded by the target's
// timeout, unless a poll is in flight or the screen closed. desc names
// the task in the status bar when the target is slow.
func Start[T any](ctx *shell.Context, p *Poller, sid int, desc string, get func(context.Context) (T, error)) tea.Cmd {
	if p.polling || p.closed {
		return nil
	}
	p.polling = true
	id, tctx := ctx.Tasks.StartQuiet(desc, 0)
	p.task = id
	gen, timeout := p.Gen, ctx.Timeout
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		v, err := get(cctx)
		return Msg[T]{Sid: sid, Gen: gen, task: id, V: v, Err: err}
	}
}

// Restart drops the poll in flight (its answer will not count), so the
// next Start asks afresh.
func (p *Poller) Restart(ctx *shell.Context) {
	p.Gen++
	p.polling = false
	ctx.Tasks.Cancel(p.task)
}

// StopPolling is for a screen's Close: nothing is asked any more.
func (p *Poller) StopPolling(ctx *shell.Context) {
	p.closed = true
	ctx.Tasks.Cancel(p.task)
}

// Accept reports whether m is the answer screen sid waits for, finishing
// its task either way, and records its failure or its time.
func Accept[T any](ctx *shell.Context, p *Poller, sid int, m Msg[T]) bool {
	if m.Sid != sid {
		return false
	}
	ctx.Tasks.Done(m.task, nil)
	if m.Gen != p.Gen {
		return false
	}
	p.polling = false
	p.Err = m.Err
	if m.Err == nil {
		p.Polled = ctx.Now()
	}
	return true
}

// Schedule asks for the next poll of screen sid after the polling
// interval (never, in tests that drive polls themselves).
func Schedule(c *shell.Context, sid, gen int) tea.Cmd {
	if c.ManualPoll {
		return nil
	}
	return tea.Tick(c.PollEvery(), func(time.Time) tea.Msg { return TickMsg{Sid: sid, Gen: gen} })
}

// DataAge says how old the shown data is ("data 0s old"), or that the
// last poll failed.
func DataAge(ctx *shell.Context, polled time.Time, err error) string {
	what := "the last poll failed"
	if errors.Is(err, cluster.ErrUnreachable) {
		what = "target unreachable"
	}
	switch {
	case polled.IsZero() && err == nil:
		return "waiting for the target"
	case err != nil && polled.IsZero():
		return what
	case err != nil:
		return what + " · data " + text.Age(ctx.Now(), polled) + " old"
	}
	return "data " + text.Age(ctx.Now(), polled) + " old"
}

// Closed reports whether the screen closed (StopPolling).
func (p *Poller) Closed() bool { return p.closed }
