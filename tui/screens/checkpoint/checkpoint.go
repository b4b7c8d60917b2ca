// Package checkpoint shows one checkpoint of a job vertex by vertex, and
// one vertex subtask by subtask (sync, async, alignment, start delay).
package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/poll"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// CheckpointScreen is one checkpoint vertex by vertex (Flink's expanded
// history row); it keeps polling while the checkpoint is in progress.
// Enter opens a vertex subtask by subtask.
type CheckpointScreen struct {
	ctx   *shell.Context
	id    int
	jobID string
	cpID  int64
	job   *cluster.Job // for vertex names and order (may be nil)
	cp    *cluster.Checkpoint
	vids  []string
	poll.Poller
	list list.Model
	w, h int
	open *shell.Action
}

// Open takes the job ID and the checkpoint ID; the job screen
// hands over its *cluster.Job (vertex names and order), when it has it.
func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	if len(req.Args) != 2 {
		return nil, fmt.Errorf("checkpoint takes a job ID and a checkpoint ID")
	}
	id, err := strconv.ParseInt(req.Args[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("checkpoint ID %q: %v", req.Args[1], err)
	}
	job, _ := req.Data.(*cluster.Job)
	return newCheckpointScreen(ctx, req.Args[0], id, job), nil
}

func newCheckpointScreen(ctx *shell.Context, jobID string, cpID int64, job *cluster.Job) *CheckpointScreen {
	return &CheckpointScreen{ctx: ctx, id: shell.NewScreenID(), jobID: jobID, cpID: cpID, job: job, list: list.New(),
		open: newCheckpointOpen(ctx)}
}

func newCheckpointOpen(ctx *shell.Context) *shell.Action {
	return ctx.ApplyKeys(shell.Keymap{shell.NewAction("checkpoint.open", "enter", "subtasks of the vertex: sync, async, alignment, start delay", "enter", "l", "right")})[0]
}

func (s *CheckpointScreen) Title() string { return fmt.Sprintf("checkpoint %d", s.cpID) }
func (s *CheckpointScreen) Location() string {
	return fmt.Sprintf("%s › %s › checkpoint %d", s.ctx.TargetName, s.jobID, s.cpID)
}
func (s *CheckpointScreen) Keys() shell.Keymap {
	return append(shell.Keymap{s.open}, shell.ListKeymap(s.list.Keys)...)
}
func (s *CheckpointScreen) SetSize(w, h int) { s.w, s.h = w, h; s.list.SetHeight(max(h-4, 1)) }
func (s *CheckpointScreen) Close()           { s.StopPolling(s.ctx) }
func (s *CheckpointScreen) CopyText() string {
	if s.cp != nil && s.cp.ExternalPath != "" {
		return s.cp.ExternalPath
	}
	return strconv.FormatInt(s.cpID, 10)
}
func (s *CheckpointScreen) Status() string {
	return text.Plural(len(s.vids), "vertex", "vertices") + " · " + poll.DataAge(s.ctx, s.Polled, s.Err)
}

func (s *CheckpointScreen) Init() tea.Cmd { return s.poll() }
func (s *CheckpointScreen) Refresh() tea.Cmd {
	s.Restart(s.ctx)
	return s.poll()
}

func (s *CheckpointScreen) poll() tea.Cmd {
	c, jobID, cpID := s.ctx.Cluster, s.jobID, s.cpID
	return poll.Start(s.ctx, &s.Poller, s.id, fmt.Sprintf("reading checkpoint %d", cpID), func(ctx context.Context) (*cluster.Checkpoint, error) {
		return c.CheckpointDetail(ctx, jobID, cpID)
	})
}

func (s *CheckpointScreen) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case poll.Msg[*cluster.Checkpoint]:
		if !poll.Accept(s.ctx, &s.Poller, s.id, msg) {
			return s, nil
		}
		if msg.Err == nil {
			s.cp = msg.V
			s.vids = orderedVertices(s.job, msg.V.Tasks)
			s.list.SetLen(len(s.vids))
		}
		// Only an in-progress checkpoint changes; a finished one is read
		// once, and one the target no longer knows stays gone.
		if (s.cp == nil && !errors.Is(msg.Err, cluster.ErrNotFound)) || (s.cp != nil && s.cp.Status == cluster.CheckpointInProgress) {
			return s, poll.Schedule(s.ctx, s.id, s.Gen)
		}
	case poll.TickMsg:
		if msg.Sid == s.id && msg.Gen == s.Gen {
			return s, s.poll()
		}
	case tea.KeyPressMsg:
		if s.list.Update(msg) {
			return s, nil
		}
		if shell.KeyMatches(msg, s.open) {
			if i, ok := s.list.Selected(); ok && i < len(s.vids) {
				return s, shell.Push(newSubtasksScreen(s.ctx, s.jobID, s.cpID, s.vids[i], vertexLabel(s.job, s.vids[i])))
			}
		}
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

