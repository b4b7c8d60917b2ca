package tui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// maxInflightVertexRows bounds the per-vertex lines of the live checkpoint.
const maxInflightVertexRows = 4

func (s *Job) View() string {
	th := s.ctx.Theme
	if s.job == nil {
		if s.err != nil {
			var out []string
			for _, l := range text.Wrap("✗ "+text.Sanitize(firstLine(s.err)), s.w-2, 3) {
				out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
			}
			out = append(out, th.Muted.Render(text.Fit(fmt.Sprintf(" retrying every %v · esc goes back · ctrl+r retries now", s.ctx.pollEvery()), s.w)))
			return strings.Join(out, "\n")
		}
		return th.Muted.Render(" " + s.ctx.Spinner() + " asking " + text.Sanitize(s.ctx.TargetName) + " for job " + s.jobID + " …")
	}
	out := []string{s.headline(), s.tabs()}
	var rows []string
	if s.err != nil {
		rows = append(rows, th.Error.Render(text.Fit(" ✗ "+text.Sanitize(firstLine(s.err))+" — showing the last data, retrying", s.w)))
	}
	switch s.pane {
	case paneOverview:
		rows = append(rows, s.overviewRows()...)
	case paneHistory:
		rows = append(rows, s.historyRows()...)
	case paneSnapshots:
		rows = append(rows, s.snapshotRows()...)
	case paneConfig:
		rows = append(rows, s.lists[paneConfig].View(func(i int, sel bool) string {
			l := s.configLines()[i]
			if sel {
				return th.Selected.Render(text.Fit(ansi.Strip(l), s.w))
			}
			return text.Fit(l, s.w)
		}))
	}
	out = append(out, rows...)
	view := strings.Join(out, "\n")
	switch {
	case s.form != nil:
		view = overlayBottom(view, s.form.rows(s.ctx, s.w), s.h)
	case s.confirm == "cancel":
		q := fmt.Sprintf(" CANCEL %s without a savepoint? Retained checkpoints follow its retention policy. y = cancel, any other key = keep it ", s.jobName())
		view = overlayBottom(view, []string{th.StatusError.Render(text.Fit(q, s.w))}, s.h)
	}
	return view
}

func (s *Job) headline() string {
	th := s.ctx.Theme
	j := s.job
	now := s.ctx.Now()
	tasks := 0
	for _, v := range j.Vertices {
		tasks += v.Parallelism
	}
	name := text.Sanitize(j.Name)
	st := statusStyle(s.ctx, string(j.Status)).Render(string(j.Status))
	rest := fmt.Sprintf(" · %s · started %s · %s · %d tasks", j.ID, clock(now, j.Start), dur(j.Duration), tasks)
	return th.Title.Render(" "+name+" ") + st + th.Muted.Render(text.Fit(rest, max(s.w-text.Width(name)-2-len(j.Status), 0)))
}

func (s *Job) tabs() string {
	th := s.ctx.Theme
	var parts []string
	for i, n := range paneNames {
		label := fmt.Sprintf("%d %s", i+1, n)
		if i == s.pane {
			parts = append(parts, th.CrumbLast.Render("["+label+"]"))
		} else {
			parts = append(parts, th.Muted.Render(" "+label+" "))
		}
	}
	line := " " + strings.Join(parts, " ")
	if ops := s.opsLine(); len(ops) > 0 {
		room := s.w - text.Width(line) - 2
		if room > 10 {
			line += "  " + th.Warn.Render(text.Fit(strings.Join(ops, " · "), room))
		}
	}
	return text.Fit(line, s.w)
}

// ---- overview ----

func (s *Job) vertexCols() []col {
	cols := []col{{title: "VERTEX", flex: true}}
	if s.hasOperators() {
		// ckpt serve and the engine name each vertex's operators: their
		// uids are what a snapshot's operator IDs are made from.
		cols = append(cols, col{title: "OPERATOR UIDS", flex: true})
	}
	return layout(append(cols, []col{
		{title: "PAR", width: 4, right: true},
		{title: "STATUS", width: 12},
		{title: "RECORDS IN", width: 12, right: true},
		{title: "RECORDS OUT", width: 12, right: true},
		{title: "BACKPRESSURE", width: 12, right: true},
	}...), s.w)
}

// hasOperators: the target reports the vertices' chains (Flink does not),
// and the screen is wide enough for a second name column.
func (s *Job) hasOperators() bool { return s.withOps && s.w >= 100 }

