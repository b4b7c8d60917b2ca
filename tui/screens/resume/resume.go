// Package resume submits a job resuming from a snapshot after a dry run
// of which state would be restored, dropped or refused; its snapshot
// picker offers the job's retained checkpoints and savepoints.
package resume

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/actions"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/pathchooser"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/target"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	args := req.Args
	if ctx.Cluster == nil {
		return nil, fmt.Errorf("no target: start ckpt with the embedded engine (default) or -m host:port")
	}
	if from, ok := req.Data.(routes.ResumeFrom); ok {
		r := newResume(ctx, from.JobID, from.Choices)
		r.snapshot, r.spec, r.note = from.Snapshot, from.Spec, from.Note
		r.program, r.fromRunning = from.Program, from.Running
		return r, nil
	}
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("resume takes a snapshot (savepoint dir, chk-N dir or _metadata) and optionally a job spec")
	}
	r := newResume(ctx, "", nil)
	r.snapshot = args[0]
	if len(args) == 2 {
		r.spec = args[1]
	}
	return r, nil
}

// Resume submits a job that resumes from a snapshot — a savepoint, a
// retained chk-N or a _metadata file — the way an operator should: pick
// the snapshot and the job spec, read the dry run (the inspector's plan:
// what is restored, what state is DROPPED and how much, what starts
// empty, what makes Flink refuse), and only then submit; dropping state
// takes an explicit -n and a confirmation. The new job replaces this
// screen.
type Resume struct {
	ctx     *shell.Context
	id      int
	keys    resumeKeys
	fromJob string // the job this resume replaces ("" from :resume)
	// fromRunning: that job is still running, so its chk-N dirs come and go.
	fromRunning bool
	choices     []routes.SnapRow // snapshots offered (the job's retained ones and savepoints)
	w, h        int
	list        list.Model

	snapshot string
	spec     string
	// program is the spec the target says the job was started from (ckpt's
	// engine keeps it), used when this session did not launch the job; Init
	// writes it to a file (specFromTarget) for the dry run and the upload.
	program        *cluster.Program
	specFromTarget bool
	allowNR        bool
	claim          int // index into claimModes
	// parallelism is the new job's default parallelism (rescale, as
	// `ckpt run -s -p N`; 0 = the spec's own): the dry run plans with it
	// and the submission asks for it. parInput is its prompt while open.
	parallelism int
	parInput    *textinput.Model

	gen      int
	planning bool
	plan     *inspector.ResumePlan
	planErr  error
	meta     *snapshot.Metadata
	rows     []planRow
	task     shell.TaskID

	confirm    string // "allow" or "submit" awaiting y
	submitting bool
	// note says why this snapshot was chosen (restart from the latest
	// good snapshot, a restore failure's way out).
	note string
}

var claimModes = []string{cluster.NoClaim, cluster.Claim}

type planRow struct {
	verdict target.Verdict
	op      inspector.PlanOperator
	reason  string
	// risk: an upgrade risk of the restored operator above (a sub-row).
	risk *inspector.StateRisk
}

type resumeKeys struct {
	Snapshot, Spec, Parallelism, AllowNR, Claim, Submit *shell.Action
}

func (k resumeKeys) keymap() shell.Keymap {
	return shell.Keymap{k.Snapshot, k.Spec, k.Parallelism, k.AllowNR, k.Claim, k.Submit}
}

func newResumeKeys(ctx *shell.Context) resumeKeys {
	k := resumeKeys{
		Snapshot:    shell.NewAction("resume.snapshot", "p", "pick the snapshot", "p"),
		Spec:        shell.NewAction("resume.spec", "s", "pick the job spec", "s"),
		Parallelism: shell.NewAction("resume.parallelism", "P", "parallelism: rescale (as run -p)", "P"),
		AllowNR:     shell.NewAction("resume.allow-non-restored", "n", "allow dropping state (-n)", "n").Danger(),
		Claim:       shell.NewAction("resume.claim", "m", "claim mode", "m"),
		Submit:      shell.NewAction("resume.submit", "enter", "submit", "enter").Danger(),
	}
	ctx.ApplyKeys(k.keymap())
	return k
}

