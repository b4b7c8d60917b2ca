// Package savepoints lists the savepoints under a directory tree: owner,
// age, size, format; a retention preview; dispose.
package savepoints

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/inspector/savepoints"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/actions"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	args := req.Args
	switch len(args) {
	case 0:
		if ctx.Cluster == nil {
			return nil, fmt.Errorf("savepoints takes the directory holding savepoint-… dirs (no target to ask for its savepoint dir)")
		}
		return newSavepoints(ctx, ""), nil
	case 1:
		return newSavepoints(ctx, args[0]), nil
	}
	return nil, fmt.Errorf("savepoints takes one directory holding savepoint-… dirs (got %d arguments)", len(args))
}

// spRow is one savepoint on the screen. An entry stays until its disposal
// is confirmed done; a failed disposal leaves it with the reason.
type spRow struct {
	sp        savepoints.Savepoint
	rel       string // path below the root
	lower     string // for filtering
	disposing bool
	err       string
	// The drawn (unselected) line and what it depends on: redrawing every
	// visible row's styled cells each frame cost ~1.5 ms at 160 columns.
	cacheKey, cacheLine string
}

// Savepoints lists every savepoint under a directory tree (Flink keeps no
// history of them), previews a retention policy and disposes — through the
// target cluster's /savepoint-disposal when there is one, else by deleting
// a self-contained savepoint (savepoints.Dispose, as `ckpt savepoints`).
type Savepoints struct {
	ctx    *shell.Context
	id     int
	root   string
	rows   []*spRow
	list   list.Model
	filter string
	keys   savepointsKeys
	w, h   int

	loading  bool
	task     shell.TaskID
	err      error
	warn     string
	loadedAt time.Time

	policy  savepoints.Policy
	plan    map[string]savepoints.Decision // by URI; nil without a policy
	planGen int                            // bumps when plan changes (row cache)
	summary savepoints.Plan
	prompt  *textinput.Model
	confirm string // "one" or "plan" while awaiting y
	// disposals maps a running disposal's task to its URI and the URIs
	// still to dispose after it.
	disposals map[shell.TaskID][]string
}

type savepointsKeys struct {
	Inspect, Policy, Dispose, Apply *shell.Action
}

func (k savepointsKeys) keymap() shell.Keymap {
	return shell.Keymap{k.Inspect, k.Policy, k.Dispose, k.Apply}
}

func newSavepointsKeys(ctx *shell.Context) savepointsKeys {
	k := savepointsKeys{
		Inspect: shell.NewAction("savepoints.inspect", "enter/i", "inspect savepoint", "enter", "i"),
		Policy:  shell.NewAction("savepoints.policy", "p", "retention preview (keep N, older than D)", "p"),
		Dispose: shell.NewAction("savepoints.dispose", "D", "dispose selected savepoint", "D").Danger(),
		Apply:   shell.NewAction("savepoints.apply", "X", "dispose what the policy removes", "X").Danger(),
	}
	ctx.ApplyKeys(k.keymap())
	return k
}

// newSavepoints opens the savepoint list of root (no I/O until Init).
func newSavepoints(ctx *shell.Context, root string) *Savepoints {
	return &Savepoints{ctx: ctx, id: shell.NewScreenID(), root: root, list: list.New(), keys: newSavepointsKeys(ctx),
		disposals: map[shell.TaskID][]string{}}
}

func (s *Savepoints) Title() string    { return "savepoints " + storage.Base(s.root) }
func (s *Savepoints) Location() string { return s.root }
func (s *Savepoints) Keys() shell.Keymap {
	return append(s.keys.keymap(), shell.ListKeymap(s.list.Keys)...)
}

func (s *Savepoints) SetSize(w, h int) {
	s.w, s.h = w, h
	s.list.SetHeight(max(h-2, 1))
}

// Close stops the search; disposals in flight finish (see disposeChain).
func (s *Savepoints) Close() {
	if s.loading {
		s.ctx.Tasks.Cancel(s.task)
	}
}

func (s *Savepoints) Capturing() bool { return s.prompt != nil || s.confirm != "" }

