// Package diff compares the operators of two snapshots.
package diff

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/internal/units"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/target"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	args := req.Args
	var paths []string
	uids := ""
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--uids="):
			uids = strings.TrimPrefix(a, "--uids=")
		case strings.HasPrefix(a, "--"):
			return nil, fmt.Errorf("diff: unknown option %q (want --uids=TARGET)", a)
		default:
			paths = append(paths, a)
		}
	}
	if len(paths) != 2 {
		return nil, fmt.Errorf("diff takes two snapshots (_metadata files, chk-N or savepoint dirs), got %d", len(paths))
	}
	return &Diff{ctx: ctx, id: shell.NewScreenID(), a: paths[0], b: paths[1], uids: uids, list: list.New()}, nil
}

// Diff compares two snapshots operator by operator: inspector.Compare's
// answer (the same as `ckpt diff`), drawn as a table.
type Diff struct {
	ctx     *shell.Context
	id      int
	a, b    string
	uids    string // names operators of old snapshots (what the u prompt takes)
	d       *inspector.Diff
	rows    []diffRow
	list    list.Model
	w, h    int
	task    shell.TaskID
	loading bool
	err     error
}

// diffRow is one operator that differs.
type diffRow struct {
	change string // CHANGED / ONLY IN A / ONLY IN B
	op     inspector.DiffOperator
}

type diffMsg struct {
	sid  int
	task shell.TaskID
	d    *inspector.Diff
	err  error
}

// readMetadata decodes a whole snapshot (a _metadata file or its dir).
func readMetadata(ctx context.Context, fsys storage.FS, uri string) (*snapshot.Metadata, error) {
	return snapshot.Read(ctx, fsys, uri)
}

func (s *Diff) Init() tea.Cmd {
	s.loading = true
	id, tctx := s.ctx.Tasks.Start("reading "+s.a+" and "+s.b, 0)
	s.task = id
	fsys, timeout, sid, a, b, uids, specTarget := s.ctx.FS, s.ctx.Timeout, s.id, s.a, s.b, s.uids, s.ctx.SpecTarget
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		var mapping *inspector.UIDMapping
		if uids != "" {
			t, err := target.Load(cctx, fsys, specTarget, uids)
			if err == nil {
				mapping, err = t.Mapping()
			}
			if err != nil {
				return diffMsg{sid: sid, task: id, err: err}
			}
		}
		ma, err := readMetadata(cctx, fsys, a)
		if err != nil {
			return diffMsg{sid: sid, task: id, err: err}
		}
		mb, err := readMetadata(cctx, fsys, b)
		if err != nil {
			return diffMsg{sid: sid, task: id, err: err}
		}
		d := inspector.Compare(ma, mb, mapping)
		d.From.Path, d.To.Path = a, b
		return diffMsg{sid: sid, task: id, d: d}
	}
}

func (s *Diff) Close()             { s.ctx.Tasks.Cancel(s.task) }
func (s *Diff) Refresh() tea.Cmd   { return s.Init() }
func (s *Diff) Title() string      { return "diff" }
func (s *Diff) Location() string   { return s.a + " ⇄ " + s.b }
func (s *Diff) Keys() shell.Keymap { return shell.ListKeymap(s.list.Keys) }
func (s *Diff) SetSize(w, h int)   { s.w, s.h = w, h; s.list.SetHeight(max(h-5, 1)) }
func (s *Diff) CopyText() string {
	if i, ok := s.list.Selected(); ok {
		return s.rows[i].op.ID
	}
	return ""
}

func (s *Diff) Status() string {
	if s.d == nil {
		return ""
	}
	return fmt.Sprintf("%d changed · %d only in A · %d only in B · %d unchanged", len(s.d.Changed), len(s.d.Removed), len(s.d.Added), s.d.Unchanged)
}

