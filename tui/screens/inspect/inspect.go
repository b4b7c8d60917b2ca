// Package inspect shows a checkpoint or savepoint _metadata: header,
// operators with their uids, the resume dry run; an operator subtask by
// subtask, and a subtask's state handles and files.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/target"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Open takes "PATH [--uids=TARGET] [--against=TARGET]": TARGET is
// what the u prompt takes (uid1,uid2,… or @file, a job spec or a uids
// file); --uids names the operators, --against also shows the dry-run.
func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	args := req.Args
	var path, target string
	against := false
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--uids="):
			target = strings.TrimPrefix(a, "--uids=")
		case strings.HasPrefix(a, "--against="):
			target, against = strings.TrimPrefix(a, "--against="), true
		case strings.HasPrefix(a, "--"):
			return nil, fmt.Errorf("inspect: unknown option %q (want --uids=TARGET or --against=TARGET)", a)
		case path == "":
			path = a
		default:
			return nil, fmt.Errorf("inspect takes one path (a _metadata file, chk-N or savepoint dir), got %q and %q", path, a)
		}
	}
	if path == "" {
		return nil, fmt.Errorf("inspect takes one path (a _metadata file, chk-N or savepoint dir)")
	}
	s := newInspect(ctx, path)
	s.initTarget, s.initAgainst = target, against
	return s, nil
}

// opRow is one operator with what the table shows about it.
type opRow struct {
	op       *snapshot.OperatorState
	id       string
	size     int64
	handles  int
	kinds    string // keyed / operator / channel / coordinator
	uid      string // from the file (V5+) or mapped by the user
	lower    string
	verdict  target.Verdict
	newOnly  bool   // an operator of the new job with no state in the snapshot (dry-run row)
	newPar   int    // its parallelism in the new job, when known
	note     string // the dry-run's remark on this operator
	finished int
}

// Inspect shows a `_metadata`: the header, then operators as they decode.
type Inspect struct {
	ctx    *shell.Context
	id     int
	arg    string // as given
	meta   string // the _metadata URI
	excl   string // the exclusive dir (where relative handles live)
	hdr    *snapshot.Header
	props  *snapshot.Properties
	rows   []*opRow
	ops    []*snapshot.OperatorState
	list   list.Model
	filter string
	keys   inspectKeys
	w, h   int

	loading  bool
	task     shell.TaskID
	started  time.Time
	loadedIn time.Duration
	offset   int64
	size     int64
	err      error

	// target is the new job, from uids or a job spec the user gave: its
	// operators name the snapshot's IDs and are what the dry-run resumes
	// into. mapping is its uid → ID table; plan is inspector's dry-run,
	// recomputed when the target, the operators or the mode change.
	target  *inspector.Target
	mapping *inspector.UIDMapping
	plan    *inspector.ResumePlan
	details bool // tab: the details pane of the selected operator is shown
	dryRun  bool
	prompt  *textinput.Model
	uidTask shell.TaskID
	// initTarget is a target given when opening (-i --against); it is
	// loaded by Init, and initAgainst turns the dry-run on with it.
	initTarget  string
	initAgainst bool
	wantDryRun  bool

	// The three sizes (FLINK-25557): checkpointed (this checkpoint's
	// delta) and full add up as operators decode; on disk is measured once
	// decoding is done (a stat per referenced file and one du of the
	// snapshot dir), in a task.
	ckptBytes, fullBytes int64
	disk                 inspector.Sizes
	diskState            format.Tri // unknown: not started or measuring; yes: measured; no: failed
	diskTask             shell.TaskID
	// restorable and verdict are the file check's (inspector.Report's
	// Restorable and Verdict), from the same Examine that measures disk.
	restorable, verdict string
	// rw is the rewrite being marked (x, R) and written (W).
	rw rewriteState
}

// inspectDiskMsg carries the measured size on disk.
type inspectDiskMsg struct {
	sid   int
	task  shell.TaskID
	sizes inspector.Sizes
	// restorable and verdict: Report.Restorable and Report.Verdict.
	restorable, verdict string
	err                 error
}

// measureDisk measures what storage holds for the decoded snapshot.
func (s *Inspect) measureDisk() tea.Cmd {
	m := &snapshot.Metadata{Version: s.hdr.Version, CheckpointID: s.hdr.CheckpointID, Operators: s.ops, Location: s.meta, ExclusiveDir: s.excl}
	id, tctx := s.ctx.Tasks.StartQuiet("measuring "+s.excl+" on disk", 0)
	s.diskTask, s.diskState = id, format.Unknown
	fsys, timeout, sid := s.ctx.FS, s.ctx.Timeout, s.id
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		r, err := inspector.Examine(cctx, fsys, m, inspector.Options{CheckFiles: true})
		msg := inspectDiskMsg{sid: sid, task: id, err: err}
		if err == nil {
			msg.sizes, msg.restorable, msg.verdict = r.Sizes, r.Restorable, r.Verdict
		}
		return msg
	}
}