func newResume(ctx *shell.Context, fromJob string, choices []routes.SnapRow) *Resume {
	return &Resume{ctx: ctx, id: shell.NewScreenID(), keys: newResumeKeys(ctx), fromJob: fromJob, choices: choices, list: list.New()}
}

func (s *Resume) Title() string    { return "resume" }
func (s *Resume) Location() string { return s.snapshot }
func (s *Resume) Keys() shell.Keymap {
	return append(s.keys.keymap(), shell.ListKeymap(s.list.Keys)...)
}
func (s *Resume) Capturing() bool  { return s.confirm != "" || s.parInput != nil }
func (s *Resume) SetSize(w, h int) { s.w, s.h = w, h; s.list.SetHeight(max(h-s.chromeRows(), 1)) }

// chromeRows: the title, the four settings, the dry run's lines, the
// column headings, the WHY detail lines and the hint at the bottom.
func (s *Resume) chromeRows() int {
	n := 12
	if s.plan != nil {
		n += len(s.planNotes())
	}
	return n
}
func (s *Resume) Close()           { s.ctx.Tasks.Cancel(s.task) }
func (s *Resume) CopyText() string { return s.snapshot }

func (s *Resume) Init() tea.Cmd {
	if s.program != nil && s.spec == "" {
		return s.writeProgram()
	}
	return s.dryRun()
}

// programSpecMsg is the target's spec for the job, written to path.
type programSpecMsg struct {
	sid  int
	path string
	err  error
}

// writeProgram writes the spec the target started the job from into
// $TMPDIR/ckpt-tui-specs/<job id>/<its name>, in a command, so the dry run
// and the upload read it like any spec file.
func (s *Resume) writeProgram() tea.Cmd {
	sid, job, p := s.id, s.fromJob, *s.program
	return func() tea.Msg {
		name := filepath.Base(p.Name)
		if name == "." || name == "/" || name == "" {
			name = "job.yaml"
		}
		dir := filepath.Join(os.TempDir(), "ckpt-tui-specs", filepath.Base(job))
		path := filepath.Join(dir, name)
		err := os.MkdirAll(dir, 0o700)
		if err == nil {
			err = os.WriteFile(path, []byte(p.Spec), 0o600)
		}
		return programSpecMsg{sid: sid, path: path, err: err}
	}
}

func (s *Resume) Refresh() tea.Cmd { return s.dryRun() }

type planMsg struct {
	sid, gen int
	task     shell.TaskID
	plan     *inspector.ResumePlan
	meta     *snapshot.Metadata
	err      error
}

// resumeSetMsg sets the snapshot or the spec (from a picker).
type resumeSetMsg struct {
	sid            int
	snapshot, spec string
}

// dryRun reads the snapshot and builds the spec's job graph, then plans
// the resume with inspector.PlanResume and reads the restored state's
// schema for its upgrade risks (inspector.AssessUpgrade: the stream heads
// of the state files), in a command.
func (s *Resume) dryRun() tea.Cmd {
	s.gen++
	s.plan, s.planErr, s.meta, s.rows = nil, nil, nil, nil
	s.list.SetLen(0)
	if s.snapshot == "" || s.spec == "" {
		s.planning = false
		return nil
	}
	s.ctx.Tasks.Cancel(s.task)
	s.planning = true
	id, tctx := s.ctx.Tasks.Start("dry run: "+s.snapshot, 0)
	s.task = id
	fsys, timeout, sid, gen, snap, spec, specTarget := s.ctx.FS, s.ctx.Timeout, s.id, s.gen, s.snapshot, s.spec, s.ctx.SpecTarget
	if p := s.parallelism; p > 0 {
		// Rescaled: the graph the job would run at parallelism p.
		specTarget = func(path string) (inspector.Target, error) { return target.SpecWithParallelism(path, p) }
	}
	return func() tea.Msg {
		m := planMsg{sid: sid, gen: gen, task: id}
		if specTarget == nil {
			m.err = fmt.Errorf("job specs cannot be read here (no spec loader)")
			return m
		}
		t, err := specTarget(spec)
		if err != nil {
			m.err = err
			return m
		}
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		md, err := snapshot.Read(cctx, fsys, snap)
		if err != nil {
			m.err = err
			return m
		}
		mapping, err := t.Mapping()
		if err != nil {
			m.err = err
			return m
		}
		m.meta, m.plan = md, inspector.PlanResume(md, t, mapping)
		inspector.AssessUpgrade(cctx, fsys, md, m.plan, t)
		return m
	}
}