func (s *Savepoints) Refresh() tea.Cmd { return s.Init() }

type savepointsLoadedMsg struct {
	sid  int
	task shell.TaskID
	root string // resolved from the target when none was given
	sps  []savepoints.Savepoint
	warn string
	err  error
}

func (s *Savepoints) Init() tea.Cmd {
	if s.loading {
		s.ctx.Tasks.Cancel(s.task)
	}
	s.loading, s.err = true, nil
	where := s.root
	if where == "" {
		where = "the target's savepoint dir"
	}
	id, tctx := s.ctx.Tasks.Start("finding savepoints under "+where, 0)
	s.task = id
	fsys, c, sid, root := s.ctx.FS, s.ctx.Cluster, s.id, s.root
	// The whole search is one task; a tree of many savepoints needs more
	// than one storage call's timeout, so each call is bounded by the
	// backend (HDFS dial/read deadlines) and the task can be cancelled.
	return func() tea.Msg {
		m := savepointsLoadedMsg{sid: sid, task: id, root: root}
		if root == "" {
			// The job screens' keys (job.go): the same two Flink names.
			cctx, cancel := context.WithTimeout(tctx, 10*time.Second)
			conf, err := c.Configuration(cctx)
			cancel()
			if err != nil {
				m.err = fmt.Errorf("asking the target for its savepoint dir: %w", err)
				return m
			}
			for _, k := range actions.SavepointDirKeys {
				if v := conf[k]; v != "" && m.root == "" {
					m.root = v
				}
			}
			if m.root == "" {
				m.err = fmt.Errorf("the target sets no %s: give the directory (:savepoints URI)", actions.SavepointDirKeys[0])
				return m
			}
		}
		m.sps, m.err = savepoints.Find(tctx, fsys, m.root, savepoints.Options{})
		if m.err == nil && c != nil {
			jctx, cancel := context.WithTimeout(tctx, 10*time.Second)
			defer cancel()
			if jobs, err := c.Jobs(jctx); err != nil {
				m.warn = "job names unknown: " + err.Error()
			} else {
				savepoints.MatchJobs(m.sps, jobsOf(jobs))
			}
		}
		return m
	}
}

func jobsOf(js []cluster.JobSummary) []savepoints.Job {
	out := make([]savepoints.Job, 0, len(js))
	for _, j := range js {
		out = append(out, savepoints.Job{ID: j.ID, Name: j.Name})
	}
	return out
}

func (s *Savepoints) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case savepointsLoadedMsg:
		if msg.sid != s.id || msg.task != s.task {
			return s, nil
		}
		s.loading = false
		s.ctx.Tasks.Done(msg.task, msg.err)
		s.err, s.warn, s.loadedAt = msg.err, msg.warn, s.ctx.Now()
		if s.root == "" {
			s.root = msg.root
		}
		s.setRows(msg.sps)
		return s, nil
	case shell.TaskDoneMsg:
		return s, s.onDisposed(msg)
	case tea.KeyPressMsg:
		return s, s.key(msg)
	case tea.PasteMsg:
		if s.prompt != nil {
			return s, form.UpdateInput(s.prompt, msg)
		}
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *Savepoints) setRows(sps []savepoints.Savepoint) {
	base := strings.TrimRight(s.root, "/")
	s.rows = s.rows[:0]
	for _, sp := range sps {
		rel := strings.TrimPrefix(strings.TrimPrefix(sp.URI, base), "/")
		if rel == "" {
			rel = sp.Name
		}
		r := &spRow{sp: sp, rel: text.Sanitize(rel)}
		r.lower = strings.ToLower(r.rel + " " + sp.Owner())
		s.rows = append(s.rows, r)
	}
	s.list.SetLen(len(s.rows))
	s.applyFilter()
	s.replan()
}

// replan recomputes the retention preview over the rows still listed.
func (s *Savepoints) replan() {
	s.planGen++
	if s.policy == (savepoints.Policy{}) {
		s.plan = nil
		return
	}
	sps := make([]savepoints.Savepoint, 0, len(s.rows))
	for _, r := range s.rows {
		sps = append(sps, r.sp)
	}
	s.summary = savepoints.Preview(sps, s.policy, s.ctx.Now())
	s.plan = make(map[string]savepoints.Decision, len(sps))
	for _, d := range s.summary.Decisions {
		s.plan[d.URI] = d
	}
}