type inspectKeys struct {
	Open, State, UIDs, DryRun, Mark, Drop, Rename, Rewrite *shell.Action
}

func (k inspectKeys) keymap() shell.Keymap {
	return shell.Keymap{k.Open, k.State, k.UIDs, k.DryRun, k.Mark, k.Drop, k.Rename, k.Rewrite}
}

func newInspectKeys(ctx *shell.Context) inspectKeys {
	k := inspectKeys{
		Open:   shell.NewAction("inspect.open", "enter", "subtasks of operator", "enter", "l", "right"),
		State:  shell.NewAction("inspect.state", "s", "what the operator's state holds: states, entries", "s"),
		UIDs:   shell.NewAction("inspect.uids", "u", "new job: uids (a,b,c), @uids-file or @job-spec.yaml", "u"),
		DryRun: shell.NewAction("inspect.dry-run", "r", "resume dry-run against the new job", "r"),
		Mark:   shell.NewAction("inspect.mark", "m", "mark for diff / diff with mark", "m"),
		// Snapshot surgery (ckpt rewrite): marks, then a write to a new dir.
		Drop:    shell.NewAction("inspect.drop", "x", "rewrite: mark/unmark the operator's state to drop", "x").Danger(),
		Rename:  shell.NewAction("inspect.rename", "R", "rewrite: move the operator's state to a new uid", "R").Danger(),
		Rewrite: shell.NewAction("inspect.rewrite", "W", "rewrite: write the marked edits to a new dir, confirmed", "W").Danger(),
	}
	ctx.ApplyKeys(k.keymap())
	return k
}

// newInspect opens the inspector on a `_metadata` file or a snapshot dir.
func newInspect(ctx *shell.Context, uri string) *Inspect {
	return &Inspect{ctx: ctx, id: shell.NewScreenID(), arg: uri, list: list.New(), keys: newInspectKeys(ctx)}
}

func (s *Inspect) Title() string {
	b := storage.Base(s.arg)
	if b == "_metadata" {
		b = storage.Base(storage.Dir(s.arg)) + "/_metadata"
	}
	return "inspect " + b
}

func (s *Inspect) Location() string {
	if s.meta != "" {
		return s.meta
	}
	return s.arg
}

func (s *Inspect) Keys() shell.Keymap {
	return append(s.keys.keymap(), shell.ListKeymap(s.list.Keys)...)
}

func (s *Inspect) SetSize(w, h int) {
	s.w, s.h = w, h
	s.list.SetHeight(max(h-s.chromeRows(), 1))
}

func (s *Inspect) chromeRows() int {
	n := 3 // header lines + column headings
	if s.cannotRestore() {
		n++
	}
	if s.dryRun {
		n += 1 + len(target.PlanNotes(s.plan))
	}
	if s.details {
		n += detailRows
	}
	return n
}

// detailRows is the height of the details pane (room for the dry run's
// reason on two lines).
const detailRows = 9

func (s *Inspect) Close() { s.ctx.Tasks.Cancel(s.task, s.uidTask, s.diskTask) }

func (s *Inspect) Refresh() tea.Cmd { return s.Init() }

// Capturing while the uid prompt is open.
func (s *Inspect) Capturing() bool { return s.prompt != nil || s.rw.capturing() }

type inspectOpenedMsg struct {
	sid        int
	meta, excl string
	size       int64
	dec        *snapshot.Decoder
	hdr        *snapshot.Header
	err        error
}

type inspectOpsMsg struct {
	sid    int
	dec    *snapshot.Decoder
	ops    []*snapshot.OperatorState
	offset int64
	props  *snapshot.Properties
	done   bool
	err    error
}