func (s *Resume) setPlan(p *inspector.ResumePlan) {
	s.plan = p
	s.rows = nil
	failed := map[string]string{}
	for _, f := range p.Failures {
		failed[f.ID] = f.Reason
	}
	risks := map[string][]*inspector.StateRisk{}
	if p.Upgrade != nil {
		for i := range p.Upgrade.Risks {
			r := &p.Upgrade.Risks[i]
			risks[r.OperatorID] = append(risks[r.OperatorID], r)
		}
	}
	add := func(ops []inspector.PlanOperator, v target.Verdict) {
		for _, o := range ops {
			r := planRow{verdict: v, op: o, reason: o.Note}
			if why, ok := failed[o.ID]; ok {
				r.verdict, r.reason = target.Fails, why
			}
			s.rows = append(s.rows, r)
			if v == target.Restored {
				// Its upgrade risks under it, refused ones first.
				for _, k := range risks[o.ID] {
					s.rows = append(s.rows, planRow{verdict: v, op: o, risk: k})
				}
			}
		}
	}
	// What needs attention first: refusals, then lost state.
	for _, o := range p.Restored {
		if _, ok := failed[o.ID]; ok {
			add([]inspector.PlanOperator{o}, target.Restored)
		}
	}
	add(p.Dropped, target.Dropped)
	add(p.New, target.New)
	for _, o := range p.Restored {
		if _, ok := failed[o.ID]; !ok {
			add([]inspector.PlanOperator{o}, target.Restored)
		}
	}
	add(p.SkippedEmpty, target.Skipped)
	s.list.SetLen(len(s.rows))
}

func (s *Resume) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case planMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.ctx.Tasks.Done(msg.task, nil)
		if msg.gen != s.gen {
			return s, nil
		}
		s.planning = false
		s.planErr = msg.err
		if msg.err == nil {
			s.meta = msg.meta
			s.setPlan(msg.plan)
		}
	case programSpecMsg:
		if msg.sid != s.id {
			return s, nil
		}
		if msg.err != nil {
			s.planErr = fmt.Errorf("writing the job's spec from the target: %w", msg.err)
			return s, nil
		}
		if s.spec == "" {
			s.spec, s.specFromTarget = msg.path, true
		}
		return s, s.dryRun()
	case resumeSetMsg:
		if msg.sid != s.id {
			return s, nil
		}
		if msg.spec != "" {
			s.specFromTarget = false
		}
		if msg.snapshot != "" {
			s.snapshot = msg.snapshot
		}
		if msg.spec != "" {
			s.spec = msg.spec
		}
		s.allowNR = false // a new plan needs a new decision
		return s, s.dryRun()
	case actions.Launched:
		if msg.Sid != s.id {
			return s, nil
		}
		s.submitting = false
		s.ctx.Tasks.Done(msg.Task, msg.Err)
		if msg.Err != nil {
			return s, nil
		}
		s.ctx.LaunchedFrom(msg.JobID, msg.Spec)
		s.ctx.ResumedWith(msg.JobID, claimModes[s.claim])
		return s, tea.Batch(shell.ReplaceScreen("job", msg.JobID), shell.Toast("resumed as job "+format.ShortID(msg.JobID)+" from "+s.snapshot, false))
	case tea.KeyPressMsg:
		return s, s.key(msg)
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *Resume) key(msg tea.KeyPressMsg) tea.Cmd {
	if s.parInput != nil {
		switch msg.String() {
		case "esc":
			s.parInput = nil
			return nil
		case "enter":
			v := strings.TrimSpace(s.parInput.Value())
			p := 0
			if v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return shell.Toast(fmt.Sprintf("parallelism %q: want a positive number (empty: the spec's own)", v), true)
				}
				p = n
			}
			s.parInput = nil
			if p == s.parallelism {
				return nil
			}
			s.parallelism = p
			s.allowNR = false // a new plan needs a new decision
			return s.dryRun()
		}
		return form.UpdateInput(s.parInput, msg)
	}
	if s.confirm != "" {
		what := s.confirm
		s.confirm = ""
		if msg.String() != "y" && msg.String() != "Y" {
			return shell.Toast("nothing changed", false)
		}
		switch what {
		case "allow":
			s.allowNR = true
			return shell.Toast(fmt.Sprintf("-n set: %s of state will be dropped", text.Bytes(s.plan.DroppedBytes)), true)
		case "submit":
			return s.submit()
		}
		return nil
	}
	if s.list.Update(msg) {
		return nil
	}
	k := s.keys
	switch {
	case shell.KeyMatches(msg, k.Snapshot):
		return shell.Push(newSnapshotPicker(s.ctx, s.id, s.choices))
	case shell.KeyMatches(msg, k.Spec):
		sid := s.id
		return shell.OpenScreenWith("launch", routes.PickSpec{Reply: func(p string) tea.Msg { return resumeSetMsg{sid: sid, spec: p} }})
	case shell.KeyMatches(msg, k.Claim):
		s.claim = (s.claim + 1) % len(claimModes)
	case shell.KeyMatches(msg, k.Parallelism):
		in := textinput.New()
		in.Prompt = "parallelism: "
		in.Placeholder = "N (empty: the spec's own)"
		if s.parallelism > 0 {
			in.SetValue(strconv.Itoa(s.parallelism))
		}
		st := textinput.DefaultStyles(true)
		st.Cursor.Blink = false
		in.SetStyles(st)
		in.SetWidth(max(s.w-16, 10))
		s.parInput = &in
		return in.Focus()
	case shell.KeyMatches(msg, k.AllowNR):
		if s.allowNR {
			s.allowNR = false
			return nil
		}
		if s.plan == nil || len(s.plan.Dropped) == 0 {
			return shell.Toast("nothing would be dropped: -n is not needed", false)
		}
		s.confirm = "allow"
	case shell.KeyMatches(msg, k.Submit):
		if reason := s.blocked(); reason != "" {
			return shell.Toast(reason, true)
		}
		s.confirm = "submit"
	}
	return nil
}

