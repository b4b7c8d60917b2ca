// Package leaks is the leak report of a job dir: what it holds that no
// retained checkpoint needs, and the garbage collection of it (X, the
// plan of ckpt gc, confirmed).
package leaks

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Open takes the job directory (<checkpoint-dir>/<job-id>).
func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	args := req.Args
	if len(args) != 1 {
		return nil, fmt.Errorf("leaks takes one job directory (<checkpoint-dir>/<job-id>), got %d arguments", len(args))
	}
	return New(ctx, args[0]), nil
}

// leakRow is one finding.
type leakRow struct {
	kind, path, note string
	uri              string
	bytes            int64
	mod              time.Time
	style            string // "warn", "error", "muted", "ok"
	lower            string
}

// Screen is the orphan/leak report of one job directory (inspector.FindLeaks):
// shared/ files no retained checkpoint references, chk-N directories left
// behind, the checkpoint the job was restored from. X plans a garbage
// collection (inspector.PlanGC, the plan of ckpt gc, with its guards and
// the target's), shows it and deletes only once confirmed with y — never
// in --readonly mode.
type Screen struct {
	ctx    *shell.Context
	id     int
	uri    string
	rows   []*leakRow
	list   list.Model
	filter string
	keys   leaksKeys
	w, h   int

	rep     *inspector.LeakReport
	loading bool
	task    shell.TaskID
	err     error
	source  string // what the cluster added ("" none)

	// gc: planning while a plan task runs; plan awaiting y; collecting
	// while the deletion runs (its task ends through the shell).
	planning   bool
	planTask   shell.TaskID
	plan       *inspector.GCPlan
	collecting shell.TaskID
}

type leaksKeys struct{ GC *shell.Action }

func (k leaksKeys) keymap() shell.Keymap { return shell.Keymap{k.GC} }

func newLeaksKeys(ctx *shell.Context) leaksKeys {
	k := leaksKeys{GC: shell.NewAction("leaks.gc", "X", "gc: plan, confirm, delete what no checkpoint needs", "X").Danger()}
	ctx.ApplyKeys(k.keymap())
	return k
}

// Keymap is the screen's own actions, for the config and the help.
func Keymap(ctx *shell.Context) shell.Keymap { return newLeaksKeys(ctx).keymap() }

// gcMinAge is the TUI's --min-age: ckpt gc's default.
const gcMinAge = time.Hour

// New opens the report for a job dir (no I/O until Init).
func New(ctx *shell.Context, uri string) *Screen {
	return &Screen{ctx: ctx, id: shell.NewScreenID(), uri: uri, list: list.New(), keys: newLeaksKeys(ctx)}
}

func (s *Screen) Title() string    { return "leaks " + storage.Base(s.uri) }
func (s *Screen) Location() string { return s.uri }
func (s *Screen) Keys() shell.Keymap {
	return append(s.keys.keymap(), shell.ListKeymap(s.list.Keys)...)
}

// Capturing: the confirmation takes every key.
func (s *Screen) Capturing() bool { return s.plan != nil }
func (s *Screen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.list.SetHeight(max(h-s.chromeRows(), 1))
}

// chromeRows: the summary lines and the column headings, and the
// missing-files line when there is one.
func (s *Screen) chromeRows() int {
	if s.missingLine() != "" {
		return 4
	}
	return 3
}

// missingLine says that retained checkpoints cannot be restored because
// files they reference are gone ("" when none is).
func (s *Screen) missingLine() string {
	if s.rep == nil || s.rep.Orphans == nil || len(s.rep.Orphans.MissingReferenced) == 0 {
		return ""
	}
	n := len(s.rep.Orphans.MissingReferenced)
	return fmt.Sprintf("✗ %s missing: a retained checkpoint cannot be restored", text.Plural(n, "referenced file", "referenced files"))
}
func (s *Screen) Close() {
	if s.loading {
		s.ctx.Tasks.Cancel(s.task)
	}
	if s.planning {
		s.ctx.Tasks.Cancel(s.planTask)
	}
}
func (s *Screen) Refresh() tea.Cmd { return s.Init() }

