package inspect

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// OperatorScreen lists one operator's subtasks.
type OperatorScreen struct {
	ctx    *shell.Context
	parent *Inspect
	r      *opRow
	list   list.Model
	open   *shell.Action
	w, h   int
}

func newOperatorScreen(ctx *shell.Context, parent *Inspect, r *opRow) *OperatorScreen {
	s := &OperatorScreen{ctx: ctx, parent: parent, r: r, list: list.New(), open: newOperatorOpen(ctx)}
	s.list.SetLen(len(r.op.Subtasks))
	return s
}

func newOperatorOpen(ctx *shell.Context) *shell.Action {
	return ctx.ApplyKeys(shell.Keymap{shell.NewAction("operator.open", "enter", "state handles and files of subtask", "enter", "l", "right")})[0]
}

func (s *OperatorScreen) Init() tea.Cmd    { return nil }
func (s *OperatorScreen) Title() string    { return "operator " + s.r.id[:8] }
func (s *OperatorScreen) Location() string { return s.parent.meta + " › " + s.r.id }
func (s *OperatorScreen) Keys() shell.Keymap {
	return append(shell.Keymap{s.open}, shell.ListKeymap(s.list.Keys)...)
}
func (s *OperatorScreen) CopyText() string { return s.r.id }

func (s *OperatorScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.list.SetHeight(max(h-3, 1))
}

func (s *OperatorScreen) Status() string {
	return text.Plural(len(s.r.op.Subtasks), "subtask")
}

func (s *OperatorScreen) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if s.list.Update(msg) {
			return s, nil
		}
		if shell.KeyMatches(msg, s.open) {
			if i, ok := s.list.Selected(); ok {
				return s, shell.Push(newSubtaskScreen(s.ctx, s.parent, s.r, s.r.op.Subtasks[i]))
			}
		}
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *OperatorScreen) cols() []table.Col {
	return table.Layout([]table.Col{
		{Title: "SUBTASK", Width: 7, Right: true},
		{Title: "KEYED STATE", Flex: true},
		{Title: "OPERATOR STATE", Flex: true},
		{Title: "FILES", Width: 5, Right: true},
		{Title: "SIZE", Width: 9, Right: true},
	}, s.w)
}

// subtaskSummary describes a subtask's handles in words.
func subtaskSummary(op *snapshot.OperatorState, st *snapshot.SubtaskState) (keyed, opState string, files int, size int64) {
	if st.Finished {
		return "finished (no state)", "", 0, 0
	}
	var kp, opn []string
	m := &snapshot.Metadata{Operators: []*snapshot.OperatorState{{ID: op.ID, Subtasks: []*snapshot.SubtaskState{st}}}}
	m.Walk(func(v snapshot.Visit) {
		if v.Channel != nil {
			size += v.Channel.StateSize()
			return
		}
		if v.Depth == 0 && v.Handle != nil {
			size += v.Handle.StateSize()
		}
		switch h := v.Handle.(type) {
		case snapshot.KeyedHandle:
			if v.Depth == 0 {
				kp = append(kp, fmt.Sprintf("%s kg %s", shortTag(h.Tag()), h.KeyGroups()))
			}
		case *snapshot.OperatorStreamHandle:
			for _, n := range h.States {
				opn = append(opn, n.Name)
			}
		}
		if _, ok := filePath(v.Handle, ""); ok {
			files++
		}
	})
	if len(st.InputChannels)+len(st.OutputChannels) > 0 {
		opn = append(opn, fmt.Sprintf("in-flight: %d in, %d out", len(st.InputChannels), len(st.OutputChannels)))
	}
	return strings.Join(kp, ", "), strings.Join(opn, ", "), files, size
}

// shortTag names a handle kind briefly.
func shortTag(t snapshot.Tag) string {
	switch t {
	case snapshot.TagIncrementalV2, snapshot.TagIncrementalV1:
		return "incremental"
	case snapshot.TagSavepointKeyGroups:
		return "savepoint"
	case snapshot.TagKeyGroups, snapshot.TagKeyGroupsV2:
		return "full"
	case snapshot.TagInMemoryChangelog, snapshot.TagChangelogV1, snapshot.TagChangelogV2,
		snapshot.TagChangelogFileV1, snapshot.TagChangelogFileV2:
		return "changelog"
	}
	return t.String()
}