func (s *Inspect) Init() tea.Cmd {
	if s.loading {
		s.ctx.Tasks.Cancel(s.task)
	}
	s.rows, s.ops, s.hdr, s.props, s.err = nil, nil, nil, nil, nil
	s.ckptBytes, s.fullBytes, s.disk, s.diskState = 0, 0, inspector.Sizes{}, format.Unknown
	s.restorable, s.verdict = "", ""
	s.ctx.Tasks.Cancel(s.diskTask)
	s.list.SetLen(0)
	s.loading = true
	s.started = s.ctx.Now()
	id, tctx := s.ctx.Tasks.Start("reading "+s.arg, 0)
	s.task = id
	fsys, timeout, sid, uri := s.ctx.FS, s.ctx.Timeout, s.id, s.arg
	var targetCmd tea.Cmd
	if s.initTarget != "" {
		targetCmd = s.takeUIDs(s.initTarget)
		s.wantDryRun = s.initAgainst
		s.initTarget = ""
	}
	return tea.Batch(targetCmd, func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		m := inspectOpenedMsg{sid: sid}
		loc, err := snapshot.Locate(cctx, fsys, uri)
		if err != nil {
			m.err = err
			return m
		}
		m.meta, m.excl = loc.MetadataURI, loc.ExclusiveDir
		f, err := fsys.Open(cctx, m.meta)
		if err != nil {
			m.err = err
			return m
		}
		m.size = f.Size()
		// The file stays open across commands; reads are bounded by tctx
		// only through the storage backend's own deadlines.
		d := snapshot.NewDecoder(&ctxReader{ctx: tctx, r: f, c: f}, snapshot.DecodeOptions{Name: m.meta, Size: f.Size()})
		d.Location, d.ExclusiveDir = m.meta, m.excl
		m.dec = d
		m.hdr, m.err = d.Header()
		if m.err != nil {
			f.Close()
		}
		return m
	})
}

// ctxReader stops a decode whose screen has gone away and closes the file
// at the end.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	c   io.Closer
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		r.c.Close()
		return 0, err
	}
	n, err := r.r.Read(p)
	if err == io.EOF {
		r.c.Close()
	}
	return n, err
}

// decodeSome decodes operators for up to ~30 ms (at least one), so the
// table fills in while a large file is still being read.
func decodeSome(sid int, dec *snapshot.Decoder) tea.Cmd {
	return func() tea.Msg {
		m := inspectOpsMsg{sid: sid, dec: dec}
		deadline := time.Now().Add(30 * time.Millisecond)
		for {
			op, err := dec.Next()
			if errors.Is(err, io.EOF) {
				m.done = true
				if t := dec.Trailer(); len(t) > 0 {
					if p, err := snapshot.ParseProperties(t); err == nil {
						m.props = &p
					}
				}
				break
			}
			if err != nil {
				m.err, m.done = err, true
				break
			}
			m.ops = append(m.ops, op)
			if time.Now().After(deadline) || len(m.ops) >= 512 {
				break
			}
		}
		m.offset = dec.Offset()
		return m
	}
}

func (s *Inspect) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case inspectOpenedMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.meta, s.excl, s.size = msg.meta, msg.excl, msg.size
		if msg.err != nil {
			s.fail(msg.err)
			return s, nil
		}
		s.hdr = msg.hdr
		s.ctx.Tasks.Relabel(s.task, "decoding "+s.meta)
		return s, decodeSome(s.id, msg.dec)
	case inspectOpsMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.offset = msg.offset
		for _, op := range msg.ops {
			s.addOp(op)
		}
		if s.filter != "" || s.dryRun {
			s.rebuild()
		}
		if msg.err != nil {
			s.fail(msg.err)
			return s, nil
		}
		if !msg.done {
			s.ctx.Tasks.Relabel(s.task, fmt.Sprintf("decoding %s: %s operators, %d%%", s.meta, text.Count(len(s.ops)), s.percent()))
			return s, decodeSome(s.id, msg.dec)
		}
		s.props = msg.props
		// The sums while decoding become the one computation every
		// screen shows (the savepoints and browse screens too).
		sz := inspector.SizesOf(&snapshot.Metadata{Operators: s.ops})
		s.ckptBytes, s.fullBytes = sz.Checkpointed, sz.Full
		s.loading = false
		s.loadedIn = s.ctx.Now().Sub(s.started)
		s.ctx.Tasks.Done(s.task, nil)
		return s, s.measureDisk()
	case inspectDiskMsg:
		if msg.sid != s.id || msg.task != s.diskTask {
			return s, nil
		}
		// A failed measurement only loses the one number: no LastErr.
		s.ctx.Tasks.Done(msg.task, nil)
		s.disk, s.diskState = msg.sizes, format.Yes
		s.restorable, s.verdict = msg.restorable, msg.verdict
		if msg.err != nil || msg.sizes.OnDisk < 0 {
			s.diskState = format.No
		}
		s.SetSize(s.w, s.h)
		return s, nil
	case targetLoadedMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.ctx.Tasks.Done(msg.task, msg.err)
		if msg.err != nil {
			s.wantDryRun = false
			return s, nil
		}
		if err := s.setTarget(msg.target); err != nil {
			s.ctx.Tasks.LastErr = err
			return s, nil
		}
		if s.target == nil {
			return s, shell.Toast("new job cleared", false)
		}
		if strings.HasPrefix(msg.target.Source, "uids ") {
			return s, nil // typed: the table shows the names at once
		}
		return s, shell.Toast(fmt.Sprintf("new job: %s from %s", text.Plural(len(msg.target.Operators), "operator"), msg.target.Source), false)
	case rewriteDoneMsg:
		if msg.sid == s.id {
			return s, s.onRewriteDone(msg)
		}
	case tea.KeyPressMsg:
		return s, s.key(msg)
	case tea.PasteMsg:
		if s.prompt != nil {
			return s, form.UpdateInput(s.prompt, msg)
		}
		if s.rw.form != nil {
			_, cmd := s.rw.form.Update(msg)
			return s, cmd
		}
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *Inspect) fail(err error) {
	s.err = err
	s.loading = false
	s.ctx.Tasks.Done(s.task, err)
}