// blocked says why the resume cannot be submitted yet ("" when it can).
func (s *Resume) blocked() string {
	switch {
	case s.submitting:
		return "already submitting"
	case s.snapshot == "":
		return "pick the snapshot first (p)"
	case s.spec == "":
		return "pick the job spec first (s)"
	case s.planning:
		return "the dry run is still running"
	case s.planErr != nil:
		return "the dry run failed: " + shell.FirstLine(s.planErr)
	case s.plan == nil:
		return "no dry run yet"
	}
	if r := s.plan.Refuse(s.allowNR); r != nil {
		if r.ExitCode == inspector.ExitResumeDropState {
			return r.Reason + ": n allows dropping it"
		}
		return r.Reason
	}
	return ""
}

// submit uploads the spec and runs it resuming from the snapshot.
func (s *Resume) submit() tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast("read-only mode: resume is disabled", true)
	}
	s.submitting = true
	id, tctx := s.ctx.Tasks.Start("submitting "+s.spec+" from "+s.snapshot, 0)
	s.task = id
	ctx, sid, spec, snap := s.ctx, s.id, s.spec, s.snapshot
	req := cluster.RunRequest{SavepointPath: s.snapshot, AllowNonRestoredState: s.allowNR, ClaimMode: claimModes[s.claim], Config: s.ctx.SubmitConfig,
		Parallelism: s.parallelism}
	return func() tea.Msg {
		m := actions.Launched{Sid: sid, Task: id, Spec: spec}
		// The dry run read it a while ago; a running job's newer
		// checkpoints subsume (delete) a chk-N meanwhile. Check again
		// right before submitting.
		if m.Err = stillThere(tctx, ctx, snap); m.Err != nil {
			return m
		}
		m.JobID, m.Err = actions.SubmitSpec(tctx, ctx, spec, req)
		return m
	}
}

