package job

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// overviewPane is the vertices, the live checkpoint and the size trend.
type overviewPane struct {
	*jobModel
	list list.Model
	// trend keeps every completed checkpoint seen (the history holds 10).
	trend []trendPoint
}

type trendPoint struct {
	id                      int64
	checkpointed, stateSize int64
}

// open is the live checkpoint, else the latest completed one.
func (s *overviewPane) open() tea.Cmd {
	if ip := s.inflight; ip != nil {
		return s.openCheckpoint(ip.ID)
	}
	if c := s.latest(); c != nil {
		return s.openCheckpoint(c.ID)
	}
	return nil
}

// addTrend remembers every completed checkpoint the polls saw, so the size
// trend reaches further back than the 10 entries of the history.
func (s *overviewPane) addTrend() {
	seen := map[int64]bool{}
	for _, p := range s.trend {
		seen[p.id] = true
	}
	for i := len(s.stats.History) - 1; i >= 0; i-- {
		c := s.stats.History[i]
		// Savepoints are full copies in another format: not part of the
		// checkpoint size trend.
		if c.Status == cluster.CheckpointCompleted && !c.Savepoint && !seen[c.ID] {
			s.trend = append(s.trend, trendPoint{id: c.ID, checkpointed: c.CheckpointedSize, stateSize: c.StateSize})
		}
	}
	sort.Slice(s.trend, func(i, j int) bool { return s.trend[i].id < s.trend[j].id })
	if len(s.trend) > 200 {
		s.trend = s.trend[len(s.trend)-200:]
	}
}

// vertexRows is how many vertex rows the overview shows: what the
// checkpoint block leaves, at least 3.
func (s *overviewPane) vertexRows(body int) int {
	n := 0
	if s.job != nil {
		n = len(s.job.Vertices)
	}
	room := body - 1 - s.checkpointBlockRows()
	return max(min(n, room), min(n, 3), 1)
}

func (s *overviewPane) vertexCols() []table.Col {
	cols := []table.Col{{Title: "VERTEX", Flex: true}}
	if s.hasOperators() {
		// ckpt serve and the engine name each vertex's operators: their
		// uids are what a snapshot's operator IDs are made from.
		cols = append(cols, table.Col{Title: "OPERATOR UIDS", Flex: true})
	}
	return table.Layout(append(cols, []table.Col{
		{Title: "PAR", Width: 4, Right: true},
		{Title: "STATUS", Width: s.statusWidth()},
		{Title: "RECORDS IN", Width: 12, Right: true},
		{Title: "RECORDS OUT", Width: 12, Right: true},
		{Title: "BACKPRESSURE", Width: 12, Right: true},
	}...), s.w)
}

// statusWidth fits the longest vertex state (a vertex whose subtasks are
// in several states lists them) where there is room, 12 at least.
func (s *overviewPane) statusWidth() int {
	w := 12
	if s.w < 120 || s.job == nil {
		return w
	}
	for _, v := range s.job.Vertices {
		w = max(w, text.Width(s.vertexStatus(v)))
	}
	return min(w, 40)
}

// vertexStatus is a vertex's state, or its subtasks' states when they
// differ (some deploying, one failed …).
func (s *overviewPane) vertexStatus(v cluster.Vertex) string {
	states := 0
	for _, st := range cluster.TaskStates {
		if v.Tasks[st] > 0 {
			states++
		}
	}
	if states > 1 {
		return format.TaskCounts(v.Tasks)
	}
	return v.Status
}

// hasOperators: the target reports the vertices' chains (Flink does not),
// and the screen is wide enough for a second name column.
func (s *overviewPane) hasOperators() bool { return s.withOps && s.w >= 100 }

