// Package jobs lists the target's jobs and launches new ones from job
// specs (the launcher, also the resume screen's spec picker).
package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/tui/components/actions"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/pathchooser"
	"github.com/ckpt-dev/ckpt/tui/components/poll"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	args := req.Args
	if len(args) != 0 {
		return nil, fmt.Errorf("jobs takes no arguments")
	}
	if ctx.Cluster == nil {
		return nil, fmt.Errorf("no target: start ckpt with the embedded engine (default) or -m host:port")
	}
	return newJobs(ctx), nil
}

// Jobs lists the target's jobs, as Flink's web UI's job list does, and
// launches new ones from job specs.
type Jobs struct {
	ctx  *shell.Context
	id   int
	keys jobsKeys
	list list.Model
	w, h int

	jobs     []cluster.JobSummary
	overview *cluster.Overview
	poll.Poller
	filter string

	confirm *cluster.JobSummary // cancel awaiting "y"
}

type jobsKeys struct {
	Open, Launch, Cancel, Browse *shell.Action
}

func (k jobsKeys) keymap() shell.Keymap { return shell.Keymap{k.Open, k.Launch, k.Cancel, k.Browse} }

func newJobsKeys(ctx *shell.Context) jobsKeys {
	k := jobsKeys{
		Open:   shell.NewAction("jobs.open", "enter", "open the job", "enter", "l", "right"),
		Launch: shell.NewAction("jobs.launch", "n", "launch a job", "n").Danger(),
		Cancel: shell.NewAction("jobs.cancel", "x", "cancel job", "x").Danger(),
		Browse: shell.NewAction("jobs.browse", "b", "browse storage", "b"),
	}
	ctx.ApplyKeys(k.keymap())
	return k
}

// newJobs opens the job list of ctx.Cluster.
func newJobs(ctx *shell.Context) *Jobs {
	return &Jobs{ctx: ctx, id: shell.NewScreenID(), keys: newJobsKeys(ctx), list: list.New()}
}

func (s *Jobs) Title() string      { return "jobs" }
func (s *Jobs) Location() string   { return s.ctx.TargetName + " › jobs" }
func (s *Jobs) Keys() shell.Keymap { return append(s.keys.keymap(), shell.ListKeymap(s.list.Keys)...) }
func (s *Jobs) Capturing() bool    { return s.confirm != nil }
func (s *Jobs) SetSize(w, h int) {
	s.w, s.h = w, h
	s.list.SetHeight(max(h-3, 1))
}

func (s *Jobs) Close() { s.StopPolling(s.ctx) }

// jobsAnswer is what one poll of the job list brings.
type jobsAnswer struct {
	jobs     []cluster.JobSummary
	overview *cluster.Overview
}

func (s *Jobs) Init() tea.Cmd { return s.poll() }

func (s *Jobs) Refresh() tea.Cmd {
	s.Restart(s.ctx)
	return s.poll()
}

// poll asks the target for its jobs in a quiet task (the status bar shows
// it only when the target is slow).
func (s *Jobs) poll() tea.Cmd {
	c := s.ctx.Cluster
	return poll.Start(s.ctx, &s.Poller, s.id, "polling "+s.ctx.TargetName, func(ctx context.Context) (jobsAnswer, error) {
		var a jobsAnswer
		var err error
		if a.jobs, err = c.Jobs(ctx); err == nil {
			a.overview, _ = c.Overview(ctx)
		}
		return a, err
	})
}

func (s *Jobs) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case poll.Msg[jobsAnswer]:
		// A poll's failure stays on the screen (and is retried), not in
		// the status bar's error slot: esc keeps meaning "back".
		if !poll.Accept(s.ctx, &s.Poller, s.id, msg) {
			return s, nil
		}
		if msg.Err == nil {
			s.setJobs(msg.V.jobs)
			if msg.V.overview != nil {
				s.overview = msg.V.overview
			}
		}
		return s, poll.Schedule(s.ctx, s.id, s.Gen)
	case poll.TickMsg:
		if msg.Sid == s.id && msg.Gen == s.Gen {
			return s, s.poll()
		}
	case tea.KeyPressMsg:
		return s, s.key(msg)
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