// stillThere checks that the snapshot to resume from still exists and is
// complete (its _metadata is there), naming the path when it is not.
func stillThere(tctx context.Context, ctx *shell.Context, snap string) error {
	cctx, cancel := shell.WithTimeout(tctx, ctx.Timeout)
	defer cancel()
	loc, err := snapshot.Locate(cctx, ctx.FS, snap)
	if err == nil {
		_, err = ctx.FS.Stat(cctx, loc.MetadataURI)
	}
	switch {
	case err == nil:
		return nil
	case storage.IsNotExist(err) || errors.Is(err, snapshot.ErrNotSnapshot):
		return fmt.Errorf("not submitted: %s is gone or incomplete (no _metadata) since the dry run — subsumed by a newer checkpoint or deleted; pick another snapshot (p)", snap)
	}
	return fmt.Errorf("not submitted: cannot check %s before submitting: %w", snap, err)
}

func (s *Resume) View() string {
	th := s.ctx.Theme
	kv := func(k, v, hint string) string {
		return " " + th.Muted.Render(text.Fit(k, 10)) + text.Fit(v, max(s.w-12-text.Width(hint), 10)) + th.Muted.Render(hint)
	}
	snap, spec := text.Sanitize(s.snapshot), text.Sanitize(s.spec)
	if snap == "" {
		snap = "— (none: p picks one)"
	} else if s.meta != nil {
		kind := "checkpoint"
		if props, ok, _ := s.meta.Properties(); ok && props.Kind == snapshot.KindSavepoint {
			kind = "savepoint"
		} else if snapshot.IsSavepointDirName(storage.Base(strings.TrimSuffix(s.snapshot, "/_metadata"))) {
			kind = "savepoint"
		}
		snap += fmt.Sprintf(" (%s, checkpoint %d, %s)", kind, s.meta.CheckpointID, text.Plural(len(s.meta.Operators), "operator"))
	}
	if spec == "" {
		spec = "— (none: s picks one)"
	} else if s.specFromTarget {
		spec += " (the spec " + text.Sanitize(s.ctx.TargetName) + " started the job from)"
	}
	nr := th.OK.Render("off — refuse to drop state")
	if s.allowNR {
		nr = th.Dropped.Render("ON — unclaimed state is DROPPED")
	}
	nr += th.Muted.Render(" · claim mode " + claimModes[s.claim])
	par := "the spec's own"
	if s.parallelism > 0 {
		par = fmt.Sprintf("%d (rescale, as run -p %d; the dry run checks max parallelism)", s.parallelism, s.parallelism)
	}
	out := []string{
		th.Title.Render(text.Fit(" Resume a job from a snapshot on "+text.Sanitize(s.ctx.TargetName)+" — dry run first", s.w)),
		kv("snapshot", snap, " p"),
		kv("job spec", spec, " s"),
		kv("-p", par, " P"),
		" " + th.Muted.Render(text.Fit("-n", 10)) + text.Fit(nr, max(s.w-15, 10)) + th.Muted.Render(" n m"),
	}
	if s.note != "" {
		out = append(out, th.OK.Render(text.Fit(" "+text.Sanitize(s.note), s.w)))
	}
	if s.fromRunning && snapshot.KindOfName(storage.Base(strings.TrimSuffix(strings.TrimRight(s.snapshot, "/"), "/_metadata")), true) == snapshot.PathCheckpointDir {
		out = append(out, th.Warn.Render(text.Fit(" ! the job is still running: this chk-N is deleted once newer checkpoints subsume it — stop it with a savepoint, or resume from a savepoint", s.w)))
	}
	switch {
	case s.planning:
		out = append(out, th.Muted.Render(" "+s.ctx.Spinner()+" dry run: reading the snapshot and building the job graph …"))
	case s.planErr != nil:
		out = append(out, th.Error.Render(text.Fit(" ✗ dry run: "+text.Sanitize(shell.FirstLine(s.planErr)), s.w)))
	case s.plan == nil:
		out = append(out, th.Muted.Render(text.Fit(" the dry run runs once the snapshot and the job spec are picked", s.w)))
	default:
		out = append(out, s.verdictLine())
		for _, n := range s.planNotes() {
			out = append(out, th.Warn.Render(text.Fit(" "+n, s.w)))
		}
	}
	cols := table.Layout([]table.Col{
		{Title: "ON RESUME", Width: 12},
		{Title: "OPERATOR ID", Width: 12},
		{Title: "UID / NAME", Flex: true},
		{Title: "STATE", Width: 9, Right: true},
		{Title: "PAR", Width: 7, Right: true},
		{Title: "WHY", Flex: true},
	}, s.w)
	out = append(out, th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w)))
	if s.plan != nil {
		out = append(out, s.list.View(func(i int, sel bool) string {
			r := s.rows[i]
			if k := r.risk; k != nil {
				st := th.Warn
				if k.Refused {
					st = th.Error
				}
				line := table.Cells(cols, "└ "+k.Risk.Label(), "", text.Sanitize(k.What()), "", "", text.Sanitize(rowWhy(r)))
				if sel {
					return th.Selected.Render(text.Fit("> "+line, s.w))
				}
				return "  " + st.Render(line)
			}
			word, st := "", th.Muted
			switch r.verdict {
			case target.Restored:
				word, st = "RESTORED", th.Restored
			case target.Dropped:
				word, st = "DROPPED", th.Dropped
			case target.Skipped:
				word = "skipped"
			case target.New:
				word, st = "NEW (empty)", th.New
			case target.Fails:
				word, st = "FAILS", th.Error
			}
			name := r.op.UID
			if r.op.Name != "" && name == "" {
				name = "(" + r.op.Name + ")"
			}
			if name == "" {
				name = "—"
			}
			size := text.Bytes(r.op.StateSize)
			if r.verdict == target.New {
				size = "—"
			}
			par := ""
			switch {
			case r.op.Parallelism > 0 && r.op.NewParallelism > 0 && int(r.op.Parallelism) != r.op.NewParallelism:
				par = fmt.Sprintf("%d→%d", r.op.Parallelism, r.op.NewParallelism)
			case r.op.NewParallelism > 0:
				par = fmt.Sprint(r.op.NewParallelism)
			case r.op.Parallelism > 0:
				par = fmt.Sprint(r.op.Parallelism)
			}
			id := r.op.ID
			if len(id) > 11 {
				id = id[:11] + "…"
			}
			line := table.Cells(cols, word, id, text.Sanitize(name), size, par, text.Sanitize(rowWhy(r)))
			if sel {
				return th.Selected.Render(text.Fit("> "+line, s.w))
			}
			return "  " + st.Render(line)
		}))
	}
	view := strings.Join(out, "\n")
	// Above the hint: the selected row's WHY in full (the column cuts it).
	var bottom []string
	if s.plan != nil {
		bottom = s.whyLines()
	}
	// Why it is blocked, wrapped to two lines rather than cut.
	var hint []string
	for _, l := range text.Wrap("enter submits · "+s.submitHint(), max(s.w-2, 10), 2) {
		hint = append(hint, th.Muted.Render(text.Fit(" "+l, s.w)))
	}
	q := ""
	switch s.confirm {
	case "allow":
		q = fmt.Sprintf("ALLOW DROPPING the state of %s (%s)? It is lost for good. y = allow (-n), any other key = keep refusing",
			text.Plural(len(s.plan.Dropped), "operator"), text.Bytes(s.plan.DroppedBytes))
	case "submit":
		q = fmt.Sprintf("SUBMIT %s resuming from %s", spec, text.Sanitize(s.snapshot))
		if s.parallelism > 0 {
			q += fmt.Sprintf(" at parallelism %d", s.parallelism)
		}
		if s.allowNR {
			q += fmt.Sprintf(" WITH -n (%s dropped)", text.Bytes(s.plan.DroppedBytes))
		}
		if u := s.plan.Upgrade; u != nil && len(u.Risks) > 0 {
			q += fmt.Sprintf(", its state with %s (listed above)", text.Plural(len(u.Risks), "upgrade risk"))
		}
		q += "? y = submit, any other key = not now"
	}
	if q != "" {
		// Wrapped, never cut: what is confirmed must be readable whole.
		hint = form.ConfirmRows(th, q, s.w)
	}
	if s.parInput != nil {
		hint = []string{th.Prompt.Render(text.Clip(" "+s.parInput.View(), s.w))}
	}
	// One line above the bottom: toasts take the bottom line's right end.
	return form.OverlayBottom(view, append(append(bottom, hint...), ""), s.h)
}