type leaksMsg struct {
	sid    int
	task   shell.TaskID
	rep    *inspector.LeakReport
	source string
	err    error
}

func (s *Screen) Init() tea.Cmd {
	if s.loading {
		s.ctx.Tasks.Cancel(s.task)
	}
	s.loading, s.err = true, nil
	id, tctx := s.ctx.Tasks.Start("looking for leaks in "+s.uri, 0)
	s.task = id
	fsys, c, sid, uri := s.ctx.FS, s.ctx.Cluster, s.id, s.uri
	return func() tea.Msg {
		m := leaksMsg{sid: sid, task: id}
		var opts inspector.LeakOptions
		// The cluster knows the job's num-retained and where it was last
		// restored from; without it the report relies on storage alone.
		if jobID := strings.ToLower(storage.Base(uri)); c != nil && snapshot.IsJobID(jobID) {
			cctx, cancel := context.WithTimeout(tctx, 10*time.Second)
			if cfg, err := c.CheckpointConfig(cctx, jobID); err == nil && cfg.NumRetained > 0 {
				opts.Retained = cfg.NumRetained
				m.source = fmt.Sprintf("num-retained %d", cfg.NumRetained)
			}
			if st, err := c.Checkpoints(cctx, jobID); err == nil && st.LatestRestored != nil && st.LatestRestored.ExternalPath != "" {
				opts.RestoredFrom = st.LatestRestored.ExternalPath
				m.source = strings.TrimPrefix(m.source+", restored from "+opts.RestoredFrom, ", ")
			}
			cancel()
		}
		m.rep, m.err = inspector.FindLeaks(tctx, fsys, uri, opts)
		return m
	}
}

func (s *Screen) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case leaksMsg:
		if msg.sid != s.id || msg.task != s.task {
			return s, nil
		}
		s.loading = false
		s.ctx.Tasks.Done(msg.task, msg.err)
		s.err, s.rep, s.source = msg.err, msg.rep, msg.source
		if s.rep != nil {
			s.build()
		}
		s.SetSize(s.w, s.h)
	case gcPlanMsg:
		if msg.sid != s.id || msg.task != s.planTask {
			return s, nil
		}
		s.planning = false
		s.ctx.Tasks.Done(msg.task, msg.err)
		switch {
		case msg.err != nil:
		case msg.plan.HeldBack():
			return s, shell.Toast("gc: held back — "+heldBackWhy(msg.plan)+"; try again later", true)
		case len(msg.plan.Items) == 0:
			return s, shell.Toast(fmt.Sprintf("gc: nothing to reclaim (%s kept by a guard)", text.Plural(len(msg.plan.Kept), "thing")), false)
		default:
			s.plan = msg.plan
		}
	case shell.TaskDoneMsg:
		if msg.Task == s.collecting && s.collecting != 0 {
			s.collecting = 0
			return s, s.Init()
		}
	case tea.KeyPressMsg:
		return s, s.key(msg)
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *Screen) key(msg tea.KeyPressMsg) tea.Cmd {
	if s.plan != nil {
		p := s.plan
		s.plan = nil
		if msg.String() != "y" && msg.String() != "Y" {
			return shell.Toast("gc cancelled: nothing was deleted", false)
		}
		return s.collect(p)
	}
	if s.list.Update(msg) {
		return nil
	}
	if shell.KeyMatches(msg, s.keys.GC) {
		return s.planGC()
	}
	return nil
}

type gcPlanMsg struct {
	sid  int
	task shell.TaskID
	plan *inspector.GCPlan
	err  error
}

