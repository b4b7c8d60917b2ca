package inspect

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Snapshot surgery from the operator list, as `ckpt rewrite` does it
// (inspector.RewriteSnapshot): x marks the selected operator's state to
// drop, R moves it to a new uid, W writes the result to a NEW directory
// (prompted; never in place, refused when it exists), confirmed with y.
// With a new job given (u), the rewrite is dry-run against it first and
// nothing is written when state would still be dropped or the restore
// fail. The rewritten snapshot then opens in the inspector. All three are
// dangerous: none exists under --readonly.

// rewriteState is what the user has marked and the flow of writing it.
type rewriteState struct {
	drop   map[string]bool   // operator ID → leave its state out
	rename map[string]string // operator ID → its new uid (or hash:<32 hex>)
	// form is the open prompt: the new uid of renameID, or the
	// destination (dst true).
	form     *form.Model
	renameID string
	dst      bool
	// confirm is the destination awaiting y.
	confirm string
	running bool
	task    shell.TaskID
}

func (r *rewriteState) pending() bool { return len(r.drop) > 0 || len(r.rename) > 0 }

// capturing: a prompt or the confirmation takes every key.
func (r *rewriteState) capturing() bool { return r.form != nil || r.confirm != "" }

// rewriteKey handles x, R and W on the operator list.
func (s *Inspect) rewriteKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := s.keys
	var act string
	switch {
	case shell.KeyMatches(msg, k.Drop):
		act = "drop"
	case shell.KeyMatches(msg, k.Rename):
		act = "rename"
	case shell.KeyMatches(msg, k.Rewrite):
		act = "write"
	default:
		return nil, false
	}
	if s.ctx.Readonly {
		return shell.Toast(shell.ReadonlyError("rewrite").Error(), true), true
	}
	if s.loading || s.hdr == nil {
		return shell.Toast("rewrite: wait until the snapshot is decoded", true), true
	}
	if s.rw.running {
		return shell.Toast("a rewrite is running", true), true
	}
	if s.rw.drop == nil {
		s.rw.drop, s.rw.rename = map[string]bool{}, map[string]string{}
	}
	r := s.selected()
	switch act {
	case "drop":
		if r == nil || r.newOnly {
			return nil, true
		}
		if s.rw.drop[r.id] {
			delete(s.rw.drop, r.id)
		} else {
			s.rw.drop[r.id] = true
			delete(s.rw.rename, r.id)
		}
	case "rename":
		if r == nil || r.newOnly {
			return nil, true
		}
		s.rw.renameID, s.rw.dst = r.id, false
		s.rw.form = form.New("move the state of "+text.Sanitize(rowName(r))+" to a new uid", "enter marks it (W writes)").
			Text("new uid", s.rw.rename[r.id], "the job's new uid, or hash:<32 hex> for a pinned operator ID")
		s.rw.form.Danger = true
		return s.rw.form.FocusCmd(), true
	case "write":
		if !s.rw.pending() {
			return shell.Toast("rewrite: mark operators first (x drops, R renames)", true), true
		}
		s.rw.dst = true
		s.rw.form = form.New("write the rewritten snapshot to a new directory", "enter asks to confirm").
			Text("to", defaultRewriteDst(s.excl), "a directory that does not exist: /path, hdfs://…, s3://…")
		s.rw.form.Danger = true
		return s.rw.form.FocusCmd(), true
	}
	return nil, true
}

// defaultRewriteDst suggests a sibling of the snapshot's directory.
func defaultRewriteDst(dir string) string {
	if dir == "" {
		return ""
	}
	return storage.Join(storage.Dir(dir), storage.Base(dir)+"-rewritten")
}

// rowName is how an operator is named in prompts: uid, name, or ID.
func rowName(r *opRow) string {
	switch {
	case r.uid != "":
		return r.uid
	case r.op.Name != "":
		return r.op.Name
	}
	return r.id
}

