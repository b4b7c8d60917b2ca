package browse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/layout"
	"github.com/ckpt-dev/ckpt/tui/components/progress"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Copying the selected savepoint, chk-N or job dir (c): what `ckpt cp`
// runs (snapshot.CopyPath), to a destination typed in, on any storage
// ckpt speaks. A dry run first says what would be copied and what is
// already there; y starts the copy, which reports files, bytes, rate and
// ETA in a progress bar; x cancels it. A cancelled or failed copy keeps
// what it copied (never a _metadata), so running c again to the same
// destination copies only what is missing, as a rerun of ckpt cp does.

// copyState is the copy flow: the destination prompt, the confirmation
// of the dry run's plan, and the running copy.
type copyState struct {
	src    string
	prompt *form.Model
	// planning while the dry run runs; plan awaits y.
	planning bool
	planTask shell.TaskID
	plan     *copyPlanMsg
	// running: the copy's task and how far it is.
	task    shell.TaskID
	running bool
	dst     string
	prog    progress.State
}

// copyable says whether c copies e: a complete snapshot dir, a
// _metadata file, or a job dir.
func copyable(e *entry) bool {
	return e != nil && (e.kind == layout.KindMetadata || e.kind == layout.KindJob ||
		e.kind.SnapshotDir() && e.complete == format.Yes)
}

// startCopy opens the destination prompt for e.
func (b *Browse) startCopy(e *entry) tea.Cmd {
	if b.ctx.Readonly {
		return shell.Toast(shell.ReadonlyError("copy").Error(), true)
	}
	if b.cp.running || b.cp.planning {
		return shell.Toast("a copy is running: x cancels it", true)
	}
	if !copyable(e) {
		return shell.Toast("c copies a savepoint, a complete chk-N, a _metadata or a job dir", true)
	}
	b.cp = copyState{src: e.info.URI}
	b.cp.prompt = form.New("copy "+text.Sanitize(e.info.URI)+" to", "enter checks what would be copied (a dry run)").
		Text("destination", "", "a new or partly copied dir: /path, hdfs://…, s3://…")
	return b.cp.prompt.FocusCmd()
}

type copyPlanMsg struct {
	sid      int
	task     shell.TaskID
	src, dst string
	res      *snapshot.CopyResult
	job      *snapshot.JobDirCopyResult
	err      error
}

// planCopy dry-runs the copy to dst: what would be copied, what is
// already there (a rerun), whether dst holds another snapshot.
func (b *Browse) planCopy(dst string) tea.Cmd {
	id, tctx := b.ctx.Tasks.Start("planning the copy of "+b.cp.src, 0)
	b.cp.planning, b.cp.planTask = true, id
	fsys, sid, src := b.ctx.FS, b.id, b.cp.src
	return func() tea.Msg {
		res, job, err := snapshot.CopyPath(tctx, fsys, src, dst, snapshot.CopyOptions{DryRun: true})
		return copyPlanMsg{sid: sid, task: id, src: src, dst: dst, res: res, job: job, err: err}
	}
}

// copyProgressMsg is how far the copy is, and the channels to wait on
// next.
type copyProgressMsg struct {
	sid  int
	task shell.TaskID
	p    progress.State
	prog <-chan progress.State
	done <-chan copyDoneMsg
}

type copyDoneMsg struct {
	sid  int
	task shell.TaskID
	dst  string
	res  *snapshot.CopyResult
	job  *snapshot.JobDirCopyResult
	err  error
}

// runCopy copies in a goroutine the command starts; the latest progress
// and the end come back through channels the following commands wait on.
func (b *Browse) runCopy(p *copyPlanMsg) tea.Cmd {
	if b.ctx.Readonly {
		return shell.Toast(shell.ReadonlyError("copy").Error(), true)
	}
	id, tctx := b.ctx.Tasks.StartQuiet("copying "+p.src+" to "+p.dst, 0)
	b.cp.task, b.cp.running, b.cp.dst = id, true, p.dst
	b.cp.prog = progress.State{Files: p.res.Copied + p.res.Present, Bytes: p.res.CopiedBytes + p.res.PresentBytes}
	fsys, sid, src, dst := b.ctx.FS, b.id, p.src, p.dst
	return func() tea.Msg {
		prog := make(chan progress.State, 1)
		done := make(chan copyDoneMsg, 1)
		go func() {
			start := time.Now()
			report := func(cp snapshot.CopyProgress) {
				rate, eta, ok := cp.Rate(time.Since(start))
				s := progress.State{Files: cp.Files, FilesDone: cp.FilesDone, Bytes: cp.Bytes, BytesDone: cp.BytesDone,
					PerSecond: rate, ETA: eta, RateKnown: ok}
				// Only the latest counts: replace what the screen has not
				// taken yet, never block the copy on the screen.
				select {
				case <-prog:
				default:
				}
				prog <- s
			}
			res, job, err := snapshot.CopyPath(tctx, fsys, src, dst, snapshot.CopyOptions{Progress: report})
			done <- copyDoneMsg{sid: sid, task: id, dst: dst, res: res, job: job, err: err}
		}()
		return waitCopy(sid, id, prog, done)()
	}
}

