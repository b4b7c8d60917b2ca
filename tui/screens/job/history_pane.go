package job

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/history"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// historyPane is the checkpoint history: the target's and what ckpt
// remembers of it (history.go).
type historyPane struct {
	*jobModel
	list       list.Model
	hist       []histEntry
	remembered []cluster.Checkpoint
	histSeen   map[int64]bool
	histLoaded bool
	histErr    error
}

// open is the selected checkpoint, vertex by vertex.
func (s *historyPane) open() tea.Cmd {
	i, ok := s.list.Selected()
	if !ok || i >= len(s.hist) {
		return nil
	}
	if s.hist[i].remembered {
		return shell.Toast(fmt.Sprintf("#%d is remembered by ckpt only: the target no longer has its details", s.hist[i].ID), true)
	}
	return s.openCheckpoint(s.hist[i].ID)
}

// setHistory rebuilds the history pane's rows. They grow at the top: the
// cursor stays on the same checkpoint, except on the newest, which it
// follows.
func (s *historyPane) setHistory() {
	selID := int64(-1)
	if i, ok := s.list.Selected(); ok && i < len(s.hist) && i > 0 {
		selID = s.hist[i].ID
	}
	s.mergeHistory()
	s.list.SetLen(len(s.hist))
	for i, c := range s.hist {
		if c.ID == selID {
			s.list.Select(i)
		}
	}
}

func (s *historyPane) historyCols() []table.Col {
	// A state name is never cut where there is room: an in-progress row is
	// the spinner and IN_PROGRESS (13).
	status := 11
	if s.w >= 120 {
		status = 13
	}
	cols := []table.Col{
		{Title: "ID", Width: 6, Right: true},
		{Title: "STATUS", Width: status},
		{Title: "ACKED", Width: 12, Right: true},
		{Title: "TRIGGERED", Width: 9},
		{Title: "DURATION", Width: 8, Right: true},
		{Title: "CHECKPOINTED", Width: 12, Right: true},
		{Title: "FULL", Width: 10, Right: true},
		{Title: "TYPE", Width: 10},
	}
	if s.w >= 120 {
		cols = append(cols, table.Col{Title: "PATH / FAILURE", Flex: true, Tail: true})
	}
	return table.Layout(cols, s.w)
}

func (s *historyPane) rows() []string {
	th := s.ctx.Theme
	now := s.ctx.Now()
	sum := s.stats.Summary
	stat := func(st cluster.Stat, f func(int64) string) string {
		return f(st.Min) + "/" + f(st.Avg) + "/" + f(st.Max)
	}
	ms := func(v int64) string { return format.Dur(time.Duration(v) * time.Millisecond) }
	head := " min/avg/max"
	if s.stats.Counts.Completed > 0 {
		head += fmt.Sprintf(" · end-to-end %s · checkpointed %s · full %s", stat(sum.EndToEndDuration, ms), stat(sum.CheckpointedSize, text.Bytes), stat(sum.StateSize, text.Bytes))
	} else {
		head += " · no completed checkpoint yet"
	}
	cols := s.historyCols()
	note := ""
	switch n := len(s.hist) - len(s.stats.History); {
	case s.histErr != nil:
		note = th.Warn.Render(text.Fit(" ckpt's history of this job: "+text.Sanitize(shell.FirstLine(s.histErr)), s.w))
	case n > 0:
		note = th.Muted.Render(text.Fit(fmt.Sprintf(" + %d older, remembered by ckpt (marked *): the target reports only its last %d", n, len(s.stats.History)), s.w))
	}
	out := []string{th.Muted.Render(text.Fit(head, s.w)), note, th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w))}
	if len(s.hist) == 0 {
		return append(out, th.Muted.Render(text.Fit("  no checkpoint yet", s.w)))
	}
	out = append(out, s.list.View(func(i int, sel bool) string {
		c := s.hist[i].Checkpoint
		pct := 0
		if c.NumSubtasks > 0 {
			pct = c.NumAcked * 100 / c.NumSubtasks
		}
		d := format.Dur(c.EndToEnd)
		status := string(c.Status)
		if c.Status == cluster.CheckpointInProgress {
			d = format.Dur(now.Sub(c.TriggerTime))
			status = s.ctx.Spinner() + " " + status
		}
		typ := format.CheckpointType(c)
		detail := text.Sanitize(c.ExternalPath)
		if c.Discarded {
			detail = "(discarded) " + detail
		}
		if c.Status == cluster.CheckpointFailed {
			detail = text.Sanitize(format.FirstLine(c.FailureMessage))
		}
		id := strconv.FormatInt(c.ID, 10)
		if s.hist[i].remembered {
			id = "*" + id
		}
		vals := []string{id, status, fmt.Sprintf("%d/%d %d%%", c.NumAcked, c.NumSubtasks, pct),
			format.Clock(now, c.TriggerTime), d, text.Bytes(c.CheckpointedSize), text.Bytes(c.StateSize), typ, detail}
		line := table.Cells(cols, vals...)
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		return "  " + format.StatusStyle(s.ctx, string(c.Status)).Render(line)
	}))
	return out
}