func (s *OperatorScreen) View() string {
	th := s.ctx.Theme
	r := s.r
	name := r.uid
	if name == "" {
		name = "uid unknown (u on the operator list maps uids)"
	}
	l1 := fmt.Sprintf(" operator %s · %s", r.id, text.Sanitize(name))
	l2 := fmt.Sprintf(" parallelism %d · max parallelism %d · %s state", r.op.Parallelism, r.op.MaxParallelism, text.Bytes(r.size))
	if r.op.CoordinatorState != nil {
		l2 += fmt.Sprintf(" · coordinator state %s", text.Bytes(r.op.CoordinatorState.StateSize()))
	}
	if r.op.FullyFinished {
		l2 += " · FULLY FINISHED"
	}
	cols := s.cols()
	out := []string{th.Title.Render(text.Fit(l1, s.w)), th.Muted.Render(text.Fit(l2, s.w)),
		th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w))}
	if len(r.op.Subtasks) == 0 {
		out = append(out, th.Muted.Render("  (no subtask state)"))
	} else {
		out = append(out, s.list.View(func(i int, sel bool) string {
			st := r.op.Subtasks[i]
			keyed, ops, files, size := subtaskSummary(r.op, st)
			line := table.Cells(cols, fmt.Sprint(st.Index), text.Sanitize(keyed), text.Sanitize(ops), fmt.Sprint(files), text.Bytes(size))
			if sel {
				return th.Selected.Render(text.Fit("> "+line, s.w))
			}
			return "  " + line
		}))
	}
	return strings.Join(out, "\n")
}

// filePath is the storage URI a stream handle's bytes live in: absolute
// for FileHandle and segment files, resolved against the snapshot's
// exclusive dir for relative handles. ok is false for inline handles.
func filePath(h snapshot.Handle, excl string) (string, bool) {
	switch h := h.(type) {
	case *snapshot.FileHandle:
		return h.Path, true
	case *snapshot.RelativeFileHandle:
		if excl == "" {
			return h.RelativePath, true
		}
		p, err := snapshot.ResolveRelative(excl, h.RelativePath)
		if err != nil {
			// Keep it visible (and flagged by the caller) rather than hide it.
			return h.RelativePath, true
		}
		return p, true
	case *snapshot.SegmentFileHandle:
		return h.PhysicalPath, true
	}
	return "", false
}

// SubtaskScreen lists a subtask's state handles, nested, with the files
// they point to and whether each file exists.
type SubtaskScreen struct {
	ctx    *shell.Context
	id     int
	parent *Inspect
	r      *opRow
	st     *snapshot.SubtaskState
	rows   []handleRow
	list   list.Model
	w, h   int
	task   shell.TaskID
	check  bool
}

type handleRow struct {
	depth  int
	kind   string
	where  string // slot / role / local name
	size   int64
	path   string // resolved storage URI, "" when inline
	escape bool   // a relative path that leaves the snapshot dir
	exists format.Tri
	err    string
}

func newSubtaskScreen(ctx *shell.Context, parent *Inspect, r *opRow, st *snapshot.SubtaskState) *SubtaskScreen {
	s := &SubtaskScreen{ctx: ctx, id: shell.NewScreenID(), parent: parent, r: r, st: st, list: list.New()}
	m := &snapshot.Metadata{Operators: []*snapshot.OperatorState{{ID: r.op.ID, Subtasks: []*snapshot.SubtaskState{st}}}}
	m.Walk(func(v snapshot.Visit) {
		hr := handleRow{depth: v.Depth}
		where := string(v.Slot)
		if v.Role != "" {
			where += "/" + string(v.Role)
		}
		if v.LocalName != "" {
			where += " " + v.LocalName
		}
		hr.where = where
		if v.Channel != nil {
			hr.kind = "channel " + v.Channel.Kind.String()
			hr.size = v.Channel.StateSize()
		} else if v.Handle != nil {
			hr.kind = v.Handle.Tag().String()
			hr.size = v.Handle.StateSize()
			if p, ok := filePath(v.Handle, parent.excl); ok {
				hr.path = p
				if rh, rel := v.Handle.(*snapshot.RelativeFileHandle); rel {
					if _, err := snapshot.ResolveRelative(parent.excl, rh.RelativePath); err != nil {
						hr.escape = true
					}
				}
			}
		}
		s.rows = append(s.rows, hr)
	})
	s.list.SetLen(len(s.rows))
	return s
}

type existsMsg struct {
	sid    int
	task   shell.TaskID
	result map[string]error
}