func waitCopy(sid int, task shell.TaskID, prog <-chan progress.State, done <-chan copyDoneMsg) tea.Cmd {
	return func() tea.Msg {
		select {
		case d := <-done:
			return d
		case p := <-prog:
			return copyProgressMsg{sid: sid, task: task, p: p, prog: prog, done: done}
		}
	}
}

// copyKey handles keys while the prompt or the confirmation is open; ok
// is false when the copy flow does not take the key.
func (b *Browse) copyKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	switch {
	case b.cp.prompt != nil:
		res, cmd := b.cp.prompt.Update(msg)
		switch res {
		case form.Cancelled:
			b.cp.prompt = nil
			return shell.Toast("copy cancelled", false), true
		case form.Submitted:
			dst := b.cp.prompt.Value(0)
			if dst == "" {
				return shell.Toast("copy: type a destination directory", true), true
			}
			b.cp.prompt = nil
			return b.planCopy(dst), true
		}
		return cmd, true
	case b.cp.plan != nil:
		p := b.cp.plan
		b.cp.plan = nil
		if msg.String() != "y" && msg.String() != "Y" {
			return shell.Toast("copy cancelled: nothing was copied", false), true
		}
		return b.runCopy(p), true
	}
	return nil, false
}

// onCopyMsg handles the copy's messages.
func (b *Browse) onCopyMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case copyPlanMsg:
		if msg.task != b.cp.planTask {
			return nil
		}
		b.cp.planning = false
		b.ctx.Tasks.Done(msg.task, msg.err)
		switch {
		case msg.err != nil:
			e := msg.err.Error()
			if !strings.HasPrefix(e, "copy") {
				e = "copy: " + e
			}
			return shell.Toast(e, true)
		case msg.res.AlreadyComplete:
			return shell.Toast("copy: "+text.Sanitize(msg.dst)+" already holds this copy, complete: nothing to do", false)
		}
		b.cp.plan = &msg
	case copyProgressMsg:
		if msg.task != b.cp.task {
			return nil
		}
		b.cp.prog = msg.p
		return waitCopy(msg.sid, msg.task, msg.prog, msg.done)
	case copyDoneMsg:
		if msg.task != b.cp.task {
			return nil
		}
		b.cp.running = false
		b.ctx.Tasks.Done(msg.task, msg.err)
		cmds := []tea.Cmd{shell.Toast(copyResultText(msg), msg.err != nil)}
		if storage.Within(b.uri, msg.dst) {
			cmds = append(cmds, b.load()) // the copy is in this listing
		}
		return tea.Batch(cmds...)
	}
	return nil
}

// cancelCopy stops the running copy (x): what it copied stays for a rerun.
func (b *Browse) cancelCopy() tea.Cmd {
	if !b.cp.running {
		return nil
	}
	b.ctx.Tasks.Cancel(b.cp.task)
	return nil
}

// copyResultText is the result line: what was copied, or why it stopped
// and what a rerun does.
func copyResultText(m copyDoneMsg) string {
	if m.err != nil {
		msg := "copy stopped: " + m.err.Error()
		if errors.Is(m.err, context.Canceled) {
			msg = "copy cancelled, no _metadata written"
		}
		if m.res != nil && m.res.Copied > 0 {
			msg += fmt.Sprintf(" — %s copied stay; c to %s again copies only what is missing", text.Plural(m.res.Copied, "file"), m.dst)
		}
		return text.Sanitize(msg)
	}
	r := m.res
	s := fmt.Sprintf("copied %s (%s) to %s", text.Plural(r.Copied, "file"), text.Bytes(r.CopiedBytes), r.Dst)
	if r.Present > 0 {
		s += fmt.Sprintf(", %d already there (same size and SHA-256)", r.Present)
	}
	if m.job != nil {
		s += fmt.Sprintf("; %s", text.Plural(len(m.job.Checkpoints), "checkpoint"))
		if n := len(m.job.Skipped); n > 0 {
			s += fmt.Sprintf(", %d without _metadata not copied", n)
		}
	}
	return text.Sanitize(s)
}

// copyConfirmText is the question the copy is confirmed with.
func copyConfirmText(p *copyPlanMsg) string {
	r := p.res
	what := "snapshot"
	if p.job != nil {
		what = fmt.Sprintf("job dir (%s)", text.Plural(len(p.job.Checkpoints), "complete checkpoint"))
	}
	s := fmt.Sprintf("COPY %s %s → %s: %s (%s) to copy", what, p.src, p.dst, text.Plural(r.Copied, "file"), text.Bytes(r.CopiedBytes))
	if r.Present > 0 {
		s += fmt.Sprintf(", %d already there (%s): a rerun", r.Present, text.Bytes(r.PresentBytes))
	}
	return text.Sanitize(s + "; _metadata last. y = copy, any other key = cancel")
}

// copyRows are what the copy draws at the bottom: the prompt, the
// confirmation or the progress bar (nil: nothing).
func (b *Browse) copyRows() []string {
	th := b.ctx.Theme
	switch {
	case b.cp.prompt != nil:
		return b.cp.prompt.Rows(th, b.w)
	case b.cp.plan != nil:
		return form.ConfirmRows(th, copyConfirmText(b.cp.plan), b.w)
	case b.cp.running:
		return progress.Rows(th, "copying "+b.cp.src+" → "+b.cp.dst, "x cancels (a rerun resumes)", b.cp.prog, b.w)
	}
	return nil
}