// setJobs keeps the newest first (Flink's UI order) and the cursor on the
// same job.
func (s *Jobs) setJobs(jobs []cluster.JobSummary) {
	var sel string
	if j := s.selected(); j != nil {
		sel = j.ID
	}
	sort.SliceStable(jobs, func(a, b int) bool { return jobs[a].Start.After(jobs[b].Start) })
	s.jobs = jobs
	s.list.SetLen(len(jobs))
	s.applyFilter()
	for i, j := range jobs {
		if j.ID == sel {
			s.list.Select(i)
		}
	}
}

func (s *Jobs) SetFilter(f string) {
	s.filter = strings.ToLower(f)
	s.applyFilter()
}

func (s *Jobs) applyFilter() {
	if s.filter == "" {
		s.list.SetFilter(nil)
		return
	}
	f := s.filter
	s.list.SetFilter(func(i int) bool {
		j := s.jobs[i]
		return strings.Contains(strings.ToLower(j.ID+" "+j.Name+" "+string(j.Status)), f)
	})
}

func (s *Jobs) selected() *cluster.JobSummary {
	i, ok := s.list.Selected()
	if !ok || i >= len(s.jobs) {
		return nil
	}
	return &s.jobs[i]
}

func (s *Jobs) CopyText() string {
	if j := s.selected(); j != nil {
		return j.ID
	}
	return ""
}

func (s *Jobs) key(msg tea.KeyPressMsg) tea.Cmd {
	if s.confirm != nil {
		j := s.confirm
		s.confirm = nil
		if msg.String() == "y" || msg.String() == "Y" {
			return actions.CancelJob(s.ctx, j.ID)
		}
		return shell.Toast("cancel aborted", false)
	}
	if s.list.Update(msg) {
		return nil
	}
	k := s.keys
	j := s.selected()
	switch {
	case shell.KeyMatches(msg, k.Open):
		if j != nil {
			return shell.OpenScreen("job", j.ID)
		}
	case shell.KeyMatches(msg, k.Launch):
		return shell.OpenScreen("launch")
	case shell.KeyMatches(msg, k.Cancel):
		if j != nil {
			if j.Status.Terminal() {
				return shell.Toast(fmt.Sprintf("job %s already %s", format.ShortID(j.ID), j.Status), true)
			}
			s.confirm = j
		}
	case shell.KeyMatches(msg, k.Browse):
		return shell.OpenScreen("browse")
	}
	return nil
}

// Status: data age, as the job screens show it.
func (s *Jobs) Status() string {
	st := text.Plural(len(s.jobs), "job")
	return st + " · " + poll.DataAge(s.ctx, s.Polled, s.Err)
}