func (s *overviewPane) rows() []string {
	th := s.ctx.Theme
	cols := s.vertexCols()
	out := []string{th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w))}
	out = append(out, s.list.View(func(i int, sel bool) string {
		v := s.job.Vertices[i]
		status := s.vertexStatus(v)
		in, outR := "—", "—"
		if v.Metrics.ReadRecordsComplete || v.Metrics.ReadRecords > 0 {
			in = text.Count(int(v.Metrics.ReadRecords))
		}
		if v.Metrics.WriteRecordsComplete || v.Metrics.WriteRecords > 0 {
			outR = text.Count(int(v.Metrics.WriteRecords))
		}
		vals := []string{text.Sanitize(v.Name)}
		if s.hasOperators() {
			vals = append(vals, operatorUIDs(v))
		}
		vals = append(vals, strconv.Itoa(v.Parallelism), status, in, outR, s.backpressureOf(v))
		line := table.Cells(cols, vals...)
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		return "  " + line
	}))
	return append(out, s.checkpointBlock()...)
}

// backpressureOf is a vertex's backpressure as Flink shows it: the worst
// subtask's level and ratio now ("low 23%"), not a time accumulated over
// the job's life; "—" when the target does not say, and on an ended job.
func (s *overviewPane) backpressureOf(v cluster.Vertex) string {
	if s.job.Status.Terminal() {
		return "—"
	}
	level, ratio := v.Metrics.BackpressureLevel, v.Metrics.BackpressureRatio
	if level == "" {
		bp := s.backpressure[v.ID]
		if bp == nil || bp.Level == "" {
			return "—"
		}
		level, ratio = bp.Level, bp.Ratio
	}
	return fmt.Sprintf("%s %d%%", level, int(math.Round(ratio*100)))
}

// checkpointBlockRows is the height of checkpointBlock.
func (s *overviewPane) checkpointBlockRows() int {
	n := 7
	if s.refusal != nil {
		n++
	}
	if s.inflight != nil {
		n += min(len(s.inflight.Tasks), maxInflightVertexRows)
	}
	return n
}

func (s *overviewPane) vertexName(id string) string {
	if s.job != nil {
		for _, v := range s.job.Vertices {
			if v.ID == id {
				return text.Sanitize(v.Name)
			}
		}
	}
	return format.ShortID(id)
}