// orderedVertices lists the checkpoint's vertices in the job's order
// (sources first), others after, by ID.
func orderedVertices(job *cluster.Job, tasks map[string]cluster.TaskCheckpoint) []string {
	var out []string
	seen := map[string]bool{}
	if job != nil {
		for _, v := range job.Vertices {
			if _, ok := tasks[v.ID]; ok {
				out = append(out, v.ID)
				seen[v.ID] = true
			}
		}
	}
	for _, id := range format.SortedKeys(tasks) {
		if !seen[id] {
			out = append(out, id)
		}
	}
	return out
}

func vertexLabel(job *cluster.Job, id string) string {
	if job != nil {
		for _, v := range job.Vertices {
			if v.ID == id {
				return v.Name
			}
		}
	}
	return id
}

func (s *CheckpointScreen) View() string {
	th := s.ctx.Theme
	if s.cp == nil {
		if s.Err != nil {
			return pollError(s.ctx, s.Err, s.w)
		}
		return th.Muted.Render(" " + s.ctx.Spinner() + " reading checkpoint …")
	}
	now := s.ctx.Now()
	c := s.cp
	kind := format.CheckpointType(*c)
	d := format.Dur(c.EndToEnd)
	if c.Status == cluster.CheckpointInProgress {
		d = format.Dur(now.Sub(c.TriggerTime)) + " so far"
	}
	l1 := fmt.Sprintf(" %s #%d · ", kind, c.ID)
	l1rest := fmt.Sprintf(" · %d/%d subtasks acknowledged · triggered %s · %s · %s checkpointed · %s full", c.NumAcked, c.NumSubtasks, format.Clock(now, c.TriggerTime), d,
		text.Bytes(c.CheckpointedSize), text.Bytes(c.StateSize))
	head := th.Title.Render(l1) + format.StatusStyle(s.ctx, string(c.Status)).Render(string(c.Status)) + text.Fit(l1rest, max(s.w-text.Width(l1)-len(c.Status), 0))
	l2 := " " + text.Sanitize(c.ExternalPath)
	if c.Status == cluster.CheckpointFailed {
		l2 = " failed: " + text.Sanitize(format.FirstLine(c.FailureMessage))
	}
	if c.Discarded {
		l2 += " (discarded)"
	}
	cols := table.Layout([]table.Col{
		{Title: "VERTEX", Flex: true},
		{Title: "ACKED", Width: 11, Right: true},
		{Title: "LATEST ACK", Width: 10},
		{Title: "END TO END", Width: 10, Right: true},
		{Title: "CHECKPOINTED", Width: 12, Right: true},
		{Title: "FULL", Width: 10, Right: true},
	}, s.w)
	out := []string{head, th.Muted.Render(text.FitLeft(l2, s.w)), "", th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w))}
	out = append(out, s.list.View(func(i int, sel bool) string {
		id := s.vids[i]
		t := c.Tasks[id]
		pct := 0
		if t.NumSubtasks > 0 {
			pct = t.NumAcked * 100 / t.NumSubtasks
		}
		ack, e2e := format.Clock(now, t.LatestAck), format.Dur(t.EndToEnd)
		if t.NumAcked == 0 {
			ack, e2e = "n/a", "n/a"
		}
		line := table.Cells(cols, text.Sanitize(vertexLabel(s.job, id)), fmt.Sprintf("%d/%d %d%%", t.NumAcked, t.NumSubtasks, pct), ack, e2e,
			text.Bytes(t.CheckpointedSize), text.Bytes(t.StateSize))
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		if t.NumAcked < t.NumSubtasks {
			return "  " + th.Warn.Render(line)
		}
		return "  " + line
	}))
	return strings.Join(out, "\n")
}

// pollError draws a failed read of a checkpoint's statistics in place.
func pollError(ctx *shell.Context, err error, w int) string {
	th := ctx.Theme
	var out []string
	for _, l := range text.Wrap("✗ "+text.Sanitize(shell.FirstLine(err)), w-2, 3) {
		out = append(out, th.Error.Render(text.Fit(" "+l, w)))
	}
	if errors.Is(err, cluster.ErrNotFound) {
		// Flink keeps statistics for the newest web.checkpoints.history
		// checkpoints only (10 by default).
		out = append(out, th.Muted.Render(text.Fit(" the target keeps statistics of its newest checkpoints only (web.checkpoints.history, 10 by default)", w)))
	}
	out = append(out, th.Muted.Render(" ctrl+r retries · esc goes back"))
	return strings.Join(out, "\n")
}