func (s *Inspect) percent() int {
	if s.size <= 0 {
		return 0
	}
	return int(s.offset * 100 / s.size)
}

// opSummary adds up an operator's state size and handle kinds.
func opSummary(op *snapshot.OperatorState) (size int64, handles int, kinds string) {
	seen := map[string]bool{}
	m := &snapshot.Metadata{Operators: []*snapshot.OperatorState{op}}
	m.Walk(func(v snapshot.Visit) {
		if v.Depth != 0 {
			return
		}
		handles++
		switch {
		case v.Channel != nil:
			size += v.Channel.StateSize()
			seen["channel"] = true
		case v.Handle != nil:
			size += v.Handle.StateSize()
			switch v.Slot {
			case snapshot.SlotManagedKeyed, snapshot.SlotRawKeyed:
				seen["keyed"] = true
			case snapshot.SlotCoordinator:
				seen["coordinator"] = true
			default:
				seen["operator"] = true
			}
		}
	})
	var ks []string
	for _, k := range []string{"keyed", "operator", "coordinator", "channel"} {
		if seen[k] {
			ks = append(ks, k)
		}
	}
	return size, handles, strings.Join(ks, "+")
}

func (s *Inspect) addOp(op *snapshot.OperatorState) {
	size, n, kinds := opSummary(op)
	r := &opRow{op: op, id: op.ID.String(), size: size, handles: n, kinds: kinds, uid: op.UID}
	for _, st := range op.Subtasks {
		if st.Finished {
			r.finished++
		}
	}
	s.ops = append(s.ops, op)
	s.rows = append(s.rows, r)
	s.ckptBytes += op.CheckpointedSize()
	s.fullBytes += op.StateSize()
	if r.uid == "" {
		r.uid, _ = s.mapping.Lookup(op.ID)
	}
	s.nameRow(r)
	if !s.dryRun && s.filter == "" {
		s.list.SetLen(len(s.rows))
	}
}

func (s *Inspect) nameRow(r *opRow) {
	r.lower = strings.ToLower(r.id + " " + r.uid + " " + r.op.Name)
}

// setTarget makes t the new job: its uids (and, for a job spec, the IDs of
// operators without uid) name the snapshot's operators, and the dry-run
// resumes into it. A target with no operators clears it.
func (s *Inspect) setTarget(t inspector.Target) error {
	if len(t.Operators) == 0 {
		s.target, s.mapping, s.plan, s.dryRun, s.wantDryRun = nil, nil, nil, false, false
	} else {
		m, err := t.Mapping()
		if err != nil {
			return err
		}
		s.target, s.mapping = &t, m
		if s.wantDryRun {
			s.dryRun, s.wantDryRun = true, false
		}
	}
	for _, r := range s.rows {
		if r.newOnly {
			continue
		}
		r.uid = r.op.UID
		if r.uid == "" {
			r.uid, _ = s.mapping.Lookup(r.op.ID)
		}
		s.nameRow(r)
	}
	s.rebuild()
	return nil
}