// planGC plans, in a task, what gc would delete here: the plan of ckpt gc
// for this job dir, with the target's num-retained and its guard.
func (s *Screen) planGC() tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast(shell.ReadonlyError("gc").Error(), true)
	}
	if s.planning || s.collecting != 0 {
		return nil
	}
	s.planning = true
	id, tctx := s.ctx.Tasks.Start("planning gc of "+s.uri, 0)
	s.planTask = id
	fsys, c, sid, uri, now := s.ctx.FS, s.ctx.Cluster, s.id, s.uri, s.ctx.Now()
	return func() tea.Msg {
		m := gcPlanMsg{sid: sid, task: id}
		opts := inspector.GCOptions{MinAge: gcMinAge, Now: now}
		if c != nil {
			if err := cluster.GCFacts(tctx, c, []string{uri}, &opts); err != nil {
				m.err = fmt.Errorf("%w: gc deletes nothing it cannot check", err)
				return m
			}
		}
		m.plan, m.err = inspector.PlanGC(tctx, fsys, uri, opts)
		return m
	}
}

// collect carries out a confirmed plan in a task that ends through the
// shell (it finishes, journaled, even when the screen is closed).
func (s *Screen) collect(p *inspector.GCPlan) tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast(shell.ReadonlyError("gc").Error(), true)
	}
	id, tctx := s.ctx.Tasks.Start("gc of "+s.uri, 0)
	s.collecting = id
	fsys := s.ctx.FS
	return func() tea.Msg {
		m := shell.TaskDoneMsg{Task: id}
		path, err := inspector.GCJournalPath()
		if err != nil {
			m.Err = err
			return m
		}
		write, closeJ, err := inspector.OpenGCJournal(path)
		if err != nil {
			m.Err = err
			return m
		}
		res, err := inspector.ExecuteGC(tctx, fsys, p, inspector.GCExecOptions{Journal: write})
		if cerr := closeJ(); err == nil {
			err = cerr
		}
		m.Err = err
		if err == nil {
			m.Toast = fmt.Sprintf("gc: removed %s (%s) of %s planned; journal %s", text.Plural(res.Removed, "file"),
				text.Bytes(res.RemovedBytes), text.Bytes(p.Bytes), path)
			if n := len(res.Skipped); n > 0 {
				m.Toast += fmt.Sprintf("; %d kept on a second look", n)
			}
		}
		return m
	}
}

func heldBackWhy(p *inspector.GCPlan) string {
	for _, j := range p.Jobs {
		if j.HeldBack != "" {
			return j.HeldBack
		}
	}
	return ""
}

// build turns the report into rows, what needs attention first.
func (s *Screen) build() {
	r := s.rep
	s.rows = s.rows[:0]
	rel := func(u string) string {
		if loc, err := storage.Parse(u); err == nil && loc.IsLocal() {
			u = loc.Path // file:/x as /x, as the job dir is given
		}
		base := strings.TrimRight(s.uri, "/") + "/"
		if strings.HasPrefix(u, base) {
			return strings.TrimPrefix(u, base)
		}
		return u
	}
	add := func(x *leakRow) {
		x.path = text.Sanitize(x.path)
		x.lower = strings.ToLower(x.kind + " " + x.path + " " + x.note)
		s.rows = append(s.rows, x)
	}
	for _, u := range r.Orphans.MissingReferenced {
		add(&leakRow{kind: "MISSING", path: rel(u), uri: u, bytes: -1, style: "error",
			note: "referenced by a retained checkpoint but missing: that checkpoint cannot be restored"})
	}
	for _, o := range r.Orphans.Orphans {
		x := &leakRow{kind: "ORPHAN", path: rel(o.URI), uri: o.URI, bytes: o.Size, mod: o.ModTime, style: "warn",
			note: "no retained checkpoint references it"}
		if o.MaybeInProgress {
			x.kind, x.style, x.note = "ORPHAN?", "muted", "newer than the latest checkpoint while one is in progress: may be its upload"
		}
		add(x)
	}
	for _, c := range r.Checkpoints {
		x := &leakRow{path: rel(c.URI) + "/", uri: c.URI, bytes: c.Bytes, mod: c.ModTime}
		switch c.State {
		case inspector.ChkStale:
			x.kind, x.style, x.note = "STALE", "warn", "no _metadata, older than the latest checkpoint: failed or aborted, left behind"
		case inspector.ChkBeyond:
			x.kind, x.style, x.note = "LEFT", "warn", "complete but beyond num-retained: should have been subsumed and deleted"
		case inspector.ChkInProgress:
			x.kind, x.style, x.note = "RUNNING?", "muted", "no _metadata, newer than the latest: in progress (or failed just now)"
		case inspector.ChkLatest:
			x.kind, x.style, x.note = "LATEST", "ok", "the newest complete checkpoint"
		default:
			x.kind, x.style, x.note = "RETAINED", "ok", "complete, retained"
		}
		add(x)
	}
	for _, f := range r.Restored {
		x := &leakRow{kind: "RESTORED", path: rel(f.URI), uri: f.URI, bytes: f.Bytes, style: "ok", note: "restored from: " + f.Note}
		switch {
		case f.Leftover:
			x.kind, x.style = "LEFTOVER", "warn"
		case !f.Exists:
			x.bytes, x.style = -1, "muted"
		}
		add(x)
	}
	// Attention first: errors, then leaks, then the rest, keeping order.
	rank := map[string]int{"error": 0, "warn": 1, "muted": 2, "ok": 3}
	sorted := make([]*leakRow, 0, len(s.rows))
	for k := 0; k <= 3; k++ {
		for _, x := range s.rows {
			if rank[x.style] == k {
				sorted = append(sorted, x)
			}
		}
	}
	s.rows = sorted
	s.list.SetLen(len(s.rows))
	s.applyFilter()
}