func (s *Savepoints) SetFilter(f string) {
	s.filter = strings.ToLower(f)
	s.applyFilter()
}

func (s *Savepoints) applyFilter() {
	s.list.FilterText(s.filter, func(i int) string { return s.rows[i].lower })
}

func (s *Savepoints) selected() *spRow {
	i, ok := s.list.Selected()
	if !ok || i >= len(s.rows) {
		return nil
	}
	return s.rows[i]
}

func (s *Savepoints) CopyText() string {
	if r := s.selected(); r != nil {
		return r.sp.URI
	}
	return s.root
}

func (s *Savepoints) key(msg tea.KeyPressMsg) tea.Cmd {
	if s.prompt != nil {
		switch msg.String() {
		case "esc":
			s.prompt = nil
			return nil
		case "enter":
			v := s.prompt.Value()
			s.prompt = nil
			p, err := parsePolicy(v)
			if err != nil {
				return shell.Toast(err.Error(), true)
			}
			s.policy = p
			s.replan()
			return nil
		}
		return form.UpdateInput(s.prompt, msg)
	}
	if s.confirm != "" {
		what := s.confirm
		s.confirm = ""
		if msg.String() != "y" && msg.String() != "Y" {
			return shell.Toast("dispose cancelled", false)
		}
		if what == "plan" {
			return s.disposePlan()
		}
		if r := s.selected(); r != nil {
			return s.dispose([]*spRow{r})
		}
		return nil
	}
	if s.list.Update(msg) {
		return nil
	}
	k := s.keys
	r := s.selected()
	switch {
	case shell.KeyMatches(msg, k.Inspect):
		if r == nil {
			return nil
		}
		if !r.sp.Complete {
			return shell.Toast(r.rel+" has no _metadata: nothing to inspect", true)
		}
		return shell.OpenScreen("inspect", r.sp.URI)
	case shell.KeyMatches(msg, k.Policy):
		in := textinput.New()
		in.Prompt = "policy: "
		in.Placeholder = "keep 3 · older 14d · keep 3 older 14d · (empty: no policy)"
		st := textinput.DefaultStyles(true)
		st.Cursor.Blink = false
		in.SetStyles(st)
		in.SetWidth(max(s.w-10, 10))
		in.SetValue(policyText(s.policy))
		s.prompt = &in
		return in.Focus()
	case shell.KeyMatches(msg, k.Dispose):
		if r == nil || r.disposing {
			return nil
		}
		s.confirm = "one"
	case shell.KeyMatches(msg, k.Apply):
		if s.plan == nil {
			return shell.Toast("no policy: p previews one first", true)
		}
		if s.summary.Remove == 0 {
			return shell.Toast("the policy removes nothing", false)
		}
		s.confirm = "plan"
	}
	return nil
}

// parsePolicy reads "keep N", "older D" (or "older-than D"), or both.
func parsePolicy(v string) (savepoints.Policy, error) {
	var p savepoints.Policy
	f := strings.Fields(strings.ToLower(v))
	for i := 0; i < len(f); i++ {
		if i+1 >= len(f) {
			return p, fmt.Errorf("policy %q: %q needs a value (keep 3, older 14d)", v, f[i])
		}
		switch f[i] {
		case "keep":
			n, err := strconv.Atoi(f[i+1])
			if err != nil || n <= 0 {
				return p, fmt.Errorf("policy %q: keep wants a positive count", v)
			}
			p.KeepNewest = n
		case "older", "older-than", "older_than":
			d, err := savepoints.ParseAge(f[i+1])
			if err != nil {
				return p, fmt.Errorf("policy %q: %v", v, err)
			}
			p.OlderThan = d
		default:
			return p, fmt.Errorf("policy %q: want keep N and/or older D (7d, 2w, 36h)", v)
		}
		i++
	}
	return p, nil
}