// rebuild recomputes verdicts, dry-run rows and the filter. The verdicts
// are inspector.PlanResume's (the same rules as `ckpt inspect --against`).
func (s *Inspect) rebuild() {
	kept := s.rows[:0]
	for _, r := range s.rows {
		if !r.newOnly {
			r.verdict, r.note = target.None, ""
			kept = append(kept, r)
		}
	}
	s.rows = kept
	s.plan = nil
	if s.dryRun && s.target != nil {
		p := inspector.PlanResume(&snapshot.Metadata{Operators: s.ops}, *s.target, s.mapping)
		s.plan = p
		type mark struct {
			v    target.Verdict
			note string
		}
		marks := map[string]mark{}
		for _, set := range []struct {
			ops []inspector.PlanOperator
			v   target.Verdict
		}{{p.Restored, target.Restored}, {p.Dropped, target.Dropped}, {p.SkippedEmpty, target.Skipped}} {
			for _, o := range set.ops {
				marks[o.ID] = mark{set.v, o.Note}
			}
		}
		for _, f := range p.Failures {
			marks[f.ID] = mark{target.Fails, f.Reason}
		}
		for _, r := range s.rows {
			if m, ok := marks[r.id]; ok {
				r.verdict, r.note = m.v, m.note
			}
		}
		for _, o := range p.New {
			id, err := snapshot.ParseOperatorID(o.ID)
			if err != nil {
				continue
			}
			r := &opRow{op: &snapshot.OperatorState{ID: id, Name: o.Name}, id: o.ID, uid: o.UID, verdict: target.New,
				newOnly: true, newPar: o.NewParallelism}
			s.nameRow(r)
			s.rows = append(s.rows, r)
		}
	}
	s.list.SetLen(len(s.rows))
	s.SetSize(s.w, s.h)
	s.list.FilterText(s.filter, func(i int) string { return s.rows[i].lower })
}

func (s *Inspect) SetFilter(f string) {
	s.filter = strings.ToLower(f)
	s.rebuild()
}

func (s *Inspect) selected() *opRow {
	i, ok := s.list.Selected()
	if !ok || i >= len(s.rows) {
		return nil
	}
	return s.rows[i]
}

// CopyText is the selected operator's ID (what Flink's errors print).
func (s *Inspect) CopyText() string {
	if r := s.selected(); r != nil {
		return r.id
	}
	return s.meta
}

type targetLoadedMsg struct {
	sid    int
	task   shell.TaskID
	target inspector.Target
	err    error
}

func (s *Inspect) key(msg tea.KeyPressMsg) tea.Cmd {
	if s.prompt != nil {
		switch msg.String() {
		case "esc":
			s.prompt = nil
			return nil
		case "enter":
			v := strings.TrimSpace(s.prompt.Value())
			s.prompt = nil
			return s.takeUIDs(v)
		}
		return form.UpdateInput(s.prompt, msg)
	}
	if s.rw.capturing() {
		return s.rewriteCapture(msg)
	}
	if s.list.Update(msg) {
		return nil
	}
	if cmd, ok := s.rewriteKey(msg); ok {
		return cmd
	}
	k := s.keys
	switch {
	case shell.KeyMatches(msg, s.ctx.Global.NextPane):
		s.details = !s.details
		s.SetSize(s.w, s.h)
	case shell.KeyMatches(msg, k.Open):
		if r := s.selected(); r != nil && !r.newOnly {
			return shell.Push(newOperatorScreen(s.ctx, s, r))
		}
	case shell.KeyMatches(msg, k.State):
		if r := s.selected(); r != nil && !r.newOnly && s.hdr != nil {
			// The decoded operators go along: the state screen does not
			// read the _metadata again.
			m := &snapshot.Metadata{Version: s.hdr.Version, CheckpointID: s.hdr.CheckpointID, Operators: s.ops, Location: s.meta, ExclusiveDir: s.excl}
			return shell.OpenScreenWith("state", routes.StateOf{Metadata: m, Operator: r.id}, s.meta, r.id)
		}
	case shell.KeyMatches(msg, k.UIDs):
		in := textinput.New()
		in.Prompt = "uids: "
		in.Placeholder = "uid-a, uid-b, …  or  @path/to/uids.txt  or  @path/to/job.yaml"
		st := textinput.DefaultStyles(true)
		st.Cursor.Blink = false
		in.SetStyles(st)
		in.SetWidth(max(s.w-8, 10))
		s.prompt = &in
		return in.Focus()
	case shell.KeyMatches(msg, k.DryRun):
		if s.target == nil {
			return shell.Toast("give the new job first (u): its uids, @uids-file or @job-spec.yaml", true)
		}
		s.dryRun = !s.dryRun
		s.rebuild()
	case shell.KeyMatches(msg, k.Mark):
		if s.ctx.Marked == "" || s.ctx.Marked == s.meta {
			s.ctx.Marked = s.meta
			return shell.Toast("marked "+s.meta+" — press m on another snapshot to diff", false)
		}
		a := s.ctx.Marked
		s.ctx.Marked = ""
		return shell.OpenScreen("diff", a, s.meta)
	}
	return nil
}