// checkpointBlock is the Web UI's checkpoint overview, plus what an
// operator needs live: the in-progress checkpoint's age against the
// timeout, who has not acknowledged, consecutive failures against the
// tolerable number, and the size trend.
func (s *overviewPane) checkpointBlock() []string {
	th := s.ctx.Theme
	now := s.ctx.Now()
	st := s.stats
	line := func(style func(...string) string, mark, label, rest string) string {
		return style(" "+mark+" "+text.Fit(label, 10)) + text.Fit(" "+rest, max(s.w-13, 0))
	}
	out := []string{}
	head := fmt.Sprintf(" checkpoints  %d triggered · %d in progress · %d completed · %d failed · %d restored",
		st.Counts.Total, st.Counts.InProgress, st.Counts.Completed, st.Counts.Failed, st.Counts.Restored)
	switch {
	case s.cfgOff:
		head += " · checkpointing is OFF for this job"
	case s.cfg != nil:
		head += fmt.Sprintf(" · every %s · timeout %s", format.Dur(s.cfg.Interval), format.Dur(s.cfg.Timeout))
	}
	out = append(out, th.Column.Render(text.Fit(head, s.w)))
	if r := s.refusal; r != nil {
		out = append(out, th.Error.Render(text.Fit(" ✗ "+r.line(), s.w)))
	}

	if c := st.LatestCompleted; c != nil {
		out = append(out, line(th.OK.Render, "✓", "completed", fmt.Sprintf("#%d at %s (%s ago) · took %s · %s checkpointed · %s full · %s",
			c.ID, format.Clock(now, c.LatestAck), text.Age(now, c.LatestAck), format.Dur(c.EndToEnd), text.Bytes(c.CheckpointedSize), text.Bytes(c.StateSize), text.Sanitize(c.ExternalPath))))
	} else {
		out = append(out, line(th.Muted.Render, "✓", "completed", "none yet"))
	}
	if c := st.LatestSavepoint; c != nil {
		f := ""
		if c.SavepointFormat != "" {
			f = " " + strings.ToLower(c.SavepointFormat)
		}
		out = append(out, line(th.Savepoint.Render, "◆", "savepoint", fmt.Sprintf("#%d%s at %s (%s ago) · %s · %s",
			c.ID, f, format.Clock(now, c.LatestAck), text.Age(now, c.LatestAck), text.Bytes(c.StateSize), text.Sanitize(c.ExternalPath))))
	} else {
		out = append(out, line(th.Muted.Render, "◆", "savepoint", "none"))
	}
	failed := st.LatestFailed
	if failed == nil {
		// Some targets count a failure without reporting it as latest:
		// the history may still hold it.
		for i := range st.History {
			if st.History[i].Status == cluster.CheckpointFailed {
				failed = &st.History[i]
				break
			}
		}
	}
	if c := failed; c != nil {
		msg := text.Sanitize(format.FirstLine(c.FailureMessage))
		cons := s.consecutiveFailures()
		tol := ""
		if s.cfg != nil {
			tol = fmt.Sprintf(" · %d in a row (tolerable %d)", cons, s.cfg.TolerableFailures)
		}
		style := th.Error.Render
		if cons == 0 {
			style = th.Warn.Render
		}
		out = append(out, line(style, "✗", "failed", fmt.Sprintf("#%d at %s (%s ago)%s · %s", c.ID, format.Clock(now, c.FailureTime), text.Age(now, c.FailureTime), tol, msg)))
	} else if st.Counts.Failed > 0 {
		out = append(out, line(th.Warn.Render, "✗", "failed", fmt.Sprintf("%d counted; the target reports no details (out of its history)", st.Counts.Failed)))
	} else {
		out = append(out, line(th.Muted.Render, "✗", "failed", "none"))
	}
	if r := st.LatestRestored; r != nil {
		kind := "checkpoint"
		if r.Savepoint {
			kind = "savepoint"
		}
		out = append(out, line(th.New.Render, "↺", "restored", fmt.Sprintf("#%d from %s %s at %s", r.ID, kind, text.Sanitize(r.ExternalPath), format.Clock(now, r.RestoreTime))))
	} else {
		out = append(out, line(th.Muted.Render, "↺", "restored", "no: the job started empty"))
	}
	out = append(out, s.inflightRows()...)
	out = append(out, s.trendRow())
	return out
}

// consecutiveFailures counts the failed checkpoints since the last
// completed one (the count Flink compares with tolerable failures).
func (s *overviewPane) consecutiveFailures() int {
	n := 0
	for _, c := range s.stats.History { // newest first
		switch c.Status {
		case cluster.CheckpointFailed:
			n++
		case cluster.CheckpointCompleted:
			return n
		}
	}
	return n
}