func policyText(p savepoints.Policy) string {
	var parts []string
	if p.KeepNewest > 0 {
		parts = append(parts, fmt.Sprintf("keep %d", p.KeepNewest))
	}
	if p.OlderThan > 0 {
		parts = append(parts, "older "+savepoints.FormatAge(p.OlderThan))
	}
	return strings.Join(parts, " ")
}

// dispose starts the disposals of rows one after another, each a task; a
// row stays (marked disposing) until its deletion is confirmed.
func (s *Savepoints) dispose(rows []*spRow) tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast("read-only mode: dispose is disabled", true)
	}
	var uris []string
	for _, r := range rows {
		if r.disposing {
			continue
		}
		r.disposing, r.err = true, ""
		uris = append(uris, r.sp.URI)
	}
	return s.disposeChain(uris)
}

// disposeChain disposes uris[0] and, once it is done, the rest. Each
// disposal ends through the shell (TaskDoneMsg), so one in flight finishes
// and is recorded even when this screen has been closed meanwhile; the
// rest of a chain only starts while the screen is open.
func (s *Savepoints) disposeChain(uris []string) tea.Cmd {
	if len(uris) == 0 {
		return nil
	}
	uri := uris[0]
	id, tctx := s.ctx.Tasks.Start("disposing "+uri, 0)
	s.disposals[id] = uris
	fsys, c, target := s.ctx.FS, s.ctx.Cluster, s.ctx.TargetName
	return func() tea.Msg {
		res, err := savepoints.Dispose(tctx, fsys, cluster.SavepointDisposal(c), uri)
		m := shell.TaskDoneMsg{Task: id, Err: err}
		if err == nil {
			how := "through " + target
			if res.Via == "storage" {
				how = "deleted from storage"
				if res.ClusterError != "" {
					how += " (the cluster's disposal failed: " + res.ClusterError + ")"
				}
			}
			m.Toast = "disposed " + uri + " — " + how
			if len(res.Left) > 0 {
				m.Toast = fmt.Sprintf("disposed %s — %s; left %d: %s (%s)", uri, how, len(res.Left), storage.Base(res.Left[0].URI), res.Left[0].Why)
			}
		}
		return m
	}
}

func (s *Savepoints) disposePlan() tea.Cmd {
	var rows []*spRow
	for _, r := range s.rows {
		if d, ok := s.plan[r.sp.URI]; ok && d.Remove {
			rows = append(rows, r)
		}
	}
	return s.dispose(rows)
}

// onDisposed updates the row of a finished disposal (the shell has ended
// the task and shown the toast or error) and starts the next one.
func (s *Savepoints) onDisposed(m shell.TaskDoneMsg) tea.Cmd {
	uris, ok := s.disposals[m.Task]
	if !ok {
		return nil
	}
	delete(s.disposals, m.Task)
	for i, r := range s.rows {
		if r.sp.URI != uris[0] {
			continue
		}
		r.disposing = false
		if m.Err != nil {
			r.err = shell.FirstLine(m.Err)
			break
		}
		s.rows = append(s.rows[:i], s.rows[i+1:]...)
		s.list.SetLen(len(s.rows))
		s.applyFilter()
		s.replan()
		break
	}
	return s.disposeChain(uris[1:])
}

// Status summarises the list and the preview.
func (s *Savepoints) Status() string {
	if s.err != nil {
		return "search failed"
	}
	var total int64
	for _, r := range s.rows {
		total += r.sp.Bytes
	}
	st := fmt.Sprintf("%s · %s on disk", text.Plural(len(s.rows), "savepoint"), text.Bytes(total))
	// A filter's "(3 of 40)" is the status bar's, from Count.
	if s.plan != nil {
		st += fmt.Sprintf(" · policy removes %d (%s)", s.summary.Remove, text.Bytes(s.summary.RemoveBytes))
	}
	return st
}

// ckpt and full are inspector.SizesOf's two sizes, as every screen shows
// a snapshot; the directory's bytes are what a disposal frees (the plan's
// and the confirmation's figures).
type spCols struct{ name, job, age, ckpt, full, format, chk, plan int }