// takeUIDs loads the new job from what the u prompt takes (see
// loadTarget), in a command.
func (s *Inspect) takeUIDs(v string) tea.Cmd {
	v = strings.TrimSpace(v)
	what := "reading the new job from " + v
	if !strings.HasPrefix(v, "@") {
		what = "hashing uids"
	}
	id, tctx := s.ctx.Tasks.Start(what, 0)
	s.uidTask = id
	fsys, timeout, sid, specTarget := s.ctx.FS, s.ctx.Timeout, s.id, s.ctx.SpecTarget
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		t, err := target.Load(cctx, fsys, specTarget, v)
		return targetLoadedMsg{sid: sid, task: id, target: t, err: err}
	}
}

// Status for the status bar.
func (s *Inspect) Status() string {
	if s.err != nil {
		return "failed"
	}
	st := text.Plural(len(s.ops), "operator")
	if s.loading {
		st += fmt.Sprintf(" · decoding %d%%", s.percent())
	}
	if s.target != nil {
		if s.target.Complete {
			st += " · " + text.Plural(len(s.target.Operators), "operator") + " in the new job"
		} else {
			st += " · " + text.Plural(len(s.target.Operators), "uid")
		}
	}
	return st + s.rewriteStatus()
}

func (s *Inspect) kindLine() string {
	if s.hdr == nil {
		return ""
	}
	kind := "checkpoint"
	if s.props != nil {
		kind = strings.ToLower(s.props.TypeName)
		if s.props.Format != "" {
			kind += " (" + strings.ToLower(string(s.props.Format)) + ")"
		}
	} else if s.loading && s.hdr.Version >= 4 {
		kind = "…"
	} else if strings.HasPrefix(storage.Base(s.excl), "savepoint-") {
		kind = "savepoint"
	} else if !strings.HasPrefix(storage.Base(s.excl), "chk-") {
		kind = "checkpoint or savepoint"
	}
	return kind
}

func (s *Inspect) View() string {
	th := s.ctx.Theme
	var out []string
	errLines := func() []string {
		var l []string
		for _, x := range text.Wrap("✗ "+text.Sanitize(s.err.Error()), s.w-2, 4) {
			l = append(l, th.Error.Render(text.Fit(" "+x, s.w)))
		}
		return l
	}
	if s.err != nil && s.hdr == nil {
		out = append(errLines(), th.Muted.Render(" ctrl+r retries · esc goes back"))
		return strings.Join(out, "\n")
	}
	if s.hdr == nil {
		return th.Muted.Render(" " + s.ctx.Spinner() + " opening " + text.Sanitize(s.arg) + " …")
	}
	l1 := fmt.Sprintf(" %s · format %s · checkpoint id %d", s.kindLine(), snapshot.FormatLabel(s.hdr.Version), s.hdr.CheckpointID)
	// Sizes first: at 80 columns they must not be the part cut off.
	l2 := fmt.Sprintf(" %s checkpointed · %s full · %s on disk · %s · _metadata %s",
		text.Bytes(s.ckptBytes), text.Bytes(s.fullBytes), s.diskText(), text.Plural(s.hdr.NumOperators, "operator"), text.Bytes(s.size))
	if len(s.hdr.MasterStates) > 0 {
		l2 += " · " + text.Plural(len(s.hdr.MasterStates), "master state")
	}
	if s.loading {
		l2 += fmt.Sprintf(" · %s decoding %d%%", s.ctx.Spinner(), s.percent())
	}
	if s.cannotRestore() {
		// Where the eye lands first: a snapshot missing referenced files
		// decodes fine and cannot be restored.
		out = append(out, th.Error.Render(text.Fit(" ✗ "+s.verdict, s.w)))
	}
	out = append(out, th.Title.Render(text.Fit(l1, s.w)), th.Muted.Render(text.Fit(l2, s.w)))
	if s.err != nil {
		out = append(out, errLines()...)
	}
	if s.dryRun {
		out = append(out, s.dryRunSummary())
		// Beyond the counts: keyed state a resume loses even though it
		// "restores", and a max-parallelism check a uid list cannot make.
		for _, n := range target.PlanNotes(s.plan) {
			out = append(out, th.Warn.Render(text.Fit(" "+n, s.w)))
		}
	}
	cols := s.columns()
	out = append(out, th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w)))
	if len(s.rows) == 0 && !s.loading {
		out = append(out, th.Muted.Render("  (no operator state)"))
	} else {
		out = append(out, s.list.View(func(i int, sel bool) string { return s.row(s.rows[i], sel, cols) }))
	}
	view := strings.Join(out, "\n")
	if s.details {
		lines := strings.Split(view, "\n")
		for len(lines) < s.h-detailRows {
			lines = append(lines, "")
		}
		view = strings.Join(append(lines[:s.h-detailRows], s.detailPane()...), "\n")
	}
	if s.prompt != nil {
		lines := strings.Split(view, "\n")
		for len(lines) < s.h {
			lines = append(lines, "")
		}
		lines[s.h-1] = th.Prompt.Render(text.Clip(" "+s.prompt.View(), s.w))
		lines[s.h-2] = th.Muted.Render(text.Fit(" enter applies · esc cancels · the new job's uids map IDs (murmur3 of the uid, as Flink) and are what the dry-run resumes into", s.w))
		view = strings.Join(lines[:s.h], "\n")
	}
	if rows := s.rewriteRows(); rows != nil {
		view = form.OverlayBottom(view, rows, s.h)
	}
	return view
}