// rewriteCapture handles keys while a rewrite prompt or the confirmation
// is open.
func (s *Inspect) rewriteCapture(msg tea.KeyPressMsg) tea.Cmd {
	if s.rw.confirm != "" {
		dst := s.rw.confirm
		s.rw.confirm = ""
		if msg.String() != "y" && msg.String() != "Y" {
			return shell.Toast("rewrite cancelled: nothing was written", false)
		}
		return s.runRewrite(dst)
	}
	res, cmd := s.rw.form.Update(msg)
	switch res {
	case form.Cancelled:
		s.rw.form = nil
	case form.Submitted:
		v := s.rw.form.Value(0)
		s.rw.form = nil
		if s.rw.dst {
			if v == "" {
				return shell.Toast("rewrite: type the new directory", true)
			}
			s.rw.confirm = v
			return nil
		}
		if v == "" {
			delete(s.rw.rename, s.rw.renameID)
			return nil
		}
		if _, err := inspector.NewUIDReassignment(v); err != nil {
			return shell.Toast("rename: "+err.Error(), true)
		}
		s.rw.rename[s.rw.renameID] = v
		delete(s.rw.drop, s.rw.renameID)
	}
	return cmd
}

// rewriteEdits are the marked edits in the order of the operator list,
// and the names of operators without a stored uid (the report's labels).
func (s *Inspect) rewriteEdits() (drops []string, renames [][2]string, labels map[string]string) {
	labels = map[string]string{}
	for _, r := range s.rows {
		if r.newOnly {
			continue
		}
		if s.rw.drop[r.id] {
			drops = append(drops, r.id)
		}
		if nu, ok := s.rw.rename[r.id]; ok {
			renames = append(renames, [2]string{r.id, nu})
		}
		if r.op.UID == "" && r.uid != "" {
			labels[r.id] = r.uid
		}
	}
	return drops, renames, labels
}

type rewriteDoneMsg struct {
	sid  int
	task shell.TaskID
	dst  string
	rep  *inspector.RewriteReport
	err  error
}

// runRewrite writes the rewrite in a task: the snapshot is read again
// (the screen's decoded operators stay as they are), edited, dry-run,
// written, read back and checked — inspector.RewriteSnapshot, as ckpt
// rewrite.
func (s *Inspect) runRewrite(dst string) tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast(shell.ReadonlyError("rewrite").Error(), true)
	}
	id, tctx := s.ctx.Tasks.Start("rewriting "+s.meta+" to "+dst, 0)
	s.rw.running, s.rw.task = true, id
	drops, renames, labels := s.rewriteEdits()
	var tgt *inspector.Target
	if s.target != nil {
		t := *s.target
		tgt = &t
	}
	fsys, sid, src, uids := s.ctx.FS, s.id, s.meta, s.mapping
	return func() tea.Msg {
		msg := rewriteDoneMsg{sid: sid, task: id, dst: dst}
		m, err := snapshot.Read(tctx, fsys, src)
		if err != nil {
			msg.err = err
			return msg
		}
		req := inspector.RewriteRequest{Dst: dst, Labels: map[snapshot.OperatorID]string{}, Target: tgt, UIDs: uids, Link: true}
		for _, d := range drops {
			opID, err := snapshot.ParseOperatorID(d)
			if err != nil {
				msg.err = err
				return msg
			}
			req.Edits.Drop = append(req.Edits.Drop, opID)
		}
		for _, rn := range renames {
			opID, err := snapshot.ParseOperatorID(rn[0])
			if err != nil {
				msg.err = err
				return msg
			}
			ra, err := inspector.NewUIDReassignment(rn[1])
			if err != nil {
				msg.err = err
				return msg
			}
			ra.From = opID
			req.Edits.Reassign = append(req.Edits.Reassign, ra)
		}
		for hexID, l := range labels {
			if opID, err := snapshot.ParseOperatorID(hexID); err == nil {
				req.Labels[opID] = l
			}
		}
		msg.rep, msg.err = inspector.RewriteSnapshot(tctx, fsys, m, req)
		return msg
	}
}