// rowWhy is what the WHY column says of a row.
func rowWhy(r planRow) string {
	if k := r.risk; k != nil {
		return k.What() + ": " + k.Type + " — " + k.Detail
	}
	if r.reason == "" && r.verdict == target.Dropped {
		return "no operator of the new job has this ID"
	}
	return r.reason
}

// whyLines show the selected row's WHY in full, wrapped to two lines
// (the column cuts long reasons).
func (s *Resume) whyLines() []string {
	th := s.ctx.Theme
	why := "—"
	if i, ok := s.list.Selected(); ok && i < len(s.rows) {
		if w := rowWhy(s.rows[i]); w != "" {
			why = text.Sanitize(w)
		}
	}
	lines := text.Wrap("why: "+why, max(s.w-2, 10), 2)
	for len(lines) < 2 {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = th.Muted.Render(text.Fit(" "+l, s.w))
	}
	return lines
}

// planNotes are what the plan says beyond the counts: state a resume
// loses without -n (keyed state of an operator no longer keyed), and a
// max-parallelism check that could not be made.
func (s *Resume) planNotes() []string {
	return append(target.PlanNotes(s.plan), upgradeNotes(s.plan.Upgrade)...)
}

// upgradeNotes sum up the restored state's upgrade risks (each is listed
// under its operator), with Flink's guidance for Kryo, and the operators
// whose state schema could not be read, so their risks are unknown.
func upgradeNotes(u *inspector.UpgradeRisks) []string {
	if u == nil {
		return nil
	}
	var out []string
	counts := map[inspector.RiskKind]int{}
	var order []string
	listed := 0
	for _, r := range u.Risks {
		if r.Refused {
			continue
		}
		if counts[r.Risk] == 0 {
			order = append(order, string(r.Risk))
		}
		counts[r.Risk]++
		listed++
	}
	if listed > 0 {
		var parts []string
		for _, k := range order {
			parts = append(parts, fmt.Sprintf("%d %s", counts[inspector.RiskKind(k)], inspector.RiskKind(k).Label()))
		}
		out = append(out, fmt.Sprintf("upgrade risks (snapshot written by %s): %s — listed under their operators",
			u.WrittenBy, strings.Join(parts, " · ")))
	}
	if u.KryoGuidance != "" {
		out = append(out, "Kryo: "+u.KryoGuidance)
	}
	engine, unread := 0, []inspector.SchemaGap{}
	for _, g := range u.Unread {
		if g.Engine {
			engine++
		} else {
			unread = append(unread, g)
		}
	}
	if engine > 0 {
		out = append(out, fmt.Sprintf("upgrade risks not checked for %s: ckpt engine state records no serializer types", text.Plural(engine, "operator")))
	}
	if len(unread) > 0 {
		out = append(out, fmt.Sprintf("upgrade risks UNKNOWN for %s (state schema not read): %s", text.Plural(len(unread), "operator"), unread[0].Reason))
	}
	return out
}

