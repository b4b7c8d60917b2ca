package tui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

func init() {
	RegisterScreen("diff", "diff A B", "compare the operators of two snapshots", func(ctx *Context, args []string) (Screen, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("diff takes two snapshots (_metadata files, chk-N or savepoint dirs), got %d", len(args))
		}
		return &Diff{ctx: ctx, id: newScreenID(), a: args[0], b: args[1], list: list.New()}, nil
	})
}

// Diff compares two snapshots operator by operator.
type Diff struct {
	ctx     *Context
	id      int
	a, b    string
	ma, mb  *snapshot.Metadata
	rows    []diffRow
	list    list.Model
	w, h    int
	task    TaskID
	loading bool
	err     error
}

type diffRow struct {
	id           snapshot.OperatorID
	name         string
	change       string // same / CHANGED / ONLY IN A / ONLY IN B
	sizeA, sizeB int64
	detail       string
}

type diffMsg struct {
	sid    int
	task   TaskID
	ma, mb *snapshot.Metadata
	err    error
}

// readMetadata decodes a whole snapshot (a _metadata file or its dir).
func readMetadata(ctx context.Context, fsys storage.FS, uri string) (*snapshot.Metadata, error) {
	return snapshot.Read(ctx, fsys, uri)
}

func (s *Diff) Init() tea.Cmd {
	s.loading = true
	id, tctx := s.ctx.Tasks.Start("reading "+s.a+" and "+s.b, 0)
	s.task = id
	fsys, timeout, sid, a, b := s.ctx.FS, s.ctx.Timeout, s.id, s.a, s.b
	return func() tea.Msg {
		cctx, cancel := withTimeout(tctx, timeout)
		defer cancel()
		ma, err := readMetadata(cctx, fsys, a)
		if err != nil {
			return diffMsg{sid: sid, task: id, err: err}
		}
		mb, err := readMetadata(cctx, fsys, b)
		return diffMsg{sid: sid, task: id, ma: ma, mb: mb, err: err}
	}
}

func (s *Diff) Close()           { s.ctx.Tasks.Cancel(s.task) }
func (s *Diff) Refresh() tea.Cmd { return s.Init() }
func (s *Diff) Title() string    { return "diff" }
func (s *Diff) Location() string { return s.a + " ⇄ " + s.b }
func (s *Diff) Keys() Keymap     { return listKeymap(s.list.Keys) }
func (s *Diff) SetSize(w, h int) { s.w, s.h = w, h; s.list.SetHeight(max(h-4, 1)) }
func (s *Diff) CopyText() string {
	if i, ok := s.list.Selected(); ok {
		return s.rows[i].id.String()
	}
	return ""
}

func (s *Diff) Status() string {
	n := map[string]int{}
	for _, r := range s.rows {
		n[r.change]++
	}
	return fmt.Sprintf("%d same · %d changed · %d only in A · %d only in B", n["same"], n["CHANGED"], n["ONLY IN A"], n["ONLY IN B"])
}

func (s *Diff) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case diffMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.loading = false
		s.ctx.Tasks.Done(msg.task, msg.err)
		s.err = msg.err
		if msg.err == nil {
			s.ma, s.mb = msg.ma, msg.mb
			s.rows = DiffOperators(msg.ma.Operators, msg.mb.Operators)
			s.list.SetLen(len(s.rows))
		}
	case tea.KeyPressMsg:
		s.list.Update(msg)
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

// DiffOperators pairs operators by ID and says what changed.
func DiffOperators(a, b []*snapshot.OperatorState) []diffRow {
	ia, ib := map[snapshot.OperatorID]*snapshot.OperatorState{}, map[snapshot.OperatorID]*snapshot.OperatorState{}
	for _, op := range a {
		ia[op.ID] = op
	}
	for _, op := range b {
		ib[op.ID] = op
	}
	var rows []diffRow
	for _, id := range sortedIDs(a, b) {
		oa, ob := ia[id], ib[id]
		r := diffRow{id: id, sizeA: -1, sizeB: -1}
		for _, op := range []*snapshot.OperatorState{oa, ob} {
			if op != nil && r.name == "" {
				r.name = op.UID
				if r.name == "" {
					r.name = op.Name
				}
			}
		}
		if oa != nil {
			r.sizeA, _, _ = opSummary(oa)
		}
		if ob != nil {
			r.sizeB, _, _ = opSummary(ob)
		}
		switch {
		case oa == nil:
			r.change = "ONLY IN B"
		case ob == nil:
			r.change = "ONLY IN A"
		default:
			var d []string
			if oa.Parallelism != ob.Parallelism {
				d = append(d, fmt.Sprintf("parallelism %d→%d", oa.Parallelism, ob.Parallelism))
			}
			if oa.MaxParallelism != ob.MaxParallelism {
				d = append(d, fmt.Sprintf("max parallelism %d→%d (state cannot be restored across this)", oa.MaxParallelism, ob.MaxParallelism))
			}
			if r.sizeA != r.sizeB {
				d = append(d, fmt.Sprintf("state %s→%s", text.Bytes(r.sizeA), text.Bytes(r.sizeB)))
			}
			r.change = "same"
			if len(d) > 0 {
				r.change = "CHANGED"
			}
			r.detail = strings.Join(d, ", ")
		}
		rows = append(rows, r)
	}
	return rows
}

func (s *Diff) View() string {
	th := s.ctx.Theme
	if s.err != nil {
		return th.Error.Render(text.Fit(" ✗ "+text.Sanitize(s.err.Error()), s.w)) + "\n" + th.Muted.Render(" ctrl+r retries · esc goes back")
	}
	if s.loading {
		return th.Muted.Render(" " + s.ctx.Spinner() + " reading both snapshots …")
	}
	l1 := fmt.Sprintf(" A: %s (checkpoint id %d, v%d, %d operators)", text.Sanitize(s.a), s.ma.CheckpointID, s.ma.Version, len(s.ma.Operators))
	l2 := fmt.Sprintf(" B: %s (checkpoint id %d, v%d, %d operators)", text.Sanitize(s.b), s.mb.CheckpointID, s.mb.Version, len(s.mb.Operators))
	idw := 32
	if s.w < 120 {
		idw = 12
	}
	cols := layout([]col{
		{title: "OPERATOR ID", width: idw},
		{title: "UID / NAME", flex: true},
		{title: "CHANGE", width: 9},
		{title: "STATE A", width: 9, right: true},
		{title: "STATE B", width: 9, right: true},
		{title: "DETAIL", flex: true},
	}, s.w)
	out := []string{th.Title.Render(text.FitLeft(l1, s.w)), th.Title.Render(text.FitLeft(l2, s.w)), "",
		th.Column.Render(text.Fit("  "+cells(cols, headings(cols)...), s.w))}
	out = append(out, s.list.View(func(i int, sel bool) string {
		r := s.rows[i]
		id := r.id.String()
		if idw < 32 {
			id = id[:idw-1] + "…"
		}
		name := text.Sanitize(r.name)
		if name == "" {
			name = "—"
		}
		line := cells(cols, id, name, r.change, text.Bytes(r.sizeA), text.Bytes(r.sizeB), r.detail)
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		st := th.Muted
		switch r.change {
		case "CHANGED":
			st = th.Warn
		case "ONLY IN A":
			st = th.Dropped
		case "ONLY IN B":
			st = th.New
		}
		return "  " + st.Render(line)
	}))
	return strings.Join(out, "\n")
}