func (s *Screen) SetFilter(f string) {
	s.filter = strings.ToLower(f)
	s.applyFilter()
}

func (s *Screen) applyFilter() {
	s.list.FilterText(s.filter, func(i int) string { return s.rows[i].lower })
}

func (s *Screen) CopyText() string {
	if i, ok := s.list.Selected(); ok && i < len(s.rows) {
		return s.rows[i].uri
	}
	return s.uri
}

func (s *Screen) Status() string {
	if s.rep == nil {
		return ""
	}
	o := s.rep.Orphans
	st := fmt.Sprintf("%s (%s) · %s (%s)",
		text.Plural(int(o.OrphanFiles), "orphan"), text.Bytes(o.OrphanBytes), text.Plural(s.rep.StaleDirs, "stale chk dir"), text.Bytes(s.rep.StaleBytes))
	switch {
	case s.ctx.Readonly:
		return st + " · read-only: report only"
	case s.collecting != 0:
		return st + " · gc running"
	}
	return st + " · X plans a gc (confirmed with y)"
}

func (s *Screen) View() string {
	th := s.ctx.Theme
	switch {
	case s.err != nil:
		var out []string
		for _, l := range text.Wrap("✗ "+text.Sanitize(s.err.Error()), s.w-2, 4) {
			out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
		}
		return strings.Join(append(out, th.Muted.Render(" ctrl+r retries · give a job dir (<checkpoint-dir>/<job-id>)")), "\n")
	case s.rep == nil:
		return th.Muted.Render(" " + s.ctx.Spinner() + " reading the retained checkpoints of " + text.Sanitize(s.uri) + " …")
	}
	r, o := s.rep, s.rep.Orphans
	// On disk vs what the retained checkpoints need first (pain #10), then
	// where the difference is.
	l1 := fmt.Sprintf(" on disk %s · retained checkpoints need %s · orphaned %s (%s) · stale chk dirs %d (%s) · shared/ %s files %s",
		text.Bytes(r.DiskBytes), text.Bytes(r.NeededBytes), text.Count(int(o.OrphanFiles)), text.Bytes(o.OrphanBytes),
		r.StaleDirs, text.Bytes(r.StaleBytes), text.Count(int(o.SharedFiles)), text.Bytes(o.SharedBytes))
	l2 := " checkpoints read: " + idList(o.Checkpoints)
	if s.source != "" {
		l2 += " · from the cluster: " + s.source
	}
	for _, w := range o.Warnings {
		l2 += " · " + w
	}
	st := th.Title
	if o.OrphanFiles > 0 || r.StaleDirs > 0 || len(o.MissingReferenced) > 0 {
		st = th.Warn
	}
	var out []string
	if m := s.missingLine(); m != "" {
		out = append(out, th.Error.Render(text.Fit(" "+m, s.w)))
	}
	out = append(out, st.Render(text.Fit(l1, s.w)), th.Muted.Render(text.Fit(text.Sanitize(l2), s.w)))
	nameW := max(min(s.w/3, 60), 16)
	kindW, sizeW, ageW := 9, 9, 5
	noteW := max(s.w-2-nameW-kindW-sizeW-ageW-4, 8)
	out = append(out, th.Column.Render(text.Fit("  "+text.Fit("KIND", kindW)+" "+text.Fit("PATH", nameW)+" "+text.FitRight("SIZE", sizeW)+" "+
		text.FitRight("AGE", ageW)+" "+"WHY", s.w)))
	if len(s.rows) == 0 {
		out = append(out, th.OK.Render("  nothing here: every file and chk-N is accounted for"))
		return strings.Join(out, "\n")
	}
	styles := map[string]func(...string) string{"error": th.Error.Render, "warn": th.Warn.Render, "muted": th.Muted.Render, "ok": th.Complete.Render}
	list := s.list.View(func(i int, sel bool) string {
		x := s.rows[i]
		age := ""
		if !x.mod.IsZero() {
			age = text.Age(s.ctx.Now(), x.mod)
		}
		cells := text.Fit(x.kind, kindW) + " " + text.FitLeft(x.path, nameW) + " " + text.FitRight(text.Bytes(x.bytes), sizeW) + " " +
			text.FitRight(age, ageW) + " " + text.Fit(x.note, noteW)
		if sel {
			return th.Selected.Render(text.Fit("> "+cells, s.w))
		}
		return "  " + styles[x.style](text.Fit(x.kind, kindW)) + " " + text.FitLeft(x.path, nameW) + " " +
			th.Muted.Render(text.FitRight(text.Bytes(x.bytes), sizeW)+" "+text.FitRight(age, ageW)+" "+text.Fit(x.note, noteW))
	})
	view := strings.Join(append(out, list), "\n")
	if s.plan != nil {
		return form.OverlayBottom(view, form.ConfirmRows(th, confirmText(s.plan), s.w), s.h)
	}
	return view
}