func (s *Resume) submitHint() string {
	if r := s.blocked(); r != "" {
		return "blocked: " + r
	}
	return "ready"
}

func (s *Resume) verdictLine() string {
	th := s.ctx.Theme
	p := s.plan
	parts := []string{th.Restored.Render(fmt.Sprintf("%d RESTORED", len(p.Restored)))}
	if len(p.Dropped) > 0 {
		parts = append(parts, th.Dropped.Render(fmt.Sprintf("%d DROPPED %s — needs -n, and that state is lost", len(p.Dropped), text.Bytes(p.DroppedBytes))))
	} else {
		parts = append(parts, th.OK.Render("nothing dropped"))
	}
	parts = append(parts, th.New.Render(fmt.Sprintf("%d NEW (start empty)", len(p.New))))
	if len(p.Failures) > 0 {
		parts = append(parts, th.Error.Render(fmt.Sprintf("%d FAIL: Flink refuses this resume even with -n", len(p.Failures))))
	}
	if len(p.SkippedEmpty) > 0 {
		parts = append(parts, th.Muted.Render(fmt.Sprintf("%d stateless skipped", len(p.SkippedEmpty))))
	}
	return text.Fit(" dry run: "+strings.Join(parts, " · "), s.w)
}

// ---- picking a snapshot ----