// historyPath is this job's history file, "" when nothing is remembered
// for this target (no state dir, or an in-process engine with its own
// catalog: only REST targets, which have a URL, are recorded).
func (s *historyPane) historyPath() string {
	if s.ctx.HistoryDir == "" {
		return ""
	}
	target := history.Target(s.ctx.Cluster)
	if target == "" {
		return ""
	}
	return history.File(s.ctx.HistoryDir, target, s.jobID)
}

// loadHistory reads the remembered history, in a command.
func (s *historyPane) loadHistory() tea.Cmd {
	p, sid := s.historyPath(), s.id
	if p == "" {
		return nil
	}
	return func() tea.Msg {
		recs, lines, err := history.ReadLines(p)
		if err == nil && lines > 2*history.MaxRemembered {
			// A job checkpointing every second adds 86,400 lines a day:
			// keep the file to what is read back.
			err = history.Compact(p, recs)
		}
		return historyLoadedMsg{sid: sid, recs: recs, err: err}
	}
}

// observeHistory notes the finished checkpoints of a poll that are not
// remembered yet and returns the command appending them.
func (s *historyPane) observeHistory() tea.Cmd {
	p, sid := s.historyPath(), s.id
	if p == "" || !s.histLoaded || s.stats == nil {
		return nil
	}
	if s.histSeen == nil {
		s.histSeen = map[int64]bool{}
	}
	var fresh []cluster.Checkpoint
	for i := len(s.stats.History) - 1; i >= 0; i-- {
		c := s.stats.History[i]
		if c.Status == cluster.CheckpointInProgress || s.histSeen[c.ID] {
			continue
		}
		s.histSeen[c.ID] = true
		c.Tasks = nil
		c.Discarded = false // true of most retained checkpoints soon; not worth remembering
		fresh = append(fresh, c)
		s.remembered = append(s.remembered, c)
	}
	if len(fresh) == 0 {
		return nil
	}
	return func() tea.Msg { return historySavedMsg{sid: sid, err: history.Append(p, fresh)} }
}

// mergeHistory is the pane's rows: the target's history, then what only
// ckpt remembers, newest first.
func (s *historyPane) mergeHistory() {
	var out []histEntry
	inREST := map[int64]bool{}
	if s.stats != nil {
		for _, c := range s.stats.History {
			out = append(out, histEntry{Checkpoint: c})
			inREST[c.ID] = true
		}
	}
	n := len(out)
	for _, c := range s.remembered {
		if !inREST[c.ID] {
			out = append(out, histEntry{Checkpoint: c, remembered: true})
			inREST[c.ID] = true
		}
	}
	sort.SliceStable(out[n:], func(i, j int) bool { return out[n+i].ID > out[n+j].ID })
	s.hist = out
}

// onLoaded takes what ckpt remembers of the job's history.
func (s *historyPane) onLoaded(msg historyLoadedMsg) tea.Cmd {
	s.histLoaded, s.histErr = true, msg.err
	s.remembered = msg.recs
	s.histSeen = map[int64]bool{}
	for _, c := range msg.recs {
		s.histSeen[c.ID] = true
	}
	s.setHistory()
	return s.observeHistory()
}

func (s *historyPane) listModel() *list.Model { return &s.list }
func (s *historyPane) resize(body int)        { s.list.SetHeight(max(body-3, 1)) }