// confirmText is the question a gc is confirmed with: what goes, by kind.
func confirmText(p *inspector.GCPlan) string {
	n := map[string]int{}
	for _, it := range p.Items {
		n[it.Kind]++
	}
	var parts []string
	for _, k := range []struct{ kind, one, many string }{{inspector.GCOrphan, "orphaned shared file", "orphaned shared files"},
		{inspector.GCStale, "stale chk dir", "stale chk dirs"}, {inspector.GCBeyond, "chk beyond num-retained", "chk beyond num-retained"}} {
		if n[k.kind] > 0 {
			parts = append(parts, text.Plural(n[k.kind], k.one, k.many))
		}
	}
	return fmt.Sprintf("GC: DELETE %s (%s): %s; %d kept by a guard (min age %v). y = delete, any other key = cancel",
		text.Plural(p.Files, "file"), text.Bytes(p.Bytes), strings.Join(parts, ", "), len(p.Kept), strings.TrimSuffix(strings.TrimSuffix(gcMinAge.String(), "0s"), "0m"))
}

func idList(ids []int64) string {
	if len(ids) == 0 {
		return "none"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = snapshot.CheckpointDirName(id)
	}
	return strings.Join(parts, ", ")
}

// Count is what the "/" filter shows of the rows (the status bar's
// "filter: x (3 of 40)").
func (s *Screen) Count() (shown, total int) { return s.list.Len(), s.list.Total() }