// cannotRestore: the file check found referenced files missing.
func (s *Inspect) cannotRestore() bool { return s.restorable == inspector.RestorableNo }

// diskText is the measured size on disk: a spinner while it is measured,
// "?" when it could not be.
func (s *Inspect) diskText() string {
	switch {
	case s.diskState == format.Yes:
		return text.Bytes(s.disk.OnDisk)
	case s.diskState == format.No:
		return "?"
	case s.loading:
		return "…"
	}
	return s.ctx.Spinner()
}

func (s *Inspect) dryRunSummary() string {
	th := s.ctx.Theme
	p := s.plan
	if p == nil {
		return ""
	}
	parts := []string{
		th.Restored.Render(fmt.Sprintf("%d RESTORED", len(p.Restored))),
	}
	switch {
	case len(p.Failures) > 0:
		parts = append(parts, th.Error.Render(fmt.Sprintf("%d FAIL — Flink refuses this resume, even with -n", len(p.Failures))))
	case len(p.Dropped) > 0:
		parts = append(parts, th.Dropped.Render(fmt.Sprintf("%d DROPPED %s — resume needs --allow-non-restored-state", len(p.Dropped), text.Bytes(p.DroppedBytes))))
	default:
		parts = append(parts, th.OK.Render("0 dropped — resumes without -n"))
	}
	if len(p.Failures) > 0 && len(p.Dropped) > 0 {
		parts = append(parts, th.Dropped.Render(fmt.Sprintf("%d DROPPED %s", len(p.Dropped), text.Bytes(p.DroppedBytes))))
	}
	parts = append(parts, th.New.Render(fmt.Sprintf("%d NEW (start empty)", len(p.New))))
	if len(p.SkippedEmpty) > 0 {
		parts = append(parts, th.Muted.Render(fmt.Sprintf("%d stateless skipped", len(p.SkippedEmpty))))
	}
	if p.Uncertain {
		parts = append(parts, th.Warn.Render("UNCERTAIN: operators without uid (a job spec knows their IDs)"))
	}
	return text.Fit(" dry-run: "+strings.Join(parts, " · "), s.w)
}

func (s *Inspect) columns() []table.Col {
	idw := 32
	if s.w < 120 {
		idw = 12
	}
	cols := []table.Col{
		{Title: "OPERATOR ID", Width: idw},
		{Title: "UID / NAME", Flex: true},
		{Title: "PAR", Width: 4, Right: true},
		{Title: "MAXP", Width: 5, Right: true},
		{Title: "STATE", Width: 9, Right: true},
	}
	if s.w >= 120 {
		cols = append(cols, table.Col{Title: "KIND", Width: 20})
	}
	if s.dryRun {
		cols = append(cols, table.Col{Title: "ON RESUME", Width: 12})
	}
	return table.Layout(cols, s.w)
}