func (s *Jobs) View() string {
	th := s.ctx.Theme
	var out []string
	head := " " + text.Sanitize(s.ctx.TargetName)
	if o := s.overview; o != nil {
		head = fmt.Sprintf(" %s · version %s · %s · %d/%d slots free · %d running, %d finished, %d canceled, %d failed",
			text.Sanitize(s.ctx.TargetName), text.Sanitize(o.Version), text.Plural(o.TaskManagers, "task manager"), o.SlotsAvailable, o.SlotsTotal,
			o.JobsRunning, o.JobsFinished, o.JobsCancelled, o.JobsFailed)
	}
	out = append(out, th.Title.Render(text.Fit(head, s.w)))
	switch {
	case s.Err != nil:
		// Wrapped: the cause ("connection refused") is at the end.
		for _, l := range text.Wrap("✗ "+text.Sanitize(shell.FirstLine(s.Err))+" — retrying", s.w-2, 3) {
			out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
		}
	case s.ctx.JobOutput != "":
		out = append(out, th.Muted.Render(text.Fit(" jobs print (stdout sinks, logs) to "+s.ctx.JobOutput, s.w)))
	default:
		out = append(out, "")
	}
	idw := 32
	if s.w < 120 {
		idw = 8
	}
	cols := table.Layout([]table.Col{
		{Title: "JOB ID", Width: idw},
		{Title: "NAME", Flex: true},
		{Title: "STATE", Width: format.JobStateWidth},
		{Title: "START", Width: 8},
		{Title: "DURATION", Width: 8, Right: true},
		{Title: "TASKS", Flex: true},
	}, s.w)
	out = append(out, th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w)))
	switch {
	case len(s.jobs) == 0 && s.Polled.IsZero() && s.Err != nil:
		// The error line above says it all.
	case len(s.jobs) == 0 && s.Polled.IsZero():
		out = append(out, th.Muted.Render("  "+s.ctx.Spinner()+" asking "+text.Sanitize(s.ctx.TargetName)+" for its jobs …"))
	case len(s.jobs) == 0 && !s.Polled.IsZero():
		hint := "  no jobs yet"
		if s.keys.Launch.Binding.Enabled() {
			hint += " — n launches one from a job spec"
			if len(s.ctx.SpecDirs) > 0 {
				hint += " (" + strings.Join(s.ctx.SpecDirs, ", ") + ")"
			}
		}
		out = append(out, th.Muted.Render(text.Fit(hint, s.w)))
	case s.list.Len() == 0 && len(s.jobs) > 0:
		out = append(out, th.Muted.Render("  no job matches the filter"))
	default:
		now := s.ctx.Now()
		out = append(out, s.list.View(func(i int, sel bool) string {
			j := s.jobs[i]
			id := j.ID
			if idw < 32 {
				id = format.ShortID(id)
			}
			vals := []string{id, text.Sanitize(j.Name), string(j.Status), format.Clock(now, j.Start), format.Dur(j.Duration), format.TaskCounts(j.Tasks)}
			line := table.Cells(cols, vals...)
			if sel {
				return th.Selected.Render(text.Fit("> "+line, s.w))
			}
			// Colour the state cell only; the word carries the meaning.
			pre := table.Cells(cols[:2], vals[:2]...) + " "
			return "  " + pre + format.StatusStyle(s.ctx, string(j.Status)).Render(text.Fit(vals[2], cols[2].Width)) + " " + table.Cells(cols[3:], vals[3:]...)
		}))
	}
	view := strings.Join(out, "\n")
	if s.confirm != nil {
		q := fmt.Sprintf("CANCEL job %s %q (no savepoint)? y = cancel it, any other key = keep it running", s.confirm.ID, s.confirm.Name)
		view = form.OverlayBottom(view, form.ConfirmRows(th, text.Sanitize(q), s.w), s.h)
	}
	return view
}

// ---- launching a job from a spec ----

// Launch picks a job spec (from ctx.SpecDirs, or a path typed in) and
// submits it to the target, then follows the new job.
type Launch struct {
	ctx *shell.Context
	id  int
	pathchooser.Model
	err    error
	loaded bool
	w, h   int
	task   shell.TaskID
	busy   bool
	// pick, when set, returns the chosen spec instead of launching (the
	// resume screen's spec picker).
	pick func(path string) tea.Cmd
}

// OpenLaunch opens the launcher; with PickSpec it only picks a spec and
// hands it back (the resume screen's spec picker).
func OpenLaunch(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	if len(req.Args) != 0 {
		return nil, fmt.Errorf("launch takes no arguments")
	}
	l := newLaunch(ctx)
	if p, ok := req.Data.(routes.PickSpec); ok {
		l.pick = func(path string) tea.Cmd { return func() tea.Msg { return p.Reply(path) } }
	}
	return l, nil
}

func newLaunch(ctx *shell.Context) *Launch {
	return &Launch{ctx: ctx, id: shell.NewScreenID(), Model: pathchooser.New(func() *form.Model {
		return form.New("job spec", "enter uses this file").Text("path", "", "path/to/job.yaml")
	})}
}

type specsListedMsg struct {
	sid   int
	specs []string
	err   error
}

func (s *Launch) Title() string {
	if s.pick != nil {
		return "pick a job spec"
	}
	return "launch"
}
func (s *Launch) Location() string   { return strings.Join(s.ctx.SpecDirs, ", ") }
func (s *Launch) Keys() shell.Keymap { return shell.ListKeymap(s.List.Keys) }
func (s *Launch) Capturing() bool    { return s.Prompt != nil }
func (s *Launch) SetSize(w, h int) {
	s.w, s.h = w, h
	s.List.SetHeight(max(h-3, 1))
}
func (s *Launch) Close() { s.ctx.Tasks.Cancel(s.task) }