// onRewriteDone reports the result and opens what was written.
func (s *Inspect) onRewriteDone(msg rewriteDoneMsg) tea.Cmd {
	if msg.task != s.rw.task {
		return nil
	}
	s.rw.running = false
	s.ctx.Tasks.Done(msg.task, msg.err)
	switch {
	case msg.err != nil:
		return shell.Toast(text.Sanitize("rewrite failed: "+msg.err.Error()), true)
	case msg.rep.Refused:
		return shell.Toast(text.Sanitize(fmt.Sprintf("rewrite refused, nothing written: the new job (%s) would not resume from it — %s",
			s.target.Source, refusal(msg.rep.Resume))), true)
	}
	s.rw.drop, s.rw.rename = nil, nil
	return tea.Batch(shell.Toast(rewriteResultText(msg), false), shell.OpenScreen("inspect", msg.dst))
}

// refusal says why the dry run refused.
func refusal(p *inspector.ResumePlan) string {
	if p == nil {
		return "the dry run failed"
	}
	if len(p.Failures) > 0 {
		return fmt.Sprintf("%d operators Flink refuses to restore", len(p.Failures))
	}
	return fmt.Sprintf("%s of state would be dropped (%d operators)", text.Bytes(p.DroppedBytes), len(p.Dropped))
}

// rewriteResultText is the result line.
func rewriteResultText(m rewriteDoneMsg) string {
	var drop, ren int
	for _, c := range m.rep.Changes {
		switch c.Action {
		case "dropped":
			drop++
		case "renamed":
			ren++
		}
	}
	f := m.rep.Files
	s := fmt.Sprintf("rewrote to %s: %d dropped, %d renamed, %d operators kept; %s (%s", m.dst, drop, ren, m.rep.Kept,
		text.Plural(f.Copied+f.Linked, "file"), text.Bytes(f.Bytes))
	if f.Linked > 0 {
		s += fmt.Sprintf(", %d hard-linked", f.Linked)
	}
	s += ")"
	if m.rep.Resume != nil && m.rep.Resume.ExitCode == inspector.ExitResumeOK {
		s += "; the new job resumes from it without -n"
	}
	return text.Sanitize(s)
}

// rewriteConfirmText is the question the write is confirmed with.
func (s *Inspect) rewriteConfirmText(dst string) string {
	drops, renames, _ := s.rewriteEdits()
	var parts []string
	short := func(id string) string {
		for _, r := range s.rows {
			if r.id == id {
				if n := rowName(r); n != id {
					return n
				}
			}
		}
		return id[:8]
	}
	if len(drops) > 0 {
		names := make([]string, len(drops))
		for i, d := range drops {
			names[i] = short(d)
		}
		parts = append(parts, "drop "+strings.Join(names, ", "))
	}
	for _, rn := range renames {
		parts = append(parts, "rename "+short(rn[0])+" → "+rn[1])
	}
	q := fmt.Sprintf("REWRITE into NEW dir %s (%s unchanged): %s.", dst, s.excl, strings.Join(parts, "; "))
	if s.target != nil {
		q += fmt.Sprintf(" Dry-run against the new job (%s) first.", s.target.Source)
	}
	return text.Sanitize(q + " y = write, any other key = cancel")
}

// rewriteRows are the rewrite's prompt or confirmation (nil: none).
func (s *Inspect) rewriteRows() []string {
	th := s.ctx.Theme
	switch {
	case s.rw.form != nil:
		return s.rw.form.Rows(th, s.w)
	case s.rw.confirm != "":
		return form.ConfirmRows(th, s.rewriteConfirmText(s.rw.confirm), s.w)
	}
	return nil
}

// rewriteStatus is the status bar's note of marked edits.
func (s *Inspect) rewriteStatus() string {
	switch {
	case s.rw.running:
		return " · rewriting…"
	case s.rw.pending():
		return fmt.Sprintf(" · rewrite: %d to drop, %d to rename (W writes)", len(s.rw.drop), len(s.rw.rename))
	}
	return ""
}

// rewriteMark is what the row's name shows of a marked edit.
func (s *Inspect) rewriteMark(r *opRow) string {
	if s.rw.drop[r.id] {
		return "✗ DROP · "
	}
	if nu, ok := s.rw.rename[r.id]; ok {
		return "→ " + nu + " · was "
	}
	return ""
}