func (s *overviewPane) inflightRows() []string {
	th := s.ctx.Theme
	now := s.ctx.Now()
	ip := s.inflight
	if ip == nil {
		if c := newestInProgress(s.stats); c != nil {
			return []string{th.Warn.Render(" ⧗ in flight ") + text.Fit(fmt.Sprintf(" #%d since %s", c.ID, format.Dur(now.Sub(c.TriggerTime))), max(s.w-13, 0))}
		}
		return []string{th.Muted.Render(text.Fit(" ⧗ in flight  no checkpoint in progress", s.w))}
	}
	age := now.Sub(ip.TriggerTime)
	timeout := ""
	if s.cfg != nil && s.cfg.Timeout > 0 {
		timeout = fmt.Sprintf(" of %s timeout %s", format.Dur(s.cfg.Timeout), format.Bar(float64(age)/float64(s.cfg.Timeout), 10))
	}
	pct := 0
	if ip.NumSubtasks > 0 {
		pct = ip.NumAcked * 100 / ip.NumSubtasks
	}
	kind := "checkpoint"
	if ip.Savepoint {
		kind = "savepoint"
	}
	subtasks := "subtasks"
	if ip.NumSubtasks == 1 {
		subtasks = "subtask"
	}
	out := []string{th.Warn.Render(" ⧗ in flight ") + text.Fit(fmt.Sprintf(" #%d %s · %s%s · %d/%d %s acknowledged (%d%%)",
		ip.ID, kind, format.Dur(age), timeout, ip.NumAcked, ip.NumSubtasks, subtasks, pct), max(s.w-13, 0))}
	ids := format.SortedKeys(ip.Tasks)
	// Vertices still waiting first: that is where the barrier is stuck.
	sort.SliceStable(ids, func(a, b int) bool {
		ta, tb := ip.Tasks[ids[a]], ip.Tasks[ids[b]]
		return ta.NumSubtasks-ta.NumAcked > tb.NumSubtasks-tb.NumAcked
	})
	for i, id := range ids {
		if i == maxInflightVertexRows {
			break
		}
		t := ip.Tasks[id]
		state := th.OK.Render("✓ all acknowledged")
		if t.NumAcked < t.NumSubtasks {
			state = th.Warn.Render("waiting for subtasks " + s.pendingSubtasks(id, t))
		}
		out = append(out, text.Fit(fmt.Sprintf("     %s  %d/%d  ", text.Fit(s.vertexName(id), 28), t.NumAcked, t.NumSubtasks)+state, s.w))
	}
	return out
}

// pendingSubtasks names the subtasks of vertex id that have not
// acknowledged the in-flight checkpoint ("1, 3"), when known.
func (s *overviewPane) pendingSubtasks(id string, t cluster.TaskCheckpoint) string {
	vc := s.pending[id]
	if vc == nil {
		return fmt.Sprintf("(%d pending)", t.NumSubtasks-t.NumAcked)
	}
	var idx []string
	for _, st := range vc.Subtasks {
		if !st.Acknowledged {
			idx = append(idx, strconv.Itoa(st.Index))
		}
	}
	if len(idx) > 8 {
		idx = append(idx[:8], fmt.Sprintf("… (%d)", len(idx)))
	}
	return strings.Join(idx, ", ")
}

// trendRow is the checkpointed-vs-full size trend: a growing full size is
// a state leak or a missing TTL; a growing checkpointed size with
// incremental checkpoints is compaction churn.
func (s *overviewPane) trendRow() string {
	th := s.ctx.Theme
	if len(s.trend) == 0 {
		return th.Muted.Render(text.Fit(" ≈ sizes     no completed checkpoint yet", s.w))
	}
	n := max(min(len(s.trend), (s.w-60)/2), 1)
	pts := s.trend[len(s.trend)-n:]
	var ck, full []int64
	for _, p := range pts {
		ck = append(ck, p.checkpointed)
		full = append(full, p.stateSize)
	}
	last := pts[len(pts)-1]
	return th.Muted.Render(" ≈ sizes    ") + text.Fit(fmt.Sprintf(" checkpointed %s %s · full %s %s (last %d, bars from 0)",
		sparkFromZero(ck), text.Bytes(last.checkpointed), sparkFromZero(full), text.Bytes(last.stateSize), len(pts)), max(s.w-12, 0))
}

// sparkBars are the sparkline's eight heights.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// sparkFromZero is a sparkline whose bars measure from zero, rounded to
// the nearest of eight heights, so that a 0.2 KiB wiggle of a 20 MiB state
// draws flat rather than as a spike (format.Spark spans the values' own
// range, which suits rates, not sizes).
func sparkFromZero(vals []int64) string {
	hi := slices.Max(append([]int64{0}, vals...))
	out := make([]rune, len(vals))
	for i, v := range vals {
		h := 0
		if hi > 0 {
			h = int(math.Round(float64(max(v, 0)) / float64(hi) * float64(len(sparkBars)-1)))
		}
		out[i] = sparkBars[h]
	}
	return string(out)
}

func (s *overviewPane) listModel() *list.Model { return &s.list }
func (s *overviewPane) resize(body int)        { s.list.SetHeight(s.vertexRows(body)) }