// Init lists the spec dirs (local files: specs are read from where ckpt
// runs) in a command.
func (s *Launch) Init() tea.Cmd {
	dirs, sid := s.ctx.SpecDirs, s.id
	return func() tea.Msg {
		var out []string
		for _, d := range dirs {
			ents, err := os.ReadDir(d)
			if err != nil {
				return specsListedMsg{sid: sid, err: err}
			}
			for _, e := range ents {
				if !e.IsDir() && spec.LooksLikeSpec(e.Name(), nil) {
					out = append(out, filepath.Join(d, e.Name()))
				}
			}
		}
		sort.Strings(out)
		return specsListedMsg{sid: sid, specs: out}
	}
}

func (s *Launch) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case specsListedMsg:
		if msg.sid == s.id {
			s.loaded, s.err = true, msg.err
			s.SetPaths(msg.specs)
		}
	case actions.Launched:
		if msg.Sid != s.id {
			return s, nil
		}
		s.busy = false
		s.ctx.Tasks.Done(msg.Task, msg.Err)
		if msg.Err != nil {
			return s, nil
		}
		s.ctx.LaunchedFrom(msg.JobID, msg.Spec)
		return s, tea.Batch(shell.ReplaceScreen("job", msg.JobID), shell.Toast("launched "+msg.Spec+" as job "+format.ShortID(msg.JobID), false))
	default:
		p, cmd := s.Model.Update(msg)
		if p != "" {
			return s, s.choose(p)
		}
		return s, cmd
	}
	return s, nil
}

func (s *Launch) choose(path string) tea.Cmd {
	if s.pick != nil {
		return tea.Batch(shell.Pop(), s.pick(path))
	}
	if s.busy {
		return nil
	}
	return s.launch(path)
}

// launch uploads the spec and runs it, as `ckpt submit` does.
func (s *Launch) launch(path string) tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast("read-only mode: launching is disabled", true)
	}
	s.busy = true
	id, tctx := s.ctx.Tasks.Start("launching "+path, 0)
	s.task = id
	ctx, sid := s.ctx, s.id
	return func() tea.Msg {
		m := actions.Launched{Sid: sid, Task: id, Spec: path}
		m.JobID, m.Err = actions.LaunchSpec(tctx, ctx, path)
		return m
	}
}

func (s *Launch) View() string {
	th := s.ctx.Theme
	title := " Launch a job on " + text.Sanitize(s.ctx.TargetName) + " — pick a job spec"
	if s.pick != nil {
		title = " The new job: pick its job spec"
	}
	out := []string{th.Title.Render(text.Fit(title, s.w))}
	switch {
	case s.err != nil:
		out = append(out, th.Error.Render(text.Fit(" ✗ "+text.Sanitize(s.err.Error()), s.w)))
	case len(s.ctx.SpecDirs) == 0:
		out = append(out, th.Muted.Render(text.Fit(" no spec directory configured: type a path", s.w)))
	default:
		out = append(out, th.Muted.Render(text.Fit(" from "+strings.Join(s.ctx.SpecDirs, ", ")+" (files are read from where ckpt runs)", s.w)))
	}
	out = append(out, th.Column.Render(text.Fit("  JOB SPEC", s.w)))
	if !s.loaded {
		out = append(out, th.Muted.Render("  "+s.ctx.Spinner()+" listing …"))
	} else {
		out = append(out, s.List.View(func(i int, sel bool) string {
			name := "another path …"
			if i < len(s.Paths) {
				name = text.Sanitize(s.Paths[i])
			}
			if sel {
				return th.Selected.Render(text.Fit("> "+name, s.w))
			}
			return text.Fit("  "+name, s.w)
		}))
	}
	view := strings.Join(out, "\n")
	if s.Prompt != nil {
		view = form.OverlayBottom(view, s.Prompt.Rows(s.ctx.Theme, s.w), s.h)
	}
	return view
}

// Keymap is the screen's actions, for the declaration.
func Keymap(ctx *shell.Context) shell.Keymap { return newJobsKeys(ctx).keymap() }

// The screens talk to ctx.Cluster: the header names the target.
func (*Jobs) UsesTarget()   {}
func (*Launch) UsesTarget() {}

// Count is what the "/" filter shows of the rows (the status bar's
// "filter: x (3 of 40)").
func (s *Jobs) Count() (shown, total int) { return s.list.Len(), s.list.Total() }
