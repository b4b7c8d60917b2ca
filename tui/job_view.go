package tui

import (
	"fmt"
	"strings"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// maxInflightVertexRows bounds the per-vertex lines of the live checkpoint.
const maxInflightVertexRows = 4

func (s *Job) View() string {
	th := s.ctx.Theme
	if s.job == nil {
		if s.err != nil {
			var out []string
			for _, l := range text.Wrap("✗ "+text.Sanitize(shell.FirstLine(s.err)), s.w-2, 3) {
				out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
			}
			out = append(out, th.Muted.Render(text.Fit(fmt.Sprintf(" retrying every %v · esc goes back · ctrl+r retries now", s.ctx.PollEvery()), s.w)))
			return strings.Join(out, "\n")
		}
		return th.Muted.Render(" " + s.ctx.Spinner() + " asking " + text.Sanitize(s.ctx.TargetName) + " for job " + s.jobID + " …")
	}
	out := []string{s.headline(), s.tabs()}
	var rows []string
	if s.err != nil {
		rows = append(rows, th.Error.Render(text.Fit(" ✗ "+text.Sanitize(shell.FirstLine(s.err))+" — showing the last data, retrying", s.w)))
	}
	rows = append(rows, s.panes[s.pane].rows()...)
	out = append(out, rows...)
	view := strings.Join(out, "\n")
	return s.actions.overlay(view)
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
	if ops := s.actions.opsLine(); len(ops) > 0 {
		room := s.w - text.Width(line) - 2
		if room > 10 {
			line += "  " + th.Warn.Render(text.Fit(strings.Join(ops, " · "), room))
		}
	}
	return text.Fit(line, s.w)
}

// ---- overview ----

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

func firstLineOf(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
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

// ---- history ----

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

// ---- config and exceptions ----