// SubtasksScreen is one vertex of one checkpoint subtask by subtask, with
// the time breakdown that says where a slow checkpoint spends it: start
// delay (barrier travel, backpressure), alignment (waiting for barriers on
// every input), sync (snapshot on the task thread), async (upload).
type SubtasksScreen struct {
	ctx      *shell.Context
	id       int
	jobID    string
	cpID     int64
	vertexID string
	name     string
	vc       *cluster.VertexCheckpoint
	poll.Poller
	list list.Model
	w, h int
}

func newSubtasksScreen(ctx *shell.Context, jobID string, cpID int64, vertexID, name string) *SubtasksScreen {
	return &SubtasksScreen{ctx: ctx, id: shell.NewScreenID(), jobID: jobID, cpID: cpID, vertexID: vertexID, name: name, list: list.New()}
}

func (s *SubtasksScreen) Title() string { return "subtasks " + format.ShortID(s.vertexID) }
func (s *SubtasksScreen) Location() string {
	return fmt.Sprintf("%s › %s › checkpoint %d › %s", s.ctx.TargetName, s.jobID, s.cpID, s.vertexID)
}
func (s *SubtasksScreen) Keys() shell.Keymap { return shell.ListKeymap(s.list.Keys) }
func (s *SubtasksScreen) SetSize(w, h int)   { s.w, s.h = w, h; s.list.SetHeight(max(h-5, 1)) }
func (s *SubtasksScreen) Close()             { s.StopPolling(s.ctx) }
func (s *SubtasksScreen) CopyText() string   { return s.vertexID }
func (s *SubtasksScreen) Status() string {
	n := 0
	if s.vc != nil {
		n = len(s.vc.Subtasks)
	}
	return text.Plural(n, "subtask") + " · " + poll.DataAge(s.ctx, s.Polled, s.Err)
}

func (s *SubtasksScreen) Init() tea.Cmd { return s.poll() }
func (s *SubtasksScreen) Refresh() tea.Cmd {
	s.Restart(s.ctx)
	return s.poll()
}

func (s *SubtasksScreen) poll() tea.Cmd {
	c, jobID, cpID, vid := s.ctx.Cluster, s.jobID, s.cpID, s.vertexID
	return poll.Start(s.ctx, &s.Poller, s.id, fmt.Sprintf("reading checkpoint %d subtasks", cpID), func(ctx context.Context) (*cluster.VertexCheckpoint, error) {
		return c.CheckpointSubtasks(ctx, jobID, cpID, vid)
	})
}

func (s *SubtasksScreen) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case poll.Msg[*cluster.VertexCheckpoint]:
		if !poll.Accept(s.ctx, &s.Poller, s.id, msg) {
			return s, nil
		}
		if msg.Err == nil {
			s.vc = msg.V
			s.list.SetLen(len(msg.V.Subtasks))
		}
		if (s.vc == nil && !errors.Is(msg.Err, cluster.ErrNotFound)) || (s.vc != nil && s.vc.Status == cluster.CheckpointInProgress) {
			return s, poll.Schedule(s.ctx, s.id, s.Gen)
		}
	case poll.TickMsg:
		if msg.Sid == s.id && msg.Gen == s.Gen {
			return s, s.poll()
		}
	case tea.KeyPressMsg:
		s.list.Update(msg)
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

// slowestPhase names the largest part of the slowest subtask's time and
// what usually helps.
func slowestPhase(vc *cluster.VertexCheckpoint) string {
	var worst cluster.SubtaskCheckpoint
	found := false
	for _, st := range vc.Subtasks {
		if st.Acknowledged && (!found || st.EndToEnd > worst.EndToEnd) {
			worst, found = st, true
		}
	}
	if !found {
		return "no subtask has acknowledged yet"
	}
	phases := []struct {
		name string
		d    time.Duration
		fix  string
	}{
		{"start delay", worst.StartDelay, "barriers travel slowly: backpressure upstream (unaligned checkpoints help)"},
		{"alignment", worst.AlignmentDuration, "waiting for barriers on every input (unaligned checkpoints, less skew)"},
		{"sync", worst.Sync, "the snapshot on the task thread (smaller write-back caches, fewer states)"},
		{"async", worst.Async, "the upload (faster storage, fewer and larger files)"},
	}
	best := phases[0]
	for _, p := range phases[1:] {
		if p.d > best.d {
			best = p
		}
	}
	if best.d < time.Millisecond {
		return fmt.Sprintf("slowest subtask %d took %s", worst.Index, format.Dur(worst.EndToEnd))
	}
	return fmt.Sprintf("slowest subtask %d: %s of %s is %s — %s", worst.Index, format.Dur(best.d), format.Dur(worst.EndToEnd), best.name, best.fix)
}