// Init checks every referenced file on storage (in a command).
func (s *SubtaskScreen) Init() tea.Cmd {
	var paths []string
	seen := map[string]bool{}
	for _, r := range s.rows {
		if r.path != "" && !r.escape && !seen[r.path] {
			seen[r.path] = true
			paths = append(paths, r.path)
		}
	}
	if len(paths) == 0 {
		return nil
	}
	s.check = true
	id, tctx := s.ctx.Tasks.Start("checking "+text.Plural(len(paths), "file"), 0)
	s.task = id
	fsys, timeout, sid := s.ctx.FS, s.ctx.Timeout, s.id
	return func() tea.Msg {
		res := map[string]error{}
		for _, p := range paths {
			cctx, cancel := shell.WithTimeout(tctx, timeout)
			_, err := fsys.Stat(cctx, p)
			cancel()
			res[p] = err
			if tctx.Err() != nil {
				break
			}
		}
		return existsMsg{sid: sid, task: id, result: res}
	}
}

func (s *SubtaskScreen) Close() { s.ctx.Tasks.Cancel(s.task) }

func (s *SubtaskScreen) Title() string { return fmt.Sprintf("subtask %d", s.st.Index) }
func (s *SubtaskScreen) Location() string {
	return s.parent.meta + " › " + s.r.id + fmt.Sprintf(" › %d", s.st.Index)
}
func (s *SubtaskScreen) Keys() shell.Keymap { return shell.ListKeymap(s.list.Keys) }

func (s *SubtaskScreen) SetSize(w, h int) {
	s.w, s.h = w, h
	s.list.SetHeight(max(h-2, 1))
}

// CopyText is the selected handle's file URI.
func (s *SubtaskScreen) CopyText() string {
	if i, ok := s.list.Selected(); ok {
		return s.rows[i].path
	}
	return ""
}

func (s *SubtaskScreen) Status() string {
	missing, files := 0, 0
	for _, r := range s.rows {
		if r.path != "" {
			files++
			if r.exists == format.No {
				missing++
			}
		}
	}
	st := text.Plural(len(s.rows), "handle") + " · " + text.Plural(files, "file")
	if missing > 0 {
		st += fmt.Sprintf(" · %d MISSING", missing)
	}
	return st
}

func (s *SubtaskScreen) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case existsMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.check = false
		s.ctx.Tasks.Done(msg.task, nil)
		for i := range s.rows {
			r := &s.rows[i]
			if err, ok := msg.result[r.path]; ok {
				switch {
				case err == nil:
					r.exists = format.Yes
				case storage.IsNotExist(err):
					r.exists = format.No
				default:
					r.err = err.Error()
				}
			}
		}
	case tea.KeyPressMsg:
		s.list.Update(msg)
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *SubtaskScreen) View() string {
	th := s.ctx.Theme
	cols := table.Layout([]table.Col{
		{Title: "HANDLE", Width: 34},
		{Title: "SLOT / ROLE", Width: 28},
		{Title: "SIZE", Width: 9, Right: true},
		{Title: "FILE", Flex: true, Tail: true},
		{Title: "ON STORAGE", Width: 10},
	}, s.w)
	if s.w < 120 {
		cols = table.Layout([]table.Col{
			{Title: "HANDLE", Width: 22},
			{Title: "SIZE", Width: 9, Right: true},
			{Title: "FILE", Flex: true, Tail: true},
			{Title: "ON STORAGE", Width: 10},
		}, s.w)
	}
	l1 := fmt.Sprintf(" operator %s · subtask %d", s.r.id, s.st.Index)
	out := []string{th.Title.Render(text.Fit(l1, s.w)), th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w))}
	if len(s.rows) == 0 {
		out = append(out, th.Muted.Render("  (no state handles)"))
		return strings.Join(out, "\n")
	}
	out = append(out, s.list.View(func(i int, sel bool) string {
		r := s.rows[i]
		kind := strings.Repeat("  ", r.depth) + r.kind
		file, status, st := "inline", "", th.Muted
		if r.path != "" {
			file = text.Sanitize(r.path)
			switch {
			case r.escape:
				status, st = "ESCAPES DIR", th.Error
			case r.exists == format.Yes:
				status, st = "✓ exists", th.OK
			case r.exists == format.No:
				status, st = "✗ MISSING", th.Error
			case r.err != "":
				status, st = "? error", th.Warn
			case s.check:
				status = s.ctx.Spinner() + " checking"
			}
		}
		var vals []string
		if len(cols) == 5 {
			vals = []string{kind, text.Sanitize(r.where), text.Bytes(r.size), file, status}
		} else {
			vals = []string{kind, text.Bytes(r.size), file, status}
		}
		line := table.Cells(cols, vals...)
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		last := cols[len(cols)-1].Width
		body := line[:len(line)-len(text.Fit(status, last))]
		return "  " + body + st.Render(text.Fit(status, last))
	}))
	return strings.Join(out, "\n")
}
