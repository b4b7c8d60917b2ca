package job

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// `:job 3f2a1b0c` — the 8 hex digits the jobs list shows — names a job
// as well as its 32 digits do: the screen lists the target's jobs first
// and takes the one whose ID starts with them.

// isJobIDPrefix: s is 1 to 32 hex digits.
func isJobIDPrefix(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// resolver is the part of the job ID the screen was opened with, until
// the target's jobs say which job it names (then the model's jobID is
// set); err says when it names none or several.
type resolver struct {
	*jobModel
	prefix string
	err    error
}

// pending: no job yet, only a prefix.
func (s *resolver) pending() bool { return s.prefix != "" }

// jobResolvedMsg is the job a prefix names, or why none.
type jobResolvedMsg struct {
	sid  int
	task shell.TaskID
	id   string
	err  error
}

// resolve lists the target's jobs and picks the one prefix names.
func (s *resolver) resolve() tea.Cmd {
	c, timeout, sid, prefix, target := s.ctx.Cluster, s.ctx.Timeout, s.id, s.prefix, s.ctx.TargetName
	id, tctx := s.ctx.Tasks.Start("finding job "+prefix+"…", 0)
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		jobs, err := c.Jobs(cctx)
		if err != nil {
			return jobResolvedMsg{sid: sid, task: id, err: fmt.Errorf("listing the jobs of %s to find %s: %w", target, prefix, err)}
		}
		jobID, err := cluster.MatchJobID(jobs, prefix, target)
		return jobResolvedMsg{sid: sid, task: id, id: jobID, err: err}
	}
}

// onResolved takes the job a prefix named: true when there is one now.
func (s *resolver) onResolved(m jobResolvedMsg) bool {
	s.ctx.Tasks.Done(m.task, nil)
	if m.err != nil {
		s.err = m.err
		return false
	}
	s.jobID, s.prefix, s.err = m.id, "", nil
	return true
}

// resolveView is the screen while a prefix is looked up, or when it named
// no job or several.
func (s *resolver) view() string {
	th := s.ctx.Theme
	if s.err == nil {
		return th.Muted.Render(" " + s.ctx.Spinner() + " asking " + text.Sanitize(s.ctx.TargetName) + " which job starts with " + s.prefix + " …")
	}
	var out []string
	for _, l := range text.Wrap("✗ "+text.Sanitize(s.err.Error()), s.w-2, max(s.h-2, 3)) {
		out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
	}
	out = append(out, th.Muted.Render(text.Fit(" esc goes back · ctrl+r looks again", s.w)))
	return strings.Join(out, "\n")
}