// cols: on a narrow terminal with a plan, the plan's reasons matter more
// than format and checkpoint id, which give way.
func (s *Savepoints) cols() spCols {
	c := spCols{job: 8, age: 5, ckpt: 9, full: 9, format: 11, chk: 6}
	if s.w >= 120 {
		c.job = 22 // job names ("orders-enrichment-v2") need the room
	}
	if s.plan != nil {
		c.plan = max(min(44, s.w/4), 24)
		if s.w < 120 {
			c.format, c.chk = 0, 0
		}
	}
	fixed := 2 + c.job + 1 + c.age + 1 + c.ckpt + 1 + c.full + 1
	for _, n := range []int{c.format, c.chk, c.plan} {
		if n > 0 {
			fixed += n + 1
		}
	}
	c.name = max(s.w-fixed, 12)
	return c
}

func (s *Savepoints) View() string {
	th := s.ctx.Theme
	var out []string
	head := " " + text.Sanitize(s.root)
	switch {
	case s.plan != nil:
		// Counts first: on a narrow terminal the policy's wording is cut.
		head = fmt.Sprintf(" preview: remove %d (%s), keep %d (%s) · %s · X disposes", s.summary.Remove,
			text.Bytes(s.summary.RemoveBytes), s.summary.Keep, text.Bytes(s.summary.KeepBytes), s.summary.Policy)
	case s.warn != "":
		head = " " + text.Sanitize(s.warn)
	}
	hst := th.Title
	if s.plan != nil && s.summary.Remove > 0 {
		hst = th.Warn
	}
	out = append(out, hst.Render(text.Fit(head, s.w)))
	c := s.cols()
	h := "  " + text.Fit("SAVEPOINT", c.name) + " " + text.Fit("JOB", c.job) + " " + text.FitRight("AGE", c.age) + " " +
		text.FitRight("CHECKPTD", c.ckpt) + " " + text.FitRight("FULL", c.full)
	if c.format > 0 {
		h += " " + text.Fit("FORMAT", c.format) + " " + text.FitRight("CHK", c.chk)
	}
	if c.plan > 0 {
		h += " " + text.Fit("PLAN", c.plan)
	}
	out = append(out, th.Column.Render(text.Fit(h, s.w)))
	switch {
	case s.err != nil:
		out = append(out, th.Error.Render(text.Fit("  ✗ "+text.Sanitize(s.err.Error()), s.w)),
			th.Muted.Render("  ctrl+r retries · :savepoints URI opens another directory"))
	case s.loading && len(s.rows) == 0:
		out = append(out, th.Muted.Render("  "+s.ctx.Spinner()+" finding savepoints under "+text.Sanitize(s.root)+" …"))
	case len(s.rows) == 0:
		out = append(out, th.Muted.Render("  no savepoint-… directories here (chk-N and shared/ are not searched)"))
	case s.list.Len() == 0:
		out = append(out, th.Muted.Render("  no savepoint matches the filter"))
	default:
		out = append(out, s.list.View(func(i int, sel bool) string { return s.row(s.rows[i], sel, c) }))
	}
	view := strings.Join(out, "\n")
	if s.prompt == nil && s.confirm == "" {
		return view
	}
	lines := strings.Split(view, "\n")
	for len(lines) < s.h {
		lines = append(lines, "")
	}
	switch {
	case s.prompt != nil:
		lines[s.h-1] = th.Prompt.Render(text.Clip(" "+s.prompt.View(), s.w))
	case s.confirm == "plan":
		q := fmt.Sprintf("DISPOSE %s (%s) the policy removes? y = dispose, any other key = cancel", text.Plural(s.summary.Remove, "savepoint"), text.Bytes(s.summary.RemoveBytes))
		return form.OverlayBottom(view, form.ConfirmRows(th, q, s.w), s.h)
	default:
		if r := s.selected(); r != nil {
			q := fmt.Sprintf("DISPOSE %s (%s)? y = dispose, any other key = cancel", text.Sanitize(r.sp.URI), text.Bytes(r.sp.Bytes))
			return form.OverlayBottom(view, form.ConfirmRows(th, q, s.w), s.h)
		}
	}
	return strings.Join(lines[:s.h], "\n")
}