func (s *Diff) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case diffMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.loading = false
		s.ctx.Tasks.Done(msg.task, msg.err)
		s.err = msg.err
		if msg.err == nil {
			s.d = msg.d
			s.rows = s.rows[:0]
			for _, set := range []struct {
				change string
				ops    []inspector.DiffOperator
			}{{"CHANGED", msg.d.Changed}, {"ONLY IN A", msg.d.Removed}, {"ONLY IN B", msg.d.Added}} {
				for _, op := range set.ops {
					s.rows = append(s.rows, diffRow{change: set.change, op: op})
				}
			}
			s.list.SetLen(len(s.rows))
		}
	case tea.KeyPressMsg:
		s.list.Update(msg)
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *Diff) View() string {
	th := s.ctx.Theme
	if s.err != nil {
		return th.Error.Render(text.Fit(" ✗ "+text.Sanitize(s.err.Error()), s.w)) + "\n" + th.Muted.Render(" ctrl+r retries · esc goes back")
	}
	if s.loading || s.d == nil {
		return th.Muted.Render(" " + s.ctx.Spinner() + " reading both snapshots …")
	}
	d := s.d
	side := func(tag string, i inspector.SnapshotInfo) string {
		return fmt.Sprintf(" %s: %s (%s %d, %s, %s, %s)", tag, text.Sanitize(i.Path), i.Kind, i.CheckpointID, snapshot.FormatLabel(i.FormatVersion), text.Plural(i.Operators, "operator"), text.Bytes(i.StateSize))
	}
	files := fmt.Sprintf(" state %s · files: %d only in A (%s), %d only in B (%s), %d in both (%s) · %s unchanged",
		units.SignedBytes(d.StateSizeDelta), d.Files.OnlyA, text.Bytes(d.Files.OnlyABytes), d.Files.OnlyB, text.Bytes(d.Files.OnlyBBytes),
		d.Files.Both, text.Bytes(d.Files.BothBytes), text.Plural(d.Unchanged, "operator"))
	idw := 32
	if s.w < 120 {
		idw = 12
	}
	cols := table.Layout([]table.Col{
		{Title: "OPERATOR ID", Width: idw},
		{Title: "UID / NAME", Flex: true},
		{Title: "CHANGE", Width: 9},
		{Title: "STATE A", Width: 9, Right: true},
		{Title: "STATE B", Width: 9, Right: true},
		{Title: "DELTA", Width: 10, Right: true},
		{Title: "DETAIL", Flex: true},
	}, s.w)
	out := []string{th.Title.Render(text.FitLeft(side("A", d.From), s.w)), th.Title.Render(text.FitLeft(side("B", d.To), s.w)),
		th.Muted.Render(text.Fit(files, s.w)), "",
		th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w))}
	if len(s.rows) == 0 {
		out = append(out, th.OK.Render(text.Fit(fmt.Sprintf("  no operator differs (%d unchanged)", d.Unchanged), s.w)))
		return strings.Join(out, "\n")
	}
	out = append(out, s.list.View(func(i int, sel bool) string {
		r := s.rows[i]
		id := r.op.ID
		if idw < 32 && len(id) > idw {
			id = id[:idw-1] + "…"
		}
		name := text.Sanitize(r.op.UID)
		if name == "" {
			name = text.Sanitize(r.op.Name)
		}
		if name == "" {
			name = "—"
		}
		a, b := text.Bytes(r.op.SizeA), text.Bytes(r.op.SizeB)
		switch r.change {
		case "ONLY IN A":
			b = "—"
		case "ONLY IN B":
			a = "—"
		}
		line := table.Cells(cols, id, name, r.change, a, b, units.SignedBytes(r.op.Delta), text.Sanitize(strings.Join(r.op.Changes, ", ")))
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		st := th.Warn
		switch r.change {
		case "ONLY IN A":
			st = th.Dropped
		case "ONLY IN B":
			st = th.New
		}
		return "  " + st.Render(line)
	}))
	return strings.Join(out, "\n")
}