func (s *Inspect) row(r *opRow, sel bool, cols []table.Col) string {
	th := s.ctx.Theme
	name := r.uid
	if r.op.Name != "" {
		if name != "" {
			name += " (" + r.op.Name + ")"
		} else {
			name = r.op.Name
		}
	}
	if name == "" {
		name = "—"
	}
	name = text.Sanitize(s.rewriteMark(r) + name)
	id := r.id
	if cols[0].Width < 32 {
		id = id[:cols[0].Width-1] + "…"
	}
	par, maxp, size, kinds := fmt.Sprint(r.op.Parallelism), fmt.Sprint(r.op.MaxParallelism), text.Bytes(r.size), r.kinds
	if r.op.FullyFinished {
		kinds = "finished"
	} else if r.finished > 0 {
		kinds += fmt.Sprintf(" (%d fin.)", r.finished)
	}
	if r.newOnly {
		par, maxp, size, kinds = "", "", "—", "not in snapshot"
		if r.newPar > 0 {
			par = fmt.Sprint(r.newPar)
		}
	}
	vals := []string{id, name, par, maxp, size}
	if len(cols) > 5 && cols[5].Title == "KIND" {
		vals = append(vals, kinds)
	}
	vst := th.Muted
	if s.dryRun {
		w := ""
		switch r.verdict {
		case target.Restored:
			w, vst = "RESTORED", th.Restored
		case target.Dropped:
			w, vst = "DROPPED (-n)", th.Dropped
		case target.Skipped:
			w = "skipped"
		case target.New:
			w, vst = "NEW (empty)", th.New
		case target.Fails:
			w, vst = "FAILS", th.Error
		}
		vals = append(vals, w)
	}
	line := table.Cells(cols, vals...)
	if sel {
		return th.Selected.Render(text.Fit("> "+line, s.w))
	}
	if s.dryRun && r.verdict != target.None && r.verdict != target.Skipped {
		return "  " + vst.Render(line)
	}
	if s.rw.drop[r.id] {
		return "  " + th.Dropped.Render(line)
	}
	return "  " + line
}

// sortedIDs is a helper for diff: all ids of two operator lists, sorted.
func sortedIDs(a, b []*snapshot.OperatorState) []snapshot.OperatorID {
	seen := map[snapshot.OperatorID]bool{}
	var out []snapshot.OperatorID
	for _, ops := range [][]*snapshot.OperatorState{a, b} {
		for _, op := range ops {
			if !seen[op.ID] {
				seen[op.ID] = true
				out = append(out, op.ID)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// detailPane describes the selected operator in full (tab shows it).
func (s *Inspect) detailPane() []string {
	th := s.ctx.Theme
	out := []string{th.Border.Render(strings.Repeat("─", max(s.w, 1)))}
	r := s.selected()
	if r == nil {
		return append(out, th.Muted.Render(" no operator selected"))
	}
	uid := r.uid
	switch {
	case r.op.UID != "":
		uid += " (stored in the file)"
	case uid != "":
		uid += " (mapped: murmur3_128 of the uid matches this ID)"
	default:
		uid = "unknown — press u to map uids"
	}
	line := func(k, v string) string {
		return text.Fit(" "+th.Muted.Render(text.Fit(k, 13))+text.Sanitize(v), s.w)
	}
	out = append(out,
		line("operator ID", r.id),
		line("uid", uid),
		line("name", map[bool]string{true: r.op.Name, false: "—"}[r.op.Name != ""]),
		line("parallelism", fmt.Sprintf("%d (max %d)", r.op.Parallelism, r.op.MaxParallelism)),
		line("state", fmt.Sprintf("%s in %s · %s", text.Bytes(r.size), text.Plural(r.handles, "handle"), r.kinds)),
	)
	sub := fmt.Sprintf("%d", len(r.op.Subtasks))
	if r.finished > 0 {
		sub += fmt.Sprintf(" (%d finished)", r.finished)
	}
	if r.op.CoordinatorState != nil {
		sub += fmt.Sprintf(" · coordinator state %s", text.Bytes(r.op.CoordinatorState.StateSize()))
	}
	out = append(out, line("subtasks", sub))
	if s.dryRun && r.verdict != target.None {
		v := map[target.Verdict]string{target.Restored: "restored", target.Dropped: "DROPPED: no operator of the new job claims it (needs -n; the state is lost)",
			target.Skipped: "skipped: no state, no operator", target.New: "new: starts empty", target.Fails: "FAILS"}[r.verdict]
		if r.note != "" {
			v += " — " + r.note
		}
		// The dry run's reason in full: wrapped under its label, not cut.
		for i, l := range text.Wrap(text.Sanitize(v), max(s.w-15, 10), detailRows-len(out)) {
			k := "on resume"
			if i > 0 {
				k = ""
			}
			out = append(out, " "+th.Muted.Render(text.Fit(k, 13))+l)
		}
	}
	for len(out) < detailRows {
		out = append(out, "")
	}
	return out[:detailRows]
}

// Keymap is the screen's actions, for the declaration.
func Keymap(ctx *shell.Context) shell.Keymap { return newInspectKeys(ctx).keymap() }

// OperatorKeymap is the operator screen's actions, for the declaration
// (the inspector opens it, sharing the decoded _metadata).
func OperatorKeymap(ctx *shell.Context) shell.Keymap { return shell.Keymap{newOperatorOpen(ctx)} }

// Count is what the "/" filter shows of the rows (the status bar's
// "filter: x (3 of 40)").
func (s *Inspect) Count() (shown, total int) { return s.list.Len(), s.list.Total() }