// reportsOperators: some vertex of the job comes with its chain (computed
// once per poll, not per drawn row).
func reportsOperators(j *cluster.Job) bool {
	if j == nil {
		return false
	}
	for _, v := range j.Vertices {
		if len(v.Operators) > 0 {
			return true
		}
	}
	return false
}

// operatorUIDs lists a chain's operators by uid, head first; an operator
// without one shows its generated ID's first 8 hex digits, flagged, since
// its state is lost on a topology change.
func operatorUIDs(v cluster.Vertex) string {
	parts := make([]string, 0, len(v.Operators))
	for _, op := range v.Operators {
		if op.UID != "" {
			parts = append(parts, op.UID)
		} else {
			parts = append(parts, "(no uid "+shortID(op.ID)+")")
		}
	}
	return text.Sanitize(strings.Join(parts, " → "))
}

func (s *Job) overviewRows() []string {
	th := s.ctx.Theme
	cols := s.vertexCols()
	out := []string{th.Column.Render(text.Fit("  "+cells(cols, headings(cols)...), s.w))}
	out = append(out, s.lists[paneOverview].View(func(i int, sel bool) string {
		v := s.job.Vertices[i]
		status := v.Status
		// Subtasks in several states (some deploying, one failed …): say so.
		states := 0
		for _, st := range cluster.TaskStates {
			if v.Tasks[st] > 0 {
				states++
			}
		}
		if states > 1 {
			status = taskCounts(v.Tasks)
		}
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
		vals = append(vals, strconv.Itoa(v.Parallelism), status, in, outR, dur(v.Metrics.Backpressured))
		line := cells(cols, vals...)
		if sel && s.pane == paneOverview {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		return "  " + line
	}))
	return append(out, s.checkpointBlock()...)
}

// checkpointBlockRows is the height of checkpointBlock.
func (s *Job) checkpointBlockRows() int {
	n := 7
	if s.refusal != nil {
		n++
	}
	if s.inflight != nil {
		n += min(len(s.inflight.Tasks), maxInflightVertexRows)
	}
	return n
}

func (s *Job) vertexName(id string) string {
	if s.job != nil {
		for _, v := range s.job.Vertices {
			if v.ID == id {
				return text.Sanitize(v.Name)
			}
		}
	}
	return shortID(id)
}

// checkpointBlock is the Web UI's checkpoint overview, plus what an
// operator needs live: the in-progress checkpoint's age against the
// timeout, who has not acknowledged, consecutive failures against the
// tolerable number, and the size trend.
func (s *Job) checkpointBlock() []string {
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
		head += fmt.Sprintf(" · every %s · timeout %s", dur(s.cfg.Interval), dur(s.cfg.Timeout))
	}
	out = append(out, th.Column.Render(text.Fit(head, s.w)))
	if r := s.refusal; r != nil {
		out = append(out, th.Error.Render(text.Fit(" ✗ "+r.line(), s.w)))
	}

	if c := st.LatestCompleted; c != nil {
		out = append(out, line(th.OK.Render, "✓", "completed", fmt.Sprintf("#%d at %s (%s ago) · took %s · %s checkpointed · %s full · %s",
			c.ID, clock(now, c.LatestAck), text.Age(now, c.LatestAck), dur(c.EndToEnd), text.Bytes(c.CheckpointedSize), text.Bytes(c.StateSize), text.Sanitize(c.ExternalPath))))
	} else {
		out = append(out, line(th.Muted.Render, "✓", "completed", "none yet"))
	}
	if c := st.LatestSavepoint; c != nil {
		f := ""
		if c.SavepointFormat != "" {
			f = " " + strings.ToLower(c.SavepointFormat)
		}
		out = append(out, line(th.Savepoint.Render, "◆", "savepoint", fmt.Sprintf("#%d%s at %s (%s ago) · %s · %s",
			c.ID, f, clock(now, c.LatestAck), text.Age(now, c.LatestAck), text.Bytes(c.StateSize), text.Sanitize(c.ExternalPath))))
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
		msg := text.Sanitize(firstLineOf(c.FailureMessage))
		cons := s.consecutiveFailures()
		tol := ""
		if s.cfg != nil {
			tol = fmt.Sprintf(" · %d in a row (tolerable %d)", cons, s.cfg.TolerableFailures)
		}
		style := th.Error.Render
		if cons == 0 {
			style = th.Warn.Render
		}
		out = append(out, line(style, "✗", "failed", fmt.Sprintf("#%d at %s (%s ago)%s · %s", c.ID, clock(now, c.FailureTime), text.Age(now, c.FailureTime), tol, msg)))
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
		out = append(out, line(th.New.Render, "↺", "restored", fmt.Sprintf("#%d from %s %s at %s", r.ID, kind, text.Sanitize(r.ExternalPath), clock(now, r.RestoreTime))))
	} else {
		out = append(out, line(th.Muted.Render, "↺", "restored", "no: the job started empty"))
	}
	out = append(out, s.inflightRows()...)
	out = append(out, s.trendRow())
	return out
}

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// consecutiveFailures counts the failed checkpoints since the last
// completed one (the count Flink compares with tolerable failures).
func (s *Job) consecutiveFailures() int {
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

func (s *Job) inflightRows() []string {
	th := s.ctx.Theme
	now := s.ctx.Now()
	ip := s.inflight
	if ip == nil {
		if c := newestInProgress(s.stats); c != nil {
			return []string{th.Warn.Render(" ⧗ in flight ") + text.Fit(fmt.Sprintf(" #%d since %s", c.ID, dur(now.Sub(c.TriggerTime))), max(s.w-13, 0))}
		}
		return []string{th.Muted.Render(text.Fit(" ⧗ in flight  no checkpoint in progress", s.w))}
	}
	age := now.Sub(ip.TriggerTime)
	timeout := ""
	if s.cfg != nil && s.cfg.Timeout > 0 {
		timeout = fmt.Sprintf(" of %s timeout %s", dur(s.cfg.Timeout), bar(float64(age)/float64(s.cfg.Timeout), 10))
	}
	pct := 0
	if ip.NumSubtasks > 0 {
		pct = ip.NumAcked * 100 / ip.NumSubtasks
	}
	kind := "checkpoint"
	if ip.Savepoint {
		kind = "savepoint"
	}
	out := []string{th.Warn.Render(" ⧗ in flight ") + text.Fit(fmt.Sprintf(" #%d %s · %s%s · %d/%d subtasks acknowledged (%d%%)",
		ip.ID, kind, dur(age), timeout, ip.NumAcked, ip.NumSubtasks, pct), max(s.w-13, 0))}
	ids := sortedKeys(ip.Tasks)
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
func (s *Job) pendingSubtasks(id string, t cluster.TaskCheckpoint) string {
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

// bar draws a fraction as a small meter (clamped to [0, 1]).
func bar(f float64, w int) string {
	f = max(0, min(f, 1))
	n := int(f*float64(w) + 0.5)
	return "▕" + strings.Repeat("█", n) + strings.Repeat("░", w-n) + "▏"
}

var sparkChars = []rune("▁▂▃▄▅▆▇█")

// spark draws values as a sparkline over their range (min to max), so a
// slow growth shows; equal values draw a flat middle line.
func spark(vals []int64) string {
	if len(vals) == 0 {
		return ""
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := len(sparkChars) / 2
		if hi > lo {
			i = int((v - lo) * int64(len(sparkChars)-1) / (hi - lo))
		}
		b.WriteRune(sparkChars[i])
	}
	return b.String()
}

// trendRow is the checkpointed-vs-full size trend: a growing full size is
// a state leak or a missing TTL; a growing checkpointed size with
// incremental checkpoints is compaction churn.
func (s *Job) trendRow() string {
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
	return th.Muted.Render(" ≈ sizes    ") + text.Fit(fmt.Sprintf(" checkpointed %s %s · full %s %s (last %d)",
		spark(ck), text.Bytes(last.checkpointed), spark(full), text.Bytes(last.stateSize), len(pts)), max(s.w-12, 0))
}

// ---- history ----

func (s *Job) historyCols() []col {
	cols := []col{
		{title: "ID", width: 6, right: true},
		{title: "STATUS", width: 11},
		{title: "ACKED", width: 12, right: true},
		{title: "TRIGGERED", width: 9},
		{title: "DURATION", width: 8, right: true},
		{title: "CHECKPOINTED", width: 12, right: true},
		{title: "FULL", width: 10, right: true},
		{title: "TYPE", width: 10},
	}
	if s.w >= 120 {
		cols = append(cols, col{title: "PATH / FAILURE", flex: true, tail: true})
	}
	return layout(cols, s.w)
}

func (s *Job) historyRows() []string {
	th := s.ctx.Theme
	now := s.ctx.Now()
	sum := s.stats.Summary
	stat := func(st cluster.Stat, f func(int64) string) string {
		return f(st.Min) + "/" + f(st.Avg) + "/" + f(st.Max)
	}
	ms := func(v int64) string { return dur(time.Duration(v) * time.Millisecond) }
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
		note = th.Warn.Render(text.Fit(" ckpt's history of this job: "+text.Sanitize(firstLine(s.histErr)), s.w))
	case n > 0:
		note = th.Muted.Render(text.Fit(fmt.Sprintf(" + %d older, remembered by ckpt (marked *): the target reports only its last %d", n, len(s.stats.History)), s.w))
	}
	out := []string{th.Muted.Render(text.Fit(head, s.w)), note, th.Column.Render(text.Fit("  "+cells(cols, headings(cols)...), s.w))}
	if len(s.hist) == 0 {
		return append(out, th.Muted.Render(text.Fit("  no checkpoint yet", s.w)))
	}
	out = append(out, s.lists[paneHistory].View(func(i int, sel bool) string {
		c := s.hist[i].Checkpoint
		pct := 0
		if c.NumSubtasks > 0 {
			pct = c.NumAcked * 100 / c.NumSubtasks
		}
		d := dur(c.EndToEnd)
		status := string(c.Status)
		if c.Status == cluster.CheckpointInProgress {
			d = dur(now.Sub(c.TriggerTime))
			status = s.ctx.Spinner() + " " + status
		}
		typ := checkpointTypeLabel(c)
		detail := text.Sanitize(c.ExternalPath)
		if c.Discarded {
			detail = "(discarded) " + detail
		}
		if c.Status == cluster.CheckpointFailed {
			detail = text.Sanitize(firstLineOf(c.FailureMessage))
		}
		id := strconv.FormatInt(c.ID, 10)
		if s.hist[i].remembered {
			id = "*" + id
		}
		vals := []string{id, status, fmt.Sprintf("%d/%d %d%%", c.NumAcked, c.NumSubtasks, pct),
			clock(now, c.TriggerTime), d, text.Bytes(c.CheckpointedSize), text.Bytes(c.StateSize), typ, detail}
		line := cells(cols, vals...)
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		return "  " + statusStyle(s.ctx, string(c.Status)).Render(line)
	}))
	return out
}

func checkpointTypeLabel(c cluster.Checkpoint) string {
	switch {
	case c.Type == cluster.TypeSyncSavepoint:
		return "stop-sp"
	case c.Savepoint:
		return "savepoint"
	case c.Type == cluster.TypeUnalignedCheckpoint:
		return "unaligned"
	}
	return "checkpoint"
}

// ---- snapshots ----

func (s *Job) snapshotRows() []string {
	th := s.ctx.Theme
	now := s.ctx.Now()
	var chk, complete, sps int
	for _, r := range s.snaps {
		if r.savepoint {
			sps++
			continue
		}
		chk++
		if r.complete == yes {
			complete++
		}
	}
	dir := s.snapDir
	if dir == "" {
		dir = s.jobCheckpointDir()
	}
	head := fmt.Sprintf(" %s · %d chk dirs (%d complete) · %d savepoints", text.Sanitize(dir), chk, complete, sps)
	if !s.snapAt.IsZero() {
		head += " · listed " + text.Age(now, s.snapAt) + " ago"
	}
	if n := s.numRetained(); n != "" {
		head += " · num-retained " + n
	}
	out := []string{th.Muted.Render(text.FitLeft(head, s.w))}
	cols := layout([]col{
		{title: "SNAPSHOT", flex: true, tail: true},
		{title: "ON STORAGE", width: 13},
		{title: "SIZE", width: 10, right: true},
		{title: "AGE", width: 5, right: true},
		{title: "TARGET SAYS", width: 18},
	}, s.w)
	out = append(out, th.Column.Render(text.Fit("  "+cells(cols, headings(cols)...), s.w)))
	switch {
	case s.snapErr != nil && len(s.snaps) == 0:
		return append(out, th.Error.Render(text.Fit("  ✗ "+text.Sanitize(firstLine(s.snapErr)), s.w)))
	case len(s.snaps) == 0 && s.snapAt.IsZero():
		if dir == "" {
			return append(out, th.Muted.Render(text.Fit("  where the job checkpoints is not known yet (no completed checkpoint)", s.w)))
		}
		return append(out, th.Muted.Render("  "+s.ctx.Spinner()+" listing …"))
	case len(s.snaps) == 0:
		return append(out, th.Muted.Render(text.Fit("  no chk-N dir and no savepoint", s.w)))
	}
	out = append(out, s.lists[paneSnapshots].View(func(i int, sel bool) string {
		r := s.snaps[i]
		name := storage.Base(r.path)
		if r.savepoint {
			name = r.path
		}
		state, style := "…", th.Muted
		switch {
		case r.err != "":
			state, style = "? error", th.Warn
		case r.complete == yes:
			state, style = "✓ _metadata", th.Complete
		case r.complete == no && r.savepoint:
			state, style = "✗ GONE", th.Partial
		case r.complete == no:
			state, style = "✗ partial", th.Partial
		}
		vals := []string{text.Sanitize(name), state, text.Bytes(r.size), text.Age(now, r.modTime), r.rest}
		line := cells(cols, vals...)
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		return "  " + cells(cols[:1], vals[0]) + " " + style.Render(text.Fit(state, cols[1].width)) + " " + cells(cols[2:], vals[2:]...)
	}))
	return out
}

// numRetained is the job's execution.checkpointing.num-retained: as the
// target reports it for the job (ckpt's engine, where each job has its
// own), else as the cluster's configuration says (Flink, where it is a
// cluster setting); "" when neither does.
func (s *Job) numRetained() string {
	if s.cfg != nil && s.cfg.NumRetained > 0 {
		return strconv.Itoa(s.cfg.NumRetained)
	}
	for _, k := range []string{"execution.checkpointing.num-retained", "state.checkpoints.num-retained"} {
		if v := s.conf[k]; v != "" {
			return v
		}
	}
	return ""
}

// ---- config and exceptions ----

func (s *Job) configLines() []string {
	th := s.ctx.Theme
	kv := func(k, v string) string { return " " + th.Muted.Render(text.Fit(k, 26)) + text.Sanitize(v) }
	var out []string
	switch {
	case s.cfgOff:
		out = append(out, kv("checkpointing", "OFF (no execution.checkpointing.interval)"))
	case s.cfg == nil:
		out = append(out, kv("checkpointing", "not reported yet"))
	default:
		c := s.cfg
		out = append(out,
			kv("mode", c.Mode),
			kv("interval", dur(c.Interval)),
			kv("timeout", dur(c.Timeout)),
			kv("min pause", dur(c.MinPause)),
			kv("max concurrent", strconv.Itoa(c.MaxConcurrent)),
			kv("unaligned", fmt.Sprint(c.Unaligned)),
			kv("retention", c.Retention),
		)
		nr := s.numRetained()
		switch {
		case c.NumRetained > 0:
			nr += " (this job's)"
		case nr == "":
			nr = "not in the cluster configuration (Flink's default is 1)"
		default:
			nr += " (the cluster's)"
		}
		dir := c.CheckpointDir
		switch {
		case dir != "":
		case s.jobCheckpointDir() != "":
			dir = s.jobCheckpointDir() + " (from the completed checkpoints or the cluster configuration)"
		default:
			dir = "not known yet (no completed checkpoint)"
		}
		out = append(out, kv("num-retained", nr),
			kv("state backend", c.StateBackend),
			kv("checkpoint storage", c.CheckpointStorage),
			kv("checkpoint dir", dir),
			kv("tolerable failures", strconv.Itoa(c.TolerableFailures)),
			kv("changelog", fmt.Sprint(c.ChangelogEnabled)),
		)
	}
	if d := s.defaultSavepointDir(); d != "" {
		out = append(out, kv("savepoint dir (default)", d))
	} else if s.conf != nil {
		out = append(out, kv("savepoint dir (default)", "none configured: savepoints and stops need a target dir"))
	}
	if st := s.stats; st != nil && st.LatestRestored != nil {
		r := st.LatestRestored
		kind := "checkpoint"
		if r.Savepoint {
			kind = "savepoint"
		}
		mode, src := s.claimMode()
		out = append(out, kv("restored from", fmt.Sprintf("#%d, %s %s", r.ID, kind, r.ExternalPath)),
			kv("claim mode", mode+" ("+src+")"),
			kv("snapshot owner", snapshotOwner(mode)))
	}
	out = append(out, "")
	if s.exc == nil || len(s.exc.Entries) == 0 {
		return append(out, th.Column.Render(" EXCEPTIONS")+th.Muted.Render("  none"))
	}
	out = append(out, th.Column.Render(fmt.Sprintf(" EXCEPTIONS (%d, newest first)", len(s.exc.Entries))))
	now := s.ctx.Now()
	for _, e := range s.exc.Entries {
		where := ""
		if e.TaskName != "" {
			where = " · " + text.Sanitize(e.TaskName)
		}
		out = append(out, " "+th.Error.Render(clock(now, e.Time))+where+" · "+text.Sanitize(e.Message()))
	}
	return out
}