// snapshotPicker offers the job's complete snapshots, or a typed path.
type snapshotPicker struct {
	ctx     *shell.Context
	target  int // the resume screen
	choices []routes.SnapRow
	pathchooser.Model
	w, h int
}

func newSnapshotPicker(ctx *shell.Context, target int, choices []routes.SnapRow) *snapshotPicker {
	p := &snapshotPicker{ctx: ctx, target: target, choices: choices, Model: pathchooser.New(func() *form.Model {
		return form.New("snapshot", "enter uses this path").Text("path", "", "savepoint dir, chk-N dir or _metadata (local or hdfs://)")
	})}
	// Newest first: by checkpoint id where both are known, else by time.
	choices = slices.Clone(choices)
	slices.SortStableFunc(choices, func(a, b routes.SnapRow) int {
		if a.ID > 0 && b.ID > 0 && a.ID != b.ID {
			return cmp.Compare(b.ID, a.ID)
		}
		return b.ModTime.Compare(a.ModTime)
	})
	p.choices = choices
	paths := make([]string, len(choices))
	for i, c := range choices {
		paths[i] = c.Path
	}
	p.SetPaths(paths)
	return p
}

func (s *snapshotPicker) Init() tea.Cmd      { return nil }
func (s *snapshotPicker) Title() string      { return "pick a snapshot" }
func (s *snapshotPicker) Location() string   { return "resume from" }
func (s *snapshotPicker) Keys() shell.Keymap { return shell.ListKeymap(s.List.Keys) }
func (s *snapshotPicker) Capturing() bool    { return s.Prompt != nil }
func (s *snapshotPicker) SetSize(w, h int)   { s.w, s.h = w, h; s.List.SetHeight(max(h-2, 1)) }

func (s *snapshotPicker) choose(path string) tea.Cmd {
	sid := s.target
	return tea.Batch(shell.Pop(), func() tea.Msg { return resumeSetMsg{sid: sid, snapshot: path} })
}

func (s *snapshotPicker) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	p, cmd := s.Model.Update(msg)
	if p != "" {
		return s, s.choose(p)
	}
	return s, cmd
}

func (s *snapshotPicker) View() string {
	th := s.ctx.Theme
	now := s.ctx.Now()
	out := []string{th.Title.Render(text.Fit(" Resume from: the job's complete snapshots, newest first, or another path", s.w)),
		th.Column.Render(text.Fit("  KIND       SNAPSHOT", s.w))}
	out = append(out, s.List.View(func(i int, sel bool) string {
		line := "another path …"
		if i < len(s.choices) {
			r := s.choices[i]
			kind := "checkpoint"
			if r.Savepoint {
				kind = "savepoint"
			}
			// Size is what the directory holds on storage, not the
			// snapshot's checkpointed or full size: say so.
			line = fmt.Sprintf("%s %s (%s full, %s ago) %s", text.Fit(kind, 10), text.Sanitize(r.Path), text.Bytes(r.Size), text.Age(now, r.ModTime), r.Rest)
		}
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		return text.Fit("  "+line, s.w)
	}))
	view := strings.Join(out, "\n")
	if s.Prompt != nil {
		view = form.OverlayBottom(view, s.Prompt.Rows(s.ctx.Theme, s.w), s.h)
	}
	return view
}

// Keymap is the screen's actions, for the declaration.
func Keymap(ctx *shell.Context) shell.Keymap { return newResumeKeys(ctx).keymap() }

// The screens talk to ctx.Cluster: the header names the target.
func (*Resume) UsesTarget()         {}
func (*snapshotPicker) UsesTarget() {}

// Selection is what the screen would submit, and its dry run: read by the
// tests of the screens that open it.
type Selection struct {
	Snapshot, Spec, Note string
	// SpecFromTarget: the spec was written from what the target said the
	// job was started from.
	SpecFromTarget, AllowNonRestored bool
	Plan                             *inspector.ResumePlan
	PlanErr                          error
}

// Selection is what the screen would submit now.
func (s *Resume) Selection() Selection {
	return Selection{Snapshot: s.snapshot, Spec: s.spec, Note: s.note, SpecFromTarget: s.specFromTarget,
		AllowNonRestored: s.allowNR, Plan: s.plan, PlanErr: s.planErr}
}
