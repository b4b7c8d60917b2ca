package job

import (
	"fmt"
	"strings"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// maxInflightVertexRows bounds the per-vertex lines of the live checkpoint.
const maxInflightVertexRows = 4

func (s *Screen) View() string {
	th := s.ctx.Theme
	if s.resolver.pending() {
		return s.resolver.view()
	}
	if s.job == nil {
		if s.Err != nil {
			var out []string
			for _, l := range text.Wrap("✗ "+text.Sanitize(shell.FirstLine(s.Err)), s.w-2, 3) {
				out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
			}
			out = append(out, th.Muted.Render(text.Fit(fmt.Sprintf(" retrying every %v · esc goes back · ctrl+r retries now", s.ctx.PollEvery()), s.w)))
			return strings.Join(out, "\n")
		}
		return th.Muted.Render(" " + s.ctx.Spinner() + " asking " + text.Sanitize(s.ctx.TargetName) + " for job " + s.jobID + " …")
	}
	out := []string{s.headline(), s.tabs()}
	var rows []string
	if s.Err != nil {
		rows = append(rows, th.Error.Render(text.Fit(" ✗ "+text.Sanitize(shell.FirstLine(s.Err))+" — showing the last data, retrying", s.w)))
	}
	rows = append(rows, s.panes[s.pane].rows()...)
	out = append(out, rows...)
	view := strings.Join(out, "\n")
	return s.actions.overlay(view)
}

func (s *Screen) headline() string {
	th := s.ctx.Theme
	j := s.job
	now := s.ctx.Now()
	tasks := 0
	for _, v := range j.Vertices {
		tasks += v.Parallelism
	}
	name := text.Sanitize(j.Name)
	st := format.StatusStyle(s.ctx, string(j.Status)).Render(string(j.Status))
	rest := fmt.Sprintf(" · %s · started %s · %s · %s", j.ID, format.Clock(now, j.Start), format.Dur(j.Duration), text.Plural(tasks, "task"))
	return th.Title.Render(" "+name+" ") + st + th.Muted.Render(text.Fit(rest, max(s.w-text.Width(name)-2-len(j.Status), 0)))
}

func (s *Screen) tabs() string {
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
			parts = append(parts, "(no uid "+format.ShortID(op.ID)+")")
		}
	}
	return text.Sanitize(strings.Join(parts, " → "))
}

// ---- history ----

// ---- snapshots ----

// ---- config and exceptions ----
