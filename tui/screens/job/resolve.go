package job

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/format"
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
		jobID, err := resolveJobID(jobs, prefix, target)
		return jobResolvedMsg{sid: sid, task: id, id: jobID, err: err}
	}
}

// maxCandidates bounds the jobs an error names.
const maxCandidates = 8

// resolveJobID is the one job whose ID starts with prefix; none or several
// is an error naming the candidates.
func resolveJobID(jobs []cluster.JobSummary, prefix, target string) (string, error) {
	prefix = strings.ToLower(prefix)
	var hits []cluster.JobSummary
	for _, j := range jobs {
		if strings.HasPrefix(strings.ToLower(j.ID), prefix) {
			hits = append(hits, j)
		}
	}
	name := func(js []cluster.JobSummary, full bool) string {
		var parts []string
		for i, j := range js {
			if i == maxCandidates {
				parts = append(parts, fmt.Sprintf("and %d more", len(js)-i))
				break
			}
			id := format.ShortID(j.ID)
			if full {
				id = j.ID
			}
			parts = append(parts, fmt.Sprintf("%s %s (%s)", id, text.Sanitize(j.Name), j.Status))
		}
		return strings.Join(parts, ", ")
	}
	switch len(hits) {
	case 1:
		return strings.ToLower(hits[0].ID), nil
	case 0:
		if len(jobs) == 0 {
			return "", fmt.Errorf("no job of %s has an ID starting with %s: it has no jobs", target, prefix)
		}
		return "", fmt.Errorf("no job of %s has an ID starting with %s; its %s: %s", target, prefix, text.Plural(len(jobs), "job", "jobs"), name(jobs, false))
	}
	return "", fmt.Errorf("%s is ambiguous: %d jobs of %s start with it — %s; type more digits", prefix, len(hits), target, name(hits, true))
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