func (s *SubtasksScreen) View() string {
	th := s.ctx.Theme
	if s.vc == nil {
		if s.Err != nil {
			return pollError(s.ctx, s.Err, s.w)
		}
		return th.Muted.Render(" " + s.ctx.Spinner() + " reading subtasks …")
	}
	now := s.ctx.Now()
	vc := s.vc
	l1 := fmt.Sprintf(" %s · checkpoint #%d · %d/%d acknowledged · %s checkpointed · %s full", text.Sanitize(s.name), s.cpID,
		vc.NumAcked, vc.NumSubtasks, text.Bytes(vc.CheckpointedSize), text.Bytes(vc.StateSize))
	ms := func(st cluster.Stat) string {
		return format.Dur(time.Duration(st.Max) * time.Millisecond)
	}
	l2 := fmt.Sprintf(" max: end to end %s · sync %s · async %s · alignment %s · start delay %s", ms(vc.Summary.EndToEnd), ms(vc.Summary.Sync),
		ms(vc.Summary.Async), ms(vc.Summary.AlignmentDuration), ms(vc.Summary.StartDelay))
	cols := table.Layout([]table.Col{
		{Title: "SUBTASK", Width: 7, Right: true},
		{Title: "ACK", Width: 9},
		{Title: "END TO END", Width: 10, Right: true},
		{Title: "SYNC", Width: 8, Right: true},
		{Title: "ASYNC", Width: 8, Right: true},
		{Title: "ALIGNMENT", Width: 9, Right: true},
		{Title: "START DELAY", Width: 11, Right: true},
		{Title: "CHECKPOINTED", Width: 12, Right: true},
		{Title: "FULL", Width: 10, Right: true},
		{Title: "NOTE", Flex: true},
	}, s.w)
	if s.w < 120 {
		// The time breakdown is the point: keep it, in narrower columns.
		cols = table.Layout([]table.Col{
			{Title: "#", Width: 3, Right: true},
			{Title: "ACK", Width: 8},
			{Title: "E2E", Width: 7, Right: true},
			{Title: "SYNC", Width: 6, Right: true},
			{Title: "ASYNC", Width: 6, Right: true},
			{Title: "ALIGN", Width: 6, Right: true},
			{Title: "DELAY", Width: 6, Right: true},
			{Title: "CHECKPTD", Width: 9, Right: true},
			{Title: "FULL", Width: 9, Right: true},
			{Title: "NOTE", Flex: true},
		}, s.w)
	}
	out := []string{th.Title.Render(text.Fit(l1, s.w)), th.Muted.Render(text.Fit(l2, s.w)), th.Warn.Render(text.Fit(" "+slowestPhase(vc), s.w)),
		th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w))}
	out = append(out, s.list.View(func(i int, sel bool) string {
		st := vc.Subtasks[i]
		var vals []string
		if !st.Acknowledged {
			vals = []string{strconv.Itoa(st.Index), "pending", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "not acknowledged yet"}
		} else {
			note := ""
			if st.Unaligned {
				note = "unaligned"
			}
			if st.Aborted {
				note = strings.TrimSpace(note + " aborted")
			}
			vals = []string{strconv.Itoa(st.Index), format.Clock(now, st.AckTime), format.Dur(st.EndToEnd), format.Dur(st.Sync), format.Dur(st.Async),
				format.Dur(st.AlignmentDuration), format.Dur(st.StartDelay), text.Bytes(st.CheckpointedSize), text.Bytes(st.StateSize), note}
		}
		line := table.Cells(cols, vals...)
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		if !st.Acknowledged {
			return "  " + th.Warn.Render(line)
		}
		return "  " + line
	}))
	return strings.Join(out, "\n")
}

// Keymap is the screen's actions, for the declaration.
func Keymap(ctx *shell.Context) shell.Keymap { return shell.Keymap{newCheckpointOpen(ctx)} }

// The screens talk to ctx.Cluster: the header names the target.
func (*CheckpointScreen) UsesTarget() {}
func (*SubtasksScreen) UsesTarget()   {}