func (s *Savepoints) row(r *spRow, sel bool, c spCols) string {
	if sel {
		return s.drawRow(r, true, c)
	}
	key := strconv.Itoa(s.w) + "|" + text.Age(s.ctx.Now(), r.sp.ModTime) + "|" + strconv.Itoa(s.planGen) + "|" + r.err
	if r.disposing {
		key += "|" + s.ctx.Spinner()
	}
	if th := s.ctx.Theme; th != nil {
		key += "|" + th.Name
	}
	if r.cacheKey != key {
		r.cacheKey, r.cacheLine = key, s.drawRow(r, false, c)
	}
	return r.cacheLine
}

func (s *Savepoints) drawRow(r *spRow, sel bool, c spCols) string {
	th := s.ctx.Theme
	sp := r.sp
	format, chk, fst := sp.Format, strconv.FormatInt(sp.CheckpointID, 10), th.Savepoint
	switch {
	case !sp.Complete:
		format, chk, fst = "INCOMPLETE", "-", th.Partial
	case sp.Error != "":
		format, chk, fst = "UNREADABLE", "-", th.Error
	case sp.Kind != "savepoint":
		format, fst = strings.ToUpper(sp.Kind)+"!", th.Warn
	case format == "":
		format = "?"
	}
	mark := "  "
	if sel {
		mark = "> "
	}
	plan, pst := "", th.Muted
	switch {
	case r.disposing:
		plan, pst = s.ctx.Spinner()+" disposing…", th.Warn
	case r.err != "":
		plan, pst = "✗ "+text.Sanitize(r.err), th.Error
	case s.plan != nil:
		if d, ok := s.plan[sp.URI]; ok {
			plan = "keep: " + d.Reason
			if d.Remove {
				plan, pst = "REMOVE: "+d.Reason, th.Warn
			}
		}
	}
	if c.plan == 0 && plan != "" {
		// No plan column: the disposal state replaces the format.
		format, fst = plan, pst
	}
	// The name keeps its end: the random suffix tells savepoints apart.
	type cell struct {
		s  string
		st func(...string) string
	}
	cells := []cell{{text.FitLeft(r.rel, c.name), th.Savepoint.Render}, {text.Fit(text.Sanitize(sp.Owner()), c.job), th.Job.Render},
		{text.FitRight(text.Age(s.ctx.Now(), sp.ModTime), c.age), th.Muted.Render}, {text.FitRight(spSize(sp, sp.Sizes.Checkpointed), c.ckpt), th.Muted.Render},
		{text.FitRight(spSize(sp, sp.Sizes.Full), c.full), th.Muted.Render}}
	if c.format > 0 {
		cells = append(cells, cell{text.Fit(format, c.format), fst.Render}, cell{text.FitRight(chk, c.chk), th.Muted.Render})
	}
	if c.plan > 0 {
		cells = append(cells, cell{text.Fit(plan, c.plan), pst.Render})
	}
	parts := make([]string, len(cells))
	for i, x := range cells {
		parts[i] = x.s
	}
	if sel {
		return th.Selected.Render(text.Fit(mark+strings.Join(parts, " "), s.w))
	}
	line := mark
	for i, x := range cells {
		if i > 0 {
			line += " "
		}
		line += x.st(x.s)
	}
	return line
}

// Keymap is the screen's actions, for the declaration.
func Keymap(ctx *shell.Context) shell.Keymap { return newSavepointsKeys(ctx).keymap() }

// Count is what the "/" filter shows of the rows (the status bar's
// "filter: x (3 of 40)").
func (s *Savepoints) Count() (shown, total int) { return s.list.Len(), s.list.Total() }

// spSize is one of a savepoint's sizes, "—" when its _metadata could not
// be read (incomplete or unreadable: no size to show).
func spSize(sp savepoints.Savepoint, n int64) string {
	if !sp.Complete || (sp.Sizes == inspector.SnapshotSizes{} && sp.Error != "") {
		return "—"
	}
	return text.Bytes(n)
}
